import json

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
