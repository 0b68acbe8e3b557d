r"""Knowledge-graph data: containers, loaders and the synthetic generator."""
from .kg import (KGDataset, Vocabulary, make_kg, check_kg, to_triples,
                 triple_keys, degree_stats)
from .tsv import load_tsv_kg, save_tsv_kg
from .synthetic import (make_synthetic_kg, parse_synthetic_spec,
                        SYNTHETIC_PRESETS)
from .ogb import load_ogb_wikikg2
from .pyg import load_pyg_kg, PYG_KG_NAMES

__all__ = [
    'KGDataset',
    'Vocabulary',
    'make_kg',
    'check_kg',
    'to_triples',
    'triple_keys',
    'degree_stats',
    'load_tsv_kg',
    'save_tsv_kg',
    'make_synthetic_kg',
    'parse_synthetic_spec',
    'SYNTHETIC_PRESETS',
    'load_ogb_wikikg2',
    'load_pyg_kg',
    'PYG_KG_NAMES',
]
