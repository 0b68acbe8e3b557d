r"""User-item interaction data for recommendation: the :class:`RecDataset`
container, loaders (``user<TAB>item`` files, MovieLens-100K through PyG) and a
seeded latent-factor generator of synthetic interactions."""
from __future__ import annotations

import gzip
import math
import os
import os.path as osp
import warnings
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from torch_geometric.data import HeteroData

__all__ = [
    'EDGE',
    'SPLITS',
    'RecDataset',
    'make_interactions',
    'check_interactions',
    'load_interactions',
    'save_interactions',
    'load_movielens100k',
    'make_synthetic_interactions',
    'user_item_lists',
]

#: The edge type of every interaction graph of this subpackage.
EDGE: Tuple[str, str, str] = ('user', 'rates', 'item')

#: The split names of a :class:`RecDataset`, in order.
SPLITS: Tuple[str, str, str] = ('train', 'valid', 'test')

_SUFFIXES = ('.tsv', '.tsv.gz', '.txt', '.txt.gz')


def make_interactions(edge_index: Tensor, num_users: int, num_items: int,
                      rating: Optional[Tensor] = None,
                      time: Optional[Tensor] = None) -> HeteroData:
    r"""Wraps user-item interactions into a :class:`HeteroData` with node
    types :obj:`"user"` / :obj:`"item"` and the edge type :obj:`EDGE`.

    Args:
        edge_index (torch.Tensor): Interactions :math:`[2, E]`, row 0 user
            ids, row 1 item ids.
        num_users (int): Number of users.
        num_items (int): Number of items.
        rating (torch.Tensor, optional): Ratings :math:`[E]` (stored as
            float). (default: :obj:`None`)
        time (torch.Tensor, optional): Timestamps :math:`[E]` (stored as
            long). (default: :obj:`None`)

    Returns:
        :class:`~torch_geometric.data.HeteroData`
    """
    data = HeteroData()
    data['user'].num_nodes = int(num_users)
    data['item'].num_nodes = int(num_items)
    store = data[EDGE]
    store.edge_index = edge_index
    num_edges = edge_index.size(-1) if edge_index.dim() > 0 else 0
    for key, value, dtype in (('rating', rating, torch.float),
                              ('time', time, torch.long)):
        if value is None:
            continue
        value = torch.as_tensor(value).to(dtype).view(-1)
        if value.numel() != num_edges:
            raise ValueError(f"'{key}' has {value.numel()} entries but there "
                             f"are {num_edges} interactions")
        store[key] = value
    return data


def check_interactions(data: HeteroData, num_users: int, num_items: int,
                       split: str = 'train') -> None:
    r"""Checks that :obj:`data` is a valid interaction graph: a
    :obj:`torch.long` :obj:`edge_index` of shape :math:`[2, E]` for
    :obj:`EDGE` with user ids in :math:`[0, U)` and item ids in
    :math:`[0, I)`, node counts equal to :obj:`num_users` /
    :obj:`num_items`, and :obj:`rating` / :obj:`time` (if present) of shape
    :math:`[E]`.

    Args:
        data (HeteroData): The interaction graph.
        num_users (int): Number of users :math:`U`.
        num_items (int): Number of items :math:`I`.
        split (str, optional): Split name used in error messages.
            (default: :obj:`"train"`)

    Raises:
        ValueError: If any check fails.
    """
    where = f"split '{split}'"
    if not isinstance(data, HeteroData):
        raise ValueError(f"{where}: expected a HeteroData, got "
                         f"{type(data).__name__}")
    if EDGE not in data.edge_types:
        raise ValueError(f"{where}: missing edge type {EDGE}")
    for node_type, n in (('user', num_users), ('item', num_items)):
        if data[node_type].num_nodes != n:
            raise ValueError(f"{where}: data['{node_type}'].num_nodes is "
                             f"{data[node_type].num_nodes}, expected {n}")
    edge_index = data[EDGE].edge_index
    if not isinstance(edge_index, Tensor):
        raise ValueError(f"{where}: edge_index must be a tensor")
    if edge_index.dtype != torch.long:
        raise ValueError(f"{where}: edge_index must have dtype torch.long "
                         f"(got {edge_index.dtype})")
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"{where}: edge_index must have shape [2, E] (got "
                         f"{list(edge_index.shape)})")
    if edge_index.numel() > 0:
        for row, name, n in ((0, 'user', num_users), (1, 'item', num_items)):
            lo, hi = int(edge_index[row].min()), int(edge_index[row].max())
            if lo < 0 or hi >= n:
                raise ValueError(f"{where}: {name} ids must lie in [0, {n}) "
                                 f"(found range [{lo}, {hi}])")
    for key in ('rating', 'time'):
        value = getattr(data[EDGE], key, None)
        if value is not None and tuple(value.shape) != (edge_index.size(1), ):
            raise ValueError(f"{where}: '{key}' must have shape "
                             f"[{edge_index.size(1)}] (got "
                             f"{list(value.shape)})")


class RecDataset:
    r"""A recommendation dataset: users, items and ``train`` / ``valid`` /
    ``test`` interaction graphs.

    Each split is a :class:`~torch_geometric.data.HeteroData` with
    :obj:`data['user'].num_nodes = num_users`,
    :obj:`data['item'].num_nodes = num_items` and
    :obj:`data['user', 'rates', 'item'].edge_index` of shape :math:`[2, E]`
    (row 0 user ids, row 1 item ids), optionally with :obj:`rating`
    (float, :math:`[E]`) and :obj:`time` (long, :math:`[E]`) on that edge
    type. The splits are validated on construction.

    Args:
        train (HeteroData): Training interactions.
        valid (HeteroData): Validation interactions (may be empty).
        test (HeteroData): Test interactions.
        num_users (int): Number of users.
        num_items (int): Number of items.
        name (str, optional): Dataset name. (default: :obj:`"rec"`)
    """
    def __init__(self, train: HeteroData, valid: HeteroData, test: HeteroData,
                 num_users: int, num_items: int, name: str = 'rec') -> None:
        if int(num_users) <= 0 or int(num_items) <= 0:
            raise ValueError(f"'num_users' and 'num_items' must be positive "
                             f"(got {num_users} and {num_items})")
        self.name = name
        self.num_users = int(num_users)
        self.num_items = int(num_items)
        self.train = train
        self.valid = valid
        self.test = test
        for split in SPLITS:
            check_interactions(self[split], self.num_users, self.num_items,
                               split)

    def __getitem__(self, split: str) -> HeteroData:
        if split not in SPLITS:
            raise ValueError(f"unknown split '{split}' (expected one of "
                             f"{', '.join(SPLITS)})")
        return getattr(self, split)

    def edge_index(self, split: str) -> Tensor:
        r"""Returns the interactions :math:`[2, E]` of :obj:`split`
        (:obj:`"train"`, :obj:`"valid"` or :obj:`"test"`)."""
        return self[split][EDGE].edge_index

    def num_interactions(self, split: str) -> int:
        r"""Returns the number of interactions of :obj:`split`."""
        return int(self.edge_index(split).size(1))

    def summary(self) -> Dict[str, float]:
        r"""Returns dataset statistics: :obj:`users`, :obj:`items`,
        :obj:`train` / :obj:`valid` / :obj:`test` (interaction counts),
        :obj:`density` (all interactions over :math:`U \cdot I`) and
        :obj:`mean_train_per_user` / :obj:`max_train_per_user`."""
        out: Dict[str, float] = {
            'users': self.num_users,
            'items': self.num_items,
        }
        for split in SPLITS:
            out[split] = self.num_interactions(split)
        total = sum(out[split] for split in SPLITS)
        out['density'] = total / (self.num_users * self.num_items)
        deg = torch.bincount(self.edge_index('train')[0],
                             minlength=self.num_users)
        out['mean_train_per_user'] = float(deg.double().mean())
        out['max_train_per_user'] = int(deg.max())
        return out

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.name}, '
                f'users={self.num_users}, items={self.num_items}, '
                f'train={self.num_interactions("train")}, '
                f'valid={self.num_interactions("valid")}, '
                f'test={self.num_interactions("test")})')


def user_item_lists(edge_index: Tensor,
                    num_users: int) -> Tuple[Tensor, Tensor]:
    r"""Groups interactions by user in CSR form: the items of user :math:`u`
    are :obj:`items[ptr[u]:ptr[u + 1]]`, in their original order (stable).

    Args:
        edge_index (torch.Tensor): Interactions :math:`[2, E]`.
        num_users (int): Number of users :math:`U`.

    Returns:
        (torch.Tensor, torch.Tensor): :obj:`ptr` :math:`[U + 1]` and
        :obj:`items` :math:`[E]`.
    """
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"'edge_index' must have shape [2, E] (got "
                         f"{list(edge_index.shape)})")
    user, item = edge_index[0].long(), edge_index[1].long()
    if user.numel() > 0 and (int(user.min()) < 0
                             or int(user.max()) >= num_users):
        raise ValueError(f"user ids must lie in [0, {num_users}) (found "
                         f"range [{int(user.min())}, {int(user.max())}])")
    user, perm = torch.sort(user, stable=True)
    count = torch.bincount(user, minlength=num_users)
    ptr = torch.zeros(num_users + 1, dtype=torch.long, device=user.device)
    torch.cumsum(count, 0, out=ptr[1:])
    return ptr, item[perm]


# Text files ##################################################################


def _find_split_file(root: str, split: str) -> Optional[str]:
    for suffix in _SUFFIXES:
        path = osp.join(root, split + suffix)
        if osp.isfile(path):
            return path
    return None


def _read_bytes(path: str) -> bytes:
    if path.endswith('.gz'):
        with gzip.open(path, 'rb') as f:
            return f.read()
    with open(path, 'rb') as f:
        return f.read()


_FIELDS = "'user<TAB>item[<TAB>rating[<TAB>timestamp]]'"


def _parse_slow(raw: bytes, path: str) -> Tuple[np.ndarray, List[int]]:
    r"""Line-by-line parser with line-numbered errors; returns the parsed
    columns :math:`[E, C]` (float64) and the line numbers."""
    rows: List[List[float]] = []
    linenos: List[int] = []
    num_cols = first = None
    for lineno, line in enumerate(raw.split(b'\n'), start=1):
        if not line.strip():
            continue
        parts = line.rstrip(b'\r').split(b'\t')
        where = f'{path}:{lineno}'
        text = line[:80].decode('utf-8', 'replace')
        if not 2 <= len(parts) <= 4:
            raise ValueError(f'{where}: expected 2 to 4 tab-separated fields '
                             f'{_FIELDS}, got {len(parts)}: {text!r}')
        if num_cols is None:
            num_cols, first = len(parts), lineno
        elif len(parts) != num_cols:
            raise ValueError(f'{where}: expected {num_cols} tab-separated '
                             f'fields (as on line {first}), got '
                             f'{len(parts)}: {text!r}')
        try:
            row = [int(parts[0]), int(parts[1])]
            if num_cols > 2:
                row.append(float(parts[2]))
            if num_cols > 3:
                row.append(int(parts[3]))
        except ValueError:
            raise ValueError(f'{where}: could not parse {_FIELDS} (ids and '
                             f'timestamps must be integers): '
                             f'{text!r}') from None
        if row[0] < 0 or row[1] < 0:
            raise ValueError(f'{where}: negative id: {text!r}')
        rows.append(row)
        linenos.append(lineno)
    if not rows:
        return np.zeros((0, 2)), []
    return np.array(rows, dtype=np.float64), linenos


def _read_interactions(path: str) -> Dict[str, Tensor]:
    r"""Reads one ``user<TAB>item[<TAB>rating[<TAB>timestamp]]`` file.

    The fast path checks with NumPy that every non-blank line has the same
    number of tab-separated fields and converts the whitespace-split tokens
    column by column; anything unusual falls back to :func:`_parse_slow`,
    which reports the offending line."""
    raw = _read_bytes(path)
    buf = np.frombuffer(raw, dtype=np.uint8)
    ends = np.flatnonzero(buf == ord('\n'))
    if buf.size > 0 and buf[-1] != ord('\n'):
        ends = np.append(ends, buf.size)
    starts = np.concatenate([[0], ends[:-1] + 1]) if ends.size else ends
    line_of = lambda pos: np.searchsorted(ends, pos)  # noqa: E731
    space = np.flatnonzero((buf == ord('\t')) | (buf == ord(' '))
                           | (buf == ord('\r')))
    tabs = np.flatnonzero(buf == ord('\t'))
    num_space = np.bincount(line_of(space), minlength=ends.size)
    num_tabs = np.bincount(line_of(tabs), minlength=ends.size)
    blank = (ends - starts) == num_space
    lines = np.flatnonzero(~blank)  # 0-based indices of non-blank lines

    out: Dict[str, Tensor] = {}
    cols = None
    if lines.size == 0:
        out['edge_index'] = torch.zeros(2, 0, dtype=torch.long)
        return out
    num_cols = int(num_tabs[lines[0]]) + 1
    tokens = raw.split()
    if (2 <= num_cols <= 4 and bool((num_tabs[lines] == num_cols - 1).all())
            and len(tokens) == num_cols * lines.size):
        try:
            cols = [
                np.array(tokens[c::num_cols],
                         dtype=np.float64 if c == 2 else np.int64)
                for c in range(num_cols)
            ]
            linenos = lines + 1
        except (ValueError, OverflowError):
            cols = None
    if cols is None:  # Slow path with line-numbered errors:
        arr, linenos = _parse_slow(raw, path)
        linenos = np.asarray(linenos, dtype=np.int64)
        cols = [
            arr[:, c] if c == 2 else arr[:, c].astype(np.int64)
            for c in range(arr.shape[1])
        ]
    del tokens

    for c, name in ((0, 'user'), (1, 'item')):
        neg = np.flatnonzero(cols[c] < 0)
        if neg.size:
            raise ValueError(f'{path}:{int(linenos[neg[0]])}: negative {name} '
                             f'id {int(cols[c][neg[0]])}')
    out['edge_index'] = torch.from_numpy(np.stack([cols[0], cols[1]]))
    if len(cols) > 2:
        out['rating'] = torch.from_numpy(cols[2]).float()
    if len(cols) > 3:
        out['time'] = torch.from_numpy(cols[3]).long()
    return out


def load_interactions(root: str, name: Optional[str] = None) -> RecDataset:
    r"""Loads a recommendation dataset from a directory with ``train``,
    ``valid`` (optional; empty if missing) and ``test`` files, each one of
    ``{split}.tsv``, ``{split}.tsv.gz``, ``{split}.txt`` or
    ``{split}.txt.gz``, with one interaction
    ``user<TAB>item[<TAB>rating[<TAB>timestamp]]`` per line (0-based integer
    ids, no header; blank lines are skipped). This is the layout of the
    LightGCN / NGCF benchmarks (*e.g.* Gowalla: 29,858 users, 40,981 items).

    The number of users (items) is the largest user (item) id over all
    splits plus one. :obj:`rating` / :obj:`time` are stored on the splits
    whose files have those columns.

    Args:
        root (str): The directory.
        name (str, optional): Dataset name. (default: the directory's name)

    Returns:
        :class:`RecDataset`

    Raises:
        FileNotFoundError: If :obj:`root` or the ``train`` / ``test`` file
            does not exist.
        ValueError: On a malformed line (naming file and line number) or a
            negative id.
    """
    if not osp.isdir(root):
        raise FileNotFoundError(f"interaction directory '{root}' does not "
                                f"exist")
    parts: Dict[str, Dict[str, Tensor]] = {}
    for split in SPLITS:
        path = _find_split_file(root, split)
        if path is None:
            if split != 'valid':
                expected = ', '.join(split + s for s in _SUFFIXES)
                raise FileNotFoundError(
                    f"no '{split}' file in '{root}' (expected one of "
                    f"{expected}: {osp.join(root, split + '.tsv')})")
            parts[split] = {'edge_index': torch.zeros(2, 0, dtype=torch.long)}
        else:
            parts[split] = _read_interactions(path)
    if parts['train']['edge_index'].numel() == 0:
        raise ValueError(f"the training file in '{root}' has no interactions")

    edge_index = torch.cat([p['edge_index'] for p in parts.values()], dim=1)
    num_users, num_items = (edge_index.max(dim=1).values + 1).tolist()
    splits = {
        split: make_interactions(num_users=num_users, num_items=num_items,
                                 **part)
        for split, part in parts.items()
    }
    return RecDataset(**splits, num_users=num_users, num_items=num_items,
                      name=name or osp.basename(osp.normpath(root)))


def save_interactions(dataset: RecDataset, root: str,
                      compress: bool = True) -> None:
    r"""Writes :obj:`dataset` as ``train`` / ``valid`` / ``test`` files of
    ``user<TAB>item[<TAB>rating[<TAB>timestamp]]`` lines (the inverse of
    :func:`load_interactions`; :obj:`time` is written only together with
    :obj:`rating`).

    Args:
        dataset (RecDataset): The dataset.
        root (str): Output directory (created if missing).
        compress (bool, optional): Write ``.tsv.gz`` instead of ``.tsv``.
            (default: :obj:`True`)
    """
    os.makedirs(root, exist_ok=True)
    for split in SPLITS:
        store = dataset[split][EDGE]
        cols = [store.edge_index[0].tolist(), store.edge_index[1].tolist()]
        rating = getattr(store, 'rating', None)
        time = getattr(store, 'time', None)
        if rating is not None:
            cols.append([repr(float(r)) for r in rating.tolist()])
            if time is not None:
                cols.append(time.tolist())
        text = ''.join('\t'.join(map(str, row)) + '\n' for row in zip(*cols))
        path = osp.join(root, split + ('.tsv.gz' if compress else '.tsv'))
        if compress:
            with gzip.open(path, 'wt', encoding='utf-8', newline='') as f:
                f.write(text)
        else:
            with open(path, 'w', encoding='utf-8', newline='') as f:
                f.write(text)


# MovieLens-100K ##############################################################

_ML100K_FILES = ('u.item', 'u.user', 'u1.base', 'u1.test')


def load_movielens100k(root: str, valid_ratio: float = 0.1,
                       seed: int = 0) -> RecDataset:
    r"""Loads MovieLens-100K (943 users, 1,682 movies) through
    :class:`torch_geometric.datasets.MovieLens100K`, with its ``u1.base`` /
    ``u1.test`` split as train / test, and a seeded random
    :obj:`valid_ratio` share of the training ratings moved to ``valid``.
    :obj:`rating` and :obj:`time` are kept on every split (PyG does not keep
    test timestamps; they are read from ``u1.test``).

    This machine-independent loader never downloads: ``u.item``,
    ``u.user``, ``u1.base`` and ``u1.test`` (from ``ml-100k.zip``) must be in
    ``root/raw/``.

    Args:
        root (str): Root directory of the PyG dataset.
        valid_ratio (float, optional): Share of training ratings moved to the
            validation split. (default: :obj:`0.1`)
        seed (int, optional): Seed of the validation split (a local
            :class:`torch.Generator`; the global RNG is not used).
            (default: :obj:`0`)

    Returns:
        :class:`RecDataset`
    """
    if not 0.0 <= valid_ratio < 1.0:
        raise ValueError(f"'valid_ratio' must lie in [0, 1) (got "
                         f"{valid_ratio})")
    raw_dir = osp.join(root, 'raw')
    missing = [
        f for f in _ML100K_FILES if not osp.isfile(osp.join(raw_dir, f))
    ]
    if missing:
        raise FileNotFoundError(
            f"MovieLens-100K raw files missing in '{raw_dir}': "
            f"{', '.join(missing)} (copy {', '.join(_ML100K_FILES)} from "
            f"https://files.grouplens.org/datasets/movielens/ml-100k.zip "
            f"into '{raw_dir}'; nothing is downloaded)")
    try:
        import pandas  # noqa: F401  (needed by MovieLens100K.process())
    except ImportError as e:
        raise ImportError(f"'load_movielens100k' needs pandas to process the "
                          f"raw files ({e})") from e
    from torch_geometric.datasets import MovieLens100K

    with warnings.catch_warnings():  # PyG's process() on read-only arrays.
        warnings.filterwarnings('ignore', message='.*not writable')
        data = MovieLens100K(root)[0]
    num_users = data['user'].num_nodes
    num_items = data['movie'].num_nodes
    store = data['user', 'rates', 'movie']

    test_time = None
    test_raw = _read_interactions(osp.join(raw_dir, 'u1.test'))
    if 'time' in test_raw and test_raw['time'].numel() == \
            store.edge_label_index.size(1):
        test_time = test_raw['time']
    test = make_interactions(store.edge_label_index.long(), num_users,
                             num_items, rating=store.edge_label,
                             time=test_time)

    edge_index = store.edge_index.long()
    rating, time = store.rating, store.time
    gen = torch.Generator().manual_seed(seed)
    perm = torch.randperm(edge_index.size(1), generator=gen)
    num_valid = int(round(valid_ratio * edge_index.size(1)))
    valid_idx = perm[:num_valid].sort().values
    train_idx = perm[num_valid:].sort().values
    train, valid = (make_interactions(edge_index[:, idx], num_users,
                                      num_items, rating=rating[idx],
                                      time=time[idx])
                    for idx in (train_idx, valid_idx))
    return RecDataset(train, valid, test, num_users, num_items,
                      name='movielens100k')


# Synthetic interactions ######################################################


def make_synthetic_interactions(
    num_users: int = 600,
    num_items: int = 500,
    dim: int = 8,
    mean_interactions: float = 25,
    min_interactions: int = 8,
    valid_ratio: float = 0.1,
    test_ratio: float = 0.2,
    seed: int = 0,
    name: Optional[str] = None,
) -> RecDataset:
    r"""Generates a seeded synthetic implicit-feedback dataset from a
    clustered latent-factor model, so that collaborative filtering has
    structure to learn (a trained matrix factorisation beats popularity
    ranking by a wide margin).

    Users and items get latent vectors
    :math:`\mathbf{p}_u, \mathbf{q}_i \in \mathbb{R}^d` scattered around
    shared cluster centres, and items a popularity offset :math:`b_i`. User
    :math:`u` interacts with :math:`n_u` distinct items, drawn without
    replacement (Gumbel top-:math:`k`) with probability

    .. math::
        P(i \mid u) \propto \exp\left( \left( \mathbf{p}_u^{\top}
        \mathbf{q}_i / \sqrt{d} + b_i \right) / \tau \right),

    where :math:`n_u` is log-normal (heavy-tailed) with mean about
    :obj:`mean_interactions`, clipped to
    :math:`[\textrm{min\_interactions}, I / 2]`. Each user's items are then
    shuffled and split: :math:`\max(1, \mathrm{round}(n_u \cdot
    \textrm{test\_ratio}))` test items, :math:`\mathrm{round}(n_u \cdot
    \textrm{valid\_ratio})` validation items and the rest for training, but
    every user keeps at least 3 training items (taken from validation, then
    test, which keeps at least one).

    The output is a deterministic function of the arguments (bitwise
    identical for the same :obj:`seed`); only a local
    :class:`torch.Generator` is used, never the global RNG.

    Args:
        num_users (int, optional): Number of users. (default: :obj:`600`)
        num_items (int, optional): Number of items. (default: :obj:`500`)
        dim (int, optional): Latent dimension :math:`d`. (default: :obj:`8`)
        mean_interactions (float, optional): Target mean interactions per
            user (before clipping). (default: :obj:`25`)
        min_interactions (int, optional): Minimum interactions per user
            (at least 4). (default: :obj:`8`)
        valid_ratio (float, optional): Per-user share of validation
            interactions. (default: :obj:`0.1`)
        test_ratio (float, optional): Per-user share of test interactions.
            (default: :obj:`0.2`)
        seed (int, optional): Random seed. (default: :obj:`0`)
        name (str, optional): Dataset name.
            (default: :obj:`"synthetic-rec-{num_users}x{num_items}"`)

    Returns:
        :class:`RecDataset`
    """
    for key, value in (('num_users', num_users), ('num_items', num_items),
                       ('dim', dim)):
        if int(value) != value or value <= 0:
            raise ValueError(f"'{key}' must be a positive integer (got "
                             f"{value})")
    if not mean_interactions > 0:
        raise ValueError(f"'mean_interactions' must be positive (got "
                         f"{mean_interactions})")
    if int(min_interactions) != min_interactions or min_interactions < 4:
        raise ValueError(f"'min_interactions' must be an integer >= 4 (3 "
                         f"training + 1 test item; got {min_interactions})")
    if min_interactions > num_items // 2:
        raise ValueError(f"'min_interactions' ({min_interactions}) must not "
                         f"exceed num_items // 2 ({num_items // 2})")
    for key, value in (('valid_ratio', valid_ratio),
                       ('test_ratio', test_ratio)):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"'{key}' must lie in [0, 1) (got {value})")
    if valid_ratio + test_ratio >= 1.0:
        raise ValueError(f"'valid_ratio' + 'test_ratio' must be < 1 (got "
                         f"{valid_ratio + test_ratio})")
    num_users, num_items, dim = int(num_users), int(num_items), int(dim)

    gen = torch.Generator().manual_seed(int(seed))
    f64 = dict(dtype=torch.float64)

    # Clustered latent factors and a log-normal item popularity:
    num_clusters = max(2, min(16, dim))
    centre = torch.randn(num_clusters, dim, generator=gen, **f64)
    user_cluster = torch.randint(num_clusters, (num_users, ), generator=gen)
    item_cluster = torch.randint(num_clusters, (num_items, ), generator=gen)
    p = centre[user_cluster] + 0.5 * torch.randn(num_users, dim,
                                                 generator=gen, **f64)
    q = centre[item_cluster] + 0.5 * torch.randn(num_items, dim,
                                                 generator=gen, **f64)
    bias = 0.8 * torch.randn(num_items, generator=gen, **f64)
    temperature = 0.5

    # Heavy-tailed interaction counts (log-normal with the requested mean):
    sigma = 0.8
    z = torch.randn(num_users, generator=gen, **f64)
    count = torch.exp(math.log(mean_interactions) - 0.5 * sigma**2 +
                      sigma * z)
    count = count.round().long().clamp_(min_interactions, num_items // 2)

    # Gumbel top-k sampling without replacement, in blocks of users:
    users: List[Tensor] = []
    items: List[Tensor] = []
    block = max(1, (1 << 22) // num_items)
    for start in range(0, num_users, block):
        end = min(start + block, num_users)
        logit = (p[start:end] @ q.t() / math.sqrt(dim) + bias) / temperature
        u = torch.rand(end - start, num_items, generator=gen, **f64)
        gumbel = -torch.log(-torch.log(u.clamp_(min=1e-300)))
        k = int(count[start:end].max())
        order = torch.topk(logit + gumbel, k, dim=1).indices
        keep = torch.arange(k).view(1, -1) < count[start:end].view(-1, 1)
        row, col = keep.nonzero(as_tuple=True)
        users.append(row + start)
        items.append(order[row, col])
    user = torch.cat(users)
    item = torch.cat(items)

    # Shuffle each user's items and split them:
    key = torch.rand(user.numel(), generator=gen, **f64)
    perm = torch.argsort(key)
    perm = perm[torch.argsort(user[perm], stable=True)]
    user, item = user[perm], item[perm]
    ptr = torch.zeros(num_users + 1, dtype=torch.long)
    torch.cumsum(count, 0, out=ptr[1:])
    pos = torch.arange(user.numel()) - ptr[user]

    num_test = (count.double() * test_ratio).round().long().clamp_(min=1)
    num_valid = (count.double() * valid_ratio).round().long()
    short = (3 - (count - num_test - num_valid)).clamp_(min=0)
    take = torch.minimum(short, num_valid)
    num_valid = num_valid - take
    num_test = num_test - (short - take)  # >= 1 as count >= 4

    pos_test, pos_valid = num_test[user], (num_test + num_valid)[user]
    split_mask = {
        'test': pos < pos_test,
        'valid': (pos >= pos_test) & (pos < pos_valid),
        'train': pos >= pos_valid,
    }
    splits = {}
    for split, mask in split_mask.items():
        u, i = user[mask], item[mask]
        order = torch.argsort(u * num_items + i)
        edge_index = torch.stack([u[order], i[order]])
        splits[split] = make_interactions(edge_index, num_users, num_items)
    return RecDataset(**splits, num_users=num_users, num_items=num_items,
                      name=name or f'synthetic-rec-{num_users}x{num_items}')
