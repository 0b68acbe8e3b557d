r"""Command line: ``python -m torch_geometric_unlearn <command> ...``.

Commands:

* ``data``: summarise a KG (a directory, a saved dataset or a synthetic
  configuration): counts and degree statistics.
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

    p = sub.add_parser('demo', help='run the end-to-end demo',
                       description='The README job on the embedded '
                       'synthetic KG.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--forget-ratio', type=float, default=0.01)
    p.add_argument('--num-hops', type=int, default=0)
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
