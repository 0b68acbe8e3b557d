r"""MetaEU: meta-learned knowledge graph embedding unlearning."""
from __future__ import annotations

import copy
import math
import os
import time
import warnings
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from tqdm.auto import tqdm

from ..datasets.kg import KGDataset, check_kg
from ..kge.scoring import KGEScorer, get_scorer, model_name
from ..nn.generator import EmbeddingGenerator
from ..transforms import ForgetEntity, ForgetRelation, ForgetTriples
from .episodes import Episode, EpisodeSampler

FORMAT = 'torch_geometric_unlearn.metaeu/1'

#: Default logit scale and margin of the meta-training loss per model: the
#: logits are ``score_scale * score + margin`` (as in the KGE trainer's
#: default recipes).
LOSS_DEFAULTS = {
    'transe': (8.0, 6.0),
    'rotate': (1.0, 0.0),
    'distmult': (1.0, 0.0),
    'complex': (1.0, 0.0),
}


#: Default learning rate of the MetaEU-FT refinement per model.
REFINE_LR = {'transe': 1e-3, 'rotate': 1e-2, 'distmult': 1e-3,
             'complex': 1e-3}


@dataclass
class MetaEUConfig:
    r"""Hyper-parameters of :class:`MetaEU` (all JSON-able).

    Args:
        hidden_channels (int): Hidden size of NEEM. (default: :obj:`64`)
        num_layers (int): NEEM layers. (default: :obj:`3`)
        num_bases (int): Bases of NEEM's relation weights.
            (default: :obj:`4`)
        num_passes (int): Generation passes (see
            :class:`~torch_geometric_unlearn.nn.EmbeddingGenerator`).
            (default: :obj:`1`)
        use_implied (bool): Give the generator the KGE model's implied
            representations (e.g. :math:`\mathbf{t} - \mathbf{r}`). Without
            them it starts from RAEEG alone. (default: :obj:`True`)
        episodes (int): Meta-training episodes. (default: :obj:`1000`)
        episode_forget (int): Pseudo-forgotten triples per episode (more
            makes episodes look like larger requests, where many neighbours
            of an affected entity are affected too). (default: :obj:`256`)
        max_edges (int): Triples drawn per target entity in an episode.
            (default: :obj:`32`)
        query_ratio (float): Share of a target's triples hidden as queries.
            (default: :obj:`0.25`)
        forget_queries (bool): Score the pseudo-forgotten triples as queries
            too (see :class:`EpisodeSampler`). (default: :obj:`False`)
        num_negatives (int): Shared random negatives per episode.
            (default: :obj:`256`)
        loss (str): :obj:`"self_adversarial"` (RotatE's self-adversarial
            negative sampling) or :obj:`"softmax"`.
            (default: :obj:`"self_adversarial"`)
        score_scale (float, optional): Logit scale (default per model, see
            :data:`LOSS_DEFAULTS`).
        margin (float, optional): Logit offset (default per model).
        adversarial_temperature (float): :math:`\alpha`. (default: :obj:`1.0`)
        lr (float): Adam learning rate. (default: :obj:`1e-3`)
        weight_decay (float): (default: :obj:`0.0`)
        eval_every (int): Validate every this many episodes.
            (default: :obj:`100`)
        val_episodes (int): Held-out validation episodes.
            (default: :obj:`8`)
        val_negatives (int): Random negatives that validation ranks a query
            against. (default: :obj:`500`)
        patience (int): Stop after this many validations without
            improvement (0: never). (default: :obj:`5`)
        max_minutes (float): Wall-time limit of :meth:`MetaEU.fit` (0: none).
            (default: :obj:`0`)
        num_hops (int): Default expansion of the affected entities at
            unlearning time. (default: :obj:`0`)
        ensemble (int): Default ensemble size :math:`K`. (default: :obj:`1`)
        ensemble_dropout (float): Support-triple dropout of each ensemble
            member when :math:`K > 1`. (default: :obj:`0.1`)
        unlearn_max_edges (int, optional): At unlearning time the message
            passing reads at most this many (seeded random) retained triples
            per affected entity -- meta-training sees at most
            :obj:`max_edges` -- while the implied mean reads all of them
            (:obj:`None`: all). (default: :obj:`32`)
        refine_steps (int): Default MetaEU-FT refinement steps.
            (default: :obj:`0`)
        refine_lr (float, optional): Adam learning rate of the refinement
            (default per model, see :data:`REFINE_LR`).
        refine_batch_size (int): Retained triples per refinement step
            (scored against :obj:`num_negatives` random entities and as many
            refined rows). (default: :obj:`1024`)
        seed (int): Random seed. (default: :obj:`0`)
    """
    hidden_channels: int = 64
    num_layers: int = 3
    num_bases: int = 4
    num_passes: int = 1
    use_implied: bool = True
    episodes: int = 1000
    episode_forget: int = 256
    max_edges: int = 32
    query_ratio: float = 0.25
    forget_queries: bool = False
    num_negatives: int = 256
    loss: str = 'self_adversarial'
    score_scale: Optional[float] = None
    margin: Optional[float] = None
    adversarial_temperature: float = 1.0
    lr: float = 1e-3
    weight_decay: float = 0.0
    eval_every: int = 100
    val_episodes: int = 8
    val_negatives: int = 500
    patience: int = 5
    max_minutes: float = 0.0
    num_hops: int = 0
    ensemble: int = 1
    ensemble_dropout: float = 0.1
    unlearn_max_edges: Optional[int] = 32
    refine_steps: int = 0
    refine_lr: Optional[float] = None
    refine_batch_size: int = 1024
    seed: int = 0

    def __post_init__(self) -> None:
        if self.loss not in ('self_adversarial', 'softmax'):
            raise ValueError(f"unknown loss '{self.loss}' (expected "
                             f"'self_adversarial' or 'softmax')")
        for name in ('hidden_channels', 'num_layers', 'num_bases',
                     'num_passes', 'episode_forget', 'max_edges',
                     'num_negatives', 'val_negatives', 'ensemble'):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"'{name}' must be >= 1")
        for name in ('episodes', 'eval_every', 'val_episodes', 'patience',
                     'num_hops', 'refine_steps'):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"'{name}' must be >= 0")
        if not 0.0 <= self.ensemble_dropout < 1.0:
            raise ValueError("'ensemble_dropout' must lie in [0, 1)")

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> 'MetaEUConfig':
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f'unknown MetaEU options: {sorted(unknown)}')
        return cls(**d)


@dataclass
class UnlearningRecord:
    r"""What one :meth:`MetaEU.unlearn` call did.

    Attributes:
        request (str): The request, in words.
        forget_triples (Tensor): The forgotten ``(head, relation, tail)``
            rows ``[F, 3]``.
        affected (Tensor): Ids of the entities whose rows were regenerated.
        num_hops, ensemble, refine_steps: The options used.
        seconds (float): Wall time of the whole request.
        timings (dict): Seconds per stage.
    """
    request: str
    forget_triples: Tensor
    affected: Tensor
    num_hops: int
    ensemble: int
    refine_steps: int
    seconds: float
    timings: Dict[str, float] = field(default_factory=dict)

    @property
    def num_forget(self) -> int:
        return int(self.forget_triples.size(0))

    @property
    def num_affected(self) -> int:
        return int(self.affected.numel())

    def to_dict(self, with_ids: bool = True) -> Dict[str, Any]:
        r"""A JSON-able summary (ids as lists when :obj:`with_ids`)."""
        out = dict(request=self.request, num_forget=self.num_forget,
                   num_affected=self.num_affected, num_hops=self.num_hops,
                   ensemble=self.ensemble, refine_steps=self.refine_steps,
                   seconds=self.seconds, timings=dict(self.timings))
        if with_ids:
            out['forget_triples'] = self.forget_triples.tolist()
            out['affected'] = self.affected.tolist()
        return out


@dataclass
class UnlearningResult:
    r"""The output of :meth:`MetaEU.unlearn`.

    Attributes:
        model (torch.nn.Module): The KGE model after unlearning (a copy
            unless unlearning ran in place).
        data (Data): The retained training graph.
        record (UnlearningRecord): What was done.
    """
    model: torch.nn.Module
    data: Data
    record: UnlearningRecord


def _isin_sorted(keys: Tensor, sorted_keys: Tensor) -> Tensor:
    if sorted_keys.numel() == 0:
        return torch.zeros_like(keys, dtype=torch.bool)
    pos = torch.searchsorted(sorted_keys, keys).clamp(
        max=sorted_keys.numel() - 1)
    return sorted_keys[pos] == keys


def _ids_text(ids) -> str:
    ids = torch.as_tensor(ids).view(-1).tolist()
    text = ', '.join(str(i) for i in ids[:10])
    return text + (f', ... ({len(ids)} in all)' if len(ids) > 10 else '')


def request_transform(triples=None, edge_ids=None, entities=None,
                      relations=None, num_hops: int = 0):
    r"""The deletion transform of a request given as exactly one of
    :obj:`triples` (``[F, 3]`` rows), :obj:`edge_ids`, :obj:`entities` or
    :obj:`relations`, and a short description of it."""
    given = [x is not None for x in (triples, edge_ids, entities,
                                     relations)]
    if sum(given) != 1:
        raise ValueError('give exactly one of triples, edge_ids, '
                         'entities or relations')
    if triples is not None:
        if not torch.is_tensor(triples):
            triples = torch.as_tensor(triples)
        if triples.dim() == 1 and triples.numel() == 3:
            triples = triples.view(1, 3)
        return (ForgetTriples(triples=triples, num_hops=num_hops),
                f'{triples.size(0)} triple(s)')
    if edge_ids is not None:
        return (ForgetTriples(edge_ids=edge_ids, num_hops=num_hops),
                'edge ids')
    if entities is not None:
        return (ForgetEntity(entities, num_hops=num_hops),
                f'entities {_ids_text(entities)}')
    return (ForgetRelation(relations, num_hops=num_hops),
            f'relations {_ids_text(relations)}')


def _as_graph(data: Union[Data, KGDataset]) -> Data:
    if isinstance(data, KGDataset):
        data = data.train
    check_kg(data)
    return Data(edge_index=data.edge_index, edge_type=data.edge_type,
                num_nodes=int(data.num_nodes),
                num_relations=int(data.num_relations)
                if 'num_relations' in data else None)


class MetaEU:
    r"""Meta-learned knowledge graph embedding unlearning, from the `"Learn
    to Unlearn: Meta-Learning-Based Knowledge Graph Embedding Unlearning"
    <https://arxiv.org/abs/2412.00881>`_ paper.

    Wraps a trained PyG KGE model (:class:`~torch_geometric.nn.kge.TransE`,
    :class:`DistMult`, :class:`ComplEx`, :class:`RotatE`) and its training
    graph. :meth:`fit` meta-trains an
    :class:`~torch_geometric_unlearn.nn.EmbeddingGenerator` (RAEEG + NEEM)
    on simulated deletions with the KGE model frozen; :meth:`unlearn` then
    serves a deletion request with the deletion transform and one generator
    forward pass over the affected entities' retained neighbourhood, writing
    the generated rows into a copy of the model.

    .. code-block:: python

        meu = MetaEU(model, kg.train)
        meu.fit(episodes=500)
        result = meu.unlearn(torch.tensor([[0, 3, 7]]))  # (h, r, t) rows
        result.model, result.record.seconds

    Requests are sequential: each :meth:`unlearn` works on the retained
    graph and the model of the previous one (:attr:`data`,
    :attr:`model`), so what was forgotten stays forgotten. The model given
    to the constructor is never modified unless ``inplace=True``.

    This is approximate unlearning: the generator's weights were
    meta-trained on the graph that held the forgotten triples, and the rows
    of entities outside the affected set are kept as trained.

    Args:
        model (torch.nn.Module): The trained KGE model (kept frozen).
        data (Data or KGDataset): Its training graph (a dataset's
            :obj:`train` split is used).
        config (MetaEUConfig, optional): Hyper-parameters; keyword arguments
            override single fields. (default: :obj:`MetaEUConfig()`)
        progress (bool, optional): Show progress bars. (default: :obj:`True`)
    """
    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 config: Optional[MetaEUConfig] = None,
                 progress: bool = True, **kwargs) -> None:
        cfg = asdict(config) if config is not None else {}
        cfg.update(kwargs)
        self.config = MetaEUConfig.from_dict(cfg)
        self.progress = progress
        scorer = get_scorer(model)
        if type(scorer).tail_query_rep is KGEScorer.tail_query_rep:
            raise TypeError(f'MetaEU supports TransE, DistMult, ComplEx and '
                            f'RotatE, not {type(model).__name__}')
        self.model = model
        self.model_name = model_name(model)
        self.data = _as_graph(data)
        n, r = int(model.num_nodes), int(model.num_relations)
        if self.data.num_nodes != n:
            raise ValueError(f'the graph has {self.data.num_nodes} entities '
                             f'but the model {n}')
        if self.data.edge_type.numel() and int(self.data.edge_type.max()) \
                >= r:
            raise ValueError(f'the graph has relation ids >= the model\'s '
                             f'{r} relations')
        self.data.num_relations = r
        self.channels = int(scorer.param_rows(torch.zeros(
            1, dtype=torch.long, device=scorer.device)).size(-1))
        c = self.config
        with torch.random.fork_rng(devices=[]):  # seeded, caller's RNG kept
            torch.manual_seed(c.seed)
            self.generator = EmbeddingGenerator(r, self.channels,
                                                c.hidden_channels,
                                                c.num_layers, c.num_bases,
                                                c.num_passes,
                                                match_norm=not scorer.distance)
        self.generator.to(scorer.device)
        with torch.no_grad():
            sample = torch.arange(min(n, 100_000), device=scorer.device)
            self.generator.set_scale(
                scorer.represent(scorer.param_rows(sample)))
        self.history: List[Dict[str, float]] = []
        self.records: List[UnlearningRecord] = []
        self.fit_seconds = 0.0

    # Helpers ################################################################

    @property
    def device(self) -> torch.device:
        return get_scorer(self.model).device

    def _loss_params(self):
        scale, margin = LOSS_DEFAULTS.get(self.model_name, (1.0, 0.0))
        if self.config.score_scale is not None:
            scale = self.config.score_scale
        if self.config.margin is not None:
            margin = self.config.margin
        return scale, margin

    def _implied(self, scorer: KGEScorer):
        if not self.config.use_implied:
            return None
        num_rel = int(self.model.num_relations)

        def implied(src: Tensor, edge_type: Tensor) -> Tensor:
            fwd = (edge_type < num_rel).nonzero().view(-1)
            inv = (edge_type >= num_rel).nonzero().view(-1)
            # A forward edge's source is the head: it implies the tail; an
            # inverse edge's source is the tail: it implies the head.
            as_tail = scorer.tail_query_rep(src[fwd], edge_type[fwd])
            as_head = scorer.head_query_rep(edge_type[inv] - num_rel,
                                            src[inv])
            order = torch.argsort(torch.cat([fwd, inv]))
            return torch.cat([as_tail, as_head], dim=0)[order]

        return implied

    @staticmethod
    def _freeze(model: torch.nn.Module):
        flags = [p.requires_grad for p in model.parameters()]
        for p in model.parameters():
            p.requires_grad_(False)
        return flags

    @staticmethod
    def _unfreeze(model: torch.nn.Module, flags) -> None:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)

    def _scores(self, scorer: KGEScorer, head: Tensor, rel: Tensor,
                tail: Tensor, neg: Tensor, extra: Optional[Tensor] = None,
                head_mask: Optional[Tensor] = None,
                tail_mask: Optional[Tensor] = None):
        r"""Positive ``[Q]`` and negative ``[Q, K]`` scores of triples given
        as representations, in both directions (tail side first).

        :obj:`neg` ``[K, D]`` are shared negatives; :obj:`extra` ``[T, D]``
        are further shared negatives -- the generated representations of the
        episode, which must also rank low for queries that are not theirs --
        where :obj:`tail_mask` / :obj:`head_mask` ``[Q, T]`` mark the
        candidates that are true answers of a query (filtered out).
        """
        out = []
        for query, pos, mask in ((scorer.tail_query_rep(head, rel), tail,
                                  tail_mask),
                                 (scorer.head_query_rep(rel, tail), head,
                                  head_mask)):
            p = scorer.score_pairs(query, pos)
            n = scorer.score_against(query, neg)
            if extra is not None and extra.numel() > 0:
                m = scorer.score_against(query, extra)
                if mask is not None:
                    m = m.masked_fill(mask, float('-inf'))
                n = torch.cat([n, m], dim=1)
            out.append((p, n))
        return out

    def _triple_loss(self, scorer: KGEScorer, head: Tensor, rel: Tensor,
                     tail: Tensor, neg: Tensor, extra: Optional[Tensor] = None,
                     head_mask: Optional[Tensor] = None,
                     tail_mask: Optional[Tensor] = None) -> Tensor:
        r"""Loss of triples given as representations ``[Q, D]`` against
        shared negative representations (see :meth:`_scores`), both
        directions."""
        scale, margin = self._loss_params()
        loss = head.new_zeros(())
        for p, n in self._scores(scorer, head, rel, tail, neg, extra,
                                 head_mask, tail_mask):
            p = scale * p + margin
            n = scale * n + margin
            if self.config.loss == 'softmax':
                logits = torch.cat([p[:, None], n], dim=1)
                loss = loss + F.cross_entropy(
                    logits, logits.new_zeros(p.numel(), dtype=torch.long))
            else:
                w = torch.softmax(
                    self.config.adversarial_temperature * n.detach(), dim=1)
                neg_term = torch.where(torch.isinf(n), n.new_zeros(()),
                                       w * F.logsigmoid(-n))
                loss = loss - F.logsigmoid(p).mean() - \
                    neg_term.sum(dim=1).mean()
        return loss / 2

    def _generate(self, scorer: KGEScorer, nodes: Tensor, affected: Tensor,
                  edge_index: Tensor, edge_type: Tensor,
                  base_edge_index: Optional[Tensor] = None,
                  base_edge_type: Optional[Tensor] = None) -> Tensor:
        x = scorer.represent(scorer.param_rows(nodes))
        return self.generator(x, edge_index, edge_type, affected,
                              implied=self._implied(scorer),
                              base_edge_index=base_edge_index,
                              base_edge_type=base_edge_type)

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
        prio = torch.rand(num_edges, generator=generator)
        ends = edge_index.reshape(-1)
        eid = torch.arange(num_edges).repeat(2)
        sel = affected[ends]
        ends, eid = ends[sel], eid[sel]
        # Sort by (end, priority): the first `cap` of each end are kept.
        order = torch.argsort(prio[eid], stable=True)
        order = order[torch.argsort(ends[order], stable=True)]
        ends, eid = ends[order], eid[order]
        first = torch.ones_like(ends, dtype=torch.bool)
        first[1:] = ends[1:] != ends[:-1]
        start = torch.cummax(torch.where(
            first, torch.arange(ends.numel()), torch.zeros_like(ends)),
            dim=0).values
        rank = torch.arange(ends.numel()) - start
        keep[eid[rank < cap]] = True
        return keep

    def _episode_loss(self, scorer: KGEScorer, ep: Episode,
                      neg: Tensor) -> Tensor:
        dev = scorer.device
        nodes = ep.nodes.to(dev)
        out = self._generate(scorer, nodes, ep.affected.to(dev),
                             ep.support_index.to(dev),
                             ep.support_type.to(dev))
        qi = ep.query_index.to(dev)
        rel = ep.query_type.to(dev)
        extra, head_mask, tail_mask = self._episode_extra(out, ep, qi, rel)
        return self._triple_loss(scorer, out[qi[0]], rel, out[qi[1]], neg,
                                 extra, head_mask, tail_mask)

    def _true_masks(self, head: Tensor, rel: Tensor, tail: Tensor,
                    cand: Tensor):
        r"""``[Q, T]`` masks of the candidate entities :obj:`cand` that are
        true tails of ``(head, rel, ?)`` / true heads of ``(?, rel, tail)``
        in the current training graph."""
        keys = self._keys()
        n = self.data.num_nodes
        r = int(self.model.num_relations)
        head, rel, tail, cand = (x.cpu() for x in (head, rel, tail, cand))
        tk = ((head * r + rel) * n)[:, None] + cand[None, :]
        hk = ((cand[None, :] * r + rel[:, None]) * n) + tail[:, None]
        return _isin_sorted(hk, keys), _isin_sorted(tk, keys)

    def _keys(self) -> Tensor:
        if getattr(self, '_key_cache', None) is None or \
                self._key_cache[0] is not self.data:
            ei, et = self.data.edge_index, self.data.edge_type
            r = int(self.model.num_relations)
            keys = (ei[0] * r + et) * self.data.num_nodes + ei[1]
            self._key_cache = (self.data, keys.sort().values)
        return self._key_cache[1]

    def _episode_extra(self, out: Tensor, ep: Episode, qi: Tensor,
                       rel: Tensor):
        r"""The generated rows of an episode as extra negatives, with the
        masks of those that are true answers of a query."""
        idx = ep.affected.nonzero().view(-1)
        head_mask, tail_mask = self._true_masks(
            ep.nodes[qi[0].cpu()], rel, ep.nodes[qi[1].cpu()], ep.nodes[idx])
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
            extra, head_mask, tail_mask = self._episode_extra(out, ep, qi,
                                                              rel)
            for p, n in self._scores(scorer, out[qi[0]], rel, out[qi[1]],
                                     neg, extra, head_mask, tail_mask):
                higher = (n > p[:, None]).sum(1).float()
                ties = (n == p[:, None]).sum(1).float()
                rr.append(1.0 / (1.0 + higher + ties / 2))
        if not rr:
            return float('nan')
        return float(torch.cat(rr).mean())

    # Meta-training ##########################################################

    def fit(self, episodes: Optional[int] = None,
            checkpoint: Optional[str] = None) -> List[Dict[str, float]]:
        r"""Meta-trains the generator on simulated deletions ("learn to
        unlearn") with the KGE model frozen.

        Each episode pseudo-forgets random triples of the current training
        graph, hides a share of the targets' other triples as queries and
        trains the generator to score the queries of the generated
        representations above random negatives through the KGE model's own
        scoring function. Every :obj:`eval_every` episodes the MRR of the
        hidden queries of fixed held-out episodes is measured; the best
        generator state is kept (the untrained generator, i.e. the
        learning-free mean estimate, is the first candidate), and training
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
        try:
            g = torch.Generator().manual_seed(c.seed)
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
                self.generator.eval()
                base_mrr = self._validate(scorer, val_eps, val_neg,
                                          use_base=True)
                mrr = self._validate(scorer, val_eps, val_neg)
                self.history.append(dict(episode=0, val_mrr=mrr,
                                         base_mrr=base_mrr, loss=math.nan,
                                         seconds=0.0))
                best = mrr
                best_state = copy.deepcopy(self.generator.state_dict())
            bar = tqdm(range(1, total + 1), desc='meta-training',
                       disable=not self.progress)
            running = []
            for step in bar:
                self.generator.train()
                ep = sampler.sample(g)
                if ep.query_type.numel() == 0:
                    continue
                neg_ids = torch.randint(self.data.num_nodes,
                                        (c.num_negatives, ), generator=g)
                neg = scorer.represent(scorer.param_rows(neg_ids.to(dev)))
                loss = self._episode_loss(scorer, ep, neg)
                opt.zero_grad()
                loss.backward()
                opt.step()
                running.append(float(loss.detach()))
                elapsed = time.perf_counter() - start
                out_of_time = c.max_minutes > 0 and \
                    elapsed > 60 * c.max_minutes
                if val_eps and c.eval_every > 0 and (
                        step % c.eval_every == 0 or step == total
                        or out_of_time):
                    self.generator.eval()
                    mrr = self._validate(scorer, val_eps, val_neg)
                    self.history.append(dict(
                        episode=step, val_mrr=mrr,
                        loss=sum(running) / max(len(running), 1),
                        seconds=elapsed))
                    running = []
                    bar.set_postfix(val_mrr=f'{mrr:.4f}')
                    if mrr > best:
                        best, bad = mrr, 0
                        best_state = copy.deepcopy(
                            self.generator.state_dict())
                        if checkpoint:
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
            if checkpoint and best_state is None:
                self.save(checkpoint)
        finally:
            self._unfreeze(self.model, flags)
            self.model.train(was_training)
        return self.history

    # Unlearning #############################################################

    def _transform(self, triples, edge_ids, entities, relations,
                   num_hops: int):
        return request_transform(triples, edge_ids, entities, relations,
                                 num_hops)

    def unlearn(self, triples: Optional[Tensor] = None, *,
                edge_ids=None, entities=None, relations=None,
                num_hops: Optional[int] = None,
                ensemble: Optional[int] = None,
                refine_steps: Optional[int] = None,
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
            edge_ids (torch.Tensor, optional): Edge ids into :attr:`data`.
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
        timings: Dict[str, float] = {}
        t0 = time.perf_counter()
        transform, what = self._transform(triples, edge_ids, entities,
                                          relations, num_hops)
        out = transform(self.data)
        fei, fet = out.forget_edge_index, out.forget_edge_type
        forget_triples = torch.stack([fei[0], fet, fei[1]], dim=1)
        affected = out.affected_mask.nonzero().view(-1)
        if affected.numel() > 0.5 * self.data.num_nodes:
            warnings.warn(f'the request affects {affected.numel()} of '
                          f'{self.data.num_nodes} entities: most rows are '
                          f'regenerated, with few unaffected neighbours to '
                          f'read from; retraining may be the better choice')
        retained = Data(edge_index=out.edge_index, edge_type=out.edge_type,
                        num_nodes=self.data.num_nodes,
                        num_relations=self.data.num_relations)
        t1 = time.perf_counter()
        timings['transform'] = t1 - t0

        # The affected entities' retained neighbourhood.
        inc = (out.affected_mask[out.edge_index[0]]
               | out.affected_mask[out.edge_index[1]]).nonzero().view(-1)
        sub_ei = out.edge_index[:, inc]
        sub_et = out.edge_type[inc]
        nodes, local = torch.unique(torch.cat([affected, sub_ei.reshape(-1)]),
                                    return_inverse=True)
        aff_local = local[:affected.numel()]
        sub_ei = local[affected.numel():].view(2, -1)
        aff_mask = torch.zeros(nodes.numel(), dtype=torch.bool)
        aff_mask[aff_local] = True
        t2 = time.perf_counter()
        timings['subgraph'] = t2 - t1

        target = self.model if inplace else copy.deepcopy(self.model)
        scorer = get_scorer(target)
        dev = scorer.device
        nodes_d, aff_d = nodes.to(dev), aff_mask.to(dev)
        ei_d, et_d = sub_ei.to(dev), sub_et.to(dev)
        self.generator.eval()
        flags = self._freeze(target)
        try:
            with torch.no_grad():
                g = torch.Generator().manual_seed(c.seed)
                outs = []
                for k in range(ensemble):
                    keep = self._cap_edges(sub_ei, aff_mask,
                                           c.unlearn_max_edges, g)
                    if ensemble > 1 and c.ensemble_dropout > 0:
                        keep &= torch.rand(et_d.numel(), generator=g) >= \
                            c.ensemble_dropout
                    keep = keep.to(dev)
                    outs.append(self._generate(scorer, nodes_d, aff_d,
                                               ei_d[:, keep], et_d[keep],
                                               ei_d, et_d))
                rows = torch.stack(outs).mean(0)[aff_local.to(dev)]
            t3 = time.perf_counter()
            timings['generate'] = t3 - t2
            if refine > 0 and affected.numel() > 0:
                rows = self._refine(scorer, affected.to(dev), rows,
                                    out.edge_index[:, inc].to(dev),
                                    out.edge_type[inc].to(dev), refine)
            timings['refine'] = time.perf_counter() - t3
            scorer.write_rows(affected.to(dev), rows)
        finally:
            self._unfreeze(target, flags)
        seconds = time.perf_counter() - t0
        timings['total'] = seconds
        record = UnlearningRecord(request=f'{type(transform).__name__}: '
                                  f'{what}', forget_triples=forget_triples,
                                  affected=affected, num_hops=num_hops,
                                  ensemble=ensemble, refine_steps=refine,
                                  seconds=seconds, timings=timings)
        self.records.append(record)
        self.model = target
        self.data = retained
        return UnlearningResult(model=target, data=retained, record=record)

    def _refine(self, scorer: KGEScorer, affected: Tensor, rows: Tensor,
                edge_index: Tensor, edge_type: Tensor,
                steps: int) -> Tensor:
        r"""MetaEU-FT: a few Adam steps on the affected rows only, on their
        retained triples against shared random negatives."""
        c = self.config
        n = self.data.num_nodes
        pos_of = torch.full((n, ), -1, dtype=torch.long, device=rows.device)
        pos_of[affected] = torch.arange(affected.numel(), device=rows.device)
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
            hm, tm = self._true_masks(h[sel], edge_type[sel], t[sel],
                                      affected[own])
            loss = self._triple_loss(scorer, rep(h[sel]), edge_type[sel],
                                     rep(t[sel]), neg,
                                     scorer.represent(param[own]),
                                     hm.to(rows.device), tm.to(rows.device))
            opt.zero_grad()
            loss.backward()
            opt.step()
        return scorer.represent(param.detach())

    # Persistence ############################################################

    def state_dict(self) -> Dict[str, Any]:
        return {
            'format': FORMAT,
            'config': asdict(self.config),
            'generator': self.generator.state_dict(),
            'model_name': self.model_name,
            'num_nodes': int(self.data.num_nodes),
            'num_relations': int(self.model.num_relations),
            'channels': self.channels,
            'history': list(self.history),
            'fit_seconds': self.fit_seconds,
        }

    def save(self, path: str) -> None:
        r"""Saves the meta-trained generator and its config (not the KGE
        model or the graph)."""
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        torch.save(self.state_dict(), path)

    @classmethod
    def load(cls, path: str, model: torch.nn.Module,
             data: Union[Data, KGDataset], progress: bool = True,
             **overrides) -> 'MetaEU':
        r"""Restores a meta-trained MetaEU saved with :meth:`save` for
        :obj:`model` and its training graph :obj:`data`; keyword arguments
        override unlearning options (e.g. ``ensemble=4``)."""
        if not os.path.isfile(path):
            raise FileNotFoundError(f"MetaEU file '{path}' does not exist")
        state = torch.load(path, map_location='cpu', weights_only=False)
        if not isinstance(state, dict) or state.get('format') != FORMAT:
            raise ValueError(f"'{path}' is not a saved MetaEU")
        if state['model_name'] != model_name(model):
            raise ValueError(f"the MetaEU was trained for a "
                             f"{state['model_name']} model, not "
                             f"{model_name(model)}")
        if int(state['num_relations']) != int(model.num_relations):
            raise ValueError('the MetaEU was trained for a model with '
                             f"{state['num_relations']} relations")
        cfg = dict(state['config'])
        cfg.update(overrides)
        meu = cls(model, data, MetaEUConfig.from_dict(cfg), progress=progress)
        if meu.channels != int(state['channels']):
            raise ValueError('the MetaEU was trained for entity rows of size '
                             f"{state['channels']}, the model has "
                             f'{meu.channels}')
        meu.generator.load_state_dict(state['generator'])
        meu.generator.eval()
        meu.history = list(state.get('history', []))
        meu.fit_seconds = float(state.get('fit_seconds', 0.0))
        return meu

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.model_name}, '
                f'entities={self.data.num_nodes}, '
                f'triples={self.data.num_edges})')
