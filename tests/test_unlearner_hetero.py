r"""Unlearners on typed KGs: MetaEU and a baseline take a HeteroData or a
TypedKGDataset, typed requests forget exactly what they name, the typed and
the homogeneous request give the same model rows, and bad typed requests
fail with a clear error."""
import copy

import pytest
import torch

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.baselines import GradientAscent
from torch_geometric_unlearn.datasets import (UnknownNameError,
                                              UserInputError,
                                              make_synthetic_kg, to_triples)
from torch_geometric_unlearn.kge import load_kge_model

OPTIONS = dict(progress=False, episodes=6, eval_every=0, hidden_channels=16,
               num_layers=2, episode_forget=32, num_negatives=32,
               calibrate_steps=5)


@pytest.fixture(scope='module')
def kg():
    return make_synthetic_kg(num_entities=150, num_relations=8,
                             num_triples=1500, seed=0, num_types=3)


@pytest.fixture(scope='module')
def model(kg):
    torch.manual_seed(0)
    return load_kge_model('transe', kg.num_entities, kg.num_relations, 8)


@pytest.fixture(scope='module')
def fitted(kg, model):
    meu = MetaEU(model, kg, **OPTIONS)
    meu.fit()
    return meu


def _rows(result):
    return result.model.node_emb.weight.detach()


def _typed_columns(hetero, et, ids):
    r"""Slow reference: the homogeneous rows of typed edges, one by one."""
    rows = []
    for i in ids:
        a, b = hetero[et].edge_index[:, i].tolist()
        rows.append([int(hetero[et[0]].node_id[a]),
                     hetero.relation_names.index(et[1]),
                     int(hetero[et[2]].node_id[b])])
    return rows


def test_typed_edge_ids_forget_exactly_them(kg, fitted):
    hetero = kg.hetero('train')
    ets = [hetero.edge_types[2], hetero.edge_types[7]]
    request = {ets[0]: [0, 3], ets[1]: [1]}
    typed = copy.deepcopy(fitted).unlearn(edge_ids=request)
    named = _typed_columns(hetero, ets[0], [0, 3]) + \
        _typed_columns(hetero, ets[1], [1])
    assert sorted(typed.record.forget_triples.tolist()) == sorted(named)
    view = fitted.typed.to_hetero(typed.data)  # the typed retained graph
    for et in hetero.edge_types:
        gone = request.get(et, [])
        keep = [i for i in range(hetero[et].num_edges) if i not in gone]
        assert torch.equal(view[et].edge_index, hetero[et].edge_index[:, keep])
    # The same request in homogeneous ids gives the same rows.
    pos = fitted.typed.edge_positions(kg.train)
    ids = torch.cat([pos[ets[0]][[0, 3]], pos[ets[1]][[1]]])
    plain = copy.deepcopy(fitted).unlearn(edge_ids=ids)
    assert torch.equal(_rows(typed), _rows(plain))
    assert not torch.equal(_rows(typed), fitted.model.node_emb.weight)
    # Typed rows name the same triples.
    rows = {et: hetero[et].edge_index[:, request[et]] for et in ets}
    by_rows = copy.deepcopy(fitted).unlearn(triples=rows)
    assert torch.equal(_rows(by_rows), _rows(typed))


@pytest.mark.filterwarnings('ignore:the request affects')
def test_typed_entities_and_relations_match_homogeneous(kg, fitted):
    m = fitted.typed
    typed = copy.deepcopy(fitted).unlearn(entities=[('type1', 2),
                                                    ('type2', 0)])
    glob = [int(m.global_ids['type1'][2]), int(m.global_ids['type2'][0])]
    plain = copy.deepcopy(fitted).unlearn(entities=glob)
    assert torch.equal(_rows(typed), _rows(plain))
    forget = typed.record.forget_triples
    assert bool((torch.isin(forget[:, 0], torch.tensor(glob)) |
                 torch.isin(forget[:, 2], torch.tensor(glob))).all())
    touching = (torch.isin(kg.train.edge_index, torch.tensor(glob))
                .any(0).sum())
    assert forget.size(0) == int(touching)
    by_name = copy.deepcopy(fitted).unlearn(relations='sym0')
    by_id = copy.deepcopy(fitted).unlearn(
        relations=kg.relation_vocab.index('sym0'))
    assert torch.equal(_rows(by_name), _rows(by_id))
    # An edge type forgets its triples only, not the relation's others.
    et = next(et for et in m.edge_types if et[1] == 'part_of')
    by_type = copy.deepcopy(fitted).unlearn(relations=et)
    k = m.edge_type_index(kg.train)
    want = to_triples(kg.train)[k == m.edge_type_id(et)]
    assert torch.equal(by_type.record.forget_triples, want)
    rows = copy.deepcopy(fitted).unlearn(triples=want)
    assert torch.equal(_rows(by_type), _rows(rows))


def test_metaeu_on_a_heterodata(kg, model):
    hetero = kg.hetero('train')
    typed = MetaEU(model, hetero, reference=kg.valid, **OPTIONS)
    plain = MetaEU(model, typed.typed.to_homogeneous(hetero),
                   reference=kg.valid, **OPTIONS)
    assert torch.equal(typed.original.edge_index, plain.original.edge_index)
    typed.fit()
    plain.fit()
    a = typed.unlearn(entities=('type0', 5))
    b = plain.unlearn(entities=int(hetero['type0'].node_id[5]))
    assert torch.equal(_rows(a), _rows(b))
    assert typed.names[1].name(0) == kg.relation_vocab.name(0)
    # Sequential requests keep their typed ids (edge ids are positions in
    # the original typed graph).
    et = hetero.edge_types[0]
    first = int(hetero[et].edge_index[0, 0])
    free = next(i for i in range(hetero[et].num_edges)
                if first not in hetero[et].edge_index[:, i].tolist()
                and int(hetero[et].edge_index[1, i]) != 5)
    c = typed.unlearn(edge_ids={et: [free]})
    assert c.record.forget_triples.tolist() == _typed_columns(hetero, et,
                                                              [free])


def test_a_baseline_runs_on_a_typed_kg(kg, model):
    hetero = kg.hetero('train')
    ga = GradientAscent(model, hetero, steps=3)
    et = hetero.edge_types[4]
    result = ga.unlearn(edge_ids={et: [0, 1]})
    assert result.record.forget_triples.tolist() == _typed_columns(
        hetero, et, [0, 1])
    view = ga.typed.to_hetero(result.data)
    assert torch.equal(view[et].edge_index, hetero[et].edge_index[:, 2:])
    assert not torch.equal(result.model.node_emb.weight,
                           model.node_emb.weight)
    result = ga.unlearn(entities=('type2', 1))
    assert result.record.num_forget > 0


def test_bad_typed_requests(kg, model, fitted):
    hetero = kg.hetero('train')
    n1 = hetero['type1'].num_nodes
    with pytest.raises(UserInputError, match="unknown node type 'city'"):
        fitted.unlearn(entities=('city', 0))
    with pytest.raises(UserInputError,
                       match=f"index out of range for node type 'type1' "
                             f"with {n1} entities: \\[{n1}\\]"):
        fitted.unlearn(entities=[('type1', n1)])
    absent = [(a, 'sym0', b) for a in kg.node_types for b in kg.node_types
              if (a, 'sym0', b) not in kg.edge_types]
    with pytest.raises(UserInputError, match='is not in the graph'):
        fitted.unlearn(edge_ids={absent[0]: [0]})
    with pytest.raises(UserInputError, match='is not in the graph'):
        fitted.unlearn(relations=absent[0])
    with pytest.raises(UnknownNameError, match="unknown relation 'nope'"):
        fitted.unlearn(relations=['nope'])
    et = hetero.edge_types[0]
    with pytest.raises(UserInputError, match='edge ids out of range for '
                                             'edge type'):
        fitted.unlearn(edge_ids={et: [hetero[et].num_edges]})
    assert len(fitted.ledger) == 0  # nothing was served
    untyped = GradientAscent(model, kg.train, steps=1)
    with pytest.raises(UserInputError, match='needs a typed KG'):
        untyped.unlearn(entities=('type0', 0))
    # An edge type whose triples are all gone has nothing to forget.
    ga = GradientAscent(model, hetero, steps=1)
    small = min(hetero.edge_types, key=lambda e: hetero[e].num_edges)
    ga.unlearn(relations=small)
    with pytest.raises(UserInputError, match='no triple left'):
        ga.unlearn(relations=small)
