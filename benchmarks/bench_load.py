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
  (random ids; valid / test sizes in wikikg2's proportions, with
  ``--num-neg`` negatives per triple) to a temporary folder, then times
  :func:`load_ogb_wikikg2` on it with and without negatives and with entity
  names, and plain :func:`torch.load` of the three split files (what OGB's
  ``get_edge_split()`` does) for comparison.

Full size (about 2.5M entities / 17M triples, as ``ogbl-wikikg2``) is the
default; for a quick run::

    python benchmarks/bench_load.py --entities 20000 --triples 200000
"""
import argparse
import gzip
import json
import os
import os.path as osp
import shutil
import struct
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
        dataset = load_ogb_wikikg2(
            args.workdir, with_negatives=step != 'ogb-load-noneg',
            entity_names=step == 'ogb-load-names')
        if 'tail_neg' in dataset.valid:
            info['neg_shape'] = list(dataset.valid.tail_neg.shape)
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


def _write_csv_gz(path: str, header, first_column, second_column=None):
    r"""Writes ``i,name`` rows (or single values) in chunks, gzip level 1."""
    import numpy as np
    chunk = 1_000_000
    with gzip.open(path, 'wt', compresslevel=1) as f:
        if header:
            f.write(header + '\n')
        for start in range(0, len(first_column), chunk):
            a = first_column[start:start + chunk]
            if second_column is None:
                lines = np.char.mod('%d', a)
            else:
                b = second_column[start:start + chunk]
                lines = np.char.add(np.char.add(np.char.mod('%d', a), ','), b)
            f.write('\n'.join(lines.tolist()))
            f.write('\n')


def _pickle_int64_dict(write, arrays: dict, chunk: int = 1 << 24) -> None:
    r"""Writes :obj:`pickle.dump(arrays, f, protocol=2)` for a dictionary of
    little-endian :obj:`int64` numpy arrays, streaming the array bytes in
    chunks.

    This is the stream :func:`torch.save` puts into ``data.pkl`` for OGB's
    split files (an array's bytes travel as a latin-1 string through
    ``_codecs.encode``), minus the memo opcodes. The stock picklers hold
    several copies of each array while writing, more than 24 GB for
    wikikg2-sized negatives.
    """
    import numpy as np

    def text(s: str) -> None:
        data = s.encode('utf-8')
        write(b'X' + struct.pack('<I', len(data)) + data)

    write(b'\x80\x02}(')  # PROTO 2, EMPTY_DICT, MARK
    for key, array in arrays.items():
        array = np.ascontiguousarray(array)
        if array.dtype != np.dtype('<i8'):
            raise TypeError(f'{key}: expected little-endian int64')
        text(key)
        # ndarray = _reconstruct(ndarray, (0, ), b'b')
        write(b'cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\n'
              b'K\x00\x85c_codecs\nencode\n')
        text('b')
        text('latin1')
        write(b'\x86R\x87R')
        # state = (1, shape, dtype('i8'), False, raw bytes)
        write(b'(K\x01(')
        for dim in array.shape:
            write(b'J' + struct.pack('<i', dim))
        write(b'tcnumpy\ndtype\n')
        text('i8')
        write(b'\x89\x88\x87R(K\x03')
        text('<')
        write(b'NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89')
        write(b'c_codecs\nencode\n')
        flat = array.reshape(-1).view(np.uint8)
        size = flat.size + sum(
            int(np.count_nonzero(flat[i:i + chunk] >= 128))
            for i in range(0, flat.size, chunk))
        if size >= 2**32:
            raise ValueError(f'{key}: too large for pickle protocol 2')
        write(b'X' + struct.pack('<I', size))
        for i in range(0, flat.size, chunk):
            write(flat[i:i + chunk].tobytes().decode('latin-1').encode())
        text('latin1')
        write(b'\x86Rtb')  # encode(...), state tuple, BUILD
    write(b'u.')  # SETITEMS, STOP


def _save_like_torch(arrays: dict, path: str) -> None:
    r"""Writes :obj:`arrays` as :func:`torch.save` does (a zip archive with a
    ``data.pkl`` record), streaming; :func:`torch.load` reads it back."""
    import zipfile
    stem = osp.splitext(osp.basename(path))[0]
    with zipfile.ZipFile(path, 'w', zipfile.ZIP_STORED,
                         allowZip64=True) as archive:
        with archive.open(f'{stem}/data.pkl', 'w', force_zip64=True) as f:
            _pickle_int64_dict(f.write, arrays)
        archive.writestr(f'{stem}/byteorder', 'little')
        archive.writestr(f'{stem}/version', '3\n')


def _check_writer() -> None:
    import numpy as np
    import torch
    small = {'a': np.arange(-3, 300, dtype=np.int64) * 1_000_003,
             'b': np.arange(12, dtype=np.int64).reshape(3, 4)}
    path = osp.join(tempfile.mkdtemp(prefix='bench_check_'), 'x.pt')
    try:
        _save_like_torch(small, path)
        back = torch.load(path, weights_only=False)
    finally:
        shutil.rmtree(osp.dirname(path), ignore_errors=True)
    assert sorted(back) == sorted(small)
    for key, value in small.items():
        assert np.array_equal(back[key], value), key


def _write_ogb_fixture(args) -> dict:
    r"""Writes ``<workdir>/ogbl_wikikg2`` in OGB's layout with random ids."""
    import numpy as np

    _check_writer()
    folder = osp.join(args.workdir, 'ogbl_wikikg2')
    split_dir = osp.join(folder, 'split', 'time')
    for sub in (split_dir, osp.join(folder, 'raw'),
                osp.join(folder, 'mapping')):
        os.makedirs(sub, exist_ok=True)
    n_valid = int(round(args.triples * WIKIKG2_VALID))
    n_test = int(round(args.triples * WIKIKG2_TEST))
    n_train = args.triples - n_valid - n_test
    rng = np.random.default_rng(args.seed)
    sizes = {'train': n_train, 'valid': n_valid, 'test': n_test}
    file_mb = 0.0
    for split, n in sizes.items():
        d = {
            'head': rng.integers(0, args.entities, n, dtype=np.int64),
            'relation': rng.integers(0, args.relations, n, dtype=np.int64),
            'tail': rng.integers(0, args.entities, n, dtype=np.int64),
        }
        if split != 'train' and args.num_neg > 0:
            shape = (n, args.num_neg)
            d['head_neg'] = rng.integers(0, args.entities, shape,
                                         dtype=np.int64)
            d['tail_neg'] = rng.integers(0, args.entities, shape,
                                         dtype=np.int64)
        path = osp.join(split_dir, f'{split}.pt')
        _save_like_torch(d, path)
        del d
        file_mb += osp.getsize(path) / 2**20
    raw = osp.join(folder, 'raw')
    _write_csv_gz(osp.join(raw, 'num-node-list.csv.gz'), None,
                  np.array([args.entities]))
    _write_csv_gz(osp.join(raw, 'num-edge-list.csv.gz'), None,
                  np.array([n_train]))
    ids = np.arange(args.entities)
    _write_csv_gz(osp.join(folder, 'mapping', 'nodeidx2entityid.csv.gz'),
                  'node idx,entity id', ids,
                  np.char.add('Q', np.char.mod('%d', ids + 1)))
    rels = np.arange(args.relations)
    _write_csv_gz(osp.join(folder, 'mapping', 'reltype2relid.csv.gz'),
                  'reltype,rel id', rels,
                  np.char.add('P', np.char.mod('%d', rels + 1)))
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
        extra.append(f"valid.tail_neg {r['neg_shape']}")
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
            steps += ['ogb-write', 'ogb-load', 'ogb-load-noneg',
                      'ogb-load-names', 'ogb-torch-load']
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
