r"""A PyG user's own KGE model: trained with exactly PyG's loop
(``model.loader`` / ``model.loss`` / an optimiser, as in PyG's
``examples/kge_fb15k_237.py``), on splits shaped like PyG's ``FB15k_237``
data (``edge_index``, ``edge_type``, ``num_nodes``; no ``num_relations``),
with no checkpoint or trainer of this package, then evaluated and unlearned
by it."""
import pytest
import torch
from torch_geometric.data import Data
from torch_geometric.nn.kge import ComplEx, DistMult, RotatE, TransE

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.baselines import (FineTune, GradientAscent,
                                               Retrain)
from torch_geometric_unlearn.datasets import make_synthetic_kg
from torch_geometric_unlearn.kge import (LinkPredictionEvaluator,
                                         TrainConfig, make_optimizer)
from torch_geometric_unlearn.metaeu import LeaveKOut
from torch_geometric_unlearn.transforms import sample_forget_set

MODELS = {
    'transe': (TransE, dict(margin=1.0)),
    'rotate': (RotatE, dict(margin=6.0)),
    'distmult': (DistMult, {}),
    'complex': (ComplEx, {}),
}
# Entity tables every model keeps (ComplEx and RotatE have an imaginary
# one); relation tables are never rewritten by a row-wise method.
ENTITY_TABLES = ('node_emb', 'node_emb_im')


def pyg_split(split: Data) -> Data:
    r"""A split as PyG's FB15k_237 returns it: no ``num_relations``."""
    return Data(edge_index=split.edge_index.clone(),
                edge_type=split.edge_type.clone(),
                num_nodes=int(split.num_nodes))


@pytest.fixture(scope='module')
def splits():
    kg = make_synthetic_kg(num_entities=120, num_relations=8,
                           num_triples=1500, seed=0)
    return tuple(pyg_split(kg[s]) for s in ('train', 'valid', 'test'))


def train_pyg(cls, train: Data, sparse: bool = False, epochs: int = 8,
              **kwargs) -> torch.nn.Module:
    r"""PyG's own training loop, nothing of this package."""
    torch.manual_seed(0)
    model = cls(num_nodes=train.num_nodes,
                num_relations=train.num_edge_types, hidden_channels=16,
                sparse=sparse, **kwargs)
    loader = model.loader(head_index=train.edge_index[0],
                          rel_type=train.edge_type,
                          tail_index=train.edge_index[1], batch_size=128,
                          shuffle=True)
    optimizer = (torch.optim.SparseAdam(list(model.parameters()), lr=0.01)
                 if sparse else torch.optim.Adam(model.parameters(),
                                                 lr=0.01))
    for _ in range(epochs):
        model.train()
        for head_index, rel_type, tail_index in loader:
            optimizer.zero_grad()
            loss = model.loss(head_index, rel_type, tail_index)
            loss.backward()
            optimizer.step()
    return model


@pytest.fixture(scope='module', params=sorted(MODELS))
def trained(request, splits):
    cls, kwargs = MODELS[request.param]
    return request.param, train_pyg(cls, splits[0], **kwargs)


def triple_set(triples: torch.Tensor) -> set:
    return {tuple(row) for row in triples.tolist()}


def graph_triples(data: Data) -> list:
    return list(zip(data.edge_index[0].tolist(), data.edge_type.tolist(),
                    data.edge_index[1].tolist()))


def state(model: torch.nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def brute_force_ranks(model, triples, known: set, num_nodes: int):
    r"""Filtered realistic ranks, one triple and one candidate at a time
    through the model's own ``forward``: ``1 + #{better} + #{tied} / 2``
    over the candidates that form no known triple (the target excluded)."""
    model.eval()
    heads, tails = [], []
    everyone = torch.arange(num_nodes)
    with torch.no_grad():
        for h, r, t in triples.tolist():
            for side, out in (('tail', tails), ('head', heads)):
                if side == 'tail':
                    scores = model(torch.full((num_nodes, ), h),
                                   torch.full((num_nodes, ), r), everyone)
                    target = t
                    keep = [e for e in range(num_nodes)
                            if e != t and (h, r, e) not in known]
                else:
                    scores = model(everyone, torch.full((num_nodes, ), r),
                                   torch.full((num_nodes, ), t))
                    target = h
                    keep = [e for e in range(num_nodes)
                            if e != h and (e, r, t) not in known]
                s = float(scores[target])
                better = sum(1 for e in keep if float(scores[e]) > s)
                tied = sum(1 for e in keep if float(scores[e]) == s)
                out.append(1.0 + better + tied / 2.0)
    return torch.tensor(heads, dtype=torch.float64), \
        torch.tensor(tails, dtype=torch.float64)


def changed_rows(before: dict, after: torch.nn.Module) -> torch.Tensor:
    r"""Ids of the entities whose row differs in any entity table."""
    now = after.state_dict()
    rows = None
    for name in ENTITY_TABLES:
        key = f'{name}.weight'
        if key in before:
            diff = (before[key] != now[key]).any(dim=1)
            rows = diff if rows is None else rows | diff
    return rows.nonzero().view(-1)


def forget_request(model, train: Data, ratio: float = 0.03):
    meu_graph = MetaEU(model, train, episodes=0, progress=False).original
    return sample_forget_set(meu_graph, ratio=ratio, seed=0)


def check_retained(result, train: Data, forget_ids: torch.Tensor) -> None:
    r"""The request's triples are gone, everything else is kept."""
    everything = graph_triples(train)
    forgotten = {everything[i] for i in forget_ids.tolist()}
    kept = graph_triples(result.data)
    assert not forgotten & set(kept)
    assert sorted(kept + sorted(forgotten)) == sorted(everything)
    assert triple_set(result.record.forget_triples) == forgotten


# Evaluation ##################################################################


def test_evaluator_matches_brute_force(trained, splits):
    _, model = trained
    train, valid, test = splits
    n, r = int(train.num_nodes), int(model.num_relations)
    evaluator = LinkPredictionEvaluator(n, r,
                                        filter_triples=[train, valid, test])
    triples = torch.stack([test.edge_index[0], test.edge_type,
                           test.edge_index[1]], dim=1)[:6]
    out = evaluator.evaluate(model, triples, return_ranks=True)
    known = set(graph_triples(train) + graph_triples(valid) +
                graph_triples(test))
    heads, tails = brute_force_ranks(model, triples, known, n)
    assert torch.allclose(out['head_ranks'], heads)
    assert torch.allclose(out['tail_ranks'], tails)
    expected = torch.cat([1.0 / heads, 1.0 / tails]).mean().item()
    assert out['mrr'] == pytest.approx(expected, abs=1e-12)
    assert out['count'] == 2 * triples.size(0)
    # The filter matters here: unfiltered ranks are never better.
    raw = LinkPredictionEvaluator(n, r).evaluate(model, triples,
                                                 return_ranks=True)
    assert bool((raw['tail_ranks'] >= out['tail_ranks']).all())
    assert bool((raw['head_ranks'] >= out['head_ranks']).all())


def test_evaluator_names_bad_relation_ids_of_a_pyg_split(splits):
    train = splits[0]
    bad = pyg_split(train)
    bad.edge_type[0] = 99
    with pytest.raises(ValueError, match=r'relation ids.*outside \[0, 7\]'):
        LinkPredictionEvaluator(int(train.num_nodes), 8, filter_triples=bad)


# MetaEU ######################################################################


def test_metaeu_fits_and_unlearns(trained, splits):
    name, model = trained
    train, valid, test = splits
    before = state(model)
    meu = MetaEU(model, train, reference=valid, episodes=4, eval_every=2,
                 val_episodes=2, progress=False)
    history = meu.fit()
    assert len(history) >= 1
    assert all(torch.isfinite(torch.tensor(h['val_mrr'])) for h in history)
    forget = forget_request(model, train)
    result = meu.unlearn(edge_ids=forget)

    check_retained(result, train, forget)
    # The affected entities are exactly those of the forgotten triples.
    rows = result.record.forget_triples
    assert set(result.record.affected.tolist()) == \
        set(rows[:, 0].tolist()) | set(rows[:, 2].tolist())
    # Only their rows were rewritten, and some were; relations are kept.
    changed = changed_rows(before, result.model)
    assert changed.numel() > 0
    assert set(changed.tolist()) <= set(result.record.affected.tolist())
    after = result.model.state_dict()
    assert torch.equal(after['rel_emb.weight'], before['rel_emb.weight'])
    # The caller's model is untouched; the new one ranks finitely.
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    evaluator = LinkPredictionEvaluator(
        int(train.num_nodes), int(model.num_relations),
        filter_triples=[result.data, valid, test])
    metrics = evaluator.evaluate(result.model, rows)
    assert 0.0 < metrics['mrr'] <= 1.0
    assert meu.ledger.verify() == []


# Baselines ###################################################################


def test_row_wise_reference_touches_only_affected_rows(trained, splits):
    _, model = trained
    train = splits[0]
    before = state(model)
    forget = forget_request(model, train)
    result = LeaveKOut(model, train).unlearn(edge_ids=forget)
    check_retained(result, train, forget)
    changed = changed_rows(before, result.model)
    assert changed.numel() > 0
    assert set(changed.tolist()) <= set(result.record.affected.tolist())
    assert torch.equal(model.state_dict()['node_emb.weight'],
                       before['node_emb.weight'])


def test_training_baselines_run(trained, splits):
    name, model = trained
    train, valid, test = splits
    before = state(model)
    forget = forget_request(model, train)
    cheap = TrainConfig(epochs=2, batch_size=256, lr=0.01, eval_every=0)
    methods = {
        'finetune': FineTune(model, train, epochs=1, config=cheap),
        'gradient_ascent': GradientAscent(model, train, steps=3),
        'retrain': Retrain(model, train, config=cheap, seed=1),
    }
    for method, unlearner in methods.items():
        result = unlearner.unlearn(edge_ids=forget)
        check_retained(result, train, forget)
        assert result.record.method == method
        # Same architecture as the user's model, new parameters ...
        assert type(result.model) is type(model)
        assert result.model.hidden_channels == model.hidden_channels
        for attr in ('margin', 'p_norm'):
            assert getattr(result.model, attr, None) == \
                getattr(model, attr, None)
        after = result.model.state_dict()
        assert any(not torch.equal(after[k], before[k]) for k in before)
        # ... and the user's model untouched.
        for key, value in model.state_dict().items():
            assert torch.equal(value, before[key]), (method, key)
    # Retraining starts afresh: every entity row moves, affected or not.
    retrained = methods['retrain'].model
    unaffected = torch.ones(int(train.num_nodes), dtype=torch.bool)
    unaffected[methods['retrain'].records[0].affected] = False
    moved = (retrained.node_emb.weight.detach()
             != before['node_emb.weight']).any(dim=1)
    assert bool(moved[unaffected].all())


# Sparse embeddings (PyG's ``sparse=True`` with SparseAdam) ###################


def test_sparse_model_trains_and_unlearns(splits):
    train = splits[0]
    model = train_pyg(TransE, train, sparse=True, epochs=2, margin=1.0)
    assert isinstance(make_optimizer(model, 'adam', 0.01),
                      torch.optim.SparseAdam)
    with pytest.raises(ValueError, match='no weight decay'):
        make_optimizer(model, 'adam', 0.01, weight_decay=1e-4)
    before = state(model)
    forget = forget_request(model, train)
    cheap = TrainConfig(epochs=1, batch_size=256, lr=0.01, eval_every=0)
    for unlearner in (FineTune(model, train, epochs=1, config=cheap),
                      GradientAscent(model, train, steps=2)):
        result = unlearner.unlearn(edge_ids=forget)
        check_retained(result, train, forget)
        assert not torch.equal(result.model.node_emb.weight.detach(),
                               before['node_emb.weight'])
    assert torch.equal(model.node_emb.weight.detach(),
                       before['node_emb.weight'])


def test_make_optimizer_dense_and_unknown():
    model = TransE(10, 2, hidden_channels=4)
    opt = make_optimizer(model, 'adagrad', 0.1, weight_decay=1e-3)
    assert isinstance(opt, torch.optim.Adagrad)
    assert opt.param_groups[0]['weight_decay'] == 1e-3
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        make_optimizer(model, 'lbfgs', 0.1)
