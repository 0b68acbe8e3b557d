import pytest

from torch_geometric_unlearn import bench
from torch_geometric_unlearn.cli import main

DATA = 'synthetic:entities=150,relations=8,triples=1500'


@pytest.fixture
def no_bench(monkeypatch):
    r"""The harness fails loudly: a test passes only if the command stops
    before any training."""
    def run_bench(*args, **kwargs):
        raise AssertionError('the bench ran')

    monkeypatch.setattr(bench, 'run_bench', run_bench)


@pytest.mark.parametrize('argv,message', [
    (['--methods', 'nope'], 'unknown method'),
    (['--methods', 'retrain', '--no-retrain'], 'leaves no method'),
    (['--forget-entities', '151'], '--forget-entities must lie in [1, 150]'),
    (['--forget-relation', 'no_such_relation'],
     "unknown relation 'no_such_relation'"),
    (['--forget-relation', '8'], 'relation id 8 is out of range [0, 7]'),
])
def test_bench_errors(argv, message, capsys, no_bench):
    assert main(['bench', '--data', DATA, '--epochs', '1'] + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith('error:') and message in err, err


@pytest.mark.parametrize('option,value,words', [
    ('--forget-entities', '0', 'a positive integer'),
    ('--forget-ratio', '1.5', 'a number in (0, 1)'),
    ('--forget-ratio', '0', 'a number in (0, 1)'),
    ('--dim', '0', 'a positive integer'),
    ('--epochs', '0', 'a positive integer'),
    ('--episodes', '-1', 'a non-negative integer'),
    ('--seed', '-1', 'a non-negative integer'),
])
def test_bench_numeric_options(option, value, words, capsys, no_bench):
    assert main(['bench', '--data', DATA, option, value]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"error: argument {option}: must be {words} (got '{value}')"


def test_bench_outputs_are_checked_first(tmp_path, capsys, no_bench):
    r = str(tmp_path / 'R.json')
    assert main(['bench', '--data', DATA, '--out', r, '--plot', r]) == 2
    assert "a plot cannot be written as '.json'" in capsys.readouterr().err
    pdf = str(tmp_path / 'R.pdf')
    assert main(['bench', '--data', DATA, '--out', pdf, '--plot', pdf]) == 2
    assert capsys.readouterr().err == (
        f"error: two outputs name the same file: '{pdf}' and '{pdf}'\n")
    # The default plot is R.png beside --out.
    png = str(tmp_path / 'R.png')
    assert main(['bench', '--data', DATA, '--out', png]) == 2
    assert 'two outputs name the same file' in capsys.readouterr().err
    kg = tmp_path / 'kg.pt'
    kg.write_bytes(b'data')
    assert main(['bench', '--data', str(kg), '--out', str(kg)]) == 2
    assert 'is the same file as the input' in capsys.readouterr().err
    assert kg.read_bytes() == b'data'
    # The directory of --out is a plain file.
    assert main(['bench', '--data', DATA, '--out', str(kg / 'R.json')]) == 2
    assert capsys.readouterr().err.startswith('error:')


def test_bench_passes_the_harness_options(monkeypatch, tmp_path, capsys):
    seen = {}

    def run_bench(dataset, model, methods, **kwargs):
        seen.update(kwargs, model=model, methods=methods)
        raise bench.UndertrainedError('the original model is under-trained')

    monkeypatch.setattr(bench, 'run_bench', run_bench)
    argv = ['bench', '--data', DATA, '--methods', 'retrain,metaeu,leave_k_out',
            '--forget-ratio', '0.02', '--forget-kind', 'hub', '--steps', '3',
            '--budget-minutes', '5', '--strict', '--mrr-floor', '0.2',
            '--models-dir', str(tmp_path)]
    assert main(argv) == 2  # --strict: under-training is the user's error
    assert 'under-trained' in capsys.readouterr().err
    assert seen['methods'] == ['retrain', 'metaeu', 'leave_k_out']
    assert seen['forget_kind'] == 'hub' and seen['steps'] == 3
    assert seen['budget_minutes'] == 5.0 and seen['strict'] is True
    assert seen['mrr_floor'] == 0.2 and seen['models_dir'] == str(tmp_path)
    # The defaults are the recipe's (no fixed dim or epoch count).
    assert seen['dim'] is None and seen['epochs'] is None
    assert main(['bench', '--data', DATA, '--entity', '3']) == 2
    assert main(['bench', '--data', DATA, '--forget-entities', '2',
                 '--steps', '2']) == 2
    assert '--steps and --forget-kind go with --forget-ratio' in \
        capsys.readouterr().err


def test_bench_steps_and_kinds_end_to_end(tmp_path):
    out = str(tmp_path / 'r.json')
    assert main(['bench', '--data', DATA, '--model', 'distmult',
                 '--methods', 'retrain,leave_k_out', '--forget-ratio',
                 '0.02', '--steps', '2', '--epochs', '2', '--dim', '8',
                 '--episodes', '0', '--retain-relearn-epochs', '0',
                 '--relearn-epochs', '0', '--out', out]) == 0
    import json
    result = json.load(open(out))
    assert result['forget']['steps'] == 2
    assert len(result['methods']['leave_k_out']['steps']) == 2
    assert main(['bench', '--data', DATA, '--model', 'distmult',
                 '--methods', 'leave_k_out', '--no-retrain',
                 '--forget-ratio', '0.02', '--forget-kind', 'cluster',
                 '--epochs', '1', '--dim', '8', '--episodes', '0',
                 '--retain-relearn-epochs', '0', '--relearn-epochs', '0',
                 '--out', out]) == 0
    assert json.load(open(out))['forget']['kind'] == 'cluster'
