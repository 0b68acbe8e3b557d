r"""Measurements of unlearning: membership inference, relearning attack,
parameter distance, gaps to the retrained model."""
from .unlearning import (membership_auc, ranking_gap, relearn_attack,
                         row_distance, shadow_attack_auc, triple_scores)

__all__ = [
    'triple_scores',
    'membership_auc',
    'shadow_attack_auc',
    'relearn_attack',
    'row_distance',
    'ranking_gap',
]
