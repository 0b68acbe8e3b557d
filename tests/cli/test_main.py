import os
import subprocess
import sys

import pytest

from torch_geometric_unlearn.cli import COMMANDS, CLIError, build_parser, main


def test_help_runs_as_module():
    res = subprocess.run([sys.executable, '-m', 'torch_geometric_unlearn',
                          '--help'], capture_output=True, text=True)
    assert res.returncode == 0
    assert 'data' in res.stdout and 'demo' in res.stdout


def test_every_command_has_a_module():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == 'command')
    assert list(sub.choices) == ['data', 'train', 'evaluate', 'meta-train',
                                 'unlearn', 'verify', 'demo', 'bench',
                                 'rec-bench']
    for module, name in zip(COMMANDS, sub.choices):
        assert module.__name__.endswith(name.replace('-', '_'))
        assert sub.choices[name].get_default('func') is module.run


def test_no_command_prints_help(capsys):
    assert main([]) == 0
    assert 'COMMAND' in capsys.readouterr().out


def test_cli_error_is_exit_status_two(monkeypatch, capsys):
    from torch_geometric_unlearn.cli import data

    def fail(args):
        raise CLIError('bad input')

    monkeypatch.setattr(data, 'run', fail)
    assert main(['data']) == 2
    assert capsys.readouterr().err == 'error: bad input\n'


@pytest.mark.parametrize('error', [KeyError('split'), ValueError('bug'),
                                   TypeError('bug')])
def test_library_bug_is_not_a_user_error(monkeypatch, capsys, error):
    from torch_geometric_unlearn.datasets import KGDataset

    def summary(self):
        raise error

    monkeypatch.setattr(KGDataset, 'summary', summary)
    with pytest.raises(type(error)):
        main(['data', '--data', 'synthetic-tiny'])
    assert 'error:' not in capsys.readouterr().err


def test_library_bug_in_evaluate_propagates(tmp_path, monkeypatch, capsys):
    from torch_geometric_unlearn import kge

    data = 'synthetic:entities=120,relations=10,triples=1500'
    ckpt = str(tmp_path / 'm.pt')
    assert main(['train', '--data', data, '--model', 'distmult', '--dim',
                 '8', '--epochs', '1', '--quiet', '--out', ckpt]) == 0

    def evaluate(self, model, triples):
        raise KeyError('mrr')

    monkeypatch.setattr(kge.LinkPredictionEvaluator, 'evaluate', evaluate)
    with pytest.raises(KeyError, match='mrr'):
        main(['evaluate', '--data', data, '--checkpoint', ckpt, '--quiet'])
    assert 'error:' not in capsys.readouterr().err


def test_bad_command_line_is_exit_status_two(capsys):
    assert main(['nope']) == 2
    err = capsys.readouterr().err
    assert err.startswith('usage: python -m torch_geometric_unlearn')
    assert "\nerror: argument COMMAND: invalid choice: 'nope'" in err
    assert main(['train', '--data', 'synthetic-tiny']) == 2
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == \
        'error: the following arguments are required: --model, --out'


@pytest.mark.parametrize('argv', [
    ['train', '--model', 'distmult', '--out', 'x.pt'],
    ['evaluate', '--checkpoint', 'x.pt'],
    ['meta-train', '--checkpoint', 'x.pt', '--out', 'y.pt'],
    ['rec-bench'],
])
def test_bogus_device_is_refused_at_parse_time(argv, tmp_path, monkeypatch,
                                               capsys):
    monkeypatch.chdir(tmp_path)
    assert main(argv + ['--device', 'bogus']) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == ("error: argument --device: 'bogus' is not a device "
                   "(expected cpu, cuda, cuda:N or mps)")
    assert os.listdir(tmp_path) == []


def test_closed_pipe_is_quiet():
    # The reading end is closed before the command writes a byte: every
    # write to stdout fails with EPIPE.
    read, write = os.pipe()
    os.close(read)
    try:
        res = subprocess.run([sys.executable, '-m', 'torch_geometric_unlearn',
                              'data', '--data', 'synthetic-tiny'],
                             stdout=write, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, OMP_NUM_THREADS='1'))
    finally:
        os.close(write)
    assert res.stderr == ''
    assert res.returncode == 1


def test_cuda_without_cuda_is_refused_at_parse_time(tmp_path, monkeypatch,
                                                    capsys):
    import torch
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    out = tmp_path / 'x.pt'
    assert main(['train', '--model', 'distmult', '--device', 'cuda',
                 '--out', str(out)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "error: argument --device: 'cuda': CUDA is not available on this "
        "machine (use --device cpu)")
    assert not out.exists()
