r"""``train``: train a PyG KGE model with its default recipe (options
override it) and write a checkpoint with the data's vocabularies."""
from __future__ import annotations

import argparse
import time

from ..datasets import load_dataset
from .common import (DATA_HELP, KGE_MODELS, check_outputs, device,
                     non_negative_float, non_negative_int, positive_float,
                     positive_int, user_input)


def add_parser(sub) -> None:
    p = sub.add_parser('train', help='train a KGE model',
                       description='Train a PyG KGE model with its default '
                       'recipe (options override it) and write a checkpoint.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--model', required=True, choices=KGE_MODELS)
    p.add_argument('--dim', type=positive_int,
                   help='embedding size (recipe default)')
    p.add_argument('--epochs', type=positive_int)
    p.add_argument('--batch-size', type=positive_int)
    p.add_argument('--negatives', type=positive_int,
                   help='negatives per positive')
    p.add_argument('--loss', choices=['margin', 'bce', 'self_adversarial',
                                      'softmax', '1vsall'])
    p.add_argument('--lr', type=positive_float)
    p.add_argument('--eval-every', type=non_negative_int,
                   help='validate every this many epochs (0: never)')
    p.add_argument('--patience', type=non_negative_int)
    p.add_argument('--max-minutes', type=non_negative_float,
                   help='stop training after this wall time (0: no limit)')
    p.add_argument('--seed', type=non_negative_int, default=0)
    p.add_argument('--device', type=device, default='cpu')
    p.add_argument('--quiet', action='store_true', help='no progress bars')
    p.add_argument('--out', required=True, metavar='CKPT')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from ..kge import KGETrainer, TrainConfig, load_kge_model, recipe

    rec = recipe(args.model)
    model_kwargs = dict(rec['model_kwargs'])
    train_kw = dict(rec['train'])
    overrides = {
        'epochs': args.epochs, 'batch_size': args.batch_size,
        'num_negatives': args.negatives, 'loss': args.loss, 'lr': args.lr,
        'max_minutes': args.max_minutes, 'eval_every': args.eval_every,
        'patience': args.patience,
    }
    train_kw.update({k: v for k, v in overrides.items() if v is not None})
    train_kw['seed'] = args.seed
    with user_input(ValueError):  # the options' validation
        config = TrainConfig.from_dict(train_kw)
    check_outputs([args.out], [args.data])
    with user_input():
        dataset = load_dataset(args.data)
    dim = rec['hidden_channels'] if args.dim is None else args.dim
    torch.manual_seed(args.seed)
    model = load_kge_model(args.model, dataset.num_entities,
                           dataset.num_relations, dim, **model_kwargs)
    model = model.to(args.device)
    print(f'training {model} on {dataset.name} ({dataset.train.num_edges:,} '
          f'triples) with {config}')
    trainer = KGETrainer(model, config, progress=not args.quiet)
    t0 = time.perf_counter()
    trainer.fit(dataset.train, dataset.valid,
                [dataset.train, dataset.valid, dataset.test])
    seconds = time.perf_counter() - t0
    model_kwargs = dict(num_nodes=dataset.num_entities,
                        num_relations=dataset.num_relations,
                        hidden_channels=dim, **model_kwargs)
    trainer.save(args.out, model_kwargs=model_kwargs,
                 entity_vocab=dataset.entity_vocab,
                 relation_vocab=dataset.relation_vocab,
                 dataset=dataset.name, train_seconds=seconds)
    best = f', best valid MRR {trainer.best_mrr:.4f}' \
        if trainer.best_state is not None else ''
    print(f'trained {trainer.epoch} epochs in {seconds:.1f} s{best}; '
          f'checkpoint written to {args.out}')
    return 0
