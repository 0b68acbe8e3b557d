import json
import os
import shutil

import pytest
import torch

from torch_geometric_unlearn.cli import main
from torch_geometric_unlearn.datasets import (KGDataset, Vocabulary,
                                              load_dataset, load_tsv_kg,
                                              make_synthetic_kg, save_tsv_kg)
from torch_geometric_unlearn.kge import LinkPredictionEvaluator, \
    load_checkpoint

from tests.cli.utils import TINY, run_cli


def test_train_then_evaluate(tmp_path, capsys):
    data = 'synthetic:entities=120,relations=10,triples=1500'
    ckpt = str(tmp_path / 'm.pt')
    rc = main(['train', '--data', data, '--model', 'distmult', '--dim', '16',
               '--epochs', '2', '--loss', 'bce', '--negatives', '4',
               '--quiet', '--out', ckpt])
    assert rc == 0
    loaded = load_checkpoint(ckpt)
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
    # Its TSV dump names the entities in another order than their ids: it
    # is read with the checkpoint's ids, so the metrics are the same.
    save_tsv_kg(kg, str(tmp_path / 'dump'))
    rc = main(['evaluate', '--data', str(tmp_path / 'dump'), '--checkpoint',
               ckpt, '--quiet', '--out', out])
    assert rc == 0
    with open(out) as f:
        assert json.load(f)['mrr'] == direct['mrr']


def _lines(path):
    return path.read_text().splitlines()


@pytest.fixture(scope='module')
def tsv_model(tmp_path_factory):
    r"""A DistMult trained on a TSV directory whose test file mentions two
    entities that no other file has (so the model has more entities than a
    directory without them), and that directory."""
    root = tmp_path_factory.mktemp('tsv')
    kg = make_synthetic_kg(num_entities=150, num_relations=8,
                           num_triples=1800, seed=3)
    full = root / 'full'
    save_tsv_kg(kg, str(full), compress=False)
    rel = kg.relation_vocab.name(0)
    with open(full / 'test.tsv', 'a') as f:
        f.write(f'fresh0\t{rel}\te1\ne2\t{rel}\tfresh1\n')
    ckpt = str(root / 'm.pt')
    rc, _, err = run_cli(['train', '--data', str(full), '--model',
                          'distmult', '--dim', '8', '--epochs', '1',
                          '--quiet', '--out', ckpt])
    assert rc == 0, err
    return dict(root=root, full=full, ckpt=ckpt)


def _subset(tsv_model, name, test_lines):
    r"""A directory with the original train and valid files and the given
    test lines."""
    d = tsv_model['root'] / name
    d.mkdir()
    for split in ('train', 'valid'):
        shutil.copy(tsv_model['full'] / f'{split}.tsv', d / f'{split}.tsv')
    (d / 'test.tsv').write_text('\n'.join(test_lines) + '\n')
    return d


def test_evaluate_test_subset_agrees_with_the_python_api(tsv_model, tmp_path):
    full = load_tsv_kg(str(tsv_model['full']))
    ckpt = load_checkpoint(tsv_model['ckpt'])
    assert ckpt['entity_vocab'] == full.entity_vocab.to_list()
    lines = _lines(tsv_model['full'] / 'test.tsv')[:40]
    assert not any('fresh' in line for line in lines)
    subset = _subset(tsv_model, 'subset', lines)
    # The directory alone has fewer entities than the model.
    assert load_tsv_kg(str(subset)).num_entities == full.num_entities - 2
    out = str(tmp_path / 'metrics.json')
    rc, _, err = run_cli(['evaluate', '--data', str(subset), '--checkpoint',
                          tsv_model['ckpt'], '--quiet', '--out', out])
    assert rc == 0, err
    with open(out) as f:
        metrics = json.load(f)

    test = full.encode([line.split('\t') for line in lines])
    ev = LinkPredictionEvaluator(full.num_entities, full.num_relations,
                                 [full.train, full.valid, test])
    direct = ev.evaluate(ckpt['module'], test)
    assert metrics['count'] == direct['count'] == 2 * 40
    for key in ('mrr', 'mr', 'hits@1', 'hits@3', 'hits@10'):
        assert metrics[key] == direct[key], key


def test_evaluate_unknown_name_is_a_clear_error(tsv_model):
    lines = _lines(tsv_model['full'] / 'test.tsv')[:5]
    rel = lines[0].split('\t')[1]
    subset = _subset(tsv_model, 'unknown',
                     lines + [f'e1\t{rel}\tstranger', 'e2\tno_rel\te3'])
    rc, _, err = run_cli(['evaluate', '--data', str(subset), '--checkpoint',
                          tsv_model['ckpt'], '--quiet'])
    assert rc == 2
    assert err.startswith('error:')
    assert "'stranger' (line 6)" in err and 'test.tsv' in err
    assert tsv_model['ckpt'] in err


def test_saved_dataset_compares_the_whole_vocabulary(tsv_model, tmp_path):
    full = load_tsv_kg(str(tsv_model['full']))
    same = str(tmp_path / 'same.pt')
    full.save(same)
    rc, _, err = run_cli(['evaluate', '--data', same, '--checkpoint',
                          tsv_model['ckpt'], '--quiet'])
    assert rc == 0, err
    names = full.entity_vocab.to_list()
    names[140] = 'renamed'  # past the first 100 names
    other = KGDataset(full.train, full.valid, full.test,
                      entity_vocab=Vocabulary(names),
                      relation_vocab=full.relation_vocab)
    other.save(str(tmp_path / 'other.pt'))
    rc, _, err = run_cli(['evaluate', '--data', str(tmp_path / 'other.pt'),
                          '--checkpoint', tsv_model['ckpt'], '--quiet'])
    assert rc == 2
    assert 'vocabularies differ' in err and "id 140 is '" in err
    assert "'renamed' in the data" in err


def _with_nan(ckpt, path, row=7):
    state = torch.load(ckpt, weights_only=False)
    state['model']['node_emb.weight'][row, 1] = float('nan')
    torch.save(state, str(path))
    return str(path)


def test_non_finite_checkpoint_is_refused(meta_trained, tmp_path):
    bad = _with_nan(meta_trained['ckpt'], tmp_path / 'nan.pt')
    out = tmp_path / 'metrics.json'
    rc, text, err = run_cli(['evaluate', '--data', TINY, '--checkpoint', bad,
                             '--quiet', '--out', str(out)])
    assert rc == 2
    assert err == (f"error: the model of '{bad}' holds non-finite values in "
                   f"'node_emb.weight' at rows 7\n")
    assert text == '' and not out.exists()


def test_evaluate_outputs(meta_trained, tmp_path, monkeypatch):
    ckpt = meta_trained['ckpt']
    before = open(ckpt, 'rb').read()
    rc, _, err = run_cli(['evaluate', '--data', TINY, '--checkpoint', ckpt,
                          '--quiet', '--out', ckpt])
    assert rc == 2
    assert 'is the same file as the input' in err
    assert open(ckpt, 'rb').read() == before
    # A missing directory is created; the metrics are written atomically:
    # a failed write keeps the previous file.
    out = tmp_path / 'new' / 'metrics.json'
    rc, _, err = run_cli(['evaluate', '--data', TINY, '--checkpoint', ckpt,
                          '--quiet', '--out', str(out)])
    assert rc == 0, err
    first = out.read_text()
    assert json.loads(first)['count'] > 0

    def no_rename(src, dst):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'replace', no_rename)
    with pytest.raises(OSError, match='disk full'):
        run_cli(['evaluate', '--data', TINY, '--checkpoint', ckpt, '--quiet',
                 '--out', str(out)])
    assert out.read_text() == first
    assert os.listdir(out.parent) == ['metrics.json']


@pytest.mark.parametrize('argv,message', [
    (['--batch-size', '0'], "argument --batch-size: must be a positive "
     "integer (got '0')"),
    (['--device', 'bogus'], "argument --device: 'bogus' is not a device"),
])
def test_evaluate_options(meta_trained, argv, message):
    rc, _, err = run_cli(['evaluate', '--data', TINY, '--checkpoint',
                          meta_trained['ckpt']] + argv)
    assert rc == 2
    assert err.splitlines()[-1].startswith(f'error: {message}')


@pytest.mark.parametrize('legacy', [False, True])
@pytest.mark.parametrize('share', [0.1, 0.5, 0.95])
@pytest.mark.parametrize('command', ['evaluate', 'meta-train'])
def test_truncated_checkpoint(meta_trained, tmp_path, legacy, share,
                              command):
    path = tmp_path / 'cut.pt'
    torch.save(torch.load(meta_trained['ckpt'], weights_only=False),
               str(path), _use_new_zipfile_serialization=not legacy)
    data = path.read_bytes()
    path.write_bytes(data[:int(share * len(data))])
    argv = [command, '--data', TINY, '--checkpoint', str(path), '--quiet']
    if command == 'meta-train':
        argv += ['--out', str(tmp_path / 'metaeu.pt')]
    rc, _, err = run_cli(argv)
    assert rc == 2
    assert err.startswith(f"error: '{path}' is not a KGE checkpoint")
    assert len(err.splitlines()) == 1
