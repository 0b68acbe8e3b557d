r"""Calibrated correction: forgotten triples end up scoring like triples the
model never saw, of the same kind, while the affected entities' retained
triples keep their scores.

A model retrained without a triple does not score it at zero: it scores it
like an unseen triple of its relation (on CoDEx-S a retrained TransE ranks
its forgotten triples at MRR 0.35 against a test MRR of 0.34). The trained
model's *validation* triples are such unseen triples. For each relation
:class:`ScoreReference` keeps the original model's scores of its training
triples and of its validation triples; a forgotten triple that scored at
quantile :math:`q` of its relation's training scores gets as target the
quantile :math:`q` of the relation's validation scores (quantile mapping:
the forget set's score distribution becomes the unseen triples'
distribution, in the same order). :func:`calibrate` then moves the affected
rows, starting from the trained (or generated) ones, to minimise

.. math::
    \frac{1}{|F|} \sum_{f \in F} \big(s(f) - \tau_f\big)^2 +
    \lambda \frac{1}{|N|} \sum_{x \in N} \big(s(x) - s_0(x)\big)^2

with :math:`F` the forgotten triples, :math:`\tau_f` their targets,
:math:`N` the retained triples incident to the affected entities and
:math:`s_0` their scores before the request.
"""
from __future__ import annotations

from typing import Dict, Optional

import torch
from torch import Tensor

from ..kge.scoring import KGEScorer, rowdot

__all__ = ['ScoreReference', 'calibrate', 'calibrate_newton', 'hand_adam',
           'link_confidence', 'Positions',
           'anchor_factors', 'fast_score', 'triple_scores', 'interleave',
           'deinterleave', 'order_keys']


def triple_scores(scorer: KGEScorer, reps: Tensor, triples: Tensor,
                  lookup=None) -> Tensor:
    r"""Scores ``[T]`` of ``(head, relation, tail)`` rows ``[T, 3]`` given
    entity representations :obj:`reps` (indexed by :obj:`lookup`, a
    function of ids, when given; else :obj:`reps` is indexed directly).
    A :obj:`lookup` is called once, on the distinct entities of the
    triples, so it must map each id to its row independently of the
    others."""
    if lookup is None:
        rows, index = reps, triples[:, [0, 2]]
    else:
        ids, index = torch.unique(triples[:, [0, 2]], return_inverse=True)
        rows = lookup(ids)
    if triples.size(0) <= BLOCK:
        query = scorer.tail_query_rep(rows[index[:, 0]], triples[:, 1])
        return scorer.score_pairs(query, rows[index[:, 1]])
    # Blocks that stay in cache: several times faster than one pass over
    # [T, D] intermediates on a large request.
    out = []
    for a in range(0, triples.size(0), BLOCK):
        b = slice(a, a + BLOCK)
        local = torch.stack([index[b, 0], triples[b, 1], index[b, 1]], 1)
        out.append(triple_scores(scorer, rows, local))
    return torch.cat(out)


#: Rows per block of the calibration's per-triple arithmetic (scores,
#: residuals, gradients): small enough for a block's ``[BLOCK, D]``
#: intermediates to stay in cache.
BLOCK = 2048

#: Fewest anchors per anchor batch (``calibrate(..., anchor_batches=K)``):
#: a request with fewer than ``K * MIN_ANCHOR_BATCH`` anchors uses fewer
#: batches (one below ``2 * MIN_ANCHOR_BATCH``), because each batch costs a
#: pass over its own blocks a step, which only pays off when the batches
#: are large (a single-triple request has about a hundred anchors).
MIN_ANCHOR_BATCH = 1024


def link_confidence(triples: Tensor, num_nodes: int, num_relations: int,
                    max_triples: int = 1_000_000, seed: int = 0) -> Tensor:
    r"""How often a pair of entities that one relation links is linked by
    another, in :obj:`triples` ``[E, 3]``: the confidence of the rules
    :math:`(h, r', t) \Rightarrow (h, r, t)` and :math:`(t, r', h)
    \Rightarrow (h, r, t)` (as in rule mining, e.g. Galárraga et al.,
    `"AMIE: Association Rule Mining under Incomplete Evidence in Ontological
    Knowledge Bases" <https://doi.org/10.1145/2488388.2488425>`_).

    Returns:
        ``[2R, R]``: row :math:`r'` is the share of the pairs :math:`(h, t)`
        with :math:`(h, r', t)` that also have :math:`(h, r, t)`; row
        :math:`R + r'`, of the pairs with :math:`(t, r', h)`. A triple never
        counts as evidence for itself.

    Beyond :obj:`max_triples` triples the counts come from a seeded random
    subset of the entity pairs, each with all its triples (an unbiased
    estimate of each confidence; sampling triples would not be).
    """
    R = int(num_relations)
    h, r, t = triples[:, 0].long(), triples[:, 1].long(), \
        triples[:, 2].long()
    n = int(num_nodes)
    if h.numel() > max_triples:
        pair = torch.unique(torch.minimum(h, t) * n + torch.maximum(h, t),
                            return_inverse=True)[1]
        g = torch.Generator().manual_seed(seed)
        share = max_triples / h.numel()
        chosen = torch.rand(int(pair.max()) + 1, generator=g) < share
        keep = chosen[pair]
        h, r, t = h[keep], r[keep], t[keep]
    # Entries (pair, code): code r' for (h, r', t), R + r' for (t, r', h).
    key = torch.cat([h * n + t, t * n + h])
    code = torch.cat([r, r + R])
    entry = torch.unique(key * (2 * R) + code)
    key, code = entry // (2 * R), entry % (2 * R)
    _, counts = torch.unique_consecutive(key, return_counts=True)
    group_start = torch.cumsum(counts, 0) - counts
    group = torch.repeat_interleave(torch.arange(counts.numel()), counts)
    size = counts[group]
    # Every ordered pair of entries of the same pair of entities.
    a = torch.repeat_interleave(torch.arange(key.numel()), size)
    first = torch.repeat_interleave(torch.cumsum(size, 0) - size, size)
    b = torch.repeat_interleave(group_start[group], size) + \
        torch.arange(a.numel()) - first
    keep = (a != b) & (code[b] < R)
    co = torch.bincount(code[a[keep]] * R + code[b[keep]],
                        minlength=2 * R * R).view(2 * R, R).double()
    den = torch.bincount(code, minlength=2 * R).double().clamp(min=1)
    return (co / den[:, None]).float()


class ScoreReference:
    r"""Per-relation score distributions of a trained model's training
    triples and of unseen (validation) triples, for the quantile mapping of
    :func:`calibrate`.

    The two sides of the mapping hold the same kind of triple. A triple
    whose two entities another triple also joins (*linked*) scores higher
    than one they do not, and splits differ in how many they hold: on
    FB15k-237 37.8 % of the training triples are linked and none of the
    validation triples. The training side is therefore split into its
    unlinked and linked triples, weighted to the unseen triples' linked
    share of the relation (:meth:`quantiles`): against all training
    triples, an unlinked forgotten triple sat at a lower quantile than among
    its own kind and got too low a target.

    Args:
        scorer (KGEScorer): The trained model's scoring adapter.
        train (Tensor): Training triples ``[E, 3]``.
        unseen (Tensor): Triples the model never saw, ``[V, 3]`` (its
            validation split).
        num_relations (int): Number of relations.
        max_per_relation (int, optional): Scores kept per relation and
            split (a seeded sample). (default: :obj:`4096`)
        min_unseen (int, optional): Relations with fewer unseen triples use
            the pooled distribution of all relations. (default: :obj:`10`)
    """
    def __init__(self, scorer: KGEScorer, train: Tensor, unseen: Tensor,
                 num_relations: int, max_per_relation: int = 4096,
                 min_unseen: int = 10) -> None:
        if unseen.numel() == 0:
            raise ValueError('the score reference needs unseen (validation) '
                             'triples')
        n = int(scorer.model.num_nodes)

        # A pair of entities as one key, whatever the direction.
        def pair_key(t: Tensor) -> Tensor:
            return torch.minimum(t[:, 0], t[:, 2]) * n + \
                torch.maximum(t[:, 0], t[:, 2])

        train_key = pair_key(train)
        keys, inverse, counts = torch.unique(train_key, return_inverse=True,
                                             return_counts=True)
        unseen_key = pair_key(unseen)
        # A training triple is linked when another training triple joins
        # its entities; an unseen one when any training triple does.
        train_linked = counts[inverse] > 1
        unseen_linked = torch.isin(unseen_key, keys)
        #: Share of the unseen triples whose two entities are linked by a
        #: training triple. Some splits exclude such triples by design
        #: (FB15k-237's valid / test), so they cannot serve as the target
        #: of a forgotten triple whose entities stay linked.
        self.linked_share = float(unseen_linked.float().mean())
        #: Without linked unseen triples, :func:`link_confidence` of the
        #: training triples ``[2R, R]`` gives a forgotten triple whose
        #: entities stay linked its target (see :meth:`linked_targets`);
        #: :obj:`None` otherwise.
        self.link_confidence = link_confidence(
            train, n, num_relations) if self.linked_share < 0.01 else None
        g = torch.Generator().manual_seed(0)
        cap = max_per_relation * int(num_relations)
        if train.size(0) > cap:
            keep = torch.randperm(train.size(0), generator=g)[:cap]
            train, train_linked = train[keep], train_linked[keep]
        dev = scorer.device
        s_train, s_unseen = [], []
        with torch.no_grad():
            for part, out in ((train, s_train), (unseen, s_unseen)):
                for chunk in part.split(65536):
                    chunk = chunk.to(dev)
                    out.append(triple_scores(
                        scorer, None, chunk,
                        lambda i: scorer.represent(scorer.param_rows(i))
                    ).cpu())
        s_train, s_unseen = torch.cat(s_train), torch.cat(s_unseen)

        def sort(x: Tensor) -> Tensor:
            return torch.sort(x[:max_per_relation]).values

        # The training side holds the unseen side's kind of triple: its
        # unlinked and linked triples weighted to the unseen triples'
        # linked share (on FB15k-237, unlinked triples only).
        self.pooled_train = torch.sort(s_train[~train_linked]).values
        self.pooled_train_linked = torch.sort(s_train[train_linked]).values
        self.pooled_linked_weight = self.linked_share
        self.pooled_unseen = torch.sort(s_unseen).values
        self.train: Dict[int, Tensor] = {}
        self.train_linked: Dict[int, Tensor] = {}
        self.linked_weight: Dict[int, float] = {}
        self.unseen: Dict[int, Tensor] = {}
        for r in range(int(num_relations)):
            mu, mt = unseen[:, 1] == r, train[:, 1] == r
            su = s_unseen[mu]
            if su.numel() >= min_unseen and int(mt.sum()) >= min_unseen:
                self.unseen[r] = sort(su)
                self.train[r] = sort(s_train[mt & ~train_linked])
                self.train_linked[r] = sort(s_train[mt & train_linked])
                self.linked_weight[r] = float(unseen_linked[mu].float(
                ).mean())
        self.num_relations = int(num_relations)

    def quantiles(self, r: Optional[int], scores: Tensor) -> Tensor:
        r"""The quantiles ``[F]`` of :obj:`scores` ``[F]`` among the
        training triples of relation :obj:`r` (:obj:`None` or a relation
        without its own reference: all relations), their unlinked and linked
        triples weighted to the unseen triples' linked share."""
        own = r is not None and r in self.unseen
        unlinked = self.train[r] if own else self.pooled_train
        linked = getattr(self, 'train_linked', None)
        if linked is None:  # a reference saved before the weighting
            return torch.searchsorted(unlinked, scores).double() / \
                unlinked.numel()
        linked = linked[r] if own else self.pooled_train_linked
        p = self.linked_weight[r] if own else self.pooled_linked_weight
        parts = [(x, w) for x, w in ((unlinked, 1.0 - p), (linked, p))
                 if x.numel() and w > 0]
        if not parts:  # one kind missing from training: the other alone
            parts = [(x, 1.0) for x in (unlinked, linked) if x.numel()]
        total = sum(w for _, w in parts)
        return sum(torch.searchsorted(x, scores).double() * (w / total) /
                   x.numel() for x, w in parts)

    def targets(self, rel: Tensor, scores: Tensor) -> Tensor:
        r"""The target score ``[F]`` of triples of relations :obj:`rel`
        ``[F]`` that scored :obj:`scores` ``[F]`` under the trained model:
        the same quantile (:meth:`quantiles`) of their relation's unseen
        scores.

        All relations at once, by one binary search per kind of triple on
        the references' order keys (:func:`order_keys`): the values of
        :meth:`targets_by_relation`, which loops over the relations."""
        rel, scores = rel.cpu(), scores.detach().cpu()
        flat = self._flat() if scores.dtype == torch.float32 else None
        if flat is None:
            return self.targets_by_relation(rel, scores)
        group, parts, unseen, unseen_start, unseen_size = flat
        g = group[rel.long()]
        key = (g << 32) + order_keys(scores)
        q = torch.zeros(scores.shape, dtype=torch.float64)
        for keys, start, size, share in parts:
            n = size[g]
            below = torch.searchsorted(keys, key) - start[g]
            # (count * share) / size as :meth:`quantiles` has it; an empty
            # or unweighted kind has share 0 and adds nothing.
            q += torch.where(share[g] > 0, below.double() * share[g] /
                             n.clamp(min=1).double(), 0.0)
        n = unseen_size[g]
        idx = (q * (n - 1).double()).round().long().clamp(min=0)
        idx = torch.minimum(idx, n - 1)
        return unseen[unseen_start[g] + idx]

    def targets_by_relation(self, rel: Tensor, scores: Tensor) -> Tensor:
        r""":meth:`targets`, relation by relation (any score dtype)."""
        rel, scores = rel.cpu(), scores.detach().cpu()
        # Targets are the unseen scores themselves, in their dtype.
        out = torch.empty(scores.shape, dtype=self.pooled_unseen.dtype)
        for r in torch.unique(rel).tolist():
            mask = rel == r
            su = self.unseen.get(r, self.pooled_unseen)
            q = self.quantiles(r, scores[mask])
            idx = (q * (su.numel() - 1)).round().long().clamp(
                0, su.numel() - 1)
            out[mask] = su[idx]
        return out

    def _flat(self):
        # Every relation's reference as one flat, sorted array of order
        # keys per kind of triple (relation group << 32 | order key), built
        # once; group G is the pooled reference of the relations without
        # their own. None where the reference is not float32 or predates
        # the linked weighting.
        cached = getattr(self, '_flat_cache', None)
        if cached is not None:
            return cached or None
        linked = getattr(self, 'train_linked', None)
        rels = sorted(self.unseen)
        arrays = [self.pooled_unseen, self.pooled_train] + \
            [self.unseen[r] for r in rels] + [self.train[r] for r in rels]
        if linked is None or any(a.dtype != torch.float32 for a in arrays):
            self._flat_cache = ()
            return None
        G = len(rels)
        group = torch.full((self.num_relations, ), G, dtype=torch.long)
        group[torch.tensor(rels, dtype=torch.long)] = torch.arange(G)

        def flatten(per_group):
            size = torch.tensor([a.numel() for a in per_group])
            start = torch.cumsum(size, 0) - size
            keys = torch.cat([(torch.full((a.numel(), ), i,
                                          dtype=torch.long) << 32) +
                              order_keys(a) for i, a in
                              enumerate(per_group)])
            return keys, start, size

        unlinked = [self.train[r] for r in rels] + [self.pooled_train]
        linked_ = [linked[r] for r in rels] + [self.pooled_train_linked]
        weight = [self.linked_weight[r] for r in rels] + \
            [self.pooled_linked_weight]
        # Each kind's share of the quantile, as :meth:`quantiles` weighs
        # them (a kind without triples or weight drops out; with neither
        # weighted, those present count alike).
        shares = []
        for u, li, p in zip(unlinked, linked_, weight):
            parts = [w if x.numel() and w > 0 else 0.0
                     for x, w in ((u, 1.0 - p), (li, p))]
            if not any(parts):
                parts = [1.0 if x.numel() else 0.0 for x in (u, li)]
            total = sum(parts)
            shares.append([w / total if w else 0.0 for w in parts])
        shares = torch.tensor(shares, dtype=torch.float64)
        parts = [flatten(unlinked) + (shares[:, 0], ),
                 flatten(linked_) + (shares[:, 1], )]
        unseen = [self.unseen[r] for r in rels] + [self.pooled_unseen]
        size = torch.tensor([a.numel() for a in unseen])
        self._flat_cache = (group, parts, torch.cat(unseen),
                            torch.cumsum(size, 0) - size, size)
        return self._flat_cache

    def linked_targets(self, forget: Tensor, scores: Tensor,
                       targets: Tensor, retained: Tensor) -> Tensor:
        r"""Targets ``[F]`` of forgotten triples :obj:`forget` ``[F, 3]``
        (trained scores :obj:`scores`, unseen-triple targets
        :obj:`targets` from :meth:`targets`) given the :obj:`retained`
        triples ``[M, 3]`` that may link their entities. A triple whose
        entities a retained triple :math:`(h, r', t)` or :math:`(t, r', h)`
        links keeps the share :math:`\rho` of its trained score above the
        unseen target, :math:`\tau + \rho (s - \tau)`, with :math:`\rho`
        the highest :func:`link_confidence` of those rules: a model
        retrained without it would infer it back from them about that
        often. Other triples keep :obj:`targets`. Without
        :attr:`link_confidence` (a reference with linked unseen triples,
        whose targets already reflect links) :obj:`targets` is returned."""
        conf = getattr(self, 'link_confidence', None)
        if conf is None or forget.numel() == 0 or retained.numel() == 0:
            return targets
        R = self.num_relations
        n = int(max(int(forget[:, [0, 2]].max()),
                    int(retained[:, [0, 2]].max())) + 1)
        # Only a retained triple between two entities of forgotten triples
        # can link one: the others are dropped before the search.
        ends = torch.zeros(n, dtype=torch.bool, device=retained.device)
        ends[forget[:, [0, 2]].to(retained.device).reshape(-1)] = True
        retained = retained[ends[retained[:, 0]] & ends[retained[:, 2]]]
        f_key = (forget[:, 0] * n + forget[:, 2]).cpu()
        # Evidence for (h, r, t): (h, r', t) as code r', (t, r', h) as R + r'.
        e_key = torch.cat([retained[:, 0] * n + retained[:, 2],
                           retained[:, 2] * n + retained[:, 0]]).cpu()
        e_code = torch.cat([retained[:, 1], retained[:, 1] + R]).cpu()
        order = torch.argsort(f_key)
        sorted_keys = f_key[order]
        lo = torch.searchsorted(sorted_keys, e_key)
        # The end of each run only for the evidence that hits one.
        hit = (sorted_keys[lo.clamp(max=sorted_keys.numel() - 1)] ==
               e_key).nonzero().view(-1)
        lo = lo[hit]
        count = torch.searchsorted(sorted_keys, e_key[hit], right=True) - lo
        e = torch.repeat_interleave(hit, count)
        first = torch.repeat_interleave(torch.cumsum(count, 0) - count,
                                        count)
        i = order[torch.repeat_interleave(lo, count) +
                  torch.arange(e.numel()) - first]
        # Noisy-or of the rules: the triple comes back unless every one of
        # them fails, 1 - prod(1 - confidence).
        value = conf[e_code[e], forget[i, 1].cpu()]
        miss = torch.zeros(forget.size(0)).index_add_(
            0, i, torch.log1p(-value.clamp(max=1 - 1e-6)))
        rho = 1 - miss.exp()
        rho = rho.to(targets.device, targets.dtype)
        return targets + rho * (scores.to(targets.dtype) - targets)

    def typical(self, rel: Tensor) -> Tensor:
        r"""The median unseen score ``[F]`` of each relation in :obj:`rel`
        ``[F]`` (the target of a triple whose trained score is unknown to
        the generator)."""
        rel = rel.cpu()
        med = {r: float(self.unseen.get(r, self.pooled_unseen).median())
               for r in torch.unique(rel).tolist()}
        return torch.tensor([med[r] for r in rel.tolist()])

    def state_dict(self) -> Dict[str, object]:
        out = dict(train=self.train, unseen=self.unseen,
                   linked_share=self.linked_share,
                   link_confidence=getattr(self, 'link_confidence', None),
                   pooled_train=self.pooled_train,
                   pooled_unseen=self.pooled_unseen,
                   num_relations=self.num_relations)
        if getattr(self, 'train_linked', None) is not None:
            out.update(train_linked=self.train_linked,
                       linked_weight=self.linked_weight,
                       pooled_train_linked=self.pooled_train_linked,
                       pooled_linked_weight=self.pooled_linked_weight)
        return out

    @classmethod
    def from_state(cls, state: Dict[str, object]) -> 'ScoreReference':
        out = cls.__new__(cls)
        for key, value in state.items():
            setattr(out, key, value)
        return out


def calibrate(scorer: KGEScorer, affected: Tensor, rows: Tensor,
              forget: Tensor, targets: Tensor, neighbours: Tensor,
              anchor: Tensor, steps: int = 100, lr: float = 0.01,
              weight: float = 1.0, free: Optional[Tensor] = None,
              prox: float = 0.0, anchors: str = 'fast',
              engine: str = 'auto',
              start_scores: Optional[Tensor] = None,
              anchor_batches: int = 1, seed: int = 0) -> Tensor:
    r"""Moves the representations :obj:`rows` ``[A, D]`` of the
    :obj:`affected` entities ``[A]`` so that the :obj:`forget` triples
    ``[F, 3]`` score :obj:`targets` ``[F]`` while the :obj:`neighbours`
    triples ``[N, 3]`` keep the scores :obj:`anchor` ``[N]`` (the objective
    of the module docstring, :obj:`weight` :math:`= \lambda`; :obj:`prox`
    adds :math:`\mu \|\mathbf{e}' - \mathbf{e}\|^2 / \|\mathbf{e}\|^2`), with
    :obj:`steps` Adam steps of size :obj:`lr` times the rows' mean norm.
    Entities outside :obj:`affected` keep their rows. With :obj:`free`
    (boolean ``[A]``) only those rows move. Returns the new rows.

    With :obj:`engine="auto"` (the default) the four supported models take
    their gradients in closed form and run Adam by hand
    (:func:`hand_adam`: the same update as :class:`torch.optim.Adam`,
    without autograd; every triple scored exactly, :obj:`anchors` unused);
    :obj:`engine="autograd"` (and any other model) differentiates through
    the scorer. There, with :obj:`anchors="fast"` (the default) an anchor
    with a single affected end :math:`e` is scored from the change
    :math:`\boldsymbol{\delta} = \mathbf{e}' - \mathbf{e}` of that end
    alone, exactly, by :func:`anchor_factors`: for the bilinear models
    (DistMult, ComplEx) :math:`s' = s + \mathbf{g}^\top
    \boldsymbol{\delta}`, and for the :math:`L_2` distance models (TransE
    with :math:`p = 2`, RotatE), whose query map is an isometry of the
    moving end, :math:`s' = \gamma - \sqrt{d^2 + 2\mathbf{u}^\top
    \boldsymbol{\delta} + \|\boldsymbol{\delta}\|^2}`. A step then costs one
    product with the anchors' precomputed vectors instead of a full pass
    through the score. Anchors with two affected ends, and every anchor of
    other models, are scored through the model at every step, as with
    :obj:`anchors="exact"`. The rows of the other ends are gathered once, so
    a step costs :math:`O((F + N) D)` whatever the size of the graph.

    :obj:`start_scores` (``[F + N]``, optional) are the scores of the
    :obj:`forget` and :obj:`neighbours` triples at :obj:`rows` where the
    caller has them: the closed-form engine then does not score them again
    (see :func:`hand_adam`).

    With :obj:`anchor_batches` :math:`K > 1` the anchors are split into
    :math:`K` batches (a partition seeded by :obj:`seed`) and step
    :math:`s` holds the forgotten triples and batch :math:`s \bmod K` at
    :math:`K` times its weight, in both engines; a request with fewer than
    :math:`K` times :data:`MIN_ANCHOR_BATCH` anchors uses fewer batches."""
    if anchors not in ('fast', 'exact'):
        raise ValueError(f"unknown anchors '{anchors}' (expected 'fast' "
                         f"or 'exact')")
    if engine not in ('auto', 'autograd'):
        raise ValueError(f"unknown engine '{engine}' (expected 'auto' or "
                         f"'autograd')")
    if steps <= 0 or forget.numel() == 0:
        return rows
    dev = rows.device
    pos = Positions(affected.to(dev))
    targets, neighbours = targets.to(dev), neighbours.to(dev)
    start = rows.detach().clone()
    hand = engine == 'auto' and _fast_kind(scorer) is not None
    if anchor is None:  # the anchors keep their scores at `rows`
        if start_scores is not None:
            raise ValueError('start_scores are the anchors\' goals when '
                             'anchor is None: give one or the other')
        if not hand:
            with torch.no_grad():
                anchor = triple_scores(scorer, None, neighbours,
                                       _start_lookup(scorer, pos,
                                                     scorer.represent(start)))
    if anchor is not None:
        anchor = anchor.to(dev)
    num_forget = forget.size(0)
    count = neighbours.size(0) if anchor is None else int(anchor.numel())
    use_anchor = count > 0 and weight > 0
    scale = float(rows.detach().norm(dim=-1).mean().clamp(min=1e-6))
    mask = None if free is None else free.to(dev)[:, None].to(rows.dtype)
    num_anchor = max(count, 1)
    K = int(anchor_batches)
    if K < 1:
        raise ValueError(f"'anchor_batches' must be at least 1 (got {K})")
    # Anchor batches: a seeded partition of the anchors into K batches,
    # one batch a step in turn, its weight times K (an unbiased estimate of
    # the anchors' mean, at 1 / K of their cost); no more batches than
    # MIN_ANCHOR_BATCH anchors each.
    K = max(1, min(K, count // MIN_ANCHOR_BATCH))
    batch = None
    if K > 1 and use_anchor:
        g = torch.Generator().manual_seed(int(seed))
        batch = (torch.randperm(count, generator=g) % K).to(dev)

    def spread_of(anchor: Tensor) -> float:
        # Scores move on the scale of the unseen / training score spread.
        both = torch.cat([targets.to(anchor.dtype), anchor])
        return float(both.std().clamp(min=1e-6)) if both.numel() > 1 \
            else 1.0

    if hand:
        # Every triple, anchors included, through the closed form.
        every = torch.cat([forget.to(dev), neighbours]) if use_anchor \
            else forget.to(dev)
        every_batch = None
        if batch is not None:
            every_batch = torch.cat([torch.full((num_forget, ), -1,
                                                device=dev), batch])

        def goal_and_weights(anchor: Tensor):
            spread = spread_of(anchor)
            weights = torch.full((every.size(0), ), 2.0 / (
                spread ** 2 * max(num_forget, 1)), dtype=rows.dtype,
                device=dev)
            weights[num_forget:] = 2.0 * weight * (K if batch is not None
                                                   else 1) / (
                spread ** 2 * num_anchor)
            goal = torch.cat([targets.to(rows.dtype), anchor.to(rows.dtype)
                              ]) if use_anchor else targets.to(rows.dtype)
            return goal, weights

        if anchor is None:
            # The goals come from the loop's own start scores.
            def goal(own: Tensor):
                return goal_and_weights(own[num_forget:])
            weights = None
        else:
            goal, weights = goal_and_weights(anchor)
        if start_scores is not None:
            if start_scores.numel() != num_forget + anchor.numel():
                raise ValueError(f'start_scores holds {start_scores.numel()}'
                                 f' scores for {num_forget} forgotten and '
                                 f'{anchor.numel()} anchor triples')
            start_scores = start_scores.to(dev, rows.dtype)[:every.size(0)]
        with torch.inference_mode():
            out = hand_adam(scorer, pos, start, every, goal, weights,
                            prox=prox, scale=scale, free=mask,
                            steps=int(steps), lr=lr * scale,
                            start_scores=start_scores, batch=every_batch,
                            num_batches=K)
        return out.clone()
    spread = spread_of(anchor)
    with torch.no_grad():
        start_rep = scorer.represent(start)
    fast = None
    if use_anchor and anchors == 'fast':
        fast = anchor_factors(scorer, pos, start_rep, neighbours)
    if fast is not None:
        slow = fast[-1]
        fast_target = anchor[~slow]
        slow_target = anchor[slow]
        slow_triples = neighbours[slow]
    else:
        slow_target = anchor if use_anchor else anchor[:0]
        slow_triples = neighbours if use_anchor else neighbours[:0]
    # The scores of the forgotten triples and the slow anchors go through
    # the model at every step.
    triples = torch.cat([forget.to(dev), slow_triples], 0)
    hp, tp = pos[triples[:, 0]], pos[triples[:, 2]]
    rel = triples[:, 1]
    with torch.no_grad():
        fixed_h = scorer.represent(scorer.param_rows(triples[:, 0]))
        fixed_t = scorer.represent(scorer.param_rows(triples[:, 2]))
        query_of = _query_maker(scorer, rel)
    h_own, t_own = (hp >= 0)[:, None], (tp >= 0)[:, None]
    hp, tp = hp.clamp(min=0), tp.clamp(min=0)
    param = torch.nn.Parameter(rows.detach().clone())
    opt = torch.optim.Adam([param], lr=lr * scale)
    if batch is not None:  # each anchor's batch, fast and slow ones apart
        fast_batch = batch[~slow] if fast is not None else None
        slow_batch = batch[slow] if fast is not None else batch
    for step in range(int(steps)):
        on_slow = on_fast = 1.0
        if batch is not None:  # this step's batch, its weight times K
            on_slow = (slow_batch == step % K).to(rows.dtype) * K
            if fast is not None:
                on_fast = (fast_batch == step % K).to(rows.dtype) * K
        reps = scorer.represent(param)
        head = torch.where(h_own, reps[hp], fixed_h)
        tail = torch.where(t_own, reps[tp], fixed_t)
        score = scorer.score_pairs(query_of(head), tail)
        loss = ((score[:num_forget] - targets) / spread).pow(2).mean()
        if use_anchor:
            err = (((score[num_forget:] - slow_target) / spread).pow(2) *
                   on_slow).sum()
            loss = loss + weight * err / num_anchor
            if fast is not None:
                # The fast anchors' gradient in closed form, chained into
                # autograd through the representation map.
                with torch.no_grad():
                    value, dvalue = fast_score(scorer, fast,
                                               reps - start_rep, grad=True)
                    coef = 2 * weight * (value - fast_target) * on_fast / (
                        spread ** 2 * num_anchor)
                    g = torch.zeros_like(reps).index_add_(
                        0, fast[1], dvalue * coef[:, None])
                loss = loss + (reps * g).sum()
        if prox > 0:  # stay near the start, in units of the rows' norm
            loss = loss + prox * ((param - start) / scale).pow(2).sum(-1
                                                                      ).mean()
        opt.zero_grad()
        loss.backward()
        if mask is not None:
            param.grad.mul_(mask)
        opt.step()
    return scorer.represent(param.detach())


def hand_adam(scorer: KGEScorer, pos: 'Positions', start: Tensor,
              triples: Tensor, goal: Tensor, weights: Tensor,
              prox: float = 0.0, scale: float = 1.0,
              free: Optional[Tensor] = None, steps: int = 50,
              lr: float = 0.01, start_scores: Optional[Tensor] = None,
              betas=(0.9, 0.999), eps: float = 1e-8,
              batch: Optional[Tensor] = None,
              num_batches: int = 1) -> Tensor:
    r"""The calibration loop of :func:`calibrate` with closed-form gradients
    and Adam run by hand (the update of :class:`torch.optim.Adam`), for
    TransE (:math:`p = 2`), RotatE, DistMult and ComplEx.

    Minimises :math:`\sum_i \frac{w_i}{2} (s_i - \tau_i)^2` over the rows of
    the affected entities (plus the proximal term of :func:`calibrate`),
    where :math:`s_i` is the model's score of :obj:`triples` ``[T, 3]``
    and :math:`\tau_i` the :obj:`goal` ``[T]``, with weights :obj:`weights`
    ``[T]``.

    A triple with one affected end :math:`e` scores, for all four models,
    :math:`\gamma - \|\mathbf{e} - \mathbf{k}\|` (distance models) or
    :math:`\mathbf{e}^\top \mathbf{k}` (bilinear models), with
    :math:`\mathbf{k}` what the fixed end and the relation imply for
    :math:`e` (the scorer's head or tail query, computed once). Such
    triples, sorted by their affected end, cost one gather, one norm or dot
    product and one sorted scatter per step. Triples with two affected ends
    go through the model's score (complex models in complex arithmetic),
    their relation rows gathered block by block from the relation table.
    Each block's slices and buffers are taken once, before the first step,
    so a step is a few dozen tensor operations whatever the size of the
    graph; the Adam update itself is PyTorch's fused kernel (the one
    :obj:`torch.optim.Adam(fused=True)` runs) where the build has it.

    Args:
        scorer (KGEScorer): The model's scoring adapter.
        pos (Positions): Positions of entity ids among the affected ones.
        start (Tensor): The affected entities' starting raw rows ``[A, D]``.
        triples (Tensor): ``(head, relation, tail)`` rows ``[T, 3]``; rows
            without an affected end are constant and ignored.
        goal (Tensor): Target scores ``[T]``.
        weights (Tensor): Per-triple weights ``[T]``.
        prox (float, optional): Proximal weight (see :func:`calibrate`).
        scale (float, optional): The rows' mean norm (the proximal unit).
        free (Tensor, optional): ``[A, 1]`` float mask of the rows that
            move (all when :obj:`None`).
        steps (int, optional): Adam steps.
        lr (float, optional): Adam's step size.
        start_scores (Tensor, optional): The triples' scores ``[T]`` at
            :obj:`start` as the caller computed them (e.g. through
            :func:`triple_scores`); residuals are then :math:`(s_i -
            s_i^{(0)}) + (s_i^{(0)} - \tau_i)`, so a goal equal to its start
            score gives exactly zero gradient whatever the rounding of this
            loop's arithmetic.

    Returns:
        The new representations ``[A, D]``.
    """
    name = type(scorer).__name__
    if _fast_kind(scorer) is None:
        raise ValueError(f'hand_adam has no closed form for {name} (TransE '
                         f'with p = 2, RotatE, DistMult and ComplEx only)')
    A, D = start.shape
    cplx = name in ('ComplExScorer', 'RotatEScorer')
    distance = name in ('TransEScorer', 'RotatEScorer')
    transe = name == 'TransEScorer'
    model = scorer.model
    hp, tp = pos[triples[:, 0]], pos[triples[:, 2]]
    h_in, t_in = hp >= 0, tp >= 0
    one_end = h_in ^ t_in

    def represent(p: Tensor):
        if not transe:
            return p, None
        norm = torch.linalg.vector_norm(p, dim=-1, keepdim=True).clamp_(
            min=1e-12)
        return p / norm, norm

    rep0 = represent(start)[0]
    # One affected end: e, k, sorted by e.
    one = one_end.nonzero().view(-1)
    o_t = triples[one]
    head_moves = h_in[one]
    e1 = torch.where(head_moves, hp[one], tp[one])
    # Group 0: the triples of every step; group 1 + b: batch b.
    num_groups = 1 if batch is None else int(num_batches) + 1
    group = torch.zeros_like(triples[:, 0]) if batch is None else \
        (batch + 1).to(triples.device)
    # Sorted by group, then by the side that moves, then by e: each
    # group's triples contiguous, and in runs of one side.
    run = group[one] * 2 + head_moves.long()
    order = torch.argsort(run * A + e1, stable=True)
    one, o_t, head_moves, e1, run = one[order], o_t[order], \
        head_moves[order], e1[order], run[order]
    ends, inverse = torch.unique(torch.where(head_moves, o_t[:, 2],
                                             o_t[:, 0]), return_inverse=True)
    table = scorer.represent(scorer.param_rows(ends))
    # Complex models: the relations' complex table (and its conjugate),
    # built once and gathered per triple.
    if name == 'RotatEScorer':
        theta = model.rel_emb.weight
        # cos and sin, as the scorer rotates (and 2.5x faster than polar)
        r_table = torch.complex(torch.cos(theta), torch.sin(theta))
    elif name == 'ComplExScorer':
        r_table = torch.complex(model.rel_emb.weight, model.rel_emb_im.weight)
    if cplx:
        r_table_adj = r_table.conj().resolve_conj()
    runs = torch.unique_consecutive(run, return_counts=True)[1].tolist()
    # What the fixed end implies for the moving one, in its direction only,
    # run by run (slices, not masks), written in place: a moving tail meets
    # h * r (TransE: h + r), a moving head t * r (DistMult), t - r (TransE)
    # or conj(r) * t (ComplEx: Re<e, conj(k)>; RotatE: ||e - k||, |r| = 1);
    # complex models read as the interleaved real layout.
    if cplx:
        table = torch.complex(*table.chunk(2, dim=-1))
        rels = (r_table, r_table_adj)  # (tail moves, head moves)
    else:
        rels = (model.rel_emb.weight, ) * 2
    ops = (torch.add, torch.sub) if transe else (torch.mul, torch.mul)
    k1 = table.new_empty((one.numel(), table.size(-1)))
    a = 0
    for c in runs:
        b, moves = slice(a, a + c), int(bool(head_moves[a]))
        ops[moves](torch.index_select(table, 0, inverse[b]),
                   torch.index_select(rels[moves], 0, o_t[b, 1]), out=k1[b])
        a += c
    if cplx:
        k1 = torch.view_as_real(k1).view(one.numel(), 2 * k1.size(-1))
    del table

    def group_blocks(g: Tensor):
        # The blocks of each group's contiguous (sorted) range.
        counts = torch.bincount(g, minlength=num_groups).tolist()
        out, a = [], 0
        for c in counts:
            out.append([slice(b, min(b + BLOCK, a + c))
                        for b in range(a, a + c, BLOCK)])
            a += c
        return out
    blocks1 = [slice(a, a + BLOCK) for a in range(0, one.numel(), BLOCK)]
    gblocks1 = group_blocks(group[one])
    x1 = torch.empty(min(BLOCK, one.numel()), k1.size(-1), dtype=k1.dtype,
                     device=start.device)

    def single(reps: Tensor) -> Tensor:
        # Block by block: the values [T1] (distance models: distances).
        out = torch.empty(one.numel(), dtype=start.dtype,
                          device=start.device)
        for b in blocks1:
            e, k = e1[b], k1[b]
            x = torch.index_select(reps, 0, e, out=x1[:e.numel()])
            if distance:
                out[b] = torch.linalg.vector_norm(x.sub_(k), dim=-1)
            else:
                out[b] = rowdot(x, k)
        return out

    def single_grad(reps: Tensor, grad: Tensor, plan) -> None:
        # Their gradient added into `grad`, over the blocks of `plan`.
        for e, k, off, w, x in plan:
            torch.index_select(reps, 0, e, out=x)
            if distance:
                # score - goal = (first - dist) - gap; d score / d e =
                # -x / dist
                value = torch.linalg.vector_norm(x.sub_(k), dim=-1)
                c = torch.add(value, off).mul_(w).div_(
                    value.clamp(min=1e-12))
                grad.index_add_(0, e, x.mul_(c[:, None]))
            else:
                c = torch.add(rowdot(x, k), off).mul_(w)
                grad.index_add_(0, e, torch.mul(k, c[:, None], out=x))
    if cplx:
        # Complex models work in the interleaved layout [re_0, im_0, re_1,
        # ...] throughout (dot products and norms do not depend on the
        # order of the coordinates), so that complex views of the rows and
        # of the gradient cost nothing a step.
        rep0 = interleave(rep0)
    first1 = single(rep0)
    # Two affected ends, sorted by head.
    two = (h_in & t_in).nonzero().view(-1)
    two = two[torch.argsort(group[two] * A + hp[two], stable=True)]
    h2, t2, rel2 = hp[two], tp[two], triples[two, 1]

    def real(x: Tensor) -> Tensor:  # complex [*, W] -> its real view [*, 2W]
        return torch.view_as_real(x).flatten(-2) if cplx else x

    # The relations' rows are gathered block by block from their table
    # (small enough to stay in cache), not stored per triple.
    if not cplx:
        r_table = r_table_adj = model.rel_emb.weight
    width = D // 2 if cplx else D
    dt = r_table.dtype
    blocks2 = [slice(a, a + BLOCK) for a in range(0, two.numel(), BLOCK)]
    gblocks2 = group_blocks(group[two])
    x2 = torch.empty(min(BLOCK, two.numel()), width, dtype=dt,
                     device=start.device)
    y2, q2 = torch.empty_like(x2), torch.empty_like(x2)
    x2r, y2r = real(x2), real(y2)

    def double(reps: Tensor) -> Tensor:
        # Block by block: the scores (distance models: distances) [T2].
        out = torch.empty(two.numel(), dtype=start.dtype,
                          device=start.device)
        for b in blocks2:
            n = h2[b].numel()
            x, y, xr, yr = x2[:n], y2[:n], x2r[:n], y2r[:n]
            r = torch.index_select(r_table, 0, rel2[b], out=q2[:n])
            # Gathers and arithmetic on real views where they are the
            # same (complex kernels are slow).
            torch.index_select(reps, 0, h2[b], out=xr)
            torch.index_select(reps, 0, t2[b], out=yr)
            x.add_(r) if transe else x.mul_(r)
            if distance:
                out[b] = torch.linalg.vector_norm(real(x.sub_(y)), dim=-1)
            else:
                out[b] = rowdot(xr, yr)
        return out

    def double_grad(reps: Tensor, grad: Tensor, plan) -> None:
        # Their gradient added into the real (interleaved) `grad`, over
        # the blocks of `plan`; x becomes the residual (bilinear: the
        # query).
        for h, t, rel, off, w, x, y, xr, yr, q in plan:
            torch.index_select(reps, 0, h, out=xr)
            torch.index_select(reps, 0, t, out=yr)
            r = torch.index_select(r_table, 0, rel, out=q)
            x.add_(r) if transe else x.mul_(r)
            if distance:
                x.sub_(y)
                value = torch.linalg.vector_norm(xr, dim=-1)
                # dL/dtail (scaled on the real view: no complex copy of c)
                c = torch.sub(off, value).mul_(w).div_(
                    value.clamp(min=1e-12))
                xr.mul_(c[:, None])
                grad.index_add_(0, t, xr)
                if transe:
                    grad.index_add_(0, h, xr, alpha=-1)
                else:  # dL/dhead = -conj(r) * dL/dtail
                    torch.mul(torch.index_select(r_table_adj, 0, rel,
                                                 out=q), x, out=y)
                    grad.index_add_(0, h, yr, alpha=-1)
            else:
                c = torch.add(rowdot(xr, yr), off).mul_(w)[:, None]
                y.mul_(torch.index_select(r_table_adj, 0, rel, out=q)
                       if cplx else r)
                grad.index_add_(0, h, yr.mul_(c))
                grad.index_add_(0, t, xr.mul_(c))
    first2 = double(rep0)
    if callable(goal):
        # The goals and weights from this loop's own start scores (in the
        # triples' order), which are then the start scores too.
        own = torch.empty(triples.size(0), dtype=start.dtype,
                          device=start.device)
        own[one] = scorer.offset() - first1 if distance else first1
        own[two] = scorer.offset() - first2 if distance else first2
        rest = ~(h_in | t_in)
        if bool(rest.any()):  # constant triples: scored, then ignored
            own[rest] = triple_scores(scorer, None, triples[rest],
                                      _start_lookup(scorer, pos,
                                                    scorer.represent(start)))
        goal, weights = goal(own)
        start_scores = own
    elif start_scores is None:
        # Scored as the model scores them (the map of the start rows built
        # once, shared by heads and tails).
        start_scores = triple_scores(scorer, None, triples, _start_lookup(
            scorer, pos, scorer.represent(start)))
    gap_all = (goal - start_scores).to(start.dtype)
    w1, gap1 = weights[one], gap_all[one]
    w2, gap2 = weights[two], gap_all[two]

    origin = interleave(start) if cplx else start
    param = origin.clone()
    m = torch.zeros_like(param)
    v = torch.zeros_like(param)
    b1, b2 = betas
    # PyTorch's fused Adam kernel (what torch.optim.Adam(fused=True) runs):
    # one pass over the rows instead of seven tensor operations a step,
    # which is most of a step's cost on a small request.
    fused = _FUSED_ADAM if param.dtype in (torch.float32, torch.float64) \
        and param.device.type in ('cpu', 'cuda') else None
    count = torch.zeros((), dtype=torch.float32, device=param.device)
    grad = torch.empty_like(param)
    # Per-step residuals as value + offset (distance models: offset - value).
    off1 = gap1 - first1 if distance else -(first1 + gap1)
    off2 = first2 - gap2 if distance else -(first2 + gap2)
    # Each block's slices and buffers, taken once: a small request's step
    # costs its number of tensor operations.
    plan1 = [[(e1[b], k1[b], off1[b], w1[b], x1[:b.stop - b.start])
              for b in blocks] for blocks in gblocks1]
    plan2 = []
    for blocks in gblocks2:
        plan2.append([])
        for b in blocks:
            n = b.stop - b.start
            plan2[-1].append((h2[b], t2[b], rel2[b], off2[b], w2[b],
                              x2[:n], y2[:n], x2r[:n], y2r[:n], q2[:n]))
    # Step s holds every step's triples (group 0) and, in turn, one batch.
    plans = [(plan1[0] + (plan1[now] if now else []),
              plan2[0] + (plan2[now] if now else []))
             for now in range(1, num_groups)] if num_groups > 1 \
        else [(plan1[0], plan2[0])]
    for step in range(1, steps + 1):
        reps, norm = represent(param)
        grad.zero_()
        p1, p2 = plans[(step - 1) % len(plans)]
        single_grad(reps, grad, p1)
        double_grad(reps, grad, p2)
        g = grad
        if transe:  # through e / ||e||
            g = torch.addcmul(g, rowdot(g, reps)[:, None], reps,
                              value=-1).div_(norm)
        # In place: g is this step's own buffer (grad, zeroed each step).
        if prox > 0:
            g.add_(torch.sub(param, origin), alpha=2 * prox / (scale ** 2 * A))
        if free is not None:
            g.mul_(free)
        if fused is not None:
            count += 1
            fused([param], [g], [m], [v], [], [count], lr=lr, beta1=b1,
                  beta2=b2, weight_decay=0.0, eps=eps, amsgrad=False,
                  maximize=False)
            continue
        m.lerp_(g, 1 - b1)
        v.mul_(b2).addcmul_(g, g, value=1 - b2)
        denom = v.sqrt().div_((1 - b2 ** step) ** 0.5).add_(eps)
        param.addcdiv_(m, denom, value=-lr / (1 - b1 ** step))
    return scorer.represent(deinterleave(param) if cplx else param)


def interleave(x: Tensor) -> Tensor:
    r"""Rows ``[*, 2W]`` as ``[re | im]`` halves to the interleaved layout
    ``[re_0, im_0, re_1, im_1, ...]`` of :func:`torch.view_as_real`."""
    return x.reshape(*x.shape[:-1], 2, x.size(-1) // 2).transpose(
        -1, -2).reshape(x.shape)


def deinterleave(x: Tensor) -> Tensor:
    r"""The inverse of :func:`interleave`: interleaved rows ``[*, 2W]`` to
    ``[re | im]`` halves."""
    return x.reshape(*x.shape[:-1], x.size(-1) // 2, 2).transpose(
        -1, -2).reshape(x.shape)


def order_keys(x: Tensor) -> Tensor:
    r"""Integer keys ``[*]`` in :math:`[0, 2^{32})` (int64) of float32
    values :obj:`x` ``[*]`` that sort as the values do, equal values (both
    zeros included) to equal keys: the IEEE-754 bit pattern, its sign bit
    set for positive values and every bit flipped for negative ones."""
    if x.dtype != torch.float32:
        raise ValueError(f'order_keys needs float32 values (got {x.dtype})')
    bits = (x + 0.0).contiguous().view(torch.int32).long() & 0xFFFFFFFF
    return torch.where(bits >= 1 << 31, 0xFFFFFFFF - bits, bits + (1 << 31))


_FUSED_ADAM = getattr(torch, '_fused_adam_', None)


def _start_lookup(scorer: KGEScorer, pos: 'Positions', start_rep: Tensor):
    # Representations of entity ids with the affected ones at their start.
    def lookup(i: Tensor) -> Tensor:
        p = pos[i]
        own = p >= 0
        out = scorer.represent(scorer.param_rows(i))
        out[own] = start_rep[p[own]]
        return out
    return lookup


def _query_maker(scorer: KGEScorer, rel: Tensor):
    r""":meth:`tail_query_rep` for fixed relations, with the relation rows
    looked up once (models whose query is a translation or an elementwise
    product; others go through the scorer)."""
    name = type(scorer).__name__
    if name == 'TransEScorer':
        r = scorer.model.rel_emb(rel)
        return lambda head: head + r
    if name == 'DistMultScorer':
        r = scorer.model.rel_emb(rel)
        return lambda head: head * r
    return lambda head: scorer.tail_query_rep(head, rel)


def _fast_kind(scorer: KGEScorer) -> Optional[str]:
    # The closed form of a single-end anchor's score, for the models that
    # have one (None for the others: TransE with p = 1, ForwardScorer).
    name = type(scorer).__name__
    if name in ('DistMultScorer', 'ComplExScorer'):
        return 'bilinear'
    if name in ('TransEScorer', 'RotatEScorer') and \
            float(scorer.norm_p()) == 2.0:
        return 'l2'
    return None


class Positions:
    r"""The position of entity ids among the :obj:`affected` ids ``[A]``
    (:obj:`-1` for the others), by binary search: ``pos[ids]`` costs
    :math:`O(|ids| \log A)`, not a table over every entity of the graph.

    Args:
        affected (Tensor): Distinct entity ids ``[A]``, in any order.
    """
    def __init__(self, affected: Tensor) -> None:
        self.sorted, self.order = torch.sort(affected)
        self._table: Optional[Tensor] = None

    def __getitem__(self, ids: Tensor) -> Tensor:
        if self.sorted.numel() == 0:
            return torch.full_like(ids, -1)
        ids = ids.contiguous()
        span = int(self.sorted[-1]) + 1
        if self._table is not None or span <= ids.numel():
            # Many lookups against few ids: a table up to the largest
            # affected id (built once, at most the size of one lookup),
            # a gather instead of a binary search per id.
            if self._table is None:
                self._table = torch.full((span, ), -1, dtype=torch.long,
                                         device=ids.device)
                self._table[self.sorted] = self.order
            inside = ids < span
            return torch.where(inside, self._table[ids.clamp(max=span - 1)],
                               torch.full_like(ids, -1))
        at = torch.searchsorted(self.sorted, ids).clamp(
            max=self.sorted.numel() - 1)
        return torch.where(self.sorted[at] == ids, self.order[at],
                           torch.full_like(ids, -1))


def anchor_factors(scorer: KGEScorer, pos: 'Positions', reps: Tensor,
                   triples: Tensor):
    r"""Precomputes the exact closed-form score of each triple with a
    single affected end as a function of that end's change (the fast
    anchors of :func:`calibrate`).

    For a bilinear model the score is linear in each end, :math:`s' = s +
    \mathbf{g}^\top \boldsymbol{\delta}` with :math:`\mathbf{g} = \partial
    s / \partial \mathbf{e}`. For an :math:`L_2` distance model whose query
    is an isometry of the moving end (TransE's translation, RotatE's
    rotation), the residual :math:`\mathbf{v}` changes by an isometric
    image of :math:`\boldsymbol{\delta}`, so :math:`\|\mathbf{v}'\|^2 = d^2 +
    2 \mathbf{u}^\top \boldsymbol{\delta} + \|\boldsymbol{\delta}\|^2` with
    :math:`d = \gamma - s` and :math:`\mathbf{u} = -d\,\mathbf{g}`.

    Args:
        scorer (KGEScorer): The model's scoring adapter.
        pos (Positions): The positions of entities among the affected
            ones (:class:`Positions`; :obj:`-1` for the others).
        reps (Tensor): The affected entities' starting representations
            ``[A, D]``.
        triples (Tensor): ``(head, relation, tail)`` rows ``[N, 3]``.

    Returns:
        :obj:`None` for a model without a closed form, else ``(kind,
        entity, vector, score, slow)``: for the :obj:`M` triples with one
        affected end, that end's position ``[M]``, :math:`\mathbf{g}` or
        :math:`\mathbf{u}` ``[M, D]`` and the starting score (or distance
        :math:`d`) ``[M]``; :obj:`slow` is the boolean ``[N]`` mask of the
        other triples.
    """
    kind = _fast_kind(scorer)
    if kind is None:
        return None
    hp, tp = pos[triples[:, 0]], pos[triples[:, 2]]
    slow = (hp >= 0) == (tp >= 0)
    sel = (~slow).nonzero().view(-1)
    t = triples[sel]
    h_is = hp[sel] >= 0
    with torch.no_grad():
        head = torch.where(h_is[:, None], reps[hp[sel].clamp(min=0)],
                           scorer.represent(scorer.param_rows(t[:, 0])))
        tail = torch.where(h_is[:, None],
                           scorer.represent(scorer.param_rows(t[:, 2])),
                           reps[tp[sel].clamp(min=0)])
    head.requires_grad_()
    tail.requires_grad_()
    with torch.enable_grad():
        score = scorer.score_pairs(scorer.tail_query_rep(head, t[:, 1]),
                                   tail)
        g_h, g_t = torch.autograd.grad(score.sum(), (head, tail))
    grad = torch.where(h_is[:, None], g_h, g_t)
    ent = torch.where(h_is, hp[sel], tp[sel])
    score = score.detach()
    if kind == 'l2':
        dist = (scorer.offset() - score).clamp(min=0)
        return kind, ent, -grad * dist[:, None], dist, slow
    return kind, ent, grad, score, slow


def fast_score(scorer: KGEScorer, factors, delta: Tensor,
               grad: bool = False):
    r"""The scores ``[M]`` of the fast anchors of :func:`anchor_factors`
    after the affected rows moved by :obj:`delta` ``[A, D]``; with
    :obj:`grad`, also each score's gradient with respect to its moving
    end's row ``[M, D]``."""
    kind, ent, vec, base, _ = factors
    d = delta[ent]
    if kind == 'bilinear':
        value = base + (vec * d).sum(-1)
        return (value, vec) if grad else value
    dist = (base.pow(2) + 2 * (vec * d).sum(-1) + d.pow(2).sum(-1)).clamp(
        min=1e-12).sqrt()
    value = scorer.offset() - dist
    if not grad:
        return value
    return value, -(vec + d) / dist[:, None]


def calibrate_newton(scorer: KGEScorer, affected: Tensor, rows: Tensor,
                     forget: Tensor, targets: Tensor, neighbours: Tensor,
                     anchor: Tensor, iterations: int = 3,
                     damping: float = 1e-3,
                     free: Optional[Tensor] = None) -> Tensor:
    r"""The calibration objective of :func:`calibrate`, solved by
    Gauss--Newton steps instead of Adam: each step linearises every
    triple's score in the rows of its affected ends and moves each free
    entity by the minimum-norm (ridge, :obj:`damping` relative to the
    squared gradient norms) solution of its own equations -- its forgotten
    triples reach their targets, its anchor triples keep their scores. An
    entity has at most its forgotten triples plus its anchors as equations
    against :math:`D` unknowns, so the equations are usually satisfied
    exactly to first order; a triple whose two ends both move gives each
    half of its residual. Batched over entities: one step costs a handful
    of small dense solves, whatever the size of the graph.

    Returns the new representations ``[A, D]``."""
    if iterations <= 0 or forget.numel() == 0:
        return rows
    dev = rows.device
    A = affected.numel()
    pos = Positions(affected.to(dev))
    triples = torch.cat([forget.to(dev), neighbours.to(dev)], 0)
    goal = torch.cat([targets.to(dev), anchor.to(dev)])
    rel = triples[:, 1]
    movable = torch.ones(A, dtype=torch.bool, device=dev) if free is None \
        else free.to(dev)
    hp, tp = pos[triples[:, 0]], pos[triples[:, 2]]
    h_free = (hp >= 0) & movable[hp.clamp(min=0)]
    t_free = (tp >= 0) & movable[tp.clamp(min=0)]
    share = torch.where(h_free & t_free, 0.5, 1.0).to(rows.dtype)
    with torch.no_grad():
        fixed_h = scorer.represent(scorer.param_rows(triples[:, 0]))
        fixed_t = scorer.represent(scorer.param_rows(triples[:, 2]))
    h_own, t_own = (hp >= 0)[:, None], (tp >= 0)[:, None]
    hpc, tpc = hp.clamp(min=0), tp.clamp(min=0)
    # Equations of each entity: (entity, triple, side) for every free end.
    ent = torch.cat([hp[h_free], tp[t_free]])
    tri = torch.cat([h_free.nonzero().view(-1), t_free.nonzero().view(-1)])
    side = torch.cat([torch.zeros(int(h_free.sum()), dtype=torch.long,
                                  device=dev),
                      torch.ones(int(t_free.sum()), dtype=torch.long,
                                 device=dev)])
    if ent.numel() == 0:
        return rows
    order = torch.argsort(ent, stable=True)
    ent, tri, side = ent[order], tri[order], side[order]
    count = torch.bincount(ent, minlength=A)
    width = int(count.max())
    start = torch.cumsum(count, 0) - count
    slot = torch.arange(ent.numel(), device=dev) - start[ent]
    reps = rows.detach().clone()
    for _ in range(int(iterations)):
        head = torch.where(h_own, reps[hpc], fixed_h).requires_grad_()
        tail = torch.where(t_own, reps[tpc], fixed_t).requires_grad_()
        with torch.enable_grad():
            score = scorer.score_pairs(scorer.tail_query_rep(head, rel),
                                       tail)
            g_h, g_t = torch.autograd.grad(score.sum(), (head, tail))
        residual = (score.detach() - goal) * share
        grads = torch.stack([g_h, g_t])[side, tri]          # [Q, D]
        # Padded per-entity systems: G [A, W, D], r [A, W].
        G = rows.new_zeros(A, width, rows.size(1))
        r = rows.new_zeros(A, width)
        G[ent, slot] = grads
        r[ent, slot] = residual[tri]
        gram = G @ G.transpose(1, 2)                        # [A, W, W]
        scale = gram.diagonal(dim1=1, dim2=2).mean(1).clamp(min=1e-12)
        eye = torch.eye(width, device=dev, dtype=rows.dtype)
        pad = (torch.arange(width, device=dev)[None, :] >=
               count[:, None]).to(rows.dtype)
        system = gram + (damping * scale)[:, None, None] * eye + \
            torch.diag_embed(pad)                           # pads: identity
        alpha = torch.linalg.solve(system, r.unsqueeze(-1))  # [A, W, 1]
        step = -(G.transpose(1, 2) @ alpha).squeeze(-1)       # [A, D]
        reps = scorer.represent(reps + step * movable[:, None])
    return reps
