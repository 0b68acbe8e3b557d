r"""Filtered link-prediction evaluation of knowledge graph embedding models.

For every evaluation triple :math:`(h, r, t)` the model ranks the true tail
among all entities for the query :math:`(h, r, ?)` and the true head for
:math:`(?, r, t)` (the *filtered* setting of `"Translating Embeddings for
Modeling Multi-relational Data" <https://proceedings.neurips.cc/paper/2013/
file/1cecc7a77928ca8133fa24680a88d2f9-Paper.pdf>`_): candidates that form
another known true triple are removed before ranking; the target itself never
is. With :math:`s` the target's score and :math:`\mathcal{C}` the remaining
candidates (target excluded),

.. math::
    \mathrm{rank}_{\mathrm{opt}} = 1 + |\{ e \in \mathcal{C} : s_e > s \}|,
    \qquad
    \mathrm{rank}_{\mathrm{pess}} = 1 + |\{ e \in \mathcal{C} : s_e \geq s
    \}|,

and the *realistic* rank is their mean, as in OGB and PyKEEN. Metrics are
MRR, MR and Hits@k over both directions.

The filter is compiled once into sorted :obj:`int64` keys with a CSR layout
per query group (:class:`TripleFilter`); queries are processed in batches,
de-duplicated (triples sharing :math:`(h, r)` or :math:`(r, t)` share one
score row) and filtered by index operations.
"""
from __future__ import annotations

import threading
from typing import Dict, Iterable, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.nn.kge import KGEModel
from tqdm import tqdm

from ..datasets.kg import check_kg, isin_sorted, to_triples, triple_keys
from ..utils.fingerprint import check_finite
from .scoring import get_scorer, thread_pool

__all__ = [
    'TripleFilter',
    'LinkPredictionEvaluator',
    'evaluate',
    'rank_metrics',
    'rank_against_negatives',
    'combine_ranks',
    'as_triples',
]

TripleLike = Union[Tensor, Data, Sequence[Union[Tensor, Data]]]

SIDES = ('both', 'head', 'tail')
RANK_TYPES = ('realistic', 'optimistic', 'pessimistic')


def as_triples(triples: TripleLike, num_nodes: int, num_relations: int,
               name: str = 'triples') -> Tensor:
    r"""Validates and converts triples to a ``[E, 3]`` :obj:`LongTensor` of
    ``(head, relation, tail)`` rows.

    Args:
        triples (torch.Tensor or Data or list): A ``[E, 3]`` tensor, a KG
            split :class:`~torch_geometric.data.Data` (``edge_index``,
            ``edge_type``), or a list of these (concatenated).
        num_nodes (int): Number of entities.
        num_relations (int): Number of relations.
        name (str, optional): Name used in error messages.
            (default: :obj:`"triples"`)

    Raises:
        ValueError: On a wrong shape or dtype, or ids out of range.
    """
    if isinstance(triples, (list, tuple)):
        parts = [
            as_triples(t, num_nodes, num_relations, f'{name}[{i}]')
            for i, t in enumerate(triples)
        ]
        if not parts:
            return torch.empty(0, 3, dtype=torch.long)
        device = parts[0].device
        return torch.cat([p.to(device) for p in parts], dim=0)
    if isinstance(triples, Data):
        if getattr(triples, 'num_relations', None) is None:
            # PyG's own KG datasets (FB15k_237, WordNet18RR) carry no
            # 'num_relations': the given one bounds the ids (checked below).
            triples = Data(edge_index=getattr(triples, 'edge_index', None),
                           edge_type=getattr(triples, 'edge_type', None),
                           num_relations=int(num_relations))
        try:
            check_kg(triples, name)
        except TypeError as e:  # pragma: no cover
            raise ValueError(str(e)) from e
        triples = to_triples(triples)
    if not isinstance(triples, Tensor):
        raise ValueError(f"'{name}' must be a [E, 3] tensor, a KG Data "
                         f"object or a list of these (got "
                         f"{type(triples).__name__})")
    if triples.dim() != 2 or triples.size(1) != 3:
        hint = ''
        if triples.dim() == 2 and triples.size(0) == 3:
            hint = ' (a [3, E] tensor? pass its transpose)'
        raise ValueError(f"'{name}' must have shape [E, 3] with (head, "
                         f"relation, tail) rows (got "
                         f"{list(triples.shape)}){hint}")
    if triples.is_floating_point() or triples.is_complex() or \
            triples.dtype == torch.bool:
        raise ValueError(f"'{name}' must hold integer ids (got "
                         f"{triples.dtype})")
    triples = triples.long()
    if triples.numel() > 0:
        ent = triples[:, [0, 2]]
        rel = triples[:, 1]
        lo, hi = int(ent.min()), int(ent.max())
        if lo < 0 or hi >= num_nodes:
            raise ValueError(f"'{name}' has entity ids in [{lo}, {hi}], "
                             f"outside [0, {num_nodes - 1}]")
        lo, hi = int(rel.min()), int(rel.max())
        if lo < 0 or hi >= num_relations:
            raise ValueError(f"'{name}' has relation ids in [{lo}, {hi}], "
                             f"outside [0, {num_relations - 1}]")
    return triples


class _GroupIndex:
    r"""CSR view of sorted, unique :obj:`int64` keys
    :obj:`group * num_nodes + value`: for each group the sorted values."""
    def __init__(self, keys: Tensor, num_nodes: int) -> None:
        self.keys = keys  # sorted, unique
        self.num_nodes = num_nodes
        self.values = keys % num_nodes
        groups, counts = torch.unique_consecutive(keys // num_nodes,
                                                  return_counts=True)
        self.groups = groups
        self.ptr = torch.cat([counts.new_zeros(1), counts.cumsum(0)])

    def to(self, device: torch.device) -> '_GroupIndex':
        out = _GroupIndex.__new__(_GroupIndex)
        out.num_nodes = self.num_nodes
        for key in ('keys', 'values', 'groups', 'ptr'):
            setattr(out, key, getattr(self, key).to(device))
        return out

    def lookup(self, group: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Start offsets and sizes ``[B]`` of the given groups (size 0 for
        unknown groups)."""
        if self.groups.numel() == 0:
            zero = torch.zeros_like(group)
            return zero, zero
        pos = torch.searchsorted(self.groups, group)
        pos = pos.clamp_(max=self.groups.numel() - 1)
        found = self.groups[pos] == group
        start = self.ptr[pos]
        count = torch.where(found, self.ptr[pos + 1] - start,
                            torch.zeros_like(start))
        return start, count

    def expand(self, group: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        r"""All ``(query row, known value)`` pairs of the given groups, and
        the group sizes ``[B]``."""
        start, count = self.lookup(group)
        total = int(count.sum())
        row = torch.repeat_interleave(
            torch.arange(group.numel(), device=group.device), count,
            output_size=total)
        # Pair i of query b sits at start[b] + (i - first pair of b):
        shift = start - (count.cumsum(0) - count)
        col = self.values[torch.arange(total, device=group.device) +
                          shift[row]]
        return row, col, count

    def contains(self, keys: Tensor) -> Tensor:
        r"""Membership of the given keys, boolean ``[B]``."""
        return isin_sorted(keys, self.keys)


class TripleFilter:
    r"""A set of known true triples compiled for filtered ranking.

    The triples are encoded once as sorted unique :obj:`int64` keys in two
    layouts: :math:`((h \cdot |R| + r) \cdot |E| + t)` groups the known tails
    of each :math:`(h, r)` query, :math:`((r \cdot |E| + t) \cdot |E| + h)`
    the known heads of each :math:`(r, t)` query. Each layout is a CSR index
    (group keys, offsets, values), so looking up a batch of queries is a
    :func:`torch.searchsorted` plus :func:`torch.repeat_interleave`, with no
    Python loop.

    Args:
        triples (torch.Tensor or Data or list): Known triples, ``[M, 3]``
            (or KG splits, see :func:`as_triples`); duplicates are allowed.
        num_nodes (int): Number of entities.
        num_relations (int): Number of relations.
    """
    def __init__(self, triples: TripleLike, num_nodes: int,
                 num_relations: int) -> None:
        self.num_nodes = int(num_nodes)
        self.num_relations = int(num_relations)
        if self.num_nodes**2 * max(self.num_relations, 1) >= 2**63:
            raise OverflowError('graph too large for int64 triple keys')
        triples = as_triples(triples, self.num_nodes, self.num_relations,
                             'filter_triples').cpu()
        n, r = self.num_nodes, self.num_relations
        head, rel, tail = triples.unbind(dim=1)
        tail_keys = torch.unique(triple_keys(head, rel, tail, n, r))  # sorted
        head_keys = torch.unique((rel * n + tail) * n + head)
        self._index = {'tail': _GroupIndex(tail_keys, n),
                       'head': _GroupIndex(head_keys, n)}
        self._device_cache: Dict[torch.device, Dict[str, _GroupIndex]] = {}

    def __len__(self) -> int:
        r"""Number of distinct known triples."""
        return int(self._index['tail'].keys.numel())

    def index(self, side: str, device: torch.device) -> _GroupIndex:
        r"""The CSR index of :obj:`side` (:obj:`"tail"` or :obj:`"head"`) on
        :obj:`device` (copied there once and cached)."""
        device = torch.device(device)
        if device.type == 'cpu':
            return self._index[side]
        if device not in self._device_cache:
            self._device_cache[device] = {
                key: idx.to(device)
                for key, idx in self._index.items()
            }
        return self._device_cache[device][side]

    def known_tails(self, head: Tensor, rel: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Known tails of the queries :math:`(h, r, ?)`.

        Args:
            head (torch.Tensor): Head ids, shape ``[B]``.
            rel (torch.Tensor): Relation ids, shape ``[B]``.

        Returns:
            (torch.Tensor, torch.Tensor): Query row ``[P]`` and tail id
            ``[P]`` of every known ``(head[row], rel[row], tail)``.
        """
        idx = self.index('tail', head.device)
        row, col, _ = idx.expand(head.long() * self.num_relations + rel)
        return row, col

    def known_heads(self, rel: Tensor, tail: Tensor) -> Tuple[Tensor, Tensor]:
        r"""Known heads of the queries :math:`(?, r, t)`, as query row
        ``[P]`` and head id ``[P]`` (see :meth:`known_tails`)."""
        idx = self.index('head', rel.device)
        row, col, _ = idx.expand(rel.long() * self.num_nodes + tail)
        return row, col

    def contains(self, triples: Tensor) -> Tensor:
        r"""Whether each of the ``[B, 3]`` triples is known, boolean
        ``[B]``."""
        triples = as_triples(triples, self.num_nodes, self.num_relations)
        idx = self.index('tail', triples.device)
        h, r, t = triples.unbind(dim=1)
        return idx.contains(triple_keys(h, r, t, self.num_nodes,
                                        self.num_relations))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({len(self)}, '
                f'num_nodes={self.num_nodes}, '
                f'num_relations={self.num_relations})')


def rank_metrics(ranks: Tensor, ks: Iterable[int] = (1, 3, 10)) -> dict:
    r"""MRR, MR and Hits@k of a ``[M]`` tensor of (possibly fractional)
    ranks, as a dictionary with keys :obj:`"mrr"`, :obj:`"mr"`,
    :obj:`"hits@k"` and :obj:`"count"` (Python numbers; :obj:`nan` for
    empty input)."""
    ranks = ranks.detach().double().view(-1)
    count = ranks.numel()
    out = {}
    if count == 0:
        out['mrr'] = out['mr'] = float('nan')
        for k in ks:
            out[f'hits@{k}'] = float('nan')
    else:
        out['mrr'] = float(ranks.reciprocal().mean())
        out['mr'] = float(ranks.mean())
        for k in ks:
            out[f'hits@{k}'] = float((ranks <= k).double().mean())
    out['count'] = count
    return out


def rank_against_negatives(y_pred_pos: Tensor, y_pred_neg: Tensor,
                           rank_type: str = 'realistic') -> Tensor:
    r"""Ranks of positive scores among given negative scores, as in the OGB
    :class:`~ogb.linkproppred.Evaluator` (``ogbl-wikikg2``, ``ogbl-biokg``).

    Args:
        y_pred_pos (torch.Tensor): Positive scores, shape ``[B]``.
        y_pred_neg (torch.Tensor): Negative scores, shape ``[B, K]``.
        rank_type (str, optional): :obj:`"realistic"` (mean of the two),
            :obj:`"optimistic"` (ties ranked first) or
            :obj:`"pessimistic"` (ties ranked last).
            (default: :obj:`"realistic"`)

    Returns:
        torch.Tensor: Ranks, shape ``[B]`` (:obj:`float64`).
    """
    _check_choice(rank_type, RANK_TYPES, 'rank_type')
    if y_pred_pos.dim() != 1 or y_pred_neg.dim() != 2 or \
            y_pred_neg.size(0) != y_pred_pos.numel():
        raise ValueError(f"'y_pred_pos' must have shape [B] and "
                         f"'y_pred_neg' shape [B, K] (got "
                         f"{list(y_pred_pos.shape)} and "
                         f"{list(y_pred_neg.shape)})")
    pos = y_pred_pos.view(-1, 1)
    opt = 1 + (y_pred_neg > pos).sum(dim=1).double()
    pess = 1 + (y_pred_neg >= pos).sum(dim=1).double()
    return combine_ranks(opt, pess, rank_type)


def combine_ranks(opt: Tensor, pess: Tensor,
                  rank_type: str = 'realistic') -> Tensor:
    r"""The rank of :obj:`rank_type` from the optimistic rank :obj:`opt`
    (ties ranked first) and the pessimistic rank :obj:`pess` (ties ranked
    last): :obj:`"realistic"` is their mean, as in OGB. The one place the
    package turns tie counts into a rank."""
    if rank_type == 'optimistic':
        return opt
    if rank_type == 'pessimistic':
        return pess
    return 0.5 * (opt + pess)


def _check_choice(value: str, choices: Sequence[str], name: str) -> None:
    if value not in choices:
        raise ValueError(f"'{name}' must be one of {', '.join(choices)} "
                         f"(got '{value}')")


def _buffer(buffers: Dict[str, Tensor], name: str, shape: Tuple[int, int],
            like: Tensor, dtype: Optional[torch.dtype] = None) -> Tensor:
    r"""A reusable scratch tensor of at least :obj:`shape` (pre-allocated
    memory avoids page faults on every batch)."""
    dtype = dtype or like.dtype
    buf = buffers.get(name)
    if (buf is None or buf.size(0) < shape[0] or buf.size(1) != shape[1]
            or buf.dtype != dtype or buf.device != like.device):
        buf = torch.empty(shape, dtype=dtype, device=like.device)
        buffers[name] = buf
    return buf[:shape[0]]


class LinkPredictionEvaluator:
    r"""Filtered link-prediction evaluator for PyG knowledge graph embedding
    models (:class:`~torch_geometric.nn.kge.TransE`,
    :class:`~torch_geometric.nn.kge.DistMult`,
    :class:`~torch_geometric.nn.kge.ComplEx`,
    :class:`~torch_geometric.nn.kge.RotatE`, or any
    :class:`~torch_geometric.nn.kge.KGEModel` through its :meth:`forward`).

    Ranks each triple's tail against all entities for :math:`(h, r, ?)` and
    its head for :math:`(?, r, t)`, removing candidates that form a triple in
    :obj:`filter_triples` (but never the target), and reports the realistic
    (default), optimistic or pessimistic rank; see the module docstring.
    :meth:`evaluate_ogb` ranks against given negatives instead (OGB
    protocol).

    .. code-block:: python

        evaluator = LinkPredictionEvaluator(
            num_nodes, num_relations,
            filter_triples=[dataset.train, dataset.valid, dataset.test])
        evaluator(model, dataset.test)
        # {'mrr': 0.31, 'mr': 180.2, 'hits@1': 0.22, 'hits@3': 0.34,
        #  'hits@10': 0.49, 'count': 40932}

    The filter is compiled once at construction (:class:`TripleFilter`), so
    reuse an evaluator across evaluations. Computation runs on the model's
    device; memory is bounded by three ``[batch_size, num_nodes]`` score
    matrices (the batch size is lowered so that one holds at most
    :attr:`max_elements` entries).

    Args:
        num_nodes (int): Number of entities.
        num_relations (int): Number of relations.
        filter_triples (torch.Tensor or Data or list, optional): Known true
            triples to filter, e.g. train :math:`\cup` valid :math:`\cup`
            test, as a ``[M, 3]`` tensor, KG split(s), a list of these, or
            a compiled :class:`TripleFilter` (shared between evaluators).
            :obj:`None` gives the raw (unfiltered) setting.
            (default: :obj:`None`)
        batch_size (int, optional): Evaluation triples (per direction)
            ranked at once. (default: :obj:`512`)
        ks (Iterable[int], optional): The :math:`k` of the Hits@k metrics.
            (default: :obj:`(1, 3, 10)`)
        progress_bar (bool, optional): If set to :obj:`True`, shows a
            :obj:`tqdm` progress bar. (default: :obj:`False`)
    """
    #: Upper bound on the elements of one ``[batch, num_nodes]`` score
    #: matrix; lowers the effective batch size on very large graphs.
    max_elements: int = 2**26

    def __init__(self, num_nodes: int, num_relations: int,
                 filter_triples: Optional[TripleLike] = None,
                 batch_size: int = 512, ks: Iterable[int] = (1, 3, 10),
                 progress_bar: bool = False) -> None:
        self.num_nodes = int(num_nodes)
        self.num_relations = int(num_relations)
        if self.num_nodes <= 0 or self.num_relations <= 0:
            raise ValueError(f"'num_nodes' and 'num_relations' must be "
                             f"positive (got {num_nodes} and "
                             f"{num_relations})")
        if int(batch_size) <= 0:
            raise ValueError(f"'batch_size' must be positive (got "
                             f"{batch_size})")
        self.batch_size = int(batch_size)
        self.ks = tuple(int(k) for k in ks)
        self.progress_bar = progress_bar
        self.filter: Optional[TripleFilter] = None
        if filter_triples is not None:
            if isinstance(filter_triples, TripleFilter):
                if (filter_triples.num_nodes != self.num_nodes
                        or filter_triples.num_relations !=
                        self.num_relations):
                    raise ValueError("'filter_triples' was built for another "
                                     "graph size")
                self.filter = filter_triples
            else:
                self.filter = TripleFilter(filter_triples, self.num_nodes,
                                           self.num_relations)

    # Helpers ################################################################

    def _check_model(self, model: torch.nn.Module):
        num_nodes = getattr(model, 'num_nodes', None)
        num_relations = getattr(model, 'num_relations', None)
        if num_nodes != self.num_nodes or num_relations != self.num_relations:
            raise ValueError(f'the model has {num_nodes} entities and '
                             f'{num_relations} relations, but the evaluator '
                             f'{self.num_nodes} and {self.num_relations}')
        if isinstance(model, KGEModel):  # custom scorers may use -inf
            check_finite(model)
        return get_scorer(model)

    def _rows_per_batch(self) -> int:
        # Caps the [batch, num_nodes] score matrices for very large graphs.
        return max(1, min(self.batch_size, self.max_elements //
                          self.num_nodes))

    def _sides(self, sides: str) -> Tuple[str, ...]:
        _check_choice(sides, SIDES, 'sides')
        return ('head', 'tail') if sides == 'both' else (sides, )

    def _finish(self, ranks: Dict[str, Tensor], return_ranks: bool) -> dict:
        out = rank_metrics(torch.cat(list(ranks.values())), self.ks)
        if return_ranks:
            for side, r in ranks.items():
                out[f'{side}_ranks'] = r
        return out

    # Full ranking ###########################################################

    @torch.no_grad()
    def evaluate(self, model: torch.nn.Module, triples: TripleLike,
                 sides: str = 'both', rank_type: str = 'realistic',
                 return_ranks: bool = False) -> dict:
        r"""Ranks the triples against all entities (filtered).

        Args:
            model (torch.nn.Module): The KGE model (evaluated on its own
                device, in :obj:`eval` mode, without gradients).
            triples (torch.Tensor or Data or list): Triples to rank,
                ``[T, 3]`` (or KG split(s), see :func:`as_triples`).
            sides (str, optional): :obj:`"both"`, :obj:`"head"` (rank heads
                of :math:`(?, r, t)`) or :obj:`"tail"` (rank tails of
                :math:`(h, r, ?)`). (default: :obj:`"both"`)
            rank_type (str, optional): :obj:`"realistic"`,
                :obj:`"optimistic"` or :obj:`"pessimistic"`.
                (default: :obj:`"realistic"`)
            return_ranks (bool, optional): If set to :obj:`True`, also
                returns the per-triple ranks as :obj:`"head_ranks"` and/or
                :obj:`"tail_ranks"` (:obj:`float64` tensors ``[T]`` in the
                order of :obj:`triples`). (default: :obj:`False`)

        Returns:
            dict: :obj:`"mrr"`, :obj:`"mr"`, :obj:`"hits@1"`,
            :obj:`"hits@3"`, :obj:`"hits@10"` (over both directions when
            :obj:`sides="both"`) and :obj:`"count"` (number of rankings).
        """
        _check_choice(rank_type, RANK_TYPES, 'rank_type')
        side_list = self._sides(sides)
        scorer = self._check_model(model)
        triples = as_triples(triples, self.num_nodes, self.num_relations)
        device = scorer.device
        triples = triples.to(device)
        rows = self._rows_per_batch()
        plans = {side: self._plan(triples, side) for side in side_list}
        batches = [(side, start) for side in side_list
                   for start in range(0, triples.size(0), rows)]
        training = model.training
        model.eval()
        try:
            scorer.prepare()
            with tqdm(total=len(batches), desc='Link prediction',
                      disable=not self.progress_bar, unit='batch') as pbar:
                results = self._run(scorer, plans, batches, rows, rank_type,
                                    pbar)
        finally:
            model.train(training)
        ranks = {}
        for side in side_list:
            out = torch.empty(triples.size(0), dtype=torch.float64)
            for idx, value in results[side]:
                out[idx] = value
            ranks[side] = out
        return self._finish(ranks, return_ranks)

    __call__ = evaluate

    def _plan(self, triples: Tensor, side: str):
        n, r = self.num_nodes, self.num_relations
        head, rel, tail = triples.unbind(dim=1)
        if side == 'tail':
            query, target = head * r + rel, tail
        else:
            query, target = rel * n + tail, head
        # Sorting by query makes triples that share a query adjacent, so each
        # batch scores every distinct query once.
        order = torch.argsort(query, stable=True)
        index = None
        if self.filter is not None:
            index = self.filter.index(side, triples.device)
        return query, target, order, index

    def _run(self, scorer, plans, batches, rows: int, rank_type: str, pbar):
        r"""Ranks all batches, on CPU spread over worker threads."""
        results = {side: [] for side in plans}
        pool = None
        if scorer.device.type == 'cpu' and len(batches) > 1:
            pool = thread_pool(min(torch.get_num_threads(), 16))
        if pool is None:
            self._work(scorer, plans, batches, rows, rank_type, results,
                       pbar.update)
            return results
        # Each worker ranks whole batches with single-threaded operations,
        # so that the many mid-sized operations need no synchronisation
        # between threads (which is slow on a busy machine).
        lock = threading.Lock()

        def progress():
            with lock:
                pbar.update(1)

        num_tasks = min(torch.get_num_threads(), 16, len(batches))
        parts = [{side: [] for side in plans} for _ in range(num_tasks)]
        futures = [
            pool.submit(self._work, scorer, plans, batches[i::num_tasks],
                        rows, rank_type, parts[i], progress,
                        torch.get_num_threads()) for i in range(num_tasks)
        ]
        for future in futures:
            future.result()
        for part in parts:
            for side, values in part.items():
                results[side].extend(values)
        return results

    def _work(self, scorer, plans, batches, rows: int, rank_type: str,
              results, progress, num_threads: int = 0) -> None:
        if num_threads > 0:  # in a worker thread, see _run()
            torch.set_num_threads(1)
        try:
            with torch.no_grad():
                buffers: Dict[str, Tensor] = {}
                for side, start in batches:
                    query, target, order, index = plans[side]
                    idx = order[start:start + rows]
                    ranks = self._rank_batch(scorer, side, query[idx],
                                             target[idx], index, rank_type,
                                             buffers)
                    results[side].append((idx.cpu(), ranks.cpu()))
                    progress()
        finally:
            if num_threads > 0:
                torch.set_num_threads(num_threads)

    def _rank_batch(self, scorer, side: str, q: Tensor, tgt: Tensor,
                    index: Optional[_GroupIndex], rank_type: str,
                    buffers: Dict[str, Tensor]) -> Tensor:
        r"""Filtered ranks of one batch of triples given as query keys
        :obj:`q` and target entities :obj:`tgt`, both ``[B]``."""
        n, r = self.num_nodes, self.num_relations
        uniq, inv = torch.unique_consecutive(q, return_inverse=True)
        if side == 'tail':
            scores = scorer.tails(uniq // r, uniq % r)
        else:
            scores = scorer.heads(uniq // n, uniq % n)
        # The target's score is read before filtering.
        pos = scores[inv, tgt]
        if torch.isnan(pos).any():
            raise ValueError('the model scored an evaluation triple as NaN')
        if index is not None:
            row, col, group_size = index.expand(uniq)
            scores[row, col] = float('-inf')
            filtered = index.contains(q * n + tgt)
            num_filtered = group_size[inv]
        else:
            filtered = torch.zeros_like(tgt, dtype=torch.bool)
            num_filtered = torch.zeros_like(tgt)
        if uniq.numel() != q.numel():  # one row per triple
            rows = _buffer(buffers, 'rows', (q.numel(), n), scores)
            scores = torch.index_select(scores, 0, inv, out=rows)
        # Counting into a float buffer is much faster than summing booleans
        # on CPU; float32 holds the counts exactly below 2**24 entities.
        count_dtype = torch.float32 if n < 2**24 else torch.float64
        buf = _buffer(buffers, 'count', (q.numel(), n), scores, count_dtype)
        pos_col = pos.unsqueeze(1)
        num_greater = torch.gt(scores, pos_col, out=buf).sum(dim=1).double()
        num_greater_equal = torch.ge(scores, pos_col,
                                     out=buf).sum(dim=1).double()
        # An unfiltered target still sits in its row and ties with itself.
        not_filtered = (~filtered).double()
        pess = 1 + num_greater_equal - not_filtered
        # With a target scored -inf, every filtered (-inf) candidate would
        # count as a tie: count the unfiltered others instead.
        neg_inf = pos == float('-inf')
        if bool(neg_inf.any()):
            others = n - num_filtered.double() - not_filtered
            pess = torch.where(neg_inf, 1 + others, pess)
        opt = 1 + num_greater
        return combine_ranks(opt, pess, rank_type)

    # Given negatives (OGB) ##################################################

    @torch.no_grad()
    def evaluate_ogb(self, model: torch.nn.Module, triples: TripleLike,
                     head_neg: Optional[Tensor] = None,
                     tail_neg: Optional[Tensor] = None,
                     rank_type: str = 'realistic',
                     return_ranks: bool = False) -> dict:
        r"""Ranks each triple against given negative entities, as in the OGB
        ``ogbl-wikikg2`` / ``ogbl-biokg`` protocol (no filtering: the
        negatives are taken as given). The MRR equals the one of
        :class:`ogb.linkproppred.Evaluator` on the same scores, with head
        and tail rankings concatenated.

        Args:
            model (torch.nn.Module): The KGE model.
            triples (torch.Tensor or Data or list): Triples, ``[T, 3]``.
            head_neg (torch.Tensor, optional): Negative heads, ``[T, K]``,
                of any integer dtype (:func:`load_ogb_wikikg2` gives
                :obj:`int32`, possibly memory-mapped); read batch by batch,
                never copied whole. (default: :obj:`None`)
            tail_neg (torch.Tensor, optional): Negative tails, ``[T, K]``,
                likewise. (default: :obj:`None`)
            rank_type (str, optional): :obj:`"realistic"`,
                :obj:`"optimistic"` or :obj:`"pessimistic"`.
                (default: :obj:`"realistic"`)
            return_ranks (bool, optional): If set to :obj:`True`, also
                returns :obj:`"head_ranks"` / :obj:`"tail_ranks"`.
                (default: :obj:`False`)

        Returns:
            dict: Same keys as :meth:`evaluate`.
        """
        _check_choice(rank_type, RANK_TYPES, 'rank_type')
        if head_neg is None and tail_neg is None:
            raise ValueError("give 'head_neg' and/or 'tail_neg'")
        scorer = self._check_model(model)
        triples = as_triples(triples, self.num_nodes, self.num_relations)
        device = scorer.device
        triples = triples.to(device)
        negs = {}
        for side, neg in (('head', head_neg), ('tail', tail_neg)):
            if neg is None:
                continue
            neg = torch.as_tensor(neg)
            if neg.dim() != 2 or neg.size(0) != triples.size(0):
                raise ValueError(f"'{side}_neg' must have shape "
                                 f"[{triples.size(0)}, K] (got "
                                 f"{list(neg.shape)})")
            if neg.is_floating_point() or neg.dtype == torch.bool:
                raise ValueError(f"'{side}_neg' must hold integer ids (got "
                                 f"{neg.dtype})")
            if neg.numel() > 0 and (int(neg.min()) < 0
                                    or int(neg.max()) >= self.num_nodes):
                raise ValueError(f"'{side}_neg' ids must lie in [0, "
                                 f"{self.num_nodes - 1}]")
            # Kept as given (e.g. int32, memory-mapped): each batch is moved
            # and widened on its own, so memory stays bounded by a batch.
            negs[side] = neg
        training = model.training
        model.eval()
        ranks = {}
        try:
            num_batches = sum((triples.size(0) + self.batch_size - 1) //
                              self.batch_size for _ in negs)
            with tqdm(total=num_batches, desc='Link prediction (OGB)',
                      disable=not self.progress_bar, unit='batch') as pbar:
                for side, neg in negs.items():
                    ranks[side] = self._rank_ogb(scorer, triples, neg, side,
                                                 rank_type, pbar)
        finally:
            model.train(training)
        return self._finish(ranks, return_ranks)

    def _rank_ogb(self, scorer, triples: Tensor, neg: Tensor, side: str,
                  rank_type: str, pbar) -> Tensor:
        out = []
        for start in range(0, triples.size(0), self.batch_size):
            h, r, t = triples[start:start + self.batch_size].unbind(dim=1)
            cand = neg[start:start + self.batch_size].to(
                triples.device, torch.long)
            if side == 'tail':
                cand = torch.cat([t.unsqueeze(1), cand], dim=1)
                scores = scorer.tails(h, r, cand)
            else:
                cand = torch.cat([h.unsqueeze(1), cand], dim=1)
                scores = scorer.heads(r, t, cand)
            if torch.isnan(scores[:, 0]).any():
                raise ValueError('the model scored an evaluation triple as '
                                 'NaN')
            out.append(
                rank_against_negatives(scores[:, 0], scores[:, 1:],
                                       rank_type))
            pbar.update(1)
        if not out:
            return torch.empty(0, dtype=torch.float64)
        return torch.cat(out).cpu()

    def __repr__(self) -> str:
        num_filter = len(self.filter) if self.filter is not None else 0
        return (f'{self.__class__.__name__}(num_nodes={self.num_nodes}, '
                f'num_relations={self.num_relations}, '
                f'filter_triples={num_filter}, '
                f'batch_size={self.batch_size})')


def evaluate(model: torch.nn.Module, triples: TripleLike,
             filter_triples: Optional[TripleLike] = None,
             batch_size: int = 512, sides: str = 'both',
             rank_type: str = 'realistic', return_ranks: bool = False,
             ks: Iterable[int] = (1, 3, 10),
             progress_bar: bool = False) -> dict:
    r"""Filtered link-prediction metrics of :obj:`model` on :obj:`triples`
    (a one-shot :class:`LinkPredictionEvaluator`; build one evaluator and
    reuse it when evaluating repeatedly against the same filter).

    Args:
        model (torch.nn.Module): The KGE model; its :obj:`num_nodes` and
            :obj:`num_relations` set the graph size.
        triples (torch.Tensor or Data or list): Triples to rank, ``[T, 3]``.
        filter_triples (torch.Tensor or Data or list, optional): Known true
            triples to filter. (default: :obj:`None`)
        batch_size (int, optional): Triples ranked at once.
            (default: :obj:`512`)
        sides (str, optional): :obj:`"both"`, :obj:`"head"` or
            :obj:`"tail"`. (default: :obj:`"both"`)
        rank_type (str, optional): :obj:`"realistic"`,
            :obj:`"optimistic"` or :obj:`"pessimistic"`.
            (default: :obj:`"realistic"`)
        return_ranks (bool, optional): Also return per-triple ranks.
            (default: :obj:`False`)
        ks (Iterable[int], optional): Hits@k cut-offs.
            (default: :obj:`(1, 3, 10)`)
        progress_bar (bool, optional): Show a :obj:`tqdm` progress bar.
            (default: :obj:`False`)

    Returns:
        dict: See :meth:`LinkPredictionEvaluator.evaluate`.
    """
    for attr in ('num_nodes', 'num_relations'):
        if not isinstance(getattr(model, attr, None), int):
            raise TypeError(f"'model' has no integer '{attr}' (expected a "
                            f"torch_geometric.nn.kge.KGEModel)")
    evaluator = LinkPredictionEvaluator(model.num_nodes, model.num_relations,
                                        filter_triples, batch_size, ks,
                                        progress_bar)
    return evaluator.evaluate(model, triples, sides, rank_type, return_ranks)
