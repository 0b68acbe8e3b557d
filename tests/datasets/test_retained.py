import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data

from torch_geometric_unlearn.datasets import (RetainedGraph, TripleIndex,
                                              segment_ids)
from torch_geometric_unlearn.transforms import ForgetEntity, ForgetTriples
from torch_geometric_unlearn.utils.fingerprint import edge_digest


def _graph(seed, n=12, R=3, E=60):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(n, (2, E), generator=g)
    et = torch.randint(R, (E, ), generator=g)
    # A few exact duplicates: every copy must be found and forgotten.
    ei = torch.cat([ei, ei[:, :5]], 1)
    et = torch.cat([et, et[:5]])
    return Data(edge_index=ei, edge_type=et, num_nodes=n, num_relations=R)


def test_segment_ids_against_a_loop():
    start = torch.tensor([3, 0, 7, 7])
    end = torch.tensor([5, 0, 10, 8])
    want = [i for s, e in zip(start.tolist(), end.tolist())
            for i in range(s, e)]
    assert segment_ids(start, end).tolist() == want
    assert segment_ids(torch.tensor([2]), torch.tensor([2])).numel() == 0


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_triple_index_against_brute_force(seed):
    data = _graph(seed)
    index = TripleIndex(data.edge_index, data.edge_type, 12, 3)
    rows = torch.stack([data.edge_index[0], data.edge_type,
                        data.edge_index[1]], 1)
    g = torch.Generator().manual_seed(seed + 1)
    query = torch.cat([rows[torch.randint(rows.size(0), (6, ),
                                          generator=g)],
                       torch.tensor([[11, 2, 11]])])  # maybe absent
    ids, which = index.find(query)
    for i, q in enumerate(query.tolist()):
        want = sorted(j for j, r in enumerate(rows.tolist()) if r == q)
        assert sorted(ids[which == i].tolist()) == want
    ents = torch.tensor([0, 5, 11])
    got = sorted(index.incident(ents).tolist())
    want = sorted(j for j in range(rows.size(0)) for end in (0, 2)
                  if rows[j, end].item() in ents.tolist())
    assert got == want
    deg = torch.bincount(data.edge_index.reshape(-1), minlength=12)
    assert torch.equal(index.degree(ents), deg[ents])


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_forgetting_through_the_index_equals_the_transforms(seed):
    data = _graph(seed)
    graph = RetainedGraph(data)
    digest = graph.digest()
    current = data
    g = torch.Generator().manual_seed(seed)
    for step in range(3):
        alive = graph.alive.nonzero().view(-1)
        pick = alive[torch.randint(alive.numel(), (3, ), generator=g)]
        rows = torch.unique(graph.triples_of(pick), dim=0)
        ids, _ = graph.locate(rows)
        removed = graph.forget(ids)
        out = ForgetTriples(rows)(current)
        assert torch.equal(graph.to_data().edge_index, out.edge_index)
        assert torch.equal(graph.to_data().edge_type, out.edge_type)
        assert torch.equal(removed.affected,
                           out.affected_mask.nonzero().view(-1))
        want = edge_digest(out.edge_index, out.edge_type, 12, 3)
        assert graph.digest() == want != digest
        current = out
    # An entity request: the retained incident edges, each once.
    e = int(current.edge_index[0, 0])
    ids = graph.incident(torch.tensor([e]))
    assert ids.unique().numel() == ids.numel()
    snap = graph.snapshot()
    removed = graph.forget(ids)
    out = ForgetEntity([e])(current)
    assert torch.equal(graph.to_data().edge_index, out.edge_index)
    assert torch.equal(removed.affected,
                       out.affected_mask.nonzero().view(-1))
    # The snapshot did not move; restore undoes the request.
    assert torch.equal(snap.to_data().edge_index, current.edge_index)
    graph.restore(removed)
    assert torch.equal(graph.to_data().edge_index, current.edge_index)
    assert graph.digest() == edge_digest(current.edge_index,
                                         current.edge_type, 12, 3)
    gone = snap.alive.logical_not().nonzero().view(-1)[:1]
    with pytest.raises(ValueError, match='not retained'):
        graph.forget(gone)


def test_a_retained_graph_from_a_subgraph():
    data = _graph(3)
    rows = torch.stack([data.edge_index[0], data.edge_type,
                        data.edge_index[1]], 1)
    out = ForgetTriples(rows[10:13])(data)
    graph = RetainedGraph.from_subgraph(data, out)
    assert torch.equal((~graph.alive).nonzero().view(-1), out.forget_edge_id)
    assert graph.to_data() is out
    present = set(map(tuple, rows.tolist()))
    absent = next((h, r, t) for h in range(12) for r in range(3)
                  for t in range(12) if (h, r, t) not in present)
    foreign = Data(edge_index=torch.tensor([[absent[0]], [absent[2]]]),
                   edge_type=torch.tensor([absent[1]]), num_nodes=12,
                   num_relations=3)
    with pytest.raises(ValueError, match='not in the original'):
        RetainedGraph.from_subgraph(data, foreign)
    with pytest.raises(ValueError, match='entities'):
        RetainedGraph.from_subgraph(data, Data(
            edge_index=out.edge_index, edge_type=out.edge_type,
            num_nodes=13, num_relations=3))
    with pytest.raises(ValueError, match='boolean mask'):
        RetainedGraph(data, alive=torch.ones(3, dtype=torch.bool))


@pytest.mark.parametrize('dense', [0.0, 1.0])
def test_retained_incident_edges_against_a_loop(monkeypatch, dense):
    # Both ways of deduplicating (a mask over the edges when the incidence
    # list is large, a sort when it is small): the sorted retained edges
    # touching the entities, each once.
    from torch_geometric_unlearn.datasets import retained
    monkeypatch.setattr(retained, 'DENSE_INCIDENT', dense)
    data = _graph(4)
    graph = RetainedGraph(data)
    graph.forget(torch.tensor([0, 3, 7, 8]))
    ei = data.edge_index
    for ents in ([0], [1, 5, 9], list(range(12))):
        want = [e for e in range(ei.size(1)) if bool(graph.alive[e]) and
                (int(ei[0, e]) in ents or int(ei[1, e]) in ents)]
        assert graph.incident(torch.tensor(ents)).tolist() == want
