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
                                 'unlearn', 'demo', 'bench', 'rec-bench']
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
