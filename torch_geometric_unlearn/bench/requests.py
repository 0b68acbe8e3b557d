r"""Forget requests of the benchmarks.

* ``ratio`` -- a random share of the training triples, no entity or
  relation lost (FedLU's protocol,
  :func:`~torch_geometric_unlearn.transforms.sample_forget_set`);
* ``hub`` -- the same count, taken from the triples of the highest-degree
  entities (:func:`hub_forget_set`);
* ``cluster`` -- the same count, taken from the triples inside the
  :math:`k`-hop ball of a few random seed entities
  (:func:`cluster_forget_set`);
* ``entities`` -- every triple of :math:`k` random entities;
* ``relation`` -- every triple of one relation.

Random sampling practically never produces the hub-heavy or clustered sets,
where an entity loses many of its triples at once. Like the random sampler,
the two never remove an entity or a relation from the retained graph
entirely: a triple is taken only while both its entities and its relation
keep at least one other triple.

:func:`draw_requests` draws one request, or a sequence of ratio-type
requests, each from the graph the previous ones left.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data
from torch_geometric.utils import k_hop_subgraph

from ..datasets.kg import check_kg, to_triples
from ..transforms import (ForgetEntity, ForgetRelation, ForgetTriples,
                          sample_forget_set)

__all__ = ['Request', 'forget_count', 'hub_forget_set', 'cluster_forget_set',
           'random_entities', 'draw_requests', 'parse_request',
           'FORGET_KINDS', 'RATIO_KINDS']

#: The samplers of ratio-type requests (``forget_kind``).
RATIO_KINDS = ('random', 'hub', 'cluster')
#: Every request kind as recorded in the results.
FORGET_KINDS = ('ratio', 'hub', 'cluster', 'entities', 'relation')


@dataclass
class Request:
    r"""One deletion request against a graph.

    Attributes:
        step (int): Position in a sequence of requests (1-based).
        edge_ids (Tensor): Positions ``[F]`` of the forgotten triples in
            the graph the request was drawn from.
        triples (Tensor): The forgotten ``(head, relation, tail)`` rows
            ``[F, 3]``.
        retained (Data): That graph without them.
        unlearn_kwargs (dict): What :meth:`Unlearner.unlearn` is given
            (``triples``, ``entities`` or ``relations``).
        info (dict): JSON-able description (``kind``, ``value``,
            ``count`` and the sampler's details).
    """
    step: int
    edge_ids: Tensor
    triples: Tensor
    retained: Data
    unlearn_kwargs: Dict[str, Any]
    info: Dict[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return int(self.triples.size(0))


def forget_count(num_edges: int, ratio: Optional[float] = None,
                 count: Optional[int] = None) -> int:
    r"""The number of triples a ratio (or a count) asks for, as
    :func:`~torch_geometric_unlearn.transforms.sample_forget_set` rounds
    it."""
    if (ratio is None) == (count is None):
        raise ValueError("give exactly one of 'ratio' and 'count'")
    if ratio is not None:
        if not 0.0 < float(ratio) < 1.0:
            raise ValueError(f"'ratio' must lie in (0, 1) (got {ratio})")
        count = max(1, int(round(float(ratio) * num_edges)))
    count = int(count)
    if not 0 < count < num_edges:
        raise ValueError(f"'count' must lie in [1, {num_edges - 1}] (got "
                         f"{count})")
    return count


def _degrees(data: Data) -> np.ndarray:
    return np.bincount(data.edge_index.reshape(-1).numpy(),
                       minlength=int(data.num_nodes))


def _guarded_pick(data: Data, order: np.ndarray, count: int,
                  share: float = 1.0, owner: Optional[np.ndarray] = None,
                  quota: Optional[int] = None) -> np.ndarray:
    r"""Walks the edges in :obj:`order` and takes each one while both its
    entities and its relation keep at least one other triple (the rule of
    :func:`sample_forget_set`), neither entity has lost more than
    :obj:`share` of its triples and (with :obj:`owner`) the edge's owner
    has given fewer than :obj:`quota`, until :obj:`count` are taken."""
    head = data.edge_index[0].numpy()[order].tolist()
    tail = data.edge_index[1].numpy()[order].tolist()
    rel = data.edge_type.numpy()[order].tolist()
    own = owner[order].tolist() if owner is not None else None
    given = [0] * int(data.num_nodes)
    deg0 = _degrees(data)
    deg = deg0.tolist()
    cap = np.floor(share * deg0 + 1e-9).astype(np.int64).tolist()
    lost = [0] * len(deg)
    rcount = np.bincount(data.edge_type.numpy(),
                         minlength=int(data.num_relations)).tolist()
    chosen = []
    for i in range(len(order)):
        h, t, r = head[i], tail[i], rel[i]
        if rcount[r] < 2:
            continue
        if own is not None and given[own[i]] >= quota:
            continue
        if h == t:
            if deg[h] < 3 or lost[h] + 2 > cap[h]:
                continue
        elif deg[h] < 2 or deg[t] < 2 or lost[h] + 1 > cap[h] or \
                lost[t] + 1 > cap[t]:
            continue
        deg[h] -= 1
        deg[t] -= 1
        lost[h] += 1
        lost[t] += 1
        rcount[r] -= 1
        if own is not None:
            given[own[i]] += 1
        chosen.append(i)
        if len(chosen) == count:
            break
    return order[np.asarray(chosen, dtype=np.int64)]


def hub_forget_set(data: Data, ratio: Optional[float] = None,
                   count: Optional[int] = None, seed: int = 0,
                   num_hubs: int = 10, share: float = 0.5,
                   return_info: bool = False
                   ) -> Union[Tensor, Tuple[Tensor, Dict[str, Any]]]:
    r"""A hub-heavy forget set: triples of the highest-degree entities.

    Every triple belongs to its higher-degree entity; the entities are
    visited by decreasing degree (ties in a seeded random order) and their
    triples in a seeded random order. Each entity gives at most
    :math:`\lceil F / \text{num\_hubs} \rceil` of the :math:`F` triples,
    so that the set spreads over (at least) the :obj:`num_hubs` largest
    hubs, and a triple is taken only while no entity or relation disappears
    from the retained graph and neither of its entities has lost more than
    :obj:`share` of its triples. (Should the quota leave the set short, a
    second pass drops it.)

    Args:
        data (Data): The KG split to sample from.
        ratio (float, optional): Share of the triples to forget.
        count (int, optional): Number of triples to forget (instead).
        seed (int, optional): Seed of the tie-breaking. (default: :obj:`0`)
        num_hubs (int, optional): Number of hubs the set spreads over at
            least. (default: :obj:`10`)
        share (float, optional): Largest share of an entity's triples that
            may be forgotten, in :math:`(0, 1]`. (default: :obj:`0.5`)
        return_info (bool, optional): Also return ``{"num_hubs", "share",
            "hubs"}`` (the entities whose triples were taken, by
            decreasing degree).

    Returns:
        torch.Tensor: Sorted edge ids ``[F]``.
    """
    check_kg(data)
    if not 0.0 < share <= 1.0:
        raise ValueError(f"'share' must lie in (0, 1] (got {share})")
    if int(num_hubs) < 1:
        raise ValueError(f"'num_hubs' must be >= 1 (got {num_hubs})")
    E = int(data.num_edges)
    count = forget_count(E, ratio, count)
    deg = _degrees(data)
    h, t = data.edge_index[0].numpy(), data.edge_index[1].numpy()
    owner = np.where(deg[h] >= deg[t], h, t)
    gen = np.random.default_rng(int(seed))
    node_tie = gen.permutation(int(data.num_nodes))
    edge_tie = gen.permutation(E)
    # Sort by: owner degree (descending), owner (random tie-break), then a
    # random order of the owner's triples.
    order = np.lexsort((edge_tie, node_tie[owner], -deg[owner]))
    quota = -(-count // int(num_hubs))
    ids = _guarded_pick(data, order, count, share, owner, quota)
    if ids.size < count:
        ids = _guarded_pick(data, order, count, share)
    if ids.size < count:
        raise ValueError(f'only {ids.size} of the requested {count} hub '
                         f'triples can be forgotten with share={share} '
                         f'without an entity or relation disappearing')
    out = torch.from_numpy(np.sort(ids))
    if not return_info:
        return out
    hubs, first = np.unique(owner[ids], return_index=True)
    hubs = hubs[np.argsort(first)]
    return out, dict(num_hubs=int(num_hubs), share=float(share),
                     hubs=hubs.tolist())


def cluster_forget_set(data: Data, ratio: Optional[float] = None,
                       count: Optional[int] = None, seed: int = 0,
                       num_seeds: int = 3, num_hops: int = 2,
                       return_info: bool = False
                       ) -> Union[Tensor, Tuple[Tensor, Dict[str, Any]]]:
    r"""A clustered forget set: triples inside the :obj:`num_hops`-hop
    ball (both entities within it, edges taken as undirected) of a few
    random seed entities, found with
    :func:`torch_geometric.utils.k_hop_subgraph`.

    Triples nearer the seeds come first (those within the 1-hop ball, then
    the 2-hop ball, ...; a seeded random order within each ring), taken
    while no entity or relation disappears from the retained graph. If the
    ball holds too few triples, seeds are added one at a time.

    Args:
        data (Data): The KG split to sample from.
        ratio (float, optional): Share of the triples to forget.
        count (int, optional): Number of triples to forget (instead).
        seed (int, optional): Seed of the seeds and the order.
            (default: :obj:`0`)
        num_seeds (int, optional): Initial number of seed entities.
            (default: :obj:`3`)
        num_hops (int, optional): Radius :math:`k` of the ball.
            (default: :obj:`2`)
        return_info (bool, optional): Also return ``{"seeds",
            "num_hops"}``.

    Returns:
        torch.Tensor: Sorted edge ids ``[F]``.
    """
    check_kg(data)
    if int(num_seeds) < 1 or int(num_hops) < 1:
        raise ValueError("'num_seeds' and 'num_hops' must be >= 1")
    E, n = int(data.num_edges), int(data.num_nodes)
    count = forget_count(E, ratio, count)
    gen = np.random.default_rng(int(seed))
    deg = _degrees(data)
    pool = np.flatnonzero(deg > 0)
    pool = pool[gen.permutation(pool.size)]
    edge_tie = gen.permutation(E)
    both = torch.cat([data.edge_index, data.edge_index.flip(0)], 1)
    h, t = data.edge_index[0].numpy(), data.edge_index[1].numpy()
    k = int(num_seeds)
    while True:
        seeds = torch.from_numpy(np.sort(pool[:k]))
        dist = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
        for hops in range(int(num_hops), -1, -1):
            subset = k_hop_subgraph(seeds, hops, both, num_nodes=n)[0]
            dist[subset.numpy()] = hops
        ring = np.maximum(dist[h], dist[t])
        inside = np.flatnonzero(ring <= int(num_hops))
        order = inside[np.lexsort((edge_tie[inside], ring[inside]))]
        ids = _guarded_pick(data, order, count)
        if ids.size == count or k >= pool.size:
            break
        k += 1
    if ids.size < count:
        raise ValueError(f'only {ids.size} of the requested {count} triples '
                         f'can be forgotten without an entity or relation '
                         f'disappearing')
    out = torch.from_numpy(np.sort(ids))
    if not return_info:
        return out
    return out, dict(seeds=seeds.tolist(), num_hops=int(num_hops))


def random_entities(data: Data, k: int, seed: int = 0, min_degree: int = 1,
                    max_degree: Optional[int] = None) -> Tensor:
    r""":obj:`k` random entities (sorted ids) with between
    :obj:`min_degree` and :obj:`max_degree` triples in :obj:`data`."""
    deg = torch.bincount(data.edge_index.reshape(-1),
                         minlength=int(data.num_nodes))
    ok = deg >= max(1, int(min_degree))
    if max_degree is not None:
        ok &= deg <= int(max_degree)
    pool = ok.nonzero().view(-1)
    if k < 1 or k > pool.numel():
        raise ValueError(f'forget_entities must lie in [1, {pool.numel()}]')
    g = torch.Generator().manual_seed(int(seed))
    return pool[torch.randperm(pool.numel(), generator=g)[:k]].sort().values


def _relation_id(relation: Union[int, str],
                 names: Optional[Sequence[str]]) -> int:
    if isinstance(relation, str) and not relation.isdigit():
        names = list(names or [])
        if relation not in names:
            raise ValueError(f"unknown relation '{relation}'")
        return names.index(relation)
    return int(relation)


def draw_requests(train: Data, forget_ratio: Optional[float] = None,
                  forget_entities: Optional[int] = None,
                  forget_relation: Optional[Union[int, str]] = None,
                  forget_kind: str = 'random', steps: int = 1,
                  seed: int = 0,
                  relation_names: Optional[Sequence[str]] = None,
                  hub_share: float = 0.5, hub_count: int = 10,
                  cluster_seeds: int = 3,
                  cluster_hops: int = 2, min_degree: int = 1,
                  max_degree: Optional[int] = None) -> List[Request]:
    r"""Draws the benchmark's request(s) from the training graph.

    Exactly one of :obj:`forget_ratio` (with the sampler
    :obj:`forget_kind`), :obj:`forget_entities` or :obj:`forget_relation`
    is given. With :obj:`steps` :math:`= N > 1` (ratio-type requests only)
    :math:`N` requests of :obj:`forget_ratio` :math:`\cdot |T|` triples
    each are drawn one after another, request :math:`i` (seed
    :obj:`seed + i - 1`) from the graph the first :math:`i - 1` left.

    Returns:
        list of :class:`Request`, in order; each one's :obj:`edge_ids`
        index the previous one's :obj:`retained` graph (the first one's,
        :obj:`train`). Ratio-type requests reach the methods as
        :obj:`triples` (every copy of a duplicated triple is forgotten).
    """
    given = [x is not None for x in (forget_ratio, forget_entities,
                                     forget_relation)]
    if sum(given) != 1:
        raise ValueError('give exactly one of forget_ratio, forget_entities '
                         'or forget_relation')
    if forget_kind not in RATIO_KINDS:
        raise ValueError(f"unknown forget_kind '{forget_kind}' (expected "
                         f"one of {', '.join(RATIO_KINDS)})")
    if forget_ratio is None and forget_kind != 'random':
        raise ValueError(f"forget_kind='{forget_kind}' needs forget_ratio")
    if int(steps) < 1:
        raise ValueError("'steps' must be >= 1")
    if int(steps) > 1 and forget_ratio is None:
        raise ValueError('sequential requests (steps > 1) need forget_ratio')
    check_kg(train)
    graph = Data(edge_index=train.edge_index, edge_type=train.edge_type,
                 num_nodes=int(train.num_nodes),
                 num_relations=int(train.num_relations))
    out: List[Request] = []
    if forget_ratio is not None:
        count = forget_count(graph.num_edges, ratio=forget_ratio)
        kind = 'ratio' if forget_kind == 'random' else forget_kind
        for step in range(1, int(steps) + 1):
            s = seed + step - 1
            info: Dict[str, Any] = dict(kind=kind, value=float(forget_ratio))
            if forget_kind == 'random':
                ids = sample_forget_set(graph, count=count, seed=s)
            elif forget_kind == 'hub':
                ids, extra = hub_forget_set(graph, count=count, seed=s,
                                            num_hubs=hub_count,
                                            share=hub_share,
                                            return_info=True)
                info.update(extra)
            else:
                ids, extra = cluster_forget_set(graph, count=count, seed=s,
                                                num_seeds=cluster_seeds,
                                                num_hops=cluster_hops,
                                                return_info=True)
                info.update(extra)
            # Requests name triples: edge ids would depend on the graph a
            # method holds after the earlier requests.
            rows = to_triples(graph)[ids]
            out.append(_request(step, graph, ForgetTriples(triples=rows),
                                dict(triples=rows), info))
            graph = out[-1].retained
        return out
    if forget_entities is not None:
        ents = random_entities(graph, int(forget_entities), seed,
                               min_degree, max_degree)
        return [_request(1, graph, ForgetEntity(ents), dict(entities=ents),
                         dict(kind='entities', value=ents.tolist()))]
    rel = _relation_id(forget_relation, relation_names)
    return [_request(1, graph, ForgetRelation([rel]),
                     dict(relations=[rel]), dict(kind='relation', value=rel))]


def parse_request(spec: str) -> Dict[str, Any]:
    r"""Keyword arguments of :func:`draw_requests` for a request written
    as the benchmark scripts take it: ``random:R``, ``hub:R``,
    ``cluster:R`` (a share :math:`R` of the training triples, e.g.
    ``random:0.01``), ``entity:K`` (every triple of :math:`K` random
    entities with 5 to 100 triples, so that the rest of the graph stays
    well connected) or ``relation:NAME_OR_ID``; ``random:R*N`` asks for
    :math:`N` sequential requests."""
    kind, _, value = spec.partition(':')
    if not value:
        raise ValueError(f"cannot parse request '{spec}' (expected e.g. "
                         f"random:0.01, hub:0.01, entity:10)")
    if kind in RATIO_KINDS:
        ratio, _, steps = value.partition('*')
        return dict(forget_ratio=float(ratio), forget_kind=kind,
                    steps=int(steps or 1))
    if kind == 'entity':
        return dict(forget_entities=int(value), min_degree=5,
                    max_degree=100)
    if kind == 'relation':
        return dict(forget_relation=value)
    raise ValueError(f"unknown request kind '{kind}' (expected one of "
                     f"{', '.join(RATIO_KINDS)}, entity, relation)")


def _request(step: int, graph: Data, transform, kwargs: Dict[str, Any],
             info: Dict[str, Any]) -> Request:
    out = transform(graph)
    retained = Data(edge_index=out.edge_index, edge_type=out.edge_type,
                    num_nodes=int(graph.num_nodes),
                    num_relations=int(graph.num_relations))
    ids = out.forget_edge_id
    triples = to_triples(graph)[ids]
    info = dict(info, step=step, count=int(ids.numel()))
    return Request(step=step, edge_ids=ids, triples=triples,
                   retained=retained, unlearn_kwargs=kwargs, info=info)
