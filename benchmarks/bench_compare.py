r"""The full unlearning comparison on a data set, written as a markdown
table with its command.

A thin wrapper of the harness (:func:`torch_geometric_unlearn.bench.run`,
the ``bench`` command): writes ``--md`` (the markdown report) and ``--out``
(the JSON). The original and the retrained model follow the model's recipe
with early stopping and the ``--budget-minutes`` budget unless ``--dim`` /
``--epochs`` override it.

Example::

    python benchmarks/bench_compare.py --data ../shared/datasets/codex-s \
        --model transe --episodes 300 \
        --md docs/results/codex-s-transe.md --out runs/codex-s-transe.json
"""
import argparse

import torch

from torch_geometric_unlearn import bench
from torch_geometric_unlearn.datasets import load_dataset


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', required=True)
    p.add_argument('--model', default='transe')
    p.add_argument('--methods', default='all')
    group = p.add_mutually_exclusive_group()
    group.add_argument('--forget-ratio', type=float)
    group.add_argument('--forget-entities', type=int)
    group.add_argument('--forget-relation')
    p.add_argument('--forget-kind', default='random',
                   choices=bench.RATIO_KINDS)
    p.add_argument('--steps', type=int, default=1)
    p.add_argument('--dim', type=int, help='(default: the recipe)')
    p.add_argument('--epochs', type=int, help='(default: the recipe)')
    p.add_argument('--budget-minutes', type=float, default=30.0)
    p.add_argument('--episodes', type=int, default=300)
    p.add_argument('--mrr-floor', type=float, default=0.05)
    p.add_argument('--strict', action='store_true')
    p.add_argument('--models-dir', help='cache of the trained models')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=0)
    p.add_argument('--md', required=True)
    p.add_argument('--out')
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.forget_entities is None and args.forget_relation is None and \
            args.forget_ratio is None:
        args.forget_ratio = 0.01
    result = bench.run(
        'kg', load_dataset(args.data), model=args.model,
        methods=bench.parse_methods(args.methods),
        forget_ratio=args.forget_ratio,
        forget_entities=args.forget_entities,
        forget_relation=args.forget_relation, forget_kind=args.forget_kind,
        steps=args.steps, dim=args.dim, epochs=args.epochs,
        budget_minutes=args.budget_minutes, episodes=args.episodes,
        mrr_floor=args.mrr_floor, strict=args.strict,
        models_dir=args.models_dir, seed=args.seed)
    text = bench.format_markdown(result, bench.command_line())
    bench.write_text(text, args.md)
    if args.out:
        bench.write_json(result, args.out)
    print(text)


if __name__ == '__main__':
    main()
