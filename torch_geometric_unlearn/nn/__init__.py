r"""MetaEU's generator layers as PyG :class:`MessagePassing` modules."""
from .raeeg import RAEEG, add_inverse_edges
from .neem import NEEM, BasisRelConv
from .generator import EmbeddingGenerator

__all__ = ['RAEEG', 'NEEM', 'BasisRelConv', 'EmbeddingGenerator',
           'add_inverse_edges']
