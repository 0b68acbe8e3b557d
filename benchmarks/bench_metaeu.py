r"""MetaEU against retraining and two cheap references, on one request.

Needs the files of ``benchmarks/prepare_unlearning.py`` in ``--save-dir``
(the request, the original model and the model retrained from scratch on the
retained triples). Prints, from one run, for each method the filtered test
and forget-set MRR (filter = retained train ∪ valid ∪ test, realistic rank),
the ratio of its test MRR to the retrained model's, the gap of its
forget-set MRR to the retrained model's, and its wall time next to the
retraining time recorded in the retrained checkpoint:

* ``original`` -- the model before the request;
* ``retrained`` -- the gold standard;
* ``mean`` -- reference (1): each affected row set to the mean of what its
  retained triples imply (the untrained generator);
* ``mean+ft`` -- reference (2): that start plus 10 epochs of re-optimising
  only the affected rows on the retained triples that touch them;
* ``metaeu`` -- the meta-trained generator (meta-training time reported
  separately), and ``metaeu-k<K>`` / ``metaeu-ft`` variants when asked.

It also times single-triple requests (median over ``--single`` requests).

Example::

    python benchmarks/bench_metaeu.py --data ../shared/datasets/fb15k-237 \
        --model transe --request random:0.01 --save-dir runs/fb15k-237
"""
import argparse
import copy
import json
import math
import os
import statistics
import time

import torch

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.cli import load_dataset
from torch_geometric_unlearn.kge import LinkPredictionEvaluator
from torch_geometric_unlearn.kge.trainer import load_checkpoint
from torch_geometric_unlearn.transforms import ForgetTriples


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', required=True)
    p.add_argument('--model', required=True)
    p.add_argument('--request', default='random:0.01')
    p.add_argument('--save-dir', required=True)
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
    tag = args.request.replace(':', '')
    req = torch.load(os.path.join(args.save_dir, f'request-{tag}.pt'),
                     weights_only=False)
    orig_ckpt = load_checkpoint(os.path.join(args.save_dir,
                                             f'{args.model}-original.pt'))
    ret_ckpt = load_checkpoint(os.path.join(
        args.save_dir, f'{args.model}-retrained-{tag}.pt'))
    original, retrained = orig_ckpt['module'], ret_ckpt['module']
    retrain_s = float(ret_ckpt['train_seconds'])
    forget = req['triples']
    retained = ForgetTriples(edge_ids=req['edge_ids'])(dataset.train)
    ev = LinkPredictionEvaluator(dataset.num_entities, dataset.num_relations,
                                 [retained, dataset.valid, dataset.test])
    print(f'{dataset.name}, {args.model}, request {args.request}: '
          f'{forget.size(0)} triples, {int(retained.affected_mask.sum())} '
          f'affected entities; retraining took {retrain_s:.1f} s',
          flush=True)

    rows = []

    def report(name, model, seconds=None, extra=None):
        test = ev.evaluate(model, dataset.test)
        fgt = ev.evaluate(model, forget)
        row = dict(method=name, test_mrr=test['mrr'],
                   test_hits10=test['hits@10'], forget_mrr=fgt['mrr'],
                   forget_hits10=fgt['hits@10'], seconds=seconds)
        row.update(extra or {})
        rows.append(row)
        print(json.dumps(row), flush=True)

    report('original', original, float(orig_ckpt['train_seconds']))
    report('retrained', retrained, retrain_s)

    kw = {}
    if args.lr is not None:
        kw['lr'] = args.lr
    if args.loss:
        kw['loss'] = args.loss
    if args.episode_forget:
        kw['episode_forget'] = args.episode_forget
    if args.refine_lr:
        kw['refine_lr'] = args.refine_lr
    # Reference (1): the untrained generator is the learning-free mean.
    ref = MetaEU(original, dataset, progress=False, seed=args.seed, **kw)
    res = ref.unlearn(edge_ids=req['edge_ids'])
    report('mean', res.model, res.record.seconds)
    # Reference (2): the mean plus ~10 epochs over the affected rows'
    # retained triples (the refinement's batches).
    incident = (retained.affected_mask[retained.edge_index[0]]
                | retained.affected_mask[retained.edge_index[1]]).sum()
    batch = ref.config.refine_batch_size
    steps = max(1, math.ceil(args.ft_epochs * int(incident) / batch))
    if args.ft_epochs > 0:
        ref = MetaEU(original, dataset, progress=False, seed=args.seed, **kw)
        res = ref.unlearn(edge_ids=req['edge_ids'], refine_steps=steps)
        report('mean+ft', res.model, res.record.seconds,
               dict(refine_steps=steps))

    if args.metaeu:
        meu = MetaEU.load(args.metaeu, original, dataset, progress=False)
        fit_s = meu.fit_seconds
    else:
        meu = MetaEU(original, dataset, progress=True, seed=args.seed,
                     episodes=args.episodes, max_minutes=args.meta_minutes,
                     **kw)
        meu.fit()
        fit_s = meu.fit_seconds
        meu.save(os.path.join(args.save_dir, f'{args.model}-metaeu.pt'))
        for h in meu.history:
            print('  ', json.dumps(h), flush=True)
    print(f'meta-training: {fit_s:.1f} s ({fit_s / retrain_s:.3f} x '
          f'retraining)', flush=True)
    fresh = copy.deepcopy(meu)
    res = fresh.unlearn(edge_ids=req['edge_ids'])
    report('metaeu', res.model, res.record.seconds,
           dict(meta_train_seconds=fit_s, timings=res.record.timings))
    if args.ensemble > 1:
        fresh = copy.deepcopy(meu)
        res = fresh.unlearn(edge_ids=req['edge_ids'], ensemble=args.ensemble)
        report(f'metaeu-k{args.ensemble}', res.model, res.record.seconds)
    if args.refine_steps:
        fresh = copy.deepcopy(meu)
        res = fresh.unlearn(edge_ids=req['edge_ids'],
                            refine_steps=args.refine_steps)
        report('metaeu-ft', res.model, res.record.seconds,
               dict(refine_steps=args.refine_steps))

    single = []
    if args.single:
        fresh = copy.deepcopy(meu)
        g = torch.Generator().manual_seed(args.seed + 1)
        picks = torch.randperm(dataset.train.num_edges, generator=g)
        for i in picks[:args.single + 1].tolist():
            e = dataset.train
            t = torch.tensor([[int(e.edge_index[0, i]), int(e.edge_type[i]),
                               int(e.edge_index[1, i])]])
            t0 = time.perf_counter()
            fresh.unlearn(t)
            single.append(time.perf_counter() - t0)
        single = single[1:]  # the first call warms up
        print(f'single-triple request: median '
              f'{1000 * statistics.median(single):.1f} ms, max '
              f'{1000 * max(single):.1f} ms over {len(single)}', flush=True)

    ret = next(r for r in rows if r['method'] == 'retrained')
    print(f'\n{"method":12s} {"test MRR":>9s} {"x retrain":>9s} '
          f'{"forget MRR":>10s} {"gap":>7s} {"seconds":>9s} '
          f'{"speed-up":>9s}')
    for r in rows:
        s = r['seconds']
        speed = f'{retrain_s / s:9.0f}' if s else ''
        print(f'{r["method"]:12s} {r["test_mrr"]:9.4f} '
              f'{r["test_mrr"] / ret["test_mrr"]:9.3f} '
              f'{r["forget_mrr"]:10.4f} '
              f'{r["forget_mrr"] - ret["forget_mrr"]:+7.4f} '
              f'{s if s is not None else float("nan"):9.2f} {speed}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(dict(rows=rows, retrain_seconds=retrain_s,
                           meta_train_seconds=fit_s, single_seconds=single,
                           args=vars(args)), f, indent=1)


if __name__ == '__main__':
    main()
