import copy

import pytest
import torch

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.datasets import make_synthetic_kg, to_triples
from torch_geometric_unlearn.kge import (KGETrainer, LinkPredictionEvaluator,
                                         TrainConfig, get_scorer,
                                         load_kge_model, recipe)
from torch_geometric_unlearn.metaeu.calibration import (ScoreReference,
                                                        triple_scores)
from torch_geometric_unlearn.transforms import sample_forget_set


@pytest.fixture(scope='module')
def setup():
    kg = make_synthetic_kg(num_entities=400, num_relations=10,
                           num_triples=8000, seed=3)
    torch.manual_seed(0)
    rec = recipe('complex')
    model = load_kge_model('complex', kg.num_entities, kg.num_relations, 32,
                           **rec['model_kwargs'])
    kw = dict(rec['train'], epochs=8, eval_every=0, seed=0)
    KGETrainer(model, TrainConfig.from_dict(kw), progress=False).fit(
        kg.train)
    return kg, model


def test_quantile_mapping_against_a_brute_force(setup):
    kg, model = setup
    sc = get_scorer(model)
    ref = ScoreReference(sc, to_triples(kg.train), to_triples(kg.valid),
                         kg.num_relations, min_unseen=1)
    r = 3
    su = ref.unseen[r]
    # Brute force: each training triple of the relation with its linked
    # status, weighted so the linked ones weigh the unseen linked share.
    rows = to_triples(kg.train)
    pair = {}
    for h, _, t in rows.tolist():
        pair[(min(h, t), max(h, t))] = pair.get((min(h, t), max(h, t)), 0) + 1
    valid = to_triples(kg.valid)
    v = valid[valid[:, 1] == r].tolist()
    p = sum((min(h, t), max(h, t)) in pair for h, _, t in v) / len(v)
    assert ref.linked_weight[r] == pytest.approx(p)
    assert 0 < p < 1  # both kinds, so the weighting is exercised
    kinds = [[], []]
    for h, rel, t in rows.tolist():
        if rel == r:
            kinds[pair[(min(h, t), max(h, t))] > 1].append(
                float(model(torch.tensor([h]), torch.tensor([rel]),
                            torch.tensor([t])).detach()))
    st = sorted(kinds[0] + kinds[1])
    probe = torch.tensor([st[0] - 1, st[len(st) // 2], st[-1] + 1])
    got = ref.targets(torch.full((3, ), r), probe)
    for value, target in zip(probe.tolist(), got.tolist()):
        q = (1 - p) * sum(x < value for x in kinds[0]) / len(kinds[0]) + \
            p * sum(x < value for x in kinds[1]) / len(kinds[1])
        want = su[min(len(su) - 1, round(q * (len(su) - 1)))]
        assert target == pytest.approx(float(want), abs=1e-5)
    assert got[0] == su[0] and got[2] == su[-1]  # the extremes map to them
    back = ScoreReference.from_state(ref.state_dict())
    assert torch.equal(back.targets(torch.full((3, ), r), probe), got)


@pytest.mark.parametrize('min_unseen', [1, 10, 40])
def test_targets_of_all_relations_at_once_match_the_loop(setup, min_unseen):
    # The one-search targets against the relation-by-relation loop, for
    # scores off, on and between the reference values, zeros of both signs
    # and relations with and without their own reference (pooled).
    kg, model = setup
    ref = ScoreReference(get_scorer(model), to_triples(kg.train),
                         to_triples(kg.valid), kg.num_relations,
                         min_unseen=min_unseen)
    own = len(ref.unseen)
    assert (0 < own < kg.num_relations) == (min_unseen == 40)
    g = torch.Generator().manual_seed(1)
    values = torch.cat([v for v in ref.train.values()] +
                       [ref.pooled_train, ref.pooled_train_linked])
    spread = float(values.std())
    scores = torch.cat([
        values[torch.randint(values.numel(), (300, ), generator=g)],
        values.mean() + 2 * spread * torch.randn(300, generator=g),
        torch.tensor([0.0, -0.0, values.min() - 1, values.max() + 1,
                      float(values.min()), float(values.max())])])
    rel = torch.randint(kg.num_relations, scores.shape, generator=g)
    got = ref.targets(rel, scores)
    assert torch.equal(got, ref.targets_by_relation(rel, scores))
    # A float64 score falls back to the loop.
    assert torch.equal(ref.targets(rel, scores.double()),
                       ref.targets_by_relation(rel, scores.double()))
    back = ScoreReference.from_state(ref.state_dict())
    assert torch.equal(back.targets(rel, scores), got)


def test_order_keys_sort_as_the_values():
    from torch_geometric_unlearn.metaeu.calibration import order_keys
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.randn(500, generator=g) * 10 ** torch.randint(
        -30, 30, (500, ), generator=g).float(), torch.tensor(
        [0.0, -0.0, 1e-45, -1e-45, float('inf'), -float('inf'), 3.0, 3.0])])
    k = order_keys(x)
    assert int(k.min()) >= 0 and int(k.max()) < 1 << 32
    i, j = torch.randint(x.numel(), (2, 20000), generator=g)
    assert torch.equal(k[i] < k[j], x[i] < x[j])
    assert torch.equal(k[i] == k[j], x[i] == x[j])
    with pytest.raises(ValueError, match='float32'):
        order_keys(x.double())


def test_correction_forgets_to_the_unseen_level_and_keeps_the_rest(setup):
    kg, model = setup
    ids = sample_forget_set(kg.train, ratio=0.02, seed=0)
    rows = to_triples(kg.train)
    forget = rows[ids]
    meu = MetaEU(model, kg, progress=False)
    res = meu.unlearn(edge_ids=ids)
    assert res.record['mode'] == 'correct'
    keep = torch.ones(rows.size(0), dtype=torch.bool)
    keep[ids] = False
    retained = kg.train.edge_subgraph(keep.nonzero().view(-1))
    ev = LinkPredictionEvaluator(kg.num_entities, kg.num_relations,
                                 [retained, kg.valid, kg.test])
    f_before = ev.evaluate(model, forget)['mrr']
    f_after = ev.evaluate(res.model, forget)['mrr']
    unseen = ev.evaluate(model, kg.valid)['mrr']
    assert f_before > unseen + 0.1  # the model remembers its triples
    assert abs(f_after - unseen) < 0.35 * (f_before - unseen)
    # The affected entities' retained triples keep their ranks.
    aff = res.record.affected
    inc = rows[keep][torch.isin(rows[keep][:, 0], aff)
                     | torch.isin(rows[keep][:, 2], aff)][:1500]
    r_before = ev.evaluate(model, inc)['mrr']
    r_after = ev.evaluate(res.model, inc)['mrr']
    assert r_after > r_before - 0.05
    # Only affected rows moved, and the forgotten triples' scores dropped.
    changed = (res.model.node_emb.weight != model.node_emb.weight).any(1)
    assert set(changed.nonzero().view(-1).tolist()) <= set(aff.tolist())
    sc0, sc1 = get_scorer(model), get_scorer(res.model)
    with torch.no_grad():
        s0 = triple_scores(sc0, sc0.represent(sc0.param_rows(
            torch.arange(kg.num_entities))), forget)
        s1 = triple_scores(sc1, sc1.represent(sc1.param_rows(
            torch.arange(kg.num_entities))), forget)
    assert float(s1.mean()) < float(s0.mean())


def test_regeneration_never_reads_an_affected_row(setup):
    kg, model = setup
    rows = to_triples(kg.train)
    request = rows[:5]
    meu = MetaEU(model, kg, progress=False, mode='regenerate')
    a = meu.unlearn(request)
    poisoned = copy.deepcopy(model)
    with torch.no_grad():
        poisoned.node_emb.weight[a.record.affected] = torch.randn(
            a.record.affected.numel(), 32) * 50
    b = MetaEU(poisoned, kg, progress=False, mode='regenerate').unlearn(
        request)
    assert torch.allclose(a.model.node_emb.weight, b.model.node_emb.weight)
    # Correction mode does read them (it starts from the trained rows).
    c = MetaEU(poisoned, kg, progress=False).unlearn(request)
    assert not torch.allclose(a.model.node_emb.weight[a.record.affected],
                              c.model.node_emb.weight[a.record.affected])


def test_an_entity_that_lost_every_triple_is_regenerated(setup):
    kg, model = setup
    rows = to_triples(kg.train)
    e = int(rows[0, 0])
    poisoned = copy.deepcopy(model)
    with torch.no_grad():  # another row of the same norm
        poisoned.node_emb.weight[e] = -poisoned.node_emb.weight[e]
        poisoned.node_emb_im.weight[e] = poisoned.node_emb.weight[e]
    out = MetaEU(poisoned, kg, progress=False).unlearn(entities=[e])
    clean = MetaEU(model, kg, progress=False).unlearn(entities=[e])
    # The deleted entity's own row is rebuilt from its neighbours, so its
    # trained (here poisoned) row does not survive.
    assert torch.allclose(out.model.node_emb.weight[e],
                          clean.model.node_emb.weight[e], atol=1e-5)


def test_without_unseen_triples_correction_falls_back_to_leave_k_out(setup):
    kg, model = setup
    rows = to_triples(kg.train)
    meu = MetaEU(model, kg.train, progress=False)
    assert not meu.has_reference()
    res = meu.unlearn(rows[:20])
    changed = (res.model.node_emb.weight != model.node_emb.weight).any(1)
    assert bool(changed.any())
    with pytest.raises(ValueError, match='unseen triples'):
        meu.score_reference()


def test_the_learning_free_references(setup):
    from torch_geometric_unlearn.metaeu import LeaveKOut, NeighbourMean
    from torch_geometric_unlearn.unlearner import get_method
    kg, model = setup
    rows = to_triples(kg.train)[:30]
    assert get_method('leave_k_out') is LeaveKOut
    lko = LeaveKOut(model, kg, step=2.0).unlearn(rows)
    one = LeaveKOut(model, kg, step=1.0).unlearn(rows)
    aff = lko.record.affected
    moved = (lko.model.node_emb.weight != model.node_emb.weight).any(1)
    assert set(moved.nonzero().view(-1).tolist()) <= set(aff.tolist())
    d2 = (lko.model.node_emb.weight[aff] - model.node_emb.weight[aff]).norm()
    d1 = (one.model.node_emb.weight[aff] - model.node_emb.weight[aff]).norm()
    assert float(d2) == pytest.approx(2 * float(d1), rel=1e-4)
    nm = NeighbourMean(model, kg).unlearn(rows)
    same = MetaEU(model, kg, progress=False, mode='regenerate').unlearn(rows)
    assert torch.equal(nm.model.node_emb.weight, same.model.node_emb.weight)
    assert nm.record.method == 'neighbour_mean'


def test_refinement_with_nothing_retained_around_the_request():
    # Entities 0 and 1 share their only triple; forgetting it leaves them
    # nothing retained, and refinement has nothing to step on.
    from torch_geometric.data import Data
    edges = torch.tensor([[0, 2, 3, 4, 5, 2], [1, 3, 4, 5, 2, 4]])
    data = Data(edge_index=edges, edge_type=torch.zeros(6, dtype=torch.long),
                num_nodes=6, num_relations=1)
    model = load_kge_model('transe', 6, 1, 4)
    meu = MetaEU(model, data, progress=False)
    res = meu.unlearn(torch.tensor([[0, 0, 1]]), refine_steps=3)
    assert res.record.affected.tolist() == [0, 1]
    assert torch.isfinite(res.model.node_emb.weight).all()


def test_the_newton_solver_meets_the_targets_to_first_order(setup):
    from torch_geometric_unlearn.metaeu.calibration import calibrate_newton
    kg, model = setup
    sc = get_scorer(model)
    rows = to_triples(kg.train)
    forget = rows[:6]
    affected = torch.unique(forget[:, [0, 2]])
    nb = rows[6:400]
    nb = nb[torch.isin(nb[:, 0], affected) | torch.isin(nb[:, 2], affected)]
    with torch.no_grad():
        reps = sc.represent(sc.param_rows(torch.arange(kg.num_entities)))
        s_f = triple_scores(sc, reps, forget)
        anchor = triple_scores(sc, reps, nb)
    targets = s_f - 1.0  # ask each forgotten triple to drop by one unit
    new = calibrate_newton(sc, affected, reps[affected], forget, targets, nb,
                           anchor, iterations=4)
    moved = reps.clone()
    moved[affected] = new
    after_f = triple_scores(sc, moved, forget)
    after_n = triple_scores(sc, moved, nb)
    assert torch.allclose(after_f, targets, atol=0.05)
    assert (after_n - anchor).abs().max() < 0.05
    meu = MetaEU(model, kg, progress=False, calibrate_solver='newton')
    res = meu.unlearn(rows[:20])
    assert torch.isfinite(res.model.node_emb.weight).all()
    with pytest.raises(ValueError, match='calibrate_solver'):
        MetaEU(model, kg, progress=False, calibrate_solver='sgd')


def test_triples_of_a_deleted_entity_get_no_unseen_target(setup):
    # A model retrained without an entity scores its triples like those of
    # an unknown entity, not like unseen triples: the calibration leaves
    # them alone, so the neighbours keep their trained rows.
    kg, model = setup
    rows = to_triples(kg.train)
    e = int(rows[0, 0])
    res = MetaEU(model, kg, progress=False).unlearn(entities=[e])
    others = res.record.affected[res.record.affected != e]
    assert others.numel() > 0
    assert torch.equal(res.model.node_emb.weight[others],
                       model.node_emb.weight[others])
    assert not torch.equal(res.model.node_emb.weight[e],
                           model.node_emb.weight[e])


def test_a_reference_without_linked_pairs_gives_them_no_target(setup):
    kg, model = setup
    rows = to_triples(kg.train)
    n = kg.num_entities
    pairs = set((rows[:, 0] * n + rows[:, 2]).tolist()) | \
        set((rows[:, 2] * n + rows[:, 0]).tolist())
    valid = to_triples(kg.valid)
    linked = torch.tensor([int(h) * n + int(t) in pairs
                           for h, _, t in valid.tolist()])
    sc = get_scorer(model)
    ref = ScoreReference(sc, rows, valid[~linked], kg.num_relations)
    assert ref.linked_share == 0.0
    # Its training side is the unlinked training triples alone.
    r = next(iter(ref.unseen))
    assert ref.linked_weight[r] == 0.0 and ref.train_linked[r].numel() > 0
    x = ref.train_linked[r]
    assert torch.equal(ref.quantiles(r, x), torch.searchsorted(
        ref.train[r], x).double() / ref.train[r].numel())
    # A reference saved before the weighting maps against what it holds.
    old = {k: v for k, v in ref.state_dict().items()
           if k not in ('train_linked', 'linked_weight',
                        'pooled_train_linked', 'pooled_linked_weight')}
    assert torch.equal(ScoreReference.from_state(old).quantiles(r, x),
                       ref.quantiles(r, x))
    assert ScoreReference(sc, rows, valid[linked],
                          kg.num_relations).linked_share == 1.0
    # Forgotten triples whose entities another retained triple links.
    keys = rows[:, 0] * n + rows[:, 2]
    rev = rows[:, 2] * n + rows[:, 0]
    twice = torch.isin(keys, rev) | (torch.bincount(
        torch.unique(keys, return_inverse=True)[1])[
            torch.unique(keys, return_inverse=True)[1]] > 1)
    request = rows[twice][:5]
    meu = MetaEU(model, kg, progress=False, reference=valid[~linked],
                 calibrate_linked='skip')
    res = meu.unlearn(request)
    assert torch.equal(res.model.node_emb.weight, model.node_emb.weight)
    with_links = MetaEU(model, kg, progress=False).unlearn(request)
    assert not torch.equal(with_links.model.node_emb.weight,
                           model.node_emb.weight)
    # With the rules (the default) they get targets between their trained
    # score and the unseen one, and their rows move.
    rules = MetaEU(model, kg, progress=False, reference=valid[~linked])
    assert rules.score_reference().link_confidence is not None
    moved = rules.unlearn(request)
    assert not torch.equal(moved.model.node_emb.weight,
                           model.node_emb.weight)
    sc0 = get_scorer(model)
    ref_rules = rules.score_reference()
    with torch.no_grad():
        trained = triple_scores(sc0, None, request, lambda i: sc0.represent(
            sc0.param_rows(i)))
        unseen = ref_rules.targets(request[:, 1], trained)
        got = ref_rules.linked_targets(request, trained, unseen, rows)
    low, high = torch.minimum(unseen, trained), torch.maximum(unseen,
                                                              trained)
    assert bool(((got >= low - 1e-6) & (got <= high + 1e-6)).all())


def test_link_confidence_against_counting():
    from torch_geometric_unlearn.metaeu.calibration import link_confidence
    g = torch.Generator().manual_seed(0)
    n, R = 12, 3
    triples = torch.unique(torch.stack([
        torch.randint(n, (150, ), generator=g),
        torch.randint(R, (150, ), generator=g),
        torch.randint(n, (150, ), generator=g)], 1), dim=0)
    got = link_confidence(triples, n, R)
    facts = set(map(tuple, triples.tolist()))
    for code in range(2 * R):
        rp = code % R
        pairs = [(h, t) for h, r, t in facts if r == rp] if code < R else \
            [(t, h) for h, r, t in facts if r == rp]
        pairs = set(pairs)
        for r in range(R):
            hit = sum(1 for h, t in pairs if (h, r, t) in facts and
                      not (code == r))
            want = hit / max(len(pairs), 1)
            assert float(got[code, r]) == pytest.approx(want), (code, r)


def test_link_confidence_samples_whole_pairs():
    from torch_geometric_unlearn.metaeu.calibration import link_confidence
    # Every pair has relations 0 and 1: the rule 0 => 1 always holds. A
    # sample of triples would see it hold for about half of the pairs; a
    # sample of pairs, always.
    h = torch.arange(0, 4000, 2)
    t = h + 1
    triples = torch.cat([torch.stack([h, torch.zeros_like(h), t], 1),
                         torch.stack([h, torch.ones_like(h), t], 1)])
    got = link_confidence(triples, 4001, 2, max_triples=1000)
    assert float(got[0, 1]) == 1.0 and float(got[1, 0]) == 1.0
    assert float(got[0, 0]) == 0.0  # a triple is no evidence for itself


def test_linked_targets_take_the_noisy_or_of_the_rules(setup):
    kg, model = setup
    sc = get_scorer(model)
    rows = to_triples(kg.train)
    ref = ScoreReference(sc, rows, to_triples(kg.valid), kg.num_relations)
    R = kg.num_relations
    conf = torch.zeros(2 * R, R)
    conf[1, 0] = 0.5       # (h, 1, t) => (h, 0, t)
    conf[R + 2, 0] = 0.2   # (t, 2, h) => (h, 0, t)
    ref.link_confidence = conf
    forget = torch.tensor([[5, 0, 9], [6, 0, 7], [8, 0, 3]])
    retained = torch.tensor([[5, 1, 9], [9, 2, 5], [6, 2, 7], [1, 1, 2]])
    trained = torch.tensor([3.0, 3.0, 3.0])
    unseen = torch.tensor([1.0, 1.0, 1.0])
    got = ref.linked_targets(forget, trained, unseen, retained)
    rho = torch.tensor([1 - 0.5 * 0.8, 0.0, 0.0])  # (6,2,7) is no rule
    assert torch.allclose(got, unseen + rho * (trained - unseen))
    # Against a loop over every forgotten and retained pair, on random
    # triples (most retained ones touch at most one forgotten entity).
    g = torch.Generator().manual_seed(7)
    conf = torch.rand(2 * R, R, generator=g) * 0.5
    ref.link_confidence = conf
    forget = torch.stack([torch.randint(40, (30, ), generator=g),
                          torch.randint(R, (30, ), generator=g),
                          torch.randint(40, (30, ), generator=g)], 1)
    # Reversed pairs, the same pairs under another relation, and noise.
    retained = torch.cat([forget[:15][:, [2, 1, 0]], forget[15:25],
                          torch.stack([
                              torch.randint(60, (300, ), generator=g),
                              torch.randint(R, (300, ), generator=g),
                              torch.randint(60, (300, ), generator=g)], 1)])
    retained[15:25, 1] = (retained[15:25, 1] + 1) % R
    trained = torch.randn(30, generator=g)
    unseen = torch.randn(30, generator=g)
    got = ref.linked_targets(forget, trained, unseen, retained)
    want = unseen.clone()
    for j, (h, r, t) in enumerate(forget.tolist()):
        keep = 1.0
        for h2, r2, t2 in retained.tolist():
            if (h2, t2) == (h, t):
                keep *= 1 - float(conf[r2, r])
            if (h2, t2) == (t, h):
                keep *= 1 - float(conf[R + r2, r])
        want[j] = unseen[j] + (1 - keep) * (trained[j] - unseen[j])
    assert not torch.allclose(want, unseen)
    assert torch.allclose(got, want, atol=1e-5)


@pytest.mark.parametrize('name,kwargs', [
    ('transe', dict(p_norm=2.0)), ('rotate', {}), ('distmult', {}),
    ('complex', {})])
def test_fast_anchors_score_like_the_model(name, kwargs):
    from torch_geometric_unlearn.metaeu.calibration import (anchor_factors,
                                                            calibrate,
                                                            fast_score)
    torch.manual_seed(0)
    model = load_kge_model(name, 30, 4, 8, **kwargs)
    sc = get_scorer(model)
    g = torch.Generator().manual_seed(1)
    triples = torch.stack([torch.randint(30, (200, ), generator=g),
                           torch.randint(4, (200, ), generator=g),
                           torch.randint(30, (200, ), generator=g)], 1)
    from torch_geometric_unlearn.metaeu.calibration import Positions
    affected = torch.arange(0, 30, 3).flip(0)  # any order
    pos = Positions(affected)
    assert pos[torch.tensor([27, 1, 0, 3])].tolist() == [0, -1, 9, 8]
    with torch.no_grad():
        reps = sc.represent(sc.param_rows(torch.arange(30)))
        delta = 0.3 * torch.randn(affected.numel(), reps.size(1),
                                  generator=g)
        moved = reps.clone()
        moved[affected] = sc.represent(reps[affected] + delta)
        factors = anchor_factors(sc, pos, reps[affected], triples)
        kind, ent, vec, base, slow = factors
        one_end = (pos[triples[:, 0]] >= 0) != (pos[triples[:, 2]] >= 0)
        assert torch.equal(slow, ~one_end) and ent.numel() == one_end.sum()
        # Against the model's own score of the moved rows.
        want = triple_scores(sc, moved, triples[one_end])
        got = fast_score(sc, factors, moved[affected] - reps[affected])
        assert torch.allclose(got, want, atol=1e-4)
        value, dvalue = fast_score(sc, factors,
                                   moved[affected] - reps[affected],
                                   grad=True)
    # The closed-form gradient against autograd through the model.
    d = (moved[affected] - reps[affected]).clone().requires_grad_()
    auto = fast_score(sc, factors, d).sum()
    auto.backward()
    manual = torch.zeros_like(d).index_add_(0, ent, dvalue)
    assert torch.allclose(d.grad, manual, atol=1e-4)
    # The calibration gives the same rows with fast and exact anchors.
    forget, nb = triples[:10], triples[10:]
    with torch.no_grad():
        targets = triple_scores(sc, reps, forget) - 0.5
        anchor = triple_scores(sc, reps, nb)
    out = [calibrate(sc, affected, reps[affected], forget, targets, nb,
                     anchor, steps=20, anchors=a) for a in ('fast', 'exact')]
    assert not torch.allclose(out[0], reps[affected])
    assert torch.allclose(out[0], out[1], atol=1e-4)


def test_fast_anchors_fall_back_where_there_is_no_closed_form():
    from torch_geometric_unlearn.metaeu.calibration import (anchor_factors,
                                                            calibrate)
    model = load_kge_model('transe', 10, 2, 4, p_norm=1.0)
    sc = get_scorer(model)
    from torch_geometric_unlearn.metaeu.calibration import Positions
    ids = torch.arange(10)
    reps = sc.represent(sc.param_rows(ids))
    assert anchor_factors(sc, Positions(ids), reps,
                          torch.tensor([[0, 0, 1]])) is None
    with pytest.raises(ValueError, match="anchors"):
        calibrate(sc, ids, reps, torch.tensor([[0, 0, 1]]),
                  torch.zeros(1), torch.tensor([[1, 1, 2]]), torch.zeros(1),
                  anchors='linear')


@pytest.mark.parametrize('name,kwargs', [
    ('transe', dict(p_norm=2.0)), ('rotate', {}), ('distmult', {}),
    ('complex', {})])
def test_the_closed_form_engine_follows_autograd(name, kwargs):
    # The hand-written gradients and Adam give the rows autograd and
    # torch.optim.Adam give, forgotten, slow (two affected ends) and fast
    # anchors, the proximal term and frozen rows included.
    from torch_geometric_unlearn.metaeu.calibration import calibrate
    torch.manual_seed(0)
    model = load_kge_model(name, 30, 4, 8, **kwargs)
    sc = get_scorer(model)
    g = torch.Generator().manual_seed(2)
    triples = torch.stack([torch.randint(30, (150, ), generator=g),
                           torch.randint(4, (150, ), generator=g),
                           torch.randint(30, (150, ), generator=g)], 1)
    affected = torch.arange(0, 30, 2)
    free = torch.rand(affected.numel(), generator=g) > 0.2
    with torch.no_grad():
        reps = sc.represent(sc.param_rows(torch.arange(30)))
        forget, nb = triples[:12], triples[12:]
        targets = triple_scores(sc, reps, forget) - 0.7
        anchor = triple_scores(sc, reps, nb)
    kw = dict(steps=25, free=free, prox=0.3)
    out = {e: calibrate(sc, affected, reps[affected], forget, targets, nb,
                        anchor, engine=e, **kw)
           for e in ('auto', 'autograd')}
    assert not torch.allclose(out['auto'], reps[affected], atol=1e-3)
    assert torch.allclose(out['auto'], out['autograd'], atol=1e-4)
    assert torch.equal(out['auto'][~free], reps[affected][~free])
    # Without PyTorch's fused Adam kernel the hand update gives the same.
    from torch_geometric_unlearn.metaeu import calibration as cal
    assert cal._FUSED_ADAM is not None  # the kernel this build has
    fused, cal._FUSED_ADAM = cal._FUSED_ADAM, None
    try:
        by_hand = calibrate(sc, affected, reps[affected], forget, targets,
                            nb, anchor, engine='auto', **kw)
    finally:
        cal._FUSED_ADAM = fused
    assert torch.allclose(by_hand, out['auto'], atol=1e-5)
    assert torch.equal(by_hand[~free], reps[affected][~free])
    # In blocks of a few triples (a large request's path) the same rows,
    # and the same scores.
    block, cal.BLOCK = cal.BLOCK, 7
    try:
        blocked = calibrate(sc, affected, reps[affected], forget, targets,
                            nb, anchor, engine='auto', **kw)
        blocked_scores = triple_scores(sc, reps, nb)
        looked_up = triple_scores(sc, None, nb, lambda i: reps[i])
    finally:
        cal.BLOCK = block
    assert nb.size(0) > 7 * 10
    assert torch.allclose(blocked, out['auto'], atol=1e-5)
    assert torch.equal(blocked_scores, anchor)
    assert torch.allclose(looked_up, anchor, atol=1e-6)
    with pytest.raises(ValueError, match='engine'):
        calibrate(sc, affected, reps[affected], forget, targets, nb, anchor,
                  engine='jit')
    # The caller's start scores (here as the engine scores its start
    # rows: TransE maps them onto the sphere again): the same rows; a wrong
    # count is refused.
    own = torch.zeros(30, dtype=torch.bool)
    own[affected] = True

    def at_start(i):
        return torch.where(own[i][:, None], sc.represent(reps[i]), reps[i])
    start = triple_scores(sc, None, torch.cat([forget, nb]), at_start)
    given = calibrate(sc, affected, reps[affected], forget, targets, nb,
                      anchor, start_scores=start, **kw)
    assert torch.allclose(given, out['auto'], atol=1e-5)
    with pytest.raises(ValueError, match='start_scores holds 3 scores'):
        calibrate(sc, affected, reps[affected], forget, targets, nb, anchor,
                  start_scores=start[:3], **kw)


def test_hand_adam_ignores_triples_without_an_affected_end():
    from torch_geometric_unlearn.metaeu.calibration import (Positions,
                                                            hand_adam)
    torch.manual_seed(0)
    sc = get_scorer(load_kge_model('rotate', 12, 3, 8))
    affected = torch.tensor([0, 3, 5])
    pos = Positions(affected)
    with torch.no_grad():
        start = sc.param_rows(affected)
        inner = torch.tensor([[0, 1, 3], [5, 2, 7], [9, 0, 3]])
        outer = torch.tensor([[8, 1, 9], [10, 2, 11]])
        goal = triple_scores(sc, None, inner, lambda i: sc.param_rows(i))
        goal = goal - torch.tensor([1.0, 0.5, 0.0])
        w = torch.ones(5)
        alone = hand_adam(sc, pos, start, inner, goal, w[:3], steps=10)
        mixed = hand_adam(sc, pos, start, torch.cat([inner, outer]),
                          torch.cat([goal, torch.tensor([3.0, -3.0])]), w,
                          steps=10)
    assert not torch.allclose(alone, start)
    assert torch.equal(alone, mixed)
    # A model without a closed form is refused.
    with pytest.raises(ValueError, match='closed form'):
        hand_adam(get_scorer(load_kge_model('transe', 12, 3, 8,
                                            p_norm=1.0)),
                  pos, start, inner, goal, w[:3])


@pytest.mark.parametrize('name,kwargs', [
    ('transe', dict(p_norm=2.0)), ('rotate', {}), ('distmult', {}),
    ('complex', {})])
def test_only_triples_with_two_affected_ends(name, kwargs):
    # Every triple has both ends affected (none has exactly one): the
    # closed form still runs, and gives the rows autograd gives.
    from torch_geometric_unlearn.metaeu.calibration import calibrate
    torch.manual_seed(0)
    sc = get_scorer(load_kge_model(name, 12, 3, 8, **kwargs))
    affected = torch.tensor([0, 2, 4, 6])
    forget = torch.tensor([[0, 1, 2], [4, 0, 6]])
    nb = torch.tensor([[2, 2, 4], [6, 1, 0], [0, 0, 4]])
    with torch.no_grad():
        reps = sc.represent(sc.param_rows(torch.arange(12)))
        targets = triple_scores(sc, reps, forget) - 0.5
        anchor = triple_scores(sc, reps, nb)
    out = {e: calibrate(sc, affected, reps[affected], forget, targets, nb,
                        anchor, engine=e, steps=15)
           for e in ('auto', 'autograd')}
    assert not torch.allclose(out['auto'], reps[affected], atol=1e-3)
    assert torch.allclose(out['auto'], out['autograd'], atol=1e-4)


def _random_request(name, kwargs, model_seed, data_seed, affected):
    r"""A seeded model on 30 entities and 4 relations, 150 random triples
    (12 forgotten, 138 anchors), the forgotten triples' targets 0.7 below
    their scores and the anchors' scores."""
    torch.manual_seed(model_seed)
    sc = get_scorer(load_kge_model(name, 30, 4, 8, **kwargs))
    g = torch.Generator().manual_seed(data_seed)
    triples = torch.stack([torch.randint(30, (150, ), generator=g),
                           torch.randint(4, (150, ), generator=g),
                           torch.randint(30, (150, ), generator=g)], 1)
    with torch.no_grad():
        reps = sc.represent(sc.param_rows(torch.arange(30)))
        forget, nb = triples[:12], triples[12:]
        targets = triple_scores(sc, reps, forget) - 0.7
        anchor = triple_scores(sc, reps, nb)
    return sc, affected, reps, forget, targets, nb, anchor


@pytest.mark.parametrize('name,kwargs', [
    ('transe', dict(p_norm=2.0)), ('rotate', {}), ('distmult', {}),
    ('complex', {})])
def test_anchor_batches_are_the_same_steps_in_both_engines(
        name, kwargs, monkeypatch):
    # With K anchor batches, step s holds the forgotten triples and the
    # anchors of batch s mod K at K times their weight: the closed-form
    # engine gives the rows autograd gives (fast and exact anchors alike),
    # and they differ from the rows of every anchor at every step.
    from torch_geometric_unlearn.metaeu import calibration as cal
    from torch_geometric_unlearn.metaeu.calibration import calibrate
    monkeypatch.setattr(cal, 'MIN_ANCHOR_BATCH', 1)
    sc, affected, reps, forget, targets, nb, anchor = _random_request(
        name, kwargs, 0, 3, torch.arange(0, 30, 2))
    kw = dict(steps=20, prox=0.1, anchor_batches=3, seed=5)
    out = {(e, a): calibrate(sc, affected, reps[affected], forget, targets,
                             nb, anchor, engine=e, anchors=a, **kw)
           for e, a in (('auto', 'fast'), ('autograd', 'fast'),
                        ('autograd', 'exact'))}
    ref = out['autograd', 'exact']
    for rows in out.values():
        assert torch.allclose(rows, ref, atol=1e-4)
    full = calibrate(sc, affected, reps[affected], forget, targets, nb,
                     anchor, steps=20, prox=0.1)
    assert not torch.allclose(full, ref, atol=1e-3)
    one = calibrate(sc, affected, reps[affected], forget, targets, nb,
                    anchor, steps=20, prox=0.1, anchor_batches=1, seed=5)
    assert torch.equal(one, full)
    # Another seed, another partition.
    other = calibrate(sc, affected, reps[affected], forget, targets, nb,
                      anchor, **dict(kw, seed=6))
    assert not torch.allclose(other, ref, atol=1e-4)
    with pytest.raises(ValueError, match='anchor_batches'):
        calibrate(sc, affected, reps[affected], forget, targets, nb, anchor,
                  anchor_batches=0)
    # Batches of fewer than MIN_ANCHOR_BATCH anchors are merged: 138
    # anchors in batches of at least 50 make 2 batches, not 3; of at least
    # 100, one (every anchor at every step).
    monkeypatch.setattr(cal, 'MIN_ANCHOR_BATCH', 50)
    assert torch.equal(calibrate(sc, affected, reps[affected], forget,
                                 targets, nb, anchor, **kw),
                       calibrate(sc, affected, reps[affected], forget,
                                 targets, nb, anchor,
                                 **dict(kw, anchor_batches=2)))
    monkeypatch.setattr(cal, 'MIN_ANCHOR_BATCH', 100)
    assert torch.equal(calibrate(sc, affected, reps[affected], forget,
                                 targets, nb, anchor, **kw), full)


@pytest.mark.parametrize('name,kwargs', [
    ('transe', dict(p_norm=2.0)), ('rotate', {}), ('distmult', {}),
    ('complex', {})])
def test_anchors_held_at_the_start_rows_need_no_scores(name, kwargs,
                                                       monkeypatch):
    # anchor=None: the anchors keep their scores at the start rows, which
    # the calibration scores itself; the same rows as the scores given, in
    # both engines and with anchor batches. Only entities with a forgotten
    # triple move (as in MetaEU): an entity held by anchors alone would
    # move on the rounding of given scores (Adam normalises its steps).
    from torch_geometric_unlearn.metaeu.calibration import calibrate
    sc, affected, reps, forget, targets, nb, anchor = _random_request(
        name, kwargs, 1, 4, torch.arange(1, 30, 2))
    free = torch.isin(affected, forget[:, [0, 2]])
    assert 0 < int(free.sum()) < affected.numel()
    from torch_geometric_unlearn.metaeu import calibration as cal
    monkeypatch.setattr(cal, 'MIN_ANCHOR_BATCH', 1)
    for kw in (dict(engine='auto'), dict(engine='autograd'),
               dict(engine='auto', anchor_batches=3)):
        given = calibrate(sc, affected, reps[affected], forget, targets, nb,
                          anchor, steps=15, free=free, **kw)
        held = calibrate(sc, affected, reps[affected], forget, targets, nb,
                         None, steps=15, free=free, **kw)
        assert not torch.allclose(held, reps[affected], atol=1e-3)
        assert torch.allclose(held, given, atol=1e-5)
    with pytest.raises(ValueError, match='start_scores'):
        calibrate(sc, affected, reps[affected], forget, targets, nb, None,
                  start_scores=torch.zeros(150))


def test_positions_match_a_dictionary_on_both_paths():
    # Few lookups go through a binary search, many through a table up to
    # the largest affected id; both give each id's position or -1.
    from torch_geometric_unlearn.metaeu.calibration import Positions
    g = torch.Generator().manual_seed(0)
    affected = torch.randperm(500, generator=g)[:40]
    where = {int(a): i for i, a in enumerate(affected)}
    pos = Positions(affected)
    few = torch.randint(600, (7, ), generator=g)
    many = torch.randint(600, (2000, ), generator=g)
    for ids in (few, many, few):
        expected = torch.tensor([where.get(int(i), -1) for i in ids])
        assert torch.equal(pos[ids], expected)
    assert pos._table is not None      # the many lookups built it
    assert torch.equal(Positions(affected[:0])[many],
                       torch.full_like(many, -1))


def test_interleave_is_view_as_real_of_the_halves():
    from torch_geometric_unlearn.metaeu.calibration import (deinterleave,
                                                            interleave)
    x = torch.randn(5, 3, 8)
    il = interleave(x)
    c = torch.complex(x[..., :4], x[..., 4:])
    assert torch.equal(il, torch.view_as_real(c).flatten(-2))
    assert torch.equal(deinterleave(il), x)
    assert interleave(torch.empty(0, 6)).shape == (0, 6)
