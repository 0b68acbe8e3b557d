r"""Multi-process helpers over :mod:`torch.distributed`, for ``torchrun``.

What the package distributes (see ``docs/distributed.md``):

* the shards of the exact sharded methods (:class:`~torch_geometric_unlearn.
  EEMU`, :class:`~torch_geometric_unlearn.rec.SISARec` and the KGE
  :class:`~torch_geometric_unlearn.baselines.SISA`): shard :math:`s` is
  trained on rank :math:`s \bmod W` (:func:`shard_owner`), the trained
  shard states are then shared with every rank (:func:`share_states`), and
  a deletion retrains only the touched shards on their owners;
* the meta-training of :class:`~torch_geometric_unlearn.MetaEU`,
  data-parallel over episodes: every rank samples its own episodes
  (:func:`rank_seed`) and the gradients are averaged over the ranks
  (:func:`all_reduce_gradients`) before each optimizer step.

Everything here works unchanged in one process: with no process group
:func:`get_rank` is 0, :func:`get_world_size` is 1 and the collectives
return their input.

A ``torchrun`` launch is recognised by its environment variables
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``; :func:`launched_by_torchrun`);
:func:`init_distributed` then joins the process group (``gloo`` on CPU,
``nccl`` on GPU) from the ``env://`` rendezvous ``torchrun`` prepared.
"""
from __future__ import annotations

import contextlib
import os
from typing import (Any, Dict, Iterable, Iterator, List, Mapping, Optional,
                    Sequence)

import torch
import torch.distributed as dist
from torch import Tensor

__all__ = ['launched_by_torchrun', 'is_distributed', 'get_rank',
           'get_world_size', 'is_main_process', 'init_distributed',
           'destroy_distributed', 'distributed_session', 'shard_owner',
           'owned_shards', 'share_states', 'all_reduce_gradients',
           'broadcast_object', 'all_gather', 'barrier', 'rank_seed',
           'main_print', 'RANK_SEED_STRIDE']

#: The seed offset between ranks in :func:`rank_seed`.
RANK_SEED_STRIDE = 1_000_003

_TORCHRUN_VARS = ('RANK', 'WORLD_SIZE', 'LOCAL_RANK')


def launched_by_torchrun(env: Optional[Mapping[str, str]] = None) -> bool:
    r"""Whether this process was started by ``torchrun`` (or another
    launcher that sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``).

    Args:
        env (Mapping, optional): The environment to read (default:
            :obj:`os.environ`).
    """
    env = os.environ if env is None else env
    return all(k in env for k in _TORCHRUN_VARS)


def is_distributed() -> bool:
    r"""Whether a process group of more than one rank is active."""
    return dist.is_available() and dist.is_initialized() and \
        dist.get_world_size() > 1


def get_rank() -> int:
    r"""This process's rank (0 without a process group)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank()
    return 0


def get_world_size() -> int:
    r"""The number of ranks (1 without a process group)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_world_size()
    return 1


def is_main_process() -> bool:
    r"""Whether this is rank 0 (the one that prints, validates and writes
    files)."""
    return get_rank() == 0


def init_distributed(backend: Optional[str] = None,
                     device: str = 'cpu',
                     num_threads: Optional[int] = None) -> bool:
    r"""Joins the process group of a ``torchrun`` launch.

    Does nothing (and returns :obj:`False`) outside ``torchrun`` or when a
    process group is already active. The rendezvous is ``env://``
    (``MASTER_ADDR`` / ``MASTER_PORT``, ``RANK``, ``WORLD_SIZE``).

    Args:
        backend (str, optional): ``'gloo'`` or ``'nccl'`` (default:
            ``'nccl'`` when :obj:`device` is a CUDA device, ``'gloo'``
            otherwise).
        device (str, optional): Where the work runs; on CUDA the process
            uses the GPU ``LOCAL_RANK``. (default: ``'cpu'``)
        num_threads (int, optional): Set
            :func:`torch.set_num_threads` to this (1 makes each rank's
            CPU work reproducible across machines with different core
            counts; ``torchrun`` already sets ``OMP_NUM_THREADS=1``).
            (default: :obj:`None`, unchanged)

    Returns:
        :obj:`True` when this call created the process group (destroy it
        with :func:`destroy_distributed`).

    Raises:
        ValueError: for an unknown backend, or ``'nccl'`` on CPU.
        RuntimeError: when :mod:`torch.distributed` is not available.
    """
    if backend is not None and backend not in ('gloo', 'nccl'):
        raise ValueError(f"backend must be 'gloo' or 'nccl', got "
                         f"'{backend}'")
    cuda = str(device).startswith('cuda')
    if backend == 'nccl' and not cuda:
        raise ValueError("the 'nccl' backend needs a CUDA device; use "
                         "'gloo' on CPU")
    if num_threads is not None:
        if int(num_threads) < 1:
            raise ValueError(f'num_threads must be >= 1, got {num_threads}')
        torch.set_num_threads(int(num_threads))
    if not launched_by_torchrun() or (dist.is_available()
                                      and dist.is_initialized()):
        return False
    if not dist.is_available():
        raise RuntimeError('this PyTorch build has no torch.distributed')
    if cuda:
        torch.cuda.set_device(int(os.environ['LOCAL_RANK']))
    dist.init_process_group(backend=backend or ('nccl' if cuda else 'gloo'),
                            init_method='env://')
    return True


def destroy_distributed() -> None:
    r"""Leaves and destroys the process group (no-op without one)."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


@contextlib.contextmanager
def distributed_session(backend: Optional[str] = None, device: str = 'cpu',
                        num_threads: Optional[int] = None
                        ) -> Iterator[bool]:
    r"""A block that runs inside the ``torchrun`` process group: joins it
    on entry (:func:`init_distributed`) and destroys it on exit when this
    block created it. Yields whether it did. Outside ``torchrun`` the block
    simply runs in one process.

    .. code-block:: python

        with distributed_session():
            eemu.fit(edge_index)       # each rank trains its own shards
    """
    created = init_distributed(backend, device, num_threads)
    try:
        yield created
    finally:
        if created:
            destroy_distributed()


def shard_owner(shard: int, world_size: Optional[int] = None) -> int:
    r"""The rank that trains shard :obj:`shard`: :math:`s \bmod W`
    (deterministic; independent of the data, so a deletion never moves a
    shard)."""
    world = get_world_size() if world_size is None else int(world_size)
    if world < 1:
        raise ValueError(f'world_size must be >= 1, got {world}')
    if int(shard) < 0:
        raise ValueError(f'shard ids are non-negative, got {shard}')
    return int(shard) % world


def owned_shards(shards: Iterable[int], rank: Optional[int] = None,
                 world_size: Optional[int] = None) -> List[int]:
    r"""The shards of :obj:`shards` (ids, or an :obj:`int` :math:`S` for
    ``range(S)``) that rank :obj:`rank` (default: this one) trains."""
    rank = get_rank() if rank is None else int(rank)
    world = get_world_size() if world_size is None else int(world_size)
    if not 0 <= rank < world:
        raise ValueError(f'rank {rank} out of range for world size {world}')
    if isinstance(shards, int):
        shards = range(shards)
    return [int(s) for s in shards if shard_owner(s, world) == rank]


def _to_cpu(obj: Any) -> Any:
    if isinstance(obj, Tensor):
        return obj.detach().cpu()
    if isinstance(obj, dict):
        return {k: _to_cpu(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_cpu(v) for v in obj)
    return obj


def all_gather(obj: Any) -> List[Any]:
    r"""Every rank's :obj:`obj` (picklable), in rank order
    (:func:`torch.distributed.all_gather_object`); ``[obj]`` in one
    process. Tensors travel on CPU."""
    if not is_distributed():
        return [obj]
    out: List[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(out, _to_cpu(obj))
    return out


def share_states(local: Mapping[int, Any],
                 expected: Optional[Sequence[int]] = None
                 ) -> Dict[int, Any]:
    r"""Shares the states a rank computed with every rank: each rank passes
    ``{shard: state}`` for the shards it owns, and every rank receives the
    union (states move as pickled CPU tensors, bit for bit). In one process
    the input comes back as a new dict.

    Args:
        local (Mapping): This rank's ``{shard: state}``.
        expected (Sequence, optional): The shards that must be present in
            the union.

    Raises:
        RuntimeError: when two ranks sent the same shard, or a shard of
            :obj:`expected` is missing.
    """
    merged: Dict[int, Any] = {}
    for part in all_gather(dict(local)):
        for s, state in part.items():
            if s in merged:
                raise RuntimeError(f'shard {s} was trained on two ranks')
            merged[int(s)] = state
    if expected is not None:
        missing = sorted(set(int(s) for s in expected) - set(merged))
        if missing:
            raise RuntimeError(f'no rank sent shard(s) {missing}')
    return merged


def broadcast_object(obj: Any, src: int = 0) -> Any:
    r"""Rank :obj:`src`'s :obj:`obj` on every rank
    (:func:`torch.distributed.broadcast_object_list`); :obj:`obj` itself
    in one process."""
    if not is_distributed():
        return obj
    box = [_to_cpu(obj) if dist.get_rank() == src else None]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def barrier() -> None:
    r"""Waits for every rank (no-op in one process)."""
    if is_distributed():
        dist.barrier()


def all_reduce_gradients(parameters: Iterable[torch.nn.Parameter],
                         weight: float = 1.0,
                         flags: Sequence[float] = ()) -> Dict[str, Any]:
    r"""Averages the gradients of :obj:`parameters` over the ranks, in
    place, before an optimizer step (the data-parallel update of
    :class:`torch.nn.parallel.DistributedDataParallel`, done by hand so
    that any module and any step can use it).

    All gradients travel in one flat buffer with one
    :func:`torch.distributed.all_reduce` (sum). A rank with nothing to
    contribute this step passes :obj:`weight` 0 (its gradients count as
    zero); the sum is divided by the total weight, so the result is the
    weighted mean :math:`\sum_k w_k g_k / \sum_k w_k`. Every rank receives
    the same values, so parameters updated from them stay identical. A
    parameter no rank has a gradient for keeps :obj:`None` (the optimizer
    skips it, as it would in one process). :obj:`flags` (numbers) are
    summed over the ranks in the same call, e.g. to agree on stopping.

    In one process nothing is changed (not even a division by 1).

    Args:
        parameters (iterable): The parameters (those without a gradient
            count as zero).
        weight (float, optional): This rank's weight. (default: :obj:`1`)
        flags (sequence, optional): Numbers to sum over the ranks.

    Returns:
        ``{"weight": total weight, "flags": [summed flags]}``; when the
        total weight is 0 the gradients are zeros and the caller should
        skip the step.
    """
    params = [p for p in parameters if p.requires_grad]
    flags = list(flags)
    if not is_distributed():
        return dict(weight=float(weight), flags=[float(f) for f in flags])
    if not params:
        raise ValueError('no parameters with requires_grad')
    ref = params[0]
    dtypes = {p.dtype for p in params}
    dtype = ref.dtype if len(dtypes) == 1 else torch.float64
    parts = []
    for p in params:
        g = p.grad if p.grad is not None else torch.zeros_like(p)
        parts.append(g.detach().reshape(-1).to(dtype) * float(weight))
    # Tail of the buffer: the weight, the flags, and per parameter whether
    # this rank has a gradient for it.
    head = torch.tensor([float(weight), *[float(f) for f in flags],
                         *[float(p.grad is not None) for p in params]],
                        dtype=dtype, device=ref.device)
    flat = torch.cat(parts + [head])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    tail = flat[flat.numel() - head.numel():].tolist()
    total = tail[0]
    summed = tail[1:1 + len(flags)]
    present = tail[1 + len(flags):]
    offset = 0
    for p, has in zip(params, present):
        n = p.numel()
        g = flat[offset:offset + n].view_as(p)
        offset += n
        if has == 0:  # no rank has a gradient: stays None, as in one
            p.grad = None  # process (the optimizer skips it)
            continue
        if total > 0:
            g = g / total
        p.grad = g.to(p.dtype).clone()
    return dict(weight=total, flags=summed)


def rank_seed(seed: int, rank: Optional[int] = None) -> int:
    r"""The seed of rank :obj:`rank`'s own random stream: :obj:`seed` on
    rank 0 (so one process draws what it always did) and
    :obj:`seed + rank * RANK_SEED_STRIDE` elsewhere."""
    rank = get_rank() if rank is None else int(rank)
    return int(seed) + rank * RANK_SEED_STRIDE


def main_print(*args: Any, **kwargs: Any) -> None:
    r""":func:`print` on rank 0 only."""
    if is_main_process():
        kwargs.setdefault('flush', True)
        print(*args, **kwargs)
