import pytest
import torch

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.baselines import Retrain, SISA
from torch_geometric_unlearn.rec import EEMU
from torch_geometric_unlearn.transforms import (ForgetEntity, ForgetRelation,
                                                ForgetTriples)
from torch_geometric_unlearn.unlearner import (Unlearner, UnlearningRecord,
                                               get_method, list_methods,
                                               register_method,
                                               request_transform)


def test_registry_names_every_method():
    assert list_methods('kg') == sorted([
        'retrain', 'metaeu', 'finetune', 'gradient_ascent', 'distill',
        'gnndelete', 'ssd', 'sisa', 'leave_k_out', 'neighbour_mean',
        'influence'])
    assert get_method('retrain') is Retrain and get_method('sisa') is SISA
    assert get_method('metaeu') is MetaEU and MetaEU.name == 'metaeu'
    assert issubclass(MetaEU, Unlearner)
    assert get_method('gradient-ascent').name == 'gradient_ascent'
    assert {'eemu', 'sisa', 'retrain', 'finetune'} <= set(list_methods('rec'))
    assert get_method('eemu', 'rec') is EEMU
    with pytest.raises(ValueError, match="unknown kg method 'bogus'"):
        get_method('bogus')


def test_register_refuses_a_second_class_under_a_taken_name():
    with pytest.raises(ValueError, match='already registered'):
        register_method('retrain')(type('Other', (), {}))
    with pytest.raises(ValueError, match='unknown method kind'):
        register_method('x', kind='vision')


def test_request_transform_maps_each_request_kind():
    t, what = request_transform(triples=[0, 1, 2])
    assert isinstance(t, ForgetTriples) and what == '1 triple(s)'
    assert isinstance(request_transform(edge_ids=[3])[0], ForgetTriples)
    t, what = request_transform(entities=[4, 5], num_hops=1)
    assert isinstance(t, ForgetEntity) and t.num_hops == 1
    assert what == 'entities 4, 5'
    assert isinstance(request_transform(relations=2)[0], ForgetRelation)
    with pytest.raises(ValueError, match='exactly one'):
        request_transform(triples=[0, 1, 2], entities=[1])
    with pytest.raises(ValueError, match='exactly one'):
        request_transform()


def test_record_reads_details_and_fields_by_key():
    rec = UnlearningRecord(request='r', forget_triples=torch.zeros(0, 3),
                           affected=torch.tensor([1, 2]), seconds=0.5,
                           method='eemu',
                           forget_pairs=torch.tensor([[1, 1], [4, 5]]),
                           details=dict(shards=[0], exact=True))
    assert rec['shards'] == [0] and rec['seconds'] == 0.5
    assert rec.num_forget == 2 and rec['num_affected'] == 2
    assert 'exact' in rec and 'nothing' not in rec
    with pytest.raises(KeyError):
        rec['nothing']
    d = rec.to_dict()
    assert d['forget_pairs'] == [[1, 1], [4, 5]] and d['exact'] is True
    assert d['method'] == 'eemu'


def test_rec_methods_return_the_shared_record_type():
    from torch_geometric_unlearn.rec import (EEMUConfig, RetrainRec,
                                             make_synthetic_interactions)
    data = make_synthetic_interactions(num_users=40, num_items=30,
                                       seed=0)
    train = data.edge_index('train')
    cfg = EEMUConfig(model='mf', dim=8, epochs=1, num_shards=2,
                     users_per_step=8)
    user = int(train[0, 0])
    records = {}
    for cls in (EEMU, RetrainRec):
        m = cls(data.num_users, data.num_items, cfg).fit(train)
        rec = m.unlearn(user)
        assert isinstance(rec, UnlearningRecord) and m.records == [rec]
        assert rec.method == cls.name and rec.affected.tolist() == [user]
        mine = int((train[0] == user).sum())
        assert rec.num_forget == mine == rec['forgotten']
        assert rec.forget_pairs[0].eq(user).all()
        assert rec['exact'] is True
        records[cls.name] = rec
    assert len(records['eemu']['shards']) == 1
    assert 'shards' not in records['retrain']
