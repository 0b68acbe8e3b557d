import pytest
import torch
from torch_geometric.nn.kge import ComplEx, DistMult, KGEModel, RotatE, TransE

from torch_geometric_unlearn.kge import (MODELS, ComplExScorer,
                                         DistMultScorer, ForwardScorer,
                                         KGEScorer, RotatEScorer,
                                         TransEScorer, get_scorer,
                                         load_kge_model, model_name,
                                         register_scorer, score_heads,
                                         score_tails)

NUM_NODES, NUM_RELATIONS, DIM = 40, 6, 12


def make(name, **kwargs):
    torch.manual_seed(12345)
    model = load_kge_model(name, NUM_NODES, NUM_RELATIONS, DIM, **kwargs)
    # Move away from the initialisation (e.g. RotatE's margin and TransE's
    # normalised relations) so that nothing cancels by accident.
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return model


def brute_force(model, head, rel, tail):
    r"""``[B, N]`` scores of all tails and of all heads through forward()."""
    ent = torch.arange(NUM_NODES)
    with torch.no_grad():
        tails = torch.stack([
            model(head, rel, ent[e].expand_as(head)) for e in range(NUM_NODES)
        ], dim=1)
        heads = torch.stack([
            model(ent[e].expand_as(tail), rel, tail) for e in range(NUM_NODES)
        ], dim=1)
    return tails, heads


CONFIGS = [
    ('transe', {}),
    ('transe', {'p_norm': 2.0}),
    ('transe', {'p_norm': 3.0}),
    ('distmult', {}),
    ('complex', {}),
    ('rotate', {}),
    ('rotate', {'margin': 6.0}),
]


@pytest.mark.parametrize('name,kwargs', CONFIGS)
def test_scores_match_forward(name, kwargs):
    model = make(name, **kwargs)
    gen = torch.Generator().manual_seed(0)
    head = torch.randint(0, NUM_NODES, (50, ), generator=gen)
    rel = torch.randint(0, NUM_RELATIONS, (50, ), generator=gen)
    tail = torch.randint(0, NUM_NODES, (50, ), generator=gen)
    ref_tails, ref_heads = brute_force(model, head, rel, tail)
    with torch.no_grad():
        tails = score_tails(model, head, rel)
        heads = score_heads(model, rel, tail)
    assert tails.shape == heads.shape == (50, NUM_NODES)
    assert torch.allclose(tails, ref_tails, atol=1e-5, rtol=1e-5)
    assert torch.allclose(heads, ref_heads, atol=1e-5, rtol=1e-5)
    # The target column is the model's own score of the triple:
    with torch.no_grad():
        own = model(head, rel, tail)
    assert torch.allclose(tails[torch.arange(50), tail], own, atol=1e-5)
    assert torch.allclose(heads[torch.arange(50), head], own, atol=1e-5)


@pytest.mark.parametrize('name,kwargs', CONFIGS)
def test_candidate_scores_match_forward(name, kwargs):
    model = make(name, **kwargs)
    gen = torch.Generator().manual_seed(1)
    head = torch.randint(0, NUM_NODES, (20, ), generator=gen)
    rel = torch.randint(0, NUM_RELATIONS, (20, ), generator=gen)
    tail = torch.randint(0, NUM_NODES, (20, ), generator=gen)
    cand = torch.randint(0, NUM_NODES, (20, 7), generator=gen)
    ref_tails, ref_heads = brute_force(model, head, rel, tail)
    with torch.no_grad():
        tails = score_tails(model, head, rel, cand)
        heads = score_heads(model, rel, tail, cand)
    assert tails.shape == heads.shape == (20, 7)
    assert torch.allclose(tails, ref_tails.gather(1, cand), atol=1e-5)
    assert torch.allclose(heads, ref_heads.gather(1, cand), atol=1e-5)


@pytest.mark.parametrize('name', ['transe', 'distmult', 'complex', 'rotate'])
def test_scores_are_differentiable(name):
    model = make(name)
    head = torch.arange(0, 2 * NUM_NODES, 2) % NUM_NODES  # > 1 L1 block
    rel = torch.arange(NUM_NODES) % NUM_RELATIONS
    scores = score_tails(model, head, rel)  # gradients flow outside no_grad
    assert scores.requires_grad
    (scores.sum() + score_heads(model, rel, head).sum()).backward()
    assert model.node_emb.weight.grad.abs().sum() > 0
    assert model.rel_emb.weight.grad.abs().sum() > 0


def test_scores_follow_parameters():
    model = make('distmult')
    head, rel = torch.tensor([0, 1]), torch.tensor([2, 3])
    with torch.no_grad():
        scores = score_tails(model, head, rel)
    with torch.no_grad():
        model.node_emb.weight.mul_(2.0)
        assert torch.allclose(score_tails(model, head, rel), 4 * scores)


def test_l1_kernel_matches_cdist_on_larger_input():
    torch.manual_seed(0)
    model = TransE(300, 3, 16, p_norm=1.0)
    head = torch.randint(0, 300, (150, ))  # more than one 64-row block
    rel = torch.randint(0, 3, (150, ))
    num_threads = torch.get_num_threads()
    with torch.no_grad():
        scorer = get_scorer(model)
        query = scorer.tail_query(head, rel)
        expected = -torch.cdist(query, scorer.table, p=1.0)
        assert torch.allclose(scorer.tails(head, rel), expected, atol=1e-6)
    # The worker threads leave the caller's thread setting alone.
    assert torch.get_num_threads() == num_threads


def test_registry_and_names():
    assert set(MODELS) == {'transe', 'distmult', 'complex', 'rotate'}
    for name, cls, scorer_cls in [('transe', TransE, TransEScorer),
                                  ('distmult', DistMult, DistMultScorer),
                                  ('complex', ComplEx, ComplExScorer),
                                  ('rotate', RotatE, RotatEScorer)]:
        model = load_kge_model(name.upper(), 10, 2, 4)
        assert type(model) is cls
        assert model.num_nodes == 10 and model.num_relations == 2
        assert model.hidden_channels == 4
        assert model_name(model) == name
        assert model_name(cls) == name
        assert type(get_scorer(model)) is scorer_cls
    assert load_kge_model('transe', 10, 2, 4, p_norm=2.0).p_norm == 2.0
    with pytest.raises(ValueError, match='unknown KGE model'):
        load_kge_model('transr', 10, 2, 4)


class SubTransE(TransE):
    pass


class TableModel(KGEModel):
    r"""Scores read from a fixed ``[N, R, N]`` table (for the fallback)."""
    def __init__(self, table):
        super().__init__(table.size(0), table.size(1), 1)
        self.register_buffer('table', table)

    def forward(self, head_index, rel_type, tail_index):
        return self.table[head_index, rel_type, tail_index]


def test_subclass_and_fallback():
    sub = SubTransE(10, 2, 4)
    assert type(get_scorer(sub)) is TransEScorer  # found along the MRO
    assert model_name(sub) == 'transe'

    gen = torch.Generator().manual_seed(0)
    table = torch.randn(10, 2, 10, generator=gen)
    model = TableModel(table)
    assert model_name(model) == 'tablemodel'
    assert type(get_scorer(model)) is ForwardScorer
    head = torch.tensor([1, 2, 3])
    rel = torch.tensor([0, 1, 1])
    tail = torch.tensor([4, 5, 6])
    assert torch.equal(score_tails(model, head, rel), table[head, rel])
    expected = table[:, rel, tail].t()
    assert torch.equal(score_heads(model, rel, tail), expected)
    cand = torch.tensor([[0, 9], [1, 1], [2, 3]])
    assert torch.equal(score_tails(model, head, rel, cand),
                       table[head, rel].gather(1, cand))
    # Chunked calls give the same result:
    small = ForwardScorer(model, chunk_size=7)
    assert torch.equal(small.tails(head, rel), table[head, rel])


def test_register_scorer():
    class Scaled(TableModel):
        pass

    try:
        @register_scorer(Scaled, name='scaled')
        class ScaledScorer(KGEScorer):
            def entity_table(self):
                return torch.eye(self.num_nodes)

            def tail_query(self, head, rel):
                return self.model.table[head, rel]

            def head_query(self, rel, tail):
                return self.model.table[:, rel, tail].t()

        table = torch.randn(5, 2, 5)
        model = Scaled(table)
        assert type(get_scorer(model)) is ScaledScorer
        assert model_name(model) == 'scaled'
        head, rel = torch.tensor([0, 4]), torch.tensor([1, 0])
        assert torch.allclose(score_tails(model, head, rel),
                              table[head, rel])
        with pytest.raises(TypeError):
            register_scorer(Scaled)(object)
    finally:
        from torch_geometric_unlearn.kge import SCORERS
        SCORERS.pop(Scaled, None)
        MODELS.pop('scaled', None)


def test_bad_input():
    model = make('transe')
    head, rel = torch.tensor([0, 1]), torch.tensor([0, 1])
    with pytest.raises(ValueError, match='head'):
        score_tails(model, torch.tensor([0, NUM_NODES]), rel)
    with pytest.raises(ValueError, match='rel'):
        score_tails(model, head, torch.tensor([-1, 0]))
    with pytest.raises(ValueError, match='tail'):
        score_heads(model, rel, torch.tensor([0, NUM_NODES + 3]))
    with pytest.raises(ValueError, match='integer'):
        score_tails(model, head.float(), rel)
    with pytest.raises(ValueError, match='equal length'):
        score_tails(model, head, torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match='candidates'):
        score_tails(model, head, rel, torch.zeros(3, 4, dtype=torch.long))
    with pytest.raises(ValueError, match='candidates'):
        score_tails(model, head, rel, torch.full((2, 4), NUM_NODES))
    with pytest.raises(TypeError):
        score_tails(torch.nn.Linear(2, 2), head, rel)


@pytest.mark.parametrize('count', [3, 500])  # fewer / more than relations
def test_rotate_queries_rotate_by_each_triples_relation(count):
    torch.manual_seed(0)
    model = RotatE(20, 7, 8)
    sc = get_scorer(model)
    rep = torch.randn(count, 16)
    rel = torch.randint(7, (count, ))
    theta = model.rel_emb(rel)
    c, s = torch.cos(theta), torch.sin(theta)
    re, im = rep.chunk(2, dim=-1)
    assert torch.equal(sc.tail_query_rep(rep, rel),
                       torch.cat([c * re - s * im, c * im + s * re], -1))
    assert torch.equal(sc.head_query_rep(rel, rep),
                       torch.cat([c * re + s * im, c * im - s * re], -1))


@pytest.mark.parametrize('small', [0, 1 << 20])
def test_rowdot_matches_the_elementwise_sum(monkeypatch, small):
    # Both kernels: the batched product (switch at 0) and vecdot.
    from torch_geometric_unlearn.kge import scoring
    from torch_geometric_unlearn.kge.scoring import rowdot
    monkeypatch.setattr(scoring, 'ROWDOT_SMALL', small)
    g = torch.Generator().manual_seed(0)
    for shape in ((7, 5), (3, 4, 6), (0, 3)):
        a = torch.randn(*shape, generator=g, requires_grad=True)
        b = torch.randn(*shape, generator=g)
        out = rowdot(a, b)
        assert out.shape == shape[:-1]
        assert torch.allclose(out, (a * b).sum(-1), atol=1e-6)
        out.sum().backward()
        assert torch.allclose(a.grad, b)
    with pytest.raises(ValueError, match='one shape'):
        rowdot(torch.zeros(2, 3), torch.zeros(3, 2))
