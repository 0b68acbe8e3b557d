import pytest
import torch

from torch_geometric_unlearn.datasets import (DataMismatchError, KGDataset,
                                              UnknownNameError,
                                              UserInputError, Vocabulary,
                                              check_checkpoint_data,
                                              check_vocabularies,
                                              checkpoint_vocabularies,
                                              load_checkpoint_and_data,
                                              load_kge_checkpoint,
                                              save_tsv_kg, to_triples)
from torch_geometric_unlearn.kge import load_kge_model, save_checkpoint


@pytest.fixture
def checkpoint(tmp_path, small_kg):
    torch.manual_seed(0)
    model = load_kge_model('distmult', small_kg.num_entities,
                           small_kg.num_relations, 8)
    path = str(tmp_path / 'm.pt')
    save_checkpoint(path, model, entity_vocab=small_kg.entity_vocab,
                    relation_vocab=small_kg.relation_vocab)
    return path, model


def test_load_kge_checkpoint(checkpoint, small_kg):
    path, model = checkpoint
    ckpt = load_kge_checkpoint(path, small_kg)
    assert torch.equal(ckpt['module'].node_emb.weight, model.node_emb.weight)
    entities, relations = checkpoint_vocabularies(ckpt)
    assert entities == small_kg.entity_vocab
    assert relations.to_list() == small_kg.relation_vocab.to_list()
    assert checkpoint_vocabularies({'entity_vocab': None}) == (None, None)


def test_load_kge_checkpoint_errors(tmp_path, small_kg):
    with pytest.raises(FileNotFoundError, match='does not exist'):
        load_kge_checkpoint(str(tmp_path / 'missing.pt'))
    (tmp_path / 'text.pt').write_text('hello')
    with pytest.raises(UserInputError, match='is not a KGE checkpoint'):
        load_kge_checkpoint(str(tmp_path / 'text.pt'))
    small_kg.save(str(tmp_path / 'kg.pt'))  # a dataset, no checkpoint
    with pytest.raises(UserInputError, match='is not a KGE checkpoint'):
        load_kge_checkpoint(str(tmp_path / 'kg.pt'))


def test_check_checkpoint_data(checkpoint, small_kg):
    ckpt = load_kge_checkpoint(checkpoint[0])
    check_checkpoint_data(ckpt, small_kg)
    names = small_kg.entity_vocab.to_list()
    names[250], names[251] = names[251], names[250]
    swapped = KGDataset(small_kg.train, small_kg.valid, small_kg.test,
                        entity_vocab=Vocabulary(names),
                        relation_vocab=small_kg.relation_vocab)
    with pytest.raises(DataMismatchError, match="id 250 is 'e250' in the "
                       "checkpoint and 'e251' in the data"):
        check_checkpoint_data(ckpt, swapped)
    other = load_kge_model('distmult', 299, small_kg.num_relations, 8)
    with pytest.raises(DataMismatchError, match='the checkpoint has 299 '
                       'entities and 12 relations, the data 300 and 12'):
        check_checkpoint_data(dict(ckpt, module=other), small_kg)


def test_check_vocabularies(small_kg):
    check_vocabularies(small_kg, [f'e{i}' for i in range(300)])
    check_vocabularies(small_kg, relation_vocab=small_kg.relation_vocab)
    with pytest.raises(DataMismatchError, match='the checkpoint has 3 '
                       'names, the data 300'):
        check_vocabularies(small_kg, ['e0', 'e1', 'e2'])
    with pytest.raises(DataMismatchError, match='^model.pt was trained on '
                       'other relation ids'):
        check_vocabularies(small_kg, relation_vocab=['x'] * 12,
                           what='model.pt')


def test_load_checkpoint_and_data(checkpoint, small_kg, tmp_path):
    path, model = checkpoint
    # A TSV directory whose names appear in another order than the ids, and
    # whose test file is a subset of the original.
    root = tmp_path / 'tsv'
    save_tsv_kg(small_kg, str(root), compress=False)
    lines = (root / 'test.tsv').read_text().splitlines()
    (root / 'test.tsv').write_text('\n'.join(lines[:7]) + '\n')
    ckpt, kg = load_checkpoint_and_data(path, str(root))
    assert kg.num_entities == small_kg.num_entities
    assert torch.equal(to_triples(kg.train), to_triples(small_kg.train))
    assert torch.equal(to_triples(kg.test), to_triples(small_kg.test)[:7])
    assert torch.equal(ckpt['module'].rel_emb.weight, model.rel_emb.weight)
    # Other sources must match.
    ckpt, kg = load_checkpoint_and_data(path, 'synthetic:entities=300,'
                                        'relations=12,triples=4000')
    assert kg.num_entities == 300
    with pytest.raises(DataMismatchError, match='the checkpoint has 300'):
        load_checkpoint_and_data(path, 'synthetic-tiny')
    # A name the checkpoint does not know.
    (root / 'test.tsv').write_text(lines[0] + '\nnew\tbase0\te1\n')
    with pytest.raises(UnknownNameError, match=r"test\.tsv: 1 entity name\(s"
                       r"\) not in the given entity vocabulary of 300 names: "
                       r"'new' \(line 2\); the data must use the names of "
                       r"the checkpoint") as info:
        load_checkpoint_and_data(path, str(root))
    assert info.value.names == ['new']
