r"""The hyper-parameters of :class:`~torch_geometric_unlearn.MetaEU` and
their per-model defaults."""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Dict, Optional

__all__ = ['MetaEUConfig', 'LOSS_DEFAULTS', 'MODEL_DEFAULTS', 'META_LOSS',
           'REFINE_LR',
           'FORMAT']

FORMAT = 'torch_geometric_unlearn.metaeu/1'

#: Default logit scale and margin of the meta-training loss per model: the
#: logits are ``score_scale * score + margin`` (as in the KGE trainer's
#: default recipes).
LOSS_DEFAULTS = {
    'transe': (8.0, 6.0),
    'rotate': (1.0, 0.0),
    'distmult': (1.0, 0.0),
    'complex': (1.0, 0.0),
}


#: Per-model defaults of :meth:`MetaEUConfig.for_model`: the meta-training
#: loss of the loss family the package's recipe trains the model with
#: (:data:`~torch_geometric_unlearn.kge.trainer.RECIPES`): sigmoid-based
#: for TransE and RotatE, softmax for DistMult and ComplEx. A generator
#: meta-trained with the other family moves the model's scores to a scale
#: it was not trained at: on FB15k-237, held-out episodes' MRR of the
#: softmax-trained ComplEx fell from the untrained generator's 0.498 to
#: 0.384 over 100 episodes with the self-adversarial loss and rose to 0.642
#: with the softmax loss (on a synthetic ComplEx trained with the
#: sigmoid-based BCE loss it was the other way round: 0.321 -> 0.351
#: self-adversarial, 0.279 softmax). :meth:`MetaEUConfig.for_model` takes the
#: model's actual training loss where it is known (:data:`META_LOSS`).
#: DistMult and ComplEx also split the calibration's anchors into 8 batches
#: rather than 4 (``calibrate_anchor_batches``).
MODEL_DEFAULTS: Dict[str, Dict[str, Any]] = {
    'transe': dict(loss='self_adversarial'),
    'rotate': dict(loss='self_adversarial'),
    'distmult': dict(loss='softmax', calibrate_anchor_batches=8),
    'complex': dict(loss='softmax', calibrate_anchor_batches=8),
}


#: The meta-training loss for each KGE training loss
#: (:class:`~torch_geometric_unlearn.kge.TrainConfig`'s ``loss``): the same
#: family, so generated rows score on the trained rows' scale.
META_LOSS = {'softmax': 'softmax', '1vsall': 'softmax',
             'self_adversarial': 'self_adversarial',
             'bce': 'self_adversarial', 'margin': 'self_adversarial'}


#: Default learning rate of the MetaEU-FT refinement per model.
REFINE_LR = {'transe': 1e-3, 'rotate': 1e-2, 'distmult': 1e-3,
             'complex': 1e-3}


#: The options with a fixed set of values, and those values.
_CHOICES: Dict[str, tuple] = {
    'loss': ('self_adversarial', 'softmax'),
    'calibrate_solver': ('adam', 'newton'),
    'calibrate_engine': ('auto', 'autograd'),
    'calibrate_linked': ('rules', 'skip'),
    'calibrate_anchors': ('fast', 'exact'),
    'calibrate_from': ('original', 'current'),
    'mode': ('correct', 'regenerate'),
}


@dataclass
class MetaEUConfig:
    r"""Hyper-parameters of :class:`MetaEU` (all JSON-able).

    Args:
        hidden_channels (int): Hidden size of NEEM. (default: :obj:`64`)
        num_layers (int): NEEM layers. (default: :obj:`3`)
        num_bases (int): Bases of NEEM's relation weights.
            (default: :obj:`4`)
        num_passes (int): Generation passes (see
            :class:`~torch_geometric_unlearn.nn.EmbeddingGenerator`).
            (default: :obj:`1`)
        use_implied (bool): Give the generator the KGE model's implied
            representations (e.g. :math:`\mathbf{t} - \mathbf{r}`). Without
            them it starts from RAEEG alone. (default: :obj:`True`)
        episodes (int): Meta-training episodes. (default: :obj:`1000`)
        episode_forget (int): Pseudo-forgotten triples per episode (more
            makes episodes look like larger requests, where many neighbours
            of an affected entity are affected too). (default: :obj:`256`)
        max_edges (int): Triples drawn per target entity in an episode.
            (default: :obj:`32`)
        query_ratio (float): Share of a target's triples hidden as queries.
            (default: :obj:`0.25`)
        forget_queries (bool): Score the pseudo-forgotten triples as queries
            too (see :class:`EpisodeSampler`). (default: :obj:`False`)
        num_negatives (int): Shared random negatives per episode.
            (default: :obj:`256`)
        loss (str): :obj:`"self_adversarial"` (RotatE's self-adversarial
            negative sampling) or :obj:`"softmax"`.
            (default: :obj:`"self_adversarial"`; :meth:`for_model`: the
            model's, see :data:`MODEL_DEFAULTS`)
        score_scale (float, optional): Logit scale (default per model, see
            :data:`LOSS_DEFAULTS`).
        margin (float, optional): Logit offset (default per model).
        adversarial_temperature (float): :math:`\alpha`. (default: :obj:`1.0`)
        lr (float): Adam learning rate. (default: :obj:`1e-3`)
        weight_decay (float): (default: :obj:`0.0`)
        eval_every (int): Validate every this many episodes.
            (default: :obj:`100`)
        val_episodes (int): Held-out validation episodes.
            (default: :obj:`8`)
        val_negatives (int): Random negatives that validation ranks a query
            against. (default: :obj:`500`)
        patience (int): Stop after this many validations without
            improvement (0: never). (default: :obj:`5`)
        max_minutes (float): Wall-time limit of :meth:`MetaEU.fit` (0: none).
            (default: :obj:`0`)
        num_hops (int): Default expansion of the affected entities at
            unlearning time. (default: :obj:`0`)
        ensemble (int): Default ensemble size :math:`K`. (default: :obj:`1`)
        ensemble_dropout (float): Support-triple dropout of each ensemble
            member when :math:`K > 1`. (default: :obj:`0.1`)
        unlearn_max_edges (int, optional): At unlearning time the message
            passing reads at most this many (seeded random) retained triples
            per affected entity -- meta-training sees at most
            :obj:`max_edges` -- while the implied mean reads all of them
            (:obj:`None`: all). (default: :obj:`32`)
        refine_steps (int): Default MetaEU-FT refinement steps.
            (default: :obj:`0`)
        refine_lr (float, optional): Adam learning rate of the refinement
            (default per model, see :data:`REFINE_LR`).
        refine_batch_size (int): Retained triples per refinement step
            (scored against :obj:`num_negatives` random entities and as many
            refined rows). (default: :obj:`1024`)
        mode (str): :obj:`"correct"` -- entities that keep retained triples
            start from their trained rows, the others are regenerated, and
            the calibration makes the forgotten triples score like unseen
            triples of their relation while the retained ones keep their
            scores (see :mod:`~torch_geometric_unlearn.metaeu.calibration`);
            or :obj:`"regenerate"` -- every affected row is rebuilt by the
            generator from the retained neighbourhood, no affected row is
            read (for requests where nothing of them may survive).
            (default: :obj:`"correct"`)
        calibrate_steps (int): Adam steps of the calibration in
            :obj:`"correct"` mode (0: none). (default: :obj:`50`)
        calibrate_lr (float): Their step size, relative to the rows' mean
            norm. (default: :obj:`0.01`)
        calibrate_weight (float): :math:`\lambda`, the weight of keeping
            the retained triples' scores. (default: :obj:`1.0`)
        calibrate_max_edges (int, optional): Retained triples per affected
            entity (a seeded sample) that anchor its scores (:obj:`None`:
            all; 0: none). (default: :obj:`64`)
        calibrate_prox (float): :math:`\mu`, the weight of staying near the
            starting rows (relative squared distance). (default: :obj:`0`)
        calibrate_solver (str): :obj:`"adam"` (:obj:`calibrate_steps` Adam
            steps) or :obj:`"newton"` (:obj:`newton_iterations`
            Gauss--Newton steps with per-entity minimum-norm solves:
            about 20 ms for a single triple on CoDEx-S instead of 150 ms,
            at a cost in quality on large requests; see
            :func:`~torch_geometric_unlearn.metaeu.calibration.
            calibrate_newton`). (default: :obj:`"adam"`)
        calibrate_anchors (str): With the autograd engine,
            :obj:`"fast"` (an anchor with one affected end scored in closed
            form from that end's change, the same scores several times
            faster) or :obj:`"exact"` (every anchor scored through the
            model at every step); the hand engine scores every triple
            exactly in closed form either way. See
            :func:`~torch_geometric_unlearn.metaeu.calibration.calibrate`.
            (default: :obj:`"fast"`)
        calibrate_engine (str): :obj:`"auto"` (closed-form gradients and
            Adam by hand for TransE with :math:`p = 2`, RotatE, DistMult
            and ComplEx; autograd for the others) or :obj:`"autograd"`
            (always through the scorer, the reference the hand engine is
            tested and benchmarked against). (default: :obj:`"auto"`)
        calibrate_linked (str): A forgotten triple whose two entities a
            retained triple still links, when the unseen reference has no
            such triples (FB15k-237's validation split excludes them):
            :obj:`"rules"` -- its target keeps the share of its trained
            score that the rules from the linking triples' relations
            would infer back (see :meth:`~torch_geometric_unlearn.metaeu.
            calibration.ScoreReference.linked_targets`); :obj:`"skip"` --
            it gets no target. (default: :obj:`"rules"`)
        calibrate_earlier (bool): Also hold the triples that earlier
            requests forgot around the affected entities at the targets
            they were given then, so a later request that moves the rows
            again neither brings them back nor forgets them further.
            (default: :obj:`True`)
        calibrate_from (str): Where the calibration's targets and anchors
            are scored: :obj:`"original"` (the rows as they were before the
            first request that rewrote them, so successive requests do not
            compound each other's drift) or :obj:`"current"` (the model as
            the previous request left it). (default: :obj:`"original"`)
        calibrate_anchor_batches (int): :math:`K`: the anchors are split
            into :math:`K` seeded batches and each Adam step holds the
            forgotten triples and, in turn, one batch at :math:`K` times
            its weight (an unbiased estimate of the anchors' mean at
            :math:`1 / K` of their cost; every anchor still counts, once
            every :math:`K` steps). :obj:`1`: every anchor at every step.
            A request with fewer than :math:`K` times
            :data:`~torch_geometric_unlearn.metaeu.calibration.MIN_ANCHOR_BATCH`
            anchors uses fewer batches.
            (default: :obj:`4`; :obj:`8` for DistMult and ComplEx in
            :data:`MODEL_DEFAULTS`: on FB15k-237 their forget gap and
            test MRR were unchanged at 8 and their requests cost the most)
        newton_iterations (int): Gauss--Newton steps of the
            :obj:`"newton"` solver. (default: :obj:`1`)
        forget_weight (float): Weight of the forgetting objective in
            meta-training: pseudo-forgotten triples scored with generated
            rows are pulled to their relation's typical unseen score. Off
            by default: on the synthetic KG even a weight of 0.1 cost a
            quarter of the generator's validation MRR, and ``"correct"``
            mode calibrates at request time instead. (default: :obj:`0.0`)
        leave_k_out_step (float): Step :math:`s` of the learning-free
            leave-k-out correction ``"correct"`` mode falls back to without
            unseen reference triples. (default: :obj:`2.0`)
        seed (int): Random seed. (default: :obj:`0`)
    """
    hidden_channels: int = 64
    num_layers: int = 3
    num_bases: int = 4
    num_passes: int = 1
    use_implied: bool = True
    episodes: int = 1000
    episode_forget: int = 256
    max_edges: int = 32
    query_ratio: float = 0.25
    forget_queries: bool = False
    num_negatives: int = 256
    loss: str = 'self_adversarial'
    score_scale: Optional[float] = None
    margin: Optional[float] = None
    adversarial_temperature: float = 1.0
    lr: float = 1e-3
    weight_decay: float = 0.0
    eval_every: int = 100
    val_episodes: int = 8
    val_negatives: int = 500
    patience: int = 5
    max_minutes: float = 0.0
    num_hops: int = 0
    ensemble: int = 1
    ensemble_dropout: float = 0.1
    unlearn_max_edges: Optional[int] = 32
    refine_steps: int = 0
    refine_lr: Optional[float] = None
    refine_batch_size: int = 1024
    mode: str = 'correct'
    calibrate_steps: int = 50
    calibrate_lr: float = 0.01
    calibrate_weight: float = 1.0
    calibrate_max_edges: Optional[int] = 64
    calibrate_prox: float = 0.0
    calibrate_solver: str = 'adam'
    calibrate_anchors: str = 'fast'
    calibrate_engine: str = 'auto'
    calibrate_linked: str = 'rules'
    calibrate_earlier: bool = True
    calibrate_from: str = 'original'
    calibrate_anchor_batches: int = 4
    newton_iterations: int = 1
    forget_weight: float = 0.0
    leave_k_out_step: float = 2.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            if getattr(self, name) not in allowed:
                expected = ' or '.join(f"'{a}'" for a in allowed)
                raise ValueError(f"unknown {name} '{getattr(self, name)}' "
                                 f"(expected {expected})")
        for name in ('hidden_channels', 'num_layers', 'num_bases',
                     'num_passes', 'episode_forget', 'max_edges',
                     'num_negatives', 'val_negatives', 'ensemble',
                     'calibrate_anchor_batches'):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"'{name}' must be >= 1")
        for name in ('episodes', 'eval_every', 'val_episodes', 'patience',
                     'num_hops', 'refine_steps'):
            if int(getattr(self, name)) < 0:
                raise ValueError(f"'{name}' must be >= 0")
        if not 0.0 <= self.ensemble_dropout < 1.0:
            raise ValueError("'ensemble_dropout' must lie in [0, 1)")
        if int(self.calibrate_steps) < 0 or self.calibrate_lr <= 0 or \
                self.calibrate_weight < 0 or self.forget_weight < 0:
            raise ValueError("'calibrate_steps', 'calibrate_weight' and "
                             "'forget_weight' must be >= 0 and "
                             "'calibrate_lr' > 0")

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> 'MetaEUConfig':
        names = {f.name for f in fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f'unknown MetaEU options: {sorted(unknown)}')
        return cls(**d)

    @classmethod
    def for_model(cls, model: str, train_loss: Optional[str] = None,
                  **overrides) -> 'MetaEUConfig':
        r"""The default config for a KGE model (:obj:`"transe"`,
        :obj:`"distmult"`, :obj:`"complex"` or :obj:`"rotate"`, see
        :data:`MODEL_DEFAULTS`); keyword arguments override fields.

        Args:
            model (str): The KGE model's name.
            train_loss (str, optional): The loss the model was trained with
                (:class:`~torch_geometric_unlearn.kge.TrainConfig`'s
                ``loss``), when known: the meta-training loss is then the
                one of its family (:data:`META_LOSS`) unless :obj:`loss` is
                given.
            **overrides: :class:`MetaEUConfig` fields (:obj:`None` values
                are ignored).
        """
        key = str(model).lower()
        if key not in MODEL_DEFAULTS:
            raise ValueError(f"unknown KGE model '{model}' (expected one of "
                             f"{', '.join(MODEL_DEFAULTS)})")
        d = dict(MODEL_DEFAULTS[key])
        if train_loss is not None:
            if train_loss not in META_LOSS:
                raise ValueError(f"unknown training loss '{train_loss}' "
                                 f"(expected one of {', '.join(META_LOSS)})")
            d['loss'] = META_LOSS[train_loss]
        d.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(d)
