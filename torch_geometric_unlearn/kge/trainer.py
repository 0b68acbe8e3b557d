r"""Training of PyG's KGE models: negative sampling or 1-vs-all losses,
early stopping on validation MRR, seeded, with checkpoints."""
from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data
from tqdm.auto import tqdm

from ..datasets.kg import TripleSet, check_kg, to_triples
from ..utils.fingerprint import triples_hash, vocab_hash
from ..utils.io import atomic_save
from .losses import sampled_loss
from .scoring import get_scorer, load_kge_model, model_name

LOSSES = ('margin', 'bce', 'self_adversarial', 'softmax', '1vsall')
OPTIMIZERS = {
    'adam': torch.optim.Adam,
    'adagrad': torch.optim.Adagrad,
    'sgd': torch.optim.SGD,
}


def make_optimizer(model: torch.nn.Module, name: str, lr: float,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
    r"""The optimiser :obj:`name` (:obj:`"adam"`, :obj:`"adagrad"` or
    :obj:`"sgd"`) over :obj:`model`'s parameters.

    A PyG KGE model built with :obj:`sparse=True` has sparse gradients,
    which :class:`torch.optim.Adam` refuses: :obj:`"adam"` then gives
    :class:`torch.optim.SparseAdam` (Adagrad and SGD take sparse gradients
    as they are). Sparse gradients admit no weight decay.

    Raises:
        ValueError: For an unknown name, weight decay with sparse
            gradients, or a model mixing sparse and dense parameters under
            :obj:`"adam"`.
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer '{name}' (choose from "
                         f"{', '.join(OPTIMIZERS)})")
    params = list(model.parameters())
    sparse = {id(m.weight) for m in model.modules()
              if isinstance(m, torch.nn.Embedding) and m.sparse}
    if not sparse:
        return OPTIMIZERS[name](params, lr=lr, weight_decay=weight_decay)
    if weight_decay:
        raise ValueError(f'the model has sparse embeddings (sparse=True), '
                         f'whose gradients admit no weight decay (got '
                         f'weight_decay={weight_decay}): set it to 0 or '
                         f'build the model with sparse=False')
    if name != 'adam':
        return OPTIMIZERS[name](params, lr=lr)
    if any(id(p) not in sparse for p in params):
        raise ValueError("'adam' over a model mixing sparse and dense "
                         "parameters is not supported: use 'adagrad' or "
                         "'sgd', or build the model with sparse=False")
    return torch.optim.SparseAdam(params, lr=lr)


@dataclass
class TrainConfig:
    r"""Hyper-parameters of :class:`KGETrainer` (all JSON-able).

    Args:
        epochs (int): Maximum number of epochs. (default: :obj:`100`)
        batch_size (int): Positive triples per step. (default: :obj:`1024`)
        num_negatives (int): Corrupted triples per positive (negative
            sampling losses; half of the positives corrupt the head, half the
            tail). (default: :obj:`64`)
        loss (str): :obj:`"margin"` (margin ranking, PyG's TransE loss),
            :obj:`"bce"` (logistic), :obj:`"self_adversarial"` (RotatE's
            self-adversarial negative sampling), :obj:`"softmax"`
            (cross-entropy of the positive against its negatives, a sampled
            1-vs-all) or :obj:`"1vsall"`
            (cross-entropy over all entities, both directions).
            (default: :obj:`"self_adversarial"`)
        margin (float): Margin :math:`\gamma` of the margin loss, and the
            logit offset of :obj:`"bce"` / :obj:`"self_adversarial"`.
            (default: :obj:`1.0`)
        score_scale (float): Logits are :obj:`score_scale * score` (+ margin)
            -- distance models with normalised entities need a scale.
            (default: :obj:`1.0`)
        adversarial_temperature (float): :math:`\alpha` of the
            self-adversarial weights. (default: :obj:`1.0`)
        filtered_negatives (bool): Give zero weight to sampled negatives that
            are training triples. (default: :obj:`False`)
        shared_negatives (bool): All positives of a batch share the same
            :obj:`num_negatives` random entities, scored with one matrix
            product (much faster for many negatives).
            (default: :obj:`False`)
        label_smoothing (float): For :obj:`"1vsall"`. (default: :obj:`0.0`)
        optimizer (str): :obj:`"adam"`, :obj:`"adagrad"` or :obj:`"sgd"`.
            (default: :obj:`"adam"`)
        lr (float): Learning rate. (default: :obj:`1e-3`)
        weight_decay (float): Weight decay. (default: :obj:`0.0`)
        regularization (float): N3 penalty on the embeddings of a batch.
            (default: :obj:`0.0`)
        eval_every (int): Validate every this many epochs (0: never).
            (default: :obj:`5`)
        patience (int): Stop after this many validations without a better
            validation MRR. (default: :obj:`3`)
        eval_max_triples (int): Validate on at most this many validation
            triples (a seeded sample; 0: all). (default: :obj:`5000`)
        max_minutes (float): Stop training after this wall time (0: no
            limit). (default: :obj:`0`)
        seed (int): Random seed. (default: :obj:`0`)
        deterministic (bool): Run with
            :func:`torch.use_deterministic_algorithms` (warn-only), so that
            multi-threaded CPU training gives bit-identical results for a
            seed. (default: :obj:`True`)
    """
    epochs: int = 100
    batch_size: int = 1024
    num_negatives: int = 64
    loss: str = 'self_adversarial'
    margin: float = 1.0
    score_scale: float = 1.0
    adversarial_temperature: float = 1.0
    filtered_negatives: bool = False
    shared_negatives: bool = False
    label_smoothing: float = 0.0
    optimizer: str = 'adam'
    lr: float = 1e-3
    weight_decay: float = 0.0
    regularization: float = 0.0
    eval_every: int = 5
    patience: int = 3
    eval_max_triples: int = 5000
    max_minutes: float = 0.0
    seed: int = 0
    deterministic: bool = True

    def __post_init__(self) -> None:
        if self.loss not in LOSSES:
            raise ValueError(f"unknown loss '{self.loss}' (expected one of "
                             f"{', '.join(LOSSES)})")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer '{self.optimizer}' "
                             f"(expected one of {', '.join(OPTIMIZERS)})")
        for name in ('epochs', 'batch_size', 'num_negatives'):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"'{name}' must be >= 1 (got "
                                 f"{getattr(self, name)})")
        if self.lr <= 0:
            raise ValueError(f"'lr' must be > 0 (got {self.lr})")

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> 'TrainConfig':
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f'unknown training options: '
                             f'{", ".join(sorted(unknown))}')
        return cls(**d)


#: The default recipe of each model: model arguments and training config.
#: Tuned on FB15k-237 on a 2-core CPU within a 30-minute budget (see
#: ``benchmarks/bench_train.py`` and ``docs/benchmarks.md``).
RECIPES: Dict[str, Dict[str, Any]] = {
    'transe': dict(hidden_channels=200, model_kwargs=dict(p_norm=2.0),
                   train=dict(loss='self_adversarial', shared_negatives=True,
                              num_negatives=256, batch_size=1024, lr=1e-3,
                              score_scale=8.0, margin=6.0, epochs=200,
                              eval_every=5, patience=3)),
    'distmult': dict(hidden_channels=200, model_kwargs={},
                     train=dict(loss='softmax', shared_negatives=True,
                                num_negatives=1024, batch_size=1024, lr=3e-3,
                                regularization=5e-4, epochs=100,
                                eval_every=1, patience=3)),
    'complex': dict(hidden_channels=100, model_kwargs={},
                    train=dict(loss='softmax', shared_negatives=True,
                               num_negatives=1024, batch_size=1024, lr=3e-3,
                               regularization=5e-4, epochs=100, eval_every=1,
                               patience=3)),
    'rotate': dict(hidden_channels=100, model_kwargs=dict(margin=6.0),
                   train=dict(loss='self_adversarial', shared_negatives=True,
                              num_negatives=256, batch_size=1024, lr=3e-3,
                              margin=0.0, epochs=200, eval_every=5,
                              patience=3)),
}


def recipe(name: str) -> Dict[str, Any]:
    r"""A copy of the default recipe of model :obj:`name`."""
    key = name.lower()
    if key not in RECIPES:
        raise ValueError(f"no recipe for model '{name}' (expected one of "
                         f"{', '.join(RECIPES)})")
    return copy.deepcopy(RECIPES[key])


def default_train_config(name: str, **overrides) -> TrainConfig:
    r"""The training config of model :obj:`name`'s recipe without
    validation (:obj:`eval_every=0`), with :obj:`overrides` applied; the
    :class:`TrainConfig` defaults for a model without a recipe."""
    kw = dict(RECIPES[name.lower()]['train']) if name.lower() in RECIPES \
        else {}
    kw.update(eval_every=0)
    kw.update(overrides)
    return TrainConfig.from_dict(kw)


def _batch_embeddings(model: torch.nn.Module, idx: Tensor) -> List[Tensor]:
    out = [model.node_emb(idx)]
    if hasattr(model, 'node_emb_im'):
        out.append(model.node_emb_im(idx))
    return out


class KGETrainer:
    r"""Trains a PyG KGE model (:class:`~torch_geometric.nn.kge.TransE`,
    :class:`DistMult`, :class:`ComplEx`, :class:`RotatE`) on a KG split.

    Mini-batches of positives are scored against sampled negatives (head or
    tail corrupted uniformly at random, optionally filtered) or, with the
    :obj:`"1vsall"` loss, against every entity in both directions. With
    :obj:`valid` given, training validates with the filtered
    :class:`~torch_geometric_unlearn.kge.LinkPredictionEvaluator`, keeps the
    best state and stops early. Seeded: the same config and data give the
    same parameters on CPU.

    .. code-block:: python

        model = load_kge_model('transe', kg.num_entities, kg.num_relations,
                               200, p_norm=2.0)
        trainer = KGETrainer(model, TrainConfig(loss='1vsall', epochs=20))
        history = trainer.fit(kg.train, valid=kg.valid,
                              filter_data=[kg.train, kg.valid, kg.test])

    Args:
        model (torch.nn.Module): The PyG KGE model (trained in place).
        config (TrainConfig, optional): Hyper-parameters.
        progress (bool, optional): Show tqdm progress bars.
            (default: :obj:`True`)
    """
    def __init__(self, model: torch.nn.Module,
                 config: Optional[TrainConfig] = None,
                 progress: bool = True) -> None:
        self.model = model
        self.config = config or TrainConfig()
        self.progress = progress
        cfg = self.config
        self.optimizer = make_optimizer(model, cfg.optimizer, cfg.lr,
                                        cfg.weight_decay)
        self.history: List[Dict[str, float]] = []
        self.epoch = 0
        self.best_state: Optional[Dict[str, Tensor]] = None
        self.best_mrr = -math.inf
        self.train_seconds = 0.0
        self._train_keys: Optional[TripleSet] = None
        #: The graph of the last :meth:`fit` (fingerprinted by :meth:`save`).
        self.train_graph: Optional[Data] = None

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    # Losses #################################################################

    def _scores(self, h: Tensor, r: Tensor, t: Tensor,
                gen: torch.Generator) -> tuple:
        r"""Positive ``[B]`` and negative ``[B, K]`` scores and (only with
        filtered negatives) the negatives' ``(head, rel, tail)`` ids; the
        first half of the batch corrupts
        heads, the second half tails. Each query is embedded once and scored
        against its target and its :obj:`K` random candidates."""
        B, K = h.numel(), self.config.num_negatives
        n = int(self.model.num_nodes)
        nh = B // 2
        scorer = get_scorer(self.model)
        q_head = scorer.head_query(r[:nh], t[:nh])
        q_tail = scorer.tail_query(h[nh:], r[nh:])
        if self.config.shared_negatives:
            rnd = torch.randint(n, (K, ), generator=gen).to(h.device)
            rows = scorer.entity_rows(rnd)
            pos = torch.cat([
                scorer.score_candidates(q_head, h[:nh, None]),
                scorer.score_candidates(q_tail, t[nh:, None])
            ], 0)[:, 0]
            neg = torch.cat([scorer.score_against(q_head, rows),
                             scorer.score_against(q_tail, rows)], 0)
            rnd = rnd[None, :].expand(B, K)
        else:
            rnd = torch.randint(n, (B, K), generator=gen).to(h.device)
            scores = torch.cat([
                scorer.score_candidates(
                    q_head, torch.cat([h[:nh, None], rnd[:nh]], 1)),
                scorer.score_candidates(
                    q_tail, torch.cat([t[nh:, None], rnd[nh:]], 1))
            ], 0)
            pos, neg = scores[:, 0], scores[:, 1:]
        if not self.config.filtered_negatives:
            return pos, neg, None
        corrupt_head = torch.arange(B, device=h.device)[:, None] < nh
        hh = torch.where(corrupt_head, rnd, h[:, None])
        tt = torch.where(corrupt_head, t[:, None], rnd)
        return pos, neg, (hh, r[:, None].expand(B, K), tt)

    def loss(self, h: Tensor, r: Tensor, t: Tensor,
             gen: torch.Generator) -> Tensor:
        r"""The training loss of a batch of triples (head, relation and tail
        ids, each ``[B]``) under :obj:`config.loss` (see
        :mod:`~torch_geometric_unlearn.kge.losses`), with negatives drawn
        from :obj:`gen` and the N3 penalty when configured. Baselines that
        step on the model's own objective (gradient ascent, SSD) call it
        too."""
        cfg = self.config
        model = self.model
        if cfg.loss == '1vsall':
            scorer = get_scorer(model)
            logits_t = scorer.tails(h, r) * cfg.score_scale
            logits_h = scorer.heads(r, t) * cfg.score_scale
            loss = 0.5 * (
                F.cross_entropy(logits_t, t,
                                label_smoothing=cfg.label_smoothing) +
                F.cross_entropy(logits_h, h,
                                label_smoothing=cfg.label_smoothing))
        else:
            pos, neg, corrupted = self._scores(h, r, t, gen)
            pos, neg = pos * cfg.score_scale, neg * cfg.score_scale
            weight = None
            if corrupted is not None and self._train_keys is not None:
                weight = (~self._train_keys.contains(*corrupted)).float()
            loss = sampled_loss(cfg.loss, pos, neg, margin=cfg.margin,
                                weight=weight,
                                temperature=cfg.adversarial_temperature,
                                label_smoothing=cfg.label_smoothing)
        if cfg.regularization > 0:
            ents = torch.cat([h, t])
            reg = sum(e.abs().pow(3).sum()
                      for e in _batch_embeddings(model, ents))
            reg = reg + model.rel_emb(r).abs().pow(3).sum()
            loss = loss + cfg.regularization * reg / h.numel()
        return loss

    # Training ###############################################################

    def fit(self, train: Data, valid: Optional[Data] = None,
            filter_data: Optional[List[Data]] = None) -> List[Dict]:
        r"""Trains for :obj:`config.epochs` epochs (or until early stopping
        or :obj:`config.max_minutes`).

        Args:
            train (Data): Training split.
            valid (Data, optional): Validation split for early stopping.
            filter_data (List[Data], optional): Splits whose triples are
                filtered in validation ranking (default: train and valid).

        Returns:
            The history: one dict per epoch with ``epoch``, ``loss``,
            ``seconds`` and, when validated, ``valid_mrr``.
        """
        if not self.config.deterministic:
            return self._fit(train, valid, filter_data)
        import torch.utils.deterministic as tud
        previous = (torch.are_deterministic_algorithms_enabled(),
                    torch.is_deterministic_algorithms_warn_only_enabled(),
                    tud.fill_uninitialized_memory)
        torch.use_deterministic_algorithms(True, warn_only=True)
        # Deterministic ops are what we need; NaN-filling every new buffer
        # (the flag's other effect) costs time and changes no result.
        tud.fill_uninitialized_memory = False
        try:
            return self._fit(train, valid, filter_data)
        finally:
            torch.use_deterministic_algorithms(previous[0],
                                               warn_only=previous[1])
            tud.fill_uninitialized_memory = previous[2]

    def _fit(self, train: Data, valid: Optional[Data],
             filter_data: Optional[List[Data]]) -> List[Dict]:
        check_kg(train, 'train')
        self.train_graph = train
        cfg = self.config
        n, R = int(self.model.num_nodes), int(self.model.num_relations)
        if int(train.num_nodes) > n or int(train.num_relations) > R:
            raise ValueError(f'the data has {train.num_nodes} entities and '
                             f'{train.num_relations} relations but the model '
                             f'only {n} and {R}')
        device = self.device
        h_all = train.edge_index[0].to(device)
        t_all = train.edge_index[1].to(device)
        r_all = train.edge_type.to(device)
        E = h_all.numel()
        if E == 0:
            raise ValueError('cannot train on an empty graph')
        self._train_keys = None
        if cfg.filtered_negatives:
            self._train_keys = TripleSet.from_ids(h_all, r_all, t_all, n, R)
        evaluator = None
        if valid is not None and cfg.eval_every > 0:
            from .evaluate import LinkPredictionEvaluator
            filt = filter_data if filter_data is not None else [train, valid]
            evaluator = LinkPredictionEvaluator(n, R, filter_triples=filt)
            vt = to_triples(valid)
            if cfg.eval_max_triples and vt.size(0) > cfg.eval_max_triples:
                g = torch.Generator().manual_seed(cfg.seed)
                vt = vt[torch.randperm(vt.size(0), generator=g)
                        [:cfg.eval_max_triples]]
            self._valid_triples = vt

        gen = torch.Generator().manual_seed(cfg.seed)
        bad_rounds = 0
        start = time.perf_counter()
        epochs = range(self.epoch + 1, cfg.epochs + 1)
        bar = tqdm(epochs, desc='train', disable=not self.progress,
                   unit='epoch')
        for epoch in bar:
            t0 = time.perf_counter()
            self.model.train()
            perm = torch.randperm(E, generator=gen).to(device)
            total, steps = 0.0, 0
            for i in range(0, E, cfg.batch_size):
                idx = perm[i:i + cfg.batch_size]
                self.optimizer.zero_grad(set_to_none=True)
                loss = self.loss(h_all[idx], r_all[idx], t_all[idx], gen)
                loss.backward()
                self.optimizer.step()
                total += float(loss.detach())
                steps += 1
            self.epoch = epoch
            rec = {'epoch': epoch, 'loss': total / max(steps, 1),
                   'seconds': time.perf_counter() - t0}
            self.train_seconds += rec['seconds']
            if evaluator is not None and epoch % cfg.eval_every == 0:
                self.model.eval()
                m = evaluator.evaluate(self.model, self._valid_triples)
                rec['valid_mrr'] = m['mrr']
                if m['mrr'] > self.best_mrr:
                    self.best_mrr = m['mrr']
                    self.best_state = copy.deepcopy(self.model.state_dict())
                    bad_rounds = 0
                else:
                    bad_rounds += 1
            self.history.append(rec)
            bar.set_postfix({k: round(v, 4) for k, v in rec.items()
                             if k in ('loss', 'valid_mrr')})
            if evaluator is not None and bad_rounds >= cfg.patience:
                break
            if cfg.max_minutes and (time.perf_counter() -
                                    start) > 60 * cfg.max_minutes:
                break
        bar.close()
        if self.best_state is not None:
            self.model.load_state_dict(self.best_state)
        self.model.eval()
        return self.history

    # Checkpoints ############################################################

    def save(self, path: str, model_kwargs: Optional[dict] = None,
             entity_vocab=None, relation_vocab=None, **extra) -> None:
        r"""Saves model + optimiser + config (see :func:`save_checkpoint`),
        with the fingerprint of the graph it was last fit on."""
        if 'fingerprint' not in extra and self.train_graph is not None:
            extra['fingerprint'] = fingerprint(self.train_graph,
                                               entity_vocab, relation_vocab)
        save_checkpoint(path, self.model, model_kwargs=model_kwargs,
                        train_config=asdict(self.config),
                        optimizer=self.optimizer.state_dict(),
                        entity_vocab=entity_vocab,
                        relation_vocab=relation_vocab, epoch=self.epoch,
                        history=self.history, **extra)

    @classmethod
    def from_checkpoint(cls, path: str, map_location='cpu',
                        progress: bool = True) -> 'KGETrainer':
        r"""Restores a trainer (model, optimiser state, config, epoch) to go
        on training."""
        ckpt = torch.load(path, map_location=map_location, weights_only=False)
        model = model_from_checkpoint(ckpt)
        trainer = cls(model, TrainConfig.from_dict(ckpt['train_config']),
                      progress=progress)
        if ckpt.get('optimizer') is not None:
            trainer.optimizer.load_state_dict(ckpt['optimizer'])
        trainer.epoch = int(ckpt.get('epoch', 0))
        trainer.history = list(ckpt.get('history', []))
        return trainer


def model_kwargs_of(model: torch.nn.Module) -> Dict[str, Any]:
    r"""The constructor arguments that rebuild :obj:`model`'s
    architecture (see :func:`load_kge_model`)."""
    kw: Dict[str, Any] = {
        'num_nodes': int(model.num_nodes),
        'num_relations': int(model.num_relations),
        'hidden_channels': int(model.hidden_channels),
    }
    for attr in ('p_norm', 'margin'):
        if hasattr(model, attr):
            kw[attr] = float(getattr(model, attr))
    if hasattr(model, 'node_emb') and model.node_emb.sparse:
        kw['sparse'] = True
    return kw


def fingerprint(train: Data, entity_vocab=None,
                relation_vocab=None) -> Dict[str, Optional[str]]:
    r"""The fingerprint a checkpoint keeps of its data: content hashes of
    the training graph (order-free) and of the vocabularies."""
    def names(v):
        if v is None:
            return None
        return v.to_list() if hasattr(v, 'to_list') else list(v)

    return dict(graph=triples_hash(train.edge_index, train.edge_type,
                                   int(train.num_nodes),
                                   int(train.num_relations)),
                entity_vocab=vocab_hash(names(entity_vocab)),
                relation_vocab=vocab_hash(names(relation_vocab)))


def save_checkpoint(path: str, model: torch.nn.Module,
                    model_kwargs: Optional[dict] = None,
                    train_config: Optional[dict] = None,
                    optimizer: Optional[dict] = None, entity_vocab=None,
                    relation_vocab=None, **extra) -> None:
    r"""Writes one :func:`torch.save` file holding a dict with ``model`` (the
    PyG model's :obj:`state_dict()`), ``model_name``, ``model_kwargs`` (the
    constructor arguments), ``entity_vocab`` and ``relation_vocab`` (id
    :math:`\to` name lists, or :obj:`None`), ``train_config``,
    ``optimizer`` and any :obj:`extra` entries, atomically (a killed
    writer leaves the previous file intact)."""
    def as_list(v):
        if v is None:
            return None
        return v.to_list() if hasattr(v, 'to_list') else list(v)

    ckpt = {
        'format': 'torch_geometric_unlearn.kge/1',
        'model': model.state_dict(),
        'model_name': model_name(model),
        'model_kwargs': dict(model_kwargs or model_kwargs_of(model)),
        'entity_vocab': as_list(entity_vocab),
        'relation_vocab': as_list(relation_vocab),
        'train_config': train_config or {},
        'optimizer': optimizer,
    }
    ckpt.update(extra)
    atomic_save(ckpt, path)


def model_from_checkpoint(ckpt) -> torch.nn.Module:
    r"""Rebuilds the PyG model of a checkpoint (a path or a loaded dict)."""
    if isinstance(ckpt, str):
        if not os.path.isfile(ckpt):
            raise FileNotFoundError(f"checkpoint '{ckpt}' does not exist")
        ckpt = torch.load(ckpt, map_location='cpu', weights_only=False)
    if not isinstance(ckpt, dict) or 'model' not in ckpt or \
            'model_name' not in ckpt:
        raise ValueError('not a torch_geometric_unlearn KGE checkpoint')
    kw = dict(ckpt['model_kwargs'])
    model = load_kge_model(ckpt['model_name'], kw.pop('num_nodes'),
                           kw.pop('num_relations'), kw.pop('hidden_channels'),
                           **kw)
    model.load_state_dict(ckpt['model'])
    model.eval()
    return model


def load_checkpoint(path: str, map_location='cpu') -> Dict[str, Any]:
    r"""Loads a checkpoint dict and adds the rebuilt model under
    ``"module"``."""
    if not os.path.isfile(path):
        raise FileNotFoundError(f"checkpoint '{path}' does not exist")
    ckpt = torch.load(path, map_location=map_location, weights_only=False)
    ckpt['module'] = model_from_checkpoint(ckpt)
    return ckpt


__all__ = ['TrainConfig', 'KGETrainer', 'RECIPES', 'recipe',
           'default_train_config', 'model_kwargs_of', 'fingerprint',
           'save_checkpoint', 'load_checkpoint', 'model_from_checkpoint',
           'make_optimizer']
