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
    # ... and with the original data: the request starts from the retained
    # graph the checkpoint carries, so nothing forgotten comes back.
    rc, out, err = run_cli(['unlearn', '--data', TINY, '--checkpoint',
                            str(tmp_path / 'b.pt'), '--metaeu',
                            meta_trained['metaeu'], '--relation',
                            kg.relation_vocab.name(1), '--out',
                            str(tmp_path / 'd.pt')])
    assert rc == 0, err
    d = load_checkpoint(str(tmp_path / 'd.pt'))
    info = d['unlearning']
    assert info['request'].startswith('ForgetRelation')
    b_retained = load_checkpoint(str(tmp_path / 'b.pt'))['unlearning'][
        'retained']
    assert info['num_forget'] == int((b_retained['edge_type'] == 1).sum())
    assert len(info['ledger']) == 2
    assert torch.is_tensor(d['model']['node_emb.weight'])
    lines = open(str(tmp_path / 'd.ledger.jsonl')).read().splitlines()
    assert [json.loads(x)['index'] for x in lines] == [0, 1]


def _mrr(ckpt_path, triples, retained):
    from torch_geometric_unlearn.kge import LinkPredictionEvaluator
    kg = load_dataset(TINY)
    ev = LinkPredictionEvaluator(kg.num_entities, kg.num_relations,
                                 [retained, kg.valid, kg.test])
    return ev.evaluate(load_checkpoint(ckpt_path)['module'], triples)['mrr']


def test_a_second_unlearn_never_relearns_the_first(meta_trained, tmp_path):
    # Finding 1: forget entity e5, then a triple next to it with one hop.
    kg = load_dataset(TINY)
    b, c = str(tmp_path / 'B.pt'), str(tmp_path / 'C.pt')
    rc, out, err = _unlearn(meta_trained, '--entity', 'e5', '--out', b)
    assert rc == 0, err
    e5 = kg.entity_vocab.index('e5')
    rows = to_triples(kg.train)
    mine = rows[(rows[:, 0] == e5) | (rows[:, 2] == e5)]
    near = int(mine[0, 2] if int(mine[0, 0]) == e5 else mine[0, 0])
    other = rows[((rows[:, 0] == near) | (rows[:, 2] == near))
                 & (rows[:, 0] != e5) & (rows[:, 2] != e5)][:1]
    forget = tmp_path / 'c.tsv'
    forget.write_text('\t'.join(kg.decode(other)[0]) + '\n')
    rc, out, err = run_cli(['unlearn', '--data', TINY, '--checkpoint', b,
                            '--metaeu', meta_trained['metaeu'], '--forget',
                            str(forget), '--num-hops', '1', '--out', c])
    assert rc == 0, err
    state = load_checkpoint(c)['unlearning']
    from torch_geometric_unlearn.datasets import TripleSet
    from torch_geometric_unlearn.verify import retained_graph
    retained = retained_graph(state, kg.num_entities, kg.num_relations)
    assert not bool(TripleSet.from_data(retained).contains_triples(
        mine).any())
    after_first = _mrr(b, mine, retained)
    after_second = _mrr(c, mine, retained)
    assert after_second <= after_first + 0.02
    # Asking to forget e5 again is refused, naming the first request.
    rc, out, err = run_cli(['unlearn', '--data', TINY, '--checkpoint', b,
                            '--metaeu', meta_trained['metaeu'], '--entity',
                            'e5', '--out', str(tmp_path / 'D.pt')])
    assert rc == 2 and 'already forgotten by request 0' in err
    assert not osp.exists(str(tmp_path / 'D.pt'))
    # verify passes on the chain, and fails on a swapped model file.
    rc, out, err = run_cli(['verify', '--data', TINY, '--checkpoint', c,
                            '--evidence'])
    assert rc == 0, out + err
    assert 'verified: every check passed' in out and 'mia_auc' in out
    ck = load_checkpoint(c)
    ck['model'] = load_checkpoint(meta_trained['ckpt'])['model']
    ck.pop('module')
    torch.save(ck, str(tmp_path / 'swapped.pt'))
    rc, out, err = run_cli(['verify', '--data', TINY, '--checkpoint',
                            str(tmp_path / 'swapped.pt')])
    assert rc == 1 and "FAIL  the model's hash matches the ledger" in out


def test_files_that_do_not_belong_together_are_refused(
        meta_trained, tmp_path):
    kg = load_dataset(TINY)
    # The original checkpoint with an already-reduced dataset.
    keep = torch.ones(kg.train.num_edges, dtype=torch.bool)
    keep[:10] = False
    reduced = KGDataset(kg.train.edge_subgraph(keep.nonzero().view(-1)),
                        kg.valid, kg.test, entity_vocab=kg.entity_vocab,
                        relation_vocab=kg.relation_vocab, name='reduced')
    reduced.save(str(tmp_path / 'reduced.pt'))
    for cmd in ('unlearn', 'evaluate'):
        args = ['--entity', 'e3', '--out', str(tmp_path / 'x.pt')] \
            if cmd == 'unlearn' else []
        rc, out, err = run_cli([cmd, '--data', str(tmp_path / 'reduced.pt'),
                                '--checkpoint', meta_trained['ckpt']] +
                               (['--metaeu', meta_trained['metaeu']]
                                if cmd == 'unlearn' else []) + args)
        assert rc == 2 and 'another training graph' in err, (cmd, err)
        assert 'reduced.pt' in err and 'complex.pt' in err
    # An output that is an input: refused before any work.
    rc, out, err = _unlearn(meta_trained, '--entity', 'e3', '--out',
                            meta_trained['metaeu'])
    assert rc == 2 and 'same file as the input' in err
    rc, out, err = _unlearn(meta_trained, '--entity', 'e3', '--out',
                            str(tmp_path / 'r.pt'), '--report',
                            str(tmp_path / 'r.pt'))
    assert rc == 2 and 'two outputs' in err
    # A report in a missing directory is made up front.
    rc, out, err = _unlearn(meta_trained, '--entity', 'e3', '--out',
                            str(tmp_path / 'r.pt'), '--report',
                            str(tmp_path / 'nodir' / 'r.json'))
    assert rc == 0, err
    assert osp.isfile(str(tmp_path / 'nodir' / 'r.json'))


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


@pytest.mark.parametrize('args,message', [
    (['--ratio', '1.5'], "argument --ratio: must be a number in (0, 1)"),
    (['--ratio', '0.1', '--ensemble', '0'],
     'argument --ensemble: must be a positive integer'),
    (['--ratio', '0.1', '--num-hops', '-1'],
     'argument --num-hops: must be a non-negative integer'),
    (['--ratio', '0.1', '--device', 'bogus'], 'argument --device'),
])
def test_unlearn_options_are_checked_at_parse_time(meta_trained, tmp_path,
                                                   args, message):
    out = str(tmp_path / 'new.pt')
    rc, _, err = _unlearn(meta_trained, *args, '--out', out)
    assert rc == 2 and message in err.splitlines()[-1], err
    assert not osp.exists(out)
