r"""The retained training graph of a sequence of deletion requests, kept as
the original graph plus a mask of the triples still there, so that serving
a request costs what the request touches, not what the graph holds.

A deletion transform (:class:`~torch_geometric_unlearn.transforms.
ForgetTriples`, ...) maps a graph to a new graph: every request scans and
copies all :math:`E` triples, which is what makes a request on
``ogbl-wikikg2`` (16M triples) cost seconds. :class:`RetainedGraph` answers
the same questions from indexes built once over the original graph
(:class:`TripleIndex`): the edge ids of requested triples by binary search
over sorted triple keys, the triples incident to an entity from a CSR
incidence list, and the graph's multiset digest
(:func:`~torch_geometric_unlearn.utils.fingerprint.edge_digest`) updated
by subtraction. The retained graph as a
:class:`~torch_geometric.data.Data` is built only when asked for
(:meth:`RetainedGraph.to_data`), in the original edge order, exactly as the
transforms would have left it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.index import index2ptr

from .kg import triple_keys

__all__ = ['TripleIndex', 'RetainedGraph', 'ForgetResult', 'segment_ids']


def segment_ids(start: Tensor, end: Tensor) -> Tensor:
    r"""The integers of every range ``start[i] .. end[i] - 1`` ``[K]``,
    concatenated in order, in :math:`O(K + \text{output})` (e.g. the
    entries of some rows of a CSR structure)."""
    count = (end - start).clamp(min=0)
    total = int(count.sum())
    if total == 0:
        return torch.zeros(0, dtype=torch.long)
    shift = torch.repeat_interleave(start - (torch.cumsum(count, 0) - count),
                                    count)
    return shift + torch.arange(total)


class TripleIndex:
    r"""Lookup structures over a fixed graph's triples, built once in
    :math:`O(E \log E)`.

    * :meth:`find`: the edge ids of given ``(head, relation, tail)`` rows
      (every copy of a duplicated triple), :math:`O(F \log E)`;
    * :meth:`incident`: the edges whose head or tail is one of given
      entities, :math:`O(\text{their degrees})`.

    Args:
        edge_index (Tensor): Heads and tails ``[2, E]``.
        edge_type (Tensor): Relations ``[E]``.
        num_nodes (int): Number of entities :math:`N`.
        num_relations (int): Number of relations :math:`R`.
    """
    def __init__(self, edge_index: Tensor, edge_type: Tensor,
                 num_nodes: int, num_relations: int) -> None:
        self.num_nodes, self.num_relations = int(num_nodes), int(num_relations)
        keys = triple_keys(edge_index[0], edge_type, edge_index[1],
                           self.num_nodes, self.num_relations)
        self.keys, self.order = torch.sort(keys, stable=True)
        E = edge_index.size(1)
        ends = edge_index.reshape(-1)
        eid = torch.arange(E).repeat(2)
        perm = torch.argsort(ends, stable=True)
        self.incident_edges = eid[perm]
        self.ptr = index2ptr(ends[perm], self.num_nodes)

    def degree(self, entities: Tensor) -> Tensor:
        r"""The degree ``[K]`` of each entity in the indexed graph (a
        self-loop counts twice)."""
        return self.ptr[entities + 1] - self.ptr[entities]

    def find(self, triples: Tensor):
        r"""The edge ids ``[M]`` of the rows ``[F, 3]`` and, for each of
        them, which row it matches ``[M]``; a row absent from the graph
        matches none."""
        q = triple_keys(triples[:, 0], triples[:, 1], triples[:, 2],
                        self.num_nodes, self.num_relations)
        lo = torch.searchsorted(self.keys, q, side='left')
        hi = torch.searchsorted(self.keys, q, side='right')
        which = torch.repeat_interleave(torch.arange(q.numel()), hi - lo)
        pos = segment_ids(lo, hi)
        return self.order[pos], which

    def incident(self, entities: Tensor) -> Tensor:
        r"""The ids of the edges incident to :obj:`entities` ``[K]`` (an
        edge between two of them, or a self-loop, appears more than
        once)."""
        return self.incident_edges[segment_ids(self.ptr[entities],
                                               self.ptr[entities + 1])]


@dataclass
class ForgetResult:
    r"""What :meth:`RetainedGraph.forget` removed.

    Attributes:
        edge_ids (Tensor): The forgotten edges' ids in the original graph,
            sorted ``[F]``.
        triples (Tensor): Their ``(head, relation, tail)`` rows ``[F, 3]``.
        affected (Tensor): The sorted ids of their heads and tails ``[A]``.
    """
    edge_ids: Tensor
    triples: Tensor
    affected: Tensor


#: Share of a graph's edges above which :meth:`RetainedGraph.incident`
#: deduplicates through a mask over every edge rather than a sort.
DENSE_INCIDENT = 1 / 16


class RetainedGraph:
    r"""The original training graph and the mask of the triples that are
    still retained after the requests served so far.

    Args:
        original (Data): The original graph (:obj:`edge_index`,
            :obj:`edge_type`, :obj:`num_nodes`, :obj:`num_relations`).
        alive (Tensor, optional): Boolean ``[E]`` mask of the retained
            triples (default: all).
        index (TripleIndex, optional): A prebuilt index of
            :obj:`original` (default: built on first use).
    """
    def __init__(self, original: Data, alive: Optional[Tensor] = None,
                 index: Optional[TripleIndex] = None) -> None:
        self.original = original
        E = original.edge_index.size(1)
        self.alive = torch.ones(E, dtype=torch.bool) if alive is None \
            else alive.clone()
        if self.alive.shape != (E, ) or self.alive.dtype != torch.bool:
            raise ValueError(f"'alive' must be a boolean mask of shape "
                             f"[{E}] (got {tuple(self.alive.shape)}, "
                             f"{self.alive.dtype})")
        self._index = index
        self._data: Optional[Data] = original if alive is None else None
        self._digest: Optional[int] = None

    @classmethod
    def from_subgraph(cls, original: Data, data: Data,
                      index: Optional[TripleIndex] = None
                      ) -> 'RetainedGraph':
        r"""The retained graph :obj:`data`, a subgraph of :obj:`original`
        (every copy of a triple of :obj:`data` counts as retained)."""
        n, R = int(original.num_nodes), int(original.num_relations)
        if int(data.num_nodes) != n:
            raise ValueError(f'the retained graph has {data.num_nodes} '
                             f'entities, the original {n}')
        keys = triple_keys(original.edge_index[0], original.edge_type,
                           original.edge_index[1], n, R)
        have = triple_keys(data.edge_index[0], data.edge_type,
                           data.edge_index[1], n, R)
        alive = torch.isin(keys, have)
        if int(alive.sum()) < have.numel():
            raise ValueError('the retained graph holds triples that are not '
                             'in the original training graph')
        out = cls(original, alive, index)
        out._data = data
        return out

    @property
    def index(self) -> TripleIndex:
        r"""The :class:`TripleIndex` of the original graph."""
        if self._index is None:
            g = self.original
            self._index = TripleIndex(g.edge_index, g.edge_type,
                                      int(g.num_nodes),
                                      int(g.num_relations))
        return self._index

    @property
    def num_nodes(self) -> int:
        return int(self.original.num_nodes)

    @property
    def num_relations(self) -> int:
        return int(self.original.num_relations)

    def to_data(self) -> Data:
        r"""The retained graph as a :class:`~torch_geometric.data.Data`
        (built once per state, in the original edge order)."""
        if self._data is None:
            g = self.original
            keep = self.alive.nonzero().view(-1)
            self._data = Data(edge_index=g.edge_index[:, keep],
                              edge_type=g.edge_type[keep],
                              num_nodes=int(g.num_nodes),
                              num_relations=int(g.num_relations))
        return self._data

    def digest(self) -> int:
        r"""The retained triples' multiset digest
        (:func:`~torch_geometric_unlearn.utils.fingerprint.edge_digest`),
        kept up to date by :meth:`forget`."""
        if self._digest is None:
            from ..utils.fingerprint import edge_digest
            g = self.to_data()
            self._digest = edge_digest(g.edge_index, g.edge_type,
                                       self.num_nodes, self.num_relations)
        return self._digest

    def snapshot(self) -> 'RetainedGraph':
        r"""A frozen copy of the current state (the mask is copied, one
        byte per original triple; the index is shared), e.g. for a result
        whose graph is built later."""
        out = RetainedGraph(self.original, self.alive, self._index)
        out._data, out._digest = self._data, self._digest
        return out

    def restore(self, removed: 'ForgetResult') -> None:
        r"""Undoes :meth:`forget` (after a failed request)."""
        if self._digest is not None:
            from ..utils.fingerprint import edge_digest
            back = edge_digest(self.original.edge_index[:, removed.edge_ids],
                               self.original.edge_type[removed.edge_ids],
                               self.num_nodes, self.num_relations)
            self._digest = (self._digest + back) & ((1 << 64) - 1)
        self.alive[removed.edge_ids] = True
        self._data = None

    def triples_of(self, edge_ids: Tensor) -> Tensor:
        r"""The ``(head, relation, tail)`` rows ``[F, 3]`` of original edge
        ids ``[F]``."""
        g = self.original
        return torch.stack([g.edge_index[0, edge_ids], g.edge_type[edge_ids],
                            g.edge_index[1, edge_ids]], 1)

    def incident(self, entities: Tensor) -> Tensor:
        r"""The sorted ids of the *retained* edges incident to
        :obj:`entities` ``[K]`` (each once).

        A large incidence list (over :data:`DENSE_INCIDENT` of the edges)
        is deduplicated through a mask over the edges, one pass instead of
        a sort; a small one by sorting it, so that the cost stays with the
        entities' degrees, not the graph's size."""
        inc = self.index.incident(entities)
        if inc.numel() > DENSE_INCIDENT * self.alive.numel():
            mask = torch.zeros_like(self.alive)
            mask[inc] = True
            return (mask & self.alive).nonzero().view(-1)
        ids = torch.unique(inc)
        return ids[self.alive[ids]]

    def locate(self, triples: Tensor):
        r"""Every original edge id matching the rows ``[F, 3]``: ``(ids,
        which)``, as :meth:`TripleIndex.find`."""
        return self.index.find(triples)

    def forget(self, edge_ids: Tensor) -> ForgetResult:
        r"""Removes the retained edges :obj:`edge_ids` (original ids; each
        must still be retained) and returns what was removed."""
        ids = torch.unique(edge_ids)
        if ids.numel() and not bool(self.alive[ids].all()):
            raise ValueError('some of the edges are not retained any more')
        triples = self.triples_of(ids)
        if self._digest is not None:
            from ..utils.fingerprint import edge_digest
            gone = edge_digest(self.original.edge_index[:, ids],
                               self.original.edge_type[ids],
                               self.num_nodes, self.num_relations)
            self._digest = (self._digest - gone) & ((1 << 64) - 1)
        self.alive[ids] = False
        self._data = None
        affected = torch.unique(torch.cat([triples[:, 0], triples[:, 2]]))
        return ForgetResult(edge_ids=ids, triples=triples, affected=affected)
