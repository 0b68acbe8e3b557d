import copy

import pytest
import torch

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.baselines import (FineTune, GradientAscent,
                                               Retrain, Unlearner)
from torch_geometric_unlearn.datasets import (make_synthetic_kg, to_triples,
                                              triple_keys)
from torch_geometric_unlearn.kge import (KGETrainer, TrainConfig,
                                         load_kge_model)
from torch_geometric_unlearn.metrics import triple_scores
from torch_geometric_unlearn.transforms import ForgetTriples


@pytest.fixture(scope='module')
def kg():
    return make_synthetic_kg(num_entities=200, num_relations=8,
                             num_triples=2000, seed=3)


@pytest.fixture(scope='module')
def trained(kg):
    torch.manual_seed(0)
    model = load_kge_model('distmult', kg.num_entities, kg.num_relations, 16)
    cfg = TrainConfig(loss='softmax', epochs=20, lr=1e-2, batch_size=256,
                      num_negatives=64, shared_negatives=True, eval_every=0)
    KGETrainer(model, cfg, progress=False).fit(kg.train)
    return model.eval(), cfg


def _keys(t, kg):
    return triple_keys(t[:, 0], t[:, 1], t[:, 2], kg.num_entities,
                       kg.num_relations)


def test_interface(kg, trained):
    model, cfg = trained
    for cls in (Retrain, FineTune, GradientAscent):
        assert issubclass(cls, Unlearner)
    assert isinstance(MetaEU(model, kg, progress=False), Unlearner)
    with pytest.raises(ValueError):
        Retrain(load_kge_model('transe', kg.num_entities + 1,
                               kg.num_relations, 4), kg)
    with pytest.raises(ValueError):
        FineTune(model, kg, epochs=0)
    with pytest.raises(ValueError):
        GradientAscent(model, kg, lr=0)
    with pytest.raises(ValueError):
        FineTune(model, kg).unlearn()


def test_retrain_never_sees_a_forgotten_triple(kg, trained, monkeypatch):
    model, cfg = trained
    forget = to_triples(kg.train)[:25]
    seen = []
    original_fit = KGETrainer.fit

    def spy(self, train, *args, **kwargs):
        seen.append(to_triples(train))
        return original_fit(self, train, *args, **kwargs)

    monkeypatch.setattr(KGETrainer, 'fit', spy)
    res = Retrain(model, kg, config=cfg, seed=1).unlearn(forget)
    assert len(seen) == 1
    assert not torch.isin(_keys(forget, kg), _keys(seen[0], kg)).any()
    assert seen[0].size(0) == kg.train.num_edges - 25
    # It is exactly a from-scratch training on the retained graph.
    torch.manual_seed(1)
    ref = load_kge_model('distmult', kg.num_entities, kg.num_relations, 16)
    original_fit(KGETrainer(ref, copy.deepcopy(cfg), progress=False),
                 ForgetTriples(triples=forget)(kg.train))
    for k, v in ref.state_dict().items():
        assert torch.equal(v, res.model.state_dict()[k]), k


def test_gradient_ascent_lowers_forget_scores(kg, trained):
    model, cfg = trained
    before = copy.deepcopy(model.state_dict())
    forget = to_triples(kg.train)[:40]
    retain = to_triples(kg.train)[40:400]
    ga = GradientAscent(model, kg, steps=30, lr=1e-2, config=cfg)
    res = ga.unlearn(forget)
    drop_f = (triple_scores(model, forget) -
              triple_scores(res.model, forget)).mean()
    drop_r = (triple_scores(model, retain) -
              triple_scores(res.model, retain)).mean()
    assert drop_f > 0 and drop_f > drop_r
    for k, v in model.state_dict().items():  # caller's model untouched
        assert torch.equal(v, before[k])
    assert res.record.num_forget == 40 and res.data.num_edges == \
        kg.train.num_edges - 40


def test_finetune_sequential_and_inplace(kg, trained):
    model, cfg = trained
    ft = FineTune(copy.deepcopy(model), kg, epochs=1, config=cfg)
    mine = ft.model
    r1 = ft.unlearn(to_triples(kg.train)[:5])
    assert r1.model is not mine and ft.model is r1.model
    assert not torch.equal(r1.model.node_emb.weight, mine.node_emb.weight)
    r2 = ft.unlearn(entities=[int(r1.data.edge_index[0, 0])], inplace=True)
    assert r2.model is r1.model and len(ft.records) == 2
    with pytest.raises(ValueError):  # already forgotten
        ft.unlearn(to_triples(kg.train)[:1])


def test_ssd_only_dampens_forget_specific_parameters(kg, trained):
    from torch_geometric_unlearn.baselines import SSD
    model, cfg = trained
    triples = to_triples(kg.train)
    forget = triples[triples[:, 1] < 3][:30]  # three relations only
    ssd = SSD(model, kg, alpha=10.0, config=cfg)
    res = ssd.unlearn(forget)
    assert ssd.dampened > 0
    new, old = res.model.state_dict(), model.state_dict()
    changed = 0
    for k in old:
        # Parameters are only ever scaled towards zero, never grown or
        # moved elsewhere.
        assert bool((new[k].abs() <= old[k].abs() + 1e-7).all()), k
        assert bool(((new[k] * old[k]) >= 0).all()), k
        changed += int((new[k] != old[k]).sum())
    assert 0 < changed <= ssd.dampened
    # Relations outside the forget set get no forget gradient, so their
    # rows cannot be selected.
    other = torch.ones(kg.num_relations, dtype=torch.bool)
    other[forget[:, 1]] = False
    assert bool(other.any())
    assert torch.equal(new['rel_emb.weight'][other],
                       old['rel_emb.weight'][other])
    drop = (triple_scores(model, forget) -
            triple_scores(res.model, forget)).mean()
    assert drop > 0
    with pytest.raises(ValueError):
        SSD(model, kg, alpha=0)


def test_distill_moves_forget_scores_toward_the_bad_teacher(kg, trained):
    from torch_geometric_unlearn.baselines import Distill
    model, cfg = trained
    triples = to_triples(kg.train)
    forget, retain = triples[:30], triples[30:330]
    res = Distill(model, kg, steps=60, lr=1e-2, seed=3).unlearn(forget)
    torch.manual_seed(3)  # the bad teacher: a fresh model, seed 3
    bad = load_kge_model('distmult', kg.num_entities, kg.num_relations, 16)

    def dist(a, b, t):
        return (triple_scores(a, t) - triple_scores(b, t)).abs().mean()

    # Forgotten triples now score like an untrained model's; retained ones
    # stay much closer to the original than to it.
    assert dist(res.model, bad, forget) < 0.5 * dist(model, bad, forget)
    assert dist(res.model, model, retain) < dist(res.model, bad, retain)
    with pytest.raises(ValueError):
        Distill(model, kg, alpha=-1)


def test_gnndelete_operator(kg, trained):
    from torch_geometric_unlearn.baselines import GNNDelete
    model, cfg = trained
    triples = to_triples(kg.train)
    forget = triples[:20]
    gd = GNNDelete(model, kg, num_hops=0, steps=80, lr=1e-2, lam=0.5)
    res = gd.unlearn(forget)
    ents = torch.unique(torch.cat([forget[:, 0], forget[:, 2]]))
    assert torch.equal(gd.neighbourhood, ents)
    other = torch.ones(kg.num_entities, dtype=torch.bool)
    other[ents] = False
    new, old = res.model.node_emb.weight, model.node_emb.weight
    assert torch.equal(new[other], old[other])  # only the neighbourhood
    assert not torch.equal(new[ents], old[ents])
    assert torch.equal(res.model.rel_emb.weight, model.rel_emb.weight)
    # Forgotten triples fall toward random-triple scores.
    g = torch.Generator().manual_seed(0)
    rnd = forget.clone()
    rnd[:, 2] = torch.randint(kg.num_entities, (20, ), generator=g)
    gap_before = (triple_scores(model, forget) -
                  triple_scores(model, rnd)).mean()
    gap_after = (triple_scores(res.model, forget) -
                 triple_scores(res.model, rnd)).mean()
    assert gap_after < 0.5 * gap_before
    assert all(p.requires_grad for p in res.model.parameters())
    with pytest.raises(ValueError):
        GNNDelete(model, kg, lam=2.0)
