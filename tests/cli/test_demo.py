import re

import pytest

from torch_geometric_unlearn.cli import demo, main
from torch_geometric_unlearn.datasets import (make_synthetic_kg,
                                              parse_synthetic_spec)


def test_demo(capsys):
    assert main(['demo', '--data', 'synthetic-tiny', '--epochs', '3',
                 '--episodes', '5', '--refine-steps', '2']) == 0
    text = capsys.readouterr().out
    train = make_synthetic_kg(**parse_synthetic_spec('synthetic-tiny')).train
    m = re.search(r'forget (\d+) triples, retain ([\d,]+)', text)
    assert m is not None
    assert int(m.group(1)) == round(0.01 * train.edge_index.size(1))
    assert int(m.group(2).replace(',', '')) + int(m.group(1)) == \
        train.edge_index.size(1)
    # The loss family of the demo's BCE training
    assert '5 episodes, self_adversarial loss' in text
    assert 'validation MRR base' in text
    rows = re.findall(r'^(original|retrained|MetaEU|MetaEU-FT) +([\d.]+) +'
                      r'([\d.]+) +([\d.]+)', text, re.M)
    assert [r[0] for r in rows] == ['original', 'retrained', 'MetaEU',
                                    'MetaEU-FT']
    assert all(0 < float(r[1]) <= 1 and 0 <= float(r[2]) <= 1 for r in rows)
    assert all(float(r[3]) > 0 for r in rows)
    # Part two: EEMU, and its deletion is exact.
    rec = re.findall(r'^(retrain|sisa|eemu) +([\d.]+) +([\d.]+) +([\d.]+) +'
                     r'([\d.]+)$', text, re.M)
    assert [r[0] for r in rec] == ['retrain', 'sisa', 'eemu']
    assert 'trained without the user\'s data: True' in text
    # The same forget set is unlearned as was sampled.
    assert re.search(rf'^MetaEU +forgot {m.group(1)} triples', text, re.M)


def test_demo_request_only_and_errors(capsys):
    assert main(['demo', '--data', 'synthetic-tiny', '--epochs', '0']) == 0
    text = capsys.readouterr().out
    assert 'RandomForget' in text and '== 3.' not in text


@pytest.mark.parametrize('option,value,words', [
    ('--forget-ratio', '1.5', 'a number in (0, 1)'),
    ('--forget-ratio', '0', 'a number in (0, 1)'),
    ('--num-hops', '-1', 'a non-negative integer'),
    ('--dim', '0', 'a positive integer'),
    ('--epochs', '-1', 'a non-negative integer'),
    ('--episodes', '-1', 'a non-negative integer'),
    ('--refine-steps', '-2', 'a non-negative integer'),
    ('--seed', 'x', 'a non-negative integer'),
])
def test_demo_options_are_checked_at_parse_time(capsys, monkeypatch, option,
                                                value, words):
    def load_dataset(*args, **kwargs):
        raise AssertionError('the data was loaded')

    monkeypatch.setattr(demo, 'load_dataset', load_dataset)
    assert main(['demo', option, value]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"error: argument {option}: must be {words} (got '{value}')"


def test_demo_out_writes_the_side_by_side_json(tmp_path, capsys):
    import json
    out = str(tmp_path / 'demo.json')
    assert main(['demo', '--data', 'synthetic-tiny', '--epochs', '2',
                 '--episodes', '2', '--refine-steps', '1', '--no-rec',
                 '--out', out]) == 0
    text = capsys.readouterr().out
    kg = json.load(open(out))['kg']
    assert set(kg) == {'original', 'retrained', 'metaeu', 'metaeu_ft'}
    for row in kg.values():
        assert set(row) == {'test_mrr', 'forget_mrr', 'seconds'}
        assert 0 <= row['test_mrr'] <= 1 and row['seconds'] > 0
    assert f"{kg['metaeu']['test_mrr']:.4f}" in text
    assert 'meta-training once plus this request' in text
