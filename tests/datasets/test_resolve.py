import pytest
import torch

from torch_geometric_unlearn.datasets import (KGDataset, UserInputError,
                                              load_dataset, make_synthetic_kg,
                                              save_tsv_kg, to_triples)
from torch_geometric_unlearn.datasets.resolve import (is_torch_file,
                                                      load_saved_dataset)


def test_synthetic_specs():
    kg = load_dataset('synthetic:entities=120,relations=10,triples=1500,'
                      'seed=2')
    same = make_synthetic_kg(num_entities=120, num_relations=10,
                             num_triples=1500, seed=2)
    assert torch.equal(kg.all_triples(), same.all_triples())
    assert load_dataset('synthetic-tiny').num_entities == 200


def test_saved_dataset_and_directory(tmp_path, small_kg):
    small_kg.save(str(tmp_path / 'kg.pt'))
    kg = load_dataset(str(tmp_path / 'kg.pt'))
    assert torch.equal(kg.all_triples(), small_kg.all_triples())
    save_tsv_kg(small_kg, str(tmp_path / 'tsv'))
    kg = load_dataset(str(tmp_path / 'tsv'))
    assert kg.num_entities == small_kg.num_entities
    assert kg.decode(to_triples(kg.test)) == \
        small_kg.decode(to_triples(small_kg.test))
    # With vocabularies, a directory is encoded with them ...
    kg = load_dataset(str(tmp_path / 'tsv'),
                      entity_vocab=small_kg.entity_vocab,
                      relation_vocab=small_kg.relation_vocab)
    assert torch.equal(kg.all_triples(), small_kg.all_triples())
    # ... while a saved dataset keeps its own ids.
    kg = load_dataset(str(tmp_path / 'kg.pt'), entity_vocab=['x'])
    assert kg.num_entities == small_kg.num_entities


def test_ogb_prefix_reads_a_root(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_dataset('ogb:' + str(tmp_path / 'nothing'))


@pytest.mark.parametrize('spec,message', [
    ('/no/such/place', "'/no/such/place' is neither a directory"),
    ('synthetic-huge', 'unknown synthetic preset'),
    ('synthetic:entities=x', "bad synthetic specification"),
    ('synthetic:entities=5', "'num_entities' must be at least 10"),
    ('synthetic:relations=4', "'num_relations' >= 8"),
])
def test_bad_specs(spec, message):
    with pytest.raises(UserInputError, match=message):
        load_dataset(spec)


def test_files_that_are_no_dataset(tmp_path):
    text = tmp_path / 'kg.pt'
    text.write_text('hello')
    assert not is_torch_file(str(text))
    with pytest.raises(UserInputError, match='not a torch file'):
        load_dataset(str(text))
    other = tmp_path / 'other.pt'
    torch.save({'format': 'something else'}, str(other))
    assert is_torch_file(str(other))
    with pytest.raises(UserInputError, match='is not a dataset saved with'):
        load_dataset(str(other))
    (tmp_path / 'tsv').mkdir()
    (tmp_path / 'tsv' / 'train.tsv').write_text('a\tr\n')
    with pytest.raises(UserInputError, match='expected 3 tab-separated'):
        load_dataset(str(tmp_path / 'tsv'))


def test_a_dataset_loads_as_a_kgdataset(small_kg, tmp_path):
    small_kg.save(str(tmp_path / 'kg.pt'))
    assert isinstance(load_dataset(str(tmp_path / 'kg.pt')), KGDataset)


@pytest.fixture
def saved(small_kg, tmp_path):
    path = tmp_path / 'kg.pt'
    small_kg.save(str(path))
    return path


def _legacy(saved, tmp_path):
    state = torch.load(str(saved), weights_only=True)
    path = tmp_path / 'legacy.pt'
    torch.save(state, str(path), _use_new_zipfile_serialization=False)
    assert load_dataset(str(path)).num_entities == 300
    return path.read_bytes()


@pytest.mark.parametrize('cut', [300, 3000, -10])
def test_truncated_zip_dataset(saved, tmp_path, cut):
    data = saved.read_bytes()
    bad = tmp_path / 'cut.pt'
    bad.write_bytes(data[:cut])
    with pytest.raises(UserInputError, match=r"'.*cut\.pt' is not a dataset "
                       r"saved with KGDataset\.save \(not a torch file: it "
                       r"starts like a zip archive .* truncated or corrupt"):
        load_dataset(str(bad))


@pytest.mark.parametrize('cut,why', [
    (2, 'EOFError'), (6, 'EOFError'), (200, 'struct.error'),
    (0.5, 'RuntimeError: unexpected EOF'),
])
def test_truncated_legacy_dataset(saved, tmp_path, cut, why):
    data = _legacy(saved, tmp_path)
    bad = tmp_path / 'cut.pt'
    bad.write_bytes(data[:int(cut * len(data)) if cut < 1 else cut])
    with pytest.raises(UserInputError, match=r'KGDataset\.save: the torch '
                       r'file is truncated or corrupt \(' + why):
        load_dataset(str(bad))


def test_corrupt_bytes(saved, tmp_path):
    data = bytearray(saved.read_bytes())
    data[800:1600] = b'\0' * 800
    bad = tmp_path / 'bad.pt'
    bad.write_bytes(bytes(data))
    with pytest.raises(UserInputError, match='truncated or corrupt'):
        load_dataset(str(bad))
    # A pickle that refers to an unknown memo entry: KeyError inside torch.
    bad.write_bytes(b'\x80\x02hello')
    with pytest.raises(UserInputError, match=r'truncated or corrupt '
                       r'\(KeyError: 101\)'):
        load_dataset(str(bad))


@pytest.mark.parametrize('content,words', [
    (b'', 'the file is empty'),
    (b'\x80', 'binary data of 1 bytes'),
    (b'hello world\n', "a text file whose first line is 'hello world'"),
    (b'i am text', "a text file whose first line is 'i am text'"),
    (b'\xef\xbb\xbfa\tr\tb\n', r"first line is 'a\\tr\\tb' \(triples: give "
     r'a TSV knowledge graph as the directory'),
    (b'\x1f\x8b\x08\x00', 'it is a gzip file'),
    (b'\x00\x01\x02', 'binary data of 3 bytes'),
])
def test_what_a_file_that_is_no_torch_file_holds(tmp_path, content, words):
    path = tmp_path / 'kg.txt'
    path.write_bytes(content)
    assert not is_torch_file(str(path))
    with pytest.raises(UserInputError, match=r"'.*kg\.txt' is not a dataset "
                       r'saved with KGDataset\.save \(not a torch file: .*'
                       + words):
        load_dataset(str(path))


class Stranger:
    pass


def test_torch_files_that_are_no_dataset(small_kg, tmp_path):
    path = tmp_path / 'x.pt'
    torch.save({'a': Stranger()}, str(path))
    with pytest.raises(UserInputError, match='a torch file that holds other '
                       r'Python objects: .*Stranger\)'):
        load_dataset(str(path))
    torch.save([1, 2], str(path))
    with pytest.raises(UserInputError, match='a torch file without its '
                       'format tag'):
        load_dataset(str(path))
    torch.save({'model': {}, 'model_name': 'distmult', 'model_kwargs': {}},
               str(path))
    with pytest.raises(UserInputError, match=r'\(a KGE checkpoint without '
                       'its format tag'):
        load_dataset(str(path))


def _damaged(saved, tmp_path, edit):
    state = torch.load(str(saved), weights_only=True)
    edit(state)
    path = tmp_path / 'damaged.pt'
    torch.save(state, str(path))
    return str(path)


@pytest.mark.parametrize('edit,message', [
    (lambda s: s.pop('test'), "damaged saved dataset: no 'test'"),
    (lambda s: s['train'].pop('edge_type'),
     "split 'train' has no edge_index/edge_type"),
    (lambda s: s['valid'].update(edge_index=s['valid']['edge_index'][:1]),
     r"'valid\.edge_index' has shape \[1, "),
    (lambda s: s['train'].update(edge_type=s['train']['edge_type'].float()),
     "'train.edge_type' is no integer tensor"),
    (lambda s: s['train']['edge_index'].__setitem__((0, 0), 300),
     r"'train\.edge_index' holds ids outside \[0, 299\]"),
    (lambda s: s['test']['edge_type'].__setitem__(0, -1),
     r"'test\.edge_type' holds ids outside \[0, 11\]"),
    (lambda s: s.update(num_nodes=301), '300 entity names for 301 entity'),
    (lambda s: s.update(num_relations='x'), 'damaged saved dataset '
     r'\(ValueError'),
])
def test_damaged_saved_dataset(saved, tmp_path, edit, message):
    path = _damaged(saved, tmp_path, edit)
    with pytest.raises(UserInputError, match=message):
        load_dataset(path)


def test_saved_dataset_round_trip_keeps_everything(small_kg, saved):
    kg = load_saved_dataset(str(saved))
    for split in ('train', 'valid', 'test'):
        assert torch.equal(kg[split].edge_index, small_kg[split].edge_index)
        assert torch.equal(kg[split].edge_type, small_kg[split].edge_type)
    assert kg.entity_vocab == small_kg.entity_vocab
    assert kg.relation_vocab == small_kg.relation_vocab
    assert kg.name == small_kg.name
    assert kg.meta['config'] == small_kg.meta['config']
    assert torch.equal(kg.meta['cluster'], small_kg.meta['cluster'])
