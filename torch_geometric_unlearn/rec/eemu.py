r"""EEMU: exact, meta-learned unlearning for recommendation.

From `"Meta-Learn to Unlearn: Enhanced Exact Machine Unlearning in
Recommendation Systems with Meta-Learning"
<https://petsymposium.org/popets/2025/>`_ (Alshabanah et al., PoPETs 2025),
as this project builds it (design.md, section 3):

* users are split into :math:`S` shards by a seeded, data-independent
  assignment; shard :math:`s` holds exactly the interactions of its users;
* each shard has its own base recommender (PyG's LightGCN or MF), trained
  only on its shard as a *first-order meta-learned initialisation over user
  tasks*: a task is one user, its interactions split into support and
  query; the inner step adapts the user's representation on the support
  (BPR), the outer step updates the shard model from the query loss at the
  adapted point (first-order MAML). Next to each user's own row, a shared
  "new user" vector :math:`\mathbf{u}_0` is meta-learned the same way, so
  every shard can serve users it never trained on;
* a meta-step propagates the shard graph once, for all the users of the
  meta-batch (with LightGCN that propagation is nearly all of a step's
  cost, so an epoch costs its number of meta-steps); on that one
  propagation the outer loss takes :obj:`negatives` negative items per
  query pair, and a plain BPR term on the support pairs at the user's own
  row (:obj:`bpr_weight`) lets every pair of the batch train the items;
* at inference a user's representation adapts in a few steps on the
  user's current interactions, in every shard, and the per-user
  standardised shard scores are averaged (``aggregation='mean'``) or only
  the user's own shard is used (``'own'``). The aggregation reads only the
  shard models and the user's *retained* interactions, so it keeps
  exactness;
* a deletion retrains only the shards holding the data, from scratch, with
  the shard's seed. Training depends only on the shard's set of
  interactions (canonically ordered) and the seed, so the result is, bit
  for bit on CPU, the EEMU trained from scratch on the retained data;
* under ``torchrun`` shard :math:`s` trains (and retrains) on rank
  :math:`s \bmod W` only and the trained shards are shared with every
  rank (:mod:`torch_geometric_unlearn.distributed`), bit for bit what one
  process would have trained.
"""
from __future__ import annotations

import copy
import numbers
import os
import time
from dataclasses import asdict, dataclass
from typing import Any, Dict, List, Optional

import torch
from torch import Tensor

from torch_geometric.index import index2ptr

from ..distributed import is_distributed, owned_shards, share_states
from ..ledger import Ledger
from ..unlearner import UnlearningRecord, register_method
from ..utils.fingerprint import model_hash, tensor_hash
from ..utils.io import atomic_save
from .models import make_optimizer
from .train import (RecTrainConfig, bpr_loss, build_recommender, canonical,
                    deterministic, pair_keys, sample_negatives, train_bpr)

__all__ = ['RecUnlearner', 'EEMU', 'EEMUConfig', 'SISARec', 'RetrainRec',
           'FineTuneRec', 'ShardedRecUnlearner', 'assign_shards',
           'REC_METHODS']


def assign_shards(num_users: int, num_shards: int, seed: int = 0) -> Tensor:
    r"""The shard of every user: a seeded random balanced assignment that
    depends only on :obj:`num_users`, :obj:`num_shards` and :obj:`seed`
    (never on the data, so a deletion cannot move a user). Shape
    :math:`(|\mathcal{U}|,)`."""
    if num_shards <= 0:
        raise ValueError(f'num_shards must be positive, got {num_shards}')
    perm = torch.randperm(num_users,
                          generator=torch.Generator().manual_seed(seed))
    out = torch.empty(num_users, dtype=torch.long)
    out[perm] = torch.arange(num_users) % num_shards
    return out


REC_FORMAT = 'torch_geometric_unlearn.rec_unlearner/1'


def _as_int_id(value: Any, what: str) -> int:
    r"""An integer id; floats, bools and other types are refused."""
    if isinstance(value, Tensor):
        ok = value.numel() == 1 and not value.is_floating_point() and \
            value.dtype != torch.bool and not value.is_complex()
    else:
        ok = isinstance(value, numbers.Integral) and \
            not isinstance(value, bool)
    if not ok:
        raise TypeError(f'{what} must be an integer id (got {value!r})')
    return int(value)


def _as_id_tensor(values: Any, what: str) -> Tensor:
    r"""A 1-D long tensor of integer ids; float and bool ids are
    refused."""
    t = values if isinstance(values, Tensor) else torch.as_tensor(
        [values] if isinstance(values, int) else list(values))
    if t.numel() == 0:
        return torch.empty(0, dtype=torch.long)
    if t.is_floating_point() or t.dtype == torch.bool or t.is_complex():
        raise TypeError(f'{what} must hold integer ids (got dtype {t.dtype})')
    return t.view(-1).long()


def _shard_seed(seed: int, shard: int) -> int:
    return seed * 1_000_003 + 7919 * (shard + 1)


def _csr(edge_index: Tensor, num_users: int):
    r"""(ptr, items) of canonically ordered interactions."""
    ptr = index2ptr(edge_index[0], num_users)
    return ptr, ptr.diff()


def _gather(ptr: Tensor, deg: Tensor, users: Tensor):
    r"""Positions of the interactions of :obj:`users` (grouped by user) and
    the index of their user in :obj:`users`."""
    count = deg[users]
    owner = torch.repeat_interleave(torch.arange(users.numel()), count)
    offset = torch.zeros(users.numel(), dtype=torch.long)
    offset[1:] = count.cumsum(0)[:-1]
    pos = ptr[users][owner] + torch.arange(owner.numel()) - offset[owner]
    return pos, owner, count


def _hash_items(a: Tensor, b: Tensor, salt: int, num_items: int) -> Tensor:
    r"""Deterministic pseudo-random item per (a, b) pair (splitmix-style
    integer mixing), independent of batching."""
    x = a * 0x9E3779B1 + b * 0x85EBCA77 + salt * 0xC2B2AE3D
    x = x ^ (x >> 15)
    x = x * 0x2C1B3C6D
    x = x ^ (x >> 12)
    return x.remainder(num_items)


def _adapt(reps: Tensor, owner: Tensor, pos: Tensor, neg: Tensor,
           count: Tensor, steps: int, lr: float) -> Tensor:
    r"""``steps`` gradient steps of each row of :obj:`reps` (shape
    :math:`(R, d)`) on its own BPR pairs, per-row mean: pair :math:`p`
    belongs to row :obj:`owner[p]` and has positive / negative item rows
    :obj:`pos[p]` / :obj:`neg[p]` (shape :math:`(P, d)`). The steps are
    computed on detached values and added as a constant, so gradients flow
    through :obj:`reps` as in first-order MAML."""
    if steps == 0 or owner.numel() == 0:
        return reps
    pos, neg = pos.detach(), neg.detach()
    base = reps.detach()
    delta = torch.zeros_like(base)
    w = 1.0 / count.clamp(min=1).to(base.dtype)
    with torch.enable_grad():
        for _ in range(steps):
            x = (base + delta).requires_grad_()
            xo = x[owner]
            loss = bpr_loss((xo * pos).sum(-1), (xo * neg).sum(-1))
            loss = (loss * w[owner]).sum()
            g, = torch.autograd.grad(loss, x)
            delta = delta - lr * g
    return reps + delta


def _pair_loss(x: Tensor, pos: Tensor, neg: Tensor) -> Tensor:
    r"""BPR of user rows :obj:`x` (shape :math:`(P, d)`) against their
    positive item rows :obj:`pos` (shape :math:`(P, d)`) and :math:`k`
    negative item rows each, :obj:`neg` (shape :math:`(k, P, d)`), averaged
    over the negatives. Shape :math:`(P,)`."""
    s_pos = (x * pos).sum(-1)
    s_neg = (x.unsqueeze(0) * neg).sum(-1)
    return bpr_loss(s_pos.unsqueeze(0), s_neg).mean(0)


class RecUnlearner:
    r"""The interface every recommendation unlearner implements.

    ``fit(edge_index)`` trains on the interactions (shape :math:`(2, E)`,
    user ids, item ids); ``scores(users)`` returns the score of every item
    for each user (shape :math:`(B, |\mathcal{I}|)`); ``unlearn(user,
    items=None)`` forgets some or all of a user's interactions and returns
    an :class:`~torch_geometric_unlearn.unlearner.UnlearningRecord` (the
    forgotten pairs, the users, the wall time and, in its details, e.g. the
    retrained shards and whether the method is exact). The caller's tensors
    are never modified.
    """
    name = 'base'
    #: Whether the result equals a model trained on the retained data.
    exact = False

    def __init__(self, num_users: int, num_items: int,
                 config: Optional[RecTrainConfig] = None,
                 progress: bool = False) -> None:
        if num_users <= 0 or num_items <= 0:
            raise ValueError('need at least one user and one item')
        self.num_users, self.num_items = int(num_users), int(num_items)
        self.config = config or RecTrainConfig()
        self.progress = progress
        self._device = torch.device(self.config.device)
        self._edge_index: Optional[Tensor] = None
        self.fit_seconds = 0.0
        #: The records of every deletion served, in order.
        self.records: List[UnlearningRecord] = []
        #: The hash-chained ledger of those deletions.
        self.ledger = Ledger()

    # --------------------------------------------------------------- data
    @property
    def edge_index(self) -> Tensor:
        r"""The interactions currently learned from (canonical order)."""
        self._check_fitted()
        return self._edge_index

    def _check_fitted(self) -> None:
        if self._edge_index is None:
            raise RuntimeError(f'{self.name}: call fit() first')

    def _check_edges(self, edge_index: Tensor) -> Tensor:
        if not isinstance(edge_index, Tensor) or edge_index.dim() != 2 \
                or edge_index.size(0) != 2:
            raise ValueError('interactions must be a [2, E] tensor of '
                             '(user, item) ids')
        edge_index = edge_index.long().cpu()
        if edge_index.numel() and (
                edge_index.min() < 0
                or edge_index[0].max() >= self.num_users
                or edge_index[1].max() >= self.num_items):
            raise ValueError(f'interaction ids out of range ({self.num_users}'
                             f' users, {self.num_items} items)')
        return edge_index

    # ---------------------------------------------------------------- API
    def fit(self, edge_index: Tensor) -> 'RecUnlearner':
        r"""Trains on :obj:`edge_index`."""
        edge_index = self._check_edges(edge_index)
        if edge_index.size(1) == 0:
            raise ValueError('no interactions to train on')
        self._edge_index = canonical(edge_index, self.num_items)
        start = time.perf_counter()
        self._fit()
        self.fit_seconds = time.perf_counter() - start
        return self

    def unlearn(self, user: int, items: Optional[Any] = None
                ) -> UnlearningRecord:
        r"""Forgets :obj:`items` of :obj:`user` (every interaction of the
        user when :obj:`items` is :obj:`None`).

        Raises:
            ValueError: when the user is out of range, has nothing to
                forget, or an item is not among the user's interactions.
        """
        self._check_fitted()
        user = _as_int_id(user, 'user')
        if not 0 <= user < self.num_users:
            raise ValueError(f'user {user} out of range [0, '
                             f'{self.num_users})')
        ei = self._edge_index
        mine = ei[1][ei[0] == user]
        if items is None:
            items = mine
            if items.numel() == 0:
                self._explain_forgotten(torch.tensor([[user], [-1]]))
                raise ValueError(f'user {user} has no interactions to '
                                 f'forget')
        else:
            items = _as_id_tensor(items, 'items')
            if items.numel() == 0:
                raise ValueError('empty deletion request')
            missing = items[~torch.isin(items, mine)]
            if missing.numel():
                self._explain_forgotten(torch.stack([
                    torch.full_like(missing, user), missing]))
                raise ValueError(f'user {user} has no interaction with '
                                 f'item(s) {missing[:10].tolist()}')
            items = torch.unique(items)
        pairs = torch.stack([torch.full_like(items, user), items])
        return self.unlearn_pairs(pairs)

    def unlearn_pairs(self, pairs: Tensor) -> UnlearningRecord:
        r"""Forgets the interactions :obj:`pairs` (shape :math:`(2, K)`),
        which must all be present."""
        self._check_fitted()
        pairs = canonical(self._check_edges(pairs), self.num_items)
        if pairs.size(1) == 0:
            raise ValueError('empty deletion request')
        keys = pair_keys(self._edge_index, self.num_items)
        drop = pair_keys(pairs, self.num_items)
        present = torch.isin(drop, keys)
        if not bool(present.all()):
            self._explain_forgotten(pairs[:, ~present])
            bad = pairs[:, ~present][:, :5].t().tolist()
            raise ValueError(f'interactions not in the training data: {bad}')
        input_hash = model_hash(self.state_dict())
        start = time.perf_counter()
        old = self._edge_index
        self._edge_index = old[:, ~torch.isin(keys, drop)]
        details = self._unlearn(pairs) or {}
        users = torch.unique(pairs[0])
        details.update(forgotten=int(pairs.size(1)), users=users.tolist(),
                       exact=self.exact)
        seconds = time.perf_counter() - start
        record = UnlearningRecord(
            request=f'{type(self).__name__}: {pairs.size(1)} interaction(s) '
            f'of {users.numel()} user(s)',
            forget_triples=torch.empty(0, 3, dtype=torch.long),
            affected=users, seconds=seconds, timings={'total': seconds},
            method=self.name, forget_pairs=pairs, details=details)
        entry = self.ledger.append(dict(
            request=record.request, method=self.name,
            given=dict(kind='pairs', value=pairs.t().tolist()),
            forget=dict(pairs=pairs.t().tolist()),
            affected=users.tolist(), input_model=input_hash,
            output_model=model_hash(self.state_dict()),
            retained_data=tensor_hash(self._edge_index),
            exact=self.exact, seconds=seconds))
        record.details['ledger_entry'] = entry['index']
        self.records.append(record)
        return record

    def _explain_forgotten(self, pairs: Tensor) -> None:
        r"""Raises an error naming the earlier request when one of
        :obj:`pairs` ``[2, K]`` (item ``-1``: any item of the user) was
        already forgotten."""
        for u, i in pairs.t().tolist():
            for e in self.ledger:
                for fu, fi in (e.get('forget') or {}).get('pairs', []):
                    if fu == u and i in (-1, fi):
                        what = f'user {u}' if i == -1 else \
                            f'interaction ({u}, {i})'
                        raise ValueError(
                            f"{what} was already forgotten by request "
                            f"{e['index']} ({e['request']}, {e['time']})")

    # ----------------------------------------------------------- files
    def state(self) -> Dict[str, Any]:
        r"""Everything that restores this method: config, sizes, the
        retained interactions, the shard assignment (sharded methods), the
        trained parameters and the ledger."""
        self._check_fitted()
        return dict(format=REC_FORMAT, method=self.name,
                    config=asdict(self.config),
                    config_class=type(self.config).__name__,
                    num_users=self.num_users, num_items=self.num_items,
                    edge_index=self._edge_index,
                    parameters=self.state_dict(),
                    ledger=self.ledger.to_list(),
                    fit_seconds=self.fit_seconds,
                    extra=self._extra_state())

    def save(self, path: str) -> None:
        r"""Writes :meth:`state` to :obj:`path`, atomically."""
        atomic_save(self.state(), path)

    @classmethod
    def load(cls, path: str, progress: bool = False) -> 'RecUnlearner':
        r"""Restores a method saved with :meth:`save` (on the same class;
        the ledger is verified, and the parameters must match the ledger's
        last output model)."""
        if not os.path.isfile(path):
            raise FileNotFoundError(f"'{path}' does not exist")
        try:
            state = torch.load(path, map_location='cpu', weights_only=False)
        except Exception as e:
            raise ValueError(f"'{path}' is not a readable recommendation "
                             f"unlearner file ({type(e).__name__}: {e})"
                             ) from None
        if not isinstance(state, dict) or state.get('format') != REC_FORMAT:
            raise ValueError(f"'{path}' is not a saved recommendation "
                             f"unlearner")
        if state['method'] != cls.name:
            raise ValueError(f"'{path}' holds a {state['method']} model, "
                             f"not {cls.name}")
        config_cls = EEMUConfig if state.get('config_class') == \
            'EEMUConfig' else RecTrainConfig
        out = cls.__new__(cls)
        RecUnlearner.__init__(out, state['num_users'], state['num_items'],
                              config_cls(**state['config']), progress)
        out._edge_index = state['edge_index']
        out.fit_seconds = float(state.get('fit_seconds', 0.0))
        out.ledger = Ledger(state['ledger'])
        problems = out.ledger.verify()
        if problems:
            raise ValueError(f"'{path}': the ledger is broken: "
                             + '; '.join(problems))
        out._restore(state['parameters'], state.get('extra') or {})
        if len(out.ledger) and out.ledger[-1]['output_model'] != \
                model_hash(out.state_dict()):
            raise ValueError(f"'{path}': the parameters are not the model "
                             f"the ledger recorded last")
        return out

    def _extra_state(self) -> Dict[str, Any]:
        return {}

    def _restore(self, parameters: Dict[str, Tensor],
                 extra: Dict[str, Any]) -> None:
        raise NotImplementedError

    def scores(self, users: Tensor) -> Tensor:
        r"""Scores of every item for :obj:`users`, shape
        :math:`(B, |\mathcal{I}|)`."""
        raise NotImplementedError

    def state_dict(self) -> Dict[str, Tensor]:
        r"""The trained parameters (what the ledger hashes)."""
        raise NotImplementedError

    def _users(self, users: Any) -> Tensor:
        self._check_fitted()
        users = torch.as_tensor(users, dtype=torch.long).view(-1).cpu()
        if users.numel() and (users.min() < 0
                              or users.max() >= self.num_users):
            raise ValueError(f'user ids out of range [0, {self.num_users})')
        return users

    def score_fn(self):
        r"""``users -> scores`` for
        :func:`~torch_geometric_unlearn.rec.ranking_metrics`."""
        self._check_fitted()
        return lambda users: self.scores(users)

    def _fit(self) -> None:
        raise NotImplementedError

    def _unlearn(self, pairs: Tensor) -> Optional[Dict[str, Any]]:
        raise NotImplementedError


# ---------------------------------------------------------------------------
# Unsharded references
# ---------------------------------------------------------------------------
@register_method('retrain', kind='rec')
class RetrainRec(RecUnlearner):
    r"""The unsharded base recommender; a deletion retrains it from scratch
    on the retained interactions (exact, and the cost every other method is
    compared with)."""
    name = 'retrain'
    exact = True

    def _fit(self) -> None:
        self.model = build_recommender(self.config, self.num_users,
                                       self.num_items)
        train_bpr(self.model, self._edge_index, self.config,
                  progress=self.progress, desc=self.name)
        self._emb = None

    def _unlearn(self, pairs: Tensor) -> Optional[Dict[str, Any]]:
        self._fit()
        return None

    def state_dict(self) -> Dict[str, Tensor]:
        r"""The model's parameters (empty before :meth:`fit`)."""
        model = getattr(self, 'model', None)
        return {} if model is None else model.state_dict()

    def _restore(self, parameters: Dict[str, Tensor],
                 extra: Dict[str, Any]) -> None:
        self.model = build_recommender(self.config, self.num_users,
                                       self.num_items)
        self.model.load_state_dict(parameters)
        self._emb = None

    @torch.no_grad()
    def scores(self, users: Tensor) -> Tensor:
        users = self._users(users)
        if self._emb is None:
            self._emb = self.model(self._edge_index.to(self._device))
        U, item = self._emb
        return U[users.to(self._device)] @ item.t()


@register_method('finetune', kind='rec')
class FineTuneRec(RetrainRec):
    r"""Approximate reference: after a deletion the unsharded model keeps
    training on the retained interactions for :obj:`finetune_epochs`."""
    name = 'finetune'
    exact = False

    def __init__(self, *args, finetune_epochs: int = 1, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if finetune_epochs <= 0:
            raise ValueError('finetune_epochs must be positive')
        self.finetune_epochs = finetune_epochs

    def _unlearn(self, pairs: Tensor) -> Optional[Dict[str, Any]]:
        cfg = copy.copy(self.config)
        cfg.epochs = self.finetune_epochs
        train_bpr(self.model, self._edge_index, cfg,
                  seed=self.config.seed + 17, progress=self.progress,
                  desc=self.name)
        self._emb = None
        return dict(epochs=self.finetune_epochs)

    def _extra_state(self) -> Dict[str, Any]:
        return dict(finetune_epochs=self.finetune_epochs)

    def _restore(self, parameters: Dict[str, Tensor],
                 extra: Dict[str, Any]) -> None:
        super()._restore(parameters, extra)
        self.finetune_epochs = int(extra.get('finetune_epochs', 1))


# ---------------------------------------------------------------------------
# Sharded methods
# ---------------------------------------------------------------------------
@dataclass
class EEMUConfig(RecTrainConfig):
    r"""Hyper-parameters of :class:`EEMU` (and :class:`SISARec`, which uses
    the shard fields only). Besides :class:`RecTrainConfig`'s:

    Args:
        num_shards (int): :math:`S`. (default: :obj:`4`)
        users_per_step (int): User tasks per outer step. (default: :obj:`64`)
        support_ratio (float): Share of a task's interactions in its
            support set. (default: :obj:`0.5`)
        inner_lr (float): Step size of the per-user adaptation.
            (default: :obj:`10.0`)
        inner_steps (int): Inner steps in meta-training. (default: :obj:`1`)
        adapt_steps (int): Adaptation steps at inference. (default: :obj:`2`)
        aggregation (str): ``'mean'`` (standardised scores of every shard,
            averaged) or ``'own'`` (the user's shard only).
        negatives (int): Negative items per interaction in the outer loss
            of a meta-step (BPR averaged over them). The propagation is
            the same for any number, so more negatives add signal per step
            at little cost. (default: :obj:`4`)
        bpr_weight (float): Weight of a plain BPR term on the support
            pairs at the user's un-adapted row, added to the meta-loss;
            with it every pair of the meta-batch trains the items, not only
            the query pairs. (default: :obj:`1.0`)
        shard_lr (float, optional): Adam learning rate of the shard models
            (:class:`EEMU` and :class:`SISARec`); :obj:`None` uses
            :obj:`lr`. A shard given :math:`1/S` of the unsharded model's
            time takes several times fewer steps, which a larger rate
            partly makes up for. (default: :obj:`None`)
    """
    num_shards: int = 4
    users_per_step: int = 64
    support_ratio: float = 0.5
    inner_lr: float = 10.0
    inner_steps: int = 1
    adapt_steps: int = 2
    aggregation: str = 'mean'
    negatives: int = 4
    bpr_weight: float = 1.0
    shard_lr: Optional[float] = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.num_shards <= 0 or self.users_per_step <= 0:
            raise ValueError('num_shards and users_per_step must be '
                             'positive')
        if not 0 < self.support_ratio < 1:
            raise ValueError('support_ratio must be in (0, 1)')
        if self.inner_steps < 0 or self.adapt_steps < 0 or \
                self.inner_lr < 0:
            raise ValueError('inner_steps, adapt_steps and inner_lr must be '
                             'non-negative')
        if self.aggregation not in ('mean', 'own'):
            raise ValueError(f"aggregation must be 'mean' or 'own', got "
                             f"'{self.aggregation}'")
        if self.negatives < 1:
            raise ValueError(f'negatives must be >= 1, got '
                             f'{self.negatives}')
        if self.bpr_weight < 0:
            raise ValueError(f'bpr_weight must be non-negative, got '
                             f'{self.bpr_weight}')
        if self.shard_lr is not None and not self.shard_lr > 0:
            raise ValueError(f'shard_lr must be positive, got '
                             f'{self.shard_lr}')

    @property
    def shard_learning_rate(self) -> float:
        r"""The Adam learning rate of a shard model."""
        return self.lr if self.shard_lr is None else self.shard_lr

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


class ShardedRecUnlearner(RecUnlearner):
    r"""The shared machinery of the sharded methods (:class:`EEMU`,
    :class:`SISARec`): a seeded user-to-shard assignment, one model per
    shard built by :meth:`build_shard`, and deletions that rebuild only the
    touched shards."""
    exact = True

    def __init__(self, num_users: int, num_items: int,
                 config: Optional[EEMUConfig] = None,
                 progress: bool = False) -> None:
        super().__init__(num_users, num_items, config or EEMUConfig(),
                         progress)
        if not isinstance(self.config, EEMUConfig):
            raise TypeError('sharded methods take an EEMUConfig')
        self.shard_of = assign_shards(self.num_users,
                                      self.config.num_shards,
                                      self.config.seed)
        self.shards = torch.nn.ModuleList()
        self.shard_seconds: List[float] = []

    def build_shard(self, s: int, edges: Tensor) -> torch.nn.Module:
        r"""Shard :obj:`s`'s model trained from scratch on :obj:`edges`."""
        raise NotImplementedError

    def shard_edges(self, shard: int) -> Tensor:
        r"""The current interactions of :obj:`shard` (canonical order)."""
        ei = self.edge_index
        return ei[:, self.shard_of[ei[0]] == shard]

    def _fit(self) -> None:
        self._emb = {}
        self.shards = torch.nn.ModuleList(
            [None] * self.config.num_shards)
        self.shard_seconds = [0.0] * self.config.num_shards
        self.train_shards(range(self.config.num_shards))
        self._emb = {}

    def train_shards(self, shards) -> List[int]:
        r"""Trains :obj:`shards` from scratch on their current
        interactions and returns the ones this rank trained.

        Under ``torchrun`` (:mod:`torch_geometric_unlearn.distributed`),
        shard :math:`s` is trained on rank :math:`s \bmod W` only, and the
        trained states are then shared so that every rank holds every
        shard, bit for bit what the owner trained (every rank must call
        this with the same shards). In one process every shard is trained
        here."""
        shards = [int(s) for s in shards]
        mine = owned_shards(shards)
        local = {}
        for s in mine:
            self._train_shard(s)
            local[s] = (self.shards[s].state_dict(), self.shard_seconds[s])
        if is_distributed():
            for s, (state, seconds) in share_states(local, shards).items():
                if s not in local:
                    self.shards[s] = self.shard_from_state(s, state)
                    self.shard_seconds[s] = seconds
                    self._emb.pop(s, None)
        return mine

    def shard_from_state(self, s: int,
                         state: Dict[str, Tensor]) -> torch.nn.Module:
        r"""Shard :obj:`s`'s model with the parameters :obj:`state` (a
        shard's ``state_dict()``, e.g. trained on another rank)."""
        cfg = self.config
        shard = _Shard(build_recommender(cfg, self.num_users,
                                         self.num_items,
                                         seed=_shard_seed(cfg.seed, s)),
                       cfg.dim)
        shard.load_state_dict(state)
        return shard.eval()

    def _train_shard(self, s: int) -> None:
        start = time.perf_counter()
        self.shards[s] = self.build_shard(s, self.shard_edges(s))
        self.shard_seconds[s] = time.perf_counter() - start
        self._emb.pop(s, None)  # the other shards' caches stay valid

    def _unlearn(self, pairs: Tensor) -> Optional[Dict[str, Any]]:
        touched = torch.unique(self.shard_of[pairs[0]]).tolist()
        self.train_shards(touched)
        return dict(shards=touched, num_shards=self.config.num_shards)

    def _embeddings(self, s: int):
        if s not in self._emb:
            with torch.no_grad():
                self._emb[s] = self.shards[s].model(
                    self.shard_edges(s).to(self._device))
        return self._emb[s]

    def state_dict(self) -> Dict[str, Tensor]:
        r"""Every shard's parameters, keyed ``'{shard}.{name}'``."""
        return {f'{s}.{k}': v for s, m in enumerate(self.shards)
                if m is not None for k, v in m.state_dict().items()}

    def _extra_state(self) -> Dict[str, Any]:
        return dict(shard_of=self.shard_of,
                    shard_seconds=list(self.shard_seconds))

    def _restore(self, parameters: Dict[str, Tensor],
                 extra: Dict[str, Any]) -> None:
        cfg = self.config
        self.shard_of = assign_shards(self.num_users, cfg.num_shards,
                                      cfg.seed)
        saved = extra.get('shard_of')
        if saved is not None and not torch.equal(saved, self.shard_of):
            raise ValueError('the saved shard assignment is not the one '
                             'this config draws')
        self.shards = torch.nn.ModuleList()
        for s in range(cfg.num_shards):
            prefix = f'{s}.'
            self.shards.append(self.shard_from_state(
                s, {k[len(prefix):]: v for k, v in parameters.items()
                    if k.startswith(prefix)}))
        self.shard_seconds = list(extra.get('shard_seconds',
                                            [0.0] * cfg.num_shards))
        self._emb = {}


class _Shard(torch.nn.Module):
    def __init__(self, model: torch.nn.Module, dim: int) -> None:
        super().__init__()
        self.model = model
        device = next(model.parameters()).device
        self.u0 = torch.nn.Parameter(torch.zeros(dim, device=device))


@register_method('sisa', kind='rec')
class SISARec(ShardedRecUnlearner):
    r"""Plain SISA for recommendation (`"Machine Unlearning"
    <https://arxiv.org/abs/1912.03817>`_, Bourtoule et al. 2021): the same
    user shards as :class:`EEMU`, each base model trained with plain BPR on
    its shard, and a user served by its own shard. Exact."""
    name = 'sisa'

    def build_shard(self, s: int, edges: Tensor) -> torch.nn.Module:
        r"""Shard :obj:`s`'s model trained from scratch on :obj:`edges`
        with the shard's seed (what a deletion reruns)."""
        seed = _shard_seed(self.config.seed, s)
        model = build_recommender(self.config, self.num_users,
                                  self.num_items, seed=seed)
        cfg = copy.copy(self.config)
        cfg.lr = self.config.shard_learning_rate
        train_bpr(model, edges, cfg, seed=seed,
                  progress=self.progress, desc=f'sisa shard {s}')
        return _Shard(model, self.config.dim)

    @torch.no_grad()
    def scores(self, users: Tensor) -> Tensor:
        users = self._users(users)
        out = torch.empty(users.numel(), self.num_items,
                          device=self._device)
        own = self.shard_of[users]
        for s in torch.unique(own).tolist():
            m = own == s
            U, item = self._embeddings(s)
            out[m.to(self._device)] = U[users[m].to(self._device)] @ item.t()
        return out


@register_method('eemu', kind='rec')
class EEMU(ShardedRecUnlearner):
    r"""Exact, meta-learned unlearning for recommendation (`"Meta-Learn to
    Unlearn: Enhanced Exact Machine Unlearning in Recommendation Systems
    with Meta-Learning" <https://petsymposium.org/popets/2025/>`_,
    Alshabanah et al., PoPETs 2025). See the module docstring for the
    design.

    Args:
        num_users (int): Number of users :math:`|\mathcal{U}|`.
        num_items (int): Number of items :math:`|\mathcal{I}|`.
        config (EEMUConfig, optional): Hyper-parameters.
        progress (bool): Show progress bars. (default: :obj:`False`)

    Example::

        >>> data = make_synthetic_interactions(seed=0)
        >>> eemu = EEMU(data.num_users, data.num_items,
        ...             EEMUConfig(model='mf', num_shards=4, epochs=5))
        >>> eemu.fit(data.edge_index('train'))
        >>> record = eemu.unlearn(user=3)        # retrains one shard
        >>> record['shards']
        [2]
    """
    name = 'eemu'

    def build_shard(self, s: int, edges: Tensor) -> torch.nn.Module:
        r"""Shard :obj:`s`'s meta-learned model trained from scratch on
        :obj:`edges` with the shard's seed (what a deletion reruns)."""
        cfg = self.config
        seed = _shard_seed(cfg.seed, s)
        shard = _Shard(build_recommender(cfg, self.num_users,
                                         self.num_items, seed=seed), cfg.dim)
        if edges.size(1) == 0:
            return shard
        num_items = self.num_items
        keys = pair_keys(edges, num_items)
        ptr, deg = _csr(edges, self.num_users)
        tasks = (deg >= 2).nonzero().view(-1)
        edges_d = edges.to(self._device)
        gen = torch.Generator().manual_seed(seed + 1)
        opt = make_optimizer(shard, cfg.shard_learning_rate)
        from tqdm.auto import tqdm
        with deterministic():
            for _ in tqdm(range(cfg.epochs), desc=f'eemu shard {s}',
                          disable=not self.progress, leave=False):
                order = tasks[torch.randperm(tasks.numel(), generator=gen)]
                for users in order.split(cfg.users_per_step):
                    self._meta_step(shard, opt, edges, edges_d, keys, ptr,
                                    deg, users, gen)
        shard.eval()
        return shard

    def _meta_step(self, shard, opt, edges, edges_d, keys, ptr, deg, users,
                   gen):
        cfg, b = self.config, users.numel()
        pos_idx, owner, count = _gather(ptr, deg, users)
        items = edges[1, pos_idx]
        # Random support / query split inside every task.
        r = torch.rand(owner.numel(), generator=gen, dtype=torch.float64)
        order = torch.argsort(owner.to(torch.float64) + r)
        start = torch.zeros(b, dtype=torch.long)
        start[1:] = count.cumsum(0)[:-1]
        rank = torch.empty_like(order)
        rank[order] = torch.arange(order.numel()) - start[owner[order]]
        n_sup = (count.double() * cfg.support_ratio).floor().long()
        n_sup = torch.minimum(n_sup.clamp(min=1), count - 1)
        sup = rank < n_sup[owner]
        k = cfg.negatives
        neg = sample_negatives(users[owner].repeat(k), keys, self.num_items,
                               gen)
        dev = self._device
        users, owner, items, neg, sup, n_sup, count = (
            t.to(dev) for t in (users, owner, items, neg, sup, n_sup, count))

        n = items.numel()
        ue, ie = shard.model.rows(edges_d, users, torch.cat([items, neg]))
        pos_rows, neg_rows = ie[:n], ie[n:].view(k, n, -1)
        d = ue.size(1)
        reps = torch.cat([ue, shard.u0.expand(b, d)])
        own2 = torch.cat([owner[sup], owner[sup] + b])
        cnt_s = torch.cat([n_sup, n_sup])
        adapted = _adapt(reps, own2, pos_rows[sup].repeat(2, 1),
                         neg_rows[0, sup].repeat(2, 1), cnt_s,
                         cfg.inner_steps, cfg.inner_lr)
        q = ~sup
        ownq = torch.cat([owner[q], owner[q] + b])
        cnt_q = torch.cat([count - n_sup, count - n_sup]).to(ue.dtype)
        loss = _pair_loss(adapted[ownq], pos_rows[q].repeat(2, 1),
                          neg_rows[:, q].repeat(1, 2, 1))
        loss = (loss / cnt_q[ownq]).sum() / (2 * b)
        if cfg.bpr_weight > 0:
            # Plain BPR of the support pairs at the user's own row: the
            # same propagation, so the items learn from every pair.
            plain = _pair_loss(ue[owner[sup]], pos_rows[sup],
                               neg_rows[:, sup])
            loss = loss + cfg.bpr_weight * (
                plain / n_sup[owner[sup]].to(ue.dtype)).sum() / b
        if cfg.reg > 0:
            eu, ei = shard.model.ego(users, torch.cat([items, neg]))
            loss = loss + cfg.reg * 0.5 * (
                eu.pow(2).sum() + ei.pow(2).sum()
                + b * shard.u0.pow(2).sum()) / b
        opt.zero_grad()
        loss.backward()
        opt.step()

    def user_representations(self, s: int, users: Tensor) -> Tensor:
        r"""Representations of :obj:`users` in shard :obj:`s` after
        :obj:`adapt_steps` steps on their current interactions: from the
        user's trained row in the own shard, from :math:`\mathbf{u}_0`
        elsewhere (and for users with no interactions left)."""
        cfg = self.config
        U, item = self._embeddings(s)
        ei = self._edge_index
        ptr, deg = _csr(ei, self.num_users)
        warm = (self.shard_of[users] == s) & (deg[users] > 0)
        pos_idx, owner, count = _gather(ptr, deg, users)
        pos = ei[1, pos_idx]
        neg = _hash_items(users[owner], pos, s, self.num_items)
        dev = self._device
        users, warm, owner, pos, neg, count = (
            t.to(dev) for t in (users, warm, owner, pos, neg, count))
        reps = torch.where(warm.view(-1, 1), U[users],
                           self.shards[s].u0.detach().expand(
                               users.numel(), -1))
        return _adapt(reps, owner, item[pos], item[neg], count,
                      cfg.adapt_steps, cfg.inner_lr).detach()

    @torch.no_grad()
    def scores(self, users: Tensor) -> Tensor:
        users = self._users(users)
        dev = self._device
        if self.config.aggregation == 'own':
            out = torch.empty(users.numel(), self.num_items, device=dev)
            own = self.shard_of[users]
            for s in torch.unique(own).tolist():
                m = own == s
                out[m.to(dev)] = self.user_representations(s, users[m]) @ \
                    self._embeddings(s)[1].t()
            return out
        # Per-user standardisation of each shard's scores, computed from the
        # item embeddings' mean and covariance (O(B d^2), no pass over the
        # [B, I] score matrices), then one matmul over the shards' rows.
        parts, items, offset = [], [], 0.
        for s in range(self.config.num_shards):
            rep = self.user_representations(s, users)
            item = self._embeddings(s)[1]
            mean_item = item.mean(0)
            centred = item - mean_item
            cov = centred.t() @ centred / max(item.size(0) - 1, 1)
            mean = rep @ mean_item
            std = ((rep @ cov) * rep).sum(-1).clamp(min=1e-24).sqrt()
            parts.append(rep / std.view(-1, 1))
            items.append(item)
            offset = offset + mean / std
        out = torch.cat(parts, 1) @ torch.cat(items, 1).t()
        out -= offset.view(-1, 1)
        return out / self.config.num_shards


#: Recommendation unlearners by name (for the ``rec-bench`` command).
REC_METHODS = {'retrain': RetrainRec, 'eemu': EEMU, 'sisa': SISARec,
               'finetune': FineTuneRec}
