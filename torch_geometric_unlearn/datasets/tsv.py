r"""Loader for knowledge graphs stored as ``head<TAB>relation<TAB>tail``
files (the layout of FB15k-237, CoDEx and most KGE releases)."""
from __future__ import annotations

import codecs
import gzip
import os
import os.path as osp
import zlib
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch

from .errors import UnknownNameError, UserInputError
from .kg import KGDataset, Vocabulary, make_kg

VocabLike = Union[Vocabulary, Sequence[str]]

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


def read_text(path: str) -> str:
    r"""The text of a UTF-8 file, gunzipped if its name ends with ``.gz``;
    a byte-order mark at its start is dropped.

    Raises:
        UserInputError: The file is no readable gzip file, or not UTF-8
            (naming the line and the byte).
    """
    try:
        if path.endswith('.gz'):
            with gzip.open(path, 'rb') as f:
                raw = f.read()
        else:
            with open(path, 'rb') as f:
                raw = f.read()
    except (gzip.BadGzipFile, EOFError, zlib.error) as e:
        raise UserInputError(f'{path}: not a readable gzip file, truncated '
                             f'or corrupt ({type(e).__name__}: {e})') from e
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UserInputError(f'{path}: the file is UTF-16 text (save it as '
                             f'UTF-8)')
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError as e:
        lineno = raw.count(b'\n', 0, e.start) + 1
        column = e.start - raw.rfind(b'\n', 0, e.start)
        raise UserInputError(
            f'{path}:{lineno}: not UTF-8 text (byte 0x{raw[e.start]:02x} at '
            f'byte {column} of the line; save the file as UTF-8)') from None


def _read_rows(path: str) -> List[List[str]]:
    r"""The ``[head, relation, tail]`` name rows of a file, each with its
    line number appended (blank lines are skipped)."""
    text = read_text(path)
    rows = []
    for lineno, line in enumerate(text.split('\n'), start=1):
        line = line.rstrip('\r')
        if not line.strip():
            continue
        parts = line.split('\t')
        if len(parts) != 3:
            raise UserInputError(
                f"{path}:{lineno}: expected 3 tab-separated fields "
                f"'head<TAB>relation<TAB>tail', got {len(parts)}: "
                f"{line[:80]!r}")
        parts.append(lineno)
        rows.append(parts)
    return rows


def _as_vocabulary(vocab: Optional[VocabLike]) -> Optional[Vocabulary]:
    if vocab is None or isinstance(vocab, Vocabulary):
        return vocab
    return Vocabulary(list(vocab))


def _encode_fixed(rows: List[list], index: Dict[str, int], columns,
                  what: str, path: str) -> np.ndarray:
    r"""Ids of :obj:`columns` of :obj:`rows` in a fixed vocabulary
    (:obj:`index`: name to id); raises :class:`UnknownNameError` naming the
    first unknown names of :obj:`path`."""
    out = np.empty((len(rows), len(columns)), dtype=np.int64)
    unknown: Dict[str, int] = {}
    for i, row in enumerate(rows):
        for j, col in enumerate(columns):
            idx = index.get(row[col])
            if idx is None:
                unknown.setdefault(row[col], row[3])
                idx = -1
            out[i, j] = idx
    if unknown:
        names = list(unknown)
        shown = ', '.join(f"'{n}' (line {unknown[n]})" for n in names[:5])
        more = f' and {len(names) - 5} more' if len(names) > 5 else ''
        raise UnknownNameError(
            f"{path}: {len(names)} {what} name(s) not in the given {what} "
            f"vocabulary of {len(index):,} names: {shown}{more}",
            names=names[:5], path=path)
    return out


def load_tsv_kg(root: str, name: Optional[str] = None,
                vocab_order: str = 'appearance',
                entity_vocab: Optional[VocabLike] = None,
                relation_vocab: Optional[VocabLike] = None) -> KGDataset:
    r"""Loads a knowledge graph from a directory of ``train`` / ``valid`` /
    ``test`` files with one ``head<TAB>relation<TAB>tail`` triple per line
    (``.tsv``, ``.tsv.gz``, ``.txt`` or ``.txt.gz``; ``val`` and ``dev`` are
    accepted for ``valid``).

    Entities and relations get ids in order of first appearance over
    ``train``, ``valid``, ``test`` (so entities that occur only in ``valid``
    or ``test`` are kept and counted, as in the usual FB15k-237 statistics:
    14,541 entities, 237 relations, 272,115 / 17,535 / 20,466 triples).

    Given :obj:`entity_vocab` (or :obj:`relation_vocab`), the files are
    encoded with that vocabulary instead, for example a trained model's
    (:func:`~torch_geometric_unlearn.datasets.load_checkpoint_and_data`):
    the ids are the vocabulary's, the dataset has :obj:`len(entity_vocab)`
    entities however many of them the files mention, and a name that is
    not in the vocabulary raises :class:`UnknownNameError` naming the file
    and the first unknown names.

    Args:
        root (str): The directory.
        name (str, optional): Dataset name. (default: the directory's name)
        vocab_order (str, optional): :obj:`"appearance"` or :obj:`"sorted"`
            (ids in sorted name order) for a vocabulary built from the
            files. (default: :obj:`"appearance"`)
        entity_vocab (Vocabulary or Sequence[str], optional): Fixed entity
            vocabulary (names in id order). (default: :obj:`None`: built
            from the files)
        relation_vocab (Vocabulary or Sequence[str], optional): Fixed
            relation vocabulary. (default: :obj:`None`: built from the
            files)

    Returns:
        :class:`KGDataset`
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f"KG directory '{root}' does not exist")
    if vocab_order not in ('appearance', 'sorted'):
        raise ValueError(f"'vocab_order' must be 'appearance' or 'sorted' "
                         f"(got '{vocab_order}')")
    fixed_ent = _as_vocabulary(entity_vocab)
    fixed_rel = _as_vocabulary(relation_vocab)
    rows: Dict[str, List[list]] = {}
    paths: Dict[str, str] = {}
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
            paths[split] = path

    ent: Dict[str, int] = {}
    rel: Dict[str, int] = {}
    if vocab_order == 'sorted':
        all_rows = [r for s in rows.values() for r in s]
        if fixed_ent is None:
            for e in sorted({x for r in all_rows for x in (r[0], r[2])}):
                ent[e] = len(ent)
        if fixed_rel is None:
            for r_ in sorted({r[1] for r in all_rows}):
                rel[r_] = len(rel)
    fixed = {}
    for key, vocab in (('entity', fixed_ent), ('relation', fixed_rel)):
        if vocab is not None:
            fixed[key] = {n: i for i, n in enumerate(vocab.to_list())}
    ids = {}
    for split, split_rows in rows.items():
        arr = np.empty((len(split_rows), 3), dtype=np.int64)
        # A fixed vocabulary first, so that an unknown name is reported
        # before any id is assigned.
        if 'entity' in fixed:
            arr[:, [0, 2]] = _encode_fixed(split_rows, fixed['entity'],
                                           (0, 2), 'entity', paths.get(split))
        if 'relation' in fixed:
            arr[:, [1]] = _encode_fixed(split_rows, fixed['relation'], (1, ),
                                        'relation', paths.get(split))
        for i, (h, r, t, _) in enumerate(split_rows):
            if 'entity' not in fixed:
                arr[i, 0] = ent.setdefault(h, len(ent))
            if 'relation' not in fixed:
                arr[i, 1] = rel.setdefault(r, len(rel))
            if 'entity' not in fixed:
                arr[i, 2] = ent.setdefault(t, len(ent))
        ids[split] = torch.from_numpy(arr)

    ent_vocab = fixed_ent if fixed_ent is not None else Vocabulary(list(ent))
    rel_vocab = fixed_rel if fixed_rel is not None else Vocabulary(list(rel))
    n, r = len(ent_vocab), len(rel_vocab)
    splits = {
        s: make_kg(t[:, [0, 2]].t().contiguous(), t[:, 1].contiguous(), n, r)
        for s, t in ids.items()
    }
    return KGDataset(**splits, entity_vocab=ent_vocab,
                     relation_vocab=rel_vocab,
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
