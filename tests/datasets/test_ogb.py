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
                assert data[key].dtype == torch.long
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
    assert dataset.test.tail_neg.dtype == torch.long
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
