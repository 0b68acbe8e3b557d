r"""Influence-function unlearning (one Newton step on the affected rows)."""
from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Union

import torch
from torch import Tensor
from torch_geometric.data import Data

from ..datasets.kg import KGDataset
from ..kge.losses import sampled_loss
from ..kge.scoring import KGEScorer, get_scorer
from ..kge.trainer import TrainConfig, default_train_config
from ..unlearner import Unlearner, register_method

__all__ = ['CURVATURES', 'CGResult', 'conjugate_gradient', 'LocalObjective',
           'InfluenceFunction']

#: The curvature matrices :class:`InfluenceFunction` can solve with.
CURVATURES = ('gauss_newton', 'hessian')


class CGResult(NamedTuple):
    r"""The outcome of :func:`conjugate_gradient`.

    Attributes:
        solution (Tensor): :math:`\mathbf{x}`, the shape of :math:`\mathbf{b}`.
        iterations (int): Iterations run (Hessian-vector products made).
        residual (float): The final relative residual
            :math:`\|\mathbf{b} - (\mathbf{H} + \lambda \mathbf{I})
            \mathbf{x}\| / \|\mathbf{b}\|` (recursively updated).
        converged (bool): Whether :obj:`residual` reached :obj:`tol`.
        negative_curvature (bool): Whether a search direction
            :math:`\mathbf{p}` with :math:`\mathbf{p}^\top (\mathbf{H} +
            \lambda \mathbf{I}) \mathbf{p} \le 0` stopped the solve (the
            damped matrix is not positive definite there).
    """
    solution: Tensor
    iterations: int
    residual: float
    converged: bool
    negative_curvature: bool


def conjugate_gradient(hvp: Callable[[Tensor], Tensor], b: Tensor,
                       iterations: int = 50, tol: float = 1e-4,
                       damping: float = 0.0) -> CGResult:
    r"""Solves :math:`(\mathbf{H} + \lambda \mathbf{I}) \mathbf{x} =
    \mathbf{b}` by conjugate gradient (Hestenes & Stiefel, 1952) from
    Hessian-vector products only, as influence functions do (`"Understanding
    Black-box Predictions via Influence Functions"
    <https://arxiv.org/abs/1703.04730>`_).

    Tensors of any shape are treated as flat vectors (inner products sum
    over every element), so :obj:`b` may be a ``[K, D]`` block of parameter
    rows. The solve starts at :math:`\mathbf{x}_0 = \mathbf{0}` and stops
    after :obj:`iterations` products, once the relative residual is at most
    :obj:`tol`, or at a direction of non-positive curvature (truncated CG:
    the iterate so far is returned, which is the solution of the
    subspace explored where the damped matrix was positive definite).

    Args:
        hvp (callable): :math:`\mathbf{v} \mapsto \mathbf{H}\mathbf{v}` for
            tensors of :obj:`b`'s shape; :math:`\mathbf{H}` symmetric.
        b (Tensor): The right-hand side, any shape ``[*]``.
        iterations (int, optional): Most products. (default: :obj:`50`)
        tol (float, optional): Relative residual to stop at.
            (default: :obj:`1e-4`)
        damping (float, optional): :math:`\lambda \ge 0`.
            (default: :obj:`0.0`)

    Returns:
        CGResult: ``(solution, iterations, residual, converged,
        negative_curvature)``, :obj:`solution` of :obj:`b`'s shape.
    """
    if not callable(hvp):
        raise TypeError(f"'hvp' must be callable (got {type(hvp).__name__})")
    if not torch.is_tensor(b) or not b.is_floating_point():
        raise TypeError("'b' must be a floating point tensor")
    if isinstance(iterations, bool) or int(iterations) != iterations or \
            iterations < 1:
        raise ValueError(f"'iterations' must be an integer >= 1 (got "
                         f"{iterations})")
    if not tol >= 0:
        raise ValueError(f"'tol' must be >= 0 (got {tol})")
    if not damping >= 0:
        raise ValueError(f"'damping' must be >= 0 (got {damping})")
    b = b.detach()
    x = torch.zeros_like(b)
    b_norm = float(b.norm())
    if b_norm == 0.0:
        return CGResult(x, 0, 0.0, True, False)
    r = b.clone()
    p = r.clone()
    rs = float((r * r).sum())
    done, converged, negative = 0, False, False
    for _ in range(int(iterations)):
        ap = hvp(p)
        if not torch.is_tensor(ap) or ap.shape != b.shape:
            raise ValueError(f"'hvp' must return a tensor of b's shape "
                             f"{list(b.shape)} (got "
                             f"{list(getattr(ap, 'shape', []))})")
        ap = ap.detach() + damping * p
        done += 1
        curvature = float((p * ap).sum())
        if not curvature > 0:
            negative = True
            break
        alpha = rs / curvature
        x = x + alpha * p
        r = r - alpha * ap
        rs_new = float((r * r).sum())
        if rs_new ** 0.5 <= tol * b_norm:
            rs, converged = rs_new, True
            break
        p = r + (rs_new / rs) * p
        rs = rs_new
    return CGResult(x, done, rs ** 0.5 / b_norm, converged, negative)


def _pairwise_scores(scorer, query: Tensor, rows: Tensor) -> Tensor:
    r"""Scores ``[B, D]`` queries against shared ``[K, D]`` rows, ``[B, K]``,
    twice differentiable (:func:`torch.cdist` is not)."""
    if not scorer.distance:
        return query @ rows.t()
    p = scorer.norm_p()
    if p == 2.0:
        sq = (query.pow(2).sum(-1, keepdim=True) + rows.pow(2).sum(-1)[None]
              - 2.0 * query @ rows.t())
        return scorer.offset() - sq.clamp(min=1e-12).sqrt()
    diff = query[:, None, :] - rows[None]
    return scorer.offset() - diff.norm(p=p, dim=-1)


def _rel_names(model: torch.nn.Module) -> List[str]:
    names = ['rel_emb']
    if hasattr(model, 'rel_emb_im'):
        names.append('rel_emb_im')
    return names


class _Call(torch.nn.Module):
    r"""Runs a function with the KGE model as a submodule, so that
    :func:`torch.func.functional_call` can substitute its relation tables
    for the duration of the call."""
    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, fn, *args):
        return fn(*args)


class LocalObjective:
    r"""The KGE training loss of a set of triples as a function of the
    affected parameter rows only (every other parameter a constant), the
    objective behind :class:`InfluenceFunction`.

    Each triple :math:`(h, r, t)` contributes the mean of the loss of its
    tail query :math:`(h, r, ?)` and of its head query :math:`(?, r, t)`
    against :obj:`negatives` (shared by all triples, as the trainer's
    shared negatives are), plus the N3 penalty of the training config. The
    objective is a **sum** over triples (every loss of
    :mod:`~torch_geometric_unlearn.kge.losses` is a batch mean of one term
    per positive, so :math:`B` times it), so the retained and the forgotten
    parts add up to the loss of their union.

    It is split as :meth:`scores` (the logits, ``[B]`` positives and
    ``[B, K]`` negatives per direction), :meth:`score_loss` (the loss of
    given logits, convex in them for every loss but the margin loss) and
    :meth:`penalty`, so that :class:`InfluenceFunction` can form
    Gauss-Newton products :math:`\mathbf{J}^\top \nabla^2_z \ell \,
    \mathbf{J}`.

    Args:
        model (torch.nn.Module): The KGE model (read, never written).
        entities (Tensor): Ids of the variable entity rows ``[A]``.
        relations (Tensor): Ids of the variable relation rows ``[Q]``
            (may be empty).
        negatives (Tensor): Shared negative entity ids ``[K]``.
        config (TrainConfig): Loss, score scale, margin, temperature and N3
            weight (``"1vsall"`` becomes the sampled ``"softmax"``).
    """
    def __init__(self, model: torch.nn.Module, entities: Tensor,
                 relations: Tensor, negatives: Tensor,
                 config: TrainConfig) -> None:
        self.model = model
        self.scorer = get_scorer(model)
        if type(self.scorer).tail_query_rep is KGEScorer.tail_query_rep:
            raise TypeError(f'{type(model).__name__} has no row-level '
                            f'scoring adapter (register a KGEScorer with '
                            f'tail_query_rep / head_query_rep)')
        dev = self.scorer.device
        self.entities = entities.long().to(dev)
        self.relations = relations.long().to(dev)
        self.negatives = negatives.long().to(dev)
        self.config = config
        self.loss_name = 'softmax' if config.loss == '1vsall' \
            else config.loss
        self.rel_names = _rel_names(model)
        self.wrapper = _Call(model)
        with torch.no_grad():
            self.entity_rows0 = self.scorer.param_rows(self.entities).clone()
            self.relation_rows0 = torch.cat(
                [getattr(model, n)(self.relations)
                 for n in self.rel_names], dim=-1).clone()

    @property
    def num_parameters(self) -> int:
        return self.entity_rows0.numel() + self.relation_rows0.numel()

    def _call(self, fn, relation_rows: Tensor, *args):
        r"""Runs :obj:`fn(*args)` with the variable relation rows written
        (out of place) into the model's relation tables."""
        params = {}
        if self.relations.numel():
            width = getattr(self.model, self.rel_names[0]).weight.size(1)
            for i, name in enumerate(self.rel_names):
                table = getattr(self.model, name).weight.detach()
                rows = relation_rows[:, i * width:(i + 1) * width]
                params[f'model.{name}.weight'] = table.index_put(
                    (self.relations, ), rows.to(table.dtype))
        return torch.func.functional_call(self.wrapper, params, (fn, ) + args)

    def _rows(self, triples: Tensor, entity_rows: Tensor):
        h, r, t = triples.to(self.scorer.device).long().unbind(1)
        ids = torch.cat([h, t, self.negatives, self.entities])
        local, inv = torch.unique(ids, return_inverse=True)
        B, K = h.numel(), self.negatives.numel()
        base = self.scorer.param_rows(local).detach()
        rows = base.index_put((inv[2 * B + K:], ),
                              entity_rows.to(base.dtype))
        return rows, r, inv[:B], inv[B:2 * B], inv[2 * B:2 * B + K]

    def scores(self, triples: Tensor, entity_rows: Tensor,
               relation_rows: Tensor) -> List[Tensor]:
        r"""The scaled scores of :obj:`triples` ``[B, 3]`` with the variable
        rows set to :obj:`entity_rows` ``[A, D]`` and :obj:`relation_rows`
        ``[Q, D_r]``: ``[pos_tail [B], neg_tail [B, K], pos_head [B],
        neg_head [B, K]]`` (differentiable in both)."""
        return self._call(self._scores, relation_rows, triples, entity_rows)

    def _scores(self, triples: Tensor, entity_rows: Tensor) -> List[Tensor]:
        scorer, scale = self.scorer, self.config.score_scale
        rows, r, pos_h, pos_t, pos_n = self._rows(triples, entity_rows)
        rep = scorer.represent(rows)
        out = []
        for q, target in ((scorer.tail_query_rep(rep[pos_h], r), pos_t),
                          (scorer.head_query_rep(r, rep[pos_t]), pos_h)):
            out.append(scorer.score_pairs(q, rep[target]) * scale)
            out.append(_pairwise_scores(scorer, q, rep[pos_n]) * scale)
        return out

    def score_loss(self, scores: List[Tensor]) -> Tensor:
        r"""The summed loss of :meth:`scores`' output (both directions,
        averaged)."""
        cfg = self.config
        B = scores[0].numel()
        if B == 0:
            return scores[0].sum()
        total = 0.0
        for pos, neg in (scores[:2], scores[2:]):
            total = total + 0.5 * B * sampled_loss(
                self.loss_name, pos, neg, margin=cfg.margin,
                temperature=cfg.adversarial_temperature,
                label_smoothing=cfg.label_smoothing)
        return total

    def penalty(self, triples: Tensor, entity_rows: Tensor,
                relation_rows: Tensor) -> Tensor:
        r"""The trainer's N3 penalty summed over :obj:`triples` (zero
        without :obj:`config.regularization`)."""
        if self.config.regularization <= 0 or triples.numel() == 0:
            return entity_rows.sum() * 0.0
        return self._call(self._penalty, relation_rows, triples,
                          entity_rows)

    def _penalty(self, triples: Tensor, entity_rows: Tensor) -> Tensor:
        rows, r, pos_h, pos_t, _ = self._rows(triples, entity_rows)
        rel = torch.cat([getattr(self.model, n)(r) for n in self.rel_names],
                        -1)
        return self.config.regularization * (
            rows[pos_h].abs().pow(3).sum() + rows[pos_t].abs().pow(3).sum()
            + rel.abs().pow(3).sum())

    def loss(self, triples: Tensor, entity_rows: Tensor,
             relation_rows: Tensor, weight: float = 1.0) -> Tensor:
        r"""The summed training loss of :obj:`triples` ``[B, 3]``:
        :meth:`score_loss` of :meth:`scores` plus :meth:`penalty`, times
        :obj:`weight` (a scalar, differentiable in the rows)."""
        if triples.numel() == 0:
            return entity_rows.sum() * 0.0 + relation_rows.sum() * 0.0
        out = self.score_loss(self.scores(triples, entity_rows,
                                          relation_rows))
        return weight * (out + self.penalty(triples, entity_rows,
                                            relation_rows))


def _grad(outputs: List[Tensor], inputs: List[Tensor],
          grad_outputs: Optional[List[Tensor]] = None,
          create_graph: bool = False) -> List[Tensor]:
    r"""Gradients of :obj:`outputs` w.r.t. :obj:`inputs`, zeros where an
    input is unused or no output depends on anything (graphs retained)."""
    if grad_outputs is None:
        grad_outputs = [torch.ones_like(o) for o in outputs]
    pairs = [(o, go) for o, go in zip(outputs, grad_outputs)
             if o is not None and o.requires_grad]
    if not pairs:
        return [torch.zeros_like(x) for x in inputs]
    got = torch.autograd.grad([o for o, _ in pairs], inputs,
                              grad_outputs=[go for _, go in pairs],
                              retain_graph=True, create_graph=create_graph,
                              allow_unused=True)
    return [torch.zeros_like(x) if gr is None else gr
            for gr, x in zip(got, inputs)]


def _flat(parts: List[Tensor], like: List[Tensor]) -> Tensor:
    return torch.cat([p.detach().reshape(-1) for p in parts]) if parts \
        else like[0].new_zeros(0)


def _hessian_product(loss: Tensor, inputs: List[Tensor],
                     sizes: List[int]) -> Callable[[Tensor], Tensor]:
    r"""Exact Hessian-vector products of :obj:`loss` (double backward)."""
    grads = _grad([loss], inputs, create_graph=True)

    def hvp(v: Tensor) -> Tensor:
        parts = [p.view_as(x) for p, x in zip(v.split(sizes), inputs)]
        return _flat(_grad(grads, inputs, parts), inputs)
    return hvp


def _gauss_newton_product(obj: 'LocalObjective', triples: Tensor,
                          weight: float, inputs: List[Tensor], ent: Tensor,
                          rel: Tensor,
                          sizes: List[int]) -> Callable[[Tensor], Tensor]:
    r"""Generalised Gauss-Newton products :math:`(\mathbf{J}^\top
    \nabla^2_z \ell \, \mathbf{J} + \nabla^2 \Omega) \mathbf{v}`: the
    Jacobian :math:`\mathbf{J}` of the scores :math:`z` w.r.t. the rows,
    the Hessian of the (convex) loss in the scores and the exact Hessian of
    the N3 penalty :math:`\Omega`. :math:`\mathbf{J}\mathbf{v}` comes
    from the double-backward trick (the transposed product is linear in
    its dummy argument :math:`\mathbf{u}`)."""
    scores = obj.scores(triples, ent, rel)
    z = torch.cat([s.reshape(-1) for s in scores])
    shapes = [s.shape for s in scores]
    leaf = z.detach().requires_grad_(True)
    split = [p.view(sh) for p, sh in zip(
        leaf.split([s.numel() for s in scores]), shapes)]
    g_z = _grad([weight * obj.score_loss(split)], [leaf],
                create_graph=True)
    u = torch.zeros_like(z, requires_grad=True)
    jt = _grad([z], inputs, [u], create_graph=True)
    g_pen = _grad([weight * obj.penalty(triples, ent, rel)], inputs,
                  create_graph=True)

    def gnvp(v: Tensor) -> Tensor:
        parts = [p.view_as(x) for p, x in zip(v.split(sizes), inputs)]
        jv = _grad(jt, [u], parts)[0]
        hjv = _grad(g_z, [leaf], [jv])[0]
        out = _grad([z], inputs, [hjv])
        pen = _grad(g_pen, inputs, parts)
        return _flat([a + b for a, b in zip(out, pen)], inputs)
    return gnvp


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"'{name}' must be an integer >= {low} (got "
                         f"{value!r})")
    return int(value)


def _check_float(value, name: str, positive: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"'{name}' must be a number (got {value!r})")
    value = float(value)
    ok = value > 0 if positive else value >= 0
    if not ok or value != value or value == float('inf'):
        raise ValueError(f"'{name}' must be a finite number "
                         f"{'> 0' if positive else '>= 0'} (got {value})")
    return value


@register_method('influence')
class InfluenceFunction(Unlearner):
    r"""Influence-function unlearning in the manner of GIF (`"GIF: A General
    Graph Unlearning Strategy via Influence Function"
    <https://arxiv.org/abs/2304.02835>`_, Wu et al., WWW 2023) and of Koh &
    Liang (`"Understanding Black-box Predictions via Influence Functions"
    <https://arxiv.org/abs/1703.04730>`_, ICML 2017): one Newton step on the
    affected parameters, solved by conjugate gradient on Hessian-vector
    products.

    Let :math:`\mathcal{L}(\theta) = \sum_{x \in T} \ell(x; \theta)` be
    the training objective (a sum over training triples, each with its
    sampled negatives and N3 penalty; :class:`LocalObjective`), split into
    the retained part :math:`\mathcal{L}_r` over :math:`T_r` and the
    forgotten part :math:`\mathcal{L}_F` over :math:`F`. At the trained
    optimum :math:`\nabla \mathcal{L}_r(\theta^*) + \nabla
    \mathcal{L}_F(\theta^*) = 0`, so one Newton step on
    :math:`\mathcal{L}_r` from :math:`\theta^*` (the retrained optimum to
    first order) is

    .. math::
        \theta_r \approx \theta^* - \mathbf{H}_r^{-1}
        \nabla \mathcal{L}_r(\theta^*) = \theta^* + \mathbf{H}_r^{-1}
        \nabla \mathcal{L}_F(\theta^*),
        \qquad \mathbf{H}_r = \nabla^2 \mathcal{L}_r(\theta^*),

    i.e. the factor is :math:`+1` when both terms are sums over their
    triples (with means, :math:`\mathcal{L}_r` over :math:`|T_r|` and
    :math:`\mathcal{L}_F` over :math:`|F|` triples, it is
    :math:`|F| / |T_r|`). The step is

    .. math::
        \theta' = \theta^* + s \, (\mathbf{H}_r + \lambda
        \mathbf{I})^{-1} \nabla \mathcal{L}_F(\theta^*)

    with damping :math:`\lambda` (:obj:`damping`) and scale :math:`s`
    (:obj:`scale`); by default :math:`\mathbf{H}_r` is its generalised
    Gauss-Newton approximation (:obj:`curvature`). :math:`\theta` is
    restricted to the rows of the affected entities :math:`A` (``[A, D]``,
    real and imaginary parts for ComplEx / RotatE) and, with
    :obj:`include_relations`, the rows of the relations of the forgotten
    triples; every other parameter is a
    constant. The restricted :math:`\mathbf{H}_r` only involves the
    retained triples incident to :math:`A` (and, with
    :obj:`include_relations`, the retained triples of those relations), so
    a request costs time proportional to its neighbourhood: the triples are
    scored against :obj:`num_negatives` shared random entities (seeded), and
    at most :obj:`max_triples` of them are used (a seeded uniform sample,
    weighted so that the sum stays unbiased).

    Not in the restricted Hessian: the curvature an entity row gets from
    being a sampled negative of other triples (it would need the whole
    graph); :obj:`damping` stands in for it, and keeps rows with few
    retained triples from moving far (a row with none moves by
    :math:`s \nabla \mathcal{L}_F / \lambda`). A trained KGE model is not
    at an exact optimum and its loss is not convex, so this is approximate
    unlearning; directions of negative curvature stop the solve
    (:func:`conjugate_gradient`).

    Args:
        model (torch.nn.Module): The trained KGE model (TransE, DistMult,
            ComplEx, RotatE or a model with a row-level scorer).
        data (Data or KGDataset): Its training graph.
        damping (float, optional): :math:`\lambda \ge 0`.
            (default: :obj:`1.5`)
        scale (float, optional): :math:`s > 0`. (default: :obj:`1.0`)
        cg_iterations (int, optional): Most conjugate-gradient iterations
            (each one Gauss-Newton product over the local triples).
            (default: :obj:`20`)
        cg_tol (float, optional): Relative residual at which the solve
            stops. (default: :obj:`1e-3`)
        num_negatives (int, optional): Shared negatives per request
            (:obj:`None`: the training config's :obj:`num_negatives`).
            (default: :obj:`64`)
        max_triples (int, optional): Most retained triples in the Hessian
            (:obj:`None`: all). (default: :obj:`10000`)
        include_relations (bool, optional): Also step the rows of the
            relations in the request. (default: :obj:`False`)
        curvature (str, optional): :obj:`"gauss_newton"` (the generalised
            Gauss-Newton matrix :math:`\mathbf{J}^\top \nabla^2_z \ell
            \, \mathbf{J}` of the scores :math:`z` plus the penalty's
            Hessian: positive semi-definite, as every loss but the margin
            loss is convex in the scores) or :obj:`"hessian"` (the exact
            Hessian, by double backward; indefinite on a trained KGE model,
            so it needs a larger damping). (default:
            :obj:`"gauss_newton"`)
        config (TrainConfig, optional): The loss (default: the model's
            recipe, :func:`~torch_geometric_unlearn.kge.default_train_config`).
        seed (int, optional): Seed of the negatives and the sample.
            (default: :obj:`0`)

    After each request :attr:`last_solve` holds the solve's
    ``iterations``, ``residual``, ``converged``, ``negative_curvature``,
    ``num_triples`` (retained triples used), ``num_parameters`` and
    ``step_norm``; they are also in the record's :obj:`details`.
    """
    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 damping: float = 1.5, scale: float = 1.0,
                 cg_iterations: int = 20, cg_tol: float = 1e-3,
                 num_negatives: Optional[int] = 64,
                 max_triples: Optional[int] = 10_000,
                 include_relations: bool = False,
                 curvature: str = 'gauss_newton',
                 config: Optional[TrainConfig] = None,
                 seed: int = 0) -> None:
        super().__init__(model, data)
        self.damping = _check_float(damping, 'damping', positive=False)
        self.scale = _check_float(scale, 'scale', positive=True)
        self.cg_iterations = _check_int(cg_iterations, 'cg_iterations', 1)
        self.cg_tol = _check_float(cg_tol, 'cg_tol', positive=False)
        if config is not None and not isinstance(config, TrainConfig):
            raise TypeError(f"'config' must be a TrainConfig (got "
                            f"{type(config).__name__})")
        self.config = copy.deepcopy(config) if config is not None else \
            default_train_config(self.model_name)
        self.num_negatives = self.config.num_negatives \
            if num_negatives is None else \
            _check_int(num_negatives, 'num_negatives', 1)
        self.max_triples = None if max_triples is None else \
            _check_int(max_triples, 'max_triples', 1)
        if not isinstance(include_relations, bool):
            raise ValueError(f"'include_relations' must be a bool (got "
                             f"{include_relations!r})")
        self.include_relations = include_relations
        if curvature not in CURVATURES:
            raise ValueError(f"unknown curvature {curvature!r} (expected "
                             f"one of {', '.join(CURVATURES)})")
        self.curvature = curvature
        self.seed = _check_int(seed, 'seed', 0)
        self.last_solve: Dict[str, Any] = {}

    def local_triples(self, retained: Data, affected: Tensor,
                      relations: Tensor, g: torch.Generator):
        r"""The retained triples ``[M, 3]`` of the restricted Hessian (those
        incident to :obj:`affected`, plus those of :obj:`relations`), a
        seeded sample of at most :obj:`max_triples`, and the weight that
        keeps their sum unbiased."""
        n = int(retained.num_nodes)
        ei, et = retained.edge_index, retained.edge_type
        mask = torch.zeros(n, dtype=torch.bool)
        mask[affected] = True
        keep = mask[ei[0]] | mask[ei[1]]
        if relations.numel():
            rmask = torch.zeros(int(retained.num_relations),
                                dtype=torch.bool)
            rmask[relations] = True
            keep |= rmask[et]
        idx = keep.nonzero().view(-1)
        weight = 1.0
        if self.max_triples is not None and idx.numel() > self.max_triples:
            weight = idx.numel() / self.max_triples
            pick = torch.randperm(idx.numel(), generator=g)
            idx = idx[pick[:self.max_triples]].sort().values
        triples = torch.stack([ei[0, idx], et[idx], ei[1, idx]], dim=1)
        return triples, weight

    def objective(self, model: torch.nn.Module, forget: Tensor,
                  affected: Tensor) -> LocalObjective:
        r"""The :class:`LocalObjective` of a request on :obj:`model`: its
        variable rows (:obj:`affected` entities, and the request's
        relations with :obj:`include_relations`) and the request's seeded
        negatives."""
        g = torch.Generator().manual_seed(self.seed)
        relations = forget[:, 1].unique() if self.include_relations else \
            torch.empty(0, dtype=torch.long)
        negatives = torch.randint(int(model.num_nodes),
                                  (self.num_negatives, ), generator=g)
        return LocalObjective(model, affected, relations, negatives,
                              self.config)

    def _unlearn(self, model: torch.nn.Module, retained: Data,
                 forget: Tensor, affected: Tensor) -> torch.nn.Module:
        obj = self.objective(model, forget, affected)
        g = torch.Generator().manual_seed(self.seed + 1)
        local, weight = self.local_triples(retained, affected,
                                           obj.relations.cpu(), g)
        ent = obj.entity_rows0.clone().requires_grad_(True)
        rel = obj.relation_rows0.clone().requires_grad_(True)
        inputs = [ent] + ([rel] if rel.numel() else [])
        sizes = [x.numel() for x in inputs]
        with torch.enable_grad():
            b = _flat(_grad([obj.loss(forget, ent, rel)], inputs), inputs)
            if self.curvature == 'hessian':
                hvp = _hessian_product(obj.loss(local, ent, rel, weight),
                                       inputs, sizes)
            else:
                hvp = _gauss_newton_product(obj, local, weight, inputs,
                                            ent, rel, sizes)
            res = conjugate_gradient(hvp, b, self.cg_iterations,
                                     self.cg_tol, self.damping)
        step = self.scale * res.solution
        d_ent, d_rel = step[:sizes[0]], step[sizes[0]:]
        scorer = get_scorer(model)
        with torch.no_grad():
            scorer.write_rows(obj.entities,
                              obj.entity_rows0 + d_ent.view_as(ent))
            if rel.numel():
                new = obj.relation_rows0 + d_rel.view_as(rel)
                width = getattr(model, obj.rel_names[0]).weight.size(1)
                for i, name in enumerate(obj.rel_names):
                    getattr(model, name).weight[obj.relations] = \
                        new[:, i * width:(i + 1) * width]
        self.last_solve = dict(
            iterations=res.iterations, residual=res.residual,
            converged=res.converged,
            negative_curvature=res.negative_curvature,
            num_triples=int(local.size(0)),
            num_parameters=obj.num_parameters,
            step_norm=float(step.norm()))
        return model.eval()

    def unlearn(self, triples: Optional[Tensor] = None, **kwargs):
        result = super().unlearn(triples, **kwargs)
        result.record.details.update(self.last_solve)
        return result

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.model_name}, '
                f'damping={self.damping}, scale={self.scale}, '
                f'include_relations={self.include_relations})')
