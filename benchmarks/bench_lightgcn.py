r"""The unsharded base recommender on Gowalla against the LightGCN paper.

Trains PyG's LightGCN (or MF) with BPR on Gowalla's standard training set
(train ∪ valid of our copy) and measures Recall@20 / NDCG@20 on the test
set every ``--eval-every`` epochs until ``--epochs`` or ``--max-minutes``
of training (:func:`torch_geometric_unlearn.bench.train_curve`), and
prints the curve next to the paper's figures (He et al., SIGIR 2020,
Table 3: LightGCN, 3 layers, d = 64, Gowalla: Recall@20 0.1830, NDCG@20
0.1554; 1000 epochs on a GPU).

Example::

    python benchmarks/bench_lightgcn.py --data ../shared/datasets/gowalla \
        --model lightgcn --batch-size 8192 --lr 5e-3 --max-minutes 30
"""
import argparse

import torch

from torch_geometric_unlearn import bench
from torch_geometric_unlearn.rec import (RecTrainConfig, build_recommender,
                                         load_interactions)

PAPER = {'recall@20': 0.1830, 'ndcg@20': 0.1554}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--data', required=True)
    p.add_argument('--model', default='lightgcn', choices=['lightgcn', 'mf'])
    p.add_argument('--dim', type=int, default=64)
    p.add_argument('--layers', type=int, default=3)
    p.add_argument('--epochs', type=int, default=1000)
    p.add_argument('--batch-size', type=int, default=2048)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--reg', type=float, default=1e-4)
    p.add_argument('--eval-every', type=int, default=1)
    p.add_argument('--max-minutes', type=float, default=30)
    p.add_argument('--threads', type=int, default=0)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--out')
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    data = load_interactions(args.data)
    train = torch.cat([data.edge_index('train'), data.edge_index('valid')], 1)
    cfg = RecTrainConfig(model=args.model, dim=args.dim,
                         num_layers=args.layers, epochs=args.epochs,
                         batch_size=args.batch_size, lr=args.lr,
                         reg=args.reg, seed=args.seed)
    model = build_recommender(cfg, data.num_users, data.num_items)
    print(f'{data}: {train.size(1):,} training interactions; '
          f'{args.model}, d={args.dim}, batch {args.batch_size}, lr '
          f'{args.lr}, {torch.get_num_threads()} thread(s)', flush=True)
    curve = bench.train_curve(model, train, data.edge_index('test'),
                              data.num_items, cfg, args.eval_every,
                              args.max_minutes)
    last = curve[-1]
    print(f"\nafter {last['epoch']} epochs ({last['train_seconds'] / 60:.1f} "
          f"min of training): recall@20 {last['recall@20']:.4f} "
          f"({last['recall@20'] / PAPER['recall@20']:.2f}x the paper's "
          f"{PAPER['recall@20']}), ndcg@20 {last['ndcg@20']:.4f} "
          f"({last['ndcg@20'] / PAPER['ndcg@20']:.2f}x the paper's "
          f"{PAPER['ndcg@20']})")
    if args.out:
        bench.write_json(dict(config=cfg.to_dict(), curve=curve, paper=PAPER,
                              threads=torch.get_num_threads()), args.out)


if __name__ == '__main__':
    main()
