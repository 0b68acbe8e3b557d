r"""Latency of MetaEU requests, the closed-form calibration engine against
autograd in the same run.

Times single-triple requests (median and 95th percentile over ``--count``
requests, one after another, after one untimed warm-up) and ``--bulk``
requests of ``--bulk-size`` random training triples, with per-stage
timings (:attr:`UnlearningRecord.timings`), once with the default engine
(``calibrate_engine="auto"``: closed-form gradients, Adam by hand) and once
with ``calibrate_engine="autograd"`` (the reference it is tested against),
each on its own fresh :class:`~torch_geometric_unlearn.MetaEU` serving the
same requests. The generator is left untrained (``--episodes 0``) unless
asked: triple requests in ``"correct"`` mode rarely reach it, and its
training does not change a request's cost.

Example::

    python benchmarks/bench_latency.py --data ../shared/datasets/codex-s \
        --checkpoint runs/codex-s/transe-original.pt --model transe

Without ``--checkpoint`` a model is trained for a few epochs on the data
(``--data synthetic`` by default).
"""
import argparse
import copy
import json
import os
import statistics
import time

import torch

from torch_geometric_unlearn import MetaEU, MetaEUConfig
from torch_geometric_unlearn.datasets import load_dataset
from torch_geometric_unlearn.kge import KGETrainer, TrainConfig, load_kge_model
from torch_geometric_unlearn.kge.trainer import (load_checkpoint,
                                                 model_from_checkpoint)
from torch_geometric_unlearn.utils import atomic_write_text


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', default='synthetic')
    p.add_argument('--checkpoint', help='a trained model (train command '
                   'or bench --models-dir); default: train one here')
    p.add_argument('--model', default='transe')
    p.add_argument('--epochs', type=int, default=5,
                   help='training epochs without --checkpoint')
    p.add_argument('--count', type=int, default=30,
                   help='single-triple requests timed')
    p.add_argument('--bulk', type=int, default=3,
                   help='bulk requests timed')
    p.add_argument('--bulk-size', type=float, default=0.01,
                   help='triples per bulk request (a share of the training '
                   'triples if < 1)')
    p.add_argument('--episodes', type=int, default=0)
    p.add_argument('--engines', default='auto,autograd')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', help='write the figures here (JSON)')
    return p.parse_args(argv)


def load_model(args, kg):
    if args.checkpoint:
        return model_from_checkpoint(load_checkpoint(args.checkpoint))
    kwargs = dict(p_norm=2.0) if args.model == 'transe' else {}
    model = load_kge_model(args.model, kg.num_entities, kg.num_relations,
                           32, **kwargs)
    KGETrainer(model, TrainConfig(epochs=args.epochs, eval_every=0,
                                  seed=args.seed),
               progress=False).fit(kg.train)
    return model


def time_engine(engine, model, kg, args, singles, bulks):
    cfg = MetaEUConfig.for_model(args.model, episodes=args.episodes,
                                 seed=args.seed, calibrate_engine=engine)
    meu = MetaEU(copy.deepcopy(model), kg.train, config=cfg, progress=False,
                 reference=kg.valid)
    if args.episodes:
        meu.fit()
    meu.prepare()
    meu.unlearn(edge_ids=singles[:1])  # warm-up, untimed
    walls, stages = [], []
    for i in singles[1:].tolist():
        t = time.perf_counter()
        res = meu.unlearn(edge_ids=[i])
        walls.append(time.perf_counter() - t)
        stages.append(res.record.timings)
    bulk = []
    for ids in bulks:
        t = time.perf_counter()
        res = meu.unlearn(edge_ids=ids)
        bulk.append(dict(seconds=time.perf_counter() - t,
                         triples=int(ids.numel()),
                         affected=int(res.record.affected.numel()),
                         timings=res.record.timings))
    walls_ms = sorted(1000 * w for w in walls)
    p95 = walls_ms[max(0, int(round(0.95 * len(walls_ms))) - 1)]
    return dict(
        engine=engine,
        single_median_ms=statistics.median(walls_ms),
        single_p95_ms=p95,
        single_stage_median_ms={
            k: 1000 * statistics.median(s[k] for s in stages)
            for k in stages[0]},
        bulk=bulk,
        bulk_median_s=statistics.median(b['seconds'] for b in bulk)
        if bulk else None)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    kg = load_dataset(args.data)
    model = load_model(args, kg).eval()
    E = int(kg.train.num_edges)
    g = torch.Generator().manual_seed(args.seed)
    perm = torch.randperm(E, generator=g)
    size = int(round(args.bulk_size * E)) if args.bulk_size < 1 \
        else int(args.bulk_size)
    singles = perm[:args.count + 1]
    rest = perm[args.count + 1:]
    bulks = [rest[i * size:(i + 1) * size] for i in range(args.bulk)]
    print(f'{kg.name}: {kg.num_entities} entities, {E} training triples, '
          f'{args.model}; {args.count} single-triple requests, '
          f'{args.bulk} requests of {size} triples, '
          f'{args.threads} thread(s)')
    rows = [time_engine(e, model, kg, args, singles, bulks)
            for e in args.engines.split(',')]
    for r in rows:
        stage = ', '.join(f'{k} {v:.1f}' for k, v in
                          r['single_stage_median_ms'].items())
        bulk = f"{r['bulk_median_s']:.3f} s" if r['bulk'] else '-'
        print(f"{r['engine']:>9s}: one triple median "
              f"{r['single_median_ms']:.1f} ms, p95 "
              f"{r['single_p95_ms']:.1f} ms ({stage} ms); "
              f"{size} triples median {bulk}")
    if len(rows) > 1:
        a, b = rows[0], rows[1]
        print(f"{b['engine']} / {a['engine']}: one triple "
              f"{b['single_median_ms'] / a['single_median_ms']:.1f}x"
              + (f", {size} triples "
                 f"{b['bulk_median_s'] / a['bulk_median_s']:.1f}x"
                 if a['bulk'] else ''))
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)),
                    exist_ok=True)
        atomic_write_text(args.out, json.dumps(dict(
            data=kg.name, model=args.model, entities=kg.num_entities,
            triples=E, bulk_size=size, threads=args.threads,
            checkpoint=args.checkpoint, rows=rows), indent=2))
    return rows


if __name__ == '__main__':
    main()
