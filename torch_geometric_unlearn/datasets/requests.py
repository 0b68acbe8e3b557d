r"""Readers of deletion requests given by name: forget files, entity and
relation names or ids, and the check that a request has something to forget
in a training graph.

All problems with the input raise :class:`~torch_geometric_unlearn.
datasets.UserInputError` (or :class:`FileNotFoundError` for a missing
file), with messages that name the file, the line and the offending token.
"""
from __future__ import annotations

import codecs
import os.path as osp
from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor
from torch_geometric.data import Data

from .errors import UnknownNameError, UserInputError
from .kg import KGDataset, Vocabulary, triple_keys


def lookup_name_or_id(token: str, vocab: Vocabulary, what: str = 'entity',
                      ids: bool = False) -> int:
    r"""Resolves one entity or relation given by name or by id.

    A name of :obj:`vocab` is looked up first; a token that is no name is
    read as an integer id. With :obj:`ids`, every token must be an id.

    .. code-block:: python

        lookup_name_or_id('e12', kg.entity_vocab)            # 12
        lookup_name_or_id('3', kg.relation_vocab, 'relation')  # 3

    Args:
        token (str): The name or id (surrounding white space is ignored).
        vocab (Vocabulary): The vocabulary.
        what (str, optional): :obj:`"entity"` or :obj:`"relation"`, for
            messages. (default: :obj:`"entity"`)
        ids (bool, optional): Read :obj:`token` as an id only.
            (default: :obj:`False`)

    Returns:
        int: The id.

    Raises:
        UnknownNameError: :obj:`token` is neither a name nor an id.
        UserInputError: :obj:`token` is no integer (with :obj:`ids`), or an
            id out of range.
    """
    token = token.strip()
    if not ids and token in vocab:
        return vocab.index(token)
    try:
        idx = int(token)
    except ValueError:
        if ids:
            raise UserInputError(f"{what} '{token}' is not an integer "
                                 f"id") from None
        raise UnknownNameError(f"unknown {what} '{token}'",
                               names=[token]) from None
    if not 0 <= idx < len(vocab):
        raise UserInputError(f'{what} id {idx} is out of range [0, '
                             f'{len(vocab) - 1}]')
    return idx


def decode_line(raw: bytes, path: str, num: int) -> str:
    r"""Decodes line :obj:`num` (from 1) of a UTF-8 text file: a byte-order
    mark at the start of the file is dropped; an undecodable byte raises
    :class:`~torch_geometric_unlearn.datasets.UserInputError` naming the
    file, the line and the byte.

    Args:
        raw (bytes): The line as read in binary mode.
        path (str): The file, for messages.
        num (int): The line number.
    """
    if num == 1:
        if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise UserInputError(f'{path}, line 1: the file is UTF-16 text '
                                 f'(save it as UTF-8)')
        if raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8):]
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError as e:
        raise UserInputError(f'{path}, line {num}: not UTF-8 text (byte '
                             f'0x{raw[e.start]:02x} at byte {e.start + 1} of '
                             f'the line; save the file as UTF-8)') from None


def read_forget_file(path: str, dataset: KGDataset,
                     ids: bool = False) -> Tuple[Tensor, int]:
    r"""Reads the triples of a forget file.

    One ``head relation tail`` per line, tab-separated (or, in a line
    without tabs, white-space-separated); blank lines and lines starting
    with ``#`` are skipped. Tokens are resolved with
    :func:`lookup_name_or_id` against :obj:`dataset`'s vocabularies (ids
    only with :obj:`ids`). Repeated triples are kept once.

    Args:
        path (str): The file.
        dataset (KGDataset): Its vocabularies resolve the names.
        ids (bool, optional): The file holds integer ids. (default:
            :obj:`False`)

    Returns:
        (torch.Tensor, int): The unique ``(head, relation, tail)`` rows in
        file order, ``[F, 3]``, and the number of duplicated lines dropped.

    Raises:
        FileNotFoundError: :obj:`path` does not exist.
        UserInputError: A line that does not parse or is not UTF-8, an
            unknown name (:class:`UnknownNameError`, with the line), or a
            file without any triple.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f"forget file '{path}' does not exist")
    rows, seen, dup = [], set(), 0
    with open(path, 'rb') as f:
        for num, raw in enumerate(f, 1):
            line = decode_line(raw, path, num).strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split('\t') if '\t' in line else line.split()
            if len(parts) != 3:
                raise UserInputError(f'{path}, line {num}: expected head, '
                                     f'relation and tail, got {len(parts)} '
                                     f'field(s)')
            try:
                row = (lookup_name_or_id(parts[0], dataset.entity_vocab,
                                         'entity', ids),
                       lookup_name_or_id(parts[1], dataset.relation_vocab,
                                         'relation', ids),
                       lookup_name_or_id(parts[2], dataset.entity_vocab,
                                         'entity', ids))
            except UnknownNameError as e:
                raise UnknownNameError(f'{path}, line {num}: {e}', e.names,
                                       path) from None
            except UserInputError as e:
                raise UserInputError(f'{path}, line {num}: {e}') from None
            if row in seen:
                dup += 1
                continue
            seen.add(row)
            rows.append(row)
    if not rows:
        raise UserInputError(f"forget file '{path}' holds no triple")
    return torch.tensor(rows, dtype=torch.long), dup


def _shown(items: Sequence[str]) -> str:
    return ', '.join(items[:3]) + (', ...' if len(items) > 3 else '')


def check_forget_request(graph: Data, triples: Optional[Tensor] = None,
                         entities: Optional[Sequence[int]] = None,
                         relations: Optional[Sequence[int]] = None,
                         dataset: Optional[KGDataset] = None) -> None:
    r"""Checks that a deletion request has something to forget in
    :obj:`graph`: every triple of :obj:`triples` is in it, and every entity
    of :obj:`entities` or relation of :obj:`relations` has a triple in it.

    Args:
        graph (Data): The training graph (``edge_index``, ``edge_type``,
            ``num_nodes``, ``num_relations``).
        triples (torch.Tensor, optional): ``(head, relation, tail)`` rows
            ``[F, 3]``. (default: :obj:`None`)
        entities (Sequence[int], optional): Entity ids. (default:
            :obj:`None`)
        relations (Sequence[int], optional): Relation ids. (default:
            :obj:`None`)
        dataset (KGDataset, optional): Names the offending triples, entities
            or relations in the message (ids otherwise). (default:
            :obj:`None`)

    Raises:
        UserInputError: Naming up to three triples, entities or relations
            that have nothing to forget.
    """
    n, r = int(graph.num_nodes), int(graph.num_relations)
    if triples is not None:
        triples = torch.as_tensor(triples).view(-1, 3)
        have = triple_keys(graph.edge_index[0], graph.edge_type,
                           graph.edge_index[1], n, r)
        want = triple_keys(triples[:, 0], triples[:, 1], triples[:, 2], n, r)
        missing = triples[~torch.isin(want, have)]
        if missing.size(0):
            rows = (dataset.decode(missing[:4]) if dataset is not None else
                    [tuple(map(str, t)) for t in missing[:4].tolist()])
            shown = _shown(['(' + ', '.join(t) + ')' for t in rows])
            raise UserInputError(f'{missing.size(0)} triple(s) to forget are '
                                 f'not in the training graph, e.g. {shown}')
    for ids, size, occurring, what, vocab in (
            (entities, n, graph.edge_index.reshape(-1), 'entities',
             None if dataset is None else dataset.entity_vocab),
            (relations, r, graph.edge_type, 'relations',
             None if dataset is None else dataset.relation_vocab)):
        if ids is None:
            continue
        ids = torch.as_tensor(ids, dtype=torch.long).view(-1)
        bad = ids[(ids < 0) | (ids >= size)].tolist()
        if bad:
            raise UserInputError(f'{what} out of range [0, {size - 1}]: '
                                 f'{bad[:3]}')
        present = torch.zeros(size, dtype=torch.bool)
        present[occurring] = True
        absent = ids[~present[ids]].tolist()
        if absent:
            names = (vocab.names(absent[:4]) if vocab is not None else
                     [str(i) for i in absent[:4]])
            raise UserInputError(f'{len(absent)} {what} with no triple in '
                                 f'the training graph (nothing to forget): '
                                 f'{_shown(names)}')


__all__ = ['lookup_name_or_id', 'decode_line', 'read_forget_file',
           'check_forget_request']
