import torch
import torch.nn.functional as F

from torch_geometric_unlearn.nn import EmbeddingGenerator


def _graph(seed=0, n=12, e=40, r=3):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(n, (2, e), generator=g)
    et = torch.randint(r, (e, ), generator=g)
    return ei, et


def _transe_implied(rel_emb, num_rel):
    def implied(src, et):
        fwd = et < num_rel
        r = rel_emb[torch.where(fwd, et, et - num_rel)]
        return torch.where(fwd[:, None], src + r, src - r)
    return implied


def test_untrained_generator_is_the_mean_of_implied_rows():
    torch.manual_seed(0)
    n, r, d = 12, 3, 8
    ei, et = _graph(n=n, r=r)
    x = F.normalize(torch.randn(n, d), dim=-1)
    rel = torch.randn(r, d)
    affected = torch.zeros(n, dtype=torch.bool)
    affected[[0, 3, 5]] = True
    gen = EmbeddingGenerator(r, d, hidden_channels=5)
    gen.set_scale(x)
    out = gen(x, ei, et, affected, implied=_transe_implied(rel, r))
    raeeg = gen.raeeg(ei, et, n) * gen.scale
    for i in range(n):
        if not affected[i]:
            assert torch.equal(out[i], x[i])
            continue
        # Brute force: t - r for every retained (i, r, t) and h + r for every
        # (h, r, i), from unaffected neighbours only.
        rows = []
        for k in range(ei.size(1)):
            h, t, rr = int(ei[0, k]), int(ei[1, k]), int(et[k])
            if h == i and not affected[t]:
                rows.append(x[t] - rel[rr])
            if t == i and not affected[h]:
                rows.append(x[h] + rel[rr])
        expected = torch.stack(rows).mean(0) if rows else raeeg[i]
        assert torch.allclose(out[i], expected, atol=1e-5)


def test_generator_invariant_to_edge_and_node_order():
    torch.manual_seed(0)
    n, r, d = 12, 3, 8
    ei, et = _graph(n=n, r=r)
    x = torch.randn(n, d)
    rel = torch.randn(r, d)
    affected = torch.rand(n) < 0.4
    gen = EmbeddingGenerator(r, d, hidden_channels=6, num_passes=2)
    for p in gen.parameters():  # non-trivial NEEM output
        torch.nn.init.normal_(p, std=0.3)
    implied = _transe_implied(rel, r)
    out = gen(x, ei, et, affected, implied)
    plain = gen(x, ei, et, affected)
    assert not torch.allclose(out[affected], plain[affected])
    perm = torch.randperm(ei.size(1))
    assert torch.allclose(out, gen(x, ei[:, perm], et[perm], affected,
                                   implied), atol=1e-5)
    # Relabel the nodes: the output follows the nodes (ids never matter).
    nperm = torch.randperm(n)
    inv = torch.empty_like(nperm)
    inv[nperm] = torch.arange(n)
    out2 = gen(x[nperm], inv[ei], et, affected[nperm], implied)
    assert torch.allclose(out2, out[nperm], atol=1e-5)


def test_generator_isolated_affected_entity_gets_unknown_vector():
    gen = EmbeddingGenerator(2, 4, hidden_channels=3)
    x = torch.randn(3, 4)
    ei = torch.tensor([[0], [1]])
    et = torch.tensor([1])
    affected = torch.tensor([False, False, True])
    out = gen(x, ei, et, affected)
    assert torch.allclose(out[2], gen.raeeg.unknown * gen.scale)


def test_generator_bad_input():
    gen = EmbeddingGenerator(2, 4)
    x = torch.randn(3, 4)
    ei = torch.tensor([[0], [1]])
    et = torch.tensor([1])
    import pytest
    with pytest.raises(ValueError):
        gen(torch.randn(3, 5), ei, et, torch.zeros(3, dtype=torch.bool))
    with pytest.raises(ValueError):
        gen(x, ei, et, torch.zeros(3))
    with pytest.raises(ValueError):
        EmbeddingGenerator(2, 4, num_passes=0)
