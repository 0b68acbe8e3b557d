r"""The unlearning core: one interface, one record type, the mapping from a
request to its deletion transform, and the registry of methods by name.

Every knowledge-graph method (:class:`~torch_geometric_unlearn.MetaEU` and
the baselines of :mod:`torch_geometric_unlearn.baselines`) implements
:class:`Unlearner`; every method returns an :class:`UnlearningResult` whose
:class:`UnlearningRecord` says what was done. The recommendation methods
(:mod:`torch_geometric_unlearn.rec`) return the same record type.

.. code-block:: python

    from torch_geometric_unlearn.unlearner import get_method, list_methods

    list_methods('kg')              # ['distill', 'finetune', ...]
    Retrain = get_method('retrain')  # the class registered under the name
"""
from __future__ import annotations

import abc
import copy
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Union

import torch
from torch import Tensor
from torch_geometric.data import Data

from .datasets.kg import KGDataset, check_kg
from .transforms import ForgetEntity, ForgetRelation, ForgetTriples

__all__ = ['Unlearner', 'UnlearningRecord', 'UnlearningResult',
           'request_transform', 'as_graph', 'register_method', 'get_method',
           'list_methods', 'METHOD_REGISTRY']


@dataclass
class UnlearningRecord:
    r"""What one unlearning request did.

    Knowledge-graph methods fill :obj:`forget_triples` and :obj:`affected`;
    recommendation methods fill :obj:`forget_pairs` and list the touched
    shards, users and exactness in :obj:`details`. Items of
    :obj:`details` (and the attributes) are also readable by key,
    ``record['seconds']``, as the older dict records were.

    Attributes:
        request (str): The request, in words.
        forget_triples (Tensor): The forgotten ``(head, relation, tail)``
            rows ``[F, 3]`` (empty for recommendation requests).
        affected (Tensor): Ids of the entities (or users) whose parameters
            were rewritten ``[A]``.
        num_hops, ensemble, refine_steps (int): The options used.
        seconds (float): Wall time of the whole request.
        timings (dict): Seconds per stage.
        method (str): The registered name of the method.
        forget_pairs (Tensor, optional): Forgotten ``(user, item)``
            interactions ``[2, K]`` of a recommendation request.
        details (dict): Method-specific facts (e.g. ``shards``, ``exact``).
    """
    request: str
    forget_triples: Tensor
    affected: Tensor
    num_hops: int = 0
    ensemble: int = 1
    refine_steps: int = 0
    seconds: float = 0.0
    timings: Dict[str, float] = field(default_factory=dict)
    method: str = ''
    forget_pairs: Optional[Tensor] = None
    details: Dict[str, Any] = field(default_factory=dict)

    @property
    def num_forget(self) -> int:
        r"""The number of forgotten triples (or interactions)."""
        if self.forget_pairs is not None:
            return int(self.forget_pairs.size(1))
        return int(self.forget_triples.size(0))

    @property
    def num_affected(self) -> int:
        return int(self.affected.numel())

    def __getitem__(self, key: str) -> Any:
        if key in self.details:
            return self.details[key]
        names = ('num_forget', 'num_affected')
        if key in self.__dataclass_fields__ or key in names:
            return getattr(self, key)
        raise KeyError(key)

    def __contains__(self, key: str) -> bool:
        return key in self.details or key in self.__dataclass_fields__

    def to_dict(self, with_ids: bool = True) -> Dict[str, Any]:
        r"""A JSON-able summary (ids as lists when :obj:`with_ids`)."""
        out = dict(request=self.request, method=self.method,
                   num_forget=self.num_forget,
                   num_affected=self.num_affected, num_hops=self.num_hops,
                   ensemble=self.ensemble, refine_steps=self.refine_steps,
                   seconds=self.seconds, timings=dict(self.timings))
        out.update(self.details)
        if with_ids:
            out['forget_triples'] = self.forget_triples.tolist()
            out['affected'] = self.affected.tolist()
            if self.forget_pairs is not None:
                out['forget_pairs'] = self.forget_pairs.tolist()
        return out


@dataclass
class UnlearningResult:
    r"""The output of an :meth:`Unlearner.unlearn` call.

    Attributes:
        model (torch.nn.Module): The model after unlearning (a copy unless
            unlearning ran in place).
        data (Data): The retained training graph.
        record (UnlearningRecord): What was done.
    """
    model: torch.nn.Module
    data: Data
    record: UnlearningRecord


def _ids_text(ids) -> str:
    ids = torch.as_tensor(ids).view(-1).tolist()
    text = ', '.join(str(i) for i in ids[:10])
    return text + (f', ... ({len(ids)} in all)' if len(ids) > 10 else '')


def request_transform(triples=None, edge_ids=None, entities=None,
                      relations=None, num_hops: int = 0):
    r"""The deletion transform of a request, and a short description of it.

    This is where a request becomes a transform: give exactly one of
    :obj:`triples` (``(head, relation, tail)`` rows ``[F, 3]``),
    :obj:`edge_ids` (``[F]`` positions in the graph),
    :obj:`entities` or :obj:`relations` (ids).

    Returns:
        ``(transform, description)`` with the transform one of
        :class:`~torch_geometric_unlearn.transforms.ForgetTriples`,
        :class:`ForgetEntity` or :class:`ForgetRelation`.
    """
    given = [x is not None for x in (triples, edge_ids, entities,
                                     relations)]
    if sum(given) != 1:
        raise ValueError('give exactly one of triples, edge_ids, '
                         'entities or relations')
    if triples is not None:
        if not torch.is_tensor(triples):
            triples = torch.as_tensor(triples)
        if triples.dim() == 1 and triples.numel() == 3:
            triples = triples.view(1, 3)
        return (ForgetTriples(triples=triples, num_hops=num_hops),
                f'{triples.size(0)} triple(s)')
    if edge_ids is not None:
        return (ForgetTriples(edge_ids=edge_ids, num_hops=num_hops),
                'edge ids')
    if entities is not None:
        return (ForgetEntity(entities, num_hops=num_hops),
                f'entities {_ids_text(entities)}')
    return (ForgetRelation(relations, num_hops=num_hops),
            f'relations {_ids_text(relations)}')


def as_graph(data: Union[Data, KGDataset]) -> Data:
    r"""A validated copy of a training graph holding only
    :obj:`edge_index`, :obj:`edge_type`, :obj:`num_nodes` and
    :obj:`num_relations` (a dataset's :obj:`train` split is used)."""
    if isinstance(data, KGDataset):
        data = data.train
    check_kg(data)
    return Data(edge_index=data.edge_index, edge_type=data.edge_type,
                num_nodes=int(data.num_nodes),
                num_relations=int(data.num_relations)
                if 'num_relations' in data else None)


class Unlearner(abc.ABC):
    r"""A KGE unlearning method: model + training graph + request
    :math:`\to` new model + record.

    Subclasses implement :meth:`_unlearn`. :meth:`unlearn` applies the
    deletion transform to the current graph (:attr:`data`), calls it, keeps
    the new model and the retained graph for the next request (requests are
    sequential) and records the request and its wall time. The caller's
    model is never modified unless ``inplace=True`` (for methods that edit a
    model rather than build a new one). :class:`~torch_geometric_unlearn.
    MetaEU` overrides :meth:`unlearn` with its own staged version.

    Args:
        model (torch.nn.Module): The trained KGE model.
        data (Data or KGDataset): Its training graph (a dataset's
            :obj:`train` split is used).
    """
    #: Names of extra edge attributes of :attr:`data` kept across requests.
    edge_attrs: tuple = ()
    #: The registered name (set by :func:`register_method`).
    name: str = ''

    def __init__(self, model: torch.nn.Module,
                 data: Union[Data, KGDataset]) -> None:
        from .kge.scoring import model_name
        self.model = model
        self.model_name = model_name(model)
        self.data = as_graph(data)
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
        :func:`request_transform`)."""
        t0 = time.perf_counter()
        transform, what = request_transform(triples, edge_ids, entities,
                                            relations, num_hops)
        out = transform(self.data)
        # Positions of the request in :attr:`data`, for methods that keep
        # per-triple state (read in :meth:`_unlearn`).
        self.forget_ids = out.forget_edge_id
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
            num_hops=num_hops, seconds=seconds, timings={'total': seconds},
            method=self.name)
        self.records.append(record)
        self.model, self.data = new, retained
        return UnlearningResult(model=new, data=retained, record=record)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.model_name}, '
                f'entities={self.data.num_nodes}, '
                f'triples={self.data.num_edges})')


#: ``{kind: {name: class}}`` with kind ``"kg"`` or ``"rec"``; filled by
#: :func:`register_method` when the method's module is imported.
METHOD_REGISTRY: Dict[str, Dict[str, type]] = {'kg': {}, 'rec': {}}


def register_method(name: str, kind: str = 'kg') -> Callable[[type], type]:
    r"""Class decorator: registers an unlearning method under :obj:`name`
    (``kind`` is ``"kg"`` or ``"rec"``) and sets its :attr:`name`."""
    if kind not in METHOD_REGISTRY:
        raise ValueError(f"unknown method kind '{kind}' (expected 'kg' or "
                         f"'rec')")

    def wrap(cls: type) -> type:
        known = METHOD_REGISTRY[kind].get(name)
        if known is not None and known is not cls:
            raise ValueError(f"a {kind} method '{name}' is already "
                             f"registered ({known.__name__})")
        METHOD_REGISTRY[kind][name] = cls
        cls.name = name
        return cls
    return wrap


def get_method(name: str, kind: str = 'kg') -> type:
    r"""The class registered under :obj:`name` (``-`` and ``_`` alike)."""
    import torch_geometric_unlearn  # noqa: F401  (fills the registry)
    key = name.strip().replace('-', '_')
    try:
        return METHOD_REGISTRY[kind][key]
    except KeyError:
        raise ValueError(f"unknown {kind} method '{name}' (choose from "
                         f"{', '.join(list_methods(kind))})") from None


def list_methods(kind: str = 'kg') -> List[str]:
    r"""The registered method names of :obj:`kind`, sorted."""
    import torch_geometric_unlearn  # noqa: F401  (fills the registry)
    return sorted(METHOD_REGISTRY[kind])
