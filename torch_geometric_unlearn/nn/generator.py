r"""MetaEU's embedding generator: RAEEG + implied-embedding prior + NEEM."""
from typing import Callable, Optional

import torch
from torch import Tensor
from torch_geometric.utils import scatter

from .neem import NEEM
from .raeeg import RAEEG, add_inverse_edges

#: ``implied(src_rows [E, D], edge_type [E]) -> [E, D]``: the representation
#: of an edge's target that the KGE model's scoring function implies from the
#: source's representation (edge types ``>= num_relations`` are inverse).
ImpliedFn = Callable[[Tensor, Tensor], Tensor]


class EmbeddingGenerator(torch.nn.Module):
    r"""The entity embedding generator of MetaEU, from the `"Learn to
    Unlearn: Meta-Learning-Based Knowledge Graph Embedding Unlearning"
    <https://arxiv.org/abs/2412.00881>`_ paper: a :class:`RAEEG` initial
    embedding and a :class:`NEEM` modulation over the retained neighbourhood
    of the affected entities.

    Given the retained graph around the affected entities, the trained
    representations :math:`\mathbf{x}` of the unaffected entities and a mask
    of the affected ones, it returns new representations for the affected
    entities (the others are returned unchanged). Entity ids never enter it.

    When the KGE model's scoring function is passed as :obj:`implied` (e.g.
    :math:`\mathbf{t} - \mathbf{r}` for the head of a TransE triple
    :math:`(h, r, t)`), each affected entity also gets the mean of what its
    retained triples imply, first from unaffected neighbours only (no
    forgotten information flows through an affected neighbour), then, in
    later passes, also from the affected neighbours' freshly generated
    representations. NEEM then predicts a correction of that mean; its
    output layer starts at zero, so an untrained generator *is* the
    learning-free mean estimate and meta-training can only improve on it
    (validation keeps the best state). Without :obj:`implied` the base is
    the RAEEG embedding, as in the paper.

    .. math::
        \mathbf{b}_i = \frac{1}{|\mathcal{N}(i)|} \sum_{(j, r) \in
        \mathcal{N}(i)} \phi_r(\mathbf{x}_j), \qquad
        \mathbf{x}_i' = \mathbf{b}_i + \mathrm{NEEM}\big(
        [\mathbf{x} \,\|\, \mathrm{RAEEG}(\mathcal{G})]\big)_i

    Args:
        num_relations (int): Number of relations :math:`|R|`.
        channels (int): Size :math:`D` of an entity representation (real
            and imaginary parts side by side for ComplEx / RotatE).
        hidden_channels (int, optional): Hidden size of NEEM.
            (default: :obj:`64`)
        num_layers (int, optional): NEEM layers. (default: :obj:`3`)
        num_bases (int, optional): Bases of NEEM's relation weights.
            (default: :obj:`4`)
        match_norm (bool, optional): Rescale each base estimate to the mean
            norm of the neighbours it was read from (for dot-product models,
            whose implied directions carry no meaningful scale).
            (default: :obj:`False`)
        num_passes (int, optional): Generation passes; pass :math:`p > 0`
            reads the affected neighbours' representations of pass
            :math:`p - 1`. (default: :obj:`1`)

    Shapes:
        - **input:** representations :math:`(|\mathcal{V}|, D)` (rows of
          affected entities are ignored), edge indices
          :math:`(2, |\mathcal{E}|)`, edge types :math:`(|\mathcal{E}|)`,
          affected mask :math:`(|\mathcal{V}|)`
        - **output:** representations :math:`(|\mathcal{V}|, D)`
    """
    def __init__(self, num_relations: int, channels: int,
                 hidden_channels: int = 64, num_layers: int = 3,
                 num_bases: int = 4, num_passes: int = 1,
                 match_norm: bool = False) -> None:
        super().__init__()
        if num_passes < 1:
            raise ValueError('num_passes must be at least 1')
        self.num_relations = int(num_relations)
        self.channels = int(channels)
        self.num_passes = int(num_passes)
        self.match_norm = bool(match_norm)
        self.raeeg = RAEEG(num_relations, channels)
        self.neem = NEEM(num_relations, channels, hidden_channels,
                         num_layers=num_layers, num_bases=num_bases,
                         in_channels=2 * channels)
        # Typical magnitude of a coordinate of the KGE representations: the
        # layers see inputs divided by it and their output is multiplied by
        # it (set it with :meth:`set_scale`).
        self.register_buffer('scale', torch.ones(()))
        self.reset_parameters()

    @torch.no_grad()
    def set_scale(self, x: Tensor) -> None:
        r"""Sets the input / output scale to the root mean square of the
        representations :obj:`x`."""
        rms = x.detach().pow(2).mean().sqrt()
        self.scale.fill_(float(rms) if float(rms) > 0 else 1.0)

    def reset_parameters(self) -> None:
        self.raeeg.reset_parameters()
        self.neem.reset_parameters()
        torch.nn.init.zeros_(self.neem.jk.weight)
        torch.nn.init.zeros_(self.neem.jk.bias)

    def base(self, x: Tensor, edge_index: Tensor, edge_type: Tensor,
             affected: Tensor, x_raeeg: Tensor,
             implied: Optional[ImpliedFn], first: bool) -> Tensor:
        r"""The mean implied representation of every node (or its RAEEG
        embedding where none is available)."""
        if implied is None:
            return x_raeeg
        ei, et = add_inverse_edges(edge_index, edge_type, self.num_relations)
        src, dst = ei
        # Only affected nodes need a base; the first pass reads unaffected
        # neighbours only.
        need = affected[dst]
        if first:
            need = need & ~affected[src]
        src, dst, et = src[need], dst[need], et[need]
        msg = implied(x[src], et)
        n = x.size(0)
        total = scatter(msg, dst, dim=0, dim_size=n, reduce='sum')
        count = torch.bincount(dst, minlength=n).to(msg.dtype)
        mean = total / count.clamp(min=1)[:, None]
        if self.match_norm:
            norm = scatter(x[src].norm(dim=-1), dst, dim=0, dim_size=n,
                           reduce='sum') / count.clamp(min=1)
            mean = mean * (norm / mean.norm(dim=-1).clamp(min=1e-12))[:, None]
        return torch.where((count > 0)[:, None], mean, x_raeeg)

    def forward(self, x: Tensor, edge_index: Tensor, edge_type: Tensor,
                affected: Tensor, implied: Optional[ImpliedFn] = None,
                return_base: bool = False,
                base_edge_index: Optional[Tensor] = None,
                base_edge_type: Optional[Tensor] = None):
        r"""Generates the representations of the affected nodes.

        Args:
            x (torch.Tensor): Representations ``[N, D]`` of the nodes
                (trained ones for unaffected nodes).
            edge_index (torch.Tensor): Retained triples' heads and tails,
                ``[2, E]`` (local node ids, no inverse edges).
            edge_type (torch.Tensor): Their relations, ``[E]``.
            affected (torch.Tensor): Boolean mask ``[N]``.
            implied (callable, optional): The scoring function's implied
                representation (see :data:`ImpliedFn`). (default:
                :obj:`None`)
            return_base (bool, optional): Also return the first pass's base
                estimate (the learning-free mean). (default: :obj:`False`)
            base_edge_index (torch.Tensor, optional): A larger set of
                retained triples ``[2, E']`` for the implied mean only (it is
                cheap; the message passing may run on a sample).
                (default: :obj:`None`, the same edges)
            base_edge_type (torch.Tensor, optional): Their relations.
        """
        if x.dim() != 2 or x.size(1) != self.channels:
            raise ValueError(f'expected x of shape [N, {self.channels}], got '
                             f'{list(x.shape)}')
        if affected.dtype != torch.bool or affected.numel() != x.size(0):
            raise ValueError('affected must be a boolean mask of size N')
        n = x.size(0)
        aff = affected[:, None]
        s = self.scale
        # RAEEG and NEEM work in units of the representations' typical size.
        x_raeeg = self.raeeg(edge_index, edge_type, n)
        cur = torch.where(aff, x_raeeg * s, x)
        first_base = None
        if base_edge_index is None:
            base_edge_index, base_edge_type = edge_index, edge_type
        for p in range(self.num_passes):
            b = self.base(cur, base_edge_index, base_edge_type, affected,
                          x_raeeg * s, implied, first=(p == 0))
            if first_base is None:
                first_base = b
            inp = torch.where(aff, b, x) / s
            delta = self.neem(torch.cat([inp, x_raeeg], dim=-1), edge_index,
                              edge_type)
            cur = torch.where(aff, b + delta * s, x)
        if return_base:
            return cur, torch.where(aff, first_base, x)
        return cur

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.num_relations}, '
                f'{self.channels}, num_passes={self.num_passes})')
