r"""MetaEU's generator layers as PyG :class:`MessagePassing` modules."""
from .raeeg import RAEEG, add_inverse_edges
from .neem import NEEM, BasisRelConv

__all__ = ['RAEEG', 'NEEM', 'BasisRelConv', 'add_inverse_edges']
