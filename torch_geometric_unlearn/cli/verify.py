r"""``verify``: check an unlearned checkpoint against its ledger and the
original data -- the chain of hashes, that no forgotten triple is in the
retained graph, that the model is the one the ledger recorded -- and,
with ``--evidence``, measure the forget set's MRR and membership-inference
AUC. Prints a short report; exit status 1 when a check fails."""
from __future__ import annotations

import argparse
import json

from ..datasets import load_checkpoint_and_data
from .common import DATA_HELP, user_input


def add_parser(sub) -> None:
    p = sub.add_parser('verify', help='check an unlearned checkpoint',
                       description='Check an unlearned checkpoint: its '
                       'ledger chain, that no forgotten triple is retained, '
                       'and that the model matches the ledger (exit 1 on '
                       'any failure).')
    p.add_argument('--data', default='synthetic', help=DATA_HELP +
                   ' (the original data)')
    p.add_argument('--checkpoint', required=True, metavar='CKPT',
                   help='the unlearned checkpoint (written by unlearn)')
    p.add_argument('--evidence', action='store_true',
                   help='also measure the forget MRR and the '
                   'membership-inference AUC against the test triples')
    p.add_argument('--json', metavar='REPORT.json',
                   help='also write the report as JSON')
    p.add_argument('--device', default='cpu')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..utils import atomic_write_text, check_output_paths
    from ..verify import verify

    with user_input(ValueError):
        check_output_paths([args.json], [args.checkpoint])
    with user_input():
        ckpt, dataset = load_checkpoint_and_data(args.checkpoint, args.data,
                                                 args.device)
    report = verify(ckpt['module'], ckpt.get('unlearning'), dataset,
                    evidence=args.evidence)
    print(report.format())
    if args.json:
        atomic_write_text(args.json,
                          json.dumps(report.to_dict(), indent=2) + '\n')
    return 0 if report.ok else 1
