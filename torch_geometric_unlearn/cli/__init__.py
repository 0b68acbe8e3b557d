r"""Command line: ``python -m torch_geometric_unlearn <command> ...``.

Commands, one module each (they parse, call the library and print):

* ``data`` (:mod:`.data`): summarise a KG (a directory, a saved dataset or
  a synthetic configuration): counts and degree statistics.
* ``train`` (:mod:`.train`): train a PyG KGE model with the default recipe,
  write a checkpoint.
* ``evaluate`` (:mod:`.evaluate`): filtered link-prediction metrics of a
  checkpoint, as JSON.
* ``meta-train`` (:mod:`.meta_train`): meta-train a
  :class:`~torch_geometric_unlearn.MetaEU` for a trained checkpoint and save
  it.
* ``unlearn`` (:mod:`.unlearn`): serve a deletion request (triples from a
  file, a random share, entities or relations) with a saved MetaEU; write
  the new checkpoint (carrying its ledger and retained graph), the ledger
  as JSON lines and a JSON report.
* ``verify`` (:mod:`.verify`): check an unlearned checkpoint against its
  ledger and the original data (exit 1 on a failed check).
* ``demo`` (:mod:`.demo`): the end-to-end job of the README on the embedded
  synthetic KG (:mod:`torch_geometric_unlearn.demo`).
* ``bench`` (:mod:`.bench`): MetaEU and the baselines on one request, side
  by side (table, JSON, plot).
* ``rec-bench`` (:mod:`.rec_bench`): the recommendation unlearners on one
  data set.

Commands that take ``--data`` and ``--checkpoint`` read the data with the
checkpoint's vocabularies
(:func:`~torch_geometric_unlearn.datasets.load_checkpoint_and_data`).

Errors in the user's input (:class:`CLIError`, which the commands raise for
the library's :class:`~torch_geometric_unlearn.datasets.UserInputError`
and for missing files, and a command line that does not parse, including
option values their types refuse) print ``error: ...`` and exit with
status 2; any other exception is a bug and propagates with its traceback.
A closed standard output (``... | head -1``) ends the command quietly.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

from ..datasets import load_dataset
from . import (bench, data, demo, evaluate, meta_train, rec_bench, train,
               unlearn, verify)
from .common import ArgumentParser, CLIError, DATA_HELP, UsageError
from .rec_bench import REC_DATA_HELP, load_rec_dataset

#: The command modules, in the order of ``--help``.
COMMANDS = [data, train, evaluate, meta_train, unlearn, verify, demo,
            bench, rec_bench]


def build_parser() -> argparse.ArgumentParser:
    r"""The parser of every command (each module's ``add_parser``)."""
    parser = ArgumentParser(
        prog='python -m torch_geometric_unlearn',
        description='Make trained PyG graph embedding models forget data.')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    r"""Runs the command line on :obj:`argv` (default: :obj:`sys.argv`) and
    returns the exit status: 0, or 2 after printing ``error: ...`` for a
    command line that does not parse, a :class:`CLIError` or a missing file
    the user named; 1 (quietly) when standard output is closed early."""
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except UsageError as e:
            sys.stderr.write(e.usage)
            print(f'error: {e}', file=sys.stderr)
            return 2
        if args.command is None:
            parser.print_help()
            return 0
        try:
            status = args.func(args)
        except (CLIError, FileNotFoundError) as e:
            print(f'error: {e}', file=sys.stderr)
            return 2
        sys.stdout.flush()  # a closed pipe raises here, not at exit
        return status
    except BrokenPipeError:
        _silence_stdout()
        return 1


def _silence_stdout() -> None:
    r"""Points standard output at :obj:`os.devnull` after a
    :class:`BrokenPipeError`, so that the interpreter's final flush does
    not report the closed pipe again (the recipe of Python's
    :mod:`signal` documentation)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


__all__ = ['main', 'build_parser', 'CLIError', 'COMMANDS', 'DATA_HELP',
           'REC_DATA_HELP', 'load_dataset', 'load_rec_dataset']


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
