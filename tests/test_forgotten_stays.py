r"""What is forgotten stays forgotten, through the core of every method:
stable edge ids, refused re-forgetting, the ledger, and MetaEU's save/load
with its history (issue: forgotten stays forgotten)."""
import pytest
import torch

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.baselines import FineTune
from torch_geometric_unlearn.datasets import (TripleSet, make_synthetic_kg,
                                              to_triples)
from torch_geometric_unlearn.kge import load_kge_model
from torch_geometric_unlearn.utils import model_hash


@pytest.fixture(scope='module')
def kg():
    return make_synthetic_kg(num_entities=120, num_relations=8,
                             num_triples=1500, seed=4)


def _model(kg, name='transe', seed=0):
    torch.manual_seed(seed)
    return load_kge_model(name, kg.num_entities, kg.num_relations, 8)


def test_edge_ids_name_the_same_triples_across_requests(kg):
    meu = MetaEU(_model(kg), kg, progress=False)
    rows = to_triples(kg.train)
    r1 = meu.unlearn(edge_ids=[0, 1])
    assert r1.record.forget_triples.tolist() == rows[[0, 1]].tolist()
    r2 = meu.unlearn(edge_ids=[5])
    assert r2.record.forget_triples.tolist() == rows[[5]].tolist()
    with pytest.raises(ValueError, match='already forgotten by request 0'):
        meu.unlearn(edge_ids=[1])
    with pytest.raises(ValueError, match='out of range'):
        meu.unlearn(edge_ids=[kg.train.num_edges])
    with pytest.raises(TypeError, match='integer'):
        meu.unlearn(edge_ids=[1.5])


def test_reforgetting_names_the_earlier_request(kg):
    ft = FineTune(_model(kg), kg)
    rows = to_triples(kg.train)
    ft.unlearn(rows[:3])
    with pytest.raises(ValueError, match=r'already forgotten by request 0 '
                       r'\(FineTune ForgetTriples: 3 triple'):
        ft.unlearn(rows[2:4])
    ent = int(rows[10, 0])
    ft.unlearn(entities=[ent])
    with pytest.raises(ValueError, match=f'every triple of entity {ent} was '
                       f'already forgotten by request 1'):
        ft.unlearn(entities=[ent])
    # A triple that was never in the graph is another error.
    with pytest.raises(ValueError, match='not in the graph'):
        ft.unlearn(torch.tensor([[0, 0, 0]]))
    assert len(ft.ledger) == 2 and ft.ledger.verify() == []


def test_the_ledger_records_ids_names_and_hashes(kg):
    model = _model(kg)
    meu = MetaEU(model, kg, progress=False)
    before = model_hash(model)
    res = meu.unlearn(entities=[3])
    e = meu.ledger[0]
    assert e['method'] == 'metaeu' and e['given'] == dict(
        kind='entities', value=[3], num_hops=0)
    assert e['forget']['ids'] == res.record.forget_triples.tolist()
    assert e['forget']['names'] == [list(t) for t in kg.decode(
        res.record.forget_triples)]
    assert e['affected'] == res.record.affected.tolist()
    assert e['input_model'] == before == model_hash(model)  # caller's kept
    assert e['output_model'] == model_hash(res.model) != before
    assert e['options'] == dict(num_hops=0, ensemble=1, refine_steps=0,
                                mode='correct')


def test_save_load_keeps_the_history_and_refuses_strangers(kg, tmp_path):
    model = _model(kg)
    meu = MetaEU(model, kg, progress=False)
    rows = to_triples(kg.train)
    res = meu.unlearn(rows[:4])
    path = str(tmp_path / 'meu.pt')
    meu.save(path)
    back = MetaEU.load(path, res.model, kg, progress=False)
    assert len(back.ledger) == 1 and back.data.num_edges == \
        kg.train.num_edges - 4
    assert not bool(TripleSet.from_data(back.data).contains_triples(
        rows[:4]).any())
    with pytest.raises(ValueError, match='already forgotten'):
        back.unlearn(rows[:1])
    # Another graph with the same counts, another checkpoint, another size.
    other = make_synthetic_kg(num_entities=120, num_relations=8,
                              num_triples=1500, seed=5)
    fresh = MetaEU(model, kg, progress=False)
    fresh.save(path)
    with pytest.raises(ValueError, match='another training graph'):
        MetaEU.load(path, model, other, progress=False)
    with pytest.raises(ValueError, match='another checkpoint'):
        MetaEU.load(path, _model(kg, seed=1), kg, progress=False)
    small = make_synthetic_kg(num_entities=60, num_relations=8,
                              num_triples=600, seed=0)
    with pytest.raises(ValueError, match='120 entities'):
        MetaEU.load(path, load_kge_model('transe', 60, 8, 8), small,
                    progress=False)
    open(path, 'r+b').truncate(100)
    with pytest.raises(ValueError, match='not a readable MetaEU'):
        MetaEU.load(path, model, kg, progress=False)


def test_a_retained_graph_holding_a_forgotten_triple_is_refused(kg):
    meu = MetaEU(_model(kg), kg, progress=False)
    rows = to_triples(kg.train)
    meu.unlearn(rows[:2])
    with pytest.raises(ValueError, match='not the one the ledger recorded'):
        MetaEU(meu.model, kg, progress=False, ledger=meu.ledger,
               retained=kg.train)


def test_non_finite_models_are_refused(kg):
    model = _model(kg, 'distmult')
    with torch.no_grad():
        model.node_emb.weight[5, 0] = float('nan')
    with pytest.raises(ValueError, match='non-finite'):
        MetaEU(model, kg, progress=False)
    from torch_geometric_unlearn.kge import LinkPredictionEvaluator
    ev = LinkPredictionEvaluator(kg.num_entities, kg.num_relations)
    with torch.no_grad():
        model.node_emb.weight[5, 0] = float('inf')
    with pytest.raises(ValueError, match='non-finite'):
        ev.evaluate(model, kg.test)
