r"""Exceptions for input that cannot be used as given.

The loaders and readers of :mod:`torch_geometric_unlearn.datasets` raise
these for problems in what a user supplied (a data specification that names
nothing, a file that does not parse, names missing from a vocabulary, a
checkpoint trained on other data), so that callers such as the command line
can tell them apart from errors in the library itself. All of them are
:class:`ValueError`\ s, so ``except ValueError`` keeps catching them.
"""
from __future__ import annotations

from typing import Optional, Sequence


class UserInputError(ValueError):
    r"""Input data, a file or a request that cannot be used as given. The
    message says what is wrong and where."""


class UnknownNameError(UserInputError):
    r"""Names (of entities or relations) that are not in a vocabulary.

    Args:
        message (str): The message.
        names (Sequence[str], optional): The first unknown names, in order
            of appearance. (default: :obj:`()`)
        path (str, optional): The file they came from. (default:
            :obj:`None`)
    """
    def __init__(self, message: str, names: Sequence[str] = (),
                 path: Optional[str] = None) -> None:
        super().__init__(message)
        self.names = list(names)
        self.path = path


class DataMismatchError(UserInputError):
    r"""A model (checkpoint) and a dataset that do not share entity and
    relation ids."""


__all__ = ['UserInputError', 'UnknownNameError', 'DataMismatchError']
