import os.path as osp
import re

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.cli import main
from torch_geometric_unlearn.datasets import load_dataset
from torch_geometric_unlearn.kge import load_checkpoint

from tests.cli.utils import TINY


def test_meta_train(meta_trained):
    out = meta_trained['out']
    assert '5 episodes, softmax loss' in out  # the dot-product default
    m = re.search(r'validation MRR base ([\d.]+) -> best ([\d.]+)', out)
    assert m is not None and float(m.group(2)) >= float(m.group(1)) > 0
    assert f"MetaEU written to {meta_trained['metaeu']}" in out
    kg = load_dataset(TINY)
    model = load_checkpoint(meta_trained['ckpt'])['module']
    meu = MetaEU.load(meta_trained['metaeu'], model, kg, progress=False)
    assert meu.config.loss == 'softmax' and meu.config.episodes == 5
    assert meu.history[0]['episode'] == 0 and 'base_mrr' in meu.history[0]
    assert meu.history[-1]['episode'] == 5 and meu.fit_seconds > 0


def test_meta_train_errors(meta_trained, tmp_path, capsys):
    out = str(tmp_path / 'm.pt')
    rc = main(['meta-train', '--data', TINY, '--checkpoint',
               str(tmp_path / 'missing.pt'), '--out', out])
    assert rc == 2
    err = capsys.readouterr().err
    assert err.startswith('error:') and 'does not exist' in err
    # A checkpoint of another graph.
    rc = main(['meta-train', '--data', 'synthetic-tiny', '--checkpoint',
               meta_trained['ckpt'], '--out', out])
    assert rc == 2
    assert 'the checkpoint has 200 entities and 8 relations' in \
        capsys.readouterr().err
    # A file that is no checkpoint.
    bad = tmp_path / 'bad.pt'
    bad.write_text('hello')
    rc = main(['meta-train', '--data', TINY, '--checkpoint', str(bad),
               '--out', out])
    assert rc == 2
    assert 'is not a KGE checkpoint' in capsys.readouterr().err
    rc = main(['meta-train', '--data', TINY, '--checkpoint',
               meta_trained['ckpt'], '--episodes', '-1', '--out', out])
    assert rc == 2
    assert "'episodes' must be >= 0" in capsys.readouterr().err
    assert not osp.exists(out)
