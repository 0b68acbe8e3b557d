r"""The unlearning comparison behind ``python -m torch_geometric_unlearn
bench``: one request, every method, the same measurements.

The result is a JSON-able dict (schema version :data:`SCHEMA`)::

    {"schema": "torch_geometric_unlearn.bench/1",
     "dataset": str, "model": str, "seed": int, "dim": int, "epochs": int,
     "forget": {"kind": "ratio" | "entities" | "relation", "count": int,
                "value": ...},
     "original": {"test": M, "forget": M, "retain": M, "seconds": float,
                  "mia_auc": float},
     "methods": {NAME: {"test": M, "forget": M, "retain": M,
                        "gap": {"test": G, "forget": G, "retain": G},
                        "mia_auc": float, "relearn_forget_mrr": float,
                        "relearn_before_mrr": float, "seconds": float,
                        "setup_seconds": float, "peak_mb": float}}}

with ``M = {"mrr", "mr", "hits@1", "hits@3", "hits@10"}`` (filtered,
both directions, realistic rank; filter = retained train ∪ valid ∪ test)
and ``G`` the difference to the ``retrain`` method on the same keys (absent
when retraining was skipped). ``setup_seconds`` is one-off work before the
request (meta-training for ``metaeu``, training the shards for ``sisa``).
"""
from __future__ import annotations

import copy
import os
import resource
import time
from typing import Any, Callable, Dict, List, Optional

import torch

from .baselines import (GNNDelete, SISA, SSD, Distill, FineTune,
                        GradientAscent, Retrain)
from .datasets import KGDataset, to_triples
from .kge import (KGETrainer, LinkPredictionEvaluator, TrainConfig,
                  load_kge_model, recipe)
from .metaeu import MetaEU
from .metrics import membership_auc, ranking_gap, relearn_attack
from .transforms import ForgetEntity, ForgetRelation, sample_forget_set

SCHEMA = 'torch_geometric_unlearn.bench/1'
METRIC_KEYS = ('mrr', 'mr', 'hits@1', 'hits@3', 'hits@10')

#: The methods, in the order they run.
METHODS = ('retrain', 'metaeu', 'finetune', 'gradient_ascent', 'distill',
           'gnndelete', 'ssd', 'sisa')


def _peak_reset() -> None:
    try:  # Linux: reset the peak resident set size (VmHWM)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        pass


def _peak_mb() -> float:
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _metrics(d: Dict[str, float]) -> Dict[str, float]:
    return {k: float(d[k]) for k in METRIC_KEYS}


def parse_methods(spec: str) -> List[str]:
    r"""``"all"`` or a comma-separated subset of :data:`METHODS`."""
    if spec.strip() == 'all':
        return list(METHODS)
    names = [s.strip().replace('-', '_') for s in spec.split(',')
             if s.strip()]
    unknown = [n for n in names if n not in METHODS]
    if unknown or not names:
        raise ValueError(f"unknown method(s) {unknown or spec!r}; choose "
                         f"from {', '.join(METHODS)} or 'all'")
    return [m for m in METHODS if m in names]


def run_bench(dataset: KGDataset, model: str = 'distmult',
              methods: Optional[List[str]] = None,
              forget_ratio: Optional[float] = None,
              forget_entities: Optional[int] = None,
              forget_relation: Optional[str] = None, dim: int = 32,
              epochs: int = 10, seed: int = 0, retrain: bool = True,
              episodes: int = 200, relearn_epochs: int = 3,
              retain_sample: int = 2000,
              log: Callable[[str], None] = print) -> Dict[str, Any]:
    r"""Trains the original model, draws the request, runs every method on
    it and measures them (see the module docstring for the result).

    Exactly one of :obj:`forget_ratio` (random share of the training
    triples), :obj:`forget_entities` (every triple of that many random
    entities) or :obj:`forget_relation` (a relation name or id) is given.
    """
    given = [x is not None for x in (forget_ratio, forget_entities,
                                     forget_relation)]
    if sum(given) != 1:
        raise ValueError('give exactly one of forget_ratio, forget_entities '
                         'or forget_relation')
    methods = list(methods or ['metaeu', 'finetune', 'gradient_ascent'])
    if retrain and 'retrain' not in methods:
        methods = ['retrain'] + methods
    methods = [m for m in METHODS if m in methods]
    train = dataset.train
    rec = recipe(model)
    cfg_kw = dict(rec['train'])
    cfg_kw.update(epochs=int(epochs), eval_every=0, seed=seed,
                  max_minutes=0)
    config = TrainConfig.from_dict(cfg_kw)

    # The request.
    g = torch.Generator().manual_seed(seed)
    if forget_ratio is not None:
        edge_ids = sample_forget_set(train, ratio=forget_ratio, seed=seed)
        request = dict(edge_ids=edge_ids)
        forget_info = dict(kind='ratio', value=float(forget_ratio))
    elif forget_entities is not None:
        k = int(forget_entities)
        deg = torch.bincount(train.edge_index.reshape(-1),
                             minlength=dataset.num_entities)
        pool = (deg > 0).nonzero().view(-1)
        if k < 1 or k > pool.numel():
            raise ValueError(f'forget_entities must lie in [1, '
                             f'{pool.numel()}]')
        ents = pool[torch.randperm(pool.numel(), generator=g)[:k]]
        request = dict(entities=ents.sort().values)
        forget_info = dict(kind='entities', value=request['entities'].tolist())
    else:
        rel = forget_relation
        if isinstance(rel, str) and not rel.isdigit():
            names = dataset.relation_vocab.to_list() \
                if dataset.relation_vocab is not None else []
            if rel not in names:
                raise ValueError(f"unknown relation '{rel}'")
            rel = names.index(rel)
        request = dict(relations=[int(rel)])
        forget_info = dict(kind='relation', value=int(rel))
    if 'edge_ids' in request:
        out_ids = request['edge_ids']
    elif 'entities' in request:
        out_ids = ForgetEntity(request['entities'])(train).forget_edge_id
    else:
        out_ids = ForgetRelation(request['relations'])(train).forget_edge_id
    forget = to_triples(train)[out_ids]
    keep = torch.ones(train.num_edges, dtype=torch.bool)
    keep[out_ids] = False
    retained = train.edge_subgraph(keep.nonzero().view(-1))
    forget_info['count'] = int(forget.size(0))
    log(f'request: {forget_info["kind"]} -> {forget.size(0)} triples')

    ev = LinkPredictionEvaluator(dataset.num_entities, dataset.num_relations,
                                 [retained, dataset.valid, dataset.test])
    retain_ids = torch.randperm(retained.num_edges, generator=g)
    retain_set = to_triples(retained)[retain_ids[:retain_sample]]
    test_set = to_triples(dataset.test)

    def measure(m) -> Dict[str, Any]:
        return dict(test=_metrics(ev.evaluate(m, test_set)),
                    forget=_metrics(ev.evaluate(m, forget)),
                    retain=_metrics(ev.evaluate(m, retain_set)),
                    mia_auc=membership_auc(m, forget, test_set))

    # The original model.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        original = load_kge_model(model, dataset.num_entities,
                                  dataset.num_relations, dim,
                                  **rec['model_kwargs'])
    t0 = time.perf_counter()
    KGETrainer(original, copy.deepcopy(config), progress=False).fit(train)
    original.eval()
    result: Dict[str, Any] = dict(
        schema=SCHEMA, dataset=dataset.name, model=model, seed=int(seed),
        dim=int(dim), epochs=int(epochs), forget=forget_info)
    result['original'] = dict(measure(original),
                              seconds=time.perf_counter() - t0)
    log(f"original: test MRR {result['original']['test']['mrr']:.4f}, "
        f"forget MRR {result['original']['forget']['mrr']:.4f}")

    def make(name):
        kw = dict(seed=seed)
        if name == 'retrain':
            return Retrain(original, train, config=config, seed=seed), 0.0
        if name == 'metaeu':
            meu = MetaEU(original, train, progress=False, seed=seed,
                         episodes=episodes,
                         loss='softmax' if model in ('distmult', 'complex')
                         else 'self_adversarial')
            t = time.perf_counter()
            meu.fit()
            return meu, time.perf_counter() - t
        if name == 'finetune':
            return FineTune(original, train, epochs=1, config=config), 0.0
        if name == 'gradient_ascent':
            return GradientAscent(original, train, config=config, **kw), 0.0
        if name == 'distill':
            return Distill(original, train, **kw), 0.0
        if name == 'gnndelete':
            return GNNDelete(original, train, **kw), 0.0
        if name == 'ssd':
            return SSD(original, train, config=config, **kw), 0.0
        sisa = SISA(original, train, num_shards=4, config=config, seed=seed)
        t = time.perf_counter()
        sisa.fit()
        return sisa, time.perf_counter() - t

    result['methods'] = {}
    for name in methods:
        method, setup = make(name)
        _peak_reset()
        t = time.perf_counter()
        res = method.unlearn(**request)
        seconds = time.perf_counter() - t
        peak = _peak_mb()
        entry = measure(res.model)
        attack = dict(before=float('nan'), after=float('nan'))
        if forget.size(0) >= 2:
            try:
                attack = relearn_attack(
                    res.model, forget, dataset.num_entities,
                    dataset.num_relations,
                    [retained, dataset.valid, dataset.test],
                    epochs=relearn_epochs, seed=seed)
            except NotImplementedError:
                # The KGE trainer cannot fine-tune it (SISA's ensemble):
                # no relearning figure (NaN).
                pass
        entry.update(relearn_before_mrr=attack['before'],
                     relearn_forget_mrr=attack['after'], seconds=seconds,
                     setup_seconds=setup, peak_mb=peak)
        result['methods'][name] = entry
        log(f"{name}: test MRR {entry['test']['mrr']:.4f}, forget MRR "
            f"{entry['forget']['mrr']:.4f}, {seconds:.2f} s")
    ref = result['methods'].get('retrain')
    if ref is not None:
        for entry in result['methods'].values():
            entry['gap'] = {k: ranking_gap(entry[k], ref[k])
                            for k in ('test', 'forget', 'retain')}
    return result


def format_table(result: Dict[str, Any]) -> str:
    r"""A readable table of a :func:`run_bench` result."""
    lines = [f"{result['dataset']} / {result['model']} / forget "
             f"{result['forget']['kind']} ({result['forget']['count']} "
             f"triples)",
             f"{'method':16s} {'test MRR':>9s} {'forget MRR':>10s} "
             f"{'retain MRR':>10s} {'MIA AUC':>8s} {'relearn':>8s} "
             f"{'seconds':>9s} {'peak MB':>8s}"]
    o = result['original']
    lines.append(f"{'original':16s} {o['test']['mrr']:9.4f} "
                 f"{o['forget']['mrr']:10.4f} {o['retain']['mrr']:10.4f} "
                 f"{o['mia_auc']:8.3f} {'':>8s} {o['seconds']:9.2f}")
    for name, e in result['methods'].items():
        lines.append(f"{name:16s} {e['test']['mrr']:9.4f} "
                     f"{e['forget']['mrr']:10.4f} {e['retain']['mrr']:10.4f} "
                     f"{e['mia_auc']:8.3f} {e['relearn_forget_mrr']:8.4f} "
                     f"{e['seconds']:9.2f} {e['peak_mb']:8.0f}")
    return '\n'.join(lines)


def plot(result: Dict[str, Any], path: str) -> bool:
    r"""Writes a PNG of test MRR against forget MRR (marker area ~ log
    time) per method; returns :obj:`False` when matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    import math
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
