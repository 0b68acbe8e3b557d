r"""Selective Synaptic Dampening."""
import copy
from typing import Dict, Optional, Union

import torch
from torch import Tensor
from torch_geometric.data import Data

from ..datasets.kg import KGDataset
from ..kge.trainer import KGETrainer, TrainConfig, default_train_config
from ..unlearner import Unlearner, register_method


@register_method('ssd')
class SSD(Unlearner):
    r"""Selective Synaptic Dampening, from the `"Fast Machine Unlearning
    Without Retraining Through Selective Synaptic Dampening"
    <https://arxiv.org/abs/2308.07707>`_ paper.

    The diagonal Fisher information (mean squared gradient of the KGE
    training loss) is estimated on the forget set, :math:`I_F`, and on
    (a sample of) the retained triples, :math:`I_R`. Every parameter with
    :math:`I_F > \alpha I_R` is scaled by
    :math:`\beta = \min(\lambda I_R / I_F, 1)`; the others are unchanged.
    No training is done.

    Args:
        model (torch.nn.Module): The trained KGE model.
        data (Data or KGDataset): Its training graph.
        alpha (float, optional): Selection threshold :math:`\alpha`.
            (default: :obj:`10.0`)
        dampening (float, optional): :math:`\lambda`. (default: :obj:`1.0`)
        batch_size (int, optional): Triples per gradient batch.
            (default: :obj:`512`)
        retain_batches (int, optional): Batches of retained triples for
            :math:`I_R`. (default: :obj:`20`)
        config (TrainConfig, optional): Loss settings (default: the model's
            recipe).
        seed (int, optional): Seed of the batches. (default: :obj:`0`)
    """
    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 alpha: float = 10.0, dampening: float = 1.0,
                 batch_size: int = 512, retain_batches: int = 20,
                 config: Optional[TrainConfig] = None,
                 seed: int = 0) -> None:
        super().__init__(model, data)
        if alpha <= 0 or dampening <= 0 or batch_size < 1 or \
                retain_batches < 1:
            raise ValueError('alpha, dampening, batch_size and '
                             'retain_batches must be positive')
        self.alpha, self.dampening = float(alpha), float(dampening)
        self.batch_size, self.retain_batches = int(batch_size), \
            int(retain_batches)
        self.config = config or default_train_config(self.model_name)
        self.seed = int(seed)

    def _fisher(self, trainer: KGETrainer, triples: Tensor,
                batches, g: torch.Generator) -> Dict[str, Tensor]:
        model = trainer.model
        dev = next(model.parameters()).device
        out = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
        count = 0
        for idx in batches:
            b = triples[idx].to(dev)
            model.zero_grad()
            trainer.loss(b[:, 0], b[:, 1], b[:, 2], g).backward()
            for n, p in model.named_parameters():
                if p.grad is not None:
                    out[n] += p.grad.detach().pow(2)
            count += 1
        model.zero_grad()
        return {n: v / max(count, 1) for n, v in out.items()}

    def _unlearn(self, model: torch.nn.Module, retained: Data,
                 forget: Tensor, affected: Tensor) -> torch.nn.Module:
        g = torch.Generator().manual_seed(self.seed)
        cfg = copy.deepcopy(self.config)
        cfg.regularization = 0.0
        trainer = KGETrainer(model, cfg, progress=False)
        model.train()
        f_batches = torch.arange(forget.size(0)).split(self.batch_size)
        i_f = self._fisher(trainer, forget, f_batches, g)
        kept = torch.stack([retained.edge_index[0], retained.edge_type,
                            retained.edge_index[1]], dim=1)
        r_batches = [torch.randint(kept.size(0), (self.batch_size, ),
                                   generator=g)
                     for _ in range(self.retain_batches)]
        i_r = self._fisher(trainer, kept, r_batches, g)
        self.dampened = 0
        with torch.no_grad():
            for n, p in model.named_parameters():
                select = i_f[n] > self.alpha * i_r[n]
                beta = (self.dampening * i_r[n] /
                        i_f[n].clamp(min=1e-30)).clamp(max=1.0)
                p.mul_(torch.where(select, beta, torch.ones_like(beta)))
                self.dampened += int(select.sum())
        return model.eval()
