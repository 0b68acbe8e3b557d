r"""A trained KGE checkpoint and the data it is used with.

A checkpoint written by :func:`~torch_geometric_unlearn.kge.save_checkpoint`
stores the model's entity and relation vocabularies (``entity_vocab`` /
``relation_vocab``, names in id order). Data given by name (TSV files) is
encoded with those vocabularies, so that a test file that mentions only
some of the entities still gets the model's ids; data that brings its own
ids (a saved dataset, a synthetic KG) must have the same vocabularies, name
for name.
"""
from __future__ import annotations

import os.path as osp
import pickle
from typing import Any, Dict, Optional, Sequence, Tuple

from .errors import (DataMismatchError, UnknownNameError,
                     UserInputError)
from .kg import KGDataset, Vocabulary
from .resolve import is_torch_file, load_dataset

CHECKPOINT_KEYS = ('model', 'model_name', 'model_kwargs')


def load_kge_checkpoint(path: str, dataset: Optional[KGDataset] = None,
                        device: str = 'cpu') -> Dict[str, Any]:
    r"""Loads a KGE checkpoint (the dict of
    :func:`~torch_geometric_unlearn.kge.load_checkpoint`, with the rebuilt
    model under ``"module"``, moved to :obj:`device`) and, given
    :obj:`dataset`, checks it with :func:`check_checkpoint_data`.

    Args:
        path (str): The checkpoint file.
        dataset (KGDataset, optional): Data the model must fit.
            (default: :obj:`None`)
        device (str, optional): Device of the model. (default:
            :obj:`"cpu"`)

    Raises:
        FileNotFoundError: :obj:`path` does not exist.
        UserInputError: :obj:`path` is no KGE checkpoint.
        DataMismatchError: The checkpoint does not fit :obj:`dataset`.
    """
    import torch

    from ..kge import model_from_checkpoint

    if not osp.isfile(path):
        raise FileNotFoundError(f"checkpoint '{path}' does not exist")
    if not is_torch_file(path):
        raise UserInputError(f"'{path}' is not a KGE checkpoint (not a "
                             f"torch file)")
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=False)
    except (pickle.UnpicklingError, EOFError, RuntimeError) as e:
        raise UserInputError(f"'{path}' is not a KGE checkpoint "
                             f'({type(e).__name__}: {e})') from e
    if not isinstance(ckpt, dict) or any(k not in ckpt
                                         for k in CHECKPOINT_KEYS):
        raise UserInputError(f"'{path}' is not a KGE checkpoint (a "
                             f"torch_geometric_unlearn.kge checkpoint holds "
                             f"{', '.join(CHECKPOINT_KEYS)})")
    ckpt['module'] = model_from_checkpoint(ckpt).to(device)
    if dataset is not None:
        check_checkpoint_data(ckpt, dataset)
    return ckpt


def checkpoint_vocabularies(
        ckpt: Dict[str, Any]
) -> Tuple[Optional[Vocabulary], Optional[Vocabulary]]:
    r"""The entity and relation :class:`Vocabulary` of a checkpoint dict
    (:obj:`None` for one it does not store)."""
    return tuple(None if ckpt.get(key) is None else Vocabulary(ckpt[key])
                 for key in ('entity_vocab', 'relation_vocab'))


def _first_difference(a: Sequence[str], b: Sequence[str]) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"id {i} is '{x}' in the checkpoint and '{y}' in the data"
    return f'the checkpoint has {len(a)} names, the data {len(b)}'


def check_vocabularies(dataset: KGDataset, entity_vocab=None,
                       relation_vocab=None, what: str = 'the checkpoint'
                       ) -> None:
    r"""Checks that :obj:`dataset` has these vocabularies, name for name
    (the whole vocabulary is compared).

    Args:
        dataset (KGDataset): The data.
        entity_vocab (Vocabulary or Sequence[str], optional): Entity names
            in id order; :obj:`None` skips entities. (default: :obj:`None`)
        relation_vocab (Vocabulary or Sequence[str], optional): Relation
            names in id order. (default: :obj:`None`)
        what (str, optional): Where the vocabularies come from, for the
            message. (default: :obj:`"the checkpoint"`)

    Raises:
        DataMismatchError: Naming the first id whose names differ.
    """
    for kind, vocab, have in (('entity', entity_vocab, dataset.entity_vocab),
                              ('relation', relation_vocab,
                               dataset.relation_vocab)):
        if vocab is None:
            continue
        want = vocab.to_list() if isinstance(vocab, Vocabulary) else \
            list(vocab)
        got = have.to_list()
        if want != got:
            raise DataMismatchError(
                f'{what} was trained on other {kind} ids than this data '
                f'(vocabularies differ: {_first_difference(want, got)})')


def check_checkpoint_data(ckpt: Dict[str, Any], dataset: KGDataset) -> None:
    r"""Checks that a loaded checkpoint (with ``"module"``, see
    :func:`load_kge_checkpoint`) was trained on :obj:`dataset`'s ids: the
    same numbers of entities and relations, where the checkpoint stores
    them the same vocabularies (:func:`check_vocabularies`), and the
    training graph it fingerprinted -- for an unlearned checkpoint, its
    original or its retained graph (see
    :func:`~torch_geometric_unlearn.verify.resume`).

    Raises:
        DataMismatchError: The model does not fit the data.
    """
    model = ckpt['module']
    if (model.num_nodes != dataset.num_entities
            or model.num_relations != dataset.num_relations):
        raise DataMismatchError(
            f'the checkpoint has {model.num_nodes} entities and '
            f'{model.num_relations} relations, the data '
            f'{dataset.num_entities} and {dataset.num_relations}')
    check_vocabularies(dataset, ckpt.get('entity_vocab'),
                       ckpt.get('relation_vocab'))
    state = ckpt.get('unlearning')
    if isinstance(state, dict) and state.get('ledger'):
        from ..verify import resume
        resume(state, dataset)  # the original or the retained graph
        return
    graph = (ckpt.get('fingerprint') or {}).get('graph')
    if graph is not None:
        from ..utils.fingerprint import triples_hash
        t = dataset.train
        if triples_hash(t.edge_index, t.edge_type, dataset.num_entities,
                        dataset.num_relations) != graph:
            raise DataMismatchError(
                'the checkpoint was trained on another training graph than '
                "this data's (same counts, other triples: e.g. a reduced or "
                'a different graph)')


def load_checkpoint_and_data(checkpoint: str, data: str,
                             device: str = 'cpu'
                             ) -> Tuple[Dict[str, Any], KGDataset]:
    r"""Loads a KGE checkpoint and the data it is to be used with, encoded
    with the checkpoint's ids.

    A TSV directory is read with the checkpoint's vocabularies
    (:func:`load_tsv_kg` with :obj:`entity_vocab` / :obj:`relation_vocab`),
    so it may be any subset of the training data's names: for example the
    original ``train`` and ``valid`` files with a smaller ``test`` file. The
    dataset then has as many entities as the model, whether or not the
    files mention them all. Other sources (:func:`load_dataset`) must match
    the checkpoint (:func:`check_checkpoint_data`).

    .. code-block:: python

        ckpt, kg = load_checkpoint_and_data('m.pt', 'path/to/test-subset')
        model = ckpt['module']

    Args:
        checkpoint (str): The checkpoint file.
        data (str): The data specification (see :func:`load_dataset`).
        device (str, optional): Device of the model. (default:
            :obj:`"cpu"`)

    Returns:
        (dict, KGDataset): The checkpoint dict (model under ``"module"``)
        and the dataset.

    Raises:
        FileNotFoundError: A file is missing.
        UserInputError: Bad data, no checkpoint, a name in the data files
            that the checkpoint does not know (:class:`UnknownNameError`), or
            data with other ids (:class:`DataMismatchError`).
    """
    ckpt = load_kge_checkpoint(checkpoint, device=device)
    entity_vocab, relation_vocab = checkpoint_vocabularies(ckpt)
    try:
        dataset = load_dataset(data, entity_vocab=entity_vocab,
                               relation_vocab=relation_vocab)
    except UnknownNameError as e:
        raise UnknownNameError(f"{e}; the data must use the names of the "
                               f"checkpoint '{checkpoint}'", e.names,
                               e.path) from e
    try:
        check_checkpoint_data(ckpt, dataset)
    except DataMismatchError as e:
        raise DataMismatchError(f"'{checkpoint}' and '{data}' do not belong "
                                f'together: {e}') from e
    return ckpt, dataset


__all__ = ['load_kge_checkpoint', 'checkpoint_vocabularies',
           'check_vocabularies', 'check_checkpoint_data',
           'load_checkpoint_and_data']
