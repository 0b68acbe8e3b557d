import os.path as osp
import re

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
FILES = ['README.md', 'docs/data.md', 'docs/transforms.md', 'docs/kge.md',
         'docs/nn.md', 'docs/metaeu.md', 'docs/metrics.md',
         'docs/baselines.md', 'docs/rec.md', 'docs/trust.md',
         'docs/distributed.md', 'docs/hetero.md']


@pytest.mark.parametrize('name', FILES)
def test_python_examples_run(name, tmp_path, monkeypatch):
    r"""Every ```python block of a page runs, in order, in one namespace."""
    with open(osp.join(ROOT, name)) as f:
        blocks = re.findall(r'```python\n(.*?)```', f.read(), re.S)
    assert blocks, f'{name} has no python example'
    monkeypatch.chdir(tmp_path)
    namespace = {}
    for block in blocks:
        exec(compile(block, name, 'exec'), namespace)
