r"""The learning-free references every MetaEU comparison includes
(``design.md``, section 2): the leave-k-out correction of the trained rows
and the neighbour-mean regeneration. Both serve requests through MetaEU's
machinery without meta-training or calibration, so a benchmark shows what
MetaEU adds to them."""
from __future__ import annotations

from typing import Union

import torch
from torch_geometric.data import Data

from ..datasets.kg import KGDataset
from ..unlearner import register_method
from .config import MetaEUConfig
from .metaeu import MetaEU

__all__ = ['LeaveKOut', 'NeighbourMean']


@register_method('leave_k_out')
class LeaveKOut(MetaEU):
    r"""The learning-free leave-k-out correction: an affected entity with
    :math:`n` retained and :math:`k` forgotten triples gets

    .. math::
        \mathbf{e}' = \mathbf{e} + s \, \frac{k}{n}
        (\mathbf{e} - \bar{\mathbf{m}}_F)

    with :math:`\bar{\mathbf{m}}_F` the mean of what its forgotten triples
    imply through the score (e.g. :math:`\mathbf{t} - \mathbf{r}` for a
    TransE head); an entity with nothing retained is rebuilt from its
    neighbours. No meta-training, no calibration.

    Args:
        model (torch.nn.Module): The trained KGE model.
        data (Data or KGDataset): Its training graph.
        step (float, optional): :math:`s`. (default: :obj:`2.0`)
    """
    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 step: float = 2.0, **kwargs) -> None:
        super().__init__(model, data, MetaEUConfig(
            mode='correct', leave_k_out_step=float(step), episodes=0),
            progress=False, **kwargs)
        self.reference_triples = None  # never calibrates


@register_method('neighbour_mean')
class NeighbourMean(MetaEU):
    r"""Regeneration from the neighbourhood without meta-training: every
    affected row is rebuilt as the mean of what its retained triples with
    unaffected neighbours imply (the untrained generator).

    Args:
        model (torch.nn.Module): The trained KGE model.
        data (Data or KGDataset): Its training graph.
    """
    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 **kwargs) -> None:
        super().__init__(model, data, MetaEUConfig(mode='regenerate',
                                                   episodes=0),
                         progress=False, **kwargs)
