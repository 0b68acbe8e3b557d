import json
import os.path as osp
import subprocess
import sys

import pytest

from torch_geometric_unlearn.cli import load_dataset, main
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
    assert main(['demo', '--data', 'synthetic-tiny', '--epochs', '3',
                 '--episodes', '5', '--refine-steps', '2']) == 0
    text = capsys.readouterr().out
    train = make_synthetic_kg(**parse_synthetic_spec('synthetic-tiny')).train
    m = re.search(r'forget (\d+) triples, retain ([\d,]+)', text)
    assert m is not None
    assert int(m.group(1)) == round(0.01 * train.edge_index.size(1))
    assert int(m.group(2).replace(',', '')) + int(m.group(1)) == \
        train.edge_index.size(1)
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


# MetaEU: meta-train and unlearn ##############################################

TINY = 'synthetic:entities=200,relations=8,triples=2000'


def _run(argv):
    r"""main() with its stdout and stderr captured (for module fixtures)."""
    import contextlib
    import io
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(argv)
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope='module')
def meta_trained(tmp_path_factory):
    r"""A tiny ComplEx checkpoint and its MetaEU (5 episodes)."""
    root = tmp_path_factory.mktemp('metaeu')
    ckpt, meu = str(root / 'complex.pt'), str(root / 'metaeu.pt')
    rc, _, err = _run(['train', '--data', TINY, '--model', 'complex',
                       '--dim', '16', '--epochs', '2', '--quiet', '--out',
                       ckpt])
    assert rc == 0, err
    rc, out, err = _run(['meta-train', '--data', TINY, '--checkpoint', ckpt,
                         '--episodes', '5', '--eval-every', '5', '--quiet',
                         '--out', meu])
    assert rc == 0, err
    return dict(root=root, ckpt=ckpt, metaeu=meu, out=out)


def test_meta_train(meta_trained):
    import re

    from torch_geometric_unlearn import MetaEU
    from torch_geometric_unlearn.kge import load_checkpoint
    out = meta_trained['out']
    assert '5 episodes, softmax loss' in out  # the dot-product default
    m = re.search(r'validation MRR base ([\d.]+) -> best ([\d.]+)', out)
    assert m is not None and float(m.group(2)) >= float(m.group(1)) > 0
    assert f"MetaEU written to {meta_trained['metaeu']}" in out
    kg = load_dataset(TINY)
    model = load_checkpoint(meta_trained['ckpt'])['module']
    meu = MetaEU.load(meta_trained['metaeu'], model, kg, progress=False)
    assert meu.config.loss == 'softmax' and meu.config.episodes == 5
    assert meu.history[0]['episode'] == 0 and 'base_mrr' in meu.history[0]
    assert meu.history[-1]['episode'] == 5 and meu.fit_seconds > 0


def test_meta_train_errors(meta_trained, tmp_path, capsys):
    out = str(tmp_path / 'm.pt')
    rc = main(['meta-train', '--data', TINY, '--checkpoint',
               str(tmp_path / 'missing.pt'), '--out', out])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith('error:') and 'does not exist' in err
    # A checkpoint of another graph.
    rc = main(['meta-train', '--data', 'synthetic-tiny', '--checkpoint',
               meta_trained['ckpt'], '--out', out])
    assert rc == 2
    assert 'the checkpoint has 200 entities and 8 relations' in \
        capsys.readouterr().err
    # A file that is no checkpoint.
    bad = tmp_path / 'bad.pt'
    bad.write_text('hello')
    rc = main(['meta-train', '--data', TINY, '--checkpoint', str(bad),
               '--out', out])
    assert rc == 2
    assert 'is not a KGE checkpoint' in capsys.readouterr().err
    rc = main(['meta-train', '--data', TINY, '--checkpoint',
               meta_trained['ckpt'], '--episodes', '-1', '--out', out])
    assert rc == 2
    assert "'episodes' must be >= 0" in capsys.readouterr().err
    assert not osp.exists(out)


def _unlearn(meta_trained, *args):
    return _run(['unlearn', '--data', TINY, '--checkpoint',
                 meta_trained['ckpt'], '--metaeu', meta_trained['metaeu'],
                 *args])


def test_unlearn_forget_file(meta_trained, tmp_path):
    import re

    import torch

    from torch_geometric_unlearn.datasets import to_triples
    from torch_geometric_unlearn.kge import load_checkpoint
    kg = load_dataset(TINY)
    rows = to_triples(kg.train)[[3, 50, 700]]
    names = kg.decode(rows)
    lines = ['# head\trelation\ttail', ''] + ['\t'.join(t) for t in names]
    lines.append(' '.join(names[0]))  # a duplicate, space-separated
    forget = tmp_path / 'forget.tsv'
    forget.write_text('\n'.join(lines) + '\n')
    new = str(tmp_path / 'new.pt')
    rc, out, err = _unlearn(meta_trained, '--forget', str(forget),
                            '--evaluate', '--out', new)
    assert rc == 0, err
    assert '1 duplicated line(s)' in out and 'forgot 3 triples' in out
    for label in ('original', 'unlearned'):
        assert re.search(rf'^{label} +[\d.]+ +[\d.]+$', out, re.M)

    original = load_checkpoint(meta_trained['ckpt'])
    ckpt = load_checkpoint(new)
    assert ckpt['model_name'] == 'complex'
    assert ckpt['model_kwargs'] == original['model_kwargs']
    assert ckpt['entity_vocab'] == original['entity_vocab']
    assert ckpt['optimizer'] is None and 'history' not in ckpt
    info = ckpt['unlearning']
    assert info['num_forget'] == 3
    assert info['num_retained'] == kg.train.num_edges - 3
    assert 'forget_triples' not in info and 'affected' not in info
    # Only the rows of the forgotten triples' entities changed.
    touched = torch.zeros(kg.num_entities, dtype=torch.bool)
    touched[rows[:, [0, 2]].reshape(-1)] = True
    before = original['module'].node_emb.weight
    after = ckpt['module'].node_emb.weight
    changed = (before != after).any(1)
    assert changed.any() and not changed[~touched].any()
    assert torch.equal(original['module'].rel_emb.weight,
                       ckpt['module'].rel_emb.weight)

    with open(str(tmp_path / 'new.json')) as f:  # the default report path
        report = json.load(f)
    assert report['num_forget'] == 3 and report['num_affected'] >= 2
    assert sorted(map(tuple, report['forget_triples'])) == sorted(names)
    metrics = report['metrics']
    for label in ('original', 'unlearned'):
        assert metrics[label]['forget']['count'] == 6  # both directions
        assert 0 < metrics[label]['test']['mrr'] <= 1
    json.dumps(report)


def test_unlearn_other_requests(meta_trained, tmp_path):
    import torch

    from torch_geometric_unlearn.datasets import to_triples
    from torch_geometric_unlearn.kge import load_checkpoint
    kg = load_dataset(TINY)
    # Integer ids with --ids.
    rows = to_triples(kg.train)[:2]
    forget = tmp_path / 'ids.txt'
    forget.write_text('\n'.join(' '.join(map(str, r))
                                for r in rows.tolist()))
    rc, out, err = _unlearn(meta_trained, '--forget', str(forget), '--ids',
                            '--out', str(tmp_path / 'a.pt'), '--report',
                            str(tmp_path / 'a-report.json'))
    assert rc == 0, err
    assert 'forgot 2 triples' in out
    assert osp.isfile(str(tmp_path / 'a-report.json'))
    # A seeded random share, with options; the retained data is saved.
    rc, out, err = _unlearn(meta_trained, '--ratio', '0.02', '--seed', '1',
                            '--ensemble', '2', '--refine-steps', '2',
                            '--num-hops', '0', '--out',
                            str(tmp_path / 'b.pt'), '--save-data',
                            str(tmp_path / 'retained.pt'))
    assert rc == 0, err
    info = load_checkpoint(str(tmp_path / 'b.pt'))['unlearning']
    assert info['num_forget'] == round(0.02 * kg.train.num_edges)
    assert info['ensemble'] == 2 and info['refine_steps'] == 2
    retained = KGDataset.load(str(tmp_path / 'retained.pt'))
    assert retained.train.num_edges == info['num_retained']
    assert retained.test.num_edges == kg.test.num_edges
    # A second request on the unlearned model and the retained graph: no
    # warning. Entities by name and by id.
    head = kg.entity_vocab.name(int(kg.train.edge_index[0, 0]))
    rc, out, err = _run(['unlearn', '--data', str(tmp_path / 'retained.pt'),
                         '--checkpoint', str(tmp_path / 'b.pt'), '--metaeu',
                         meta_trained['metaeu'], '--entity', head, '--entity',
                         '7', '--out', str(tmp_path / 'c.pt')])
    assert rc == 0, err
    assert 'warning' not in err and 'ForgetEntity' in out
    # ... while the original data with an unlearned checkpoint warns.
    rc, out, err = _run(['unlearn', '--data', TINY, '--checkpoint',
                         str(tmp_path / 'b.pt'), '--metaeu',
                         meta_trained['metaeu'], '--relation',
                         kg.relation_vocab.name(1), '--out',
                         str(tmp_path / 'd.pt')])
    assert rc == 0, err
    assert err.startswith('warning:') and '--save-data' in err
    info = load_checkpoint(str(tmp_path / 'd.pt'))['unlearning']
    assert info['request'].startswith('ForgetRelation')
    assert info['num_forget'] == int((kg.train.edge_type == 1).sum())
    assert torch.is_tensor(load_checkpoint(str(tmp_path / 'd.pt'))['model']
                           ['node_emb.weight'])


@pytest.mark.parametrize('args,message', [
    ([], 'give exactly one deletion request'),
    (['--ratio', '0.1', '--entity', 'e1'], '(got --ratio, --entity)'),
    (['--entity', 'nobody'], "unknown entity 'nobody'"),
    (['--relation', 'r999'], "unknown relation 'r999'"),
    (['--entity', '5000'], 'entity id 5000 is out of range'),
    (['--relation', 'x', '--ids'], "relation 'x' is not an integer id"),
    (['--forget', 'missing.tsv'], "forget file 'missing.tsv' does not exist"),
    (['--forget', 'empty.tsv'], 'holds no triple'),
    (['--forget', 'short.tsv'], 'line 2: expected head, relation and tail'),
    (['--forget', 'unknown.tsv'], "line 1: unknown relation 'no_such'"),
    (['--forget', 'absent.tsv'], 'not in the training graph, e.g. (e0, '),
    (['--ratio', '1.5'], "'ratio' must lie in (0, 1)"),
])
def test_unlearn_errors(meta_trained, tmp_path, monkeypatch, args, message):
    import torch

    from torch_geometric_unlearn.datasets import to_triples
    kg = load_dataset(TINY)
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'empty.tsv').write_text('# nothing\n\n')
    (tmp_path / 'short.tsv').write_text('e0 base0 e1\ne0 base0\n')
    (tmp_path / 'unknown.tsv').write_text('e0\tno_such\te1\n')
    have = {tuple(t) for t in to_triples(kg.train).tolist()}
    absent = next((0, r, t) for r in range(kg.num_relations)
                  for t in range(1, kg.num_entities) if (0, r, t) not in have)
    (tmp_path / 'absent.tsv').write_text(
        '\t'.join(kg.decode(torch.tensor([absent]))[0]) + '\n')
    rc, _, err = _unlearn(meta_trained, *args, '--out', 'new.pt')
    assert rc == 2, err
    assert err.startswith('error:') and message in err, err
    assert not osp.exists('new.pt')


def test_unlearn_wrong_metaeu(meta_trained, tmp_path):
    rc, _, err = _unlearn(meta_trained, '--ratio', '0.01', '--out',
                          str(tmp_path / 'x.pt'), '--metaeu',
                          str(tmp_path / 'none.pt'))
    assert rc == 2 and "MetaEU file" in err and 'does not exist' in err
    rc, _, err = _run(['unlearn', '--data', TINY, '--checkpoint',
                       meta_trained['ckpt'], '--metaeu', meta_trained['ckpt'],
                       '--ratio', '0.01', '--out', str(tmp_path / 'x.pt')])
    assert rc == 2 and 'is not a saved MetaEU' in err
