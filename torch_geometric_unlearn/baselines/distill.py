r"""Knowledge-distillation unlearning (D2DGN-style)."""
import copy
from typing import Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data

from ..datasets.kg import KGDataset
from ..kge.scoring import get_scorer
from ..unlearner import Unlearner, register_method
from .simple import fresh_like


@register_method('distill')
class Distill(Unlearner):
    r"""Unlearning by distillation, after D2DGN (`"Distill to Delete:
    Unlearning in Graph Networks with Knowledge Distillation"
    <https://arxiv.org/abs/2309.16173>`_): a student, initialised from the
    trained model, is distilled from it (the good teacher) on retained
    triples and from a freshly initialised model of the same architecture
    (the bad teacher) on the forgotten ones. Each step minimises

    .. math::
        \mathrm{KL}(p_{\text{good}} \| p_{\text{student}})_{T_r} +
        \mathrm{KL}(p_{\text{bad}} \| p_{\text{student}})_{F} +
        \alpha \big( \mathrm{MSE}_{T_r} + \mathrm{MSE}_F \big)

    where :math:`p` is the softmax over a query's true answer and shared
    random candidates (both directions), and the MSE terms pull the
    student's entity rows of the batch towards the respective teacher's.

    Args:
        model (torch.nn.Module): The trained KGE model (the good teacher).
        data (Data or KGDataset): Its training graph.
        steps (int, optional): Optimiser steps. (default: :obj:`100`)
        lr (float, optional): Adam learning rate. (default: :obj:`1e-3`)
        alpha (float, optional): Weight :math:`\alpha` of the embedding
            terms. (default: :obj:`0.5`)
        temperature (float, optional): Softmax temperature.
            (default: :obj:`1.0`)
        num_negatives (int, optional): Shared candidates per batch.
            (default: :obj:`128`)
        batch_size (int, optional): Triples per batch of each set.
            (default: :obj:`512`)
        seed (int, optional): Seed of the bad teacher and the batches.
            (default: :obj:`0`)
    """
    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 steps: int = 100, lr: float = 1e-3, alpha: float = 0.5,
                 temperature: float = 1.0, num_negatives: int = 128,
                 batch_size: int = 512, seed: int = 0) -> None:
        super().__init__(model, data)
        if steps < 1 or lr <= 0 or alpha < 0 or temperature <= 0 or \
                num_negatives < 1 or batch_size < 1:
            raise ValueError('steps, lr, temperature, num_negatives and '
                             'batch_size must be positive, alpha >= 0')
        self.steps, self.lr, self.alpha = int(steps), float(lr), float(alpha)
        self.temperature = float(temperature)
        self.num_negatives, self.batch_size = int(num_negatives), \
            int(batch_size)
        self.seed = int(seed)

    def _logits(self, model, triples: Tensor, cand: Tensor) -> Tensor:
        sc = get_scorer(model)
        h, r, t = triples.unbind(1)
        rows = sc.entity_rows(cand)
        out = []
        for query, pos in ((sc.tail_query(h, r), sc.entity_rows(t)),
                           (sc.head_query(r, t), sc.entity_rows(h))):
            p = sc.score_pairs(query, pos)
            out.append(torch.cat([p[:, None], sc.score_against(query, rows)],
                                 dim=1))
        return torch.cat(out, dim=0) / self.temperature

    def _terms(self, student, teacher, triples: Tensor,
               cand: Tensor) -> Tensor:
        with torch.no_grad():
            target = torch.log_softmax(self._logits(teacher, triples, cand),
                                       dim=1)
            ents = torch.cat([triples[:, 0], triples[:, 2]])
            t_rows = get_scorer(teacher).param_rows(ents)
        log_p = torch.log_softmax(self._logits(student, triples, cand), 1)
        kl = F.kl_div(log_p, target, log_target=True, reduction='batchmean')
        mse = F.mse_loss(get_scorer(student).param_rows(ents), t_rows)
        return kl + self.alpha * mse

    def _unlearn(self, model: torch.nn.Module, retained: Data,
                 forget: Tensor, affected: Tensor) -> torch.nn.Module:
        dev = next(model.parameters()).device
        teacher = copy.deepcopy(model).eval()
        bad = fresh_like(model, self.model_name, self.seed).eval()
        for p in list(teacher.parameters()) + list(bad.parameters()):
            p.requires_grad_(False)
        kept = torch.stack([retained.edge_index[0], retained.edge_type,
                            retained.edge_index[1]], dim=1)
        g = torch.Generator().manual_seed(self.seed)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr)
        n = int(model.num_nodes)
        model.train()
        for _ in range(self.steps):
            cand = torch.randint(n, (self.num_negatives, ), generator=g)
            fb = forget[torch.randint(forget.size(0), (min(
                self.batch_size, forget.size(0)), ), generator=g)]
            loss = self._terms(model, bad, fb.to(dev), cand.to(dev))
            if kept.size(0) > 0:
                rb = kept[torch.randint(kept.size(0), (self.batch_size, ),
                                        generator=g)]
                loss = loss + self._terms(model, teacher, rb.to(dev),
                                          cand.to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
        return model.eval()
