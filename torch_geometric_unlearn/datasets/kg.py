r"""Knowledge-graph containers: :class:`Vocabulary` and :class:`KGDataset`.

A knowledge graph (KG) split is a plain :class:`torch_geometric.data.Data`:

* ``edge_index`` (:obj:`LongTensor` ``[2, E]``): head :math:`\to` tail,
* ``edge_type`` (:obj:`LongTensor` ``[E]``): relation id of each triple,
* ``num_nodes`` (:obj:`int`): number of entities (shared by all splits),
* ``num_relations`` (:obj:`int`): number of relations (shared by all splits).

:class:`KGDataset` holds the ``train`` / ``valid`` / ``test`` splits together
with the entity and relation vocabularies (strings :math:`\leftrightarrow`
ids) and can save and load itself with :func:`torch.save`.
"""
from __future__ import annotations

from typing import Dict, Iterable, List, Optional, Sequence, Union

import torch
from torch import Tensor
from torch_geometric.data import Data

SPLITS = ('train', 'valid', 'test')


class Vocabulary:
    r"""A bijection between string names and contiguous integer ids.

    Either holds an explicit list of names, or (for very large graphs whose
    entities have no names, such as synthetic ones) is *implicit*: id
    :obj:`i` is named :obj:`f"{prefix}{i}"` and no list is materialised.

    Args:
        names (Sequence[str], optional): Names in id order. Must be unique.
            (default: :obj:`None`)
        size (int, optional): Number of ids of an implicit vocabulary; only
            used when :obj:`names` is :obj:`None`. (default: :obj:`None`)
        prefix (str, optional): Name prefix of an implicit vocabulary.
            (default: :obj:`""`)
    """
    def __init__(self, names: Optional[Sequence[str]] = None,
                 size: Optional[int] = None, prefix: str = '') -> None:
        if names is None and size is None:
            raise ValueError("Vocabulary needs either 'names' or 'size'")
        self.prefix = prefix
        self._itos: Optional[List[str]] = None
        self._stoi: Optional[Dict[str, int]] = None
        if names is not None:
            self._itos = [str(n) for n in names]
            self._stoi = {s: i for i, s in enumerate(self._itos)}
            if len(self._stoi) != len(self._itos):
                raise ValueError('Vocabulary names must be unique')
            self._size = len(self._itos)
        else:
            if int(size) < 0:
                raise ValueError(f"'size' must be non-negative (got {size})")
            self._size = int(size)

    @property
    def is_implicit(self) -> bool:
        r"""Whether names are generated from ids rather than stored."""
        return self._itos is None

    def __len__(self) -> int:
        return self._size

    def __contains__(self, name: str) -> bool:
        try:
            self.index(name)
            return True
        except KeyError:
            return False

    def name(self, idx: int) -> str:
        r"""Returns the name of id :obj:`idx`."""
        idx = int(idx)
        if not 0 <= idx < self._size:
            raise IndexError(f'id {idx} is out of range for a vocabulary of '
                             f'size {self._size}')
        if self._itos is not None:
            return self._itos[idx]
        return f'{self.prefix}{idx}'

    def index(self, name: str) -> int:
        r"""Returns the id of :obj:`name` (raises :class:`KeyError`)."""
        if self._stoi is not None:
            if name not in self._stoi:
                raise KeyError(f"unknown name '{name}'")
            return self._stoi[name]
        rest = name[len(self.prefix):] if name.startswith(self.prefix) else ''
        if rest.isdigit() and int(rest) < self._size:
            return int(rest)
        raise KeyError(f"unknown name '{name}'")

    def lookup(self, names: Iterable[str]) -> Tensor:
        r"""Maps names to a :obj:`LongTensor` of ids."""
        return torch.tensor([self.index(n) for n in names], dtype=torch.long)

    def names(self, ids: Union[Tensor, Iterable[int]]) -> List[str]:
        r"""Maps ids to names."""
        if isinstance(ids, Tensor):
            ids = ids.view(-1).tolist()
        return [self.name(i) for i in ids]

    def to_list(self) -> List[str]:
        r"""All names in id order (materialises an implicit vocabulary)."""
        if self._itos is not None:
            return list(self._itos)
        return [f'{self.prefix}{i}' for i in range(self._size)]

    def state(self) -> dict:
        r"""A picklable description used by :meth:`KGDataset.save`."""
        if self._itos is not None:
            return {'names': self._itos}
        return {'size': self._size, 'prefix': self.prefix}

    @classmethod
    def from_state(cls, state: dict) -> 'Vocabulary':
        return cls(names=state.get('names'), size=state.get('size'),
                   prefix=state.get('prefix', ''))

    def __eq__(self, other) -> bool:
        if not isinstance(other, Vocabulary) or len(self) != len(other):
            return False
        if self.is_implicit and other.is_implicit:
            return self.prefix == other.prefix
        return self.to_list() == other.to_list()

    def __repr__(self) -> str:
        kind = 'implicit' if self.is_implicit else 'explicit'
        return f'{self.__class__.__name__}(size={self._size}, {kind})'


def make_kg(edge_index: Tensor, edge_type: Tensor, num_nodes: int,
            num_relations: int) -> Data:
    r"""Builds a KG split :class:`~torch_geometric.data.Data` after checking
    shapes, dtypes and id ranges.

    Args:
        edge_index (torch.Tensor): Heads and tails, shape ``[2, E]``.
        edge_type (torch.Tensor): Relation ids, shape ``[E]``.
        num_nodes (int): Number of entities.
        num_relations (int): Number of relations.
    """
    edge_index = torch.as_tensor(edge_index)
    edge_type = torch.as_tensor(edge_type)
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"'edge_index' must have shape [2, E] (got "
                         f"{list(edge_index.shape)})")
    if edge_type.dim() != 1 or edge_type.numel() != edge_index.size(1):
        raise ValueError(f"'edge_type' must have shape [{edge_index.size(1)}]"
                         f" (got {list(edge_type.shape)})")
    for name, t in (('edge_index', edge_index), ('edge_type', edge_type)):
        if t.is_floating_point() or t.dtype == torch.bool:
            raise TypeError(f"'{name}' must hold integer ids (got {t.dtype})")
    edge_index, edge_type = edge_index.long(), edge_type.long()
    if edge_index.numel() > 0:
        if int(edge_index.min()) < 0 or int(edge_index.max()) >= num_nodes:
            raise ValueError(f'entity ids must lie in [0, {num_nodes - 1}] '
                             f'(got range [{int(edge_index.min())}, '
                             f'{int(edge_index.max())}])')
        if int(edge_type.min()) < 0 or int(edge_type.max()) >= num_relations:
            raise ValueError(f'relation ids must lie in [0, '
                             f'{num_relations - 1}] (got range '
                             f'[{int(edge_type.min())}, '
                             f'{int(edge_type.max())}])')
    return Data(edge_index=edge_index, edge_type=edge_type,
                num_nodes=int(num_nodes), num_relations=int(num_relations))


def check_kg(data: Data, name: str = 'data') -> None:
    r"""Raises a clear error if :obj:`data` is not a KG split."""
    if not isinstance(data, Data):
        raise TypeError(f"'{name}' must be a torch_geometric.data.Data "
                        f"(got {type(data).__name__})")
    for key in ('edge_index', 'edge_type'):
        if getattr(data, key, None) is None:
            raise ValueError(f"'{name}' has no '{key}'")
    if getattr(data, 'num_relations', None) is None:
        raise ValueError(f"'{name}' has no 'num_relations'")
    if data.edge_index.dim() != 2 or data.edge_index.size(0) != 2:
        raise ValueError(f"'{name}.edge_index' must have shape [2, E] (got "
                         f"{list(data.edge_index.shape)})")
    if data.edge_type.shape != (data.edge_index.size(1), ):
        raise ValueError(f"'{name}.edge_type' must have shape "
                         f"[{data.edge_index.size(1)}] (got "
                         f"{list(data.edge_type.shape)})")


def to_triples(data: Data) -> Tensor:
    r"""Returns the triples of a KG split as a ``[E, 3]`` tensor of
    ``(head, relation, tail)`` rows."""
    return torch.stack([data.edge_index[0], data.edge_type,
                        data.edge_index[1]], dim=1)


def triple_keys(head: Tensor, rel: Tensor, tail: Tensor, num_nodes: int,
                num_relations: int) -> Tensor:
    r"""Encodes triples as unique :obj:`int64` keys
    :math:`(h \cdot |R| + r) \cdot |E| + t` (used for sorting, searching and
    de-duplicating triples without Python dictionaries)."""
    if num_nodes * num_nodes * max(num_relations, 1) >= 2**63:
        raise OverflowError('graph too large for int64 triple keys')
    return (head.long() * num_relations + rel.long()) * num_nodes + tail.long()


def isin_sorted(keys: Tensor, sorted_keys: Tensor) -> Tensor:
    r"""Membership of :obj:`keys` (any shape) in the sorted 1-D tensor
    :obj:`sorted_keys`, by binary search; a boolean tensor shaped like
    :obj:`keys`."""
    if sorted_keys.numel() == 0:
        return torch.zeros_like(keys, dtype=torch.bool)
    pos = torch.searchsorted(sorted_keys, keys).clamp_(
        max=sorted_keys.numel() - 1)
    return sorted_keys[pos] == keys


class TripleSet:
    r"""A set of ``(head, relation, tail)`` triples held as sorted unique
    :func:`triple_keys`, for vectorised membership tests.

    .. code-block:: python

        known = TripleSet.from_data(kg.train)
        known.contains(head, rel, tail)   # bool, broadcast shapes
        known.contains_triples(rows)      # rows [B, 3] -> [B]

    Args:
        keys (torch.Tensor): Triple keys (any order, duplicates allowed).
        num_nodes (int): Number of entities.
        num_relations (int): Number of relations.
    """
    def __init__(self, keys: Tensor, num_nodes: int,
                 num_relations: int) -> None:
        self.num_nodes, self.num_relations = int(num_nodes), int(num_relations)
        self.keys = torch.unique(keys.long().view(-1))  # sorted

    @classmethod
    def from_ids(cls, head: Tensor, rel: Tensor, tail: Tensor,
                 num_nodes: int, num_relations: int) -> 'TripleSet':
        r"""The set of the triples ``(head[i], rel[i], tail[i])``."""
        return cls(triple_keys(head, rel, tail, num_nodes, num_relations),
                   num_nodes, num_relations)

    @classmethod
    def from_data(cls, data: Data,
                  num_relations: Optional[int] = None) -> 'TripleSet':
        r"""The set of a KG split's triples."""
        r = int(data.num_relations) if num_relations is None \
            else int(num_relations)
        return cls.from_ids(data.edge_index[0], data.edge_type,
                            data.edge_index[1], int(data.num_nodes), r)

    def contains(self, head: Tensor, rel: Tensor, tail: Tensor) -> Tensor:
        r"""Whether each ``(head, rel, tail)`` (broadcast) is in the set."""
        keys = triple_keys(head, rel, tail, self.num_nodes,
                           self.num_relations)
        return isin_sorted(keys.to(self.keys.device), self.keys)

    def contains_triples(self, triples: Tensor) -> Tensor:
        r"""Whether each row of :obj:`triples` ``[B, 3]`` is in the set."""
        return self.contains(triples[:, 0], triples[:, 1], triples[:, 2])

    def answer_mask(self, fixed: Tensor, rel: Tensor, cand: Tensor,
                    side: str = 'tail') -> Tensor:
        r"""The ``[Q, C]`` mask of the candidate entities :obj:`cand`
        ``[C]`` that complete query :math:`i` to a triple of the set:
        ``(fixed[i], rel[i], cand[j])`` for :obj:`side="tail"`,
        ``(cand[j], rel[i], fixed[i])`` for :obj:`side="head"` -- the same
        as :meth:`contains` on the broadcast ``[Q, C]`` grid, at the cost
        of the queries' answers instead of :math:`Q \cdot C` searches of
        the whole set. :obj:`fixed` and :obj:`rel` are ``[Q]``.
        """
        if side not in ('tail', 'head'):
            raise ValueError(f"side must be 'tail' or 'head', got '{side}'")
        n, R = self.num_nodes, self.num_relations
        fixed, rel, cand = fixed.long().view(-1), rel.long().view(-1), \
            cand.long().view(-1)
        keys = self.keys if side == 'tail' else self._inverse_keys()
        prefix = (fixed * R + rel) * n
        lo = torch.searchsorted(keys, prefix)
        hi = torch.searchsorted(keys, prefix + n)
        count = hi - lo
        query = torch.repeat_interleave(torch.arange(fixed.numel()), count)
        start = torch.repeat_interleave(lo - torch.cumsum(count, 0) + count,
                                        count)
        answer = keys[start + torch.arange(query.numel())] - prefix[query]
        uniq, inv = torch.unique(cand, return_inverse=True)
        at = torch.searchsorted(uniq, answer).clamp_(max=max(
            uniq.numel() - 1, 0))
        hit = uniq[at] == answer if uniq.numel() else \
            torch.zeros_like(answer, dtype=torch.bool)
        out = torch.zeros(fixed.numel(), uniq.numel(), dtype=torch.bool)
        out[query[hit], at[hit]] = True
        return out[:, inv]

    def _inverse_keys(self) -> Tensor:
        # The set's keys as (tail, relation, head), sorted (built once).
        inv = getattr(self, '_inv', None)
        if inv is None:
            n, R = self.num_nodes, self.num_relations
            t = self.keys % n
            hr = self.keys // n
            h, r = hr // R, hr % R
            inv = self._inv = torch.sort(triple_keys(t, r, h, n, R)).values
        return inv

    def __len__(self) -> int:
        return int(self.keys.numel())

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({len(self)}, num_nodes='
                f'{self.num_nodes}, num_relations={self.num_relations})')


def degree_stats(data: Data) -> Dict[str, float]:
    r"""Degree statistics (in + out, over all entities) of a KG split."""
    n = int(data.num_nodes)
    deg = torch.zeros(n, dtype=torch.long)
    if data.edge_index.numel() > 0:
        deg.scatter_add_(0, data.edge_index.reshape(-1),
                         torch.ones(data.edge_index.numel(), dtype=torch.long))
    if n == 0:
        return {'min': 0, 'max': 0, 'mean': 0.0, 'median': 0.0,
                'isolated': 0}
    d = deg.double()
    return {
        'min': int(deg.min()),
        'max': int(deg.max()),
        'mean': float(d.mean()),
        'median': float(d.median()),
        'isolated': int((deg == 0).sum()),
    }


class KGDataset:
    r"""A knowledge graph with ``train`` / ``valid`` / ``test`` splits and
    entity / relation vocabularies.

    Each split is a :class:`~torch_geometric.data.Data` with ``edge_index``
    ``[2, E]`` (head :math:`\to` tail), ``edge_type`` ``[E]``, ``num_nodes``
    and ``num_relations``.

    .. code-block:: python

        from torch_geometric_unlearn.datasets import load_tsv_kg

        dataset = load_tsv_kg('path/to/fb15k-237')
        train = dataset.train          # Data(edge_index=[2, 272115], ...)
        dataset.entity_vocab.name(0)   # '/m/027rn'
        dataset.save('fb15k237.pt')

    Args:
        train (Data): Training split.
        valid (Data, optional): Validation split. (default: empty)
        test (Data, optional): Test split. (default: empty)
        entity_vocab (Vocabulary, optional): Entity names. (default:
            implicit names :obj:`"e{i}"`)
        relation_vocab (Vocabulary, optional): Relation names. (default:
            implicit names :obj:`"r{i}"`)
        name (str, optional): Name of the dataset. (default: :obj:`"kg"`)
        meta (dict, optional): Free-form, :func:`torch.save`-able metadata
            (for example the planted patterns of a synthetic KG).
            (default: :obj:`None`)
    """
    def __init__(self, train: Data, valid: Optional[Data] = None,
                 test: Optional[Data] = None,
                 entity_vocab: Optional[Vocabulary] = None,
                 relation_vocab: Optional[Vocabulary] = None,
                 name: str = 'kg', meta: Optional[dict] = None) -> None:
        check_kg(train, 'train')
        n, r = int(train.num_nodes), int(train.num_relations)
        empty = torch.empty(2, 0, dtype=torch.long)
        splits = {}
        for key, split in (('train', train), ('valid', valid),
                           ('test', test)):
            if split is None:
                split = make_kg(empty, empty[0], n, r)
            else:
                check_kg(split, key)
                if int(split.num_nodes) != n or int(
                        split.num_relations) != r:
                    raise ValueError(
                        f"split '{key}' has {split.num_nodes} entities and "
                        f"{split.num_relations} relations, but 'train' has "
                        f"{n} and {r}")
            splits[key] = split
        self.train, self.valid, self.test = (splits['train'], splits['valid'],
                                             splits['test'])
        self.entity_vocab = entity_vocab or Vocabulary(size=n, prefix='e')
        self.relation_vocab = relation_vocab or Vocabulary(size=r, prefix='r')
        if len(self.entity_vocab) != n:
            raise ValueError(f'entity vocabulary has {len(self.entity_vocab)} '
                             f'names for {n} entities')
        if len(self.relation_vocab) != r:
            raise ValueError(f'relation vocabulary has '
                             f'{len(self.relation_vocab)} names for {r} '
                             f'relations')
        self.name = name
        self.meta = dict(meta or {})

    @property
    def num_entities(self) -> int:
        return int(self.train.num_nodes)

    @property
    def num_relations(self) -> int:
        return int(self.train.num_relations)

    def __getitem__(self, split: str) -> Data:
        if split == 'val':
            split = 'valid'
        if split not in SPLITS:
            raise KeyError(f"unknown split '{split}' (expected one of "
                           f"{', '.join(SPLITS)})")
        return getattr(self, split)

    def all_triples(self) -> Tensor:
        r"""Triples of all splits, ``[E_train + E_valid + E_test, 3]``."""
        return torch.cat([to_triples(self[s]) for s in SPLITS], dim=0)

    def encode(self, triples: Iterable[Sequence[str]]) -> Tensor:
        r"""Maps ``(head, relation, tail)`` name triples to a ``[N, 3]``
        id tensor (raises :class:`KeyError` on an unknown name)."""
        rows = [[self.entity_vocab.index(h), self.relation_vocab.index(r),
                 self.entity_vocab.index(t)] for h, r, t in triples]
        return torch.tensor(rows, dtype=torch.long).view(-1, 3)

    def decode(self, triples: Tensor) -> List[tuple]:
        r"""Maps a ``[N, 3]`` id tensor back to name triples."""
        return [(self.entity_vocab.name(h), self.relation_vocab.name(r),
                 self.entity_vocab.name(t))
                for h, r, t in triples.view(-1, 3).tolist()]

    def summary(self) -> dict:
        r"""Counts and degree statistics, as a JSON-able dictionary."""
        return {
            'name': self.name,
            'entities': self.num_entities,
            'relations': self.num_relations,
            'train': int(self.train.edge_index.size(1)),
            'valid': int(self.valid.edge_index.size(1)),
            'test': int(self.test.edge_index.size(1)),
            'train_degree': degree_stats(self.train),
        }

    def save(self, path: str) -> None:
        r"""Saves the dataset to a single file with :func:`torch.save`,
        atomically (a temporary file renamed over :obj:`path`)."""
        state = {
            'format': 'torch_geometric_unlearn.KGDataset/1',
            'name': self.name,
            'num_nodes': self.num_entities,
            'num_relations': self.num_relations,
            'entity_vocab': self.entity_vocab.state(),
            'relation_vocab': self.relation_vocab.state(),
            'meta': self.meta,
        }
        for s in SPLITS:
            state[s] = {'edge_index': self[s].edge_index,
                        'edge_type': self[s].edge_type}
        from ..utils.io import atomic_save
        atomic_save(state, path)

    @classmethod
    def load(cls, path: str) -> 'KGDataset':
        r"""Loads a dataset written by :meth:`save`."""
        state = torch.load(path, weights_only=True)
        if state.get('format') != 'torch_geometric_unlearn.KGDataset/1':
            raise ValueError(f"'{path}' is not a saved KGDataset")
        n, r = state['num_nodes'], state['num_relations']
        splits = {
            s: Data(edge_index=state[s]['edge_index'],
                    edge_type=state[s]['edge_type'], num_nodes=n,
                    num_relations=r)
            for s in SPLITS
        }
        return cls(**splits,
                   entity_vocab=Vocabulary.from_state(state['entity_vocab']),
                   relation_vocab=Vocabulary.from_state(
                       state['relation_vocab']), name=state['name'],
                   meta=state.get('meta'))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.name}, '
                f'entities={self.num_entities}, '
                f'relations={self.num_relations}, '
                f'train={self.train.edge_index.size(1)}, '
                f'valid={self.valid.edge_index.size(1)}, '
                f'test={self.test.edge_index.size(1)})')
