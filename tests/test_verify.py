import copy

import pytest
import torch

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.datasets import make_synthetic_kg, to_triples
from torch_geometric_unlearn.kge import load_kge_model
from torch_geometric_unlearn.verify import unlearning_state, verify


@pytest.fixture(scope='module')
def chain():
    kg = make_synthetic_kg(num_entities=120, num_relations=8,
                           num_triples=1500, seed=6)
    torch.manual_seed(0)
    model = load_kge_model('distmult', kg.num_entities, kg.num_relations, 8)
    meu = MetaEU(model, kg, progress=False)
    rows = to_triples(kg.train)
    meu.unlearn(rows[:5])
    meu.unlearn(entities=[int(rows[50, 0])])
    res = meu.unlearn(edge_ids=[100, 101])
    return kg, res.model, unlearning_state(meu)


def _names(report):
    return {name: passed for name, passed, _ in report.checks}


def test_an_honest_chain_of_three_requests_passes(chain):
    kg, model, state = chain
    report = verify(model, state, kg, evidence=True)
    assert report.ok, report.format()
    assert len(state['ledger']) == 3
    assert set(report.evidence) == {'forget_mrr', 'test_mrr', 'mia_auc'}
    assert 'verified: every check passed' in report.format()


def test_an_edited_ledger_entry_fails(chain):
    kg, model, state = chain
    bad = copy.deepcopy(state)
    bad['ledger'][1]['forget']['ids'] = bad['ledger'][1]['forget']['ids'][1:]
    report = verify(model, bad, kg)
    assert not report.ok and not _names(report)['chain of hashes']


def test_a_swapped_model_fails(chain):
    kg, model, state = chain
    other = copy.deepcopy(model)
    with torch.no_grad():
        other.node_emb.weight[0, 0] += 1.0
    report = verify(other, state, kg)
    assert not report.ok
    assert not _names(report)["the model's hash matches the ledger"]
    assert _names(report)['chain of hashes']


def test_a_retained_graph_holding_a_forgotten_triple_fails(chain):
    kg, model, state = chain
    bad = copy.deepcopy(state)
    f = torch.tensor(state['ledger'][0]['forget']['ids'][0])
    r = bad['retained']
    r['edge_index'] = torch.cat([r['edge_index'], f[[0, 2]].view(2, 1)], 1)
    r['edge_type'] = torch.cat([r['edge_type'], f[1:2]])
    report = verify(model, bad, kg)
    assert not report.ok
    assert not _names(report)['no forgotten triple is in the retained graph']
    assert 'FAIL  no forgotten triple' in report.format()


def test_other_data_or_no_state_fails(chain):
    kg, model, state = chain
    other = make_synthetic_kg(num_entities=120, num_relations=8,
                              num_triples=1500, seed=7)
    assert not verify(model, state, other).ok
    assert not verify(model, None, kg).ok
