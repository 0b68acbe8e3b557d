r"""MetaEU request latency against graph size (``ogbl-wikikg2`` scale).

Synthetic KGs of the same density (``--density`` triples per entity,
wikikg2's 6.44 by default) at ``--sizes`` entities; each gets a briefly
trained TransE and a MetaEU meta-trained for ``--episodes`` episodes, then
one random triple, 100 random triples and one entity of median degree are
forgotten ``--repeats`` times each and timed stage by stage
(:func:`torch_geometric_unlearn.bench.scale.run_scale`). It prints the
table with the ratio of the largest size to the smallest, writes the JSON
(``--out``) and a log--log plot (``--plot``).

Example (the full run, about half an hour on 2 CPU cores)::

    OMP_NUM_THREADS=1 python benchmarks/bench_scale.py \
        --sizes 15000,150000,1500000,2500000 \
        --out docs/results/scale.json --plot docs/results/scale.png

and a quick one::

    python benchmarks/bench_scale.py --sizes 2000,20000 --episodes 2
"""
import argparse

import torch

from torch_geometric_unlearn.bench import scale
from torch_geometric_unlearn.bench.report import command_line, write_json


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--sizes', default='15000,150000,1500000,2500000',
                   help='comma-separated numbers of entities')
    p.add_argument('--density', type=float, default=6.44)
    p.add_argument('--relations', type=int, default=64)
    p.add_argument('--dim', type=int, default=50)
    p.add_argument('--train-triples', type=int, default=200_000)
    p.add_argument('--episodes', type=int, default=20)
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--out', help='JSON output file')
    p.add_argument('--plot', help='PNG output file (log-log latency)')
    args = p.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(',') if s.strip()]
    except ValueError:
        p.error(f'--sizes must be comma-separated integers (got '
                f'{args.sizes!r})')
    if not sizes or min(sizes) < 100:
        p.error('--sizes needs at least one size of 100 entities or more')
    if args.repeats < 1 or args.episodes < 0 or args.dim < 1:
        p.error('--repeats and --dim must be >= 1, --episodes >= 0')
    torch.set_num_threads(args.threads)
    result = scale.run_scale(sizes, density=args.density,
                             num_relations=args.relations, dim=args.dim,
                             train_triples=args.train_triples,
                             episodes=args.episodes, repeats=args.repeats,
                             seed=args.seed)
    result['command'] = command_line()
    print(scale.format_scale(result))
    if args.out:
        write_json(result, args.out)
    if args.plot:
        scale.plot_scale(result, args.plot)
    return result


if __name__ == '__main__':
    main()
