import copy
import math

import pytest
import torch

from torch_geometric_unlearn import MetaEU, MetaEUConfig
from torch_geometric_unlearn.datasets import make_synthetic_kg
from torch_geometric_unlearn.kge import (KGETrainer, LinkPredictionEvaluator,
                                         TrainConfig, load_kge_model, recipe)
from torch_geometric_unlearn.kge.scoring import get_scorer
from torch_geometric_unlearn.metaeu import EpisodeSampler, Incidence
from torch_geometric_unlearn.transforms import (ForgetTriples,
                                                sample_forget_set)


def _train(name, data, n, r, dim=32, epochs=8, seed=0):
    torch.manual_seed(seed)
    rec = recipe(name)
    model = load_kge_model(name, n, r, dim, **rec['model_kwargs'])
    kw = dict(rec['train'])
    kw.update(epochs=epochs, eval_every=0, seed=seed)
    KGETrainer(model, TrainConfig.from_dict(kw), progress=False).fit(data)
    return model.eval()


@pytest.fixture(scope='module')
def kg():
    return make_synthetic_kg(num_entities=600, num_relations=12,
                             num_triples=12000, seed=1)


@pytest.fixture(scope='module')
def trained(kg):
    """A ComplEx model trained on the synthetic KG and a MetaEU meta-trained
    on it (shared by the tests; never mutated by them)."""
    model = _train('complex', kg.train, kg.num_entities, kg.num_relations)
    meu = MetaEU(model, kg, progress=False, episodes=180, eval_every=30,
                 episode_forget=64)
    meu.fit()
    return model, meu


def _triples(data, ids):
    return torch.stack([data.edge_index[0, ids], data.edge_type[ids],
                        data.edge_index[1, ids]], dim=1)


# Episodes ###################################################################

def test_incidence_matches_brute_force(kg):
    ei = kg.train.edge_index
    inc = Incidence(ei, kg.num_entities)
    nodes = torch.tensor([0, 5, 17])
    got = inc.all_incident(nodes)
    want = ((ei[0][:, None] == nodes) | (ei[1][:, None] == nodes)).any(1)
    assert torch.equal(got, want.nonzero().view(-1))
    capped = inc.sample(nodes, 3, torch.Generator().manual_seed(0))
    assert capped.numel() <= 9 and bool(torch.isin(capped, got).all())


def test_episode_split(kg):
    sampler = EpisodeSampler(kg.train.edge_index, kg.train.edge_type,
                             kg.num_entities, num_forget=20, max_edges=8)
    ep = sampler.sample(torch.Generator().manual_seed(0))
    assert ep.num_forget == 20
    # Episode size is bounded by the request, not by the graph.
    n_edges = ep.support_type.numel() + ep.query_type.numel()
    assert n_edges <= 2 * 20 * 8
    keys = set()
    for idx, typ in ((ep.support_index, ep.support_type),
                     (ep.query_index, ep.query_type)):
        glob = ep.nodes[idx]
        # Every support / query triple is a training triple touching a
        # target.
        assert bool((ep.affected[idx[0]] | ep.affected[idx[1]]).all())
        for h, r, t in zip(glob[0].tolist(), typ.tolist(), glob[1].tolist()):
            keys.add((h, r, t))
    train = set(map(tuple, _triples(kg.train, torch.arange(
        kg.train.num_edges)).tolist()))
    assert keys <= train
    sup = set(map(tuple, torch.stack([ep.nodes[ep.support_index[0]],
                                      ep.support_type,
                                      ep.nodes[ep.support_index[1]]],
                                     1).tolist()))
    qry = set(map(tuple, torch.stack([ep.nodes[ep.query_index[0]],
                                      ep.query_type,
                                      ep.nodes[ep.query_index[1]]],
                                     1).tolist()))
    assert not sup & qry and qry
    with pytest.raises(ValueError):
        EpisodeSampler(kg.train.edge_index, kg.train.edge_type,
                       kg.num_entities, query_ratio=1.0)


def test_episode_negatives_that_answer_a_query_are_filtered(kg, trained):
    # A shared random negative may be a query's answer itself (under its
    # trained row) or another true answer: it is masked out of the loss and
    # of validation, as are the generated rows that answer a query.
    _, meu = trained
    sampler = EpisodeSampler(kg.train.edge_index, kg.train.edge_type,
                             kg.num_entities, num_forget=20, max_edges=8)
    ep = sampler.sample(torch.Generator().manual_seed(3))
    qi, rel = ep.query_index, ep.query_type
    heads, tails = ep.nodes[qi[0]], ep.nodes[qi[1]]
    neg_ids = torch.cat([tails[:2], heads[:2],
                         torch.randint(kg.num_entities, (30, ),
                                       generator=torch.Generator(
                                           ).manual_seed(4))])
    out = torch.zeros(ep.nodes.numel(), 4)
    _, head_mask, tail_mask = meu._episode_extra(out, ep, qi, rel, neg_ids)
    cand = torch.cat([neg_ids, ep.nodes[ep.affected.nonzero().view(-1)]])
    assert head_mask.shape == tail_mask.shape == (rel.numel(),
                                                  cand.numel())
    train = set(map(tuple, _triples(kg.train, torch.arange(
        kg.train.num_edges)).tolist()))
    want_t = torch.tensor([[(h, r, c) in train for c in cand.tolist()]
                           for h, r in zip(heads.tolist(), rel.tolist())])
    want_h = torch.tensor([[(c, r, t) in train for c in cand.tolist()]
                           for r, t in zip(rel.tolist(), tails.tolist())])
    assert torch.equal(tail_mask, want_t) and torch.equal(head_mask, want_h)
    # The planted answers: query i's own tail / head among the negatives.
    assert bool(tail_mask[0, 0]) and bool(tail_mask[1, 1])
    assert bool(head_mask[0, 2]) and bool(head_mask[1, 3])


# Meta-training ##############################################################

def test_fit_improves_on_the_learning_free_mean(trained):
    model, meu = trained
    first = meu.history[0]
    assert math.isclose(first['val_mrr'], first['base_mrr'], rel_tol=1e-6)
    best = max(h['val_mrr'] for h in meu.history)
    assert best > first['base_mrr'] + 0.02
    assert meu.fit_seconds > 0


def test_generated_embeddings_score_held_out_triples_above_random(kg,
                                                                  trained):
    # The synthetic KG has planted inverse relations: an entity whose rows
    # are regenerated from its other triples must score its held-out
    # retained triples far above random ones.
    model, meu = trained
    g = torch.Generator().manual_seed(3)
    sampler = EpisodeSampler(kg.train.edge_index, kg.train.edge_type,
                             kg.num_entities, num_forget=64, max_edges=32)
    scorer = get_scorer(model)
    ranks_gen, ranks_rand = [], []
    for _ in range(3):
        ep = sampler.sample(g)
        x = scorer.represent(scorer.param_rows(ep.nodes))
        with torch.no_grad():
            out = meu.generator(x, ep.support_index, ep.support_type,
                                ep.affected, meu._implied(scorer))
            qi = ep.query_index
            q = scorer.tail_query_rep(out[qi[0]], ep.query_type)
            pos = scorer.score_pairs(q, out[qi[1]])
            rand = scorer.score_against(q, scorer.table)
        ranks_gen.append((rand > pos[:, None]).float().mean(1))
        ranks_rand.append(torch.full_like(pos, 0.5))
    frac_above = torch.cat(ranks_gen).mean()
    # A random embedding would be beaten by about half of the entities.
    assert frac_above < 0.15


def test_fit_is_seeded(kg):
    model = load_kge_model('distmult', kg.num_entities, kg.num_relations, 8)
    a = MetaEU(model, kg.train, progress=False, episodes=6, eval_every=3)
    b = MetaEU(model, kg.train, progress=False, episodes=6, eval_every=3)
    a.fit()
    b.fit()
    for (k, v), w in zip(a.generator.state_dict().items(),
                         b.generator.state_dict().values()):
        assert torch.equal(v, w), k
    assert [h['val_mrr'] for h in a.history] == \
        [h['val_mrr'] for h in b.history]


# Unlearning #################################################################

def test_unlearn_copies_and_rewrites_only_affected_rows(kg, trained):
    model, trained_meu = trained
    before = copy.deepcopy(model.state_dict())
    meu = copy.deepcopy(trained_meu)
    ids = sample_forget_set(kg.train, count=30, seed=0)
    res = meu.unlearn(edge_ids=ids)
    for k, v in model.state_dict().items():  # the caller's model untouched
        assert torch.equal(v, before[k])
    assert res.model is not model and meu.model is res.model
    rec = res.record
    forgotten = _triples(kg.train, ids)
    assert rec.num_forget == 30
    assert set(map(tuple, rec.forget_triples.tolist())) == \
        set(map(tuple, forgotten.tolist()))
    expected = torch.unique(torch.cat([forgotten[:, 0], forgotten[:, 2]]))
    assert torch.equal(rec.affected, expected)
    new = res.model.state_dict()
    changed = (new['node_emb.weight'] != before['node_emb.weight']).any(1)
    changed_im = (new['node_emb_im.weight'] !=
                  before['node_emb_im.weight']).any(1)
    mask = torch.zeros(kg.num_entities, dtype=torch.bool)
    mask[expected] = True
    assert torch.equal(changed | changed_im, mask)
    assert torch.equal(new['rel_emb.weight'], before['rel_emb.weight'])
    assert res.data.num_edges == kg.train.num_edges - 30
    d = rec.to_dict()
    assert d['num_affected'] == expected.numel() and d['seconds'] > 0
    assert set(d['timings']) >= {'transform', 'generate', 'total'}


def test_unlearning_moves_forget_scores_toward_retrained(kg, trained):
    model, trained_meu = trained
    meu = copy.deepcopy(trained_meu)
    ids = sample_forget_set(kg.train, ratio=0.01, seed=0)
    retained = ForgetTriples(edge_ids=ids)(kg.train)
    forget = _triples(kg.train, ids)
    ev = LinkPredictionEvaluator(kg.num_entities, kg.num_relations,
                                 [retained, kg.valid, kg.test])
    retrained = _train('complex', retained, kg.num_entities,
                       kg.num_relations)
    res = meu.unlearn(edge_ids=ids)
    f_orig = ev.evaluate(model, forget)['mrr']
    f_ret = ev.evaluate(retrained, forget)['mrr']
    f_new = ev.evaluate(res.model, forget)['mrr']
    t_ret = ev.evaluate(retrained, kg.test)['mrr']
    t_new = ev.evaluate(res.model, kg.test)['mrr']
    assert f_orig > f_ret + 0.1  # the original remembers the forget set
    # Unlearning closes most of that gap, and the model still works.
    assert abs(f_new - f_ret) < 0.5 * (f_orig - f_ret)
    assert t_new > 0.6 * t_ret


def test_sequential_requests_keep_forgotten_triples_out(kg, trained):
    _, trained_meu = trained
    meu = copy.deepcopy(trained_meu)
    ids = sample_forget_set(kg.train, count=10, seed=1)
    first = _triples(kg.train, ids)
    r1 = meu.unlearn(first)
    with pytest.raises(ValueError):  # already forgotten
        meu.unlearn(first[:1])
    r2 = meu.unlearn(entities=[int(r1.data.edge_index[0, 0])])
    keys = set(map(tuple, _triples(r2.data, torch.arange(
        r2.data.num_edges)).tolist()))
    assert not keys & set(map(tuple, first.tolist()))
    assert len(meu.records) == 2 and meu.model is r2.model
    # The second request rewrote rows from the graph without the first's
    # triples, on top of the first's model.
    assert r2.model is not r1.model


def test_a_later_request_does_not_bring_back_an_earlier_triple(
        kg, trained):
    # Request 1 forgets (a, r, b); request 2 forgets another triple of a,
    # with b untouched. a restarts from its first row, but (a, r, b) is held
    # at the target request 1 gave it, so it does not climb back.
    from torch_geometric_unlearn.metaeu.calibration import triple_scores
    _, trained_meu = trained
    meu = copy.deepcopy(trained_meu)
    rows = _triples(kg.train, torch.arange(kg.train.num_edges))
    deg = torch.bincount(rows[:, [0, 2]].reshape(-1),
                         minlength=kg.num_entities)
    a = int(torch.argmax(deg))
    mine = rows[(rows[:, 0] == a) & (rows[:, 2] != a)]
    first = mine[:1]
    b = int(first[0, 2])
    second = mine[(mine[:, 2] != b)][:1]

    def score(model):
        sc = get_scorer(model)
        with torch.no_grad():
            return float(triple_scores(
                sc, None, first, lambda i: sc.represent(sc.param_rows(i))))
    s0 = score(meu.model)
    s1 = score(meu.unlearn(first).model)
    s2 = score(meu.unlearn(second).model)
    assert s1 < s0 - 0.1 * abs(s0)         # request 1 moved it down
    assert abs(s2 - s1) < 0.1 * (s0 - s1)   # and request 2 kept it there


def test_unlearn_inplace_ensemble_and_refine(kg, trained):
    model, trained_meu = trained
    meu = copy.deepcopy(trained_meu)
    triple = _triples(kg.train, torch.tensor([5]))
    mine = copy.deepcopy(meu.model)
    meu.model = mine
    res = meu.unlearn(triple, inplace=True)
    assert res.model is mine
    # The ensemble averages generated rows: it shows in regeneration mode
    # (in correction mode, rows that keep retained triples are not
    # generated).
    meu2 = copy.deepcopy(trained_meu)
    a = meu2.unlearn(triple, ensemble=3, mode='regenerate').model
    meu3 = copy.deepcopy(trained_meu)
    b = meu3.unlearn(triple, ensemble=3, mode='regenerate').model
    single = copy.deepcopy(trained_meu).unlearn(triple,
                                                mode='regenerate').model
    assert torch.equal(a.node_emb.weight, b.node_emb.weight)  # seeded
    assert not torch.equal(a.node_emb.weight, single.node_emb.weight)
    meu4 = copy.deepcopy(trained_meu)
    c = meu4.unlearn(triple, refine_steps=3)
    affected = c.record.affected
    mask = torch.ones(kg.num_entities, dtype=torch.bool)
    mask[affected] = False
    assert torch.equal(c.model.node_emb.weight[mask],
                       model.node_emb.weight[mask])
    assert not torch.equal(c.model.node_emb.weight[affected],
                           res.model.node_emb.weight[affected])
    assert c.record.refine_steps == 3


@pytest.mark.parametrize('name', ['transe', 'distmult', 'complex', 'rotate'])
def test_all_models_and_save_load(tmp_path, kg, name):
    torch.manual_seed(0)
    model = load_kge_model(name, kg.num_entities, kg.num_relations, 8)
    meu = MetaEU(model, kg, progress=False, episodes=4, eval_every=2)
    meu.fit()
    path = str(tmp_path / 'meu.pt')
    meu.save(path)
    loaded = MetaEU.load(path, model, kg, progress=False)
    triple = _triples(kg.train, torch.tensor([0, 1]))
    a = meu.unlearn(triple).model
    b = loaded.unlearn(triple).model
    for k, v in a.state_dict().items():
        assert torch.equal(v, b.state_dict()[k]), k
    scorer = get_scorer(a)
    rows = scorer.param_rows(triple[:, 0])
    assert torch.isfinite(rows).all()
    assert not torch.equal(rows, get_scorer(model).param_rows(triple[:, 0]))
    other = 'rotate' if name != 'rotate' else 'transe'
    wrong = load_kge_model(other, kg.num_entities, kg.num_relations, 8)
    with pytest.raises(ValueError):
        MetaEU.load(path, wrong, kg)


def test_bad_requests(kg, trained):
    _, trained_meu = trained
    meu = copy.deepcopy(trained_meu)
    with pytest.raises(ValueError):
        meu.unlearn()
    with pytest.raises(ValueError):
        meu.unlearn(torch.tensor([[0, 0, 1]]), entities=[0])
    with pytest.raises(ValueError):
        meu.unlearn(torch.empty(0, 3, dtype=torch.long))
    with pytest.raises(ValueError):
        meu.unlearn(entities=[kg.num_entities + 5])
    with pytest.raises(ValueError):
        meu.unlearn(torch.tensor([[0, 0]]))
    with pytest.raises(ValueError):
        meu.unlearn(torch.tensor([[0, 0, 1]]), ensemble=0)
    assert len(meu.records) == 0


def test_bad_construction(kg, tmp_path):
    model = load_kge_model('transe', kg.num_entities + 1, kg.num_relations, 8)
    with pytest.raises(ValueError):
        MetaEU(model, kg)
    with pytest.raises(TypeError):
        MetaEU(torch.nn.Linear(2, 2), kg)
    with pytest.raises(ValueError):
        MetaEUConfig(loss='nope')
    with pytest.raises(ValueError):
        MetaEU(load_kge_model('transe', kg.num_entities, kg.num_relations,
                              8), kg, not_an_option=1)
    with pytest.raises(FileNotFoundError):
        MetaEU.load(str(tmp_path / 'missing.pt'), model, kg)


def test_for_model_follows_the_training_loss():
    from torch_geometric_unlearn.kge import RECIPES
    from torch_geometric_unlearn.kge.trainer import LOSSES
    # Without a training loss: the family of the model's recipe.
    for name, rec in RECIPES.items():
        fam = 'softmax' if rec['train']['loss'] in ('softmax', '1vsall') \
            else 'self_adversarial'
        assert MetaEUConfig.for_model(name).loss == fam
    # With one: its family, for any model; every training loss is mapped.
    assert MetaEUConfig.for_model('complex', train_loss='bce').loss == \
        'self_adversarial'
    assert MetaEUConfig.for_model('transe', train_loss='1vsall').loss == \
        'softmax'
    assert all(MetaEUConfig.for_model('rotate', train_loss=x).loss in
               ('softmax', 'self_adversarial') for x in LOSSES)
    # An explicit loss wins; an unknown training loss is named.
    assert MetaEUConfig.for_model('complex', train_loss='bce',
                                  loss='softmax').loss == 'softmax'
    with pytest.raises(ValueError, match="unknown training loss 'hinge'"):
        MetaEUConfig.for_model('transe', train_loss='hinge')
    # Anchor batches: 8 for the bilinear models, the config's 4 otherwise;
    # an override wins.
    assert [MetaEUConfig.for_model(m).calibrate_anchor_batches
            for m in ('transe', 'rotate', 'distmult', 'complex')] == \
        [4, 4, 8, 8]
    assert MetaEUConfig().calibrate_anchor_batches == 4
    assert MetaEUConfig.for_model(
        'complex', calibrate_anchor_batches=2).calibrate_anchor_batches == 2


def test_episode_forget_queries(kg):
    sampler = EpisodeSampler(kg.train.edge_index, kg.train.edge_type,
                             kg.num_entities, num_forget=10, max_edges=4,
                             forget_queries=True)
    ep = sampler.sample(torch.Generator().manual_seed(0))
    # Pseudo-forgotten triples join the queries: both of their ends are
    # targets, and none of them is visible as support.
    both = ep.affected[ep.query_index[0]] & ep.affected[ep.query_index[1]]
    assert int(both.sum()) >= 10
    plain = EpisodeSampler(kg.train.edge_index, kg.train.edge_type,
                           kg.num_entities, num_forget=10, max_edges=4)
    ep2 = plain.sample(torch.Generator().manual_seed(0))
    assert ep.query_type.numel() == ep2.query_type.numel() + 10
    assert torch.equal(ep.support_type, ep2.support_type)


def test_indexed_requests_equal_the_transform_path(kg, trained, monkeypatch):
    # Triple and entity requests served from the graph's indexes give the
    # rows, graph, record and ledger digests of the deletion transforms.
    _, trained_meu = trained
    fast, slow = copy.deepcopy(trained_meu), copy.deepcopy(trained_meu)
    monkeypatch.setattr(slow, 'graph_request', lambda transform: None)
    ids = sample_forget_set(kg.train, count=25, seed=4)
    requests = [dict(edge_ids=ids), dict(entities=[int(kg.train.edge_index[
        0, int(ids[0]) + 1])])]
    for req in requests:
        a, b = fast.unlearn(**req), slow.unlearn(**req)
        assert torch.equal(a.record.forget_triples, b.record.forget_triples)
        assert torch.equal(a.record.affected, b.record.affected)
        assert torch.equal(a.model.node_emb.weight, b.model.node_emb.weight)
        assert torch.equal(a.data.edge_index, b.data.edge_index)
        assert torch.equal(a.data.edge_type, b.data.edge_type)
        ea, eb = fast.ledger[-1], slow.ledger[-1]
        for key in ('retained_data', 'output_model', 'input_model'):
            assert ea[key] == eb[key]
    assert fast.ledger.verify() == []
    from torch_geometric_unlearn.utils.fingerprint import model_hash
    assert fast.ledger[-1]['output_model'] == model_hash(fast.model)
    # A re-request still names the earlier request.
    with pytest.raises(ValueError, match='already forgotten by request 0'):
        fast.unlearn(edge_ids=ids[:1])


def test_the_delta_of_a_request_applies_and_reverts(kg, trained):
    _, trained_meu = trained
    meu = copy.deepcopy(trained_meu)
    before = copy.deepcopy(meu.model)
    res = meu.unlearn(edge_ids=sample_forget_set(kg.train, count=5, seed=6))
    d = res.delta
    assert torch.equal(d.rows, res.record.affected)
    other = copy.deepcopy(before)
    d.apply(other)
    for k, v in res.model.state_dict().items():
        assert torch.equal(other.state_dict()[k], v)
    d.revert(other)
    for k, v in before.state_dict().items():
        assert torch.equal(other.state_dict()[k], v)
    # The result's graph is the graph of that moment, even after more
    # requests.
    total = meu.original.num_edges
    meu.unlearn(edge_ids=sample_forget_set(kg.train, count=5, seed=7))
    assert res.data.num_edges == total - res.record.num_forget
    assert meu.data.num_edges < res.data.num_edges


def test_a_saved_sequence_continues_as_if_never_saved(kg, trained, tmp_path):
    # The calibration remembers earlier targets and first rows; a MetaEU
    # saved between requests and loaded again serves the next request
    # exactly as the one that was never saved.
    model, trained_meu = trained
    meu = copy.deepcopy(trained_meu)
    ids = sample_forget_set(kg.train, count=30, seed=8)
    meu.unlearn(edge_ids=ids[:15])
    assert len(meu._forget_targets) > 0 and meu._first_rows[0].numel() > 0
    meu.save(tmp_path / 'meu.pt')
    back = MetaEU.load(tmp_path / 'meu.pt', copy.deepcopy(meu.model), kg,
                       progress=False)
    assert back._forget_targets == meu._forget_targets
    assert torch.equal(back._first_rows[1], meu._first_rows[1])
    a = meu.unlearn(edge_ids=ids[15:])
    b = back.unlearn(edge_ids=ids[15:])
    assert torch.equal(a.model.node_emb.weight, b.model.node_emb.weight)
    assert a.record.timings.keys() == b.record.timings.keys()


def test_prepare_builds_the_one_off_parts_and_changes_nothing(kg, trained):
    _, trained_meu = trained
    a, b = copy.deepcopy(trained_meu), copy.deepcopy(trained_meu)
    a._graph = a._index = a._digest = None
    assert a.prepare() is a
    assert a.graph._index is not None and a.graph._digest is not None
    assert a._digest is not None and a._reference is not None
    ids = sample_forget_set(kg.train, count=5, seed=9)
    ra, rb = a.unlearn(edge_ids=ids), b.unlearn(edge_ids=ids)
    assert torch.equal(ra.model.node_emb.weight, rb.model.node_emb.weight)
    assert a.ledger[-1]['output_model'] == b.ledger[-1]['output_model']


def test_calibration_scores_the_anchors_itself_only_at_the_start_rows(
        kg, trained, monkeypatch):
    # When the calibration starts at the rows the anchors are held at, it
    # gets no anchor scores (anchor=None) and scores them itself: the rows
    # equal those from the anchors scored by the model. After refinement
    # moved the rows, or with earlier forgotten triples around them, the
    # anchors are scored at their rows before the request and handed over.
    from torch_geometric_unlearn.metaeu import calibration, unlearning
    seen = []

    def spy(scorer, affected, rows, forget, targets, nb, anchor, **kwargs):
        seen.append(anchor)
        out = calibration.calibrate(scorer, affected, rows, forget, targets,
                                    nb, anchor, **kwargs)
        if anchor is None:
            own = torch.zeros(int(scorer.model.num_nodes), dtype=torch.bool)
            own[affected] = True
            table = scorer.represent(scorer.param_rows(torch.arange(
                own.numel())))
            table[affected] = scorer.represent(rows)
            scored = calibration.triple_scores(scorer, table, nb)
            again = calibration.calibrate(scorer, affected, rows, forget,
                                          targets, nb, scored, **kwargs)
            assert torch.allclose(out, again, atol=1e-5)
        return out
    monkeypatch.setattr(unlearning, 'calibrate', spy)
    _, trained_meu = trained
    assert trained_meu.has_reference()
    ids = sample_forget_set(kg.train, count=20, seed=3)
    first = _triples(kg.train, ids)
    meu = copy.deepcopy(trained_meu)
    meu.unlearn(first)
    assert len(seen) == 1 and seen[0] is None
    copy.deepcopy(trained_meu).unlearn(first, refine_steps=2)
    assert len(seen) == 2 and seen[1] is not None
    # A second request around the first's rows holds its triples again.
    rows = _triples(meu.data, torch.arange(meu.data.num_edges))
    a = int(first[0, 0])
    again = rows[(rows[:, 0] == a) | (rows[:, 2] == a)][:1]
    meu.unlearn(again)
    assert len(seen) == 3 and seen[2] is not None


def test_edge_cap_keeps_the_lowest_priority_edges_of_each_node():
    # Against a loop: each affected node keeps the `cap` incident edges of
    # lowest seeded priority; an edge stays if either affected end keeps it.
    from torch_geometric_unlearn.metaeu.unlearning import Unlearning
    g = torch.Generator().manual_seed(0)
    edge_index = torch.randint(12, (2, 200), generator=g)
    affected = torch.zeros(12, dtype=torch.bool)
    affected[[0, 3, 4, 9]] = True
    keep = Unlearning._cap_edges(edge_index, affected, 5,
                                 torch.Generator().manual_seed(3))
    prio = torch.rand(200, generator=torch.Generator().manual_seed(3))
    want = torch.zeros(200, dtype=torch.bool)
    for node in affected.nonzero().view(-1).tolist():
        mine = [e for e in range(200) if node in edge_index[:, e].tolist()]
        for e in sorted(mine, key=lambda e: float(prio[e]))[:5]:
            want[e] = True
    assert 0 < int(want.sum()) < 200
    assert torch.equal(keep, want)
    assert bool(Unlearning._cap_edges(edge_index, affected, None, g).all())


@pytest.mark.parametrize('dense', [0.0, 1.0])
def test_relabel_is_unique_with_its_inverse(monkeypatch, dense):
    # Both ways (a table over the span, a sort) give torch.unique's values
    # and inverse, repeated ids and an empty input included.
    from torch_geometric_unlearn.metaeu import unlearning
    monkeypatch.setattr(unlearning, 'DENSE_RELABEL', dense)
    g = torch.Generator().manual_seed(0)
    empty = torch.zeros(0, dtype=torch.long)
    for ids in (torch.randint(50, (200, ), generator=g),
                torch.tensor([7, 7, 3, 40_000]), empty):
        nodes, local = unlearning.relabel(ids)
        want, inverse = torch.unique(ids, return_inverse=True)
        assert torch.equal(nodes, want) and torch.equal(local, inverse)
