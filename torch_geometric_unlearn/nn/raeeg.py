r"""RAEEG: the relation-aware entity embedding generator of MetaEU."""
from typing import Optional

import torch
from torch import Tensor
from torch.nn import Parameter
from torch_geometric.nn import MessagePassing
from torch_geometric.utils import degree


def add_inverse_edges(edge_index: Tensor, edge_type: Tensor,
                      num_relations: int):
    r"""Appends the inverse of every edge, typed :math:`r + |R|`.

    Args:
        edge_index (torch.Tensor): Heads and tails, ``[2, E]``.
        edge_type (torch.Tensor): Relation ids, ``[E]``.
        num_relations (int): :math:`|R|`.

    Returns:
        ``(edge_index [2, 2E], edge_type [2E])``.
    """
    return (torch.cat([edge_index, edge_index.flip(0)], dim=1),
            torch.cat([edge_type, edge_type + num_relations]))


class RAEEG(MessagePassing):
    r"""The relation-aware entity embedding generator (RAEEG) from the
    `"Learn to Unlearn: Meta-Learning-Based Knowledge Graph Embedding
    Unlearning" <https://arxiv.org/abs/2412.00881>`_ paper.

    An entity's embedding is the mean, over its incident triples, of a
    relation's *domain* vector when the entity is the head and of its *range*
    vector when it is the tail:

    .. math::
        \mathbf{x}_i = \frac{1}{|\mathcal{N}(i)|} \Big(
        \sum_{(i, r, t)} \mathbf{R}^{\mathrm{dom}}_r +
        \sum_{(h, r, i)} \mathbf{R}^{\mathrm{ran}}_r \Big)

    An entity without any incident triple gets a learned "unknown" vector.
    Entity ids never enter the layer, so it is inductive; the mean makes it
    invariant to the order of the edges.

    Args:
        num_relations (int): Number of relations :math:`|R|`.
        out_channels (int): Embedding size (for ComplEx / RotatE, the real
            and imaginary parts side by side: ``2 * hidden_channels``).

    Shapes:
        - **input:** edge indices :math:`(2, |\mathcal{E}|)`, edge types
          :math:`(|\mathcal{E}|)`
        - **output:** node features :math:`(|\mathcal{V}|, F_{out})`
    """
    def __init__(self, num_relations: int, out_channels: int) -> None:
        super().__init__(aggr='mean')
        self.num_relations = int(num_relations)
        self.out_channels = int(out_channels)
        self.rel_domain = Parameter(torch.empty(num_relations, out_channels))
        self.rel_range = Parameter(torch.empty(num_relations, out_channels))
        self.unknown = Parameter(torch.empty(out_channels))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        super().reset_parameters()
        torch.nn.init.xavier_uniform_(self.rel_domain)
        torch.nn.init.xavier_uniform_(self.rel_range)
        torch.nn.init.normal_(self.unknown, std=0.1)

    def forward(self, edge_index: Tensor, edge_type: Tensor,
                num_nodes: Optional[int] = None) -> Tensor:
        r"""Generates embeddings for all :obj:`num_nodes` entities.

        Args:
            edge_index (torch.Tensor): Heads and tails, ``[2, E]``.
            edge_type (torch.Tensor): Relation ids, ``[E]``.
            num_nodes (int, optional): Number of entities.
                (default: ``edge_index.max() + 1``)
        """
        if num_nodes is None:
            num_nodes = int(edge_index.max()) + 1 if edge_index.numel() else 0
        if edge_type.numel() and (int(edge_type.min()) < 0 or int(
                edge_type.max()) >= self.num_relations):
            raise ValueError(f'edge types must lie in [0, '
                             f'{self.num_relations - 1}]')
        ei, et = add_inverse_edges(edge_index, edge_type, self.num_relations)
        # A tail receives the relation's range vector along h -> t; a head
        # the domain vector along the inverse edge t -> h.
        table = torch.cat([self.rel_range, self.rel_domain], dim=0)
        out = self.propagate(ei, rel=table[et], size=(num_nodes, num_nodes))
        lonely = degree(ei[1], num_nodes) == 0
        return torch.where(lonely[:, None], self.unknown.expand_as(out), out)

    def message(self, rel: Tensor) -> Tensor:
        return rel

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_relations}, '
                f'{self.out_channels})')
