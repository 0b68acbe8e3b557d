r"""The scripts under ``benchmarks/`` run end to end on tiny data the tests
write themselves.

Each script has its own section below: a writer of its tiny input, one
end-to-end run through :func:`run_script` (a subprocess, as a user runs
it) asserting on the exit code and the printed table
(:func:`parse_table`), and in-process checks of its helpers through
:func:`load_script`."""
import gzip
import json
import os
import os.path as osp
import runpy
import subprocess
import sys

import pytest

from torch_geometric_unlearn.datasets import make_synthetic_kg

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPTS = osp.join(ROOT, 'benchmarks')


def run_script(name: str, *args: str, timeout: float = 300.0):
    r"""Runs ``benchmarks/<name>`` with :obj:`args` in a subprocess (one
    thread) and returns the completed process (stdout and stderr as
    text)."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=ROOT)
    return subprocess.run([sys.executable, osp.join(SCRIPTS, name), *args],
                          capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=ROOT)


def load_script(name: str) -> dict:
    r"""The namespace of ``benchmarks/<name>``, without running its
    ``main``."""
    return runpy.run_path(osp.join(SCRIPTS, name), run_name='script_test')


def parse_table(stdout: str) -> dict:
    r"""The rows of the markdown table a script prints, by first cell:
    ``{row name: [other cells]}`` (header and rule lines left out)."""
    lines = [line for line in stdout.splitlines() if line.startswith('|')]
    assert len(lines) >= 3, f'no table in:\n{stdout}'
    rows = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip('|').split('|')]
        rows[cells[0]] = cells[1:]
    return rows


# benchmarks/kge_fb15k_237_unlearn.py #########################################

KGE_SCRIPT = 'kge_fb15k_237_unlearn.py'
FB_FILES = {'train': 'train.txt', 'valid': 'valid.txt', 'test': 'test.txt'}


def fb15k237_lines(seed: int = 0) -> dict:
    r"""A few hundred triples as FB15k-237's raw lines (``head<TAB>relation
    <TAB>tail``, Freebase-like names), per split."""
    kg = make_synthetic_kg(num_entities=80, num_relations=8,
                           num_triples=600, seed=seed)
    out = {}
    for split in FB_FILES:
        d = kg[split]
        out[split] = ''.join(
            f'/m/0{h:03d}\t/rel/r{r}\t/m/0{t:03d}\n'
            for h, r, t in zip(d.edge_index[0].tolist(), d.edge_type.tolist(),
                               d.edge_index[1].tolist()))
    return out


def write_pyg_raw(root: str, lines: dict) -> None:
    os.makedirs(osp.join(root, 'raw'))
    for split, text in lines.items():
        with open(osp.join(root, 'raw', FB_FILES[split]), 'w') as f:
            f.write(text)


def test_kge_script_end_to_end(tmp_path):
    root = str(tmp_path / 'FB15k-237')
    lines = fb15k237_lines()
    write_pyg_raw(root, lines)
    out_json = str(tmp_path / 'report.json')
    proc = run_script(KGE_SCRIPT, '--root', root, '--tiny', '--quiet',
                      '--model', 'transe', '--forget-ratio', '0.05',
                      '--out', out_json)
    assert proc.returncode == 0, proc.stderr
    num_train = lines['train'].count('\n')
    assert f'80 entities, 8 relations, {num_train} / ' in proc.stdout

    rows = parse_table(proc.stdout)
    assert list(rows) == ['original', 'retrained', 'MetaEU']
    with open(out_json) as f:
        report = json.load(f)
    # 5 % of the training triples (FedLU's sampler rounds the count).
    assert report['num_forget'] == round(0.05 * num_train)
    assert f"Forgot {report['num_forget']} triples" in proc.stdout
    for name, cells in rows.items():
        test_mrr, forget_mrr = float(cells[0]), float(cells[1])
        seconds = float(cells[2].split()[0])
        assert 0.0 < test_mrr <= 1.0 and 0.0 < forget_mrr <= 1.0
        assert seconds > 0.0
        # The table prints what the JSON holds.
        fig = report['rows'][name]
        assert test_mrr == pytest.approx(fig['test_mrr'], abs=5e-5)
        assert forget_mrr == pytest.approx(fig['forget_mrr'], abs=5e-5)
    assert 'meta-training' in rows['MetaEU'][2]
    # Processing went into the given root only.
    assert osp.isfile(osp.join(root, 'processed', 'train_data.pt'))


def test_kge_script_stages_tsv_gz_directory(tmp_path):
    script = load_script(KGE_SCRIPT)
    lines = fb15k237_lines(seed=1)
    source = tmp_path / 'shared'
    source.mkdir()
    for split, text in lines.items():
        with gzip.open(source / f'{split}.tsv.gz', 'wt') as f:
            f.write(text)
    work = str(tmp_path / 'work')
    root, changed = script['pyg_root'](str(source), work)
    assert (root, changed) == (work, True)
    for split, name in FB_FILES.items():
        with open(osp.join(work, 'raw', name)) as f:
            assert f.read() == lines[split]
    # The same files again: nothing rewritten, PyG's processing kept.
    assert script['pyg_root'](str(source), work) == (work, False)
    # A PyG root is used as it is.
    assert script['pyg_root'](work, str(tmp_path / 'unused')) == \
        (work, False)
    assert not osp.exists(tmp_path / 'unused')


def test_kge_script_refuses_to_download(tmp_path):
    script = load_script(KGE_SCRIPT)
    with pytest.raises(SystemExit, match='never downloads'):
        script['pyg_root'](str(tmp_path), str(tmp_path / 'work'))


@pytest.mark.parametrize('flags, message', [
    (['--forget-ratio', '1.5'], 'forget-ratio must lie in'),
    (['--epochs', '0'], '--epochs must be >= 1'),
    (['--model', 'rescal'], 'invalid choice'),
])
def test_kge_script_rejects_bad_flags(flags, message, capsys):
    script = load_script(KGE_SCRIPT)
    with pytest.raises(SystemExit):
        script['parse_args'](['--root', 'x', *flags])
    assert message in capsys.readouterr().err


def test_kge_script_tiny_preset_keeps_given_flags():
    args = load_script(KGE_SCRIPT)['parse_args'](
        ['--root', 'x', '--tiny', '--epochs', '7'])
    assert (args.epochs, args.dim, args.episodes) == (7, 8, 2)


# bench_latency.py ###########################################################

def test_bench_latency_times_both_engines_on_the_same_requests(tmp_path):
    out = tmp_path / 'latency.json'
    proc = run_script('bench_latency.py', '--data', 'synthetic-tiny',
                      '--epochs', '1', '--count', '4', '--bulk', '1',
                      '--bulk-size', '12', '--out', str(out))
    assert proc.returncode == 0, proc.stderr
    assert 'autograd / auto: one triple' in proc.stdout
    rows = json.loads(out.read_text())['rows']
    assert [r['engine'] for r in rows] == ['auto', 'autograd']
    for r in rows:
        assert 0 < r['single_median_ms'] <= r['single_p95_ms']
        assert 'calibrate' in r['single_stage_median_ms']
        assert [b['triples'] for b in r['bulk']] == [12]
    assert rows[0]['bulk'][0]['affected'] == rows[1]['bulk'][0]['affected']
