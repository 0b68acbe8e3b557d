r"""``rec-bench``: the recommendation unlearners (EEMU, SISA, retrain,
fine-tune) on one data set, users deleted one request at a time; the work
is :func:`torch_geometric_unlearn.bench.run_rec_bench`'s."""
from __future__ import annotations

import argparse
import os.path as osp

from .common import (CLIError, check_outputs, device, non_negative_int,
                     plot_path, positive_float, positive_int, report,
                     report_paths, user_input)

REC_DATA_HELP = ('"synthetic" (the seeded synthetic interactions), a '
                 'directory of train/valid/test .tsv[.gz] files of '
                 'user<TAB>item lines (e.g. Gowalla), or a MovieLens100K '
                 'root (with raw/u1.base)')


def load_rec_dataset(spec: str):
    r"""Resolves a ``rec-bench --data`` argument (see
    :data:`REC_DATA_HELP`) with the loaders of
    :mod:`torch_geometric_unlearn.rec`."""
    from ..rec import (load_interactions, load_movielens100k,
                       make_synthetic_interactions)
    if spec == 'synthetic':
        return make_synthetic_interactions()
    if osp.isfile(osp.join(spec, 'raw', 'u1.base')):
        return load_movielens100k(spec)
    if osp.isdir(spec):
        return load_interactions(spec)
    raise CLIError(f"--data '{spec}' is neither 'synthetic' nor a "
                   f"directory ({REC_DATA_HELP})")


def check_rec_request(dataset, args: argparse.Namespace) -> None:
    r"""Raises :class:`CLIError`, before any training, for options the
    data cannot satisfy: more shards than users (a shard holds at least
    one user), or more users to delete than users with training
    interactions (with ``--merge-valid``: training or validation)."""
    import torch

    if args.shards > dataset.num_users:
        raise CLIError(f'--shards {args.shards} exceeds the '
                       f'{dataset.num_users:,} users of {dataset.name} (a '
                       f'shard holds at least one user)')
    train = dataset.edge_index('train')
    if args.merge_valid:
        train = torch.cat([train, dataset.edge_index('valid')], 1)
    active = int(torch.unique(train[0]).numel())
    if args.delete_users > active:
        raise CLIError(f'--delete-users {args.delete_users} exceeds the '
                       f'{active:,} users of {dataset.name} with training '
                       f'interactions')


def add_parser(sub) -> None:
    p = sub.add_parser('rec-bench', help='compare recommendation unlearning '
                       'methods (EEMU, SISA, retrain, fine-tune)',
                       description='Trains every method on the same '
                       'interactions, deletes random users one request at a '
                       'time, and reports quality before/after, time per '
                       'request and the exactness check; prints a table, '
                       'writes the JSON and a plot.')
    p.add_argument('--data', default='synthetic', help=REC_DATA_HELP)
    p.add_argument('--model', default='mf', choices=['mf', 'lightgcn'])
    p.add_argument('--methods', default='all',
                   help='comma-separated subset of retrain, eemu, sisa, '
                   'finetune, or "all"')
    p.add_argument('--dim', type=positive_int, default=64)
    p.add_argument('--layers', type=non_negative_int, default=3,
                   help='LightGCN layers')
    p.add_argument('--epochs', type=positive_int, default=20)
    p.add_argument('--batch-size', type=positive_int, default=512,
                   help='interactions per BPR step (2048 for Gowalla-size '
                   'data)')
    p.add_argument('--lr', type=positive_float, default=5e-3)
    p.add_argument('--shards', type=positive_int, default=4,
                   help='at most the number of users')
    p.add_argument('--users-per-step', type=positive_int, default=16,
                   help='EEMU user tasks per meta-update (64 for '
                   'Gowalla-size data)')
    p.add_argument('--merge-valid', action='store_true',
                   help='train on train+valid (the LightGCN protocol)')
    p.add_argument('--device', type=device, default='cpu',
                   help='cpu or cuda (exactness is bitwise on CPU)')
    p.add_argument('--delete-users', type=positive_int, default=1,
                   metavar='K', help='users deleted, one request each (at '
                   'most the users with training interactions)')
    p.add_argument('--finetune-epochs', type=positive_int, default=1)
    p.add_argument('--no-exact-check', action='store_true')
    p.add_argument('--seed', type=non_negative_int, default=0)
    p.add_argument('--progress', action='store_true')
    p.add_argument('--out', metavar='RESULTS.json')
    p.add_argument('--plot', metavar='PLOT.png', type=plot_path,
                   help='(default: RESULTS.png beside --out)')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    r"""Runs the command; under ``torchrun`` every rank trains its own
    shards (:mod:`torch_geometric_unlearn.distributed`) and only rank 0
    prints and writes files."""
    from ..distributed import distributed_session
    with distributed_session(device=args.device):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    # Imported here: a change in the bench harness breaks only this command.
    from ..bench import (format_rec_table, parse_rec_methods, plot_rec,
                         run_rec_bench)
    from ..distributed import get_world_size, is_main_process

    with user_input(ValueError):  # unknown method names
        methods = parse_rec_methods(args.methods)
    check_outputs(report_paths(args), [args.data])
    with user_input(ValueError):  # a file of the data set does not parse
        dataset = load_rec_dataset(args.data)
    check_rec_request(dataset, args)
    main = is_main_process()
    if main and get_world_size() > 1:
        print(f'torch.distributed: {get_world_size()} ranks, shard s on '
              f'rank s % {get_world_size()}', flush=True)
    result = run_rec_bench(
        dataset, methods, model=args.model, dim=args.dim,
        num_layers=args.layers, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, num_shards=args.shards,
        delete_users=args.delete_users, seed=args.seed,
        exact_check=not args.no_exact_check,
        finetune_epochs=args.finetune_epochs,
        progress=args.progress and main,
        device=args.device, users_per_step=args.users_per_step,
        merge_valid=args.merge_valid,
        log=lambda msg: print(msg, flush=True))
    if not main:  # rank 0 prints and writes
        return 0
    return report(result, format_rec_table(result), plot_rec, args)
