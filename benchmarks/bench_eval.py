r"""Benchmark of the filtered link-prediction evaluator on FB15k-237.

Builds a PyG :class:`~torch_geometric.nn.kge.TransE` (random init, or
briefly trained with ``--epochs`` by the benchmark harness,
:func:`torch_geometric_unlearn.bench.train_model`), times
:class:`torch_geometric_unlearn.kge.LinkPredictionEvaluator` on the full
test split (both directions, filtered by train + valid + test, realistic
rank), and, if PyKEEN is importable, times PyKEEN's ``RankBasedEvaluator`` on
the same embeddings in the same run and cross-checks the metrics.

.. code-block:: bash

    python benchmarks/bench_eval.py --data /path/to/fb15k-237
    # with PyKEEN installed in another environment:
    PYTHONPATH=. /path/to/pykeen-venv/bin/python benchmarks/bench_eval.py \
        --data /path/to/fb15k-237 --epochs 5

The data directory holds ``train`` / ``valid`` / ``test`` files (``.tsv``,
``.txt``, optionally gzipped) with one ``head<TAB>relation<TAB>tail`` triple
a line.
"""
import argparse
import os
import sys

import torch
import torch.nn.functional as F

from torch_geometric_unlearn import bench
from torch_geometric_unlearn.datasets import load_tsv_kg, to_triples
from torch_geometric_unlearn.kge import LinkPredictionEvaluator, TrainConfig

SPLITS = ('train', 'valid', 'test')


def load(root):
    dataset = load_tsv_kg(root)
    splits = {s: to_triples(dataset[s]) for s in SPLITS}
    return dataset, splits


def make_model(dataset, args):
    r"""TransE, at random initialisation or trained for ``--epochs`` epochs
    by the harness (:func:`torch_geometric_unlearn.bench.train_model`:
    margin loss with one random negative, Adam, as PyG's example)."""
    spec = bench.TrainingSpec(
        model='transe', dim=args.dim, model_kwargs=dict(p_norm=args.p_norm),
        config=TrainConfig(loss='margin', margin=1.0, num_negatives=1,
                           epochs=max(1, args.epochs), lr=args.lr,
                           batch_size=args.train_batch_size, eval_every=0,
                           seed=args.seed),
        seed=args.seed)
    if args.epochs <= 0:
        return spec.init_model(dataset.num_entities, dataset.num_relations)
    tm = bench.train_model(spec, dataset.train, dataset.num_entities,
                           dataset.num_relations)
    for h in tm.history:
        print(f"  epoch {h['epoch']:2d}: loss {h['loss']:.4f}", flush=True)
    return tm.model


def run_pykeen(model, splits, num_nodes, num_relations, batch_size):
    from pykeen.evaluation import RankBasedEvaluator
    from pykeen.models import TransE as PyKEENTransE
    from pykeen.triples import CoreTriplesFactory

    factory = CoreTriplesFactory.create(mapped_triples=splits['train'],
                                        num_entities=num_nodes,
                                        num_relations=num_relations)
    p = float(model.p_norm)
    pk = PyKEENTransE(triples_factory=factory,
                      embedding_dim=model.hidden_channels,
                      scoring_fct_norm=int(p) if p.is_integer() else p,
                      power_norm=False, entity_constrainer=None,
                      random_seed=0)
    with torch.no_grad():
        # PyG's TransE normalises entity embeddings inside forward(); PyKEEN
        # scores the stored embeddings, so store the normalised ones.
        ent = F.normalize(model.node_emb.weight, p=p, dim=-1)
        pk.entity_representations[0]._embeddings.weight.copy_(ent)
        pk.relation_representations[0]._embeddings.weight.copy_(
            model.rel_emb.weight)
    pk.eval()
    evaluator = RankBasedEvaluator(filtered=True)
    with bench.Timer() as t:
        results = evaluator.evaluate(
            pk, splits['test'], batch_size=batch_size, use_tqdm=False,
            additional_filter_triples=[splits['train'], splits['valid']])
    seconds, cpu_seconds = t.seconds, t.cpu_seconds
    metrics = {
        'mrr': results.get_metric('both.realistic.inverse_harmonic_mean_rank'),
        'mr': results.get_metric('both.realistic.arithmetic_mean_rank'),
        'hits@1': results.get_metric('both.realistic.hits_at_1'),
        'hits@3': results.get_metric('both.realistic.hits_at_3'),
        'hits@10': results.get_metric('both.realistic.hits_at_10'),
        'mrr_optimistic': results.get_metric(
            'both.optimistic.inverse_harmonic_mean_rank'),
        'mrr_pessimistic': results.get_metric(
            'both.pessimistic.inverse_harmonic_mean_rank'),
    }
    return seconds, cpu_seconds, metrics


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--data', required=True,
                        help='directory with train/valid/test TSV files')
    parser.add_argument('--dim', type=int, default=50)
    parser.add_argument('--p-norm', type=float, default=1.0)
    parser.add_argument('--epochs', type=int, default=0,
                        help='training epochs before evaluation '
                        '(default: 0, random init)')
    parser.add_argument('--lr', type=float, default=0.01)
    parser.add_argument('--train-batch-size', type=int, default=2048)
    parser.add_argument('--batch-size', type=int, default=512,
                        help='evaluation batch size (ours)')
    parser.add_argument('--pykeen-batch-size', type=int, default=128)
    parser.add_argument('--repeat', type=int, default=3,
                        help='timed runs of our evaluator (best is '
                        'reported)')
    parser.add_argument('--no-pykeen', action='store_true')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--json', default=None, help='write results here')
    args = parser.parse_args(argv)

    (dataset, splits), load_s = bench.timed(load, args.data)
    num_nodes, num_relations = dataset.num_entities, dataset.num_relations
    print(f'data: {args.data} via load_tsv_kg ({load_s:.1f}s) -- '
          f'{num_nodes} entities, {num_relations} relations, '
          + ', '.join(f'{s} {splits[s].size(0)}' for s in SPLITS))
    print(f'torch {torch.__version__}, {torch.get_num_threads()} threads')

    if args.epochs > 0:
        print(f'training TransE d={args.dim} for {args.epochs} epochs')
    model, train_s = bench.timed(make_model, dataset, args)
    if args.epochs > 0:
        print(f'  ({train_s:.1f}s)')
    model.eval()

    evaluator, build_s = bench.timed(
        LinkPredictionEvaluator, num_nodes, num_relations,
        filter_triples=[splits['train'], splits['valid'], splits['test']],
        batch_size=args.batch_size)
    load_before = os.getloadavg()[0]
    times, cpu_times = [], []
    for _ in range(max(1, args.repeat)):
        with bench.Timer() as t:
            ours = evaluator.evaluate(model, splits['test'])
        times.append(t.seconds)
        cpu_times.append(t.cpu_seconds)
    ours_s = min(times)
    print(f'ours:   filter build {build_s:.2f}s (once), evaluation '
          f'{ours_s:.2f}s (best of {len(times)}: '
          + ', '.join(f'{t:.2f}' for t in times) + '; CPU time '
          + ', '.join(f'{t:.2f}' for t in cpu_times) + f'; load average '
          f'before {load_before:.2f})')
    print('        ' + ', '.join(f'{k} {v:.6f}' if isinstance(v, float) else
                                 f'{k} {v}' for k, v in ours.items()))
    result = {'entities': num_nodes, 'relations': num_relations,
              'test': int(splits['test'].size(0)), 'dim': args.dim,
              'p_norm': args.p_norm, 'epochs': args.epochs,
              'threads': torch.get_num_threads(),
              'ours_build_s': build_s, 'ours_eval_s': ours_s,
              'ours_eval_runs_s': times, 'ours_cpu_runs_s': cpu_times,
              'load_average_before': load_before, 'ours': ours}

    if args.no_pykeen:
        print('pykeen: skipped (--no-pykeen)')
    else:
        try:
            import pykeen
        except ImportError as e:
            print(f'pykeen: not importable ({e}); skipped')
            pykeen = None
        if pykeen is not None:
            pk_s, pk_cpu, pk = run_pykeen(model, splits, num_nodes,
                                          num_relations,
                                          args.pykeen_batch_size)
            diff = abs(pk['mrr'] - ours['mrr'])
            print(f'pykeen {pykeen.get_version()}: evaluation {pk_s:.2f}s '
                  f'(CPU time {pk_cpu:.2f}s, batch size '
                  f'{args.pykeen_batch_size})')
            print('        ' + ', '.join(f'{k} {v:.6f}'
                                         for k, v in pk.items()))
            print(f'speed-up (pykeen / ours): {pk_s / ours_s:.1f}x '
                  f'(incl. our filter build: '
                  f'{pk_s / (ours_s + build_s):.1f}x)')
            ok = diff <= 1e-4
            print(f'MRR: ours {ours["mrr"]:.6f}, pykeen {pk["mrr"]:.6f}, '
                  f'|diff| {diff:.2e} -> {"AGREE" if ok else "DISAGREE"} '
                  f'(tolerance 1e-4)')
            result.update({'pykeen_version': pykeen.get_version(),
                           'pykeen_eval_s': pk_s, 'pykeen_cpu_s': pk_cpu,
                           'pykeen_batch_size': args.pykeen_batch_size,
                           'pykeen': pk,
                           'speedup': pk_s / ours_s, 'mrr_abs_diff': diff,
                           'mrr_agree': ok})
    if args.json:
        bench.write_json(result, args.json, indent=2)
    return result


if __name__ == '__main__':
    main(sys.argv[1:])
