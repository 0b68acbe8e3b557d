import os
import os.path as osp

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
# Real benchmark data: $TGU_DATASETS, else ../shared/datasets beside the repo.
DATASETS = os.environ.get('TGU_DATASETS',
                          osp.join(ROOT, '..', 'shared', 'datasets'))


def shared_dataset(name: str) -> str:
    r"""Path of a shared benchmark dataset, or skip the calling test."""
    path = osp.join(DATASETS, name)
    if not osp.isdir(path):
        pytest.skip(f'shared dataset {name} not found at {path}')
    return path
