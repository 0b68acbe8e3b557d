import pytest
import torch

from torch_geometric_unlearn.datasets import (KGDataset, UserInputError,
                                              load_dataset, make_synthetic_kg,
                                              save_tsv_kg, to_triples)
from torch_geometric_unlearn.datasets.resolve import is_torch_file


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
