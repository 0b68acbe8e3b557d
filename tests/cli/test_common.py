import argparse

import pytest

from torch_geometric_unlearn.cli.common import (CLIError, check_options,
                                                fit_summary, user_input)
from torch_geometric_unlearn.datasets import UnknownNameError


def test_user_input_converts_only_input_errors():
    with pytest.raises(CLIError, match="unknown entity 'x'"):
        with user_input():
            raise UnknownNameError("unknown entity 'x'")
    with pytest.raises(CLIError, match='no such file'):
        with user_input():
            raise FileNotFoundError('no such file')
    with pytest.raises(ValueError, match='a bug'):
        with user_input():
            raise ValueError('a bug')
    with pytest.raises(CLIError, match='must be >= 1'):
        with user_input(ValueError):
            raise ValueError("'epochs' must be >= 1")
    with pytest.raises(KeyError):
        with user_input(ValueError):
            raise KeyError('a bug')


def test_check_options():
    args = argparse.Namespace(dim=0, lr=0.0, num_hops=-1, ensemble=None,
                              episodes=0)
    with pytest.raises(CLIError, match=r'--dim must be positive \(got 0\)'):
        check_options(args, positive=('dim', ))
    with pytest.raises(CLIError, match='--lr must be positive'):
        check_options(args, positive=('lr', ))
    with pytest.raises(CLIError, match='--num-hops must be non-negative'):
        check_options(args, non_negative=('num_hops', ))
    check_options(args, positive=('ensemble', ), non_negative=('episodes', ))


def test_fit_summary():
    history = [dict(episode=0, val_mrr=0.2, base_mrr=0.2),
               dict(episode=5, val_mrr=0.3), dict(episode=10, val_mrr=0.25)]
    assert fit_summary(history) == 'base 0.2000 -> best 0.3000 (episode 5)'
    assert fit_summary([dict(episode=0, val_mrr=float('nan'))]) == \
        'not measured (no validation episodes)'
