r"""Wall-clock timing, the one way every benchmark measures time.

.. code-block:: python

    with Timer() as t:
        trainer.fit(train)
    t.seconds

    result, runs = repeat(lambda: evaluator.evaluate(model, test), 3)
    min(runs)     # best of three
"""
from __future__ import annotations

import time
from typing import Any, Callable, List, Tuple

__all__ = ['Timer', 'timed', 'repeat']


class Timer:
    r"""Context manager measuring wall time (:func:`time.perf_counter`)
    and, optionally, CPU time of the process (:func:`time.process_time`).

    Attributes:
        seconds (float): Wall time of the block (running time while inside
            it).
        cpu_seconds (float): CPU time of the process during the block.
    """
    def __init__(self) -> None:
        self._start = self._cpu = None
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    def __enter__(self) -> 'Timer':
        self._start = time.perf_counter()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self._start
        self.cpu_seconds = time.process_time() - self._cpu
        self._start = None

    @property
    def elapsed(self) -> float:
        r"""Seconds since the block started (its total once it ended)."""
        if self._start is None:
            return self.seconds
        return time.perf_counter() - self._start


def timed(fn: Callable[..., Any], *args, **kwargs) -> Tuple[Any, float]:
    r"""Calls :obj:`fn(*args, **kwargs)`; returns ``(result, seconds)``."""
    with Timer() as t:
        out = fn(*args, **kwargs)
    return out, t.seconds


def repeat(fn: Callable[[], Any], times: int = 3
           ) -> Tuple[Any, List[float]]:
    r"""Calls :obj:`fn()` :obj:`times` times (at least once); returns the
    last result and the list of wall times (report ``min`` as the best
    run)."""
    out, runs = None, []
    for _ in range(max(1, int(times))):
        out, seconds = timed(fn)
        runs.append(seconds)
    return out, runs
