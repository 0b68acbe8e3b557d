r"""Training benchmark for PyG's KGE models.

Two parts, each printing our figure and the baseline's from the same run:

``--part epoch`` -- seconds per epoch of PyG's own loop
(``examples/kge_fb15k_237.py``: ``model.loader(batch_size=1000)``,
``model.loss`` with one random negative, the example's optimiser) against
:class:`KGETrainer` at the same batch size, one negative and the same
optimiser.

``--part recipe`` -- trains a model with its default recipe
(:data:`torch_geometric_unlearn.kge.RECIPES`) for at most ``--minutes``
minutes and reports the filtered test metrics, the epochs run and the peak
memory.

Example::

    python benchmarks/bench_train.py --data ../shared/datasets/fb15k-237 \
        --part epoch --models transe,distmult,complex,rotate
    python benchmarks/bench_train.py --data ../shared/datasets/fb15k-237 \
        --part recipe --models transe --minutes 30
"""
import argparse
import json
import resource
import time

import torch
from torch_geometric.nn.kge import ComplEx, DistMult, RotatE, TransE

from torch_geometric_unlearn.cli import load_dataset
from torch_geometric_unlearn.kge import (KGETrainer, LinkPredictionEvaluator,
                                         TrainConfig, load_kge_model, recipe)

# The optimisers of PyG's examples/kge_fb15k_237.py.
PYG_EXAMPLE = {
    'transe': (TransE, dict(margin=1.0), 'adam', dict(lr=0.01)),
    'distmult': (DistMult, {}, 'adam', dict(lr=0.0001, weight_decay=1e-6)),
    'complex': (ComplEx, {}, 'adagrad', dict(lr=0.001, weight_decay=1e-6)),
    'rotate': (RotatE, dict(margin=9.0), 'adam', dict(lr=1e-3)),
}
OPT = {'adam': torch.optim.Adam, 'adagrad': torch.optim.Adagrad}


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pyg_epoch(model, optimizer, train, batch_size):
    loader = model.loader(head_index=train.edge_index[0],
                          rel_type=train.edge_type,
                          tail_index=train.edge_index[1],
                          batch_size=batch_size, shuffle=True)
    model.train()
    t0 = time.perf_counter()
    for head_index, rel_type, tail_index in loader:
        optimizer.zero_grad()
        loss = model.loss(head_index, rel_type, tail_index)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - t0


def part_epoch(args, kg):
    rows = []
    for name in args.models:
        cls, kw, opt, opt_kw = PYG_EXAMPLE[name]
        torch.manual_seed(0)
        model = cls(kg.num_entities, kg.num_relations, args.dim, **kw)
        optimizer = OPT[opt](model.parameters(), **opt_kw)
        pyg_s = min(pyg_epoch(model, optimizer, kg.train, args.batch_size)
                    for _ in range(args.repeats))

        loss = 'margin' if name == 'transe' else 'bce'
        margin = 1.0 if name == 'transe' else 0.0
        cfg = TrainConfig(epochs=1, batch_size=args.batch_size,
                          num_negatives=1, loss=loss, margin=margin,
                          optimizer=opt, lr=opt_kw['lr'],
                          weight_decay=opt_kw.get('weight_decay', 0.0),
                          eval_every=0)
        ours = []
        for rep in range(args.repeats):
            torch.manual_seed(0)
            model = cls(kg.num_entities, kg.num_relations, args.dim, **kw)
            trainer = KGETrainer(model, cfg, progress=False)
            trainer.fit(kg.train)
            ours.append(trainer.history[-1]['seconds'])
        ours_s = min(ours)
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
        rec = recipe(name)
        train_kw = dict(rec['train'], max_minutes=args.minutes)
        cfg = TrainConfig.from_dict(train_kw)
        torch.manual_seed(cfg.seed)
        model = load_kge_model(name, kg.num_entities, kg.num_relations,
                               rec['hidden_channels'], **rec['model_kwargs'])
        trainer = KGETrainer(model, cfg, progress=args.progress)
        t0 = time.perf_counter()
        trainer.fit(kg.train, kg.valid, [kg.train, kg.valid, kg.test])
        minutes = (time.perf_counter() - t0) / 60
        t1 = time.perf_counter()
        test = evaluator.evaluate(model, kg.test)
        eval_s = time.perf_counter() - t1
        if args.save_dir:
            import os
            os.makedirs(args.save_dir, exist_ok=True)
            trainer.save(os.path.join(args.save_dir, f'{name}.pt'),
                         entity_vocab=kg.entity_vocab,
                         relation_vocab=kg.relation_vocab,
                         dataset=kg.name)
        results[name] = dict(test={k: test[k] for k in ('mrr', 'mr',
                                                        'hits@1', 'hits@3',
                                                        'hits@10')},
                             epochs=trainer.epoch, minutes=round(minutes, 2),
                             eval_seconds=round(eval_s, 2),
                             best_valid_mrr=trainer.best_mrr,
                             peak_rss_mb=round(peak_mb()),
                             dim=rec['hidden_channels'],
                             recipe=train_kw, history=trainer.history)
        print(f"{name:9s} test MRR {test['mrr']:.4f} H@1 {test['hits@1']:.4f}"
              f" H@10 {test['hits@10']:.4f} after {trainer.epoch} epochs, "
              f"{minutes:.1f} min (budget {args.minutes} min); eval "
              f"{eval_s:.1f} s; peak RSS {peak_mb():.0f} MB", flush=True)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
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
