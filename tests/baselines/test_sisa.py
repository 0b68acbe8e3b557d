import copy

import pytest
import torch

from torch_geometric_unlearn.baselines import SISA, ShardEnsemble
from torch_geometric_unlearn.datasets import make_synthetic_kg, to_triples
from torch_geometric_unlearn.kge import (KGETrainer, LinkPredictionEvaluator,
                                         TrainConfig, load_kge_model)


@pytest.fixture(scope='module')
def kg():
    return make_synthetic_kg(num_entities=150, num_relations=8,
                             num_triples=1500, seed=4)


def _cfg():
    return TrainConfig(loss='softmax', epochs=3, lr=1e-2, batch_size=128,
                       num_negatives=32, shared_negatives=True, eval_every=0)


def test_sisa_retrains_only_touched_shards_exactly(kg):
    base = load_kge_model('distmult', kg.num_entities, kg.num_relations, 8)
    sisa = SISA(base, kg, num_shards=3, config=_cfg(), seed=5)
    with pytest.raises(RuntimeError):
        sisa.unlearn(to_triples(kg.train)[:1])
    ens = sisa.fit()
    assert isinstance(ens, ShardEnsemble) and len(ens.shards) == 3
    shard_of = sisa.data.shard.clone()
    before = copy.deepcopy(ens.state_dict())
    # Forget two triples of shard 0 only.
    ids = (shard_of == 0).nonzero().view(-1)[:2]
    forget = to_triples(kg.train)[ids]
    res = sisa.unlearn(forget)
    assert sisa.last_retrained.tolist() == [0]
    after = res.model.state_dict()
    for k, v in before.items():
        if not k.startswith('shards.0.'):
            assert torch.equal(v, after[k]), k  # untouched: bitwise equal
    assert not torch.equal(before['shards.0.node_emb.weight'],
                           after['shards.0.node_emb.weight'])
    # The touched shard equals a fresh training on its retained part.
    keep = (shard_of == 0)
    keep[ids] = False
    part = kg.train.edge_subgraph(keep.nonzero().view(-1))
    torch.manual_seed(5)
    ref = load_kge_model('distmult', kg.num_entities, kg.num_relations, 8)
    cfg = _cfg()
    cfg.seed = 5
    KGETrainer(ref, cfg, progress=False).fit(part)
    for k, v in ref.state_dict().items():
        assert torch.equal(v, after[f'shards.0.{k}']), k
    # The caller's previous ensemble is untouched and the shards follow the
    # retained triples.
    assert torch.equal(ens.state_dict()['shards.0.node_emb.weight'],
                       before['shards.0.node_emb.weight'])
    assert sisa.data.shard.numel() == kg.train.num_edges - 2


def test_sisa_ensemble_scores_and_evaluates(kg):
    base = load_kge_model('complex', kg.num_entities, kg.num_relations, 4)
    sisa = SISA(base, kg, num_shards=2, config=_cfg())
    ens = sisa.fit()
    t = to_triples(kg.test)[:10]
    want = (ens.shards[0](t[:, 0], t[:, 1], t[:, 2]) +
            ens.shards[1](t[:, 0], t[:, 1], t[:, 2])) / 2
    assert torch.allclose(ens(t[:, 0], t[:, 1], t[:, 2]), want)
    ev = LinkPredictionEvaluator(kg.num_entities, kg.num_relations,
                                 [kg.train, kg.valid, kg.test])
    assert 0.0 < ev.evaluate(ens, t)['mrr'] <= 1.0
    with pytest.raises(ValueError):
        SISA(base, kg, num_shards=0)


@pytest.mark.parametrize('name', ['transe', 'distmult', 'complex', 'rotate'])
def test_ensemble_scorer_matches_forward(name):
    from torch_geometric_unlearn.baselines import ShardEnsembleScorer
    from torch_geometric_unlearn.kge import (ForwardScorer, get_scorer,
                                             load_kge_model)
    torch.manual_seed(0)
    ens = ShardEnsemble([load_kge_model(name, 50, 6, 8) for _ in range(3)])
    fast, slow = get_scorer(ens).prepare(), ForwardScorer(ens)
    assert isinstance(fast, ShardEnsembleScorer)
    h, r, t = (torch.randint(n, (9, )) for n in (50, 6, 50))
    assert torch.allclose(fast.tails(h, r), slow.tails(h, r), atol=1e-5)
    assert torch.allclose(fast.heads(r, t), slow.heads(r, t), atol=1e-5)
    cand = torch.randint(50, (9, 4))
    assert torch.allclose(fast.tails(h, r, cand), slow.tails(h, r, cand),
                          atol=1e-5)
