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
    scores = torch.cat([pos, neg])
    # Average ranks (1-based) with ties sharing their mean rank.
    uniq, inverse, counts = torch.unique(scores, return_inverse=True,
                                         return_counts=True)
    ends = torch.cumsum(counts, 0).double()
    mean_rank = ends - (counts.double() - 1) / 2
    ranks = mean_rank[inverse]
    m, u = pos.numel(), neg.numel()
    rank_sum = ranks[:m].sum()
    return float((rank_sum - m * (m + 1) / 2) / (m * u))


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
