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

from ..kge.scoring import KGEScorer

__all__ = ['ScoreReference', 'calibrate', 'triple_scores']


def triple_scores(scorer: KGEScorer, reps: Tensor, triples: Tensor,
                  lookup=None) -> Tensor:
    r"""Scores ``[T]`` of ``(head, relation, tail)`` rows ``[T, 3]`` given
    entity representations :obj:`reps` (indexed by :obj:`lookup`, a
    function of ids, when given; else :obj:`reps` is indexed directly)."""
    get = (lambda i: reps[i]) if lookup is None else lookup
    query = scorer.tail_query_rep(get(triples[:, 0]), triples[:, 1])
    return scorer.score_pairs(query, get(triples[:, 2]))


class ScoreReference:
    r"""Per-relation score distributions of a trained model's training
    triples and of unseen (validation) triples, for the quantile mapping of
    :func:`calibrate`.

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
        g = torch.Generator().manual_seed(0)
        cap = max_per_relation * int(num_relations)
        if train.size(0) > cap:
            train = train[torch.randperm(train.size(0), generator=g)[:cap]]
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
        self.pooled_train = torch.sort(s_train).values
        self.pooled_unseen = torch.sort(s_unseen).values
        self.train: Dict[int, Tensor] = {}
        self.unseen: Dict[int, Tensor] = {}
        for r in range(int(num_relations)):
            su = s_unseen[unseen[:, 1] == r]
            st = s_train[train[:, 1] == r]
            if su.numel() >= min_unseen and st.numel() >= min_unseen:
                self.unseen[r] = torch.sort(su[:max_per_relation]).values
                self.train[r] = torch.sort(st[:max_per_relation]).values
        self.num_relations = int(num_relations)

    def targets(self, rel: Tensor, scores: Tensor) -> Tensor:
        r"""The target score ``[F]`` of triples of relations :obj:`rel`
        ``[F]`` that scored :obj:`scores` ``[F]`` under the trained model:
        the same quantile of their relation's unseen scores."""
        rel, scores = rel.cpu(), scores.detach().cpu()
        out = torch.empty_like(scores)
        for r in torch.unique(rel).tolist():
            mask = rel == r
            st = self.train.get(r, self.pooled_train)
            su = self.unseen.get(r, self.pooled_unseen)
            q = torch.searchsorted(st, scores[mask]).double() / st.numel()
            idx = (q * (su.numel() - 1)).round().long().clamp(
                0, su.numel() - 1)
            out[mask] = su[idx]
        return out

    def typical(self, rel: Tensor) -> Tensor:
        r"""The median unseen score ``[F]`` of each relation in :obj:`rel`
        ``[F]`` (the target of a triple whose trained score is unknown to
        the generator)."""
        rel = rel.cpu()
        med = {r: float(self.unseen.get(r, self.pooled_unseen).median())
               for r in torch.unique(rel).tolist()}
        return torch.tensor([med[r] for r in rel.tolist()])

    def state_dict(self) -> Dict[str, object]:
        return dict(train=self.train, unseen=self.unseen,
                    pooled_train=self.pooled_train,
                    pooled_unseen=self.pooled_unseen,
                    num_relations=self.num_relations)

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
              prox: float = 0.0) -> Tensor:
    r"""Moves the representations :obj:`rows` ``[A, D]`` of the
    :obj:`affected` entities ``[A]`` so that the :obj:`forget` triples
    ``[F, 3]`` score :obj:`targets` ``[F]`` while the :obj:`neighbours`
    triples ``[N, 3]`` keep the scores :obj:`anchor` ``[N]`` (the objective
    of the module docstring, :obj:`weight` :math:`= \lambda`; :obj:`prox`
    adds :math:`\mu \|\mathbf{e}' - \mathbf{e}\|^2 / \|\mathbf{e}\|^2`), with
    :obj:`steps` Adam steps of size :obj:`lr` times the rows' mean norm.
    Entities outside :obj:`affected` keep their rows. With :obj:`free`
    (boolean ``[A]``) only those rows move. Returns the new rows.

    The rows of the other ends are gathered once, so a step costs
    :math:`O((F + N) D)` whatever the size of the graph."""
    if steps <= 0 or forget.numel() == 0:
        return rows
    dev = rows.device
    n = int(scorer.model.num_nodes)
    pos = torch.full((n, ), -1, dtype=torch.long, device=dev)
    pos[affected] = torch.arange(affected.numel(), device=dev)
    triples = torch.cat([forget.to(dev), neighbours.to(dev)], 0)
    num_forget = forget.size(0)
    targets, anchor = targets.to(dev), anchor.to(dev)
    hp, tp = pos[triples[:, 0]], pos[triples[:, 2]]
    rel = triples[:, 1]
    with torch.no_grad():
        fixed_h = scorer.represent(scorer.param_rows(triples[:, 0]))
        fixed_t = scorer.represent(scorer.param_rows(triples[:, 2]))
    h_own, t_own = (hp >= 0)[:, None], (tp >= 0)[:, None]
    hp, tp = hp.clamp(min=0), tp.clamp(min=0)
    param = torch.nn.Parameter(rows.detach().clone())
    scale = float(rows.detach().norm(dim=-1).mean().clamp(min=1e-6))
    opt = torch.optim.Adam([param], lr=lr * scale)
    mask = None if free is None else free.to(dev)[:, None].float()
    # Scores move on the scale of the unseen / training score spread.
    both = torch.cat([targets, anchor])
    spread = float(both.std().clamp(min=1e-6)) if both.numel() > 1 else 1.0
    use_anchor = anchor.numel() > 0 and weight > 0
    start = rows.detach().clone()
    for _ in range(int(steps)):
        reps = scorer.represent(param)
        head = torch.where(h_own, reps[hp], fixed_h)
        tail = torch.where(t_own, reps[tp], fixed_t)
        score = scorer.score_pairs(scorer.tail_query_rep(head, rel), tail)
        loss = ((score[:num_forget] - targets) / spread).pow(2).mean()
        if use_anchor:
            loss = loss + weight * ((score[num_forget:] - anchor) /
                                    spread).pow(2).mean()
        if prox > 0:  # stay near the start, in units of the rows' norm
            loss = loss + prox * ((param - start) / scale).pow(2).sum(-1
                                                                      ).mean()
        opt.zero_grad()
        loss.backward()
        if mask is not None:
            param.grad.mul_(mask)
        opt.step()
    return scorer.represent(param.detach())
