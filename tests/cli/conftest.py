import pytest

from tests.cli.utils import TINY, run_cli


@pytest.fixture(scope='session')
def meta_trained(tmp_path_factory):
    r"""A tiny ComplEx checkpoint and its MetaEU (5 episodes)."""
    root = tmp_path_factory.mktemp('metaeu')
    ckpt, meu = str(root / 'complex.pt'), str(root / 'metaeu.pt')
    rc, _, err = run_cli(['train', '--data', TINY, '--model', 'complex',
                          '--dim', '16', '--epochs', '2', '--quiet', '--out',
                          ckpt])
    assert rc == 0, err
    rc, out, err = run_cli(['meta-train', '--data', TINY, '--checkpoint',
                            ckpt, '--episodes', '5', '--eval-every', '5',
                            '--quiet', '--out', meu])
    assert rc == 0, err
    return dict(root=root, ckpt=ckpt, metaeu=meu, out=out)
