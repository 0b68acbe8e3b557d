import pytest
import torch

from torch_geometric_unlearn.rec import (RecTrainConfig, build_recommender,
                                         make_synthetic_interactions,
                                         ranking_metrics, train_bpr)
from torch_geometric_unlearn.rec.train import (canonical, deterministic,
                                               pair_keys, sample_negatives)


@pytest.fixture(scope='module')
def data():
    return make_synthetic_interactions(num_users=150, num_items=100,
                                       mean_interactions=15, seed=3)


def _train(data, edges, model='mf', seed=0, epochs=3, lr=5e-3):
    cfg = RecTrainConfig(model=model, dim=16, epochs=epochs, batch_size=256,
                         lr=lr, seed=seed, num_layers=2)
    m = build_recommender(cfg, data.num_users, data.num_items)
    hist = train_bpr(m, edges, cfg)
    return m, hist


@pytest.mark.parametrize('model', ['mf', 'lightgcn'])
def test_training_is_deterministic_and_order_free(data, model):
    tr = data.edge_index('train')
    state = torch.random.get_rng_state()
    a, _ = _train(data, tr, model)
    assert torch.equal(torch.random.get_rng_state(), state)
    perm = torch.randperm(tr.size(1))
    b, _ = _train(data, tr[:, perm], model)
    for (k, v), w in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(v, w), k
    c, _ = _train(data, tr, model, seed=1)
    assert not torch.equal(list(a.state_dict().values())[-1],
                           list(c.state_dict().values())[-1])


def test_training_learns(data):
    tr = data.edge_index('train')
    m, hist = _train(data, tr, epochs=15, lr=1e-2)
    assert hist['loss'][-1] < hist['loss'][0] - 0.1
    U, item = m(tr)
    r = ranking_metrics(lambda u: U[u] @ item.t(), data.num_items,
                        data.edge_index('test'),
                        [tr, data.edge_index('valid')])
    # Popularity ranking as the floor a trained model must beat.
    pop = torch.bincount(tr[1], minlength=data.num_items).float()
    p = ranking_metrics(lambda u: pop.expand(u.numel(), -1),
                        data.num_items, data.edge_index('test'),
                        [tr, data.edge_index('valid')])
    assert r['recall@20'] > p['recall@20']


def test_negatives_are_not_positives(data):
    tr = canonical(data.edge_index('train'), data.num_items)
    keys = pair_keys(tr, data.num_items)
    g = torch.Generator().manual_seed(0)
    neg = sample_negatives(tr[0], keys, data.num_items, g)
    assert not torch.isin(tr[0] * data.num_items + neg, keys).any()


def test_canonical_sorts_and_dedups():
    ei = torch.tensor([[2, 0, 2, 0], [1, 3, 1, 0]])
    assert canonical(ei, 5).tolist() == [[0, 0, 2], [0, 3, 1]]


def test_deterministic_context_restores():
    before = torch.are_deterministic_algorithms_enabled()
    with deterministic():
        assert torch.are_deterministic_algorithms_enabled()
    assert torch.are_deterministic_algorithms_enabled() == before


def test_config_errors():
    with pytest.raises(ValueError):
        RecTrainConfig(epochs=0)
    with pytest.raises(ValueError):
        RecTrainConfig(lr=0)


def test_callback_runs_each_epoch_and_can_stop(data):
    tr = data.edge_index('train')
    cfg = RecTrainConfig(model='mf', dim=8, epochs=5, batch_size=256)
    seen = []

    def cb(epoch, model):
        seen.append((epoch, model.training))
        torch.rand(3)  # the callback's RNG use must not change training
        return epoch == 3

    m = build_recommender(cfg, data.num_users, data.num_items)
    out = train_bpr(m, tr, cfg, callback=cb)
    assert seen == [(1, False), (2, False), (3, False)]
    assert out['epochs'] == 3 and len(out['loss']) == 3
    # Stopping at 3 equals training 3 epochs.
    ref = build_recommender(cfg, data.num_users, data.num_items)
    cfg3 = RecTrainConfig(model='mf', dim=8, epochs=3, batch_size=256)
    train_bpr(ref, tr, cfg3)
    assert torch.equal(m.user.weight, ref.user.weight)
