r"""The recommendation unlearning comparison (``rec-bench``) on a data set,
written as a markdown table with the exact command.

A thin wrapper of the harness (:func:`torch_geometric_unlearn.bench.run`
with ``task="rec"``).

Example (Gowalla, LightGCN protocol: train on train ∪ valid)::

    python benchmarks/bench_rec.py --data ../shared/datasets/gowalla \
        --merge-valid --model mf --epochs 10 --shards 4 --delete-users 3 \
        --md docs/results/gowalla-mf.md --out runs/gowalla-mf.json
"""
import argparse

import torch

from torch_geometric_unlearn import bench
from torch_geometric_unlearn.cli import load_rec_dataset


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', default='synthetic')
    p.add_argument('--model', default='mf', choices=['mf', 'lightgcn'])
    p.add_argument('--methods', default='all')
    p.add_argument('--dim', type=int, default=64)
    p.add_argument('--layers', type=int, default=3)
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--batch-size', type=int, default=2048)
    p.add_argument('--lr', type=float, default=5e-3)
    p.add_argument('--shards', type=int, default=4)
    p.add_argument('--users-per-step', type=int, default=64)
    p.add_argument('--delete-users', type=int, default=3)
    p.add_argument('--merge-valid', action='store_true')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=0)
    p.add_argument('--md', required=True)
    p.add_argument('--out')
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = bench.run(
        'rec', load_rec_dataset(args.data),
        methods=bench.parse_rec_methods(args.methods), model=args.model,
        dim=args.dim, num_layers=args.layers, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, num_shards=args.shards,
        delete_users=args.delete_users, seed=args.seed,
        users_per_step=args.users_per_step, merge_valid=args.merge_valid)
    result['threads'] = torch.get_num_threads()
    text = bench.format_rec_markdown(result, bench.command_line())
    bench.write_text(text, args.md)
    if args.out:
        bench.write_json(result, args.out)
    print(text)


if __name__ == '__main__':
    main()
