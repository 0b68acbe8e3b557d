r"""Memory of the running process, as the benchmarks report it.

:func:`peak_mb` is the peak resident set size (Linux ``VmHWM``; elsewhere
:func:`resource.getrusage`'s ``ru_maxrss``); :func:`peak_reset` starts a new
peak where the kernel allows it, so that the peak of one step can be read::

    peak_reset()
    method.unlearn(...)
    peak_mb()          # the peak since the reset (or since the start)
"""
from __future__ import annotations

import os
import resource

__all__ = ['peak_reset', 'peak_mb', 'current_mb']


def peak_reset() -> bool:
    r"""Resets the peak resident set size to the current one (Linux:
    writes ``5`` to ``/proc/self/clear_refs``). Returns :obj:`False` where
    that is not possible, in which case :func:`peak_mb` keeps reporting the
    peak since the process started."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        return True
    except OSError:
        return False


def peak_mb() -> float:
    r"""The peak resident set size in MiB, since the last
    :func:`peak_reset` where one took effect, else since the process
    started."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_mb() -> float:
    r"""The current resident set size in MiB (Linux ``/proc/self/statm``;
    elsewhere the peak, :func:`peak_mb`)."""
    try:
        with open('/proc/self/statm') as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf('SC_PAGE_SIZE') / 2**20
    except (OSError, ValueError):
        return peak_mb()
