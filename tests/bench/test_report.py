import json

from torch_geometric_unlearn.bench import (Timer, command_line, current_mb,
                                           markdown_table, peak_mb,
                                           peak_reset, repeat, timed,
                                           write_json, write_text)


def test_memory():
    peak_reset()
    assert peak_mb() > 0 and current_mb() > 0
    block = bytearray(64 * 2**20)
    assert peak_mb() >= current_mb() - 1
    del block


def test_timing():
    with Timer() as t:
        sum(range(1000))
    assert t.seconds >= 0 and t.elapsed == t.seconds
    out, seconds = timed(lambda x: x + 1, 1)
    assert out == 2 and seconds >= 0
    out, runs = repeat(lambda: 'x', 3)
    assert out == 'x' and len(runs) == 3


def test_write_json_is_strict(tmp_path):
    path = write_json(dict(a=float('nan'), b=[1.0, float('inf')], c='x'),
                      str(tmp_path / 'sub' / 'r.json'))
    assert json.loads(open(path).read()) == dict(a=None, b=[1.0, None],
                                                 c='x')
    assert not list((tmp_path / 'sub').glob('*.tmp*'))


def test_markdown(tmp_path):
    table = markdown_table(['a', 'b'], [[1, 'x'], [2, 'y']])
    assert table.splitlines() == ['| a | b |', '|---|---|', '| 1 | x |',
                                  '| 2 | y |']
    path = write_text(table, str(tmp_path / 'r.md'))
    assert open(path).read() == table + '\n'
    assert command_line(['s.py', '--x', 'a b']) == "python s.py --x 'a b'"
