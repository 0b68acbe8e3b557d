r"""``unlearn``: serve one deletion request (triples from a file, a random
share, entities or relations) with a saved MetaEU; write the new checkpoint
and a JSON report."""
from __future__ import annotations

import argparse
import json
import os.path as osp
import pickle

from ..datasets import (KGDataset, check_forget_request,
                        load_checkpoint_and_data, lookup_name_or_id,
                        read_forget_file, to_triples)
from .common import (CLIError, DATA_HELP, check_options, device, fraction,
                     non_negative_int, positive_int, user_input)


def add_parser(sub) -> None:
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
    p.add_argument('--ratio', type=fraction, metavar='R',
                   help='forget a random share R of the training triples '
                   '(no entity or relation lost; seeded by --seed)')
    p.add_argument('--entity', action='append', metavar='NAME_OR_ID',
                   help='forget every triple of this entity (repeatable)')
    p.add_argument('--relation', action='append', metavar='NAME_OR_ID',
                   help='forget every triple of this relation (repeatable)')
    p.add_argument('--ids', action='store_true',
                   help='--forget, --entity and --relation give integer ids')
    p.add_argument('--num-hops', type=non_negative_int,
                   help='expand the affected entities by this many hops')
    p.add_argument('--ensemble', type=positive_int,
                   help='average K generator passes with support dropout')
    p.add_argument('--refine-steps', type=non_negative_int,
                   help='MetaEU-FT: Adam steps on the regenerated rows')
    p.add_argument('--evaluate', action='store_true',
                   help='also rank test and forget triples with the original '
                   'and the unlearned model (filter = retained + valid + '
                   'test)')
    p.add_argument('--batch-size', type=positive_int, default=512,
                   help='evaluation batch size')
    p.add_argument('--seed', type=non_negative_int, default=0)
    p.add_argument('--device', type=device, default='cpu')
    p.add_argument('--out', required=True, metavar='NEW_CKPT')
    p.add_argument('--report', metavar='REPORT.json',
                   help='default: NEW_CKPT with a .json suffix')
    p.add_argument('--save-data', metavar='DATA.pt',
                   help='also save the dataset with the retained training '
                   'graph (the --data of a next request)')
    p.set_defaults(func=run)


def report_path(out: str) -> str:
    r"""The default report path of a new checkpoint :obj:`out`."""
    root, ext = osp.splitext(out)
    return root + ('.report.json' if ext == '.json' else '.json')


def _request(args: argparse.Namespace, dataset: KGDataset, train) -> dict:
    r"""The keyword arguments of :meth:`MetaEU.unlearn` for the request of
    :obj:`args`, checked against the training graph :obj:`train`."""
    from ..transforms import sample_forget_set

    request = {}
    with user_input():
        if args.forget is not None:
            triples, dup = read_forget_file(args.forget, dataset, args.ids)
            request['triples'] = triples
            if dup:
                print(f'{dup} duplicated line(s) of {args.forget} ignored')
        elif args.entity is not None:
            request['entities'] = sorted({
                lookup_name_or_id(e, dataset.entity_vocab, 'entity',
                                  args.ids) for e in args.entity})
        elif args.relation is not None:
            request['relations'] = sorted({
                lookup_name_or_id(r, dataset.relation_vocab, 'relation',
                                  args.ids) for r in args.relation})
        if train.num_edges == dataset.train.num_edges:
            # Nothing forgotten yet: name what is not in the data. After
            # earlier requests, unlearning itself names the request that
            # forgot a triple asked for again.
            check_forget_request(train, dataset=dataset, **request)
    if args.ratio is not None:
        with user_input(ValueError):  # the ratio's validation
            request['edge_ids'] = sample_forget_set(train, ratio=args.ratio,
                                                    seed=args.seed)
    return request


def _evaluate(args, dataset, result, models) -> dict:
    from ..kge import LinkPredictionEvaluator

    evaluator = LinkPredictionEvaluator(
        dataset.num_entities, dataset.num_relations,
        filter_triples=[result.data, dataset.valid, dataset.test],
        batch_size=args.batch_size)
    keys = ('mrr', 'hits@1', 'hits@10', 'count')
    metrics = {}
    for label, m in models:
        metrics[label] = {}
        for split, triples in (('test', to_triples(dataset.test)),
                               ('forget', result.record.forget_triples)):
            if triples.numel() == 0:
                continue
            res = evaluator.evaluate(m, triples)
            metrics[label][split] = {k: res[k] for k in keys}
    metrics['filter'] = 'retained training triples + valid + test'
    return metrics


def ledger_path(out: str) -> str:
    r"""The human-readable ledger written beside a new checkpoint."""
    return osp.splitext(out)[0] + '.ledger.jsonl'


def run(args: argparse.Namespace) -> int:
    from ..kge import save_checkpoint
    from ..metaeu import MetaEU
    from ..utils import atomic_write_text, check_output_paths
    from ..verify import resume, unlearning_state

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
    check_options(args, positive=('ensemble', 'batch_size'),
                  non_negative=('num_hops', 'refine_steps'))
    report_file = args.report or report_path(args.out)
    inputs = [args.checkpoint, args.metaeu, args.forget] + \
        ([args.data] if osp.isfile(args.data) else [])
    with user_input(ValueError):  # every output checked before any work
        check_output_paths([args.out, report_file, ledger_path(args.out),
                            args.save_data], inputs)
    with user_input():
        ckpt, dataset = load_checkpoint_and_data(args.checkpoint, args.data,
                                                 args.device)
        # A later request starts from the retained graph the checkpoint
        # carries, whatever --data holds (the original or the retained
        # graph; anything else is refused).
        original, ledger, retained = resume(ckpt.get('unlearning'), dataset)
    model = ckpt['module']
    # A file that is no MetaEU, one of another model, graph or size, or a
    # model that is not the one the checkpoint's ledger recorded last.
    with user_input(ValueError, pickle.UnpicklingError, EOFError):
        meu = MetaEU.load(args.metaeu, model, original, progress=False,
                          ledger=ledger, retained=retained)
    meu.names = (dataset.entity_vocab, dataset.relation_vocab)
    request = _request(args, dataset, meu.data)
    if 'edge_ids' in request:  # positions in the current graph
        request = dict(triples=to_triples(meu.data)[request.pop('edge_ids')])
    with user_input(ValueError):  # e.g. forgotten before: names the request
        result = meu.unlearn(**request, num_hops=args.num_hops,
                             ensemble=args.ensemble,
                             refine_steps=args.refine_steps)
    record = result.record
    info = record.to_dict(with_ids=False)
    info['num_retained'] = int(result.data.num_edges)
    info['metaeu'] = args.metaeu
    info['source_checkpoint'] = args.checkpoint
    state = dict(unlearning_state(meu), **info)
    # No optimiser state or training history is carried over: both were
    # computed on the forgotten triples too.
    extra = {k: ckpt[k] for k in ('dataset', 'fingerprint') if k in ckpt}
    report = dict(info, data=args.data, dataset=dataset.name,
                  checkpoint=args.out, ledger=ledger_path(args.out),
                  forget_triples=[list(t) for t in dataset.decode(
                      record.forget_triples)])
    if args.evaluate:
        metrics = _evaluate(args, dataset, result,
                            (('original', model),
                             ('unlearned', result.model)))
        report['metrics'] = metrics
        print(f"{'model':10s} {'test MRR':>9s} {'forget MRR':>11s}")
        for label in ('original', 'unlearned'):
            test = metrics[label].get('test', {}).get('mrr', float('nan'))
            forget = metrics[label]['forget']['mrr']
            print(f'{label:10s} {test:9.4f} {forget:11.4f}')
    # The report and the ledger first: the checkpoint is the last file
    # written, so a run that fails leaves no model without its record.
    atomic_write_text(report_file, json.dumps(report, indent=2) + '\n')
    meu.ledger.save(ledger_path(args.out))
    if args.save_data:
        KGDataset(result.data, dataset.valid, dataset.test,
                  entity_vocab=dataset.entity_vocab,
                  relation_vocab=dataset.relation_vocab, name=dataset.name,
                  meta=dataset.meta).save(args.save_data)
        print(f'retained dataset written to {args.save_data}')
    save_checkpoint(args.out, result.model,
                    model_kwargs=ckpt.get('model_kwargs'),
                    train_config=ckpt.get('train_config'),
                    entity_vocab=ckpt.get('entity_vocab'),
                    relation_vocab=ckpt.get('relation_vocab'),
                    unlearning=state, **extra)
    print(f'{record.request}: forgot {record.num_forget:,} triples, '
          f'regenerated {record.num_affected:,} entities '
          f'(num_hops {record.num_hops}, ensemble {record.ensemble}, '
          f'refine_steps {record.refine_steps}) in {record.seconds:.3f} s; '
          f'{info["num_retained"]:,} training triples retained; request '
          f'{len(meu.ledger)} in the ledger')
    print(f'checkpoint written to {args.out}, report to {report_file}, '
          f'ledger to {ledger_path(args.out)}')
    return 0
