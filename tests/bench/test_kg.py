import json

import pytest
import torch

from torch_geometric_unlearn.baselines import Retrain
from torch_geometric_unlearn.bench import (METHODS, METRIC_KEYS, OUTCOMES,
                                           SCHEMA, KGBench, UndertrainedError,
                                           build_method, format_markdown,
                                           format_table, method_class,
                                           parse_methods, run, run_bench)
from torch_geometric_unlearn.cli import main
from torch_geometric_unlearn.datasets import make_synthetic_kg

DATA = 'synthetic:entities=150,relations=8,triples=1500'
QUIET = dict(log=lambda m: None)


@pytest.fixture(scope='module')
def kg():
    return make_synthetic_kg(num_entities=150, num_relations=8,
                             num_triples=1500, seed=0)


@pytest.fixture(scope='module')
def result(kg):
    with pytest.warns(UserWarning):  # the tiny models are under-trained
        return run_bench(kg, 'distmult', ['metaeu', 'finetune', 'sisa'],
                         forget_ratio=0.02, dim=8, epochs=2, episodes=4,
                         **QUIET)


@pytest.fixture(scope='module')
def sequential(kg):
    with pytest.warns(UserWarning):
        return run_bench(kg, 'distmult', ['finetune'], forget_ratio=0.02,
                         steps=2, dim=8, epochs=2, retain_relearn_epochs=1,
                         **QUIET)


def _check_m(m):
    assert set(m) == set(METRIC_KEYS)
    assert 0 <= m['mrr'] <= 1 and m['mr'] >= 1


def _check_training(t, epochs):
    assert t['outcome'] in OUTCOMES
    assert 1 <= t['epochs_run'] <= epochs == t['max_epochs']
    assert isinstance(t['best_valid_mrr'], float)
    assert t['valid_curve'][-1][0] == t['epochs_run']
    assert t['seconds'] > 0 and t['cached'] is False


def test_schema(result):
    assert result['schema'] == SCHEMA
    for key in ('dataset', 'model', 'seed', 'dim', 'epochs', 'recipe',
                'checks', 'forget', 'original', 'methods'):
        assert key in result
    assert result['dim'] == result['recipe']['dim'] == 8
    assert result['recipe']['train']['epochs'] == result['epochs'] == 2
    assert result['recipe']['train']['loss'] == 'softmax'  # the recipe's
    assert result['recipe']['budget_minutes'] == 30.0
    assert result['checks'] == dict(mrr_floor=0.05, rise_tolerance=1e-3,
                                    strict=False)
    f = result['forget']
    assert f['kind'] == 'ratio' and f['steps'] == 1 and f['count'] > 0
    assert [r['count'] for r in f['requests']] == [f['count']]
    o = result['original']
    for split in ('test', 'forget', 'retain'):
        _check_m(o[split])
    assert o['seconds'] > 0
    _check_training(o['training'], 2)
    assert set(o['undertrained']) == {'flag', 'reasons'}
    # retrain always runs first, as the reference.
    assert list(result['methods']) == ['retrain', 'metaeu', 'finetune',
                                       'sisa']
    for name, e in result['methods'].items():
        for split in ('test', 'forget', 'retain'):
            _check_m(e[split])
            assert set(e['gap'][split]) == set(METRIC_KEYS)
        for key in ('mia_auc', 'mrr_avg', 'mrr_f1', 'seconds',
                    'setup_seconds', 'peak_mb'):
            assert isinstance(e[key], float), (name, key)
        assert 0 <= e['mia_auc'] <= 1 and e['peak_mb'] > 0
        assert e['mrr_avg'] == pytest.approx(
            (e['retain']['mrr'] + 1 - e['forget']['mrr']) / 2)
        assert e['earlier_forget_mrr'] == []
        assert len(e['steps']) == 1
        assert e['steps'][0]['test'] == e['test']
        # Every method has the same columns; a missing value says why.
        for key in ('relearn_before_mrr', 'relearn_forget_mrr',
                    'retain_relearn_forget_mrr'):
            assert key in e
            assert (e[key] is None) == (key in e['unavailable'])
    assert all(v == 0 for v in
               result['methods']['retrain']['gap']['test'].values())
    ref = result['methods']['retrain']
    _check_training(ref['training'], 2)
    assert set(ref['undertrained']) == {'flag', 'reasons'}
    assert result['methods']['metaeu']['setup_seconds'] > 0
    for name in ('retrain', 'metaeu', 'finetune'):
        assert result['methods'][name]['unavailable'] == {}
        assert isinstance(result['methods'][name]['relearn_forget_mrr'],
                          float)
    json.dumps(result, allow_nan=False)  # strict JSON
    table = format_table(result)
    assert 'retrain' in table and 'sisa' in table and 'MRR_F1' in table
    md = format_markdown(result, 'python x.py')
    assert md.startswith('# ') and '| sisa |' in md and 'python x.py' in md


def test_sisa_relearning_unavailable(result):
    e = result['methods']['sisa']
    assert e['relearn_forget_mrr'] is None
    assert e['retain_relearn_forget_mrr'] is None
    assert set(e['unavailable']) == {'relearn_before_mrr',
                                     'relearn_forget_mrr',
                                     'retain_relearn_forget_mrr'}
    assert 'ShardEnsemble cannot be fine-tuned' in \
        e['unavailable']['relearn_forget_mrr']
    assert 'no relearn_forget_mrr' in format_table(result)


def test_sequential_requests(kg, sequential):
    f = sequential['forget']
    assert f['steps'] == 2 and len(f['requests']) == 2
    assert f['count'] == sum(r['count'] for r in f['requests'])
    for name, e in sequential['methods'].items():
        assert len(e['steps']) == 2
        assert [len(s['earlier_forget_mrr']) for s in e['steps']] == [0, 1]
        assert e['test'] == e['steps'][1]['test']
        assert e['gap'] == e['steps'][1]['gap']
    ref = sequential['methods']['retrain']
    assert [s['gap']['forget']['mrr'] for s in ref['steps']] == [0.0, 0.0]
    assert len(sequential['original']['steps']) == 2
    assert 'earlier requests' in format_table(sequential)


def test_sequential_reference_excludes_everything_forgotten(kg):
    kb = KGBench(kg, 'distmult', dim=8, epochs=2, **QUIET)
    first, second = kb.draw(forget_ratio=0.02, steps=2)
    gone = torch.cat([first.triples, second.triples])
    keys = {tuple(t) for t in gone.tolist()}
    assert len(keys) == first.count + second.count  # disjoint requests
    kept = second.retained
    kept_keys = {(h, r, t) for h, r, t in zip(
        kept.edge_index[0].tolist(), kept.edge_type.tolist(),
        kept.edge_index[1].tolist())}
    assert not kept_keys & keys
    assert kept.num_edges == kg.train.num_edges - len(keys)
    ref = kb.train_reference(1).model
    original = kb.train_original().model
    # The same model as the Retrain baseline asked to forget both requests.
    baseline = Retrain(original, kg.train, config=kb.spec.config,
                       valid=kg.valid, filter_data=kb.filter_data(1),
                       seed=kb.seed).unlearn(gone).model
    for a, b in zip(ref.state_dict().values(),
                    baseline.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize('kind', ['hub', 'cluster'])
def test_hard_forget_kinds(kg, kind):
    with pytest.warns(UserWarning):
        r = run_bench(kg, 'distmult', ['finetune'], forget_ratio=0.02,
                      forget_kind=kind, dim=8, epochs=1,
                      retain_relearn_epochs=0, **QUIET)
    assert r['forget']['kind'] == kind
    assert r['forget']['count'] == round(0.02 * kg.train.num_edges)
    assert r['methods']['finetune']['unavailable'] == {
        'retain_relearn_forget_mrr': 'disabled (retain_relearn_epochs=0)'}


def test_strict_raises_on_undertrained(kg):
    with pytest.raises(UndertrainedError, match='below the floor'):
        run_bench(kg, 'distmult', ['finetune'], forget_ratio=0.02, dim=8,
                  epochs=1, mrr_floor=0.99, strict=True, **QUIET)


def test_models_dir_reuses_trained_models(kg, tmp_path):
    kw = dict(forget_ratio=0.02, dim=8, epochs=2, models_dir=str(tmp_path),
              retain_relearn_epochs=0, relearn_epochs=0, **QUIET)
    with pytest.warns(UserWarning):
        a = run_bench(kg, 'distmult', ['retrain'], **kw)
        b = run_bench(kg, 'distmult', ['retrain'], **kw)
    assert len(list(tmp_path.glob('*.pt'))) == 2
    assert a['original']['training']['cached'] is False
    assert b['original']['training']['cached'] is True
    assert b['methods']['retrain']['training']['cached'] is True
    assert a['methods']['retrain']['test'] == b['methods']['retrain']['test']
    assert a['original']['seconds'] == b['original']['seconds']


def test_single_triple_seconds(kg):
    kb = KGBench(kg, 'distmult', dim=8, epochs=1, **QUIET)
    kb.draw(forget_ratio=0.02)
    method, _ = build_method('metaeu', kb.context(
        options={'metaeu': dict(episodes=0)}))
    seconds = kb.single_triple_seconds(method, 3)
    assert len(seconds) == 3 and all(s > 0 for s in seconds)
    assert len(method.records) == 4  # one warm-up, three timed


def test_metaeu_meta_training_budget(kg):
    from torch_geometric_unlearn.bench.methods import META_BUDGET
    kb = KGBench(kg, 'distmult', dim=8, epochs=1, **QUIET)
    kb.draw(forget_ratio=0.02)
    ctx = kb.context(episodes=0)
    seconds = kb.original.info['seconds']
    assert ctx.train_seconds == seconds > 0
    method, _ = build_method('metaeu', ctx)
    # A share of the original's training time, in minutes ...
    assert method.config.max_minutes == pytest.approx(
        META_BUDGET * seconds / 60)
    # ... unless the options set it; and the training loss's family.
    ctx.options = {'metaeu': dict(episodes=0, max_minutes=0.0)}
    method, _ = build_method('metaeu', ctx)
    assert method.config.max_minutes == 0.0
    assert kb.spec.config.loss == 'softmax' and \
        method.config.loss == 'softmax'


def test_run_dispatches(kg):
    with pytest.raises(ValueError, match='unknown task'):
        run('nope', kg)
    with pytest.raises(ValueError, match='exactly one'):
        run('kg', kg, dim=8, epochs=1, **QUIET)


@pytest.mark.parametrize('kw', [
    dict(forget_ratio=0.02, forget_kind='nope'),
    dict(forget_entities=2, forget_kind='hub'),
    dict(forget_entities=2, steps=2),
    dict(forget_ratio=0.02, steps=0),
])
def test_bad_requests(kg, kw):
    with pytest.raises(ValueError):
        run_bench(kg, 'distmult', ['finetune'], dim=8, epochs=1, **kw,
                  **QUIET)


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


def test_methods_come_from_the_registry():
    from torch_geometric_unlearn.unlearner import get_method
    for name in METHODS:
        assert method_class(name) is get_method(name)
    with pytest.raises(ValueError):
        method_class('nope')


def test_a_typed_kg_runs_through_the_harness():
    # A TypedKGDataset is a KGDataset: the harness trains, forgets and
    # measures on its homogeneous view, with the typed mapping kept.
    from torch_geometric_unlearn.datasets import TypedKGDataset
    typed = make_synthetic_kg(num_entities=150, num_relations=8,
                              num_triples=1500, seed=0, num_types=3)
    assert isinstance(typed, TypedKGDataset)
    with pytest.warns(UserWarning):
        r = run_bench(typed, 'distmult', ['metaeu', 'influence'],
                      forget_ratio=0.02, dim=8, epochs=1, episodes=2,
                      retain_relearn_epochs=0, **QUIET)
    assert set(r['methods']) == {'retrain', 'metaeu', 'influence'}
    assert r['forget']['count'] == round(0.02 * typed.train.num_edges)
    for name in ('metaeu', 'influence'):
        assert 0.0 < r['methods'][name]['test']['mrr'] <= 1.0
