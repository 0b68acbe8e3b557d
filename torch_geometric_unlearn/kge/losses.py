r"""The training losses of KGE models, shared by :class:`KGETrainer` and
:class:`~torch_geometric_unlearn.MetaEU`'s meta-training.

Every loss takes positive logits ``[B]`` and negative logits ``[B, K]``
(scores already scaled and offset by the caller) and an optional weight
``[B, K]`` of the negatives (0 drops a negative, e.g. a sampled negative
that is a known triple). A negative logit of :obj:`-inf` is a masked
candidate and contributes nothing.

* :func:`margin_loss` -- margin ranking (PyG's TransE loss),
* :func:`bce_loss` -- logistic loss of positives and negatives,
* :func:`softmax_loss` -- cross-entropy of the positive against its
  negatives (a sampled 1-vs-all),
* :func:`self_adversarial_loss` -- the self-adversarial negative sampling
  loss of the `"RotatE: Knowledge Graph Embedding by Relational Rotation in
  Complex Space" <https://arxiv.org/abs/1902.10197>`_ paper.
"""
from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ['margin_loss', 'bce_loss', 'softmax_loss',
           'self_adversarial_loss', 'SAMPLED_LOSSES', 'sampled_loss']


def margin_loss(pos: Tensor, neg: Tensor, margin: float = 1.0,
                weight: Optional[Tensor] = None) -> Tensor:
    r"""Margin ranking loss
    :math:`\frac{1}{\sum w} \sum_{i,k} w_{ik}
    \max(0, \gamma - s_i + s_{ik}^-)`."""
    per = F.relu(margin - pos[:, None] + neg)
    if weight is None:
        return per.mean()
    return (per * weight).sum() / weight.sum().clamp(min=1)


def bce_loss(pos: Tensor, neg: Tensor,
             weight: Optional[Tensor] = None) -> Tensor:
    r"""Logistic loss :math:`\frac{1}{2}(\overline{\log(1 + e^{-s})} +
    \overline{\log(1 + e^{s^-})})`, negatives averaged per positive."""
    pos_l = F.softplus(-pos)
    if weight is None:
        return 0.5 * (pos_l.mean() + F.softplus(neg).mean(1).mean())
    neg_l = F.softplus(neg) * weight
    return 0.5 * (pos_l.mean() +
                  (neg_l.sum(1) / weight.sum(1).clamp(min=1)).mean())


def softmax_loss(pos: Tensor, neg: Tensor, weight: Optional[Tensor] = None,
                 label_smoothing: float = 0.0) -> Tensor:
    r"""Cross-entropy of the positive against its negatives,
    :math:`-\log \frac{e^{s}}{e^{s} + \sum_k w_k e^{s_k^-}}`."""
    if weight is not None:
        neg = neg + torch.log(weight)
    logits = torch.cat([pos[:, None], neg], dim=1)
    target = torch.zeros(pos.numel(), dtype=torch.long, device=pos.device)
    return F.cross_entropy(logits, target, label_smoothing=label_smoothing)


def self_adversarial_loss(pos: Tensor, neg: Tensor, temperature: float = 1.0,
                          weight: Optional[Tensor] = None) -> Tensor:
    r"""Self-adversarial negative sampling loss,
    :math:`\frac{1}{2}\big(-\overline{\log\sigma(s)} -
    \overline{\textstyle\sum_k p_k \log\sigma(-s_k^-)}\big)` with
    :math:`p = \mathrm{softmax}(\alpha s^-)` (no gradient through
    :math:`p`), renormalised over the weighted negatives."""
    with torch.no_grad():
        att = torch.softmax(temperature * neg, dim=1)
        if weight is not None:
            att = att * weight
            att = att / att.sum(1, keepdim=True).clamp(min=1e-12)
    # A masked (-inf) candidate has zero weight; keep its term (and its
    # gradient) an exact zero.
    neg_term = torch.where(torch.isinf(neg), neg.new_zeros(()),
                           att * F.logsigmoid(-neg))
    return 0.5 * (-F.logsigmoid(pos).mean() - neg_term.sum(1).mean())


#: The sampled-negative losses by name.
SAMPLED_LOSSES = ('margin', 'bce', 'softmax', 'self_adversarial')


def sampled_loss(name: str, pos: Tensor, neg: Tensor, *,
                 margin: float = 0.0, weight: Optional[Tensor] = None,
                 temperature: float = 1.0,
                 label_smoothing: float = 0.0) -> Tensor:
    r"""The loss :obj:`name` (one of :data:`SAMPLED_LOSSES`) of positive
    scores ``[B]`` and negative scores ``[B, K]``.

    For :obj:`"margin"`, :obj:`margin` is the ranking margin; for the other
    losses it is an offset added to every score (the logit of a score
    :math:`s` is :math:`s + \gamma`).
    """
    if name == 'margin':
        return margin_loss(pos, neg, margin, weight)
    if name not in SAMPLED_LOSSES:
        raise ValueError(f"unknown loss '{name}' (expected one of "
                         f"{', '.join(SAMPLED_LOSSES)})")
    pos, neg = pos + margin, neg + margin
    if name == 'bce':
        return bce_loss(pos, neg, weight)
    if name == 'softmax':
        return softmax_loss(pos, neg, weight, label_smoothing)
    return self_adversarial_loss(pos, neg, temperature, weight)
