r"""Trains the models an unlearning benchmark compares against.

For one data set, one KGE model and one deletion request it writes into
``--save-dir``:

* ``request-<req>.pt`` -- the forget set (edge ids into the training split
  and the triples), drawn with a seed;
* ``<model>-original.pt`` -- the model trained on all training triples;
* ``<model>-retrained-<req>.pt`` -- the model trained from scratch on the
  retained triples with the same recipe and seed (the gold standard).

Both models use the default recipe of
:data:`torch_geometric_unlearn.kge.RECIPES` (overridable with ``--epochs``,
``--minutes``) and record their training wall time. Existing files are
kept, so the script can be re-run to fill in what is missing.

Requests: ``random:0.01`` (a FedLU-style random 1% of the training triples,
no entity or relation lost) or ``entity:10`` (every triple of 10 random
entities of moderate degree).

Example::

    python benchmarks/prepare_unlearning.py \
        --data ../shared/datasets/fb15k-237 --model transe \
        --request random:0.01 --save-dir runs/fb15k-237 --minutes 25
"""
import argparse
import os
import time

import torch

from torch_geometric_unlearn.cli import load_dataset
from torch_geometric_unlearn.kge import (KGETrainer, TrainConfig,
                                         load_kge_model, recipe)
from torch_geometric_unlearn.transforms import ForgetEntity, ForgetTriples
from torch_geometric_unlearn.transforms import sample_forget_set


def make_request(train, spec: str, seed: int):
    kind, _, value = spec.partition(':')
    if kind == 'random':
        edge_ids = sample_forget_set(train, ratio=float(value), seed=seed)
        entities = None
    elif kind == 'entity':
        k = int(value)
        deg = torch.bincount(train.edge_index.flatten(),
                             minlength=train.num_nodes)
        # Entities of moderate degree (5..100 triples), so that removing
        # them leaves the rest of the graph well connected.
        pool = ((deg >= 5) & (deg <= 100)).nonzero().view(-1)
        g = torch.Generator().manual_seed(seed)
        entities = pool[torch.randperm(pool.numel(), generator=g)[:k]]
        entities = entities.sort().values
        out = ForgetEntity(entities)(train)
        edge_ids = out.forget_edge_id
    else:
        raise ValueError(f"unknown request '{spec}'")
    triples = torch.stack([train.edge_index[0, edge_ids],
                           train.edge_type[edge_ids],
                           train.edge_index[1, edge_ids]], dim=1)
    return dict(spec=spec, seed=seed, edge_ids=edge_ids, triples=triples,
                entities=entities)


def train_model(name, dataset, train, args, out_path):
    rec = recipe(name)
    kw = dict(rec['train'])
    if args.epochs is not None:
        kw['epochs'] = args.epochs
    kw['max_minutes'] = args.minutes
    kw['seed'] = args.seed
    cfg = TrainConfig.from_dict(kw)
    dim = args.dim or rec['hidden_channels']
    torch.manual_seed(args.seed)
    model = load_kge_model(name, dataset.num_entities, dataset.num_relations,
                           dim, **rec['model_kwargs'])
    trainer = KGETrainer(model, cfg, progress=False)
    t0 = time.perf_counter()
    trainer.fit(train, dataset.valid, [train, dataset.valid, dataset.test])
    seconds = time.perf_counter() - t0
    model_kwargs = dict(num_nodes=dataset.num_entities,
                        num_relations=dataset.num_relations,
                        hidden_channels=dim, **rec['model_kwargs'])
    trainer.save(out_path, model_kwargs=model_kwargs,
                 entity_vocab=dataset.entity_vocab,
                 relation_vocab=dataset.relation_vocab,
                 dataset=dataset.name, train_seconds=seconds)
    print(f'{out_path}: {trainer.epoch} epochs in {seconds:.1f} s, best '
          f'valid MRR {trainer.best_mrr:.4f}', flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', required=True)
    p.add_argument('--model', required=True)
    p.add_argument('--request', default='random:0.01')
    p.add_argument('--which', default='original,retrained',
                   help='which models to train')
    p.add_argument('--save-dir', required=True)
    p.add_argument('--dim', type=int)
    p.add_argument('--epochs', type=int)
    p.add_argument('--minutes', type=float, default=25.0)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.save_dir, exist_ok=True)
    dataset = load_dataset(args.data)
    tag = args.request.replace(':', '')
    req_path = os.path.join(args.save_dir, f'request-{tag}.pt')
    if os.path.exists(req_path):
        req = torch.load(req_path, weights_only=False)
    else:
        req = make_request(dataset.train, args.request, args.seed)
        torch.save(req, req_path)
    print(f'request {args.request}: {req["triples"].size(0)} triples',
          flush=True)
    which = args.which.split(',')
    orig = os.path.join(args.save_dir, f'{args.model}-original.pt')
    if 'original' in which and not os.path.exists(orig):
        train_model(args.model, dataset, dataset.train, args, orig)
    ret = os.path.join(args.save_dir, f'{args.model}-retrained-{tag}.pt')
    if 'retrained' in which and not os.path.exists(ret):
        retained = ForgetTriples(edge_ids=req['edge_ids'])(dataset.train)
        train_model(args.model, dataset, retained, args, ret)


if __name__ == '__main__':
    main()
