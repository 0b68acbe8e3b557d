r"""Retraining, fine-tuning and gradient ascent."""
import copy
from dataclasses import asdict
from typing import List, Optional, Union

import torch
from torch import Tensor
from torch_geometric.data import Data

from ..datasets.kg import KGDataset
from ..kge.scoring import load_kge_model
from ..kge.trainer import (KGETrainer, TrainConfig, default_train_config,
                           make_optimizer, model_kwargs_of)
from ..unlearner import Unlearner, register_method


def fresh_like(model: torch.nn.Module, name: str,
               seed: int) -> torch.nn.Module:
    r"""A freshly initialised model of :obj:`model`'s architecture (seeded,
    on its device; the caller's RNG state is kept)."""
    kw = model_kwargs_of(model)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        fresh = load_kge_model(name, kw.pop('num_nodes'),
                               kw.pop('num_relations'),
                               kw.pop('hidden_channels'), **kw)
    return fresh.to(next(model.parameters()).device)


@register_method('retrain')
class Retrain(Unlearner):
    r"""The gold standard: a fresh model of the same architecture trained
    from scratch on the retained triples only.

    Args:
        model (torch.nn.Module): The trained KGE model (only its
            architecture is used).
        data (Data or KGDataset): Its training graph.
        config (TrainConfig, optional): Training hyper-parameters (default:
            the model's recipe, without validation).
        valid (Data, optional): Validation split for early stopping.
        filter_data (list, optional): Filter of the validation ranking.
        seed (int, optional): Seed of the initialisation. (default: :obj:`0`)
        progress (bool, optional): Progress bars. (default: :obj:`False`)
    """
    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 config: Optional[TrainConfig] = None,
                 valid: Optional[Data] = None,
                 filter_data: Optional[List[Data]] = None, seed: int = 0,
                 progress: bool = False) -> None:
        super().__init__(model, data)
        self.config = config or default_train_config(self.model_name,
                                                     seed=seed)
        self.valid, self.filter_data = valid, filter_data
        self.seed, self.progress = seed, progress

    def _unlearn(self, model: torch.nn.Module, retained: Data,
                 forget: Tensor, affected: Tensor) -> torch.nn.Module:
        fresh = fresh_like(model, self.model_name, self.seed)
        KGETrainer(fresh, copy.deepcopy(self.config),
                   progress=self.progress).fit(retained, self.valid,
                                               self.filter_data)
        return fresh.eval()


@register_method('finetune')
class FineTune(Unlearner):
    r"""Continues training the model on the retained triples only, for a
    budget of :obj:`epochs` (forgetting by not seeing the forget set again).

    Args:
        model (torch.nn.Module): The trained KGE model.
        data (Data or KGDataset): Its training graph.
        epochs (int, optional): Epochs on the retained triples.
            (default: :obj:`1`)
        config (TrainConfig, optional): Hyper-parameters (:obj:`epochs` is
            overridden; default: the model's recipe).
        progress (bool, optional): Progress bars. (default: :obj:`False`)
    """
    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 epochs: int = 1, config: Optional[TrainConfig] = None,
                 progress: bool = False) -> None:
        super().__init__(model, data)
        if int(epochs) < 1:
            raise ValueError("'epochs' must be >= 1")
        cfg = config or default_train_config(self.model_name)
        d = asdict(cfg)
        d.update(epochs=int(epochs), eval_every=0)
        self.config = TrainConfig.from_dict(d)
        self.progress = progress

    def _unlearn(self, model: torch.nn.Module, retained: Data,
                 forget: Tensor, affected: Tensor) -> torch.nn.Module:
        model.train()
        KGETrainer(model, copy.deepcopy(self.config),
                   progress=self.progress).fit(retained)
        return model.eval()


@register_method('gradient_ascent')
class GradientAscent(Unlearner):
    r"""Gradient ascent on the forget set with a retain term (NegGrad+, as
    in `"Towards Unbounded Machine Unlearning"
    <https://arxiv.org/abs/2302.09880>`_): each step minimises

    .. math::
        -\mathcal{L}(F_b) + \lambda \, \mathcal{L}(T_{r,b})

    for a batch :math:`F_b` of forgotten and :math:`T_{r,b}` of retained
    triples, with the KGE training loss :math:`\mathcal{L}` of
    :obj:`config`.

    Args:
        model (torch.nn.Module): The trained KGE model.
        data (Data or KGDataset): Its training graph.
        steps (int, optional): Optimiser steps. (default: :obj:`50`)
        lr (float, optional): Adam learning rate. (default: :obj:`1e-3`)
        retain_weight (float, optional): :math:`\lambda`.
            (default: :obj:`1.0`)
        batch_size (int, optional): Triples per batch of each set.
            (default: :obj:`512`)
        config (TrainConfig, optional): Loss settings (default: the model's
            recipe).
        seed (int, optional): Seed of the batches. (default: :obj:`0`)
    """
    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 steps: int = 50, lr: float = 1e-3,
                 retain_weight: float = 1.0, batch_size: int = 512,
                 config: Optional[TrainConfig] = None,
                 seed: int = 0) -> None:
        super().__init__(model, data)
        if int(steps) < 1 or lr <= 0 or retain_weight < 0 or batch_size < 1:
            raise ValueError('steps, lr and batch_size must be positive and '
                             'retain_weight non-negative')
        self.steps, self.lr = int(steps), float(lr)
        self.retain_weight = float(retain_weight)
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.config = config or default_train_config(self.model_name)

    def _unlearn(self, model: torch.nn.Module, retained: Data,
                 forget: Tensor, affected: Tensor) -> torch.nn.Module:
        dev = next(model.parameters()).device
        trainer = KGETrainer(model, copy.deepcopy(self.config),
                             progress=False)
        opt = make_optimizer(model, 'adam', self.lr)
        g = torch.Generator().manual_seed(self.seed)
        rh, rr, rt = retained.edge_index[0], retained.edge_type, \
            retained.edge_index[1]
        model.train()
        for _ in range(self.steps):
            fi = torch.randint(forget.size(0),
                               (min(self.batch_size, forget.size(0)), ),
                               generator=g)
            fb = forget[fi].to(dev)
            loss = -trainer.loss(fb[:, 0], fb[:, 1], fb[:, 2], g)
            if self.retain_weight > 0 and rh.numel() > 0:
                ri = torch.randint(rh.numel(), (self.batch_size, ),
                                   generator=g)
                loss = loss + self.retain_weight * trainer.loss(
                    rh[ri].to(dev), rr[ri].to(dev), rt[ri].to(dev), g)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return model.eval()
