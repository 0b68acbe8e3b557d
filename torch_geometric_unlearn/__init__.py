r"""torch_geometric_unlearn: make trained PyG graph embedding models forget.

Subpackages:

* :mod:`torch_geometric_unlearn.datasets` -- knowledge-graph data: loaders,
  the seeded synthetic KG generator, :class:`KGDataset`.
* :mod:`torch_geometric_unlearn.transforms` -- deletion requests as PyG
  transforms, and the forget-set sampler.
"""
from . import datasets, transforms

__version__ = '0.1.0'

__all__ = ['datasets', 'transforms', '__version__']
