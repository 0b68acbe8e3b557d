r"""The full unlearning comparison on a data set, written as a markdown table.

Runs :func:`torch_geometric_unlearn.bench.run_bench` (the ``bench``
command) and writes ``--md`` (a markdown table with the exact command) and
``--out`` (the JSON).

Example::

    python benchmarks/bench_compare.py --data ../shared/datasets/codex-s \
        --model transe --dim 200 --epochs 60 --episodes 300 \
        --md docs/results/codex-s-transe.md --out runs/codex-s-transe.json
"""
import argparse
import json
import os
import sys

import torch

from torch_geometric_unlearn.bench import parse_methods, run_bench
from torch_geometric_unlearn.cli import load_dataset


def markdown(result, command: str) -> str:
    o = result['original']
    ref = result['methods'].get('retrain')
    lines = [f"# {result['dataset']} / {result['model']}: forget "
             f"{result['forget']['kind']} ({result['forget']['count']} "
             f"triples)", '', '```bash', command, '```', '',
             '| method | test MRR | × retrain | forget MRR | gap | retain '
             'MRR | MIA AUC | relearn MRR | seconds | setup s | peak MB |',
             '|---|---|---|---|---|---|---|---|---|---|---|',
             f"| original | {o['test']['mrr']:.4f} | | "
             f"{o['forget']['mrr']:.4f} | | {o['retain']['mrr']:.4f} | "
             f"{o['mia_auc']:.3f} | | {o['seconds']:.1f} | | |"]
    for name, e in result['methods'].items():
        ratio = e['test']['mrr'] / ref['test']['mrr'] if ref else float('nan')
        gap = e['gap']['forget']['mrr'] if 'gap' in e else float('nan')
        lines.append(
            f"| {name} | {e['test']['mrr']:.4f} | {ratio:.3f} | "
            f"{e['forget']['mrr']:.4f} | {gap:+.4f} | "
            f"{e['retain']['mrr']:.4f} | {e['mia_auc']:.3f} | "
            f"{e['relearn_forget_mrr']:.4f} | {e['seconds']:.2f} | "
            f"{e['setup_seconds']:.1f} | {e['peak_mb']:.0f} |")
    return '\n'.join(lines) + '\n'


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', required=True)
    p.add_argument('--model', default='transe')
    p.add_argument('--methods', default='all')
    p.add_argument('--forget-ratio', type=float, default=0.01)
    p.add_argument('--dim', type=int, default=200)
    p.add_argument('--epochs', type=int, default=60)
    p.add_argument('--episodes', type=int, default=300)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=0)
    p.add_argument('--md', required=True)
    p.add_argument('--out')
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    result = run_bench(load_dataset(args.data), args.model,
                       parse_methods(args.methods),
                       forget_ratio=args.forget_ratio, dim=args.dim,
                       epochs=args.epochs, seed=args.seed,
                       episodes=args.episodes)
    os.makedirs(os.path.dirname(os.path.abspath(args.md)), exist_ok=True)
    with open(args.md, 'w') as f:
        f.write(markdown(result, 'python ' + ' '.join(sys.argv)))
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
    print(open(args.md).read())


if __name__ == '__main__':
    main()
