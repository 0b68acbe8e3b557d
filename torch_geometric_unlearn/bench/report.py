r"""Writing benchmark results: JSON, markdown tables, the command line
that produced them, and the default progress log."""
from __future__ import annotations

import json
import math
import os
import shlex
import sys
from typing import Any, Iterable, List, Optional, Sequence

__all__ = ['write_json', 'write_text', 'markdown_table', 'command_line',
           'fmt', 'stdout_log']


def _parent(path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)


def _clean(obj: Any) -> Any:
    # Strict JSON has no NaN / infinity: write them as null.
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return obj


def write_json(obj: Any, path: str, indent: int = 1) -> str:
    r"""Writes :obj:`obj` as strict JSON (NaN and infinities as
    :obj:`null`) to :obj:`path`, creating its folder, atomically (a
    temporary file renamed into place). Returns :obj:`path`."""
    _parent(path)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(_clean(obj), f, indent=indent, allow_nan=False)
        f.write('\n')
    os.replace(tmp, path)
    return path


def write_text(text: str, path: str) -> str:
    r"""Writes :obj:`text` (e.g. a markdown report) to :obj:`path`,
    creating its folder. Returns :obj:`path`."""
    _parent(path)
    with open(path, 'w') as f:
        f.write(text if text.endswith('\n') else text + '\n')
    return path


def fmt(value: Any, spec: str = '.4f', missing: str = '–') -> str:
    r"""Formats a number with :obj:`spec`; :obj:`None` and NaN become
    :obj:`missing`."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    if isinstance(value, (int, float)):
        return format(value, spec)
    return str(value)


def markdown_table(header: Sequence[str],
                   rows: Iterable[Sequence[Any]]) -> str:
    r"""A markdown table (cells are written with :func:`str`)."""
    lines = ['| ' + ' | '.join(header) + ' |',
             '|' + '---|' * len(header)]
    for row in rows:
        lines.append('| ' + ' | '.join(str(c) for c in row) + ' |')
    return '\n'.join(lines)


def command_line(argv: Optional[List[str]] = None) -> str:
    r"""The command that runs this process (``python`` and
    :obj:`sys.argv`, shell-quoted), for reports."""
    argv = sys.argv if argv is None else argv
    return 'python ' + ' '.join(shlex.quote(a) for a in argv)


def stdout_log(msg: str) -> None:
    r"""The default progress log: prints and flushes."""
    print(msg, flush=True)
