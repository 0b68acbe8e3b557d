r"""Scoring of PyG knowledge graph embedding models against all entities.

PyG's :class:`~torch_geometric.nn.kge.KGEModel` subclasses only score given
triples through :meth:`forward`. Link prediction needs the score of every
entity as the missing head or tail of a query, which done through
:meth:`forward` would expand ``B * N`` index triples. The adapters here
compute the same scores with vectorised matrix operations instead:

* each model is reduced to a *query vector* per ``(head, relation)`` (tail
  prediction) or ``(relation, tail)`` (head prediction) query,
* and a fixed *entity table* :math:`\mathbf{T} \in \mathbb{R}^{N \times D}`,
* scored by a matrix product (:class:`~torch_geometric.nn.kge.DistMult`,
  :class:`~torch_geometric.nn.kge.ComplEx`) or a negative distance
  (:class:`~torch_geometric.nn.kge.TransE`,
  :class:`~torch_geometric.nn.kge.RotatE`).

The models are used as they are: their parameters (``node_emb``,
``node_emb_im``, ``rel_emb``, ``rel_emb_im``) and hyper-parameters
(``p_norm``, ``margin``) are the state, and every score equals the model's
own :meth:`forward` up to floating point rounding.

.. code-block:: python

    from torch_geometric.nn.kge import TransE
    from torch_geometric_unlearn.kge import score_tails, score_heads

    model = TransE(num_nodes=100, num_relations=5, hidden_channels=32)
    head, rel, tail = torch.tensor([0, 1]), torch.tensor([2, 3]), ...
    score_tails(model, head, rel)            # [2, 100]: (h, r, ?)
    score_heads(model, rel, tail)            # [2, 100]: (?, r, t)
    score_tails(model, head, rel, cand)      # [2, K]: given candidates

Models that are not registered fall back to :class:`ForwardScorer`, which
calls :meth:`forward` in memory-bounded chunks; :func:`register_scorer`
adds a fast adapter for a new model class.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Optional, Tuple, Type, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn.kge import ComplEx, DistMult, KGEModel, RotatE, TransE

__all__ = [
    'rowdot',
    'KGEScorer',
    'TransEScorer',
    'DistMultScorer',
    'ComplExScorer',
    'RotatEScorer',
    'ForwardScorer',
    'SCORERS',
    'MODELS',
    'register_scorer',
    'get_scorer',
    'score_tails',
    'score_heads',
    'model_name',
    'load_kge_model',
]

# Rows of queries scored at once by the CPU L1-distance kernel: a block of
# ``_L1_BLOCK x N`` floats (and its scratch copy) stays in the last-level
# cache for graphs of up to ~10^5 entities.
_L1_BLOCK = 64

_POOL: Optional[ThreadPoolExecutor] = None
_POOL_SIZE = 0
_POOL_PID = -1
_POOL_LOCK = threading.Lock()


def thread_pool(num_threads: int) -> Optional[ThreadPoolExecutor]:
    r"""A shared pool of :obj:`num_threads` worker threads for the CPU L1
    kernel, or :obj:`None` where intra-op thread settings are not per thread
    (only with PyTorch's OpenMP backend does :func:`torch.set_num_threads`
    in a worker leave the caller's setting alone)."""
    global _POOL, _POOL_SIZE, _POOL_PID
    if num_threads <= 1:
        return None
    if 'OpenMP' not in torch.__config__.parallel_info():  # pragma: no cover
        return None
    with _POOL_LOCK:
        # A pool inherited through fork() has no live threads: replace it.
        if (_POOL is None or _POOL_SIZE != num_threads
                or _POOL_PID != os.getpid()):
            old = _POOL if _POOL_PID == os.getpid() else None
            _POOL = ThreadPoolExecutor(max_workers=num_threads,
                                       thread_name_prefix='tgu-l1')
            _POOL_SIZE, _POOL_PID = num_threads, os.getpid()
            if old is not None:
                old.shutdown(wait=False)
        return _POOL


def _l1_blocks(query: Tensor, table_t: Tensor, out: Tensor, starts,
               negate: bool, num_threads: int = 0) -> None:
    if num_threads > 0:  # in a worker thread
        # Single-threaded operations in this thread only (OpenMP settings
        # are per thread); the setting is put back for the threads PyTorch
        # starts later, which read it.
        torch.set_num_threads(1)
        try:
            _l1_blocks(query, table_t, out, starts, negate)
        finally:
            torch.set_num_threads(num_threads)
        return
    buf = query.new_empty(min(_L1_BLOCK, query.size(0)), table_t.size(1))
    for start in starts:
        q = query[start:start + _L1_BLOCK]
        acc = out[start:start + _L1_BLOCK]
        tmp = buf[:q.size(0)]
        torch.sub(q[:, :1], table_t[0], out=acc).abs_()
        if negate:  # -(a + b + c) == -a - b - c exactly in floating point
            acc.neg_()
        accumulate = acc.sub_ if negate else acc.add_
        for k in range(1, q.size(1)):
            torch.sub(q[:, k:k + 1], table_t[k], out=tmp)
            accumulate(tmp.abs_())


def _l1_distance(query: Tensor, table_t: Tensor,
                 negate: bool = False) -> Tensor:
    r"""Pairwise :math:`L_1` distances (or their negatives if
    :obj:`negate`), ``[B, D] x [D, N] -> [B, N]``.

    On CPU, :func:`torch.cdist` with :obj:`p=1` reduces over the (short)
    embedding dimension per pair. Accumulating one embedding dimension at a
    time over a cache-sized block of queries instead vectorises over the
    (long) entity dimension and is 2-3x faster. The summation order is the
    same sequential one, so results match :func:`torch.cdist`. Blocks are
    spread over :func:`torch.get_num_threads` worker threads that each run
    single-threaded operations: the many small operations then need no
    synchronisation between threads, which also keeps the kernel fast on a
    busy machine.
    """
    num_queries = query.size(0)
    out = query.new_empty(num_queries, table_t.size(1))
    if query.size(1) == 0:
        return out.zero_()
    starts = list(range(0, num_queries, _L1_BLOCK))
    num_threads = min(torch.get_num_threads(), 16)
    pool = thread_pool(num_threads) if len(starts) > 1 else None
    if pool is None:
        _l1_blocks(query, table_t, out, starts, negate)
        return out
    num_tasks = min(num_threads, len(starts))
    futures = [
        pool.submit(_l1_blocks, query, table_t, out, starts[i::num_tasks],
                    negate, torch.get_num_threads())
        for i in range(num_tasks)
    ]
    for future in futures:
        future.result()
    return out


def _neg_distance(query: Tensor, table: Tensor, table_t: Optional[Tensor],
                  p: float) -> Tensor:
    r"""Negative pairwise :math:`L_p` distances between ``[B, D]`` queries
    and the ``[N, D]`` entity table, ``[B, N]``."""
    needs_grad = torch.is_grad_enabled() and (query.requires_grad
                                              or table.requires_grad)
    if (p == 1.0 and table_t is not None and query.device.type == 'cpu'
            and not needs_grad):
        return _l1_distance(query, table_t, negate=True)
    return -torch.cdist(query, table, p=p)


def _candidate_distance(query: Tensor, cand: Tensor, p: float) -> Tensor:
    r"""Distances between ``[B, D]`` queries and their own ``[B, K, D]``
    candidates."""
    return torch.linalg.vector_norm(query.unsqueeze(1) - cand, ord=p, dim=-1)


def rowdot(a: Tensor, b: Tensor) -> Tensor:
    r"""Row-wise dot products ``[*]`` of two real tensors of the same shape
    ``[*, D]``; differentiable.

    The kernel depends on the size (one CPU thread): a large input goes
    through one batched matrix product, several times faster than
    :func:`torch.linalg.vecdot` once the operands leave the cache (e.g. 53
    against 195 ms for ``[300000, 200]``), while a small one, such as a
    calibration block, goes through :func:`torch.linalg.vecdot`, several
    times faster than the batched product there (e.g. 0.10 against
    0.35 ms for ``[2048, 200]``): :data:`ROWDOT_SMALL` elements is the
    switch."""
    if a.shape != b.shape:
        raise ValueError(f'rowdot needs two tensors of one shape (got '
                         f'{tuple(a.shape)} and {tuple(b.shape)})')
    if a.numel() <= ROWDOT_SMALL:
        return torch.linalg.vecdot(a, b)
    d = a.size(-1)
    return torch.bmm(a.reshape(-1, 1, d), b.reshape(-1, d, 1)).view(
        a.shape[:-1])


#: Largest input (elements of one operand) that :func:`rowdot` reduces with
#: :func:`torch.linalg.vecdot` rather than a batched matrix product.
ROWDOT_SMALL = 1 << 20


class KGEScorer:
    r"""Base class of the per-model scoring adapters.

    An adapter maps a model to a query vector per ``(head, relation)`` or
    ``(relation, tail)`` query and to a fixed entity table, and scores the
    former against the latter. The entity table is computed once per adapter
    and cached, so an adapter is a snapshot: create a new one (e.g. through
    :func:`get_scorer`) after the model's parameters change.

    Subclasses implement :meth:`entity_table`, :meth:`tail_query`,
    :meth:`head_query` and either :meth:`score_table` and
    :meth:`score_candidates` or the :attr:`distance` attribute.

    Args:
        model (torch.nn.Module): The knowledge graph embedding model.
    """
    #: If :obj:`True`, scores are negative distances
    #: :obj:`offset() - ||q - e||_p` with :obj:`p = norm_p()`, else dot
    #: products :obj:`<q, e>`.
    distance: bool = False

    def __init__(self, model: torch.nn.Module) -> None:
        self.model = model
        self._table: Optional[Tensor] = None
        self._table_t: Optional[Tensor] = None

    # Model-specific parts ###################################################

    def entity_table(self) -> Tensor:
        r"""Returns the entity representations ``[N, D]``."""
        raise NotImplementedError

    def entity_rows(self, index: Tensor) -> Tensor:
        r"""Returns the representations of the entities :obj:`index`
        (any shape ``[*]`` gives ``[*, D]``) without building the whole
        table unless it is cached (subclasses gather rows directly)."""
        return self.table[index]

    def _rows(self, index: Tensor) -> Tensor:
        if self._table is not None:
            return self._table[index]
        return self.entity_rows(index)

    def score_against(self, query: Tensor, rows: Tensor) -> Tensor:
        r"""Scores ``[B, D]`` queries against a shared ``[K, D]`` set of
        entity representations (e.g. :meth:`entity_rows` of shared
        negatives), ``[B, K]``; differentiable."""
        if self.distance:
            dist = torch.cdist(query, rows, p=self.norm_p())
            return self.offset() - dist
        return query @ rows.t()

    def tail_query(self, head: Tensor, rel: Tensor) -> Tensor:
        r"""Returns query vectors ``[B, D]`` of ``(head, rel, ?)``."""
        raise NotImplementedError

    def head_query(self, rel: Tensor, tail: Tensor) -> Tensor:
        r"""Returns query vectors ``[B, D]`` of ``(?, rel, tail)``."""
        raise NotImplementedError

    def norm_p(self) -> float:
        r"""The order :math:`p` of the distance (distance models only)."""
        return 2.0

    def offset(self) -> float:
        r"""Constant added to the negative distance (distance models
        only)."""
        return 0.0

    # Row-level operations (used by MetaEU) ##################################

    #: Parameter tables holding the entity rows, concatenated along the last
    #: dimension (real and imaginary parts for complex models).
    entity_params: Tuple[str, ...] = ('node_emb', )

    def param_rows(self, index: Tensor) -> Tensor:
        r"""The raw parameter rows of entities :obj:`index` (for complex
        models ``[re, im]``), ``[*, D]``."""
        return torch.cat([getattr(self.model, name)(index)
                          for name in self.entity_params], dim=-1)

    @torch.no_grad()
    def write_rows(self, index: Tensor, rows: Tensor) -> None:
        r"""Writes raw parameter rows ``[K, D]`` for entities :obj:`index`
        ``[K]`` into the model (in place)."""
        tables = [getattr(self.model, name).weight
                  for name in self.entity_params]
        width = tables[0].size(1)
        if rows.dim() != 2 or rows.size(1) != width * len(tables):
            raise ValueError(f'expected rows of shape [K, '
                             f'{width * len(tables)}], got '
                             f'{list(rows.shape)}')
        for i, table in enumerate(tables):
            table[index] = rows[:, i * width:(i + 1) * width].to(table.dtype)
        self._table = self._table_t = None

    def represent(self, rows: Tensor) -> Tensor:
        r"""Maps raw rows to the representation used for scoring (e.g.
        TransE's normalisation); the identity for most models."""
        return rows

    def tail_query_rep(self, head_rep: Tensor, rel: Tensor) -> Tensor:
        r"""Like :meth:`tail_query` from head representations ``[B, D]``.
        For every supported model it is also the tail representation the
        triple implies (the best-scoring direction)."""
        raise NotImplementedError(
            f'{self.__class__.__name__} has no row-level queries')

    def head_query_rep(self, rel: Tensor, tail_rep: Tensor) -> Tensor:
        r"""Like :meth:`head_query` from tail representations ``[B, D]``."""
        raise NotImplementedError(
            f'{self.__class__.__name__} has no row-level queries')

    def score_pairs(self, query: Tensor, rows: Tensor) -> Tensor:
        r"""Scores ``[*, D]`` queries against ``[*, D]`` entity
        representations elementwise, ``[*]``; differentiable."""
        if self.distance:
            return self.offset() - (query - rows).norm(p=self.norm_p(),
                                                       dim=-1)
        if query.shape == rows.shape:
            return rowdot(query, rows)
        return (query * rows).sum(dim=-1)

    # Generic parts ##########################################################

    @property
    def num_nodes(self) -> int:
        return int(self.model.num_nodes)

    @property
    def num_relations(self) -> int:
        return int(self.model.num_relations)

    @property
    def device(self) -> torch.device:
        r"""The model's device (that of its first parameter or buffer)."""
        for tensor in self.model.parameters():
            return tensor.device
        for tensor in self.model.buffers():
            return tensor.device
        return torch.device('cpu')

    @property
    def table(self) -> Tensor:
        r"""The cached entity table ``[N, D]``."""
        if self._table is None:
            self._table = self.entity_table()
        return self._table

    def prepare(self) -> 'KGEScorer':
        r"""Computes and caches the entity table (and any derived layout)
        now, e.g. before scoring from several threads."""
        self._transposed_table()
        _ = self.table
        return self

    def _transposed_table(self) -> Optional[Tensor]:
        if not self.distance or self.norm_p() != 1.0:
            return None
        if self.table.device.type != 'cpu':
            return None
        if self._table_t is None:
            self._table_t = self.table.t().contiguous()
        return self._table_t

    def score_table(self, query: Tensor) -> Tensor:
        r"""Scores ``[B, D]`` queries against all entities, ``[B, N]``."""
        if self.distance:
            score = _neg_distance(query, self.table,
                                  self._transposed_table(), self.norm_p())
            offset = self.offset()
            return score + offset if offset != 0.0 else score
        return query @ self.table.t()

    def score_candidates(self, query: Tensor, candidates: Tensor) -> Tensor:
        r"""Scores ``[B, D]`` queries against their own ``[B, K]``
        candidate entities, ``[B, K]``."""
        cand = self._rows(candidates)
        if self.distance:
            return self.offset() - _candidate_distance(query, cand,
                                                       self.norm_p())
        return torch.bmm(cand, query.unsqueeze(-1)).squeeze(-1)

    def _score(self, query: Tensor, candidates: Optional[Tensor]) -> Tensor:
        if candidates is None:
            return self.score_table(query)
        return self.score_candidates(query, candidates)

    def tails(self, head: Tensor, rel: Tensor,
              candidates: Optional[Tensor] = None) -> Tensor:
        r"""Scores of ``(head, rel, e)`` for every entity :obj:`e`
        (``[B, N]``) or for each query's candidates (``[B, K]``).

        Args:
            head (torch.Tensor): Head ids, shape ``[B]``.
            rel (torch.Tensor): Relation ids, shape ``[B]``.
            candidates (torch.Tensor, optional): Candidate tail ids, shape
                ``[B, K]``. (default: :obj:`None`, all entities)
        """
        return self._score(self.tail_query(head, rel), candidates)

    def heads(self, rel: Tensor, tail: Tensor,
              candidates: Optional[Tensor] = None) -> Tensor:
        r"""Scores of ``(e, rel, tail)`` for every entity :obj:`e`
        (``[B, N]``) or for each query's candidates (``[B, K]``).

        Args:
            rel (torch.Tensor): Relation ids, shape ``[B]``.
            tail (torch.Tensor): Tail ids, shape ``[B]``.
            candidates (torch.Tensor, optional): Candidate head ids, shape
                ``[B, K]``. (default: :obj:`None`, all entities)
        """
        return self._score(self.head_query(rel, tail), candidates)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({self.model.__class__.__name__})'


class TransEScorer(KGEScorer):
    r"""Adapter for :class:`~torch_geometric.nn.kge.TransE`:
    :math:`-\| \bar{\mathbf{e}}_h + \mathbf{e}_r - \bar{\mathbf{e}}_t \|_p`
    with :math:`\bar{\mathbf{e}} = \mathbf{e} / \| \mathbf{e} \|_p` (PyG
    normalises entity embeddings in :meth:`forward`). Tail queries are
    :math:`\bar{\mathbf{e}}_h + \mathbf{e}_r`, head queries
    :math:`\bar{\mathbf{e}}_t - \mathbf{e}_r`."""
    distance = True

    def norm_p(self) -> float:
        return float(self.model.p_norm)

    def entity_table(self) -> Tensor:
        return F.normalize(self.model.node_emb.weight, p=self.norm_p(),
                           dim=-1)

    def entity_rows(self, index: Tensor) -> Tensor:
        return F.normalize(self.model.node_emb(index), p=self.norm_p(),
                           dim=-1)

    def tail_query(self, head: Tensor, rel: Tensor) -> Tensor:
        return self._rows(head) + self.model.rel_emb(rel)

    def head_query(self, rel: Tensor, tail: Tensor) -> Tensor:
        return self._rows(tail) - self.model.rel_emb(rel)

    def represent(self, rows: Tensor) -> Tensor:
        return F.normalize(rows, p=self.norm_p(), dim=-1)

    def tail_query_rep(self, head_rep: Tensor, rel: Tensor) -> Tensor:
        return head_rep + self.model.rel_emb(rel)

    def head_query_rep(self, rel: Tensor, tail_rep: Tensor) -> Tensor:
        return tail_rep - self.model.rel_emb(rel)


class DistMultScorer(KGEScorer):
    r"""Adapter for :class:`~torch_geometric.nn.kge.DistMult`:
    :math:`\langle \mathbf{e}_h, \mathbf{e}_r, \mathbf{e}_t \rangle`, with
    queries :math:`\mathbf{e}_h \odot \mathbf{e}_r` and
    :math:`\mathbf{e}_r \odot \mathbf{e}_t`."""
    def entity_table(self) -> Tensor:
        return self.model.node_emb.weight

    def entity_rows(self, index: Tensor) -> Tensor:
        return self.model.node_emb(index)

    def tail_query(self, head: Tensor, rel: Tensor) -> Tensor:
        return self.model.node_emb(head) * self.model.rel_emb(rel)

    def head_query(self, rel: Tensor, tail: Tensor) -> Tensor:
        return self.model.rel_emb(rel) * self.model.node_emb(tail)

    def tail_query_rep(self, head_rep: Tensor, rel: Tensor) -> Tensor:
        return head_rep * self.model.rel_emb(rel)

    def head_query_rep(self, rel: Tensor, tail_rep: Tensor) -> Tensor:
        return self.model.rel_emb(rel) * tail_rep


class _ReImScorer(KGEScorer):
    r"""Entity rows of complex models: ``[re, im]`` concatenations."""
    entity_params = ('node_emb', 'node_emb_im')

    def entity_table(self) -> Tensor:
        return torch.cat([self.model.node_emb.weight,
                          self.model.node_emb_im.weight], dim=-1)

    def entity_rows(self, index: Tensor) -> Tensor:
        return torch.cat([self.model.node_emb(index),
                          self.model.node_emb_im(index)], dim=-1)


class ComplExScorer(_ReImScorer):
    r"""Adapter for :class:`~torch_geometric.nn.kge.ComplEx`:
    :math:`\mathrm{Re}(\langle \mathbf{e}_h, \mathbf{e}_r,
    \overline{\mathbf{e}_t} \rangle)`, written as a real dot product of
    ``[re, im]`` concatenations (``D = 2 * hidden_channels``)."""

    def tail_query(self, head: Tensor, rel: Tensor) -> Tensor:
        return self.tail_query_rep(self._rows(head), rel)

    def head_query(self, rel: Tensor, tail: Tensor) -> Tensor:
        return self.head_query_rep(rel, self._rows(tail))

    def tail_query_rep(self, head_rep: Tensor, rel: Tensor) -> Tensor:
        h_re, h_im = head_rep.chunk(2, dim=-1)
        r_re, r_im = self.model.rel_emb(rel), self.model.rel_emb_im(rel)
        return torch.cat([h_re * r_re - h_im * r_im,
                          h_im * r_re + h_re * r_im], dim=-1)

    def head_query_rep(self, rel: Tensor, tail_rep: Tensor) -> Tensor:
        t_re, t_im = tail_rep.chunk(2, dim=-1)
        r_re, r_im = self.model.rel_emb(rel), self.model.rel_emb_im(rel)
        return torch.cat([r_re * t_re + r_im * t_im,
                          r_re * t_im - r_im * t_re], dim=-1)


class RotatEScorer(_ReImScorer):
    r"""Adapter for :class:`~torch_geometric.nn.kge.RotatE`:
    :math:`\gamma - \| \mathbf{e}_h \circ \mathbf{e}_r - \mathbf{e}_t \|_2`
    with :math:`\gamma` the model's :obj:`margin` and
    :math:`\mathbf{e}_r = e^{i \theta_r}`. Tail queries are
    :math:`\mathbf{e}_h \circ \mathbf{e}_r`, head queries
    :math:`\mathbf{e}_t \circ \overline{\mathbf{e}_r}` (a rotation keeps
    norms, so :math:`\| \mathbf{e}_h \circ \mathbf{e}_r - \mathbf{e}_t \| =
    \| \mathbf{e}_h - \mathbf{e}_t \circ \overline{\mathbf{e}_r} \|`)."""
    distance = True

    def offset(self) -> float:
        return float(self.model.margin)

    def _rotation(self, rel: Tensor):
        # cos / sin of each relation once, not of each triple's copy (the
        # same values: both are elementwise).
        theta = self.model.rel_emb.weight
        if rel.numel() < theta.size(0):
            theta = theta[rel]
            return torch.cos(theta), torch.sin(theta)
        return torch.cos(theta)[rel], torch.sin(theta)[rel]

    def tail_query(self, head: Tensor, rel: Tensor) -> Tensor:
        return self.tail_query_rep(self._rows(head), rel)

    def head_query(self, rel: Tensor, tail: Tensor) -> Tensor:
        return self.head_query_rep(rel, self._rows(tail))

    def tail_query_rep(self, head_rep: Tensor, rel: Tensor) -> Tensor:
        h_re, h_im = head_rep.chunk(2, dim=-1)
        r_re, r_im = self._rotation(rel)
        return torch.cat([r_re * h_re - r_im * h_im,
                          r_re * h_im + r_im * h_re], dim=-1)

    def head_query_rep(self, rel: Tensor, tail_rep: Tensor) -> Tensor:
        t_re, t_im = tail_rep.chunk(2, dim=-1)
        r_re, r_im = self._rotation(rel)
        return torch.cat([r_re * t_re + r_im * t_im,
                          r_re * t_im - r_im * t_re], dim=-1)


class ForwardScorer(KGEScorer):
    r"""Generic fallback adapter that scores through the model's own
    :meth:`forward(head_index, rel_type, tail_index)`, in chunks of at most
    :obj:`chunk_size` triples. Correct for any
    :class:`~torch_geometric.nn.kge.KGEModel`, but slower than a dedicated
    adapter.

    Args:
        model (torch.nn.Module): The knowledge graph embedding model.
        chunk_size (int, optional): Triples per :meth:`forward` call.
            (default: :obj:`2**18`)
    """
    def __init__(self, model: torch.nn.Module,
                 chunk_size: int = 2**18) -> None:
        super().__init__(model)
        self.chunk_size = int(chunk_size)

    def prepare(self) -> 'ForwardScorer':
        return self  # nothing to cache: scores come from forward()

    def _expand(self, fixed_a: Tensor, fixed_b: Tensor,
                candidates: Optional[Tensor], side: str) -> Tensor:
        num_queries = fixed_a.numel()
        if candidates is None:
            candidates = torch.arange(self.num_nodes, device=fixed_a.device)
            candidates = candidates.unsqueeze(0).expand(num_queries, -1)
        num_cand = candidates.size(1)
        out = []
        rows = max(1, self.chunk_size // max(num_cand, 1))
        for start in range(0, num_queries, rows):
            a = fixed_a[start:start + rows, None].expand(-1, num_cand)
            b = fixed_b[start:start + rows, None].expand(-1, num_cand)
            c = candidates[start:start + rows]
            if side == 'tail':  # (a=head, b=rel, c=tail)
                score = self.model(a.reshape(-1), b.reshape(-1),
                                   c.reshape(-1))
            else:  # (c=head, a=rel, b=tail)
                score = self.model(c.reshape(-1), a.reshape(-1),
                                   b.reshape(-1))
            out.append(score.view(-1, num_cand))
        if not out:
            return torch.empty(0, num_cand, device=fixed_a.device)
        return torch.cat(out, dim=0)

    def tails(self, head: Tensor, rel: Tensor,
              candidates: Optional[Tensor] = None) -> Tensor:
        return self._expand(head, rel, candidates, 'tail')

    def heads(self, rel: Tensor, tail: Tensor,
              candidates: Optional[Tensor] = None) -> Tensor:
        return self._expand(rel, tail, candidates, 'head')


#: Registered adapters by model class (looked up along the model's MRO).
SCORERS: Dict[Type[torch.nn.Module], Type[KGEScorer]] = {
    TransE: TransEScorer,
    DistMult: DistMultScorer,
    ComplEx: ComplExScorer,
    RotatE: RotatEScorer,
}

#: Model classes by lower-case name, as used by :func:`load_kge_model`.
MODELS: Dict[str, Type[KGEModel]] = {
    'transe': TransE,
    'distmult': DistMult,
    'complex': ComplEx,
    'rotate': RotatE,
}


def register_scorer(
    model_cls: Type[torch.nn.Module],
    name: Optional[str] = None,
) -> Callable[[Type[KGEScorer]], Type[KGEScorer]]:
    r"""Class decorator registering a :class:`KGEScorer` for
    :obj:`model_cls` (and its subclasses).

    .. code-block:: python

        @register_scorer(MyModel, name='mymodel')
        class MyModelScorer(KGEScorer):
            ...

    Args:
        model_cls (type): The model class.
        name (str, optional): If set, also registers :obj:`model_cls` under
            this name for :func:`load_kge_model`. (default: :obj:`None`)
    """
    def wrap(scorer_cls: Type[KGEScorer]) -> Type[KGEScorer]:
        if not (isinstance(scorer_cls, type)
                and issubclass(scorer_cls, KGEScorer)):
            raise TypeError(f"'{scorer_cls}' is not a KGEScorer subclass")
        SCORERS[model_cls] = scorer_cls
        if name is not None:
            MODELS[name.lower()] = model_cls
        return scorer_cls

    return wrap


def _check_model(model: torch.nn.Module) -> None:
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"'model' must be a torch.nn.Module (got "
                        f"{type(model).__name__})")
    for attr in ('num_nodes', 'num_relations'):
        if not isinstance(getattr(model, attr, None), int):
            raise TypeError(f"'model' has no integer '{attr}' (expected a "
                            f"torch_geometric.nn.kge.KGEModel)")


def get_scorer(model: torch.nn.Module) -> KGEScorer:
    r"""Returns the scoring adapter of :obj:`model`: the one registered for
    the closest class in its MRO, else a :class:`ForwardScorer`."""
    _check_model(model)
    for cls in type(model).__mro__:
        if cls in SCORERS:
            return SCORERS[cls](model)
    return ForwardScorer(model)


def _check_ids(x: Tensor, size: int, name: str) -> Tensor:
    x = torch.as_tensor(x)
    if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
        raise ValueError(f"'{name}' must hold integer ids (got {x.dtype})")
    if x.numel() > 0 and (int(x.min()) < 0 or int(x.max()) >= size):
        raise ValueError(f"'{name}' ids must lie in [0, {size - 1}] (got "
                         f"range [{int(x.min())}, {int(x.max())}])")
    return x.long()


def _prepare(model: torch.nn.Module, a: Tensor, b: Tensor,
             candidates: Optional[Tensor], names, sizes):
    scorer = get_scorer(model)
    device = scorer.device
    a = _check_ids(a, sizes[0], names[0]).to(device)
    b = _check_ids(b, sizes[1], names[1]).to(device)
    if a.dim() != 1 or a.shape != b.shape:
        raise ValueError(f"'{names[0]}' and '{names[1]}' must be 1-D and of "
                         f"equal length (got {list(a.shape)} and "
                         f"{list(b.shape)})")
    if candidates is not None:
        candidates = _check_ids(candidates, scorer.num_nodes,
                                'candidates').to(device)
        if candidates.dim() != 2 or candidates.size(0) != a.numel():
            raise ValueError(f"'candidates' must have shape [{a.numel()}, K] "
                             f"(got {list(candidates.shape)})")
    return scorer, a, b, candidates


def score_tails(model: torch.nn.Module, head: Tensor, rel: Tensor,
                candidates: Optional[Tensor] = None) -> Tensor:
    r"""Scores every entity (or the given candidates) as the tail of the
    queries :math:`(h, r, ?)`, consistently with
    :obj:`model(head, rel, tail)`.

    Args:
        model (torch.nn.Module): A PyG KGE model
            (:class:`~torch_geometric.nn.kge.TransE`, ...).
        head (torch.Tensor): Head ids, shape ``[B]``.
        rel (torch.Tensor): Relation ids, shape ``[B]``.
        candidates (torch.Tensor, optional): Candidate tail ids, shape
            ``[B, K]``. (default: :obj:`None`, all ``N`` entities)

    Returns:
        torch.Tensor: Scores, shape ``[B, N]`` (or ``[B, K]``), on the
        model's device; higher is more plausible.
    """
    _check_model(model)
    scorer, head, rel, candidates = _prepare(
        model, head, rel, candidates, ('head', 'rel'),
        (int(model.num_nodes), int(model.num_relations)))
    return scorer.tails(head, rel, candidates)


def score_heads(model: torch.nn.Module, rel: Tensor, tail: Tensor,
                candidates: Optional[Tensor] = None) -> Tensor:
    r"""Scores every entity (or the given candidates) as the head of the
    queries :math:`(?, r, t)`, consistently with
    :obj:`model(head, rel, tail)`.

    Args:
        model (torch.nn.Module): A PyG KGE model.
        rel (torch.Tensor): Relation ids, shape ``[B]``.
        tail (torch.Tensor): Tail ids, shape ``[B]``.
        candidates (torch.Tensor, optional): Candidate head ids, shape
            ``[B, K]``. (default: :obj:`None`, all ``N`` entities)

    Returns:
        torch.Tensor: Scores, shape ``[B, N]`` (or ``[B, K]``).
    """
    _check_model(model)
    scorer, rel, tail, candidates = _prepare(
        model, rel, tail, candidates, ('rel', 'tail'),
        (int(model.num_relations), int(model.num_nodes)))
    return scorer.heads(rel, tail, candidates)


def model_name(model: Union[torch.nn.Module, Type[torch.nn.Module]]) -> str:
    r"""Returns the registered lower-case name of a model (or model class),
    e.g. :obj:`"transe"`, else its lower-cased class name."""
    cls = model if isinstance(model, type) else type(model)
    for base in cls.__mro__:
        for name, model_cls in MODELS.items():
            if model_cls is base:
                return name
    return cls.__name__.lower()


def load_kge_model(name: str, num_nodes: int, num_relations: int,
                   hidden_channels: int, **kwargs) -> KGEModel:
    r"""Instantiates a PyG KGE model by name.

    Args:
        name (str): One of :obj:`"transe"`, :obj:`"distmult"`,
            :obj:`"complex"`, :obj:`"rotate"` (case-insensitive), or a name
            added through :func:`register_scorer`.
        num_nodes (int): Number of entities.
        num_relations (int): Number of relations.
        hidden_channels (int): Embedding size.
        **kwargs (optional): Further arguments of the model class, e.g.
            :obj:`p_norm` or :obj:`margin`.
    """
    key = str(name).lower()
    if key not in MODELS:
        raise ValueError(f"unknown KGE model '{name}' (expected one of "
                         f"{', '.join(sorted(MODELS))})")
    return MODELS[key](num_nodes, num_relations, hidden_channels, **kwargs)
