r"""One entry point for every kind of knowledge-graph source:
:func:`load_dataset` resolves a specification string (as given to the
command line's ``--data``) to a :class:`KGDataset`."""
from __future__ import annotations

import os.path as osp
import pickle
import zipfile
from typing import Optional

from .errors import UserInputError
from .kg import KGDataset
from .synthetic import make_synthetic_kg, parse_synthetic_spec
from .tsv import VocabLike, load_tsv_kg

#: The forms of a dataset specification, in words.
DATASET_SPECS = ('a directory of train/valid/test .tsv[.gz] files, a dataset '
                 'saved with KGDataset.save (.pt), an OGB root holding '
                 'ogbl_wikikg2 (prefix ogb:), or a synthetic KG: '
                 '"synthetic", "synthetic-<preset>" or '
                 '"synthetic:entities=N,relations=R,triples=T,seed=S"')


def is_torch_file(path: str) -> bool:
    r"""Whether :obj:`path` looks like a :func:`torch.save` file (a zip
    archive, or a pickle of protocol 2 or later), judged by its first
    bytes."""
    if zipfile.is_zipfile(path):
        return True
    with open(path, 'rb') as f:
        return f.read(1) == b'\x80'


def load_dataset(spec: str, entity_vocab: Optional[VocabLike] = None,
                 relation_vocab: Optional[VocabLike] = None) -> KGDataset:
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

    Returns:
        :class:`KGDataset`

    Raises:
        UserInputError: :obj:`spec` names nothing, a synthetic
            specification is malformed, a file is no saved dataset, a TSV
            line does not parse or names a name missing from a given
            vocabulary (:class:`UnknownNameError`).
        FileNotFoundError: A file the source needs is missing.
    """
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
        if not is_torch_file(spec):
            raise UserInputError(f"'{spec}' is not a dataset saved with "
                                 f"KGDataset.save (not a torch file)")
        try:
            return KGDataset.load(spec)
        except (ValueError, pickle.UnpicklingError, EOFError,
                RuntimeError) as e:  # no torch file, or no saved dataset
            raise UserInputError(f"'{spec}' is not a dataset saved with "
                                 f"KGDataset.save ({type(e).__name__}: "
                                 f"{e})") from e
    if osp.isdir(spec):
        return load_tsv_kg(spec, entity_vocab=entity_vocab,
                           relation_vocab=relation_vocab)
    raise UserInputError(f"'{spec}' is neither a directory, a saved dataset "
                         f"nor a synthetic specification (expected "
                         f"{DATASET_SPECS})")


__all__ = ['load_dataset', 'is_torch_file', 'DATASET_SPECS']
