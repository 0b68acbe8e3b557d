r"""One entry point for every kind of knowledge-graph source:
:func:`load_dataset` resolves a specification string (as given to the
command line's ``--data``) to a :class:`KGDataset`."""
from __future__ import annotations

import os.path as osp
import pickle
import struct
import warnings
import zipfile
from typing import Any, Optional

import torch
from torch_geometric.data import Data

from .errors import UserInputError
from .kg import SPLITS, KGDataset, Vocabulary
from .synthetic import make_synthetic_kg, parse_synthetic_spec
from .tsv import VocabLike, load_tsv_kg

#: The forms of a dataset specification, in words.
DATASET_SPECS = ('a directory of train/valid/test .tsv[.gz] files, a dataset '
                 'saved with KGDataset.save (.pt), an OGB root holding '
                 'ogbl_wikikg2 (prefix ogb:), or a synthetic KG: '
                 '"synthetic", "synthetic-<preset>" or '
                 '"synthetic:entities=N,relations=R,triples=T,seed=S"')


#: The format tag of :meth:`KGDataset.save`.
DATASET_FORMAT = 'torch_geometric_unlearn.KGDataset/1'

#: What a corrupt or truncated torch file raises while it is unpickled.
LOAD_ERRORS = (pickle.UnpicklingError, EOFError, RuntimeError, ValueError,
               KeyError, IndexError, TypeError, AttributeError,
               struct.error, zipfile.BadZipFile, UnicodeDecodeError,
               OverflowError)


def is_torch_file(path: str) -> bool:
    r"""Whether :obj:`path` looks like a :func:`torch.save` file (a zip
    archive, or a pickle of protocol 2 or later), judged by its first
    bytes."""
    if zipfile.is_zipfile(path):
        return True
    with open(path, 'rb') as f:
        head = f.read(2)
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def describe_file(path: str) -> str:
    r"""A few words on what :obj:`path` holds, for messages about a file
    that is not what was expected: empty, a text file (with its first
    line), a truncated zip archive, a gzip file or other binary data."""
    size = osp.getsize(path)
    if size == 0:
        return 'the file is empty'
    with open(path, 'rb') as f:
        head = f.read(4096)
    if head.startswith(b'PK\x03\x04'):
        return (f'it starts like a zip archive (a torch file) but does not '
                f'end like one: truncated or corrupt ({size:,} bytes)')
    if head.startswith(b'\x1f\x8b'):
        return 'it is a gzip file'
    if head.startswith(b'\x80'):
        return f'it is binary data of {size:,} bytes (not a pickle)'
    text = None
    if b'\0' not in head:
        for cut in range(4):  # the buffer may end inside a character
            try:
                text = head[:len(head) - cut].decode('utf-8-sig')
                break
            except UnicodeDecodeError:
                continue
    if text is None:
        return f'it is binary data of {size:,} bytes'
    line = (text.splitlines() or [''])[0]
    shown = line[:60] + ('...' if len(line) > 60 else '')
    words = f'it is a text file whose first line is {shown!r}'
    if len(line.split('\t')) == 3:
        words += (' (triples: give a TSV knowledge graph as the directory '
                  'that holds its train/valid/test files)')
    return words


def describe_error(e: BaseException, limit: int = 200) -> str:
    r"""``"Type: first line of the message"`` of an error raised while
    reading a file, for messages."""
    name = type(e).__name__
    if name == 'error':  # struct.error
        name = f'{type(e).__module__}.error'
    text = (str(e).strip().splitlines() or [''])[0]
    return f"{name}: {text[:limit]}{'...' if len(text) > limit else ''}"


def load_torch_file(path: str, what: str, weights_only: bool = True) -> Any:
    r"""Loads a :func:`torch.save` file the user named (onto the CPU), with
    errors that say what is wrong with the file.

    Args:
        path (str): The file.
        what (str): What it should be, for messages (e.g. :obj:`"a dataset
            saved with KGDataset.save"`).
        weights_only (bool, optional): Passed to :func:`torch.load`; only
            load trusted files without it. (default: :obj:`True`)

    Raises:
        FileNotFoundError: :obj:`path` does not exist.
        UserInputError: :obj:`path` is no torch file (naming what it is:
            empty, text, ...), a truncated or corrupt one, or (with
            :obj:`weights_only`) one that holds other Python objects.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f"'{path}' does not exist (expected {what})")
    if not is_torch_file(path):
        raise UserInputError(f"'{path}' is not {what} (not a torch file: "
                             f"{describe_file(path)})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            return torch.load(path, map_location='cpu',
                              weights_only=weights_only)
    except pickle.UnpicklingError as e:
        text, why = str(e), describe_error(e)
        if 'WeightsUnpickler error:' in text:  # torch's long message
            text = text.split('WeightsUnpickler error:', 1)[1].strip()
            text = (text.splitlines() or [''])[0]
            if text.startswith('Unsupported global'):
                name = text.split('GLOBAL ', 1)[-1].split(' ', 1)[0]
                raise UserInputError(
                    f"'{path}' is not {what} (a torch file that holds other "
                    f"Python objects: {name})") from e
            why = describe_error(pickle.UnpicklingError(text))
        raise UserInputError(f"'{path}' is not {what}: the torch file is "
                             f"truncated or corrupt ({why})") from e
    except LOAD_ERRORS as e:
        raise UserInputError(f"'{path}' is not {what}: the torch file is "
                             f"truncated or corrupt ({describe_error(e)})"
                             ) from e


def _check_ids(t: Any, key: str, shape, high: int, path: str) -> None:
    if not torch.is_tensor(t) or t.dtype != torch.long:
        raise UserInputError(f"'{path}' is a damaged saved dataset: '{key}' "
                             f"is no integer tensor")
    if t.dim() != len(shape) or any(want is not None and got != want
                                    for got, want in zip(t.shape, shape)):
        raise UserInputError(f"'{path}' is a damaged saved dataset: '{key}' "
                             f"has shape {list(t.shape)}")
    if t.numel() and (int(t.min()) < 0 or int(t.max()) >= high):
        raise UserInputError(f"'{path}' is a damaged saved dataset: '{key}' "
                             f"holds ids outside [0, {high - 1}]")


def dataset_from_state(state: Any, path: str) -> KGDataset:
    r"""The :class:`KGDataset` of the state a :meth:`KGDataset.save` file
    holds, after checking that it is one and that it is whole (the format
    tag, every split with integer ids in range, vocabularies of the right
    sizes).

    Raises:
        UserInputError: Naming what is missing or wrong.
    """
    if not isinstance(state, dict) or state.get('format') != DATASET_FORMAT:
        what = ('a KGE checkpoint' if isinstance(state, dict)
                and 'model_name' in state else 'a torch file')
        raise UserInputError(f"'{path}' is not a dataset saved with "
                             f"KGDataset.save ({what} without its format "
                             f"tag '{DATASET_FORMAT}')")
    missing = [k for k in ('name', 'num_nodes', 'num_relations',
                           'entity_vocab', 'relation_vocab') + SPLITS
               if k not in state]
    if missing:
        raise UserInputError(f"'{path}' is a damaged saved dataset: no "
                             f"{', '.join(repr(k) for k in missing)}")
    try:
        n, r = int(state['num_nodes']), int(state['num_relations'])
        vocabs = [Vocabulary.from_state(state[key])
                  for key in ('entity_vocab', 'relation_vocab')]
    except (TypeError, ValueError, AttributeError) as e:
        raise UserInputError(f"'{path}' is a damaged saved dataset "
                             f"({type(e).__name__}: {e})") from e
    for vocab, size, what in ((vocabs[0], n, 'entity'),
                              (vocabs[1], r, 'relation')):
        if len(vocab) != size:
            raise UserInputError(f"'{path}' is a damaged saved dataset: "
                                 f"{len(vocab)} {what} names for {size} "
                                 f"{what} ids")
    splits = {}
    for s in SPLITS:
        split = state[s]
        if not isinstance(split, dict) or 'edge_index' not in split or \
                'edge_type' not in split:
            raise UserInputError(f"'{path}' is a damaged saved dataset: "
                                 f"split '{s}' has no edge_index/edge_type")
        ei, et = split['edge_index'], split['edge_type']
        _check_ids(ei, f'{s}.edge_index', (2, None), n, path)
        _check_ids(et, f'{s}.edge_type', (ei.size(1), ), r, path)
        splits[s] = Data(edge_index=ei, edge_type=et, num_nodes=n,
                         num_relations=r)
    return KGDataset(**splits, entity_vocab=vocabs[0],
                     relation_vocab=vocabs[1], name=str(state['name']),
                     meta=state.get('meta'))


def load_saved_dataset(path: str) -> KGDataset:
    r"""Loads a dataset written by :meth:`KGDataset.save`, with the errors
    of :func:`load_torch_file` and :func:`dataset_from_state` for a file
    that is none, or a truncated or damaged one."""
    what = 'a dataset saved with KGDataset.save'
    return dataset_from_state(load_torch_file(path, what), path)


def load_dataset(spec: str, entity_vocab: Optional[VocabLike] = None,
                 relation_vocab: Optional[VocabLike] = None,
                 entity_types: Optional[str] = None,
                 default_type: Optional[str] = None) -> KGDataset:
    r"""Loads the knowledge graph named by :obj:`spec`:

    * ``"synthetic"``, ``"synthetic-<preset>"`` or
      ``"synthetic:entities=N,relations=R,triples=T,seed=S"``: a seeded
      synthetic KG (:func:`parse_synthetic_spec`,
      :func:`make_synthetic_kg`),
    * ``"ogb:ROOT"``: a local ``ogbl-wikikg2`` (:func:`load_ogb_wikikg2`),
    * a file: a dataset saved with :meth:`KGDataset.save`,
    * a directory: ``train`` / ``valid`` / ``test`` TSV files
      (:func:`load_tsv_kg`).

    .. code-block:: python

        kg = load_dataset('synthetic:entities=300,triples=4000')
        kg = load_dataset('path/to/fb15k-237')

    Args:
        spec (str): The specification.
        entity_vocab (Vocabulary or Sequence[str], optional): Encode a TSV
            directory with this entity vocabulary (e.g. a checkpoint's, see
            :func:`load_checkpoint_and_data`) rather than one built from its
            files. Other sources carry their own ids and are returned as
            they are (compare them with :func:`check_vocabularies`).
            (default: :obj:`None`)
        relation_vocab (Vocabulary or Sequence[str], optional): The same for
            relations. (default: :obj:`None`)
        entity_types (str, optional): An entity-type file
            (:func:`~torch_geometric_unlearn.datasets.read_entity_types`):
            the result is a
            :class:`~torch_geometric_unlearn.datasets.TypedKGDataset` with
            the source's ids. A saved typed dataset and a synthetic
            specification with ``types=K`` are typed without it.
            (default: :obj:`None`)
        default_type (str, optional): The type of the entities
            :obj:`entity_types` does not name. (default: :obj:`None`: an
            error)

    Returns:
        :class:`KGDataset`

    Raises:
        UserInputError: :obj:`spec` names nothing, a synthetic
            specification is malformed, a file is no saved dataset (or a
            truncated or damaged one, see :func:`load_saved_dataset`), a TSV
            line does not parse or names a name missing from a given
            vocabulary (:class:`UnknownNameError`).
        FileNotFoundError: A file the source needs is missing.
    """
    kg = _load_untyped(spec, entity_vocab, relation_vocab)
    if entity_types is not None:
        from .hetero import add_entity_types
        return add_entity_types(kg, entity_types, default_type, where=spec)
    if 'types' in kg.meta:
        from .hetero import TypedKGDataset, typed_dataset
        if not isinstance(kg, TypedKGDataset):
            return typed_dataset(kg)
    return kg


def _load_untyped(spec: str, entity_vocab: Optional[VocabLike],
                  relation_vocab: Optional[VocabLike]) -> KGDataset:
    try:
        kwargs = parse_synthetic_spec(spec)
    except ValueError as e:
        raise UserInputError(f"bad synthetic specification '{spec}': "
                             f"{e}") from e
    if kwargs is not None:
        try:
            return make_synthetic_kg(**kwargs)
        except ValueError as e:  # the generator's argument checks
            raise UserInputError(f"bad synthetic specification '{spec}': "
                                 f"{e}") from e
    if spec.startswith('ogb:'):
        from .ogb import load_ogb_wikikg2
        return load_ogb_wikikg2(spec[4:])
    if osp.isfile(spec):
        return load_saved_dataset(spec)
    if osp.isdir(spec):
        return load_tsv_kg(spec, entity_vocab=entity_vocab,
                           relation_vocab=relation_vocab)
    raise UserInputError(f"'{spec}' is neither a directory, a saved dataset "
                         f"nor a synthetic specification (expected "
                         f"{DATASET_SPECS})")


__all__ = ['load_dataset', 'is_torch_file', 'describe_file', 'describe_error',
           'load_torch_file', 'dataset_from_state', 'load_saved_dataset',
           'DATASET_SPECS', 'DATASET_FORMAT', 'LOAD_ERRORS']
