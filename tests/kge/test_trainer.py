import pytest
import torch

from torch_geometric_unlearn.datasets import make_synthetic_kg, to_triples
from torch_geometric_unlearn.kge.evaluate import evaluate
from torch_geometric_unlearn.kge.scoring import load_kge_model
from torch_geometric_unlearn.kge.trainer import (KGETrainer, TrainConfig,
                                                 load_checkpoint, recipe)


@pytest.fixture(scope='module')
def kg():
    return make_synthetic_kg(num_entities=150, num_relations=10,
                             num_triples=2500, seed=1)


def _train(kg, name='distmult', seed=0, **cfg):
    torch.manual_seed(seed)
    model = load_kge_model(name, kg.num_entities, kg.num_relations, 32)
    base = dict(epochs=3, batch_size=256, num_negatives=8, eval_every=0,
                seed=seed, lr=1e-2)
    base.update(cfg)
    trainer = KGETrainer(model, TrainConfig(**base), progress=False)
    trainer.fit(kg.train)
    return model, trainer


@pytest.mark.parametrize('name,loss', [('transe', 'margin'),
                                       ('distmult', 'bce'),
                                       ('complex', '1vsall'),
                                       ('rotate', 'self_adversarial'),
                                       ('distmult', 'softmax')])
def test_training_improves_over_init(kg, name, loss):
    filt = [kg.train, kg.valid, kg.test]
    torch.manual_seed(0)
    init = load_kge_model(name, kg.num_entities, kg.num_relations, 32)
    before = evaluate(init, kg.train, filt)['mrr']
    model, trainer = _train(kg, name, loss=loss, epochs=15,
                            shared_negatives=(loss == 'softmax'))
    after = evaluate(model, kg.train, filt)['mrr']
    assert after > before + 0.05
    losses = [h['loss'] for h in trainer.history]
    assert losses[-1] < losses[0]


def test_seeded_and_deterministic(kg):
    a, _ = _train(kg, seed=3)
    b, _ = _train(kg, seed=3)
    c, _ = _train(kg, seed=4)
    for (k, x), y in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(x, y), k
    assert not torch.equal(a.node_emb.weight, c.node_emb.weight)


def test_early_stopping_keeps_best(kg):
    torch.manual_seed(0)
    model = load_kge_model('distmult', kg.num_entities, kg.num_relations, 32)
    cfg = TrainConfig(epochs=40, batch_size=256, num_negatives=8, lr=5e-2,
                      eval_every=1, patience=2, seed=0)
    trainer = KGETrainer(model, cfg, progress=False)
    hist = trainer.fit(kg.train, kg.valid)
    mrrs = [h['valid_mrr'] for h in hist if 'valid_mrr' in h]
    assert trainer.best_mrr == max(mrrs)
    # lr 5e-2 overfits the small graph, so training stops early: the last
    # `patience` rounds were worse than the best.
    assert len(hist) < 40
    assert max(mrrs[-2:]) <= max(mrrs[:-2])
    # The model holds the best state, not the last one.
    filt = [kg.train, kg.valid]
    vt = trainer._valid_triples
    from torch_geometric_unlearn.kge.evaluate import LinkPredictionEvaluator
    ev = LinkPredictionEvaluator(kg.num_entities, kg.num_relations, filt)
    assert ev.evaluate(model, vt)['mrr'] == pytest.approx(trainer.best_mrr)


def test_filtered_negatives_zero_weight_on_true_triples(kg):
    model, trainer = _train(kg, filtered_negatives=True, epochs=1)
    known = trainer._train_keys
    assert known is not None and len(known) == kg.train.num_edges
    assert bool(known.contains_triples(to_triples(kg.train)).all())
    assert not bool(known.contains_triples(to_triples(kg.test)).any())


def test_checkpoint_round_trip_and_resume(kg, tmp_path):
    model, trainer = _train(kg, name='rotate', loss='self_adversarial')
    path = str(tmp_path / 'ckpt.pt')
    trainer.save(path, entity_vocab=kg.entity_vocab,
                 relation_vocab=kg.relation_vocab)
    ckpt = load_checkpoint(path)
    for key in ('model', 'model_name', 'model_kwargs', 'entity_vocab',
                'relation_vocab', 'train_config', 'optimizer'):
        assert key in ckpt
    assert ckpt['model_name'] == 'rotate'
    assert ckpt['entity_vocab'][:2] == ['e0', 'e1']
    back = ckpt['module']
    assert type(back).__name__ == 'RotatE'
    for x, y in zip(model.state_dict().values(), back.state_dict().values()):
        assert torch.equal(x, y)
    resumed = KGETrainer.from_checkpoint(path, progress=False)
    assert resumed.epoch == trainer.epoch == 3
    assert resumed.optimizer.state_dict()['state'].keys() == \
        trainer.optimizer.state_dict()['state'].keys()
    # Going on trains epochs 4..5 only.
    resumed.config.epochs = 5
    hist = resumed.fit(kg.train)
    assert [h['epoch'] for h in hist][-2:] == [4, 5]


def test_bad_config():
    with pytest.raises(ValueError, match='loss'):
        TrainConfig(loss='hinge')
    with pytest.raises(ValueError, match='optimizer'):
        TrainConfig(optimizer='lbfgs')
    with pytest.raises(ValueError, match='batch_size'):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match='unknown training options'):
        TrainConfig.from_dict({'epochz': 3})
    with pytest.raises(ValueError, match='recipe'):
        recipe('conve')


def test_model_smaller_than_data(kg):
    model = load_kge_model('distmult', 10, kg.num_relations, 8)
    trainer = KGETrainer(model, TrainConfig(epochs=1), progress=False)
    with pytest.raises(ValueError, match='entities'):
        trainer.fit(kg.train)
