import json

import pytest
import torch

from torch_geometric_unlearn.cli import main
from torch_geometric_unlearn.datasets import KGDataset


def test_data_json_and_save(tmp_path, capsys):
    out = tmp_path / 'kg.pt'
    rc = main(['data', '--data', 'synthetic:entities=300,triples=4000',
               '--json', '--save', str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    summary = json.loads(text[:text.rindex('}') + 1])
    assert summary['entities'] == 300
    assert summary['train'] + summary['valid'] + summary['test'] > 3800
    assert KGDataset.load(str(out)).num_entities == 300
    # The saved file is accepted as --data too.
    assert main(['data', '--data', str(out)]) == 0
    assert 'entities   300' in capsys.readouterr().out


def test_data_directory(tmp_path, capsys):
    (tmp_path / 'train.tsv').write_text('a\tr\tb\nb\tr\tc\n')
    assert main(['data', '--data', str(tmp_path)]) == 0
    assert 'entities   3' in capsys.readouterr().out


def test_bad_data_is_a_clear_error(tmp_path, capsys):
    assert main(['data', '--data', '/no/such/place']) == 2
    err = capsys.readouterr().err
    assert err.startswith('error:') and '/no/such/place' in err
    assert main(['data', '--data', 'synthetic-huge']) == 2
    assert 'unknown synthetic preset' in capsys.readouterr().err
    assert main(['data', '--data', 'synthetic:entities=5']) == 2
    assert "'num_entities' must be at least 10" in capsys.readouterr().err
    (tmp_path / 'train.tsv').write_text('a\tr\n')
    assert main(['data', '--data', str(tmp_path)]) == 2
    assert 'expected 3 tab-separated fields' in capsys.readouterr().err
    bad = tmp_path / 'bad.pt'
    bad.write_text('hello')
    assert main(['data', '--data', str(bad)]) == 2
    assert 'is not a dataset saved with KGDataset.save' in \
        capsys.readouterr().err


def test_save_checks_its_path_first(tmp_path, capsys, monkeypatch):
    kg = tmp_path / 'kg.pt'
    assert main(['data', '--data', 'synthetic-tiny', '--save', str(kg)]) == 0
    before = kg.read_bytes()
    capsys.readouterr()
    assert main(['data', '--data', str(kg), '--save', str(kg)]) == 2
    assert capsys.readouterr().err == (
        f"error: output '{kg}' is the same file as the input '{kg}': it "
        f"would be overwritten\n")
    assert kg.read_bytes() == before
    assert main(['data', '--data', 'synthetic-tiny', '--save',
                 str(tmp_path)]) == 2
    assert 'is a directory' in capsys.readouterr().err
    # A missing directory is created.
    new = tmp_path / 'a' / 'b' / 'kg.pt'
    assert main(['data', '--data', 'synthetic-tiny', '--save',
                 str(new)]) == 0
    assert KGDataset.load(str(new)).num_entities == 200


@pytest.mark.parametrize('content,message', [
    (lambda data: data[:len(data) // 2], 'starts like a zip archive (a '
     'torch file) but does not end like one: truncated or corrupt'),
    (lambda data: b'hello\n', "not a torch file: it is a text file whose "
     "first line is 'hello'"),
    (lambda data: b'a\tr\tb\n', 'give a TSV knowledge graph as the '
     'directory that holds its train/valid/test files'),
    (lambda data: b'\x80\x02hello', 'the torch file is truncated or '
     'corrupt (KeyError: 101)'),
    (lambda data: b'', 'the file is empty'),
])
def test_unusable_dataset_files(tmp_path, capsys, content, message):
    kg = tmp_path / 'kg.pt'
    assert main(['data', '--data', 'synthetic-tiny', '--save', str(kg)]) == 0
    capsys.readouterr()
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(content(kg.read_bytes()))
    assert main(['data', '--data', str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: '{bad}' is not a dataset saved with "
                          f"KGDataset.save") and message in err
    assert len(err.splitlines()) == 1


def test_unreadable_tsv_and_ogb_files(tmp_path, capsys):
    (tmp_path / 'train.tsv').write_bytes(b'a\tr\tb\n\xe9\tr\tc\n')
    assert main(['data', '--data', str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"error: {tmp_path / 'train.tsv'}:2: not UTF-8 text (byte 0xe9 at "
        f"byte 1 of the line; save the file as UTF-8)\n")
    split = tmp_path / 'ogb' / 'ogbl_wikikg2' / 'split' / 'time'
    split.mkdir(parents=True)
    for name in ('train', 'valid', 'test'):
        torch.save({'head': [1]}, str(split / f'{name}.pt'))
    assert main(['data', '--data', f"ogb:{tmp_path / 'ogb'}"]) == 2
    err = capsys.readouterr().err
    assert err.startswith('error:') and "has no ['relation', 'tail'] " \
        "entries for split 'train'" in err
