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

import copy
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Union

import torch
from torch import Tensor
from torch_geometric.data import Data, HeteroData

from .datasets.kg import KGDataset, check_kg
from .transforms import ForgetEntity, ForgetRelation, ForgetTriples

__all__ = ['Unlearner', 'UnlearningRecord', 'UnlearningResult', 'ModelDelta',
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
class ModelDelta:
    r"""The rows a request rewrote: enough to apply the request to another
    copy of the model, or to undo it, without copying the whole model.

    Attributes:
        rows (Tensor): The rewritten entity ids ``[A]``.
        before (dict): ``{state_key: rows [A, ...]}`` before the request.
        after (dict): The same rows after it.
    """
    rows: Tensor
    before: Dict[str, Tensor]
    after: Dict[str, Tensor]

    def _write(self, model: torch.nn.Module, which: Dict[str, Tensor]):
        state = model.state_dict(keep_vars=True)
        missing = [k for k in which if k not in state]
        if missing:
            raise ValueError(f'the model has no state entries {missing}')
        with torch.no_grad():
            for k, v in which.items():
                state[k][self.rows.to(state[k].device)] = v.to(state[k])

    def apply(self, model: torch.nn.Module) -> torch.nn.Module:
        r"""Writes the new rows into :obj:`model` (in place)."""
        self._write(model, self.after)
        return model

    def revert(self, model: torch.nn.Module) -> torch.nn.Module:
        r"""Writes the old rows back into :obj:`model` (in place)."""
        self._write(model, self.before)
        return model


class UnlearningResult:
    r"""The output of an :meth:`Unlearner.unlearn` call.

    Attributes:
        model (torch.nn.Module): The model after unlearning (a copy unless
            unlearning ran in place).
        data (Data): The retained training graph. A method that serves
            requests from the graph's indexes builds it on first access
            (from a snapshot of the retained-triple mask, one byte per
            original triple).
        record (UnlearningRecord): What was done.
        delta (ModelDelta, optional): The rows the request rewrote (for
            methods that rewrite rows, e.g. MetaEU).
    """
    def __init__(self, model: torch.nn.Module, data, record:
                 UnlearningRecord, delta: Optional[ModelDelta] = None
                 ) -> None:
        self.model, self.record, self.delta = model, record, delta
        self._data = data

    @property
    def data(self) -> Data:
        if not isinstance(self._data, Data):
            self._data = self._data.to_data()
        return self._data

    def __repr__(self) -> str:
        return (f'UnlearningResult(model={type(self.model).__name__}, '
                f'record={self.record.request!r})')


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


def as_graph(data: Union[Data, KGDataset, HeteroData]) -> Data:
    r"""A validated copy of a training graph holding only
    :obj:`edge_index`, :obj:`edge_type`, :obj:`num_nodes` and
    :obj:`num_relations` (a dataset's :obj:`train` split is used; a typed
    KG, :class:`~torch_geometric.data.HeteroData`, becomes its homogeneous
    KG through :class:`~torch_geometric_unlearn.datasets.HeteroMapping`)."""
    if isinstance(data, KGDataset):
        data = data.train
    if isinstance(data, HeteroData):
        from .datasets.hetero import HeteroMapping
        data = HeteroMapping.from_hetero(data).to_homogeneous(data)
    if isinstance(data, Data) and 'num_relations' not in data:
        # PyG's own KG datasets (FB15k_237, ...) carry no num_relations;
        # the Unlearner takes the model's. Check the rest.
        check_kg(Data(edge_index=getattr(data, 'edge_index', None),
                      edge_type=getattr(data, 'edge_type', None),
                      num_relations=0))
    else:
        check_kg(data)
    return Data(edge_index=data.edge_index, edge_type=data.edge_type,
                num_nodes=int(data.num_nodes),
                num_relations=int(data.num_relations)
                if 'num_relations' in data else None)


def _as_ids(ids, what: str) -> Tensor:
    t = ids if torch.is_tensor(ids) else torch.as_tensor(
        [ids] if isinstance(ids, int) and not isinstance(ids, bool)
        else list(ids))
    if t.is_floating_point() or t.dtype == torch.bool or t.is_complex():
        raise TypeError(f'{what} must hold integer ids (got dtype {t.dtype})')
    if t.numel() == 0:
        raise ValueError(f'empty request: no {what} given')
    return t.view(-1).long()


class Unlearner:
    r"""A KGE unlearning method: model + training graph + request
    :math:`\to` new model + record.

    Subclasses implement :meth:`_unlearn`. :meth:`unlearn` resolves the
    request against the *original* training graph and the requests served
    so far, applies the deletion transform to the current graph
    (:attr:`data`), calls :meth:`_unlearn`, keeps the new model and the
    retained graph for the next request (requests are sequential), and
    records the request in :attr:`records` and in the hash-chained
    :attr:`ledger`. The caller's model is never modified unless
    ``inplace=True``. :class:`~torch_geometric_unlearn.MetaEU` overrides
    :meth:`unlearn` with its own staged version on the same bookkeeping.

    What was forgotten stays forgotten: asking to forget a triple (or an
    entity or relation) whose triples an earlier request already forgot is
    an error that names that request, and :obj:`edge_ids` are positions in
    the original graph, stable across requests.

    Args:
        model (torch.nn.Module): The trained KGE model (the current one when
            :obj:`ledger` is given).
        data (Data or KGDataset): The original training graph (a dataset's
            :obj:`train` split is used; its vocabularies name the triples in
            the ledger).
        ledger (Ledger, optional): The ledger of requests already served on
            :obj:`model` (e.g. read from an unlearned checkpoint).
        retained (Data, optional): The graph those requests left, which
            becomes the current graph; it must match the ledger.
        hash_models (bool, optional): Record content hashes of the input
            and output models in the ledger. (default: :obj:`True`)
    """
    #: Names of extra edge attributes of :attr:`data` kept across requests.
    edge_attrs: tuple = ()
    #: The registered name (set by :func:`register_method`).
    name: str = ''
    #: The :class:`~torch_geometric_unlearn.datasets.HeteroMapping` of a
    #: typed KG (a :class:`HeteroData` or a :class:`TypedKGDataset`), which
    #: lets requests name typed entities and edge types; :obj:`None` else.
    typed = None

    def __init__(self, model: torch.nn.Module,
                 data: Union[Data, KGDataset], ledger=None,
                 retained: Optional[Data] = None,
                 hash_models: bool = True) -> None:
        from .kge.scoring import model_name
        from .utils.fingerprint import check_finite
        check_finite(model)
        self.model = model
        self.model_name = model_name(model)
        from .datasets.hetero import mapping_of
        self.typed = mapping_of(data)
        self.names = (data.entity_vocab, data.relation_vocab) \
            if isinstance(data, KGDataset) else None
        if self.names is None and self.typed is not None:
            self.names = (self.typed.entity_vocab, self.typed.relation_vocab)
        self.original = as_graph(data)
        if int(self.original.num_nodes) != int(model.num_nodes):
            raise ValueError(f'the graph has {self.original.num_nodes} '
                             f'entities but the model {int(model.num_nodes)}')
        self.original.num_relations = R = int(model.num_relations)
        if self.original.edge_type.numel() and \
                int(self.original.edge_type.max()) >= R:
            raise ValueError(f"the graph has relation ids >= the model's "
                             f'{self.original.num_relations} relations')
        self.hash_models = bool(hash_models)
        self.records: List[UnlearningRecord] = []
        self._set_history(ledger, retained)

    # The current graph ###################################################

    @property
    def data(self) -> Data:
        r"""The current (retained) training graph, a
        :class:`~torch_geometric.data.Data`. Requests served through
        :attr:`graph` leave it to be built on first access."""
        if self._data is None:
            self._data = self.graph.to_data()
        return self._data

    @data.setter
    def data(self, value: Data) -> None:
        self._data = value
        self._graph = None

    @property
    def graph(self):
        r"""The current graph as a
        :class:`~torch_geometric_unlearn.datasets.RetainedGraph` over
        :attr:`original`, whose indexes let a request cost what it touches
        (built once, then kept up to date)."""
        from .datasets.retained import RetainedGraph
        if self._graph is None:
            index = getattr(self, '_index', None)
            if self._data is None or self._data is self.original:
                self._graph = RetainedGraph(self.original, index=index)
            else:
                self._graph = RetainedGraph.from_subgraph(
                    self.original, self._data, index=index)
            self._index = self._graph._index
        return self._graph

    def retained_hash(self, retained=None) -> str:
        r"""The ledger's digest of a retained graph (a
        :class:`~torch_geometric.data.Data`, or the current graph by
        default): the multiset digest of its triples
        (:func:`~torch_geometric_unlearn.utils.fingerprint.edge_digest`)."""
        from .utils.fingerprint import edge_digest, retained_digest
        n, R = int(self.original.num_nodes), int(self.original.num_relations)
        if retained is None:
            if self._graph is not None:
                return retained_digest(self._graph.digest(), n, R)
            retained = self.data
        return retained_digest(edge_digest(retained.edge_index,
                                           retained.edge_type, n, R), n, R)

    def model_digest(self):
        r"""The :class:`~torch_geometric_unlearn.utils.fingerprint.
        ModelDigest` of the current :attr:`model` (computed once, then
        updated row by row by methods that rewrite rows)."""
        from .utils.fingerprint import ModelDigest
        if getattr(self, '_digest', None) is None or \
                self._digest_of is not self.model:
            self._digest = ModelDigest(self.model)
            self._digest_of = self.model
        return self._digest

    def _set_history(self, ledger, retained: Optional[Data]) -> None:
        from .ledger import Ledger
        self._data, self._graph = None, None
        self.ledger = Ledger() if ledger is None else ledger
        problems = self.ledger.verify()
        if problems:
            raise ValueError('the ledger is broken: ' + '; '.join(problems))
        self.data = self.original if retained is None else as_graph(retained)
        self.data.num_relations = self.original.num_relations
        if retained is None and len(self.ledger):
            raise ValueError('a ledger of earlier requests needs the '
                             'retained graph they left')
        if len(self.ledger) == 0:
            return
        last = self.ledger[-1]
        if last.get('retained_data') != self.retained_hash(self.data):
            raise ValueError('the retained graph is not the one the ledger '
                             'recorded last')
        if last.get('graph') not in (None, self.original_hash):
            raise ValueError('the ledger was written for another original '
                             'training graph')
        out = last.get('output_model')
        if self.hash_models and out is not None:
            if self.model_digest().hexdigest() != out:
                raise ValueError('the model is not the one the ledger '
                                 'recorded last (another or an edited model '
                                 'file)')
        forgotten = self.ledger.forgotten()
        if forgotten.numel():
            from .datasets.kg import TripleSet
            back = TripleSet.from_data(self.data).contains_triples(forgotten)
            if bool(back.any()):
                raise ValueError(f'the retained graph holds '
                                 f'{int(back.sum())} triple(s) the ledger '
                                 f'says were forgotten, e.g. '
                                 f'{forgotten[back][0].tolist()}')

    @property
    def original_hash(self) -> str:
        r"""The content hash of the original training graph."""
        if getattr(self, '_original_hash', None) is None:
            from .utils.fingerprint import triples_hash
            g = self.original
            self._original_hash = triples_hash(g.edge_index, g.edge_type,
                                               g.num_nodes, g.num_relations)
        return self._original_hash

    # Requests ##############################################################

    def resolve_request(self, triples=None, edge_ids=None, entities=None,
                        relations=None, num_hops: int = 0):
        r"""The deletion transform of a request on the current graph, its
        description and the request as given (JSON-able), after checking
        it against what is already forgotten.

        :obj:`edge_ids` are positions in the *original* training graph
        (:attr:`original`); they are turned into triples, so they name the
        same triples whatever was forgotten before.

        On a typed KG (:attr:`typed`) a request may also be typed (see
        :func:`~torch_geometric_unlearn.datasets.resolve_typed_request`):
        ``triples={edge_type: edge_index}``, ``edge_ids={edge_type: ids}``
        (positions in ``typed.to_hetero(original)[edge_type]``),
        ``entities=(node_type, index)`` or a list of those, ``relations=``
        names or ``(head_type, relation, tail_type)`` edge types; it is
        turned into the homogeneous request first.

        Raises:
            ValueError: when a requested triple (or every triple of a
                requested entity or relation) was forgotten by an earlier
                request -- the message names it -- or the request is
                malformed (a typed one: an unknown node type, an index out
                of range for its type, an edge type not in the graph).
        """
        from .datasets.hetero import resolve_typed_request
        given = [x is not None for x in (triples, edge_ids, entities,
                                         relations)]
        if sum(given) == 1:
            req = resolve_typed_request(self.typed, self.original,
                                        lambda: self.data,
                                        triples, edge_ids, entities,
                                        relations)
            triples, edge_ids = req['triples'], req['edge_ids']
            entities, relations = req['entities'], req['relations']
        if sum(given) != 1:
            raise ValueError('give exactly one of triples, edge_ids, '
                             'entities or relations')
        as_given: Dict[str, Any] = dict(num_hops=int(num_hops))
        if edge_ids is not None:
            ids = _as_ids(edge_ids, 'edge ids')
            E = self.original.num_edges
            bad = (ids < 0) | (ids >= E)
            if bool(bad.any()):
                raise ValueError(f'edge ids out of range [0, {E - 1}] of the '
                                 f'original training graph: '
                                 f'{ids[bad][:5].tolist()}')
            as_given.update(kind='edge_ids', value=ids.tolist())
            g = self.original  # O(F): no table of all triples
            triples = torch.stack([g.edge_index[0, ids], g.edge_type[ids],
                                   g.edge_index[1, ids]], 1)
        if triples is not None:
            if not torch.is_tensor(triples):
                triples = torch.as_tensor(triples)
            if triples.dim() == 1 and triples.numel() == 3:
                triples = triples.view(1, 3)
            as_given.setdefault('kind', 'triples')
            as_given.setdefault('value', triples.tolist())
            transform, what = request_transform(triples=triples,
                                                num_hops=num_hops)
            if edge_ids is not None:
                what = f'{triples.size(0)} edge id(s)'
            return transform, what, as_given
        if entities is not None:
            ids = _as_ids(entities, 'entities')
            as_given.update(kind='entities', value=ids.tolist())
            transform, what = request_transform(entities=ids,
                                                num_hops=num_hops)
            return transform, what, as_given
        ids = _as_ids(relations, 'relations')
        as_given.update(kind='relations', value=ids.tolist())
        transform, what = request_transform(relations=ids, num_hops=num_hops)
        return transform, what, as_given

    def prepare(self) -> 'Unlearner':
        r"""Builds now what the first request would otherwise pay for
        once: the graph's indexes and digest and the model's digest (on
        ``ogbl-wikikg2``, seconds; then each request costs what it
        touches). Returns :obj:`self`."""
        index = self.graph.index  # noqa: F841  (built here, once)
        self.graph.digest()
        self.original_hash  # noqa: B018  (the ledger names the graph)
        if self.hash_models:
            self.model_digest()
        return self

    def graph_request(self, transform):
        r"""Serves a triple or entity request (:class:`ForgetTriples` or
        :class:`ForgetEntity` without hops) from :attr:`graph`'s indexes,
        at the cost of what it touches: removes its triples from the
        current graph and returns the
        :class:`~torch_geometric_unlearn.datasets.ForgetResult`. Returns
        :obj:`None`, changing nothing, for any other request and for one
        the deletion transform would reject (so the transform gives the
        error, naming an earlier request where there is one)."""
        if getattr(transform, 'num_hops', 0) != 0:
            return None
        n, R = int(self.original.num_nodes), int(self.original.num_relations)
        g = self.graph
        if isinstance(transform, ForgetTriples) and \
                transform.triples is not None:
            t = transform.triples
            if t.numel() == 0 or bool((t < 0).any()) or \
                    int(t[:, [0, 2]].max()) >= n or int(t[:, 1].max()) >= R:
                return None
            from .datasets.kg import triple_keys
            keys = triple_keys(t[:, 0], t[:, 1], t[:, 2], n, R)
            if torch.unique(keys).numel() != keys.numel():
                return None  # the transform warns about duplicates
            ids, which = g.locate(t)
            found = torch.bincount(which, minlength=t.size(0)) > 0
            if not bool(found.all()) or not bool(g.alive[ids].all()):
                return None
        elif isinstance(transform, ForgetEntity):
            e = transform.entities
            if e.numel() == 0 or bool((e < 0).any()) or \
                    int(e.max()) >= n or \
                    torch.unique(e).numel() != e.numel():
                return None
            ids = g.incident(e)
            ends = self.original.edge_index[:, ids].reshape(-1)
            has = torch.isin(e, ends)
            if not bool(has.all()):
                return None
        else:
            return None
        g.digest()  # kept up to date from here on
        removed = g.forget(ids)
        self._data = None  # built again from the graph on first access
        return removed

    def _earlier(self, entry: Optional[Dict[str, Any]]) -> str:
        if entry is None:
            return 'an earlier request'
        return (f"request {entry['index']} ({entry.get('request', '?')}, "
                f"{entry.get('time', '?')})")

    def apply_request(self, transform, as_given: Dict[str, Any]) -> Data:
        r"""Applies a resolved request's transform to the current graph.
        When it fails because a requested triple, entity or relation has
        nothing left to forget, and an earlier request forgot it, the error
        names that request (the check costs nothing on success)."""
        try:
            return transform(self.data)
        except ValueError as err:
            if len(self.ledger) == 0:
                raise
            kind, value = as_given['kind'], as_given['value']
            if kind in ('triples', 'edge_ids'):
                self._check_not_forgotten_triples(
                    torch.as_tensor(value).view(-1, 3) if kind == 'triples'
                    else transform.triples)
            else:
                self._check_not_forgotten_ids(
                    torch.as_tensor(value).view(-1),
                    'entity' if kind == 'entities' else 'relation')
            raise err

    def _check_not_forgotten_triples(self, triples: Tensor) -> None:
        from .datasets.kg import TripleSet
        forgotten = self.ledger.forgotten()
        if forgotten.numel() == 0 or triples.is_floating_point():
            return
        n, R = self.original.num_nodes, self.original.num_relations
        known = TripleSet.from_ids(*forgotten.unbind(1), n, R)
        t = triples.long()
        ok = ((t[:, 0] >= 0) & (t[:, 0] < n) & (t[:, 2] >= 0) & (t[:, 2] < n)
              & (t[:, 1] >= 0) & (t[:, 1] < R))
        t = t[ok]
        hit = known.contains_triples(t)
        if bool(hit.any()):
            row = t[hit][0].tolist()
            raise ValueError(f'triple {tuple(row)} was already forgotten by '
                             f'{self._earlier(self.ledger.entry_of(row))}')

    def _check_not_forgotten_ids(self, ids: Tensor, what: str) -> None:
        if len(self.ledger) == 0:
            return
        if what == 'entity':
            size = self.original.num_nodes
            now, before = (g.edge_index.reshape(-1)
                           for g in (self.data, self.original))
        else:
            size = self.original.num_relations
            now, before = self.data.edge_type, self.original.edge_type
        ids = ids[(ids >= 0) & (ids < size)]
        has_now = torch.zeros(size, dtype=torch.bool)
        has_now[now] = True
        had = torch.zeros(size, dtype=torch.bool)
        had[before] = True
        gone = ids[had[ids] & ~has_now[ids]]
        if gone.numel():
            i = int(gone[0])
            col = (0, 2) if what == 'entity' else (1, )
            entry = None
            for e in self.ledger:
                rows = (e.get('forget') or {}).get('ids', [])
                if any(r[c] == i for r in rows for c in col):
                    entry = e
            raise ValueError(f'every triple of {what} {i} was already '
                             f'forgotten by {self._earlier(entry)}')

    def _names_of(self, triples: Tensor):
        if self.names is None:
            return None
        ents, rels = self.names
        return [[ents.name(h), rels.name(r), ents.name(t)]
                for h, r, t in triples.tolist()]

    def _log(self, record: UnlearningRecord, as_given: Dict[str, Any],
             options: Dict[str, Any], input_hash: Optional[str],
             output: torch.nn.Module, retained: Optional[Data],
             output_digest=None) -> None:
        r"""Appends the request to :attr:`ledger` and :attr:`records`.
        :obj:`retained` is the graph the request left (:obj:`None`: the
        current :attr:`graph`, already updated); :obj:`output_digest` the
        output model's :class:`ModelDigest` when the method kept it up to
        date (else it is computed)."""
        from .utils.fingerprint import ModelDigest
        if self.hash_models and output_digest is None:
            output_digest = ModelDigest(output)
        entry = dict(
            request=record.request, given=as_given, method=self.name,
            options=options,
            forget=dict(ids=record.forget_triples.tolist(),
                        names=self._names_of(record.forget_triples)),
            affected=record.affected.tolist(),
            input_model=input_hash,
            output_model=output_digest.hexdigest() if self.hash_models
            else None,
            retained_data=self.retained_hash(retained),
            graph=self.original_hash, seconds=record.seconds)
        record.details['ledger_entry'] = self.ledger.append(entry)['index']
        self.records.append(record)
        if output_digest is not None:
            self._digest, self._digest_of = output_digest, output

    def _input_hash(self) -> Optional[str]:
        return self.model_digest().hexdigest() if self.hash_models else None

    def _unlearn(self, model: torch.nn.Module, retained: Data,
                 forget: Tensor, affected: Tensor) -> torch.nn.Module:
        r"""Returns the model after forgetting :obj:`forget` ``[F, 3]``;
        :obj:`model` is the current model (a copy unless in place),
        :obj:`retained` the graph without the request. Every method either
        implements it or overrides :meth:`unlearn` as a whole."""
        raise NotImplementedError(f'{type(self).__name__} implements '
                                  f'neither _unlearn nor unlearn')

    def unlearn(self, triples: Optional[Tensor] = None, *, edge_ids=None,
                entities=None, relations=None, num_hops: int = 0,
                inplace: bool = False) -> UnlearningResult:
        r"""Forgets exactly one of :obj:`triples` (``[F, 3]`` rows),
        :obj:`edge_ids` (positions in the original graph), :obj:`entities`
        or :obj:`relations` (see :meth:`resolve_request`)."""
        t0 = time.perf_counter()
        transform, what, as_given = self.resolve_request(
            triples, edge_ids, entities, relations, num_hops)
        input_hash = self._input_hash()
        out = self.apply_request(transform, as_given)
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
        self._log(record, as_given, dict(num_hops=num_hops), input_hash,
                  new, retained)
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
