r"""Training benchmark for PyG's KGE models.

Two parts, each printing our figure and the baseline's from the same run:

``--part epoch`` -- seconds per epoch of PyG's own loop
(``examples/kge_fb15k_237.py``: ``model.loader(batch_size=1000)``,
``model.loss`` with one random negative, the example's optimiser) against
:class:`KGETrainer` at the same batch size, one negative and the same
optimiser, both timed by :class:`torch_geometric_unlearn.bench.Timer`.

``--part recipe`` -- trains a model the way every benchmark does
(:func:`torch_geometric_unlearn.bench.train_model`: its recipe, early
stopping on validation MRR, at most ``--minutes`` minutes) and reports the
filtered test metrics, the epochs run, how training ended and the peak
memory.

Example::

    python benchmarks/bench_train.py --data ../shared/datasets/fb15k-237 \
        --part epoch --models transe,distmult,complex,rotate
    python benchmarks/bench_train.py --data ../shared/datasets/fb15k-237 \
        --part recipe --models transe --minutes 30
"""
import argparse
import os

import torch
from torch_geometric.nn.kge import ComplEx, DistMult, RotatE, TransE

from torch_geometric_unlearn import bench
from torch_geometric_unlearn.datasets import load_dataset
from torch_geometric_unlearn.kge import (LinkPredictionEvaluator,
                                         TrainConfig, save_checkpoint)

# The optimisers of PyG's examples/kge_fb15k_237.py.
PYG_EXAMPLE = {
    'transe': (TransE, dict(margin=1.0), 'adam', dict(lr=0.01)),
    'distmult': (DistMult, {}, 'adam', dict(lr=0.0001, weight_decay=1e-6)),
    'complex': (ComplEx, {}, 'adagrad', dict(lr=0.001, weight_decay=1e-6)),
    'rotate': (RotatE, dict(margin=9.0), 'adam', dict(lr=1e-3)),
}
OPT = {'adam': torch.optim.Adam, 'adagrad': torch.optim.Adagrad}


def pyg_epoch(model, optimizer, train, batch_size) -> float:
    r"""One epoch of PyG's example loop (the baseline), in seconds."""
    loader = model.loader(head_index=train.edge_index[0],
                          rel_type=train.edge_type,
                          tail_index=train.edge_index[1],
                          batch_size=batch_size, shuffle=True)
    model.train()
    with bench.Timer() as t:
        for head_index, rel_type, tail_index in loader:
            optimizer.zero_grad()
            loss = model.loss(head_index, rel_type, tail_index)
            loss.backward()
            optimizer.step()
    return t.seconds


def part_epoch(args, kg):
    rows = []
    for name in args.models:
        cls, kw, opt, opt_kw = PYG_EXAMPLE[name]
        torch.manual_seed(0)
        model = cls(kg.num_entities, kg.num_relations, args.dim, **kw)
        optimizer = OPT[opt](model.parameters(), **opt_kw)
        _, runs = bench.repeat(lambda: pyg_epoch(model, optimizer, kg.train,
                                                 args.batch_size),
                               args.repeats)
        pyg_s = min(runs)
        spec = bench.TrainingSpec(
            model=name, dim=args.dim, model_kwargs=kw,
            config=TrainConfig(epochs=1, batch_size=args.batch_size,
                               num_negatives=1,
                               loss='margin' if name == 'transe' else 'bce',
                               margin=1.0 if name == 'transe' else 0.0,
                               optimizer=opt, lr=opt_kw['lr'],
                               weight_decay=opt_kw.get('weight_decay', 0.0),
                               eval_every=0))
        ours_s = min(
            bench.train_model(spec, kg.train, kg.num_entities,
                              kg.num_relations).history[-1]['seconds']
            for _ in range(args.repeats))
        rows.append((name, pyg_s, ours_s))
        print(f'{name:9s} dim={args.dim} batch={args.batch_size} 1 negative: '
              f'PyG example loop {pyg_s:7.2f} s/epoch | KGETrainer '
              f'{ours_s:7.2f} s/epoch | speed-up {pyg_s / ours_s:5.2f}x',
              flush=True)
    return rows


def part_recipe(args, kg):
    evaluator = LinkPredictionEvaluator(
        kg.num_entities, kg.num_relations,
        filter_triples=[kg.train, kg.valid, kg.test])
    results = {}
    for name in args.models:
        spec = bench.TrainingSpec.from_recipe(name,
                                              budget_minutes=args.minutes)
        bench.peak_reset()
        tm = bench.train_model(spec, kg.train, kg.num_entities,
                               kg.num_relations, kg.valid,
                               [kg.train, kg.valid, kg.test],
                               progress=args.progress)
        test, eval_s = bench.timed(evaluator.evaluate, tm.model, kg.test)
        peak = bench.peak_mb()
        if args.save_dir:
            save_checkpoint(os.path.join(args.save_dir, f'{name}.pt'),
                            tm.model, train_config=spec.to_dict()['train'],
                            entity_vocab=kg.entity_vocab,
                            relation_vocab=kg.relation_vocab,
                            dataset=kg.name, history=tm.history,
                            training=tm.info)
        t = tm.info
        results[name] = dict(test={k: test[k] for k in bench.METRIC_KEYS},
                             training=t, minutes=round(t['seconds'] / 60, 2),
                             eval_seconds=round(eval_s, 2),
                             peak_rss_mb=round(peak), recipe=spec.to_dict(),
                             history=tm.history)
        print(f"{name:9s} test MRR {test['mrr']:.4f} H@1 {test['hits@1']:.4f}"
              f" H@10 {test['hits@10']:.4f} after {t['epochs_run']} epochs "
              f"({t['outcome']}), {t['seconds'] / 60:.1f} min (budget "
              f"{args.minutes} min); eval {eval_s:.1f} s; peak RSS "
              f"{peak:.0f} MB", flush=True)
    if args.out:
        bench.write_json(results, args.out)
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', required=True,
                   help='KG directory or synthetic spec')
    p.add_argument('--part', choices=['epoch', 'recipe'], default='epoch')
    p.add_argument('--models', default='transe,distmult,complex,rotate')
    p.add_argument('--dim', type=int, default=50)
    p.add_argument('--batch-size', type=int, default=1000)
    p.add_argument('--repeats', type=int, default=1)
    p.add_argument('--minutes', type=float, default=30.0)
    p.add_argument('--threads', type=int, default=0)
    p.add_argument('--progress', action='store_true')
    p.add_argument('--out', help='write the recipe results as JSON')
    p.add_argument('--save-dir', help='write each trained checkpoint here')
    args = p.parse_args()
    args.models = [m.strip().lower() for m in args.models.split(',')]
    if args.threads:
        torch.set_num_threads(args.threads)
    kg = load_dataset(args.data)
    print(f'{kg} | torch threads {torch.get_num_threads()}', flush=True)
    if args.part == 'epoch':
        part_epoch(args, kg)
    else:
        part_recipe(args, kg)


if __name__ == '__main__':
    main()
