r"""A seeded synthetic knowledge-graph generator with planted relational
patterns -- the embedded default data of the package."""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

from .kg import KGDataset, Vocabulary, make_kg, triple_keys

__all__ = ['make_synthetic_kg', 'parse_synthetic_spec', 'SYNTHETIC_PRESETS']

#: Named sizes for :func:`make_synthetic_kg` (and the ``--data`` option of
#: the command line: ``--data synthetic-small``).
SYNTHETIC_PRESETS: Dict[str, dict] = {
    'tiny': dict(num_entities=200, num_relations=10, num_triples=3_000),
    'small': dict(num_entities=1_000, num_relations=16, num_triples=20_000),
    'medium': dict(num_entities=15_000, num_relations=40,
                   num_triples=300_000),
    'large': dict(num_entities=250_000, num_relations=100,
                  num_triples=2_000_000),
    'wikikg2': dict(num_entities=2_500_000, num_relations=535,
                    num_triples=17_000_000),
}


def _uniform(n: int, gen: torch.Generator) -> Tensor:
    return torch.rand(n, generator=gen, dtype=torch.float64)


class _Sampler:
    r"""Samples entities by popularity, globally or within a cluster, with
    binary search over cumulative weights (vectorised, :math:`O(\log N)`
    per draw)."""
    def __init__(self, weight: Tensor, cluster: Tensor, num_clusters: int,
                 gen: torch.Generator) -> None:
        self.gen = gen
        self.cluster = cluster
        self.global_cum = weight.cumsum(0)
        self.order = torch.argsort(cluster, stable=True)
        self.cum = weight[self.order].cumsum(0)
        count = torch.bincount(cluster, minlength=num_clusters)
        self.end = count.cumsum(0)  # exclusive
        self.start = self.end - count

    def any(self, n: int) -> Tensor:
        u = _uniform(n, self.gen) * self.global_cum[-1]
        idx = torch.searchsorted(self.global_cum, u, right=True)
        return idx.clamp_(max=self.global_cum.numel() - 1)

    def within(self, clusters: Tensor) -> Tensor:
        start, end = self.start[clusters], self.end[clusters]
        lo = torch.where(start > 0, self.cum[(start - 1).clamp(min=0)],
                         torch.zeros_like(start, dtype=self.cum.dtype))
        hi = self.cum[end - 1]
        u = lo + _uniform(clusters.numel(), self.gen) * (hi - lo)
        pos = torch.searchsorted(self.cum, u, right=True)
        pos = torch.minimum(torch.maximum(pos, start), end - 1)
        return self.order[pos]


def _relation_layout(num_relations: int) -> Dict[str, list]:
    r"""Decides which relation id plays which role."""
    if num_relations < 8:
        raise ValueError(f"a synthetic KG needs 'num_relations' >= 8 to plant "
                         f"every pattern (got {num_relations})")
    rest = num_relations - 2  # two hierarchy relations
    n_sym = max(1, round(0.15 * rest))
    n_inv = max(1, round(0.15 * rest))  # pairs: 2 relations each
    n_comp = max(1, round(0.15 * rest))
    n_base = rest - n_sym - 2 * n_inv - n_comp
    if n_base < 2:
        raise ValueError('too few relations for the pattern layout')
    ids = iter(range(num_relations))
    return {
        'base': [next(ids) for _ in range(n_base)],
        'symmetric': [next(ids) for _ in range(n_sym)],
        'inverse': [(next(ids), next(ids)) for _ in range(n_inv)],
        'composition': [next(ids) for _ in range(n_comp)],
        'hierarchy': [next(ids), next(ids)],
    }


def _generate(N: int, R: int, C: int, layout: Dict[str, list], budget: int,
              alpha: float, inverse_prob: float, gen: torch.Generator):
    r"""Draws about :obj:`budget` triples; returns de-duplicated
    ``(head, rel, tail)``, the entity clusters and the composition rules."""

    # Entities: popularity (power law over a random ranking) and clusters.
    rank = torch.randperm(N, generator=gen)
    weight = (rank.double() + 1.0).pow(-alpha)
    cluster = torch.randperm(N, generator=gen) % C
    sampler = _Sampler(weight, cluster, C, gen)

    # Relation budgets: hierarchy 10%, the rest Zipf-like over relations.
    hier_children = min(N - 1, budget // 20)
    rest = budget - 2 * hier_children
    singles = layout['base'] + layout['symmetric'] + layout['composition'] + [
        a for a, _ in layout['inverse']
    ]
    rel_w = (torch.randperm(len(singles), generator=gen).double() +
             2.0).pow(-0.7)
    # An inverse pair's first relation also pays for its reverse.
    cost = torch.tensor([1.0 + inverse_prob if r in dict(layout['inverse'])
                         else 1.0 for r in singles], dtype=torch.float64)
    share = rel_w / (rel_w * cost).sum() * rest
    count = {r: max(1, int(s)) for r, s in zip(singles, share.tolist())}

    # Clusters lie on a line; a relation shifts the type by a fixed offset
    # (clamped at the ends), so types compose and invert as translations.
    span = max(1, C // 4)
    types = torch.arange(C)
    perms = {}
    for r in range(R):
        shift = int(torch.randint(1, span + 1, (1, ), generator=gen))
        sign = 1 if float(_uniform(1, gen)) < 0.5 else -1
        perms[r] = (types + sign * shift).clamp_(0, C - 1)
    heads: List[Tensor] = []
    rels: List[Tensor] = []
    tails: List[Tensor] = []

    def add(h: Tensor, r, t: Tensor) -> None:
        heads.append(h)
        tails.append(t)
        rels.append(r if isinstance(r, Tensor) else torch.full_like(h, r))

    def mapped(r: int, m: int) -> Tuple[Tensor, Tensor]:
        h = sampler.any(m)
        t = sampler.within(perms[r][cluster[h]])
        keep = h != t  # self-loops are dropped here, before any pattern uses
        return h[keep], t[keep]

    base_edges: Dict[int, Tuple[Tensor, Tensor]] = {}
    for r in layout['base']:
        base_edges[r] = mapped(r, count[r])
        add(base_edges[r][0], r, base_edges[r][1])
    for a, b in layout['inverse']:
        h, t = mapped(a, count[a])
        base_edges[a] = (h, t)
        add(h, a, t)
        keep = _uniform(h.numel(), gen) < inverse_prob
        add(t[keep], b, h[keep])
    for r in layout['symmetric']:
        # Symmetric relations link entities of the same type.
        perms[r] = types
        h, t = mapped(r, max(1, count[r] // 2))
        add(torch.cat([h, t]), r, torch.cat([t, h]))
    composition = []
    sources = list(base_edges)
    for r in layout['composition']:
        i, j = torch.randint(len(sources), (2, ), generator=gen).tolist()
        r1, r2 = sources[i], sources[j]
        composition.append((r1, r2, r))
        (h1, t1), (h2, t2) = base_edges[r1], base_edges[r2]
        # Join (a, r1, b) with a random (b, r2, c): CSR over r2's heads.
        order = torch.argsort(h2, stable=True)
        deg = torch.bincount(h2, minlength=N)
        ptr = deg.cumsum(0) - deg
        has = deg[t1] > 0
        a, b = h1[has], t1[has]
        if a.numel() == 0:
            continue
        pick = (_uniform(a.numel(), gen) * deg[b].double()).long()
        c = t2[order[ptr[b] + pick]]
        sel = torch.randperm(a.numel(), generator=gen)[:count[r]]
        add(a[sel], r, c[sel])

    # Hierarchy: each chosen child points to a more popular parent.
    part_of, has_part = layout['hierarchy']
    by_pop = torch.argsort(rank)  # most popular first
    child_rank = torch.randperm(N - 1, generator=gen)[:hier_children] + 1
    parent_rank = (_uniform(hier_children, gen) *
                   child_rank.double()).long()
    child, parent = by_pop[child_rank], by_pop[parent_rank]
    add(child, part_of, parent)
    add(parent, has_part, child)

    h, r, t = torch.cat(heads), torch.cat(rels), torch.cat(tails)
    # Every entity occurs at least once: one base triple for each isolated.
    seen = torch.zeros(N, dtype=torch.bool)
    seen[h] = True
    seen[t] = True
    lonely = (~seen).nonzero().view(-1)
    if lonely.numel() > 0:
        base_ids = torch.tensor(layout['base'])
        pick = torch.randint(len(layout['base']), (lonely.numel(), ),
                             generator=gen)
        rb = base_ids[pick]
        base_perm = torch.stack([perms[x] for x in layout['base']])
        tb = sampler.within(base_perm[pick, cluster[lonely]])
        h, r, t = (torch.cat([h, lonely]), torch.cat([r, rb]),
                   torch.cat([t, tb]))
    mask = h != t
    h, r, t = h[mask], r[mask], t[mask]
    key = torch.unique(triple_keys(h, r, t, N, R))  # sorted, de-duplicated
    t = key % N
    r = (key // N) % R
    h = key // (N * R)
    del key
    return h, r, t, cluster, composition


def make_synthetic_kg(num_entities: int = 1_000, num_relations: int = 16,
                      num_triples: int = 20_000,
                      num_clusters: Optional[int] = None,
                      alpha: float = 0.8, inverse_prob: float = 0.9,
                      valid_ratio: float = 0.05, test_ratio: float = 0.05,
                      seed: int = 0,
                      num_types: Optional[int] = None) -> KGDataset:
    r"""Generates a seeded synthetic knowledge graph with planted relational
    patterns, so that KGE models can learn it and forgetting is measurable.

    Entities get a power-law popularity :math:`w_e \propto
    \mathrm{rank}_e^{-\alpha}` (power-law degrees) and a latent type
    (cluster). Relations come in five kinds:

    * **base** relations map a head's cluster to a fixed tail cluster
      (clusters lie on a line and :math:`c(t) = c(h) + s_r`, clamped at the
      ends; tails drawn by popularity in that cluster);
    * **symmetric** relations (within a cluster): :math:`(h, r, t)
      \Rightarrow (t, r, h)`;
    * **inverse** pairs :math:`(r, r')`: :math:`(h, r, t) \Rightarrow
      (t, r', h)` with probability :obj:`inverse_prob`;
    * **composed** relations :math:`r_3 = r_1 \circ r_2`: :math:`(a, r_1, b)
      \wedge (b, r_2, c) \Rightarrow (a, r_3, c)` for sampled paths;
    * a **hierarchy**: ``part_of`` (child :math:`\to` more popular parent)
      and its inverse ``has_part``.

    Every entity occurs in at least one training triple; every relation and
    every entity of ``valid`` / ``test`` occurs in ``train``. Duplicate
    triples and self-loops are removed, so the triple count is close to,
    not exactly, :obj:`num_triples`. Generation is vectorised (17M triples
    over 2.5M entities take about a minute on 2 CPU cores) and identical for
    identical arguments.

    The planted structure is recorded in ``dataset.meta['patterns']`` with
    relation ids; relation names say their role (``"base3"``, ``"sym0"``,
    ``"inv0"`` / ``"inv0_rev"``, ``"comp0"``, ``"part_of"``,
    ``"has_part"``).

    Args:
        num_entities (int, optional): Number of entities.
            (default: :obj:`1000`)
        num_relations (int, optional): Number of relations, at least 8.
            (default: :obj:`16`)
        num_triples (int, optional): Approximate number of triples over all
            splits. (default: :obj:`20000`)
        num_clusters (int, optional): Number of latent entity types.
            (default: :math:`\lceil\sqrt{N}\,\rceil`, at least 4)
        alpha (float, optional): Power-law exponent of entity popularity.
            (default: :obj:`0.8`)
        inverse_prob (float, optional): Probability that an inverse-pair
            triple has its reverse. (default: :obj:`0.9`)
        valid_ratio (float, optional): Fraction of triples in ``valid``.
            (default: :obj:`0.05`)
        test_ratio (float, optional): Fraction of triples in ``test``.
            (default: :obj:`0.05`)
        seed (int, optional): Random seed. (default: :obj:`0`)
        num_types (int, optional): Return a typed KG
            (:class:`~torch_geometric_unlearn.datasets.TypedKGDataset`)
            with this many entity types ``"type0"``, ...: the latent
            clusters, which lie on a line, cut into :obj:`num_types`
            contiguous bands, so a relation links few type pairs. The
            triples and ids are those of the untyped KG of the same
            arguments. (default: :obj:`None`: untyped)

    Returns:
        :class:`KGDataset` (:class:`TypedKGDataset` with
        :obj:`num_types`)
    """
    N, R = int(num_entities), int(num_relations)
    if N < 10:
        raise ValueError(f"'num_entities' must be at least 10 (got {N})")
    if num_triples < N:
        raise ValueError(f"'num_triples' ({num_triples}) must be at least "
                         f"'num_entities' ({N}) so every entity can occur")
    if not (0 <= valid_ratio < 1 and 0 <= test_ratio < 1
            and valid_ratio + test_ratio < 0.5):
        raise ValueError('valid_ratio and test_ratio must be non-negative '
                         'and sum to less than 0.5')
    layout = _relation_layout(R)
    C = int(num_clusters or max(4, math.ceil(math.sqrt(N))))
    C = min(C, N)
    if num_types is not None and not 1 <= int(num_types) <= C:
        raise ValueError(f"'num_types' must lie in [1, {C}] (the number of "
                         f"latent clusters; got {num_types})")
    # Duplicates are dropped, so the draw is repeated with a larger budget
    # until the de-duplicated count reaches the request (seeded per round).
    budget = int(num_triples * 1.03)
    for round_ in range(6):
        gen = torch.Generator().manual_seed(int(seed) * 1000 + round_)
        h, r, t, cluster, composition = _generate(N, R, C, layout, budget,
                                                  alpha, inverse_prob, gen)
        if 0.98 <= h.numel() / num_triples <= 1.03:
            break
        budget = int(budget * num_triples / max(h.numel(), 1))
    # Shuffle, then split; evaluation triples whose entity or relation is
    # missing from train are moved to train.
    perm = torch.randperm(h.numel(), generator=gen)
    h, r, t = h[perm], r[perm], t[perm]
    E = h.numel()
    n_valid, n_test = int(E * valid_ratio), int(E * test_ratio)
    n_train = E - n_valid - n_test
    in_train = torch.zeros(E, dtype=torch.bool)
    in_train[:n_train] = True
    ent_ok = torch.zeros(N, dtype=torch.bool)
    ent_ok[h[:n_train]] = True
    ent_ok[t[:n_train]] = True
    rel_ok = torch.zeros(R, dtype=torch.bool)
    rel_ok[r[:n_train]] = True
    in_train |= ~(ent_ok[h] & ent_ok[t] & rel_ok[r])
    split_id = torch.full((E, ), 0, dtype=torch.long)
    split_id[n_train:n_train + n_valid] = 1
    split_id[n_train + n_valid:] = 2
    split_id[in_train] = 0

    splits = {}
    for i, name in enumerate(('train', 'valid', 'test')):
        m = split_id == i
        splits[name] = make_kg(torch.stack([h[m], t[m]]), r[m], N, R)

    part_of, has_part = layout['hierarchy']
    names = [''] * R
    for i, x in enumerate(layout['base']):
        names[x] = f'base{i}'
    for i, x in enumerate(layout['symmetric']):
        names[x] = f'sym{i}'
    for i, (a, b) in enumerate(layout['inverse']):
        names[a], names[b] = f'inv{i}', f'inv{i}_rev'
    for i, x in enumerate(layout['composition']):
        names[x] = f'comp{i}'
    names[part_of], names[has_part] = 'part_of', 'has_part'

    patterns = {
        'base': layout['base'],
        'symmetric': layout['symmetric'],
        'inverse': [tuple(p) for p in layout['inverse']],
        'composition': composition,
        'hierarchy': (part_of, has_part),
    }
    config = dict(num_entities=N, num_relations=R, num_triples=num_triples,
                  num_clusters=C, alpha=alpha, inverse_prob=inverse_prob,
                  valid_ratio=valid_ratio, test_ratio=test_ratio, seed=seed)
    kg = KGDataset(**splits, entity_vocab=Vocabulary(size=N, prefix='e'),
                   relation_vocab=Vocabulary(names),
                   name=f'synthetic-{N}x{R}-seed{seed}',
                   meta={'patterns': patterns, 'config': config,
                         'cluster': cluster})
    if num_types is None:
        return kg
    from .hetero import TypedKGDataset
    K = int(num_types)
    kg.meta['config']['num_types'] = K
    kg.name += f'-types{K}'
    return TypedKGDataset(kg, cluster * K // C,
                          [f'type{i}' for i in range(K)])


def parse_synthetic_spec(spec: str) -> Optional[dict]:
    r"""Parses a synthetic-KG specification as used by the command line.

    ``"synthetic"`` (the ``small`` preset), ``"synthetic-<preset>"`` (see
    :data:`SYNTHETIC_PRESETS`) or
    ``"synthetic:entities=1000,relations=16,triples=20000,seed=0"``
    (``preset=`` may also be given there; ``types=K`` makes it typed).
    Returns keyword arguments of :func:`make_synthetic_kg`, or :obj:`None`
    if :obj:`spec` does not start with ``synthetic``.
    """
    if not spec.startswith('synthetic'):
        return None
    rest = spec[len('synthetic'):]
    kwargs = dict(SYNTHETIC_PRESETS['small'])
    if rest.startswith('-'):
        preset, _, rest = rest[1:].partition(':')
        rest = ':' + rest if rest else ''
        if preset not in SYNTHETIC_PRESETS:
            raise ValueError(f"unknown synthetic preset '{preset}' (choose "
                             f"from {', '.join(SYNTHETIC_PRESETS)})")
        kwargs = dict(SYNTHETIC_PRESETS[preset])
    if not rest:
        return kwargs
    if not rest.startswith(':'):
        raise ValueError(f"cannot parse synthetic spec '{spec}'")
    alias = {'entities': 'num_entities', 'relations': 'num_relations',
             'triples': 'num_triples', 'clusters': 'num_clusters',
             'types': 'num_types'}
    for item in filter(None, rest[1:].split(',')):
        key, eq, value = item.partition('=')
        key = key.strip()
        if not eq:
            raise ValueError(f"expected key=value in synthetic spec, got "
                             f"'{item}'")
        if key == 'preset':
            if value not in SYNTHETIC_PRESETS:
                raise ValueError(f"unknown synthetic preset '{value}'")
            kwargs.update(SYNTHETIC_PRESETS[value])
            continue
        key = alias.get(key, key)
        if key in ('alpha', 'inverse_prob', 'valid_ratio', 'test_ratio'):
            kwargs[key] = float(value)
        elif key in ('num_entities', 'num_relations', 'num_triples',
                     'num_clusters', 'seed', 'num_types'):
            kwargs[key] = int(value)
        else:
            raise ValueError(f"unknown synthetic option '{key}'")
    return kwargs
