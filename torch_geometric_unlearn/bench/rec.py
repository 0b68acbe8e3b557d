r"""The recommendation unlearning comparison behind ``python -m
torch_geometric_unlearn rec-bench``, and the training curve of an unsharded
recommender (:func:`train_curve`, ``benchmarks/bench_lightgcn.py``).

Every method is trained on the same interactions, evaluated, asked to
forget the same users one request at a time, and evaluated again. The
result is a JSON-able dict (schema version :data:`REC_SCHEMA`)::

    {"schema": "torch_geometric_unlearn.rec_bench/1",
     "dataset": str, "model": str, "seed": int, "dim": int, "epochs": int,
     "num_shards": int, "device": str, "merge_valid": bool,
     "world_size": int, "config": {...EEMUConfig...},
     "requests": {"users": [int], "interactions": int},
     "methods": {NAME: {"before": M, "after": M, "fit_seconds": float,
                        "request_seconds": [float], "request_mean": float,
                        "speedup": float | null, "shards_retrained": [[int]],
                        "exact": bool,
                        "exact_check": {"checked": bool, "equal": bool,
                                        "seconds": float} | null,
                        "shard_hashes": {"before": [str],
                                         "after": [str]} | null,
                        "peak_mb": float}}}

with ``M = {"recall@20", "ndcg@20", "hr@10", "ndcg@10"}`` (full ranking of
the test interactions, excluding the user's current training and
validation items) and ``speedup`` the mean request time of ``retrain``
divided by the method's (null without retrain).

The exactness check of a sharded method trains every retrained shard again,
from scratch, on its retained interactions (what a fresh model trained on
the retained data would hold there) and compares parameters bit for bit;
the untouched shards are compared with their state before the requests.
``shard_hashes`` are the SHA-256 of every shard's parameters after
training and after the requests (equal across runs that trained the same
shards).

Under ``torchrun`` (``world_size`` > 1, see
:mod:`torch_geometric_unlearn.distributed`) the sharded methods train
their shards on separate ranks (shard :math:`s` on rank :math:`s \bmod
W`), each rank retrains the touched shards it owns and checks them, and
rank 0 evaluates; the unsharded methods run on rank 0 alone, after the
sharded ones. Every rank must call :func:`run_rec_bench` with the same
arguments; it returns the result on rank 0 and :obj:`None` elsewhere.
"""
from __future__ import annotations

import copy
import json
import time
from typing import Any, Callable, Dict, List, Optional

import torch

from ..distributed import (all_gather, get_world_size, is_distributed,
                           is_main_process, owned_shards)
from ..rec.eemu import REC_METHODS, EEMUConfig, ShardedRecUnlearner
from ..utils.fingerprint import model_hash
from ..rec.evaluate import ranking_metrics
from .memory import peak_mb, peak_reset
from .report import markdown_table, stdout_log
from .timing import Timer

__all__ = ['REC_SCHEMA', 'REC_METRICS', 'run_rec_bench',
           'parse_rec_methods', 'format_rec_table', 'format_rec_markdown',
           'plot_rec', 'train_curve']

REC_SCHEMA = 'torch_geometric_unlearn.rec_bench/1'
REC_METRICS = ('recall@20', 'ndcg@20', 'hr@10', 'ndcg@10')


def parse_rec_methods(spec: str) -> List[str]:
    r"""``"all"`` or a comma-separated subset of ``retrain, eemu, sisa,
    finetune``."""
    if spec.strip() == 'all':
        return list(REC_METHODS)
    names = [s.strip() for s in spec.split(',') if s.strip()]
    unknown = [n for n in names if n not in REC_METHODS]
    if unknown or not names:
        raise ValueError(f"unknown method(s) {unknown or spec!r}; choose "
                         f"from {', '.join(REC_METHODS)} or 'all'")
    return [m for m in REC_METHODS if m in names]


def _evaluate(method, dataset, batch_size: int = 1024) -> Dict[str, float]:
    exclude = [method.edge_index, dataset.edge_index('valid')]
    r = ranking_metrics(method.score_fn(), dataset.num_items,
                        dataset.edge_index('test'), exclude,
                        ks=(20, 10), batch_size=batch_size)
    return {k: float(r[k]) for k in REC_METRICS}


def _exact_check(method: ShardedRecUnlearner,
                 before: Dict[str, torch.Tensor],
                 touched: List[int]) -> Dict[str, Any]:
    start = time.perf_counter()
    equal = True
    after = method.state_dict()
    for key, value in after.items():
        s = int(key.split('.', 1)[0])
        if s not in touched:
            equal &= torch.equal(value, before[key])
    for s in owned_shards(touched):  # every shard on one rank: its owner
        fresh = method.build_shard(s, method.shard_edges(s)).state_dict()
        for key, value in method.shards[s].state_dict().items():
            equal &= torch.equal(value, fresh[key])
    equal = all(all_gather(bool(equal)))
    return dict(checked=True, equal=bool(equal),
                seconds=time.perf_counter() - start)


def _shard_hashes(method: ShardedRecUnlearner) -> List[str]:
    return [model_hash(m) for m in method.shards]


def run_rec_bench(dataset, methods: Optional[List[str]] = None,
                  model: str = 'mf', dim: int = 64, num_layers: int = 3,
                  epochs: int = 20, batch_size: int = 2048, lr: float = 1e-3,
                  num_shards: int = 4, delete_users: int = 1, seed: int = 0,
                  exact_check: bool = True, finetune_epochs: int = 1,
                  progress: bool = False, device: str = 'cpu',
                  users_per_step: int = 64, merge_valid: bool = False,
                  log: Callable[[str], None] = stdout_log) -> Dict[str, Any]:
    r"""Runs the comparison (see the module docstring for the result).

    Args:
        dataset (RecDataset): The interactions.
        methods (list of str): Subset of ``retrain, eemu, sisa, finetune``
            (default: all).
        delete_users (int): Number of random users (with training
            interactions) whose every interaction is deleted, one request
            each. (default: :obj:`1`)
        exact_check (bool): Run the exactness check of the sharded methods.
        merge_valid (bool): Train on train ∪ valid (the LightGCN paper's
            protocol for Gowalla, whose standard training set is split in
            two in our copy). (default: :obj:`False`)
    """
    methods = list(methods or REC_METHODS)
    if merge_valid:
        from ..rec.data import RecDataset, make_interactions
        both = torch.cat([dataset.edge_index('train'),
                          dataset.edge_index('valid')], 1)
        empty = torch.zeros(2, 0, dtype=torch.long)
        n_u, n_i = dataset.num_users, dataset.num_items
        dataset = RecDataset(make_interactions(both, n_u, n_i),
                             make_interactions(empty, n_u, n_i),
                             dataset.test, n_u, n_i, name=dataset.name)
    if delete_users < 1:
        raise ValueError('delete_users must be >= 1')
    train = dataset.edge_index('train')
    active = torch.unique(train[0])
    if delete_users > active.numel():
        raise ValueError(f'cannot delete {delete_users} users: only '
                         f'{active.numel()} have training interactions')
    gen = torch.Generator().manual_seed(seed)
    users = active[torch.randperm(active.numel(), generator=gen)
                   [:delete_users]].sort().values.tolist()
    n_inter = int(torch.isin(train[0], torch.tensor(users)).sum())
    cfg = EEMUConfig(model=model, dim=dim, num_layers=num_layers,
                     epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                     num_shards=num_shards, device=device,
                     users_per_step=users_per_step)
    result: Dict[str, Any] = dict(
        schema=REC_SCHEMA, dataset=dataset.name, model=model, seed=seed,
        dim=dim, epochs=epochs, num_shards=num_shards, device=device,
        merge_valid=bool(merge_valid), world_size=get_world_size(),
        config=cfg.to_dict(),
        requests=dict(users=users, interactions=n_inter), methods={})
    main = is_main_process()
    if not main:
        log = _silent
    order = methods
    if is_distributed():  # the collective work first, rank 0's after
        order = sorted(methods, key=lambda n: not issubclass(
            REC_METHODS[n], ShardedRecUnlearner))
    for name in order:
        cls = REC_METHODS[name]
        sharded = issubclass(cls, ShardedRecUnlearner)
        if not main and not sharded:
            continue
        kw = dict(finetune_epochs=finetune_epochs) if name == 'finetune' \
            else {}
        c = cfg if issubclass(cls, ShardedRecUnlearner) else copy.copy(cfg)
        m = cls(dataset.num_users, dataset.num_items, c, progress=progress,
                **kw)
        log(f'{name}: training ({cfg.model}, {epochs} epochs)')
        peak_reset()
        m.fit(train)
        before = None
        if main:
            before = _evaluate(m, dataset)
            log(f"{name}: trained in {m.fit_seconds:.1f} s, recall@20 "
                f"{before['recall@20']:.4f}")
        state = ({k: v.clone() for k, v in m.state_dict().items()}
                 if sharded and exact_check else None)
        hashes = dict(before=_shard_hashes(m)) if sharded else None
        seconds, shards = [], []
        for u in users:
            rec = m.unlearn(u)
            seconds.append(rec['seconds'])
            shards.append(rec['shards'] if 'shards' in rec else [])
        peak = peak_mb()
        if hashes is not None:
            hashes['after'] = _shard_hashes(m)
        check = None
        if state is not None:
            touched = sorted({s for ss in shards for s in ss})
            check = _exact_check(m, state, touched)
        if not main:
            continue
        after = _evaluate(m, dataset)
        mean = sum(seconds) / len(seconds)
        log(f"{name}: {len(users)} request(s), {mean:.2f} s each, "
            f"recall@20 after {after['recall@20']:.4f}"
            + (f", exact check {'passed' if check['equal'] else 'FAILED'}"
               if check else ''))
        result['methods'][name] = dict(
            before=before, after=after, fit_seconds=m.fit_seconds,
            request_seconds=seconds, request_mean=mean, speedup=None,
            shards_retrained=shards, exact=bool(m.exact),
            exact_check=check, shard_hashes=hashes, peak_mb=peak)
    if not main:
        return None
    result['methods'] = {n: result['methods'][n] for n in methods}
    ref = result['methods'].get('retrain')
    if ref is not None:
        for e in result['methods'].values():
            e['speedup'] = ref['request_mean'] / max(e['request_mean'],
                                                     1e-9)
    return result


def _silent(message: str) -> None:
    r"""The log of the ranks other than 0."""


def format_rec_table(result: Dict[str, Any]) -> str:
    r"""A fixed-width text table of a :func:`run_rec_bench` result."""
    lines = [f"{result['dataset']} / {result['model']} / "
             f"{result['num_shards']} shards: "
             f"{len(result['requests']['users'])} user deletion(s), "
             f"{result['requests']['interactions']} interactions",
             f"{'method':10s} {'R@20':>7s} {'N@20':>7s} {'R@20 after':>10s} "
             f"{'fit s':>8s} {'request s':>9s} {'speed-up':>8s} "
             f"{'exact':>6s}"]
    for name, e in result['methods'].items():
        sp = f"{e['speedup']:.1f}x" if e['speedup'] else '-'
        chk = e['exact_check']
        ex = ('yes' if chk['equal'] else 'NO') if chk else \
            ('by def' if e['exact'] else 'no')
        lines.append(f"{name:10s} {e['before']['recall@20']:7.4f} "
                     f"{e['before']['ndcg@20']:7.4f} "
                     f"{e['after']['recall@20']:10.4f} "
                     f"{e['fit_seconds']:8.1f} {e['request_mean']:9.2f} "
                     f"{sp:>8s} {ex:>6s}")
    return '\n'.join(lines)


def format_rec_markdown(result: Dict[str, Any],
                        command: Optional[str] = None) -> str:
    r"""A markdown report of a :func:`run_rec_bench` result: the command,
    the deleted users, the config and the table."""
    ref = result['methods'].get('retrain')
    lines = [f"# {result['dataset']} / {result['model']} / "
             f"{result['num_shards']} shards", '']
    if command:
        lines += ['```bash', command, '```', '']
    lines += [f"Deleted users: {result['requests']['users']} "
              f"({result['requests']['interactions']} interactions), one "
              f"request each. Config: `{json.dumps(result['config'])}`", '']
    rows = []
    for name, e in result['methods'].items():
        b = e['before']
        ratio = b['recall@20'] / ref['before']['recall@20'] if ref else \
            float('nan')
        chk = e['exact_check']
        exact = ('checked: equal' if chk['equal'] else 'checked: DIFFERENT') \
            if chk else ('by definition' if e['exact'] else 'no')
        sp = f"{e['speedup']:.1f}×" if e['speedup'] else '–'
        rows.append([name, f"{b['recall@20']:.4f}", f'{ratio:.3f}',
                     f"{b['ndcg@20']:.4f}", f"{b['hr@10']:.4f}",
                     f"{b['ndcg@10']:.4f}", f"{e['after']['recall@20']:.4f}",
                     f"{e['fit_seconds']:.1f}", f"{e['request_mean']:.2f}",
                     sp, exact])
    lines.append(markdown_table(
        ['method', 'Recall@20', '× retrain', 'NDCG@20', 'HR@10', 'NDCG@10',
         'Recall@20 after', 'fit s', 's / request', 'speed-up', 'exact'],
        rows))
    return '\n'.join(lines) + '\n'


def train_curve(model: torch.nn.Module, train, test, num_items: int,
                config, eval_every: int = 1, max_minutes: float = 0.0,
                log: Callable[[str], None] = stdout_log
                ) -> List[Dict[str, Any]]:
    r"""Trains an unsharded recommender with BPR
    (:func:`~torch_geometric_unlearn.rec.train_bpr`) and measures
    Recall@20 / NDCG@20 on :obj:`test` (full ranking, the training items
    excluded) every :obj:`eval_every` epochs, at the last epoch and once
    the training time passes :obj:`max_minutes` (0: no limit), where it
    stops.

    Args:
        model (torch.nn.Module): The recommender (trained in place).
        train (Tensor): Training interactions ``[2, E]``.
        test (Tensor): Test interactions ``[2, T]``.
        num_items (int): Number of items.
        config (RecTrainConfig): The training config.
        eval_every (int, optional): (default: :obj:`1`)
        max_minutes (float, optional): (default: :obj:`0`)
        log (callable, optional): Progress messages. (default: print)

    Returns:
        The curve: one ``{"epoch", "train_seconds", "recall@20",
        "ndcg@20"}`` per evaluation (the training time excludes the
        evaluations).
    """
    from ..rec.train import train_bpr
    curve: List[Dict[str, Any]] = []
    state = dict(seconds=0.0, timer=Timer().__enter__())

    def callback(epoch, m):
        state['timer'].__exit__()
        state['seconds'] += state['timer'].seconds
        stop = bool(max_minutes) and state['seconds'] > 60 * max_minutes
        if epoch % eval_every == 0 or stop or epoch == config.epochs:
            with torch.no_grad():
                users, items = m(train)
            r = ranking_metrics(lambda u: users[u] @ items.t(), num_items,
                                test, [train])
            curve.append(dict(epoch=epoch, train_seconds=state['seconds'],
                              **{k: float(r[k])
                                 for k in ('recall@20', 'ndcg@20')}))
            log(f"epoch {epoch:4d}  {state['seconds']:8.1f} s  recall@20 "
                f"{r['recall@20']:.4f}  ndcg@20 {r['ndcg@20']:.4f}")
        state['timer'] = Timer().__enter__()
        return stop

    train_bpr(model, train, config, callback=callback)
    return curve


def plot_rec(result: Dict[str, Any], path: str) -> bool:
    r"""Recall@20 after the requests against the time per request (log)
    per method, as a PNG. Returns :obj:`False` without matplotlib."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return False
    fig, ax = plt.subplots(figsize=(5, 4))
    for name, e in result['methods'].items():
        ax.scatter(max(e['request_mean'], 1e-4), e['after']['recall@20'],
                   s=60)
        ax.annotate(name, (max(e['request_mean'], 1e-4),
                           e['after']['recall@20']),
                    textcoords='offset points', xytext=(5, 5))
    ax.set_xscale('log')
    ax.set_xlabel('seconds per deletion request')
    ax.set_ylabel('Recall@20 (after)')
    ax.set_title(f"{result['dataset']} / {result['model']} / "
                 f"S={result['num_shards']}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return True
