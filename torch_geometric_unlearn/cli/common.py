r"""Pieces the command modules share: :class:`CLIError`, the conversion of
the library's input errors, option types and checks, output-path checks,
atomic writes of results and printing helpers."""
from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import os.path as osp
import tempfile
from typing import (Any, Callable, Iterator, List, Optional, Sequence, Tuple,
                    Type)

from ..datasets import SYNTHETIC_PRESETS, UserInputError

DATA_HELP = ('a directory of train/valid/test .tsv[.gz] files, a dataset '
             'saved with KGDataset.save (.pt), an OGB root holding '
             'ogbl_wikikg2 (prefix ogb:), or a synthetic KG: "synthetic", '
             '"synthetic-<preset>" (' + ', '.join(SYNTHETIC_PRESETS) +
             ') or "synthetic:entities=N,relations=R,triples=T,seed=S"')

KGE_MODELS = ['transe', 'distmult', 'complex', 'rotate']

#: File extensions a plot can be written as (matplotlib's formats).
PLOT_FORMATS = ('eps', 'jpeg', 'jpg', 'pdf', 'pgf', 'png', 'ps', 'raw',
                'rgba', 'svg', 'svgz', 'tif', 'tiff', 'webp')


class CLIError(Exception):
    r"""A user error: :func:`~torch_geometric_unlearn.cli.main` prints it as
    ``error: ...`` without a traceback and exits with status 2."""


class UsageError(CLIError):
    r"""A command line that does not parse (an unknown option, a missing
    argument, an option value its type refuses); :attr:`usage` is the
    usage text of the (sub)command."""
    def __init__(self, message: str, usage: str = '') -> None:
        super().__init__(message)
        self.usage = usage


class ArgumentParser(argparse.ArgumentParser):
    r"""An :class:`argparse.ArgumentParser` whose errors raise
    :class:`UsageError` instead of exiting, so that
    :func:`~torch_geometric_unlearn.cli.main` prints them as
    ``error: ...`` and returns status 2 (its subparsers are of this class
    too)."""
    def error(self, message: str):
        raise UsageError(message, self.format_usage())


def _number(kind: Type, text: str, low: float, strict: bool,
            high: Optional[float] = None, high_strict: bool = False,
            words: str = ''):
    try:
        value = kind(text)
    except (TypeError, ValueError):
        name = 'an integer' if kind is int else 'a number'
        raise argparse.ArgumentTypeError(
            f"must be {words or name} (got '{text}')") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be {words} (got '{text}')")
    bad = value <= low if strict else value < low
    if high is not None:
        bad = bad or (value >= high if high_strict else value > high)
    if bad:
        raise argparse.ArgumentTypeError(f"must be {words} (got '{text}')")
    return value


def positive_int(text: str) -> int:
    r"""An :mod:`argparse` type: an integer :math:`\geq 1`."""
    return _number(int, text, 0, True, words='a positive integer')


def non_negative_int(text: str) -> int:
    r"""An :mod:`argparse` type: an integer :math:`\geq 0`."""
    return _number(int, text, 0, False, words='a non-negative integer')


def positive_float(text: str) -> float:
    r"""An :mod:`argparse` type: a finite number :math:`> 0`."""
    return _number(float, text, 0, True, words='a positive number')


def non_negative_float(text: str) -> float:
    r"""An :mod:`argparse` type: a finite number :math:`\geq 0`."""
    return _number(float, text, 0, False, words='a non-negative number')


def probability(text: str) -> float:
    r"""An :mod:`argparse` type: a number in :math:`[0, 1]`."""
    return _number(float, text, 0, False, 1, False,
                   words='a number in [0, 1]')


def fraction(text: str) -> float:
    r"""An :mod:`argparse` type: a share strictly between 0 and 1 (e.g. of
    the training triples to forget)."""
    return _number(float, text, 0, True, 1, True,
                   words='a number in (0, 1)')


def device(text: str) -> str:
    r"""An :mod:`argparse` type: a :class:`torch.device` string that names a
    device of this machine (``cpu``, ``cuda``, ``cuda:1``, ``mps``)."""
    import torch

    try:
        dev = torch.device(text)
    except (RuntimeError, ValueError, TypeError):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a device (expected cpu, cuda, cuda:N or "
            f"mps)") from None
    if dev.type == 'cuda':
        if not torch.cuda.is_available():
            raise argparse.ArgumentTypeError(
                f"'{text}': CUDA is not available on this machine (use "
                f"--device cpu)")
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise argparse.ArgumentTypeError(
                f"'{text}': this machine has {count} CUDA device(s) "
                f"(cuda:0 to cuda:{count - 1})")
    elif dev.type == 'mps':
        mps = getattr(torch.backends, 'mps', None)
        if mps is None or not mps.is_available():
            raise argparse.ArgumentTypeError(
                f"'{text}': MPS is not available on this machine (use "
                f"--device cpu)")
    elif dev.type != 'cpu':
        raise argparse.ArgumentTypeError(
            f"'{text}': unsupported device type '{dev.type}' (expected cpu, "
            f"cuda, cuda:N or mps)")
    return text


def plot_path(text: str) -> str:
    r"""An :mod:`argparse` type: a file name whose extension (if any) is a
    format matplotlib writes (:data:`PLOT_FORMATS`)."""
    ext = osp.splitext(text)[1].lower().lstrip('.')
    if ext and ext not in PLOT_FORMATS:
        raise argparse.ArgumentTypeError(
            f"'{text}': a plot cannot be written as '.{ext}' (use one of "
            f"{', '.join('.' + f for f in PLOT_FORMATS)})")
    return text


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


def input_paths(*specs: Optional[str]) -> List[str]:
    r"""The specifications of :obj:`specs` that name something on disk
    (``--data synthetic`` names no file; ``ogb:ROOT`` names ``ROOT``)."""
    out = []
    for spec in specs:
        if spec and spec.startswith('ogb:'):
            spec = spec[4:]
        if spec and osp.exists(spec):
            out.append(spec)
    return out


def check_outputs(outputs: Sequence[Optional[str]],
                  inputs: Sequence[Optional[str]] = ()) -> None:
    r"""Checks the output files of a command before it does any work
    (:func:`~torch_geometric_unlearn.utils.check_output_paths`: no output
    is an input or another output, none is a directory, missing
    directories are created) and raises :class:`CLIError` naming the
    clashing paths. :obj:`inputs` are specifications as given on the
    command line (see :func:`input_paths`)."""
    from ..utils import check_output_paths

    try:
        check_output_paths(outputs, input_paths(*inputs))
    except (ValueError, OSError) as e:
        raise CLIError(str(e)) from e


def check_model_finite(model, path: str) -> None:
    r"""Raises :class:`CLIError` naming the parameter and rows if the model
    loaded from :obj:`path` holds NaN or infinite values
    (:func:`~torch_geometric_unlearn.utils.check_finite`)."""
    from ..utils import check_finite

    try:
        check_finite(model, f"the model of '{path}'")
    except ValueError as e:
        raise CLIError(str(e)) from e


def write_json(path: str, obj: Any) -> None:
    r"""Writes :obj:`obj` as indented JSON to :obj:`path`, atomically."""
    from ..utils import atomic_write_text

    atomic_write_text(path, json.dumps(obj, indent=1) + '\n')


def write_plot(plot_fn: Callable[[dict, str], bool], result: dict,
               path: str) -> bool:
    r"""Calls :obj:`plot_fn(result, tmp)` with a temporary file beside
    :obj:`path` (with its extension, so the format is the same) and renames
    it to :obj:`path` once written: a failed plot leaves no half-written
    file and keeps a previous one. Returns what :obj:`plot_fn` returns
    (:obj:`False`: matplotlib is missing, nothing written)."""
    target = osp.abspath(path)
    directory = osp.dirname(target)
    os.makedirs(directory, exist_ok=True)
    ext = osp.splitext(target)[1] or '.png'
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(target)}.',
                               suffix=ext, dir=directory)
    os.close(fd)
    try:
        if not plot_fn(result, tmp):
            return False
        umask = os.umask(0)
        os.umask(umask)
        mode = (os.stat(target).st_mode & 0o7777 if osp.exists(target)
                else 0o666 & ~umask)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
        return True
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


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


def report_paths(args: argparse.Namespace) -> List[Optional[str]]:
    r"""The files :func:`report` writes: ``--out`` and the plot
    (``--plot``, by default the ``.png`` beside ``--out``)."""
    png = args.plot or (osp.splitext(args.out)[0] + '.png'
                        if args.out else None)
    return [args.out, png]


def report(result: dict, table: str, plot_fn, args: argparse.Namespace
           ) -> int:
    r"""Prints a bench table, writes ``--out`` (JSON) and the plot
    (``--plot``, by default beside the JSON), each atomically; check
    :func:`report_paths` with :func:`check_outputs` before the work."""
    print()
    print(table)
    out, png = report_paths(args)
    if out:
        write_json(out, result)
        print(f'results written to {out}')
    if png:
        if write_plot(plot_fn, result, png):
            print(f'plot written to {png}')
        else:
            print('matplotlib is not installed: no plot (pip install '
                  'matplotlib)')
    return 0


__all__ = ['CLIError', 'UsageError', 'ArgumentParser', 'DATA_HELP',
           'KGE_MODELS', 'PLOT_FORMATS', 'positive_int', 'non_negative_int',
           'positive_float', 'non_negative_float', 'probability', 'fraction',
           'device', 'plot_path', 'user_input', 'check_options',
           'input_paths', 'check_outputs', 'check_model_finite',
           'write_json', 'write_plot', 'print_summary', 'fit_summary',
           'report_paths', 'report']
