r"""The interface every KGE unlearning method implements."""
import abc
import copy
import time
from typing import List, Optional, Union

import torch
from torch import Tensor
from torch_geometric.data import Data

from ..datasets.kg import KGDataset
from ..kge.scoring import model_name
from ..metaeu.metaeu import (MetaEU, UnlearningRecord, UnlearningResult,
                             _as_graph, request_transform)


class Unlearner(abc.ABC):
    r"""A KGE unlearning method: model + training graph + request
    :math:`\to` new model + record.

    Subclasses implement :meth:`_unlearn`. :meth:`unlearn` applies the
    deletion transform to the current graph (:attr:`data`), calls it, keeps
    the new model and the retained graph for the next request (requests are
    sequential) and records the request and its wall time. The caller's
    model is never modified unless ``inplace=True`` (for methods that edit a
    model rather than build a new one). :class:`~torch_geometric_unlearn.
    MetaEU` implements the same interface.

    Args:
        model (torch.nn.Module): The trained KGE model.
        data (Data or KGDataset): Its training graph (a dataset's
            :obj:`train` split is used).
    """
    #: Names of extra edge attributes of :attr:`data` kept across requests.
    edge_attrs: tuple = ()

    def __init__(self, model: torch.nn.Module,
                 data: Union[Data, KGDataset]) -> None:
        self.model = model
        self.model_name = model_name(model)
        self.data = _as_graph(data)
        if int(self.data.num_nodes) != int(model.num_nodes):
            raise ValueError(f'the graph has {self.data.num_nodes} entities '
                             f'but the model {int(model.num_nodes)}')
        self.data.num_relations = int(model.num_relations)
        self.records: List[UnlearningRecord] = []

    @abc.abstractmethod
    def _unlearn(self, model: torch.nn.Module, retained: Data,
                 forget: Tensor, affected: Tensor) -> torch.nn.Module:
        r"""Returns the model after forgetting :obj:`forget` ``[F, 3]``;
        :obj:`model` is the current model (a copy unless in place),
        :obj:`retained` the graph without the request."""

    def unlearn(self, triples: Optional[Tensor] = None, *, edge_ids=None,
                entities=None, relations=None, num_hops: int = 0,
                inplace: bool = False) -> UnlearningResult:
        r"""Forgets exactly one of :obj:`triples` (``[F, 3]`` rows),
        :obj:`edge_ids`, :obj:`entities` or :obj:`relations` (see
        :meth:`MetaEU.unlearn`)."""
        t0 = time.perf_counter()
        transform, what = request_transform(triples, edge_ids, entities,
                                            relations, num_hops)
        out = transform(self.data)
        # Positions of the request in :attr:`data`, for methods that keep
        # per-triple state (read in :meth:`_unlearn`).
        self._forget_ids = out.forget_edge_id
        fei, fet = out.forget_edge_index, out.forget_edge_type
        forget = torch.stack([fei[0], fet, fei[1]], dim=1)
        affected = out.affected_mask.nonzero().view(-1)
        retained = Data(edge_index=out.edge_index, edge_type=out.edge_type,
                        num_nodes=self.data.num_nodes,
                        num_relations=self.data.num_relations)
        # Edge attributes a method keeps on its graph (e.g. SISA's shard of
        # every triple) follow the retained triples.
        for key in self.edge_attrs:
            retained[key] = out[key]
        current = self.model if inplace else copy.deepcopy(self.model)
        new = self._unlearn(current, retained, forget, affected)
        seconds = time.perf_counter() - t0
        record = UnlearningRecord(
            request=f'{type(self).__name__} {type(transform).__name__}: '
            f'{what}', forget_triples=forget, affected=affected,
            num_hops=num_hops, ensemble=1, refine_steps=0, seconds=seconds,
            timings={'total': seconds})
        self.records.append(record)
        self.model, self.data = new, retained
        return UnlearningResult(model=new, data=retained, record=record)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.model_name}, '
                f'entities={self.data.num_nodes}, '
                f'triples={self.data.num_edges})')


Unlearner.register(MetaEU)
