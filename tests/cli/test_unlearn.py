import json
import os.path as osp
import re

import pytest
import torch

from torch_geometric_unlearn.cli.unlearn import report_path
from torch_geometric_unlearn.datasets import (KGDataset, load_dataset,
                                              to_triples)
from torch_geometric_unlearn.kge import load_checkpoint

from tests.cli.utils import TINY, run_cli


def _unlearn(meta_trained, *args):
    return run_cli(['unlearn', '--data', TINY, '--checkpoint',
                    meta_trained['ckpt'], '--metaeu', meta_trained['metaeu'],
                    *args])


def test_report_path():
    assert report_path('out/new.pt') == 'out/new.json'
    assert report_path('new.json') == 'new.report.json'


def test_unlearn_forget_file(meta_trained, tmp_path):
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
    rc, out, err = run_cli(['unlearn', '--data', str(tmp_path / 'retained.pt'),
                            '--checkpoint', str(tmp_path / 'b.pt'),
                            '--metaeu', meta_trained['metaeu'], '--entity',
                            head, '--entity', '7', '--out',
                            str(tmp_path / 'c.pt')])
    assert rc == 0, err
    assert 'warning' not in err and 'ForgetEntity' in out
    # ... while the original data with an unlearned checkpoint warns.
    rc, out, err = run_cli(['unlearn', '--data', TINY, '--checkpoint',
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
    (['--ratio', '0.1', '--ensemble', '0'], '--ensemble must be positive'),
    (['--ratio', '0.1', '--num-hops', '-1'],
     '--num-hops must be non-negative'),
])
def test_unlearn_errors(meta_trained, tmp_path, monkeypatch, args, message):
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
    rc, _, err = run_cli(['unlearn', '--data', TINY, '--checkpoint',
                          meta_trained['ckpt'], '--metaeu',
                          meta_trained['ckpt'], '--ratio', '0.01', '--out',
                          str(tmp_path / 'x.pt')])
    assert rc == 2 and 'is not a saved MetaEU' in err
