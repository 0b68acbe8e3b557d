r"""Content fingerprints: SHA-256 hashes that identify a model's
parameters, a set of triples (independent of order and duplicates) and a
vocabulary, so files that do not belong together can be refused and a
ledger can name exactly what it recorded."""
from __future__ import annotations

import hashlib
from typing import Iterable, Optional

import torch
from torch import Tensor

__all__ = ['tensor_hash', 'model_hash', 'triples_hash', 'vocab_hash',
           'check_finite']


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
    r"""SHA-256 of a module's (or a state dict's) parameters and buffers,
    by name in sorted order (hex). Equal for bit-identical models."""
    state = model_or_state.state_dict() if isinstance(
        model_or_state, torch.nn.Module) else model_or_state
    h = hashlib.sha256()
    for name in sorted(state):
        h.update(name.encode() + b'\0')
        _update(h, state[name])
    return h.hexdigest()


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
