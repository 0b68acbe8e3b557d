r"""Full-ranking top-:math:`K` evaluation of recommenders (the protocol of
NGCF and LightGCN: every item is ranked for every test user, the user's
training items are excluded)."""
from __future__ import annotations

import math
from typing import Callable, Dict, Optional, Sequence, Tuple, Union

import torch
from torch import Tensor

from .data import user_item_lists

__all__ = ['ranking_metrics', 'embedding_score_fn']

ScoreFn = Callable[[Tensor], Tensor]
EdgeIndexes = Union[Tensor, Sequence[Tensor]]


def _check_edge_index(edge_index: Tensor, num_items: int, name: str) -> Tensor:
    if not isinstance(edge_index, Tensor):
        raise ValueError(f"'{name}' must be a tensor of shape [2, E] (got "
                         f"{type(edge_index).__name__})")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"'{name}' must have shape [2, E] (got "
                         f"{list(edge_index.shape)})")
    if edge_index.is_floating_point() or edge_index.is_complex():
        raise ValueError(f"'{name}' must hold integer ids (got "
                         f"{edge_index.dtype})")
    edge_index = edge_index.long().cpu()
    if edge_index.numel() > 0:
        if int(edge_index[0].min()) < 0:
            raise ValueError(f"'{name}' has negative user ids")
        lo, hi = int(edge_index[1].min()), int(edge_index[1].max())
        if lo < 0 or hi >= num_items:
            raise ValueError(f"'{name}' item ids must lie in [0, {num_items})"
                             f" (found range [{lo}, {hi}])")
    return edge_index


def _check_ks(ks: Sequence[int]) -> Tuple[int, ...]:
    if isinstance(ks, int):
        ks = (ks, )
    ks = tuple(ks)
    if len(ks) == 0:
        raise ValueError("'ks' must name at least one cut-off K")
    for k in ks:
        if isinstance(k, bool) or int(k) != k or k <= 0:
            raise ValueError(f"every K in 'ks' must be a positive integer "
                             f"(got {ks})")
    return tuple(int(k) for k in ks)


def _gather_csr(ptr: Tensor, col: Tensor,
                users: Tensor) -> Tuple[Tensor, Tensor]:
    r"""Returns (local row, column) pairs of the CSR rows :obj:`users`."""
    start = ptr[users]
    count = ptr[users + 1] - start
    row = torch.repeat_interleave(torch.arange(users.numel()), count)
    offset = torch.arange(row.numel()) - (count.cumsum(0) - count)[row]
    return row, col[start[row] + offset]


def _contains(sorted_keys: Tensor, query: Tensor) -> Tensor:
    r"""Elementwise membership of :obj:`query` in the sorted 1-D tensor
    :obj:`sorted_keys` (binary search)."""
    if sorted_keys.numel() == 0:
        return torch.zeros_like(query, dtype=torch.bool)
    pos = torch.searchsorted(sorted_keys, query)
    pos = pos.clamp_(max=sorted_keys.numel() - 1)
    return sorted_keys[pos] == query


@torch.no_grad()
def ranking_metrics(
    score_fn: ScoreFn,
    num_items: int,
    target_edge_index: Tensor,
    exclude_edge_index: Optional[EdgeIndexes] = None,
    ks: Sequence[int] = (20, 10),
    batch_size: int = 1024,
) -> Dict[str, float]:
    r"""Full-ranking top-:math:`K` metrics of a recommender, as in
    `"LightGCN: Simplifying and Powering Graph Convolution Network for
    Recommendation" <https://arxiv.org/abs/2002.02126>`_.

    For every user :math:`u` with at least one target item
    (:math:`T_u \neq \emptyset`), all items are scored, the user's excluded
    items (usually the training items) are set to :math:`-\infty`, and the
    top-:math:`K` list :math:`R_u` is taken. With binary gains and hit
    positions :math:`p \in \{0, \ldots, K - 1\}`:

    .. math::
        \mathrm{recall@}K = \frac{|R_u \cap T_u|}{|T_u|}, \quad
        \mathrm{precision@}K = \frac{|R_u \cap T_u|}{K}, \quad
        \mathrm{hr@}K = \mathbb{1}[R_u \cap T_u \neq \emptyset],

    .. math::
        \mathrm{ndcg@}K = \frac{\sum_{p:\, R_u[p] \in T_u}
        1 / \log_2(p + 2)}{\sum_{p=0}^{\min(|T_u|, K) - 1} 1 / \log_2(p + 2)},

    averaged over the evaluated users. Target items that are also excluded
    stay excluded: they count in :math:`|T_u|` but can never be hit (the
    standard splits are disjoint, so this does not arise there). Duplicate
    target interactions count once. Users are scored in batches, and the
    exclusion mask is built per batch from a CSR index (no per-user Python
    loop).

    Args:
        score_fn (callable): Maps user ids :math:`[B]` (a CPU
            :obj:`torch.long` tensor) to scores :math:`[B, I]` of all items
            (on any device). To save a copy, the returned tensor is
            modified in place unless it is a view (*e.g.* a slice of a
            precomputed score matrix); so return a fresh tensor or a view,
            never a tensor that is needed later as it is.
        num_items (int): Number of items :math:`I`.
        target_edge_index (torch.Tensor): Held-out interactions
            :math:`[2, E_t]` (row 0 users, row 1 items).
        exclude_edge_index (torch.Tensor or [torch.Tensor], optional):
            Interactions :math:`[2, E_x]` never to be recommended, or a list
            of such tensors to concatenate (*e.g.* train and valid).
            (default: :obj:`None`)
        ks ([int], optional): Cut-offs :math:`K`. (default: :obj:`(20, 10)`)
        batch_size (int, optional): Users per scoring batch.
            (default: :obj:`1024`)

    Returns:
        Dict[str, float]: :obj:`"recall@K"`, :obj:`"ndcg@K"`, :obj:`"hr@K"`
        and :obj:`"precision@K"` for every :math:`K` in :obj:`ks`, and
        :obj:`"users"`, the number of evaluated users (metrics are
        :obj:`0.0` if there is none).
    """
    ks = _check_ks(ks)
    if int(num_items) != num_items or num_items <= 0:
        raise ValueError(f"'num_items' must be a positive integer (got "
                         f"{num_items})")
    if int(batch_size) != batch_size or batch_size <= 0:
        raise ValueError(f"'batch_size' must be a positive integer (got "
                         f"{batch_size})")
    num_items, batch_size = int(num_items), int(batch_size)
    target = _check_edge_index(target_edge_index, num_items,
                               'target_edge_index')
    if exclude_edge_index is None:
        exclude_edge_index = []
    elif isinstance(exclude_edge_index, Tensor):
        exclude_edge_index = [exclude_edge_index]
    exclude = torch.cat([torch.zeros(2, 0, dtype=torch.long)] + [
        _check_edge_index(e, num_items, 'exclude_edge_index')
        for e in exclude_edge_index
    ], dim=1)

    num_users = 1 + max(
        int(target[0].max()) if target.numel() else -1,
        int(exclude[0].max()) if exclude.numel() else -1,
    )
    # Unique (user, item) keys; hits are only possible on non-excluded ones:
    target_key = torch.unique(target[0] * num_items + target[1])
    exclude_key = torch.unique(exclude[0] * num_items + exclude[1])
    num_target = torch.bincount(target_key // num_items, minlength=num_users)
    hit_key = target_key[~_contains(exclude_key, target_key)]
    ex_ptr, ex_items = user_item_lists(
        torch.stack([exclude_key // num_items, exclude_key % num_items]),
        num_users)

    users = (num_target > 0).nonzero().view(-1)
    metrics = {
        f'{name}@{k}': 0.0
        for k in ks for name in ('recall', 'ndcg', 'hr', 'precision')
    }
    metrics['users'] = int(users.numel())
    if users.numel() == 0:
        return metrics

    max_k = max(ks)
    top_k = min(max_k, num_items)
    discount = 1.0 / torch.log2(torch.arange(max_k, dtype=torch.float64) + 2)
    ideal = discount.cumsum(0)  # ideal[n - 1]: IDCG with n relevant items
    # Per-user values, averaged at the end (independent of 'batch_size'):
    values = {
        key: torch.empty(users.numel(), dtype=torch.float64)
        for key in metrics if key != 'users'
    }

    for start in range(0, users.numel(), batch_size):
        batch = users[start:start + batch_size]
        scores = score_fn(batch)
        if not isinstance(scores, Tensor) or tuple(scores.shape) != (
                batch.numel(), num_items):
            shape = (list(scores.shape)
                     if isinstance(scores, Tensor) else type(scores).__name__)
            raise ValueError(f"'score_fn' must return scores of shape "
                             f"[{batch.numel()}, {num_items}] (got {shape})")
        if not scores.is_floating_point():
            scores = scores.detach().float()
        elif scores._is_view():  # Never write into the caller's data.
            scores = scores.detach().clone()
        else:
            scores = scores.detach()
        row, col = _gather_csr(ex_ptr, ex_items, batch)
        if row.numel() > 0:
            scores[row.to(scores.device), col.to(scores.device)] = -math.inf
        top = torch.topk(scores, top_k, dim=1).indices.cpu()
        del scores

        hits = _contains(hit_key, batch.view(-1, 1) * num_items + top)
        hits = hits.to(torch.float64)
        if top_k < max_k:
            hits = torch.cat([hits, hits.new_zeros(hits.size(0),
                                                   max_k - top_k)], dim=1)
        count = num_target[batch]
        cum_hits = hits.cumsum(1)
        dcg = (hits * discount).cumsum(1)
        out = slice(start, start + batch.numel())
        for k in ks:
            num_hits = cum_hits[:, k - 1]
            idcg = ideal[torch.clamp(count, max=k) - 1]
            values[f'recall@{k}'][out] = num_hits / count
            values[f'ndcg@{k}'][out] = dcg[:, k - 1] / idcg
            values[f'hr@{k}'][out] = (num_hits > 0).to(torch.float64)
            values[f'precision@{k}'][out] = num_hits / k

    for key, value in values.items():
        metrics[key] = float(value.mean())
    return metrics


def embedding_score_fn(user_emb: Tensor, item_emb: Tensor) -> ScoreFn:
    r"""Returns a :obj:`score_fn` for :func:`ranking_metrics` that scores
    items by dot products of embeddings,
    :math:`s_{ui} = \mathbf{e}_u^{\top} \mathbf{e}_i`.

    Args:
        user_emb (torch.Tensor): User embeddings :math:`[U, d]`.
        item_emb (torch.Tensor): Item embeddings :math:`[I, d]`.

    Returns:
        callable: Maps user ids :math:`[B]` to scores :math:`[B, I]`.
    """
    if user_emb.dim() != 2 or item_emb.dim() != 2:
        raise ValueError(f"embeddings must be 2-dimensional (got shapes "
                         f"{list(user_emb.shape)} and "
                         f"{list(item_emb.shape)})")
    if user_emb.size(1) != item_emb.size(1):
        raise ValueError(f"user and item embeddings differ in dimension "
                         f"({user_emb.size(1)} vs. {item_emb.size(1)})")
    user_emb, item_emb = user_emb.detach(), item_emb.detach()
    num_users = user_emb.size(0)

    def score_fn(users: Tensor) -> Tensor:
        if users.numel() > 0 and (int(users.min()) < 0
                                  or int(users.max()) >= num_users):
            raise ValueError(f"user ids must lie in [0, {num_users}) (found "
                             f"range [{int(users.min())}, "
                             f"{int(users.max())}])")
        return user_emb[users.to(user_emb.device)] @ item_emb.t()

    return score_fn
