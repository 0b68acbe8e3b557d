import pytest
import torch

from torch_geometric_unlearn.datasets import (TripleSet, isin_sorted,
                                              make_synthetic_kg, to_triples,
                                              triple_keys)


def test_isin_sorted_matches_python_membership():
    g = torch.Generator().manual_seed(0)
    base = torch.randint(50, (40, ), generator=g).unique()
    keys = torch.randint(60, (7, 9), generator=g)
    got = isin_sorted(keys, base)
    want = torch.tensor([[int(k) in set(base.tolist()) for k in row]
                         for row in keys.tolist()])
    assert got.shape == keys.shape and torch.equal(got, want)
    assert not bool(isin_sorted(keys, base[:0]).any())


def test_triple_set_against_a_python_set():
    kg = make_synthetic_kg(num_entities=80, num_relations=8,
                           num_triples=600, seed=3)
    known = TripleSet.from_data(kg.train)
    reference = {tuple(t) for t in to_triples(kg.train).tolist()}
    assert len(known) == len(reference)
    g = torch.Generator().manual_seed(1)
    probe = torch.cat([to_triples(kg.train)[:50],
                       torch.stack([torch.randint(80, (200, ), generator=g),
                                    torch.randint(8, (200, ), generator=g),
                                    torch.randint(80, (200, ), generator=g)],
                                   1)])
    got = known.contains_triples(probe)
    want = torch.tensor([tuple(t) in reference for t in probe.tolist()])
    assert torch.equal(got, want) and bool(got[:50].all())


def test_triple_set_broadcasts_and_encodes_with_triple_keys():
    known = TripleSet(triple_keys(torch.tensor([0, 2]), torch.tensor([1, 0]),
                                  torch.tensor([3, 1]), 4, 2), 4, 2)
    # tails of (0, 1, ?) among all four entities
    mask = known.contains(torch.tensor([[0]]), torch.tensor([[1]]),
                          torch.arange(4)[None, :])
    assert mask.tolist() == [[False, False, False, True]]


def test_answer_mask_equals_contains_on_the_grid():
    kg = make_synthetic_kg(num_entities=60, num_relations=8,
                           num_triples=900, seed=2)
    known = TripleSet.from_data(kg.train)
    g = torch.Generator().manual_seed(0)
    ei, et = kg.train.edge_index, kg.train.edge_type
    # Queries from training triples (they have answers) and random ones;
    # candidates with repeats.
    pick = torch.randint(ei.size(1), (25, ), generator=g)
    heads = torch.cat([ei[0, pick], torch.randint(60, (10, ), generator=g)])
    tails = torch.cat([ei[1, pick], torch.randint(60, (10, ), generator=g)])
    rel = torch.cat([et[pick], torch.randint(8, (10, ), generator=g)])
    cand = torch.cat([torch.randint(60, (40, ), generator=g), ei[1, pick],
                      ei[0, pick[:5]]])
    tail = known.answer_mask(heads, rel, cand, side='tail')
    head = known.answer_mask(tails, rel, cand, side='head')
    assert torch.equal(tail, known.contains(heads[:, None], rel[:, None],
                                            cand[None, :]))
    assert torch.equal(head, known.contains(cand[None, :], rel[:, None],
                                            tails[:, None]))
    assert bool(tail.any()) and bool(head.any()) and not bool(tail.all())
    empty = known.answer_mask(heads, rel, cand[:0])
    assert empty.shape == (35, 0)
    with pytest.raises(ValueError, match='side'):
        known.answer_mask(heads, rel, cand, side='both')
