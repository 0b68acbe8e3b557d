r"""The recommendation unlearning comparison (``rec-bench``) on a data set,
written as a markdown table with the exact command.

Example (Gowalla, LightGCN protocol: train on train ∪ valid)::

    python benchmarks/bench_rec.py --data ../shared/datasets/gowalla \
        --merge-valid --model mf --epochs 10 --shards 4 --delete-users 3 \
        --md docs/results/gowalla-mf.md --out runs/gowalla-mf.json
"""
import argparse
import json
import os
import sys

import torch

from torch_geometric_unlearn.cli import load_rec_dataset
from torch_geometric_unlearn.rec.bench import (parse_rec_methods,
                                               run_rec_bench)


def markdown(result, command: str) -> str:
    ref = result['methods'].get('retrain')
    lines = [f"# {result['dataset']} / {result['model']} / "
             f"{result['num_shards']} shards", '', '```bash', command, '```',
             '', f"Deleted users: {result['requests']['users']} "
             f"({result['requests']['interactions']} interactions), one "
             f"request each. Config: `{json.dumps(result['config'])}`", '',
             '| method | Recall@20 | × retrain | NDCG@20 | HR@10 | NDCG@10 | '
             'Recall@20 after | fit s | s / request | speed-up | exact |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    for name, e in result['methods'].items():
        b = e['before']
        ratio = b['recall@20'] / ref['before']['recall@20'] if ref else \
            float('nan')
        chk = e['exact_check']
        exact = ('checked: equal' if chk['equal'] else 'checked: DIFFERENT') \
            if chk else ('by definition' if e['exact'] else 'no')
        sp = f"{e['speedup']:.1f}×" if e['speedup'] else '–'
        lines.append(
            f"| {name} | {b['recall@20']:.4f} | {ratio:.3f} | "
            f"{b['ndcg@20']:.4f} | {b['hr@10']:.4f} | {b['ndcg@10']:.4f} | "
            f"{e['after']['recall@20']:.4f} | {e['fit_seconds']:.1f} | "
            f"{e['request_mean']:.2f} | {sp} | {exact} |")
    return '\n'.join(lines) + '\n'


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
    result = run_rec_bench(
        load_rec_dataset(args.data), parse_rec_methods(args.methods),
        model=args.model, dim=args.dim, num_layers=args.layers,
        epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        num_shards=args.shards, delete_users=args.delete_users,
        seed=args.seed, users_per_step=args.users_per_step,
        merge_valid=args.merge_valid,
        log=lambda msg: print(msg, flush=True))
    result['threads'] = torch.get_num_threads()
    os.makedirs(os.path.dirname(os.path.abspath(args.md)), exist_ok=True)
    with open(args.md, 'w') as f:
        f.write(markdown(result, 'python ' + ' '.join(sys.argv)))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    print(open(args.md).read())


if __name__ == '__main__':
    main()
