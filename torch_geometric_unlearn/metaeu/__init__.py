r"""MetaEU: meta-learned knowledge graph embedding unlearning.

* :mod:`.config` -- :class:`MetaEUConfig` and the per-model defaults,
* :mod:`.episodes` -- simulated deletions for meta-training,
* :mod:`.training` -- meta-training (:meth:`MetaEU.fit`),
* :mod:`.unlearning` -- serving a request (:meth:`MetaEU.unlearn`),
* :mod:`.calibration` -- the calibrated correction of ``"correct"`` mode,
* :mod:`.reference` -- the learning-free references (leave-k-out,
  neighbour mean),
* :mod:`.metaeu` -- the :class:`MetaEU` class and persistence.
"""
from ..unlearner import UnlearningRecord, UnlearningResult
from .config import (LOSS_DEFAULTS, META_LOSS, MODEL_DEFAULTS, REFINE_LR,
                     MetaEUConfig)
from .episodes import Episode, EpisodeSampler, Incidence
from .metaeu import MetaEU
from .unlearning import Neighbourhood
from .reference import LeaveKOut, NeighbourMean
from .calibration import ScoreReference, calibrate

__all__ = [
    'MetaEU',
    'MetaEUConfig',
    'UnlearningRecord',
    'UnlearningResult',
    'EpisodeSampler',
    'Episode',
    'Incidence',
    'Neighbourhood',
    'LeaveKOut',
    'NeighbourMean',
    'ScoreReference',
    'calibrate',
    'LOSS_DEFAULTS',
    'MODEL_DEFAULTS',
    'META_LOSS',
    'REFINE_LR',
]
