r"""torch_geometric_unlearn: make trained PyG graph embedding models forget.

Subpackages:

* :mod:`torch_geometric_unlearn.datasets` -- knowledge-graph data: loaders,
  the seeded synthetic KG generator, :class:`KGDataset`.
* :mod:`torch_geometric_unlearn.transforms` -- deletion requests as PyG
  transforms, and the forget-set sampler.
* :mod:`torch_geometric_unlearn.kge` -- scoring, filtered evaluation and
  training for PyG's KGE models.
* :mod:`torch_geometric_unlearn.nn` -- MetaEU's generator layers (RAEEG,
  NEEM).
* :mod:`torch_geometric_unlearn.metaeu` -- :class:`MetaEU`, meta-learned KG
  embedding unlearning.
* :mod:`torch_geometric_unlearn.baselines` -- retraining, fine-tuning,
  gradient ascent behind the :class:`Unlearner` interface.
* :mod:`torch_geometric_unlearn.metrics` -- membership inference,
  relearning attack and other measurements of unlearning.
* :mod:`torch_geometric_unlearn.rec` -- recommendation data, LightGCN / MF,
  full-ranking evaluation and :class:`EEMU`, exact meta-learned unlearning.
"""
from . import datasets, transforms, kge, nn, metaeu, metrics, baselines, rec
from .metaeu import MetaEU, MetaEUConfig
from .rec import EEMU, EEMUConfig

__version__ = '0.1.0'

__all__ = ['datasets', 'transforms', 'kge', 'nn', 'metaeu', 'metrics',
           'baselines', 'rec', 'MetaEU', 'MetaEUConfig', 'EEMU',
           'EEMUConfig', '__version__']
