r"""Atomic writes: a file is written to a temporary file in the same
directory, flushed to disk, then renamed over the target, so a reader (or a
killed writer) never sees a half-written file and the previous version
survives a failed write."""
from __future__ import annotations

import contextlib
import os
import os.path as osp
import tempfile
from typing import IO, Iterator, Optional, Sequence

import torch

__all__ = ['atomic_open', 'atomic_save', 'atomic_write_text',
           'check_output_paths']


@contextlib.contextmanager
def atomic_open(path: str, mode: str = 'wb') -> Iterator[IO]:
    r"""Opens a temporary file beside :obj:`path` for writing; on a clean
    exit it is flushed, synced and renamed to :obj:`path` (atomically on
    POSIX), on an exception it is removed and :obj:`path` is untouched.

    Args:
        path (str): The target file. Its directory is created if missing.
        mode (str, optional): :obj:`"wb"` or :obj:`"w"`. (default:
            :obj:`"wb"`)
    """
    if mode not in ('wb', 'w'):
        raise ValueError(f"mode must be 'wb' or 'w' (got '{mode}')")
    target = osp.abspath(path)
    directory = osp.dirname(target)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(target)}.',
                               suffix='.tmp', dir=directory)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if osp.exists(target):  # keep the target's permissions
            os.chmod(tmp, os.stat(target).st_mode & 0o7777)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_save(obj, path: str) -> None:
    r""":func:`torch.save` of :obj:`obj` to :obj:`path`, atomically (see
    :func:`atomic_open`)."""
    with atomic_open(path, 'wb') as f:
        torch.save(obj, f)


def atomic_write_text(path: str, text: str) -> None:
    r"""Writes :obj:`text` to :obj:`path`, atomically."""
    with atomic_open(path, 'w') as f:
        f.write(text)


def _same_file(a: str, b: str) -> bool:
    if osp.exists(a) and osp.exists(b):
        return osp.samefile(a, b)
    return osp.realpath(a) == osp.realpath(b)


def check_output_paths(outputs: Sequence[Optional[str]],
                       inputs: Sequence[Optional[str]] = (),
                       create_dirs: bool = True) -> None:
    r"""Checks, before any work is done, that every output can be written:
    its directory exists (or is created when :obj:`create_dirs`), it is not
    a directory, and no output is the same file as an input or as another
    output. :obj:`None` entries are skipped.

    Raises:
        ValueError: naming the clashing paths.
    """
    outs = [p for p in outputs if p]
    ins = [p for p in inputs if p]
    for i, out in enumerate(outs):
        if osp.isdir(out):
            raise ValueError(f"output '{out}' is a directory")
        for other in outs[:i]:
            if _same_file(out, other):
                raise ValueError(f"two outputs name the same file: '{other}' "
                                 f"and '{out}'")
        for src in ins:
            if _same_file(out, src):
                raise ValueError(f"output '{out}' is the same file as the "
                                 f"input '{src}': it would be overwritten")
        directory = osp.dirname(osp.abspath(out))
        if not osp.isdir(directory):
            if not create_dirs:
                raise ValueError(f"the directory of output '{out}' does not "
                                 f"exist")
            os.makedirs(directory, exist_ok=True)
        if not os.access(directory, os.W_OK):
            raise ValueError(f"the directory of output '{out}' is not "
                             f"writable")
