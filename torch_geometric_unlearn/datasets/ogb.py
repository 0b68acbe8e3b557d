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
import json
import os
import os.path as osp
import pickle
import struct
import zipfile
import zlib
from collections import OrderedDict
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from .errors import UserInputError
from .kg import SPLITS, KGDataset, Vocabulary, make_kg
from ..utils.io import atomic_open, atomic_write_text
from .resolve import LOAD_ERRORS, describe_error, is_torch_file

__all__ = ['load_ogb_wikikg2', 'write_ogb_fixture', 'OGBFormatError',
           'WIKIKG2_SIZES', 'STREAM_MIN_BYTES', 'STREAM_CHUNK_BYTES']


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


#: Strings of at least this many bytes in a streamed split file are taken
#: as array payloads: instead of going through a Python string, they are
#: decoded chunk by chunk straight into the output array (or cache file).
STREAM_MIN_BYTES = 256

#: Bytes read from a split file at once while decoding an array payload.
STREAM_CHUNK_BYTES = 1 << 24

_BLOB_PREFIX = '\x00tgu-ogb-blob:'
_INT32 = np.iinfo(np.int32)


class _Fallback(Exception):
    r"""The streamed pickle used a blob token where no array payload
    belongs: load the file again without streaming."""


class _Blob:
    r"""An array payload left in the file: where its UTF-8 bytes lie."""
    __slots__ = ('offset', 'length')

    def __init__(self, offset: int, length: int) -> None:
        self.offset, self.length = offset, length


class _PendingArray:
    r"""Stands in for a numpy array while streaming: keeps its pickled
    state (``(version, shape, dtype, fortran, data)``)."""
    state = None

    def __setstate__(self, state) -> None:
        self.state = state


def _check_ids(values: np.ndarray, key: str, path: str) -> None:
    if values.dtype.kind not in 'iu':
        raise _OGBTypeError(f"'{key}' in '{path}' must hold integer ids "
                            f"(got dtype {values.dtype})")


class _StreamedArray:
    r"""An integer array whose bytes are still in the split file (pickle
    protocol 2 stores them as a latin-1 string, UTF-8 encoded)."""
    def __init__(self, path: str, blob: _Blob, shape, dtype) -> None:
        self.path, self.blob = path, blob
        self.shape = tuple(int(d) for d in shape)
        self.dtype = np.dtype(dtype)
        self.size = int(np.prod(self.shape, dtype=np.int64))

    def chunks(self):
        r"""Yields the flat values in order, in chunks."""
        decoder = codecs.getincrementaldecoder('utf-8')()
        itemsize = self.dtype.itemsize
        carry, count, left = b'', 0, self.blob.length
        with open(self.path, 'rb') as f:
            f.seek(self.blob.offset)
            while left > 0:
                data = f.read(min(STREAM_CHUNK_BYTES, left))
                if not data:
                    raise OGBFormatError(f"'{self.path}' is not a readable "
                                         f"OGB split file: truncated or "
                                         f"corrupt (an array ends early)")
                left -= len(data)
                try:
                    raw = decoder.decode(data, final=left == 0)
                    raw = raw.encode('latin-1')
                except (UnicodeDecodeError, UnicodeEncodeError) as e:
                    raise OGBFormatError(
                        f"'{self.path}' is not a readable OGB split file: "
                        f"truncated or corrupt ({describe_error(e)})") from e
                if carry:
                    raw = carry + raw
                usable = len(raw) - len(raw) % itemsize
                carry = raw[usable:]
                if usable:
                    values = np.frombuffer(raw, self.dtype, usable // itemsize)
                    count += values.size
                    yield values
        if carry or count != self.size:
            raise OGBFormatError(f"'{self.path}': an array of shape "
                                 f"{list(self.shape)} holds "
                                 f"{count * itemsize + len(carry)} bytes, "
                                 f"not {self.size * itemsize}")


def _chunks_of(value, key: str, path: str):
    r"""``(shape, chunk iterator)`` of an integer array given as a numpy
    array, a tensor or a :class:`_StreamedArray`."""
    if isinstance(value, _StreamedArray):
        _check_ids(value, key, path)
        return value.shape, value.chunks()
    if isinstance(value, Tensor):
        if value.is_floating_point() or value.is_complex() or \
                value.dtype == torch.bool:
            raise _OGBTypeError(f"'{key}' in '{path}' must hold integer ids "
                                f"(got dtype {value.dtype})")
        value = value.cpu().numpy()
    if not isinstance(value, np.ndarray):
        raise _OGBTypeError(f"'{key}' in '{path}' must be a numpy array or a "
                            f"tensor (got {type(value).__name__})")
    _check_ids(value, key, path)
    flat = np.ascontiguousarray(value).reshape(-1)
    step = max(1, STREAM_CHUNK_BYTES // max(1, flat.itemsize))

    def gen():
        for i in range(0, flat.size, step):
            yield flat[i:i + step]

    return value.shape, gen()


def _convert(chunks, out_dtype, write, key: str, path: str):
    r"""Feeds every chunk, cast to :obj:`out_dtype`, to :obj:`write` and
    returns the ``(min, max)`` of the values (``(0, -1)`` when empty)."""
    lo, hi = None, None
    for values in chunks:
        if values.size == 0:
            continue
        a, b = int(values.min()), int(values.max())
        lo = a if lo is None else min(lo, a)
        hi = b if hi is None else max(hi, b)
        if out_dtype == np.int32 and (a < _INT32.min or b > _INT32.max):
            raise OGBFormatError(f"'{key}' in '{path}' holds ids outside the "
                                 f"int32 range; load with "
                                 f"neg_dtype=torch.long")
        if values.dtype != out_dtype:
            if values.dtype.kind == 'u' and b > np.iinfo(np.int64).max:
                raise OGBFormatError(f"'{key}' in '{path}' holds ids too "
                                     f"large for int64")
            values = values.astype(out_dtype)
        write(values)
    return (0, -1) if lo is None else (lo, hi)


def _read_into(value, key: str, path: str, out_dtype, out=None):
    r"""Reads an integer array into memory (into the flat :obj:`out` when
    given) without a full-size intermediate copy; returns ``(array, min,
    max)``."""
    shape, chunks = _chunks_of(value, key, path)
    size = int(np.prod(shape, dtype=np.int64))
    if out is None:
        out = np.empty(size, dtype=out_dtype)
    elif out.size != size:
        raise OGBFormatError(f"'{path}': 'head', 'relation' and 'tail' have "
                             f"different lengths")
    pos = [0]

    def write(values):
        out[pos[0]:pos[0] + values.size] = values
        pos[0] += values.size

    lo, hi = _convert(chunks, out_dtype, write, key, path)
    return out.reshape(shape), lo, hi


def _source_signature(value, path: str) -> dict:
    st = os.stat(path)
    sig = dict(path=osp.abspath(path), size=st.st_size,
               mtime_ns=st.st_mtime_ns)
    if isinstance(value, _StreamedArray):
        sig.update(offset=value.blob.offset, length=value.blob.length,
                   shape=list(value.shape), dtype=value.dtype.str)
    return sig


def _mmap_into(value, key: str, path: str, out_dtype, cache_dir: str,
               name: str):
    r"""Writes an integer array as :obj:`out_dtype` to
    ``cache_dir/name.npy`` in chunks (atomically, with a ``.json`` record of
    its source) unless an up-to-date copy is there, and memory-maps it
    copy-on-write; returns ``(array, min, max)``."""
    npy = osp.join(cache_dir, f'{name}.npy')
    meta_path = osp.join(cache_dir, f'{name}.json')
    sig = _source_signature(value, path)
    sig['out_dtype'] = np.dtype(out_dtype).str
    if osp.isfile(npy) and osp.isfile(meta_path):
        try:
            with open(meta_path) as f:
                meta = json.load(f)
            if meta.get('source') == sig:
                array = np.load(npy, mmap_mode='c')
                return array, int(meta['min']), int(meta['max'])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # rewritten below
    shape, chunks = _chunks_of(value, key, path)
    header = {'descr': np.dtype(out_dtype).str, 'fortran_order': False,
              'shape': tuple(shape)}
    with atomic_open(npy, 'wb') as f:
        np.lib.format.write_array_header_2_0(f, header)
        lo, hi = _convert(chunks, out_dtype, lambda v: f.write(v.data),
                          key, path)
    atomic_write_text(meta_path, json.dumps(
        dict(source=sig, min=lo, max=hi), indent=1))
    return np.load(npy, mmap_mode='c'), lo, hi


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


class _StreamingUnpickler(_NumpyUnpickler):
    r"""A :class:`_NumpyUnpickler` over a :class:`_FileSlice` that leaves
    long strings in the file: numpy arrays come out as
    :class:`_PendingArray` whose payload is a :class:`_Blob`."""
    def __init__(self, file: '_FileSlice') -> None:
        super().__init__(file)
        self.blobs = file.blobs

    def find_class(self, module: str, name: str):
        found = super().find_class(module, name)
        if found is _NP_RECONSTRUCT:
            return _pending_reconstruct
        if found is codecs.encode:
            return self._encode
        return found

    def _encode(self, obj, encoding='utf-8', errors='strict'):
        if isinstance(obj, str) and obj.startswith(_BLOB_PREFIX):
            if encoding != 'latin1':
                raise _Fallback
            return self.blobs[int(obj[len(_BLOB_PREFIX):])]
        return codecs.encode(obj, encoding, errors)


def _pending_reconstruct(cls, shape, typecode):
    if cls is not np.ndarray:
        raise pickle.UnpicklingError('only numpy arrays are streamed')
    return _PendingArray()


def _finish(obj, path: str):
    r"""Turns what :class:`_StreamingUnpickler` built into numpy arrays
    (small ones) and :class:`_StreamedArray` (payloads left in the file)."""
    if isinstance(obj, dict):
        out = obj.__class__()
        for k, v in obj.items():
            if isinstance(k, str) and k.startswith(_BLOB_PREFIX):
                raise _Fallback
            out[k] = _finish(v, path)
        return out
    if isinstance(obj, (list, tuple)):
        return obj.__class__(_finish(v, path) for v in obj)
    if isinstance(obj, (str, _Blob)):
        if isinstance(obj, _Blob) or obj.startswith(_BLOB_PREFIX):
            raise _Fallback
        return obj
    if isinstance(obj, _PendingArray):
        state = obj.state
        if not isinstance(state, tuple) or len(state) != 5:
            raise _Fallback
        _, shape, dtype, fortran, data = state
        if isinstance(data, _Blob):
            if fortran and len(shape) > 1:
                raise _Fallback
            return _StreamedArray(path, data, shape, dtype)
        array = _NP_RECONSTRUCT(np.ndarray, (0, ), b'b')
        array.__setstate__(state)
        return array
    return obj


class _FileSlice:
    r"""A read-only stream over bytes :obj:`[start, start + size)` of a
    file: just what :class:`pickle.Unpickler` needs.

    With :obj:`stream` set, a string opcode (``BINUNICODE``, ``X`` and a
    4-byte length) of at least :data:`STREAM_MIN_BYTES` bytes is not read:
    the unpickler gets a short token instead, and :attr:`blobs` records
    where the string's bytes are. CPython's unpickler reads an opcode with
    ``read(1)`` and its length with ``read(4)`` when the stream has no
    ``peek``, which is what this relies on (anything unexpected makes the
    caller load the file again without streaming)."""
    def __init__(self, f, start: int, size: int,
                 stream: bool = False) -> None:
        self._f = f
        self._left = size
        self._stream = stream
        self._last = b''
        self._token: Optional[bytes] = None
        self.blobs: List[_Blob] = []
        f.seek(start)

    def read(self, n: int = -1) -> bytes:
        if self._token is not None:
            token, self._token = self._token, None
            if n != len(token):
                raise _Fallback
            self._last = token
            return token
        n = self._left if n is None or n < 0 else min(n, self._left)
        data = self._f.read(n)
        self._left -= len(data)
        if self._stream and n == 4 and len(data) == 4 and self._last == b'X':
            length = struct.unpack('<I', data)[0]
            if STREAM_MIN_BYTES <= length <= self._left:
                self.blobs.append(_Blob(self._f.tell(), length))
                self._f.seek(length, 1)
                self._left -= length
                token = f'{_BLOB_PREFIX}{len(self.blobs) - 1}'.encode()
                self._token = token
                data = struct.pack('<I', len(token))
        self._last = data
        return data

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast('B')
        n = self._f.readinto(view[:min(len(view), self._left)])
        self._left -= n
        self._last = b''
        return n

    def readline(self) -> bytes:
        line = self._f.readline(self._left)
        self._left -= len(line)
        self._last = line
        return line


def _stream_torch_zip_pickle(path: str):
    r"""Unpickles the ``data.pkl`` record of a :func:`torch.save` zip archive
    straight from the file, if it holds numpy arrays only; returns
    :obj:`None` when it cannot (not such an archive, or tensors inside).

    :func:`torch.load` first reads the whole record into memory and then
    unpickles from that copy; for OGB's split files (pickle protocol 2,
    where a numpy array's bytes travel as a latin-1 string), the string,
    its encoding and the array are each as large as the array. Streaming
    leaves the arrays' bytes in the file: they come back as
    :class:`_StreamedArray`, decoded chunk by chunk when read."""
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
        for stream in (True, False):
            try:
                if stream:
                    file = _FileSlice(f, start, info.compress_size, True)
                    return _finish(_StreamingUnpickler(file).load(), path)
                return _NumpyUnpickler(_FileSlice(
                    f, start, info.compress_size)).load()
            except _Fallback:
                continue
            except pickle.UnpicklingError:
                return None
    return None  # pragma: no cover


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


def _numel(value) -> int:
    if isinstance(value, _StreamedArray):
        return value.size
    if isinstance(value, (np.ndarray, Tensor)):
        return int(np.prod(tuple(value.shape), dtype=np.int64))
    raise _OGBTypeError(f'expected a numpy array or a tensor (got '
                        f'{type(value).__name__})')


def _shape(value) -> Tuple[int, ...]:
    return tuple(int(d) for d in value.shape)


def _split_from_dict(raw: dict, split: str, path: str, with_negatives: bool,
                     neg_dtype, mmap_dir: Optional[str]) -> dict:
    r"""Turns one OGB split dictionary into arrays, consuming it (entries are
    deleted as they are converted, so copies are freed early).

    Returns a dictionary with ``edge_index`` ``[2, E]`` and ``edge_type``
    ``[E]`` (:obj:`int64` tensors), the negatives (tensors of
    :obj:`neg_dtype`, memory-mapped from :obj:`mmap_dir` when given) and
    ``bounds``: the ``(min, max)`` id of every entry."""
    if not isinstance(raw, dict):
        raise _OGBTypeError(f"'{path}' must hold a dictionary (got "
                            f"{type(raw).__name__})")
    missing = [k for k in _TRIPLE_KEYS if k not in raw]
    if missing:
        raise _OGBKeyError(f"'{path}' has no {missing} entr"
                           f"{'y' if len(missing) == 1 else 'ies'} for split "
                           f"'{split}' (found {sorted(raw)})")
    sizes = []
    for key in _TRIPLE_KEYS:
        try:
            sizes.append(_numel(raw[key]))
        except _OGBTypeError:
            raise _OGBTypeError(f"'{key}' in '{path}' must be a numpy array "
                                f"or a tensor (got "
                                f"{type(raw[key]).__name__})") from None
    num = sizes[0]
    if sizes[1] != num or sizes[2] != num:
        raise OGBFormatError(f"'{path}': 'head', 'relation' and 'tail' have "
                             f"different lengths ({num}, {sizes[1]}, "
                             f"{sizes[2]})")
    bounds: Dict[str, Tuple[int, int]] = {}
    edge_index = np.empty((2, num), dtype=np.int64)
    for row, key in ((0, 'head'), (1, 'tail')):
        _, *bounds[key] = _read_into(raw.pop(key), key, path, np.int64,
                                     out=edge_index[row])
    edge_type, *bounds['relation'] = _read_into(raw.pop('relation'),
                                                'relation', path, np.int64)
    out = {'edge_index': torch.from_numpy(edge_index),
           'edge_type': torch.from_numpy(edge_type.reshape(-1))}
    if with_negatives and split != 'train':
        np_dtype = np.int32 if neg_dtype == torch.int32 else np.int64
        for key in _NEG_KEYS:
            if key not in raw:
                raise _OGBKeyError(f"'{path}' has no '{key}' entry; pass "
                                   f"'with_negatives=False' to load without "
                                   f"OGB's negatives")
            value = raw.pop(key)
            try:
                shape = _shape(value)
            except AttributeError:
                raise _OGBTypeError(f"'{key}' in '{path}' must be a numpy "
                                    f"array or a tensor (got "
                                    f"{type(value).__name__})") from None
            if len(shape) != 2 or shape[0] != num:
                raise OGBFormatError(f"'{key}' in '{path}' must have shape "
                                     f"[{num}, K] (got {list(shape)})")
            if mmap_dir is not None:
                neg, *bounds[key] = _mmap_into(value, key, path, np_dtype,
                                               mmap_dir, f'{split}.{key}')
            else:
                neg, *bounds[key] = _read_into(value, key, path, np_dtype)
            del value
            out[key] = torch.from_numpy(neg)
    raw.clear()
    out['bounds'] = bounds
    return out


def _load_splits(folder: str, split: str, with_negatives: bool, neg_dtype,
                 mmap_dir: Optional[str]) -> Dict[str, dict]:
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
                                      with_negatives, neg_dtype, mmap_dir)
        return out
    for s in SPLITS:  # Fail before spending minutes on the first file.
        path = osp.join(split_dir, f'{s}.pt')
        if not osp.isfile(path):
            raise FileNotFoundError(f"missing OGB split file '{path}'")
    out = {}
    for s in SPLITS:
        path = osp.join(split_dir, f'{s}.pt')
        out[s] = _split_from_dict(_load_pickle(path), s, path,
                                  with_negatives, neg_dtype, mmap_dir)
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


def load_ogb_wikikg2(root: str, name: str = 'ogbl-wikikg2',
                     with_negatives: bool = True, entity_names: bool = False,
                     relation_names: bool = True,
                     split: str = 'time',
                     neg_dtype: torch.dtype = torch.int32,
                     mmap_dir: Optional[str] = None) -> KGDataset:
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
    if neg_dtype not in (torch.int32, torch.int64):
        raise ValueError(f"'neg_dtype' must be torch.int32 or torch.int64 "
                         f"(got {neg_dtype})")
    folder = _find_dataset_dir(root, name, split)
    if mmap_dir is not None:
        mmap_dir = osp.abspath(osp.expanduser(os.fspath(mmap_dir)))
        if osp.exists(mmap_dir) and not osp.isdir(mmap_dir):
            raise NotADirectoryError(f"'mmap_dir' must be a folder for the "
                                     f"negatives' cache files, but "
                                     f"'{mmap_dir}' is a file")
        os.makedirs(mmap_dir, exist_ok=True)
    parts = _load_splits(folder, split, with_negatives, neg_dtype, mmap_dir)

    # Vocabularies.
    ent_path = osp.join(folder, 'mapping', 'nodeidx2entityid.csv.gz')
    rel_path = osp.join(folder, 'mapping', 'reltype2relid.csv.gz')
    ent_list: Optional[List[str]] = None
    rel_list: Optional[List[str]] = None
    if entity_names:
        ent_list = _read_mapping(ent_path)
    if relation_names and osp.isfile(rel_path):
        rel_list = _read_mapping(rel_path)

    # Number of entities (from the bounds recorded while reading, so that
    # memory-mapped negatives are not read again).
    max_entity = max([b[1] for p in parts.values()
                      for k, b in p['bounds'].items() if k != 'relation'] +
                     [-1])
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
    max_relation = max([p['bounds']['relation'][1] for p in parts.values()]
                       + [-1])
    num_relations = len(rel_list) if rel_list is not None else max_relation + 1
    if max_relation >= num_relations:
        raise OGBFormatError(f"relation id {max_relation} is out of range for "
                             f"the {num_relations} relations of '{rel_path}'")

    for s in SPLITS:
        bounds = parts[s]['bounds']
        for key in _TRIPLE_KEYS + _NEG_KEYS:
            if key in bounds and bounds[key][0] < 0:
                what = 'relation' if key == 'relation' else 'entity'
                raise OGBFormatError(f"negative {what} id in '{key}' of "
                                     f"split '{s}'")

    splits: Dict[str, Data] = {}
    for s in SPLITS:
        p = parts.pop(s)
        data = make_kg(p.pop('edge_index'), p.pop('edge_type'), num_nodes,
                       num_relations)
        for key in _NEG_KEYS:
            if key in p:
                data[key] = p.pop(key)
        splits[s] = data

    entity_vocab = (Vocabulary(ent_list) if ent_list is not None else
                    Vocabulary(size=num_nodes, prefix='e'))
    del ent_list
    relation_vocab = (Vocabulary(rel_list) if rel_list is not None else
                      Vocabulary(size=num_relations, prefix='r'))
    meta = {'source': 'ogb', 'path': os.fspath(folder), 'split': split}
    if mmap_dir is not None:
        meta['mmap_dir'] = mmap_dir
    return KGDataset(**splits, entity_vocab=entity_vocab,
                     relation_vocab=relation_vocab, name=name, meta=meta)


# A wikikg2-sized fixture in OGB's layout ####################################

#: ogbl-wikikg2's sizes: entities, relations, train / valid / test triples
#: and negatives per valid / test triple and side.
WIKIKG2_SIZES = dict(num_entities=2_500_604, num_relations=535,
                     num_train=16_109_182, num_valid=429_456,
                     num_test=598_543, num_neg=500)

_FIXTURE_CHUNK = 1 << 21  # int64 values generated at once (16 MB)


def _pickle_text(write, s: str) -> None:
    data = s.encode('utf-8')
    write(b'X' + struct.pack('<I', len(data)) + data)


def _pickle_int64_arrays(write, arrays, progress) -> None:
    r"""Writes what :obj:`pickle.dump(d, f, protocol=2)` writes for a
    dictionary :obj:`d` of little-endian :obj:`int64` numpy arrays (minus
    the memo opcodes), generating each array chunk by chunk.

    :obj:`arrays` lists ``(key, shape, chunks)`` where :obj:`chunks()`
    yields the flat values and can be called again (it is seeded): the
    string holding an array's bytes is prefixed by its UTF-8 length, so
    the values are generated once to count and once to write. The stock
    picklers hold several copies of each array while writing."""
    write(b'\x80\x02}(')  # PROTO 2, EMPTY_DICT, MARK
    for key, shape, chunks in arrays:
        _pickle_text(write, key)
        # ndarray = _reconstruct(ndarray, (0, ), b'b')
        write(b'cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n'
              b'K\x00\x85c_codecs\nencode\n')
        _pickle_text(write, 'b')
        _pickle_text(write, 'latin1')
        write(b'\x86R\x87R')
        # state = (1, shape, dtype('i8'), False, raw bytes)
        write(b'(K\x01(')
        for dim in shape:
            write(b'J' + struct.pack('<i', dim))
        write(b'tcnumpy\ndtype\n')
        _pickle_text(write, 'i8')
        write(b'\x89\x88\x87R(K\x03')
        _pickle_text(write, '<')
        write(b'NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89')
        write(b'c_codecs\nencode\n')
        size = 0
        for values in chunks():  # bytes >= 128 take two bytes in UTF-8
            raw = values.astype('<i8', copy=False).view(np.uint8)
            size += raw.size + int(np.count_nonzero(raw >= 128))
        if size >= 2**32:
            raise ValueError(f"'{key}' is too large for pickle protocol 2")
        write(b'X' + struct.pack('<I', size))
        for values in chunks():
            raw = values.astype('<i8', copy=False).tobytes()
            write(raw.decode('latin-1').encode('utf-8'))
            progress.update(values.size)
        _pickle_text(write, 'latin1')
        write(b'\x86Rtb')  # encode(...), state tuple, BUILD
    write(b'u.')  # SETITEMS, STOP


def _save_split_file(path: str, arrays, progress) -> None:
    r"""Writes a split file as :func:`torch.save` does (a zip archive with a
    ``data.pkl`` record), atomically; :func:`torch.load` reads it back."""
    stem = osp.splitext(osp.basename(path))[0]
    with atomic_open(path, 'wb') as f:
        with zipfile.ZipFile(f, 'w', zipfile.ZIP_STORED,
                             allowZip64=True) as archive:
            with archive.open(f'{stem}/data.pkl', 'w',
                              force_zip64=True) as record:
                _pickle_int64_arrays(record.write, arrays, progress)
            archive.writestr(f'{stem}/byteorder', 'little')
            archive.writestr(f'{stem}/version', '3\n')


def _write_csv_gz(path: str, header: Optional[str], first, second=None):
    r"""Writes ``a,b`` rows (or single values) in chunks, atomically."""
    with atomic_open(path, 'wb') as raw:
        with gzip.GzipFile(fileobj=raw, mode='wb', compresslevel=1) as f:
            if header:
                f.write((header + '\n').encode())
            for start in range(0, len(first), 1_000_000):
                a = np.char.mod('%d', first[start:start + 1_000_000])
                if second is not None:
                    a = np.char.add(np.char.add(a, ','),
                                    second[start:start + 1_000_000])
                f.write(('\n'.join(a.tolist()) + '\n').encode())


def write_ogb_fixture(root: str, num_entities: int = 2_500_604,
                      num_relations: int = 535, num_train: int = 16_109_182,
                      num_valid: int = 429_456, num_test: int = 598_543,
                      num_neg: int = 500, seed: int = 0, skew: float = 1.0,
                      entity_names: bool = True,
                      progress: bool = False) -> str:
    r"""Writes a seeded random knowledge graph in the on-disk layout of the
    OGB dataset :obj:`ogbl-wikikg2` (`"Open Graph Benchmark: Datasets for
    Machine Learning on Graphs" <https://arxiv.org/abs/2005.00687>`_),
    negatives included, of wikikg2's size by default, and returns the
    dataset folder ``root/ogbl_wikikg2``. :func:`load_ogb_wikikg2` and
    :func:`torch.load` (as OGB's ``get_edge_split()`` does) read it.

    Each split file ``split/time/{train,valid,test}.pt`` holds
    ``{'head', 'relation', 'tail'}`` (:obj:`int64` ``[E]``); ``valid`` and
    ``test`` also ``head_neg`` / ``tail_neg`` (:obj:`int64`
    ``[E, num_neg]``, uniform over the entities). Heads and tails are
    :math:`\lfloor N u^{\text{skew}} \rfloor` for uniform :math:`u`, then
    relabelled by a random permutation: :obj:`skew=1` gives uniform
    degrees, larger values heavy-tailed ones with hubs (the expected degree
    of the largest hub grows like :math:`E N^{-1/\text{skew}}`). Relations
    are uniform. ``raw/num-node-list.csv.gz``,
    ``raw/num-edge-list.csv.gz`` and, with :obj:`entity_names`, the
    mappings ``nodeidx2entityid.csv.gz`` (``Q1``, ``Q2``, ...) and
    ``reltype2relid.csv.gz`` (``P1``, ...) complete the layout.

    The arrays are generated and written in chunks of 2M values, so memory
    stays at a few hundred MB at any size (wikikg2's 9.2 GB of split files
    take a few minutes). Every file is written atomically. The same
    arguments give the same files.

    .. code-block:: python

        from torch_geometric_unlearn.datasets import (load_ogb_wikikg2,
                                                      write_ogb_fixture)

        folder = write_ogb_fixture('data/fake-ogb', num_entities=1000,
                                   num_relations=10, num_train=5000,
                                   num_valid=100, num_test=100, num_neg=50)
        dataset = load_ogb_wikikg2('data/fake-ogb')

    Args:
        root (str): Folder to write ``ogbl_wikikg2/`` into.
        num_entities (int, optional): Entities. (default: :obj:`2500604`)
        num_relations (int, optional): Relations. (default: :obj:`535`)
        num_train (int, optional): Training triples.
            (default: :obj:`16109182`)
        num_valid (int, optional): Validation triples.
            (default: :obj:`429456`)
        num_test (int, optional): Test triples. (default: :obj:`598543`)
        num_neg (int, optional): Negatives per valid / test triple and side
            (0: none written). (default: :obj:`500`)
        seed (int, optional): Random seed. (default: :obj:`0`)
        skew (float, optional): Degree skew (1: uniform). (default:
            :obj:`1.0`)
        entity_names (bool, optional): Write the two mapping files.
            (default: :obj:`True`)
        progress (bool, optional): Show a :obj:`tqdm` progress bar.
            (default: :obj:`False`)

    Returns:
        str: The dataset folder (``root/ogbl_wikikg2``).
    """
    from tqdm.auto import tqdm

    counts = dict(num_entities=num_entities, num_relations=num_relations,
                  num_train=num_train, num_valid=num_valid,
                  num_test=num_test, num_neg=num_neg)
    for key, value in counts.items():
        if isinstance(value, bool) or int(value) != value or value < 0:
            raise ValueError(f"'{key}' must be a non-negative integer (got "
                             f"{value!r})")
    if num_entities < 1 or num_relations < 1:
        raise ValueError(f"'num_entities' and 'num_relations' must be "
                         f"positive (got {num_entities} and "
                         f"{num_relations})")
    if not skew >= 1.0:
        raise ValueError(f"'skew' must be >= 1 (got {skew})")
    n, seed = int(num_entities), int(seed)
    folder = osp.join(os.fspath(root), 'ogbl_wikikg2')
    split_dir = osp.join(folder, 'split', 'time')
    relabel = np.random.default_rng([seed, 99]).permutation(n)

    def chunked(size: int, stream: int, draw):
        def chunks():
            for i, start in enumerate(range(0, size, _FIXTURE_CHUNK)):
                rng = np.random.default_rng([seed, stream, i])
                yield draw(rng, min(_FIXTURE_CHUNK, size - start))
        return chunks

    def entity(rng, m):
        if skew == 1.0:
            return rng.integers(0, n, m, dtype=np.int64)
        ids = (n * rng.random(m) ** skew).astype(np.int64)
        return relabel[np.minimum(ids, n - 1)]

    def uniform(high):
        return lambda rng, m: rng.integers(0, high, m, dtype=np.int64)

    sizes = {'train': int(num_train), 'valid': int(num_valid),
             'test': int(num_test)}
    total = sum(3 * m + (2 * m * int(num_neg) if s != 'train' else 0)
                for s, m in sizes.items())
    with tqdm(total=total, unit='id', unit_scale=True, disable=not progress,
              desc='write ogbl_wikikg2 fixture') as bar:
        for k, (split, m) in enumerate(sizes.items()):
            arrays = [('head', (m, ), chunked(m, 10 * k, entity)),
                      ('relation', (m, ), chunked(m, 10 * k + 1,
                                                  uniform(num_relations))),
                      ('tail', (m, ), chunked(m, 10 * k + 2, entity))]
            if split != 'train' and num_neg > 0:
                for j, key in enumerate(_NEG_KEYS):
                    arrays.append((key, (m, int(num_neg)),
                                   chunked(m * int(num_neg), 10 * k + 3 + j,
                                           uniform(n))))
            _save_split_file(osp.join(split_dir, f'{split}.pt'), arrays, bar)
    raw = osp.join(folder, 'raw')
    _write_csv_gz(osp.join(raw, 'num-node-list.csv.gz'), None,
                  np.array([n]))
    _write_csv_gz(osp.join(raw, 'num-edge-list.csv.gz'), None,
                  np.array([sizes['train']]))
    if entity_names:
        ids = np.arange(n)
        _write_csv_gz(osp.join(folder, 'mapping', 'nodeidx2entityid.csv.gz'),
                      'node idx,entity id', ids,
                      np.char.add('Q', np.char.mod('%d', ids + 1)))
        rels = np.arange(int(num_relations))
        _write_csv_gz(osp.join(folder, 'mapping', 'reltype2relid.csv.gz'),
                      'reltype,rel id', rels,
                      np.char.add('P', np.char.mod('%d', rels + 1)))
    return folder
