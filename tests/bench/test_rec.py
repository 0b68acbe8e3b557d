import json

import pytest

from torch_geometric_unlearn.bench import (REC_METRICS, REC_SCHEMA,
                                           format_rec_markdown,
                                           format_rec_table,
                                           parse_rec_methods, run,
                                           run_rec_bench, train_curve)
from torch_geometric_unlearn.cli import main
from torch_geometric_unlearn.rec import (RecTrainConfig, build_recommender,
                                         make_synthetic_interactions)


def test_parse_methods():
    assert parse_rec_methods('all') == ['retrain', 'eemu', 'sisa',
                                        'finetune']
    assert parse_rec_methods('sisa, eemu') == ['eemu', 'sisa']
    with pytest.raises(ValueError, match='unknown'):
        parse_rec_methods('eemu,magic')


def test_run_rec_bench_schema():
    d = make_synthetic_interactions(num_users=120, num_items=80,
                                    mean_interactions=12, seed=2)
    r = run_rec_bench(d, model='mf', dim=8, epochs=2, batch_size=256,
                      num_shards=2, delete_users=2, log=lambda m: None)
    assert r['schema'] == REC_SCHEMA
    assert len(r['requests']['users']) == 2
    assert set(r['methods']) == {'retrain', 'eemu', 'sisa', 'finetune'}
    for name, e in r['methods'].items():
        assert set(e['before']) == set(REC_METRICS) == set(e['after'])
        assert len(e['request_seconds']) == 2 and e['speedup'] > 0
        if name in ('eemu', 'sisa'):
            assert e['exact_check']['equal'] is True
            assert all(len(s) == 1 for s in e['shards_retrained'])
        else:
            assert e['exact_check'] is None
    json.dumps(r)
    assert 'eemu' in format_rec_table(r)
    md = format_rec_markdown(r, 'python x.py')
    assert '| eemu |' in md and 'python x.py' in md
    with pytest.raises(ValueError):
        run_rec_bench(d, delete_users=0)


def test_run_rec_task():
    d = make_synthetic_interactions(num_users=60, num_items=40,
                                    mean_interactions=8, seed=1)
    r = run('rec', d, methods=['retrain'], model='mf', dim=4, epochs=1,
            batch_size=128, log=lambda m: None)
    assert r['schema'] == REC_SCHEMA and list(r['methods']) == ['retrain']


def test_train_curve():
    d = make_synthetic_interactions(num_users=60, num_items=40,
                                    mean_interactions=8, seed=1)
    cfg = RecTrainConfig(model='mf', dim=4, epochs=3, batch_size=128)
    model = build_recommender(cfg, d.num_users, d.num_items)
    train, test = d.edge_index('train'), d.edge_index('test')
    curve = train_curve(model, train, test, d.num_items, cfg, eval_every=2,
                        log=lambda m: None)
    # Every second epoch and the last one.
    assert [c['epoch'] for c in curve] == [2, 3]
    assert all(0 <= c['recall@20'] <= 1 for c in curve)
    assert curve[0]['train_seconds'] <= curve[1]['train_seconds']


def test_cli_rec_bench(tmp_path, capsys):
    out = tmp_path / 'r.json'
    code = main(['rec-bench', '--methods', 'eemu,sisa', '--epochs', '1',
                 '--dim', '8', '--shards', '2', '--out', str(out)])
    assert code == 0
    r = json.loads(out.read_text())
    assert set(r['methods']) == {'eemu', 'sisa'}
    assert (tmp_path / 'r.png').stat().st_size > 0
    assert 'exact' in capsys.readouterr().out


@pytest.mark.parametrize('argv', [['--methods', 'nope'], ['--epochs', '0'],
                                  ['--shards', '0'], ['--data', '/no/dir'],
                                  ['--lr', '-1']])
def test_cli_rec_bench_errors(argv, capsys):
    assert main(['rec-bench'] + argv) == 2
    assert 'error:' in capsys.readouterr().err
