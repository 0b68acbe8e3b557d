r"""SISA: exact unlearning by sharded training."""
import copy
from typing import Dict, List, Optional, Union

import torch
from torch import Tensor
from torch_geometric.data import Data

from ..datasets.kg import KGDataset
from ..distributed import is_distributed, owned_shards, share_states
from ..kge.scoring import ForwardScorer, get_scorer, register_scorer
from ..kge.trainer import KGETrainer, TrainConfig, default_train_config
from ..unlearner import Unlearner, register_method
from .simple import fresh_like

__all__ = ['ShardEnsemble', 'ShardEnsembleScorer', 'SISA']


class ShardEnsemble(torch.nn.Module):
    r"""The aggregate of SISA's shard models: the score of a triple is the
    mean of the shard models' scores (constant-size, order-independent, so a
    retrained shard changes nothing else).

    Args:
        shards (list): The shard models (same architecture).
    """
    def __init__(self, shards: List[torch.nn.Module]) -> None:
        super().__init__()
        if not shards:
            raise ValueError('a shard ensemble needs at least one model')
        self.shards = torch.nn.ModuleList(shards)
        self.num_nodes = int(shards[0].num_nodes)
        self.num_relations = int(shards[0].num_relations)

    def forward(self, head_index: Tensor, rel_type: Tensor,
                tail_index: Tensor) -> Tensor:
        return torch.stack([m(head_index, rel_type, tail_index)
                            for m in self.shards]).mean(0)


@register_scorer(ShardEnsemble)
class ShardEnsembleScorer(ForwardScorer):
    r"""Scoring adapter of :class:`ShardEnsemble`: the mean of the shard
    models' own adapters' scores against all entities (or candidates), so
    ranking an ensemble costs :math:`S` table scorings instead of
    :math:`S` forward passes per (query, entity) pair. Single triples are
    scored through :meth:`ShardEnsemble.forward`."""
    def __init__(self, model: ShardEnsemble) -> None:
        super().__init__(model)
        self.scorers = [get_scorer(m) for m in model.shards]

    def prepare(self) -> 'ShardEnsembleScorer':
        for scorer in self.scorers:
            scorer.prepare()
        return self

    def tails(self, head: Tensor, rel: Tensor,
              candidates: Optional[Tensor] = None) -> Tensor:
        return torch.stack([s.tails(head, rel, candidates)
                            for s in self.scorers]).mean(0)

    def heads(self, rel: Tensor, tail: Tensor,
              candidates: Optional[Tensor] = None) -> Tensor:
        return torch.stack([s.heads(rel, tail, candidates)
                            for s in self.scorers]).mean(0)


@register_method('sisa')
class SISA(Unlearner):
    r"""Exact unlearning by sharding (`"Machine Unlearning"
    <https://arxiv.org/abs/1912.03817>`_): the training triples are split
    at random (seeded) into :obj:`num_shards` shards, one model of the given
    architecture is trained from scratch on each (shard :math:`s` with seed
    :obj:`seed + s`) and predictions average the shard models
    (:class:`ShardEnsemble`). A request retrains, from scratch and with the
    same seed, only the shards holding a forgotten triple, so the result is
    exactly the model that never saw them.

    Under ``torchrun`` (:mod:`torch_geometric_unlearn.distributed`) shard
    :math:`s` trains on rank :math:`s \bmod W` only and the trained shards
    are shared with every rank, bit for bit; every rank must call
    :meth:`fit` and :meth:`unlearn` with the same arguments.

    Call :meth:`fit` once before unlearning.

    Args:
        model (torch.nn.Module): A KGE model of the wanted architecture (its
            parameters are not used).
        data (Data or KGDataset): The training graph.
        num_shards (int, optional): Number of shards. (default: :obj:`4`)
        config (TrainConfig, optional): Training of each shard (default: the
            model's recipe without validation).
        seed (int, optional): Seed of the split and of the shard models.
            (default: :obj:`0`)
    """
    edge_attrs = ('shard', )

    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 num_shards: int = 4, config: Optional[TrainConfig] = None,
                 seed: int = 0, progress: bool = False) -> None:
        super().__init__(model, data)
        if int(num_shards) < 1:
            raise ValueError("'num_shards' must be >= 1")
        self.num_shards, self.seed = int(num_shards), int(seed)
        self.config = config or default_train_config(self.model_name)
        self.progress = progress
        self.base = model
        g = torch.Generator().manual_seed(self.seed)
        e = self.data.num_edges
        self.data.shard = torch.randperm(e, generator=g) % self.num_shards
        self.fitted = False

    def shard_data(self, s: int, data: Optional[Data] = None) -> Data:
        r"""The triples of shard :obj:`s` (of :attr:`data` by default)."""
        data = self.data if data is None else data
        idx = (data.shard == s).nonzero().view(-1)
        return Data(edge_index=data.edge_index[:, idx],
                    edge_type=data.edge_type[idx], num_nodes=data.num_nodes,
                    num_relations=data.num_relations)

    def train_shard(self, s: int, data: Optional[Data] = None):
        r"""Trains shard :obj:`s` from scratch (seed :obj:`seed + s`)."""
        m = fresh_like(self.base, self.model_name, self.seed + s)
        cfg = copy.deepcopy(self.config)
        cfg.seed = self.seed + s
        KGETrainer(m, cfg, progress=self.progress).fit(
            self.shard_data(s, data))
        return m.eval()

    def train_shards(self, shards, data: Optional[Data] = None
                     ) -> Dict[int, torch.nn.Module]:
        r"""Trains :obj:`shards` from scratch (on :obj:`data`, by default
        :attr:`data`) and returns ``{shard: model}``. Under ``torchrun``
        each shard trains on its owner rank
        (:func:`~torch_geometric_unlearn.distributed.shard_owner`) and the
        states are shared, so every rank returns every shard."""
        shards = [int(s) for s in shards]
        local = {s: self.train_shard(s, data) for s in owned_shards(shards)}
        if not is_distributed():
            return local
        states = share_states({s: m.state_dict() for s, m in local.items()},
                              shards)
        out = {}
        for s in shards:
            if s in local:
                out[s] = local[s]
                continue
            m = fresh_like(self.base, self.model_name, self.seed + s)
            m.load_state_dict(states[s])
            out[s] = m.eval()
        return out

    def fit(self) -> ShardEnsemble:
        r"""Trains every shard; :attr:`model` becomes the ensemble."""
        trained = self.train_shards(range(self.num_shards))
        self.model = ShardEnsemble([trained[s]
                                    for s in range(self.num_shards)])
        self.fitted = True
        return self.model

    def _unlearn(self, model: torch.nn.Module, retained: Data,
                 forget: Tensor, affected: Tensor) -> torch.nn.Module:
        if not self.fitted:
            raise RuntimeError('call SISA.fit() before unlearning')
        touched = torch.unique(self.data.shard[self.forget_ids])
        for s, m in self.train_shards(touched.tolist(), retained).items():
            model.shards[s] = m
        self.last_retrained = touched
        return model

    def unlearn(self, *args, **kwargs):
        r"""See :meth:`Unlearner.unlearn`; only the shards holding a
        forgotten triple are retrained (:attr:`last_retrained`)."""
        if not self.fitted:
            raise RuntimeError('call SISA.fit() before unlearning')
        return super().unlearn(*args, **kwargs)
