r"""One recommendation method, one configuration: training time (per shard
for the sharded methods) and full-ranking quality, as one JSON line.

The probe behind the design of EEMU's defaults on Gowalla
(``docs/results/gowalla-lightgcn-eemu-probes.md``): cheaper than the full
comparison (``benchmarks/bench_rec.py``: no deletions, no exactness
check), so many configurations can be tried one after another. The
configuration is an :class:`~torch_geometric_unlearn.rec.EEMUConfig` given
as JSON on top of ``--base``.

Example::

    OMP_NUM_THREADS=1 python benchmarks/bench_rec_config.py \
        --data ../shared/datasets/gowalla --merge-valid --method eemu \
        --config '{"users_per_step": 256, "lr": 4e-2}' \
        --out runs/probes.jsonl
"""
import argparse
import json
import time

import torch

from torch_geometric_unlearn.cli import load_rec_dataset
from torch_geometric_unlearn.rec import EEMUConfig, ranking_metrics
from torch_geometric_unlearn.rec.eemu import REC_METHODS
from torch_geometric_unlearn.utils import atomic_write_text

BASE = dict(model='lightgcn', epochs=4, batch_size=8192, lr=5e-3)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', default='synthetic')
    p.add_argument('--method', default='eemu', choices=list(REC_METHODS))
    p.add_argument('--base', default=json.dumps(BASE),
                   help='EEMUConfig fields as JSON (default: %(default)s)')
    p.add_argument('--config', default='{}',
                   help='EEMUConfig fields as JSON, over --base')
    p.add_argument('--merge-valid', action='store_true')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--save', help='write the trained method here')
    p.add_argument('--out', help='append the JSON line to this file')
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    try:
        fields = {**json.loads(args.base), **json.loads(args.config)}
    except json.JSONDecodeError as e:
        p.error(f'--base / --config must be JSON objects ({e})')
    cfg = EEMUConfig(**fields)
    data = load_rec_dataset(args.data)
    train = data.edge_index('train')
    exclude = [train, data.edge_index('valid')]
    if args.merge_valid:
        train = torch.cat(exclude, 1)
    method = REC_METHODS[args.method](data.num_users, data.num_items, cfg)
    start = time.perf_counter()
    method.fit(train)
    fit = time.perf_counter() - start
    if args.save:
        method.save(args.save)
    start = time.perf_counter()
    r = ranking_metrics(method.score_fn(), data.num_items,
                        data.edge_index('test'), exclude, ks=(20, 10))
    line = json.dumps(dict(
        data=data.name, method=args.method, config=fields,
        fit_seconds=round(fit, 1),
        shard_seconds=[round(s, 1) for s in
                       getattr(method, 'shard_seconds', [])],
        recall20=round(r['recall@20'], 4), ndcg20=round(r['ndcg@20'], 4),
        eval_seconds=round(time.perf_counter() - start, 1),
        threads=torch.get_num_threads()))
    if args.out:
        old = ''
        try:
            with open(args.out) as f:
                old = f.read()
        except FileNotFoundError:
            pass
        atomic_write_text(args.out, old + line + '\n')
    print(line)


if __name__ == '__main__':
    main()
