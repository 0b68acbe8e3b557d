import pytest
import torch

from torch_geometric_unlearn.datasets import (make_synthetic_kg,
                                              parse_synthetic_spec,
                                              triple_keys)


def _keys(ds):
    t = ds.all_triples()
    return set(triple_keys(t[:, 0], t[:, 1], t[:, 2], ds.num_entities,
                           ds.num_relations).tolist())


def test_seeded_determinism():
    a = make_synthetic_kg(num_entities=300, num_triples=4000, seed=3)
    b = make_synthetic_kg(num_entities=300, num_triples=4000, seed=3)
    c = make_synthetic_kg(num_entities=300, num_triples=4000, seed=4)
    for split in ('train', 'valid', 'test'):
        assert torch.equal(a[split].edge_index, b[split].edge_index)
        assert torch.equal(a[split].edge_type, b[split].edge_type)
    assert not torch.equal(a.train.edge_index, c.train.edge_index)


@pytest.mark.parametrize('n,t', [(200, 3000), (1000, 20000), (5000, 60000)])
def test_sizes_and_invariants(n, t):
    ds = make_synthetic_kg(num_entities=n, num_triples=t, seed=0)
    total = sum(ds[s].edge_index.size(1) for s in ('train', 'valid', 'test'))
    assert 0.97 * t <= total <= 1.04 * t
    assert ds.num_entities == n
    all_t = ds.all_triples()
    # No duplicates, no self-loops.
    assert len(_keys(ds)) == all_t.size(0)
    assert bool((all_t[:, 0] != all_t[:, 2]).all())
    # Every entity and relation occurs in train.
    assert torch.unique(ds.train.edge_index).numel() == n
    assert torch.unique(ds.train.edge_type).numel() == ds.num_relations
    # Splits roughly 90 / 5 / 5.
    assert ds.valid.edge_index.size(1) > 0.03 * total
    assert ds.test.edge_index.size(1) > 0.03 * total


def test_power_law_degrees():
    ds = make_synthetic_kg(num_entities=5000, num_triples=60000, seed=0)
    deg = torch.bincount(ds.train.edge_index.reshape(-1), minlength=5000)
    deg = deg.sort(descending=True).values.double()
    # Heavy tail: the top 1% of entities hold far more than 1% of the
    # endpoints, and the maximum is far above the median.
    assert deg[:50].sum() / deg.sum() > 0.08
    assert deg[0] > 20 * deg.median()


def test_patterns_present():
    ds = make_synthetic_kg(num_entities=1000, num_relations=16,
                           num_triples=20000, seed=0)
    pat = ds.meta['patterns']
    keys = _keys(ds)
    t = ds.all_triples()
    n, R = ds.num_entities, ds.num_relations

    def frac_implied(src_rel, mapper):
        rows = t[t[:, 1] == src_rel]
        h, r, tt = mapper(rows)
        k = triple_keys(h, r, tt, n, R).tolist()
        return sum(x in keys for x in k) / max(len(k), 1)

    for r in pat['symmetric']:
        assert frac_implied(r, lambda x: (x[:, 2], x[:, 1], x[:, 0])) == 1.0
    for a, b in pat['inverse']:
        frac = frac_implied(
            a, lambda x: (x[:, 2], torch.full_like(x[:, 1], b), x[:, 0]))
        assert 0.8 < frac <= 1.0  # inverse_prob = 0.9
    # Composed relations: each (a, r3, c) has a path a -r1-> b -r2-> c.
    for r1, r2, r3 in pat['composition']:
        rows = t[t[:, 1] == r3]
        assert rows.size(0) > 0
        out1 = {}
        for h, _, tt in t[t[:, 1] == r1].tolist():
            out1.setdefault(h, set()).add(tt)
        out2 = {}
        for h, _, tt in t[t[:, 1] == r2].tolist():
            out2.setdefault(h, set()).add(tt)
        ok = sum(
            any(c in out2.get(b, ()) for b in out1.get(a, ()))
            for a, _, c in rows.tolist())
        assert ok == rows.size(0)
    # Hierarchy: has_part is exactly the inverse of part_of.
    part_of, has_part = pat['hierarchy']
    assert frac_implied(
        part_of,
        lambda x: (x[:, 2], torch.full_like(x[:, 1], has_part), x[:, 0])) == 1
    # Base relations are type-consistent: a head's cluster fixes the tail's.
    cluster = ds.meta['cluster']
    for r in pat['base']:
        rows = t[t[:, 1] == r]
        pairs = torch.stack([cluster[rows[:, 0]], cluster[rows[:, 2]]], 1)
        heads_clusters = pairs[:, 0].unique().numel()
        assert pairs.unique(dim=0).size(0) == heads_clusters
    assert ds.relation_vocab.name(part_of) == 'part_of'


def test_bad_arguments():
    with pytest.raises(ValueError, match='num_relations'):
        make_synthetic_kg(num_relations=5)
    with pytest.raises(ValueError, match='num_triples'):
        make_synthetic_kg(num_entities=1000, num_triples=10)
    with pytest.raises(ValueError):
        make_synthetic_kg(valid_ratio=0.4, test_ratio=0.4)


def test_parse_spec():
    assert parse_synthetic_spec('/data/fb') is None
    assert parse_synthetic_spec('synthetic')['num_entities'] == 1000
    assert parse_synthetic_spec('synthetic-tiny')['num_entities'] == 200
    kw = parse_synthetic_spec('synthetic:entities=50,triples=900,seed=2')
    assert kw['num_entities'] == 50 and kw['seed'] == 2
    kw = parse_synthetic_spec('synthetic-medium:seed=5')
    assert kw['num_entities'] == 15000 and kw['seed'] == 5
    with pytest.raises(ValueError, match='preset'):
        parse_synthetic_spec('synthetic-huge')
    with pytest.raises(ValueError, match='option'):
        parse_synthetic_spec('synthetic:colour=red')
