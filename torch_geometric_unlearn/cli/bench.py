r"""``bench``: MetaEU and the baselines on one deletion request, side by
side (table, JSON, plot); the work is :func:`torch_geometric_unlearn.bench.
run_bench`'s."""
from __future__ import annotations

import argparse

from ..datasets import degree_stats, load_dataset, lookup_name_or_id
from .common import (CLIError, DATA_HELP, KGE_MODELS, check_outputs,
                     fraction, non_negative_float, non_negative_int,
                     plot_path, positive_int, report, report_paths,
                     user_input)


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
                   'leave_k_out, neighbour_mean, finetune, gradient_ascent, '
                   'distill, gnndelete, ssd, influence, sisa, or "all"')
    group = p.add_mutually_exclusive_group()
    group.add_argument('--forget-ratio', type=fraction)
    group.add_argument('--forget-entities', type=positive_int,
                       metavar='K')
    group.add_argument('--forget-relation', metavar='NAME_OR_ID')
    p.add_argument('--forget-kind', default='random',
                   choices=['random', 'hub', 'cluster'],
                   help='how a --forget-ratio request is drawn: random '
                   '(FedLU), hub (triples of high-degree entities) or '
                   'cluster (triples inside the k-hop balls of a few seeds)')
    p.add_argument('--steps', type=positive_int, default=1,
                   help='sequential --forget-ratio requests, each reported '
                   'against a model retrained without everything forgotten '
                   'so far')
    p.add_argument('--dim', type=positive_int,
                   help="embedding size (default: the model's recipe)")
    p.add_argument('--epochs', type=positive_int,
                   help="epoch cap of each training run (default: the "
                   "recipe's; early stopping on validation MRR stays on)")
    p.add_argument('--budget-minutes', type=non_negative_float, default=30.0,
                   help='wall-time budget of each training run, the '
                   'original and each retrained model (0: none)')
    p.add_argument('--mrr-floor', type=non_negative_float, default=0.05,
                   help='test MRR below which a trained model is flagged '
                   'under-trained')
    p.add_argument('--rise-tolerance', type=non_negative_float, default=1e-3,
                   help='validation-MRR rise at the budget or epoch cap that '
                   'counts as still rising')
    p.add_argument('--strict', action='store_true',
                   help='fail instead of warning on an under-trained model')
    p.add_argument('--relearn-epochs', type=non_negative_int, default=3,
                   help='epochs of the relearning attack on a slice of the '
                   'forget set')
    p.add_argument('--retain-relearn-epochs', type=non_negative_int,
                   default=2, help='epochs of retain-set relearning (0: off)')
    p.add_argument('--hub-count', type=positive_int, default=10,
                   help='--forget-kind hub: at least this many hubs')
    p.add_argument('--hub-share', type=fraction, default=0.5,
                   help='--forget-kind hub: the most of a hub\'s triples '
                   'one request takes')
    p.add_argument('--cluster-seeds', type=positive_int, default=3,
                   help='--forget-kind cluster: seed entities')
    p.add_argument('--cluster-hops', type=positive_int, default=2,
                   help='--forget-kind cluster: radius of each ball')
    p.add_argument('--models-dir', metavar='DIR',
                   help='save the trained original / retrained models here '
                   'and reuse them on a later run with the same settings')
    p.add_argument('--progress', action='store_true',
                   help='progress bars while training')
    p.add_argument('--episodes', type=non_negative_int, default=150,
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
    if (args.steps > 1 or args.forget_kind != 'random') and ratio is None:
        raise CLIError('--steps and --forget-kind go with --forget-ratio')
    from ..bench import UndertrainedError
    torch.manual_seed(args.seed)
    try:
        result = run_bench(
            dataset, args.model, methods, forget_ratio=ratio,
            forget_entities=args.forget_entities, forget_relation=relation,
            dim=args.dim, epochs=args.epochs, seed=args.seed,
            retrain=not args.no_retrain, episodes=args.episodes,
            relearn_epochs=args.relearn_epochs,
            log=lambda msg: print(msg, flush=True),
            forget_kind=args.forget_kind, steps=args.steps,
            budget_minutes=args.budget_minutes or None,
            mrr_floor=args.mrr_floor, rise_tolerance=args.rise_tolerance,
            strict=args.strict,
            retain_relearn_epochs=args.retain_relearn_epochs,
            hub_share=args.hub_share, hub_count=args.hub_count,
            cluster_seeds=args.cluster_seeds,
            cluster_hops=args.cluster_hops, models_dir=args.models_dir,
            progress=args.progress)
    except UndertrainedError as e:  # --strict: the user's budget
        raise CLIError(str(e)) from e
    return report(result, format_table(result), plot, args)
