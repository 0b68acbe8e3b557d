r"""``bench``: MetaEU and the baselines on one deletion request, side by
side (table, JSON, plot); the work is :func:`torch_geometric_unlearn.bench.
run_bench`'s."""
from __future__ import annotations

import argparse

from ..datasets import degree_stats, load_dataset, lookup_name_or_id
from .common import (CLIError, DATA_HELP, KGE_MODELS, check_outputs,
                     fraction, non_negative_int, plot_path, positive_int,
                     report, report_paths, user_input)


def add_parser(sub) -> None:
    p = sub.add_parser('bench', help='compare unlearning methods on one '
                       'request',
                       description='Trains the original model, draws one '
                       'deletion request and runs every chosen method on '
                       'it; prints a table, writes the JSON and a plot.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--model', default='distmult', choices=KGE_MODELS)
    p.add_argument('--methods', default='metaeu,finetune,gradient_ascent',
                   help='comma-separated subset of retrain, metaeu, '
                   'finetune, gradient_ascent, distill, gnndelete, ssd, '
                   'sisa, or "all"')
    group = p.add_mutually_exclusive_group()
    group.add_argument('--forget-ratio', type=fraction)
    group.add_argument('--forget-entities', type=positive_int,
                       metavar='K')
    group.add_argument('--forget-relation', metavar='NAME_OR_ID')
    p.add_argument('--dim', type=positive_int, default=32)
    p.add_argument('--epochs', type=positive_int, default=10)
    p.add_argument('--episodes', type=non_negative_int, default=200,
                   help='MetaEU meta-training episodes')
    p.add_argument('--seed', type=non_negative_int, default=0)
    p.add_argument('--no-retrain', action='store_true',
                   help='skip the retrained reference (no gaps)')
    p.add_argument('--out', metavar='RESULTS.json')
    p.add_argument('--plot', metavar='PLOT.png', type=plot_path,
                   help='(default: RESULTS.png beside --out)')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    # Imported here: a change in the bench harness breaks only this command.
    from ..bench import format_table, parse_methods, plot, run_bench

    with user_input(ValueError):  # unknown method names
        methods = parse_methods(args.methods)
    if args.no_retrain:
        methods = [m for m in methods if m != 'retrain']
        if not methods:
            raise CLIError('--no-retrain leaves no method to run')
    ratio = args.forget_ratio
    if ratio is None and args.forget_entities is None and \
            args.forget_relation is None:
        ratio = 0.01
    check_outputs(report_paths(args), [args.data])
    with user_input():
        dataset = load_dataset(args.data)
    relation = None
    if args.forget_relation is not None:
        with user_input():
            relation = lookup_name_or_id(args.forget_relation,
                                         dataset.relation_vocab, 'relation')
    if args.forget_entities is not None:
        pool = dataset.num_entities - degree_stats(dataset.train)['isolated']
        if not 1 <= args.forget_entities <= pool:
            raise CLIError(f'--forget-entities must lie in [1, {pool}] (the '
                           f'entities with a training triple)')
    torch.manual_seed(args.seed)
    result = run_bench(dataset, args.model, methods, forget_ratio=ratio,
                       forget_entities=args.forget_entities,
                       forget_relation=relation, dim=args.dim,
                       epochs=args.epochs, seed=args.seed,
                       retrain=not args.no_retrain, episodes=args.episodes,
                       log=lambda msg: print(msg, flush=True))
    return report(result, format_table(result), plot, args)
