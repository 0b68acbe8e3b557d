r"""MetaEU against retraining and two cheap references, on one request.

A thin wrapper of the harness (:class:`torch_geometric_unlearn.bench.
KGBench`): the original and the retrained model are the harness's (trained
by ``benchmarks/prepare_unlearning.py`` into ``--save-dir``, or here if
missing), every row is measured the same way as by the ``bench`` command
(test / forget / retain MRR, MRR_Avg / MRR_F1, MIA, relearning), and the
rows are:

* ``retrain`` -- the gold standard;
* ``mean`` -- reference (1): each affected row set to the mean of what its
  retained triples imply (MetaEU's untrained generator);
* ``mean+ft`` -- reference (2): that start plus ``--ft-epochs`` epochs of
  re-optimising only the affected rows on the retained triples that touch
  them;
* ``metaeu`` -- the meta-trained generator (meta-training time reported as
  its set-up), and ``metaeu-k<K>`` / ``metaeu-ft`` variants when asked.

It also times single-triple requests (``--single`` of them).

Example::

    python benchmarks/bench_metaeu.py --data ../shared/datasets/fb15k-237 \
        --model transe --request random:0.01 --save-dir runs/fb15k-237
"""
import argparse
import copy
import dataclasses
import math
import os
import statistics

import torch

from torch_geometric_unlearn import MetaEU, bench
from torch_geometric_unlearn.datasets import load_dataset


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', required=True)
    p.add_argument('--model', required=True)
    p.add_argument('--request', default='random:0.01')
    p.add_argument('--save-dir', required=True)
    p.add_argument('--dim', type=int, help='(default: the recipe)')
    p.add_argument('--epochs', type=int, help='(default: the recipe)')
    p.add_argument('--minutes', type=float, default=25.0,
                   help='training budget of each model (if not saved)')
    p.add_argument('--episodes', type=int, default=1000)
    p.add_argument('--lr', type=float)
    p.add_argument('--episode-forget', type=int)
    p.add_argument('--refine-lr', type=float)
    p.add_argument('--loss')
    p.add_argument('--meta-minutes', type=float, default=0.0)
    p.add_argument('--ensemble', type=int, default=1)
    p.add_argument('--refine-steps', type=int, default=0,
                   help='also run MetaEU-FT with this many steps')
    p.add_argument('--ft-epochs', type=float, default=10.0,
                   help='epochs of reference (2) (0: skip it)')
    p.add_argument('--single', type=int, default=20,
                   help='single-triple requests to time')
    p.add_argument('--metaeu', help='load a meta-trained MetaEU from here '
                   '(else meta-train and save it in --save-dir)')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', help='write the results as JSON')
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    dataset = load_dataset(args.data)
    kb = bench.KGBench(dataset, args.model, dim=args.dim, epochs=args.epochs,
                       budget_minutes=args.minutes,
                       seed=args.seed, models_dir=args.save_dir)
    (req, ) = kb.draw(**bench.parse_request(args.request))
    original = kb.original_entry()
    entries = {'retrain': kb.reference_entry()}

    kw = {k: v for k, v in dict(lr=args.lr, loss=args.loss,
                                episode_forget=args.episode_forget,
                                refine_lr=args.refine_lr).items()
          if v is not None}
    ctx = kb.context(args.episodes, {'metaeu': dict(
        kw, max_minutes=args.meta_minutes)})

    def untrained():
        c = dataclasses.replace(ctx, options={'metaeu': dict(kw,
                                                             episodes=0)})
        return bench.build_method('metaeu', c)[0]

    # Reference (1): the untrained generator is the learning-free mean.
    entries['mean'] = kb.unlearner_entry('mean', untrained())
    # Reference (2): the mean plus ~ft_epochs epochs over the affected
    # rows' retained triples (the refinement's batches).
    if args.ft_epochs > 0:
        n = dataset.num_entities
        aff = torch.zeros(n, dtype=torch.bool)
        aff[req.triples[:, [0, 2]].reshape(-1)] = True
        ei = req.retained.edge_index
        incident = int((aff[ei[0]] | aff[ei[1]]).sum())
        ref = untrained()
        steps = max(1, math.ceil(args.ft_epochs * incident
                                 / ref.config.refine_batch_size))
        entries['mean+ft'] = kb.unlearner_entry('mean+ft', ref,
                                                refine_steps=steps)

    if args.metaeu:
        meu = MetaEU.load(args.metaeu, ctx.original, dataset,
                          progress=False)
        fit_s = meu.fit_seconds
    else:
        meu, fit_s = bench.build_method('metaeu', ctx)
        meu.save(os.path.join(args.save_dir, f'{args.model}-metaeu.pt'))
    print(f'meta-training: {fit_s:.1f} s', flush=True)
    entries['metaeu'] = kb.unlearner_entry('metaeu', copy.deepcopy(meu),
                                           fit_s)
    if args.ensemble > 1:
        entries[f'metaeu-k{args.ensemble}'] = kb.unlearner_entry(
            f'metaeu-k{args.ensemble}', copy.deepcopy(meu), fit_s,
            ensemble=args.ensemble)
    if args.refine_steps:
        entries['metaeu-ft'] = kb.unlearner_entry(
            'metaeu-ft', copy.deepcopy(meu), fit_s,
            refine_steps=args.refine_steps)

    result = kb.result(original, entries)
    if args.single:
        single = kb.single_triple_seconds(copy.deepcopy(meu), args.single)
        result['single_triple_seconds'] = single
        print(f'single-triple request: median '
              f'{1000 * statistics.median(single):.1f} ms, max '
              f'{1000 * max(single):.1f} ms over {len(single)}', flush=True)
    print(bench.format_table(result))
    if args.out:
        bench.write_json(result, args.out)


if __name__ == '__main__':
    main()
