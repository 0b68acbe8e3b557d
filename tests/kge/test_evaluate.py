import math

import pytest
import torch
from torch_geometric.nn.kge import KGEModel

from torch_geometric_unlearn.datasets import make_kg
from torch_geometric_unlearn.kge import (LinkPredictionEvaluator,
                                         TripleFilter, as_triples, evaluate,
                                         load_kge_model,
                                         rank_against_negatives, rank_metrics)

N, R = 23, 3  # tiny graph for the brute-force references


class TableModel(KGEModel):
    r"""Scores read from a fixed ``[N, R, N]`` table; scored through the
    generic forward() fallback."""
    def __init__(self, table):
        super().__init__(table.size(0), table.size(1), 1)
        self.register_buffer('table', table)

    def forward(self, head_index, rel_type, tail_index):
        return self.table[head_index, rel_type, tail_index]


def random_graph(seed=0, num_triples=140):
    r"""Unique random triples split into train / test, where the test split
    also has several triples sharing a query (h, r, ?) or (?, r, t)."""
    gen = torch.Generator().manual_seed(seed)
    keys = torch.randperm(N * R * N, generator=gen)[:num_triples]
    triples = torch.stack([keys // (R * N), (keys // N) % R, keys % N], 1)
    extra = []
    for h, r, t in triples[:6].tolist():  # siblings of some triples
        for e in torch.randperm(N, generator=gen)[:4].tolist():
            extra.append((h, r, e))
            extra.append((e, r, t))
    triples = torch.cat([triples, torch.tensor(extra)])
    triples = torch.unique(triples, dim=0)
    triples = triples[torch.randperm(triples.size(0), generator=gen)]
    test, train = triples[:60], triples[60:]
    return train, test


def score_table(model):
    r"""``[N, R, N]`` scores of every possible triple through forward()."""
    h, r, t = torch.meshgrid(torch.arange(N), torch.arange(R),
                             torch.arange(N), indexing='ij')
    with torch.no_grad():
        return model(h.reshape(-1), r.reshape(-1),
                     t.reshape(-1)).view(N, R, N)


def reference_ranks(model, triples, known):
    r"""Obviously-correct filtered ranks with Python loops: returns
    ``{side: (optimistic, pessimistic)}`` lists."""
    scores = score_table(model).tolist()
    known = set(map(tuple, known.tolist()))
    out = {'head': ([], []), 'tail': ([], [])}
    for h, r, t in triples.tolist():
        target = scores[h][r][t]
        for side in ('head', 'tail'):
            opt = pess = 1
            for e in range(N):
                cand = (e, r, t) if side == 'head' else (h, r, e)
                if cand == (h, r, t) or cand in known:
                    continue
                s = scores[cand[0]][cand[1]][cand[2]]
                opt += s > target
                pess += s >= target
            out[side][0].append(opt)
            out[side][1].append(pess)
    return out


def exact_model(name, seed=0):
    r"""Models whose scores are computed exactly in floating point (small
    integers / dyadic fractions), with many duplicated embeddings, so that
    ties are real and identical however the scores are computed."""
    gen = torch.Generator().manual_seed(seed)

    def ints(*shape, low=-1, high=2):
        return torch.randint(low, high, shape, generator=gen).float()

    if name == 'transe_l1':
        model = load_kge_model('transe', N, R, 4, p_norm=1.0)
        # Two entries of +-1 per row: unit L1 norm after normalisation.
        ent = torch.zeros(N, 4)
        for i in range(N):
            idx = torch.randperm(4, generator=gen)[:2]
            ent[i, idx] = ints(2, low=0, high=2) * 2 - 1
        model.node_emb.weight.data.copy_(ent)
        model.rel_emb.weight.data.copy_(ints(R, 4, low=-2, high=3) / 2)
    elif name == 'transe_l2':
        model = load_kge_model('transe', N, R, 4, p_norm=2.0)
        model.node_emb.weight.data.copy_(ints(N, 4, low=0, high=2) * 2 - 1)
        model.rel_emb.weight.data.copy_(ints(R, 4, low=-2, high=3) / 2)
    elif name in ('distmult', 'complex'):
        model = load_kge_model(name, N, R, 3)
        for p in model.parameters():
            p.data.copy_(ints(*p.shape))
    elif name == 'rotate':
        model = load_kge_model('rotate', N, R, 3, margin=2.0)
        model.node_emb.weight.data.copy_(ints(N, 3))
        model.node_emb_im.weight.data.copy_(ints(N, 3))
        model.rel_emb.weight.data.zero_()  # exact rotations by 0
    elif name == 'zero':
        model = load_kge_model('distmult', N, R, 3)
        model.node_emb.weight.data.zero_()
    elif name == 'table':  # integer scores with ties and -inf entries
        table = torch.randint(0, 4, (N, R, N), generator=gen).float()
        table[torch.rand(N, R, N, generator=gen) < 0.15] = float('-inf')
        model = TableModel(table)
    else:
        raise ValueError(name)
    return model


def random_model(name):
    torch.manual_seed(7)
    return load_kge_model(name, N, R, 8)


MODEL_CASES = [('exact', n) for n in ('transe_l1', 'transe_l2', 'distmult',
                                      'complex', 'rotate', 'zero', 'table')]
MODEL_CASES += [('random', n)
                for n in ('transe', 'distmult', 'complex', 'rotate')]


def get_model(kind, name):
    return exact_model(name) if kind == 'exact' else random_model(name)


@pytest.mark.parametrize('name', [n for k, n in MODEL_CASES
                                  if k == 'exact' and n != 'rotate'])
def test_exact_models_produce_ties(name):
    # The exact models must actually produce ties with the targets, so the
    # brute-force comparison covers the tie rule.
    train, test = random_graph()
    ref = reference_ranks(exact_model(name), test,
                          torch.cat([train, test[::2]]))
    assert any(o != p for side in ref.values() for o, p in zip(*side))


@pytest.mark.parametrize('kind,name', MODEL_CASES)
def test_matches_brute_force(kind, name):
    model = get_model(kind, name)
    train, test = random_graph()
    # Filter with train and half of the test triples, so both filtered and
    # unfiltered targets occur.
    known = torch.cat([train, test[::2]])
    ref = reference_ranks(model, test, known)

    evaluator = LinkPredictionEvaluator(N, R, known, batch_size=7)
    for rank_type in ('optimistic', 'pessimistic', 'realistic'):
        out = evaluator.evaluate(model, test, rank_type=rank_type,
                                 return_ranks=True)
        for side in ('head', 'tail'):
            opt, pess = (torch.tensor(x, dtype=torch.float64)
                         for x in ref[side])
            expected = {'optimistic': opt, 'pessimistic': pess,
                        'realistic': (opt + pess) / 2}[rank_type]
            assert torch.equal(out[f'{side}_ranks'], expected), \
                (rank_type, side)

    # The metrics are those of the realistic ranks over both directions.
    opt = torch.tensor(ref['head'][0] + ref['tail'][0], dtype=torch.float64)
    pess = torch.tensor(ref['head'][1] + ref['tail'][1], dtype=torch.float64)
    realistic = (opt + pess) / 2
    out = evaluate(model, test, filter_triples=known, batch_size=1000)
    assert set(out) == {'mrr', 'mr', 'hits@1', 'hits@3', 'hits@10', 'count'}
    assert out['count'] == 2 * test.size(0)
    assert out['mrr'] == pytest.approx(float((1 / realistic).mean()))
    assert out['mr'] == pytest.approx(float(realistic.mean()))
    for k in (1, 3, 10):
        assert out[f'hits@{k}'] == pytest.approx(
            float((realistic <= k).double().mean()))


def test_raw_setting_and_sides():
    model = exact_model('distmult')
    train, test = random_graph(seed=3)
    ref = reference_ranks(model, test, torch.empty(0, 3, dtype=torch.long))
    out = evaluate(model, test, return_ranks=True)  # no filter
    for side in ('head', 'tail'):
        opt, pess = (torch.tensor(x, dtype=torch.float64) for x in ref[side])
        assert torch.equal(out[f'{side}_ranks'], (opt + pess) / 2)
        single = evaluate(model, test, sides=side, return_ranks=True)
        assert single['count'] == test.size(0)
        assert f'{"tail" if side == "head" else "head"}_ranks' not in single
        assert torch.equal(single[f'{side}_ranks'], out[f'{side}_ranks'])
        assert single['mrr'] == pytest.approx(
            float((2 / (opt + pess)).mean()))


def test_batch_size_and_order_invariance():
    model = random_model('complex')
    train, test = random_graph(seed=1)
    known = torch.cat([train, test])
    base = evaluate(model, test, known, batch_size=1, return_ranks=True)
    for batch_size in (3, 64, 10_000):
        out = evaluate(model, test, known, batch_size=batch_size,
                       return_ranks=True)
        assert torch.equal(out['head_ranks'], base['head_ranks'])
        assert torch.equal(out['tail_ranks'], base['tail_ranks'])
    # Serial (one thread) and threaded (worker threads) runs agree, and the
    # workers leave the caller's thread setting alone:
    num_threads = torch.get_num_threads()
    try:
        for threads in (1, 2, 3):
            torch.set_num_threads(threads)
            out = evaluate(model, test, known, batch_size=4,
                           return_ranks=True)
            assert torch.get_num_threads() == threads
            assert torch.equal(out['head_ranks'], base['head_ranks'])
            assert torch.equal(out['tail_ranks'], base['tail_ranks'])
    finally:
        torch.set_num_threads(num_threads)
    # The memory cap lowers the effective batch size:
    evaluator = LinkPredictionEvaluator(N, R, known, batch_size=512)
    evaluator.max_elements = 3 * N
    assert evaluator._rows_per_batch() == 3
    out = evaluator.evaluate(model, test, return_ranks=True)
    assert torch.equal(out['head_ranks'], base['head_ranks'])
    assert torch.equal(out['tail_ranks'], base['tail_ranks'])
    perm = torch.randperm(test.size(0), generator=torch.Generator()
                          .manual_seed(0))
    out = evaluate(model, test[perm], known, batch_size=8,
                   return_ranks=True)
    assert torch.equal(out['head_ranks'], base['head_ranks'][perm])
    assert torch.equal(out['tail_ranks'], base['tail_ranks'][perm])


def test_filter_never_removes_target():
    train, test = random_graph(seed=2)
    known = torch.cat([train, test])  # every target is a known triple

    # An oracle scoring exactly the known triples 1 and all others 0 ranks
    # every target first once the other known triples are filtered.
    table = torch.zeros(N, R, N)
    table[known[:, 0], known[:, 1], known[:, 2]] = 1.0
    out = evaluate(TableModel(table), test, known, rank_type='pessimistic')
    assert out['mrr'] == 1.0 and out['mr'] == 1.0 and out['hits@1'] == 1.0

    # With all scores tied, the optimistic rank is 1 and the pessimistic one
    # 1 + the number of unfiltered other candidates.
    zero = exact_model('zero')
    out = evaluate(zero, test, known, return_ranks=True,
                   rank_type='pessimistic')
    filt = TripleFilter(known, N, R)
    for i, (h, r, t) in enumerate(test.tolist()):
        num_tails = int((filt.known_tails(torch.tensor([h]),
                                          torch.tensor([r]))[1]).numel())
        num_heads = int((filt.known_heads(torch.tensor([r]),
                                          torch.tensor([t]))[1]).numel())
        assert out['tail_ranks'][i] == 1 + N - num_tails
        assert out['head_ranks'][i] == 1 + N - num_heads
    opt = evaluate(zero, test, known, rank_type='optimistic')
    assert opt['mrr'] == 1.0


def test_target_scored_minus_inf():
    table = torch.zeros(N, R, N)
    table[0, 0, :5] = float('-inf')  # (0, 0, 0..4) scored -inf
    table[0, 0, 7] = 1.0
    known = torch.tensor([[0, 0, 1], [0, 0, 2], [0, 0, 7]])
    test = torch.tensor([[0, 0, 3], [0, 0, 1]])
    out = evaluate(TableModel(table), test, known, sides='tail',
                   rank_type='optimistic', return_ranks=True)
    # 0 and 4 score -inf, 1, 2 and 7 are filtered: 23 - 6 others score 0.
    assert out['tail_ranks'].tolist() == [1 + 17, 1 + 17]
    out = evaluate(TableModel(table), test, known, sides='tail',
                   rank_type='pessimistic', return_ranks=True)
    # Ties with every unfiltered other candidate: 23 - 4 (1, 2, 7, target).
    assert out['tail_ranks'].tolist() == [1 + 19, 1 + 20]


def test_nan_score_raises():
    table = torch.zeros(N, R, N)
    table[0, 0, 1] = float('nan')
    with pytest.raises(ValueError, match='NaN'):
        evaluate(TableModel(table), torch.tensor([[0, 0, 1]]))


def test_triple_filter():
    train, test = random_graph(seed=4)
    known = torch.cat([train, train[:10]])  # duplicates are fine
    filt = TripleFilter(known, N, R)
    assert len(filt) == train.size(0)
    assert 'TripleFilter' in repr(filt)
    known_set = set(map(tuple, train.tolist()))
    head, rel, tail = test.unbind(1)
    row, col = filt.known_tails(head, rel)
    got = set(zip(row.tolist(), col.tolist()))
    expected = {(i, e) for i, (h, r, _) in enumerate(test.tolist())
                for e in range(N) if (h, r, e) in known_set}
    assert got == expected
    row, col = filt.known_heads(rel, tail)
    got = set(zip(row.tolist(), col.tolist()))
    expected = {(i, e) for i, (_, r, t) in enumerate(test.tolist())
                for e in range(N) if (e, r, t) in known_set}
    assert got == expected
    both = torch.cat([train[:5], test])
    assert filt.contains(both).tolist() == [
        tuple(x) in known_set for x in both.tolist()
    ]
    # A compiled filter can be shared between evaluators.
    model = random_model('distmult')
    shared = LinkPredictionEvaluator(N, R, filt)(model, test)
    assert shared == evaluate(model, test, known)
    with pytest.raises(ValueError, match='graph size'):
        LinkPredictionEvaluator(N + 1, R, filt)
    empty = TripleFilter(torch.empty(0, 3, dtype=torch.long), N, R)
    assert len(empty) == 0
    assert empty.known_tails(head, rel)[0].numel() == 0
    assert not empty.contains(test).any()


def test_data_inputs_and_reuse(small_kg):
    ds = small_kg
    model = load_kge_model('distmult', ds.num_entities, ds.num_relations, 16)
    evaluator = LinkPredictionEvaluator(
        ds.num_entities, ds.num_relations,
        filter_triples=[ds.train, ds.valid, ds.test], batch_size=100)
    assert 'LinkPredictionEvaluator' in repr(evaluator)
    out = evaluator(model, ds.test)
    all_triples = ds.all_triples()
    again = evaluate(model, all_triples[-ds.test.edge_index.size(1):],
                     filter_triples=all_triples, batch_size=37)
    assert out == again
    assert 0 < out['mrr'] <= 1 and 1 <= out['mr'] <= ds.num_entities
    assert out['hits@1'] <= out['hits@3'] <= out['hits@10']
    # Evaluation leaves the model's mode alone.
    model.train()
    evaluator(model, ds.test)
    assert model.training


def test_progress_bar(capsys):
    model = random_model('transe')
    train, test = random_graph()
    evaluate(model, test, train, batch_size=16, progress_bar=True)
    assert 'Link prediction' in capsys.readouterr().err


def test_rank_metrics():
    ranks = torch.tensor([1.0, 2.5, 4.0, 12.0])
    out = rank_metrics(ranks, ks=(1, 3, 10))
    assert out['mrr'] == pytest.approx((1 + 1 / 2.5 + 1 / 4 + 1 / 12) / 4)
    assert out['mr'] == pytest.approx(19.5 / 4)
    assert out['hits@1'] == 0.25 and out['hits@3'] == 0.5
    assert out['hits@10'] == 0.75 and out['count'] == 4
    empty = rank_metrics(torch.empty(0))
    assert empty['count'] == 0 and math.isnan(empty['mrr'])


def ogb_metrics(y_pred_pos, y_pred_neg):
    from ogb.linkproppred import Evaluator
    res = Evaluator(name='ogbl-wikikg2').eval({
        'y_pred_pos': y_pred_pos,
        'y_pred_neg': y_pred_neg,
    })
    return {
        'mrr': float(res['mrr_list'].mean()),
        'hits@1': float(res['hits@1_list'].mean()),
        'hits@3': float(res['hits@3_list'].mean()),
        'hits@10': float(res['hits@10_list'].mean()),
    }, res


def test_rank_against_negatives_matches_ogb():
    pytest.importorskip('ogb')
    gen = torch.Generator().manual_seed(0)
    # Few distinct values: many ties between positives and negatives.
    pos = torch.randint(0, 5, (300, ), generator=gen).float()
    neg = torch.randint(0, 5, (300, 25), generator=gen).float()
    expected, res = ogb_metrics(pos, neg)
    ranks = rank_against_negatives(pos, neg)
    assert torch.allclose(1 / ranks, res['mrr_list'].double())
    out = rank_metrics(ranks)
    for key, value in expected.items():
        assert out[key] == pytest.approx(value, abs=1e-6), key
    opt = rank_against_negatives(pos, neg, 'optimistic')
    pess = rank_against_negatives(pos, neg, 'pessimistic')
    assert torch.equal(opt, 1 + (neg > pos[:, None]).sum(1).double())
    assert torch.equal(pess, 1 + (neg >= pos[:, None]).sum(1).double())
    assert (opt < pess).any()  # the ties are real
    with pytest.raises(ValueError, match='shape'):
        rank_against_negatives(pos, neg[:10])
    with pytest.raises(ValueError, match='rank_type'):
        rank_against_negatives(pos, neg, 'average')


@pytest.mark.parametrize('kind,name', [('exact', 'distmult'),
                                       ('exact', 'transe_l1'),
                                       ('random', 'rotate')])
def test_ogb_mode_matches_ogb_evaluator(kind, name):
    pytest.importorskip('ogb')
    model = get_model(kind, name)
    train, test = random_graph(seed=5)
    gen = torch.Generator().manual_seed(1)
    head_neg = torch.randint(0, N, (test.size(0), 9), generator=gen)
    tail_neg = torch.randint(0, N, (test.size(0), 9), generator=gen)
    evaluator = LinkPredictionEvaluator(N, R, batch_size=16)
    out = evaluator.evaluate_ogb(model, test, head_neg, tail_neg,
                                 return_ranks=True)

    h, r, t = test.unbind(1)
    k = head_neg.size(1)
    with torch.no_grad():
        pos = model(h, r, t)
        neg_t = model(h[:, None].expand(-1, k).reshape(-1),
                      r[:, None].expand(-1, k).reshape(-1),
                      tail_neg.reshape(-1)).view(-1, k)
        neg_h = model(head_neg.reshape(-1),
                      r[:, None].expand(-1, k).reshape(-1),
                      t[:, None].expand(-1, k).reshape(-1)).view(-1, k)
    expected, _ = ogb_metrics(torch.cat([pos, pos]),
                              torch.cat([neg_h, neg_t]))
    for key, value in expected.items():
        assert out[key] == pytest.approx(value, abs=1e-6), key
    assert out['count'] == 2 * test.size(0)
    tail_only = evaluator.evaluate_ogb(model, test, tail_neg=tail_neg)
    expected, _ = ogb_metrics(pos, neg_t)
    assert tail_only['mrr'] == pytest.approx(expected['mrr'], abs=1e-6)
    assert tail_only['count'] == test.size(0)


def test_bad_input():
    model = random_model('transe')
    train, test = random_graph()
    evaluator = LinkPredictionEvaluator(N, R, train)
    with pytest.raises(ValueError, match=r'\[E, 3\]'):
        evaluator(model, torch.zeros(5, 4, dtype=torch.long))
    with pytest.raises(ValueError, match='transpose'):
        evaluator(model, test.t().contiguous())
    with pytest.raises(ValueError, match=r'\[E, 3\]'):
        evaluator(model, test[:, 0])
    with pytest.raises(ValueError, match='integer'):
        evaluator(model, test.float())
    bad = test.clone()
    bad[0, 2] = N
    with pytest.raises(ValueError, match='entity ids'):
        evaluator(model, bad)
    bad = test.clone()
    bad[0, 0] = -1
    with pytest.raises(ValueError, match='entity ids'):
        evaluator(model, bad)
    bad = test.clone()
    bad[0, 1] = R
    with pytest.raises(ValueError, match='relation ids'):
        evaluator(model, bad)
    with pytest.raises(ValueError, match='filter_triples'):
        LinkPredictionEvaluator(N, R, torch.tensor([[0, R, 1]]))
    with pytest.raises(ValueError, match='must be a'):
        LinkPredictionEvaluator(N, R, 'train.tsv')
    with pytest.raises(ValueError, match='batch_size'):
        LinkPredictionEvaluator(N, R, batch_size=0)
    with pytest.raises(ValueError, match='entities'):
        evaluator(load_kge_model('transe', N + 1, R, 4), test)
    with pytest.raises(ValueError, match='sides'):
        evaluator(model, test, sides='left')
    with pytest.raises(ValueError, match='rank_type'):
        evaluator(model, test, rank_type='mean')
    with pytest.raises(ValueError, match='head_neg'):
        evaluator.evaluate_ogb(model, test)
    with pytest.raises(ValueError, match='tail_neg'):
        evaluator.evaluate_ogb(model, test,
                               tail_neg=torch.zeros(3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match='head_neg'):
        evaluator.evaluate_ogb(model, test,
                               head_neg=torch.full((60, 4), N))
    with pytest.raises(ValueError, match='edge_type'):
        data = make_kg(test[:, [0, 2]].t(), test[:, 1], N, R)
        data.edge_type = data.edge_type[:3]
        evaluator(model, data)
    assert as_triples([test, make_kg(test[:, [0, 2]].t(), test[:, 1], N,
                                     R)], N, R).shape == (120, 3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_matches_cpu():
    model = random_model('rotate')
    train, test = random_graph()
    cpu = evaluate(model, test, train, return_ranks=True)
    gpu = evaluate(model.cuda(), test, train, return_ranks=True)
    assert torch.allclose(cpu['head_ranks'], gpu['head_ranks'])
    assert torch.allclose(cpu['tail_ranks'], gpu['tail_ranks'])
