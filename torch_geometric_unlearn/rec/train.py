r"""BPR training of the base recommenders, seeded and deterministic.

Everything random (the init, the batch order, the negatives) comes from the
:obj:`seed`; the caller's global RNG is left untouched. On CPU, two runs with
the same seed and the same interactions give bit-identical parameters --
which is what exact unlearning (:class:`~torch_geometric_unlearn.rec.EEMU`,
:class:`~torch_geometric_unlearn.rec.SISARec`) rests on.
"""
from __future__ import annotations

import contextlib
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any, Callable, Dict, Optional

import torch
import torch.nn.functional as F
from torch import Tensor

from .models import make_optimizer, make_recommender

__all__ = ['RecTrainConfig', 'train_bpr', 'build_recommender',
           'canonical', 'pair_keys', 'sample_negatives', 'bpr_loss',
           'deterministic']


@contextlib.contextmanager
def deterministic():
    r"""Runs the block with :func:`torch.use_deterministic_algorithms`
    on (restoring the caller's setting after). On CPU with several threads,
    the backward of an embedding lookup accumulates in a thread-dependent
    order otherwise, and two trainings with the same seed differ in the
    last bits. Where an operation has no deterministic version (on GPU),
    PyTorch's warning is silenced and the operation runs anyway."""
    was = torch.are_deterministic_algorithms_enabled()
    was_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', '.*deterministic.*')
            yield
    finally:
        torch.use_deterministic_algorithms(was, warn_only=was_warn)


@dataclass
class RecTrainConfig:
    r"""Hyper-parameters of a base recommender and its BPR training.

    Args:
        model (str): ``'mf'`` or ``'lightgcn'``. (default: ``'lightgcn'``)
        dim (int): Embedding dimension. (default: :obj:`64`)
        num_layers (int): LightGCN layers. (default: :obj:`3`)
        epochs (int): Passes over the interactions. (default: :obj:`20`)
        batch_size (int): Interactions per step. (default: :obj:`2048`)
        lr (float): Adam learning rate. (default: :obj:`1e-3`)
        reg (float): Weight of the L2 penalty on the batch's ego
            embeddings, as in LightGCN. (default: :obj:`1e-4`)
        seed (int): Seed of the init, the order and the negatives.
        device (str): Where the model lives and trains; the init and all
            sampling stay on the CPU, so a seed gives the same draws on any
            device. (default: ``'cpu'``)
    """
    model: str = 'lightgcn'
    dim: int = 64
    num_layers: int = 3
    epochs: int = 20
    batch_size: int = 2048
    lr: float = 1e-3
    reg: float = 1e-4
    seed: int = 0
    device: str = 'cpu'

    def __post_init__(self) -> None:
        for name in ('dim', 'epochs', 'batch_size'):
            if getattr(self, name) <= 0:
                raise ValueError(f'{name} must be positive, got '
                                 f'{getattr(self, name)}')
        if self.lr <= 0 or self.reg < 0:
            raise ValueError('lr must be positive and reg non-negative')

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)


def build_recommender(config: RecTrainConfig, num_users: int, num_items: int,
                      seed: Optional[int] = None) -> torch.nn.Module:
    r"""A freshly initialised base recommender; the init is drawn from
    :obj:`seed` (default: :obj:`config.seed`) without touching the global
    RNG."""
    seed = config.seed if seed is None else seed
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = make_recommender(config.model, num_users, num_items,
                                 config.dim, config.num_layers)
    return model.to(config.device)


def pair_keys(edge_index: Tensor, num_items: int) -> Tensor:
    r"""``user * num_items + item`` for every interaction."""
    return edge_index[0] * num_items + edge_index[1]


def canonical(edge_index: Tensor, num_items: int) -> Tensor:
    r"""The interactions sorted by (user, item), duplicates removed -- the
    order training sees, so that it does not depend on how the data was
    stored or edited."""
    keys = torch.unique(pair_keys(edge_index, num_items))
    return torch.stack([keys // num_items, keys % num_items])


def sample_negatives(users: Tensor, sorted_keys: Tensor, num_items: int,
                     generator: torch.Generator, tries: int = 32) -> Tensor:
    r"""One uniformly drawn item per user that the user has not interacted
    with (rejection sampling; after :obj:`tries` rounds a remaining positive
    is kept, which only happens for users who saw almost every item)."""
    neg = torch.randint(num_items, users.shape, generator=generator)
    for _ in range(tries):
        if sorted_keys.numel() == 0:
            break
        k = users * num_items + neg
        pos = torch.searchsorted(sorted_keys, k).clamp_(
            max=sorted_keys.numel() - 1)
        bad = sorted_keys[pos] == k
        n_bad = int(bad.sum())
        if n_bad == 0:
            break
        neg[bad] = torch.randint(num_items, (n_bad, ), generator=generator)
    return neg


def bpr_loss(pos: Tensor, neg: Tensor) -> Tensor:
    r""":math:`-\log\sigma(s^+ - s^-)`, element-wise."""
    return F.softplus(neg - pos)


def train_bpr(model: torch.nn.Module, edge_index: Tensor, config:
              RecTrainConfig, seed: Optional[int] = None,
              progress: bool = False, desc: str = 'bpr',
              callback: Optional[Callable[[int, torch.nn.Module], Any]] = None
              ) -> Dict[str, Any]:
    r"""Trains :obj:`model` in place with BPR on :obj:`edge_index` (shape
    :math:`(2, E)`), the LightGCN recipe: uniform negatives, L2 on the
    batch's ego embeddings, Adam (:class:`torch.optim.SparseAdam` for
    sparse-gradient tables, see :func:`make_optimizer`).

    The interactions are put in canonical order first, so the result depends
    only on the set of interactions and the seed (bit for bit on CPU with
    the same number of threads). :obj:`callback(epoch, model)`, if given,
    runs after every epoch (outside the timed training, in eval mode) and
    stops the training by returning :obj:`True`. Returns the loss history
    and the wall time.
    """
    seed = config.seed if seed is None else seed
    num_items = model.num_items
    graph = canonical(edge_index, num_items)
    keys = pair_keys(graph, num_items)
    gen = torch.Generator().manual_seed(seed + 1)
    opt = make_optimizer(model, config.lr)
    history = []
    model.train()
    e = graph.size(1)
    if e == 0:
        return dict(loss=history, seconds=0.0, interactions=0)
    with deterministic():
        seconds = _bpr_epochs(model, graph, keys, config, gen, opt, history,
                              progress, desc, callback)
    model.eval()
    return dict(loss=history, seconds=seconds, interactions=e,
                epochs=len(history))


def _bpr_epochs(model, graph, keys, config, gen, opt, history, progress,
                desc, callback=None) -> float:
    from tqdm.auto import tqdm
    seconds = 0.0
    num_items, e = model.num_items, graph.size(1)
    dev = next(model.parameters()).device
    graph_d = graph.to(dev)
    for _ in tqdm(range(config.epochs), desc=desc, disable=not progress,
                  leave=False):
        start = time.perf_counter()
        perm = torch.randperm(e, generator=gen)
        total = 0.0
        for b in perm.split(config.batch_size):
            u, i = graph[0, b], graph[1, b]
            j = sample_negatives(u, keys, num_items, gen).to(dev)
            u, i = u.to(dev), i.to(dev)
            ue, ie = model.rows(graph_d, u, torch.cat([i, j]))
            pos = (ue * ie[:u.numel()]).sum(-1)
            neg = (ue * ie[u.numel():]).sum(-1)
            loss = bpr_loss(pos, neg).mean()
            if config.reg > 0:
                eu, ei = model.ego(u, torch.cat([i, j]))
                loss = loss + config.reg * 0.5 * (
                    eu.pow(2).sum() + ei.pow(2).sum()) / u.numel()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += float(loss.detach()) * u.numel()
        history.append(total / e)
        seconds += time.perf_counter() - start
        if callback is not None:
            model.eval()
            with torch.random.fork_rng(devices=[]):
                stop = callback(len(history), model)
            model.train()
            if stop:
                break
    return seconds
