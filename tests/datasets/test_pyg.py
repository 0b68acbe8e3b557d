import os
import os.path as osp

import pytest
import torch
from torch_geometric.datasets import FB15k_237, WordNet18RR

from torch_geometric_unlearn.datasets.kg import to_triples
from torch_geometric_unlearn.datasets.pyg import load_pyg_kg

# Entities appear in a different order in each split, some only in valid or
# test, and a relation ('/film/genre') only in test.
FB_RAW = {
    'train': [
        ('/m/0a', '/people/born_in', '/m/0b'),
        ('/m/0c', '/people/born_in', '/m/0a'),
        ('/m/0b', '/location/contains', '/m/0d'),
        ('/m/0d', '/people/nationality', '/m/0c'),
        ('/m/0e', '/location/contains', '/m/0a'),
        ('/m/0a', '/people/nationality', '/m/0e'),
    ],
    'valid': [
        ('/m/0f', '/people/born_in', '/m/0a'),
        ('/m/0c', '/location/contains', '/m/0b'),
    ],
    'test': [
        ('/m/0d', '/film/genre', '/m/0g'),
        ('/m/0b', '/people/born_in', '/m/0e'),
    ],
}

# Heads of a file get ids before its tails in PyG's WordNet18RR.
WN_RAW = {
    'train': [
        ('00001740', '_hypernym', '00002137'),
        ('00002137', '_derivationally_related_form', '00003553'),
        ('00004258', '_also_see', '00001740'),
        ('00003553', '_member_meronym', '00004475'),
        ('00004475', '_has_part', '00002137'),
        ('00001740', '_verb_group', '00004258'),
    ],
    'valid': [
        ('00005787', '_hypernym', '00001740'),
        ('00003553', '_synset_domain_topic_of', '00004258'),
    ],
    'test': [
        ('00002137', '_similar_to', '00006024'),
        ('00004475', '_instance_hypernym', '00005787'),
        ('00006024', '_hypernym', '00003553'),
    ],
}

FILES = {'train': 'train.txt', 'valid': 'valid.txt', 'test': 'test.txt'}


def _write_raw(root, triples):
    os.makedirs(osp.join(root, 'raw'), exist_ok=True)
    for s, rows in triples.items():
        with open(osp.join(root, 'raw', FILES[s]), 'w') as f:
            f.write(''.join('\t'.join(row) + '\n' for row in rows))


def _first_appearance(rows):
    order = {}
    for h, _, t in rows:
        order.setdefault(h, len(order))
        order.setdefault(t, len(order))
    return list(order)


def test_fb15k237_matches_pyg(tmp_path):
    root = str(tmp_path / 'FB15k-237')
    _write_raw(root, FB_RAW)
    dataset = load_pyg_kg(root, 'FB15k-237')
    assert dataset.name == 'FB15k-237'

    all_rows = [r for s in ('train', 'valid', 'test') for r in FB_RAW[s]]
    entities = _first_appearance(all_rows)
    relations = list(dict.fromkeys(r for _, r, _ in all_rows))
    assert dataset.num_entities == len(entities) == 7
    assert dataset.num_relations == len(relations) == 4
    assert dataset.entity_vocab.to_list() == entities
    assert dataset.relation_vocab.to_list() == relations

    for s, pyg_split in (('train', 'train'), ('valid', 'val'),
                         ('test', 'test')):
        data = FB15k_237(root, split=pyg_split)[0]
        ours = dataset[s]
        # The ids are exactly the ones PyG assigned ...
        assert torch.equal(ours.edge_index, data.edge_index)
        assert torch.equal(ours.edge_type, data.edge_type)
        assert ours.num_nodes == data.num_nodes
        # ... and the recovered names decode them back to the raw triples.
        assert dataset.decode(to_triples(ours)) == FB_RAW[s]


def test_fb15k237_aliases_and_force_reload(tmp_path):
    root = str(tmp_path / 'fb')
    _write_raw(root, FB_RAW)
    a = load_pyg_kg(root, 'fb15k237')
    b = load_pyg_kg(root, 'FB15K_237')
    assert a.entity_vocab == b.entity_vocab
    assert torch.equal(a.train.edge_index, b.train.edge_index)

    # Raw files replaced after processing: the names would be wrong.
    changed = dict(FB_RAW)
    changed['train'] = FB_RAW['train'][::-1]
    _write_raw(root, changed)
    with pytest.raises(RuntimeError, match='force_reload'):
        load_pyg_kg(root, 'FB15k-237')
    dataset = load_pyg_kg(root, 'FB15k-237', force_reload=True)
    assert dataset.decode(to_triples(dataset.train)) == changed['train']
    assert dataset.decode(to_triples(dataset.test)) == FB_RAW['test']


def test_wn18rr_matches_pyg(tmp_path):
    root = str(tmp_path / 'WN18RR')
    _write_raw(root, WN_RAW)
    dataset = load_pyg_kg(root, 'WN18RR')
    assert dataset.name == 'WN18RR'
    data = WordNet18RR(root)[0]

    # Relation names are PyG's fixed edge2id table, all 11 of them.
    edge2id = WordNet18RR.edge2id
    assert dataset.num_relations == len(edge2id) == 11
    for rel, idx in edge2id.items():
        assert dataset.relation_vocab.name(idx) == rel

    # Entity ids: per file, all heads first, then all tails.
    expected = {}
    for s in ('train', 'valid', 'test'):
        for e in [h for h, _, _ in WN_RAW[s]] + [t for _, _, t in WN_RAW[s]]:
            expected.setdefault(e, len(expected))
    assert dataset.entity_vocab.to_list() == list(expected)
    assert dataset.num_entities == data.num_nodes == len(expected)

    for s, mask in (('train', data.train_mask), ('valid', data.val_mask),
                    ('test', data.test_mask)):
        ours = dataset[s]
        assert torch.equal(ours.edge_index, data.edge_index[:, mask])
        assert torch.equal(ours.edge_type, data.edge_type[mask])
        assert sorted(dataset.decode(to_triples(ours))) == sorted(WN_RAW[s])
    # Spot-check one id against the raw file directly.
    h = dataset.entity_vocab.index('00004258')
    assert h == expected['00004258']
    assert ((dataset.train.edge_index[0] == h) &
            (dataset.train.edge_type == edge2id['_also_see'])).sum() == 1


def test_wn18rr_alias_and_mismatch(tmp_path):
    root = str(tmp_path / 'wn')
    _write_raw(root, WN_RAW)
    assert load_pyg_kg(root, 'wordnet18rr').num_entities == 7
    swapped = dict(WN_RAW)
    swapped['valid'] = [(t, r, h) for h, r, t in WN_RAW['valid']]
    _write_raw(root, swapped)
    with pytest.raises(RuntimeError, match='do not match'):
        load_pyg_kg(root, 'WN18RR')


def test_implicit_names_without_raw(tmp_path):
    root = str(tmp_path / 'fb')
    _write_raw(root, FB_RAW)
    FB15k_237(root)  # process once
    for s in FILES.values():
        os.remove(osp.join(root, 'raw', s))
    # PyG would try to download; a raw folder with the files gone is the
    # offline case of a pre-processed copy, so stub the download out.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(FB15k_237, 'download', lambda self: None)
        dataset = load_pyg_kg(root, 'FB15k-237')
    assert dataset.entity_vocab.is_implicit
    assert dataset.relation_vocab.is_implicit
    assert dataset.num_entities == 7
    assert dataset.num_relations == 4
    assert dataset.train.edge_index.size(1) == len(FB_RAW['train'])


def test_unknown_name(tmp_path):
    with pytest.raises(ValueError, match='FB15k-237'):
        load_pyg_kg(str(tmp_path), 'CoDEx-S')
