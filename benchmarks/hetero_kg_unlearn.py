r"""MetaEU on a typed knowledge graph (HeteroData), end to end.

A typed KG (the seeded synthetic one by default; a TSV directory such as
CoDEx-S with ``--types``, an ``entity<TAB>type`` file or CoDEx's
``entity2types.json``), a KGE model trained on its homogeneous view, MetaEU
meta-trained on it, and one *typed* request -- triples of one edge type
``(head_type, relation, tail_type)`` by their typed edge ids, or a typed
entity -- served by retraining from scratch and by MetaEU. Prints original /
retrained / MetaEU: filtered test MRR, forget-set MRR and seconds.

Example::

    python benchmarks/hetero_kg_unlearn.py    # synthetic, ~30 s on 2 cores
    python benchmarks/hetero_kg_unlearn.py --data ../shared/datasets/codex-s \
        --types entity2types.json --default-type entity --epochs 60
"""
import argparse
import time

import torch

from torch_geometric_unlearn import MetaEU, MetaEUConfig
from torch_geometric_unlearn.baselines import Retrain
from torch_geometric_unlearn.datasets import (load_typed_tsv_kg,
                                              make_synthetic_kg)
from torch_geometric_unlearn.kge import (KGETrainer, LinkPredictionEvaluator,
                                         TrainConfig, load_kge_model)


def parse_edge_type(text):
    parts = tuple(text.split(','))
    if len(parts) != 3:
        raise argparse.ArgumentTypeError(
            f"an edge type is 'head_type,relation,tail_type' (got {text!r})")
    return parts


def parse_entity(text):
    node_type, sep, index = text.rpartition(':')
    if not sep or not index.isdigit():
        raise argparse.ArgumentTypeError(
            f"a typed entity is 'node_type:index' (got {text!r})")
    return node_type, int(index)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', help='TSV directory (default: synthetic KG)')
    p.add_argument('--types', help='entity-type file of --data')
    p.add_argument('--default-type', help='type of untyped entities')
    p.add_argument('--entities', type=int, default=600)
    p.add_argument('--triples', type=int, default=9000)
    p.add_argument('--num-types', type=int, default=4)
    p.add_argument('--model', default='complex')
    p.add_argument('--dim', type=int, default=32)
    p.add_argument('--epochs', type=int, default=15)
    p.add_argument('--episodes', type=int, default=40)
    p.add_argument('--edge-type', type=parse_edge_type,
                   help="'head_type,relation,tail_type' (default: the "
                        "largest edge type)")
    p.add_argument('--forget', type=int, default=20,
                   help='random triples of the edge type to forget')
    p.add_argument('--entity', type=parse_entity,
                   help="forget a typed entity 'node_type:index' instead")
    p.add_argument('--seed', type=int, default=0)
    args = p.parse_args(argv)
    if args.forget < 1:
        p.error('--forget must be at least 1')
    if args.data is not None and args.types is None:
        p.error('--data needs --types (the entity-type file)')

    # 1. The typed KG: homogeneous splits plus a HeteroData view.
    if args.data is None:
        kg = make_synthetic_kg(num_entities=args.entities,
                               num_triples=args.triples,
                               num_types=args.num_types, seed=args.seed)
    else:
        kg = load_typed_tsv_kg(args.data, args.types,
                               default_type=args.default_type)
    hetero = kg.hetero('train')
    print(f'{kg.name}: {kg.num_entities} entities of '
          f'{len(kg.node_types)} types, {len(kg.edge_types)} edge types, '
          f'{kg.train.num_edges} training triples')

    # 2. A KGE model trained on the homogeneous view.
    config = TrainConfig(epochs=args.epochs, loss='bce', num_negatives=32,
                         batch_size=512, lr=3e-3, eval_every=0,
                         seed=args.seed)
    torch.manual_seed(args.seed)
    model = load_kge_model(args.model, kg.num_entities, kg.num_relations,
                           args.dim)
    t0 = time.perf_counter()
    KGETrainer(model, config, progress=True).fit(kg.train)
    train_seconds = time.perf_counter() - t0

    # 3. MetaEU on the typed KG, meta-trained.
    meu = MetaEU(model, kg, MetaEUConfig.for_model(
        args.model, lr=3e-4, episodes=args.episodes, eval_every=0,
        seed=args.seed))
    t0 = time.perf_counter()
    meu.fit()
    fit_seconds = time.perf_counter() - t0

    # 4. One typed request.
    if args.entity is not None:
        request = dict(entities=args.entity)
        what = f'entity {args.entity}'
    else:
        edge_type = args.edge_type or max(
            hetero.edge_types, key=lambda et: hetero[et].num_edges)
        n = hetero[edge_type].num_edges if edge_type in hetero.edge_types \
            else 0
        gen = torch.Generator().manual_seed(args.seed)
        ids = torch.randperm(n, generator=gen)[:args.forget]
        request = dict(edge_ids={edge_type: ids})
        what = f'{ids.numel()} triple(s) of {edge_type}'
    print(f'request: {what}')
    retrained = Retrain(model, kg, config=config, seed=args.seed,
                        progress=True).unlearn(**request)
    result = meu.unlearn(**request)
    forget = result.record.forget_triples
    assert torch.equal(forget, retrained.record.forget_triples)

    # 5. Filtered test and forget-set MRR of every model.
    evaluator = LinkPredictionEvaluator(
        kg.num_entities, kg.num_relations,
        filter_triples=[result.data, kg.valid, kg.test])
    rows = [('original', model, train_seconds),
            ('retrained', retrained.model, retrained.record.seconds),
            ('MetaEU', result.model, result.record.seconds)]
    print(f'\n{"model":<10} {"test MRR":>9} {"forget MRR":>11} '
          f'{"seconds":>8}')
    for name, m, seconds in rows:
        test = evaluator.evaluate(m, kg.test)['mrr']
        gone = evaluator.evaluate(m, forget)['mrr']
        print(f'{name:<10} {test:>9.4f} {gone:>11.4f} {seconds:>8.2f}')
    print(f'(MetaEU meta-training: {fit_seconds:.1f} s; '
          f'{forget.size(0)} triples forgotten, '
          f'{result.record.num_affected} entities rewritten)')
    view = meu.typed.to_hetero(result.data)  # the typed retained graph
    left = sum(view[et].num_edges for et in view.edge_types)
    print(f'retained typed graph: {left} triples')


if __name__ == '__main__':
    main()
