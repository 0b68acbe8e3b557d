r"""Unlearning baselines behind one interface (:class:`Unlearner`)."""
from .base import Unlearner
from .simple import FineTune, GradientAscent, Retrain

__all__ = ['Unlearner', 'Retrain', 'FineTune', 'GradientAscent']
