import os
import subprocess
import sys
import textwrap

import pytest
import torch

from torch_geometric_unlearn.kge import load_kge_model
from torch_geometric_unlearn.utils import (atomic_save, atomic_write_text,
                                           check_finite, check_output_paths,
                                           model_hash, triples_hash,
                                           vocab_hash)


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / 'f.txt'
    atomic_write_text(str(path), 'old')

    class Boom:
        def __reduce__(self):
            raise RuntimeError('boom')

    with pytest.raises(RuntimeError, match='boom'):
        atomic_save({'x': Boom()}, str(path))
    assert path.read_text() == 'old'
    assert os.listdir(tmp_path) == ['f.txt']
    atomic_save({'x': 1}, str(tmp_path / 'new' / 'g.pt'))  # creates the dir
    assert torch.load(str(tmp_path / 'new' / 'g.pt')) == {'x': 1}


def test_a_killed_train_leaves_the_previous_checkpoint_intact(tmp_path):
    # The first `train` writes a good checkpoint; a second one is killed
    # while its checkpoint is being written (torch.save stalls after
    # writing some bytes).
    out = str(tmp_path / 'big.pt')
    args = ['train', '--data', 'synthetic-tiny', '--model', 'distmult',
            '--dim', '8', '--epochs', '1', '--quiet', '--out', out]
    from torch_geometric_unlearn.cli import main
    assert main(args) == 0
    before = open(out, 'rb').read()
    script = textwrap.dedent(f'''
        import sys, time, torch
        def stalled(obj, f, *a, **k):
            f.write(b'partial checkpoint bytes')
            f.flush()
            print('writing', flush=True)
            time.sleep(120)
        torch.save = stalled
        from torch_geometric_unlearn.cli import main
        main({args!r})
    ''')
    proc = subprocess.Popen([sys.executable, '-c', script],
                            stdout=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    try:
        line = proc.stdout.readline()
        while line and line.strip() != 'writing':
            line = proc.stdout.readline()
        assert line.strip() == 'writing'
        proc.kill()
    finally:
        proc.wait(timeout=60)
    assert open(out, 'rb').read() == before
    from torch_geometric_unlearn.kge import load_checkpoint
    assert load_checkpoint(out)['model_name'] == 'distmult'


def test_output_paths_are_checked_before_work(tmp_path):
    a = str(tmp_path / 'a.pt')
    open(a, 'w').write('x')
    with pytest.raises(ValueError, match='same file as the input'):
        check_output_paths([a], [a])
    with pytest.raises(ValueError, match='two outputs'):
        check_output_paths([str(tmp_path / 'r.json')] * 2)
    with pytest.raises(ValueError, match='is a directory'):
        check_output_paths([str(tmp_path)])
    with pytest.raises(ValueError, match='does not exist'):
        check_output_paths([str(tmp_path / 'no' / 'r.json')],
                           create_dirs=False)
    check_output_paths([str(tmp_path / 'made' / 'r.json'), None], [a])
    assert os.path.isdir(tmp_path / 'made')


def test_fingerprints_identify_content():
    m1 = load_kge_model('transe', 10, 3, 4)
    m2 = load_kge_model('transe', 10, 3, 4)
    m2.load_state_dict(m1.state_dict())
    assert model_hash(m1) == model_hash(m2) == model_hash(m1.state_dict())
    with torch.no_grad():
        m2.node_emb.weight[3, 1] += 1e-6
    assert model_hash(m1) != model_hash(m2)
    ei = torch.tensor([[0, 1, 2], [1, 2, 0]])
    et = torch.tensor([0, 1, 0])
    h = triples_hash(ei, et, 3, 2)
    perm = torch.tensor([2, 0, 1])
    assert triples_hash(ei[:, perm], et[perm], 3, 2) == h  # order-free
    dup = torch.cat([ei, ei[:, :1]], 1), torch.cat([et, et[:1]])
    assert triples_hash(*dup, 3, 2) == h  # duplicates ignored
    assert triples_hash(ei, torch.tensor([1, 1, 0]), 3, 2) != h
    names = [f'e{i}' for i in range(200)]
    swapped = list(names)
    swapped[150], swapped[160] = swapped[160], swapped[150]
    assert vocab_hash(names) != vocab_hash(swapped)
    assert vocab_hash(None) is None


def test_check_finite_names_the_bad_rows():
    m = load_kge_model('distmult', 10, 3, 4)
    check_finite(m)
    with torch.no_grad():
        m.node_emb.weight[7, 0] = float('nan')
        m.node_emb.weight[2, 3] = float('inf')
    with pytest.raises(ValueError, match=r"'node_emb.weight' at rows 2, 7"):
        check_finite(m)


def _slow_row_digest(row_words, index, mask=(1 << 64) - 1):
    # The row hash of fingerprint.row_digests with Python integers.
    def mix(x):
        x &= mask
        x ^= x >> 30
        x = (x * 0xbf58476d1ce4e5b9) & mask
        x ^= x >> 27
        x = (x * 0x94d049bb133111eb) & mask
        return x ^ (x >> 31)
    golden = 0x9e3779b97f4a7c15
    acc = 0
    for j, w in enumerate(row_words):
        key = mix(j * golden + 1) | 1
        key32 = key & 0xffffffff
        key32 = key32 - (1 << 32) if key32 >= 1 << 31 else key32
        prod = (w * key32) & 0xffffffff  # int32 product, wraps
        acc += prod - (1 << 32) if prod >= 1 << 31 else prod
    return mix(acc + mix(index + golden))


def test_row_digests_against_python_integers():
    from torch_geometric_unlearn.utils.fingerprint import row_digests
    t = torch.randn(4, 5)
    words = t.view(torch.int32).tolist()
    got = [x & ((1 << 64) - 1) for x in row_digests(t).tolist()]
    assert got == [_slow_row_digest(w, i) for i, w in enumerate(words)]


def test_incremental_digests_equal_full_ones():
    from torch_geometric_unlearn.utils.fingerprint import (ModelDigest,
                                                           edge_digest)
    model = load_kge_model('complex', 50, 4, 8)
    d = ModelDigest(model)
    assert d.hexdigest() == model_hash(model)
    rows = torch.tensor([3, 17, 40])
    before = model.node_emb.weight[rows].detach().clone()
    with torch.no_grad():
        model.node_emb.weight[rows] += 0.5
    d.update_rows('node_emb.weight', rows, before,
                  model.node_emb.weight[rows])
    assert d.hexdigest() == model_hash(model)
    with torch.no_grad():  # a one-bit change anywhere shows
        w = model.node_emb_im.weight
        w.view(-1).view(torch.int32)[7] ^= 1
    assert d.hexdigest() != model_hash(model)
    ei = torch.randint(50, (2, 30))
    et = torch.randint(4, (30, ))
    perm = torch.randperm(30)
    full = edge_digest(ei, et, 50, 4)
    assert edge_digest(ei[:, perm], et[perm], 50, 4) == full  # order-free
    part = edge_digest(ei[:, :10], et[:10], 50, 4)
    rest = edge_digest(ei[:, 10:], et[10:], 50, 4)
    assert (full - part) & ((1 << 64) - 1) == rest
