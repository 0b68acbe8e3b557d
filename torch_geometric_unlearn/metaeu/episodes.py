r"""Meta-training episodes: simulated deletions on small subgraphs."""
from dataclasses import dataclass
from typing import Optional

import torch
from torch_geometric.index import index2ptr
from torch import Tensor


class Incidence:
    r"""Per-entity incident edge lists of a KG (both directions) in CSR
    form, built once in :math:`O(|E| \log |E|)`; afterwards sampling the
    edges of :math:`k` entities costs :math:`O(k \cdot \text{cap})`,
    independent of the size of the graph.

    Args:
        edge_index (torch.Tensor): Heads and tails, ``[2, E]``.
        num_nodes (int): Number of entities.
    """
    def __init__(self, edge_index: Tensor, num_nodes: int) -> None:
        num_edges = edge_index.size(1)
        keys = edge_index.reshape(-1)  # heads then tails
        ids = torch.arange(num_edges).repeat(2)
        order = torch.argsort(keys, stable=True)
        self.edge_ids = ids[order]
        self.rowptr = index2ptr(keys[order], num_nodes)
        self.degree = self.rowptr.diff()

    def sample(self, nodes: Tensor, cap: Optional[int],
               generator: Optional[torch.Generator] = None) -> Tensor:
        r"""Unique ids of up to :obj:`cap` random incident edges of each of
        :obj:`nodes` (all of them for entities of degree :math:`\le`
        :obj:`cap`, or when :obj:`cap` is :obj:`None`)."""
        deg = self.degree[nodes]
        start = self.rowptr[nodes]
        if cap is None:
            cap = int(deg.max()) if deg.numel() else 0
        if nodes.numel() == 0 or cap == 0:
            return torch.empty(0, dtype=torch.long)
        off = torch.arange(cap).expand(nodes.numel(), cap)
        big = deg > cap
        if bool(big.any()):
            rnd = torch.rand(int(big.sum()), cap, generator=generator)
            off = off.clone()
            off[big] = (rnd * deg[big, None]).long()
        valid = off < deg[:, None]
        pos = (start[:, None] + off)[valid]
        return torch.unique(self.edge_ids[pos])

    def all_incident(self, nodes: Tensor) -> Tensor:
        r"""Unique ids of every edge incident to :obj:`nodes`."""
        return self.sample(nodes, None)


@dataclass
class Episode:
    r"""One simulated deletion on a subgraph (local node ids).

    Attributes:
        nodes (Tensor): Global ids of the subgraph's nodes ``[n]``.
        affected (Tensor): Boolean mask ``[n]`` of the target entities.
        support_index (Tensor): Visible triples' heads / tails ``[2, S]``.
        support_type (Tensor): Their relations ``[S]``.
        query_index (Tensor): Hidden triples (the loss) ``[2, Q]``.
        query_type (Tensor): Their relations ``[Q]``.
        num_forget (int): Pseudo-forgotten triples (dropped).
        forget_index (Tensor, optional): Their heads / tails ``[2, F]``.
        forget_type (Tensor, optional): Their relations ``[F]``.
    """
    nodes: Tensor
    affected: Tensor
    support_index: Tensor
    support_type: Tensor
    query_index: Tensor
    query_type: Tensor
    num_forget: int
    forget_index: Optional[Tensor] = None
    forget_type: Optional[Tensor] = None


class EpisodeSampler:
    r"""Samples meta-training episodes of MetaEU on a KG.

    An episode simulates a deletion request: :obj:`num_forget` random
    training triples are pseudo-forgotten (dropped), their entities are the
    targets; up to :obj:`max_edges` of each target's other triples are
    drawn and split at random into *support* (visible to the generator) and
    *query* (hidden, scored by the loss). The subgraph is the targets and
    the other ends of those triples, so an episode costs
    :math:`O(\text{num\_forget} \cdot \text{max\_edges})` whatever the size
    of the KG.

    Args:
        edge_index (torch.Tensor): Training heads / tails ``[2, E]``.
        edge_type (torch.Tensor): Relations ``[E]``.
        num_nodes (int): Number of entities.
        num_forget (int, optional): Pseudo-forgotten triples per episode.
            (default: :obj:`128`)
        max_edges (int, optional): Triples drawn per target.
            (default: :obj:`32`)
        query_ratio (float, optional): Share of a target's triples that are
            hidden as queries. (default: :obj:`0.25`)
        forget_queries (bool, optional): Also score the pseudo-forgotten
            triples as queries: a model retrained without a triple still
            ranks it as well as its other unseen triples, and these are the
            queries whose two ends are both regenerated, as in a real
            request. (default: :obj:`False`)
    """
    def __init__(self, edge_index: Tensor, edge_type: Tensor, num_nodes: int,
                 num_forget: int = 128, max_edges: int = 32,
                 query_ratio: float = 0.25,
                 forget_queries: bool = False) -> None:
        if not 0.0 < query_ratio < 1.0:
            raise ValueError('query_ratio must lie in (0, 1)')
        if edge_index.size(1) < 2:
            raise ValueError('meta-training needs at least two triples')
        self.edge_index = edge_index
        self.edge_type = edge_type
        self.num_nodes = int(num_nodes)
        self.num_forget = int(min(num_forget, edge_index.size(1) // 2))
        self.max_edges = int(max_edges)
        self.query_ratio = float(query_ratio)
        self.forget_queries = bool(forget_queries)
        self.incidence = Incidence(edge_index, num_nodes)

    def sample(self, generator: Optional[torch.Generator] = None) -> Episode:
        num_edges = self.edge_index.size(1)
        forget = torch.randperm(num_edges, generator=generator)
        forget = forget[:self.num_forget]
        targets = torch.unique(self.edge_index[:, forget].reshape(-1))
        edges = self.incidence.sample(targets, self.max_edges, generator)
        dropped = torch.zeros(num_edges, dtype=torch.bool)
        dropped[forget] = True
        edges = edges[~dropped[edges]]
        is_query = torch.rand(edges.numel(),
                              generator=generator) < self.query_ratio
        if self.forget_queries:
            edges = torch.cat([edges, forget])
            is_query = torch.cat([is_query, torch.ones(forget.numel(),
                                                       dtype=torch.bool)])
        ei = self.edge_index[:, edges]
        nodes, local = torch.unique(torch.cat([targets, ei.reshape(-1)]),
                                    return_inverse=True)
        local_ei = local[targets.numel():].view(2, -1)
        # The pseudo-forgotten triples' ends are targets, so in the nodes.
        forget_local = torch.searchsorted(nodes,
                                          self.edge_index[:, forget])
        affected = torch.zeros(nodes.numel(), dtype=torch.bool)
        affected[local[:targets.numel()]] = True
        et = self.edge_type[edges]
        return Episode(nodes=nodes, affected=affected,
                       support_index=local_ei[:, ~is_query],
                       support_type=et[~is_query],
                       query_index=local_ei[:, is_query],
                       query_type=et[is_query],
                       num_forget=int(forget.numel()),
                       forget_index=forget_local,
                       forget_type=self.edge_type[forget])
