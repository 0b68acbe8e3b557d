r"""Unlearning baselines behind one interface (:class:`Unlearner`)."""
from .base import Unlearner
from .simple import FineTune, GradientAscent, Retrain
from .sisa import SISA, ShardEnsemble, ShardEnsembleScorer
from .ssd import SSD
from .distill import Distill
from .gnndelete import GNNDelete

__all__ = ['Unlearner', 'Retrain', 'FineTune', 'GradientAscent', 'SISA',
           'ShardEnsemble', 'ShardEnsembleScorer', 'SSD', 'Distill',
           'GNNDelete']
