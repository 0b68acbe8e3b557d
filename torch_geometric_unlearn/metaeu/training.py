r"""Meta-training of :class:`~torch_geometric_unlearn.MetaEU` ("learn to
unlearn"): episodes of simulated deletions on the frozen KGE model, the
episode loss, validation and early stopping."""
from __future__ import annotations

import copy
import math
import time
from typing import Dict, List, Optional, Sequence

import torch
from torch import Tensor
from tqdm.auto import tqdm

from ..datasets.kg import TripleSet
from ..distributed import (all_reduce_gradients, broadcast_object,
                           is_distributed, is_main_process, rank_seed)
from ..kge.evaluate import rank_against_negatives
from ..kge.scoring import KGEScorer, get_scorer
from .calibration import triple_scores
from .episodes import Episode, EpisodeSampler

__all__ = ['MetaTraining']


class MetaTraining:
    r"""The meta-training half of :class:`~torch_geometric_unlearn.MetaEU`
    (a mixin: it uses the generator, the scoring helpers and the config of
    the class it is mixed into)."""

    def _episode_loss(self, scorer: KGEScorer, ep: Episode,
                      neg_ids: Tensor) -> Tensor:
        neg = scorer.represent(scorer.param_rows(neg_ids.to(scorer.device)))
        dev = scorer.device
        nodes = ep.nodes.to(dev)
        out = self._generate(scorer, nodes, ep.affected.to(dev),
                             ep.support_index.to(dev),
                             ep.support_type.to(dev))
        qi = ep.query_index.to(dev)
        rel = ep.query_type.to(dev)
        extra, head_mask, tail_mask = self._episode_extra(out, ep, qi, rel,
                                                          neg_ids)
        loss = self._triple_loss(scorer, out[qi[0]], rel, out[qi[1]], neg,
                                 extra, head_mask, tail_mask)
        reference = self._reference if self.config.forget_weight > 0 \
            else None
        if reference is not None and ep.forget_index is not None and \
                ep.forget_index.numel():
            loss = loss + self.config.forget_weight * self._forget_loss(
                scorer, reference, ep, nodes, out)
        return loss

    def _forget_loss(self, scorer: KGEScorer, reference, ep: Episode,
                     nodes: Tensor, out: Tensor) -> Tensor:
        r"""The forgetting objective: the pseudo-forgotten triples, scored
        with the generated rows, against the median unseen score of their
        relation (see
        :class:`~torch_geometric_unlearn.metaeu.calibration.ScoreReference`),
        in units of the reference's spread."""
        dev = out.device
        fi, ft = ep.forget_index.to(dev), ep.forget_type.to(dev)
        local = torch.stack([fi[0], ft, fi[1]], 1)
        # The generator never sees these triples, so it cannot know how
        # well the model knew each: the target is its relation's typical
        # unseen score.
        targets = reference.typical(ft).to(dev)
        spread = reference.pooled_unseen.std().clamp(min=1e-6).to(dev)
        return ((triple_scores(scorer, out, local) - targets) /
                spread).pow(2).mean()

    def _true_masks(self, head: Tensor, rel: Tensor, tail: Tensor,
                    cand: Tensor):
        r"""``[Q, T]`` masks of the candidate entities :obj:`cand` that are
        true tails of ``(head, rel, ?)`` / true heads of ``(?, rel, tail)``
        in the current training graph."""
        known = self._known_triples()
        head, rel, tail, cand = (x.cpu() for x in (head, rel, tail, cand))
        # From each query's answers, not a search of every (query,
        # candidate) pair.
        head_mask = known.answer_mask(tail, rel, cand, side='head')
        tail_mask = known.answer_mask(head, rel, cand, side='tail')
        return head_mask, tail_mask

    def _known_triples(self) -> TripleSet:
        r"""The current training graph's triples (cached per graph)."""
        cache = getattr(self, '_known_cache', None)
        if cache is None or cache[0] is not self.data:
            cache = (self.data, TripleSet.from_data(
                self.data, int(self.model.num_relations)))
            self._known_cache = cache
        return cache[1]

    def _episode_extra(self, out: Tensor, ep: Episode, qi: Tensor,
                       rel: Tensor, neg_ids: Tensor):
        r"""The generated rows of an episode as extra negatives, with the
        ``[Q, K + T]`` masks of the candidates -- the :obj:`neg_ids`
        ``[K]`` and the episode's generated entities ``[T]`` -- that are
        true answers of a query. A random negative may be the answer
        itself, under its trained row: on a small graph (CoDEx-S, 2k
        entities) an episode's 256 negatives hold it for one query in
        eight, and ranking the generated row above its own trained row
        would be learned as a goal."""
        idx = ep.affected.nonzero().view(-1)
        cand = torch.cat([neg_ids.cpu(), ep.nodes[idx]])
        head_mask, tail_mask = self._true_masks(
            ep.nodes[qi[0].cpu()], rel, ep.nodes[qi[1].cpu()], cand)
        dev = out.device
        return out[idx.to(dev)], head_mask.to(dev), tail_mask.to(dev)

    @torch.no_grad()
    def _validate(self, scorer: KGEScorer, episodes: Sequence[Episode],
                  neg_ids: Tensor, use_base: bool = False) -> float:
        r"""Mean reciprocal rank of the hidden query triples of validation
        episodes among random negatives and the episode's generated rows
        (both directions)."""
        neg = scorer.represent(scorer.param_rows(neg_ids))
        rr = []
        dev = scorer.device
        for ep in episodes:
            if ep.query_type.numel() == 0:
                continue
            nodes = ep.nodes.to(dev)
            x = scorer.represent(scorer.param_rows(nodes))
            out, base = self.generator(
                x, ep.support_index.to(dev), ep.support_type.to(dev),
                ep.affected.to(dev), implied=self._implied(scorer),
                return_base=True)
            if use_base:
                out = base
            qi = ep.query_index.to(dev)
            rel = ep.query_type.to(dev)
            extra, head_mask, tail_mask = self._episode_extra(
                out, ep, qi, rel, neg_ids)
            for p, n in self._scores(scorer, out[qi[0]], rel, out[qi[1]],
                                     neg, extra, head_mask, tail_mask):
                rr.append(rank_against_negatives(p, n).reciprocal())
        if not rr:
            return float('nan')
        return float(torch.cat(rr).mean())

    def fit(self, episodes: Optional[int] = None,
            checkpoint: Optional[str] = None) -> List[Dict[str, float]]:
        r"""Meta-trains the generator on simulated deletions ("learn to
        unlearn") with the KGE model frozen.

        Each episode pseudo-forgets random triples of the current training
        graph, hides a share of the targets' other triples as queries and
        trains the generator to score the queries of the generated
        representations above random negatives through the KGE model's own
        scoring function (utility) and, given unseen reference triples, the
        pseudo-forgotten triples at the score of an unseen triple of their
        relation (forgetting, weighted by :obj:`forget_weight`). Every
        :obj:`eval_every` episodes the MRR of the hidden queries of fixed
        held-out episodes is measured; the best generator state is kept
        (the untrained generator, i.e. the learning-free mean estimate, is
        the first candidate), and training
        stops after :obj:`patience` validations without improvement.

        Args:
            episodes (int, optional): Number of episodes (default: the
                config's).
            checkpoint (str, optional): Save the best MetaEU here whenever
                validation improves. (default: :obj:`None`)

        Returns:
            The history: one dict per validation.
        """
        c = self.config
        total = c.episodes if episodes is None else int(episodes)
        scorer = get_scorer(self.model)
        dev = scorer.device
        flags = self._freeze(self.model)
        was_training = self.model.training
        self.model.eval()
        parallel = is_distributed()
        main = is_main_process()
        try:
            if self.reference_triples is not None:
                self.score_reference()  # the forgetting objective's targets
            # Rank 0 draws the single-process stream; other ranks their own.
            g = torch.Generator().manual_seed(rank_seed(c.seed))
            sampler = EpisodeSampler(self.data.edge_index, self.data.edge_type,
                                     self.data.num_nodes, c.episode_forget,
                                     c.max_edges, c.query_ratio,
                                     c.forget_queries)
            gv = torch.Generator().manual_seed(c.seed + 7919)
            val_eps = [sampler.sample(gv) for _ in range(c.val_episodes)]
            val_neg = torch.randint(self.data.num_nodes, (c.val_negatives, ),
                                    generator=gv).to(dev)
            opt = torch.optim.Adam(self.generator.parameters(), lr=c.lr,
                                   weight_decay=c.weight_decay)
            start = time.perf_counter()
            best, best_state, bad = -math.inf, None, 0
            if val_eps and c.eval_every > 0:
                entry = None
                if main:  # validation runs on rank 0 and is broadcast
                    self.generator.eval()
                    base_mrr = self._validate(scorer, val_eps, val_neg,
                                              use_base=True)
                    mrr = self._validate(scorer, val_eps, val_neg)
                    entry = dict(episode=0, val_mrr=mrr, base_mrr=base_mrr,
                                 loss=math.nan, seconds=0.0)
                entry = broadcast_object(entry)
                self.history.append(entry)
                best = entry['val_mrr']
                best_state = copy.deepcopy(self.generator.state_dict())
            bar = tqdm(range(1, total + 1), desc='meta-training',
                       disable=not self.progress or not main)
            running = []
            for step in bar:
                self.generator.train()
                ep = sampler.sample(g)
                empty = ep.query_type.numel() == 0
                if empty and not parallel:
                    continue
                opt.zero_grad()
                value = 0.0
                if not empty:
                    neg_ids = torch.randint(self.data.num_nodes,
                                            (c.num_negatives, ), generator=g)
                    loss = self._episode_loss(scorer, ep, neg_ids)
                    loss.backward()
                    value = float(loss.detach())
                elapsed = time.perf_counter() - start
                out_of_time = c.max_minutes > 0 and \
                    elapsed > 60 * c.max_minutes
                if parallel:
                    # Averaged over the ranks' episodes; every rank agrees
                    # on the step, the mean loss and on stopping.
                    red = all_reduce_gradients(
                        self.generator.parameters(),
                        weight=0.0 if empty else 1.0,
                        flags=[float(out_of_time), value])
                    out_of_time = red['flags'][0] > 0
                    if red['weight'] > 0:
                        opt.step()
                        running.append(red['flags'][1] / red['weight'])
                else:
                    opt.step()
                    running.append(value)
                if val_eps and c.eval_every > 0 and (
                        step % c.eval_every == 0 or step == total
                        or out_of_time):
                    entry = None
                    if main:
                        self.generator.eval()
                        mrr = self._validate(scorer, val_eps, val_neg)
                        entry = dict(
                            episode=step, val_mrr=mrr,
                            loss=sum(running) / max(len(running), 1),
                            seconds=elapsed)
                    entry = broadcast_object(entry)
                    self.history.append(entry)
                    mrr = entry['val_mrr']
                    running = []
                    bar.set_postfix(val_mrr=f'{mrr:.4f}')
                    if mrr > best:
                        best, bad = mrr, 0
                        best_state = copy.deepcopy(
                            self.generator.state_dict())
                        if checkpoint and main:
                            self.save(checkpoint)
                    else:
                        bad += 1
                        if c.patience and bad >= c.patience:
                            break
                if out_of_time:
                    break
            bar.close()
            if best_state is not None:
                self.generator.load_state_dict(best_state)
            self.generator.eval()
            self.fit_seconds += time.perf_counter() - start
            if checkpoint and best_state is None and main:
                self.save(checkpoint)
        finally:
            self._unfreeze(self.model, flags)
            self.model.train(was_training)
        return self.history
