import argparse
import json
import os

import pytest
import torch

from torch_geometric_unlearn.cli.common import (
    ArgumentParser, CLIError, UsageError, check_model_finite, check_options,
    check_outputs, device, fit_summary, fraction, input_paths,
    non_negative_float, non_negative_int, plot_path, positive_float,
    positive_int, probability, report, report_paths, user_input, write_json)
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


@pytest.mark.parametrize('fn,good,bad', [
    (positive_int, [('1', 1), ('200', 200)], ['0', '-3', '1.5', 'x', '']),
    (non_negative_int, [('0', 0), ('7', 7)], ['-1', '2.0', 'ten']),
    (positive_float, [('0.5', 0.5), ('3', 3.0)],
     ['0', '-1e-3', 'nan', 'inf', 'x']),
    (non_negative_float, [('0', 0.0), ('2.5', 2.5)], ['-0.1', 'nan', '-inf']),
    (probability, [('0', 0.0), ('1', 1.0), ('0.3', 0.3)],
     ['-0.1', '1.01', 'nan']),
    (fraction, [('0.01', 0.01), ('0.99', 0.99)], ['0', '1', '1.5', 'nan']),
])
def test_option_types(fn, good, bad):
    for text, value in good:
        assert fn(text) == value
    for text in bad:
        with pytest.raises(argparse.ArgumentTypeError,
                           match=f"got '{text}'"):
            fn(text)


def test_device_type():
    assert device('cpu') == 'cpu'
    with pytest.raises(argparse.ArgumentTypeError,
                       match="'bogus' is not a device"):
        device('bogus')
    with pytest.raises(argparse.ArgumentTypeError,
                       match="unsupported device type 'meta'"):
        device('meta')


def test_device_type_refuses_missing_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    with pytest.raises(argparse.ArgumentTypeError,
                       match='CUDA is not available on this machine'):
        device('cuda')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    monkeypatch.setattr(torch.cuda, 'device_count', lambda: 1)
    assert device('cuda:0') == 'cuda:0'
    with pytest.raises(argparse.ArgumentTypeError,
                       match='has 1 CUDA device'):
        device('cuda:1')


def test_plot_path_type():
    assert plot_path('p.png') == 'p.png' and plot_path('p') == 'p'
    assert plot_path('dir.v2/p.PDF') == 'dir.v2/p.PDF'
    with pytest.raises(argparse.ArgumentTypeError,
                       match=r"cannot be written as '\.json'"):
        plot_path('R.json')


def test_parser_errors_raise_usage_errors():
    parser = ArgumentParser(prog='p')
    sub = parser.add_subparsers(dest='command')
    child = sub.add_parser('c')
    child.add_argument('--dim', type=positive_int)
    with pytest.raises(UsageError, match='argument --dim: must be a '
                       "positive integer") as info:
        parser.parse_args(['c', '--dim', '0'])
    assert info.value.usage.startswith('usage: p c')
    assert isinstance(info.value, CLIError)


def test_check_outputs(tmp_path):
    src = tmp_path / 'm.pt'
    src.write_bytes(b'model')
    with pytest.raises(CLIError, match="is the same file as the input"):
        check_outputs([str(src)], [str(src)])
    with pytest.raises(CLIError, match='two outputs name the same file'):
        check_outputs([str(tmp_path / 'r.json'), str(tmp_path / 'r.json')])
    with pytest.raises(CLIError, match='is a directory'):
        check_outputs([str(tmp_path)])
    # Specifications that name no file are no inputs; missing directories
    # of outputs are created.
    check_outputs([str(tmp_path / 'new' / 'x.pt')], ['synthetic', None])
    assert (tmp_path / 'new').is_dir()
    assert src.read_bytes() == b'model'
    assert input_paths('synthetic', 'ogb:' + str(tmp_path), str(src),
                       None) == [str(tmp_path), str(src)]


def test_check_model_finite():
    model = torch.nn.Embedding(5, 3)
    check_model_finite(model, 'm.pt')
    with torch.no_grad():
        model.weight[3, 1] = float('nan')
    with pytest.raises(CLIError, match="the model of 'm.pt' holds "
                       "non-finite values in 'weight' at rows 3"):
        check_model_finite(model, 'm.pt')


def _fake_plot(result, path):
    with open(path, 'w') as f:
        f.write(f"plot of {result['x']}")
    return True


def test_report_writes_atomically(tmp_path, capsys):
    out = tmp_path / 'sub' / 'r.json'
    args = argparse.Namespace(out=str(out), plot=None)
    assert report_paths(args) == [str(out), str(tmp_path / 'sub' / 'r.png')]
    assert report({'x': 1}, 'TABLE', _fake_plot, args) == 0
    assert json.loads(out.read_text()) == {'x': 1}
    assert (tmp_path / 'sub' / 'r.png').read_text() == 'plot of 1'
    text = capsys.readouterr().out
    assert 'TABLE' in text and f'plot written to {tmp_path}' in text

    def failing_plot(result, path):
        with open(path, 'w') as f:
            f.write('half a plot')
        raise RuntimeError('matplotlib crashed')

    # A plot that fails keeps the previous one and leaves no stray file.
    with pytest.raises(RuntimeError, match='crashed'):
        report({'x': 2}, 'TABLE', failing_plot, args)
    assert (tmp_path / 'sub' / 'r.png').read_text() == 'plot of 1'
    assert json.loads(out.read_text()) == {'x': 2}
    assert sorted(p.name for p in (tmp_path / 'sub').iterdir()) == \
        ['r.json', 'r.png']
    # No matplotlib: no plot file at all.
    args = argparse.Namespace(out=None, plot=str(tmp_path / 'p.png'))
    report({'x': 3}, 'TABLE', lambda result, path: False, args)
    assert not (tmp_path / 'p.png').exists()
    assert 'matplotlib is not installed' in capsys.readouterr().out


def test_json_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / 'r.json'
    write_json(str(path), {'old': True})

    def no_rename(src, dst):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', no_rename)
    with pytest.raises(OSError, match='disk full'):
        write_json(str(path), {'new': True})
    assert json.loads(path.read_text()) == {'old': True}
    assert [p.name for p in tmp_path.iterdir()] == ['r.json']
