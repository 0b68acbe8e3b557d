import os.path as osp
import re
import shutil

import pytest
import torch

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.cli import main
from torch_geometric_unlearn.datasets import load_dataset
from torch_geometric_unlearn.kge import load_checkpoint

from tests.cli.utils import TINY


def test_meta_train(meta_trained):
    out = meta_trained['out']
    # The family of the checkpoint's training loss (ComplEx's recipe:
    # softmax).
    ckpt = load_checkpoint(meta_trained['ckpt'])
    assert ckpt['train_config']['loss'] == 'softmax'
    assert '5 episodes, softmax loss' in out
    m = re.search(r'validation MRR base ([\d.]+) -> best ([\d.]+)', out)
    assert m is not None and float(m.group(2)) >= float(m.group(1)) > 0
    assert f"MetaEU written to {meta_trained['metaeu']}" in out
    kg = load_dataset(TINY)
    model = ckpt['module']
    meu = MetaEU.load(meta_trained['metaeu'], model, kg, progress=False)
    assert meu.config.loss == 'softmax' and \
        meu.config.episodes == 5
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
    assert "argument --episodes: must be a non-negative integer" in \
        capsys.readouterr().err
    assert not osp.exists(out)


def test_out_is_the_checkpoint(meta_trained, tmp_path, monkeypatch, capsys):
    ckpt = tmp_path / 'm.pt'
    shutil.copy(meta_trained['ckpt'], ckpt)
    before = ckpt.read_bytes()

    def fit(self, *args, **kwargs):
        raise AssertionError('meta-training started')

    monkeypatch.setattr(MetaEU, 'fit', fit)
    rc = main(['meta-train', '--data', TINY, '--checkpoint', str(ckpt),
               '--out', str(ckpt), '--quiet'])
    assert rc == 2
    err = capsys.readouterr().err
    assert err == (f"error: output '{ckpt}' is the same file as the input "
                   f"'{ckpt}': it would be overwritten\n")
    assert ckpt.read_bytes() == before


def test_non_finite_checkpoint(meta_trained, tmp_path, capsys):
    state = torch.load(meta_trained['ckpt'], weights_only=False)
    state['model']['node_emb_im.weight'][[3, 11], 0] = float('inf')
    bad = tmp_path / 'inf.pt'
    torch.save(state, str(bad))
    out = tmp_path / 'metaeu.pt'
    rc = main(['meta-train', '--data', TINY, '--checkpoint', str(bad),
               '--episodes', '5', '--eval-every', '5', '--quiet', '--out',
               str(out)])
    assert rc == 2
    text = capsys.readouterr()
    assert text.err == (f"error: the model of '{bad}' holds non-finite "
                        f"values in 'node_emb_im.weight' at rows 3, 11\n")
    assert 'best' not in text.out and not out.exists()


@pytest.mark.parametrize('option,value,words', [
    ('--episodes', '-1', 'a non-negative integer'),
    ('--lr', '0', 'a positive number'),
    ('--lr', 'inf', 'a positive number'),
    ('--hidden', '0', 'a positive integer'),
    ('--eval-every', '-2', 'a non-negative integer'),
    ('--patience', '-1', 'a non-negative integer'),
    ('--max-minutes', '-1', 'a non-negative number'),
    ('--seed', '-3', 'a non-negative integer'),
])
def test_numeric_options(tmp_path, capsys, option, value, words):
    out = tmp_path / 'm.pt'
    rc = main(['meta-train', '--checkpoint', str(tmp_path / 'missing.pt'),
               option, value, '--out', str(out)])
    assert rc == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"error: argument {option}: must be {words} (got '{value}')"
    assert not out.exists()
