r"""Wall time of MetaEU meta-training in 1 and in W processes
(:mod:`torch.distributed`, ``gloo``), for the same number of episodes.

One process meta-trains for ``--episodes`` episodes; then ``--nprocs``
processes on this machine (started with :func:`torch.multiprocessing.
spawn`, as ``torchrun`` would) meta-train data-parallel for
``--episodes / W`` steps, each step one episode per rank with the
gradients averaged (so both runs see the same number of episodes). Both
wall times of :meth:`MetaEU.fit` are printed (the process start-up is
reported apart), with the validation MRR each run ends with.

The KGE model is trained here for ``--epochs`` epochs (the timing does not
need a converged model) unless ``--checkpoint`` names one.

Example::

    OMP_NUM_THREADS=1 python benchmarks/bench_distributed.py \
        --data ../shared/datasets/fb15k-237 --model transe --episodes 200
"""
import argparse
import json
import os
import os.path as osp
import socket
import tempfile
import time

import torch
import torch.multiprocessing as mp

from torch_geometric_unlearn import MetaEU, MetaEUConfig
from torch_geometric_unlearn.datasets import (load_checkpoint_and_data,
                                              load_dataset)
from torch_geometric_unlearn.distributed import (distributed_session,
                                                 get_world_size)
from torch_geometric_unlearn.kge import (KGETrainer, TrainConfig,
                                         load_kge_model, model_name, recipe)
from torch_geometric_unlearn.utils import atomic_write_text


def _config(args, name: str, episodes: int) -> MetaEUConfig:
    return MetaEUConfig.for_model(name, episodes=episodes,
                                  eval_every=args.eval_every, patience=0,
                                  seed=args.seed)


def _fit(args, model_path: str, episodes: int):
    r"""Meta-trains a MetaEU; returns (fit seconds, last validation MRR)."""
    kg = load_dataset(args.data)
    model = torch.load(model_path, weights_only=False)
    meu = MetaEU(model, kg, _config(args, model_name(model), episodes),
                 progress=False)
    start = time.perf_counter()
    meu.fit()
    seconds = time.perf_counter() - start
    mrr = meu.history[-1]['val_mrr'] if meu.history else None
    return seconds, mrr


def _worker(rank, world, port, args, model_path, steps, out):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port),
                      RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    with distributed_session(num_threads=args.threads):
        assert get_world_size() == world
        seconds, mrr = _fit(args, model_path, steps)
    if rank == 0:
        torch.save(dict(seconds=seconds, val_mrr=mrr), out)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', default='synthetic',
                   help='a KG directory (e.g. fb15k-237) or a synthetic '
                   'spec')
    p.add_argument('--model', default='transe')
    p.add_argument('--checkpoint', help='a trained KGE checkpoint of --data')
    p.add_argument('--dim', type=int, default=64)
    p.add_argument('--epochs', type=int, default=1,
                   help='KGE training epochs without --checkpoint')
    p.add_argument('--episodes', type=int, default=200)
    p.add_argument('--eval-every', type=int, default=0,
                   help='validate every this many steps (0: only the '
                   'timing)')
    p.add_argument('--nprocs', type=int, default=2)
    p.add_argument('--threads', type=int, default=1,
                   help='torch threads per process')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', metavar='RESULTS.json')
    args = p.parse_args()
    if args.nprocs < 2 or args.episodes % args.nprocs:
        p.error('--nprocs must be >= 2 and divide --episodes')
    torch.set_num_threads(args.threads)

    with tempfile.TemporaryDirectory() as tmp:
        model_path = osp.join(tmp, 'model.pt')
        if args.checkpoint:
            ckpt, kg = load_checkpoint_and_data(args.checkpoint, args.data)
            model = ckpt['module']
        else:
            kg = load_dataset(args.data)
            rec = recipe(args.model)
            torch.manual_seed(args.seed)
            model = load_kge_model(args.model, kg.num_entities,
                                   kg.num_relations, args.dim,
                                   **rec['model_kwargs'])
            kw = dict(rec['train'])
            kw.update(epochs=args.epochs, eval_every=0, seed=args.seed)
            KGETrainer(model, TrainConfig.from_dict(kw),
                       progress=False).fit(kg.train)
        torch.save(model.eval(), model_path)
        print(f'{kg.name}: {kg.train.num_edges:,} training triples, '
              f'{model_name(model)} d={args.dim}; {args.episodes} '
              f'meta-training episodes, {args.threads} thread(s) per '
              f'process', flush=True)

        one_s, one_mrr = _fit(args, model_path, args.episodes)
        print(f'1 process : {one_s:8.1f} s  ({args.episodes} steps of 1 '
              f'episode)', flush=True)

        out = osp.join(tmp, 'rank0.pt')
        steps = args.episodes // args.nprocs
        start = time.perf_counter()
        mp.spawn(_worker, args=(args.nprocs, _free_port(), args, model_path,
                                steps, out), nprocs=args.nprocs, join=True)
        total = time.perf_counter() - start
        many = torch.load(out)
    w = args.nprocs
    print(f'{w} processes: {many["seconds"]:8.1f} s  ({steps} steps of {w} '
          f'episodes; {total:.1f} s with process start-up and data '
          f'loading)')
    print(f'speed-up {one_s / many["seconds"]:.2f}x on the meta-training '
          f'time')
    if one_mrr is not None and many['val_mrr'] is not None:
        print(f'last validation MRR: 1 process {one_mrr:.4f}, {w} processes '
              f'{many["val_mrr"]:.4f}')
    if args.out:
        atomic_write_text(args.out, json.dumps(dict(
            data=args.data, model=model_name(model), dim=args.dim,
            episodes=args.episodes, threads=args.threads,
            one_process=dict(seconds=one_s, val_mrr=one_mrr),
            processes=dict(world_size=w, steps=steps, **many,
                           seconds_with_startup=total)), indent=2) + '\n')
        print(f'results written to {args.out}')


if __name__ == '__main__':
    main()
