import pytest
import torch

from torch_geometric_unlearn import EEMU, EEMUConfig
from torch_geometric_unlearn.rec import (FineTuneRec, RetrainRec, SISARec,
                                         assign_shards,
                                         make_synthetic_interactions,
                                         ranking_metrics)


@pytest.fixture(scope='module')
def data():
    return make_synthetic_interactions(num_users=160, num_items=90,
                                       mean_interactions=14, seed=5)


def _cfg(model='mf', **kw):
    base = dict(model=model, dim=8, epochs=2, num_shards=3,
                users_per_step=8, batch_size=128, lr=5e-3, num_layers=2)
    base.update(kw)
    return EEMUConfig(**base)


def _equal(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k])
                                          for k in sa)


def test_assign_shards_is_stable_and_balanced():
    a = assign_shards(100, 4, seed=0)
    assert torch.equal(a, assign_shards(100, 4, seed=0))
    assert not torch.equal(a, assign_shards(100, 4, seed=1))
    assert torch.bincount(a).tolist() == [25, 25, 25, 25]
    with pytest.raises(ValueError):
        assign_shards(10, 0)


@pytest.mark.parametrize('model', ['mf', 'lightgcn'])
@pytest.mark.parametrize('cls', [EEMU, SISARec])
def test_deletion_is_exact(data, model, cls):
    tr = data.edge_index('train')
    tr_copy = tr.clone()
    m = cls(data.num_users, data.num_items, _cfg(model)).fit(tr)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    m.scores(torch.arange(20))  # fills the per-shard caches
    user = 7
    items = tr[1, tr[0] == user][:3]
    rec = m.unlearn(user, items)
    assert torch.equal(tr, tr_copy)  # the caller's tensor is untouched
    own = int(m.shard_of[user])
    assert rec['shards'] == [own] and rec['forgotten'] == 3
    # Untouched shards are bitwise unchanged ...
    for k, v in m.state_dict().items():
        if not k.startswith(f'{own}.'):
            assert torch.equal(v, before[k]), k
    # ... and the whole model equals one trained on the retained data.
    keep = ~((tr[0] == user) & torch.isin(tr[1], items))
    fresh = cls(data.num_users, data.num_items, _cfg(model)).fit(
        tr[:, keep])
    assert _equal(m, fresh)
    users = torch.arange(20)
    assert torch.equal(m.scores(users), fresh.scores(users))
    # A second request: a whole user.
    m.unlearn(11)
    keep &= tr[0] != 11
    fresh = cls(data.num_users, data.num_items, _cfg(model)).fit(
        tr[:, keep])
    assert _equal(m, fresh)


@pytest.mark.parametrize('model', ['mf', 'lightgcn'])
@pytest.mark.parametrize('extra', [
    dict(negatives=1, bpr_weight=0.0),   # the meta-loss alone
    dict(negatives=3, bpr_weight=0.5, shard_lr=2e-2),
])
def test_meta_step_options_keep_deletions_exact(data, model, extra):
    tr = data.edge_index('train')
    cfg = _cfg(model, **extra)
    m = EEMU(data.num_users, data.num_items, cfg).fit(tr)
    m.unlearn(7)
    fresh = EEMU(data.num_users, data.num_items, cfg).fit(tr[:, tr[0] != 7])
    assert _equal(m, fresh)
    users = torch.arange(20)
    assert torch.equal(m.scores(users), fresh.scores(users))


@pytest.mark.parametrize('option', [dict(negatives=4), dict(bpr_weight=1.0)])
def test_meta_step_options_change_training(data, option):
    tr = data.edge_index('train')
    plain = _cfg(negatives=1, bpr_weight=0.0)
    a = EEMU(data.num_users, data.num_items, plain).fit(tr)
    b = EEMU(data.num_users, data.num_items,
             _cfg(**{**plain.to_dict(), **option})).fit(tr)
    assert not _equal(a, b)


@pytest.mark.parametrize('cls', [EEMU, SISARec])
def test_shard_lr_is_the_shard_models_learning_rate(data, cls):
    tr = data.edge_index('train')
    a = cls(data.num_users, data.num_items,
            _cfg(lr=5e-3, shard_lr=2e-2)).fit(tr)
    b = cls(data.num_users, data.num_items, _cfg(lr=2e-2)).fit(tr)
    c = cls(data.num_users, data.num_items, _cfg(lr=5e-3)).fit(tr)
    assert a.config.shard_learning_rate == 2e-2
    assert _equal(a, b)
    assert not _equal(a, c)


def test_retrain_ignores_shard_lr(data):
    tr = data.edge_index('train')
    a = RetrainRec(data.num_users, data.num_items,
                   _cfg(lr=5e-3, shard_lr=2e-2)).fit(tr)
    b = RetrainRec(data.num_users, data.num_items, _cfg(lr=5e-3)).fit(tr)
    assert _equal(a, b)


def test_retrain_never_sees_deleted_data(data, monkeypatch):
    import torch_geometric_unlearn.rec.eemu as eemu_mod
    seen = []
    real = eemu_mod.train_bpr

    def spy(model, edges, config, **kw):
        seen.append(edges.clone())
        return real(model, edges, config, **kw)

    monkeypatch.setattr(eemu_mod, 'train_bpr', spy)
    tr = data.edge_index('train')
    m = RetrainRec(data.num_users, data.num_items, _cfg()).fit(tr)
    m.unlearn(4)
    assert not (seen[-1][0] == 4).any()
    fresh = RetrainRec(data.num_users, data.num_items, _cfg()).fit(
        tr[:, tr[0] != 4])
    for a, b in zip(m.model.parameters(), fresh.model.parameters()):
        assert torch.equal(a, b)


def test_finetune_is_approximate(data):
    tr = data.edge_index('train')
    m = FineTuneRec(data.num_users, data.num_items, _cfg(),
                    finetune_epochs=1).fit(tr)
    w = m.model.user.weight.clone()
    rec = m.unlearn(4)
    assert rec['exact'] is False and rec['epochs'] == 1
    assert not torch.equal(w, m.model.user.weight)
    assert not (m.edge_index[0] == 4).any()


def test_eemu_adapts_only_on_retained_interactions(data):
    tr = data.edge_index('train')
    m = EEMU(data.num_users, data.num_items, _cfg()).fit(tr)
    # A user deleted entirely starts from u0 in every shard, own included,
    # and nothing adapts it: no trace of the deleted interactions is left.
    m.unlearn(3)
    for shard in range(m.config.num_shards):
        rep = m.user_representations(shard, torch.tensor([3]))
        assert torch.equal(rep[0], m.shards[shard].u0.detach())


def test_eemu_beats_plain_sisa(data):
    # Same shards, same budget: serving every user from every shard through
    # the meta-learned adaptation is clearly better than the own shard.
    d = make_synthetic_interactions(seed=0)
    tr = d.edge_index('train')
    cfg = EEMUConfig(model='mf', dim=32, epochs=20, lr=5e-3,
                     batch_size=512, users_per_step=16)
    res = {}
    for cls in (EEMU, SISARec):
        m = cls(d.num_users, d.num_items, cfg).fit(tr)
        res[cls.name] = ranking_metrics(
            m.score_fn(), d.num_items, d.edge_index('test'),
            [tr, d.edge_index('valid')])['recall@20']
    assert res['eemu'] > res['sisa'] + 0.05


def test_bad_requests(data):
    tr = data.edge_index('train')
    m = EEMU(data.num_users, data.num_items, _cfg(epochs=1))
    with pytest.raises(RuntimeError, match='fit'):
        m.unlearn(0)
    m.fit(tr)
    with pytest.raises(ValueError, match='out of range'):
        m.unlearn(data.num_users)
    item = int(tr[1, tr[0] == 0][0])
    missing = [i for i in range(data.num_items)
               if not ((tr[0] == 0) & (tr[1] == i)).any()][0]
    with pytest.raises(ValueError, match='no interaction'):
        m.unlearn(0, [item, missing])
    with pytest.raises(ValueError, match='empty'):
        m.unlearn(0, [])
    m.unlearn(0)
    with pytest.raises(ValueError, match='user 0 was already forgotten by '
                       'request 0'):
        m.unlearn(0)
    with pytest.raises(ValueError, match=rf'interaction \(0, {item}\) was '
                       'already forgotten'):
        m.unlearn_pairs(torch.tensor([[0], [item]]))
    with pytest.raises(ValueError, match='not in the training data'):
        m.unlearn_pairs(torch.tensor([[0], [missing]]))

    with pytest.raises(ValueError, match='out of range'):
        m.fit(torch.tensor([[0], [data.num_items]]))
    with pytest.raises(ValueError):
        m.fit(torch.zeros(3, 2, dtype=torch.long))
    with pytest.raises(ValueError):
        EEMUConfig(aggregation='max')
    with pytest.raises(ValueError):
        EEMUConfig(support_ratio=1.0)
    with pytest.raises(ValueError, match='negatives'):
        EEMUConfig(negatives=0)
    with pytest.raises(ValueError, match='bpr_weight'):
        EEMUConfig(bpr_weight=-0.5)
    for bad in (0.0, -1e-3):
        with pytest.raises(ValueError, match='shard_lr'):
            EEMUConfig(shard_lr=bad)


@pytest.mark.parametrize('model', ['mf', 'lightgcn'])
def test_mean_aggregation_matches_explicit_standardisation(data, model):
    tr = data.edge_index('train')
    m = EEMU(data.num_users, data.num_items, _cfg(model)).fit(tr)
    users = torch.arange(25)
    expected = torch.zeros(25, data.num_items)
    with torch.no_grad():
        for s in range(m.config.num_shards):
            sc = m.user_representations(s, users) @ m._embeddings(s)[1].t()
            sc = sc - sc.mean(1, keepdim=True)
            expected += sc / sc.std(1, keepdim=True)
    expected /= m.config.num_shards
    assert torch.allclose(m.scores(users), expected, atol=1e-4)
    m.config.aggregation = 'own'
    own = m.scores(users)
    for u in users.tolist():
        s = int(m.shard_of[u])
        rep = m.user_representations(s, torch.tensor([u]))
        # One row against a batched product: equal up to float rounding.
        assert torch.allclose(own[u], (rep @ m._embeddings(s)[1].t())[0],
                              atol=1e-6)


def test_scores_reject_bad_users(data):
    tr = data.edge_index('train')
    for cls in (EEMU, SISARec, RetrainRec):
        m = cls(data.num_users, data.num_items, _cfg(epochs=1))
        with pytest.raises(RuntimeError, match='fit'):
            m.scores(torch.tensor([0]))
        m.fit(tr)
        assert m.scores(torch.tensor([0, 1])).shape == (2, data.num_items)
        with pytest.raises(ValueError, match='out of range'):
            m.scores(torch.tensor([data.num_users]))


def test_ids_must_be_integers_and_reforgetting_names_the_request():
    data = make_synthetic_interactions(num_users=60, num_items=40, seed=1)
    train = data.edge_index('train')
    eemu = EEMU(data.num_users, data.num_items,
                EEMUConfig(model='mf', dim=8, epochs=1, num_shards=2,
                           users_per_step=8)).fit(train)
    user = int(train[0, 0])
    for bad in (4.7, True, '3', torch.tensor(2.0)):
        with pytest.raises(TypeError, match='integer id'):
            eemu.unlearn(user=bad)
    with pytest.raises(TypeError, match='integer ids'):
        eemu.unlearn(user=user, items=[2.5])
    item = int(train[1, train[0] == user][0])
    eemu.unlearn(user=user, items=[item])
    with pytest.raises(ValueError, match=rf'interaction \({user}, {item}\) '
                       r'was already forgotten by request 0'):
        eemu.unlearn(user=user, items=[item])
    eemu.unlearn(user=user)
    with pytest.raises(ValueError, match=f'user {user} was already '
                       f'forgotten by request'):
        eemu.unlearn(user=user)
    assert len(eemu.ledger) == 2 and eemu.ledger.verify() == []


@pytest.mark.parametrize('cls', [EEMU, SISARec, RetrainRec])
def test_save_load_round_trips_state_and_ledger(cls, tmp_path):
    data = make_synthetic_interactions(num_users=60, num_items=40, seed=2)
    train = data.edge_index('train')
    cfg = EEMUConfig(model='mf', dim=8, epochs=1, num_shards=2,
                     users_per_step=8)
    m = cls(data.num_users, data.num_items, cfg).fit(train)
    user = int(train[0, 3])
    m.unlearn(user=user)
    path = str(tmp_path / 'm.pt')
    m.save(path)
    back = cls.load(path)
    assert torch.equal(back.edge_index, m.edge_index)
    assert all(torch.equal(a, b) for a, b in zip(
        m.state_dict().values(), back.state_dict().values()))
    users = torch.arange(10)
    assert torch.allclose(back.scores(users), m.scores(users))
    assert back.ledger.to_list() == m.ledger.to_list()
    with pytest.raises(ValueError, match='already forgotten'):
        back.unlearn(user=user)
    with pytest.raises(ValueError, match='holds a'):
        (SISARec if cls is not SISARec else EEMU).load(path)
    state = torch.load(path, weights_only=False)
    state['ledger'][0]['forget']['pairs'] = []
    torch.save(state, path)
    with pytest.raises(ValueError, match='ledger is broken'):
        cls.load(path)
