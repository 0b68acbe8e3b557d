r"""The end-to-end demo as library steps (the command line's ``demo`` prints
them).

Part one, :class:`KGDemo`: draw a random deletion request on a KG, train
the original model and the reference retrained without the forget set,
meta-train :class:`~torch_geometric_unlearn.MetaEU` on the original, unlearn
the request with MetaEU (and MetaEU-FT), and rank the test and the forget
triples with every model against one filter.

Part two, :func:`rec_demo`: EEMU, SISA and the unsharded retrain reference
on the synthetic interactions, one user deleted from each, and the check
that EEMU after the deletion equals an EEMU trained without that user.

.. code-block:: python

    from torch_geometric_unlearn.datasets import load_dataset
    from torch_geometric_unlearn.demo import KGDemo

    demo = KGDemo(load_dataset('synthetic-tiny'), epochs=3)
    demo.draw_request()
    demo.train('original')
    demo.train('retrained')
    demo.meta_train(episodes=20)
    demo.unlearn('MetaEU')
    rows = demo.compare()   # [{'label': 'original', 'test_mrr': ...}, ...]
"""
from __future__ import annotations

import copy
import time
from typing import Any, Dict, List, Optional

import torch
from torch import Tensor
from torch_geometric.data import Data

from .datasets import KGDataset

#: What the seconds of each row of :meth:`KGDemo.compare` measure.
SECONDS_OF = {
    'original': 'training',
    'retrained': 'retraining without the forget set',
    'MetaEU': 'unlearning (after {meta:.1f} s of meta-training, once per '
              'model)',
    'MetaEU-FT': 'unlearning with refinement (same generator)',
}


class KGDemo:
    r"""Part one of the demo: MetaEU against retraining on one random
    deletion request, step by step.

    Call :meth:`draw_request`, then :meth:`train` for :obj:`"original"` and
    :obj:`"retrained"`, :meth:`meta_train`, :meth:`unlearn` for each
    variant, and :meth:`compare`. Every step records its model in
    :attr:`models` and its wall time in :attr:`seconds`.

    Args:
        dataset (KGDataset): The knowledge graph.
        model (str, optional): KGE model: :obj:`"transe"`,
            :obj:`"distmult"`, :obj:`"complex"` or :obj:`"rotate"`.
            (default: :obj:`"complex"`)
        dim (int, optional): Embedding size. (default: :obj:`64`)
        epochs (int, optional): Training epochs of both models.
            (default: :obj:`10`)
        forget_ratio (float, optional): Share of the training triples in
            the request. (default: :obj:`0.01`)
        num_hops (int, optional): Expansion of the affected entities.
            (default: :obj:`0`)
        seed (int, optional): Seeds the request, the models and MetaEU.
            (default: :obj:`0`)
    """
    #: The demo's KGE training loss (and so MetaEU's meta-training loss
    #: family, see :data:`~torch_geometric_unlearn.metaeu.META_LOSS`).
    train_loss = 'bce'

    def __init__(self, dataset: KGDataset, model: str = 'complex',
                 dim: int = 64, epochs: int = 10, forget_ratio: float = 0.01,
                 num_hops: int = 0, seed: int = 0) -> None:
        self.dataset = dataset
        self.model_name = model
        self.dim = int(dim)
        self.epochs = int(epochs)
        self.forget_ratio = float(forget_ratio)
        self.num_hops = int(num_hops)
        self.seed = int(seed)
        self.models: Dict[str, torch.nn.Module] = {}
        self.seconds: Dict[str, float] = {}
        self.transform = None
        self.request: Optional[Data] = None
        self.retained: Optional[Data] = None
        self.forget_triples: Optional[Tensor] = None
        self.metaeu = None
        self._generator_state = None
        self._evaluator = None

    def draw_request(self) -> Data:
        r"""Draws the deletion request
        (:class:`~torch_geometric_unlearn.transforms.RandomForget`: no
        entity or relation is lost) and returns the transform's output
        (retained graph, ``forget_edge_index``, ``affected_mask``, ...); the
        forgotten ``(head, relation, tail)`` rows are kept in
        :attr:`forget_triples`, the retained graph in :attr:`retained`."""
        from .transforms import RandomForget

        t0 = time.perf_counter()
        self.transform = RandomForget(ratio=self.forget_ratio,
                                      seed=self.seed,
                                      num_hops=self.num_hops)
        out = self.transform(self.dataset.train)
        self.seconds['request'] = time.perf_counter() - t0
        self.request = out
        self.forget_triples = torch.stack([out.forget_edge_index[0],
                                           out.forget_edge_type,
                                           out.forget_edge_index[1]], dim=1)
        self.retained = Data(edge_index=out.edge_index,
                             edge_type=out.edge_type,
                             num_nodes=out.num_nodes,
                             num_relations=out.num_relations)
        return out

    def _need_request(self) -> None:
        if self.request is None:
            raise RuntimeError('call draw_request() first')

    def train(self, label: str) -> float:
        r"""Trains :obj:`"original"` (on the training graph) or
        :obj:`"retrained"` (on the retained graph) with the demo's recipe
        (BCE, 32 negatives, batch 512, lr 3e-3) and returns its seconds."""
        from .kge import KGETrainer, TrainConfig, load_kge_model

        self._need_request()
        graphs = {'original': self.dataset.train, 'retrained': self.retained}
        if label not in graphs:
            raise ValueError(f"'label' must be 'original' or 'retrained' "
                             f"(got '{label}')")
        cfg = TrainConfig(epochs=self.epochs, loss=self.train_loss,
                          num_negatives=32,
                          batch_size=512, lr=3e-3, eval_every=0,
                          seed=self.seed)
        torch.manual_seed(self.seed)
        model = load_kge_model(self.model_name, self.dataset.num_entities,
                               self.dataset.num_relations, self.dim)
        t0 = time.perf_counter()
        KGETrainer(model, cfg, progress=False).fit(graphs[label])
        self.seconds[label] = time.perf_counter() - t0
        self.models[label] = model
        return self.seconds[label]

    def metaeu_config(self, episodes: int):
        r"""The MetaEU configuration of the demo:
        :meth:`~torch_geometric_unlearn.MetaEUConfig.for_model` with lr 3e-4
        and validation every :obj:`min(100, episodes)` episodes."""
        from .metaeu import MetaEUConfig

        return MetaEUConfig.for_model(
            self.model_name, train_loss=self.train_loss, lr=3e-4,
            seed=self.seed,
            eval_every=max(1, min(100, int(episodes))))

    def meta_train(self, episodes: int = 300):
        r"""Meta-trains MetaEU on the original model for :obj:`episodes`
        episodes and returns it (its :attr:`history` holds the validation
        MRRs)."""
        from .metaeu import MetaEU

        if 'original' not in self.models:
            raise RuntimeError("call train('original') first")
        # The dataset itself, so that MetaEU's calibration has the unseen
        # (validation) triples as its reference.
        meu = MetaEU(self.models['original'], self.dataset,
                     self.metaeu_config(episodes), progress=False)
        meu.fit(episodes=episodes)
        self.seconds['meta-train'] = meu.fit_seconds
        self.metaeu = meu
        self._generator_state = copy.deepcopy(meu.generator.state_dict())
        return meu

    def unlearn(self, label: str = 'MetaEU', refine_steps: int = 0):
        r"""Unlearns the request with the meta-trained generator, applied to
        the original model (a fresh MetaEU per call, so variants do not
        stack), stores the model under :obj:`label` and returns the
        :class:`~torch_geometric_unlearn.metaeu.UnlearningRecord`."""
        from .metaeu import MetaEU

        self._need_request()
        if self.metaeu is None:
            raise RuntimeError('call meta_train() first')
        runner = MetaEU(self.models['original'], self.dataset,
                        self.metaeu.config, progress=False)
        runner.generator.load_state_dict(self._generator_state)
        runner._reference = self.metaeu._reference  # built once
        record = runner.unlearn(edge_ids=self.request.forget_edge_id,
                                num_hops=self.num_hops,
                                refine_steps=refine_steps).record
        self.models[label] = runner.model
        self.seconds[label] = record.seconds
        return record

    def evaluator(self):
        r"""The evaluator every model is ranked with; its filter is the graph
        as it must look after unlearning: the retained training triples,
        valid and test (the forget set is never filtered, so it can be
        ranked)."""
        from .kge import LinkPredictionEvaluator

        self._need_request()
        if self._evaluator is None:
            self._evaluator = LinkPredictionEvaluator(
                self.dataset.num_entities, self.dataset.num_relations,
                filter_triples=[self.retained, self.dataset.valid,
                                self.dataset.test])
        return self._evaluator

    def compare(self) -> List[Dict[str, Any]]:
        r"""Filtered test and forget-set MRR of every model so far, in the
        order trained: a list of dicts with ``label``, ``test_mrr``,
        ``forget_mrr``, ``seconds`` and ``seconds_of`` (what the seconds
        measure)."""
        ev = self.evaluator()
        rows = []
        for label, model in self.models.items():
            what = SECONDS_OF.get(label, '').format(
                meta=self.seconds.get('meta-train', 0.0))
            rows.append(dict(
                label=label,
                test_mrr=ev.evaluate(model, self.dataset.test)['mrr'],
                forget_mrr=ev.evaluate(model, self.forget_triples)['mrr'],
                seconds=self.seconds[label], seconds_of=what))
        return rows


def kg_json(rows: List[Dict[str, Any]]) -> Dict[str, Dict[str, float]]:
    r"""The ``"kg"`` object of ``demo --out``: the rows of
    :meth:`KGDemo.compare` keyed ``original``, ``retrained``, ``metaeu``
    and ``metaeu_ft``, each with ``test_mrr``, ``forget_mrr`` and
    ``seconds``."""
    keys = {'original': 'original', 'retrained': 'retrained',
            'MetaEU': 'metaeu', 'MetaEU-FT': 'metaeu_ft'}
    return {keys.get(r['label'], r['label']): dict(
        test_mrr=float(r['test_mrr']), forget_mrr=float(r['forget_mrr']),
        seconds=float(r['seconds'])) for r in rows}


def rec_demo(seed: int = 0) -> Dict[str, Any]:
    r"""Part two of the demo: trains the unsharded MF
    (:class:`~torch_geometric_unlearn.rec.RetrainRec`), plain SISA and
    :class:`~torch_geometric_unlearn.EEMU` (4 shards) on the seeded
    synthetic interactions and deletes one user from each.

    Returns:
        dict: ``data`` (the interactions, in words), ``user``, ``shards``
        (the shards EEMU retrained), ``num_shards``, ``rows`` (per method:
        ``method``, ``recall_before``, ``fit_seconds``, ``delete_seconds``,
        ``recall_after``; Recall@20, filtered by the training and
        validation interactions) and ``exact`` (whether EEMU after the
        deletion equals, bit for bit, an EEMU trained without the user's
        data).
    """
    from .rec import (EEMU, EEMUConfig, RetrainRec, SISARec,
                      make_synthetic_interactions, ranking_metrics)

    data = make_synthetic_interactions(seed=seed)
    train = data.edge_index('train')
    cfg = EEMUConfig(model='mf', dim=32, epochs=20, lr=5e-3, batch_size=512,
                     users_per_step=16, num_shards=4, seed=seed)

    def recall(m) -> float:
        return ranking_metrics(m.score_fn(), data.num_items,
                               data.edge_index('test'),
                               [m.edge_index, data.edge_index('valid')]
                               )['recall@20']

    user = int(train[0, 0])
    rows = []
    for cls in (RetrainRec, SISARec, EEMU):
        m = cls(data.num_users, data.num_items, cfg).fit(train)
        before = recall(m)
        info = m.unlearn(user)
        rows.append(dict(method=cls.name, recall_before=before,
                         fit_seconds=m.fit_seconds,
                         delete_seconds=info['seconds'],
                         recall_after=recall(m)))
    fresh = EEMU(data.num_users, data.num_items, cfg).fit(
        train[:, train[0] != user])
    exact = all(torch.equal(a, b) for a, b in zip(
        m.state_dict().values(), fresh.state_dict().values()))
    return dict(data=str(data), user=user, shards=info['shards'],
                num_shards=cfg.num_shards, rows=rows, exact=exact)


__all__ = ['KGDemo', 'rec_demo', 'kg_json', 'SECONDS_OF']
