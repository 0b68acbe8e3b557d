r"""Property-based tests of the deletion transforms and of request
sequences: retained ∪ forgotten = original, nothing forgotten ever comes
back (across requests and save/load), the input is never mutated, and bad
requests fail with a clear error instead of doing something else."""
import warnings

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.datasets import TripleSet, to_triples
from torch_geometric_unlearn.kge import load_kge_model
from torch_geometric_unlearn.transforms import (ForgetEntity, ForgetRelation,
                                                ForgetTriples)

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@st.composite
def graphs(draw):
    n = draw(st.integers(3, 12))
    r = draw(st.integers(1, 4))
    e = draw(st.integers(1, 40))
    rows = draw(st.lists(st.tuples(st.integers(0, n - 1),
                                   st.integers(0, r - 1),
                                   st.integers(0, n - 1)),
                         min_size=e, max_size=e))
    t = torch.tensor(rows, dtype=torch.long)
    return Data(edge_index=t[:, [0, 2]].t().contiguous(), edge_type=t[:, 1],
                num_nodes=n, num_relations=r)


def _multiset(rows):
    out = {}
    for row in rows.tolist():
        out[tuple(row)] = out.get(tuple(row), 0) + 1
    return out


@SETTINGS
@given(graphs(), st.data())
def test_forget_triples_partitions_the_graph(g, data):
    before = (g.edge_index.clone(), g.edge_type.clone())
    rows = to_triples(g)
    picks = data.draw(st.lists(st.integers(0, rows.size(0) - 1),
                               min_size=1, max_size=rows.size(0)))
    request = rows[picks]  # duplicates included
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', UserWarning)
        out = ForgetTriples(request)(g)
    assert torch.equal(g.edge_index, before[0])  # input never mutated
    assert torch.equal(g.edge_type, before[1])
    kept = torch.stack([out.edge_index[0], out.edge_type,
                        out.edge_index[1]], 1)
    gone = torch.stack([out.forget_edge_index[0], out.forget_edge_type,
                        out.forget_edge_index[1]], 1)
    total = _multiset(kept)
    for k, v in _multiset(gone).items():
        total[k] = total.get(k, 0) + v
    assert total == _multiset(rows)  # retained ∪ forgotten = original
    wanted = {tuple(t) for t in request.tolist()}
    assert {tuple(t) for t in gone.tolist()} == wanted
    assert not wanted & {tuple(t) for t in kept.tolist()}
    ends = set(gone[:, 0].tolist()) | set(gone[:, 2].tolist())
    assert set(out.affected_mask.nonzero().view(-1).tolist()) == ends


@SETTINGS
@given(graphs(), st.data())
def test_bad_requests_fail_clearly(g, data):
    n, r = int(g.num_nodes), int(g.num_relations)
    bad = data.draw(st.sampled_from(['range', 'float', 'empty', 'absent',
                                     'bool']))
    if bad == 'range':
        req, err = torch.tensor([[0, 0, n]]), ValueError
    elif bad == 'float':
        req, err = torch.tensor([[0.0, 0.0, 1.0]]), TypeError
    elif bad == 'bool':
        req, err = torch.tensor([[True, False, True]]), TypeError
    elif bad == 'empty':
        req, err = torch.zeros(0, 3, dtype=torch.long), ValueError
    else:
        have = {tuple(t) for t in to_triples(g).tolist()}
        missing = [(h, q, t) for h in range(n) for q in range(r)
                   for t in range(n) if (h, q, t) not in have]
        if not missing:  # a complete graph: use an out-of-range id instead
            missing = [(0, r, 0)]
        req, err = torch.tensor(missing[:1]), ValueError
    with pytest.raises(err):
        ForgetTriples(req)(g)
    for transform, e in ((lambda: ForgetEntity([n]), ValueError),
                         (lambda: ForgetEntity([1.0]), TypeError),
                         (lambda: ForgetRelation([r]), ValueError),
                         (lambda: ForgetEntity([]), ValueError)):
        with pytest.raises(e):
            transform()(g)


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.too_slow,
                                 HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_nothing_forgotten_reappears_across_requests_and_save_load(
        tmp_path_factory, data):
    kg = _KG
    torch.manual_seed(0)
    model = load_kge_model('transe', kg.num_entities, kg.num_relations, 4)
    meu = MetaEU(model, kg, progress=False, hash_models=False)
    rows = to_triples(kg.train)
    forgotten = set()
    path = str(tmp_path_factory.mktemp('meu') / 'meu.pt')
    for step in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(['triples', 'edge_ids', 'entity']))
        if kind == 'entity':
            alive = torch.unique(meu.data.edge_index.reshape(-1))
            req = dict(entities=[int(alive[data.draw(st.integers(
                0, alive.numel() - 1))])])
        else:
            ids = data.draw(st.lists(st.integers(0, rows.size(0) - 1),
                                     min_size=1, max_size=5, unique=True))
            if any(tuple(rows[i].tolist()) in forgotten for i in ids):
                try:
                    meu.unlearn(edge_ids=ids)
                except ValueError as err:
                    assert 'already forgotten' in str(err)
                    continue
                raise AssertionError('re-forgetting was accepted')
            req = dict(edge_ids=ids) if kind == 'edge_ids' else \
                dict(triples=rows[ids])
        res = meu.unlearn(**req)
        forgotten |= {tuple(t) for t in res.record.forget_triples.tolist()}
        if data.draw(st.booleans()):
            meu.save(path)
            meu = MetaEU.load(path, res.model, kg, progress=False,
                              hash_models=False)
        current = TripleSet.from_data(meu.data)
        gone = torch.tensor(sorted(forgotten)).view(-1, 3)
        assert not bool(current.contains_triples(gone).any())
        assert len(current) + len(forgotten) == len(
            TripleSet.from_data(kg.train))
    assert to_triples(kg.train).tolist() == rows.tolist()  # not mutated


def _make_kg():
    from torch_geometric_unlearn.datasets import make_synthetic_kg
    return make_synthetic_kg(num_entities=40, num_relations=8,
                             num_triples=300, seed=2)


_KG = _make_kg()
