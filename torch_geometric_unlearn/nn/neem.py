r"""NEEM: the neighbour-enhanced embedding modulator of MetaEU."""
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Linear, Parameter
from torch_geometric.nn import MessagePassing

from .raeeg import add_inverse_edges


class BasisRelConv(MessagePassing):
    r"""Relational message passing with basis-decomposed relation weights
    (as in R-GCN, `"Modeling Relational Data with Graph Convolutional
    Networks" <https://arxiv.org/abs/1703.06103>`_), mean aggregation and a
    self-loop weight:

    .. math::
        \mathbf{x}_i' = \mathbf{W}_0 \mathbf{x}_i + \frac{1}{|\mathcal{N}(i)|}
        \sum_{(j, r) \in \mathcal{N}(i)} \sum_{b=1}^{B} a_{rb}
        \mathbf{V}_b \mathbf{x}_j

    Unlike :class:`torch_geometric.nn.conv.RGCNConv` it does not loop over
    relations: every node is projected onto the :math:`B` bases once and each
    edge mixes its source's projections with its relation's coefficients, a
    single scatter-mean over the edges.

    Args:
        in_channels (int): Input size.
        out_channels (int): Output size.
        num_relations (int): Number of edge types.
        num_bases (int): Number of bases :math:`B`.

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F_{in})`, edge
          indices :math:`(2, |\mathcal{E}|)`, edge types
          :math:`(|\mathcal{E}|)`
        - **output:** node features :math:`(|\mathcal{V}|, F_{out})`
    """
    def __init__(self, in_channels: int, out_channels: int,
                 num_relations: int, num_bases: int) -> None:
        super().__init__(aggr='mean', node_dim=0)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.num_relations, self.num_bases = num_relations, num_bases
        self.basis = Parameter(torch.empty(num_bases, in_channels,
                                           out_channels))
        self.comp = Parameter(torch.empty(num_relations, num_bases))
        self.root = Linear(in_channels, out_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        torch.nn.init.xavier_uniform_(self.basis)
        torch.nn.init.xavier_uniform_(self.comp)
        self.root.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_type: Tensor) -> Tensor:
        # [N, B, out]: every node on every basis, once.
        proj = torch.einsum('ni,bio->nbo', x, self.basis)
        out = self.propagate(edge_index, proj=proj, edge_type=edge_type,
                             size=(x.size(0), x.size(0)))
        return out + self.root(x)

    def message(self, proj_j: Tensor, edge_type: Tensor) -> Tensor:
        return (self.comp[edge_type].unsqueeze(-1) * proj_j).sum(dim=1)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.in_channels}, '
                f'{self.out_channels}, num_relations={self.num_relations}, '
                f'num_bases={self.num_bases})')


class NEEM(torch.nn.Module):
    r"""The neighbour-enhanced embedding modulator (NEEM) from the `"Learn to
    Unlearn: Meta-Learning-Based Knowledge Graph Embedding Unlearning"
    <https://arxiv.org/abs/2412.00881>`_ paper.

    :obj:`num_layers` :class:`BasisRelConv` layers over the graph with inverse
    edges (ReLU between them) and a jumping-knowledge output
    :math:`\mathrm{Linear}([\mathbf{h}_0 \| \mathbf{h}_1 \| \dots \|
    \mathbf{h}_L])` into the KGE embedding space. The input rows of
    unaffected entities are their *trained* embeddings and those of affected
    entities their :class:`RAEEG` embeddings, so generated rows live in the
    space of the untouched ones and no forgotten information flows through
    an affected neighbour.

    Args:
        num_relations (int): Number of relations :math:`|R|` (the layers see
            :math:`2|R|` edge types).
        channels (int): Size of the KGE embedding space (input and output).
        hidden_channels (int, optional): Hidden size. (default: ``channels``)
        num_layers (int, optional): :math:`L`. (default: :obj:`3`)
        num_bases (int, optional): Bases of the relation weights.
            (default: :obj:`4`)
        in_channels (int, optional): Input size, when it differs from
            :obj:`channels` (e.g. extra input features). (default:
            ``channels``)

    Shapes:
        - **input:** node features :math:`(|\mathcal{V}|, F_{in})`, edge
          indices :math:`(2, |\mathcal{E}|)`, edge types
          :math:`(|\mathcal{E}|)`
        - **output:** node features :math:`(|\mathcal{V}|, F)`
    """
    def __init__(self, num_relations: int, channels: int,
                 hidden_channels: Optional[int] = None, num_layers: int = 3,
                 num_bases: int = 4,
                 in_channels: Optional[int] = None) -> None:
        super().__init__()
        hidden = hidden_channels or channels
        in_channels = in_channels or channels
        self.num_relations = num_relations
        self.convs = torch.nn.ModuleList()
        for i in range(num_layers):
            self.convs.append(
                BasisRelConv(in_channels if i == 0 else hidden, hidden,
                             2 * num_relations, num_bases))
        self.jk = Linear(in_channels + num_layers * hidden, channels)

    def reset_parameters(self) -> None:
        for conv in self.convs:
            conv.reset_parameters()
        self.jk.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor,
                edge_type: Tensor) -> Tensor:
        ei, et = add_inverse_edges(edge_index, edge_type, self.num_relations)
        hs = [x]
        h = x
        for conv in self.convs:
            h = torch.relu(conv(h, ei, et))
            hs.append(h)
        return self.jk(torch.cat(hs, dim=-1))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_relations}, '
                f'{self.jk.out_features}, num_layers={len(self.convs)})')
