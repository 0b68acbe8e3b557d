import pytest

from torch_geometric_unlearn.datasets import make_synthetic_kg


@pytest.fixture(scope='session')
def small_kg():
    return make_synthetic_kg(num_entities=300, num_relations=12,
                             num_triples=4000, seed=0)
