r"""``benchmarks/hetero_kg_unlearn.py`` runs end to end on tiny settings:
the synthetic typed KG with a typed edge-id request and with a typed
entity, a TSV directory with an entity-type file, and bad arguments (in
process, through the script's ``main``, to keep the test fast)."""
import os.path as osp
import runpy

import pytest

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SCRIPT = osp.join(ROOT, 'benchmarks', 'hetero_kg_unlearn.py')
TINY = ['--entities', '120', '--triples', '1200', '--num-types', '3',
        '--dim', '8', '--epochs', '2', '--episodes', '3', '--forget', '4']


@pytest.fixture(scope='module')
def script():
    return runpy.run_path(SCRIPT, run_name='script_test')


def _main(script, capsys, *args):
    script['main'](list(args))
    return capsys.readouterr().out


def _table(stdout):
    r"""``{model: (test MRR, forget MRR, seconds)}`` of the printed
    table."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines)
                 if line.split()[:1] == ['model'])
    rows = {}
    for line in lines[start + 1:start + 4]:
        name, *values = line.split()
        rows[name] = tuple(float(v) for v in values)
    return rows


def _check_rows(stdout):
    rows = _table(stdout)
    assert list(rows) == ['original', 'retrained', 'MetaEU']
    for test, forget, seconds in rows.values():
        assert 0.0 < test <= 1.0 and 0.0 < forget <= 1.0 and seconds >= 0


def test_script_runs_on_a_synthetic_typed_kg(script, capsys):
    out = _main(script, capsys, *TINY)
    assert 'request: 4 triple(s) of' in out
    _check_rows(out)


def test_script_serves_a_typed_entity(script, capsys):
    out = _main(script, capsys, *TINY, '--entity', 'type1:0')
    assert "request: entity ('type1', 0)" in out
    _check_rows(out)


def test_script_reads_a_tsv_directory_with_types(script, capsys, tmp_path):
    root = tmp_path / 'kg'
    root.mkdir()
    names = [f'p{i}' for i in range(12)] + [f'c{i}' for i in range(4)]
    train = [f'p{i}\tlives_in\tc{i % 4}' for i in range(12)]
    train += [f'p{i}\tknows\tp{(i + 1) % 12}' for i in range(12)]
    train += [f'c{i}\tborders\tc{(i + 1) % 4}' for i in range(4)]
    (root / 'train.tsv').write_text('\n'.join(train) + '\n')
    (root / 'valid.tsv').write_text('p0\tknows\tp2\n')
    (root / 'test.tsv').write_text('p1\tknows\tp3\n')
    types = tmp_path / 'types.tsv'
    types.write_text(''.join(f'{n}\t{"person" if n[0] == "p" else "city"}\n'
                             for n in names))
    out = _main(script, capsys, '--data', str(root), '--types', str(types),
                '--dim', '8', '--epochs', '2', '--episodes', '2',
                '--forget', '2', '--edge-type', 'person,lives_in,city')
    assert "2 triple(s) of ('person', 'lives_in', 'city')" in out
    assert '16 entities of 2 types, 3 edge types, 28 training' in out
    assert 'retained typed graph: 26 triples' in out


@pytest.mark.parametrize('args,message', [
    (['--data', 'somewhere'], '--data needs --types'),
    (['--entity', 'nocolon'], "'node_type:index'"),
    (['--edge-type', 'a,b'], "'head_type,relation,tail_type'"),
    (['--forget', '0'], '--forget must be at least 1'),
])
def test_script_rejects_bad_arguments(script, capsys, args, message):
    with pytest.raises(SystemExit) as exc:
        script['main'](args)
    assert exc.value.code == 2
    assert message in capsys.readouterr().err


def test_argument_parsers(script):
    assert script['parse_edge_type']('a,r,b') == ('a', 'r', 'b')
    assert script['parse_entity']('my:type:3') == ('my:type', 3)
