import pytest

from torch_geometric_unlearn import bench
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
])
def test_rec_bench_errors(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / 'tsv').mkdir()
    (tmp_path / 'tsv' / 'train.tsv').write_text('0\t0\n')
    assert main(['rec-bench', '--epochs', '1'] + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith('error:') and message in err, err


@pytest.fixture
def no_bench(monkeypatch):
    r"""The harness fails loudly: a test passes only if the command stops
    before any training."""
    def run_rec_bench(*args, **kwargs):
        raise AssertionError('the bench ran')

    monkeypatch.setattr(bench, 'run_rec_bench', run_rec_bench)


@pytest.mark.parametrize('argv,message', [
    (['--shards', '100000'], '--shards 100000 exceeds the 600 users of '
     'synthetic-rec-600x500 (a shard holds at least one user)'),
    (['--shards', '601'], '--shards 601 exceeds the 600 users'),
    (['--delete-users', '100000'], '--delete-users 100000 exceeds the '),
])
def test_impossible_requests_are_refused_before_training(argv, message,
                                                         capsys, no_bench):
    assert main(['rec-bench'] + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith('error:') and message in err, err


def test_delete_users_counts_users_with_interactions(tmp_path, capsys,
                                                     no_bench):
    (tmp_path / 'train.tsv').write_text('0\t0\n1\t1\n0\t1\n')
    (tmp_path / 'test.tsv').write_text('1\t0\n2\t1\n')  # 2: test only
    assert main(['rec-bench', '--data', str(tmp_path), '--shards', '3',
                 '--delete-users', '3']) == 2
    assert capsys.readouterr().err == (
        f'error: --delete-users 3 exceeds the 2 users of {tmp_path.name} '
        f'with training interactions\n')
    assert main(['rec-bench', '--data', str(tmp_path), '--shards', '4']) == 2
    assert '--shards 4 exceeds the 3 users' in capsys.readouterr().err


@pytest.mark.parametrize('option,value,words', [
    ('--dim', '0', 'a positive integer'),
    ('--layers', '-1', 'a non-negative integer'),
    ('--epochs', '0', 'a positive integer'),
    ('--batch-size', '0', 'a positive integer'),
    ('--lr', '-1', 'a positive number'),
    ('--lr', 'nan', 'a positive number'),
    ('--shards', '0', 'a positive integer'),
    ('--users-per-step', '0', 'a positive integer'),
    ('--delete-users', '0', 'a positive integer'),
    ('--finetune-epochs', '0', 'a positive integer'),
    ('--seed', '-1', 'a non-negative integer'),
])
def test_rec_bench_numeric_options(option, value, words, capsys, no_bench):
    assert main(['rec-bench', option, value]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"error: argument {option}: must be {words} (got '{value}')"


def test_rec_bench_outputs_are_checked_first(tmp_path, capsys, no_bench):
    r = str(tmp_path / 'R.json')
    assert main(['rec-bench', '--out', r, '--plot', r]) == 2
    assert "a plot cannot be written as '.json'" in capsys.readouterr().err
    pdf = str(tmp_path / 'R.pdf')
    assert main(['rec-bench', '--out', pdf, '--plot', pdf]) == 2
    assert capsys.readouterr().err == (
        f"error: two outputs name the same file: '{pdf}' and '{pdf}'\n")
    assert main(['rec-bench', '--plot', str(tmp_path / 'p.txt')]) == 2
    assert "a plot cannot be written as '.txt'" in capsys.readouterr().err
