r"""Base recommenders over the user--item bipartite graph.

Both models expose the same interface: ``model(edge_index)`` returns the
final user and item representations, ``(U, I)`` of shapes
:math:`(|\mathcal{U}|, d)` and :math:`(|\mathcal{I}|, d)`, computed from the
training interactions :obj:`edge_index` (shape :math:`(2, E)`, row 0 user
ids, row 1 item ids); ``model.rows(edge_index, users, items)`` returns only
the rows asked for (for :class:`MF` through sparse-gradient lookups, so an
optimizer step touches only those rows), and ``model.ego(users, items)`` the
free parameters behind them (for the BPR weight penalty). A user's score for
an item is the dot product of the two rows. :func:`make_optimizer` pairs
sparse-gradient tables with :class:`torch.optim.SparseAdam` and everything
else with :class:`torch.optim.Adam`.
"""
from __future__ import annotations

import warnings
from typing import Optional, Tuple

import torch
from torch import Tensor
from torch_geometric.nn.conv.gcn_conv import gcn_norm
from torch_geometric.nn.models import LightGCN
from torch_geometric.utils import to_torch_csr_tensor

__all__ = ['MF', 'LightGCNRec', 'bipartite_adjacency', 'symmetric_spmm',
           'make_recommender', 'make_optimizer', 'RECOMMENDER_NAMES']


class MF(torch.nn.Module):
    r"""Matrix factorisation trained with BPR, from the `"BPR: Bayesian
    Personalized Ranking from Implicit Feedback"
    <https://arxiv.org/abs/1205.2618>`_ paper:
    :math:`s(u, i) = \mathbf{p}_u^{\top} \mathbf{q}_i`.

    Args:
        num_users (int): Number of users.
        num_items (int): Number of items.
        embedding_dim (int): Dimension :math:`d`. (default: :obj:`64`)
        sparse (bool): Sparse gradients for :meth:`rows` and :meth:`ego`
            (the optimizer then updates only the rows of the batch, which is
            what makes a step cheap on large tables). (default: :obj:`True`)
    """
    def __init__(self, num_users: int, num_items: int,
                 embedding_dim: int = 64, sparse: bool = True) -> None:
        super().__init__()
        _check_sizes(num_users, num_items, embedding_dim)
        self.num_users, self.num_items = num_users, num_items
        self.embedding_dim = embedding_dim
        self.user = torch.nn.Embedding(num_users, embedding_dim,
                                       sparse=sparse)
        self.item = torch.nn.Embedding(num_items, embedding_dim,
                                       sparse=sparse)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        torch.nn.init.normal_(self.user.weight, std=0.1)
        torch.nn.init.normal_(self.item.weight, std=0.1)

    def forward(self, edge_index: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor]:
        r"""Returns :math:`(\mathbf{P}, \mathbf{Q})`; the graph is not
        used."""
        return self.user.weight, self.item.weight

    def rows(self, edge_index: Optional[Tensor], users: Tensor,
             items: Tensor) -> Tuple[Tensor, Tensor]:
        r"""The rows of :obj:`users` and :obj:`items` only."""
        return self.user(users), self.item(items)

    def ego(self, users: Tensor, items: Tensor) -> Tuple[Tensor, Tensor]:
        return self.user(users), self.item(items)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users} users, '
                f'{self.num_items} items, dim={self.embedding_dim})')


def bipartite_adjacency(edge_index: Tensor, num_users: int,
                        num_items: int) -> Tensor:
    r"""The symmetrically normalised adjacency
    :math:`\mathbf{D}^{-1/2}\mathbf{A}\mathbf{D}^{-1/2}` of the user--item
    graph, users first, items offset by :obj:`num_users`, as a sparse CSR
    tensor of shape :math:`(|\mathcal{U}|+|\mathcal{I}|,)^2` (isolated
    nodes have empty rows)."""
    n = num_users + num_items
    u, i = edge_index[0], edge_index[1] + num_users
    both = torch.stack([torch.cat([u, i]), torch.cat([i, u])])
    both, weight = gcn_norm(both, num_nodes=n, add_self_loops=False)
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter('ignore', UserWarning)
        return to_torch_csr_tensor(both, weight, size=(n, n))


class _SymmetricSpmm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, adj: Tensor, x: Tensor) -> Tensor:
        ctx.adj = adj
        return adj @ x

    @staticmethod
    def backward(ctx, grad: Tensor):
        return None, ctx.adj @ grad


def symmetric_spmm(adj: Tensor, x: Tensor) -> Tensor:
    r""":math:`\mathbf{A}\mathbf{X}` for a *symmetric* sparse CSR matrix
    :obj:`adj` (shape :math:`(N, N)`) and a dense :obj:`x` (shape
    :math:`(N, d)`), differentiable in :obj:`x`.

    The gradient is :math:`\mathbf{A}^{\top}\mathbf{G} =
    \mathbf{A}\mathbf{G}`, computed with the same CSR matrix: autograd's
    generic backward of a CSR product converts :math:`\mathbf{A}^{\top}`
    to CSR on every call, which on the Gowalla shards was a quarter of a
    training step. The caller guarantees the symmetry (the normalised
    adjacency of :func:`bipartite_adjacency` is symmetric)."""
    return _SymmetricSpmm.apply(adj, x)


class LightGCNRec(torch.nn.Module):
    r"""PyG's :class:`~torch_geometric.nn.models.LightGCN` (`"LightGCN:
    Simplifying and Powering Graph Convolution Network for Recommendation"
    <https://arxiv.org/abs/2002.02126>`_) on the user--item graph.

    Users are nodes :math:`0..|\mathcal{U}|-1` and items follow. The
    normalised adjacency of the last graph seen is cached (keyed on the
    tensor and its version), so training does not renormalise it every
    step.

    Args:
        num_users (int): Number of users.
        num_items (int): Number of items.
        embedding_dim (int): Dimension :math:`d`. (default: :obj:`64`)
        num_layers (int): Propagation layers :math:`L`. (default: :obj:`3`)
    """
    def __init__(self, num_users: int, num_items: int,
                 embedding_dim: int = 64, num_layers: int = 3) -> None:
        super().__init__()
        _check_sizes(num_users, num_items, embedding_dim)
        if num_layers < 0:
            raise ValueError(f'num_layers must be >= 0, got {num_layers}')
        self.num_users, self.num_items = num_users, num_items
        self.embedding_dim, self.num_layers = embedding_dim, num_layers
        self.lightgcn = LightGCN(num_users + num_items, embedding_dim,
                                 num_layers)
        for conv in self.lightgcn.convs:
            conv.normalize = False  # we pass the normalised adjacency
        self._cache = None

    def reset_parameters(self) -> None:
        self.lightgcn.reset_parameters()

    def adjacency(self, edge_index: Tensor) -> Tensor:
        key = (id(edge_index), edge_index._version, edge_index.shape,
               edge_index.device)
        if self._cache is None or self._cache[0] != key:
            adj = bipartite_adjacency(edge_index, self.num_users,
                                      self.num_items)
            self._cache = (key, adj, edge_index)  # keep the tensor alive
        return self._cache[1]

    def forward(self, edge_index: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Returns the layer-averaged user and item representations,
        :math:`\sum_{l=0}^{L} \alpha_l \hat{\mathbf{A}}^l \mathbf{E}`
        (what :meth:`LightGCN.get_embedding` computes, with the symmetric
        backward of :func:`symmetric_spmm`)."""
        adj = self.adjacency(edge_index)
        x = self.lightgcn.embedding.weight
        alpha = self.lightgcn.alpha
        out = x * alpha[0]
        for layer in range(self.num_layers):
            x = symmetric_spmm(adj, x)
            out = out + x * alpha[layer + 1]
        return out[:self.num_users], out[self.num_users:]

    def rows(self, edge_index: Tensor, users: Tensor,
             items: Tensor) -> Tuple[Tensor, Tensor]:
        r"""The rows of :obj:`users` and :obj:`items` (after a full
        propagation)."""
        U, item = self(edge_index)
        return U[users], item[items]

    def ego(self, users: Tensor, items: Tensor) -> Tuple[Tensor, Tensor]:
        w = self.lightgcn.embedding.weight
        return w[users], w[items + self.num_users]

    def __getstate__(self):
        state = self.__dict__.copy()
        state['_cache'] = None
        return state

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_users} users, '
                f'{self.num_items} items, dim={self.embedding_dim}, '
                f'layers={self.num_layers})')


#: The names of the base recommenders.
RECOMMENDER_NAMES = ('mf', 'lightgcn')


def make_recommender(name: str, num_users: int, num_items: int,
                     embedding_dim: int = 64, num_layers: int = 3
                     ) -> torch.nn.Module:
    r"""Builds a base recommender by name (``'mf'`` or ``'lightgcn'``)."""
    if name not in RECOMMENDER_NAMES:
        raise ValueError(f"unknown recommender '{name}' (choose from "
                         f"{', '.join(RECOMMENDER_NAMES)})")
    if name == 'mf':
        return MF(num_users, num_items, embedding_dim)
    return LightGCNRec(num_users, num_items, embedding_dim, num_layers)


class _Optimizers:
    def __init__(self, optimizers) -> None:
        self.optimizers = optimizers

    def zero_grad(self) -> None:
        for o in self.optimizers:
            o.zero_grad()

    def step(self) -> None:
        for o in self.optimizers:
            o.step()


def make_optimizer(module: torch.nn.Module, lr: float) -> _Optimizers:
    r""":class:`torch.optim.SparseAdam` for the sparse-gradient
    embedding tables of :obj:`module`, :class:`torch.optim.Adam` for the
    other parameters; one object with ``zero_grad()`` and ``step()``."""
    sparse = [m.weight for m in module.modules()
              if isinstance(m, torch.nn.Embedding) and m.sparse]
    ids = {id(p) for p in sparse}
    dense = [p for p in module.parameters() if id(p) not in ids]
    opts = []
    if sparse:
        opts.append(torch.optim.SparseAdam(sparse, lr=lr))
    if dense:
        opts.append(torch.optim.Adam(dense, lr=lr))
    return _Optimizers(opts)


def _check_sizes(num_users: int, num_items: int, dim: int) -> None:
    if num_users <= 0 or num_items <= 0:
        raise ValueError(f'need at least one user and one item, got '
                         f'{num_users} users and {num_items} items')
    if dim <= 0:
        raise ValueError(f'embedding_dim must be positive, got {dim}')
