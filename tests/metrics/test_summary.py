import pytest

from torch_geometric_unlearn.metrics import mrr_avg, mrr_f1, unlearning_scores


def test_by_hand():
    # retained MRR 0.6, forget MRR 0.2: the terms are 0.6 and 0.8.
    assert mrr_avg(0.6, 0.2) == pytest.approx(0.7)
    assert mrr_f1(0.6, 0.2) == pytest.approx(2 * 0.48 / 1.4)
    assert unlearning_scores(0.6, 0.2) == dict(
        mrr_avg=pytest.approx(0.7), mrr_f1=pytest.approx(0.96 / 1.4))
    # The harmonic mean punishes one bad term harder than the mean does.
    assert mrr_f1(0.9, 0.9) == pytest.approx(2 * 0.9 * 0.1 / 1.0)
    assert mrr_avg(0.9, 0.9) == pytest.approx(0.5)
    assert mrr_f1(0.0, 1.0) == 0.0 and mrr_avg(1.0, 0.0) == 1.0


@pytest.mark.parametrize('args', [(1.5, 0.1), (0.5, -0.1)])
def test_range(args):
    with pytest.raises(ValueError):
        mrr_avg(*args)
    with pytest.raises(ValueError):
        mrr_f1(*args)
