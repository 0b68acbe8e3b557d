import pytest

from torch_geometric_unlearn.cli import main
from torch_geometric_unlearn.cli.rec_bench import load_rec_dataset


def test_load_rec_dataset(tmp_path):
    data = load_rec_dataset('synthetic')
    assert data.num_users > 0 and data.num_items > 0
    (tmp_path / 'train.tsv').write_text('0\t0\n1\t1\n0\t1\n')
    (tmp_path / 'test.tsv').write_text('1\t0\n')
    data = load_rec_dataset(str(tmp_path))
    assert data.num_users == 2 and data.num_items == 2


@pytest.mark.parametrize('argv,message', [
    (['--data', '/no/dir'], "--data '/no/dir' is neither 'synthetic'"),
    (['--data', 'tsv'], "no 'test' file in 'tsv'"),
    (['--methods', 'nope'], 'unknown method'),
    (['--shards', '0'], '--shards must be positive'),
    (['--lr', '-1'], '--lr must be positive'),
])
def test_rec_bench_errors(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'tsv').mkdir()
    (tmp_path / 'tsv' / 'train.tsv').write_text('0\t0\n')
    assert main(['rec-bench', '--epochs', '1'] + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith('error:') and message in err, err
