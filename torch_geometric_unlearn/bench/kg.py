r"""The knowledge-graph unlearning benchmark behind ``python -m
torch_geometric_unlearn bench``: the request(s), every method, the same
measurements.

:func:`run_bench` trains the original model (:mod:`.training`: the model's
recipe, early stopping on validation MRR, a time budget), draws the
request(s) (:mod:`.requests`), trains the retrained reference with the same
definition on the retained triples, runs every method on the same
request(s) and measures all of them the same way. :class:`KGBench` holds the
pieces for scripts that compose their own comparison.

The result is a JSON-able dict (schema version :data:`SCHEMA`)::

    {"schema": "torch_geometric_unlearn.bench/2",
     "dataset": str, "model": str, "seed": int,
     "dim": int, "epochs": int,            # the spec's dim and epoch cap
     "recipe": {"model", "dim", "model_kwargs", "train": {TrainConfig},
                "budget_minutes", "seed"},
     "checks": {"mrr_floor", "rise_tolerance", "strict"},
     "forget": {"kind": "ratio" | "hub" | "cluster" | "entities" |
                        "relation",
                "value": ..., "count": int, "steps": int,
                "requests": [{"step", "kind", "value", "count", ...}]},
     "original": {MEASURES, "seconds": float, "training": T,
                  "undertrained": U, "steps": [MEASURES]},
     "methods": {NAME: {MEASURES, ATTACKS, "gap": {"test": G, "forget": G,
                        "retain": G},
                        "seconds": float, "setup_seconds": float,
                        "peak_mb": float, "steps": [...]}}}

with

* ``MEASURES = "test": M, "forget": M, "retain": M, "mia_auc": float,
  "mrr_avg": float, "mrr_f1": float, "earlier_forget_mrr": [float]``,
  ``M = {"mrr", "mr", "hits@1", "hits@3", "hits@10"}`` (filtered, both
  directions, realistic rank; filter = the retained train ∪ valid ∪ test
  after the request), ``forget`` the request's triples, ``retain`` a fixed
  sample of the triples retained after the last request,
  ``mrr_avg`` / ``mrr_f1`` the mean / harmonic mean of the retain MRR and
  1 − the forget MRR, and ``earlier_forget_mrr`` the forget MRR of every
  earlier request's triples, measured again (empty for the first);
* ``ATTACKS = "relearn_before_mrr", "relearn_forget_mrr"`` (the relearning
  attack: forget MRR of half the forget set before / after fine-tuning on
  the other half), ``"retain_relearn_forget_mrr"`` (forget MRR after
  fine-tuning on retained triples only) and ``"unavailable"``: ``{key:
  reason}`` for every attack a method cannot report (its value is then
  :obj:`null`);
* ``T`` (``original`` and ``retrain``) the training outcome:
  ``{"epochs_run", "max_epochs", "outcome": "early_stopped" | "budget" |
  "max_epochs", "best_valid_mrr", "best_epoch", "valid_curve", "seconds",
  "cached"}``, and ``U = {"flag": bool, "reasons": [str]}``
  (:func:`~torch_geometric_unlearn.bench.training.undertraining`);
* ``G`` the difference to ``retrain`` after the same request (absent when
  retraining was skipped).

Each method entry holds the measurements after the last request; with
``steps`` :math:`> 1` its ``steps`` list holds them after each request (the
retrained reference of step :math:`i` is trained from scratch without the
triples of requests :math:`1..i`). ``setup_seconds`` is one-off work before
the requests (meta-training for ``metaeu``, training the shards for
``sisa``).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from typing import Any, Callable, Dict, List, Optional, Union

import torch

from ..datasets import KGDataset, to_triples
from ..kge import LinkPredictionEvaluator, load_checkpoint, save_checkpoint
from ..metrics import (membership_auc, ranking_gap, relearn_attack,
                       retain_relearn, unlearning_scores)
from .memory import peak_mb, peak_reset
from .methods import METHODS, MethodContext, build_method, parse_methods
from .report import fmt, markdown_table, stdout_log
from .requests import Request, draw_requests
from .timing import Timer
from .training import TrainedModel, TrainingSpec, check_training, train_model

__all__ = ['SCHEMA', 'METRIC_KEYS', 'METHODS', 'KGBench', 'run_bench',
           'parse_methods', 'format_table', 'format_markdown', 'plot']

SCHEMA = 'torch_geometric_unlearn.bench/2'
METRIC_KEYS = ('mrr', 'mr', 'hits@1', 'hits@3', 'hits@10')
ATTACK_KEYS = ('relearn_before_mrr', 'relearn_forget_mrr',
               'retain_relearn_forget_mrr')


def _metrics(d: Dict[str, float]) -> Dict[str, float]:
    return {k: float(d[k]) for k in METRIC_KEYS}


def _digest(obj: Any) -> str:
    if torch.is_tensor(obj):
        data = obj.cpu().contiguous().numpy().tobytes()
    else:
        data = json.dumps(obj, sort_keys=True).encode()
    return hashlib.sha1(data).hexdigest()[:10]


class KGBench:
    r"""The pieces of a knowledge-graph unlearning benchmark on one data
    set: how models are trained (:attr:`spec`), the request(s), the
    measurements. :func:`run_bench` composes them; scripts may compose
    their own comparison from the same pieces.

    .. code-block:: python

        kb = KGBench(dataset, 'transe')
        kb.draw(forget_ratio=0.01)
        original = kb.original_entry()          # trains the original
        reference = kb.reference_entry()        # trains the retrained model
        entry = kb.unlearner_entry('metaeu', *build_method('metaeu', ctx))

    Args:
        dataset (KGDataset): The data.
        model (str): The KGE model. (default: :obj:`"distmult"`)
        dim (int, optional): Embedding size (:obj:`None`: the recipe's).
        epochs (int, optional): Epoch cap (:obj:`None`: the recipe's).
        budget_minutes (float, optional): Wall-time budget of each training
            run (the original, each retrained model). (default: :obj:`30`)
        seed (int, optional): Seed of everything. (default: :obj:`0`)
        train_config (dict, optional): Other :class:`TrainConfig` fields
            overriding the recipe (e.g. ``eval_every``, ``patience``).
        retain_sample (int, optional): Retained triples measured.
            (default: :obj:`2000`)
        relearn_epochs (int, optional): Epochs of the relearning attack (0:
            off). (default: :obj:`3`)
        retain_relearn_epochs (int, optional): Epochs of retain-set
            relearning (0: off). (default: :obj:`2`)
        retain_relearn_max_triples (int, optional): Retained triples it
            fine-tunes on (:obj:`None`: all).
        mrr_floor (float, optional): Test MRR below which a trained model
            is flagged under-trained. (default: :obj:`0.05`)
        rise_tolerance (float, optional): Validation MRR rise that counts
            as "still rising" at the budget / epoch cap.
            (default: :obj:`1e-3`)
        strict (bool, optional): Raise
            :class:`~torch_geometric_unlearn.bench.training.
            UndertrainedError` instead of warning. (default: :obj:`False`)
        models_dir (str, optional): Save trained original / retrained
            models here and load them on later runs with the same data,
            spec and request. (default: :obj:`None`)
        progress (bool, optional): Training progress bars.
        log (callable, optional): Progress messages. (default: print)
    """
    def __init__(self, dataset: KGDataset, model: str = 'distmult',
                 dim: Optional[int] = None, epochs: Optional[int] = None,
                 budget_minutes: Optional[float] = 30.0, seed: int = 0,
                 train_config: Optional[Dict[str, Any]] = None,
                 retain_sample: int = 2000, relearn_epochs: int = 3,
                 retain_relearn_epochs: int = 2,
                 retain_relearn_max_triples: Optional[int] = None,
                 mrr_floor: float = 0.05, rise_tolerance: float = 1e-3,
                 strict: bool = False, models_dir: Optional[str] = None,
                 progress: bool = False,
                 log: Callable[[str], None] = stdout_log) -> None:
        self.dataset = dataset
        self.model_name = model.lower()
        self.seed = int(seed)
        self.spec = TrainingSpec.from_recipe(model, dim, epochs,
                                             budget_minutes, seed,
                                             **(train_config or {}))
        self.retain_sample = int(retain_sample)
        self.relearn_epochs = int(relearn_epochs)
        self.retain_relearn_epochs = int(retain_relearn_epochs)
        self.retain_relearn_max_triples = retain_relearn_max_triples
        self.mrr_floor, self.rise_tolerance = float(mrr_floor), \
            float(rise_tolerance)
        self.strict = bool(strict)
        self.models_dir = models_dir
        self.progress = progress
        self.log = log
        self.requests: List[Request] = []
        self.test_set = to_triples(dataset.test)
        self._evaluators: Dict[int, LinkPredictionEvaluator] = {}
        self.original: Optional[TrainedModel] = None
        self.references: Dict[int, TrainedModel] = {}

    # Requests ##############################################################

    def draw(self, **kwargs) -> List[Request]:
        r"""Draws the request(s) (keyword arguments of
        :func:`~torch_geometric_unlearn.bench.requests.draw_requests`) and
        the retained sample measured."""
        vocab = self.dataset.relation_vocab
        names = vocab.to_list() if vocab is not None else None
        kwargs.setdefault('seed', self.seed)
        self.requests = draw_requests(self.dataset.train,
                                      relation_names=names, **kwargs)
        final = self.requests[-1].retained
        g = torch.Generator().manual_seed(self.seed)
        ids = torch.randperm(final.num_edges, generator=g)
        self.retain_set = to_triples(final)[ids[:self.retain_sample]]
        self._evaluators = {}
        for r in self.requests:
            self.log(f"request {r.step}: {r.info['kind']} -> {r.count} "
                     f"triples")
        return self.requests

    def forget_info(self) -> Dict[str, Any]:
        first = self.requests[0].info
        return dict(kind=first['kind'], value=first['value'],
                    count=sum(r.count for r in self.requests),
                    steps=len(self.requests),
                    requests=[dict(r.info) for r in self.requests])

    def filter_data(self, i: int) -> list:
        r"""The filter after request :obj:`i` (0-based): retained train ∪
        valid ∪ test."""
        return [self.requests[i].retained, self.dataset.valid,
                self.dataset.test]

    def evaluator(self, i: int) -> LinkPredictionEvaluator:
        if i not in self._evaluators:
            self._evaluators[i] = LinkPredictionEvaluator(
                self.dataset.num_entities, self.dataset.num_relations,
                self.filter_data(i))
        return self._evaluators[i]

    # Training ##############################################################

    def _cache_path(self, what: str) -> Optional[str]:
        if not self.models_dir:
            return None
        d = self.dataset
        key = _digest(dict(spec=self.spec.to_dict(), name=d.name,
                           n=d.num_entities, r=d.num_relations,
                           e=int(d.train.num_edges)))
        return os.path.join(self.models_dir,
                            f'{self.model_name}-{key}-{what}.pt')

    def _train(self, graph, what: str, filter_data: list) -> TrainedModel:
        path = self._cache_path(what)
        if path is not None and os.path.isfile(path):
            ckpt = load_checkpoint(path)
            info = dict(ckpt['training'], cached=True)
            self.log(f'{what}: loaded {path}')
            return TrainedModel(ckpt['module'].eval(), info,
                                list(ckpt.get('history', [])))
        d = self.dataset
        peak_reset()
        tm = train_model(self.spec, graph, d.num_entities, d.num_relations,
                         valid=d.valid, filter_data=filter_data,
                         progress=self.progress)
        tm.info.update(cached=False, peak_mb=peak_mb())
        if path is not None:
            kw = dict(num_nodes=d.num_entities,
                      num_relations=d.num_relations,
                      hidden_channels=self.spec.dim, **self.spec.model_kwargs)
            save_checkpoint(path, tm.model, model_kwargs=kw,
                            train_config=self.spec.to_dict()['train'],
                            entity_vocab=d.entity_vocab,
                            relation_vocab=d.relation_vocab,
                            dataset=d.name, history=tm.history,
                            training=tm.info, spec=self.spec.to_dict())
        return tm

    def train_original(self) -> TrainedModel:
        r"""Trains (or loads) the original model on all training triples."""
        if self.original is None:
            d = self.dataset
            self.original = self._train(d.train, 'original',
                                        [d.train, d.valid, d.test])
        return self.original

    def train_reference(self, i: int) -> TrainedModel:
        r"""Trains (or loads) the retrained model after request :obj:`i`
        (0-based): from scratch on what requests :obj:`0..i` retained."""
        if i not in self.references:
            forgotten = torch.cat([r.triples for r in self.requests[:i + 1]])
            tag = f'retrain-{_digest(forgotten)}'
            self.references[i] = self._train(self.requests[i].retained, tag,
                                             self.filter_data(i))
        return self.references[i]

    def check(self, what: str, tm: TrainedModel,
              test_mrr: float) -> Dict[str, Any]:
        return check_training(what, tm.info, test_mrr, self.mrr_floor,
                              self.rise_tolerance, self.strict, self.log)

    # Measurements ##########################################################

    def measure(self, model: torch.nn.Module, i: int) -> Dict[str, Any]:
        r"""Test, forget and retain metrics, MIA AUC, MRR_Avg / MRR_F1 and
        the earlier requests' forget MRR of :obj:`model` after request
        :obj:`i` (0-based)."""
        ev = self.evaluator(i)
        forget = self.requests[i].triples
        out = dict(test=_metrics(ev.evaluate(model, self.test_set)),
                   forget=_metrics(ev.evaluate(model, forget)),
                   retain=_metrics(ev.evaluate(model, self.retain_set)),
                   mia_auc=membership_auc(model, forget, self.test_set))
        out.update(unlearning_scores(out['retain']['mrr'],
                                     out['forget']['mrr']))
        out['earlier_forget_mrr'] = [
            float(ev.evaluate(model, r.triples)['mrr'])
            for r in self.requests[:i]]
        return out

    def attacks(self, model: torch.nn.Module, i: int,
                name: str) -> Dict[str, Any]:
        r"""The relearning attack and retain-set relearning of
        :obj:`model` after request :obj:`i`; what cannot be measured is
        :obj:`None` with its reason under ``"unavailable"``."""
        d = self.dataset
        req = self.requests[i]
        out: Dict[str, Any] = {k: None for k in ATTACK_KEYS}
        why: Dict[str, str] = {}

        def no_finetune(e: Exception) -> str:
            detail = f' ({e})' if str(e) else ''
            return (f'{name}: its {type(model).__name__} cannot be '
                    f'fine-tuned as one KGE model{detail}')

        if self.relearn_epochs < 1:
            why['relearn_forget_mrr'] = 'disabled (relearn_epochs=0)'
        elif req.count < 2:
            why['relearn_forget_mrr'] = 'the forget set has fewer than 2 ' \
                'triples'
        else:
            try:
                a = relearn_attack(model, req.triples, d.num_entities,
                                   d.num_relations, self.filter_data(i),
                                   epochs=self.relearn_epochs,
                                   seed=self.seed)
                out.update(relearn_before_mrr=float(a['before']),
                           relearn_forget_mrr=float(a['after']))
            except NotImplementedError as e:
                why['relearn_forget_mrr'] = no_finetune(e)
        if 'relearn_forget_mrr' in why:
            why['relearn_before_mrr'] = why['relearn_forget_mrr']
        if self.retain_relearn_epochs < 1:
            why['retain_relearn_forget_mrr'] = \
                'disabled (retain_relearn_epochs=0)'
        else:
            try:
                a = retain_relearn(
                    model, req.triples, req.retained, d.num_entities,
                    d.num_relations, self.filter_data(i),
                    epochs=self.retain_relearn_epochs,
                    config=self.spec.config,
                    max_triples=self.retain_relearn_max_triples,
                    seed=self.seed)
                out['retain_relearn_forget_mrr'] = float(a['after'])
            except NotImplementedError as e:
                why['retain_relearn_forget_mrr'] = no_finetune(e)
        out['unavailable'] = why
        return out

    # Entries ###############################################################

    @staticmethod
    def _entry(steps: List[Dict[str, Any]], **extra) -> Dict[str, Any]:
        entry = {k: v for k, v in steps[-1].items()}
        entry.update(extra)
        entry['steps'] = steps
        return entry

    def original_entry(self) -> Dict[str, Any]:
        r"""Trains (or loads) and measures the original model after each
        request; checks it for under-training."""
        tm = self.train_original()
        steps = [self.measure(tm.model, i)
                 for i in range(len(self.requests))]
        test_mrr = steps[-1]['test']['mrr']
        info = tm.info
        self.log(f"original: test MRR {test_mrr:.4f}, forget MRR "
                 f"{steps[-1]['forget']['mrr']:.4f} ({info['epochs_run']} "
                 f"epochs, {info['outcome']}, best valid MRR "
                 f"{fmt(info['best_valid_mrr'])}, {info['seconds']:.1f} s)")
        under = self.check('original', tm, test_mrr)
        return self._entry(steps, seconds=float(info['seconds']),
                           training=info, undertrained=under)

    def reference_entry(self) -> Dict[str, Any]:
        r"""The ``retrain`` method: after each request, a model trained
        from scratch on what is retained (:meth:`train_reference`)."""
        steps = []
        for i in range(len(self.requests)):
            tm = self.train_reference(i)
            peak = float(tm.info['peak_mb'])
            e = self.measure(tm.model, i)
            e.update(self.attacks(tm.model, i, 'retrain'))
            e.update(seconds=float(tm.info['seconds']), peak_mb=peak,
                     training=tm.info,
                     undertrained=self.check(f'retrained (step {i + 1})',
                                             tm, e['test']['mrr']))
            steps.append(e)
            self._log_step('retrain', i, e)
        return self._entry(steps, setup_seconds=0.0)

    def unlearner_entry(self, name: str, method, setup_seconds: float = 0.0,
                        **unlearn_kwargs) -> Dict[str, Any]:
        r"""Runs the request(s) one after another on :obj:`method` (an
        :class:`~torch_geometric_unlearn.unlearner.Unlearner`) and measures
        the model after each. Extra keyword arguments go to every
        :meth:`unlearn` call (e.g. MetaEU's ``ensemble``)."""
        steps = []
        for i, req in enumerate(self.requests):
            peak_reset()
            with Timer() as t:
                res = method.unlearn(**req.unlearn_kwargs, **unlearn_kwargs)
            peak = peak_mb()
            e = self.measure(res.model, i)
            e.update(self.attacks(res.model, i, name))
            e.update(seconds=t.seconds, peak_mb=peak)
            steps.append(e)
            self._log_step(name, i, e)
        return self._entry(steps, setup_seconds=float(setup_seconds))

    def single_triple_seconds(self, method, count: int = 20,
                              seed: Optional[int] = None) -> List[float]:
        r"""Wall times of :obj:`count` single-triple requests (random
        training triples, one after another, after one untimed warm-up)
        served by :obj:`method`, which they modify."""
        train = self.dataset.train
        g = torch.Generator().manual_seed(self.seed + 1 if seed is None
                                          else seed)
        picks = torch.randperm(train.num_edges, generator=g)[:count + 1]
        rows = to_triples(train)[picks]
        seconds = []
        for row in rows:
            with Timer() as t:
                method.unlearn(row.view(1, 3))
            seconds.append(t.seconds)
        return seconds[1:]

    def _log_step(self, name: str, i: int, e: Dict[str, Any]) -> None:
        step = f' step {i + 1}' if len(self.requests) > 1 else ''
        self.log(f"{name}{step}: test MRR {e['test']['mrr']:.4f}, forget "
                 f"MRR {e['forget']['mrr']:.4f}, {e['seconds']:.2f} s")

    def context(self, episodes: int = 150,
                options: Optional[Dict[str, Dict[str, Any]]] = None
                ) -> MethodContext:
        r"""The :class:`MethodContext` of :func:`build_method`."""
        tm = self.train_original()
        return MethodContext(original=tm.model, train=self.dataset.train,
                             valid=self.dataset.valid, spec=self.spec,
                             epochs_run=int(tm.info['epochs_run']),
                             seed=self.seed, episodes=int(episodes),
                             options=dict(options or {}),
                             train_seconds=tm.info.get('seconds'))

    @staticmethod
    def add_gaps(methods: Dict[str, Dict[str, Any]]) -> None:
        r"""Adds ``gap`` (to ``retrain`` after the same request) to every
        entry and step of :obj:`methods`, if ``retrain`` ran."""
        ref = methods.get('retrain')
        if ref is None:
            return
        for entry in methods.values():
            for e, r in zip(entry['steps'], ref['steps']):
                e['gap'] = {k: ranking_gap(e[k], r[k])
                            for k in ('test', 'forget', 'retain')}
            entry['gap'] = entry['steps'][-1]['gap']

    def result(self, original: Dict[str, Any],
               methods: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
        r"""The result dict (see the module docstring)."""
        self.add_gaps(methods)
        return dict(schema=SCHEMA, dataset=self.dataset.name,
                    model=self.model_name, seed=self.seed,
                    dim=self.spec.dim, epochs=int(self.spec.config.epochs),
                    recipe=self.spec.to_dict(),
                    checks=dict(mrr_floor=self.mrr_floor,
                                rise_tolerance=self.rise_tolerance,
                                strict=self.strict),
                    forget=self.forget_info(), original=original,
                    methods=methods)


def run_bench(dataset: KGDataset, model: str = 'distmult',
              methods: Optional[List[str]] = None,
              forget_ratio: Optional[float] = None,
              forget_entities: Optional[int] = None,
              forget_relation: Optional[Union[int, str]] = None,
              dim: Optional[int] = None, epochs: Optional[int] = None,
              seed: int = 0, retrain: bool = True, episodes: int = 150,
              relearn_epochs: int = 3, retain_sample: int = 2000,
              log: Callable[[str], None] = stdout_log, *,
              forget_kind: str = 'random', steps: int = 1,
              budget_minutes: Optional[float] = 30.0,
              mrr_floor: float = 0.05, rise_tolerance: float = 1e-3,
              strict: bool = False, retain_relearn_epochs: int = 2,
              retain_relearn_max_triples: Optional[int] = None,
              train_config: Optional[Dict[str, Any]] = None,
              method_options: Optional[Dict[str, Dict[str, Any]]] = None,
              hub_share: float = 0.5, hub_count: int = 10,
              cluster_seeds: int = 3,
              cluster_hops: int = 2, models_dir: Optional[str] = None,
              progress: bool = False) -> Dict[str, Any]:
    r"""Trains the original model, draws the request(s), runs every method
    on them and measures them (see the module docstring for the result).

    Exactly one of :obj:`forget_ratio` (a share of the training triples,
    drawn by :obj:`forget_kind`), :obj:`forget_entities` (every triple of
    that many random entities) or :obj:`forget_relation` (a relation name
    or id) is given.

    Args:
        dataset (KGDataset): The data (with a validation split for early
            stopping).
        model (str): :obj:`"transe"`, :obj:`"distmult"`, :obj:`"complex"`
            or :obj:`"rotate"`. (default: :obj:`"distmult"`)
        methods (list of str, optional): Subset of :data:`METHODS`
            (default: ``metaeu, finetune, gradient_ascent``; ``retrain``
            is added unless :obj:`retrain` is :obj:`False`).
        dim (int, optional): Embedding size (:obj:`None`: the model's
            recipe, :func:`torch_geometric_unlearn.kge.recipe`).
        epochs (int, optional): Epoch cap of every training run
            (:obj:`None`: the recipe's); early stopping on validation MRR
            stays on.
        seed (int, optional): (default: :obj:`0`)
        retrain (bool, optional): Run the retrained reference.
            (default: :obj:`True`)
        episodes (int, optional): MetaEU meta-training episodes.
            (default: :obj:`200`)
        relearn_epochs (int, optional): Epochs of the relearning attack.
            (default: :obj:`3`)
        retain_sample (int, optional): Retained triples measured.
            (default: :obj:`2000`)
        log (callable, optional): Progress messages. (default: print)
        forget_kind (str, optional): Sampler of a ratio request:
            :obj:`"random"`, :obj:`"hub"` (triples of the highest-degree
            entities) or :obj:`"cluster"` (triples in the :math:`k`-hop
            ball of random seeds). (default: :obj:`"random"`)
        steps (int, optional): Number of sequential ratio requests, each
            of :obj:`forget_ratio` of the training triples, served one
            after another by the same method instance. (default: :obj:`1`)
        budget_minutes (float, optional): Wall-time budget of each training
            run of the original and the retrained model (:obj:`None` or 0:
            none). (default: :obj:`30`)
        mrr_floor (float, optional): Test MRR under which a trained model
            counts as under-trained. (default: :obj:`0.05`)
        rise_tolerance (float, optional): Validation MRR rise at the cap
            that counts as "still rising". (default: :obj:`1e-3`)
        strict (bool, optional): Raise on an under-trained original or
            retrained model instead of warning. (default: :obj:`False`)
        retain_relearn_epochs (int, optional): Epochs of retain-set
            relearning (0: off). (default: :obj:`2`)
        retain_relearn_max_triples (int, optional): Retained triples it
            fine-tunes on (:obj:`None`: all).
        train_config (dict, optional): :class:`TrainConfig` fields
            overriding the recipe.
        method_options (dict, optional): ``{method: {keyword: value}}``
            overriding how a method is built (for ``metaeu``,
            :class:`MetaEUConfig` fields).
        hub_share (float, optional): Largest share of an entity's triples
            a hub request takes. (default: :obj:`0.5`)
        hub_count (int, optional): Number of hubs a hub request spreads
            over at least (each gives at most a :obj:`1 / hub_count` share
            of it). (default: :obj:`10`)
        cluster_seeds (int, optional): Seed entities of a cluster request.
            (default: :obj:`3`)
        cluster_hops (int, optional): Radius of its ball.
            (default: :obj:`2`)
        models_dir (str, optional): Cache of the trained original and
            retrained models. (default: :obj:`None`)
        progress (bool, optional): Training progress bars.
    """
    methods = list(methods or ['metaeu', 'finetune', 'gradient_ascent'])
    if retrain and 'retrain' not in methods:
        methods = ['retrain'] + methods
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f'unknown method(s) {unknown}')
    methods = [m for m in METHODS if m in methods]
    kb = KGBench(dataset, model, dim=dim, epochs=epochs,
                 budget_minutes=budget_minutes, seed=seed,
                 train_config=train_config, retain_sample=retain_sample,
                 relearn_epochs=relearn_epochs,
                 retain_relearn_epochs=retain_relearn_epochs,
                 retain_relearn_max_triples=retain_relearn_max_triples,
                 mrr_floor=mrr_floor, rise_tolerance=rise_tolerance,
                 strict=strict, models_dir=models_dir, progress=progress,
                 log=log)
    kb.draw(forget_ratio=forget_ratio, forget_entities=forget_entities,
            forget_relation=forget_relation, forget_kind=forget_kind,
            steps=steps, hub_share=hub_share, hub_count=hub_count,
            cluster_seeds=cluster_seeds,
            cluster_hops=cluster_hops)
    original = kb.original_entry()
    ctx = kb.context(episodes, method_options)
    entries: Dict[str, Dict[str, Any]] = {}
    for name in methods:
        if name == 'retrain':
            entries[name] = kb.reference_entry()
            continue
        method, setup = build_method(name, ctx)
        entries[name] = kb.unlearner_entry(name, method, setup)
    return kb.result(original, entries)


# Reports ###################################################################


def _marks(result: Dict[str, Any]) -> Dict[str, str]:
    out = {}
    if result['original'].get('undertrained', {}).get('flag'):
        out['original'] = '!'
    ref = result['methods'].get('retrain')
    if ref is not None and any(s['undertrained']['flag']
                               for s in ref['steps']):
        out['retrain'] = '!'
    return out


def _notes(result: Dict[str, Any]) -> List[str]:
    lines = []
    o = result['original']
    t = o['training']
    lines.append(f"original: {t['epochs_run']} epochs ({t['outcome']}), "
                 f"best valid MRR {fmt(t['best_valid_mrr'])}")
    if o['undertrained']['flag']:
        lines.append('! original under-trained: '
                     + '; '.join(o['undertrained']['reasons']))
    ref = result['methods'].get('retrain')
    if ref is not None:
        for i, s in enumerate(ref['steps']):
            t = s['training']
            step = f' (step {i + 1})' if len(ref['steps']) > 1 else ''
            lines.append(f"retrain{step}: {t['epochs_run']} epochs "
                         f"({t['outcome']}), best valid MRR "
                         f"{fmt(t['best_valid_mrr'])}")
            if s['undertrained']['flag']:
                lines.append(f'! retrain{step} under-trained: '
                             + '; '.join(s['undertrained']['reasons']))
    for name, e in result['methods'].items():
        for key, why in e['unavailable'].items():
            if key != 'relearn_before_mrr':
                lines.append(f'{name}: no {key}: {why}')
    return lines


def _title(result: Dict[str, Any]) -> str:
    f = result['forget']
    steps = f", {f['steps']} requests" if f['steps'] > 1 else ''
    return (f"{result['dataset']} / {result['model']} (d={result['dim']})"
            f" / forget {f['kind']} ({f['count']} triples{steps})")


def format_table(result: Dict[str, Any]) -> str:
    r"""A readable table of a :func:`run_bench` result (the measurements
    after the last request; with several requests, one line per request
    and method follows). ``!`` marks an under-trained model."""
    marks = _marks(result)
    lines = [_title(result),
             f"{'method':16s} {'test MRR':>9s} {'forget MRR':>10s} "
             f"{'retain MRR':>10s} {'MRR_Avg':>8s} {'MRR_F1':>7s} "
             f"{'MIA AUC':>8s} {'relearn':>8s} {'ret-rel':>8s} "
             f"{'seconds':>9s} {'peak MB':>8s}"]
    o = result['original']
    lines.append(f"{'original' + marks.get('original', ''):16s} "
                 f"{o['test']['mrr']:9.4f} {o['forget']['mrr']:10.4f} "
                 f"{o['retain']['mrr']:10.4f} {o['mrr_avg']:8.4f} "
                 f"{o['mrr_f1']:7.4f} {o['mia_auc']:8.3f} {'':>8s} "
                 f"{'':>8s} {o['seconds']:9.2f}")
    for name, e in result['methods'].items():
        lines.append(
            f"{name + marks.get(name, ''):16s} {e['test']['mrr']:9.4f} "
            f"{e['forget']['mrr']:10.4f} {e['retain']['mrr']:10.4f} "
            f"{e['mrr_avg']:8.4f} {e['mrr_f1']:7.4f} {e['mia_auc']:8.3f} "
            f"{fmt(e['relearn_forget_mrr']):>8s} "
            f"{fmt(e['retain_relearn_forget_mrr']):>8s} "
            f"{e['seconds']:9.2f} {e['peak_mb']:8.0f}")
    if result['forget']['steps'] > 1:
        lines += ['', f"{'step':>4s} {'method':16s} {'test MRR':>9s} "
                  f"{'forget MRR':>10s}  earlier requests' forget MRR"]
        for name, e in result['methods'].items():
            for i, s in enumerate(e['steps']):
                earlier = ' '.join(f'{m:.4f}'
                                   for m in s['earlier_forget_mrr'])
                lines.append(f"{i + 1:4d} {name:16s} "
                             f"{s['test']['mrr']:9.4f} "
                             f"{s['forget']['mrr']:10.4f}  {earlier}")
    lines += [''] + _notes(result)
    return '\n'.join(lines)


def format_markdown(result: Dict[str, Any],
                    command: Optional[str] = None) -> str:
    r"""A markdown report of a :func:`run_bench` result: the command, the
    table (ratios and gaps to ``retrain``) and the training notes."""
    marks = _marks(result)
    ref = result['methods'].get('retrain')
    lines = [f'# {_title(result)}', '']
    if command:
        lines += ['```bash', command, '```', '']
    header = ['method', 'test MRR', '× retrain', 'forget MRR', 'gap',
              'retain MRR', 'MRR_Avg', 'MRR_F1', 'MIA AUC', 'relearn MRR',
              'retain-relearn MRR', 'seconds', 'setup s', 'peak MB']
    o = result['original']
    rows = [['original' + marks.get('original', ''),
             fmt(o['test']['mrr']), '', fmt(o['forget']['mrr']), '',
             fmt(o['retain']['mrr']), fmt(o['mrr_avg']), fmt(o['mrr_f1']),
             fmt(o['mia_auc'], '.3f'), '', '', fmt(o['seconds'], '.1f'), '',
             '']]
    for name, e in result['methods'].items():
        ratio = e['test']['mrr'] / ref['test']['mrr'] \
            if ref and ref['test']['mrr'] > 0 else None
        gap = e['gap']['forget']['mrr'] if 'gap' in e else None
        rows.append([name + marks.get(name, ''), fmt(e['test']['mrr']),
                     fmt(ratio, '.3f'), fmt(e['forget']['mrr']),
                     fmt(gap, '+.4f'), fmt(e['retain']['mrr']),
                     fmt(e['mrr_avg']), fmt(e['mrr_f1']),
                     fmt(e['mia_auc'], '.3f'),
                     fmt(e['relearn_forget_mrr']),
                     fmt(e['retain_relearn_forget_mrr']),
                     fmt(e['seconds'], '.2f'),
                     fmt(e['setup_seconds'], '.1f'),
                     fmt(e['peak_mb'], '.0f')])
    lines.append(markdown_table(header, rows))
    if result['forget']['steps'] > 1:
        rows = []
        for name, e in result['methods'].items():
            for i, s in enumerate(e['steps']):
                rows.append([i + 1, name, fmt(s['test']['mrr']),
                             fmt(s['forget']['mrr']),
                             ', '.join(f'{m:.4f}'
                                       for m in s['earlier_forget_mrr'])])
        lines += ['', markdown_table(['step', 'method', 'test MRR',
                                      'forget MRR',
                                      "earlier requests' forget MRR"],
                                     rows)]
    lines += [''] + [f'- {n}' for n in _notes(result)]
    return '\n'.join(lines) + '\n'


def plot(result: Dict[str, Any], path: str) -> bool:
    r"""Writes a PNG of test MRR against forget MRR (marker area ~ log
    time) per method; returns :obj:`False` when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, e in result['methods'].items():
        size = 30 + 40 * math.log10(1 + 1000 * e['seconds'])
        ax.scatter(e['forget']['mrr'], e['test']['mrr'], s=size)
        ax.annotate(f"{name} ({e['seconds']:.2g} s)",
                    (e['forget']['mrr'], e['test']['mrr']), fontsize=8)
    o = result['original']
    ax.scatter(o['forget']['mrr'], o['test']['mrr'], marker='x', c='k')
    ax.annotate('original', (o['forget']['mrr'], o['test']['mrr']),
                fontsize=8)
    ax.set_xlabel('forget-set MRR')
    ax.set_ylabel('test MRR')
    ax.set_title(f"{result['dataset']} / {result['model']}: marker area ~ "
                 f"log time")
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
