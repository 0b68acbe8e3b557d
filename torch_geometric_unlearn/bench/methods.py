r"""The knowledge-graph unlearning methods a benchmark runs, built by name
with the benchmark's settings.

The class of a method comes from the registry of
:mod:`torch_geometric_unlearn.unlearner` (:func:`get_method`). What this
module adds is how the benchmark configures each one
(:func:`build_method`): the original model's training config, its seed,
the MetaEU defaults of the model (:meth:`MetaEUConfig.for_model`), SISA's
shards trained for as many epochs as the original model ran.

``retrain`` is not built here: the retrained reference is trained by the
harness itself (:func:`~torch_geometric_unlearn.bench.training.train_model`,
the one definition shared with the original model).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

import torch
from torch_geometric.data import Data

from .timing import Timer
from .training import TrainingSpec

__all__ = ['METHODS', 'parse_methods', 'method_class', 'MethodContext',
           'META_BUDGET', 'build_method']

#: The methods, in the order they run (``retrain`` first: the reference).
METHODS = ('retrain', 'metaeu', 'leave_k_out', 'neighbour_mean', 'finetune',
           'gradient_ascent', 'distill', 'gnndelete', 'ssd', 'influence',
           'sisa')


def parse_methods(spec: str) -> List[str]:
    r"""``"all"`` or a comma-separated subset of :data:`METHODS` (``-`` and
    ``_`` alike), in the order of :data:`METHODS`."""
    if spec.strip() == 'all':
        return list(METHODS)
    names = [s.strip().replace('-', '_') for s in spec.split(',')
             if s.strip()]
    unknown = [n for n in names if n not in METHODS]
    if unknown or not names:
        raise ValueError(f"unknown method(s) {unknown or spec!r}; choose "
                         f"from {', '.join(METHODS)} or 'all'")
    return [m for m in METHODS if m in names]


def method_class(name: str) -> type:
    r"""The class registered as knowledge-graph method :obj:`name`
    (:func:`torch_geometric_unlearn.unlearner.get_method`)."""
    from ..unlearner import get_method
    return get_method(name, 'kg')


@dataclass
class MethodContext:
    r"""What :func:`build_method` needs to know about the benchmark.

    Attributes:
        original (torch.nn.Module): The trained original model.
        train (Data): Its training graph.
        spec (TrainingSpec): How it was trained.
        epochs_run (int): Epochs it actually ran.
        seed (int): The benchmark's seed.
        episodes (int): MetaEU meta-training episodes.
        options (dict): Per-method keyword overrides, ``{name: {...}}``
            (for ``metaeu``, :class:`MetaEUConfig` fields).
        valid (Data, optional): The validation split: the unseen triples
            behind MetaEU's calibration.
        train_seconds (float, optional): How long training the original
            took: MetaEU's meta-training gets :data:`META_BUDGET` of it
            unless its options set ``max_minutes``.
    """
    original: torch.nn.Module
    train: Data
    spec: TrainingSpec
    epochs_run: int
    seed: int = 0
    episodes: int = 200
    options: Dict[str, Dict[str, Any]] = field(default_factory=dict)
    valid: Optional[Data] = None
    train_seconds: Optional[float] = None


#: MetaEU's meta-training budget in the benchmark, as a share of the time
#: training the original model took: meta-training is a one-off cost that
#: must stay well below one retraining (a retrained model costs about one
#: training run).
META_BUDGET = 0.4


def _plain(config, **overrides):
    cfg = copy.deepcopy(config)
    cfg.eval_every = 0
    for k, v in overrides.items():
        setattr(cfg, k, v)
    return cfg


def build_method(name: str, ctx: MethodContext) -> Tuple[Any, float]:
    r"""Builds method :obj:`name` on the original model and graph and runs
    its one-off set-up (MetaEU's meta-training, SISA's shards).

    Returns:
        ``(method, setup_seconds)``.
    """
    if name == 'retrain':
        raise ValueError("'retrain' is trained by the harness "
                         "(bench.training.train_model), not built here")
    cls = method_class(name)
    opts = dict(ctx.options.get(name, {}))
    cfg = _plain(ctx.spec.config)
    seed = ctx.seed
    if name == 'metaeu':
        from ..metaeu import MetaEUConfig
        opts.setdefault('episodes', ctx.episodes)
        opts.setdefault('seed', seed)
        if ctx.train_seconds:
            opts.setdefault('max_minutes',
                            META_BUDGET * float(ctx.train_seconds) / 60)
        # The meta-training loss follows the original model's training
        # loss (its family: sigmoid-based or softmax).
        config = MetaEUConfig.for_model(
            ctx.spec.model, train_loss=ctx.spec.config.loss, **opts)
        method = cls(ctx.original, ctx.train, config=config, progress=False,
                     reference=ctx.valid)
        with Timer() as t:
            if config.episodes > 0:
                method.fit()
            # One-off set-up a first request would otherwise pay: the
            # calibration's score reference, the graph's indexes and the
            # model's digest.
            method.prepare()
        return method, t.seconds
    if name == 'sisa':
        # Each shard trains, without validation, for as many epochs as the
        # original model ran, within the same budget.
        opts.setdefault('config', _plain(ctx.spec.config,
                                         epochs=max(1, ctx.epochs_run)))
        opts.setdefault('num_shards', 4)
        opts.setdefault('seed', seed)
        method = cls(ctx.original, ctx.train, **opts)
        with Timer() as t:
            method.fit()
        return method, t.seconds
    defaults: Dict[str, Dict[str, Any]] = {
        'finetune': dict(epochs=1, config=cfg),
        'gradient_ascent': dict(config=cfg, seed=seed),
        'distill': dict(seed=seed),
        'gnndelete': dict(seed=seed),
        'ssd': dict(config=cfg, seed=seed),
        'influence': dict(config=cfg, seed=seed),
    }
    kw = dict(defaults.get(name, {}))
    kw.update(opts)
    return cls(ctx.original, ctx.train, **kw), 0.0
