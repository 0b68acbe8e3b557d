import json
import os.path as osp
import runpy
import sys

from torch_geometric_unlearn.bench import scale

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def test_the_scale_script_runs_and_reports_every_size(
        tmp_path, monkeypatch, capsys):
    out, png = tmp_path / 'scale.json', tmp_path / 'scale.png'
    monkeypatch.setattr(sys, 'argv', [
        'bench_scale.py', '--sizes', '300,600', '--episodes', '1',
        '--repeats', '2', '--train-triples', '500', '--dim', '8',
        '--out', str(out), '--plot', str(png)])
    runpy.run_path(osp.join(ROOT, 'benchmarks', 'bench_scale.py'),
                   run_name='__main__')
    printed = capsys.readouterr().out
    assert 'ratio 600 / 300' in printed
    result = json.loads(out.read_text())
    assert [e['entities'] for e in result['entries']] == [300, 600]
    for e in result['entries']:
        assert set(e['requests']) == set(scale.REQUEST_KINDS)
        for kind, r in e['requests'].items():
            assert len(r['all']) == 2 and r['seconds'] > 0
            assert {'transform', 'subgraph', 'calibrate'} <= set(r['stages'])
        assert e['requests']['triple']['forgotten'] == 1
        assert e['requests']['triples_100']['forgotten'] == 100
    assert png.read_bytes()[:4] == b'\x89PNG'


def test_bad_sizes_are_refused(monkeypatch):
    import pytest
    monkeypatch.setattr(sys, 'argv', ['bench_scale.py', '--sizes', '10'])
    with pytest.raises(SystemExit):
        runpy.run_path(osp.join(ROOT, 'benchmarks', 'bench_scale.py'),
                       run_name='__main__')
