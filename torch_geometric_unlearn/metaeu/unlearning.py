r"""Serving a deletion request with a meta-trained
:class:`~torch_geometric_unlearn.MetaEU`: the transform, the affected
entities' neighbourhood, one generator pass (or an ensemble), the optional
MetaEU-FT refinement, and writing the rows."""
from __future__ import annotations

import copy
import time
import warnings
from dataclasses import dataclass
from typing import Dict, Optional

import torch
from torch import Tensor
from torch_geometric.data import Data

from ..datasets.kg import triple_keys
from ..kge.scoring import KGEScorer, get_scorer
from ..unlearner import ModelDelta, UnlearningRecord, UnlearningResult
from .calibration import (Positions, calibrate, calibrate_newton,
                          triple_scores)
from .config import REFINE_LR

__all__ = ['Unlearning', 'Neighbourhood', 'isolated_neighbourhood', 'relabel']


@dataclass
class Neighbourhood:
    r"""The retained triples incident to the affected entities of a
    request, on a local node set.

    Attributes:
        nodes (Tensor): Global ids of the local nodes ``[n]``.
        affected_local (Tensor): Local positions of the affected entities,
            in the order of the request's affected ids ``[A]``.
        affected_mask (Tensor): Boolean ``[n]`` mask of the affected nodes.
        edge_index (Tensor): Local ``[2, E]`` (head, tail) of the triples.
        edge_type (Tensor): Their relations ``[E]``.
        edge_index_global (Tensor): The same triples in global ids
            ``[2, E]``.
    """
    nodes: Tensor
    affected_local: Tensor
    affected_mask: Tensor
    edge_index: Tensor
    edge_type: Tensor
    edge_index_global: Tensor

    @classmethod
    def of(cls, affected: Tensor, edge_index: Tensor,
           edge_type: Tensor) -> 'Neighbourhood':
        r"""The neighbourhood of the :obj:`affected` ids ``[A]`` made of the
        triples ``edge_index`` ``[2, E]`` / ``edge_type`` ``[E]`` (global
        ids), relabelled to a local node set."""
        nodes, local = relabel(torch.cat([affected,
                                          edge_index.reshape(-1)]))
        aff_local = local[:affected.numel()]
        aff_mask = torch.zeros(nodes.numel(), dtype=torch.bool)
        aff_mask[aff_local] = True
        return cls(nodes=nodes, affected_local=aff_local,
                   affected_mask=aff_mask,
                   edge_index=local[affected.numel():].view(2, -1),
                   edge_type=edge_type, edge_index_global=edge_index)


#: Ids per distinct-id span above which :func:`relabel` uses a table
#: over the span instead of a sort.
DENSE_RELABEL = 1 / 16


def relabel(ids: Tensor):
    r"""The sorted distinct values of :obj:`ids` ``[N]`` and each id's
    position among them ``[N]``, as :obj:`torch.unique(ids,
    return_inverse=True)` gives them. When the ids are many against their
    span (the largest + 1: over :data:`DENSE_RELABEL` of it), through a
    table over the span, one pass instead of a sort; otherwise by sorting,
    so that a small request's cost does not grow with the graph."""
    if ids.numel() == 0:
        return torch.unique(ids, return_inverse=True)
    span = int(ids.max()) + 1
    if ids.numel() <= DENSE_RELABEL * span:
        return torch.unique(ids, return_inverse=True)
    present = torch.zeros(span, dtype=torch.bool, device=ids.device)
    present[ids] = True
    nodes = present.nonzero().view(-1)
    table = torch.empty(span, dtype=torch.long, device=ids.device)
    table[nodes] = torch.arange(nodes.numel(), device=ids.device)
    return nodes, table[ids]


def isolated_neighbourhood(entities: Tensor) -> 'Neighbourhood':
    r"""The :class:`Neighbourhood` of affected entities that have no
    retained triple: the entities alone, no edges."""
    k = entities.numel()
    empty = torch.zeros(2, 0, dtype=torch.long)
    return Neighbourhood(nodes=entities, affected_local=torch.arange(k),
                         affected_mask=torch.ones(k, dtype=torch.bool),
                         edge_index=empty,
                         edge_type=torch.zeros(0, dtype=torch.long),
                         edge_index_global=empty)


class _Clock:
    r"""Wall time per stage of a request."""
    def __init__(self) -> None:
        self.start = self.last = time.perf_counter()
        self.timings: Dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = now - self.last
        self.last = now

    def total(self) -> float:
        self.timings['total'] = time.perf_counter() - self.start
        return self.timings['total']


class Unlearning:
    r"""The unlearning half of :class:`~torch_geometric_unlearn.MetaEU` (a
    mixin: it uses the generator, the scoring helpers and the config of the
    class it is mixed into)."""

    def unlearn(self, triples: Optional[Tensor] = None, *,
                edge_ids=None, entities=None, relations=None,
                num_hops: Optional[int] = None,
                ensemble: Optional[int] = None,
                refine_steps: Optional[int] = None,
                mode: Optional[str] = None,
                inplace: bool = False) -> UnlearningResult:
        r"""Forgets a set of triples.

        The deletion transform removes the request from the current
        training graph (:attr:`data`) and marks the affected entities; the
        generator then rebuilds their representations from the retained
        triples around them in one forward pass (or the mean of
        :obj:`ensemble` passes with random support dropout), optionally
        refined for :obj:`refine_steps` Adam steps on their retained triples
        (MetaEU-FT). The rows are written into a copy of :attr:`model`
        (into :attr:`model` itself when :obj:`inplace`), which becomes the
        current model for the next request.

        Give exactly one of:

        Args:
            triples (torch.Tensor, optional): ``(head, relation, tail)``
                rows ``[F, 3]``.
            edge_ids (torch.Tensor, optional): Edge ids into the original
                training graph (:attr:`original`; stable across requests).
            entities (int or list, optional): Forget every triple of these.
            relations (int or list, optional): Forget every triple of these.

        and optionally:

        Args:
            num_hops (int, optional): Expand the affected set by this many
                hops over the retained graph (default: the config's).
            ensemble (int, optional): Ensemble size :math:`K` (default: the
                config's).
            refine_steps (int, optional): MetaEU-FT steps (default: the
                config's).
            mode (str, optional): :obj:`"correct"` or :obj:`"regenerate"`
                (default: the config's, see :class:`MetaEUConfig`).
            inplace (bool, optional): Write into :attr:`model` instead of a
                copy. (default: :obj:`False`)

        Returns:
            :class:`UnlearningResult` with the new model, the retained graph
            and an :class:`UnlearningRecord`.
        """
        c = self.config
        num_hops = c.num_hops if num_hops is None else int(num_hops)
        ensemble = c.ensemble if ensemble is None else int(ensemble)
        refine = c.refine_steps if refine_steps is None else int(refine_steps)
        if ensemble < 1 or refine < 0:
            raise ValueError('ensemble must be >= 1 and refine_steps >= 0')
        mode = c.mode if mode is None else mode
        if mode not in ('correct', 'regenerate'):
            raise ValueError(f"unknown mode '{mode}' (expected 'correct' or "
                             f"'regenerate')")
        clock = _Clock()
        transform, what, as_given = self.resolve_request(
            triples, edge_ids, entities, relations, num_hops)
        input_hash = self._input_hash()
        # Triple and entity requests are served from the graph's indexes
        # (cost: what the request touches); the others, and any request
        # the transform must reject, go through the deletion transform.
        removed = self.graph_request(transform)
        if removed is None:
            out = self.apply_request(transform, as_given)
            forget_triples, affected, retained = self._split_request(out)
            clock.lap('transform')
            hood = self._neighbourhood(out, affected)
        else:
            forget_triples, affected, retained = (removed.triples,
                                                  removed.affected, None)
            self._warn_large(affected)
            clock.lap('transform')
            hood = self._graph_neighbourhood(affected)
        clock.lap('subgraph')
        try:
            target = self.model if inplace else copy.deepcopy(self.model)
            clock.lap('copy')
            result = self._rewrite(target, hood, affected, forget_triples,
                                   mode, ensemble, refine, clock)
        except BaseException:
            if removed is not None:
                self.graph.restore(removed)
                self._data = None
            raise
        scorer, delta, digest = result
        record = UnlearningRecord(
            request=f'{type(transform).__name__}: {what}',
            forget_triples=forget_triples, affected=affected,
            num_hops=num_hops, ensemble=ensemble, refine_steps=refine,
            seconds=clock.total(), timings=clock.timings, method=self.name,
            details=dict(mode=mode))
        self._log(record, as_given, dict(num_hops=num_hops, ensemble=ensemble,
                                         refine_steps=refine, mode=mode),
                  input_hash, target, retained, output_digest=digest)
        clock.lap('ledger')
        if retained is None:
            # The graph already holds the request; its Data is built on
            # first access, from a snapshot of this state.
            self.model = target
            retained = self.graph.snapshot()
        else:
            self.model, self.data = target, retained
        return UnlearningResult(model=target, data=retained, record=record,
                                delta=delta)

    def _rewrite(self, target, hood: 'Neighbourhood', affected: Tensor,
                 forget_triples: Tensor, mode: str, ensemble: int,
                 refine: int, clock: '_Clock'):
        r"""Computes the affected rows and writes them into
        :obj:`target`; returns the scorer, the :class:`ModelDelta` and the
        output model's digest (or :obj:`None` without model hashes)."""
        c = self.config
        scorer = get_scorer(target)
        flags = self._freeze(target)
        try:
            dev = scorer.device
            kept = None
            if mode == 'correct':
                # Entities that keep retained triples start from their
                # trained rows; the others get generated rows (and when
                # every affected entity keeps some, no generator pass runs).
                kept = torch.bincount(hood.edge_index.reshape(-1),
                                      minlength=hood.nodes.numel()
                                      )[hood.affected_local] > 0
                with torch.no_grad():
                    rows = scorer.represent(scorer.param_rows(
                        affected.to(dev)))
                if not bool(kept.all()):
                    # The entities without retained triples have no
                    # neighbourhood: generate them alone (the other rows'
                    # neighbourhoods, hubs' included, are not read).
                    lost = (~kept).nonzero().view(-1)
                    rows = rows.clone()
                    rows[lost.to(dev)] = self._generate_rows(
                        scorer, isolated_neighbourhood(affected[lost]),
                        ensemble)
            else:
                rows = self._generate_rows(scorer, hood, ensemble)
            clock.lap('generate')
            if refine > 0 and hood.edge_type.numel() > 0:
                rows = self._refine(scorer, affected.to(dev), rows,
                                    hood.edge_index_global.to(dev),
                                    hood.edge_type.to(dev), refine)
            clock.lap('refine')
            if mode == 'correct' and bool(kept.any()):
                if self.has_reference():
                    if c.calibrate_steps > 0:
                        rows = self._calibrate(scorer, affected, rows, kept,
                                               forget_triples, hood)
                else:
                    rows = self._leave_k_out(scorer, affected, rows, kept,
                                             forget_triples,
                                             c.leave_k_out_step, hood)
            clock.lap('calibrate')
            tables = self._row_tables(target)
            before = {k: t[affected.to(t.device)].detach().clone()
                      for k, t in tables.items()}
            scorer.write_rows(affected.to(dev), rows)
            after = {k: t[affected.to(t.device)].detach().clone()
                     for k, t in tables.items()}
        finally:
            self._unfreeze(target, flags)
        delta = ModelDelta(rows=affected, before=before, after=after)
        digest = None
        if self.hash_models:
            digest = self.model_digest().copy()
            for k in tables:
                digest.update_rows(k, affected, before[k], after[k])
        return scorer, delta, digest

    def _row_tables(self, model) -> Dict[str, Tensor]:
        # The state entries with one row per entity (the ones write_rows
        # may change).
        n = int(self.original.num_nodes)
        return {k: t for k, t in model.state_dict(keep_vars=True).items()
                if t.dim() >= 1 and t.size(0) == n}

    def _warn_large(self, affected: Tensor) -> None:
        n = int(self.original.num_nodes)
        if affected.numel() > 0.5 * n:
            warnings.warn(f'the request affects {affected.numel()} of '
                          f'{n} entities: most rows are '
                          f'regenerated, with few unaffected neighbours to '
                          f'read from; retraining may be the better choice')

    def _graph_neighbourhood(self, affected: Tensor) -> 'Neighbourhood':
        r""":meth:`_neighbourhood` from the graph's incidence index: the
        same triples in the same order, at the cost of the affected
        entities' degrees."""
        inc = self.graph.incident(affected)
        g = self.original
        return Neighbourhood.of(affected, g.edge_index[:, inc],
                                g.edge_type[inc])

    def _split_request(self, out: Data):
        r"""The forgotten triples ``[F, 3]``, the affected entity ids ``[A]``
        and the retained graph of a deletion transform's output."""
        fei, fet = out.forget_edge_index, out.forget_edge_type
        forget_triples = torch.stack([fei[0], fet, fei[1]], dim=1)
        affected = out.affected_mask.nonzero().view(-1)
        self._warn_large(affected)
        retained = Data(edge_index=out.edge_index, edge_type=out.edge_type,
                        num_nodes=self.data.num_nodes,
                        num_relations=self.data.num_relations)
        return forget_triples, affected, retained

    @staticmethod
    def _neighbourhood(out: Data, affected: Tensor) -> 'Neighbourhood':
        r"""The affected entities' retained incident triples, relabelled to
        a local node set."""
        inc = (out.affected_mask[out.edge_index[0]]
               | out.affected_mask[out.edge_index[1]]).nonzero().view(-1)
        return Neighbourhood.of(affected, out.edge_index[:, inc],
                                out.edge_type[inc])

    def _generate_rows(self, scorer: KGEScorer, hood: 'Neighbourhood',
                       ensemble: int) -> Tensor:
        r"""The generated representations ``[A, D]`` of the affected
        entities: the mean of :obj:`ensemble` generator passes, each over at
        most :obj:`unlearn_max_edges` support triples per entity (and, for
        :math:`K > 1`, random support dropout)."""
        c = self.config
        dev = scorer.device
        nodes_d, aff_d = hood.nodes.to(dev), hood.affected_mask.to(dev)
        ei_d, et_d = hood.edge_index.to(dev), hood.edge_type.to(dev)
        self.generator.eval()
        g = torch.Generator().manual_seed(c.seed)
        outs = []
        with torch.no_grad():
            for _ in range(ensemble):
                keep = self._cap_edges(hood.edge_index, hood.affected_mask,
                                       c.unlearn_max_edges, g)
                if ensemble > 1 and c.ensemble_dropout > 0:
                    keep &= torch.rand(et_d.numel(), generator=g) >= \
                        c.ensemble_dropout
                keep = keep.to(dev)
                outs.append(self._generate(scorer, nodes_d, aff_d,
                                           ei_d[:, keep], et_d[keep], ei_d,
                                           et_d))
        return torch.stack(outs).mean(0)[hood.affected_local.to(dev)]

    def _leave_k_out(self, scorer: KGEScorer, affected: Tensor,
                     rows: Tensor, free: Tensor, forget: Tensor,
                     step: float = 2.0,
                     hood: Optional['Neighbourhood'] = None) -> Tensor:
        r"""The learning-free correction used without unseen reference
        triples: :math:`\mathbf{e}' = \mathbf{e} + s \frac{k}{n}
        (\mathbf{e} - \bar{\mathbf{m}}_F)` for an entity with :math:`n`
        retained and :math:`k` forgotten triples, :math:`\bar{\mathbf{m}}_F`
        the mean of what the forgotten triples imply for it through the
        score, and step :math:`s` (the reference of ``design.md``, section
        2)."""
        dev = rows.device
        f = forget.to(dev)
        pos = Positions(affected.to(dev))
        with torch.no_grad():
            h = scorer.represent(scorer.param_rows(f[:, 0]))
            t = scorer.represent(scorer.param_rows(f[:, 2]))
            implied = torch.cat([scorer.tail_query_rep(h, f[:, 1]),
                                 scorer.head_query_rep(f[:, 1], t)])
            ends = pos[torch.cat([f[:, 2], f[:, 0]])]
            ok = ends >= 0
            k = torch.bincount(ends[ok], minlength=affected.numel()).float()
            mean = torch.zeros_like(rows).index_add_(0, ends[ok],
                                                     implied[ok])
            mean = mean / k.clamp(min=1)[:, None]
            if not scorer.distance:  # a query direction: the row's scale
                mean = mean * (rows.norm(dim=-1, keepdim=True) /
                               mean.norm(dim=-1, keepdim=True).clamp(
                                   min=1e-12))
            # n: the retained triples of each affected entity (each end).
            n_kept = torch.bincount(hood.edge_index.reshape(-1),
                                    minlength=hood.nodes.numel()
                                    )[hood.affected_local].to(dev).float()
            w = (k / n_kept.clamp(min=1))[:, None]
            new = rows + step * w * (rows - mean)
        return torch.where((free.to(dev) & (k > 0))[:, None], new, rows)

    def _calibrate(self, scorer: KGEScorer, affected: Tensor, rows: Tensor,
                   free: Tensor, forget: Tensor,
                   hood: 'Neighbourhood') -> Tensor:
        r"""The calibration of ``"correct"`` mode (see
        :func:`~torch_geometric_unlearn.metaeu.calibration.calibrate`):
        targets from the trained model's scores of the forgotten triples,
        anchors from the retained incident triples' scores before the
        request; only the rows in :obj:`free` move."""
        c = self.config
        reference = self.score_reference()
        dev = scorer.device
        current = get_scorer(self.model)  # the model before this request
        # A forgotten triple of an entity with nothing retained (rebuilt
        # from its neighbours) has no unseen-triple target: a model retrained
        # without the entity scores it like a triple of an unknown entity.
        pos = Positions(affected)
        both_kept = free[pos[forget[:, 0]]] & free[pos[forget[:, 2]]]
        rules = c.calibrate_linked == 'rules' and getattr(
            reference, 'link_confidence', None) is not None
        if getattr(reference, 'linked_share', 1.0) < 0.01 and not rules:
            # The reference holds no triple whose entities stay linked, so
            # it gives no target for such a forgotten triple.
            n = int(self.original.num_nodes)
            g = hood.edge_index_global
            pairs = torch.cat([g[0] * n + g[1], g[1] * n + g[0]])
            both_kept &= ~torch.isin(forget[:, 0] * n + forget[:, 2], pairs)
        forget = forget[both_kept]
        if forget.numel() == 0:
            return rows
        # Only the entities with a target move (a hub's neighbours, whose
        # one forgotten triple was the deleted hub's, keep their rows).
        movers = torch.zeros(affected.numel(), dtype=torch.bool)
        movers[pos[forget[:, 0]]] = True
        movers[pos[forget[:, 2]]] = True
        kept, free = free, free & movers
        earlier, earlier_targets = self._earlier_forgotten(affected, free,
                                                           forget)
        with torch.no_grad():
            before = self._first_rows_lookup(current, affected)
            # Whether every row the calibration starts from is the row its
            # targets and anchors are scored at (nothing of this request
            # moved them yet, no earlier request rewrote a resting one):
            # then those scores are the start scores too.
            now = current.represent(current.param_rows(affected.to(dev)))
            kd, rest = kept.to(dev), (kept & ~free).to(dev)
            same_start = earlier.numel() == 0 and \
                torch.equal(rows[kd], now[kd]) and \
                torch.equal(now[rest], before(affected[kept & ~free]))
            if c.calibrate_from == 'original':
                # The moving rows start again from their rows before the
                # first request that rewrote them, with every triple
                # forgotten around them since.
                # (what this request did so far, e.g. MetaEU-FT, is kept
                # on top: a row rewritten for the first time is unchanged).
                moving = affected[free].to(dev)
                rows = rows.clone()
                rows[free.to(dev)] += before(moving) - now[free.to(dev)]
            f = forget.to(dev)
            retained = torch.stack([hood.edge_index_global[0],
                                    hood.edge_type,
                                    hood.edge_index_global[1]], 1)
            trained = triple_scores(current, None, f, before)
            targets = reference.targets(f[:, 1], trained)
            if rules:
                # Entities another retained triple links: the share of
                # the trained score that the rules from those triples
                # would give back.
                targets = reference.linked_targets(
                    forget, trained, targets.to(trained.device), retained)
            self._remember_targets(forget, targets)
            if earlier.numel():
                # Triples forgotten by earlier requests around these rows
                # keep the targets they were given, so moving the rows
                # again neither brings them back nor pushes them lower.
                f = torch.cat([f, earlier.to(dev)])
                targets = torch.cat([targets.to(dev),
                                     earlier_targets.to(dev)])
            # A seeded sample of each entity's retained triples anchors it.
            keep = self._cap_edges(hood.edge_index, hood.affected_mask,
                                   c.calibrate_max_edges,
                                   torch.Generator().manual_seed(c.seed)) \
                if c.calibrate_max_edges != 0 else torch.zeros(
                    hood.edge_type.numel(), dtype=torch.bool)
            nb = retained[keep]
            # Anchors hold moving rows only.
            ph, pt = pos[nb[:, 0]], pos[nb[:, 2]]
            holds = ((ph >= 0) & free[ph.clamp(min=0)]) | \
                ((pt >= 0) & free[pt.clamp(min=0)])
            nb = nb[holds].to(dev)
            # At the start rows the anchors' goals are their scores there,
            # which the calibration scores itself (anchor=None).
            anchor = None if same_start and c.calibrate_solver == 'adam' \
                else triple_scores(current, None, nb, before)
        if c.calibrate_solver == 'newton':
            return calibrate_newton(scorer, affected.to(dev), rows, f,
                                    targets, nb, anchor,
                                    iterations=c.newton_iterations,
                                    free=free)
        return calibrate(scorer, affected.to(dev), rows, f, targets, nb,
                         anchor, steps=c.calibrate_steps, lr=c.calibrate_lr,
                         weight=c.calibrate_weight, free=free,
                         prox=c.calibrate_prox, anchors=c.calibrate_anchors,
                         engine=c.calibrate_engine,
                         anchor_batches=c.calibrate_anchor_batches,
                         seed=c.seed)

    def _first_rows_lookup(self, current: KGEScorer, affected: Tensor):
        r"""A function of entity ids giving each entity's representation
        before the first request that rewrote it (with
        :obj:`calibrate_from="original"`; its current row otherwise).
        Rows are recorded the first time a request affects them, so the
        store grows with the entities touched, not with the graph."""
        def now(i):
            return current.represent(current.param_rows(i))
        if self.config.calibrate_from != 'original':
            return now
        store = getattr(self, '_first_rows', None)
        new = affected if store is None else affected[
            Positions(store[0])[affected] < 0]
        if new.numel():
            rows = now(new.to(current.device)).detach().cpu()
            ids = new if store is None else torch.cat([store[0], new])
            rows = rows if store is None else torch.cat([store[1], rows])
            order = torch.argsort(ids)
            store = self._first_rows = (ids[order], rows[order])
        pos = Positions(store[0])

        def first(i):
            p = pos[i.cpu()]
            out = now(i)
            hit = p >= 0
            if bool(hit.any()):
                out = out.clone()
                out[hit.to(out.device)] = store[1][p[hit]].to(out)
            return out
        return first

    def _keys(self, triples: Tensor) -> Tensor:
        g = self.original
        return triple_keys(triples[:, 0], triples[:, 1], triples[:, 2],
                           int(g.num_nodes), int(g.num_relations))

    def _remember_targets(self, triples: Tensor, targets: Tensor) -> None:
        store = getattr(self, '_forget_targets', None)
        if store is None:
            store = self._forget_targets = {}
        keys = self._keys(triples)
        store.update(zip(keys.tolist(), targets.tolist()))

    def _earlier_forgotten(self, affected: Tensor, free: Tensor,
                           current: Tensor):
        r"""The triples of earlier requests incident to the free affected
        entities (at least one end free), with the calibration targets they
        got then: ``([K, 3], [K])``. Costs the affected entities'
        degrees."""
        empty = (torch.zeros(0, 3, dtype=torch.long), torch.zeros(0))
        store = getattr(self, '_forget_targets', None)
        if not self.config.calibrate_earlier or not store:
            return empty
        g = self.graph
        ids = torch.unique(g.index.incident(affected[free]))
        ids = ids[~g.alive[ids]]
        if ids.numel() == 0:
            return empty
        t = g.triples_of(ids)
        keys = self._keys(t).tolist()
        now = set(self._keys(current).tolist())
        pos = Positions(affected)
        # Held wherever one end moves: the other end, moving or not, keeps
        # the row it has (a triple with a fixed end left out climbed back
        # when its moving end restarted from its first row).
        ok = (free[pos[t[:, 0]].clamp(min=0)] & (pos[t[:, 0]] >= 0)) | \
            (free[pos[t[:, 2]].clamp(min=0)] & (pos[t[:, 2]] >= 0))
        sel = [i for i, k in enumerate(keys)
               if k in store and k not in now and bool(ok[i])]
        if not sel:
            return empty
        sel_t = torch.tensor(sel, dtype=torch.long)
        return t[sel_t], torch.tensor([store[keys[i]] for i in sel])

    @staticmethod
    def _cap_edges(edge_index: Tensor, affected: Tensor, cap: Optional[int],
                   generator: torch.Generator) -> Tensor:
        r"""Boolean mask of the edges kept when each affected node keeps at
        most :obj:`cap` random incident edges (an edge stays if either of its
        affected ends keeps it)."""
        num_edges = edge_index.size(1)
        keep = torch.zeros(num_edges, dtype=torch.bool)
        if cap is None or num_edges == 0:
            return ~keep
        prio = torch.rand(num_edges, generator=generator,
                          dtype=torch.float32)
        # The affected ends' slots in the flattened [2 * E] ends: slot i is
        # an end of edge i mod E.
        flat = edge_index.reshape(-1)
        slot = affected[flat].nonzero().view(-1)
        ends = flat[slot]
        eid = slot % num_edges
        # Sort by (end, priority): the first `cap` of each end are kept
        # (one integer sort: torch.rand's float32 draws are multiples of
        # 2^-24, so end * 2^24 + priority * 2^24 orders exactly as the pair).
        key = ends * (1 << 24) + (prio[eid] * (1 << 24)).long()
        order = torch.argsort(key, stable=True)
        ends, eid = ends[order], eid[order]
        first = torch.ones_like(ends, dtype=torch.bool)
        first[1:] = ends[1:] != ends[:-1]
        start = torch.cummax(torch.where(
            first, torch.arange(ends.numel()), torch.zeros_like(ends)),
            dim=0).values
        rank = torch.arange(ends.numel()) - start
        keep[eid[rank < cap]] = True
        return keep

    def _refine(self, scorer: KGEScorer, affected: Tensor, rows: Tensor,
                edge_index: Tensor, edge_type: Tensor,
                steps: int) -> Tensor:
        r"""MetaEU-FT: a few Adam steps on the affected rows only, on their
        retained triples against shared random negatives."""
        c = self.config
        n = int(self.original.num_nodes)
        pos_of = Positions(affected)
        param = torch.nn.Parameter(rows.detach().clone())
        lr = c.refine_lr if c.refine_lr is not None else REFINE_LR.get(
            self.model_name, 1e-3)
        opt = torch.optim.Adam([param], lr=lr)
        g = torch.Generator().manual_seed(c.seed + 1)
        h, t = edge_index

        def rep(idx):
            p = pos_of[idx]
            mine = scorer.represent(param[p.clamp(min=0)])
            theirs = scorer.represent(scorer.param_rows(idx))
            return torch.where((p >= 0)[:, None], mine, theirs)

        batch = c.refine_batch_size
        for _ in range(steps):
            sel = torch.randint(h.numel(), (min(batch, h.numel()), ),
                                generator=g).to(rows.device)
            neg_ids = torch.randint(n, (c.num_negatives, ),
                                    generator=g).to(rows.device)
            neg = scorer.represent(scorer.param_rows(neg_ids))
            # The refined rows are negatives for each other's triples too.
            own = torch.randperm(affected.numel(),
                                 generator=g)[:c.num_negatives]
            own = own.to(rows.device)
            # Negatives that are true answers (the answer itself
            # included) are filtered out.
            hm, tm = self._true_masks(h[sel], edge_type[sel], t[sel],
                                      torch.cat([neg_ids.cpu(),
                                                 affected[own].cpu()]))
            loss = self._triple_loss(scorer, rep(h[sel]), edge_type[sel],
                                     rep(t[sel]), neg,
                                     scorer.represent(param[own]),
                                     hm.to(rows.device), tm.to(rows.device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        return scorer.represent(param.detach())
