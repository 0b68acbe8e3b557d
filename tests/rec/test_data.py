import gzip
import os.path as osp
import time

import pytest
import torch

from tests.utils import shared_dataset
from torch_geometric_unlearn.rec.data import (
    EDGE,
    SPLITS,
    RecDataset,
    check_interactions,
    load_interactions,
    load_movielens100k,
    make_interactions,
    make_synthetic_interactions,
    save_interactions,
    user_item_lists,
)


def pair_keys(edge_index, num_items):
    return set((edge_index[0] * num_items + edge_index[1]).tolist())


def assert_same_dataset(a, b):
    assert (a.num_users, a.num_items) == (b.num_users, b.num_items)
    for split in SPLITS:
        x, y = a[split][EDGE], b[split][EDGE]
        assert torch.equal(x.edge_index, y.edge_index)
        for key in ('rating', 'time'):
            assert (getattr(x, key, None) is None) == (getattr(y, key, None)
                                                       is None)
            if getattr(x, key, None) is not None:
                assert torch.equal(x[key], y[key])


# Synthetic generator #########################################################


def test_synthetic_deterministic():
    a = make_synthetic_interactions(seed=3)
    b = make_synthetic_interactions(seed=3)
    c = make_synthetic_interactions(seed=4)
    assert_same_dataset(a, b)
    assert not torch.equal(a.edge_index('train'), c.edge_index('train'))


def test_synthetic_leaves_global_rng_untouched():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    make_synthetic_interactions(num_users=50, num_items=40, seed=1)
    assert torch.equal(torch.get_rng_state(), state)


def test_synthetic_splits():
    ds = make_synthetic_interactions()
    assert isinstance(ds, RecDataset)
    assert (ds.num_users, ds.num_items) == (600, 500)
    keys = {s: pair_keys(ds.edge_index(s), ds.num_items) for s in SPLITS}
    for split in SPLITS:
        e = ds.edge_index(split)
        assert e.dtype == torch.long and e.size(0) == 2
        assert len(keys[split]) == e.size(1)  # No duplicates.
        assert 0 <= int(e[0].min()) and int(e[0].max()) < ds.num_users
        assert 0 <= int(e[1].min()) and int(e[1].max()) < ds.num_items
        assert ds[split]['user'].num_nodes == 600
        assert ds[split]['item'].num_nodes == 500
    assert not keys['train'] & keys['valid']
    assert not keys['train'] & keys['test']
    assert not keys['valid'] & keys['test']

    count = {
        s: torch.bincount(ds.edge_index(s)[0], minlength=ds.num_users)
        for s in SPLITS
    }
    assert int(count['train'].min()) >= 3
    assert int(count['test'].min()) >= 1
    total = sum(count.values())
    assert int(total.min()) >= 8 and int(total.max()) <= 250
    assert int(total.max()) > 3 * float(total.double().mean())  # Heavy tail.
    n = sum(ds.num_interactions(s) for s in SPLITS)
    assert 0.15 < ds.num_interactions('test') / n < 0.25
    assert 0.05 < ds.num_interactions('valid') / n < 0.15


def test_synthetic_small_ratios_keep_minimum_items():
    ds = make_synthetic_interactions(num_users=30, num_items=20,
                                     mean_interactions=4, min_interactions=4,
                                     valid_ratio=0.4, test_ratio=0.5, seed=2)
    train = torch.bincount(ds.edge_index('train')[0], minlength=30)
    test = torch.bincount(ds.edge_index('test')[0], minlength=30)
    assert int(train.min()) >= 3 and int(test.min()) >= 1


def test_synthetic_has_structure():
    # Test items are far more predictable from a user's own training items
    # (collaborative filtering, here item-kNN) than from global popularity.
    ds = make_synthetic_interactions()
    train, test = ds.edge_index('train'), ds.edge_index('test')
    num_users, num_items = ds.num_users, ds.num_items
    R = torch.zeros(num_users, num_items)
    R[train[0], train[1]] = 1.0
    pop = R.sum(0).expand(num_users, -1)
    Rn = R / R.sum(0).clamp(min=1).sqrt()
    knn = R @ (Rn.t() @ Rn)  # Item-kNN with cosine similarities.
    hit = {}
    for name, score in (('pop', pop), ('knn', knn)):
        score = score.masked_fill(R.bool(), -float('inf'))
        top = score.topk(20, dim=1).indices
        T = torch.zeros(num_users, num_items, dtype=torch.bool)
        T[test[0], test[1]] = True
        hit[name] = int(T.gather(1, top).sum())
    assert hit['knn'] > 2 * hit['pop']


@pytest.mark.parametrize('kwargs', [
    dict(num_users=0),
    dict(num_items=-1),
    dict(dim=0),
    dict(mean_interactions=0),
    dict(min_interactions=3),
    dict(num_items=10, min_interactions=6),
    dict(valid_ratio=-0.1),
    dict(test_ratio=1.0),
    dict(valid_ratio=0.5, test_ratio=0.5),
])
def test_synthetic_errors(kwargs):
    with pytest.raises(ValueError):
        make_synthetic_interactions(**kwargs)


# Container ###################################################################


def test_dataset_container():
    e = torch.tensor([[0, 1, 1], [2, 0, 1]])
    train = make_interactions(e, 3, 4, rating=[1, 2, 3])
    assert train[EDGE].rating.dtype == torch.float
    empty = make_interactions(torch.zeros(2, 0, dtype=torch.long), 3, 4)
    test = make_interactions(torch.tensor([[2], [3]]), 3, 4)
    ds = RecDataset(train, empty, test, 3, 4, name='toy')
    assert torch.equal(ds.edge_index('train'), e)
    assert ds.edge_index('valid').shape == (2, 0)
    assert repr(ds) == ('RecDataset(toy, users=3, items=4, train=3, '
                        'valid=0, test=1)')
    s = ds.summary()
    assert (s['users'], s['items'], s['train'], s['valid'], s['test']) == \
        (3, 4, 3, 0, 1)
    assert s['density'] == pytest.approx(4 / 12)
    assert s['mean_train_per_user'] == pytest.approx(1.0)
    assert s['max_train_per_user'] == 2
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        ds.edge_index('dev')


def test_check_interactions_errors():
    good = torch.tensor([[0, 1], [2, 0]])
    with pytest.raises(ValueError, match=r"split 'test'.*item ids"):
        RecDataset(make_interactions(good, 2, 3),
                   make_interactions(good, 2, 3),
                   make_interactions(torch.tensor([[0], [3]]), 2, 3), 2, 3)
    with pytest.raises(ValueError, match=r"split 'valid'.*user ids"):
        RecDataset(make_interactions(good, 2, 3),
                   make_interactions(torch.tensor([[-1], [0]]), 2, 3),
                   make_interactions(good, 2, 3), 2, 3)
    with pytest.raises(ValueError, match=r'torch.long'):
        check_interactions(make_interactions(good.int(), 2, 3), 2, 3)
    with pytest.raises(ValueError, match=r'shape \[2, E\]'):
        check_interactions(make_interactions(good[:1], 2, 3), 2, 3)
    with pytest.raises(ValueError, match='num_nodes'):
        check_interactions(make_interactions(good, 2, 3), 5, 3)
    with pytest.raises(ValueError, match='entries'):
        make_interactions(good, 2, 3, time=[1, 2, 3])


def test_user_item_lists():
    e = torch.tensor([[2, 0, 2, 1, 0, 2], [5, 1, 3, 0, 4, 1]])
    ptr, items = user_item_lists(e, 4)
    assert ptr.tolist() == [0, 2, 3, 6, 6]
    assert items.tolist() == [1, 4, 0, 5, 3, 1]  # Stable within users.
    ptr, items = user_item_lists(torch.zeros(2, 0, dtype=torch.long), 2)
    assert ptr.tolist() == [0, 0, 0] and items.numel() == 0
    with pytest.raises(ValueError, match='user ids'):
        user_item_lists(e, 2)


# Text loader #################################################################


@pytest.mark.parametrize('compress', [False, True])
def test_save_load_round_trip(tmp_path, compress):
    ds = make_synthetic_interactions(num_users=80, num_items=60, seed=5)
    save_interactions(ds, str(tmp_path), compress=compress)
    suffix = '.tsv.gz' if compress else '.tsv'
    assert osp.isfile(tmp_path / f'train{suffix}')
    loaded = load_interactions(str(tmp_path), name='syn')
    assert loaded.name == 'syn'
    assert_same_dataset(ds, loaded)
    assert load_interactions(str(tmp_path)).name == tmp_path.name


def test_load_with_rating_and_time(tmp_path):
    (tmp_path / 'train.txt').write_text('0\t1\t4.5\t100\n\n2\t0\t3\t101\n')
    with gzip.open(tmp_path / 'test.txt.gz', 'wt') as f:
        f.write('1\t3\t1.0\t7\r\n')
    ds = load_interactions(str(tmp_path))
    assert (ds.num_users, ds.num_items) == (3, 4)
    assert ds.edge_index('train').tolist() == [[0, 2], [1, 0]]
    assert ds.train[EDGE].rating.tolist() == [4.5, 3.0]
    assert ds.train[EDGE].time.tolist() == [100, 101]
    assert ds.test[EDGE].time.tolist() == [7]
    assert ds.num_interactions('valid') == 0
    assert ds.valid['user'].num_nodes == 3

    # A round trip keeps rating and time:
    save_interactions(ds, str(tmp_path / 'copy'))
    assert_same_dataset(ds, load_interactions(str(tmp_path / 'copy')))


@pytest.mark.parametrize('text,match', [
    ('0\t1\n1\t2\n3\tx\n', r'train.tsv:3: could not parse'),
    ('0\t1\n\n1\t2\t3\n', r'train.tsv:3: expected 2 tab-separated fields'),
    ('0\t1\n1 2\n', r'train.tsv:2: expected 2 to 4'),
    ('0\t1\n1\t2\t3\t4\t5\n', r'train.tsv:2: expected 2 to 4'),
    ('0\t1\n1\t-2\n', r'train.tsv:2: negative item id'),
    ('0\t1\n\n-1\t2\n', r'train.tsv:3: negative'),
    ('0\t1\n1\t2.0\n', r'train.tsv:2: could not parse'),
    ('0\t1\n1\t\t2\n', r'train.tsv:2: expected 2 tab-separated fields'),
])
def test_malformed_line(tmp_path, text, match):
    (tmp_path / 'train.tsv').write_text(text)
    (tmp_path / 'test.tsv').write_text('0\t0\n')
    with pytest.raises(ValueError, match=match):
        load_interactions(str(tmp_path))


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_interactions(str(tmp_path / 'nope'))
    (tmp_path / 'test.tsv').write_text('0\t0\n')
    with pytest.raises(FileNotFoundError, match=r"no 'train' file.*train.tsv"):
        load_interactions(str(tmp_path))
    (tmp_path / 'train.tsv').write_text('0\t0\n')
    (tmp_path / 'test.tsv').unlink()
    with pytest.raises(FileNotFoundError, match=r"no 'test' file"):
        load_interactions(str(tmp_path))
    (tmp_path / 'test.tsv').write_text('')
    (tmp_path / 'train.tsv').write_text('\n\n')
    with pytest.raises(ValueError, match='no interactions'):
        load_interactions(str(tmp_path))


def test_load_gowalla():
    path = shared_dataset('gowalla')
    t = time.perf_counter()
    ds = load_interactions(path)
    print(f'gowalla loaded in {time.perf_counter() - t:.2f}s')
    assert ds.name == 'gowalla'
    assert (ds.num_users, ds.num_items) == (29_858, 40_981)
    assert ds.num_interactions('train') == 719_081
    assert ds.num_interactions('valid') == 91_047
    assert ds.num_interactions('test') == 217_242
    assert int(ds.edge_index('train')[1].unique().numel()) == 40_979
    assert int(ds.edge_index('train')[0].unique().numel()) == 29_858


# MovieLens-100K ##############################################################


def write_fake_ml100k(raw):
    raw.mkdir(parents=True)
    genres = ['0'] * 19
    movies = []
    for i in range(1, 6):
        flags = list(genres)
        flags[i] = '1'
        movies.append('|'.join([str(i), f'Caf\xe9 {i} (1995)', '01-Jan-1995',
                                '', f'http://x/{i}'] + flags))
    (raw / 'u.item').write_bytes(('\n'.join(movies) + '\n').encode('latin-1'))
    users = ['1|24|M|technician|85711', '2|53|F|other|94043',
             '3|23|M|writer|32067', '4|24|M|technician|43537']
    (raw / 'u.user').write_text('\n'.join(users) + '\n')
    base = [(1, 1, 5, 100), (1, 2, 3, 101), (2, 3, 4, 102), (2, 1, 1, 103),
            (3, 5, 2, 104), (3, 4, 4, 105), (4, 2, 5, 106), (4, 3, 3, 107),
            (1, 4, 2, 108), (2, 5, 5, 109)]
    test = [(1, 5, 4, 200), (3, 1, 2, 201), (4, 4, 1, 202)]
    for name, rows in (('u1.base', base), ('u1.test', test)):
        (raw / name).write_text(''.join('\t'.join(map(str, r)) + '\n'
                                        for r in rows))
    return base, test


def test_movielens100k_missing_raw(tmp_path):
    with pytest.raises(FileNotFoundError, match=r'u.item.*ml-100k.zip'):
        load_movielens100k(str(tmp_path))


def test_movielens100k_fake(tmp_path):
    pytest.importorskip('pandas')
    base, test = write_fake_ml100k(tmp_path / 'raw')
    state = torch.get_rng_state()
    ds = load_movielens100k(str(tmp_path), valid_ratio=0.3, seed=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert (ds.num_users, ds.num_items) == (4, 5)
    assert ds.num_interactions('valid') == 3
    assert ds.num_interactions('train') == 7

    def rows(split):
        store = ds[split][EDGE]
        return sorted(
            zip((store.edge_index[0] + 1).tolist(),
                (store.edge_index[1] + 1).tolist(),
                store.rating.long().tolist(), store.time.tolist()))

    assert sorted(rows('train') + rows('valid')) == sorted(base)
    assert rows('test') == sorted(test)
    assert ds.train[EDGE].rating.dtype == torch.float

    again = load_movielens100k(str(tmp_path), valid_ratio=0.3, seed=1)
    assert_same_dataset(ds, again)
    other = [
        load_movielens100k(str(tmp_path), valid_ratio=0.3, seed=s)
        for s in range(2, 6)
    ]
    assert any(not torch.equal(o.edge_index('valid'), ds.edge_index('valid'))
               for o in other)
    with pytest.raises(ValueError, match='valid_ratio'):
        load_movielens100k(str(tmp_path), valid_ratio=1.0)
