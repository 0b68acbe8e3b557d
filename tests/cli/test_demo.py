import re

from torch_geometric_unlearn.cli import main
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
    assert '5 episodes, softmax loss' in text  # MetaEUConfig.for_model
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
    assert main(['demo', '--data', 'synthetic-tiny', '--forget-ratio',
                 '1.5']) == 2
    assert capsys.readouterr().err.startswith('error:')
    assert main(['demo', '--data', 'synthetic-tiny', '--episodes',
                 '-1']) == 2
    assert '--episodes must be non-negative' in capsys.readouterr().err
