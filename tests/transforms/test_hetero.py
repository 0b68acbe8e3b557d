r"""The typed deletion transforms: each forgets exactly what it names (against
a slow per-edge reference), agrees with the homogeneous transform, keeps
edge attributes with their edges, never mutates its input, and rejects bad
typed requests with a clear error."""
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_geometric.data import HeteroData

from torch_geometric_unlearn.datasets import (HeteroMapping, UnknownNameError,
                                              UserInputError,
                                              make_synthetic_kg)
from torch_geometric_unlearn.transforms import (ForgetTriples,
                                                HeteroForgetEntity,
                                                HeteroForgetRelation,
                                                HeteroForgetTriples)


@pytest.fixture(scope='module')
def kg():
    return make_synthetic_kg(num_entities=200, num_relations=10,
                             num_triples=2500, seed=1, num_types=3)


def _snapshot(h):
    return {(s._key if s._key is not None else '_'): {
        k: v.clone() for k, v in s.items() if torch.is_tensor(v)}
        for s in h.stores}


def _same(a, b):
    return a.keys() == b.keys() and all(
        a[k].keys() == b[k].keys() and all(torch.equal(a[k][x], b[k][x])
                                           for x in a[k]) for k in a)


def _check_split(h, out, forget):
    r"""Slow reference: ``forget`` is ``{edge_type: set of positions}``;
    every edge type keeps the others, in order, and lists the forgotten
    ones; the affected masks mark the entities of the forgotten triples."""
    touched = {nt: set() for nt in h.node_types}
    for et in h.edge_types:
        cols = h[et].edge_index.t().tolist()
        gone = sorted(forget.get(et, ()))
        kept = [i for i in range(len(cols)) if i not in set(gone)]
        assert out[et].edge_index.t().tolist() == [cols[i] for i in kept]
        assert out[et].forget_edge_index.t().tolist() == [cols[i]
                                                          for i in gone]
        assert out[et].forget_edge_id.tolist() == gone
        assert out[et].retain_edge_id.tolist() == kept
        rel = h.relation_names.index(et[1])
        assert out[et].forget_edge_type.tolist() == [rel] * len(gone)
        for i in gone:
            touched[et[0]].add(cols[i][0])
            touched[et[2]].add(cols[i][1])
    for nt in h.node_types:
        mask = out[nt].forget_entity_mask
        assert mask.nonzero().view(-1).tolist() == sorted(touched[nt])
        assert torch.equal(out[nt].affected_mask, mask)


def test_forget_triples_by_typed_edge_ids(kg):
    h = kg.hetero('train')
    before = _snapshot(h)
    ets = h.edge_types[:3]
    request = {ets[0]: [0, 2], ets[2]: [1]}
    out = HeteroForgetTriples(edge_ids=request)(h)
    assert isinstance(out, HeteroData)
    _check_split(h, out, {et: set(v) for et, v in request.items()})
    assert _same(before, _snapshot(h))  # the input is untouched
    # Typed rows name the same triples.
    rows = {et: h[et].edge_index[:, ids] for et, ids in request.items()}
    by_rows = HeteroForgetTriples(triples=rows)(h)
    for et in h.edge_types:
        assert torch.equal(by_rows[et].edge_index, out[et].edge_index)
        assert torch.equal(by_rows[et].forget_edge_id, out[et].forget_edge_id)


def test_agrees_with_the_homogeneous_transform(kg):
    h = kg.hetero('train')
    mapping = HeteroMapping.from_hetero(h)
    data = mapping.to_homogeneous(h)
    et = h.edge_types[5]
    out = HeteroForgetTriples(edge_ids={et: [0, 1]}, num_hops=1)(h)
    pos = mapping.edge_positions(data)[et][[0, 1]]
    ref = ForgetTriples(edge_ids=pos, num_hops=1)(data)
    for nt, ids in mapping.global_ids.items():
        assert torch.equal(out[nt].affected_mask, ref.affected_mask[ids])
        assert torch.equal(out[nt].forget_entity_mask,
                           ref.forget_entity_mask[ids])
    assert int(sum(out[nt].affected_mask.sum() for nt in h.node_types)) > \
        int(sum(out[nt].forget_entity_mask.sum() for nt in h.node_types))
    assert torch.equal(mapping.to_homogeneous(out).edge_index,
                       ref.edge_index)


def test_forget_typed_entity(kg):
    h = kg.hetero('train')
    out = HeteroForgetEntity([('type1', 4), ('type0', 0)])(h)
    forget = {}
    for et in h.edge_types:
        for i, (a, b) in enumerate(h[et].edge_index.t().tolist()):
            if (et[0], a) in {('type1', 4), ('type0', 0)} or \
                    (et[2], b) in {('type1', 4), ('type0', 0)}:
                forget.setdefault(et, set()).add(i)
    assert len(forget) > 1  # across edge types
    _check_split(h, out, forget)
    same = HeteroForgetEntity({'type1': [4], 'type0': 0})(h)
    for et in h.edge_types:
        assert torch.equal(same[et].edge_index, out[et].edge_index)


def test_forget_relation_by_name_and_by_edge_type(kg):
    h = kg.hetero('train')
    name = 'part_of'
    typed = [et for et in h.edge_types if et[1] == name]
    assert len(typed) > 1
    out = HeteroForgetRelation(name)(h)
    _check_split(h, out, {et: set(range(h[et].num_edges)) for et in typed})
    out = HeteroForgetRelation(typed[1])(h)
    _check_split(h, out, {typed[1]: set(range(h[typed[1]].num_edges))})
    both = HeteroForgetRelation([typed[0], 'sym0'])(h)
    forget = {et: set(range(h[et].num_edges)) for et in h.edge_types
              if et == typed[0] or et[1] == 'sym0'}
    _check_split(h, both, forget)


def test_edge_attributes_follow_and_earlier_requests_are_replaced(kg):
    h = kg.hetero('train')
    et = h.edge_types[0]
    h[et].weight = torch.arange(h[et].num_edges, dtype=torch.float)
    first = HeteroForgetTriples(edge_ids={et: [1]})(h)
    assert first[et].weight.tolist() == [
        float(i) for i in range(h[et].num_edges) if i != 1]
    second = HeteroForgetTriples(edge_ids={et: [0]})(first)
    assert second[et].forget_edge_id.tolist() == [0]
    assert second[et].weight.tolist() == [
        float(i) for i in range(h[et].num_edges) if i not in (0, 1)]
    other = h.edge_types[1]
    assert second[other].forget_edge_id.numel() == 0


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_retained_and_forgotten_make_the_input(draw):
    h = HeteroData()
    h['a'].num_nodes, h['b'].num_nodes = 4, 3
    h.relation_names = ['r', 's']
    ets = [('a', 'r', 'b'), ('b', 'r', 'a'), ('a', 's', 'a')]
    request = {}
    for et in ets:
        n_src, n_dst = h[et[0]].num_nodes, h[et[2]].num_nodes
        e = draw.draw(st.integers(1, 6))
        h[et].edge_index = torch.stack([
            torch.tensor(draw.draw(st.lists(st.integers(0, n_src - 1),
                                            min_size=e, max_size=e))),
            torch.tensor(draw.draw(st.lists(st.integers(0, n_dst - 1),
                                            min_size=e, max_size=e)))])
        ids = draw.draw(st.sets(st.integers(0, e - 1),
                                min_size=int(et == ets[0]), max_size=e))
        request[et] = sorted(ids)
    out = HeteroForgetTriples(edge_ids=request)(h)
    _check_split(h, out, {et: set(v) for et, v in request.items()})


def test_bad_typed_requests(kg):
    h = kg.hetero('train')
    et = h.edge_types[0]
    n0 = h['type0'].num_nodes
    with pytest.raises(UserInputError, match="unknown node type 'person'"):
        HeteroForgetEntity(('person', 0))(h)
    with pytest.raises(UserInputError,
                       match=f"out of range for node type 'type0' with "
                             f"{n0} entities"):
        HeteroForgetEntity(('type0', n0))(h)
    with pytest.raises(UserInputError, match='is not in the graph'):
        HeteroForgetTriples(edge_ids={('type2', 'sym0', 'type0'): [0]})(h)
    with pytest.raises(UserInputError, match="unknown node type 'x'"):
        HeteroForgetRelation(('x', 'sym0', 'type0'))(h)
    with pytest.raises(UnknownNameError, match="unknown relation 'nope'"):
        HeteroForgetRelation('nope')(h)
    with pytest.raises(UserInputError,
                       match=f'edge ids out of range for edge type .* with '
                             f'{h[et].num_edges} triples'):
        HeteroForgetTriples(edge_ids={et: [h[et].num_edges]})(h)
    with pytest.raises(ValueError, match='not in the graph'):
        # a typed row that is no triple of the graph
        absent = [(a, b) for a in range(h[et[0]].num_nodes)
                  for b in range(h[et[2]].num_nodes)
                  if [a, b] not in h[et].edge_index.t().tolist()][0]
        HeteroForgetTriples(triples={et: torch.tensor(absent).view(2, 1)})(h)
    with pytest.raises(UserInputError, match=r'shape \[2, F\]'):
        HeteroForgetTriples(triples={et: torch.tensor([[0, 1, 2]])})(h)
    with pytest.raises(ValueError, match='exactly one'):
        HeteroForgetTriples()
    with pytest.raises(ValueError, match='non-empty dict'):
        HeteroForgetTriples(edge_ids={})
    with pytest.raises(ValueError, match='typed entities'):
        HeteroForgetEntity([1, 2])
    with pytest.raises(ValueError, match='relation names or edge types'):
        HeteroForgetRelation(3)
    with pytest.raises(TypeError, match='expects a HeteroData'):
        HeteroForgetEntity(('type0', 0))(kg.train)
