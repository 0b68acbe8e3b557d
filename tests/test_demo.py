import pytest
import torch

from torch_geometric_unlearn.metaeu import META_LOSS, MODEL_DEFAULTS
from torch_geometric_unlearn.datasets import load_dataset
from torch_geometric_unlearn.demo import KGDemo, rec_demo


def test_kg_demo_steps():
    kg = load_dataset('synthetic-tiny')
    demo = KGDemo(kg, model='distmult', dim=8, epochs=1, forget_ratio=0.02,
                  seed=1)
    with pytest.raises(RuntimeError, match='draw_request'):
        demo.train('original')
    out = demo.draw_request()
    num_forget = round(0.02 * kg.train.num_edges)
    assert demo.forget_triples.shape == (num_forget, 3)
    assert demo.retained.num_edges == kg.train.num_edges - num_forget
    assert torch.equal(demo.forget_triples[:, 1], out.forget_edge_type)
    with pytest.raises(RuntimeError, match='original'):
        demo.meta_train(episodes=2)
    for label in ('original', 'retrained'):
        assert demo.train(label) > 0
    with pytest.raises(ValueError, match="'original' or 'retrained'"):
        demo.train('other')
    meu = demo.meta_train(episodes=2)
    # The loss family of the demo's training loss (BCE: sigmoid-based),
    # whatever the model's own default, at the demo's learning rate.
    assert demo.train_loss == 'bce'
    assert MODEL_DEFAULTS[demo.model_name]['loss'] == 'softmax'
    assert meu.config.loss == META_LOSS['bce'] == 'self_adversarial'
    assert meu.config.lr == 3e-4
    assert demo.metaeu_config(500).eval_every == 100
    record = demo.unlearn('MetaEU')
    assert record.num_forget == num_forget
    ft = demo.unlearn('MetaEU-FT', refine_steps=1)
    assert ft.refine_steps == 1 and ft.num_forget == num_forget
    rows = demo.compare()
    assert [r['label'] for r in rows] == ['original', 'retrained', 'MetaEU',
                                          'MetaEU-FT']
    for r in rows:
        assert 0 < r['test_mrr'] <= 1 and 0 < r['forget_mrr'] <= 1
        assert r['seconds'] == demo.seconds[r['label']] > 0
    assert rows[2]['seconds_of'].startswith('unlearning (after ')
    # Each variant starts from the original model.
    assert not torch.equal(demo.models['MetaEU'].node_emb.weight,
                           demo.models['original'].node_emb.weight)


def test_rec_demo():
    res = rec_demo(seed=0)
    assert [r['method'] for r in res['rows']] == ['retrain', 'sisa', 'eemu']
    for r in res['rows']:
        assert 0 <= r['recall_before'] <= 1 and 0 <= r['recall_after'] <= 1
        assert r['fit_seconds'] > 0 and r['delete_seconds'] >= 0
    assert res['exact'] is True
    assert res['num_shards'] == 4 and res['user'] >= 0
