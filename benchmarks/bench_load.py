r"""Load-time and peak-memory benchmark of the knowledge-graph loaders.

Every measured step runs in a fresh Python subprocess, which reports its wall
time and its peak resident memory (the harness's
:class:`torch_geometric_unlearn.bench.Timer` and
:func:`torch_geometric_unlearn.bench.peak_mb`); the memory of the process
right after the imports (Python, PyTorch, PyG) is reported as ``base``, so
``peak - base`` is what the step itself needed.

Cases:

* ``fb15k237``: :func:`load_tsv_kg` on a FB15k-237 folder given with
  ``--fb15k237 PATH`` (skipped without it).
* ``synthetic``: :func:`make_synthetic_kg` of ``--entities`` entities and
  about ``--triples`` triples, then :meth:`KGDataset.save` and
  :meth:`KGDataset.load` (in a new process).
* ``ogb``: writes an ``ogbl-wikikg2``-shaped fixture in OGB's on-disk layout
  (:func:`write_ogb_fixture`: random ids; valid / test sizes in wikikg2's
  proportions, with ``--num-neg`` negatives per triple) to a temporary
  folder, then times :func:`load_ogb_wikikg2` on it: negatives in memory
  (:obj:`int32`), negatives memory-mapped (``mmap_dir``; twice: writing the
  cache, then reusing it), without negatives and with entity names; with
  ``--torch-load`` also plain :func:`torch.load` of the three split files
  (what OGB's ``get_edge_split()`` does) for comparison.

Full size (about 2.5M entities / 17M triples, as ``ogbl-wikikg2``) is the
default; for a quick run::

    python benchmarks/bench_load.py --entities 20000 --triples 200000
"""
import argparse
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import tempfile

# ogbl-wikikg2: 16,109,182 / 429,456 / 598,543 train / valid / test triples.
WIKIKG2_VALID = 429_456 / 17_137_181
WIKIKG2_TEST = 598_543 / 17_137_181

CASES = ('fb15k237', 'synthetic', 'ogb')


# Workers: each runs in its own process and prints one 'RESULT {json}' line.


def _worker(args) -> dict:
    import torch  # noqa: F401 -- part of the baseline

    import torch_geometric_unlearn.datasets as tgu_datasets
    from torch_geometric_unlearn.bench import Timer, current_mb, peak_mb

    base = current_mb()
    info = {}
    timer = Timer().__enter__()
    step = args.worker
    if step == 'tsv':
        dataset = tgu_datasets.load_tsv_kg(args.fb15k237)
    elif step == 'synthetic-generate':
        dataset = tgu_datasets.make_synthetic_kg(
            num_entities=args.entities, num_relations=args.relations,
            num_triples=args.triples, seed=args.seed)
        info['generate_s'] = timer.elapsed
        info['generate_peak_mb'] = peak_mb()
        with Timer() as t:
            dataset.save(osp.join(args.workdir, 'synthetic.pt'))
        info['save_s'] = t.seconds
        info['file_mb'] = osp.getsize(osp.join(args.workdir,
                                               'synthetic.pt')) / 2**20
    elif step == 'synthetic-reload':
        dataset = tgu_datasets.KGDataset.load(
            osp.join(args.workdir, 'synthetic.pt'))
    elif step == 'ogb-write':
        dataset = None
        info.update(_write_ogb_fixture(args))
    elif step == 'ogb-torch-load':
        # For comparison: the three split files through plain torch.load,
        # as OGB's get_edge_split() reads them.
        dataset = None
        split_dir = osp.join(args.workdir, 'ogbl_wikikg2', 'split', 'time')
        loaded = {
            s: torch.load(osp.join(split_dir, f'{s}.pt'), weights_only=False)
            for s in ('train', 'valid', 'test')
        }
        info.update({s: int(d['head'].shape[0]) for s, d in loaded.items()})
    elif step.startswith('ogb-load'):
        from torch_geometric_unlearn.datasets.ogb import load_ogb_wikikg2
        mmap_dir = None
        if step == 'ogb-load-mmap':
            mmap_dir = osp.join(args.workdir, 'negatives-mmap')
            info['mmap_cached'] = osp.isdir(mmap_dir)
        dataset = load_ogb_wikikg2(
            args.workdir, with_negatives=step != 'ogb-load-noneg',
            entity_names=step == 'ogb-load-names', mmap_dir=mmap_dir)
        if 'tail_neg' in dataset.valid:
            info['neg_shape'] = list(dataset.valid.tail_neg.shape)
            info['neg_dtype'] = str(dataset.valid.tail_neg.dtype)
    else:
        raise ValueError(f'unknown worker step {step!r}')
    timer.__exit__()
    seconds = timer.seconds
    if dataset is not None:
        info.update(entities=dataset.num_entities,
                    relations=dataset.num_relations,
                    train=int(dataset.train.edge_index.size(1)),
                    valid=int(dataset.valid.edge_index.size(1)),
                    test=int(dataset.test.edge_index.size(1)))
    return dict(step=step, seconds=seconds, peak_mb=peak_mb(), base_mb=base,
                **info)


def _write_ogb_fixture(args) -> dict:
    r"""Writes ``<workdir>/ogbl_wikikg2`` in OGB's layout with random ids
    (:func:`~torch_geometric_unlearn.datasets.write_ogb_fixture`)."""
    from torch_geometric_unlearn.datasets import write_ogb_fixture
    n_valid = int(round(args.triples * WIKIKG2_VALID))
    n_test = int(round(args.triples * WIKIKG2_TEST))
    n_train = args.triples - n_valid - n_test
    folder = write_ogb_fixture(args.workdir, num_entities=args.entities,
                               num_relations=args.relations,
                               num_train=n_train, num_valid=n_valid,
                               num_test=n_test, num_neg=args.num_neg,
                               seed=args.seed)
    split_dir = osp.join(folder, 'split', 'time')
    file_mb = sum(osp.getsize(osp.join(split_dir, f'{s}.pt'))
                  for s in ('train', 'valid', 'test')) / 2**20
    return dict(train=n_train, valid=n_valid, test=n_test,
                split_files_mb=file_mb)


# Driver.


def _run_step(step: str, args) -> dict:
    cmd = [
        sys.executable, osp.abspath(__file__), '--worker', step,
        '--entities', str(args.entities), '--triples', str(args.triples),
        '--relations', str(args.relations), '--num-neg', str(args.num_neg),
        '--seed', str(args.seed), '--workdir', args.workdir
    ]
    if args.fb15k237:
        cmd += ['--fb15k237', args.fb15k237]
    env = dict(os.environ)
    repo = osp.dirname(osp.dirname(osp.abspath(__file__)))
    env['PYTHONPATH'] = repo + os.pathsep + env.get('PYTHONPATH', '')
    from torch_geometric_unlearn.bench import Timer
    with Timer() as t:
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, text=True,
                              env=env)
    wall = t.seconds
    lines = [x for x in proc.stdout.splitlines() if x.startswith('RESULT ')]
    if proc.returncode != 0 or not lines:
        return dict(step=step, error=f'exit status {proc.returncode}',
                    process_s=wall)
    result = json.loads(lines[-1][len('RESULT '):])
    result['process_s'] = wall
    return result


def _describe(r: dict) -> str:
    if 'error' in r:
        return f"{r['step']:<20} FAILED ({r['error']})"
    text = (f"{r['step']:<20} {r['seconds']:8.2f} s   peak {r['peak_mb']:8.0f}"
            f" MB   (base {r['base_mb']:5.0f} MB, process "
            f"{r['process_s']:6.1f} s)")
    extra = []
    if 'generate_s' in r:
        extra.append(f"generate {r['generate_s']:.2f} s / peak "
                     f"{r['generate_peak_mb']:.0f} MB, save "
                     f"{r['save_s']:.2f} s ({r['file_mb']:.0f} MB file)")
    if 'split_files_mb' in r:
        extra.append(f"split files {r['split_files_mb']:.0f} MB")
    if 'entities' in r:
        extra.append(f"{r['entities']} entities, {r['relations']} relations,"
                     f" {r['train']}/{r['valid']}/{r['test']} triples")
    elif 'train' in r:
        extra.append(f"{r['train']}/{r['valid']}/{r['test']} triples")
    if 'neg_shape' in r:
        extra.append(f"valid.tail_neg {r['neg_shape']} {r['neg_dtype']}"
                     + (' (memory-mapped, cache reused)' if
                        r.get('mmap_cached') else ' (memory-mapped)' if
                        'mmap_cached' in r else ''))
    return text + ''.join(f'\n{"":<22}{e}' for e in extra)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--fb15k237', default=None,
                        help='FB15k-237 folder for load_tsv_kg (e.g. '
                        '/work/shared/datasets/fb15k-237)')
    parser.add_argument('--entities', type=int, default=2_500_000)
    parser.add_argument('--triples', type=int, default=17_000_000)
    parser.add_argument('--relations', type=int, default=535)
    parser.add_argument('--num-neg', type=int, default=500,
                        help='OGB negatives per valid / test triple')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cases', default=','.join(CASES),
                        help=f'comma-separated subset of {",".join(CASES)}')
    parser.add_argument('--workdir', default=None,
                        help='folder for the written files (default: a new '
                        'temporary folder, removed afterwards)')
    parser.add_argument('--keep', action='store_true',
                        help='keep the written files')
    parser.add_argument('--json', default=None,
                        help='also write the results to this JSON file')
    parser.add_argument('--torch-load', action='store_true',
                        help='also time plain torch.load of the split files '
                        '(needs about 3x their size in memory)')
    parser.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker is not None:
        print('RESULT ' + json.dumps(_worker(args)), flush=True)
        return

    cases = [c.strip() for c in args.cases.split(',') if c.strip()]
    unknown = set(cases) - set(CASES)
    if unknown:
        parser.error(f'unknown cases {sorted(unknown)}')
    own_workdir = args.workdir is None
    if own_workdir:
        args.workdir = tempfile.mkdtemp(prefix='bench_load_')
    os.makedirs(args.workdir, exist_ok=True)

    print(f'entities={args.entities} triples={args.triples} '
          f'relations={args.relations} num_neg={args.num_neg} '
          f'workdir={args.workdir} cpus={os.cpu_count()}', flush=True)
    results = []
    try:
        steps = []
        if 'fb15k237' in cases:
            if args.fb15k237:
                steps.append('tsv')
            else:
                print('fb15k237: skipped (no --fb15k237 PATH)')
        if 'synthetic' in cases:
            steps += ['synthetic-generate', 'synthetic-reload']
        if 'ogb' in cases:
            steps += ['ogb-write', 'ogb-load', 'ogb-load-mmap',
                      'ogb-load-mmap', 'ogb-load-noneg', 'ogb-load-names']
            if args.torch_load:
                steps.append('ogb-torch-load')
        failed = set()
        for step in steps:
            if step.split('-')[0] in failed:
                continue
            r = _run_step(step, args)
            results.append(r)
            print(_describe(r), flush=True)
            if 'error' in r and step in ('synthetic-generate', 'ogb-write'):
                # What follows needs the files this step writes.
                failed.add(step.split('-')[0])
    finally:
        if own_workdir and not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    if args.json:
        from torch_geometric_unlearn.bench import write_json
        write_json(results, args.json, indent=2)


if __name__ == '__main__':
    main()
