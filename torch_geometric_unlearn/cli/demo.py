r"""``demo``: the end-to-end job of the README on the embedded synthetic KG
(:class:`~torch_geometric_unlearn.demo.KGDemo`), then EEMU on synthetic
interactions (:func:`~torch_geometric_unlearn.demo.rec_demo`)."""
from __future__ import annotations

import argparse

from ..datasets import load_dataset
from .common import (DATA_HELP, KGE_MODELS, check_outputs, fit_summary,
                     fraction, non_negative_int, positive_int, print_summary,
                     user_input, write_json)


def add_parser(sub) -> None:
    p = sub.add_parser('demo', help='run the end-to-end demo',
                       description='The README job on the embedded '
                       'synthetic KG.')
    p.add_argument('--data', default='synthetic', help=DATA_HELP)
    p.add_argument('--forget-ratio', type=fraction, default=0.01)
    p.add_argument('--num-hops', type=non_negative_int, default=0)
    p.add_argument('--model', default='complex', choices=KGE_MODELS)
    p.add_argument('--dim', type=positive_int, default=64)
    p.add_argument('--epochs', type=non_negative_int, default=30,
                   help='training epochs of step 3 (0 stops after step 2)')
    p.add_argument('--episodes', type=non_negative_int, default=40,
                   help='MetaEU meta-training episodes of step 4 (its '
                   'generator rebuilds only rows with nothing retained; the '
                   'other affected rows are corrected)')
    p.add_argument('--refine-steps', type=non_negative_int, default=20,
                   help='MetaEU-FT refinement steps of step 4 (0: no '
                   'MetaEU-FT row)')
    p.add_argument('--seed', type=non_negative_int, default=0)
    p.add_argument('--no-rec', action='store_true',
                   help='skip part two (EEMU on synthetic interactions)')
    p.add_argument('--out', metavar='FILE.json',
                   help='also write the side-by-side figures as JSON: a '
                   '"kg" object keyed original, retrained, metaeu, '
                   'metaeu_ft (test_mrr, forget_mrr, seconds) and, unless '
                   '--no-rec, a "rec" object')
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..demo import KGDemo, kg_json

    check_outputs([args.out], [args.data])
    print('== 1. data: seeded synthetic KG with planted patterns')
    with user_input():
        dataset = load_dataset(args.data)
    print_summary(dataset.summary())

    print(f'\n== 2. deletion request: forget {args.forget_ratio:.1%} of the '
          f'training triples (no entity or relation lost, seed {args.seed})')
    demo = KGDemo(dataset, model=args.model, dim=args.dim, epochs=args.epochs,
                  forget_ratio=args.forget_ratio, num_hops=args.num_hops,
                  seed=args.seed)
    with user_input(ValueError):  # the ratio's validation
        out = demo.draw_request()
    print(f'{demo.transform}')
    print(f'forget {out.forget_edge_index.size(1):,} triples, retain '
          f'{out.edge_index.size(1):,}; affected entities '
          f'{int(out.affected_mask.sum()):,} of {dataset.num_entities:,} '
          f'({int(out.forget_entity_mask.sum()):,} in the forget set, '
          f'{args.num_hops} hop expansion); '
          f"{demo.seconds['request'] * 1000:.1f} ms")
    for h, r, t in dataset.decode(demo.forget_triples[:3]):
        print(f'  forget ({h}, {r}, {t})')
    if args.epochs <= 0:
        return 0

    print(f'\n== 3. original model and the reference retrained without the '
          f'forget set ({args.model}, dim {args.dim}, {args.epochs} epochs)')
    for label in ('original', 'retrained'):
        seconds = demo.train(label)
        print(f'{label:9s} trained in {seconds:.1f} s', flush=True)

    config = demo.metaeu_config(args.episodes)
    print(f'\n== 4. MetaEU: meta-train the generator on the original model '
          f'({args.episodes} episodes, {config.loss} loss), then unlearn the '
          f'same forget set', flush=True)
    meu = demo.meta_train(args.episodes)
    print(f'meta-trained in {meu.fit_seconds:.1f} s; validation MRR '
          f'{fit_summary(meu.history)}')
    variants = [('MetaEU', 0)]
    if args.refine_steps > 0:
        variants.append(('MetaEU-FT', args.refine_steps))
    for label, steps in variants:
        record = demo.unlearn(label, refine_steps=steps)
        print(f'{label:9s} forgot {record.num_forget:,} triples, regenerated '
              f'{record.num_affected:,} entities'
              + (f' + {steps} refinement steps' if steps else '') +
              f' in {record.seconds:.3f} s')

    print('\n== 5. side by side (filtered MRR, filter = retained training '
          'triples + valid + test)')
    print(f"{'model':10s} {'test MRR':>9s} {'forget MRR':>11s} "
          f"{'seconds':>8s}  seconds of")
    rows = demo.compare()
    for row in rows:
        print(f"{row['label']:10s} {row['test_mrr']:9.4f} "
              f"{row['forget_mrr']:11.4f} {row['seconds']:8.2f}  "
              f"{row['seconds_of']}")
    print('The target of unlearning is the retrained row: its test MRR, and '
          'a forget MRR down to what the retained graph alone implies (not '
          'zero), in a fraction of its time.')
    cost = demo.seconds['meta-train'] + demo.seconds['MetaEU']
    print(f"retraining took {demo.seconds['retrained']:.1f} s; "
          f"meta-training once plus this request {cost:.1f} s "
          f"({demo.seconds['retrained'] / max(cost, 1e-9):.1f}x less)")
    result = dict(kg=kg_json(rows))
    if not args.no_rec:
        result['rec'] = print_rec_demo(args.seed)
    if args.out:
        write_json(args.out, result)
        print(f'figures written to {args.out}')
    return 0


def print_rec_demo(seed: int) -> dict:
    r"""Runs and prints part two of the demo (EEMU on the synthetic
    interactions) and returns its figures."""
    from ..demo import rec_demo

    res = rec_demo(seed)
    print(f"\n== 6. recommendation: {res['data']} (synthetic interactions)")
    print(f"{'method':9s} {'recall@20':>9s} {'fit s':>6s} "
          f"{'delete user s':>13s} {'recall@20 after':>15s}")
    for row in res['rows']:
        print(f"{row['method']:9s} {row['recall_before']:9.4f} "
              f"{row['fit_seconds']:6.2f} {row['delete_seconds']:13.3f} "
              f"{row['recall_after']:15.4f}")
    print(f"EEMU retrained shard {res['shards']} of {res['num_shards']} for "
          f"user {res['user']}; equal bit for bit to an EEMU trained without "
          f"the user's data: {res['exact']}")
    return {k: v for k, v in res.items() if k != 'data'}
