import gzip

import pytest
import torch

from torch_geometric_unlearn.datasets import (load_tsv_kg, save_tsv_kg,
                                              to_triples)

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
