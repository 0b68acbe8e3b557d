import copy

import pytest
import torch

from torch_geometric_unlearn.baselines import (InfluenceFunction,
                                               LocalObjective, Unlearner,
                                               conjugate_gradient)
from torch_geometric_unlearn.datasets import make_synthetic_kg, to_triples
from torch_geometric_unlearn.kge import (KGETrainer, default_train_config,
                                         load_kge_model)
from torch_geometric_unlearn.metrics import triple_scores
from torch_geometric_unlearn.unlearner import get_method


@pytest.fixture(scope='module')
def kg():
    return make_synthetic_kg(num_entities=200, num_relations=8,
                             num_triples=2500, seed=5)


def _train(kg, name, **model_kw):
    torch.manual_seed(0)
    model = load_kge_model(name, kg.num_entities, kg.num_relations, 16,
                           **model_kw)
    cfg = default_train_config(name, epochs=15, batch_size=256,
                               num_negatives=64)
    KGETrainer(model, cfg, progress=False).fit(kg.train)
    return model.eval(), cfg


@pytest.fixture(scope='module')
def transe(kg):
    return _train(kg, 'transe', p_norm=2.0)


@pytest.fixture(scope='module')
def distmult(kg):
    return _train(kg, 'distmult')


def _split(kg, num_forget=30, num_keep=400, seed=1):
    triples = to_triples(kg.train)
    perm = torch.randperm(triples.size(0),
                          generator=torch.Generator().manual_seed(seed))
    return triples[perm[:num_forget]], triples[perm[num_forget:num_forget
                                                    + num_keep]]


def _state(model):
    return {k: v.clone() for k, v in model.state_dict().items()}


# conjugate_gradient ########################################################

def _spd(n, seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, n, generator=g, dtype=torch.float64)
    return a @ a.t() + 0.5 * torch.eye(n, dtype=torch.float64), \
        torch.randn(n, generator=g, dtype=torch.float64)


@pytest.mark.parametrize('damping', [0.0, 0.3])
def test_cg_matches_dense_solve(damping):
    a, b = _spd(12, 0)
    res = conjugate_gradient(lambda v: a @ v, b, iterations=50, tol=1e-12,
                             damping=damping)
    want = torch.linalg.solve(a + damping * torch.eye(12,
                                                      dtype=a.dtype), b)
    assert res.converged and not res.negative_curvature
    assert res.residual <= 1e-12
    torch.testing.assert_close(res.solution, want, rtol=1e-8, atol=1e-10)


def test_cg_on_a_quadratic_loss_through_double_backward():
    # loss(x) = 0.5 <x, A x> - <c, x> + 0.25 |x|^2 over a [3, 4] block:
    # its Hessian is A (acting on the flat block) + 0.5 I.
    a, c = _spd(12, 1)
    x = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)

    def loss(x):
        f = x.reshape(-1)
        return 0.5 * f @ (a @ f) - c @ f + 0.25 * (f * f).sum()
    grad, = torch.autograd.grad(loss(x), x, create_graph=True)

    def hvp(v):
        out, = torch.autograd.grad(grad, x, grad_outputs=v,
                                   retain_graph=True)
        return out
    b = c.view(3, 4)
    res = conjugate_gradient(hvp, b, iterations=40, tol=1e-12, damping=0.1)
    dense = torch.autograd.functional.hessian(
        lambda f: loss(f.view(3, 4)), torch.zeros(12, dtype=torch.float64))
    want = torch.linalg.solve(dense + 0.1 * torch.eye(12,
                                                      dtype=a.dtype), c)
    assert res.solution.shape == (3, 4)
    torch.testing.assert_close(res.solution.reshape(-1), want, rtol=1e-8,
                               atol=1e-10)
    # The Newton step from 0 lands on the damped quadratic's minimiser.
    x_star = res.solution.clone().requires_grad_(True)
    g_star, = torch.autograd.grad(loss(x_star) + 0.05 * (x_star ** 2).sum(),
                                  x_star)
    assert float(g_star.abs().max()) < 1e-8


def test_cg_removal_step_is_the_exact_retrained_least_squares():
    # For a quadratic objective the influence step theta + H_r^-1 grad L_F
    # is exact: it equals the minimiser over the retained points.
    g = torch.Generator().manual_seed(2)
    X = torch.randn(40, 5, generator=g, dtype=torch.float64)
    y = torch.randn(40, generator=g, dtype=torch.float64)
    keep = torch.arange(40) >= 6

    def fit(mask):
        return torch.linalg.solve(X[mask].t() @ X[mask], X[mask].t() @ y[mask])
    theta = fit(torch.ones(40, dtype=torch.bool))
    grad_f = X[~keep].t() @ (X[~keep] @ theta - y[~keep])  # sum of 0.5 r^2
    h_r = X[keep].t() @ X[keep]
    res = conjugate_gradient(lambda v: h_r @ v, grad_f, iterations=20,
                             tol=1e-13)
    torch.testing.assert_close(theta + res.solution, fit(keep), rtol=1e-7,
                               atol=1e-9)


def test_cg_stops_at_negative_curvature_and_zero_rhs():
    a = torch.diag(torch.tensor([2.0, -1.0, 3.0]))
    b = torch.tensor([0.0, 1.0, 0.0])
    res = conjugate_gradient(lambda v: a @ v, b, iterations=10)
    assert res.negative_curvature and not res.converged
    assert res.iterations == 1
    assert torch.equal(res.solution, torch.zeros(3))
    zero = conjugate_gradient(lambda v: a @ v, torch.zeros(3))
    assert zero.converged and zero.iterations == 0
    assert torch.equal(zero.solution, torch.zeros(3))


def test_cg_bad_input():
    b = torch.ones(3)
    with pytest.raises(TypeError, match='callable'):
        conjugate_gradient(None, b)
    with pytest.raises(TypeError, match="'b'"):
        conjugate_gradient(lambda v: v, torch.ones(3, dtype=torch.long))
    with pytest.raises(ValueError, match='iterations'):
        conjugate_gradient(lambda v: v, b, iterations=0)
    with pytest.raises(ValueError, match='tol'):
        conjugate_gradient(lambda v: v, b, tol=-1.0)
    with pytest.raises(ValueError, match='damping'):
        conjugate_gradient(lambda v: v, b, damping=-0.1)
    with pytest.raises(ValueError, match="b's shape"):
        conjugate_gradient(lambda v: v[:2], b)


# The local objective #######################################################

def test_local_objective_matches_the_models_forward(kg, distmult):
    # Reference: the softmax loss of each triple, both directions, from
    # the model's own forward() on explicit corrupted triples.
    model, cfg = distmult
    forget, keep = _split(kg, num_keep=25)
    affected = forget[:, [0, 2]].unique()
    negatives = torch.tensor([3, 17, 42, 99, 150])
    obj = LocalObjective(model, affected, torch.empty(0, dtype=torch.long),
                         negatives, cfg)
    with torch.no_grad():
        got = obj.loss(keep, obj.entity_rows0, obj.relation_rows0)
        want = 0.0
        for h, r, t in keep.tolist():
            for side in ('tail', 'head'):
                heads = torch.tensor([h] + ([h] * 5 if side == 'tail'
                                            else negatives.tolist()))
                tails = torch.tensor([t] + (negatives.tolist()
                                            if side == 'tail' else [t] * 5))
                logits = model(heads, torch.full((6, ), r), tails)
                logits = logits * cfg.score_scale + cfg.margin
                want += 0.5 * float(-torch.log_softmax(logits, 0)[0])
            ents = torch.stack([model.node_emb.weight[h],
                                model.node_emb.weight[t]])
            want += cfg.regularization * float(
                ents.abs().pow(3).sum() +
                model.rel_emb.weight[r].abs().pow(3).sum())
    assert abs(float(got) - want) < 1e-4 * max(1.0, abs(want))


def test_local_objective_depends_only_on_the_variable_rows(kg, transe):
    model, cfg = copy.deepcopy(transe[0]), transe[1]
    model.zero_grad(set_to_none=True)  # training leaves gradients behind
    forget, keep = _split(kg)
    affected = forget[:, [0, 2]].unique()
    obj = LocalObjective(model, affected, forget[:, 1].unique(),
                         torch.arange(10), cfg)
    ent = obj.entity_rows0.clone().requires_grad_(True)
    rel = obj.relation_rows0.clone().requires_grad_(True)
    loss = obj.loss(keep, ent, rel)
    loss.backward()
    assert ent.grad.abs().sum() > 0 and rel.grad.abs().sum() > 0
    assert all(p.grad is None for p in model.parameters())


# InfluenceFunction #########################################################

def test_registered_and_an_unlearner(kg, transe):
    assert get_method('influence') is InfluenceFunction
    assert issubclass(InfluenceFunction, Unlearner)


@pytest.mark.parametrize('fixture', ['transe', 'distmult'])
def test_forgotten_scores_drop_more_than_retained(kg, fixture, request):
    model, cfg = request.getfixturevalue(fixture)
    forget, keep = _split(kg)
    before = _state(model)
    method = InfluenceFunction(model, kg, config=cfg, damping=0.1,
                               cg_iterations=200)
    result = method.unlearn(forget)
    d_forget = triple_scores(result.model, forget) - \
        triple_scores(model, forget)
    d_keep = triple_scores(result.model, keep) - triple_scores(model, keep)
    # The forgotten triples' scores fall, and by far more than those of
    # random retained triples (most of which touch no affected entity).
    assert float(d_forget.mean()) < 0
    assert float(d_forget.mean()) < 5 * float(d_keep.mean()) - 0.1
    assert float(d_forget.mean()) < float(d_keep.mean()) - 0.5 * float(
        d_forget.abs().mean())
    assert result.record.details['converged']
    assert result.record.details['num_triples'] > 0
    # The caller's model is untouched.
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_only_the_affected_rows_move(kg, transe):
    model, cfg = transe
    forget, _ = _split(kg)
    affected = forget[:, [0, 2]].unique()
    out = InfluenceFunction(model, kg, config=cfg).unlearn(forget).model
    moved = (out.node_emb.weight != model.node_emb.weight).any(1)
    assert moved[affected].all()
    assert not moved[~torch.isin(torch.arange(kg.num_entities),
                                 affected)].any()
    assert torch.equal(out.rel_emb.weight, model.rel_emb.weight)
    rels = forget[:, 1].unique()
    out = InfluenceFunction(model, kg, config=cfg,
                            include_relations=True).unlearn(forget).model
    rel_moved = (out.rel_emb.weight != model.rel_emb.weight).any(1)
    assert rel_moved[rels].all()
    assert not rel_moved[~torch.isin(torch.arange(kg.num_relations),
                                     rels)].any()


def test_the_step_solves_the_damped_system(kg, distmult):
    # Reference: the dense Gauss-Newton / Hessian matrix of the local
    # objective, assembled column by column, and torch.linalg.solve.
    model, cfg = distmult
    forget = _split(kg, num_forget=2)[0]
    # The exact Hessian of a trained model is indefinite: it needs the
    # larger damping to be positive definite.
    for curvature, damping in (('hessian', 5.0), ('gauss_newton', 0.5)):
        method = InfluenceFunction(model, kg, config=cfg, damping=damping,
                                   scale=0.5, cg_iterations=500,
                                   cg_tol=1e-7, curvature=curvature,
                                   num_negatives=4)
        result = method.unlearn(forget)
        affected = result.record.affected
        obj = method.objective(model, forget, affected)
        retained = result.data
        local, weight = method.local_triples(
            retained, affected, torch.empty(0, dtype=torch.long),
            torch.Generator().manual_seed(method.seed + 1))
        x0 = obj.entity_rows0
        none = obj.relation_rows0

        def retained_loss(x):
            return obj.loss(local, x.view_as(x0), none, weight)

        if curvature == 'hessian':
            dense = torch.autograd.functional.hessian(retained_loss,
                                                      x0.reshape(-1))
        else:
            jac = torch.autograd.functional.jacobian(
                lambda x: torch.cat([s.reshape(-1) for s in obj.scores(
                    local, x.view_as(x0), none)]), x0.reshape(-1))
            shapes = [s.shape for s in obj.scores(local, x0, none)]
            z0 = torch.cat([s.reshape(-1) for s in obj.scores(
                local, x0, none)]).detach()

            def of_scores(z):
                parts, at = [], 0
                for sh in shapes:
                    n = sh.numel()
                    parts.append(z[at:at + n].view(sh))
                    at += n
                return weight * obj.score_loss(parts)
            h_z = torch.autograd.functional.hessian(of_scores, z0,
                                                    vectorize=True)
            jac = jac.double()
            dense = jac.t() @ h_z.double() @ jac
            if cfg.regularization > 0:
                dense = dense + torch.autograd.functional.hessian(
                    lambda x: weight * obj.penalty(local, x.view_as(x0),
                                                   none),
                    x0.reshape(-1)).double()
        dense = dense.double()
        grad = torch.autograd.functional.jacobian(
            lambda x: obj.loss(forget, x.view_as(x0), none),
            x0.reshape(-1)).double()
        n = dense.size(0)
        want = 0.5 * torch.linalg.solve(
            dense + damping * torch.eye(n, dtype=dense.dtype), grad)
        got = (result.model.node_emb.weight[affected] -
               model.node_emb.weight[affected]).double().reshape(-1)
        assert result.record.details['converged'], curvature
        torch.testing.assert_close(got, want, rtol=2e-3,
                                   atol=2e-4 * float(want.abs().max()))


def test_entity_and_relation_requests(kg, distmult):
    model, cfg = distmult
    # The deleted entities keep no retained triple: only the damping holds
    # their rows (a small damping overshoots, see docs/baselines.md).
    method = InfluenceFunction(model, kg, config=cfg, damping=10.0)
    res = method.unlearn(entities=[4, 9])
    assert res.record.method == 'influence'
    assert set(res.record.affected.tolist()) >= {4, 9}
    ei = res.data.edge_index
    assert not torch.isin(ei, torch.tensor([4, 9])).any()
    assert res.record.details['iterations'] >= 1
    before = triple_scores(model, res.record.forget_triples).mean()
    after = triple_scores(res.model, res.record.forget_triples).mean()
    assert float(after) < float(before)
    # A second, sequential request: a relation, with its rows stepped.
    res2 = InfluenceFunction(model, kg, config=cfg,
                             include_relations=True).unlearn(relations=3)
    assert not (res2.data.edge_type == 3).any()
    assert not torch.equal(res2.model.rel_emb.weight[3],
                           model.rel_emb.weight[3])
    res3 = method.unlearn(relations=[1])
    assert len(method.ledger) == 2 and method.ledger.verify() == []
    assert not (res3.data.edge_type == 1).any()


def test_inplace_and_sample_cap(kg, distmult):
    model, cfg = distmult
    mine = copy.deepcopy(model)
    forget, _ = _split(kg)
    res = InfluenceFunction(mine, kg, config=cfg,
                            max_triples=50).unlearn(forget, inplace=True)
    assert res.model is mine
    assert res.record.details['num_triples'] == 50
    assert not torch.equal(mine.node_emb.weight, model.node_emb.weight)


def test_seeded(kg, transe):
    model, cfg = transe
    forget, _ = _split(kg)
    a = InfluenceFunction(model, kg, config=cfg, seed=3).unlearn(forget)
    b = InfluenceFunction(model, kg, config=cfg, seed=3).unlearn(forget)
    c = InfluenceFunction(model, kg, config=cfg, seed=4).unlearn(forget)
    assert torch.equal(a.model.node_emb.weight, b.model.node_emb.weight)
    assert not torch.equal(a.model.node_emb.weight, c.model.node_emb.weight)


@pytest.mark.parametrize('kw, match', [
    (dict(damping=-1.0), 'damping'),
    (dict(damping=float('nan')), 'damping'),
    (dict(scale=0.0), 'scale'),
    (dict(cg_iterations=0), 'cg_iterations'),
    (dict(cg_iterations=2.5), 'cg_iterations'),
    (dict(cg_tol=-1e-3), 'cg_tol'),
    (dict(num_negatives=0), 'num_negatives'),
    (dict(max_triples=0), 'max_triples'),
    (dict(include_relations='yes'), 'include_relations'),
    (dict(curvature='fisher'), 'curvature'),
    (dict(seed=-1), 'seed'),
])
def test_bad_options(kg, transe, kw, match):
    model, _ = transe
    with pytest.raises(ValueError, match=match):
        InfluenceFunction(model, kg, **kw)


def test_bad_config(kg, transe):
    with pytest.raises(TypeError, match='TrainConfig'):
        InfluenceFunction(transe[0], kg, config=dict(loss='bce'))
