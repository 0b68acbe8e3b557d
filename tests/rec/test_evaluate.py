import math

import pytest
import torch

from torch_geometric_unlearn.rec.evaluate import (
    embedding_score_fn,
    ranking_metrics,
)


def brute_force(scores, target, exclude, ks):
    r"""Obviously-correct per-user reference implementation."""
    num_items = scores.size(1)
    targets, excluded = {}, {}
    for u, i in target.t().tolist():
        targets.setdefault(u, set()).add(i)
    for u, i in exclude.t().tolist():
        excluded.setdefault(u, set()).add(i)
    sums = {}
    users = sorted(targets)
    for u in users:
        ranked = sorted(
            (i for i in range(num_items) if i not in excluded.get(u, ())),
            key=lambda i: -float(scores[u, i]))
        for k in ks:
            top = ranked[:k]
            hit_pos = [p for p, i in enumerate(top) if i in targets[u]]
            n = len(targets[u])
            dcg = sum(1 / math.log2(p + 2) for p in hit_pos)
            idcg = sum(1 / math.log2(p + 2) for p in range(min(n, k)))
            for key, value in (('recall', len(hit_pos) / n),
                               ('ndcg', dcg / idcg),
                               ('hr', float(len(hit_pos) > 0)),
                               ('precision', len(hit_pos) / k)):
                sums[f'{key}@{k}'] = sums.get(f'{key}@{k}', 0.0) + value
    out = {key: value / len(users) for key, value in sums.items()}
    out['users'] = len(users)
    return out


def random_edges(num_users, num_items, num_edges, gen):
    user = torch.randint(num_users, (num_edges, ), generator=gen)
    item = torch.randint(num_items, (num_edges, ), generator=gen)
    return torch.stack([user, item])


def disjoint_split(num_users, num_items, gen):
    r"""Random disjoint target / exclude interactions."""
    perm = torch.randperm(num_users * num_items, generator=gen)
    key = perm[:num_users * num_items // 3]
    edges = torch.stack([key // num_items, key % num_items])
    half = edges.size(1) // 2
    return edges[:, :half], edges[:, half:]


@pytest.mark.parametrize('seed', [0, 1, 2])
@pytest.mark.parametrize('use_exclude', [False, True])
def test_matches_brute_force(seed, use_exclude):
    gen = torch.Generator().manual_seed(seed)
    num_users, num_items = 13, 17
    scores = torch.randn(num_users, num_items, generator=gen)
    target, exclude = disjoint_split(num_users, num_items, gen)
    if not use_exclude:
        exclude = torch.zeros(2, 0, dtype=torch.long)
    ks = (1, 3, 5, 20)
    expected = brute_force(scores, target, exclude, ks)
    results = [
        ranking_metrics(lambda u: scores[u], num_items, target,
                        exclude if use_exclude else None, ks=ks,
                        batch_size=batch_size)
        for batch_size in (1, 4, 1024)
    ]
    assert set(results[0]) == set(expected)
    assert results[0]['users'] == expected['users']
    for key, value in expected.items():
        assert results[0][key] == pytest.approx(value, rel=1e-12, abs=1e-12)
    for other in results[1:]:
        assert other == results[0]  # Bitwise identical over batch sizes.


def test_overlapping_target_and_exclude():
    # Excluded targets can never be hit but count in |T_u|:
    gen = torch.Generator().manual_seed(3)
    num_users, num_items = 9, 12
    scores = torch.randn(num_users, num_items, generator=gen)
    target = random_edges(num_users, num_items, 40, gen)
    exclude = torch.cat([target[:, :10], random_edges(9, 12, 20, gen)], 1)
    ks = (2, 5)
    out = ranking_metrics(lambda u: scores[u], num_items, target, exclude,
                          ks=ks, batch_size=4)
    expected = brute_force(scores, target, exclude, ks)
    for key, value in expected.items():
        assert out[key] == pytest.approx(value, rel=1e-12, abs=1e-12)


def test_hand_computed():
    # One user, ranking 4 > 3 > 2 > 1 > 0; targets {3, 0}; item 4 excluded.
    scores = torch.tensor([[0., 1., 2., 3., 4.]])
    target = torch.tensor([[0, 0], [3, 0]])
    exclude = torch.tensor([[0], [4]])
    out = ranking_metrics(lambda u: scores[u].clone(), 5, target, exclude,
                          ks=(1, 2, 4))
    # Ranked list: 3, 2, 1, 0.
    assert out['users'] == 1
    assert out['recall@1'] == 0.5
    assert out['ndcg@1'] == 1.0
    assert out['hr@1'] == 1.0
    assert out['precision@1'] == 1.0
    assert out['recall@2'] == 0.5
    assert out['ndcg@2'] == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert out['precision@2'] == 0.5
    assert out['recall@4'] == 1.0
    assert out['ndcg@4'] == pytest.approx(
        (1 + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    assert out['precision@4'] == 0.5
    assert out['hr@4'] == 1.0

    # Without exclusion item 4 takes the first place:
    out = ranking_metrics(lambda u: scores[u], 5, target, ks=(1, 2))
    assert out['hr@1'] == 0.0 and out['ndcg@1'] == 0.0
    assert out['recall@2'] == 0.5
    assert out['ndcg@2'] == pytest.approx(
        (1 / math.log2(3)) / (1 + 1 / math.log2(3)))


def test_users_without_targets_are_skipped():
    scores = torch.tensor([[0., 1., 2.], [2., 1., 0.], [5., 5., 5.]])
    target = torch.tensor([[1, 1], [0, 0]])  # Duplicates count once.
    seen = []

    def score_fn(users):
        seen.append(users.tolist())
        return scores[users]

    out = ranking_metrics(score_fn, 3, target, ks=(1, ))
    assert seen == [[1]]
    assert out['users'] == 1 and out['recall@1'] == 1.0

    out = ranking_metrics(score_fn, 3, torch.zeros(2, 0, dtype=torch.long))
    assert out['users'] == 0 and out['recall@20'] == 0.0


def test_k_larger_than_num_items():
    scores = torch.tensor([[3., 2., 1.]])
    target = torch.tensor([[0, 0], [1, 2]])
    out = ranking_metrics(lambda u: scores[u], 3, target, ks=(5, ))
    assert out['recall@5'] == 1.0
    assert out['precision@5'] == pytest.approx(2 / 5)
    assert out['ndcg@5'] == pytest.approx(
        (1 / math.log2(3) + 1 / math.log2(4)) / (1 + 1 / math.log2(3)))


def test_does_not_modify_caller_views():
    scores = torch.randn(4, 6, generator=torch.Generator().manual_seed(0))
    before = scores.clone()
    target = torch.tensor([[0, 1, 2, 3], [0, 1, 2, 3]])
    exclude = torch.tensor([[0, 1, 2, 3], [5, 4, 3, 2]])
    ranking_metrics(lambda u: scores[int(u[0]):int(u[-1]) + 1], 6, target,
                    exclude, ks=(2, ), batch_size=2)
    assert torch.equal(scores, before)


def test_embedding_score_fn():
    gen = torch.Generator().manual_seed(0)
    user_emb = torch.randn(5, 3, generator=gen)
    item_emb = torch.randn(7, 3, generator=gen)
    score_fn = embedding_score_fn(user_emb, item_emb)
    users = torch.tensor([4, 0])
    assert torch.allclose(score_fn(users), user_emb[users] @ item_emb.t())

    target = random_edges(5, 7, 10, gen)
    out = ranking_metrics(score_fn, 7, target, ks=(3, ))
    expected = brute_force(user_emb @ item_emb.t(), target,
                           torch.zeros(2, 0, dtype=torch.long), (3, ))
    assert out['recall@3'] == pytest.approx(expected['recall@3'])

    with pytest.raises(ValueError, match='dimension'):
        embedding_score_fn(user_emb, torch.randn(7, 4))
    with pytest.raises(ValueError, match='2-dimensional'):
        embedding_score_fn(user_emb[0], item_emb)
    with pytest.raises(ValueError, match='user ids'):
        score_fn(torch.tensor([5]))


def test_errors():
    scores = torch.randn(3, 4)
    fn = lambda u: scores[u]  # noqa: E731
    target = torch.tensor([[0, 1], [1, 2]])
    with pytest.raises(ValueError, match='at least one'):
        ranking_metrics(fn, 4, target, ks=())
    with pytest.raises(ValueError, match='positive integer'):
        ranking_metrics(fn, 4, target, ks=(0, ))
    with pytest.raises(ValueError, match='positive integer'):
        ranking_metrics(fn, 4, target, ks=(2.5, ))
    with pytest.raises(ValueError, match='batch_size'):
        ranking_metrics(fn, 4, target, batch_size=0)
    with pytest.raises(ValueError, match='num_items'):
        ranking_metrics(fn, 0, target)
    with pytest.raises(ValueError, match=r'item ids must lie in \[0, 4\)'):
        ranking_metrics(fn, 4, torch.tensor([[0], [4]]))
    with pytest.raises(ValueError, match='negative user'):
        ranking_metrics(fn, 4, torch.tensor([[-1], [0]]))
    with pytest.raises(ValueError, match='exclude_edge_index'):
        ranking_metrics(fn, 4, target, [target, torch.tensor([[0], [9]])])
    with pytest.raises(ValueError, match=r'shape \[2, E\]'):
        ranking_metrics(fn, 4, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='integer ids'):
        ranking_metrics(fn, 4, target.float())
    with pytest.raises(ValueError, match=r'shape \[2, 4\]'):
        ranking_metrics(lambda u: scores[u, :3], 4, target)
