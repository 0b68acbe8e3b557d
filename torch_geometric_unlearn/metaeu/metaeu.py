r"""MetaEU: meta-learned knowledge graph embedding unlearning.

The class is assembled from its concerns: :mod:`.config` (hyper-parameters),
:mod:`.training` (meta-training), :mod:`.unlearning` (serving requests);
this module holds the constructor, the scoring helpers both halves share,
and persistence."""
from __future__ import annotations

import os
from dataclasses import asdict
from typing import Any, Dict, List, Optional, Union

import torch
from torch import Tensor
from torch_geometric.data import Data

from ..datasets.kg import KGDataset, to_triples
from ..kge.losses import sampled_loss
from ..kge.scoring import KGEScorer, get_scorer, model_name
from ..nn.generator import EmbeddingGenerator
from ..utils.fingerprint import model_hash
from ..utils.io import atomic_save
from ..unlearner import Unlearner, register_method
from .calibration import ScoreReference
from .config import FORMAT, LOSS_DEFAULTS, MetaEUConfig
from .training import MetaTraining
from .unlearning import Unlearning

__all__ = ['MetaEU']


@register_method('metaeu')
class MetaEU(MetaTraining, Unlearning, Unlearner):
    r"""Meta-learned knowledge graph embedding unlearning, from the `"Learn
    to Unlearn: Meta-Learning-Based Knowledge Graph Embedding Unlearning"
    <https://arxiv.org/abs/2412.00881>`_ paper.

    Wraps a trained PyG KGE model (:class:`~torch_geometric.nn.kge.TransE`,
    :class:`DistMult`, :class:`ComplEx`, :class:`RotatE`) and its training
    graph. :meth:`fit` meta-trains an
    :class:`~torch_geometric_unlearn.nn.EmbeddingGenerator` (RAEEG + NEEM)
    on simulated deletions with the KGE model frozen; :meth:`unlearn` then
    serves a deletion request with the deletion transform and one generator
    forward pass over the affected entities' retained neighbourhood, writing
    the generated rows into a copy of the model.

    .. code-block:: python

        meu = MetaEU(model, kg.train)
        meu.fit(episodes=500)
        result = meu.unlearn(torch.tensor([[0, 3, 7]]))  # (h, r, t) rows
        result.model, result.record.seconds

    Requests are sequential: each :meth:`unlearn` works on the retained
    graph and the model of the previous one (:attr:`data`,
    :attr:`model`), so what was forgotten stays forgotten. The model given
    to the constructor is never modified unless ``inplace=True``.

    This is approximate unlearning: the generator's weights were
    meta-trained on the graph that held the forgotten triples, and the rows
    of entities outside the affected set are kept as trained.

    Args:
        model (torch.nn.Module): The trained KGE model (kept frozen).
        data (Data or KGDataset): Its training graph (a dataset's
            :obj:`train` split is used).
        config (MetaEUConfig, optional): Hyper-parameters; keyword arguments
            override single fields. (default: :obj:`MetaEUConfig()`)
        progress (bool, optional): Show progress bars. (default: :obj:`True`)
        ledger (Ledger, optional): Requests already served on :obj:`model`
            (see :class:`~torch_geometric_unlearn.unlearner.Unlearner`).
        retained (Data, optional): The graph those requests left.
        hash_models (bool, optional): Record model hashes in the ledger.
            (default: :obj:`True`)
        reference (Data or Tensor, optional): Triples the model never saw
            (its validation split; taken from :obj:`data` when it is a
            :class:`KGDataset`), the reference of ``"correct"`` mode's
            calibration.
    """
    def __init__(self, model: torch.nn.Module, data: Union[Data, KGDataset],
                 config: Optional[MetaEUConfig] = None,
                 progress: bool = True, ledger=None,
                 retained: Optional[Data] = None, hash_models: bool = True,
                 reference: Optional[Union[Data, Tensor]] = None,
                 **kwargs) -> None:
        cfg = asdict(config) if config is not None else {}
        cfg.update(kwargs)
        self.config = MetaEUConfig.from_dict(cfg)
        self.progress = progress
        scorer = get_scorer(model)
        if type(scorer).tail_query_rep is KGEScorer.tail_query_rep:
            raise TypeError(f'MetaEU supports TransE, DistMult, ComplEx and '
                            f'RotatE, not {type(model).__name__}')
        Unlearner.__init__(self, model, data, ledger=ledger,
                           retained=retained, hash_models=hash_models)
        r = int(model.num_relations)
        n = int(model.num_nodes)
        self.channels = int(scorer.param_rows(torch.zeros(
            1, dtype=torch.long, device=scorer.device)).size(-1))
        c = self.config
        with torch.random.fork_rng(devices=[]):  # seeded, caller's RNG kept
            torch.manual_seed(c.seed)
            self.generator = EmbeddingGenerator(r, self.channels,
                                                c.hidden_channels,
                                                c.num_layers, c.num_bases,
                                                c.num_passes,
                                                match_norm=not scorer.distance)
        self.generator.to(scorer.device)
        with torch.no_grad():
            sample = torch.arange(min(n, 100_000), device=scorer.device)
            self.generator.set_scale(
                scorer.represent(scorer.param_rows(sample)))
        self.history: List[Dict[str, float]] = []
        self.fit_seconds = 0.0
        if reference is None and isinstance(data, KGDataset):
            reference = data.valid
        if isinstance(reference, Data):
            reference = to_triples(reference)
        #: Unseen triples ``[V, 3]`` (validation) behind the calibration.
        self.reference_triples: Optional[Tensor] = reference
        self._reference: Optional[ScoreReference] = None

    def has_reference(self) -> bool:
        r"""Whether the calibration of ``"correct"`` mode has its unseen
        reference (without it, ``"correct"`` mode falls back to the
        learning-free leave-k-out correction)."""
        return self._reference is not None or (
            self.reference_triples is not None
            and self.reference_triples.numel() > 0)

    def prepare(self) -> 'MetaEU':
        r""":meth:`Unlearner.prepare`, and the calibration's score
        reference (:meth:`score_reference`) in ``"correct"`` mode."""
        super().prepare()
        if self.config.mode == 'correct' and self.has_reference():
            self.score_reference()
        return self

    def score_reference(self) -> ScoreReference:
        r"""The per-relation score reference of the calibration (see
        :class:`~torch_geometric_unlearn.metaeu.calibration.ScoreReference`),
        built once from the trained model, its training triples and the
        unseen :attr:`reference_triples`, and saved with the MetaEU."""
        if self._reference is None:
            if self.reference_triples is None or \
                    self.reference_triples.numel() == 0:
                raise ValueError(
                    "'correct' mode calibrates against unseen triples: "
                    "give the MetaEU a KGDataset (its validation split) or "
                    "reference=<validation triples>, or use "
                    "mode='regenerate'")
            self._reference = ScoreReference(
                get_scorer(self.model), to_triples(self.data),
                self.reference_triples, int(self.model.num_relations))
        return self._reference

    # Helpers shared by meta-training and unlearning ######################

    def _loss_params(self):
        scale, margin = LOSS_DEFAULTS.get(self.model_name, (1.0, 0.0))
        if self.config.score_scale is not None:
            scale = self.config.score_scale
        if self.config.margin is not None:
            margin = self.config.margin
        return scale, margin

    def _implied(self, scorer: KGEScorer):
        if not self.config.use_implied:
            return None
        num_rel = int(self.model.num_relations)

        def implied(src: Tensor, edge_type: Tensor) -> Tensor:
            fwd = (edge_type < num_rel).nonzero().view(-1)
            inv = (edge_type >= num_rel).nonzero().view(-1)
            # A forward edge's source is the head: it implies the tail; an
            # inverse edge's source is the tail: it implies the head.
            as_tail = scorer.tail_query_rep(src[fwd], edge_type[fwd])
            as_head = scorer.head_query_rep(edge_type[inv] - num_rel,
                                            src[inv])
            order = torch.argsort(torch.cat([fwd, inv]))
            return torch.cat([as_tail, as_head], dim=0)[order]

        return implied

    @staticmethod
    def _freeze(model: torch.nn.Module):
        flags = [p.requires_grad for p in model.parameters()]
        for p in model.parameters():
            p.requires_grad_(False)
        return flags

    @staticmethod
    def _unfreeze(model: torch.nn.Module, flags) -> None:
        for p, flag in zip(model.parameters(), flags):
            p.requires_grad_(flag)

    def _scores(self, scorer: KGEScorer, head: Tensor, rel: Tensor,
                tail: Tensor, neg: Tensor, extra: Optional[Tensor] = None,
                head_mask: Optional[Tensor] = None,
                tail_mask: Optional[Tensor] = None):
        r"""Positive ``[Q]`` and negative ``[Q, K]`` scores of triples given
        as representations, in both directions (tail side first).

        :obj:`neg` ``[K, D]`` are shared negatives; :obj:`extra` ``[T, D]``
        are further shared negatives -- the generated representations of the
        episode, which must also rank low for queries that are not theirs --
        and :obj:`tail_mask` / :obj:`head_mask` ``[Q, K + T]`` mark the
        candidates, shared negatives then extra ones, that are true answers
        of a query (filtered out).
        """
        out = []
        for query, pos, mask in ((scorer.tail_query_rep(head, rel), tail,
                                  tail_mask),
                                 (scorer.head_query_rep(rel, tail), head,
                                  head_mask)):
            p = scorer.score_pairs(query, pos)
            n = scorer.score_against(query, neg)
            if extra is not None and extra.numel() > 0:
                n = torch.cat([n, scorer.score_against(query, extra)], dim=1)
            if mask is not None:
                n = n.masked_fill(mask[:, :n.size(1)], float('-inf'))
            out.append((p, n))
        return out

    def _triple_loss(self, scorer: KGEScorer, head: Tensor, rel: Tensor,
                     tail: Tensor, neg: Tensor, extra: Optional[Tensor] = None,
                     head_mask: Optional[Tensor] = None,
                     tail_mask: Optional[Tensor] = None) -> Tensor:
        r"""Loss of triples given as representations ``[Q, D]`` against
        shared negative representations (see :meth:`_scores`), both
        directions."""
        scale, margin = self._loss_params()
        loss = head.new_zeros(())
        for p, n in self._scores(scorer, head, rel, tail, neg, extra,
                                 head_mask, tail_mask):
            loss = loss + sampled_loss(
                self.config.loss, p * scale, n * scale, margin=margin,
                temperature=self.config.adversarial_temperature)
        return loss / 2

    def _generate(self, scorer: KGEScorer, nodes: Tensor, affected: Tensor,
                  edge_index: Tensor, edge_type: Tensor,
                  base_edge_index: Optional[Tensor] = None,
                  base_edge_type: Optional[Tensor] = None) -> Tensor:
        x = scorer.represent(scorer.param_rows(nodes))
        return self.generator(x, edge_index, edge_type, affected,
                              implied=self._implied(scorer),
                              base_edge_index=base_edge_index,
                              base_edge_type=base_edge_type)

    # Persistence ############################################################

    @property
    def base_model_hash(self) -> Optional[str]:
        r"""The content hash of the model the generator is meta-trained
        for: the original model, before any request (:obj:`None` when
        models are not hashed)."""
        if len(self.ledger):
            return self.ledger[0].get('input_model')
        if not self.hash_models:
            return None
        if getattr(self, '_base_hash', None) is None:
            self._base_hash = model_hash(self.model)
        return self._base_hash

    def state_dict(self) -> Dict[str, Any]:
        r"""The generator, its config and fingerprints, the meta-training
        history and, once requests were served, their ledger and the
        retained graph."""
        state = {
            'format': FORMAT,
            'config': asdict(self.config),
            'generator': self.generator.state_dict(),
            'model_name': self.model_name,
            'num_nodes': int(self.original.num_nodes),
            'num_relations': int(self.model.num_relations),
            'channels': self.channels,
            'history': list(self.history),
            'fit_seconds': self.fit_seconds,
            'trained_for': self.base_model_hash,
            'graph_hash': self.original_hash,
            'ledger': self.ledger.to_list(),
            'retained': None,
            'reference': None,
        }
        if self._reference is None and self.reference_triples is not None \
                and len(self.ledger) == 0:
            self.score_reference()  # built from the trained model
        if self._reference is not None:
            state['reference'] = self._reference.state_dict()
        if len(self.ledger):
            state['retained'] = dict(edge_index=self.data.edge_index,
                                     edge_type=self.data.edge_type)
        # What the calibration remembers across requests: the targets given
        # to forgotten triples and the rows before their first rewrite.
        targets = getattr(self, '_forget_targets', None) or {}
        first = getattr(self, '_first_rows', None)
        state['calibration_memory'] = dict(
            target_keys=torch.tensor(list(targets), dtype=torch.long),
            target_values=torch.tensor(list(targets.values())),
            first_ids=None if first is None else first[0],
            first_rows=None if first is None else first[1])
        return state

    def save(self, path: str) -> None:
        r"""Saves the meta-trained generator, its config and fingerprints
        and the request history (not the KGE model), atomically."""
        atomic_save(self.state_dict(), path)

    @classmethod
    def load(cls, path: str, model: torch.nn.Module,
             data: Union[Data, KGDataset], progress: bool = True,
             ledger=None, retained: Optional[Data] = None,
             hash_models: bool = True, **overrides) -> 'MetaEU':
        r"""Restores a MetaEU saved with :meth:`save` for :obj:`model` and
        its *original* training graph :obj:`data`; keyword arguments
        override unlearning options (e.g. ``ensemble=4``).

        :obj:`ledger` and :obj:`retained` continue from requests served on
        :obj:`model` elsewhere (e.g. the state of an unlearned checkpoint);
        without them, the file's own request history is restored.

        Raises:
            ValueError: when the file is not a MetaEU, is truncated, or was
                meta-trained for another model, graph or size.
        """
        if not os.path.isfile(path):
            raise FileNotFoundError(f"MetaEU file '{path}' does not exist")
        try:
            state = torch.load(path, map_location='cpu', weights_only=False)
        except Exception as e:  # truncated, or not a torch file
            raise ValueError(f"'{path}' is not a readable MetaEU file "
                             f'({type(e).__name__}: {e})') from None
        if not isinstance(state, dict) or state.get('format') != FORMAT:
            raise ValueError(f"'{path}' is not a saved MetaEU")
        if state['model_name'] != model_name(model):
            raise ValueError(f"the MetaEU '{path}' was trained for a "
                             f"{state['model_name']} model, not "
                             f"{model_name(model)}")
        if int(state['num_relations']) != int(model.num_relations) or \
                int(state['num_nodes']) != int(model.num_nodes):
            raise ValueError(f"the MetaEU '{path}' was trained for a model "
                             f"with {state['num_nodes']} entities and "
                             f"{state['num_relations']} relations, not "
                             f'{int(model.num_nodes)} and '
                             f'{int(model.num_relations)}')
        if ledger is None and state.get('ledger'):
            from ..ledger import Ledger
            ledger = Ledger(state['ledger'])
            r = state['retained']
            retained = Data(edge_index=r['edge_index'],
                            edge_type=r['edge_type'],
                            num_nodes=int(model.num_nodes),
                            num_relations=int(model.num_relations))
        cfg = dict(state['config'])
        cfg.update(overrides)
        meu = cls(model, data, MetaEUConfig.from_dict(cfg), progress=progress,
                  ledger=ledger, retained=retained, hash_models=hash_models)
        if state.get('graph_hash') not in (None, meu.original_hash):
            raise ValueError(f"the MetaEU '{path}' was meta-trained on "
                             f"another training graph than the data given")
        trained_for = state.get('trained_for')
        if trained_for is not None and meu.base_model_hash is not None \
                and meu.base_model_hash != trained_for:
            raise ValueError(f"the MetaEU '{path}' was meta-trained for "
                             f"another checkpoint than this model")
        if meu.channels != int(state['channels']):
            raise ValueError('the MetaEU was trained for entity rows of size '
                             f"{state['channels']}, the model has "
                             f'{meu.channels}')
        meu.generator.load_state_dict(state['generator'])
        meu.generator.eval()
        if state.get('reference') is not None:
            meu._reference = ScoreReference.from_state(state['reference'])
        memory = state.get('calibration_memory') or {}
        if memory.get('target_keys') is not None and \
                memory['target_keys'].numel():
            meu._forget_targets = dict(zip(
                memory['target_keys'].tolist(),
                memory['target_values'].tolist()))
        if memory.get('first_ids') is not None:
            meu._first_rows = (memory['first_ids'], memory['first_rows'])
        meu.history = list(state.get('history', []))
        meu.fit_seconds = float(state.get('fit_seconds', 0.0))
        return meu

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}({self.model_name}, '
                f'entities={self.data.num_nodes}, '
                f'triples={self.data.num_edges})')
