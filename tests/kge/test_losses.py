import math

import pytest
import torch

from torch_geometric_unlearn.kge.losses import (bce_loss, margin_loss,
                                                sampled_loss,
                                                self_adversarial_loss,
                                                softmax_loss)


@pytest.fixture
def scores():
    g = torch.Generator().manual_seed(0)
    return torch.randn(4, generator=g), torch.randn(4, 6, generator=g)


def _sig(x):
    return 1 / (1 + math.exp(-x))


def test_losses_against_the_explicit_formulas(scores):
    pos, neg = scores
    P, N = pos.tolist(), neg.tolist()
    m = sum(max(0.0, 1.0 - p + n) for p, row in zip(P, N) for n in row)
    assert margin_loss(pos, neg, 1.0).item() == pytest.approx(m / 24)
    b = 0.5 * (sum(math.log(1 + math.exp(-p)) for p in P) / 4 +
               sum(sum(math.log(1 + math.exp(n)) for n in row) / 6
                   for row in N) / 4)
    assert bce_loss(pos, neg).item() == pytest.approx(b, rel=1e-5)
    s = sum(-p + math.log(math.exp(p) + sum(math.exp(n) for n in row))
            for p, row in zip(P, N)) / 4
    assert softmax_loss(pos, neg).item() == pytest.approx(s, rel=1e-5)
    sa = 0.0
    for p, row in zip(P, N):
        z = sum(math.exp(n) for n in row)
        sa += -math.log(_sig(p)) - sum(math.exp(n) / z * math.log(_sig(-n))
                                       for n in row)
    assert self_adversarial_loss(pos, neg).item() == pytest.approx(
        0.5 * sa / 4, rel=1e-5)


def test_weights_and_masks_drop_negatives(scores):
    pos, neg = scores
    weight = torch.ones_like(neg)
    weight[:, 3:] = 0
    for name in ('margin', 'bce', 'softmax', 'self_adversarial'):
        dropped = sampled_loss(name, pos, neg, weight=weight, margin=0.5)
        kept = sampled_loss(name, pos, neg[:, :3], margin=0.5)
        assert dropped.item() == pytest.approx(kept.item(), rel=1e-5), name
    masked = neg.clone()
    masked[:, 3:] = float('-inf')
    for name in ('softmax', 'self_adversarial'):
        loss = sampled_loss(name, pos, masked)
        assert torch.isfinite(loss)
        assert loss.item() == pytest.approx(
            sampled_loss(name, pos, neg[:, :3]).item(), rel=1e-5)
    with pytest.raises(ValueError, match='unknown loss'):
        sampled_loss('hinge', pos, neg)
