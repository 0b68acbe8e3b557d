import gzip

import pytest
import torch

from torch_geometric_unlearn.datasets import (UnknownNameError,
                                              UserInputError, Vocabulary,
                                              load_tsv_kg, save_tsv_kg,
                                              to_triples)

from torch_geometric_unlearn.datasets.tsv import find_split_file

from tests.utils import shared_dataset


def _write(path, rows, gz=False):
    text = ''.join('\t'.join(r) + '\n' for r in rows)
    if gz:
        with gzip.open(path, 'wt') as f:
            f.write(text)
    else:
        path.write_text(text)


def test_load_tsv_small(tmp_path):
    _write(tmp_path / 'train.tsv', [('a', 'r1', 'b'), ('b', 'r2', 'c')])
    _write(tmp_path / 'valid.tsv.gz', [('a', 'r2', 'c')], gz=True)
    _write(tmp_path / 'test.txt', [('c', 'r1', 'd')])  # 'd' only in test
    ds = load_tsv_kg(str(tmp_path))
    assert ds.num_entities == 4 and ds.num_relations == 2
    assert ds.entity_vocab.to_list() == ['a', 'b', 'c', 'd']
    assert to_triples(ds.train).tolist() == [[0, 0, 1], [1, 1, 2]]
    assert to_triples(ds.valid).tolist() == [[0, 1, 2]]
    assert to_triples(ds.test).tolist() == [[2, 0, 3]]
    assert ds.decode(to_triples(ds.test)) == [('c', 'r1', 'd')]


def test_load_tsv_crlf_and_sorted(tmp_path):
    (tmp_path / 'train.tsv').write_bytes(b'z\tr\ty\r\ny\tr\tx\r\n')
    ds = load_tsv_kg(str(tmp_path), vocab_order='sorted')
    assert ds.entity_vocab.to_list() == ['x', 'y', 'z']  # no '\r' suffix
    assert ds.valid.edge_index.size(1) == 0


def test_load_tsv_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_tsv_kg(str(tmp_path / 'missing'))
    with pytest.raises(FileNotFoundError, match='training file'):
        load_tsv_kg(str(tmp_path))
    (tmp_path / 'train.tsv').write_text('a\tb\n')
    with pytest.raises(ValueError, match='3 tab-separated'):
        load_tsv_kg(str(tmp_path))


def test_save_tsv_round_trip(tmp_path, small_kg):
    save_tsv_kg(small_kg, str(tmp_path / 'kg'))
    back = load_tsv_kg(str(tmp_path / 'kg'))
    for split in ('train', 'valid', 'test'):
        a = small_kg.decode(to_triples(small_kg[split]))
        b = back.decode(to_triples(back[split]))
        assert a == b


def test_fb15k237_counts():
    ds = load_tsv_kg(shared_dataset('fb15k-237'))
    assert ds.num_entities == 14_541
    assert ds.num_relations == 237
    assert ds.train.edge_index.size(1) == 272_115
    assert ds.valid.edge_index.size(1) == 17_535
    assert ds.test.edge_index.size(1) == 20_466
    # 14,505 entities occur in train.
    assert int(torch.unique(ds.train.edge_index).numel()) == 14_505
    # Vocabulary round trip on the real names.
    rows = to_triples(ds.test)[:100]
    assert torch.equal(ds.encode(ds.decode(rows)), rows)


def test_codex_s_counts():
    ds = load_tsv_kg(shared_dataset('codex-s'))
    assert ds.num_entities == 2_034
    assert ds.num_relations == 42
    assert ds.train.edge_index.size(1) == 32_888


def test_load_tsv_with_vocabularies(tmp_path):
    _write(tmp_path / 'train.tsv', [('b', 'r1', 'c'), ('c', 'r0', 'b')])
    _write(tmp_path / 'test.tsv', [('c', 'r1', 'b')])
    entities = Vocabulary(['a', 'b', 'c', 'd'])
    ds = load_tsv_kg(str(tmp_path), entity_vocab=entities,
                     relation_vocab=['r0', 'r1', 'r2'])
    # The ids and the counts are the vocabularies', not the files'.
    assert ds.num_entities == 4 and ds.num_relations == 3
    assert ds.entity_vocab is entities
    assert ds.relation_vocab.to_list() == ['r0', 'r1', 'r2']
    assert to_triples(ds.train).tolist() == [[1, 1, 2], [2, 0, 1]]
    assert to_triples(ds.test).tolist() == [[2, 1, 1]]
    assert ds.valid.num_edges == 0
    # One fixed vocabulary; the other is built from the files.
    ds = load_tsv_kg(str(tmp_path), entity_vocab=entities)
    assert ds.relation_vocab.to_list() == ['r1', 'r0']
    assert to_triples(ds.train).tolist() == [[1, 0, 2], [2, 1, 1]]
    ds = load_tsv_kg(str(tmp_path), relation_vocab=['r1', 'r0'],
                     vocab_order='sorted')
    assert ds.entity_vocab.to_list() == ['b', 'c']
    assert to_triples(ds.test).tolist() == [[1, 0, 0]]


def test_load_tsv_unknown_names(tmp_path):
    _write(tmp_path / 'train.tsv', [('a', 'r', 'b')])
    _write(tmp_path / 'test.tsv', [('a', 'r', 'b'), ('x', 'r', 'y'),
                                   ('y', 's', 'a'), ('z', 'r', 'a')])
    with pytest.raises(UnknownNameError) as info:
        load_tsv_kg(str(tmp_path), entity_vocab=['a', 'b'])
    e = info.value
    assert isinstance(e, UserInputError) and isinstance(e, ValueError)
    assert e.names == ['x', 'y', 'z'] and e.path.endswith('test.tsv')
    assert "test.tsv: 3 entity name(s) not in the given entity vocabulary " \
        "of 2 names: 'x' (line 2), 'y' (line 2), 'z' (line 4)" in str(e)
    with pytest.raises(UnknownNameError, match=r"'s' \(line 3\)"):
        load_tsv_kg(str(tmp_path), relation_vocab=['r'])


def test_fb15k237_test_subset_with_the_full_vocabulary(tmp_path):
    import shutil

    root = shared_dataset('fb15k-237')
    full = load_tsv_kg(root)
    for split in ('train', 'valid'):
        shutil.copy(find_split_file(root, split), tmp_path)
    with gzip.open(find_split_file(root, 'test'), 'rt',
                   encoding='utf-8') as f:
        lines = f.read().splitlines()[:2000]
    (tmp_path / 'test.txt').write_text('\n'.join(lines) + '\n')
    assert load_tsv_kg(str(tmp_path)).num_entities < 14_541
    ds = load_tsv_kg(str(tmp_path), entity_vocab=full.entity_vocab,
                     relation_vocab=full.relation_vocab)
    assert ds.num_entities == 14_541 and ds.num_relations == 237
    assert ds.test.num_edges == 2000
    assert torch.equal(ds.test.edge_index, full.test.edge_index[:, :2000])
    assert torch.equal(ds.train.edge_type, full.train.edge_type)


def test_load_tsv_bom_is_dropped(tmp_path):
    (tmp_path / 'train.tsv').write_bytes(b'\xef\xbb\xbfa\tr\tb\nb\tr\tc\n')
    ds = load_tsv_kg(str(tmp_path))
    assert ds.entity_vocab.to_list() == ['a', 'b', 'c']


@pytest.mark.parametrize('name,content,message', [
    ('train.tsv', b'a\tr\tb\nb\tr\t\xe9\n',
     r'train\.tsv:2: not UTF-8 text \(byte 0xe9 at byte 5 of the line'),
    ('train.tsv', b'\xff\xfea\x00', r'train\.tsv: the file is UTF-16 text'),
    ('train.tsv.gz', gzip.compress(b'a\tr\tb\n' * 50)[:-12],
     r'train\.tsv\.gz: not a readable gzip file, truncated or corrupt'),
    ('train.tsv.gz', b'not gzip at all',
     r'train\.tsv\.gz: not a readable gzip file'),
])
def test_load_tsv_unreadable(tmp_path, name, content, message):
    (tmp_path / name).write_bytes(content)
    with pytest.raises(UserInputError, match=message):
        load_tsv_kg(str(tmp_path))
