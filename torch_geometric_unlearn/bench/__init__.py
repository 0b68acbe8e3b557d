r"""The benchmark harness: one way to train the compared models, draw the
requests, run the methods, time, measure and report.

:func:`run` is behind ``python -m torch_geometric_unlearn bench``
(``task="kg"``, :func:`run_bench`), ``rec-bench`` (``task="rec"``,
:func:`run_rec_bench`) and every script under ``benchmarks/``.

* :mod:`.kg` -- the knowledge-graph comparison (:class:`KGBench`,
  :func:`run_bench`, :func:`format_table`, :func:`format_markdown`,
  :func:`plot`);
* :mod:`.rec` -- the recommendation comparison and training curve;
* :mod:`.training` -- the one definition of the original and the retrained
  model (:class:`TrainingSpec`, :func:`train_model`) and the under-training
  check;
* :mod:`.requests` -- random, hub, cluster, entity and relation requests;
* :mod:`.methods` -- the methods by name;
* :mod:`.memory`, :mod:`.timing`, :mod:`.report` -- peak memory, wall time,
  JSON / markdown output.

.. code-block:: python

    from torch_geometric_unlearn import bench

    result = bench.run('kg', kg, model='transe', methods=['metaeu'],
                       forget_ratio=0.01, steps=2)
    print(bench.format_table(result))
"""
from typing import Any, Dict

from .memory import current_mb, peak_mb, peak_reset
from .timing import Timer, repeat, timed
from .report import (command_line, markdown_table, stdout_log, write_json,
                     write_text)
from .training import (OUTCOMES, TrainedModel, TrainingSpec,
                       UndertrainedError, UndertrainedWarning,
                       check_training, train_model, training_outcome,
                       undertraining)
from .requests import (FORGET_KINDS, RATIO_KINDS, Request,
                       cluster_forget_set, draw_requests, hub_forget_set,
                       parse_request)
from .methods import METHODS, build_method, method_class, parse_methods
from .kg import (METRIC_KEYS, SCHEMA, KGBench, format_markdown,
                 format_table, plot, run_bench)
from .rec import (REC_METRICS, REC_SCHEMA, format_rec_markdown,
                  format_rec_table, parse_rec_methods, plot_rec,
                  run_rec_bench, train_curve)

#: The benchmark tasks of :func:`run`.
TASKS = ('kg', 'rec')


def run(task: str = 'kg', dataset=None, **kwargs) -> Dict[str, Any]:
    r"""Runs a benchmark: :func:`run_bench` for :obj:`task="kg"` (a
    :class:`~torch_geometric_unlearn.datasets.KGDataset`),
    :func:`run_rec_bench` for :obj:`task="rec"` (a
    :class:`~torch_geometric_unlearn.rec.RecDataset`); keyword arguments go
    to that function."""
    if dataset is None:
        raise ValueError('run() needs a dataset')
    if task == 'kg':
        return run_bench(dataset, **kwargs)
    if task == 'rec':
        return run_rec_bench(dataset, **kwargs)
    raise ValueError(f"unknown task '{task}' (expected one of "
                     f"{', '.join(TASKS)})")


__all__ = [
    'run',
    'TASKS',
    'run_bench',
    'KGBench',
    'format_table',
    'format_markdown',
    'plot',
    'parse_methods',
    'METHODS',
    'SCHEMA',
    'METRIC_KEYS',
    'method_class',
    'build_method',
    'run_rec_bench',
    'format_rec_table',
    'format_rec_markdown',
    'plot_rec',
    'parse_rec_methods',
    'train_curve',
    'REC_SCHEMA',
    'REC_METRICS',
    'TrainingSpec',
    'TrainedModel',
    'train_model',
    'training_outcome',
    'undertraining',
    'check_training',
    'UndertrainedWarning',
    'UndertrainedError',
    'OUTCOMES',
    'Request',
    'draw_requests',
    'parse_request',
    'hub_forget_set',
    'cluster_forget_set',
    'FORGET_KINDS',
    'RATIO_KINDS',
    'peak_reset',
    'peak_mb',
    'current_mb',
    'Timer',
    'timed',
    'repeat',
    'write_json',
    'write_text',
    'markdown_table',
    'command_line',
    'stdout_log',
]
