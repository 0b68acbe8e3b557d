r"""Request latency against graph size.

A MetaEU request should cost what it touches: the request's triples, the
affected entities' neighbourhoods (capped per entity), their rows -- not
the graph. :func:`run_scale` checks it on seeded synthetic KGs of the same
density at growing sizes (15k to 2.5M entities, the size of
``ogbl-wikikg2``). Each graph gets a briefly trained TransE (latency does not
depend on quality) and a MetaEU meta-trained for a fixed number of
episodes, and prepared (:meth:`~torch_geometric_unlearn.MetaEU.prepare`:
the graph's indexes, the digests and the score reference, timed apart);
then the same request kinds are timed at every size, stage by
stage (``transform``, ``subgraph``, ``generate``, ``calibrate``, ...,
from the request's record), the median over :obj:`repeats` requests.

Requests run with :obj:`inplace=True` on a private copy of the model, so no
per-request copy of the embedding table is paid; what that copy would cost
(:obj:`copy_seconds`, the ``copy.deepcopy`` of the model) is reported
beside it.
"""
from __future__ import annotations

import copy
import statistics
import time
from typing import Any, Callable, Dict, List, Optional, Sequence

import torch

from .memory import peak_mb
from .report import stdout_log

__all__ = ['REQUEST_KINDS', 'run_scale', 'format_scale', 'plot_scale']

#: The timed request kinds: one random triple, 100 random triples, every
#: triple of one entity of median degree.
REQUEST_KINDS = ('triple', 'triples_100', 'entity')


def _median_entity(degree: torch.Tensor, taken: set,
                   g: torch.Generator) -> int:
    med = float(degree[degree > 0].float().median())
    cand = ((degree.float() - med).abs() <= max(1.0, 0.1 * med)).nonzero(
    ).view(-1)
    cand = cand[torch.randperm(cand.numel(), generator=g)]
    for e in cand.tolist():
        if e not in taken:
            taken.add(e)
            return e
    raise RuntimeError('no entity of median degree left')


def run_scale(sizes: Sequence[int] = (15_000, 150_000, 1_500_000,
                                      2_500_000),
              density: float = 6.44, num_relations: int = 64, dim: int = 50,
              train_triples: int = 200_000, episodes: int = 20,
              repeats: int = 5, seed: int = 0,
              log: Callable[[str], None] = stdout_log) -> Dict[str, Any]:
    r"""Times MetaEU requests on synthetic KGs of growing size.

    Args:
        sizes (sequence of int): Numbers of entities.
        density (float): Training triples per entity (``ogbl-wikikg2``:
            16.1M / 2.5M = 6.44).
        num_relations (int): Relations of every graph.
        dim (int): TransE embedding size.
        train_triples (int): Triples of the brief training (one epoch over
            a seeded sample of this many).
        episodes (int): MetaEU meta-training episodes (fixed, so its cost
            does not depend on the graph).
        repeats (int): Requests of each kind; the median is reported.
        seed (int): Seed of the graphs, the training and the requests.
        log (callable): Progress messages.

    Returns:
        A JSON-able dict: ``{"sizes": [...], "entries": [{"entities",
        "triples", "requests": {kind: {"seconds", "stages", "all"}},
        "first_request_seconds", "copy_seconds", ...}]}``.
    """
    from ..datasets import make_synthetic_kg
    from ..kge import KGETrainer, TrainConfig, load_kge_model, recipe
    from ..metaeu import MetaEU, MetaEUConfig
    from torch_geometric.data import Data

    entries: List[Dict[str, Any]] = []
    for n in sizes:
        n = int(n)
        entry: Dict[str, Any] = dict(entities=n)
        t0 = time.perf_counter()
        kg = make_synthetic_kg(num_entities=n, num_relations=num_relations,
                               num_triples=int(round(density * n)),
                               seed=seed)
        entry.update(triples=int(kg.train.num_edges),
                     generate_seconds=time.perf_counter() - t0)
        log(f'[{n:,} entities] {kg.train.num_edges:,} training triples '
            f'({entry["generate_seconds"]:.1f} s)')

        torch.manual_seed(seed)
        model = load_kge_model('transe', kg.num_entities, kg.num_relations,
                               dim, p_norm=2.0)
        g = torch.Generator().manual_seed(seed)
        E = kg.train.num_edges
        sample = torch.randperm(E, generator=g)[:min(train_triples, E)]
        brief = Data(edge_index=kg.train.edge_index[:, sample],
                     edge_type=kg.train.edge_type[sample], num_nodes=n,
                     num_relations=kg.num_relations)
        cfg = dict(recipe('transe')['train'], epochs=1, eval_every=0,
                   seed=seed)
        t0 = time.perf_counter()
        KGETrainer(model, TrainConfig.from_dict(cfg), progress=False).fit(
            brief)
        entry['train_seconds'] = time.perf_counter() - t0

        config = MetaEUConfig.for_model('transe', episodes=episodes,
                                        eval_every=0, seed=seed)
        meu = MetaEU(model, kg, config=config, progress=False)
        t0 = time.perf_counter()
        meu.fit()
        entry['metatrain_seconds'] = time.perf_counter() - t0
        with torch.no_grad():
            t0 = time.perf_counter()
            copy.deepcopy(meu.model)
            entry['copy_seconds'] = time.perf_counter() - t0
        # A private copy: requests write into it in place.
        meu.model = copy.deepcopy(meu.model)

        perm = torch.randperm(E, generator=g)
        degree = torch.bincount(kg.train.edge_index.reshape(-1),
                                minlength=n)
        taken: set = set()
        t0 = time.perf_counter()
        meu.prepare()
        entry['prepare_seconds'] = time.perf_counter() - t0
        t0 = time.perf_counter()
        meu.unlearn(edge_ids=perm[:1], inplace=True)
        entry['first_request_seconds'] = time.perf_counter() - t0
        used = 1
        requests: Dict[str, Any] = {}
        for kind in REQUEST_KINDS:
            runs = []
            for _ in range(repeats):
                # The request is drawn before the clock starts.
                if kind == 'entity':
                    request = dict(entities=[_median_entity(degree, taken,
                                                            g)])
                else:
                    k = 1 if kind == 'triple' else 100
                    ids = perm[used:used + k]
                    used += k
                    # Skip ids of triples an entity request already took.
                    request = dict(edge_ids=ids[meu.graph.alive[ids]])
                t0 = time.perf_counter()
                res = meu.unlearn(inplace=True, **request)
                wall = time.perf_counter() - t0
                runs.append(dict(seconds=wall, stages=dict(
                    res.record.timings), forgotten=res.record.num_forget,
                    affected=res.record.num_affected))
            stages = {s: statistics.median(r['stages'].get(s, 0.0)
                                           for r in runs)
                      for s in runs[0]['stages']}
            requests[kind] = dict(
                seconds=statistics.median(r['seconds'] for r in runs),
                stages=stages, all=[r['seconds'] for r in runs],
                forgotten=statistics.median(r['forgotten'] for r in runs),
                affected=statistics.median(r['affected'] for r in runs))
            log(f'[{n:,} entities] {kind}: '
                f'{1000 * requests[kind]["seconds"]:.1f} ms median '
                f'(' + ', '.join(f'{s} {1000 * v:.1f}' for s, v in
                                 stages.items() if s != 'total') + ')')
        entry['requests'] = requests
        entry['peak_mb'] = peak_mb()
        entries.append(entry)
        del meu, model, kg
    return dict(schema='torch_geometric_unlearn.scale/1',
                sizes=[int(s) for s in sizes], density=density,
                num_relations=num_relations, dim=dim,
                train_triples=train_triples, episodes=episodes,
                repeats=repeats, seed=seed, entries=entries)


def format_scale(result: Dict[str, Any]) -> str:
    r"""A markdown table of :func:`run_scale`'s result: median latency per
    kind and size, and the ratio of the largest size to the smallest."""
    entries = result['entries']
    head = ['entities', 'triples'] + [f'{k} (ms)' for k in REQUEST_KINDS] + \
        ['copy (ms)']
    lines = ['| ' + ' | '.join(head) + ' |',
             '|' + '---|' * len(head)]
    for e in entries:
        cells = [f'{e["entities"]:,}', f'{e["triples"]:,}'] + [
            f'{1000 * e["requests"][k]["seconds"]:.1f}'
            for k in REQUEST_KINDS] + [f'{1000 * e["copy_seconds"]:.0f}']
        lines.append('| ' + ' | '.join(cells) + ' |')
    if len(entries) > 1:
        a, b = entries[0], entries[-1]
        cells = [f'ratio {b["entities"]:,} / {a["entities"]:,}', ''] + [
            f'{b["requests"][k]["seconds"] / a["requests"][k]["seconds"]:.2f}'
            for k in REQUEST_KINDS] + ['']
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def plot_scale(result: Dict[str, Any], path: str,
               kinds: Optional[Sequence[str]] = None) -> None:
    r"""Plots median latency against the number of entities (log--log),
    one line per request kind, into the PNG :obj:`path` (atomically)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from ..utils import atomic_open
    kinds = kinds or REQUEST_KINDS
    entries = result['entries']
    fig, ax = plt.subplots(figsize=(5.5, 4))
    xs = [e['entities'] for e in entries]
    for k in kinds:
        ax.plot(xs, [1000 * e['requests'][k]['seconds'] for e in entries],
                marker='o', label=k)
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xlabel('entities')
    ax.set_ylabel('median request latency (ms)')
    ax.set_title('MetaEU request latency against graph size')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend()
    fig.tight_layout()
    with atomic_open(path, 'wb') as f:
        fig.savefig(f, format='png', dpi=120)
    plt.close(fig)
