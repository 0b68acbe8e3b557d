r"""Unlearning metrics for KGE models (see ``../shared/design.md`` §4)."""
import copy
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor
from torch_geometric.data import Data

from ..kge.evaluate import LinkPredictionEvaluator
from ..kge.scoring import ForwardScorer, get_scorer
from ..kge.trainer import KGETrainer, TrainConfig


def _as_triples(triples) -> Tensor:
    if isinstance(triples, Data):
        return torch.stack([triples.edge_index[0], triples.edge_type,
                            triples.edge_index[1]], dim=1)
    triples = torch.as_tensor(triples)
    if triples.dim() != 2 or triples.size(1) != 3:
        raise ValueError(f'expected triples of shape [K, 3], got '
                         f'{list(triples.shape)}')
    return triples.long()


@torch.no_grad()
def triple_scores(model: torch.nn.Module, triples,
                  batch_size: int = 65536) -> Tensor:
    r"""The model's scores of ``(head, relation, tail)`` rows ``[K, 3]`` (or
    a KG split), ``[K]``, through its scoring adapter (higher = more
    plausible)."""
    triples = _as_triples(triples)
    scorer = get_scorer(model)
    dev = scorer.device
    out = []
    for chunk in triples.split(batch_size):
        h, r, t = (c.to(dev) for c in chunk.unbind(1))
        if isinstance(scorer, ForwardScorer):  # e.g. an ensemble
            out.append(model(h, r, t).cpu())
            continue
        tq = scorer.tail_query(h, r)
        out.append(scorer.score_pairs(tq, scorer.entity_rows(t)).cpu())
    return torch.cat(out) if out else torch.empty(0)


def membership_auc(model: torch.nn.Module, members, non_members) -> float:
    r"""Area under the ROC curve of a score-threshold membership-inference
    attack: the probability that a random member triple (e.g. the forget
    set) scores above a random non-member (e.g. unseen test triples), ties
    counting one half (the Mann-Whitney :math:`U` statistic).

    0.5 means the scores do not tell the two sets apart; an unlearned model
    should sit where the retrained model does, not necessarily at 0.5.

    Args:
        model (torch.nn.Module): The KGE model.
        members: Triples ``[M, 3]`` (or a KG split) the attacker calls in.
        non_members: Triples ``[U, 3]`` (or a KG split) it calls out.
    """
    pos = triple_scores(model, members).double()
    neg = triple_scores(model, non_members).double()
    if pos.numel() == 0 or neg.numel() == 0:
        raise ValueError('membership_auc needs members and non-members')
    return _auc(pos, neg)


def relearn_attack(model: torch.nn.Module, forget, num_nodes: int,
                   num_relations: int, filter_triples: Sequence,
                   fraction: float = 0.5, epochs: int = 5,
                   config: Optional[TrainConfig] = None,
                   seed: int = 0) -> Dict[str, float]:
    r"""Relearning attack: fine-tune a copy of :obj:`model` for a few epochs
    on a random slice (:obj:`fraction`) of the forget set and measure the
    filtered MRR of the *rest* of the forget set before and after. A model
    that only hid the forgotten triples recovers them quickly; run the same
    attack on the retrained model for the reference.

    Args:
        model (torch.nn.Module): The model to attack (not modified).
        forget: Forgotten triples ``[F, 3]`` (at least 2).
        num_nodes (int): Number of entities.
        num_relations (int): Number of relations.
        filter_triples (list): Filter of the evaluation (e.g. the retained
            graph, valid and test).
        fraction (float, optional): Share of the forget set the attacker
            trains on. (default: :obj:`0.5`)
        epochs (int, optional): Fine-tuning epochs. (default: :obj:`5`)
        config (TrainConfig, optional): Fine-tuning hyper-parameters
            (:obj:`epochs` and :obj:`seed` are overridden).
            (default: self-adversarial loss, lr :obj:`1e-3`)
        seed (int, optional): Seed of the slice and the fine-tuning.

    Returns:
        ``{"before": mrr, "after": mrr, "num_attack": k, "num_eval": m}``.
    """
    forget = _as_triples(forget)
    if forget.size(0) < 2:
        raise ValueError('the relearning attack needs at least 2 forget '
                         'triples')
    if not 0.0 < fraction < 1.0:
        raise ValueError('fraction must lie in (0, 1)')
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(forget.size(0), generator=g)
    k = min(max(1, int(round(fraction * forget.size(0)))),
            forget.size(0) - 1)
    attack, held = forget[perm[:k]], forget[perm[k:]]
    ev = LinkPredictionEvaluator(num_nodes, num_relations, filter_triples)
    before = ev.evaluate(model, held)['mrr']
    victim = copy.deepcopy(model)
    cfg = copy.deepcopy(config) if config is not None else TrainConfig(
        lr=1e-3, batch_size=max(1, min(512, k)), num_negatives=64)
    cfg.epochs, cfg.seed, cfg.eval_every = int(epochs), int(seed), 0
    data = Data(edge_index=attack[:, [0, 2]].t().contiguous(),
                edge_type=attack[:, 1].contiguous(), num_nodes=num_nodes,
                num_relations=num_relations)
    KGETrainer(victim, cfg, progress=False).fit(data)
    after = ev.evaluate(victim.eval(), held)['mrr']
    return dict(before=before, after=after, num_attack=int(k),
                num_eval=int(held.size(0)))


def retain_relearn(model: torch.nn.Module, forget, retained,
                   num_nodes: int, num_relations: int,
                   filter_triples: Sequence, epochs: int = 2,
                   config: Optional[TrainConfig] = None,
                   max_triples: Optional[int] = None,
                   seed: int = 0) -> Dict[str, float]:
    r"""Retain-set relearning: fine-tune a copy of :obj:`model` for a few
    epochs on retained triples only and measure the filtered MRR of the
    forget set before and after.

    Nothing of the forget set is shown to the model, yet what the retained
    triples imply can bring it back: a model that kept the forgotten
    triples in a hidden form recovers them faster than one that never
    learned them. Compare with the same measurement on the retrained model.

    Args:
        model (torch.nn.Module): The model (not modified).
        forget: Forgotten triples ``[F, 3]`` (or a KG split).
        retained: The retained triples ``[K, 3]`` (or a KG split).
        num_nodes (int): Number of entities.
        num_relations (int): Number of relations.
        filter_triples (list): Filter of the evaluation.
        epochs (int, optional): Fine-tuning epochs. (default: :obj:`2`)
        config (TrainConfig, optional): Fine-tuning hyper-parameters
            (:obj:`epochs`, :obj:`seed`, :obj:`eval_every` and
            :obj:`max_minutes` are overridden). (default: self-adversarial
            loss, lr :obj:`1e-3`)
        max_triples (int, optional): Fine-tune on a seeded random sample of
            at most this many retained triples (:obj:`None`: all).
        seed (int, optional): Seed of the sample and the fine-tuning.

    Returns:
        ``{"before": mrr, "after": mrr, "num_train": k}``.
    """
    forget, retained = _as_triples(forget), _as_triples(retained)
    if forget.size(0) == 0 or retained.size(0) == 0:
        raise ValueError('retain_relearn needs forget and retained triples')
    if int(epochs) < 1:
        raise ValueError("'epochs' must be >= 1")
    if max_triples is not None and retained.size(0) > int(max_triples):
        g = torch.Generator().manual_seed(seed)
        retained = retained[torch.randperm(retained.size(0), generator=g)
                            [:int(max_triples)]]
    ev = LinkPredictionEvaluator(num_nodes, num_relations, filter_triples)
    before = ev.evaluate(model, forget)['mrr']
    victim = copy.deepcopy(model)
    cfg = copy.deepcopy(config) if config is not None else TrainConfig(
        lr=1e-3, batch_size=512, num_negatives=64)
    cfg.epochs, cfg.seed, cfg.eval_every = int(epochs), int(seed), 0
    cfg.max_minutes = 0.0
    data = Data(edge_index=retained[:, [0, 2]].t().contiguous(),
                edge_type=retained[:, 1].contiguous(), num_nodes=num_nodes,
                num_relations=num_relations)
    victim.train()
    KGETrainer(victim, cfg, progress=False).fit(data)
    after = ev.evaluate(victim.eval(), forget)['mrr']
    return dict(before=before, after=after,
                num_train=int(retained.size(0)))


@torch.no_grad()
def row_distance(model: torch.nn.Module, reference: torch.nn.Module,
                 entities: Optional[Tensor] = None) -> float:
    r"""Mean Euclidean distance between the entity rows (``[re, im]`` for
    complex models) of :obj:`model` and :obj:`reference` (e.g. the retrained
    model), over :obj:`entities` (default: all)."""
    a, b = get_scorer(model), get_scorer(reference)
    if int(model.num_nodes) != int(reference.num_nodes):
        raise ValueError('the two models have different entity counts')
    idx = torch.arange(int(model.num_nodes)) if entities is None else \
        torch.as_tensor(entities).long().view(-1)
    if idx.numel() == 0:
        raise ValueError('no entities given')
    ra = a.param_rows(idx.to(a.device)).cpu()
    rb = b.param_rows(idx.to(b.device)).cpu()
    return float((ra - rb).norm(dim=-1).mean())


def ranking_gap(metrics: Dict[str, float],
                reference: Dict[str, float]) -> Dict[str, float]:
    r"""``metrics - reference`` for every ranking metric both hold (MRR,
    MR, Hits@k), e.g. the gap of an unlearned model to the retrained one."""
    keys = [k for k in metrics if k in reference and k != 'count'
            and isinstance(metrics[k], (int, float))]
    return {k: float(metrics[k]) - float(reference[k]) for k in keys}


@torch.no_grad()
def _attack_features(model: torch.nn.Module, triples: Tensor,
                     num_candidates: int, seed: int) -> Tensor:
    r"""Per-triple features of the membership attacker: the score, and how
    far it sits above the scores of random tail corruptions (mean and max
    margin), ``[K, 3]``."""
    triples = _as_triples(triples)
    g = torch.Generator().manual_seed(seed)
    n = int(model.num_nodes)
    score = triple_scores(model, triples)
    cand = torch.randint(n, (triples.size(0), num_candidates), generator=g)
    rep = triples[:, None, :].expand(-1, num_candidates, -1).clone()
    rep[..., 2] = cand
    corrupt = triple_scores(model, rep.reshape(-1, 3)).view(
        -1, num_candidates)
    return torch.stack([score, score - corrupt.mean(1),
                        score - corrupt.max(1).values], dim=1)


def shadow_attack_auc(model: torch.nn.Module, members, non_members,
                      shadow_model: torch.nn.Module, shadow_members,
                      shadow_non_members, num_candidates: int = 32,
                      steps: int = 300, seed: int = 0) -> float:
    r"""Membership inference with a trained attacker (the shadow-model
    attack of `"Membership Inference Attacks against Machine Learning
    Models" <https://arxiv.org/abs/1610.05820>`_): a logistic regression on
    per-triple features (score; its margin over the mean and the maximum of
    random tail corruptions) is fitted to tell :obj:`shadow_members` (the
    shadow model's training triples) from :obj:`shadow_non_members` on
    :obj:`shadow_model`, then applied to :obj:`model`; returns its ROC AUC
    on :obj:`members` vs :obj:`non_members` (e.g. the forget set vs unseen
    test triples).

    Args:
        model (torch.nn.Module): The attacked model.
        members, non_members: Triples ``[K, 3]`` (or KG splits).
        shadow_model (torch.nn.Module): A model of the same kind trained by
            the attacker on :obj:`shadow_members`.
        shadow_members, shadow_non_members: Triples ``[K, 3]``.
        num_candidates (int, optional): Random corruptions per triple.
            (default: :obj:`32`)
        steps (int, optional): Optimiser steps of the attacker.
            (default: :obj:`300`)
        seed (int, optional): Seed. (default: :obj:`0`)
    """
    xs_in = _attack_features(shadow_model, shadow_members, num_candidates,
                             seed)
    xs_out = _attack_features(shadow_model, shadow_non_members,
                              num_candidates, seed + 1)
    if xs_in.numel() == 0 or xs_out.numel() == 0:
        raise ValueError('the shadow sets must not be empty')
    x = torch.cat([xs_in, xs_out]).float()
    y = torch.cat([torch.ones(xs_in.size(0)), torch.zeros(xs_out.size(0))])
    mean, std = x.mean(0), x.std(0).clamp(min=1e-6)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        clf = torch.nn.Linear(x.size(1), 1)
    opt = torch.optim.Adam(clf.parameters(), lr=0.05)
    # Balance the classes.
    w = torch.where(y > 0, 0.5 / y.mean(), 0.5 / (1 - y.mean()))
    for _ in range(steps):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(
            clf((x - mean) / std).view(-1), y, weight=w)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        p_in = clf((_attack_features(model, members, num_candidates,
                                     seed + 2) - mean) / std).view(-1)
        p_out = clf((_attack_features(model, non_members, num_candidates,
                                      seed + 3) - mean) / std).view(-1)
    return _auc(p_in.double(), p_out.double())


def _auc(pos: Tensor, neg: Tensor) -> float:
    if pos.numel() == 0 or neg.numel() == 0:
        raise ValueError('AUC needs both classes')
    scores = torch.cat([pos, neg])
    uniq, inverse, counts = torch.unique(scores, return_inverse=True,
                                         return_counts=True)
    # Average 1-based ranks, ties sharing their mean rank.
    ends = torch.cumsum(counts, 0).double()
    ranks = (ends - (counts.double() - 1) / 2)[inverse]
    m, u = pos.numel(), neg.numel()
    return float((ranks[:m].sum() - m * (m + 1) / 2) / (m * u))
