r"""Command line: ``python -m torch_geometric_unlearn <command> ...``.

Commands:

* ``data``: summarise a KG (a directory, a saved dataset or a synthetic
  configuration): counts and degree statistics.
* ``train``: train a PyG KGE model with the default recipe, write a
  checkpoint.
* ``evaluate``: filtered link-prediction metrics of a checkpoint, as JSON.
* ``meta-train``: meta-train a :class:`~torch_geometric_unlearn.MetaEU` for
  a trained checkpoint and save it.
* ``unlearn``: serve a deletion request (triples from a file, a random
  share, entities or relations) with a saved MetaEU; write the new
  checkpoint and a JSON report.
* ``demo``: the end-to-end job of the README on the embedded synthetic KG.
* ``bench``: MetaEU and the baselines on one request, side by side (table,
  JSON, plot).
"""
from __future__ import annotations

import argparse
import copy
import json
import os.path as osp
import sys
import time
from typing import List, Optional

from .datasets import (KGDataset, SYNTHETIC_PRESETS, load_tsv_kg,
                       make_synthetic_kg, parse_synthetic_spec, to_triples)

DATA_HELP = ('a directory of train/valid/test .tsv[.gz] files, a dataset '
             'saved with KGDataset.save (.pt), an OGB root holding '
             'ogbl_wikikg2 (prefix ogb:), or a synthetic KG: "synthetic", '
             '"synthetic-<preset>" (' + ', '.join(SYNTHETIC_PRESETS) +
             ') or "synthetic:entities=N,relations=R,triples=T,seed=S"')


class CLIError(Exception):
    r"""A user error: printed without a traceback, exit status 2."""


def load_dataset(spec: str) -> KGDataset:
    r"""Resolves a ``--data`` argument to a :class:`KGDataset` (see
    :data:`DATA_HELP` for the accepted forms)."""
    try:
        kwargs = parse_synthetic_spec(spec)
    except ValueError as e:
        raise CLIError(str(e)) from e
    if kwargs is not None:
        return make_synthetic_kg(**kwargs)
    if spec.startswith('ogb:'):
        from .datasets.ogb import load_ogb_wikikg2
        return load_ogb_wikikg2(spec[4:])
    if osp.isfile(spec):
        return KGDataset.load(spec)
    if osp.isdir(spec):
        return load_tsv_kg(spec)
    raise CLIError(f"--data '{spec}' is neither a directory, a saved dataset "
                   f"nor a synthetic specification ({DATA_HELP})")


def _print_summary(summary: dict) -> None:
    deg = summary['train_degree']
    print(f"dataset    {summary['name']}")
    print(f"entities   {summary['entities']:,}")
    print(f"relations  {summary['relations']:,}")
    print(f"triples    train {summary['train']:,} / valid "
          f"{summary['valid']:,} / test {summary['test']:,}")
    print(f"degree     min {deg['min']}  median {deg['median']:g}  mean "
          f"{deg['mean']:.2f}  max {deg['max']}  isolated in train "
          f"{deg['isolated']}")


def _fit_summary(history: List[dict]) -> str:
    r"""``"base 0.2884 -> best 0.3640 (episode 300)"`` from a MetaEU fit
    history (the base is the untrained generator, i.e. the learning-free
    mean estimate)."""
    scored = [h for h in history if h.get('val_mrr') == h.get('val_mrr')]
    if not scored:
        return 'not measured (no validation episodes)'
    best = max(scored, key=lambda h: h['val_mrr'])
    base = history[0].get('base_mrr', scored[0]['val_mrr'])
    return (f"base {base:.4f} -> best {best['val_mrr']:.4f} (episode "
            f"{best['episode']})")


def _first_names(vocab, count: int = 100) -> List[str]:
    return vocab.names(range(min(count, len(vocab))))


def load_kge(path: str, dataset: KGDataset, device: str = 'cpu') -> dict:
    r"""Loads a KGE checkpoint (:func:`~torch_geometric_unlearn.kge.
    load_checkpoint`) and checks that it was trained on :obj:`dataset`'s
    entity and relation ids."""
    from .kge import load_checkpoint

    if not osp.isfile(path):
        raise CLIError(f"checkpoint '{path}' does not exist")
    try:
        ckpt = load_checkpoint(path)
    except Exception as e:  # not a torch file, or not a KGE checkpoint
        raise CLIError(f"'{path}' is not a KGE checkpoint "
                       f'({type(e).__name__}: {e})') from e
    model = ckpt['module'].to(device)
    if (model.num_nodes != dataset.num_entities
            or model.num_relations != dataset.num_relations):
        raise CLIError(f'the checkpoint has {model.num_nodes} entities and '
                       f'{model.num_relations} relations, the data '
                       f'{dataset.num_entities} and {dataset.num_relations}')
    for key, vocab, what in (('entity_vocab', dataset.entity_vocab, 'entity'),
                             ('relation_vocab', dataset.relation_vocab,
                              'relation')):
        names = ckpt.get(key)
        if names is not None and list(names[:100]) != _first_names(vocab):
            raise CLIError(f'the checkpoint was trained on other {what} ids '
                           f'than this data (vocabularies differ)')
    ckpt['module'] = model
    return ckpt


def cmd_data(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    dataset = load_dataset(args.data)
    summary = dataset.summary()
    summary['load_seconds'] = round(time.perf_counter() - t0, 3)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        _print_summary(summary)
        print(f"loaded in  {summary['load_seconds']:.2f} s")
    if args.save:
        dataset.save(args.save)
        print(f'saved to   {args.save}')
    return 0


def default_metaeu_loss(model: str) -> str:
    r"""The meta-training loss that suits a KGE model: :obj:`"softmax"` for
    the dot-product models (DistMult, ComplEx), :obj:`"self_adversarial"`
    for the distance models (TransE, RotatE)."""
    return 'softmax' if model in ('distmult', 'complex') else \
        'self_adversarial'


def cmd_demo(args: argparse.Namespace) -> int:
    import torch

    from .transforms import RandomForget

    print('== 1. data: seeded synthetic KG with planted patterns')
    dataset = load_dataset(args.data)
    _print_summary(dataset.summary())

    print(f'\n== 2. deletion request: forget {args.forget_ratio:.1%} of the '
          f'training triples (no entity or relation lost, seed {args.seed})')
    t0 = time.perf_counter()
    request = RandomForget(ratio=args.forget_ratio, seed=args.seed,
                           num_hops=args.num_hops)
    out = request(dataset.train)
    seconds = time.perf_counter() - t0
    num_forget = out.forget_edge_index.size(1)
    print(f'{request}')
    print(f'forget {num_forget:,} triples, retain '
          f'{out.edge_index.size(1):,}; affected entities '
          f'{int(out.affected_mask.sum()):,} of {dataset.num_entities:,} '
          f'({int(out.forget_entity_mask.sum()):,} in the forget set, '
          f'{args.num_hops} hop expansion); {seconds * 1000:.1f} ms')
    rows = torch.stack([out.forget_edge_index[0], out.forget_edge_type,
                        out.forget_edge_index[1]], dim=1)
    for h, r, t in dataset.decode(rows[:3]):
        print(f'  forget ({h}, {r}, {t})')
    if args.epochs <= 0:
        return 0
    if args.episodes < 0 or args.refine_steps < 0:
        raise CLIError('--episodes and --refine-steps must be >= 0')

    from torch_geometric.data import Data

    from .kge import (KGETrainer, LinkPredictionEvaluator, TrainConfig,
                      load_kge_model)
    from .metaeu import MetaEU, MetaEUConfig

    print(f'\n== 3. original model and the reference retrained without the '
          f'forget set ({args.model}, dim {args.dim}, {args.epochs} epochs)')
    retained = Data(edge_index=out.edge_index, edge_type=out.edge_type,
                    num_nodes=out.num_nodes,
                    num_relations=out.num_relations)
    cfg = TrainConfig(epochs=args.epochs, loss='bce', num_negatives=32,
                      batch_size=512, lr=3e-3, eval_every=0, seed=args.seed)
    # Every model is ranked against the same filter, the graph as it must
    # look after unlearning: retained training triples, valid and test (the
    # forget set is never filtered, so it can be ranked).
    evaluator = LinkPredictionEvaluator(
        dataset.num_entities, dataset.num_relations,
        filter_triples=[retained, dataset.valid, dataset.test])

    def measure(model):
        return (evaluator.evaluate(model, dataset.test)['mrr'],
                evaluator.evaluate(model, rows)['mrr'])

    models, seconds = {}, {}
    for label, graph in (('original', dataset.train),
                         ('retrained', retained)):
        torch.manual_seed(args.seed)
        model = load_kge_model(args.model, dataset.num_entities,
                               dataset.num_relations, args.dim)
        t0 = time.perf_counter()
        KGETrainer(model, cfg, progress=False).fit(graph)
        seconds[label] = time.perf_counter() - t0
        models[label] = model
        print(f'{label:9s} trained in {seconds[label]:.1f} s', flush=True)

    loss = default_metaeu_loss(args.model)
    print(f'\n== 4. MetaEU: meta-train the generator on the original model '
          f'({args.episodes} episodes, {loss} loss), then unlearn the same '
          f'forget set', flush=True)
    meu = MetaEU(models['original'], dataset.train,
                 MetaEUConfig(loss=loss, lr=3e-4, seed=args.seed,
                              eval_every=max(1, min(100, args.episodes))),
                 progress=False)
    meu.fit(episodes=args.episodes)
    seconds['meta-train'] = meu.fit_seconds
    print(f'meta-trained in {meu.fit_seconds:.1f} s; validation MRR '
          f'{_fit_summary(meu.history)}')
    generator_state = copy.deepcopy(meu.generator.state_dict())
    variants = [('MetaEU', 0)]
    if args.refine_steps > 0:
        variants.append(('MetaEU-FT', args.refine_steps))
    for label, steps in variants:
        # A fresh MetaEU on the original model for each variant (requests
        # are sequential: the first would otherwise be the base of the next).
        runner = MetaEU(models['original'], dataset.train, meu.config,
                        progress=False)
        runner.generator.load_state_dict(generator_state)
        record = runner.unlearn(edge_ids=out.forget_edge_id,
                                num_hops=args.num_hops,
                                refine_steps=steps).record
        models[label] = runner.model
        seconds[label] = record.seconds
        print(f'{label:9s} forgot {record.num_forget:,} triples, regenerated '
              f'{record.num_affected:,} entities'
              + (f' + {steps} refinement steps' if steps else '') +
              f' in {record.seconds:.3f} s')

    print('\n== 5. side by side (filtered MRR, filter = retained training '
          'triples + valid + test)')
    print(f"{'model':10s} {'test MRR':>9s} {'forget MRR':>11s} "
          f"{'seconds':>8s}  seconds of")
    what = {'original': 'training',
            'retrained': 'retraining without the forget set',
            'MetaEU': f"unlearning (after {seconds['meta-train']:.1f} s of "
                      f"meta-training, once per model)",
            'MetaEU-FT': 'unlearning with refinement (same generator)'}
    for label, model in models.items():
        test, forget = measure(model)
        print(f'{label:10s} {test:9.4f} {forget:11.4f} '
              f'{seconds[label]:8.2f}  {what[label]}')
    print('The target of unlearning is the retrained row: its test MRR, and '
          'a forget MRR down to what the retained graph alone implies (not '
          'zero), in a fraction of its time.')
    if not args.no_rec:
        _demo_rec(args.seed)
    return 0


def _demo_rec(seed: int) -> None:
    r"""Part two of the demo: EEMU on the synthetic interactions."""
    import torch

    from .rec import (EEMU, EEMUConfig, RetrainRec, SISARec,
                      make_synthetic_interactions, ranking_metrics)
    data = make_synthetic_interactions(seed=seed)
    train = data.edge_index('train')
    print(f'\n== 6. recommendation: {data} (synthetic interactions)')
    cfg = EEMUConfig(model='mf', dim=32, epochs=20, lr=5e-3, batch_size=512,
                     users_per_step=16, num_shards=4, seed=seed)

    def recall(m):
        return ranking_metrics(m.score_fn(), data.num_items,
                               data.edge_index('test'),
                               [m.edge_index, data.edge_index('valid')]
                               )['recall@20']

    user = int(train[0, 0])
    print(f"{'method':9s} {'recall@20':>9s} {'fit s':>6s} "
          f"{'delete user s':>13s} {'recall@20 after':>15s}")
    for cls in (RetrainRec, SISARec, EEMU):
        m = cls(data.num_users, data.num_items, cfg).fit(train)
        before = recall(m)
        rec = m.unlearn(user)
        print(f'{cls.name:9s} {before:9.4f} {m.fit_seconds:6.2f} '
              f"{rec['seconds']:13.3f} {recall(m):15.4f}")
    fresh = EEMU(data.num_users, data.num_items, cfg).fit(
        train[:, train[0] != user])
    same = all(torch.equal(a, b) for a, b in zip(m.state_dict().values(),
                                                 fresh.state_dict().values()))
    print(f"EEMU retrained shard {rec['shards']} of {cfg.num_shards} for "
          f"user {user}; equal bit for bit to an EEMU trained without the "
          f"user's data: {same}")


def cmd_train(args: argparse.Namespace) -> int:
    import torch

    from .kge import KGETrainer, TrainConfig, load_kge_model, recipe

    dataset = load_dataset(args.data)
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
    config = TrainConfig.from_dict(train_kw)
    dim = args.dim or rec['hidden_channels']
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


def cmd_evaluate(args: argparse.Namespace) -> int:
    from .kge import LinkPredictionEvaluator

    dataset = load_dataset(args.data)
    model = load_kge(args.checkpoint, dataset, args.device)['module']
    evaluator = LinkPredictionEvaluator(
        dataset.num_entities, dataset.num_relations,
        filter_triples=[dataset.train, dataset.valid, dataset.test],
        batch_size=args.batch_size, progress_bar=not args.quiet)
    t0 = time.perf_counter()
    metrics = evaluator.evaluate(model, dataset[args.split])
    metrics['seconds'] = round(time.perf_counter() - t0, 4)
    metrics = {k: metrics[k] for k in ('mrr', 'mr', 'hits@1', 'hits@3',
                                       'hits@10', 'count', 'seconds')}
    text = json.dumps(metrics, indent=2)
    print(text)
    if args.out:
        with open(args.out, 'w') as f:
            f.write(text + '\n')
    return 0


def cmd_meta_train(args: argparse.Namespace) -> int:
    from .kge import model_name
    from .metaeu import MetaEU, MetaEUConfig

    dataset = load_dataset(args.data)
    ckpt = load_kge(args.checkpoint, dataset, args.device)
    model = ckpt['module']
    name = model_name(model)
    options = {
        'episodes': args.episodes, 'lr': args.lr,
        'hidden_channels': args.hidden, 'max_minutes': args.max_minutes,
        'eval_every': args.eval_every, 'patience': args.patience,
        'seed': args.seed, 'loss': args.loss or default_metaeu_loss(name),
    }
    config = MetaEUConfig.from_dict(
        {k: v for k, v in options.items() if v is not None})
    meu = MetaEU(model, dataset, config, progress=not args.quiet)
    print(f'meta-training MetaEU for {name} on {dataset.name} '
          f'({dataset.train.num_edges:,} triples): {config.episodes} '
          f'episodes, {config.loss} loss, lr {config.lr:g}, hidden '
          f'{config.hidden_channels}', flush=True)
    history = meu.fit(checkpoint=args.out)
    meu.save(args.out)
    last = history[-1]['episode'] if history else config.episodes
    print(f'validation MRR {_fit_summary(history)}')
    print(f'meta-trained {last} episodes in {meu.fit_seconds:.1f} s; MetaEU '
          f'written to {args.out}')
    return 0


def _entity_or_relation(token: str, vocab, what: str, ids: bool) -> int:
    r"""Resolves a name (or, with :obj:`ids` or when no name matches, an
    integer id) against a vocabulary."""
    token = token.strip()
    if not ids and token in vocab:
        return vocab.index(token)
    try:
        idx = int(token)
    except ValueError:
        if ids:
            raise CLIError(f"{what} '{token}' is not an integer id "
                           f"(--ids was given)") from None
        raise CLIError(f"unknown {what} '{token}'") from None
    if not 0 <= idx < len(vocab):
        raise CLIError(f'{what} id {idx} is out of range [0, '
                       f'{len(vocab) - 1}]')
    return idx


def read_forget_file(path: str, dataset: KGDataset, ids: bool = False):
    r"""Reads the triples of a forget file: one ``head relation tail`` per
    line, tab-separated (or, without tabs, whitespace-separated); blank
    lines and lines starting with ``#`` are skipped. Names are looked up in
    the dataset's vocabularies (integer ids with :obj:`ids`). Returns a
    ``[F, 3]`` tensor of unique triples in file order and the number of
    duplicated lines dropped."""
    import torch

    if not osp.isfile(path):
        raise CLIError(f"forget file '{path}' does not exist")
    rows, seen, dup = [], set(), 0
    with open(path, encoding='utf-8') as f:
        for num, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            parts = line.split('\t') if '\t' in line else line.split()
            if len(parts) != 3:
                raise CLIError(f'{path}, line {num}: expected head, relation '
                               f'and tail, got {len(parts)} field(s)')
            try:
                row = (_entity_or_relation(parts[0], dataset.entity_vocab,
                                           'entity', ids),
                       _entity_or_relation(parts[1], dataset.relation_vocab,
                                           'relation', ids),
                       _entity_or_relation(parts[2], dataset.entity_vocab,
                                           'entity', ids))
            except CLIError as e:
                raise CLIError(f'{path}, line {num}: {e}') from None
            if row in seen:
                dup += 1
                continue
            seen.add(row)
            rows.append(row)
    if not rows:
        raise CLIError(f"forget file '{path}' holds no triple")
    return torch.tensor(rows, dtype=torch.long), dup


def _check_in_graph(triples, graph, dataset: KGDataset) -> None:
    import torch

    from .datasets.kg import triple_keys

    n, r = dataset.num_entities, dataset.num_relations
    have = triple_keys(graph.edge_index[0], graph.edge_type,
                       graph.edge_index[1], n, r)
    want = triple_keys(triples[:, 0], triples[:, 1], triples[:, 2], n, r)
    missing = triples[~torch.isin(want, have)]
    if missing.size(0):
        shown = ', '.join('(' + ', '.join(t) + ')'
                          for t in dataset.decode(missing[:3]))
        raise CLIError(f'{missing.size(0)} triple(s) to forget are not in the '
                       f'training graph, e.g. {shown}')


def cmd_unlearn(args: argparse.Namespace) -> int:
    from .kge import LinkPredictionEvaluator, save_checkpoint
    from .metaeu import MetaEU
    from .transforms import sample_forget_set

    kinds = [flag for flag, value in (('--forget', args.forget),
                                      ('--ratio', args.ratio),
                                      ('--entity', args.entity),
                                      ('--relation', args.relation))
             if value is not None]
    if len(kinds) != 1:
        raise CLIError('give exactly one deletion request: --forget FILE, '
                       '--ratio R, --entity NAME (repeatable) or --relation '
                       'NAME (repeatable)' +
                       (f' (got {", ".join(kinds)})' if kinds else ''))
    dataset = load_dataset(args.data)
    ckpt = load_kge(args.checkpoint, dataset, args.device)
    model = ckpt['module']
    done = ckpt.get('unlearning')
    if done and done.get('num_retained') not in (None,
                                                 dataset.train.num_edges):
        print(f"warning: the checkpoint already forgot triples and was left "
              f"with {done['num_retained']:,} training triples, but --data "
              f"has {dataset.train.num_edges:,}; pass the retained dataset "
              f"its unlearn run saved (--save-data) so that nothing "
              f"forgotten comes back", file=sys.stderr)
    meu = MetaEU.load(args.metaeu, model, dataset, progress=False)
    train = meu.data

    request = {}
    if args.forget is not None:
        triples, dup = read_forget_file(args.forget, dataset, args.ids)
        _check_in_graph(triples, train, dataset)
        request['triples'] = triples
        if dup:
            print(f'{dup} duplicated line(s) of {args.forget} ignored')
    elif args.ratio is not None:
        request['edge_ids'] = sample_forget_set(train, ratio=args.ratio,
                                                seed=args.seed)
    elif args.entity is not None:
        request['entities'] = sorted({
            _entity_or_relation(e, dataset.entity_vocab, 'entity', args.ids)
            for e in args.entity})
    else:
        request['relations'] = sorted({
            _entity_or_relation(r, dataset.relation_vocab, 'relation',
                                args.ids) for r in args.relation})

    result = meu.unlearn(**request, num_hops=args.num_hops,
                         ensemble=args.ensemble,
                         refine_steps=args.refine_steps)
    record = result.record
    info = record.to_dict(with_ids=False)
    info['num_retained'] = int(result.data.num_edges)
    info['metaeu'] = args.metaeu
    info['source_checkpoint'] = args.checkpoint
    # No optimiser state or training history is carried over: both were
    # computed on the forgotten triples too.
    extra = {k: ckpt[k] for k in ('dataset', ) if k in ckpt}
    save_checkpoint(args.out, result.model,
                    model_kwargs=ckpt.get('model_kwargs'),
                    train_config=ckpt.get('train_config'),
                    entity_vocab=ckpt.get('entity_vocab'),
                    relation_vocab=ckpt.get('relation_vocab'),
                    unlearning=info, **extra)
    print(f'{record.request}: forgot {record.num_forget:,} triples, '
          f'regenerated {record.num_affected:,} entities '
          f'(num_hops {record.num_hops}, ensemble {record.ensemble}, '
          f'refine_steps {record.refine_steps}) in {record.seconds:.3f} s; '
          f'{info["num_retained"]:,} training triples retained')

    report = dict(info, data=args.data, dataset=dataset.name,
                  checkpoint=args.out,
                  forget_triples=[list(t) for t in dataset.decode(
                      record.forget_triples)])
    if args.evaluate:
        evaluator = LinkPredictionEvaluator(
            dataset.num_entities, dataset.num_relations,
            filter_triples=[result.data, dataset.valid, dataset.test],
            batch_size=args.batch_size)
        keys = ('mrr', 'hits@1', 'hits@10', 'count')
        metrics = {}
        for label, m in (('original', model), ('unlearned', result.model)):
            metrics[label] = {}
            for split, triples in (('test', to_triples(dataset.test)),
                                   ('forget', record.forget_triples)):
                if triples.numel() == 0:
                    continue
                res = evaluator.evaluate(m, triples)
                metrics[label][split] = {k: res[k] for k in keys}
        metrics['filter'] = 'retained training triples + valid + test'
        report['metrics'] = metrics
        print(f"{'model':10s} {'test MRR':>9s} {'forget MRR':>11s}")
        for label in ('original', 'unlearned'):
            test = metrics[label].get('test', {}).get('mrr', float('nan'))
            forget = metrics[label]['forget']['mrr']
            print(f'{label:10s} {test:9.4f} {forget:11.4f}')
    report_path = args.report or _report_path(args.out)
    with open(report_path, 'w') as f:
        json.dump(report, f, indent=2)
        f.write('\n')
    if args.save_data:
        KGDataset(result.data, dataset.valid, dataset.test,
                  entity_vocab=dataset.entity_vocab,
                  relation_vocab=dataset.relation_vocab, name=dataset.name,
                  meta=dataset.meta).save(args.save_data)
        print(f'retained dataset written to {args.save_data}')
    print(f'checkpoint written to {args.out}, report to {report_path}')
    return 0


def _report_path(out: str) -> str:
    root, ext = osp.splitext(out)
    return root + ('.report.json' if ext == '.json' else '.json')


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog='python -m torch_geometric_unlearn',
        description='Make trained PyG graph embedding models forget data.')
    sub = parser.add_subparsers(dest='command', metavar='COMMAND')

    p = sub.add_parser('data', help='summarise a knowledge graph',
                       description='Counts and degree statistics of a KG.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--json', action='store_true',
                   help='print the summary as JSON')
    p.add_argument('--save', metavar='FILE',
                   help='also save the dataset (KGDataset.save) to FILE')
    p.set_defaults(func=cmd_data)

    p = sub.add_parser('train', help='train a KGE model',
                       description='Train a PyG KGE model with its default '
                       'recipe (options override it) and write a checkpoint.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--model', required=True,
                   choices=['transe', 'distmult', 'complex', 'rotate'])
    p.add_argument('--dim', type=int, help='embedding size (recipe default)')
    p.add_argument('--epochs', type=int)
    p.add_argument('--batch-size', type=int)
    p.add_argument('--negatives', type=int, help='negatives per positive')
    p.add_argument('--loss', choices=['margin', 'bce', 'self_adversarial',
                                      'softmax', '1vsall'])
    p.add_argument('--lr', type=float)
    p.add_argument('--eval-every', type=int)
    p.add_argument('--patience', type=int)
    p.add_argument('--max-minutes', type=float,
                   help='stop training after this wall time')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default='cpu')
    p.add_argument('--quiet', action='store_true', help='no progress bars')
    p.add_argument('--out', required=True, metavar='CKPT')
    p.set_defaults(func=cmd_train)

    p = sub.add_parser('evaluate', help='evaluate a checkpoint',
                       description='Filtered link prediction (both '
                       'directions, realistic rank; filter = train, valid '
                       'and test).')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--checkpoint', required=True, metavar='CKPT')
    p.add_argument('--split', default='test',
                   choices=['train', 'valid', 'test'])
    p.add_argument('--batch-size', type=int, default=512)
    p.add_argument('--device', default='cpu')
    p.add_argument('--quiet', action='store_true', help='no progress bars')
    p.add_argument('--out', metavar='METRICS.json')
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser('meta-train', help='meta-train MetaEU for a model',
                       description='Meta-train the MetaEU generator of a '
                       'trained KGE checkpoint on simulated deletions (the '
                       'KGE model stays frozen) and save it.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--checkpoint', required=True, metavar='CKPT',
                   help='the trained KGE checkpoint (see train)')
    p.add_argument('--episodes', type=int,
                   help='meta-training episodes (default 1000)')
    p.add_argument('--lr', type=float, help='Adam learning rate (3e-4)')
    p.add_argument('--hidden', type=int, help='hidden size of NEEM (64)')
    p.add_argument('--loss', choices=['self_adversarial', 'softmax'],
                   help='default: softmax for distmult and complex, '
                   'self_adversarial for transe and rotate')
    p.add_argument('--eval-every', type=int,
                   help='validate every this many episodes (100)')
    p.add_argument('--patience', type=int,
                   help='stop after this many validations without '
                   'improvement (5; 0: never)')
    p.add_argument('--max-minutes', type=float,
                   help='stop meta-training after this wall time')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default='cpu')
    p.add_argument('--quiet', action='store_true', help='no progress bars')
    p.add_argument('--out', required=True, metavar='METAEU.pt')
    p.set_defaults(func=cmd_meta_train)

    p = sub.add_parser('unlearn', help='forget triples with MetaEU',
                       description='Serve one deletion request with a '
                       'meta-trained MetaEU: give exactly one of --forget, '
                       '--ratio, --entity, --relation. Writes the unlearned '
                       'model as a KGE checkpoint and a JSON report.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--checkpoint', required=True, metavar='CKPT',
                   help='the KGE checkpoint to unlearn from')
    p.add_argument('--metaeu', required=True, metavar='METAEU.pt',
                   help='written by meta-train for this checkpoint')
    p.add_argument('--forget', metavar='FILE',
                   help='triples to forget, one "head relation tail" per '
                   'line (tab- or space-separated names; ids with --ids)')
    p.add_argument('--ratio', type=float, metavar='R',
                   help='forget a random share R of the training triples '
                   '(no entity or relation lost; seeded by --seed)')
    p.add_argument('--entity', action='append', metavar='NAME_OR_ID',
                   help='forget every triple of this entity (repeatable)')
    p.add_argument('--relation', action='append', metavar='NAME_OR_ID',
                   help='forget every triple of this relation (repeatable)')
    p.add_argument('--ids', action='store_true',
                   help='--forget, --entity and --relation give integer ids')
    p.add_argument('--num-hops', type=int,
                   help='expand the affected entities by this many hops')
    p.add_argument('--ensemble', type=int,
                   help='average K generator passes with support dropout')
    p.add_argument('--refine-steps', type=int,
                   help='MetaEU-FT: Adam steps on the regenerated rows')
    p.add_argument('--evaluate', action='store_true',
                   help='also rank test and forget triples with the original '
                   'and the unlearned model (filter = retained + valid + '
                   'test)')
    p.add_argument('--batch-size', type=int, default=512,
                   help='evaluation batch size')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--device', default='cpu')
    p.add_argument('--out', required=True, metavar='NEW_CKPT')
    p.add_argument('--report', metavar='REPORT.json',
                   help='default: NEW_CKPT with a .json suffix')
    p.add_argument('--save-data', metavar='DATA.pt',
                   help='also save the dataset with the retained training '
                   'graph (the --data of a next request)')
    p.set_defaults(func=cmd_unlearn)

    p = sub.add_parser('demo', help='run the end-to-end demo',
                       description='The README job on the embedded '
                       'synthetic KG.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--forget-ratio', type=float, default=0.01)
    p.add_argument('--num-hops', type=int, default=0)
    p.add_argument('--model', default='complex',
                   choices=['transe', 'distmult', 'complex', 'rotate'])
    p.add_argument('--dim', type=int, default=64)
    p.add_argument('--epochs', type=int, default=10,
                   help='training epochs of step 3 (0 stops after step 2)')
    p.add_argument('--episodes', type=int, default=300,
                   help='MetaEU meta-training episodes of step 4')
    p.add_argument('--refine-steps', type=int, default=20,
                   help='MetaEU-FT refinement steps of step 4 (0: no '
                   'MetaEU-FT row)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--no-rec', action='store_true',
                   help='skip part two (EEMU on synthetic interactions)')
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser('bench', help='compare unlearning methods on one '
                       'request',
                       description='Trains the original model, draws one '
                       'deletion request and runs every chosen method on '
                       'it; prints a table, writes the JSON and a plot.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--model', default='distmult',
                   choices=['transe', 'distmult', 'complex', 'rotate'])
    p.add_argument('--methods', default='metaeu,finetune,gradient_ascent',
                   help='comma-separated subset of retrain, metaeu, '
                   'finetune, gradient_ascent, distill, gnndelete, ssd, '
                   'sisa, or "all"')
    group = p.add_mutually_exclusive_group()
    group.add_argument('--forget-ratio', type=float)
    group.add_argument('--forget-entities', type=int, metavar='K')
    group.add_argument('--forget-relation', metavar='NAME_OR_ID')
    p.add_argument('--dim', type=int, default=32)
    p.add_argument('--epochs', type=int, default=10)
    p.add_argument('--episodes', type=int, default=200,
                   help='MetaEU meta-training episodes')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--no-retrain', action='store_true',
                   help='skip the retrained reference (no gaps)')
    p.add_argument('--out', metavar='RESULTS.json')
    p.add_argument('--plot', metavar='PLOT.png',
                   help='(default: RESULTS.png beside --out)')
    p.set_defaults(func=cmd_bench)

    p = sub.add_parser('rec-bench', help='compare recommendation unlearning '
                       'methods (EEMU, SISA, retrain, fine-tune)',
                       description='Trains every method on the same '
                       'interactions, deletes random users one request at a '
                       'time, and reports quality before/after, time per '
                       'request and the exactness check; prints a table, '
                       'writes the JSON and a plot.')
    p.add_argument('--data', default='synthetic', help=REC_DATA_HELP)
    p.add_argument('--model', default='mf', choices=['mf', 'lightgcn'])
    p.add_argument('--methods', default='all',
                   help='comma-separated subset of retrain, eemu, sisa, '
                   'finetune, or "all"')
    p.add_argument('--dim', type=int, default=64)
    p.add_argument('--layers', type=int, default=3,
                   help='LightGCN layers')
    p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--batch-size', type=int, default=512,
                   help='interactions per BPR step (2048 for Gowalla-size '
                   'data)')
    p.add_argument('--lr', type=float, default=5e-3)
    p.add_argument('--shards', type=int, default=4)
    p.add_argument('--users-per-step', type=int, default=16,
                   help='EEMU user tasks per meta-update (64 for '
                   'Gowalla-size data)')
    p.add_argument('--merge-valid', action='store_true',
                   help='train on train+valid (the LightGCN protocol)')
    p.add_argument('--device', default='cpu',
                   help='cpu or cuda (exactness is bitwise on CPU)')
    p.add_argument('--delete-users', type=int, default=1, metavar='K',
                   help='users deleted, one request each')
    p.add_argument('--finetune-epochs', type=int, default=1)
    p.add_argument('--no-exact-check', action='store_true')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--progress', action='store_true')
    p.add_argument('--out', metavar='RESULTS.json')
    p.add_argument('--plot', metavar='PLOT.png',
                   help='(default: RESULTS.png beside --out)')
    p.set_defaults(func=cmd_rec_bench)
    return parser


def _report(result: dict, table: str, plot_fn, args: argparse.Namespace
            ) -> int:
    r"""Prints a bench table, writes ``--out`` (JSON) and the plot
    (``--plot``, by default beside the JSON)."""
    print()
    print(table)
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(result, f, indent=1)
        print(f'results written to {args.out}')
    png = args.plot or (osp.splitext(args.out)[0] + '.png'
                        if args.out else None)
    if png:
        if plot_fn(result, png):
            print(f'plot written to {png}')
        else:
            print('matplotlib is not installed: no plot (pip install '
                  'matplotlib)')
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    import torch

    from .bench import format_table, parse_methods, plot, run_bench

    methods = parse_methods(args.methods)
    if args.no_retrain:
        methods = [m for m in methods if m != 'retrain']
        if not methods:
            raise CLIError('--no-retrain leaves no method to run')
    if args.dim < 1 or args.epochs < 1:
        raise CLIError('--dim and --epochs must be positive')
    ratio = args.forget_ratio
    if ratio is None and args.forget_entities is None and \
            args.forget_relation is None:
        ratio = 0.01
    dataset = load_dataset(args.data)
    torch.manual_seed(args.seed)
    result = run_bench(dataset, args.model, methods, forget_ratio=ratio,
                       forget_entities=args.forget_entities,
                       forget_relation=args.forget_relation, dim=args.dim,
                       epochs=args.epochs, seed=args.seed,
                       retrain=not args.no_retrain, episodes=args.episodes,
                       log=lambda msg: print(msg, flush=True))
    return _report(result, format_table(result), plot, args)


REC_DATA_HELP = ('"synthetic" (the seeded synthetic interactions), a '
                 'directory of train/valid/test .tsv[.gz] files of '
                 'user<TAB>item lines (e.g. Gowalla), or a MovieLens100K '
                 'root (with raw/u1.base)')


def load_rec_dataset(spec: str):
    r"""Resolves a ``rec-bench --data`` argument (see
    :data:`REC_DATA_HELP`)."""
    from .rec import (load_interactions, load_movielens100k,
                      make_synthetic_interactions)
    if spec == 'synthetic':
        return make_synthetic_interactions()
    if osp.isfile(osp.join(spec, 'raw', 'u1.base')):
        return load_movielens100k(spec)
    if osp.isdir(spec):
        return load_interactions(spec)
    raise CLIError(f"--data '{spec}' is neither 'synthetic' nor a "
                   f"directory ({REC_DATA_HELP})")


def cmd_rec_bench(args: argparse.Namespace) -> int:
    from .rec.bench import (format_rec_table, parse_rec_methods, plot_rec,
                            run_rec_bench)
    methods = parse_rec_methods(args.methods)
    for name in ('dim', 'epochs', 'batch_size', 'shards', 'delete_users',
                 'finetune_epochs', 'users_per_step'):
        if getattr(args, name) < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be positive")
    if args.lr <= 0 or args.layers < 0:
        raise CLIError('--lr must be positive and --layers non-negative')
    dataset = load_rec_dataset(args.data)
    result = run_rec_bench(
        dataset, methods, model=args.model, dim=args.dim,
        num_layers=args.layers, epochs=args.epochs,
        batch_size=args.batch_size, lr=args.lr, num_shards=args.shards,
        delete_users=args.delete_users, seed=args.seed,
        exact_check=not args.no_exact_check,
        finetune_epochs=args.finetune_epochs, progress=args.progress,
        device=args.device, users_per_step=args.users_per_step,
        merge_valid=args.merge_valid,
        log=lambda msg: print(msg, flush=True))
    return _report(result, format_rec_table(result), plot_rec, args)


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return args.func(args)
    except (CLIError, ValueError, FileNotFoundError, KeyError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2


if __name__ == '__main__':  # pragma: no cover
    sys.exit(main())
