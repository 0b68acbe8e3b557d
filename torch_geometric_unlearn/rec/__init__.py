r"""Recommendation: interaction data, base recommenders (PyG's LightGCN,
matrix factorisation), full-ranking evaluation, and exact unlearning with
:class:`EEMU` and its references (:class:`SISARec`, :class:`RetrainRec`,
:class:`FineTuneRec`)."""
from .data import *  # noqa: F401,F403
from .data import __all__ as _data_all
from .evaluate import ranking_metrics, embedding_score_fn
from .models import (MF, LightGCNRec, bipartite_adjacency, make_recommender,
                     symmetric_spmm, RECOMMENDER_NAMES)
from .train import RecTrainConfig, train_bpr, build_recommender
from .eemu import (RecUnlearner, EEMU, EEMUConfig, SISARec, RetrainRec,
                   FineTuneRec, ShardedRecUnlearner, assign_shards,
                   REC_METHODS)

__all__ = list(_data_all) + [
    'ranking_metrics',
    'embedding_score_fn',
    'MF',
    'LightGCNRec',
    'bipartite_adjacency',
    'make_recommender',
    'symmetric_spmm',
    'RECOMMENDER_NAMES',
    'RecTrainConfig',
    'train_bpr',
    'build_recommender',
    'RecUnlearner',
    'EEMU',
    'EEMUConfig',
    'SISARec',
    'RetrainRec',
    'FineTuneRec',
    'ShardedRecUnlearner',
    'assign_shards',
    'REC_METHODS',
]
