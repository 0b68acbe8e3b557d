r"""Random forget-set sampling (the FedLU protocol) and its transform."""
from __future__ import annotations

from typing import Optional

import numpy as np
import torch
from torch import Tensor
from torch_geometric.data import Data

from ..datasets.kg import check_kg
from .forget import ForgetBase


def sample_forget_set(data: Data, ratio: Optional[float] = None,
                      count: Optional[int] = None, seed: int = 0,
                      keep_entities: bool = True,
                      keep_relations: bool = True) -> Tensor:
    r"""Draws a random set of triples to forget such that no entity and no
    relation disappears from the retained graph (the protocol of FedLU,
    `"Heterogeneous Federated Knowledge Graph Embedding Learning and
    Unlearning" <https://arxiv.org/abs/2302.02069>`_).

    Triples are visited in a seeded random order and accepted while every
    entity and relation they touch keeps at least one other triple.

    Args:
        data (Data): The KG split to sample from.
        ratio (float, optional): Fraction of the triples to forget, in
            :math:`(0, 1)`. (default: :obj:`None`)
        count (int, optional): Number of triples to forget (instead of
            :obj:`ratio`). (default: :obj:`None`)
        seed (int, optional): Random seed. (default: :obj:`0`)
        keep_entities (bool, optional): Keep every entity of the graph in the
            retained graph. (default: :obj:`True`)
        keep_relations (bool, optional): Keep every relation of the graph in
            the retained graph. (default: :obj:`True`)

    Returns:
        torch.Tensor: Sorted edge ids ``[F]`` of the forget set.

    Raises:
        ValueError: If the ratio / count is invalid or cannot be reached
            under the constraints.
    """
    check_kg(data)
    E = int(data.edge_index.size(1))
    if (ratio is None) == (count is None):
        raise ValueError("give exactly one of 'ratio' and 'count'")
    if ratio is not None:
        if not 0.0 < float(ratio) < 1.0:
            raise ValueError(f"'ratio' must lie in (0, 1) (got {ratio})")
        count = max(1, int(round(float(ratio) * E)))
    count = int(count)
    if not 0 < count < E:
        raise ValueError(f"'count' must lie in [1, {E - 1}] (got {count})")

    gen = torch.Generator().manual_seed(int(seed))
    order = torch.randperm(E, generator=gen).numpy()
    head = data.edge_index[0].numpy()[order].tolist()
    tail = data.edge_index[1].numpy()[order].tolist()
    rel = data.edge_type.numpy()[order].tolist()
    n, R = int(data.num_nodes), int(data.num_relations)
    deg = np.bincount(data.edge_index.reshape(-1).numpy(), minlength=n)
    deg = deg.tolist() if keep_entities else [1 << 62] * n
    rcount = np.bincount(data.edge_type.numpy(), minlength=R)
    rcount = rcount.tolist() if keep_relations else [1 << 62] * R

    chosen = []
    for i in range(E):
        h, t, r = head[i], tail[i], rel[i]
        if rcount[r] < 2:
            continue
        if h == t:
            if deg[h] < 3:
                continue
        elif deg[h] < 2 or deg[t] < 2:
            continue
        deg[h] -= 1
        deg[t] -= 1
        rcount[r] -= 1
        chosen.append(i)
        if len(chosen) == count:
            break
    if len(chosen) < count:
        raise ValueError(f'only {len(chosen)} of the requested {count} '
                         f'triples can be forgotten without an entity or '
                         f'relation disappearing from the retained graph')
    ids = torch.from_numpy(order[np.asarray(chosen, dtype=np.int64)])
    return ids.sort().values


class RandomForget(ForgetBase):
    r"""Forgets a seeded random fraction of the triples, keeping every entity
    and relation in the retained graph (see :func:`sample_forget_set`).

    Args:
        ratio (float, optional): Fraction of triples to forget.
            (default: :obj:`None`)
        count (int, optional): Number of triples to forget.
            (default: :obj:`None`)
        seed (int, optional): Random seed. (default: :obj:`0`)
        num_hops (int, optional): Expand the affected entities by this many
            hops over the retained graph. (default: :obj:`0`)
    """
    def __init__(self, ratio: Optional[float] = None,
                 count: Optional[int] = None, seed: int = 0,
                 num_hops: int = 0) -> None:
        super().__init__(num_hops)
        if (ratio is None) == (count is None):
            raise ValueError("give exactly one of 'ratio' and 'count'")
        self.ratio, self.count, self.seed = ratio, count, seed

    def _forget_mask(self, data: Data) -> Tensor:
        ids = sample_forget_set(data, self.ratio, self.count, self.seed)
        mask = torch.zeros(data.edge_index.size(1), dtype=torch.bool)
        mask[ids] = True
        return mask

    def __repr__(self) -> str:
        what = (f'ratio={self.ratio}'
                if self.ratio is not None else f'count={self.count}')
        return (f'{self.__class__.__name__}({what}, seed={self.seed}, '
                f'num_hops={self.num_hops})')
