r"""One-number summaries of an unlearning request, as the knowledge-graph
unlearning literature reports them (SGKU; GraphDPO, `"Unlearning of
Knowledge Graph Embedding via Preference Optimization"
<https://arxiv.org/abs/2507.20566>`_): the retained set's MRR should stay
high and the forget set's fall, so both combine :math:`\mathrm{MRR}_r` with
:math:`1 - \mathrm{MRR}_f`."""
from typing import Dict

__all__ = ['mrr_avg', 'mrr_f1', 'unlearning_scores']


def _check(retain_mrr: float, forget_mrr: float) -> None:
    for name, v in (('retain_mrr', retain_mrr), ('forget_mrr', forget_mrr)):
        if not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"'{name}' must lie in [0, 1] (got {v})")


def mrr_avg(retain_mrr: float, forget_mrr: float) -> float:
    r"""The arithmetic mean of the retained-set MRR and one minus the
    forget-set MRR,

    .. math::
        \mathrm{MRR}_{\mathrm{Avg}} = \tfrac{1}{2}\left(\mathrm{MRR}_r
        + (1 - \mathrm{MRR}_f)\right).
    """
    _check(retain_mrr, forget_mrr)
    return 0.5 * (float(retain_mrr) + 1.0 - float(forget_mrr))


def mrr_f1(retain_mrr: float, forget_mrr: float) -> float:
    r"""The harmonic mean of the retained-set MRR and one minus the
    forget-set MRR,

    .. math::
        \mathrm{MRR}_{\mathrm{F1}} = \frac{2\, \mathrm{MRR}_r\,
        (1 - \mathrm{MRR}_f)}{\mathrm{MRR}_r + 1 - \mathrm{MRR}_f}

    (:obj:`0` when both terms are :obj:`0`)."""
    _check(retain_mrr, forget_mrr)
    a, b = float(retain_mrr), 1.0 - float(forget_mrr)
    return 0.0 if a + b == 0 else 2 * a * b / (a + b)


def unlearning_scores(retain_mrr: float,
                      forget_mrr: float) -> Dict[str, float]:
    r"""``{"mrr_avg": ..., "mrr_f1": ...}`` (see :func:`mrr_avg`,
    :func:`mrr_f1`)."""
    return dict(mrr_avg=mrr_avg(retain_mrr, forget_mrr),
                mrr_f1=mrr_f1(retain_mrr, forget_mrr))
