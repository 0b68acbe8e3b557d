r"""Typed KGs: HeteroData <-> homogeneous KG round trips (against PyG's own
to_homogeneous and a slow per-edge reference), the typed synthetic KG, the
typed loader, and the errors of typed names."""
import json

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch_geometric.data import HeteroData

from torch_geometric_unlearn.datasets import (
    HeteroMapping, KGDataset, TypedKGDataset, UnknownNameError,
    UserInputError, add_entity_types, load_dataset, load_tsv_kg,
    load_typed_tsv_kg, make_kg, make_synthetic_kg, mapping_of,
    read_entity_types, resolve_typed_request, to_triples, typed_dataset)

from tests.utils import shared_dataset

SETTINGS = settings(max_examples=30, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
RELATIONS = ['r0', 'r1', 'r2']


@st.composite
def typed_graphs(draw):
    r"""A random HeteroData KG: 1-3 node types, random edge types (a
    relation may join several type pairs, an edge type may be empty)."""
    counts = draw(st.lists(st.integers(1, 6), min_size=1, max_size=3))
    types = [f't{i}' for i in range(len(counts))]
    combos = [(a, r, b) for a in types for r in RELATIONS for b in types]
    edge_types = draw(st.lists(st.sampled_from(combos), min_size=1,
                               max_size=5, unique=True))
    h = HeteroData()
    for nt, n in zip(types, counts):
        h[nt].num_nodes = n
    for et in edge_types:
        n_src, n_dst = counts[types.index(et[0])], counts[types.index(et[2])]
        e = draw(st.integers(0, 8))
        src = draw(st.lists(st.integers(0, n_src - 1), min_size=e,
                            max_size=e))
        dst = draw(st.lists(st.integers(0, n_dst - 1), min_size=e,
                            max_size=e))
        h[et].edge_index = torch.tensor([src, dst], dtype=torch.long).view(
            2, e)
    return h


def _reference_triples(h, mapping):
    r"""Slow reference: every edge of every edge type, one at a time, as a
    homogeneous (head, relation, tail) row."""
    glob = {nt: (h[nt].node_id if 'node_id' in h[nt] else None)
            for nt in h.node_types}
    offset, start = {}, 0
    for nt in h.node_types:
        offset[nt] = start
        start += h[nt].num_nodes
    rows = []
    for et in h.edge_types:
        for a, b in h[et].edge_index.t().tolist():
            ga = int(glob[et[0]][a]) if glob[et[0]] is not None \
                else offset[et[0]] + a
            gb = int(glob[et[2]][b]) if glob[et[2]] is not None \
                else offset[et[2]] + b
            rows.append([ga, mapping.relation_vocab.index(et[1]), gb])
    return torch.tensor(rows, dtype=torch.long).view(-1, 3)


def _assert_same_hetero(a, b):
    assert a.node_types == b.node_types
    assert a.edge_types == b.edge_types
    for nt in a.node_types:
        assert a[nt].num_nodes == b[nt].num_nodes
    for et in a.edge_types:
        assert torch.equal(a[et].edge_index, b[et].edge_index)


@SETTINGS
@given(typed_graphs())
def test_hetero_to_data_to_hetero_is_identity(h):
    mapping = HeteroMapping.from_hetero(h)
    data = mapping.to_homogeneous(h)
    # PyG's own conversion gives the entity ids; edge types become
    # relation ids.
    pyg = h.to_homogeneous()
    assert torch.equal(data.edge_index, pyg.edge_index)
    rel_of = torch.tensor([mapping.relation_id(et[1])
                           for et in h.edge_types])
    assert torch.equal(data.edge_type, rel_of[pyg.edge_type])
    assert torch.equal(to_triples(data), _reference_triples(h, mapping))
    assert data.num_nodes == sum(h[nt].num_nodes for nt in h.node_types)
    back = mapping.to_hetero(data)
    _assert_same_hetero(back, h)
    # The typed view carries what rebuilds the same mapping.
    assert HeteroMapping.from_hetero(back) == mapping
    assert torch.equal(mapping.to_homogeneous(back).edge_index,
                       data.edge_index)


@SETTINGS
@given(st.data())
def test_typed_view_keeps_homogeneous_ids(draw):
    r"""Types that do not occupy contiguous id ranges: Data -> HeteroData
    -> Data keeps every triple and id (edges grouped by edge type)."""
    n = draw.draw(st.integers(2, 12))
    T = draw.draw(st.integers(1, 3))
    entity_type = torch.tensor(draw.draw(st.lists(
        st.integers(0, T - 1), min_size=n, max_size=n)))
    e = draw.draw(st.integers(0, 25))
    rows = torch.tensor(draw.draw(st.lists(
        st.tuples(st.integers(0, n - 1), st.integers(0, 2),
                  st.integers(0, n - 1)), min_size=e, max_size=e)),
        dtype=torch.long).view(-1, 3)
    data = make_kg(rows[:, [0, 2]].t(), rows[:, 1], n, 3)
    mapping = HeteroMapping.from_types(entity_type,
                                       [f't{i}' for i in range(T)],
                                       RELATIONS, [data])
    h = mapping.to_hetero(data)
    order = torch.cat([torch.empty(0, dtype=torch.long)] +
                      list(mapping.edge_positions(data).values()))
    assert torch.equal(_reference_triples(h, mapping),
                       to_triples(data)[order])
    back = mapping.to_homogeneous(h)
    assert torch.equal(to_triples(back), to_triples(data)[order])
    assert sorted(order.tolist()) == list(range(e))
    for nt in mapping.node_types:
        t = mapping.node_types.index(nt)
        assert h[nt].node_id.tolist() == [
            i for i in range(n) if int(entity_type[i]) == t]
    assert HeteroMapping.from_hetero(h) == mapping
    _assert_same_hetero(mapping.to_hetero(back), h)


def test_reference_of_non_contiguous_ids():
    # Entities 0 and 2 are 'a', 1 is 'b': triple (2, r1, 1) is edge
    # ('a', 'r1', 'b') from a's index 1 to b's index 0.
    data = make_kg(torch.tensor([[2, 0], [1, 2]]), torch.tensor([1, 0]), 3,
                   2)
    mapping = HeteroMapping.from_types(torch.tensor([0, 1, 0]), ['a', 'b'],
                                       ['r0', 'r1'], [data])
    h = mapping.to_hetero(data)
    assert h.edge_types == [('a', 'r0', 'a'), ('a', 'r1', 'b')]
    assert h['a', 'r1', 'b'].edge_index.tolist() == [[1], [0]]
    assert h['a', 'r0', 'a'].edge_index.tolist() == [[0], [1]]
    assert h['a'].node_id.tolist() == [0, 2]
    assert mapping.global_id('a', 1).tolist() == [2]
    assert mapping.typed_entity(2) == ('a', 1)
    split = mapping.split_nodes(torch.tensor([5, 6, 7]))
    assert {k: v.tolist() for k, v in split.items()} == {'a': [5, 7],
                                                         'b': [6]}


def test_typed_synthetic_kg_keeps_the_untyped_triples():
    kw = dict(num_entities=200, num_relations=10, num_triples=2500, seed=3)
    plain = make_synthetic_kg(**kw)
    kg = make_synthetic_kg(num_types=3, **kw)
    assert isinstance(kg, TypedKGDataset) and not isinstance(
        plain, TypedKGDataset)
    for s in ('train', 'valid', 'test'):
        assert torch.equal(kg[s].edge_index, plain[s].edge_index)
        assert torch.equal(kg[s].edge_type, plain[s].edge_type)
    # Types are bands of the latent clusters, in order.
    cluster = plain.meta['cluster']
    C = int(cluster.max()) + 1
    assert torch.equal(kg.mapping.entity_type, cluster * 3 // C)
    assert kg.node_types == ['type0', 'type1', 'type2']
    # One relation under several type pairs.
    rels = [et[1] for et in kg.edge_types]
    assert len(set(rels)) < len(rels)
    # Every triple of every split has an edge type of the mapping.
    for s in ('train', 'valid', 'test'):
        h = kg.hetero(s)
        assert sum(h[et].num_edges for et in h.edge_types) == kg[s].num_edges
        assert h.edge_types == kg.edge_types
    with pytest.raises(ValueError, match='num_types'):
        make_synthetic_kg(num_types=0, **kw)


def test_typed_dataset_save_load_and_spec(tmp_path):
    kg = load_dataset('synthetic:entities=150,relations=8,triples=1500,'
                      'types=2')
    assert isinstance(kg, TypedKGDataset)
    path = str(tmp_path / 'kg.pt')
    kg.save(path)
    for again in (TypedKGDataset.load(path), load_dataset(path),
                  typed_dataset(KGDataset.load(path))):
        assert isinstance(again, TypedKGDataset)
        assert again.mapping == kg.mapping
    assert mapping_of(KGDataset.load(path)) == kg.mapping
    assert mapping_of(kg.train) is None
    assert kg.summary()['node_types'] == kg.mapping.num_nodes_dict
    with pytest.raises(UserInputError, match='carries no entity types'):
        typed_dataset(make_synthetic_kg(num_entities=100, num_triples=900))


def _write_kg(root):
    root.mkdir()
    (root / 'train.tsv').write_text(
        'alice\tcitizen_of\tfrance\nbob\tcitizen_of\tgermany\n'
        'alice\tknows\tbob\nfrance\tborders\tgermany\n'
        'acme\tlocated_in\tfrance\n')
    (root / 'valid.tsv').write_text('bob\tknows\talice\n')
    (root / 'test.tsv').write_text('acme\tlocated_in\tgermany\n')
    return str(root)


TYPES = {'alice': 'person', 'bob': 'person', 'france': 'country',
         'germany': 'country', 'acme': 'company'}


def test_typed_tsv_loader(tmp_path):
    root = _write_kg(tmp_path / 'kg')
    types = tmp_path / 'types.tsv'
    types.write_text(''.join(f'{e}\t{t}\n' for e, t in TYPES.items()) +
                     'zed\tperson\n')  # not in the KG: ignored
    kg = load_typed_tsv_kg(root, str(types))
    plain = load_tsv_kg(root)
    assert torch.equal(kg.train.edge_index, plain.train.edge_index)
    assert kg.entity_vocab == plain.entity_vocab
    assert kg.node_types == ['company', 'country', 'person']
    for i, name in enumerate(kg.entity_vocab.to_list()):
        nt, idx = kg.mapping.typed_entity(i)
        assert nt == TYPES[name]
        assert kg.mapping.entity_vocabs[nt].name(idx) == name
    h = kg.hetero('train')
    et = ('person', 'citizen_of', 'country')
    assert h[et].num_edges == 2
    # CoDEx's entity2types.json layout (lists, first type used).
    js = tmp_path / 'entity2types.json'
    js.write_text(json.dumps({e: [t, 'other'] for e, t in TYPES.items()}))
    assert load_typed_tsv_kg(root, str(js)).mapping == kg.mapping
    assert load_dataset(root, entity_types=str(js)).mapping == kg.mapping


def test_typed_tsv_loader_errors(tmp_path):
    root = _write_kg(tmp_path / 'kg')
    part = {k: v for k, v in TYPES.items() if k != 'acme'}
    with pytest.raises(UnknownNameError, match="1 entities .* 'acme'"):
        load_typed_tsv_kg(root, part)
    kg = load_typed_tsv_kg(root, part, default_type='thing')
    assert kg.mapping.typed_entity(kg.entity_vocab.index('acme'))[0] == \
        'thing'
    bad = tmp_path / 'bad.tsv'
    bad.write_text('alice\tperson\nbob\n')
    with pytest.raises(UserInputError, match=r'bad.tsv:2: expected 2'):
        read_entity_types(str(bad))
    two = tmp_path / 'two.tsv'
    two.write_text('alice\tperson\nalice\tcountry\n')
    with pytest.raises(UserInputError, match='two types'):
        read_entity_types(str(two))
    with pytest.raises(FileNotFoundError):
        read_entity_types(str(tmp_path / 'none.tsv'))
    plain = load_tsv_kg(root)
    assert add_entity_types(plain, TYPES).mapping == \
        load_typed_tsv_kg(root, TYPES).mapping


def test_typed_names_errors():
    kg = make_synthetic_kg(num_entities=150, num_relations=8,
                           num_triples=1500, num_types=2)
    m = kg.mapping
    with pytest.raises(UserInputError, match="unknown node type 'nope'"):
        m.global_id('nope', 0)
    n0 = m.num_nodes_dict['type0']
    with pytest.raises(UserInputError,
                       match=f"out of range for node type 'type0' with "
                             f"{n0} entities: \\[{n0}\\]"):
        m.global_id('type0', n0)
    absent = [(a, r, b) for a in m.node_types
              for r in kg.relation_vocab.to_list() for b in m.node_types
              if (a, r, b) not in m.edge_types]
    assert absent  # symmetric relations never join two types
    with pytest.raises(UserInputError,
                       match=f'edge type .*{absent[0][1]}.* is not in the '
                             f'graph'):
        m.edge_type_id(absent[0])
    with pytest.raises(UnknownNameError, match="unknown relation 'nope'"):
        m.edge_type_id(('type0', 'nope', 'type1'))
    with pytest.raises(UserInputError, match='node types'):
        m.to_homogeneous(HeteroData({'type0': {'num_nodes': 1}}))
    with pytest.raises(UserInputError, match='needs a typed KG'):
        resolve_typed_request(None, kg.train, kg.train,
                              entities=('type0', 1))
    # A homogeneous request is returned as it is.
    assert resolve_typed_request(None, kg.train, kg.train,
                                 entities=[1, 2])['entities'] == [1, 2]


def test_typed_requests_resolve_to_homogeneous_ids():
    kg = make_synthetic_kg(num_entities=150, num_relations=8,
                           num_triples=1500, num_types=2)
    m, train = kg.mapping, kg.train
    h = kg.hetero('train')
    et = h.edge_types[1]
    req = resolve_typed_request(m, train, train, edge_ids={et: [0, 2]})
    ref = [i for i in range(train.num_edges)
           if m.typed_entity(int(train.edge_index[0, i]))[0] == et[0]
           and m.typed_entity(int(train.edge_index[1, i]))[0] == et[2]
           and kg.relation_vocab.name(int(train.edge_type[i])) == et[1]]
    assert req['edge_ids'].tolist() == [ref[0], ref[2]]
    req = resolve_typed_request(m, train, train,
                                triples={et: h[et].edge_index[:, [0, 2]]})
    assert torch.equal(req['triples'], to_triples(train)[[ref[0], ref[2]]])
    req = resolve_typed_request(m, train, train,
                                entities=[('type1', 0), ('type0', 2), 7])
    assert req['entities'].tolist() == [int(h['type1'].node_id[0]),
                                        int(h['type0'].node_id[2]), 7]
    req = resolve_typed_request(m, train, train, relations=['sym0', 2])
    assert req['relations'].tolist() == [kg.relation_vocab.index('sym0'), 2]
    req = resolve_typed_request(m, train, train, relations=et)
    assert req['relations'] is None
    assert torch.equal(req['triples'], to_triples(train)[ref])
    # The current graph may be given as a function that builds it.
    lazy = resolve_typed_request(m, train, lambda: train, relations=et)
    assert torch.equal(lazy['triples'], req['triples'])


def test_codex_s_typed_round_trip():
    root = shared_dataset('codex-s')
    plain = load_tsv_kg(root)
    # CoDEx-S ships no type file here: type by the relation an entity
    # heads first (a stand-in with several types and type pairs).
    first = {}
    for h, r in zip(plain.train.edge_index[0].tolist(),
                    plain.train.edge_type.tolist()):
        first.setdefault(plain.entity_vocab.name(h),
                         plain.relation_vocab.name(r))
    kg = load_typed_tsv_kg(root, first, default_type='tail_only')
    assert kg.num_entities == 2034 and kg.num_relations == 42
    for s in ('train', 'valid', 'test'):
        back = kg.mapping.to_homogeneous(kg.hetero(s))
        order = torch.cat(list(kg.mapping.edge_positions(kg[s]).values()))
        assert torch.equal(to_triples(back), to_triples(kg[s])[order])
