r"""Knowledge graph embedding utilities for PyG's
:class:`~torch_geometric.nn.kge.KGEModel` family: scoring against all
entities, filtered link-prediction evaluation, training and
checkpoints."""
from .scoring import (KGEScorer, TransEScorer, DistMultScorer, ComplExScorer,
                      RotatEScorer, ForwardScorer, SCORERS, MODELS,
                      register_scorer, get_scorer, score_tails, score_heads,
                      model_name, load_kge_model)
from .trainer import (TrainConfig, KGETrainer, RECIPES, recipe,
                      save_checkpoint, load_checkpoint, model_from_checkpoint)
from .evaluate import (TripleFilter, LinkPredictionEvaluator, evaluate,
                       rank_metrics, rank_against_negatives, as_triples)

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
    'as_triples',
    'TrainConfig',
    'KGETrainer',
    'RECIPES',
    'recipe',
    'save_checkpoint',
    'load_checkpoint',
    'model_from_checkpoint',
]
