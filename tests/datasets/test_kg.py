import pytest
import torch

from torch_geometric_unlearn.datasets import (KGDataset, Vocabulary,
                                              degree_stats, make_kg,
                                              to_triples, triple_keys)


def test_vocabulary_explicit_round_trip():
    v = Vocabulary(['a', 'b', 'c'])
    assert len(v) == 3 and not v.is_implicit
    assert v.index('b') == 1 and v.name(2) == 'c'
    assert v.names(v.lookup(['c', 'a'])) == ['c', 'a']
    assert 'a' in v and 'z' not in v
    with pytest.raises(KeyError):
        v.index('z')
    with pytest.raises(IndexError):
        v.name(3)
    with pytest.raises(ValueError, match='unique'):
        Vocabulary(['a', 'a'])


def test_vocabulary_implicit():
    v = Vocabulary(size=5, prefix='e')
    assert v.is_implicit and v.name(4) == 'e4' and v.index('e3') == 3
    with pytest.raises(KeyError):
        v.index('e5')
    with pytest.raises(KeyError):
        v.index('x1')
    assert v.to_list() == ['e0', 'e1', 'e2', 'e3', 'e4']
    assert Vocabulary.from_state(v.state()) == v


def test_make_kg_validates():
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    et = torch.tensor([0, 1, 1])
    d = make_kg(ei, et, 3, 2)
    assert d.num_nodes == 3 and d.num_relations == 2
    with pytest.raises(ValueError, match='shape'):
        make_kg(ei.t(), et, 3, 2)
    with pytest.raises(ValueError, match='shape'):
        make_kg(ei, et[:1], 3, 2)
    with pytest.raises(ValueError, match='entity ids'):
        make_kg(ei, et, 2, 2)
    with pytest.raises(ValueError, match='relation ids'):
        make_kg(ei, et, 3, 1)
    with pytest.raises(TypeError, match='integer'):
        make_kg(ei.float(), et, 3, 2)


def test_triple_keys_unique_and_invertible():
    n, R = 7, 3
    h, r, t = torch.meshgrid(torch.arange(n), torch.arange(R),
                             torch.arange(n), indexing='ij')
    keys = triple_keys(h.reshape(-1), r.reshape(-1), t.reshape(-1), n, R)
    assert keys.unique().numel() == keys.numel() == n * R * n
    assert torch.equal(keys % n, t.reshape(-1))


def test_dataset_save_load_round_trip(tmp_path, small_kg):
    path = tmp_path / 'kg.pt'
    small_kg.save(str(path))
    back = KGDataset.load(str(path))
    for split in ('train', 'valid', 'test'):
        assert torch.equal(back[split].edge_index, small_kg[split].edge_index)
        assert torch.equal(back[split].edge_type, small_kg[split].edge_type)
    assert back.entity_vocab == small_kg.entity_vocab
    assert back.relation_vocab == small_kg.relation_vocab
    assert back.meta['patterns'] == small_kg.meta['patterns']
    assert back['val'] is back.valid
    with pytest.raises(KeyError):
        back['nope']


def test_dataset_checks_split_sizes():
    a = make_kg(torch.tensor([[0], [1]]), torch.tensor([0]), 3, 2)
    b = make_kg(torch.tensor([[0], [1]]), torch.tensor([0]), 4, 2)
    with pytest.raises(ValueError, match='entities'):
        KGDataset(a, b)
    with pytest.raises(ValueError, match='vocabulary'):
        KGDataset(a, entity_vocab=Vocabulary(['x']))


def test_encode_decode_and_degree():
    d = make_kg(torch.tensor([[0, 0, 2], [1, 2, 1]]), torch.tensor([0, 1, 0]),
                4, 2)
    ds = KGDataset(d, entity_vocab=Vocabulary(list('abcd')),
                   relation_vocab=Vocabulary(['likes', 'knows']))
    rows = ds.encode([('a', 'knows', 'c')])
    assert rows.tolist() == [[0, 1, 2]]
    assert ds.decode(to_triples(d)) == [('a', 'likes', 'b'),
                                        ('a', 'knows', 'c'),
                                        ('c', 'likes', 'b')]
    stats = degree_stats(d)
    assert stats['max'] == 2 and stats['isolated'] == 1
    assert stats['mean'] == pytest.approx(6 / 4)
