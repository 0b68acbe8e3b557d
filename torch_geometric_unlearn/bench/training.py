r"""How the benchmarks train a KGE model: the one definition of "the
original model" and of "the retrained model".

Both are trained by :func:`train_model` from the same :class:`TrainingSpec`
(by default the model's recipe, :func:`torch_geometric_unlearn.kge.recipe`,
with early stopping on validation MRR and a wall-time budget), from the same
seeded initialisation; they differ only in the training graph: all training
triples for the original, the retained ones for the retrained model. The
filter of the validation ranking is the model's own training graph ∪ valid
∪ test. This is the model
``Retrain(original, train, config=spec.config, valid=valid,
filter_data=[retained, valid, test], seed=seed)`` trains.

:func:`training_outcome` reads from the trainer's history how training
ended (``"early_stopped"``, ``"budget"`` or ``"max_epochs"``), and
:func:`undertraining` says whether a model is plainly under-trained.
"""
from __future__ import annotations

import copy
import math
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, List, Optional

import torch
from torch_geometric.data import Data

from ..kge import KGETrainer, TrainConfig, load_kge_model, recipe
from .timing import Timer

__all__ = ['TrainingSpec', 'TrainedModel', 'train_model',
           'training_outcome', 'undertraining', 'check_training',
           'UndertrainedWarning', 'UndertrainedError', 'OUTCOMES']

#: How a training run can end.
OUTCOMES = ('early_stopped', 'budget', 'max_epochs')


class UndertrainedWarning(UserWarning):
    r"""A benchmarked model is plainly under-trained (see
    :func:`undertraining`)."""


class UndertrainedError(RuntimeError):
    r"""Raised instead of :class:`UndertrainedWarning` in strict mode."""


@dataclass
class TrainingSpec:
    r"""Everything that defines how a benchmark trains a KGE model.

    Args:
        model (str): :obj:`"transe"`, :obj:`"distmult"`, :obj:`"complex"`
            or :obj:`"rotate"`.
        dim (int): Embedding size (``hidden_channels``).
        model_kwargs (dict): Other constructor arguments (e.g. ``p_norm``).
        config (TrainConfig): The training configuration; its
            :obj:`max_minutes` is the budget and its :obj:`seed` seeds the
            batches.
        seed (int): Seed of the initialisation. (default: :obj:`0`)
    """
    model: str
    dim: int
    model_kwargs: Dict[str, Any]
    config: TrainConfig
    seed: int = 0

    @classmethod
    def from_recipe(cls, model: str, dim: Optional[int] = None,
                    epochs: Optional[int] = None,
                    budget_minutes: Optional[float] = 30.0, seed: int = 0,
                    **overrides) -> 'TrainingSpec':
        r"""The model's recipe, with optional overrides.

        Args:
            model (str): The KGE model.
            dim (int, optional): Embedding size (:obj:`None`: the
                recipe's).
            epochs (int, optional): Maximum epochs (:obj:`None`: the
                recipe's). Early stopping stays on (the recipe's
                :obj:`eval_every` / :obj:`patience`).
            budget_minutes (float, optional): Wall-time budget of one
                training run, :obj:`TrainConfig.max_minutes` (:obj:`None`
                or :obj:`0`: none). (default: :obj:`30.0`)
            seed (int, optional): Seed of the initialisation and of the
                training. (default: :obj:`0`)
            **overrides: Other :class:`TrainConfig` fields.
        """
        rec = recipe(model)
        kw = dict(rec['train'])
        if epochs is not None:
            if int(epochs) < 1:
                raise ValueError("'epochs' must be >= 1")
            kw['epochs'] = int(epochs)
        if budget_minutes is not None and budget_minutes < 0:
            raise ValueError("'budget_minutes' must be >= 0")
        kw['max_minutes'] = float(budget_minutes or 0.0)
        kw['seed'] = int(seed)
        kw.update(overrides)
        dim = rec['hidden_channels'] if dim is None else int(dim)
        if dim < 1:
            raise ValueError("'dim' must be >= 1")
        return cls(model=model.lower(), dim=dim,
                   model_kwargs=dict(rec['model_kwargs']),
                   config=TrainConfig.from_dict(kw), seed=int(seed))

    @property
    def budget_minutes(self) -> float:
        return float(self.config.max_minutes)

    def init_model(self, num_nodes: int,
                   num_relations: int) -> torch.nn.Module:
        r"""A freshly initialised model (seeded with :attr:`seed`; the
        caller's RNG state is kept)."""
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            return load_kge_model(self.model, num_nodes, num_relations,
                                  self.dim, **self.model_kwargs)

    def to_dict(self) -> Dict[str, Any]:
        r"""JSON-able: ``model``, ``dim``, ``model_kwargs``, ``train`` (the
        :class:`TrainConfig` dict), ``budget_minutes`` and ``seed``."""
        return dict(model=self.model, dim=self.dim,
                    model_kwargs=dict(self.model_kwargs),
                    train=asdict(self.config),
                    budget_minutes=self.budget_minutes, seed=self.seed)


@dataclass
class TrainedModel:
    r"""A model trained by :func:`train_model`.

    Attributes:
        model (torch.nn.Module): The model (the best validated state when
            validation ran), in eval mode.
        info (dict): :func:`training_outcome` plus ``seconds``.
        history (list): The trainer's per-epoch history.
    """
    model: torch.nn.Module
    info: Dict[str, Any]
    history: List[Dict[str, float]]


def train_model(spec: TrainingSpec, graph: Data, num_nodes: int,
                num_relations: int, valid: Optional[Data] = None,
                filter_data: Optional[List[Data]] = None,
                progress: bool = False) -> TrainedModel:
    r"""Trains a fresh model of :obj:`spec` on :obj:`graph` with early
    stopping on :obj:`valid` (filtered by :obj:`filter_data`, by default
    :obj:`graph` and :obj:`valid`) within the spec's budget.

    Args:
        spec (TrainingSpec): Model and training configuration.
        graph (Data): The training triples.
        num_nodes (int): Number of entities of the model.
        num_relations (int): Number of relations of the model.
        valid (Data, optional): Validation split (:obj:`None`: no early
            stopping).
        filter_data (list, optional): Filter of the validation ranking.
        progress (bool, optional): Progress bar. (default: :obj:`False`)
    """
    model = spec.init_model(num_nodes, num_relations)
    has_valid = valid is not None and valid.num_edges > 0
    trainer = KGETrainer(model, copy.deepcopy(spec.config),
                         progress=progress)
    with Timer() as t:
        trainer.fit(graph, valid if has_valid else None,
                    filter_data if has_valid else None)
    model.eval()
    info = training_outcome(trainer.history, spec.config)
    info['seconds'] = t.seconds
    return TrainedModel(model=model, info=info,
                        history=list(trainer.history))


def training_outcome(history: List[Dict[str, float]],
                     config: TrainConfig) -> Dict[str, Any]:
    r"""How a :class:`~torch_geometric_unlearn.kge.KGETrainer` run ended,
    from its history and config (the trainer's own stopping rule replayed).

    Returns:
        dict: ``epochs_run``, ``max_epochs``, ``outcome``
        (``"early_stopped"``: :obj:`patience` validations without a better
        validation MRR; ``"max_epochs"``: :obj:`config.epochs` reached;
        ``"budget"``: stopped earlier, by :obj:`config.max_minutes`),
        ``best_valid_mrr`` and ``best_epoch`` (:obj:`None` without
        validation) and ``valid_curve`` (``[epoch, valid MRR]`` pairs).
    """
    curve = [[int(h['epoch']), float(h['valid_mrr'])] for h in history
             if 'valid_mrr' in h]
    epochs_run = int(history[-1]['epoch']) if history else 0
    best, best_epoch, bad = -math.inf, None, 0
    for epoch, mrr in curve:
        if mrr > best:
            best, best_epoch, bad = mrr, epoch, 0
        else:
            bad += 1
    if curve and config.eval_every > 0 and bad >= config.patience:
        outcome = 'early_stopped'
    elif epochs_run >= int(config.epochs):
        outcome = 'max_epochs'
    else:
        outcome = 'budget'
    return dict(epochs_run=epochs_run, max_epochs=int(config.epochs),
                outcome=outcome,
                best_valid_mrr=None if best_epoch is None else float(best),
                best_epoch=best_epoch, valid_curve=curve)


def undertraining(info: Dict[str, Any], test_mrr: float,
                  mrr_floor: float = 0.05,
                  tolerance: float = 1e-3) -> Dict[str, Any]:
    r"""Whether a trained model is plainly under-trained.

    Two signs, each giving a reason:

    * training stopped at the budget or the epoch cap while validation MRR
      was still rising: the last validation was the best and improved by
      more than :obj:`tolerance` on the one before (a single validation
      counts as an improvement over the untrained model);
    * the test MRR is below :obj:`mrr_floor`.

    Args:
        info (dict): :func:`training_outcome` of the run.
        test_mrr (float): The model's filtered test MRR.
        mrr_floor (float, optional): (default: :obj:`0.05`)
        tolerance (float, optional): (default: :obj:`1e-3`)

    Returns:
        ``{"flag": bool, "reasons": [str]}``.
    """
    reasons = []
    curve = info.get('valid_curve') or []
    if info['outcome'] in ('budget', 'max_epochs') and curve:
        last = curve[-1][1]
        best = max(m for _, m in curve)
        prev = curve[-2][1] if len(curve) > 1 else 0.0
        if last >= best and last - prev > tolerance:
            cap = 'the time budget' if info['outcome'] == 'budget' else \
                'the epoch cap'
            reasons.append(f'validation MRR still rising at {cap} (epoch '
                           f'{curve[-1][0]}: {prev:.4f} -> {last:.4f})')
    if test_mrr < mrr_floor:
        reasons.append(f'test MRR {test_mrr:.4f} below the floor '
                       f'{mrr_floor:g}')
    return dict(flag=bool(reasons), reasons=reasons)


def check_training(what: str, info: Dict[str, Any], test_mrr: float,
                   mrr_floor: float = 0.05, tolerance: float = 1e-3,
                   strict: bool = False,
                   log: Optional[Callable[[str], None]] = None
                   ) -> Dict[str, Any]:
    r""":func:`undertraining` of the model called :obj:`what`; warns
    (:class:`UndertrainedWarning`, and :obj:`log`) or, when
    :obj:`strict`, raises :class:`UndertrainedError` if it is flagged."""
    out = undertraining(info, test_mrr, mrr_floor, tolerance)
    if out['flag']:
        msg = (f'the {what} model looks under-trained: '
               f"{'; '.join(out['reasons'])} ({info['epochs_run']} epochs, "
               f"{info['outcome']})")
        if strict:
            raise UndertrainedError(msg)
        if log is not None:
            log(f'WARNING: {msg}')
        warnings.warn(msg, UndertrainedWarning, stacklevel=2)
    return out
