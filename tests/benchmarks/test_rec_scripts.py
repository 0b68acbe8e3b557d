r"""The recommendation benchmark scripts (``benchmarks/bench_rec.py``,
``benchmarks/bench_rec_config.py``) end to end on the synthetic
interactions, in a subprocess as a user runs them."""
import json
import os
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = dict(model='mf', dim=8, epochs=1, batch_size=512, num_shards=2,
            users_per_step=32)


def _run(name, *args):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    return subprocess.run(
        [sys.executable, osp.join(ROOT, 'benchmarks', name), *args],
        capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)


def test_bench_rec_config_appends_one_line_per_run(tmp_path):
    out = tmp_path / 'probes.jsonl'
    for method in ('eemu', 'sisa'):
        proc = _run('bench_rec_config.py', '--method', method, '--base',
                    json.dumps(TINY), '--config', '{"shard_lr": 0.02}',
                    '--out', str(out))
        assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x['method'] for x in lines] == ['eemu', 'sisa']
    for x in lines:
        assert x['config'] == {**TINY, 'shard_lr': 0.02}
        assert len(x['shard_seconds']) == 2
        assert 0.0 < x['recall20'] <= 1.0
        assert x['threads'] == 1
    # stdout is the same JSON line
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == lines[-1]


def test_bench_rec_config_rejects_bad_json_and_bad_fields(tmp_path):
    proc = _run('bench_rec_config.py', '--config', '{users: 3}')
    assert proc.returncode == 2 and 'JSON' in proc.stderr
    proc = _run('bench_rec_config.py', '--base', json.dumps(TINY),
                '--config', '{"negatives": 0}')
    assert proc.returncode != 0 and 'negatives' in proc.stderr


def test_bench_rec_writes_table_and_json(tmp_path):
    md, js = tmp_path / 'r.md', tmp_path / 'r.json'
    proc = _run('bench_rec.py', '--methods', 'eemu,sisa', '--dim', '8',
                '--epochs', '1', '--batch-size', '512', '--shards', '2',
                '--users-per-step', '32', '--delete-users', '1',
                '--threads', '1', '--md', str(md), '--out', str(js))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(js.read_text())
    assert set(result['methods']) == {'eemu', 'sisa'}
    assert result['threads'] == 1 and result['world_size'] == 1
    assert result['config']['negatives'] == 4
    for entry in result['methods'].values():
        assert entry['exact_check']['equal'] is True
    text = md.read_text()
    assert text.splitlines()[3].startswith('python ')
    assert '| eemu |' in text and '| sisa |' in text
