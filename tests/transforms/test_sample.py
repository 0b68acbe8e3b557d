import pytest
import torch

from torch_geometric_unlearn.datasets import make_kg
from torch_geometric_unlearn.transforms import RandomForget, sample_forget_set


@pytest.mark.parametrize('ratio', [0.01, 0.05, 0.1])
def test_ratio_and_nothing_lost(small_kg, ratio):
    data = small_kg.train
    ids = sample_forget_set(data, ratio=ratio, seed=1)
    E = data.edge_index.size(1)
    assert ids.numel() == round(ratio * E)
    assert ids.unique().numel() == ids.numel()
    keep = torch.ones(E, dtype=torch.bool)
    keep[ids] = False
    ents_before = torch.unique(data.edge_index)
    ents_after = torch.unique(data.edge_index[:, keep])
    assert torch.equal(ents_before, ents_after)
    assert torch.equal(torch.unique(data.edge_type),
                       torch.unique(data.edge_type[keep]))


def test_seeded(small_kg):
    data = small_kg.train
    a = sample_forget_set(data, count=50, seed=3)
    b = sample_forget_set(data, count=50, seed=3)
    c = sample_forget_set(data, count=50, seed=4)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_impossible_and_bad_ratio():
    # A star: every edge holds a leaf; none can go without losing an entity.
    ei = torch.tensor([[0, 0, 0, 0], [1, 2, 3, 4]])
    data = make_kg(ei, torch.zeros(4, dtype=torch.long), 5, 1)
    with pytest.raises(ValueError, match='only 0 of the requested'):
        sample_forget_set(data, count=1)
    ids = sample_forget_set(data, count=2, keep_entities=False,
                            keep_relations=False)
    assert ids.numel() == 2
    with pytest.raises(ValueError, match='ratio'):
        sample_forget_set(data, ratio=1.5)
    with pytest.raises(ValueError, match='exactly one'):
        sample_forget_set(data)


def test_self_loops_keep_entity():
    # Entity 0 has only a self-loop and one other edge.
    ei = torch.tensor([[0, 0, 1, 2], [0, 1, 2, 1]])
    data = make_kg(ei, torch.zeros(4, dtype=torch.long), 3, 1)
    for seed in range(10):
        ids = sample_forget_set(data, count=1, seed=seed)
        keep = torch.ones(4, dtype=torch.bool)
        keep[ids] = False
        assert torch.unique(data.edge_index[:, keep]).numel() == 3


def test_random_forget_transform(small_kg):
    data = small_kg.train
    out = RandomForget(ratio=0.05, seed=2, num_hops=1)(data)
    ids = sample_forget_set(data, ratio=0.05, seed=2)
    assert torch.equal(out.forget_edge_id, ids)
    assert bool((out.affected_mask >= out.forget_entity_mask).all())
    assert int(out.affected_mask.sum()) > int(out.forget_entity_mask.sum())
