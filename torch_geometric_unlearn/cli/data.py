r"""``data``: summarise a knowledge graph (counts and degree statistics),
optionally save it."""
from __future__ import annotations

import argparse
import json
import time

from ..datasets import load_dataset
from .common import DATA_HELP, check_outputs, print_summary, user_input


def add_parser(sub) -> None:
    p = sub.add_parser('data', help='summarise a knowledge graph',
                       description='Counts and degree statistics of a KG.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--json', action='store_true',
                   help='print the summary as JSON')
    p.add_argument('--save', metavar='FILE',
                   help='also save the dataset (KGDataset.save) to FILE')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    check_outputs([args.save], [args.data])
    t0 = time.perf_counter()
    with user_input():
        dataset = load_dataset(args.data)
    summary = dataset.summary()
    summary['load_seconds'] = round(time.perf_counter() - t0, 3)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_summary(summary)
        print(f"loaded in  {summary['load_seconds']:.2f} s")
    if args.save:
        dataset.save(args.save)
        print(f'saved to   {args.save}')
    return 0
