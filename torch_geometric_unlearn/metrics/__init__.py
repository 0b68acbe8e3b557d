r"""Measurements of unlearning: membership inference, relearning attacks
(on a slice of the forget set, or on retained triples only), parameter
distance, gaps to the retrained model, and the MRR_Avg / MRR_F1
summaries."""
from .unlearning import (membership_auc, ranking_gap, relearn_attack,
                         retain_relearn, row_distance, shadow_attack_auc,
                         triple_scores)
from .summary import mrr_avg, mrr_f1, unlearning_scores

__all__ = [
    'triple_scores',
    'membership_auc',
    'shadow_attack_auc',
    'relearn_attack',
    'retain_relearn',
    'row_distance',
    'ranking_gap',
    'mrr_avg',
    'mrr_f1',
    'unlearning_scores',
]
