import pytest

from torch_geometric_unlearn.cli import main

DATA = 'synthetic:entities=150,relations=8,triples=1500'


@pytest.mark.parametrize('argv,message', [
    (['--methods', 'nope'], 'unknown method'),
    (['--methods', 'retrain', '--no-retrain'], 'leaves no method'),
    (['--forget-entities', '0'], '--forget-entities must lie in [1, 150]'),
    (['--forget-entities', '151'], '--forget-entities must lie in [1, 150]'),
    (['--forget-relation', 'no_such_relation'],
     "unknown relation 'no_such_relation'"),
    (['--forget-relation', '8'], 'relation id 8 is out of range [0, 7]'),
    (['--forget-ratio', '1.5'], '--forget-ratio must lie in (0, 1)'),
    (['--dim', '0'], '--dim and --epochs must be positive'),
    (['--episodes', '-1'], '--episodes must be non-negative'),
])
def test_bench_errors(argv, message, capsys):
    assert main(['bench', '--data', DATA, '--epochs', '1'] + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith('error:') and message in err, err
