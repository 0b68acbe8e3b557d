r"""The deletion ledger: an append-only, hash-chained, human-readable record
(JSON lines) of every unlearning request.

Each entry holds the time, the request as given, the forgotten triples (or
user--item pairs) by id and by name, the method and its options, the
affected rows, and content hashes of the input model, the output model and
the retained data. Entry :math:`i` stores the hash of entry :math:`i - 1`
(``prev``) and its own hash (``hash``, SHA-256 of the entry's canonical
JSON without ``hash``), so removing, reordering or editing an entry breaks
the chain and :meth:`Ledger.verify` reports it.

.. code-block:: python

    ledger = Ledger()
    ledger.append(dict(request='forget 2 triples', method='metaeu',
                       forget=dict(ids=[[0, 1, 2], [3, 0, 4]])))
    ledger.save('model.ledger.jsonl')
    assert Ledger.load('model.ledger.jsonl').verify() == []
"""
from __future__ import annotations

import datetime
import hashlib
import json
from typing import Any, Dict, Iterator, List, Optional

import torch
from torch import Tensor

from .utils.io import atomic_write_text

__all__ = ['Ledger', 'GENESIS', 'LEDGER_FORMAT']

#: The ``prev`` hash of the first entry.
GENESIS = '0' * 64
LEDGER_FORMAT = 'torch_geometric_unlearn.ledger/1'


def _canonical(entry: Dict[str, Any]) -> str:
    return json.dumps({k: v for k, v in entry.items() if k != 'hash'},
                      sort_keys=True, separators=(',', ':'),
                      ensure_ascii=False)


def _digest(entry: Dict[str, Any]) -> str:
    return hashlib.sha256(_canonical(entry).encode('utf-8')).hexdigest()


class Ledger:
    r"""An append-only, hash-chained list of deletion records.

    Args:
        entries (list, optional): Entries read back from a file (checked
            with :meth:`verify`, not trusted).
    """
    def __init__(self, entries: Optional[List[Dict[str, Any]]] = None
                 ) -> None:
        self._entries: List[Dict[str, Any]] = [dict(e) for e in
                                               (entries or [])]

    # Reading ###############################################################

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return (dict(e) for e in self._entries)

    def __getitem__(self, i: int) -> Dict[str, Any]:
        return dict(self._entries[i])

    @property
    def head(self) -> str:
        r"""The hash of the last entry (:data:`GENESIS` when empty)."""
        return self._entries[-1]['hash'] if self._entries else GENESIS

    def forgotten(self) -> Tensor:
        r"""Every forgotten ``(head, relation, tail)`` id triple of the
        knowledge-graph entries, ``[F, 3]``, in ledger order."""
        rows = [t for e in self._entries
                for t in (e.get('forget') or {}).get('ids', [])]
        return torch.tensor(rows, dtype=torch.long).view(-1, 3)

    def forgotten_pairs(self) -> Tensor:
        r"""Every forgotten ``(user, item)`` pair of the recommendation
        entries, ``[2, K]``."""
        rows = [p for e in self._entries
                for p in (e.get('forget') or {}).get('pairs', [])]
        return torch.tensor(rows, dtype=torch.long).view(-1, 2).t()

    def entry_of(self, triple) -> Optional[Dict[str, Any]]:
        r"""The entry that forgot the id triple :obj:`triple`
        ``(h, r, t)``, or :obj:`None`."""
        want = [int(x) for x in triple]
        for e in self._entries:
            if want in (e.get('forget') or {}).get('ids', []):
                return dict(e)
        return None

    # Writing ###############################################################

    def append(self, entry: Dict[str, Any]) -> Dict[str, Any]:
        r"""Appends a JSON-able :obj:`entry`, adding ``index``, ``time``
        (UTC, ISO 8601, unless given), ``prev`` and ``hash``; returns the
        stored entry."""
        e = json.loads(json.dumps(entry))  # JSON-able, and a copy
        for key in ('index', 'prev', 'hash'):
            e.pop(key, None)
        e['index'] = len(self._entries)
        e.setdefault('time', datetime.datetime.now(
            datetime.timezone.utc).isoformat(timespec='seconds'))
        e['prev'] = self.head
        e['hash'] = _digest(e)
        self._entries.append(e)
        return dict(e)

    def to_jsonl(self) -> str:
        r"""One JSON object per line, in order."""
        return ''.join(json.dumps(e, sort_keys=True, ensure_ascii=False) +
                       '\n' for e in self._entries)

    @classmethod
    def from_jsonl(cls, text: str, source: str = 'ledger') -> 'Ledger':
        r"""Parses :meth:`to_jsonl` output (blank lines are skipped)."""
        entries = []
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                e = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{source}, line {n}: not JSON ({err.msg})'
                                 ) from None
            if not isinstance(e, dict):
                raise ValueError(f'{source}, line {n}: not a JSON object')
            entries.append(e)
        return cls(entries)

    def save(self, path: str) -> None:
        r"""Writes the ledger as JSON lines, atomically."""
        atomic_write_text(path, self.to_jsonl())

    @classmethod
    def load(cls, path: str) -> 'Ledger':
        r"""Reads a ledger written by :meth:`save`."""
        with open(path, encoding='utf-8') as f:
            return cls.from_jsonl(f.read(), source=f"'{path}'")

    def to_list(self) -> List[Dict[str, Any]]:
        r"""The entries as a list of dicts (for embedding in a file)."""
        return [dict(e) for e in self._entries]

    # Checking ##############################################################

    def verify(self) -> List[str]:
        r"""The problems of the chain, as sentences (empty when intact):
        an entry whose hash does not match its content (edited), whose
        ``prev`` is not the previous entry's hash (removed or reordered), or
        whose index is out of sequence."""
        problems = []
        prev = GENESIS
        for i, e in enumerate(self._entries):
            if e.get('index') != i:
                problems.append(f'entry {i}: index {e.get("index")!r} out of '
                                f'sequence (an entry was removed or moved)')
            if e.get('prev') != prev:
                problems.append(f'entry {i}: does not chain to the previous '
                                f'entry (an entry was removed, inserted or '
                                f'reordered)')
            if e.get('hash') != _digest(e):
                problems.append(f'entry {i}: its hash does not match its '
                                f'content (the entry was edited)')
            prev = e.get('hash')
        return problems

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}({len(self)} entries)'
