r"""MetaEU: meta-learned knowledge graph embedding unlearning."""
from .episodes import Episode, EpisodeSampler, Incidence
from .metaeu import (LOSS_DEFAULTS, MetaEU, MetaEUConfig, UnlearningRecord,
                     UnlearningResult)

__all__ = [
    'MetaEU',
    'MetaEUConfig',
    'UnlearningRecord',
    'UnlearningResult',
    'EpisodeSampler',
    'Episode',
    'Incidence',
    'LOSS_DEFAULTS',
]
