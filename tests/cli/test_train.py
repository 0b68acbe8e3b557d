import os

import pytest

from torch_geometric_unlearn.cli import main, train
from torch_geometric_unlearn.kge import load_checkpoint


def test_train_writes_a_checkpoint(tmp_path, capsys):
    data = 'synthetic:entities=120,relations=10,triples=1500'
    ckpt = str(tmp_path / 'm.pt')
    rc = main(['train', '--data', data, '--model', 'distmult', '--dim', '16',
               '--epochs', '2', '--loss', 'bce', '--negatives', '4',
               '--quiet', '--out', ckpt])
    assert rc == 0
    assert f'checkpoint written to {ckpt}' in capsys.readouterr().out
    loaded = load_checkpoint(ckpt)
    assert loaded['model_name'] == 'distmult'
    assert loaded['model_kwargs']['hidden_channels'] == 16
    assert loaded['train_config']['epochs'] == 2
    assert loaded['entity_vocab'] == [f'e{i}' for i in range(120)]


def test_missing_checkpoint(tmp_path, capsys):
    rc = main(['evaluate', '--data', 'synthetic-tiny', '--checkpoint',
               str(tmp_path / 'missing.pt')])
    assert rc == 2
    assert 'does not exist' in capsys.readouterr().err


@pytest.fixture
def no_loading(monkeypatch):
    r"""Makes loading the data fail loudly: a test passes only if the
    command stops before it."""
    def load_dataset(*args, **kwargs):
        raise AssertionError('the data was loaded')

    monkeypatch.setattr(train, 'load_dataset', load_dataset)


@pytest.mark.parametrize('option,value,words', [
    ('--dim', '0', 'a positive integer'),
    ('--dim', '-5', 'a positive integer'),
    ('--epochs', '0', 'a positive integer'),
    ('--batch-size', '0', 'a positive integer'),
    ('--negatives', '0', 'a positive integer'),
    ('--lr', '0', 'a positive number'),
    ('--lr', 'nan', 'a positive number'),
    ('--eval-every', '-1', 'a non-negative integer'),
    ('--patience', '-1', 'a non-negative integer'),
    ('--max-minutes', '-0.5', 'a non-negative number'),
    ('--seed', '-1', 'a non-negative integer'),
    ('--epochs', '2.5', 'a positive integer'),
])
def test_numeric_options_are_checked_at_parse_time(tmp_path, capsys,
                                                   no_loading, option, value,
                                                   words):
    out = tmp_path / 'x.pt'
    rc = main(['train', '--model', 'distmult', option, value, '--out',
               str(out)])
    assert rc == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"error: argument {option}: must be {words} (got '{value}')"
    assert not out.exists()


def test_outputs_are_checked_before_training(tmp_path, capsys, no_loading):
    kg = tmp_path / 'kg.pt'
    kg.write_bytes(b'the dataset')
    rc = main(['train', '--data', str(kg), '--model', 'distmult', '--out',
               str(kg)])
    assert rc == 2
    assert 'is the same file as the input' in capsys.readouterr().err
    assert kg.read_bytes() == b'the dataset'
    # The directory of --out is a plain file: nothing can be written.
    plain = tmp_path / 'plain'
    plain.write_text('x')
    rc = main(['train', '--model', 'distmult', '--out',
               str(plain / 'x.pt')])
    assert rc == 2
    assert capsys.readouterr().err.startswith('error:')
    rc = main(['train', '--model', 'distmult', '--out', str(tmp_path)])
    assert rc == 2
    assert 'is a directory' in capsys.readouterr().err


def test_missing_output_directory_is_created_up_front(tmp_path, capsys,
                                                      monkeypatch):
    def load_dataset(*args, **kwargs):
        # The directory exists before the data is loaded.
        assert (tmp_path / 'nodir' / 'sub').is_dir()
        raise AssertionError('stop here')

    monkeypatch.setattr(train, 'load_dataset', load_dataset)
    with pytest.raises(AssertionError, match='stop here'):
        main(['train', '--model', 'distmult', '--out',
              str(tmp_path / 'nodir' / 'sub' / 'x.pt')])
    assert os.listdir(tmp_path / 'nodir' / 'sub') == []
