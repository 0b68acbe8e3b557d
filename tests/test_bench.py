import json
import math

import pytest

from torch_geometric_unlearn.bench import (METHODS, METRIC_KEYS, SCHEMA,
                                           format_table, parse_methods,
                                           run_bench)
from torch_geometric_unlearn.cli import main
from torch_geometric_unlearn.datasets import make_synthetic_kg

DATA = 'synthetic:entities=150,relations=8,triples=1500'


@pytest.fixture(scope='module')
def result():
    kg = make_synthetic_kg(num_entities=150, num_relations=8,
                           num_triples=1500, seed=0)
    return run_bench(kg, 'distmult', ['metaeu', 'finetune', 'sisa'],
                     forget_ratio=0.02, dim=8, epochs=2, episodes=4,
                     log=lambda m: None)


def _check_m(m):
    assert set(m) == set(METRIC_KEYS)
    assert 0 <= m['mrr'] <= 1 and m['mr'] >= 1


def test_schema(result):
    assert result['schema'] == SCHEMA
    for key in ('dataset', 'model', 'seed', 'dim', 'epochs', 'forget',
                'original', 'methods'):
        assert key in result
    assert result['forget']['kind'] == 'ratio'
    assert result['forget']['count'] > 0
    for split in ('test', 'forget', 'retain'):
        _check_m(result['original'][split])
    assert result['original']['seconds'] > 0
    # retrain always runs first, as the reference.
    assert list(result['methods']) == ['retrain', 'metaeu', 'finetune',
                                       'sisa']
    for name, e in result['methods'].items():
        for split in ('test', 'forget', 'retain'):
            _check_m(e[split])
            assert set(e['gap'][split]) == set(METRIC_KEYS)
        for key in ('mia_auc', 'relearn_forget_mrr', 'relearn_before_mrr',
                    'seconds', 'setup_seconds', 'peak_mb'):
            assert isinstance(e[key], float), (name, key)
        assert 0 <= e['mia_auc'] <= 1 and e['peak_mb'] > 0
    assert all(v == 0 for v in
               result['methods']['retrain']['gap']['test'].values())
    assert result['methods']['metaeu']['setup_seconds'] > 0
    assert math.isnan(result['methods']['sisa']['relearn_forget_mrr'])
    json.dumps(result)  # JSON-able
    table = format_table(result)
    assert 'retrain' in table and 'sisa' in table


def test_parse_methods():
    assert parse_methods('all') == list(METHODS)
    assert parse_methods('ssd, retrain') == ['retrain', 'ssd']
    assert parse_methods('gradient-ascent') == ['gradient_ascent']
    with pytest.raises(ValueError):
        parse_methods('retrain,nope')
    with pytest.raises(ValueError):
        parse_methods('')


def test_cli_bench(tmp_path, capsys):
    out = tmp_path / 'r.json'
    assert main(['bench', '--data', DATA, '--methods', 'finetune,ssd',
                 '--forget-entities', '2', '--dim', '8', '--epochs', '2',
                 '--out', str(out)]) == 0
    res = json.loads(out.read_text())
    assert res['forget']['kind'] == 'entities'
    assert list(res['methods']) == ['retrain', 'finetune', 'ssd']
    text = capsys.readouterr().out
    assert 'MIA AUC' in text
    assert (tmp_path / 'r.png').exists()
    assert main(['bench', '--data', DATA, '--methods', 'finetune',
                 '--no-retrain', '--forget-relation', '0', '--dim', '8',
                 '--epochs', '1']) == 0


@pytest.mark.parametrize('argv', [
    ['--methods', 'nope'],
    ['--methods', 'retrain', '--no-retrain'],
    ['--forget-entities', '0'],
    ['--forget-relation', 'no_such_relation'],
    ['--dim', '0'],
])
def test_cli_bench_errors(argv, capsys):
    assert main(['bench', '--data', DATA, '--epochs', '1'] + argv) == 2
    assert 'error:' in capsys.readouterr().err


def test_cli_bench_two_requests_rejected():
    with pytest.raises(SystemExit):
        main(['bench', '--forget-ratio', '0.1', '--forget-entities', '2'])
