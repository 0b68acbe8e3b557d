import builtins
import gzip
import os
import os.path as osp
import shutil

import numpy as np
import pytest
import torch

from torch_geometric_unlearn.datasets import UserInputError
from torch_geometric_unlearn.datasets.kg import KGDataset
from torch_geometric_unlearn.datasets.ogb import (OGBFormatError,
                                                  load_ogb_wikikg2)

NUM_NODES = 40  # entity 39 occurs nowhere: only num-node-list knows it
NUM_RELS = 5
NUM_NEG = 7
SIZES = {'train': 60, 'valid': 8, 'test': 9}


def _write_csv_gz(path, lines):
    os.makedirs(osp.dirname(path), exist_ok=True)
    with gzip.open(path, 'wt') as f:
        f.write(''.join(line + '\n' for line in lines))


def _write_fixture(root, dtype=np.int64):
    r"""Writes a tiny ogbl-wikikg2 in OGB's layout under root/ogbl_wikikg2
    and returns the arrays written."""
    folder = osp.join(root, 'ogbl_wikikg2')
    rng = np.random.default_rng(0)
    arrays = {}
    for s, n in SIZES.items():
        d = {
            'head': rng.integers(0, 38, n).astype(dtype),
            'relation': rng.integers(0, NUM_RELS, n).astype(dtype),
            'tail': rng.integers(0, 38, n).astype(dtype),
        }
        if s != 'train':
            d['head_neg'] = rng.integers(0, 39, (n, NUM_NEG)).astype(dtype)
            d['tail_neg'] = rng.integers(0, 39, (n, NUM_NEG)).astype(dtype)
        arrays[s] = {k: v.copy() for k, v in d.items()}
        os.makedirs(osp.join(folder, 'split', 'time'), exist_ok=True)
        torch.save(d, osp.join(folder, 'split', 'time', f'{s}.pt'))
    # Entity 38 occurs only in a negative, to exercise the fallback count.
    arrays['test']['tail_neg'][0, 0] = 38
    d = torch.load(osp.join(folder, 'split', 'time', 'test.pt'),
                   weights_only=False)
    d['tail_neg'][0, 0] = 38
    torch.save(d, osp.join(folder, 'split', 'time', 'test.pt'))

    train = arrays['train']
    _write_csv_gz(osp.join(folder, 'raw', 'num-node-list.csv.gz'),
                  [str(NUM_NODES)])
    _write_csv_gz(osp.join(folder, 'raw', 'num-edge-list.csv.gz'),
                  [str(SIZES['train'])])
    _write_csv_gz(osp.join(folder, 'raw', 'edge.csv.gz'),
                  [f'{h},{t}' for h, t in zip(train['head'], train['tail'])])
    _write_csv_gz(osp.join(folder, 'raw', 'edge_reltype.csv.gz'),
                  [str(r) for r in train['relation']])
    _write_csv_gz(osp.join(folder, 'mapping', 'nodeidx2entityid.csv.gz'),
                  ['node idx,entity id'] +
                  [f'{i},Q{100 + 7 * i}' for i in range(NUM_NODES)])
    _write_csv_gz(osp.join(folder, 'mapping', 'reltype2relid.csv.gz'),
                  ['reltype,rel id'] +
                  [f'{i},P{31 + i}' for i in range(NUM_RELS)])
    return folder, arrays


@pytest.fixture
def ogb_root(tmp_path):
    folder, arrays = _write_fixture(str(tmp_path))
    return str(tmp_path), folder, arrays


def test_counts_triples_negatives(ogb_root, monkeypatch):
    root, _, arrays = ogb_root

    def no_prompt(*args, **kwargs):
        raise AssertionError('the loader must not prompt')

    monkeypatch.setattr(builtins, 'input', no_prompt)  # no RELEASE_v1.txt
    dataset = load_ogb_wikikg2(root)
    assert isinstance(dataset, KGDataset)
    assert dataset.name == 'ogbl-wikikg2'
    assert dataset.num_entities == NUM_NODES
    assert dataset.num_relations == NUM_RELS
    for s, n in SIZES.items():
        data = dataset[s]
        assert data.edge_index.shape == (2, n)
        assert data.edge_index.dtype == torch.long
        assert data.edge_type.dtype == torch.long
        assert data.num_nodes == NUM_NODES
        a = arrays[s]
        assert data.edge_index[0].tolist() == a['head'].tolist()
        assert data.edge_index[1].tolist() == a['tail'].tolist()
        assert data.edge_type.tolist() == a['relation'].tolist()
        if s == 'train':
            assert 'head_neg' not in data and 'tail_neg' not in data
        else:
            for key in ('head_neg', 'tail_neg'):
                assert data[key].shape == (n, NUM_NEG)
                assert data[key].dtype == torch.int32
                assert torch.equal(data[key], torch.from_numpy(a[key]))


def test_names(ogb_root):
    root, _, _ = ogb_root
    dataset = load_ogb_wikikg2(root)
    assert dataset.entity_vocab.is_implicit  # names are opt-in
    assert dataset.entity_vocab.name(3) == 'e3'
    assert not dataset.relation_vocab.is_implicit
    assert dataset.relation_vocab.to_list() == [f'P{31 + i}'
                                                for i in range(NUM_RELS)]

    named = load_ogb_wikikg2(root, entity_names=True, relation_names=False)
    assert named.entity_vocab.name(0) == 'Q100'
    assert named.entity_vocab.name(39) == 'Q373'
    assert named.entity_vocab.index('Q107') == 1
    assert named.relation_vocab.is_implicit
    triple = named.decode(torch.tensor([[2, 1, 5]]))
    assert triple == [('Q114', 'r1', 'Q135')]


def test_mapping_out_of_order(ogb_root):
    root, folder, _ = ogb_root
    rows = [f'{i},Q{100 + 7 * i}' for i in range(NUM_NODES)][::-1]
    _write_csv_gz(osp.join(folder, 'mapping', 'nodeidx2entityid.csv.gz'),
                  ['node idx,entity id'] + rows)
    dataset = load_ogb_wikikg2(root, entity_names=True)
    assert dataset.entity_vocab.name(0) == 'Q100'
    assert dataset.entity_vocab.name(NUM_NODES - 1) == 'Q373'


def test_root_is_dataset_folder_and_pyg_suffix(ogb_root, tmp_path):
    root, folder, arrays = ogb_root
    direct = load_ogb_wikikg2(folder)
    assert direct.num_entities == NUM_NODES
    assert direct.train.edge_index[0].tolist() == arrays['train'][
        'head'].tolist()

    other = tmp_path / 'other'
    other.mkdir()
    shutil.copytree(folder, other / 'ogbl_wikikg2_pyg')
    assert load_ogb_wikikg2(str(other)).num_entities == NUM_NODES


def test_without_negatives(ogb_root):
    root, _, _ = ogb_root
    dataset = load_ogb_wikikg2(root, with_negatives=False)
    for s in ('valid', 'test'):
        assert 'head_neg' not in dataset[s]
        assert 'tail_neg' not in dataset[s]
    assert dataset.valid.edge_index.size(1) == SIZES['valid']


def test_num_nodes_fallback(ogb_root):
    root, folder, _ = ogb_root
    os.remove(osp.join(folder, 'raw', 'num-node-list.csv.gz'))
    # Largest id, 38, only occurs as a negative.
    assert load_ogb_wikikg2(root).num_entities == 39
    # The mapping names all 40 entities.
    assert load_ogb_wikikg2(root, entity_names=True).num_entities == 40
    os.remove(osp.join(folder, 'mapping', 'reltype2relid.csv.gz'))
    dataset = load_ogb_wikikg2(root)
    all_rel = max(int(dataset[s].edge_type.max()) for s in
                  ('train', 'valid', 'test'))
    assert dataset.num_relations == all_rel + 1
    assert dataset.relation_vocab.is_implicit


def test_int32_arrays(tmp_path):
    _, arrays = _write_fixture(str(tmp_path), dtype=np.int32)
    dataset = load_ogb_wikikg2(str(tmp_path))
    assert dataset.train.edge_index.dtype == torch.long
    assert dataset.test.tail_neg.dtype == torch.int32
    assert dataset.test.tail_neg.tolist() == arrays['test'][
        'tail_neg'].tolist()


def test_split_dict_shortcut(ogb_root):
    root, folder, arrays = ogb_root
    split_dir = osp.join(folder, 'split', 'time')
    combined = {
        s: torch.load(osp.join(split_dir, f'{s}.pt'), weights_only=False)
        for s in ('train', 'valid', 'test')
    }
    combined['train']['head'] = combined['train']['head'][::-1].copy()
    torch.save(combined, osp.join(split_dir, 'split_dict.pt'))
    dataset = load_ogb_wikikg2(root)
    assert dataset.train.edge_index[0].tolist() == arrays['train'][
        'head'][::-1].tolist()


def test_missing_files(ogb_root, tmp_path):
    root, folder, _ = ogb_root
    with pytest.raises(FileNotFoundError, match='ogbl_wikikg2'):
        load_ogb_wikikg2(str(tmp_path / 'nowhere'))
    with pytest.raises(FileNotFoundError, match="split.other"):
        load_ogb_wikikg2(root, split='other')

    os.remove(osp.join(folder, 'mapping', 'nodeidx2entityid.csv.gz'))
    with pytest.raises(FileNotFoundError, match='nodeidx2entityid.csv.gz'):
        load_ogb_wikikg2(root, entity_names=True)
    assert load_ogb_wikikg2(root).entity_vocab.is_implicit

    test_pt = osp.join(folder, 'split', 'time', 'test.pt')
    os.remove(test_pt)
    with pytest.raises(FileNotFoundError) as info:
        load_ogb_wikikg2(root)
    assert test_pt in str(info.value)


def test_bad_content(ogb_root):
    root, folder, _ = ogb_root
    valid_pt = osp.join(folder, 'split', 'time', 'valid.pt')
    d = torch.load(valid_pt, weights_only=False)
    del d['tail_neg']
    torch.save(d, valid_pt)
    with pytest.raises(KeyError, match='tail_neg'):
        load_ogb_wikikg2(root)
    assert 'tail_neg' not in load_ogb_wikikg2(root, with_negatives=False).valid

    _write_csv_gz(osp.join(folder, 'raw', 'num-node-list.csv.gz'), ['20'])
    with pytest.raises(ValueError, match='out of range'):
        load_ogb_wikikg2(root, with_negatives=False)


def test_streams_without_torch_load(ogb_root, monkeypatch):
    root, folder, arrays = ogb_root

    def no_torch_load(*args, **kwargs):
        raise AssertionError('numpy-only split files must be streamed')

    empty = np.zeros(0, dtype=np.int64)
    torch.save({'head': empty, 'relation': empty, 'tail': empty,
                'head_neg': empty.reshape(0, NUM_NEG),
                'tail_neg': empty.reshape(0, NUM_NEG)},
               osp.join(folder, 'split', 'time', 'test.pt'))
    monkeypatch.setattr(torch, 'load', no_torch_load)
    dataset = load_ogb_wikikg2(root)
    assert torch.equal(dataset.valid.head_neg,
                       torch.from_numpy(arrays['valid']['head_neg']))
    assert dataset.test.edge_index.shape == (2, 0)
    assert dataset.test.tail_neg.shape == (0, NUM_NEG)


@pytest.mark.parametrize('variant', ['legacy', 'tensors', 'other_global'])
def test_falls_back_to_torch_load(ogb_root, variant):
    root, folder, arrays = ogb_root
    path = osp.join(folder, 'split', 'time', 'valid.pt')
    d = dict(arrays['valid'])
    kwargs = {}
    if variant == 'legacy':
        kwargs['_use_new_zipfile_serialization'] = False
    elif variant == 'tensors':
        d = {k: torch.from_numpy(v) for k, v in d.items()}
    else:
        d['note'] = {'a set', 'is not an array'}
    torch.save(d, path, **kwargs)
    dataset = load_ogb_wikikg2(root)
    assert dataset.valid.edge_index[0].tolist() == arrays['valid'][
        'head'].tolist()
    assert torch.equal(dataset.valid.tail_neg,
                       torch.from_numpy(arrays['valid']['tail_neg']))


def test_bad_content_is_a_user_input_error(ogb_root):
    root, folder, _ = ogb_root
    valid_pt = osp.join(folder, 'split', 'time', 'valid.pt')
    d = torch.load(valid_pt, weights_only=False)
    del d['tail_neg']
    torch.save(d, valid_pt)
    # Still a KeyError for callers that catch one, and a UserInputError
    # (so the command line prints it without a traceback).
    with pytest.raises(OGBFormatError, match="has no 'tail_neg' entry") \
            as info:
        load_ogb_wikikg2(root)
    assert isinstance(info.value, KeyError)
    assert isinstance(info.value, UserInputError)
    assert str(info.value).startswith(f"'{valid_pt}' has no")
    d['tail_neg'] = d['head_neg'].astype(np.float32)
    torch.save(d, valid_pt)
    with pytest.raises(TypeError, match="'tail_neg' in .* must hold integer"):
        load_ogb_wikikg2(root)


@pytest.mark.parametrize('keep', [0.5, 40])
def test_truncated_split_file(ogb_root, keep):
    root, folder, _ = ogb_root
    test_pt = osp.join(folder, 'split', 'time', 'test.pt')
    d = torch.load(test_pt, weights_only=False)
    torch.save(d, test_pt, _use_new_zipfile_serialization=False)
    with open(test_pt, 'rb') as f:
        data = f.read()
    with open(test_pt, 'wb') as f:
        f.write(data[:int(keep * len(data)) if keep < 1 else keep])
    with pytest.raises(OGBFormatError, match=f"'{test_pt}' is not a readable "
                       f"OGB split file: truncated or corrupt"):
        load_ogb_wikikg2(root)


def test_truncated_zip_split_file_and_text(ogb_root):
    root, folder, _ = ogb_root
    test_pt = osp.join(folder, 'split', 'time', 'test.pt')
    with open(test_pt, 'rb') as f:
        data = f.read()
    with open(test_pt, 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(OGBFormatError, match='is not an OGB split file'):
        load_ogb_wikikg2(root)
    with open(test_pt, 'w') as f:
        f.write('head,relation,tail\n')
    with pytest.raises(OGBFormatError, match=r'not a torch file'):
        load_ogb_wikikg2(root)


def test_unreadable_gzip_files(ogb_root):
    root, folder, _ = ogb_root
    num_nodes = osp.join(folder, 'raw', 'num-node-list.csv.gz')
    with open(num_nodes, 'wb') as f:
        f.write(b'not gzip')
    with pytest.raises(OGBFormatError, match='is not a readable gzip text '
                       'file'):
        load_ogb_wikikg2(root)
    os.remove(num_nodes)
    mapping = osp.join(folder, 'mapping', 'reltype2relid.csv.gz')
    with open(mapping, 'wb') as f:
        f.write(gzip.compress(b'reltype,rel id\n0,P31\n1,P\xff32\n'))
    with pytest.raises(OGBFormatError, match='reltype2relid.csv.gz.* is not '
                       'a readable gzip text file'):
        load_ogb_wikikg2(root)


def test_negative_ids(ogb_root):
    root, folder, _ = ogb_root
    train_pt = osp.join(folder, 'split', 'time', 'train.pt')
    d = torch.load(train_pt, weights_only=False)
    d['relation'][3] = -2
    torch.save(d, train_pt)
    with pytest.raises(OGBFormatError, match="negative relation id in "
                       "'relation' of split 'train'"):
        load_ogb_wikikg2(root)


# int32 / memory-mapped negatives, streaming, the fixture writer ############

def test_streaming_matches_plain_unpickling(ogb_root, monkeypatch):
    import torch_geometric_unlearn.datasets.ogb as ogb
    root, _, arrays = ogb_root
    monkeypatch.setattr(ogb, 'STREAM_MIN_BYTES', 1 << 40)  # no streaming
    plain = load_ogb_wikikg2(root, neg_dtype=torch.long)
    # Every payload streamed, in 7-byte reads: UTF-8 sequences and int64
    # values split across chunks.
    monkeypatch.setattr(ogb, 'STREAM_MIN_BYTES', 1)
    monkeypatch.setattr(ogb, 'STREAM_CHUNK_BYTES', 7)
    streamed = load_ogb_wikikg2(root, neg_dtype=torch.long)
    for s in ('train', 'valid', 'test'):
        assert torch.equal(streamed[s].edge_index, plain[s].edge_index)
        assert torch.equal(streamed[s].edge_type, plain[s].edge_type)
        assert streamed[s].edge_index[0].tolist() == arrays[s][
            'head'].tolist()
    for key in ('head_neg', 'tail_neg'):
        assert plain.test[key].dtype == torch.long
        assert torch.equal(streamed.test[key], plain.test[key])
        assert streamed.test[key].tolist() == arrays['test'][key].tolist()


def test_neg_dtype_and_mmap(ogb_root, tmp_path):
    root, folder, arrays = ogb_root
    cache = str(tmp_path / 'negatives')
    mapped = load_ogb_wikikg2(root, mmap_dir=cache)
    wide = load_ogb_wikikg2(root, neg_dtype=torch.long)
    assert mapped.meta['mmap_dir'] == cache
    for s in ('valid', 'test'):
        for key in ('head_neg', 'tail_neg'):
            t = mapped[s][key]
            assert t.dtype == torch.int32 and wide[s][key].dtype == torch.long
            assert t.tolist() == arrays[s][key].tolist()
            on_disk = np.load(osp.join(cache, f'{s}.{key}.npy'),
                              mmap_mode='r')
            assert on_disk.dtype == np.int32
            assert np.array_equal(on_disk, arrays[s][key])
    # Copy-on-write: writing into the tensor leaves the cache as it was.
    mapped.test.tail_neg[0, 0] = 1
    again = load_ogb_wikikg2(root, mmap_dir=cache)
    assert again.test.tail_neg.tolist() == arrays['test'][
        'tail_neg'].tolist()


def test_mmap_cache_reused_then_refreshed(ogb_root, tmp_path):
    root, folder, arrays = ogb_root
    cache = str(tmp_path / 'negatives')
    load_ogb_wikikg2(root, mmap_dir=cache)
    path = osp.join(cache, 'valid.head_neg.npy')
    marked = np.load(path)
    marked[:] = 5
    np.save(path, marked)  # a reused cache is read, not rewritten
    assert bool((load_ogb_wikikg2(root, mmap_dir=cache).valid.head_neg
                 == 5).all())
    # A changed split file invalidates its entries.
    valid_pt = osp.join(folder, 'split', 'time', 'valid.pt')
    d = torch.load(valid_pt, weights_only=False)
    torch.save(d, valid_pt)
    st = os.stat(valid_pt)
    os.utime(valid_pt, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    fresh = load_ogb_wikikg2(root, mmap_dir=cache)
    assert fresh.valid.head_neg.tolist() == arrays['valid'][
        'head_neg'].tolist()


def test_neg_dtype_errors(ogb_root, tmp_path):
    root, folder, _ = ogb_root
    with pytest.raises(ValueError, match='neg_dtype'):
        load_ogb_wikikg2(root, neg_dtype=torch.float32)
    a_file = tmp_path / 'file'
    a_file.write_text('x')
    with pytest.raises(NotADirectoryError, match='mmap_dir'):
        load_ogb_wikikg2(root, mmap_dir=str(a_file))
    test_pt = osp.join(folder, 'split', 'time', 'test.pt')
    d = torch.load(test_pt, weights_only=False)
    d['head_neg'] = d['head_neg'] + 2**31
    torch.save(d, test_pt)
    with pytest.raises(OGBFormatError, match='int32 range.*neg_dtype'):
        load_ogb_wikikg2(root)
    with pytest.raises(OGBFormatError, match='out of range'):
        load_ogb_wikikg2(root, neg_dtype=torch.long)


def test_evaluate_ogb_int32_mmap_negatives(ogb_root, tmp_path):
    from torch_geometric_unlearn.kge import (LinkPredictionEvaluator,
                                             load_kge_model)
    root, _, _ = ogb_root
    mapped = load_ogb_wikikg2(root, mmap_dir=str(tmp_path / 'mm'))
    torch.manual_seed(0)
    model = load_kge_model('distmult', NUM_NODES, NUM_RELS, 8)
    evaluator = LinkPredictionEvaluator(NUM_NODES, NUM_RELS, batch_size=4)
    test = mapped.test
    got = evaluator.evaluate_ogb(model, test, test.head_neg, test.tail_neg,
                                 return_ranks=True)
    wide = evaluator.evaluate_ogb(model, test, test.head_neg.long(),
                                  test.tail_neg.long(), return_ranks=True)
    assert torch.equal(got['tail_ranks'], wide['tail_ranks'])
    assert torch.equal(got['head_ranks'], wide['head_ranks'])
    # Brute force: rank of the true tail among its given negatives.
    h, t, r = test.edge_index[0], test.edge_index[1], test.edge_type
    k = test.tail_neg.size(1)
    with torch.no_grad():
        pos = model(h, r, t)
        neg = model(h[:, None].expand(-1, k).reshape(-1),
                    r[:, None].expand(-1, k).reshape(-1),
                    test.tail_neg.long().reshape(-1)).view(-1, k)
    expected = 1 + 0.5 * ((neg > pos[:, None]).sum(1) +
                          (neg >= pos[:, None]).sum(1)).double()
    assert torch.allclose(got['tail_ranks'], expected)


def test_write_ogb_fixture_round_trip(tmp_path):
    from torch_geometric_unlearn.datasets import write_ogb_fixture
    folder = write_ogb_fixture(str(tmp_path / 'a'), num_entities=50,
                               num_relations=4, num_train=300, num_valid=11,
                               num_test=13, num_neg=6, seed=2)
    assert folder == osp.join(str(tmp_path / 'a'), 'ogbl_wikikg2')
    ds = load_ogb_wikikg2(str(tmp_path / 'a'), entity_names=True)
    assert (ds.num_entities, ds.num_relations) == (50, 4)
    assert ds.entity_vocab.name(0) == 'Q1'
    assert ds.relation_vocab.to_list() == ['P1', 'P2', 'P3', 'P4']
    for s, n in (('train', 300), ('valid', 11), ('test', 13)):
        raw = torch.load(osp.join(folder, 'split', 'time', f'{s}.pt'),
                         weights_only=False)  # what OGB itself reads
        assert raw['head'].dtype == np.int64 and raw['head'].shape == (n, )
        assert ds[s].edge_index[0].tolist() == raw['head'].tolist()
        assert ds[s].edge_index[1].tolist() == raw['tail'].tolist()
        assert ds[s].edge_type.tolist() == raw['relation'].tolist()
        if s != 'train':
            assert raw['tail_neg'].shape == (n, 6)
            assert ds[s].tail_neg.tolist() == raw['tail_neg'].tolist()
    # Seeded: the same arguments give the same files, another seed others.
    write_ogb_fixture(str(tmp_path / 'b'), 50, 4, 300, 11, 13, 6, seed=2)
    write_ogb_fixture(str(tmp_path / 'c'), 50, 4, 300, 11, 13, 6, seed=3)
    same = load_ogb_wikikg2(str(tmp_path / 'b'))
    other = load_ogb_wikikg2(str(tmp_path / 'c'))
    assert torch.equal(same.train.edge_index, ds.train.edge_index)
    assert torch.equal(same.test.head_neg, ds.test.head_neg)
    assert not torch.equal(other.train.edge_index, ds.train.edge_index)


def test_write_ogb_fixture_skew_and_errors(tmp_path):
    from torch_geometric_unlearn.datasets import write_ogb_fixture
    write_ogb_fixture(str(tmp_path / 'u'), 500, 3, 5000, 0, 0, 0, seed=0)
    write_ogb_fixture(str(tmp_path / 's'), 500, 3, 5000, 0, 0, 0, seed=0,
                      skew=3.0)
    uniform = load_ogb_wikikg2(str(tmp_path / 'u'), with_negatives=False)
    skewed = load_ogb_wikikg2(str(tmp_path / 's'), with_negatives=False)
    deg_u = torch.bincount(uniform.train.edge_index.view(-1), minlength=500)
    deg_s = torch.bincount(skewed.train.edge_index.view(-1), minlength=500)
    assert int(deg_s.max()) > 5 * int(deg_u.max())  # hubs
    assert uniform.valid.edge_index.shape == (2, 0)
    with pytest.raises(ValueError, match='num_train'):
        write_ogb_fixture(str(tmp_path / 'x'), 10, 2, -1, 1, 1, 1)
    with pytest.raises(ValueError, match='skew'):
        write_ogb_fixture(str(tmp_path / 'x'), 10, 2, 5, 1, 1, 1, skew=0.5)
