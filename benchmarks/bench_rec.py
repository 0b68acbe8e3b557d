r"""The recommendation unlearning comparison (``rec-bench``) on a data set,
written as a markdown table with the exact command.

A thin wrapper of the harness (:func:`torch_geometric_unlearn.bench.run`
with ``task="rec"``). Under ``torchrun`` the shards of EEMU and SISA train
on separate ranks (:mod:`torch_geometric_unlearn.distributed`) and only
rank 0 writes and prints.

Example (Gowalla, LightGCN protocol: train on train ∪ valid; the figures of
``docs/results/gowalla-lightgcn-eemu.md``)::

    OMP_NUM_THREADS=1 python benchmarks/bench_rec.py \
        --data ../shared/datasets/gowalla --merge-valid --model lightgcn \
        --methods retrain,eemu,sisa --epochs 4 --batch-size 8192 --lr 4e-2 \
        --users-per-step 256 --shards 4 --delete-users 1 --threads 1 \
        --md docs/results/gowalla-lightgcn-eemu.md \
        --out docs/results/gowalla-lightgcn-eemu.json

    torchrun --nproc_per_node 2 benchmarks/bench_rec.py ...   # 2 ranks
"""
import argparse
import os

import torch

from torch_geometric_unlearn import bench
from torch_geometric_unlearn.cli import load_rec_dataset
from torch_geometric_unlearn.distributed import (distributed_session,
                                                 get_world_size,
                                                 is_main_process)


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
    with distributed_session(num_threads=args.threads or None):
        if args.threads:
            torch.set_num_threads(args.threads)
        result = bench.run(
            'rec', load_rec_dataset(args.data),
            methods=bench.parse_rec_methods(args.methods),
            model=args.model, dim=args.dim, num_layers=args.layers,
            epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
            num_shards=args.shards, delete_users=args.delete_users,
            seed=args.seed, users_per_step=args.users_per_step,
            merge_valid=args.merge_valid)
        if not is_main_process():
            return
        result['threads'] = torch.get_num_threads()
        command = bench.command_line()
        world = get_world_size()
        if world > 1:  # what was typed: torchrun, not python
            per_node = int(os.environ.get('LOCAL_WORLD_SIZE', world))
            nodes = '' if per_node == world else \
                f'--nnodes {world // per_node} '
            command = command.replace(
                'python', f'torchrun {nodes}--nproc_per_node {per_node}', 1)
        text = bench.format_rec_markdown(result, command)
        bench.write_text(text, args.md)
        if args.out:
            bench.write_json(result, args.out)
        print(text)


if __name__ == '__main__':
    main()
