r"""A GNNDelete-style deletion operator for KGE models."""
from typing import Union

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.data import Data

from ..datasets.kg import KGDataset
from ..kge.scoring import get_scorer
from ..transforms import affected_entities
from ..unlearner import Unlearner, register_method


@register_method('gnndelete')
class GNNDelete(Unlearner):
    r"""A deletion operator in the style of GNNDelete (`"GNNDelete: A
    General Strategy for Unlearning in Graph Neural Networks"
    <https://arxiv.org/abs/2302.13406>`_), on KGE embeddings.

    The KGE model is frozen; a small trainable layer
    :math:`\mathbf{e}' = \mathbf{e} + \mathbf{W}\mathbf{e} + \mathbf{b}`
    (starting at the identity) is applied only to the rows of the entities
    within :obj:`num_hops` hops of the forgotten triples, and trained with

    * **deleted edge consistency**: a forgotten triple should score like a
      random triple (MSE between their scores, both with the new rows);
    * **neighbourhood influence**: the retained triples around those
      entities should keep their original scores (MSE),

    weighted :math:`\lambda` and :math:`1 - \lambda`. The new rows are then
    written into the copy of the model.

    Args:
        model (torch.nn.Module): The trained KGE model.
        data (Data or KGDataset): Its training graph.
        num_hops (int, optional): Neighbourhood of the operator.
            (default: :obj:`1`)
        steps (int, optional): Optimiser steps. (default: :obj:`100`)
        lr (float, optional): Adam learning rate. (default: :obj:`1e-3`)
        lam (float, optional): :math:`\lambda`. (default: :obj:`0.5`)
        batch_size (int, optional): Retained triples per step.
            (default: :obj:`1024`)
        seed (int, optional): Seed. (default: :obj:`0`)
    """
    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 num_hops: int = 1, steps: int = 100, lr: float = 1e-3,
                 lam: float = 0.5, batch_size: int = 1024,
                 seed: int = 0) -> None:
        super().__init__(model, data)
        if num_hops < 0 or steps < 1 or lr <= 0 or not 0 <= lam <= 1 or \
                batch_size < 1:
            raise ValueError('num_hops >= 0, steps, lr, batch_size > 0 and '
                             'lam in [0, 1] are required')
        self.num_hops, self.steps, self.lr = int(num_hops), int(steps), \
            float(lr)
        self.lam, self.batch_size, self.seed = float(lam), int(batch_size), \
            int(seed)

    def _unlearn(self, model: torch.nn.Module, retained: Data,
                 forget: Tensor, affected: Tensor) -> torch.nn.Module:
        n = int(model.num_nodes)
        fei = forget[:, [0, 2]].t()
        mask = affected_entities(fei, retained.edge_index, n, self.num_hops)
        nbr = mask.nonzero().view(-1)
        scorer = get_scorer(model)
        dev = scorer.device
        for p in model.parameters():
            p.requires_grad_(False)
        with torch.no_grad():
            rows = scorer.param_rows(nbr.to(dev))
        pos_of = torch.full((n, ), -1, dtype=torch.long)
        pos_of[nbr] = torch.arange(nbr.numel())
        pos_of = pos_of.to(dev)
        op = torch.nn.Linear(rows.size(1), rows.size(1)).to(dev)
        torch.nn.init.zeros_(op.weight)
        torch.nn.init.zeros_(op.bias)
        opt = torch.optim.Adam(op.parameters(), lr=self.lr)
        inc = (mask[retained.edge_index[0]] |
               mask[retained.edge_index[1]]).nonzero().view(-1)
        local = torch.stack([retained.edge_index[0, inc],
                             retained.edge_type[inc],
                             retained.edge_index[1, inc]], dim=1)
        g = torch.Generator().manual_seed(self.seed)

        def rep(new: Tensor, idx: Tensor) -> Tensor:
            p = pos_of[idx]
            mine = new[p.clamp(min=0)]
            theirs = scorer.param_rows(idx)
            return scorer.represent(torch.where((p >= 0)[:, None], mine,
                                                theirs))

        def score(new: Tensor, t: Tensor) -> Tensor:
            h, r, tl = t.unbind(1)
            return scorer.score_pairs(scorer.tail_query_rep(rep(new, h), r),
                                      rep(new, tl))

        with torch.no_grad():
            f_dev = forget.to(dev)
        for _ in range(self.steps):
            new = rows + op(rows)
            rnd = f_dev.clone()
            rnd[:, 2] = torch.randint(n, (rnd.size(0), ),
                                      generator=g).to(dev)
            dec = F.mse_loss(score(new, f_dev), score(new, rnd).detach())
            loss = self.lam * dec
            if local.size(0) > 0:
                b = local[torch.randint(local.size(0), (min(
                    self.batch_size, local.size(0)), ), generator=g)].to(dev)
                with torch.no_grad():
                    target = score(rows, b)
                loss = loss + (1 - self.lam) * F.mse_loss(score(new, b),
                                                          target)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            scorer.write_rows(nbr.to(dev), rows + op(rows))
        for p in model.parameters():
            p.requires_grad_(True)
        self.neighbourhood = nbr
        return model.eval()
