import pytest

from torch_geometric_unlearn.bench import (TrainingSpec, UndertrainedError,
                                           UndertrainedWarning,
                                           check_training, train_model,
                                           training_outcome, undertraining)
from torch_geometric_unlearn.kge import (LinkPredictionEvaluator,
                                         TrainConfig, recipe)

# Settings under which DistMult learns the small synthetic KG in a second.
FAST = dict(batch_size=256, lr=3e-2, num_negatives=128, eval_every=2,
            patience=2)


def _fit(kg, **kw):
    spec = TrainingSpec.from_recipe('distmult', dim=32, **kw)
    tm = train_model(spec, kg.train, kg.num_entities, kg.num_relations,
                     kg.valid, [kg.train, kg.valid, kg.test])
    ev = LinkPredictionEvaluator(kg.num_entities, kg.num_relations,
                                 [kg.train, kg.valid, kg.test])
    return tm, ev.evaluate(tm.model, kg.test)['mrr']


def test_spec_from_recipe():
    spec = TrainingSpec.from_recipe('transe', budget_minutes=5, seed=3)
    rec = recipe('transe')
    assert spec.dim == rec['hidden_channels']
    assert spec.model_kwargs == rec['model_kwargs']
    assert spec.config.epochs == rec['train']['epochs']
    assert spec.config.eval_every == rec['train']['eval_every']
    assert spec.config.max_minutes == 5 and spec.config.seed == 3
    d = spec.to_dict()
    assert d['train']['lr'] == rec['train']['lr'] and d['budget_minutes'] == 5
    spec = TrainingSpec.from_recipe('transe', dim=16, epochs=4, patience=9)
    assert (spec.dim, spec.config.epochs, spec.config.patience) == (16, 4, 9)
    with pytest.raises(ValueError):
        TrainingSpec.from_recipe('transe', epochs=0)
    with pytest.raises(ValueError):
        TrainingSpec.from_recipe('nope')


def test_init_is_seeded():
    spec = TrainingSpec.from_recipe('distmult', dim=4, seed=1)
    a, b = spec.init_model(10, 2), spec.init_model(10, 2)
    assert (a.node_emb.weight == b.node_emb.weight).all()


def _history(curve, last_epoch):
    h = [dict(epoch=e, loss=1.0) for e in range(1, last_epoch + 1)]
    for epoch, mrr in curve:
        h[epoch - 1]['valid_mrr'] = mrr
    return h


def test_training_outcome_replays_the_stopping_rule():
    cfg = TrainConfig(epochs=10, eval_every=2, patience=2)
    stopped = training_outcome(
        _history([(2, .1), (4, .3), (6, .2), (8, .25)], 8), cfg)
    assert stopped['outcome'] == 'early_stopped'
    assert (stopped['best_valid_mrr'], stopped['best_epoch']) == (.3, 4)
    assert stopped['epochs_run'] == 8
    capped = training_outcome(
        _history([(2, .1), (4, .2), (6, .3), (8, .4), (10, .5)], 10), cfg)
    assert capped['outcome'] == 'max_epochs'
    budget = training_outcome(_history([(2, .1), (4, .2)], 5), cfg)
    assert budget['outcome'] == 'budget' and budget['epochs_run'] == 5
    plain = training_outcome(_history([], 3), TrainConfig(epochs=3,
                                                          eval_every=0))
    assert plain['outcome'] == 'max_epochs'
    assert plain['best_valid_mrr'] is None and plain['valid_curve'] == []


def test_training_outcome_of_real_runs(small_kg):
    tm, _ = _fit(small_kg, epochs=200, **FAST)
    assert tm.info['outcome'] == 'early_stopped'
    assert tm.info['epochs_run'] < 200
    tm, _ = _fit(small_kg, epochs=3, **FAST)
    assert tm.info['outcome'] == 'max_epochs' and tm.info['epochs_run'] == 3
    # A budget far below one epoch stops training after the first.
    tm, _ = _fit(small_kg, epochs=200, budget_minutes=1e-9, **FAST)
    assert tm.info['outcome'] == 'budget' and tm.info['epochs_run'] == 1


def test_undertraining_rules():
    rising = dict(outcome='max_epochs',
                  valid_curve=[[2, .1], [4, .2], [6, .25]])
    flat = dict(outcome='max_epochs',
                valid_curve=[[2, .1], [4, .25], [6, .2505]])
    stopped = dict(outcome='early_stopped', valid_curve=rising['valid_curve'])
    out = undertraining(rising, test_mrr=0.3)
    assert out['flag'] and 'still rising at the epoch cap' in \
        out['reasons'][0]
    assert undertraining(dict(rising, outcome='budget'), 0.3)['reasons'][
        0].count('time budget') == 1
    assert undertraining(flat, 0.3) == dict(flag=False, reasons=[])
    assert undertraining(stopped, 0.3) == dict(flag=False, reasons=[])
    low = undertraining(stopped, 0.01)
    assert low['flag'] and 'below the floor' in low['reasons'][0]
    assert not undertraining(stopped, 0.01, mrr_floor=0.005)['flag']
    # One validation at the cap counts as still rising.
    assert undertraining(dict(outcome='max_epochs', valid_curve=[[1, .1]]),
                         0.3)['flag']


def test_flag_fires_for_a_one_epoch_model(small_kg):
    tm, mrr = _fit(small_kg, epochs=1, **dict(FAST, eval_every=1))
    out = undertraining(tm.info, mrr, mrr_floor=0.9)
    assert out['flag']
    assert len(out['reasons']) == 2  # still rising, and below the floor
    with pytest.warns(UndertrainedWarning, match='under-trained'):
        check_training('original', tm.info, mrr, mrr_floor=0.9)
    with pytest.raises(UndertrainedError):
        check_training('original', tm.info, mrr, mrr_floor=0.9, strict=True)


def test_flag_quiet_for_a_converged_model(small_kg):
    tm, mrr = _fit(small_kg, epochs=200, **FAST)
    assert tm.info['outcome'] == 'early_stopped'
    assert mrr > 0.2
    assert undertraining(tm.info, mrr) == dict(flag=False, reasons=[])
