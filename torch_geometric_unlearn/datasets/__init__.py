r"""Knowledge-graph data: containers, loaders, the synthetic generator, the
resolution of a data specification, and readers of deletion requests."""
from .kg import (KGDataset, Vocabulary, make_kg, check_kg, to_triples,
                 triple_keys, isin_sorted, TripleSet, degree_stats)
from .errors import UserInputError, UnknownNameError, DataMismatchError
from .tsv import load_tsv_kg, save_tsv_kg
from .synthetic import (make_synthetic_kg, parse_synthetic_spec,
                        SYNTHETIC_PRESETS)
from .ogb import load_ogb_wikikg2, write_ogb_fixture
from .pyg import load_pyg_kg, PYG_KG_NAMES
from .resolve import load_dataset, DATASET_SPECS
from .checkpoint import (load_kge_checkpoint, checkpoint_vocabularies,
                         check_vocabularies, check_checkpoint_data,
                         load_checkpoint_and_data)
from .requests import (lookup_name_or_id, read_forget_file,
                       check_forget_request)
from .retained import TripleIndex, RetainedGraph, ForgetResult, segment_ids
from .hetero import (HeteroMapping, TypedKGDataset, read_entity_types,
                     add_entity_types, load_typed_tsv_kg, typed_dataset,
                     mapping_of, is_typed_request, resolve_typed_request)

__all__ = [
    'TripleIndex',
    'RetainedGraph',
    'ForgetResult',
    'segment_ids',
    'KGDataset',
    'Vocabulary',
    'make_kg',
    'check_kg',
    'to_triples',
    'triple_keys',
    'isin_sorted',
    'TripleSet',
    'degree_stats',
    'UserInputError',
    'UnknownNameError',
    'DataMismatchError',
    'load_tsv_kg',
    'save_tsv_kg',
    'make_synthetic_kg',
    'parse_synthetic_spec',
    'SYNTHETIC_PRESETS',
    'load_ogb_wikikg2',
    'write_ogb_fixture',
    'load_pyg_kg',
    'PYG_KG_NAMES',
    'load_dataset',
    'DATASET_SPECS',
    'load_kge_checkpoint',
    'checkpoint_vocabularies',
    'check_vocabularies',
    'check_checkpoint_data',
    'load_checkpoint_and_data',
    'lookup_name_or_id',
    'read_forget_file',
    'check_forget_request',
    'HeteroMapping',
    'TypedKGDataset',
    'read_entity_types',
    'add_entity_types',
    'load_typed_tsv_kg',
    'typed_dataset',
    'mapping_of',
    'is_typed_request',
    'resolve_typed_request',
]
