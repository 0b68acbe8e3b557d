r"""Unlearning a PyG KGE model trained with PyG's own loop on FB15k-237.

Follows PyG's ``examples/kge_fb15k_237.py`` step by step -- PyG's
``FB15k_237`` dataset, PyG's model, ``model.loader`` / ``model.loss`` and
the example's optimiser -- then ranks with this package's filtered
evaluator, meta-trains :class:`~torch_geometric_unlearn.MetaEU`, serves one
random request (``--forget-ratio`` of the training triples, FedLU's sampler:
no entity or relation disappears) and retrains from scratch on what is left
(same seed, same loop) as the reference. It prints one table: test MRR,
forget-set MRR and seconds of the original, the retrained and the MetaEU
model (filtered, both directions, realistic rank; filter = retained train
:math:`\cup` valid :math:`\cup` test for all three).

``--root`` is a PyG root (``raw/train.txt``, ``raw/valid.txt``,
``raw/test.txt``) or a directory of ``train/valid/test.tsv[.gz]`` such as
the project's shared copy, whose files are then copied into a PyG root under
``--work-dir``. Nothing is downloaded.

Example::

    OMP_NUM_THREADS=1 python benchmarks/kge_fb15k_237_unlearn.py \
        --root ../shared/datasets/fb15k-237 --model transe --epochs 20
    python benchmarks/kge_fb15k_237_unlearn.py --root data/tiny --tiny
"""
import argparse
import gzip
import json
import os.path as osp
import time

import torch
import torch.optim as optim
from torch_geometric.datasets import FB15k_237
from torch_geometric.nn import ComplEx, DistMult, RotatE, TransE

from torch_geometric_unlearn import MetaEU, MetaEUConfig
from torch_geometric_unlearn.kge import LinkPredictionEvaluator
from torch_geometric_unlearn.transforms import sample_forget_set
from torch_geometric_unlearn.utils import atomic_open, atomic_write_text

model_map = {
    'transe': (TransE, dict(margin=1.0)),
    'rotate': (RotatE, dict(margin=9.0)),
    'distmult': (DistMult, {}),
    'complex': (ComplEx, {}),
}
# The optimisers of PyG's example (RotatE: Adam at 1e-3).
optimizer_map = {
    'transe': (optim.Adam, dict(lr=0.01)),
    'rotate': (optim.Adam, dict(lr=0.001)),
    'distmult': (optim.Adam, dict(lr=0.0001, weight_decay=1e-6)),
    'complex': (optim.Adagrad, dict(lr=0.001, weight_decay=1e-6)),
}
# Settings left unset on the command line come from one of these.
PRESETS = {
    'default': dict(dim=50, epochs=20, batch_size=1000, episodes=200,
                    eval_every=50),
    'tiny': dict(dim=8, epochs=3, batch_size=100, episodes=2, eval_every=1),
}
RAW_FILES = {'train': 'train.txt', 'valid': 'valid.txt', 'test': 'test.txt'}
DEFAULT_WORK_DIR = osp.join(osp.dirname(osp.realpath(__file__)), '..',
                            'runs', 'FB15k-237')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--root', required=True,
                        help='PyG root (raw/*.txt) or a directory of '
                        'train/valid/test.tsv[.gz]')
    parser.add_argument('--work-dir', default=DEFAULT_WORK_DIR,
                        help='PyG root made from a .tsv[.gz] directory')
    parser.add_argument('--model', choices=model_map.keys(), type=str.lower,
                        default='transe')
    parser.add_argument('--dim', type=int, help='hidden_channels')
    parser.add_argument('--epochs', type=int)
    parser.add_argument('--batch-size', type=int)
    parser.add_argument('--lr', type=float, help="(default: PyG example's)")
    parser.add_argument('--episodes', type=int, help='MetaEU episodes')
    parser.add_argument('--eval-every', type=int,
                        help='MetaEU validation period, in episodes')
    parser.add_argument('--forget-ratio', type=float, default=0.01)
    parser.add_argument('--eval-triples', type=int, default=0,
                        help='rank a seeded sample of this many test '
                        'triples (0: all)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--tiny', action='store_true',
                        help='tiny settings (seconds), for tests')
    parser.add_argument('--quiet', action='store_true',
                        help='no per-epoch log, no progress bars')
    parser.add_argument('--out', help='also write the figures as JSON')
    args = parser.parse_args(argv)
    for key, value in PRESETS['tiny' if args.tiny else 'default'].items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    for key in ('dim', 'epochs', 'batch_size', 'episodes', 'eval_every'):
        if getattr(args, key) < 1:
            parser.error(f"--{key.replace('_', '-')} must be >= 1")
    if not 0.0 < args.forget_ratio < 1.0:
        parser.error('--forget-ratio must lie in (0, 1)')
    if args.eval_triples < 0:
        parser.error('--eval-triples must be >= 0')
    return args


def find_split(root: str, split: str):
    for ext in ('.tsv.gz', '.tsv', '.txt.gz', '.txt'):
        path = osp.join(root, split + ext)
        if osp.isfile(path):
            return path
    return None


def pyg_root(root: str, work_dir: str):
    r"""A PyG root holding FB15k-237's raw files, and whether it was
    (re)written. Never downloads: PyG's class would, without raw files."""
    if all(osp.isfile(osp.join(root, 'raw', f)) for f in RAW_FILES.values()):
        return root, False
    sources = {s: find_split(root, s) for s in RAW_FILES}
    if None in sources.values():
        raise SystemExit(
            f"no FB15k-237 raw files in '{root}': expected raw/train.txt, "
            f"raw/valid.txt and raw/test.txt (a PyG root) or "
            f"train/valid/test.tsv[.gz]; this script never downloads")
    changed = False
    for split, src in sources.items():
        opener = gzip.open if src.endswith('.gz') else open
        with opener(src, 'rb') as f:
            content = f.read()
        dst = osp.join(work_dir, 'raw', RAW_FILES[split])
        if osp.isfile(dst):
            with open(dst, 'rb') as f:
                if f.read() == content:
                    continue
        with atomic_open(dst, 'wb') as f:
            f.write(content)
        changed = True
    return work_dir, changed


def make_model(args, num_nodes: int, num_relations: int):
    torch.manual_seed(args.seed)
    cls, kwargs = model_map[args.model]
    return cls(num_nodes=num_nodes, num_relations=num_relations,
               hidden_channels=args.dim, **kwargs)


def train(args, model, data) -> float:
    r"""PyG's example loop on ``data``'s triples; returns the seconds."""
    torch.manual_seed(args.seed)
    loader = model.loader(head_index=data.edge_index[0],
                          rel_type=data.edge_type,
                          tail_index=data.edge_index[1],
                          batch_size=args.batch_size, shuffle=True)
    opt_cls, opt_kwargs = optimizer_map[args.model]
    opt_kwargs = dict(opt_kwargs)
    if args.lr is not None:
        opt_kwargs['lr'] = args.lr
    optimizer = opt_cls(model.parameters(), **opt_kwargs)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        model.train()
        total_loss = total_examples = 0
        for head_index, rel_type, tail_index in loader:
            optimizer.zero_grad()
            loss = model.loss(head_index, rel_type, tail_index)
            loss.backward()
            optimizer.step()
            total_loss += float(loss.detach()) * head_index.numel()
            total_examples += head_index.numel()
        if not args.quiet:
            loss = total_loss / total_examples
            print(f'Epoch: {epoch:03d}, Loss: {loss:.4f}', flush=True)
    return time.perf_counter() - start


def main(argv=None):
    args = parse_args(argv)

    # Data: PyG's own dataset class, at a local root.
    root, changed = pyg_root(args.root, args.work_dir)
    train_data = FB15k_237(root, split='train', force_reload=changed)[0]
    val_data = FB15k_237(root, split='val')[0]
    test_data = FB15k_237(root, split='test')[0]
    num_nodes = int(train_data.num_nodes)
    num_relations = max(int(d.edge_type.max()) + 1
                        for d in (train_data, val_data, test_data))
    print(f'FB15k-237 at {root}: {num_nodes} entities, {num_relations} '
          f'relations, {train_data.num_edges} / {val_data.num_edges} / '
          f'{test_data.num_edges} triples')

    # The original model, trained with PyG's loop.
    model = make_model(args, num_nodes, num_relations)
    seconds = {'original': train(args, model, train_data)}

    # MetaEU: meta-training, then one random request.
    config = MetaEUConfig.for_model(args.model, episodes=args.episodes,
                                    eval_every=args.eval_every,
                                    seed=args.seed)
    meu = MetaEU(model, train_data, config, reference=val_data,
                 progress=not args.quiet)
    meu.fit()
    forget = sample_forget_set(meu.original, ratio=args.forget_ratio,
                               seed=args.seed)
    result = meu.unlearn(edge_ids=forget)
    seconds['MetaEU'] = result.record.seconds
    forget_triples = result.record.forget_triples
    print(f'Forgot {forget_triples.size(0)} triples, '
          f'{result.record.num_affected} entities affected')

    # The reference: retrained from scratch on the retained triples.
    retrained = make_model(args, num_nodes, num_relations)
    seconds['retrained'] = train(args, retrained, result.data)

    # This package's filtered evaluation, one filter for every model.
    evaluator = LinkPredictionEvaluator(
        num_nodes, num_relations,
        filter_triples=[result.data, val_data, test_data])
    test_triples = torch.stack([test_data.edge_index[0], test_data.edge_type,
                                test_data.edge_index[1]], dim=1)
    if 0 < args.eval_triples < test_triples.size(0):
        g = torch.Generator().manual_seed(args.seed)
        pick = torch.randperm(test_triples.size(0), generator=g)
        test_triples = test_triples[pick[:args.eval_triples]]
    rows = {}
    for name, m in (('original', model), ('retrained', retrained),
                    ('MetaEU', result.model)):
        rows[name] = dict(test_mrr=evaluator(m, test_triples)['mrr'],
                          forget_mrr=evaluator(m, forget_triples)['mrr'],
                          seconds=seconds[name])

    print(f'\n{args.model}, d={args.dim}, {args.epochs} epochs, '
          f'{args.episodes} episodes, forget ratio {args.forget_ratio}\n')
    print('| model | test MRR | forget MRR | seconds |')
    print('|---|---|---|---|')
    for name, row in rows.items():
        note = ''
        if name == 'MetaEU':
            note = f' (+{meu.fit_seconds:.2f} meta-training)'
        print(f"| {name} | {row['test_mrr']:.4f} | {row['forget_mrr']:.4f} "
              f"| {row['seconds']:.2f}{note} |")
    if args.out:
        report = dict(args=vars(args), num_forget=int(forget.numel()),
                      meta_training_seconds=meu.fit_seconds, rows=rows)
        atomic_write_text(args.out, json.dumps(report, indent=2) + '\n')
    return rows


if __name__ == '__main__':
    main()
