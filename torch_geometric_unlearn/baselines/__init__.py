r"""Unlearning baselines behind one interface
(:class:`~torch_geometric_unlearn.unlearner.Unlearner`), each registered by
name (:func:`~torch_geometric_unlearn.unlearner.get_method`):
``retrain``, ``finetune``, ``gradient_ascent``, ``sisa``, ``ssd``,
``distill``, ``gnndelete``, ``influence``."""
from ..unlearner import Unlearner
from .simple import FineTune, GradientAscent, Retrain, fresh_like
from .sisa import SISA, ShardEnsemble, ShardEnsembleScorer
from .ssd import SSD
from .distill import Distill
from .gnndelete import GNNDelete
from .influence import (CGResult, InfluenceFunction, LocalObjective,
                        conjugate_gradient)

__all__ = ['Unlearner', 'Retrain', 'FineTune', 'GradientAscent', 'SISA',
           'ShardEnsemble', 'ShardEnsembleScorer', 'SSD', 'Distill',
           'GNNDelete', 'InfluenceFunction', 'LocalObjective', 'CGResult',
           'conjugate_gradient', 'fresh_like']
