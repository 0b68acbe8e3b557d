r"""OGB ``ogbl-wikikg2`` end to end on one machine: load, train TransE and
RotatE at this scale, evaluate with OGB's protocol, meta-train MetaEU and
serve deletion requests, next to the cost of retraining.

1. Loads ogbl-wikikg2 from ``--root`` (OGB's on-disk layout,
   :func:`~torch_geometric_unlearn.datasets.load_ogb_wikikg2`; negatives
   :obj:`int32`, memory-mapped). With ``--synthetic``, or without
   ``--root``, it first writes a wikikg2-sized seeded random KG in that same
   layout (:func:`~torch_geometric_unlearn.datasets.write_ogb_fixture`;
   sizes overridable for quick runs) and says so in its output and JSON.
2. Trains each model of ``--models`` with a recipe for this scale: sparse
   embeddings and :class:`torch.optim.SparseAdam` (a step touches only the
   batch's rows and its shared negatives), the package's self-adversarial
   loss, within ``--budget-minutes``; reports epochs, triples/s and peak
   memory, and the triples/s of PyG's own ``model.loader`` + ``model.loss``
   loop at the same batch size (PyG's loss draws one corrupted triple per
   positive) and of our loop with that same single negative.
3. Evaluates with OGB's protocol on the given negatives (test split in
   batches, ``--eval-max`` to cap it) and checks, on a sample, that every
   rank and the MRR agree exactly with
   :class:`ogb.linkproppred.Evaluator` (``ogbl-wikikg2``) on the same
   scores.
4. Meta-trains MetaEU (``--episodes``) and serves requests on a private
   copy of the model with ``inplace=True`` (no full-model copy per
   request): one triple, 100 random triples, 0.1 % random triples, one
   entity of median degree, one hub entity. Retraining time stands next to
   them: measured when the recipe's epochs fit the budget, else epoch time
   x the recipe's epochs, marked "estimated".
5. Writes ``<out>.md`` and ``<out>.json`` (atomically) with the command
   that produced them.

Quick run (seconds)::

    python benchmarks/wikikg2.py --synthetic --num-entities 2000 \
        --num-train 20000 --num-valid 500 --num-test 500 --num-neg 50 \
        --budget-minutes 0.2 --episodes 20 --out /tmp/wikikg2

Full size on a CPU machine::

    OMP_NUM_THREADS=1 python benchmarks/wikikg2.py --synthetic \
        --budget-minutes 10
"""
import argparse
import copy
import os
import os.path as osp
import shlex
import shutil
import sys
import tempfile
import time

import torch
from tqdm.auto import tqdm

from torch_geometric_unlearn import MetaEU
from torch_geometric_unlearn.bench import (Timer, markdown_table, peak_mb,
                                           peak_reset, write_json)
from torch_geometric_unlearn.datasets import (load_ogb_wikikg2, to_triples,
                                              write_ogb_fixture)
from torch_geometric_unlearn.datasets.ogb import WIKIKG2_SIZES
from torch_geometric_unlearn.kge import (KGETrainer, LinkPredictionEvaluator,
                                         TrainConfig, load_kge_model,
                                         rank_against_negatives)
from torch_geometric_unlearn.kge.scoring import get_scorer
from torch_geometric_unlearn.utils import atomic_write_text

#: The recipe at this scale (per model): sparse embeddings, SparseAdam,
#: self-adversarial loss against shared negatives; ``epochs`` is what a
#: full training run takes (the order of OGB's reference runs, ~10 epochs).
RECIPES = {
    'transe': dict(model_kwargs=dict(p_norm=2.0, sparse=True),
                   train=dict(loss='self_adversarial', shared_negatives=True,
                              num_negatives=256, batch_size=1024, lr=1e-3,
                              score_scale=8.0, margin=6.0), epochs=10),
    'rotate': dict(model_kwargs=dict(margin=6.0, sparse=True),
                   train=dict(loss='self_adversarial', shared_negatives=True,
                              num_negatives=256, batch_size=1024, lr=1e-3,
                              margin=0.0), epochs=10),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--root', default=None,
                   help="folder holding 'ogbl_wikikg2/' in OGB's layout")
    p.add_argument('--synthetic', action='store_true',
                   help='write a synthetic KG in that layout first (the '
                   'default without --root)')
    p.add_argument('--workdir', default=None,
                   help='where the synthetic KG and the memory-mapped '
                   'negatives go (default: a temporary folder, removed)')
    for key, value in WIKIKG2_SIZES.items():
        p.add_argument('--' + key.replace('_', '-'), type=int, default=value,
                       help=f'synthetic size (default: {value})')
    p.add_argument('--skew', type=float, default=2.0,
                   help='degree skew of the synthetic KG (1: uniform)')
    p.add_argument('--models', default='transe,rotate')
    p.add_argument('--dim', type=int, default=100)
    p.add_argument('--budget-minutes', type=float, default=10.0,
                   help='training time per model')
    p.add_argument('--recipe-epochs', type=int, default=None,
                   help="epochs of a full training run (default: the "
                   "recipe's, 10): training stops there, and retraining "
                   "is estimated from it when the budget ends first")
    p.add_argument('--compare-seconds', type=float, default=30.0,
                   help='time spent on each throughput comparison loop')
    p.add_argument('--eval-max', type=int, default=0,
                   help='evaluate on at most this many test triples (0: all)')
    p.add_argument('--eval-batch-size', type=int, default=1024)
    p.add_argument('--check-size', type=int, default=1000,
                   help='test triples of the OGB-evaluator agreement check')
    p.add_argument('--episodes', type=int, default=200)
    p.add_argument('--no-hash', action='store_true',
                   help="don't hash the model into the ledger per request")
    p.add_argument('--device', default='cpu')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out', default='docs/results/wikikg2',
                   help='writes <out>.md and <out>.json')
    args = p.parse_args(argv)
    args.models = [m.strip().lower() for m in args.models.split(',')
                   if m.strip()]
    unknown = set(args.models) - set(RECIPES)
    if unknown or not args.models:
        p.error(f'--models must name some of {", ".join(RECIPES)}')
    if args.budget_minutes <= 0 or args.episodes < 0 or args.dim < 1:
        p.error('--budget-minutes and --dim must be positive, --episodes '
                '>= 0')
    try:
        args.device = torch.device(args.device)
        torch.empty(0, device=args.device)
    except (RuntimeError, AssertionError) as e:
        p.error(f'--device {args.device}: {e}')
    args.synthetic = args.synthetic or args.root is None
    return args


def train(model, data, cfg, budget_s, max_epochs, device, desc, seed):
    r"""Our loop: the package's loss (:meth:`KGETrainer.loss`) and
    optimiser (SparseAdam for sparse models), stepped until the budget is
    spent or :obj:`max_epochs` are done. Returns (steps, triples, seconds,
    epoch_seconds)."""
    trainer = KGETrainer(model, cfg, progress=False)
    h_all, t_all = data.edge_index.to(device)
    r_all = data.edge_type.to(device)
    E = h_all.numel()
    gen = torch.Generator().manual_seed(seed)
    model.train()
    steps = seen = epochs = 0
    epoch_seconds = None
    start = time.perf_counter()
    bar = tqdm(desc=desc, unit='triple', unit_scale=True, total=E)
    while True:
        perm = torch.randperm(E, generator=gen).to(device)
        for i in range(0, E, cfg.batch_size):
            idx = perm[i:i + cfg.batch_size]
            trainer.optimizer.zero_grad(set_to_none=True)
            loss = trainer.loss(h_all[idx], r_all[idx], t_all[idx], gen)
            loss.backward()
            trainer.optimizer.step()
            steps += 1
            seen += idx.numel()
            bar.update(idx.numel())
            if steps % 50 == 0:
                bar.set_postfix(loss=f'{float(loss.detach()):.4f}',
                                epoch=epochs)
            if time.perf_counter() - start >= budget_s:
                break
        else:  # a full epoch
            epochs += 1
            if epoch_seconds is None:
                epoch_seconds = time.perf_counter() - start
            if epochs < max_epochs and \
                    time.perf_counter() - start < budget_s:
                bar.reset(total=E)
                continue
        break
    bar.close()
    seconds = time.perf_counter() - start
    model.eval()
    if epoch_seconds is None:  # a partial epoch: extrapolate
        epoch_seconds = seconds * E / max(seen, 1)
    return steps, seen, seconds, epoch_seconds


def throughput(step, seconds: float) -> float:
    r"""Triples per second of :obj:`step()` (returns the batch size) run
    for about :obj:`seconds` after two warm-up steps."""
    step(), step()
    seen, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or seen == 0:
        seen += step()
    return seen / (time.perf_counter() - start)


def compare_loops(name, data, n, R, dim, batch_size, seconds, device, seed):
    r"""Triples/s of PyG's own ``model.loader`` + ``model.loss`` loop and of
    ours with the same single random negative per positive."""
    out = {}
    torch.manual_seed(seed)
    kwargs = dict(RECIPES[name]['model_kwargs'])
    model = load_kge_model(name, n, R, dim, **kwargs).to(device)
    opt = torch.optim.SparseAdam(list(model.parameters()), lr=1e-3)
    loader = model.loader(head_index=data.edge_index[0].to(device),
                          rel_type=data.edge_type.to(device),
                          tail_index=data.edge_index[1].to(device),
                          batch_size=batch_size, shuffle=True)
    batches = [iter(loader)]

    def pyg_step():
        try:
            h, r, t = next(batches[0])
        except StopIteration:  # a new epoch
            batches[0] = iter(loader)
            h, r, t = next(batches[0])
        opt.zero_grad()
        loss = model.loss(h, r, t)
        loss.backward()
        opt.step()
        return h.numel()

    out['pyg_loop'] = throughput(pyg_step, seconds)
    cfg = TrainConfig(loss='margin', num_negatives=1, batch_size=batch_size,
                      lr=1e-3, margin=1.0, seed=seed)
    model = load_kge_model(name, n, R, dim, **kwargs).to(device)
    trainer = KGETrainer(model, cfg, progress=False)
    h_all, t_all = data.edge_index.to(device)
    r_all = data.edge_type.to(device)
    gen = torch.Generator().manual_seed(seed)

    def our_step():
        idx = torch.randint(h_all.numel(), (batch_size, ), generator=gen)
        idx = idx.to(device)
        trainer.optimizer.zero_grad(set_to_none=True)
        loss = trainer.loss(h_all[idx], r_all[idx], t_all[idx], gen)
        loss.backward()
        trainer.optimizer.step()
        return batch_size

    out['ours_one_negative'] = throughput(our_step, seconds)
    return out


def ogb_check(model, test, head_neg, tail_neg, evaluator, size):
    r"""Ranks of :meth:`LinkPredictionEvaluator.evaluate_ogb` on the first
    :obj:`size` test triples against :class:`ogb.linkproppred.Evaluator` on
    the same scores (computed batch by batch as the evaluator does)."""
    from ogb.linkproppred import Evaluator
    triples = to_triples(test)[:size]
    ours = evaluator.evaluate_ogb(model, triples, head_neg[:size],
                                  tail_neg[:size], return_ranks=True)
    scorer = get_scorer(model)
    dev = scorer.device
    pos, neg, our_ranks = [], [], []
    with torch.no_grad():
        for side, negs in (('head', head_neg), ('tail', tail_neg)):
            negs = negs[:triples.size(0)]
            for s in range(0, triples.size(0), evaluator.batch_size):
                h, r, t = triples[s:s + evaluator.batch_size].to(dev).unbind(1)
                cand = negs[s:s + evaluator.batch_size].to(dev, torch.long)
                if side == 'tail':
                    scores = scorer.tails(h, r, torch.cat([t[:, None], cand],
                                                          1))
                else:
                    scores = scorer.heads(r, t, torch.cat([h[:, None], cand],
                                                          1))
                pos.append(scores[:, 0].cpu())
                neg.append(scores[:, 1:].cpu())
            our_ranks.append(ours[f'{side}_ranks'])
    pos, neg = torch.cat(pos), torch.cat(neg)
    result = Evaluator(name='ogbl-wikikg2').eval(
        {'y_pred_pos': pos, 'y_pred_neg': neg})
    ogb_rr = result['mrr_list']
    our_ranks = torch.cat(our_ranks)
    same_scores = rank_against_negatives(pos, neg)
    assert torch.equal(same_scores, our_ranks), \
        'evaluate_ogb ranks differ from the ranks of the same scores'
    assert torch.equal((1.0 / our_ranks.float()), ogb_rr), \
        'ranks disagree with ogb.linkproppred.Evaluator'
    return dict(size=int(triples.size(0)), ours_mrr=ours['mrr'],
                ogb_mrr=float(ogb_rr.double().mean()),
                ranks_equal=True)


def serve_requests(meu, data, seed):
    r"""The five requests, in order, on MetaEU's private model (in
    place)."""
    g = torch.Generator().manual_seed(seed)
    E = data.edge_index.size(1)
    perm = torch.randperm(E, generator=g)
    per_mille = max(1, E // 1000)
    degree = torch.bincount(data.edge_index.reshape(-1),
                            minlength=data.num_nodes)
    present = degree.nonzero().view(-1)
    order = present[degree[present].argsort()]
    median = int(order[order.numel() // 2])
    hub = int(order[-1])
    plan = [('one_triple', dict(edge_ids=perm[:1])),
            ('100_triples', dict(edge_ids=perm[1:101])),
            ('0.1pct_triples', dict(edge_ids=perm[101:101 + per_mille])),
            ('median_entity', dict(entities=[median])),
            ('hub_entity', dict(entities=[hub]))]
    out = {}
    for kind, request in plan:
        with Timer() as t:
            result = meu.unlearn(inplace=True, **request)
        rec = result.record
        out[kind] = dict(seconds=t.seconds, record_seconds=rec.seconds,
                         forgotten=int(rec.forget_triples.size(0)),
                         affected=int(rec.affected.numel()),
                         timings={k: round(v, 4)
                                  for k, v in rec.timings.items()})
        if kind.endswith('entity'):
            out[kind]['degree'] = int(degree[request['entities'][0]])
        print(f'  {kind:<15} {t.seconds:9.3f} s  forgot '
              f'{out[kind]["forgotten"]} triples, '
              f'{out[kind]["affected"]} entities affected', flush=True)
    return out


def markdown(report) -> str:
    lines = ['# ogbl-wikikg2 end to end on one machine', '',
             f"Command: `{report['command']}`", '']
    if report['synthetic']:
        lines += ['**Synthetic data**: a seeded random KG of wikikg2\'s '
                  'size in OGB\'s layout (`write_ogb_fixture`, skew '
                  f"{report['data']['skew']}), not the real ogbl-wikikg2: "
                  'timings and memory are representative, the MRR is that '
                  'of random triples (chance level).', '']
    d = report['data']
    lines += [f"{d['entities']:,} entities, {d['relations']} relations, "
              f"{d['train']:,} / {d['valid']:,} / {d['test']:,} triples, "
              f"{d['num_neg']} negatives per side ({d['neg_dtype']}, "
              f"memory-mapped). Load: {report['load_seconds']:.1f} s, "
              f"peak {report['load_peak_mb']:.0f} MB. "
              f"Machine: {report['machine']}.", '']
    rows = []
    for name, m in report['models'].items():
        rows.append([name, m['dim'], f"{m['epochs']:.3f}",
                     f"{m['train_seconds']:.0f}",
                     f"{m['triples_per_s']:.0f}",
                     f"{m['pyg_loop_triples_per_s']:.0f}",
                     f"{m['ours_one_negative_triples_per_s']:.0f}",
                     f"{m['train_peak_mb']:.0f}",
                     f"{m['test_mrr']:.4f}", m['eval_count']])
    lines += ['## Training and OGB evaluation', '',
              markdown_table(['model', 'dim', 'epochs', 'train s',
                              'triples/s (ours, 256 shared neg)',
                              'triples/s (PyG loader+loss, 1 neg)',
                              'triples/s (ours, 1 neg)', 'train peak MB',
                              'test MRR (OGB)', 'ranked'], rows), '']
    for name, m in report['models'].items():
        c = m['ogb_check']
        lines.append(f"- {name}: on {c['size']} test triples every rank "
                     f"agrees exactly with `ogb.linkproppred.Evaluator` "
                     f"('ogbl-wikikg2') on the same scores (MRR "
                     f"{c['ours_mrr']:.6f} vs {c['ogb_mrr']:.6f}).")
    lines.append('')
    for name, m in report['models'].items():
        u = m['metaeu']
        retrain = (f"{m['retrain_seconds']:.0f} s" +
                   (' (estimated: epoch time x '
                    f"{m['recipe_epochs']} epochs)"
                    if m['retrain_estimated'] else ' (measured)'))
        lines += [f'## MetaEU requests ({name})', '',
                  f"Meta-training: {u['episodes']} episodes in "
                  f"{u['fit_seconds']:.1f} s. Requests run in sequence on a "
                  f"private copy of the model with `inplace=True` (no "
                  f"full-model copy per request); model hashes in the "
                  f"ledger: {'yes' if u['hash_models'] else 'no'}. "
                  f'Retraining: {retrain}.', '']
        rows = [[k, f"{v['seconds']:.3f}", f"{v['record_seconds']:.3f}",
                 v['forgotten'], v['affected']]
                for k, v in u['requests'].items()]
        rows.append(['retrain', f"{m['retrain_seconds']:.0f}", '', '', ''])
        lines += [markdown_table(['request', 'wall s', 'MetaEU s',
                                  'forgotten', 'affected'], rows), '']
    return '\n'.join(lines) + '\n'


def main(argv=None):
    args = parse_args(argv)
    command = 'python benchmarks/wikikg2.py ' + shlex.join(
        sys.argv[1:] if argv is None else argv)
    own_workdir = args.workdir is None
    workdir = tempfile.mkdtemp(prefix='wikikg2_') if own_workdir \
        else args.workdir
    try:
        report = run(args, workdir, command)
    finally:
        if own_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    write_json(report, args.out + '.json', indent=1)
    atomic_write_text(args.out + '.md', markdown(report))
    print(f'wrote {args.out}.md and {args.out}.json')
    return report


def run(args, workdir, command):
    torch.manual_seed(args.seed)
    root = args.root
    if args.synthetic:
        root = osp.join(workdir, 'ogb')
        print(f'SYNTHETIC data: writing a seeded random KG of '
              f'{args.num_entities:,} entities and {args.num_train:,} / '
              f'{args.num_valid:,} / {args.num_test:,} triples in OGB\'s '
              f'layout to {root} (not the real ogbl-wikikg2)', flush=True)
        with Timer() as t:
            write_ogb_fixture(root, args.num_entities, args.num_relations,
                              args.num_train, args.num_valid, args.num_test,
                              args.num_neg, seed=args.seed, skew=args.skew,
                              entity_names=False, progress=True)
        print(f'  written in {t.seconds:.1f} s', flush=True)

    # 1. Load (negatives int32, memory-mapped).
    peak_reset()
    with Timer() as t:
        dataset = load_ogb_wikikg2(root, mmap_dir=osp.join(workdir, 'mmap'))
    load_peak = peak_mb()
    train_data, test = dataset.train, dataset.test
    n, R = dataset.num_entities, dataset.num_relations
    print(f'loaded {n:,} entities, {R} relations, '
          f'{train_data.edge_index.size(1):,} train triples in '
          f'{t.seconds:.1f} s (peak {load_peak:.0f} MB)', flush=True)
    report = dict(
        command=command, synthetic=bool(args.synthetic),
        machine=f'{os.cpu_count()} CPU cores, device {args.device}, '
        f'torch {torch.__version__}, '
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}",
        data=dict(entities=n, relations=R,
                  train=int(train_data.edge_index.size(1)),
                  valid=int(dataset.valid.edge_index.size(1)),
                  test=int(test.edge_index.size(1)),
                  num_neg=int(test.tail_neg.size(1)),
                  neg_dtype=str(test.tail_neg.dtype).replace('torch.', ''),
                  skew=args.skew if args.synthetic else None),
        load_seconds=t.seconds, load_peak_mb=load_peak, models={})

    m_eval = test.edge_index.size(1)
    if args.eval_max:
        m_eval = min(m_eval, args.eval_max)
    evaluator = LinkPredictionEvaluator(n, R,
                                        batch_size=args.eval_batch_size,
                                        progress_bar=True)
    for name in args.models:
        rec = dict(RECIPES[name])
        if args.recipe_epochs:
            rec['epochs'] = args.recipe_epochs
        print(f'== {name} (d={args.dim}, sparse embeddings + SparseAdam, '
              f'budget {args.budget_minutes} min)', flush=True)
        # 2. Train.
        peak_reset()
        torch.manual_seed(args.seed)
        model = load_kge_model(name, n, R, args.dim,
                               **rec['model_kwargs']).to(args.device)
        cfg = TrainConfig(**rec['train'], seed=args.seed)
        steps, seen, seconds, epoch_s = train(
            model, train_data, cfg, 60 * args.budget_minutes, rec['epochs'],
            args.device, f'train {name}', args.seed)
        train_peak = peak_mb()
        E = train_data.edge_index.size(1)
        epochs = seen / E
        m = dict(dim=args.dim, recipe=rec['train'], steps=steps,
                 epochs=epochs, train_seconds=seconds,
                 triples_per_s=seen / seconds, epoch_seconds=epoch_s,
                 train_peak_mb=train_peak, recipe_epochs=rec['epochs'])
        if seen >= rec['epochs'] * E:  # the whole recipe fit the budget
            m['retrain_seconds'] = seconds
            m['retrain_estimated'] = False
        else:
            m['retrain_seconds'] = epoch_s * rec['epochs']
            m['retrain_estimated'] = True
        print(f'  {epochs:.3f} epochs in {seconds:.0f} s, '
              f'{seen / seconds:.0f} triples/s, peak {train_peak:.0f} MB',
              flush=True)
        cmp = compare_loops(name, train_data, n, R, args.dim,
                            cfg.batch_size, args.compare_seconds,
                            args.device, args.seed)
        m['pyg_loop_triples_per_s'] = cmp['pyg_loop']
        m['ours_one_negative_triples_per_s'] = cmp['ours_one_negative']
        print(f"  PyG loader+loss loop: {cmp['pyg_loop']:.0f} triples/s; "
              f"ours with 1 negative: {cmp['ours_one_negative']:.0f} "
              f'triples/s', flush=True)

        # 3. OGB evaluation (bounded memory: batches of the test split).
        with Timer() as t:
            res = evaluator.evaluate_ogb(model, to_triples(test)[:m_eval],
                                         test.head_neg[:m_eval],
                                         test.tail_neg[:m_eval])
        m.update(test_mrr=res['mrr'], test_hits10=res['hits@10'],
                 eval_count=res['count'], eval_seconds=t.seconds)
        m['ogb_check'] = ogb_check(model, test, test.head_neg,
                                   test.tail_neg, evaluator,
                                   min(args.check_size, m_eval))
        print(f"  test MRR {res['mrr']:.4f} on {res['count']} rankings "
              f"({t.seconds:.0f} s); OGB evaluator agrees on "
              f"{m['ogb_check']['size']} triples", flush=True)

        # 4. MetaEU: meta-train, then requests on a private copy in place.
        private = copy.deepcopy(model)
        with Timer() as t:
            meu = MetaEU(private, train_data, reference=dataset.valid,
                         progress=True, hash_models=not args.no_hash)
            meu.fit(episodes=args.episodes)
        print(f'  MetaEU meta-trained on {args.episodes} episodes in '
              f'{t.seconds:.1f} s', flush=True)
        # The one-off indexes, digests and score reference, timed apart
        # from the requests (the first request would pay them otherwise).
        with Timer() as ts:
            meu.prepare()
        print(f'  MetaEU prepared (indexes, digests, score reference) in '
              f'{ts.seconds:.1f} s', flush=True)
        requests = serve_requests(meu, train_data, args.seed)
        m['metaeu'] = dict(episodes=args.episodes, fit_seconds=t.seconds,
                           prepare_seconds=ts.seconds,
                           hash_models=not args.no_hash, inplace=True,
                           requests=requests)
        report['models'][name] = m
        del meu, private, model

    # Top-level keys of the first model, for a quick look.
    first = report['models'][args.models[0]]
    report.update(
        train_peak_mb=max(m['train_peak_mb']
                          for m in report['models'].values()),
        retrain_seconds=first['retrain_seconds'],
        retrain_estimated=first['retrain_estimated'],
        requests={k: dict(seconds=v['seconds'])
                  for k, v in first['metaeu']['requests'].items()},
        triples_per_s=dict(ours=first['triples_per_s'],
                           pyg_loop=first['pyg_loop_triples_per_s'],
                           ours_one_negative=first[
                               'ours_one_negative_triples_per_s']))
    return report


if __name__ == '__main__':
    main()
