import torch

from torch_geometric_unlearn.nn import NEEM, RAEEG, BasisRelConv


def _graph():
    ei = torch.tensor([[0, 0, 1, 2, 3], [1, 2, 2, 0, 1]])
    et = torch.tensor([0, 1, 1, 2, 0])
    return ei, et


def test_raeeg_matches_reference_and_unknown():
    torch.manual_seed(0)
    ei, et = _graph()
    layer = RAEEG(num_relations=3, out_channels=4)
    out = layer(ei, et, num_nodes=5)
    assert out.shape == (5, 4)
    # Slow reference: per entity, mean of domain (as head) / range (as tail).
    for i in range(5):
        pairs = list(zip(ei.t().tolist(), et.tolist()))
        vecs = [layer.rel_domain[r] for (h, t), r in pairs if h == i]
        vecs += [layer.rel_range[r] for (h, t), r in pairs if t == i]
        expected = (torch.stack(vecs).mean(0) if vecs else layer.unknown)
        assert torch.allclose(out[i], expected, atol=1e-6)
    assert torch.equal(out[4], layer.unknown.detach()) or torch.allclose(
        out[4], layer.unknown)


def test_raeeg_edge_order_invariant_and_id_free():
    torch.manual_seed(0)
    ei, et = _graph()
    layer = RAEEG(3, 8)
    perm = torch.randperm(ei.size(1))
    assert torch.allclose(layer(ei, et, 5), layer(ei[:, perm], et[perm], 5),
                          atol=1e-6)
    # Relabelling entities permutes the output rows (no entity ids inside).
    relabel = torch.tensor([3, 0, 4, 1, 2])
    out = layer(relabel[ei], et, 5)
    assert torch.allclose(out[relabel], layer(ei, et, 5), atol=1e-6)


def test_basis_conv_matches_dense_reference():
    torch.manual_seed(0)
    ei, et = _graph()
    conv = BasisRelConv(4, 3, num_relations=3, num_bases=2)
    x = torch.randn(5, 4)
    out = conv(x, ei, et)
    W = torch.einsum('rb,bio->rio', conv.comp, conv.basis)
    for i in range(5):
        msgs = [x[j] @ W[r] for (j, t), r in zip(ei.t().tolist(), et.tolist())
                if t == i]
        agg = torch.stack(msgs).mean(0) if msgs else torch.zeros(3)
        assert torch.allclose(out[i], agg + conv.root(x[i]), atol=1e-5)


def test_neem_shapes_order_invariance_and_gradients():
    torch.manual_seed(0)
    ei, et = _graph()
    neem = NEEM(num_relations=3, channels=6, hidden_channels=5, num_layers=3)
    x = torch.randn(5, 6, requires_grad=True)
    out = neem(x, ei, et)
    assert out.shape == (5, 6)
    perm = torch.randperm(ei.size(1))
    assert torch.allclose(out, neem(x, ei[:, perm], et[perm]), atol=1e-5)
    out.sum().backward()
    assert x.grad is not None and all(p.grad is not None
                                      for p in neem.parameters())
    # A node's output depends on nodes within num_layers hops only:
    # node 4 is isolated, so changing others leaves it unchanged.
    x2 = x.detach().clone()
    x2[:4] += 1.0
    assert torch.allclose(neem(x2, ei, et)[4], neem(x.detach(), ei, et)[4])
