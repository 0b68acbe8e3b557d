r"""Pieces the command modules share: :class:`CLIError`, the conversion of
the library's input errors, option checks and printing helpers."""
from __future__ import annotations

import argparse
import contextlib
import json
import os.path as osp
from typing import Iterator, List, Tuple, Type

from ..datasets import SYNTHETIC_PRESETS, UserInputError

DATA_HELP = ('a directory of train/valid/test .tsv[.gz] files, a dataset '
             'saved with KGDataset.save (.pt), an OGB root holding '
             'ogbl_wikikg2 (prefix ogb:), or a synthetic KG: "synthetic", '
             '"synthetic-<preset>" (' + ', '.join(SYNTHETIC_PRESETS) +
             ') or "synthetic:entities=N,relations=R,triples=T,seed=S"')

KGE_MODELS = ['transe', 'distmult', 'complex', 'rotate']


class CLIError(Exception):
    r"""A user error: :func:`~torch_geometric_unlearn.cli.main` prints it as
    ``error: ...`` without a traceback and exits with status 2."""


@contextlib.contextmanager
def user_input(*types: Type[BaseException]) -> Iterator[None]:
    r"""Re-raises, as :class:`CLIError`, the errors of the enclosed library
    call that are about the user's input: :class:`~torch_geometric_unlearn.
    datasets.UserInputError` and :class:`FileNotFoundError`, plus
    :obj:`types` (e.g. :class:`ValueError` around a configuration's
    validation).

    .. code-block:: python

        with user_input(ValueError):
            config = TrainConfig.from_dict(options)
    """
    try:
        yield
    except (UserInputError, FileNotFoundError) + tuple(types) as e:
        raise CLIError(str(e)) from e


def check_options(args: argparse.Namespace, positive: Tuple[str, ...] = (),
                  non_negative: Tuple[str, ...] = ()) -> None:
    r"""Raises :class:`CLIError` if a given (not :obj:`None`) option of
    :obj:`positive` is below 1 (or 0 for floats), or one of
    :obj:`non_negative` is negative; options by attribute name
    (``batch_size`` for ``--batch-size``)."""
    for names, low, text in ((positive, 1, 'positive'),
                             (non_negative, 0, 'non-negative')):
        for name in names:
            value = getattr(args, name)
            if value is None:
                continue
            bad = value <= 0 if isinstance(value, float) and low else \
                value < low
            if bad:
                raise CLIError(f"--{name.replace('_', '-')} must be {text} "
                               f"(got {value})")


def print_summary(summary: dict) -> None:
    r"""Prints a :meth:`KGDataset.summary` as aligned lines."""
    deg = summary['train_degree']
    print(f"dataset    {summary['name']}")
    print(f"entities   {summary['entities']:,}")
    print(f"relations  {summary['relations']:,}")
    print(f"triples    train {summary['train']:,} / valid "
          f"{summary['valid']:,} / test {summary['test']:,}")
    print(f"degree     min {deg['min']}  median {deg['median']:g}  mean "
          f"{deg['mean']:.2f}  max {deg['max']}  isolated in train "
          f"{deg['isolated']}")


def fit_summary(history: List[dict]) -> str:
    r"""``"base 0.2884 -> best 0.3640 (episode 300)"`` from a MetaEU fit
    history (the base is the untrained generator, i.e. the learning-free
    mean estimate)."""
    scored = [h for h in history if h.get('val_mrr') == h.get('val_mrr')]
    if not scored:
        return 'not measured (no validation episodes)'
    best = max(scored, key=lambda h: h['val_mrr'])
    base = history[0].get('base_mrr', scored[0]['val_mrr'])
    return (f"base {base:.4f} -> best {best['val_mrr']:.4f} (episode "
            f"{best['episode']})")


def report(result: dict, table: str, plot_fn, args: argparse.Namespace
           ) -> int:
    r"""Prints a bench table, writes ``--out`` (JSON) and the plot
    (``--plot``, by default beside the JSON)."""
    print()
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
        print(f'results written to {args.out}')
    png = args.plot or (osp.splitext(args.out)[0] + '.png'
                        if args.out else None)
    if png:
        if plot_fn(result, png):
            print(f'plot written to {png}')
        else:
            print('matplotlib is not installed: no plot (pip install '
                  'matplotlib)')
    return 0


__all__ = ['CLIError', 'DATA_HELP', 'KGE_MODELS', 'user_input',
           'check_options', 'print_summary', 'fit_summary', 'report']
