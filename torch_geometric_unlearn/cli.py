r"""Command line: ``python -m torch_geometric_unlearn <command> ...``.

Commands:

* ``data``: summarise a KG (a directory, a saved dataset or a synthetic
  configuration): counts and degree statistics.
* ``train``: train a PyG KGE model with the default recipe, write a
  checkpoint.
* ``evaluate``: filtered link-prediction metrics of a checkpoint, as JSON.
* ``demo``: the end-to-end job of the README on the embedded synthetic KG.
"""
from __future__ import annotations

import argparse
import json
import os.path as osp
import sys
import time
from typing import List, Optional

from .datasets import (KGDataset, SYNTHETIC_PRESETS, load_tsv_kg,
                       make_synthetic_kg, parse_synthetic_spec)

DATA_HELP = ('a directory of train/valid/test .tsv[.gz] files, a dataset '
             'saved with KGDataset.save (.pt), an OGB root holding '
             'ogbl_wikikg2 (prefix ogb:), or a synthetic KG: "synthetic", '
             '"synthetic-<preset>" (' + ', '.join(SYNTHETIC_PRESETS) +
             ') or "synthetic:entities=N,relations=R,triples=T,seed=S"')


class CLIError(Exception):
    r"""A user error: printed without a traceback, exit status 2."""


def load_dataset(spec: str) -> KGDataset:
    r"""Resolves a ``--data`` argument to a :class:`KGDataset` (see
    :data:`DATA_HELP` for the accepted forms)."""
    try:
        kwargs = parse_synthetic_spec(spec)
    except ValueError as e:
        raise CLIError(str(e)) from e
    if kwargs is not None:
        return make_synthetic_kg(**kwargs)
    if spec.startswith('ogb:'):
        from .datasets.ogb import load_ogb_wikikg2
        return load_ogb_wikikg2(spec[4:])
    if osp.isfile(spec):
        return KGDataset.load(spec)
    if osp.isdir(spec):
        return load_tsv_kg(spec)
    raise CLIError(f"--data '{spec}' is neither a directory, a saved dataset "
                   f"nor a synthetic specification ({DATA_HELP})")


def _print_summary(summary: dict) -> None:
    deg = summary['train_degree']
    print(f"dataset    {summary['name']}")
    print(f"entities   {summary['entities']:,}")
    print(f"relations  {summary['relations']:,}")
    print(f"triples    train {summary['train']:,} / valid "
          f"{summary['valid']:,} / test {summary['test']:,}")
    print(f"degree     min {deg['min']}  median {deg['median']:g}  mean "
          f"{deg['mean']:.2f}  max {deg['max']}  isolated in train "
          f"{deg['isolated']}")


def cmd_data(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    dataset = load_dataset(args.data)
    summary = dataset.summary()
    summary['load_seconds'] = round(time.perf_counter() - t0, 3)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
        print(f"loaded in  {summary['load_seconds']:.2f} s")
    if args.save:
        dataset.save(args.save)
        print(f'saved to   {args.save}')
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    import torch

    from .transforms import RandomForget

    print('== 1. data: seeded synthetic KG with planted patterns')
    dataset = load_dataset(args.data)
    _print_summary(dataset.summary())

    print(f'\n== 2. deletion request: forget {args.forget_ratio:.1%} of the '
          f'training triples (no entity or relation lost, seed {args.seed})')
    t0 = time.perf_counter()
    request = RandomForget(ratio=args.forget_ratio, seed=args.seed,
                           num_hops=args.num_hops)
    out = request(dataset.train)
    seconds = time.perf_counter() - t0
    num_forget = out.forget_edge_index.size(1)
    print(f'{request}')
    print(f'forget {num_forget:,} triples, retain '
          f'{out.edge_index.size(1):,}; affected entities '
          f'{int(out.affected_mask.sum()):,} of {dataset.num_entities:,} '
          f'({int(out.forget_entity_mask.sum()):,} in the forget set, '
          f'{args.num_hops} hop expansion); {seconds * 1000:.1f} ms')
    rows = torch.stack([out.forget_edge_index[0], out.forget_edge_type,
                        out.forget_edge_index[1]], dim=1)
    for h, r, t in dataset.decode(rows[:3]):
        print(f'  forget ({h}, {r}, {t})')
    if args.epochs <= 0:
        return 0

    from torch_geometric.data import Data

    from .kge import (KGETrainer, LinkPredictionEvaluator, TrainConfig,
                      load_kge_model)

    print(f'\n== 3. original model vs the reference retrained without the '
          f'forget set ({args.model}, dim {args.dim}, {args.epochs} epochs)')
    retained = Data(edge_index=out.edge_index, edge_type=out.edge_type,
                    num_nodes=out.num_nodes,
                    num_relations=out.num_relations)
    cfg = TrainConfig(epochs=args.epochs, loss='bce', num_negatives=32,
                      batch_size=512, lr=3e-3, eval_every=0, seed=args.seed)
    evaluator = LinkPredictionEvaluator(
        dataset.num_entities, dataset.num_relations,
        filter_triples=[dataset.train, dataset.valid, dataset.test])
    # The forget set is ranked against the retained graph (never itself).
    forget_eval = LinkPredictionEvaluator(
        dataset.num_entities, dataset.num_relations,
        filter_triples=[retained, dataset.valid, dataset.test])
    results = {}
    for label, graph in (('original', dataset.train),
                         ('retrained', retained)):
        torch.manual_seed(args.seed)
        model = load_kge_model(args.model, dataset.num_entities,
                               dataset.num_relations, args.dim)
        t0 = time.perf_counter()
        KGETrainer(model, cfg, progress=False).fit(graph)
        seconds = time.perf_counter() - t0
        results[label] = (evaluator.evaluate(model, dataset.test)['mrr'],
                          forget_eval.evaluate(model, rows)['mrr'], seconds)
    print(f"{'model':10s} {'test MRR':>9s} {'forget MRR':>11s} "
          f"{'train s':>8s}")
    for label, (test, forget, sec) in results.items():
        print(f'{label:10s} {test:9.4f} {forget:11.4f} {sec:8.1f}')
    print('An unlearned model should match the retrained row, not push the '
          'forget MRR to zero.')
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from .kge import KGETrainer, TrainConfig, load_kge_model, recipe

    dataset = load_dataset(args.data)
    rec = recipe(args.model)
    model_kwargs = dict(rec['model_kwargs'])
    train_kw = dict(rec['train'])
    overrides = {
        'epochs': args.epochs, 'batch_size': args.batch_size,
        'num_negatives': args.negatives, 'loss': args.loss, 'lr': args.lr,
        'max_minutes': args.max_minutes, 'eval_every': args.eval_every,
        'patience': args.patience,
    }
    train_kw.update({k: v for k, v in overrides.items() if v is not None})
    train_kw['seed'] = args.seed
    config = TrainConfig.from_dict(train_kw)
    dim = args.dim or rec['hidden_channels']
    torch.manual_seed(args.seed)
    model = load_kge_model(args.model, dataset.num_entities,
                           dataset.num_relations, dim, **model_kwargs)
    model = model.to(args.device)
    print(f'training {model} on {dataset.name} ({dataset.train.num_edges:,} '
          f'triples) with {config}')
    trainer = KGETrainer(model, config, progress=not args.quiet)
    t0 = time.perf_counter()
    trainer.fit(dataset.train, dataset.valid,
                [dataset.train, dataset.valid, dataset.test])
    seconds = time.perf_counter() - t0
    model_kwargs = dict(num_nodes=dataset.num_entities,
                        num_relations=dataset.num_relations,
                        hidden_channels=dim, **model_kwargs)
    trainer.save(args.out, model_kwargs=model_kwargs,
                 entity_vocab=dataset.entity_vocab,
                 relation_vocab=dataset.relation_vocab,
                 dataset=dataset.name, train_seconds=seconds)
    best = f', best valid MRR {trainer.best_mrr:.4f}' \
        if trainer.best_state is not None else ''
    print(f'trained {trainer.epoch} epochs in {seconds:.1f} s{best}; '
          f'checkpoint written to {args.out}')
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .kge import LinkPredictionEvaluator, load_checkpoint

    dataset = load_dataset(args.data)
    ckpt = load_checkpoint(args.checkpoint)
    model = ckpt['module'].to(args.device)
    if (model.num_nodes != dataset.num_entities
            or model.num_relations != dataset.num_relations):
        raise CLIError(f'the checkpoint has {model.num_nodes} entities and '
                       f'{model.num_relations} relations, the data '
                       f'{dataset.num_entities} and {dataset.num_relations}')
    if ckpt.get('entity_vocab') is not None and \
            ckpt['entity_vocab'][:100] != dataset.entity_vocab.to_list()[:100]:
        raise CLIError('the checkpoint was trained on other entity ids than '
                       'this data (vocabularies differ)')
    evaluator = LinkPredictionEvaluator(
        dataset.num_entities, dataset.num_relations,
        filter_triples=[dataset.train, dataset.valid, dataset.test],
        batch_size=args.batch_size, progress_bar=not args.quiet)
    t0 = time.perf_counter()
    metrics = evaluator.evaluate(model, dataset[args.split])
    metrics['seconds'] = round(time.perf_counter() - t0, 4)
    metrics = {k: metrics[k] for k in ('mrr', 'mr', 'hits@1', 'hits@3',
                                       'hits@10', 'count', 'seconds')}
    text = json.dumps(metrics, indent=2)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='python -m torch_geometric_unlearn',
        description='Make trained PyG graph embedding models forget data.')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')

    p = sub.add_parser('data', help='summarise a knowledge graph',
                       description='Counts and degree statistics of a KG.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--json', action='store_true',
                   help='print the summary as JSON')
    p.add_argument('--save', metavar='FILE',
                   help='also save the dataset (KGDataset.save) to FILE')
    p.set_defaults(func=cmd_data)

    p = sub.add_parser('train', help='train a KGE model',
                       description='Train a PyG KGE model with its default '
                       'recipe (options override it) and write a checkpoint.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--model', required=True,
                   choices=['transe', 'distmult', 'complex', 'rotate'])
    p.add_argument('--dim', type=int, help='embedding size (recipe default)')
    p.add_argument('--epochs', type=int)
    p.add_argument('--batch-size', type=int)
    p.add_argument('--negatives', type=int, help='negatives per positive')
    p.add_argument('--loss', choices=['margin', 'bce', 'self_adversarial',
                                      'softmax', '1vsall'])
    p.add_argument('--lr', type=float)
    p.add_argument('--eval-every', type=int)
    p.add_argument('--patience', type=int)
    p.add_argument('--max-minutes', type=float,
                   help='stop training after this wall time')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default='cpu')
    p.add_argument('--quiet', action='store_true', help='no progress bars')
    p.add_argument('--out', required=True, metavar='CKPT')
    p.set_defaults(func=cmd_train)

    p = sub.add_parser('evaluate', help='evaluate a checkpoint',
                       description='Filtered link prediction (both '
                       'directions, realistic rank; filter = train, valid '
                       'and test).')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--checkpoint', required=True, metavar='CKPT')
    p.add_argument('--split', default='test',
                   choices=['train', 'valid', 'test'])
    p.add_argument('--batch-size', type=int, default=512)
    p.add_argument('--device', default='cpu')
    p.add_argument('--quiet', action='store_true', help='no progress bars')
    p.add_argument('--out', metavar='METRICS.json')
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser('demo', help='run the end-to-end demo',
                       description='The README job on the embedded '
                       'synthetic KG.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--forget-ratio', type=float, default=0.01)
    p.add_argument('--num-hops', type=int, default=0)
    p.add_argument('--model', default='complex',
                   choices=['transe', 'distmult', 'complex', 'rotate'])
    p.add_argument('--dim', type=int, default=64)
    p.add_argument('--epochs', type=int, default=10,
                   help='training epochs of step 3 (0 skips it)')
    p.add_argument('--seed', type=int, default=0)
    p.set_defaults(func=cmd_demo)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (CLIError, ValueError, FileNotFoundError, KeyError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
