r"""``meta-train``: meta-train the MetaEU generator of a trained KGE
checkpoint on simulated deletions (the KGE model stays frozen) and save
it. Under ``torchrun`` the meta-training is data-parallel over episodes
(:mod:`torch_geometric_unlearn.distributed`): every rank samples its own
episodes, the gradients are averaged, rank 0 validates, prints and writes
the file."""
from __future__ import annotations

import argparse

from ..datasets import load_checkpoint_and_data
from .common import (DATA_HELP, check_model_finite, check_outputs, device,
                     fit_summary, non_negative_float, non_negative_int,
                     positive_float, positive_int, user_input)


def add_parser(sub) -> None:
    p = sub.add_parser('meta-train', help='meta-train MetaEU for a model',
                       description='Meta-train the MetaEU generator of a '
                       'trained KGE checkpoint on simulated deletions (the '
                       'KGE model stays frozen) and save it.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--checkpoint', required=True, metavar='CKPT',
                   help='the trained KGE checkpoint (see train)')
    p.add_argument('--episodes', type=non_negative_int,
                   help='meta-training episodes (default 1000)')
    p.add_argument('--lr', type=positive_float,
                   help='Adam learning rate (3e-4)')
    p.add_argument('--hidden', type=positive_int,
                   help='hidden size of NEEM (64)')
    p.add_argument('--loss', choices=['self_adversarial', 'softmax'],
                   help="default: the family of the checkpoint's training "
                   "loss (softmax for a softmax or 1vsall model, "
                   "self_adversarial otherwise)")
    p.add_argument('--eval-every', type=non_negative_int,
                   help='validate every this many episodes (100)')
    p.add_argument('--patience', type=non_negative_int,
                   help='stop after this many validations without '
                   'improvement (5; 0: never)')
    p.add_argument('--max-minutes', type=non_negative_float,
                   help='stop meta-training after this wall time')
    p.add_argument('--seed', type=non_negative_int, default=0)
    p.add_argument('--device', type=device, default='cpu')
    p.add_argument('--quiet', action='store_true', help='no progress bars')
    p.add_argument('--out', required=True, metavar='METAEU.pt')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    r"""Runs the command (inside the ``torchrun`` process group when
    launched by ``torchrun``)."""
    from ..distributed import distributed_session
    with distributed_session(device=args.device):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from ..distributed import get_world_size, is_main_process, main_print
    from ..kge import model_name
    from ..metaeu import MetaEU, MetaEUConfig

    check_outputs([args.out], [args.checkpoint, args.data])
    with user_input():
        ckpt, dataset = load_checkpoint_and_data(args.checkpoint, args.data,
                                                 args.device)
    model = ckpt['module']
    check_model_finite(model, args.checkpoint)
    name = model_name(model)
    with user_input(ValueError):  # the options' validation
        config = MetaEUConfig.for_model(
            name, train_loss=(ckpt.get('train_config') or {}).get('loss'),
            episodes=args.episodes, lr=args.lr,
            hidden_channels=args.hidden, max_minutes=args.max_minutes,
            eval_every=args.eval_every, patience=args.patience,
            seed=args.seed, loss=args.loss)
    main = is_main_process()
    world = get_world_size()
    meu = MetaEU(model, dataset, config, progress=not args.quiet and main)
    steps = f'{config.episodes} steps of {world} episodes (one per rank)' \
        if world > 1 else f'{config.episodes} episodes'
    main_print(f'meta-training MetaEU for {name} on {dataset.name} '
               f'({dataset.train.num_edges:,} triples): {steps}, '
               f'{config.loss} loss, lr {config.lr:g}, hidden '
               f'{config.hidden_channels}')
    history = meu.fit(checkpoint=args.out)
    if not main:  # rank 0 writes and reports
        return 0
    meu.save(args.out)
    last = history[-1]['episode'] if history else config.episodes
    print(f'validation MRR {fit_summary(history)}')
    done = f'{last} steps ({last * world} episodes)' if world > 1 \
        else f'{last} episodes'
    print(f'meta-trained {done} in {meu.fit_seconds:.1f} s; MetaEU '
          f'written to {args.out}')
    return 0
