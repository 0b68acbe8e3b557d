r"""Deletion requests as PyG transforms.

Each transform takes a KG split (a :class:`~torch_geometric.data.Data` with
``edge_index`` ``[2, E]``, ``edge_type`` ``[E]``, ``num_nodes`` and
``num_relations``) and returns a **new** :class:`Data` -- the input is never
modified -- holding

* ``edge_index`` / ``edge_type`` (and every other edge-level attribute): the
  retained graph :math:`T_r = T \setminus F`,
* ``forget_edge_index`` ``[2, F]`` / ``forget_edge_type`` ``[F]``: the
  forgotten triples :math:`F`,
* ``forget_edge_id`` ``[F]`` / ``retain_edge_id`` ``[E - F]``: their
  positions in the input graph,
* ``affected_mask`` ``[N]`` (:obj:`bool`): the entities of :math:`F`,
  optionally expanded by :obj:`num_hops` hops over the retained graph,
* ``forget_entity_mask`` ``[N]`` (:obj:`bool`): the entities of :math:`F`.

Attributes of an earlier request on the input are replaced, not merged:
the output describes this request against its input graph.
"""
from __future__ import annotations

import warnings
from typing import Optional, Sequence, Union

import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform
from torch_geometric.utils import k_hop_subgraph

from ..datasets.kg import check_kg, triple_keys

REQUEST_KEYS = ('forget_edge_index', 'forget_edge_type', 'forget_edge_id',
                'retain_edge_id', 'affected_mask', 'forget_entity_mask')

IdsLike = Union[int, Sequence[int], Tensor]


def _as_id_tensor(ids: IdsLike, what: str) -> Tensor:
    if isinstance(ids, Tensor):
        t = ids
    else:
        if isinstance(ids, (int, )) and not isinstance(ids, bool):
            ids = [ids]
        try:
            t = torch.as_tensor(list(ids))
        except (TypeError, ValueError) as e:
            raise TypeError(f'{what} must be integer ids (got {ids!r})') from e
    if t.numel() == 0:
        raise ValueError(f'empty request: no {what} given')
    if t.is_floating_point() or t.dtype == torch.bool or t.is_complex():
        raise TypeError(f'{what} must hold integer ids (got dtype {t.dtype})')
    if t.dim() > 1:
        raise ValueError(f'{what} must be a 1-D list of ids (got shape '
                         f'{list(t.shape)})')
    return t.view(-1).long()


def _dedup(t: Tensor, what: str) -> Tensor:
    uniq = torch.unique(t)
    if uniq.numel() < t.numel():
        warnings.warn(f'{t.numel() - uniq.numel()} duplicated {what} in the '
                      f'request were removed (each is forgotten once)',
                      stacklevel=3)
    return uniq


def _check_range(t: Tensor, size: int, what: str) -> None:
    bad = (t < 0) | (t >= size)
    if bool(bad.any()):
        raise ValueError(f'{what} out of range [0, {size - 1}]: '
                         f'{t[bad][:5].tolist()}')


def _selection(ids: Tensor, size: int, occurring: Tensor, singular: str,
               plural: str) -> Tensor:
    r"""Validated boolean ``[size]`` mask of the requested ids, each of
    which must occur in :obj:`occurring`."""
    _check_range(ids, size, f'{singular} ids')
    ids = _dedup(ids, plural)
    present = torch.zeros(size, dtype=torch.bool)
    present[occurring] = True
    absent = ids[~present[ids]]
    if absent.numel() > 0:
        raise ValueError(f'{plural} with no triple in the graph (nothing to '
                         f'forget): {absent[:5].tolist()}')
    sel = torch.zeros(size, dtype=torch.bool)
    sel[ids] = True
    return sel


def affected_entities(forget_edge_index: Tensor, retain_edge_index: Tensor,
                      num_nodes: int, num_hops: int = 0) -> Tensor:
    r"""Boolean mask ``[N]`` of the entities of the forgotten triples,
    expanded by :obj:`num_hops` hops (in either direction) over the retained
    graph.

    Args:
        forget_edge_index (torch.Tensor): Forgotten triples' heads and tails,
            shape ``[2, F]``.
        retain_edge_index (torch.Tensor): The retained graph, ``[2, E']``.
        num_nodes (int): Number of entities.
        num_hops (int, optional): Expansion hops. (default: :obj:`0`)
    """
    mask = torch.zeros(num_nodes, dtype=torch.bool)
    mask[forget_edge_index.reshape(-1)] = True
    if num_hops > 0 and retain_edge_index.numel() > 0 and bool(mask.any()):
        both = torch.cat([retain_edge_index, retain_edge_index.flip(0)], 1)
        subset, _, _, _ = k_hop_subgraph(mask.nonzero().view(-1), num_hops,
                                         both, num_nodes=num_nodes)
        mask[subset] = True
    return mask


class ForgetBase(BaseTransform):
    r"""The shared part of the deletion transforms: subclasses give the
    boolean ``[E]`` mask of the triples to forget (:meth:`_forget_mask`);
    this class splits the graph and marks the affected entities (expanded
    by :obj:`num_hops` hops over the retained graph)."""
    def __init__(self, num_hops: int = 0) -> None:
        if int(num_hops) < 0:
            raise ValueError(f"'num_hops' must be >= 0 (got {num_hops})")
        self.num_hops = int(num_hops)

    def _forget_mask(self, data: Data) -> Tensor:  # pragma: no cover
        raise NotImplementedError

    def forward(self, data: Data) -> Data:
        check_kg(data)
        mask = self._forget_mask(data)
        forget_id = mask.nonzero().view(-1)
        retain_id = (~mask).nonzero().view(-1)
        # BaseTransform.__call__ hands us a shallow copy; build the result
        # from a fresh copy so the caller's object is never touched.
        base = data.clone()
        for key in REQUEST_KEYS:
            if key in base:
                del base[key]
        out = base.edge_subgraph(retain_id)
        n = int(data.num_nodes)
        fei = data.edge_index[:, forget_id]
        out.forget_edge_index = fei
        out.forget_edge_type = data.edge_type[forget_id]
        out.forget_edge_id = forget_id
        out.retain_edge_id = retain_id
        out.forget_entity_mask = affected_entities(fei, out.edge_index, n, 0)
        out.affected_mask = affected_entities(fei, out.edge_index, n,
                                              self.num_hops)
        out.num_nodes = n
        return out


class ForgetTriples(ForgetBase):
    r"""Forgets a given set of triples (the request of MetaEU, `"Learn to
    Unlearn: Meta-Learning-Based Knowledge Graph Embedding Unlearning"
    <https://arxiv.org/abs/2412.00881>`_).

    The triples are given either as ``(head, relation, tail)`` rows or as
    edge ids (positions in the input graph). Every copy of a requested
    triple is removed if the graph holds duplicates.

    .. code-block:: python

        transform = ForgetTriples(torch.tensor([[0, 3, 7], [2, 1, 5]]))
        out = transform(data)
        out.edge_index, out.forget_edge_index, out.affected_mask

    Args:
        triples (torch.Tensor, optional): ``[F, 3]`` integer rows
            ``(head, relation, tail)``. (default: :obj:`None`)
        edge_ids (torch.Tensor or list, optional): ``[F]`` edge ids.
            (default: :obj:`None`)
        num_hops (int, optional): Expand the affected entities by this many
            hops over the retained graph. (default: :obj:`0`)

    Raises:
        ValueError: On an empty request, ids out of range, a triple not in
            the graph, or a wrong shape. Duplicated triples / ids are
            removed with a :class:`UserWarning`.
        TypeError: On non-integer input.
    """
    def __init__(self, triples: Optional[Tensor] = None,
                 edge_ids: Optional[IdsLike] = None,
                 num_hops: int = 0) -> None:
        super().__init__(num_hops)
        if (triples is None) == (edge_ids is None):
            raise ValueError("give exactly one of 'triples' and 'edge_ids'")
        if triples is not None:
            triples = torch.as_tensor(triples)
            if triples.is_floating_point() or triples.dtype == torch.bool:
                raise TypeError(f"'triples' must hold integer ids (got dtype "
                                f"{triples.dtype})")
            if triples.dim() == 1 and triples.numel() == 3:
                triples = triples.view(1, 3)
            if triples.dim() != 2 or triples.size(1) != 3:
                raise ValueError(f"'triples' must have shape [F, 3] of "
                                 f"(head, relation, tail) rows (got "
                                 f"{list(triples.shape)})")
            if triples.size(0) == 0:
                raise ValueError('empty request: no triples given')
            triples = triples.long()
        else:
            edge_ids = _as_id_tensor(edge_ids, "'edge_ids'")
        self.triples = triples
        self.edge_ids = edge_ids

    def _forget_mask(self, data: Data) -> Tensor:
        E = data.edge_index.size(1)
        n, R = int(data.num_nodes), int(data.num_relations)
        if self.edge_ids is not None:
            _check_range(self.edge_ids, E, 'edge ids')
            ids = _dedup(self.edge_ids, 'edge ids')
            mask = torch.zeros(E, dtype=torch.bool)
            mask[ids] = True
            return mask
        h, r, t = self.triples.unbind(1)
        _check_range(torch.cat([h, t]), n, 'entity ids')
        _check_range(r, R, 'relation ids')
        req = triple_keys(h, r, t, n, R)
        uniq = _dedup(req, 'triples')
        graph = triple_keys(data.edge_index[0], data.edge_type,
                            data.edge_index[1], n, R)
        if uniq.numel() <= 16:
            # Small requests (the common case when serving deletions): a
            # direct comparison beats isin's sort of the whole graph.
            hit = graph[:, None] == uniq[None, :]
            found, mask = hit.any(0), hit.any(1)
        else:
            found, mask = torch.isin(uniq, graph), None
        if not bool(found.all()):
            missing = uniq[~found]
            rows = torch.stack([missing // (n * R), (missing // n) % R,
                                missing % n], 1)
            raise ValueError(f'{missing.numel()} requested triple(s) are not '
                             f'in the graph, e.g. (head, relation, tail) = '
                             f'{rows[:5].tolist()}')
        return mask if mask is not None else torch.isin(graph, uniq)

    def __repr__(self) -> str:
        count = (self.triples.size(0)
                 if self.triples is not None else self.edge_ids.numel())
        return (f'{self.__class__.__name__}(num_triples={count}, '
                f'num_hops={self.num_hops})')


class ForgetEntity(ForgetBase):
    r"""Forgets entities: every triple in which one of them is the head or
    the tail.

    Args:
        entities (int or list or torch.Tensor): Entity ids.
        num_hops (int, optional): Expand the affected entities by this many
            hops over the retained graph. (default: :obj:`0`)

    Raises:
        ValueError: On an empty request, ids out of range or an entity with
            no triple in the graph. Duplicated ids are removed with a
            :class:`UserWarning`.
    """
    def __init__(self, entities: IdsLike, num_hops: int = 0) -> None:
        super().__init__(num_hops)
        self.entities = _as_id_tensor(entities, 'entities')

    def _forget_mask(self, data: Data) -> Tensor:
        sel = _selection(self.entities, int(data.num_nodes),
                         data.edge_index.reshape(-1), 'entity', 'entities')
        return sel[data.edge_index[0]] | sel[data.edge_index[1]]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_entities='
                f'{self.entities.numel()}, num_hops={self.num_hops})')


class ForgetRelation(ForgetBase):
    r"""Forgets relations: every triple of the given relation types.

    Args:
        relations (int or list or torch.Tensor): Relation ids.
        num_hops (int, optional): Expand the affected entities by this many
            hops over the retained graph. (default: :obj:`0`)

    Raises:
        ValueError: On an empty request, ids out of range or a relation with
            no triple in the graph. Duplicated ids are removed with a
            :class:`UserWarning`.
    """
    def __init__(self, relations: IdsLike, num_hops: int = 0) -> None:
        super().__init__(num_hops)
        self.relations = _as_id_tensor(relations, 'relations')

    def _forget_mask(self, data: Data) -> Tensor:
        sel = _selection(self.relations, int(data.num_relations),
                         data.edge_type, 'relation', 'relations')
        return sel[data.edge_type]

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(num_relations='
                f'{self.relations.numel()}, num_hops={self.num_hops})')
