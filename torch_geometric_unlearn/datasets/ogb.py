r"""Loader for the OGB knowledge graph `ogbl-wikikg2
<https://ogb.stanford.edu/docs/linkprop/#ogbl-wikikg2>`_ from a local copy in
OGB's own on-disk layout.

The loader reads the files directly instead of going through
:class:`ogb.linkproppred.PygLinkPropPredDataset`, which downloads missing
files and asks for confirmation on the terminal (:func:`input`) when the
release marker does not match its version table. The expected layout is the
one OGB extracts to (``root/ogbl_wikikg2``; a folder named ``ogbl_wikikg2_pyg``
is used when present, as OGB does):

.. code-block:: none

    ogbl_wikikg2/
        split/time/train.pt       {'head', 'relation', 'tail'}: [E] int arrays
        split/time/valid.pt       ... plus 'head_neg', 'tail_neg': [E, 500]
        split/time/test.pt        ... plus 'head_neg', 'tail_neg': [E, 500]
        raw/num-node-list.csv.gz  number of entities        (optional)
        mapping/nodeidx2entityid.csv.gz  "node idx,entity id"  (optional)
        mapping/reltype2relid.csv.gz     "reltype,rel id"      (optional)
"""
from __future__ import annotations

import codecs
import csv
import gzip
import os
import os.path as osp
import pickle
import struct
import zipfile
import zlib
from collections import OrderedDict
from typing import Dict, List, Optional

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from .errors import UserInputError
from .kg import SPLITS, KGDataset, Vocabulary, make_kg
from .resolve import LOAD_ERRORS, describe_error, is_torch_file

__all__ = ['load_ogb_wikikg2', 'OGBFormatError']


class OGBFormatError(UserInputError):
    r"""An OGB file that does not hold what the dataset stores there (a
    truncated or corrupt file, missing entries, ids out of range); the
    message names the file."""


class _OGBKeyError(OGBFormatError, KeyError):
    r"""A missing entry (also a :class:`KeyError`)."""
    __str__ = BaseException.__str__


class _OGBTypeError(OGBFormatError, TypeError):
    r"""An entry of the wrong type (also a :class:`TypeError`)."""


_TRIPLE_KEYS = ('head', 'relation', 'tail')
_NEG_KEYS = ('head_neg', 'tail_neg')


def _dir_name(name: str) -> str:
    # OGB names its folders after the dataset with '-' replaced by '_'.
    return '_'.join(name.split('-'))


def _find_dataset_dir(root: str, name: str, split: str) -> str:
    r"""Returns the dataset folder: ``root/<dir>_pyg``, ``root/<dir>`` or
    :obj:`root` itself when it already is the dataset folder."""
    root = osp.expanduser(str(root))
    dir_name = _dir_name(name)
    for candidate in (osp.join(root, dir_name + '_pyg'),
                      osp.join(root, dir_name)):
        if osp.isdir(osp.join(candidate, 'split')):
            return candidate
    if osp.isdir(osp.join(root, 'split')):
        return root
    expected = osp.join(root, dir_name, 'split', split, 'train.pt')
    raise FileNotFoundError(
        f"no '{name}' dataset found under '{root}': expected OGB's layout "
        f"with '{expected}' (or 'root' pointing at the '{dir_name}' folder "
        f"itself). Download it once with OGB, e.g. "
        f"'ogb.linkproppred.PygLinkPropPredDataset(name=\"{name}\", "
        f"root=...)', and pass the same root here")


def _to_long(value, key: str, path: str) -> Tensor:
    r"""Converts a numpy array or tensor to a :obj:`LongTensor`, sharing
    memory where the input already is contiguous :obj:`int64`."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in 'iu':
            raise _OGBTypeError(f"'{key}' in '{path}' must hold integer ids "
                                f"(got dtype {value.dtype})")
        if value.dtype != np.int64:
            value = value.astype(np.int64)
        elif not value.flags.writeable:
            # torch.from_numpy() cannot share read-only memory safely.
            value = value.copy()
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, Tensor):
        if value.is_floating_point() or value.dtype == torch.bool:
            raise _OGBTypeError(f"'{key}' in '{path}' must hold integer ids "
                                f"(got dtype {value.dtype})")
        return value.long().contiguous()
    raise _OGBTypeError(f"'{key}' in '{path}' must be a numpy array or a "
                        f"tensor (got {type(value).__name__})")


# Globals that pickled dictionaries of numpy arrays refer to, and nothing
# else: the reconstructor of numpy 1.x ('numpy.core') and 2.x ('numpy._core').
_NP_RECONSTRUCT = np.ndarray.__reduce__(np.empty(0))[0]
_NP_SCALAR = np.int64(0).__reduce__()[0]
_SAFE_GLOBALS = {
    ('numpy.core.multiarray', '_reconstruct'): _NP_RECONSTRUCT,
    ('numpy._core.multiarray', '_reconstruct'): _NP_RECONSTRUCT,
    ('numpy.core.multiarray', 'scalar'): _NP_SCALAR,
    ('numpy._core.multiarray', 'scalar'): _NP_SCALAR,
    ('numpy', 'ndarray'): np.ndarray,
    ('numpy', 'dtype'): np.dtype,
    ('_codecs', 'encode'): codecs.encode,
    ('__builtin__', 'bytes'): bytes,  # b'' (an empty array's data)
    ('builtins', 'bytes'): bytes,
    ('collections', 'OrderedDict'): OrderedDict,
}


class _NumpyUnpickler(pickle.Unpickler):
    r"""Unpickles containers of numpy arrays and refuses everything else
    (in particular tensor storages, which need :func:`torch.load`)."""
    def find_class(self, module: str, name: str):
        try:
            return _SAFE_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"global '{module}.{name}' is not allowed") from None

    def persistent_load(self, pid):
        raise pickle.UnpicklingError('the pickle refers to tensor storages')


class _FileSlice:
    r"""A read-only stream over bytes :obj:`[start, start + size)` of a
    file: just what :class:`pickle.Unpickler` needs."""
    def __init__(self, f, start: int, size: int) -> None:
        self._f = f
        self._left = size
        f.seek(start)

    def read(self, n: int = -1) -> bytes:
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._f.read(n)
        self._left -= len(data)
        return data

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast('B')
        n = self._f.readinto(view[:min(len(view), self._left)])
        self._left -= n
        return n

    def readline(self) -> bytes:
        line = self._f.readline(self._left)
        self._left -= len(line)
        return line


def _stream_torch_zip_pickle(path: str):
    r"""Unpickles the ``data.pkl`` record of a :func:`torch.save` zip archive
    straight from the file, if it holds numpy arrays only; returns
    :obj:`None` when it cannot (not such an archive, or tensors inside).

    :func:`torch.load` first reads the whole record into memory and then
    unpickles from that copy; for OGB's split files (pickle protocol 2,
    where a numpy array's bytes travel as a latin-1 string), that copy is
    larger than the arrays themselves. Streaming avoids it."""
    if not zipfile.is_zipfile(path):
        return None
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    records = [i for i in infos if i.filename.count('/') == 1
               and i.filename.endswith('/data.pkl')]
    has_storages = any('/data/' in i.filename for i in infos)
    if (len(records) != 1 or has_storages
            or records[0].compress_type != zipfile.ZIP_STORED):
        return None
    info = records[0]
    with open(path, 'rb') as f:
        f.seek(info.header_offset)
        header = f.read(30)
        if len(header) != 30 or header[:4] != b'PK\x03\x04':
            return None
        name_len, extra_len = struct.unpack('<HH', header[26:30])
        start = info.header_offset + 30 + name_len + extra_len
        try:
            return _NumpyUnpickler(_FileSlice(f, start,
                                              info.compress_size)).load()
        except pickle.UnpicklingError:
            return None


def _load_pickle(path: str):
    if not osp.isfile(path):
        raise FileNotFoundError(f"missing OGB split file '{path}'")
    try:
        obj = _stream_torch_zip_pickle(path)
    except LOAD_ERRORS as e:
        raise OGBFormatError(f"'{path}' is not a readable OGB split file: "
                             f"truncated or corrupt ({describe_error(e)})"
                             ) from e
    if obj is not None:
        return obj
    # Anything else (the legacy format, tensors): OGB pickles dictionaries
    # of numpy arrays, which the safe 'weights_only' unpickler of torch >=
    # 2.6 refuses. Only load trusted files.
    if not is_torch_file(path):
        raise OGBFormatError(f"'{path}' is not an OGB split file (not a "
                             f"torch file)")
    try:
        return torch.load(path, map_location='cpu', weights_only=False)
    except LOAD_ERRORS as e:
        raise OGBFormatError(f"'{path}' is not a readable OGB split file: "
                             f"truncated or corrupt ({describe_error(e)})"
                             ) from e


def _split_from_dict(raw: dict, split: str, path: str,
                     with_negatives: bool) -> Dict[str, Tensor]:
    r"""Turns one OGB split dictionary into tensors, consuming it (entries are
    deleted as they are converted, so the numpy copies are freed early)."""
    if not isinstance(raw, dict):
        raise _OGBTypeError(f"'{path}' must hold a dictionary (got "
                            f"{type(raw).__name__})")
    missing = [k for k in _TRIPLE_KEYS if k not in raw]
    if missing:
        raise _OGBKeyError(f"'{path}' has no {missing} entr"
                           f"{'y' if len(missing) == 1 else 'ies'} for split "
                           f"'{split}' (found {sorted(raw)})")
    out: Dict[str, Tensor] = {}
    for key in _TRIPLE_KEYS:
        out[key] = _to_long(raw.pop(key), key, path).view(-1)
    num = out['head'].numel()
    if out['relation'].numel() != num or out['tail'].numel() != num:
        raise OGBFormatError(f"'{path}': 'head', 'relation' and 'tail' have "
                             f"different lengths ({num}, "
                             f"{out['relation'].numel()}, "
                             f"{out['tail'].numel()})")
    if with_negatives and split != 'train':
        for key in _NEG_KEYS:
            if key not in raw:
                raise _OGBKeyError(f"'{path}' has no '{key}' entry; pass "
                                   f"'with_negatives=False' to load without "
                                   f"OGB's negatives")
            neg = _to_long(raw.pop(key), key, path)
            if neg.dim() != 2 or neg.size(0) != num:
                raise OGBFormatError(f"'{key}' in '{path}' must have shape "
                                     f"[{num}, K] (got {list(neg.shape)})")
            out[key] = neg
    raw.clear()
    return out


def _load_splits(folder: str, split: str,
                 with_negatives: bool) -> Dict[str, Dict[str, Tensor]]:
    split_dir = osp.join(folder, 'split', split)
    if not osp.isdir(split_dir):
        raise FileNotFoundError(f"missing OGB split folder '{split_dir}'")
    # OGB itself prefers a pre-converted 'split_dict.pt' when there is one.
    combined = osp.join(split_dir, 'split_dict.pt')
    if osp.isfile(combined):
        raw = _load_pickle(combined)
        if not isinstance(raw, dict) or not all(s in raw for s in SPLITS):
            raise _OGBKeyError(f"'{combined}' must hold a dictionary with "
                               f"keys {list(SPLITS)}")
        out = {}
        for s in SPLITS:
            out[s] = _split_from_dict(raw.pop(s), s, combined,
                                      with_negatives)
        return out
    for s in SPLITS:  # Fail before spending minutes on the first file.
        path = osp.join(split_dir, f'{s}.pt')
        if not osp.isfile(path):
            raise FileNotFoundError(f"missing OGB split file '{path}'")
    out = {}
    for s in SPLITS:
        path = osp.join(split_dir, f'{s}.pt')
        out[s] = _split_from_dict(_load_pickle(path), s, path,
                                  with_negatives)
    return out


_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error, UnicodeDecodeError)


def _read_num_nodes(path: str) -> int:
    try:
        with gzip.open(path, 'rt') as f:
            values = [line.strip() for line in f if line.strip()]
    except _GZIP_ERRORS as e:
        raise OGBFormatError(f"'{path}' is not a readable gzip text file: "
                             f"truncated or corrupt ({describe_error(e)})"
                             ) from e
    if len(values) != 1 or not values[0].isdigit():
        raise OGBFormatError(f"'{path}' must hold exactly one number (the "
                             f"number of entities), got {values[:3]}")
    return int(values[0])


def _read_mapping(path: str) -> List[str]:
    r"""Reads an OGB ``index,name`` mapping (with a header line) and returns
    the names in index order."""
    if not osp.isfile(path):
        raise FileNotFoundError(f"missing OGB mapping file '{path}'")
    try:
        return _read_mapping_rows(path)
    except _GZIP_ERRORS as e:
        raise OGBFormatError(f"'{path}' is not a readable gzip text file: "
                             f"truncated or corrupt ({describe_error(e)})"
                             ) from e


def _read_mapping_rows(path: str) -> List[str]:
    with gzip.open(path, 'rt', encoding='utf-8', newline='') as f:
        rows = csv.reader(f)
        first = next(rows, None)
        if first is None:
            return []
        index: List[int] = []
        names: List[str] = []
        if first and first[0].strip().isdigit():  # no header line
            index.append(int(first[0]))
            names.append(first[1])
        for lineno, row in enumerate(rows, start=2):
            if not row:
                continue
            if len(row) < 2 or not row[0].strip().isdigit():
                raise OGBFormatError(f"{path}:{lineno}: expected "
                                     f"'index,name', got {row[:3]}")
            index.append(int(row[0]))
            names.append(row[1])
    if index != list(range(len(index))):
        order = np.argsort(np.asarray(index, dtype=np.int64), kind='stable')
        if not np.array_equal(np.asarray(index)[order],
                              np.arange(len(index))):
            raise OGBFormatError(f"'{path}': indices must be 0, 1, ..., "
                                 f"{len(index) - 1} (each exactly once)")
        names = [names[i] for i in order.tolist()]
    return names


def _max_id(tensors: List[Tensor]) -> int:
    return max([int(t.max()) for t in tensors if t.numel() > 0] + [-1])


def load_ogb_wikikg2(root: str, name: str = 'ogbl-wikikg2',
                     with_negatives: bool = True, entity_names: bool = False,
                     relation_names: bool = True,
                     split: str = 'time') -> KGDataset:
    r"""Loads the OGB knowledge graph :obj:`ogbl-wikikg2` (Wikidata, 2,500,604
    entities, 535 relations, 16,109,182 / 429,456 / 598,543 train / valid /
    test triples) from the `"Open Graph Benchmark: Datasets for Machine
    Learning on Graphs" <https://arxiv.org/abs/2005.00687>`_ paper as a
    :class:`KGDataset`, from a local copy in OGB's on-disk layout. Nothing is
    downloaded and nothing is asked on the terminal.

    Each split is a :class:`~torch_geometric.data.Data` with ``edge_index``
    ``[2, E]`` (head :math:`\to` tail) and ``edge_type`` ``[E]``; with
    :obj:`with_negatives`, ``valid`` and ``test`` also carry OGB's fixed
    negative candidates ``head_neg`` and ``tail_neg`` (:obj:`LongTensor`
    ``[E, 500]``; row :math:`i` lists entities that replace the head or tail
    of triple :math:`i` in OGB's evaluation protocol).

    The number of entities comes from ``raw/num-node-list.csv.gz`` when it
    exists, otherwise from the entity mapping when names are read, otherwise
    it is one more than the largest entity id in the splits (negatives
    included). The number of relations comes from the relation mapping when
    it is read, otherwise from the largest relation id.

    .. code-block:: python

        from torch_geometric_unlearn.datasets import load_ogb_wikikg2

        # 'data/ogb' holds 'ogbl_wikikg2/' as written by
        # ogb.linkproppred.PygLinkPropPredDataset('ogbl-wikikg2', 'data/ogb')
        dataset = load_ogb_wikikg2('data/ogb')
        dataset.valid.tail_neg.shape   # torch.Size([429456, 500])

    .. note::

        The split files are pickled dictionaries of numpy arrays. Files in
        :func:`torch.save`'s zip format (its default since PyTorch 1.6) that
        hold numpy arrays only are unpickled straight from disk by an
        unpickler that accepts nothing but numpy arrays; anything else (the
        legacy format, tensors, other objects) goes through
        :func:`torch.load` with :obj:`weights_only=False`, so only load
        files you trust. Streaming avoids the in-memory copy of the whole
        file that :func:`torch.load` makes. On a fixture of ogbl-wikikg2's
        size (2.5M entities, 17M triples, 500 negatives per valid / test
        triple, 9.2 GB of split files), loading takes about a minute on 2
        CPU cores and peaks at about 11 GB of memory (8.2 GB of it the
        negatives that are kept), or about 8 GB with
        :obj:`with_negatives=False` (the negatives are read, then dropped).

    Args:
        root (str): The folder that contains ``ogbl_wikikg2/`` (the ``root``
            given to OGB), or the ``ogbl_wikikg2`` folder itself.
        name (str, optional): OGB name of the dataset; the folder is the name
            with ``-`` replaced by ``_``. (default: :obj:`"ogbl-wikikg2"`)
        with_negatives (bool, optional): Whether to attach ``head_neg`` /
            ``tail_neg`` to ``valid`` and ``test``. (default: :obj:`True`)
        entity_names (bool, optional): Whether to read the Wikidata ids
            (``"Q42"``) of the entities from
            ``mapping/nodeidx2entityid.csv.gz``. Off by default, since 2.5M
            Python strings cost several hundred MB; entities are then named
            implicitly :obj:`"e{i}"`. (default: :obj:`False`)
        relation_names (bool, optional): Whether to read the Wikidata
            property ids (``"P31"``) of the relations from
            ``mapping/reltype2relid.csv.gz`` when that file exists
            (otherwise relations are named :obj:`"r{i}"`).
            (default: :obj:`True`)
        split (str, optional): The folder under ``split/`` to read.
            (default: :obj:`"time"`)

    Returns:
        :class:`KGDataset`

    Raises:
        FileNotFoundError: If the dataset folder, a split file, or (with
            :obj:`entity_names`) the entity mapping is missing; the message
            names the expected path.
        OGBFormatError: A file that is truncated or corrupt, an entry that
            is missing (also a :class:`KeyError`) or of the wrong type (also
            a :class:`TypeError`), ids out of range; a
            :class:`~torch_geometric_unlearn.datasets.UserInputError`, so
            the command line prints it without a traceback.
    """
    folder = _find_dataset_dir(root, name, split)
    parts = _load_splits(folder, split, with_negatives)

    # Vocabularies.
    ent_path = osp.join(folder, 'mapping', 'nodeidx2entityid.csv.gz')
    rel_path = osp.join(folder, 'mapping', 'reltype2relid.csv.gz')
    ent_list: Optional[List[str]] = None
    rel_list: Optional[List[str]] = None
    if entity_names:
        ent_list = _read_mapping(ent_path)
    if relation_names and osp.isfile(rel_path):
        rel_list = _read_mapping(rel_path)

    # Number of entities.
    entity_tensors = [t for p in parts.values()
                      for k, t in p.items() if k != 'relation']
    max_entity = _max_id(entity_tensors)
    num_node_path = osp.join(folder, 'raw', 'num-node-list.csv.gz')
    if osp.isfile(num_node_path):
        num_nodes = _read_num_nodes(num_node_path)
    elif ent_list is not None:
        num_nodes = len(ent_list)
    else:
        num_nodes = max_entity + 1
    if max_entity >= num_nodes:
        raise OGBFormatError(f"entity id {max_entity} is out of range for "
                             f"{num_nodes} entities ('{num_node_path}')")
    if ent_list is not None and len(ent_list) != num_nodes:
        raise OGBFormatError(f"'{ent_path}' names {len(ent_list)} entities, "
                             f"but the dataset has {num_nodes}")

    # Number of relations.
    max_relation = _max_id([p['relation'] for p in parts.values()])
    num_relations = len(rel_list) if rel_list is not None else max_relation + 1
    if max_relation >= num_relations:
        raise OGBFormatError(f"relation id {max_relation} is out of range for "
                             f"the {num_relations} relations of '{rel_path}'")

    for s in SPLITS:
        p = parts[s]
        for key in _TRIPLE_KEYS + _NEG_KEYS:
            if key in p and p[key].numel() > 0 and int(p[key].min()) < 0:
                what = 'relation' if key == 'relation' else 'entity'
                raise OGBFormatError(f"negative {what} id in '{key}' of "
                                     f"split '{s}'")

    splits: Dict[str, Data] = {}
    for s in SPLITS:
        p = parts.pop(s)
        edge_index = torch.stack([p.pop('head'), p.pop('tail')], dim=0)
        data = make_kg(edge_index, p.pop('relation'), num_nodes,
                       num_relations)
        del edge_index
        for key in _NEG_KEYS:
            if key in p:
                data[key] = p.pop(key)
        splits[s] = data

    entity_vocab = (Vocabulary(ent_list) if ent_list is not None else
                    Vocabulary(size=num_nodes, prefix='e'))
    del ent_list
    relation_vocab = (Vocabulary(rel_list) if rel_list is not None else
                      Vocabulary(size=num_relations, prefix='r'))
    return KGDataset(**splits, entity_vocab=entity_vocab,
                     relation_vocab=relation_vocab, name=name,
                     meta={'source': 'ogb', 'path': os.fspath(folder),
                           'split': split})
