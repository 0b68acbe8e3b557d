r"""Deletion requests on typed knowledge graphs
(:class:`~torch_geometric.data.HeteroData`).

Each transform converts its input to the homogeneous KG with
:class:`~torch_geometric_unlearn.datasets.HeteroMapping` (through PyG's
:meth:`~torch_geometric.data.HeteroData.to_homogeneous`), applies the
homogeneous transform of :mod:`.forget` (:class:`ForgetTriples`,
:class:`ForgetEntity`, :class:`ForgetRelation`) and maps the result back.
It returns a **new** :class:`HeteroData` -- the input is never modified --
with the same outputs as the homogeneous transforms, per type:

* ``out[edge_type].edge_index`` (and every other edge-level attribute of
  the edge type): the retained triples,
* ``out[edge_type].forget_edge_index`` ``[2, F_k]``: the forgotten triples
  of the edge type (indices within the node types),
  ``out[edge_type].forget_edge_type`` ``[F_k]``: their relation id,
* ``out[edge_type].forget_edge_id`` ``[F_k]`` /
  ``out[edge_type].retain_edge_id`` ``[E_k - F_k]``: their positions in the
  input edge type,
* ``out[node_type].affected_mask`` ``[N_t]`` (:obj:`bool`): the affected
  entities of the type (those of the forgotten triples, optionally
  expanded by :obj:`num_hops` hops over the retained graph, across types),
* ``out[node_type].forget_entity_mask`` ``[N_t]``: the entities of the
  forgotten triples.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, Optional

import torch
from torch_geometric.data import HeteroData
from torch_geometric.transforms import BaseTransform

from ..datasets.hetero import (EdgeType, HeteroMapping, is_typed_request,
                               resolve_typed_request)
from .forget import REQUEST_KEYS, ForgetEntity, ForgetRelation, ForgetTriples

__all__ = ['HeteroForgetTriples', 'HeteroForgetEntity',
           'HeteroForgetRelation', 'HeteroForgetBase']


class HeteroForgetBase(BaseTransform):
    r"""The shared part of the typed deletion transforms: subclasses give
    the homogeneous transform of their request (:meth:`homogeneous`); this
    class converts, applies it and maps the result back.

    Args:
        num_hops (int, optional): Expand the affected entities by this many
            hops over the retained graph. (default: :obj:`0`)
    """
    def __init__(self, num_hops: int = 0) -> None:
        if int(num_hops) < 0:
            raise ValueError(f"'num_hops' must be >= 0 (got {num_hops})")
        self.num_hops = int(num_hops)

    def homogeneous(self, mapping: HeteroMapping,
                    data) -> BaseTransform:  # pragma: no cover
        r"""The homogeneous transform of the request on :obj:`data` (the
        homogeneous KG of the input, as :obj:`mapping` converts it)."""
        raise NotImplementedError

    def forward(self, hetero: HeteroData) -> HeteroData:
        if not isinstance(hetero, HeteroData):
            raise TypeError(f'{type(self).__name__} expects a HeteroData '
                            f'(got {type(hetero).__name__}); use the '
                            f'homogeneous transforms on a Data')
        base = copy.copy(hetero)  # new stores; tensors are not touched
        for store in base.stores:
            for key in REQUEST_KEYS:
                if key in store:
                    del store[key]
        mapping = HeteroMapping.from_hetero(base)
        data = mapping.to_homogeneous(base)
        out = self.homogeneous(mapping, data)(data)
        forgotten = torch.zeros(data.num_edges, dtype=torch.bool)
        forgotten[out.forget_edge_id] = True
        positions = mapping.edge_positions(data)
        keep, drop = {}, {}
        for et in base.edge_types:
            if 'edge_index' not in base[et]:
                continue
            mask = forgotten[positions[et]]
            keep[et] = (~mask).nonzero().view(-1)
            drop[et] = mask.nonzero().view(-1)
        result = base.edge_subgraph(keep)
        for et, ids in drop.items():
            store = result[et]
            store.forget_edge_index = base[et].edge_index[:, ids]
            rel = int(mapping.edge_type_relation[mapping.edge_type_id(et)])
            store.forget_edge_type = torch.full_like(ids, rel)
            store.forget_edge_id = ids
            store.retain_edge_id = keep[et]
        for nt, ids in mapping.global_ids.items():
            result[nt].affected_mask = out.affected_mask[ids]
            result[nt].forget_entity_mask = out.forget_entity_mask[ids]
        return result


class HeteroForgetTriples(HeteroForgetBase):
    r"""Forgets given triples of a typed KG (the request of MetaEU,
    `"Learn to Unlearn: Meta-Learning-Based Knowledge Graph Embedding
    Unlearning" <https://arxiv.org/abs/2412.00881>`_), by edge type.

    .. code-block:: python

        et = ('person', 'citizen_of', 'country')
        out = HeteroForgetTriples(edge_ids={et: [0, 4]})(hetero)
        out = HeteroForgetTriples(triples={et: torch.tensor([[3], [1]])})(
            hetero)                    # person 3 citizen_of country 1
        out[et].edge_index, out[et].forget_edge_index
        out['person'].affected_mask

    Args:
        edge_ids (dict, optional): ``{edge_type: ids}``, positions in
            ``hetero[edge_type].edge_index``. (default: :obj:`None`)
        triples (dict, optional): ``{edge_type: edge_index}``, each ``[2,
            F_k]`` head and tail indices within their node types.
            (default: :obj:`None`)
        num_hops (int, optional): Expand the affected entities by this many
            hops over the retained graph. (default: :obj:`0`)

    Raises:
        ValueError: Neither or both of :obj:`edge_ids` and :obj:`triples`,
            an unknown node type, an edge type not in the graph, an index or
            id out of range for its type, a triple not in the graph, an
            empty request.
    """
    def __init__(self, edge_ids: Optional[Dict[EdgeType, Any]] = None,
                 triples: Optional[Dict[EdgeType, Any]] = None,
                 num_hops: int = 0) -> None:
        super().__init__(num_hops)
        if (edge_ids is None) == (triples is None):
            raise ValueError("give exactly one of 'edge_ids' and 'triples'")
        given = edge_ids if edge_ids is not None else triples
        if not isinstance(given, dict) or not given:
            raise ValueError(f"{'edge_ids' if triples is None else 'triples'}"
                             f" must be a non-empty dict keyed by edge type "
                             f"(head_type, relation, tail_type)")
        self.edge_ids, self.triples = edge_ids, triples

    def homogeneous(self, mapping, data):
        if self.edge_ids is not None:
            return ForgetTriples(edge_ids=mapping.edge_ids(self.edge_ids,
                                                           data),
                                 num_hops=self.num_hops)
        return ForgetTriples(triples=mapping.triples(self.triples),
                             num_hops=self.num_hops)

    def __repr__(self) -> str:
        given = self.edge_ids if self.edge_ids is not None else self.triples
        return (f'{self.__class__.__name__}(edge_types={len(given)}, '
                f'num_hops={self.num_hops})')


class HeteroForgetEntity(HeteroForgetBase):
    r"""Forgets typed entities: every triple, of any edge type, in which one
    of them is the head or the tail.

    .. code-block:: python

        out = HeteroForgetEntity(('person', 3))(hetero)
        out = HeteroForgetEntity([('person', 3), ('country', 0)])(hetero)
        out = HeteroForgetEntity({'person': [3, 5]})(hetero)

    Args:
        entities: ``(node_type, index)``, ``(node_type, [indices])``, a
            list of those, or ``{node_type: indices}``.
        num_hops (int, optional): Expand the affected entities by this many
            hops over the retained graph. (default: :obj:`0`)

    Raises:
        ValueError: An unknown node type, an index out of range for its
            type, an entity with no triple, an empty request.
    """
    def __init__(self, entities: Any, num_hops: int = 0) -> None:
        super().__init__(num_hops)
        if not is_typed_request(entities=entities) or \
                isinstance(entities, dict) and not entities:
            raise ValueError(f"'entities' must name typed entities: "
                             f"(node_type, index), a list of those or "
                             f"{{node_type: indices}} (got {entities!r})")
        self.entities = entities

    def homogeneous(self, mapping, data):
        return ForgetEntity(mapping.entity_ids(self.entities),
                            num_hops=self.num_hops)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.entities!r}, '
                f'num_hops={self.num_hops})')


class HeteroForgetRelation(HeteroForgetBase):
    r"""Forgets relations of a typed KG: a relation name forgets its triples
    under every type pair, an edge type ``(head_type, relation,
    tail_type)`` only the triples of that edge type.

    .. code-block:: python

        out = HeteroForgetRelation('citizen_of')(hetero)
        out = HeteroForgetRelation(('person', 'citizen_of', 'country'))(
            hetero)

    Args:
        relations: A relation name, an edge type, or a list of those.
        num_hops (int, optional): Expand the affected entities by this many
            hops over the retained graph. (default: :obj:`0`)

    Raises:
        ValueError: An unknown relation, an edge type not in the graph or
            with no triple, an empty request.
    """
    def __init__(self, relations: Any, num_hops: int = 0) -> None:
        super().__init__(num_hops)
        if not is_typed_request(relations=relations):
            raise ValueError(f"'relations' must be relation names or edge "
                             f"types (head_type, relation, tail_type) (got "
                             f"{relations!r})")
        self.relations = relations

    def homogeneous(self, mapping, data):
        req = resolve_typed_request(mapping, data, data,
                                    relations=self.relations)
        if req['triples'] is not None:
            return ForgetTriples(triples=req['triples'],
                                 num_hops=self.num_hops)
        return ForgetRelation(req['relations'], num_hops=self.num_hops)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.relations!r}, '
                f'num_hops={self.num_hops})')
