r"""Loader for knowledge graphs stored as ``head<TAB>relation<TAB>tail``
files (the layout of FB15k-237, CoDEx and most KGE releases)."""
from __future__ import annotations

import gzip
import os
import os.path as osp
from typing import Dict, List, Optional

import numpy as np
import torch

from .kg import KGDataset, Vocabulary, make_kg

_ALIASES = {
    'train': ('train',),
    'valid': ('valid', 'val', 'dev'),
    'test': ('test',),
}
_SUFFIXES = ('.tsv', '.tsv.gz', '.txt', '.txt.gz')


def find_split_file(root: str, split: str) -> Optional[str]:
    r"""Returns the path of :obj:`split`'s file in :obj:`root`, or
    :obj:`None` (``train.tsv``, ``train.tsv.gz``, ``train.txt`` ... and
    ``valid`` / ``val`` / ``dev`` for the validation split)."""
    for stem in _ALIASES[split]:
        for suffix in _SUFFIXES:
            path = osp.join(root, stem + suffix)
            if osp.isfile(path):
                return path
    return None


def _read_rows(path: str) -> List[List[str]]:
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rt', encoding='utf-8', newline='') as f:
        text = f.read()
    rows = []
    for lineno, line in enumerate(text.split('\n'), start=1):
        line = line.rstrip('\r')
        if not line.strip():
            continue
        parts = line.split('\t')
        if len(parts) != 3:
            raise ValueError(f"{path}:{lineno}: expected 3 tab-separated "
                             f"fields 'head<TAB>relation<TAB>tail', got "
                             f"{len(parts)}: {line[:80]!r}")
        rows.append(parts)
    return rows


def load_tsv_kg(root: str, name: Optional[str] = None,
                vocab_order: str = 'appearance') -> KGDataset:
    r"""Loads a knowledge graph from a directory of ``train`` / ``valid`` /
    ``test`` files with one ``head<TAB>relation<TAB>tail`` triple per line
    (``.tsv``, ``.tsv.gz``, ``.txt`` or ``.txt.gz``; ``val`` and ``dev`` are
    accepted for ``valid``).

    Entities and relations get ids in order of first appearance over
    ``train``, ``valid``, ``test`` (so entities that occur only in ``valid``
    or ``test`` are kept and counted, as in the usual FB15k-237 statistics:
    14,541 entities, 237 relations, 272,115 / 17,535 / 20,466 triples).

    Args:
        root (str): The directory.
        name (str, optional): Dataset name. (default: the directory's name)
        vocab_order (str, optional): :obj:`"appearance"` or :obj:`"sorted"`
            (ids in sorted name order). (default: :obj:`"appearance"`)

    Returns:
        :class:`KGDataset`
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f"KG directory '{root}' does not exist")
    if vocab_order not in ('appearance', 'sorted'):
        raise ValueError(f"'vocab_order' must be 'appearance' or 'sorted' "
                         f"(got '{vocab_order}')")
    rows: Dict[str, List[List[str]]] = {}
    for split in ('train', 'valid', 'test'):
        path = find_split_file(root, split)
        if path is None:
            if split == 'train':
                raise FileNotFoundError(
                    f"no training file in '{root}' (expected one of "
                    f"{', '.join('train' + s for s in _SUFFIXES)})")
            rows[split] = []
        else:
            rows[split] = _read_rows(path)

    ent: Dict[str, int] = {}
    rel: Dict[str, int] = {}
    if vocab_order == 'sorted':
        all_rows = [r for s in rows.values() for r in s]
        for e in sorted({x for r in all_rows for x in (r[0], r[2])}):
            ent[e] = len(ent)
        for r_ in sorted({r[1] for r in all_rows}):
            rel[r_] = len(rel)
    ids = {}
    for split, split_rows in rows.items():
        arr = np.empty((len(split_rows), 3), dtype=np.int64)
        for i, (h, r, t) in enumerate(split_rows):
            arr[i, 0] = ent.setdefault(h, len(ent))
            arr[i, 1] = rel.setdefault(r, len(rel))
            arr[i, 2] = ent.setdefault(t, len(ent))
        ids[split] = torch.from_numpy(arr)

    n, r = len(ent), len(rel)
    splits = {
        s: make_kg(t[:, [0, 2]].t().contiguous(), t[:, 1].contiguous(), n, r)
        for s, t in ids.items()
    }
    return KGDataset(**splits, entity_vocab=Vocabulary(list(ent)),
                     relation_vocab=Vocabulary(list(rel)),
                     name=name or osp.basename(osp.normpath(root)))


def save_tsv_kg(dataset: KGDataset, root: str, compress: bool = True) -> None:
    r"""Writes :obj:`dataset` as ``train`` / ``valid`` / ``test`` files of
    ``head<TAB>relation<TAB>tail`` names (the inverse of
    :func:`load_tsv_kg`).

    Args:
        dataset (KGDataset): The dataset.
        root (str): Output directory (created if missing).
        compress (bool, optional): Write ``.tsv.gz`` instead of ``.tsv``.
            (default: :obj:`True`)
    """
    os.makedirs(root, exist_ok=True)
    ev, rv = dataset.entity_vocab, dataset.relation_vocab
    ent_names = ev.to_list()
    rel_names = rv.to_list()
    for split in ('train', 'valid', 'test'):
        data = dataset[split]
        path = osp.join(root, split + ('.tsv.gz' if compress else '.tsv'))
        opener = gzip.open if compress else open
        h, t = data.edge_index.tolist()
        r = data.edge_type.tolist()
        with opener(path, 'wt', encoding='utf-8', newline='') as f:
            f.write(''.join(f'{ent_names[a]}\t{rel_names[b]}\t{ent_names[c]}\n'
                            for a, b, c in zip(h, r, t)))
