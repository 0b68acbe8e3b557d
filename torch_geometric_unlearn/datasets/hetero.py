r"""Typed knowledge graphs as :class:`~torch_geometric.data.HeteroData`.

A typed KG gives every entity one type. As a
:class:`~torch_geometric.data.HeteroData` its node types are the entity
types and its edge types are ``(head_type, relation, tail_type)`` triples
(one relation may appear under several type pairs):

* ``hetero[node_type].num_nodes`` (:obj:`int`): entities of that type,
* ``hetero[node_type].node_id`` (:obj:`LongTensor` ``[N_t]``): their ids in
  the homogeneous KG (the index space of the KGE model),
* ``hetero[edge_type].edge_index`` (:obj:`LongTensor` ``[2, E_k]``): head
  and tail indices *within* their node types,
* ``hetero.relation_names`` (:obj:`list`): relation names in id order.

The KGE models work on the homogeneous KG (the
:class:`~torch_geometric.data.Data` of :mod:`.kg`: ``edge_index``,
``edge_type`` = relation id, ``num_nodes``, ``num_relations``).
:class:`HeteroMapping` converts between the two, through PyG's own
:meth:`~torch_geometric.data.HeteroData.to_homogeneous`, and resolves typed
names (``("person", 3)``, ``("person", "citizen_of", "country")``) to
homogeneous ids. :class:`TypedKGDataset` is a :class:`KGDataset` that
carries a mapping; :func:`load_typed_tsv_kg` reads one from a TSV directory
and an entity-type file.
"""
from __future__ import annotations

import json
import os.path as osp
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor
from torch_geometric.data import Data, HeteroData

from .errors import UnknownNameError, UserInputError
from .kg import KGDataset, Vocabulary, check_kg, make_kg

__all__ = ['HeteroMapping', 'TypedKGDataset', 'read_entity_types',
           'add_entity_types', 'load_typed_tsv_kg', 'typed_dataset',
           'mapping_of', 'is_typed_request',
           'resolve_typed_request', 'EdgeType']

EdgeType = Tuple[str, str, str]


def _ids(value: Any, what: str) -> Tensor:
    r"""A 1-D :obj:`LongTensor` of integer ids (an int, a list or a
    tensor)."""
    if isinstance(value, bool):
        raise TypeError(f'{what} must be integer ids (got {value!r})')
    if isinstance(value, int):
        value = [value]
    t = value if isinstance(value, Tensor) else torch.as_tensor(list(value))
    if t.numel() and (t.is_floating_point() or t.dtype == torch.bool
                      or t.is_complex()):
        raise TypeError(f'{what} must hold integer ids (got dtype {t.dtype})')
    return t.reshape(-1).long()


def _is_edge_type(x: Any) -> bool:
    return (isinstance(x, tuple) and len(x) == 3
            and all(isinstance(s, str) for s in x))


def _is_typed_entity(x: Any) -> bool:
    return isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str)


class HeteroMapping:
    r"""The correspondence between a typed KG (:class:`HeteroData`) and its
    homogeneous KG (:class:`Data`), as used by the typed transforms and
    unlearners of this package (the typed view of the *Typed graphs* part
    of the design; MetaEU: `"Learn to Unlearn: Meta-Learning-Based
    Knowledge Graph Embedding Unlearning"
    <https://arxiv.org/abs/2412.00881>`_).

    Entity :obj:`i` of the homogeneous KG has type
    :obj:`node_types[entity_type[i]]` and index :obj:`local_index[i]` within
    it; :obj:`global_ids[t]` lists the homogeneous ids of type :obj:`t` in
    local order (ascending). The node types need not occupy contiguous id
    ranges, so a dataset keeps its ids (and its trained models) when types
    are added.

    .. code-block:: python

        mapping = kg.mapping                 # or HeteroMapping.from_hetero(h)
        hetero = mapping.to_hetero(kg.train)  # HeteroData
        data = mapping.to_homogeneous(hetero)  # Data, ids as kg.train
        mapping.global_id('person', 3)        # homogeneous entity id

    Args:
        entity_type (torch.Tensor): The type of every entity, ``[N]``
            indices into :obj:`node_types`.
        node_types (Sequence[str]): Node type names (unique).
        relation_vocab (Vocabulary or Sequence[str]): Relation names in id
            order.
        edge_types (Sequence[Tuple[str, str, str]]): The edge types
            ``(head_type, relation, tail_type)`` of the graph, in order.
        entity_vocab (Vocabulary, optional): Entity names.
            (default: implicit names :obj:`"e{i}"`)
    """
    def __init__(self, entity_type: Tensor, node_types: Sequence[str],
                 relation_vocab: Union[Vocabulary, Sequence[str]],
                 edge_types: Sequence[EdgeType],
                 entity_vocab: Optional[Vocabulary] = None) -> None:
        entity_type = _ids(entity_type, "'entity_type'")
        self.node_types: List[str] = [str(t) for t in node_types]
        if len(set(self.node_types)) != len(self.node_types):
            raise ValueError('node type names must be unique')
        T = len(self.node_types)
        if entity_type.numel() and (int(entity_type.min()) < 0
                                    or int(entity_type.max()) >= T):
            raise ValueError(f"'entity_type' must hold indices into the {T} "
                             f"node types")
        self.entity_type = entity_type
        if not isinstance(relation_vocab, Vocabulary):
            relation_vocab = Vocabulary(list(relation_vocab))
        self.relation_vocab = relation_vocab
        n = entity_type.numel()
        self.entity_vocab = entity_vocab or Vocabulary(size=n, prefix='e')
        if len(self.entity_vocab) != n:
            raise ValueError(f'entity vocabulary has {len(self.entity_vocab)}'
                             f' names for {n} entities')
        order = torch.argsort(entity_type, stable=True)
        counts = torch.bincount(entity_type, minlength=T)
        self.global_ids: Dict[str, Tensor] = dict(
            zip(self.node_types, order.split(counts.tolist())))
        self.local_index = torch.empty(n, dtype=torch.long)
        for ids in self.global_ids.values():
            self.local_index[ids] = torch.arange(ids.numel())
        self._type_id = {t: i for i, t in enumerate(self.node_types)}
        self.edge_types: List[EdgeType] = []
        rel_ids = []
        for et in edge_types:
            et = tuple(str(s) for s in et)
            if len(et) != 3:
                raise ValueError(f'an edge type is (head_type, relation, '
                                 f'tail_type), got {et!r}')
            self.check_node_type(et[0])
            self.check_node_type(et[2])
            rel_ids.append(self.relation_id(et[1]))
            self.edge_types.append(et)
        if len(set(self.edge_types)) != len(self.edge_types):
            raise ValueError('edge types must be unique')
        self.edge_type_relation = torch.tensor(rel_ids, dtype=torch.long)
        self._edge_id = {et: i for i, et in enumerate(self.edge_types)}
        keys = torch.tensor([self._key(self._type_id[h], r, self._type_id[t])
                             for (h, _, t), r in zip(self.edge_types,
                                                     rel_ids)],
                            dtype=torch.long)
        self._keys, self._key_order = torch.sort(keys)
        self._entity_vocabs: Optional[Dict[str, Vocabulary]] = None

    # Construction ##########################################################

    @classmethod
    def from_types(cls, entity_type: Tensor, node_types: Sequence[str],
                   relation_vocab: Union[Vocabulary, Sequence[str]],
                   graphs: Iterable[Data],
                   entity_vocab: Optional[Vocabulary] = None
                   ) -> 'HeteroMapping':
        r"""The mapping of typed entities whose edge types are those that
        occur in :obj:`graphs` (homogeneous KG splits), sorted by head
        type, relation id and tail type."""
        entity_type = _ids(entity_type, "'entity_type'")
        if not isinstance(relation_vocab, Vocabulary):
            relation_vocab = Vocabulary(list(relation_vocab))
        T, R = len(node_types), len(relation_vocab)
        keys = [torch.empty(0, dtype=torch.long)]
        for g in graphs:
            check_kg(g)
            h, t = entity_type[g.edge_index[0]], entity_type[g.edge_index[1]]
            keys.append((h * R + g.edge_type) * T + t)
        keys = torch.unique(torch.cat(keys)).tolist()
        names = list(node_types)
        edge_types = [(names[k // (R * T)], relation_vocab.name(k // T % R),
                       names[k % T]) for k in keys]
        return cls(entity_type, node_types, relation_vocab, edge_types,
                   entity_vocab)

    @classmethod
    def from_hetero(cls, hetero: HeteroData,
                    relation_vocab: Optional[Union[Vocabulary,
                                                   Sequence[str]]] = None
                    ) -> 'HeteroMapping':
        r"""The mapping of a typed KG :obj:`hetero`.

        Homogeneous entity ids are the stores' ``node_id`` when every node
        type has one (as :meth:`to_hetero` writes), else PyG's
        :meth:`~torch_geometric.data.HeteroData.to_homogeneous` order (node
        types in order, each a contiguous range). Relation ids follow
        :obj:`relation_vocab`, else ``hetero.relation_names``, else the
        order of first appearance over the edge types.

        Raises:
            UserInputError: A node type without ``num_nodes``, ``node_id``
                that is no permutation of the entity ids, an edge type whose
                relation is not in :obj:`relation_vocab`.
        """
        if not isinstance(hetero, HeteroData):
            raise TypeError(f'expected a HeteroData (got '
                            f'{type(hetero).__name__})')
        node_types = list(hetero.node_types)
        if not node_types:
            raise UserInputError('the HeteroData has no node types')
        counts = []
        for nt in node_types:
            n = hetero[nt].num_nodes
            if n is None:
                raise UserInputError(f"node type '{nt}' has no num_nodes")
            counts.append(int(n))
        N = sum(counts)
        type_of = torch.arange(len(counts)).repeat_interleave(
            torch.tensor(counts, dtype=torch.long))
        if all('node_id' in hetero[nt] for nt in node_types):
            glob = torch.cat([_ids(hetero[nt].node_id, f"'{nt}.node_id'")
                              for nt in node_types])
            seen = torch.zeros(N, dtype=torch.long)
            ok = glob.numel() == N and (
                glob.numel() == 0 or (int(glob.min()) >= 0
                                      and int(glob.max()) < N))
            if ok:
                seen.scatter_add_(0, glob, torch.ones_like(glob))
                ok = bool((seen == 1).all())
            if not ok:
                raise UserInputError(f"the node types' node_id must together "
                                     f"be a permutation of 0..{N - 1}")
            entity_type = torch.empty(N, dtype=torch.long)
            entity_type[glob] = type_of
            order_ok = all(bool((hetero[nt].node_id.reshape(-1).diff() > 0)
                                .all()) for nt in node_types)
            if not order_ok:
                raise UserInputError("each node type's node_id must be "
                                     "ascending")
        else:
            entity_type = type_of
        edge_types = [tuple(et) for et in hetero.edge_types]
        if relation_vocab is None:
            names = getattr(hetero, 'relation_names', None)
            if names is None:
                names = list(dict.fromkeys(et[1] for et in edge_types))
            relation_vocab = names
        if not isinstance(relation_vocab, Vocabulary):
            relation_vocab = Vocabulary(list(relation_vocab))
        missing = [et for et in edge_types if et[1] not in relation_vocab]
        if missing:
            raise UnknownNameError(
                f'edge type(s) with a relation outside the relation '
                f'vocabulary: {missing[:5]}', names=[m[1] for m in missing])
        return cls(entity_type, node_types, relation_vocab, edge_types)

    # Sizes and names #######################################################

    @property
    def num_entities(self) -> int:
        return int(self.entity_type.numel())

    @property
    def num_relations(self) -> int:
        return len(self.relation_vocab)

    @property
    def num_nodes_dict(self) -> Dict[str, int]:
        r"""Entities per node type."""
        return {nt: int(ids.numel()) for nt, ids in self.global_ids.items()}

    @property
    def entity_vocabs(self) -> Dict[str, Vocabulary]:
        r"""Per node type, the names of its entities in local order."""
        if self._entity_vocabs is None:
            self._entity_vocabs = {
                nt: Vocabulary(self.entity_vocab.names(ids))
                for nt, ids in self.global_ids.items()}
        return self._entity_vocabs

    def check_node_type(self, node_type: str) -> int:
        r"""The index of :obj:`node_type`; a clear error if unknown."""
        idx = self._type_id.get(node_type)
        if idx is None:
            raise UserInputError(f"unknown node type {node_type!r} (node "
                                 f"types: {', '.join(self.node_types)})")
        return idx

    def edge_type_id(self, edge_type: EdgeType) -> int:
        r"""The position of :obj:`edge_type` in :attr:`edge_types`.

        Raises:
            UserInputError: An unknown node type or relation, or an edge
                type that is not in the graph.
        """
        if not _is_edge_type(edge_type):
            raise UserInputError(f'an edge type is a (head_type, relation, '
                                 f'tail_type) tuple of strings (got '
                                 f'{edge_type!r})')
        self.check_node_type(edge_type[0])
        self.check_node_type(edge_type[2])
        self.relation_id(edge_type[1])
        idx = self._edge_id.get(edge_type)
        if idx is None:
            shown = ', '.join(str(et) for et in self.edge_types[:8])
            more = ', ...' if len(self.edge_types) > 8 else ''
            raise UserInputError(f'edge type {edge_type} is not in the graph '
                                 f'(edge types: {shown}{more})')
        return idx

    def relation_id(self, name: str) -> int:
        r"""The id of relation :obj:`name` (:class:`UnknownNameError` if
        unknown)."""
        try:
            return self.relation_vocab.index(name)
        except KeyError:
            raise UnknownNameError(f'unknown relation {name!r}',
                                   names=[name]) from None

    def global_id(self, node_type: str, index: Any) -> Tensor:
        r"""Homogeneous ids of entities :obj:`index` (an int, a list or a
        tensor of indices within :obj:`node_type`), a 1-D tensor.

        Raises:
            UserInputError: An unknown node type or an index out of range
                for its type.
        """
        self.check_node_type(node_type)
        ids = self.global_ids[node_type]
        idx = _ids(index, f"indices of node type '{node_type}'")
        bad = (idx < 0) | (idx >= ids.numel())
        if bool(bad.any()):
            raise UserInputError(
                f"index out of range for node type '{node_type}' with "
                f"{ids.numel()} entities: {idx[bad][:5].tolist()}")
        return ids[idx]

    def typed_entity(self, entity: int) -> Tuple[str, int]:
        r"""``(node_type, index)`` of homogeneous entity :obj:`entity`."""
        entity = int(entity)
        if not 0 <= entity < self.num_entities:
            raise UserInputError(f'entity id {entity} out of range [0, '
                                 f'{self.num_entities - 1}]')
        return (self.node_types[int(self.entity_type[entity])],
                int(self.local_index[entity]))

    def split_nodes(self, values: Tensor) -> Dict[str, Tensor]:
        r"""A node-level tensor ``[N, ...]`` of the homogeneous KG split by
        node type (local order)."""
        return {nt: values[ids] for nt, ids in self.global_ids.items()}

    # Conversion ############################################################

    def _key(self, h, r, t):
        T = len(self.node_types)
        return (h * self.num_relations + r) * T + t

    def edge_type_index(self, data: Data) -> Tensor:
        r"""The position in :attr:`edge_types` of every triple of a
        homogeneous KG split, ``[E]``.

        Raises:
            UserInputError: A triple whose ``(head_type, relation,
                tail_type)`` is not an edge type of the mapping.
        """
        check_kg(data)
        if int(data.num_nodes) != self.num_entities:
            raise UserInputError(f'the graph has {data.num_nodes} entities, '
                                 f'the typed KG {self.num_entities}')
        h, t = data.edge_index
        keys = self._key(self.entity_type[h], data.edge_type,
                         self.entity_type[t])
        if self._keys.numel() == 0:
            pos = torch.zeros_like(keys)
            found = torch.zeros_like(keys, dtype=torch.bool)
        else:
            pos = torch.searchsorted(self._keys, keys).clamp_(
                max=self._keys.numel() - 1)
            found = self._keys[pos] == keys
        if not bool(found.all()):
            i = int((~found).nonzero()[0])
            et = (self.node_types[int(self.entity_type[h[i]])],
                  self.relation_vocab.name(int(data.edge_type[i])),
                  self.node_types[int(self.entity_type[t[i]])])
            raise UserInputError(f'{int((~found).sum())} triple(s) have an '
                                 f'edge type that is not in the typed graph, '
                                 f'e.g. edge {i} of type {et}')
        return self._key_order[pos]

    def edge_positions(self, data: Data) -> Dict[EdgeType, Tensor]:
        r"""Per edge type, the positions in :obj:`data` of its triples, in
        the order :meth:`to_hetero` lists them (ascending)."""
        k = self.edge_type_index(data)
        order = torch.argsort(k, stable=True)
        counts = torch.bincount(k, minlength=len(self.edge_types))
        return dict(zip(self.edge_types, order.split(counts.tolist())))

    def to_hetero(self, data: Data) -> HeteroData:
        r"""The typed view of a homogeneous KG split :obj:`data`: every
        node type (with ``num_nodes`` and ``node_id``) and every edge type
        of the mapping (an empty ``edge_index`` ``[2, 0]`` where
        :obj:`data` has none of its triples), triples of one edge type in
        their order in :obj:`data`."""
        out = HeteroData()
        for nt, ids in self.global_ids.items():
            out[nt].num_nodes = int(ids.numel())
            out[nt].node_id = ids.clone()
        local = self.local_index[data.edge_index] if data.num_edges else \
            torch.empty(2, 0, dtype=torch.long)
        for et, pos in self.edge_positions(data).items():
            out[et].edge_index = local[:, pos]
        out.relation_names = self.relation_vocab.to_list()
        return out

    def to_homogeneous(self, hetero: HeteroData) -> Data:
        r"""The homogeneous KG split of a typed one, through PyG's
        :meth:`~torch_geometric.data.HeteroData.to_homogeneous` (its
        ``edge_type`` is an edge-type index, mapped here to relation ids;
        its node ids to :attr:`global_ids`).

        Raises:
            UserInputError: :obj:`hetero` has other node types or sizes, or
                an edge type that is not in the mapping, or ids out of
                range.
        """
        if not isinstance(hetero, HeteroData):
            raise TypeError(f'expected a HeteroData (got '
                            f'{type(hetero).__name__})')
        sizes = {nt: hetero[nt].num_nodes for nt in hetero.node_types}
        if sizes != self.num_nodes_dict:
            raise UserInputError(f'the HeteroData has node types {sizes}, '
                                 f'the typed KG {self.num_nodes_dict}')
        stores = hetero.collect('edge_index', True)
        rel = []
        for et, ei in stores.items():
            rel.append(int(self.edge_type_relation[self.edge_type_id(et)]))
            if ei.dim() != 2 or ei.size(0) != 2:
                raise UserInputError(f'{et}.edge_index must have shape '
                                     f'[2, E] (got {list(ei.shape)})')
            for row, nt in ((0, et[0]), (1, et[2])):
                n = sizes[nt]
                if ei.numel() and (int(ei[row].min()) < 0
                                   or int(ei[row].max()) >= n):
                    raise UserInputError(f"{et}.edge_index holds indices "
                                         f"out of range for node type "
                                         f"'{nt}' with {n} entities")
        hom = hetero.to_homogeneous(node_attrs=[], edge_attrs=[],
                                    add_node_type=False, add_edge_type=True,
                                    dummy_values=False)
        order = torch.cat([self.global_ids[nt]
                           for nt in hetero.num_nodes_dict])
        if 'edge_index' in hom and hom.edge_index is not None:
            edge_index = order[hom.edge_index]
            edge_type = torch.tensor(rel, dtype=torch.long)[hom.edge_type]
        else:
            edge_index = torch.empty(2, 0, dtype=torch.long)
            edge_type = torch.empty(0, dtype=torch.long)
        return make_kg(edge_index, edge_type, self.num_entities,
                       self.num_relations)

    # Typed requests ########################################################

    def entity_ids(self, entities: Any) -> Tensor:
        r"""Homogeneous ids of typed entities: ``(node_type, index)``,
        ``(node_type, [indices])``, a list of those, or a dict
        ``{node_type: indices}``; plain integers in a list are homogeneous
        ids already."""
        if isinstance(entities, dict):
            parts = [self.global_id(nt, idx) for nt, idx in entities.items()]
        elif _is_typed_entity(entities):
            parts = [self.global_id(*entities)]
        else:
            parts = []
            for x in entities:
                if _is_typed_entity(x):
                    parts.append(self.global_id(*x))
                else:
                    parts.append(_ids(x, 'entities'))
        if not parts:
            raise UserInputError('empty request: no entities given')
        return torch.cat(parts)

    def triples(self, edge_index_dict: Dict[EdgeType, Any]) -> Tensor:
        r"""Homogeneous ``(head, relation, tail)`` rows ``[F, 3]`` of typed
        triples ``{edge_type: edge_index}``, each ``edge_index`` ``[2, F_k]``
        of head and tail indices within their node types."""
        rows = []
        for et, ei in edge_index_dict.items():
            self.edge_type_id(et)
            ei = torch.as_tensor(ei)
            if ei.is_floating_point() or ei.dtype == torch.bool:
                raise TypeError(f'the triples of {et} must be integer '
                                f'indices (got dtype {ei.dtype})')
            if ei.dim() != 2 or ei.size(0) != 2:
                raise UserInputError(f'the triples of {et} are an '
                                     f'edge_index of shape [2, F] (got '
                                     f'{list(ei.shape)})')
            h = self.global_id(et[0], ei[0])
            t = self.global_id(et[2], ei[1])
            r = torch.full_like(h, self.relation_id(et[1]))
            rows.append(torch.stack([h, r, t], 1))
        if not rows:
            raise UserInputError('empty request: no triples given')
        return torch.cat(rows)

    def edge_ids(self, edge_ids: Dict[EdgeType, Any], data: Data) -> Tensor:
        r"""Positions in :obj:`data` of typed edge ids ``{edge_type:
        ids}``, each id a position in ``to_hetero(data)[edge_type]``."""
        pos = self.edge_positions(data)
        out = []
        for et, ids in edge_ids.items():
            self.edge_type_id(et)
            ids = _ids(ids, f'edge ids of {et}')
            n = pos[tuple(et)].numel()
            bad = (ids < 0) | (ids >= n)
            if bool(bad.any()):
                raise UserInputError(f'edge ids out of range for edge type '
                                     f'{et} with {n} triples: '
                                     f'{ids[bad][:5].tolist()}')
            out.append(pos[tuple(et)][ids])
        if not out:
            raise UserInputError('empty request: no edge ids given')
        return torch.cat(out)

    # State #################################################################

    def state(self) -> dict:
        r"""A :func:`torch.save`-able description (see :meth:`from_state`);
        the vocabularies are not included."""
        return {'entity_type': self.entity_type,
                'node_types': list(self.node_types),
                'edge_types': [list(et) for et in self.edge_types]}

    @classmethod
    def from_state(cls, state: dict, relation_vocab: Vocabulary,
                   entity_vocab: Optional[Vocabulary] = None
                   ) -> 'HeteroMapping':
        return cls(state['entity_type'], state['node_types'], relation_vocab,
                   [tuple(et) for et in state['edge_types']], entity_vocab)

    def __eq__(self, other) -> bool:
        return (isinstance(other, HeteroMapping)
                and self.node_types == other.node_types
                and self.edge_types == other.edge_types
                and torch.equal(self.entity_type, other.entity_type)
                and self.relation_vocab == other.relation_vocab)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(entities={self.num_entities}, '
                f'node_types={len(self.node_types)}, '
                f'relations={self.num_relations}, '
                f'edge_types={len(self.edge_types)})')


class TypedKGDataset(KGDataset):
    r"""A :class:`KGDataset` whose entities have types: the homogeneous
    splits as in :class:`KGDataset` (so every trainer, evaluator and
    unlearner takes it as it is), plus :attr:`mapping`
    (:class:`HeteroMapping`) and typed views of the splits
    (:meth:`hetero`).

    The types are kept in :obj:`meta['types']`, so
    :meth:`KGDataset.save` / :meth:`load` keep them.

    Args:
        dataset (KGDataset): The homogeneous dataset.
        entity_type (torch.Tensor): The type of every entity, ``[N]``
            indices into :obj:`node_types`.
        node_types (Sequence[str]): Node type names.
    """
    def __init__(self, dataset: KGDataset, entity_type: Tensor,
                 node_types: Sequence[str]) -> None:
        meta = dict(dataset.meta)
        meta.pop('types', None)
        super().__init__(dataset.train, dataset.valid, dataset.test,
                         entity_vocab=dataset.entity_vocab,
                         relation_vocab=dataset.relation_vocab,
                         name=dataset.name, meta=meta)
        entity_type = _ids(entity_type, "'entity_type'")
        if entity_type.numel() != self.num_entities:
            raise ValueError(f"'entity_type' has {entity_type.numel()} "
                             f"entries for {self.num_entities} entities")
        self.mapping = HeteroMapping.from_types(
            entity_type, node_types, self.relation_vocab,
            [self.train, self.valid, self.test], self.entity_vocab)
        self.meta['types'] = self.mapping.state()

    def hetero(self, split: str = 'train') -> HeteroData:
        r"""The typed view of :obj:`split` (a new :class:`HeteroData`)."""
        return self.mapping.to_hetero(self[split])

    @property
    def node_types(self) -> List[str]:
        return list(self.mapping.node_types)

    @property
    def edge_types(self) -> List[EdgeType]:
        return list(self.mapping.edge_types)

    @classmethod
    def load(cls, path: str) -> 'TypedKGDataset':
        r"""Loads a typed dataset written by :meth:`save`."""
        return typed_dataset(KGDataset.load(path))

    def summary(self) -> dict:
        out = super().summary()
        out['node_types'] = self.mapping.num_nodes_dict
        out['edge_types'] = len(self.mapping.edge_types)
        return out

    def __repr__(self) -> str:
        return (super().__repr__()[:-1] +
                f', node_types={len(self.mapping.node_types)}, '
                f'edge_types={len(self.mapping.edge_types)})')


def typed_dataset(dataset: KGDataset) -> TypedKGDataset:
    r"""The :class:`TypedKGDataset` of a dataset that carries its types in
    :obj:`meta['types']` (one saved from a :class:`TypedKGDataset`)."""
    if isinstance(dataset, TypedKGDataset):
        return dataset
    state = dataset.meta.get('types')
    if not isinstance(state, dict):
        raise UserInputError(f"dataset '{dataset.name}' carries no entity "
                             f"types")
    return TypedKGDataset(dataset, state['entity_type'], state['node_types'])


def read_entity_types(path: str) -> Dict[str, str]:
    r"""Reads entity types: ``entity<TAB>type`` lines (``.tsv``, ``.txt``,
    gzipped or not), or a JSON object ``{entity: type}`` or ``{entity:
    [types]}`` (the layout of CoDEx's ``entity2types.json``; an entity's
    first type is used, as a node has one type).

    Raises:
        UserInputError: A line without two tab-separated fields, an entity
            given two different types, an entity with an empty type list.
    """
    from .tsv import read_text
    if not osp.isfile(path):
        raise FileNotFoundError(f"entity-type file '{path}' does not exist")
    text = read_text(path)
    out: Dict[str, str] = {}
    if path.endswith(('.json', '.json.gz')):
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise UserInputError(f'{path}: not JSON ({e})') from e
        if not isinstance(obj, dict):
            raise UserInputError(f'{path}: expected a JSON object {{entity: '
                                 f'type}}')
        for ent, types in obj.items():
            if isinstance(types, list):
                if not types:
                    raise UserInputError(f'{path}: entity {ent!r} has an '
                                         f'empty type list')
                types = types[0]
            out[str(ent)] = str(types)
        return out
    for lineno, line in enumerate(text.split('\n'), start=1):
        line = line.rstrip('\r')
        if not line.strip():
            continue
        parts = line.split('\t')
        if len(parts) != 2:
            raise UserInputError(f"{path}:{lineno}: expected 2 tab-separated "
                                 f"fields 'entity<TAB>type', got "
                                 f"{len(parts)}: {line[:80]!r}")
        ent, typ = parts
        if out.get(ent, typ) != typ:
            raise UserInputError(f'{path}:{lineno}: entity {ent!r} has two '
                                 f'types ({out[ent]!r} and {typ!r}); a node '
                                 f'has one type')
        out[ent] = typ
    return out


def add_entity_types(dataset: KGDataset, types: Union[str, Dict[str, str]],
                     default_type: Optional[str] = None,
                     where: Optional[str] = None) -> TypedKGDataset:
    r"""Types the entities of :obj:`dataset` by name (its ids are kept).

    Args:
        dataset (KGDataset): The dataset.
        types (str or dict): An entity-type file (see
            :func:`read_entity_types`) or a ``{entity name: type}`` dict.
            Names the dataset lacks are ignored.
        default_type (str, optional): The type of entities :obj:`types`
            does not name. (default: :obj:`None`: such entities are an
            error)
        where (str, optional): Where :obj:`dataset` came from, for
            messages. (default: its name)

    Returns:
        :class:`TypedKGDataset`, node types in sorted order.

    Raises:
        UnknownNameError: Entities without a type and no
            :obj:`default_type`.
    """
    path = types if isinstance(types, str) else None
    if isinstance(types, str):
        types = read_entity_types(types)
    names = dataset.entity_vocab.to_list()
    labels = [types.get(n, default_type) for n in names]
    missing = [n for n, lab in zip(names, labels) if lab is None]
    if missing:
        shown = ', '.join(repr(n) for n in missing[:5])
        more = f' and {len(missing) - 5} more' if len(missing) > 5 else ''
        raise UnknownNameError(
            f"{len(missing)} entities of '{where or dataset.name}' have no "
            f"type in {path or 'the types given'}: {shown}{more} (give "
            f"default_type= to type them)", names=missing[:5], path=path)
    node_types = sorted(set(str(lab) for lab in labels))
    index = {t: i for i, t in enumerate(node_types)}
    entity_type = torch.tensor([index[str(lab)] for lab in labels],
                               dtype=torch.long)
    return TypedKGDataset(dataset, entity_type, node_types)


def load_typed_tsv_kg(root: str, types: Union[str, Dict[str, str]],
                      default_type: Optional[str] = None,
                      **kwargs) -> TypedKGDataset:
    r"""Loads a typed KG: a TSV directory (as :func:`load_tsv_kg`, whose
    ids it keeps, so models trained on the untyped KG fit) plus entity
    types (see :func:`add_entity_types`).

    .. code-block:: python

        kg = load_typed_tsv_kg('path/to/codex-s', 'path/to/types.tsv',
                               default_type='entity')
        kg.hetero('train')   # HeteroData

    Args:
        root (str): The directory of ``train`` / ``valid`` / ``test`` files.
        types (str or dict): An entity-type file (``entity<TAB>type`` lines
            or CoDEx's ``entity2types.json``) or a ``{entity: type}`` dict.
        default_type (str, optional): The type of untyped entities.
            (default: :obj:`None`: an error)
        **kwargs: Passed to :func:`load_tsv_kg`.

    Returns:
        :class:`TypedKGDataset`
    """
    from .tsv import load_tsv_kg
    return add_entity_types(load_tsv_kg(root, **kwargs), types,
                            default_type, where=root)


def mapping_of(data: Any) -> Optional[HeteroMapping]:
    r"""The :class:`HeteroMapping` of a typed KG (a :class:`HeteroData`, a
    :class:`TypedKGDataset` or a dataset that carries types in its
    :obj:`meta`), else :obj:`None`."""
    if isinstance(data, HeteroData):
        return HeteroMapping.from_hetero(data)
    if isinstance(data, TypedKGDataset):
        return data.mapping
    if isinstance(data, KGDataset) and isinstance(data.meta.get('types'),
                                                  dict):
        return typed_dataset(data).mapping
    return None


def is_typed_request(triples=None, edge_ids=None, entities=None,
                     relations=None) -> bool:
    r"""Whether a request names typed things: dicts keyed by edge type or
    node type, ``(node_type, index)`` entities, relation names or
    ``(head_type, relation, tail_type)`` edge types."""
    if isinstance(triples, dict) or isinstance(edge_ids, dict) or \
            isinstance(entities, dict):
        return True
    if entities is not None and not isinstance(entities, (int, Tensor)):
        if _is_typed_entity(entities) or any(
                _is_typed_entity(x) for x in entities):
            return True
    if relations is not None and not isinstance(relations, (int, Tensor)):
        if isinstance(relations, str) or _is_edge_type(relations):
            return True
        return any(isinstance(x, str) or _is_edge_type(x) for x in relations)
    return False


def resolve_typed_request(mapping: Optional[HeteroMapping], original: Data,
                          current: Data, triples=None, edge_ids=None,
                          entities=None, relations=None) -> dict:
    r"""The homogeneous form of a (possibly) typed request, as keyword
    arguments ``triples``, ``edge_ids``, ``entities``, ``relations``:

    * ``triples={edge_type: edge_index [2, F_k]}`` (indices within node
      types) :math:`\to` ``(head, relation, tail)`` rows,
    * ``edge_ids={edge_type: ids}`` (positions in
      ``mapping.to_hetero(original)[edge_type]``) :math:`\to` positions in
      :obj:`original`,
    * ``entities=(node_type, index)``, a list of those or ``{node_type:
      indices}`` :math:`\to` entity ids,
    * ``relations=name``, ``(head_type, relation, tail_type)`` or a list of
      those :math:`\to` relation ids, or, when an edge type is named, the
      rows of :obj:`current` (a graph, or a function that returns it) of
      those edge types and relations.

    A request that names nothing typed is returned as it is.

    Raises:
        UserInputError: A typed request without a typed graph, an unknown
            node type, an index out of range for its type, an edge type not
            in the graph, an edge type with no triple left in
            :obj:`current`.
    """
    out = dict(triples=triples, edge_ids=edge_ids, entities=entities,
               relations=relations)
    if not is_typed_request(**out):
        return out
    if mapping is None:
        raise UserInputError('a typed request (node types, edge types or '
                             'relation names) needs a typed KG: give the '
                             'unlearner a HeteroData or a TypedKGDataset')
    if isinstance(triples, dict):
        out['triples'] = mapping.triples(triples)
    if isinstance(edge_ids, dict):
        out['edge_ids'] = mapping.edge_ids(edge_ids, original)
    if entities is not None and is_typed_request(entities=entities):
        out['entities'] = mapping.entity_ids(entities)
    if relations is not None and is_typed_request(relations=relations):
        items = [relations] if isinstance(relations, str) or \
            _is_edge_type(relations) else list(relations)
        rel_ids, typed = [], []
        for x in items:
            if _is_edge_type(x):
                typed.append(mapping.edge_type_id(x))
            elif isinstance(x, str):
                rel_ids.append(mapping.relation_id(x))
            else:
                rel_ids.extend(_ids(x, 'relations').tolist())
        if not typed:
            out['relations'] = torch.tensor(rel_ids, dtype=torch.long)
            return out
        if not isinstance(current, Data) and callable(current):
            current = current()  # built only when needed (a Data is
            # callable too: it iterates its attributes)
        k = mapping.edge_type_index(current)
        sel = torch.zeros(len(mapping.edge_types), dtype=torch.bool)
        sel[typed] = True
        hit = sel[k]
        for i in typed:
            if not bool((k == i).any()):
                raise UserInputError(f'edge type {mapping.edge_types[i]} '
                                     f'has no triple left in the graph '
                                     f'(nothing to forget)')
        if rel_ids:
            r = torch.tensor(rel_ids, dtype=torch.long)
            hit |= torch.isin(current.edge_type, r)
        h, t = current.edge_index[:, hit]
        out['relations'] = None
        out['triples'] = torch.stack([h, current.edge_type[hit], t], 1)
    return out
