from torch_geometric_unlearn.cli import main
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


def test_train_bad_options(tmp_path, capsys):
    rc = main(['train', '--data', 'synthetic-tiny', '--model', 'distmult',
               '--epochs', '0', '--out', str(tmp_path / 'x.pt')])
    assert rc == 2
    assert "'epochs' must be >= 1" in capsys.readouterr().err
    rc = main(['train', '--data', 'synthetic-tiny', '--model', 'distmult',
               '--dim', '0', '--out', str(tmp_path / 'x.pt')])
    assert rc == 2
    assert '--dim must be positive' in capsys.readouterr().err
    rc = main(['evaluate', '--data', 'synthetic-tiny', '--checkpoint',
               str(tmp_path / 'missing.pt')])
    assert rc == 2
    assert 'does not exist' in capsys.readouterr().err
