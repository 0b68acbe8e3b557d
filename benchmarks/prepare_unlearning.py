r"""Trains, once, the models an unlearning benchmark compares against.

For one data set, one KGE model and one deletion request it trains, with
the harness's one definition (:mod:`torch_geometric_unlearn.bench.training`:
the model's recipe, early stopping on validation MRR, a ``--minutes``
budget per model), the original model and the model retrained from scratch
on the retained triples, and keeps both in ``--save-dir``, where
``bench_metaeu.py`` (or ``bench_compare.py --models-dir``) finds them.
Existing files are reused.

Requests (:func:`torch_geometric_unlearn.bench.requests.parse_request`):
``random:0.01`` (a FedLU-style random 1% of the training triples, no entity
or relation lost), ``hub:0.01``, ``cluster:0.01``, ``entity:10`` (every
triple of 10 random entities with 5 to 100 triples).

Example::

    python benchmarks/prepare_unlearning.py \
        --data ../shared/datasets/fb15k-237 --model transe \
        --request random:0.01 --save-dir runs/fb15k-237 --minutes 25
"""
import argparse

import torch

from torch_geometric_unlearn import bench
from torch_geometric_unlearn.datasets import load_dataset


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', required=True)
    p.add_argument('--model', required=True)
    p.add_argument('--request', default='random:0.01')
    p.add_argument('--which', default='original,retrained',
                   help='which models to train')
    p.add_argument('--save-dir', required=True)
    p.add_argument('--dim', type=int, help='(default: the recipe)')
    p.add_argument('--epochs', type=int, help='(default: the recipe)')
    p.add_argument('--minutes', type=float, default=25.0,
                   help='training budget of each model')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    kb = bench.KGBench(load_dataset(args.data), args.model, dim=args.dim,
                       epochs=args.epochs, budget_minutes=args.minutes,
                       seed=args.seed, models_dir=args.save_dir)
    kb.draw(**bench.parse_request(args.request))
    which = args.which.split(',')
    models = []
    if 'original' in which:
        models.append(('original', kb.train_original()))
    if 'retrained' in which:
        models += [(f'retrained (step {i + 1})', kb.train_reference(i))
                   for i in range(len(kb.requests))]
    for what, tm in models:
        t = tm.info
        print(f"{what}: {t['epochs_run']} epochs ({t['outcome']}) in "
              f"{t['seconds']:.1f} s, best valid MRR "
              f"{bench.report.fmt(t['best_valid_mrr'])}"
              + (' (cached)' if t['cached'] else ''), flush=True)


if __name__ == '__main__':
    main()
