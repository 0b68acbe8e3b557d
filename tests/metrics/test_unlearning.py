import copy

import pytest
import torch

from torch_geometric_unlearn.datasets import make_synthetic_kg, to_triples
from torch_geometric_unlearn.kge import TrainConfig, load_kge_model
from torch_geometric_unlearn.metrics import (membership_auc, ranking_gap,
                                             relearn_attack, retain_relearn,
                                             row_distance, triple_scores)


@pytest.fixture(scope='module')
def kg():
    return make_synthetic_kg(num_entities=200, num_relations=8,
                             num_triples=2000, seed=2)


@pytest.mark.parametrize('name', ['transe', 'distmult', 'complex', 'rotate'])
def test_triple_scores_match_forward(kg, name):
    torch.manual_seed(0)
    model = load_kge_model(name, kg.num_entities, kg.num_relations, 8)
    t = to_triples(kg.test)[:50]
    want = model(t[:, 0], t[:, 1], t[:, 2])
    assert torch.allclose(triple_scores(model, t), want, atol=1e-5)
    assert torch.allclose(triple_scores(model, kg.test)[:50], want,
                          atol=1e-5)


def test_membership_auc_matches_brute_force(kg, monkeypatch):
    torch.manual_seed(0)
    model = load_kge_model('distmult', kg.num_entities, kg.num_relations, 4)
    members, others = to_triples(kg.train)[:40], to_triples(kg.test)[:30]
    auc = membership_auc(model, members, others)
    p = triple_scores(model, members)
    n = triple_scores(model, others)
    brute = ((p[:, None] > n[None, :]).double()
             + 0.5 * (p[:, None] == n[None, :]).double()).mean()
    assert auc == pytest.approx(float(brute), abs=1e-9)
    # Ties count one half: identical sets give exactly 0.5.
    assert membership_auc(model, members, members) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        membership_auc(model, members, torch.empty(0, 3, dtype=torch.long))
    with pytest.raises(ValueError):
        membership_auc(model, members[:, :2], others)


def test_relearn_attack_recovers_forgotten_triples(kg):
    torch.manual_seed(0)
    model = load_kge_model('complex', kg.num_entities, kg.num_relations, 16)
    before = copy.deepcopy(model.state_dict())
    forget = to_triples(kg.train)[:60]
    out = relearn_attack(model, forget, kg.num_entities, kg.num_relations,
                         [kg.valid, kg.test], fraction=0.5, epochs=30)
    assert out['num_attack'] == 30 and out['num_eval'] == 30
    # Training on half of the forget set lifts the other half (the synthetic
    # KG's patterns generalise) -- and the caller's model is untouched.
    assert out['after'] > out['before']
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    with pytest.raises(ValueError):
        relearn_attack(model, forget[:1], kg.num_entities, kg.num_relations,
                       [kg.test])
    with pytest.raises(ValueError):
        relearn_attack(model, forget, kg.num_entities, kg.num_relations,
                       [kg.test], fraction=1.0)


def test_row_distance_and_gap(kg):
    torch.manual_seed(0)
    a = load_kge_model('rotate', kg.num_entities, kg.num_relations, 4)
    b = copy.deepcopy(a)
    assert row_distance(a, b) == 0.0
    with torch.no_grad():
        b.node_emb.weight[3] += 3.0  # 4 coordinates: distance 6 for row 3
    assert row_distance(a, b, torch.tensor([3])) == pytest.approx(6.0)
    assert row_distance(a, b) == pytest.approx(6.0 / kg.num_entities)
    with pytest.raises(ValueError):
        row_distance(a, b, torch.tensor([], dtype=torch.long))
    gap = ranking_gap({'mrr': 0.3, 'hits@10': 0.5, 'count': 10},
                      {'mrr': 0.4, 'hits@10': 0.5, 'count': 10})
    assert gap == {'mrr': pytest.approx(-0.1), 'hits@10': 0.0}


def test_shadow_attack(kg):
    from torch_geometric_unlearn.kge import KGETrainer, TrainConfig
    from torch_geometric_unlearn.metrics import shadow_attack_auc
    triples = to_triples(kg.train)
    half = triples.size(0) // 2
    shadow_in, target_in = triples[:half], triples[half:]

    def train(t, seed):
        torch.manual_seed(seed)
        m = load_kge_model('distmult', kg.num_entities, kg.num_relations, 32)
        data = type(kg.train)(edge_index=t[:, [0, 2]].t(), edge_type=t[:, 1],
                              num_nodes=kg.num_entities,
                              num_relations=kg.num_relations)
        cfg = TrainConfig(loss='softmax', epochs=25, lr=2e-2,
                          batch_size=256, eval_every=0, seed=seed)
        KGETrainer(m, cfg, progress=False).fit(data)
        return m.eval()

    shadow, target = train(shadow_in, 1), train(target_in, 2)
    test = to_triples(kg.test)
    # An over-fitted target leaks membership; the attacker learnt on the
    # shadow model finds it (well above chance), a random model does not.
    auc = shadow_attack_auc(target, target_in[:200], test, shadow,
                            shadow_in[:200], test)
    assert auc > 0.65
    torch.manual_seed(9)
    fresh = load_kge_model('distmult', kg.num_entities, kg.num_relations, 32)
    rnd = shadow_attack_auc(fresh, target_in[:200], test, shadow,
                            shadow_in[:200], test)
    assert abs(rnd - 0.5) < 0.1
    with pytest.raises(ValueError):
        shadow_attack_auc(target, target_in, test, shadow,
                          shadow_in[:0], test)


def test_retain_relearn_trains_on_retained_triples_only(kg):
    torch.manual_seed(0)
    model = load_kge_model('distmult', kg.num_entities, kg.num_relations, 16)
    before = copy.deepcopy(model.state_dict())
    triples = to_triples(kg.train)
    forget, retained = triples[:60], triples[60:]
    cfg = TrainConfig(loss='softmax', lr=3e-2, batch_size=256)
    out = retain_relearn(model, forget, retained, kg.num_entities,
                         kg.num_relations, [kg.valid, kg.test], epochs=10,
                         config=cfg)
    assert out['num_train'] == retained.size(0)
    # The retained triples imply much of the forget set (the synthetic KG's
    # patterns), so training on them alone lifts its MRR.
    assert out['after'] > out['before'] + 0.1
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])
    again = retain_relearn(model, forget, retained, kg.num_entities,
                           kg.num_relations, [kg.valid, kg.test], epochs=10,
                           config=cfg)
    assert again == out  # seeded
    few = retain_relearn(model, forget, retained, kg.num_entities,
                         kg.num_relations, [kg.valid, kg.test], epochs=1,
                         max_triples=500)
    assert few['num_train'] == 500 and few['before'] == out['before']
    with pytest.raises(ValueError):
        retain_relearn(model, forget, retained, kg.num_entities,
                       kg.num_relations, [kg.test], epochs=0)
