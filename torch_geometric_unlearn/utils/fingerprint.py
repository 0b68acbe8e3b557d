r"""Content fingerprints: SHA-256 hashes that identify a model's
parameters, a set of triples (independent of order and duplicates) and a
vocabulary, so files that do not belong together can be refused and a
ledger can name exactly what it recorded.

A model's hash and a graph's digest are built from 64-bit *multiset
digests* (the wrapping sum of a mixed hash of every row, or of every
triple), so a request that changes :math:`A` rows or removes :math:`F`
triples updates them in :math:`O(A D)` or :math:`O(F)`
(:class:`ModelDigest`, :func:`edge_digest`) instead of rehashing a
2.5M-row table. They detect a different, edited or corrupted file, not a
forgery: a sum of hashes is not a cryptographic commitment."""
from __future__ import annotations

import hashlib
from typing import Iterable, Optional

import torch
from torch import Tensor

__all__ = ['tensor_hash', 'model_hash', 'triples_hash', 'vocab_hash',
           'check_finite', 'mix64', 'row_digests', 'ModelDigest',
           'edge_digest', 'retained_digest']

_M1 = -4658895280553007687  # 0xbf58476d1ce4e5b9 (splitmix64)
_M2 = -7723592293110705685  # 0x94d049bb133111eb
_GOLDEN = -7046029254386353131  # 0x9e3779b97f4a7c15
_MASK = (1 << 64) - 1


def _lsr(x: Tensor, k: int) -> Tensor:
    return (x >> k) & ((1 << (64 - k)) - 1)


def mix64(x: Tensor) -> Tensor:
    r"""The splitmix64 finaliser of Steele et al., "Fast Splittable
    Pseudorandom Number Generators" (OOPSLA 2014), elementwise on an
    :obj:`int64` tensor with wrapping arithmetic: a bijection of 64-bit
    words that spreads every input bit over the output."""
    x = x ^ _lsr(x, 30)
    x = x * _M1
    x = x ^ _lsr(x, 27)
    x = x * _M2
    return x ^ _lsr(x, 31)


def _as_words(t: Tensor) -> Tensor:
    # The bit patterns of a tensor's elements as integer words [rows, cols]
    # (int32 for 4-byte dtypes, int64 otherwise).
    t = t.detach().cpu().contiguous()
    if t.dim() == 0:
        t = t.view(1)
    if t.is_complex():
        t = torch.view_as_real(t)
    t = t.reshape(t.size(0), -1) if t.numel() else t.reshape(t.size(0), 0)
    if t.dtype == torch.bool:
        return t.to(torch.int64)
    view = {1: torch.uint8, 2: torch.int16, 4: torch.int32, 8: torch.int64}
    w = t.view(view[t.element_size()])
    return w if w.dtype == torch.int32 else w.to(torch.int64)


def row_digests(t: Tensor, rows: Optional[Tensor] = None,
                chunk: int = 65536) -> Tensor:
    r"""A 64-bit hash ``[N]`` of every row of :obj:`t` (its first
    dimension), mixing the row's index (:obj:`rows`, default ``0..N-1``)
    with a keyed linear form of its elements' bit patterns (one
    multiply-add per element, so hashing a 2.5M-row table costs about as
    much as SHA-256 over its bytes)."""
    n = t.size(0) if t.dim() else 1
    if rows is None:
        rows = torch.arange(n)
    out = []
    for start in range(0, max(n, 1), chunk):
        words = _as_words(t[start:start + chunk] if t.dim() else t)
        cols = torch.arange(words.size(1), dtype=torch.int64)
        key = mix64(cols * _GOLDEN + 1) | 1  # odd: a change always shows
        if words.dtype == torch.int32:
            key = key.to(torch.int32)
        acc = (words * key).sum(1, dtype=torch.int64) if words.size(1) \
            else torch.zeros(words.size(0), dtype=torch.int64)
        out.append(mix64(acc + mix64(rows[start:start + chunk] + _GOLDEN)))
    return torch.cat(out) if out else torch.zeros(0, dtype=torch.int64)


def _fold(x: Tensor) -> int:
    return int(x.sum()) & _MASK if x.numel() else 0


class ModelDigest:
    r"""The content hash of a module's state (:func:`model_hash`), kept
    up to date in :math:`O(A D)` when :math:`A` rows of its tables change.

    Args:
        model_or_state (Module or dict): The module or its state dict.
    """
    def __init__(self, model_or_state) -> None:
        state = model_or_state.state_dict() if isinstance(
            model_or_state, torch.nn.Module) else model_or_state
        self.meta = {name: (str(t.dtype), tuple(t.shape))
                     for name, t in state.items()}
        self.sums = {name: _fold(row_digests(t))
                     for name, t in state.items()}

    def copy(self) -> 'ModelDigest':
        out = ModelDigest.__new__(ModelDigest)
        out.meta, out.sums = dict(self.meta), dict(self.sums)
        return out

    def update_rows(self, name: str, rows: Tensor, before: Tensor,
                    after: Tensor) -> None:
        r"""Rows :obj:`rows` ``[A]`` of state entry :obj:`name` changed
        from :obj:`before` to :obj:`after` (``[A, ...]`` each)."""
        rows = rows.detach().cpu().long()
        delta = _fold(row_digests(after, rows)) - \
            _fold(row_digests(before, rows))
        self.sums[name] = (self.sums[name] + delta) & _MASK

    def hexdigest(self) -> str:
        h = hashlib.sha256(b'rows64|')
        for name in sorted(self.sums):
            dtype, shape = self.meta[name]
            h.update(f'{name}|{dtype}|{shape}|{self.sums[name]:016x}\0'
                     .encode())
        return h.hexdigest()


def _update(h, t: Tensor) -> None:
    t = t.detach().cpu().contiguous()
    h.update(f'{t.dtype}|{tuple(t.shape)}|'.encode())
    h.update(t.view(-1).view(torch.uint8).numpy().tobytes()
             if t.numel() else b'')


def tensor_hash(t: Tensor) -> str:
    r"""SHA-256 of a tensor's dtype, shape and bytes (hex)."""
    h = hashlib.sha256()
    _update(h, t)
    return h.hexdigest()


def model_hash(model_or_state) -> str:
    r"""SHA-256 of a module's (or a state dict's) parameters and buffers
    (hex): their names, dtypes, shapes and the multiset digests of their
    rows (:class:`ModelDigest`). Equal for bit-identical models."""
    return ModelDigest(model_or_state).hexdigest()


def triples_hash(edge_index: Tensor, edge_type: Tensor, num_nodes: int,
                 num_relations: int) -> str:
    r"""SHA-256 of a set of triples: the sorted unique
    :func:`~torch_geometric_unlearn.datasets.triple_keys` and the counts, so
    it depends neither on the order of the triples nor on duplicates."""
    from ..datasets.kg import triple_keys
    keys = torch.unique(triple_keys(edge_index[0], edge_type, edge_index[1],
                                    int(num_nodes), int(num_relations)))
    h = hashlib.sha256(f'{int(num_nodes)}|{int(num_relations)}|'.encode())
    _update(h, keys)
    return h.hexdigest()


def edge_digest(edge_index: Tensor, edge_type: Tensor, num_nodes: int,
                num_relations: int) -> int:
    r"""The 64-bit multiset digest of a graph's triples: the wrapping sum of
    :func:`mix64` of their
    :func:`~torch_geometric_unlearn.datasets.triple_keys` (order does not
    matter; removing triples subtracts their digests)."""
    from ..datasets.kg import triple_keys
    keys = triple_keys(edge_index[0], edge_type, edge_index[1],
                       int(num_nodes), int(num_relations))
    return _fold(mix64(keys + _GOLDEN))


def retained_digest(value: int, num_nodes: int, num_relations: int) -> str:
    r"""The ledger's name of a retained graph with :func:`edge_digest`
    :obj:`value`."""
    return f'ms64:{int(num_nodes)}:{int(num_relations)}:{value & _MASK:016x}'


def vocab_hash(names: Optional[Iterable[str]]) -> Optional[str]:
    r"""SHA-256 of a whole vocabulary (its names in id order), or
    :obj:`None` for an implicit one."""
    if names is None:
        return None
    h = hashlib.sha256()
    for name in names:
        h.update(str(name).encode('utf-8') + b'\n')
    return h.hexdigest()


def check_finite(model: torch.nn.Module, what: str = 'the model') -> None:
    r"""Raises :class:`ValueError` naming the parameter and the first rows
    that hold NaN or infinite values, so nothing non-finite spreads into
    unlearning, meta-training or evaluation (buffers are not checked)."""
    for name, p in model.named_parameters():
        p = p.detach()
        if not torch.is_floating_point(p) and not torch.is_complex(p):
            continue
        bad = ~torch.isfinite(p)
        if bool(bad.any()):
            rows = bad.view(bad.size(0), -1).any(1).nonzero().view(-1) \
                if bad.dim() > 1 else bad.nonzero().view(-1)
            shown = ', '.join(str(i) for i in rows[:10].tolist())
            more = f' ({rows.numel()} in all)' if rows.numel() > 10 else ''
            raise ValueError(f"{what} holds non-finite values in '{name}' "
                             f"at rows {shown}{more}")
