r"""``benchmarks/wikikg2.py`` end to end on a tiny synthetic ogbl-wikikg2
(a subprocess, as a user runs it), and its OGB-evaluator check against
:class:`ogb.linkproppred.Evaluator` recomputed here from the model's own
``forward``."""
import json
import os
import os.path as osp
import runpy
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(ROOT, 'benchmarks', 'wikikg2.py')
TINY = ['--num-entities', '300', '--num-relations', '6', '--num-train',
        '3000', '--num-valid', '60', '--num-test', '80', '--num-neg', '20']
REQUESTS = ('one_triple', '100_triples', '0.1pct_triples', 'median_entity',
            'hub_entity')


def test_end_to_end_json_and_ogb_agreement(tmp_path):
    pytest.importorskip('ogb')
    out = str(tmp_path / 'result')
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    args = [*TINY, '--models', 'transe', '--dim', '16',
            '--budget-minutes', '0.02', '--compare-seconds', '0.1',
            '--episodes', '2', '--recipe-epochs', '1000', '--eval-max',
            '50', '--check-size', '40', '--eval-batch-size', '16',
            '--out', out]
    proc = subprocess.run([sys.executable, SCRIPT, *args],
                          capture_output=True, text=True, timeout=300,
                          env=env, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'SYNTHETIC' in proc.stdout

    with open(out + '.json') as f:
        report = json.load(f)
    assert report['synthetic'] is True
    assert report['command'].startswith('python benchmarks/wikikg2.py ')
    assert '--num-entities 300' in report['command']
    for key in ('load_peak_mb', 'train_peak_mb', 'retrain_seconds'):
        assert report[key] > 0, key
    assert isinstance(report['retrain_estimated'], bool)
    assert set(report['requests']) == set(REQUESTS)
    for kind in REQUESTS:
        assert report['requests'][kind]['seconds'] > 0
    assert set(report['triples_per_s']) == {'ours', 'pyg_loop',
                                            'ours_one_negative'}
    assert all(v > 0 for v in report['triples_per_s'].values())
    d = report['data']
    assert (d['entities'], d['relations'], d['train'], d['valid'],
            d['test'], d['num_neg']) == (300, 6, 3000, 60, 80, 20)
    assert d['neg_dtype'] == 'int32'

    m = report['models']['transe']
    assert m['eval_count'] == 2 * 50  # --eval-max, both sides
    check = m['ogb_check']
    assert check['size'] == 40 and check['ranks_equal'] is True
    assert check['ours_mrr'] == pytest.approx(check['ogb_mrr'], abs=1e-6)
    reqs = m['metaeu']['requests']
    assert reqs['one_triple']['forgotten'] == 1
    assert reqs['100_triples']['forgotten'] >= 100  # + duplicate triples
    assert reqs['0.1pct_triples']['forgotten'] >= 3  # 3000 // 1000
    assert reqs['hub_entity']['degree'] >= reqs['median_entity']['degree']
    # 1000 epochs cannot fit 1.2 s: retraining is estimated from the epoch
    # time.
    assert m['recipe_epochs'] == 1000 and m['epochs'] < 1000
    assert report['retrain_estimated'] is True
    assert m['retrain_seconds'] == pytest.approx(
        m['epoch_seconds'] * 1000, rel=1e-9)

    with open(out + '.md') as f:
        text = f.read()
    assert 'Synthetic data' in text and 'hub_entity' in text
    assert report['command'] in text


def test_ogb_check_against_forward_scores(tmp_path):
    r"""The script's check, run on a model and negatives made here, agrees
    with the OGB evaluator on scores from the model's ``forward`` (an
    independent path)."""
    from ogb.linkproppred import Evaluator

    from torch_geometric_unlearn.datasets import (load_ogb_wikikg2,
                                                  to_triples,
                                                  write_ogb_fixture)
    from torch_geometric_unlearn.kge import (LinkPredictionEvaluator,
                                             load_kge_model)
    ns = runpy.run_path(SCRIPT, run_name='script_test')
    write_ogb_fixture(str(tmp_path), 200, 5, 500, 30, 37, 9, seed=3)
    ds = load_ogb_wikikg2(str(tmp_path), mmap_dir=str(tmp_path / 'mm'))
    torch.manual_seed(0)
    model = load_kge_model('transe', 200, 5, 8, sparse=True)
    evaluator = LinkPredictionEvaluator(200, 5, batch_size=8)
    got = ns['ogb_check'](model, ds.test, ds.test.head_neg, ds.test.tail_neg,
                          evaluator, 37)
    h, r, t = to_triples(ds.test).unbind(1)
    k = ds.test.tail_neg.size(1)
    with torch.no_grad():
        pos = model(h, r, t)
        neg_t = model(h[:, None].expand(-1, k).reshape(-1),
                      r[:, None].expand(-1, k).reshape(-1),
                      ds.test.tail_neg.long().reshape(-1)).view(-1, k)
        neg_h = model(ds.test.head_neg.long().reshape(-1),
                      r[:, None].expand(-1, k).reshape(-1),
                      t[:, None].expand(-1, k).reshape(-1)).view(-1, k)
    expected = Evaluator(name='ogbl-wikikg2').eval(
        {'y_pred_pos': torch.cat([pos, pos]),
         'y_pred_neg': torch.cat([neg_h, neg_t])})['mrr_list']
    assert got['size'] == 37
    assert got['ogb_mrr'] == pytest.approx(float(expected.mean()), abs=1e-5)
