r"""The knowledge-graph unlearning methods a benchmark runs, built by name
with the benchmark's settings.

The class of a method comes from the registry of
:mod:`torch_geometric_unlearn.unlearner` (:func:`get_method`) when it holds
the name, else from :data:`FALLBACK` -- the mapping the harness kept before
the registry existed. What this module adds is how the benchmark configures
each one (:func:`build_method`): the original model's training config, its
seed, the MetaEU defaults of the model (:meth:`MetaEUConfig.for_model`),
SISA's shards trained for as many epochs as the original model ran.

``retrain`` is not built here: the retrained reference is trained by the
harness itself (:func:`~torch_geometric_unlearn.bench.training.train_model`,
the one definition shared with the original model).
"""
from __future__ import annotations

import copy
import importlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Tuple

import torch
from torch_geometric.data import Data

from .timing import Timer
from .training import TrainingSpec

__all__ = ['METHODS', 'FALLBACK', 'parse_methods', 'method_class',
           'MethodContext', 'build_method']

#: The methods, in the order they run (``retrain`` first: the reference).
METHODS = ('retrain', 'metaeu', 'finetune', 'gradient_ascent', 'distill',
           'gnndelete', 'ssd', 'sisa')

#: ``name -> "module:Class"`` used when the registry lacks the name.
FALLBACK: Dict[str, str] = {
    'retrain': 'torch_geometric_unlearn.baselines:Retrain',
    'metaeu': 'torch_geometric_unlearn.metaeu:MetaEU',
    'finetune': 'torch_geometric_unlearn.baselines:FineTune',
    'gradient_ascent': 'torch_geometric_unlearn.baselines:GradientAscent',
    'distill': 'torch_geometric_unlearn.baselines:Distill',
    'gnndelete': 'torch_geometric_unlearn.baselines:GNNDelete',
    'ssd': 'torch_geometric_unlearn.baselines:SSD',
    'sisa': 'torch_geometric_unlearn.baselines:SISA',
}


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
    r"""The class of the knowledge-graph method :obj:`name`: the
    registered one (:func:`torch_geometric_unlearn.unlearner.get_method`)
    if the registry holds it, else the :data:`FALLBACK` one."""
    try:
        from ..unlearner import get_method
        return get_method(name, 'kg')
    except (ImportError, ValueError):
        pass
    if name not in FALLBACK:
        raise ValueError(f"unknown method '{name}' (choose from "
                         f"{', '.join(METHODS)})")
    module, _, cls = FALLBACK[name].partition(':')
    return getattr(importlib.import_module(module), cls)


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
    """
    original: torch.nn.Module
    train: Data
    spec: TrainingSpec
    epochs_run: int
    seed: int = 0
    episodes: int = 200
    options: Dict[str, Dict[str, Any]] = field(default_factory=dict)


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
        config = MetaEUConfig.for_model(ctx.spec.model, **opts)
        method = cls(ctx.original, ctx.train, config=config, progress=False)
        with Timer() as t:
            if config.episodes > 0:
                method.fit()
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
    }
    kw = dict(defaults.get(name, {}))
    kw.update(opts)
    return cls(ctx.original, ctx.train, **kw), 0.0
