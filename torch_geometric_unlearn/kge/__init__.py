r"""Knowledge graph embedding utilities for PyG's
:class:`~torch_geometric.nn.kge.KGEModel` family: scoring against all
entities, filtered link-prediction evaluation, training and
checkpoints."""
from .scoring import (KGEScorer, TransEScorer, DistMultScorer, ComplExScorer,
                      RotatEScorer, ForwardScorer, SCORERS, MODELS,
                      register_scorer, get_scorer, score_tails, score_heads,
                      model_name, load_kge_model)
from .losses import (margin_loss, bce_loss, softmax_loss,
                     self_adversarial_loss, sampled_loss, SAMPLED_LOSSES)
from .trainer import (TrainConfig, KGETrainer, RECIPES, recipe,
                      default_train_config, model_kwargs_of, fingerprint,
                      save_checkpoint,
                      load_checkpoint, model_from_checkpoint,
                      make_optimizer)
from .evaluate import (TripleFilter, LinkPredictionEvaluator, evaluate,
                       rank_metrics, rank_against_negatives, combine_ranks,
                       as_triples)

__all__ = [
    'KGEScorer',
    'TransEScorer',
    'DistMultScorer',
    'ComplExScorer',
    'RotatEScorer',
    'ForwardScorer',
    'SCORERS',
    'MODELS',
    'register_scorer',
    'get_scorer',
    'score_tails',
    'score_heads',
    'model_name',
    'load_kge_model',
    'TripleFilter',
    'LinkPredictionEvaluator',
    'evaluate',
    'rank_metrics',
    'rank_against_negatives',
    'combine_ranks',
    'as_triples',
    'margin_loss',
    'bce_loss',
    'softmax_loss',
    'self_adversarial_loss',
    'sampled_loss',
    'SAMPLED_LOSSES',
    'TrainConfig',
    'KGETrainer',
    'RECIPES',
    'recipe',
    'default_train_config',
    'model_kwargs_of',
    'fingerprint',
    'save_checkpoint',
    'load_checkpoint',
    'model_from_checkpoint',
    'make_optimizer',
]
