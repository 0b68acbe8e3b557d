
import pytest
import torch
from torch_geometric.data import Data

from torch_geometric_unlearn.datasets import make_kg, to_triples, triple_keys
from torch_geometric_unlearn.transforms import (ForgetEntity, ForgetRelation,
                                                ForgetTriples)


def _keys(data, ei=None, et=None):
    ei = data.edge_index if ei is None else ei
    et = data.edge_type if et is None else et
    return triple_keys(ei[0], et, ei[1], data.num_nodes,
                       data.num_relations).tolist()


def _check_partition(data, out):
    orig = sorted(_keys(data))
    kept = _keys(data, out.edge_index, out.edge_type)
    gone = _keys(data, out.forget_edge_index, out.forget_edge_type)
    assert sorted(kept + gone) == orig  # retained ∪ forget = original
    assert not set(kept) & set(gone)  # disjoint
    assert torch.equal(
        torch.sort(torch.cat([out.forget_edge_id, out.retain_edge_id]))[0],
        torch.arange(data.edge_index.size(1)))
    assert torch.equal(data.edge_index[:, out.retain_edge_id], out.edge_index)
    # The affected mask marks exactly the entities of the forget set.
    mask = torch.zeros(data.num_nodes, dtype=torch.bool)
    mask[out.forget_edge_index.reshape(-1)] = True
    assert torch.equal(out.forget_entity_mask, mask)


def test_forget_triples_rows_and_ids(small_kg):
    data = small_kg.train
    before = data.edge_index.clone()
    rows = to_triples(data)[[3, 10, 42]]
    out = ForgetTriples(rows)(data)
    _check_partition(data, out)
    assert out.forget_edge_id.tolist() == [3, 10, 42]
    assert torch.equal(data.edge_index, before)  # input untouched
    assert 'forget_edge_index' not in data
    out2 = ForgetTriples(edge_ids=[42, 3, 10])(data)
    assert torch.equal(out2.edge_index, out.edge_index)
    assert torch.equal(out2.affected_mask, out.affected_mask)
    # A single triple as a flat [3] row works.
    out3 = ForgetTriples(rows[0])(data)
    assert out3.forget_edge_index.size(1) == 1


def test_edge_attributes_follow(small_kg):
    data = small_kg.train.clone()
    data.edge_weight = torch.arange(data.edge_index.size(1)).float()
    out = ForgetTriples(edge_ids=[0, 5])(data)
    assert torch.equal(out.edge_weight, out.retain_edge_id.float())


def test_k_hop_expansion():
    # Path 0-1-2-3-4 plus a branch 2-5; forget (0, 0, 1).
    ei = torch.tensor([[0, 1, 2, 3, 2], [1, 2, 3, 4, 5]])
    data = make_kg(ei, torch.zeros(5, dtype=torch.long), 7, 1)
    for hops, expected in [(0, {0, 1}), (1, {0, 1, 2}), (2, {0, 1, 2, 3, 5}),
                           (3, {0, 1, 2, 3, 4, 5})]:
        out = ForgetTriples(torch.tensor([[0, 0, 1]]), num_hops=hops)(data)
        assert set(out.affected_mask.nonzero().view(-1).tolist()) == expected
        assert set(out.forget_entity_mask.nonzero().view(-1).tolist()) == {
            0, 1
        }
    # Expansion goes against edge direction too: forget (3, 0, 4).
    out = ForgetTriples(torch.tensor([[3, 0, 4]]), num_hops=1)(data)
    assert set(out.affected_mask.nonzero().view(-1).tolist()) == {2, 3, 4}


def test_forget_entity(small_kg):
    data = small_kg.train
    out = ForgetEntity([5, 7])(data)
    _check_partition(data, out)
    for e in (5, 7):
        assert not bool((out.edge_index == e).any())
        touching = (data.edge_index == e).any(0).sum()
        assert touching > 0
    n_touch = ((data.edge_index == 5) | (data.edge_index == 7)).any(0).sum()
    assert out.forget_edge_index.size(1) == int(n_touch)


def test_forget_relation(small_kg):
    data = small_kg.train
    out = ForgetRelation(2)(data)
    _check_partition(data, out)
    assert not bool((out.edge_type == 2).any())
    assert bool((out.forget_edge_type == 2).all())
    assert out.forget_edge_index.size(1) == int((data.edge_type == 2).sum())


def test_duplicates_removed_with_warning(small_kg):
    data = small_kg.train
    rows = to_triples(data)[[1, 1, 2]]
    with pytest.warns(UserWarning, match='1 duplicated triples'):
        out = ForgetTriples(rows)(data)
    assert out.forget_edge_index.size(1) == 2
    with pytest.warns(UserWarning, match='duplicated edge ids'):
        ForgetTriples(edge_ids=[4, 4])(data)
    with pytest.warns(UserWarning, match='duplicated entities'):
        ForgetEntity([3, 3])(data)


def test_duplicate_triples_in_graph_all_removed():
    ei = torch.tensor([[0, 0, 1], [1, 1, 2]])
    data = make_kg(ei, torch.tensor([0, 0, 0]), 3, 1)
    out = ForgetTriples(torch.tensor([[0, 0, 1]]))(data)
    assert out.forget_edge_id.tolist() == [0, 1]
    assert out.edge_index.tolist() == [[1], [2]]


def test_bad_input(small_kg):
    data = small_kg.train
    n, R = data.num_nodes, data.num_relations
    with pytest.raises(ValueError, match='empty request'):
        ForgetTriples(torch.empty(0, 3, dtype=torch.long))
    with pytest.raises(ValueError, match='empty request'):
        ForgetTriples(edge_ids=[])
    with pytest.raises(ValueError, match='empty request'):
        ForgetEntity([])
    with pytest.raises(ValueError, match=r'shape \[F, 3\]'):
        ForgetTriples(torch.zeros(4, 2, dtype=torch.long))
    with pytest.raises(TypeError, match='integer'):
        ForgetTriples(torch.zeros(1, 3))
    with pytest.raises(TypeError, match='integer'):
        ForgetEntity(torch.tensor([1.5]))
    with pytest.raises(ValueError, match='exactly one'):
        ForgetTriples()
    with pytest.raises(ValueError, match='entity ids out of range'):
        ForgetTriples(torch.tensor([[n, 0, 1]]))(data)
    with pytest.raises(ValueError, match='relation ids out of range'):
        ForgetTriples(torch.tensor([[0, R, 1]]))(data)
    with pytest.raises(ValueError, match='edge ids out of range'):
        ForgetTriples(edge_ids=[data.edge_index.size(1)])(data)
    with pytest.raises(ValueError, match='entity ids out of range'):
        ForgetEntity([-1])(data)
    with pytest.raises(ValueError, match='relation ids out of range'):
        ForgetRelation([R])(data)
    with pytest.raises(ValueError, match='num_hops'):
        ForgetEntity([0], num_hops=-1)
    # A triple that is not in the graph.
    keys = set(_keys(data))
    h, r, t = 0, 0, 1
    while triple_keys(torch.tensor(h), torch.tensor(r), torch.tensor(t), n,
                      R).item() in keys:
        t += 1
    with pytest.raises(ValueError, match='not in the graph'):
        ForgetTriples(torch.tensor([[h, r, t]]))(data)
    # An entity / relation without triples.
    lonely = make_kg(torch.tensor([[0], [1]]), torch.tensor([0]), 3, 2)
    with pytest.raises(ValueError, match='no triple'):
        ForgetEntity([2])(lonely)
    with pytest.raises(ValueError, match='no triple'):
        ForgetRelation([1])(lonely)
    with pytest.raises(TypeError, match='Data'):
        ForgetEntity([0])({'edge_index': None})
    with pytest.raises(ValueError, match='edge_type'):
        ForgetEntity([0])(Data(edge_index=torch.zeros(2, 1,
                                                      dtype=torch.long)))


def test_sequential_requests(small_kg):
    data = small_kg.train
    first = ForgetRelation(1)(data)
    second = ForgetEntity([0])(first)
    assert not bool((second.edge_type == 1).any())
    assert not bool((second.edge_index == 0).any())
    # The second request describes itself against its input.
    assert second.forget_edge_index.size(1) == int(
        (first.edge_index == 0).any(0).sum())
    assert torch.equal(first.edge_index[:, second.retain_edge_id],
                       second.edge_index)
    assert repr(ForgetRelation(1)) == 'ForgetRelation(num_relations=1, ' \
        'num_hops=0)'
