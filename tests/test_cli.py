import json
import subprocess
import sys

from torch_geometric_unlearn.cli import main
from torch_geometric_unlearn.datasets import KGDataset


def test_help_runs_as_module():
    res = subprocess.run([sys.executable, '-m', 'torch_geometric_unlearn',
                          '--help'], capture_output=True, text=True)
    assert res.returncode == 0
    assert 'data' in res.stdout and 'demo' in res.stdout


def test_data_json_and_save(tmp_path, capsys):
    out = tmp_path / 'kg.pt'
    rc = main(['data', '--data', 'synthetic:entities=300,triples=4000',
               '--json', '--save', str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    summary = json.loads(text[:text.rindex('}') + 1])
    assert summary['entities'] == 300
    assert summary['train'] + summary['valid'] + summary['test'] > 3800
    assert KGDataset.load(str(out)).num_entities == 300
    # The saved file is accepted as --data too.
    assert main(['data', '--data', str(out)]) == 0
    assert 'entities   300' in capsys.readouterr().out


def test_data_directory(tmp_path, capsys):
    (tmp_path / 'train.tsv').write_text('a\tr\tb\nb\tr\tc\n')
    assert main(['data', '--data', str(tmp_path)]) == 0
    assert 'entities   3' in capsys.readouterr().out


def test_demo(capsys):
    import re

    from torch_geometric_unlearn.datasets import (make_synthetic_kg,
                                                  parse_synthetic_spec)
    assert main(['demo', '--data', 'synthetic-tiny', '--epochs', '3']) == 0
    text = capsys.readouterr().out
    train = make_synthetic_kg(**parse_synthetic_spec('synthetic-tiny')).train
    m = re.search(r'forget (\d+) triples, retain ([\d,]+)', text)
    assert m is not None
    assert int(m.group(1)) == round(0.01 * train.edge_index.size(1))
    assert int(m.group(2).replace(',', '')) + int(m.group(1)) == \
        train.edge_index.size(1)
    rows = re.findall(r'^(original|retrained) +([\d.]+) +([\d.]+)', text,
                      re.M)
    assert [r[0] for r in rows] == ['original', 'retrained']
    assert all(0 < float(r[1]) <= 1 and 0 < float(r[2]) <= 1 for r in rows)


def test_bad_data_is_a_clear_error(capsys):
    assert main(['data', '--data', '/no/such/place']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error:') and '/no/such/place' in err
    assert main(['data', '--data', 'synthetic-huge']) == 2
    assert 'unknown synthetic preset' in capsys.readouterr().err


def test_train_then_evaluate(tmp_path, capsys):
    import torch

    from torch_geometric_unlearn.kge import (LinkPredictionEvaluator,
                                             load_checkpoint)
    data = 'synthetic:entities=120,relations=10,triples=1500'
    ckpt = str(tmp_path / 'm.pt')
    rc = main(['train', '--data', data, '--model', 'distmult', '--dim', '16',
               '--epochs', '2', '--loss', 'bce', '--negatives', '4',
               '--quiet', '--out', ckpt])
    assert rc == 0
    loaded = load_checkpoint(ckpt)
    assert loaded['model_name'] == 'distmult'
    assert loaded['model_kwargs']['hidden_channels'] == 16
    assert loaded['train_config']['epochs'] == 2
    assert len(loaded['entity_vocab']) == 120
    capsys.readouterr()
    out = str(tmp_path / 'metrics.json')
    rc = main(['evaluate', '--data', data, '--checkpoint', ckpt, '--quiet',
               '--out', out])
    assert rc == 0
    with open(out) as f:
        metrics = json.load(f)
    assert set(metrics) == {'mrr', 'mr', 'hits@1', 'hits@3', 'hits@10',
                            'count', 'seconds'}
    # Same numbers as the evaluator called directly.
    from torch_geometric_unlearn.cli import load_dataset
    kg = load_dataset(data)
    ev = LinkPredictionEvaluator(kg.num_entities, kg.num_relations,
                                 [kg.train, kg.valid, kg.test])
    direct = ev.evaluate(loaded['module'], kg.test)
    assert metrics['mrr'] == direct['mrr']
    assert metrics['count'] == 2 * kg.test.num_edges
    # A checkpoint from another graph is refused.
    rc = main(['evaluate', '--data', 'synthetic-tiny', '--checkpoint', ckpt])
    assert rc == 2
    assert 'entities' in capsys.readouterr().err
    assert torch.is_tensor(loaded['model']['node_emb.weight'])


def test_train_bad_options(tmp_path, capsys):
    rc = main(['train', '--data', 'synthetic-tiny', '--model', 'distmult',
               '--epochs', '0', '--out', str(tmp_path / 'x.pt')])
    assert rc == 2
    assert "'epochs' must be >= 1" in capsys.readouterr().err
    rc = main(['evaluate', '--data', 'synthetic-tiny', '--checkpoint',
               str(tmp_path / 'missing.pt')])
    assert rc == 2
