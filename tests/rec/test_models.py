import pytest
import torch
from torch_geometric.nn.models import LightGCN
from torch_geometric.utils import coalesce

from torch_geometric_unlearn.rec import (MF, LightGCNRec, bipartite_adjacency,
                                         make_recommender, symmetric_spmm)


def _edges(num_users=30, num_items=20, e=150, seed=0):
    g = torch.Generator().manual_seed(seed)
    ei = torch.stack([torch.randint(num_users, (e, ), generator=g),
                      torch.randint(num_items, (e, ), generator=g)])
    return coalesce(ei)


def test_mf_shapes_and_ego():
    m = MF(5, 7, 4)
    U, item = m()
    assert U.shape == (5, 4) and item.shape == (7, 4)
    eu, ei = m.ego(torch.tensor([1]), torch.tensor([2, 3]))
    assert torch.equal(eu, U[[1]]) and torch.equal(ei, item[[2, 3]])


def test_lightgcn_matches_pyg_default_normalisation():
    ei = _edges()
    m = LightGCNRec(30, 20, 8, num_layers=2)
    ref = LightGCN(50, 8, 2)
    ref.load_state_dict(m.lightgcn.state_dict())
    homo = torch.cat([torch.stack([ei[0], ei[1] + 30]),
                      torch.stack([ei[1] + 30, ei[0]])], 1)
    expected = ref.get_embedding(homo)
    U, item = m(ei)
    assert torch.allclose(torch.cat([U, item]), expected, atol=1e-6)


def test_adjacency_symmetric_and_normalised():
    ei = _edges()
    a = bipartite_adjacency(ei, 30, 20).to_dense()
    assert torch.allclose(a, a.t())
    deg = (a > 0).sum(1).float()
    i, j = a.nonzero().t()
    assert torch.allclose(a[i, j], 1 / (deg[i] * deg[j]).sqrt())


def test_lightgcn_gradient_and_cache():
    ei = _edges()
    m = LightGCNRec(30, 20, 8)
    U, item = m(ei)
    (U.sum() + item.sum()).backward()
    assert m.lightgcn.embedding.weight.grad is not None
    a1 = m.adjacency(ei)
    assert m.adjacency(ei) is a1
    assert m.adjacency(ei.clone()) is not a1


def test_bad_sizes():
    with pytest.raises(ValueError):
        MF(0, 3)
    with pytest.raises(ValueError):
        LightGCNRec(3, 3, 0)
    with pytest.raises(ValueError, match='unknown recommender'):
        make_recommender('svd', 3, 3)


def test_symmetric_spmm_matches_dense_product_and_gradient():
    ei = _edges()
    adj = bipartite_adjacency(ei, 30, 20)
    dense = adj.to_dense()
    x = torch.randn(50, 6, generator=torch.Generator().manual_seed(0))
    w = torch.randn(50, 6, generator=torch.Generator().manual_seed(1))
    a = x.clone().requires_grad_()
    out = symmetric_spmm(adj, a)
    (out * w).sum().backward()
    b = x.clone().requires_grad_()
    ref = dense @ b
    (ref * w).sum().backward()
    assert torch.allclose(out, ref, atol=1e-6)
    assert torch.allclose(a.grad, b.grad, atol=1e-6)
    assert torch.allclose(a.grad, dense.t() @ w, atol=1e-6)


def test_lightgcn_gradient_matches_pyg():
    ei = _edges()
    m = LightGCNRec(30, 20, 8, num_layers=3)
    ref = LightGCN(50, 8, 3)
    ref.load_state_dict(m.lightgcn.state_dict())
    for conv in ref.convs:
        conv.normalize = False
    w = torch.randn(50, 8, generator=torch.Generator().manual_seed(2))
    U, item = m(ei)
    (torch.cat([U, item]) * w).sum().backward()
    (ref.get_embedding(m.adjacency(ei)) * w).sum().backward()
    assert torch.allclose(m.lightgcn.embedding.weight.grad,
                          ref.embedding.weight.grad, atol=1e-6)
