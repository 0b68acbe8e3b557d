r"""``evaluate``: filtered link-prediction metrics of a checkpoint, as JSON.

The data is encoded with the checkpoint's vocabularies
(:func:`~torch_geometric_unlearn.datasets.load_checkpoint_and_data`), so a
TSV directory with, for example, a smaller test file is evaluated with the
model's ids."""
from __future__ import annotations

import argparse
import json
import time

from ..datasets import load_checkpoint_and_data
from .common import (DATA_HELP, check_model_finite, check_outputs, device,
                     positive_int, user_input)

METRICS = ('mrr', 'mr', 'hits@1', 'hits@3', 'hits@10', 'count', 'seconds')


def add_parser(sub) -> None:
    p = sub.add_parser('evaluate', help='evaluate a checkpoint',
                       description='Filtered link prediction (both '
                       'directions, realistic rank; filter = train, valid '
                       'and test). A TSV --data is read with the '
                       "checkpoint's vocabularies.")
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--checkpoint', required=True, metavar='CKPT')
    p.add_argument('--split', default='test',
                   choices=['train', 'valid', 'test'])
    p.add_argument('--batch-size', type=positive_int, default=512)
    p.add_argument('--device', type=device, default='cpu')
    p.add_argument('--quiet', action='store_true', help='no progress bars')
    p.add_argument('--out', metavar='METRICS.json')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..kge import LinkPredictionEvaluator
    from ..utils import atomic_write_text

    check_outputs([args.out], [args.checkpoint, args.data])
    with user_input():
        ckpt, dataset = load_checkpoint_and_data(args.checkpoint, args.data,
                                                 args.device)
    check_model_finite(ckpt['module'], args.checkpoint)
    evaluator = LinkPredictionEvaluator(
        dataset.num_entities, dataset.num_relations,
        filter_triples=[dataset.train, dataset.valid, dataset.test],
        batch_size=args.batch_size, progress_bar=not args.quiet)
    t0 = time.perf_counter()
    metrics = evaluator.evaluate(ckpt['module'], dataset[args.split])
    metrics['seconds'] = round(time.perf_counter() - t0, 4)
    text = json.dumps({k: metrics[k] for k in METRICS}, indent=2)
    print(text)
    if args.out:
        atomic_write_text(args.out, text + '\n')
    return 0
