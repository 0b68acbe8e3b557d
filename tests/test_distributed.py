r"""torch.distributed: shards on separate ranks, data-parallel MetaEU.

The multi-process tests start two ``gloo`` processes on localhost with
:func:`torch.multiprocessing.spawn`, set the environment ``torchrun`` would
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``,
``MASTER_PORT``), and run every distributed job of this file in one
session (one start-up); each worker writes its results to a file and the
assertions run here, in the parent, against single-process runs.
"""
import contextlib
import io
import json
import os
import os.path as osp
import socket

import pytest
import torch
import torch.multiprocessing as mp
from torch.optim.optimizer import register_optimizer_step_post_hook

from torch_geometric_unlearn import EEMU, EEMUConfig, MetaEU
from torch_geometric_unlearn.baselines import SISA
from torch_geometric_unlearn.cli import main
from torch_geometric_unlearn.datasets import make_synthetic_kg, to_triples
from torch_geometric_unlearn.distributed import (
    RANK_SEED_STRIDE, all_gather, all_reduce_gradients, broadcast_object,
    distributed_session, get_rank, get_world_size, init_distributed,
    is_distributed, is_main_process, launched_by_torchrun, owned_shards,
    rank_seed, shard_owner, share_states)
from torch_geometric_unlearn.kge import (KGETrainer, TrainConfig,
                                         load_kge_model)
from torch_geometric_unlearn.rec import SISARec, make_synthetic_interactions

WORLD = 2
NUM_SHARDS = 3  # rank 0 trains shards 0 and 2, rank 1 shard 1
REC_SIZE = dict(num_users=60, num_items=40, mean_interactions=8, seed=1)
KG_SIZE = dict(num_entities=200, num_relations=8, num_triples=2000, seed=3)
META = dict(episodes=16, eval_every=4, episode_forget=32, val_episodes=4,
            num_negatives=64, val_negatives=100, hidden_channels=16,
            num_layers=2, lr=1e-2, loss='softmax', patience=0)
CLI_REC = ['rec-bench', '--data', 'synthetic', '--methods', 'eemu,sisa',
           '--dim', '4', '--epochs', '1', '--shards', '3',
           '--delete-users', '2']
TINY_KG = 'synthetic:entities=200,relations=8,triples=2000'


# ---------------------------------------------------------------------------
# One process: the helpers are the identity
# ---------------------------------------------------------------------------
def test_one_process_defaults(monkeypatch):
    for var in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
        monkeypatch.delenv(var, raising=False)
    assert not launched_by_torchrun()
    assert launched_by_torchrun(dict(RANK='1', WORLD_SIZE='2',
                                     LOCAL_RANK='1'))
    assert not launched_by_torchrun(dict(RANK='1', WORLD_SIZE='2'))
    assert (get_rank(), get_world_size()) == (0, 1)
    assert is_main_process() and not is_distributed()
    assert init_distributed() is False  # not under torchrun
    with distributed_session() as created:
        assert created is False and get_world_size() == 1
    obj = {'a': torch.arange(3)}
    assert broadcast_object(obj) is obj
    assert all_gather(5) == [5]
    local = {0: 'x', 2: 'y'}
    shared = share_states(local, [0, 2])
    assert shared == local and shared is not local
    with pytest.raises(RuntimeError, match=r'shard\(s\) \[1\]'):
        share_states(local, [0, 1, 2])
    assert rank_seed(7) == 7 and rank_seed(7, 2) == 7 + 2 * RANK_SEED_STRIDE


def test_shard_assignment():
    assert [shard_owner(s, 3) for s in range(7)] == [0, 1, 2, 0, 1, 2, 0]
    assert owned_shards(5, rank=1, world_size=2) == [1, 3]
    assert owned_shards([4, 1, 2], rank=0, world_size=2) == [4, 2]
    assert owned_shards(4) == [0, 1, 2, 3]  # one process owns everything
    # Every shard has exactly one owner.
    for world in (1, 2, 3, 5):
        owners = [r for s in range(11)
                  for r in range(world)
                  if s in owned_shards(11, rank=r, world_size=world)]
        assert owners == [s % world for s in range(11)]
    with pytest.raises(ValueError, match='non-negative'):
        shard_owner(-1, 2)
    with pytest.raises(ValueError, match='world_size'):
        shard_owner(0, 0)
    with pytest.raises(ValueError, match='rank 2 out of range'):
        owned_shards(4, rank=2, world_size=2)


def test_bad_options():
    with pytest.raises(ValueError, match="'gloo' or 'nccl'"):
        init_distributed(backend='mpi')
    with pytest.raises(ValueError, match='needs a CUDA device'):
        init_distributed(backend='nccl', device='cpu')
    with pytest.raises(ValueError, match='num_threads'):
        init_distributed(num_threads=0)


def test_all_reduce_gradients_one_process_changes_nothing():
    lin = torch.nn.Linear(3, 2)
    lin(torch.randn(4, 3)).sum().backward()
    grad = lin.weight.grad
    before = grad.clone()
    out = all_reduce_gradients(lin.parameters(), weight=1.0, flags=[2.0])
    assert out == dict(weight=1.0, flags=[2.0])
    assert lin.weight.grad is grad and torch.equal(grad, before)


# ---------------------------------------------------------------------------
# The two-rank session
# ---------------------------------------------------------------------------
class CountingEEMU(EEMU):
    r"""EEMU that records which shards this process trained."""
    def build_shard(self, s, edges):
        self.built.append(s)
        return super().build_shard(s, edges)


class CountingSISARec(SISARec):
    def build_shard(self, s, edges):
        self.built.append(s)
        return super().build_shard(s, edges)


def _rec_config():
    return EEMUConfig(model='mf', dim=8, epochs=2, lr=5e-3, num_shards=3,
                      users_per_step=8, batch_size=64, seed=2)


def _rec_users(method):
    r"""A user of shard 1 and one of shard 0 (the requests)."""
    shard_of = method.shard_of
    active = torch.unique(method.edge_index[0])
    return [int(active[shard_of[active] == 1][0]),
            int(active[shard_of[active] == 0][0])]


def _rec_job(cls):
    data = make_synthetic_interactions(**REC_SIZE)
    m = cls(data.num_users, data.num_items, _rec_config())
    m.built = []
    m.fit(data.edge_index('train'))
    out = dict(fit=m.state_dict(), built_fit=list(m.built), after=[],
               built=[], shards=[])
    for u in _rec_users(m):
        m.built = []
        rec = m.unlearn(u)
        out['after'].append(m.state_dict())
        out['built'].append(list(m.built))
        out['shards'].append(rec['shards'])
    out['ledger'] = m.ledger.to_list()
    return out


def _kg():
    return make_synthetic_kg(**KG_SIZE)


def _sisa_config():
    return TrainConfig(loss='softmax', epochs=2, lr=1e-2, batch_size=128,
                       num_negatives=16, shared_negatives=True, eval_every=0)


def _sisa_job():
    kg = _kg()
    base = load_kge_model('distmult', kg.num_entities, kg.num_relations, 8)
    sisa = SISA(base, kg, num_shards=NUM_SHARDS, config=_sisa_config(),
                seed=5)
    ens = sisa.fit()
    fit = {k: v.clone() for k, v in ens.state_dict().items()}
    ids = (sisa.data.shard == 1).nonzero().view(-1)[:3]
    res = sisa.unlearn(to_triples(kg.train)[ids])
    return dict(fit=fit, after=res.model.state_dict(),
                retrained=sisa.last_retrained.tolist())


def _base_kge(path):
    kg = _kg()
    torch.manual_seed(0)
    model = load_kge_model('complex', kg.num_entities, kg.num_relations, 16)
    KGETrainer(model, TrainConfig(loss='softmax', epochs=3, lr=1e-2,
                                  batch_size=256, num_negatives=32,
                                  eval_every=0), progress=False).fit(kg.train)
    torch.save(model.state_dict(), path)


def _meta_job(path):
    kg = _kg()
    model = load_kge_model('complex', kg.num_entities, kg.num_relations, 16)
    model.load_state_dict(torch.load(path))
    meu = MetaEU(model, kg, progress=False, **META)
    steps = []

    def hook(opt, args, kwargs):
        steps.append({k: v.clone()
                      for k, v in meu.generator.state_dict().items()})

    handle = register_optimizer_step_post_hook(hook)
    try:
        meu.fit()
    finally:
        handle.remove()
    return dict(history=meu.history, steps=steps,
                final=meu.generator.state_dict())


def _cli_job(root, rank):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = main(CLI_REC + ['--out', osp.join(root, 'rec.json'),
                             '--plot', osp.join(root, 'rec.png')])
        rc2 = main(['meta-train', '--data', TINY_KG, '--checkpoint',
                    osp.join(root, 'ckpt.pt'), '--episodes', '4',
                    '--eval-every', '2', '--quiet', '--out',
                    osp.join(root, 'metaeu.pt')])
    return dict(rc=rc, rc_meta=rc2, stdout=buf.getvalue())


def _worker(rank, world, port, root):
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port),
                      RANK=str(rank), WORLD_SIZE=str(world),
                      LOCAL_RANK=str(rank))
    with distributed_session(num_threads=1) as created:
        assert created and get_world_size() == world
        out = dict(rank=get_rank(),
                   eemu=_rec_job(CountingEEMU),
                   sisarec=_rec_job(CountingSISARec),
                   sisa=_sisa_job(),
                   meta=_meta_job(osp.join(root, 'kge.pt')),
                   cli=_cli_job(root, rank))
    torch.save(out, osp.join(root, f'rank{rank}.pt'))


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _threads(n):
    was = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(was)


@pytest.fixture(scope='module')
def ranks(tmp_path_factory):
    r"""The results of the two ranks (``[rank 0, rank 1]``) and the
    directory the session wrote to."""
    root = str(tmp_path_factory.mktemp('distributed'))
    _base_kge(osp.join(root, 'kge.pt'))
    assert main(['train', '--data', TINY_KG, '--model', 'complex', '--dim',
                 '8', '--epochs', '1', '--quiet', '--out',
                 osp.join(root, 'ckpt.pt')]) == 0
    for var in ('RANK', 'WORLD_SIZE', 'LOCAL_RANK'):
        assert var not in os.environ  # the parent is one process
    mp.spawn(_worker, args=(WORLD, _free_port(), root), nprocs=WORLD,
             join=True)
    return [torch.load(osp.join(root, f'rank{r}.pt'), weights_only=False)
            for r in range(WORLD)], root


@pytest.fixture(scope='module')
def single(ranks):
    r"""The same jobs in this process (one thread, as in the workers)."""
    _, root = ranks
    with _threads(1):
        return dict(eemu=_rec_job(CountingEEMU),
                    sisarec=_rec_job(CountingSISARec), sisa=_sisa_job(),
                    meta=_meta_job(osp.join(root, 'kge.pt')))


def _same_history(a, b):
    def norm(h):  # NaN (the first entry's loss) compares equal to NaN
        return [{k: ('nan' if v != v else v) for k, v in e.items()}
                for e in h]
    return norm(a) == norm(b)


def _assert_same_state(a, b):
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k


@pytest.mark.parametrize('job', ['eemu', 'sisarec'])
def test_rec_shards_equal_single_process(ranks, single, job):
    res, _ = ranks
    ref = single[job]
    # Each rank trained only its own shards; one process trains them all.
    assert res[0][job]['built_fit'] == [0, 2]
    assert res[1][job]['built_fit'] == [1]
    assert ref['built_fit'] == [0, 1, 2]
    # The deletions touch shard 1 (rank 1's), then shard 0 (rank 0's).
    assert ref['shards'] == [[1], [0]]
    assert [r[job]['shards'] for r in res] == [[[1], [0]]] * 2
    assert res[0][job]['built'] == [[], [0]]
    assert res[1][job]['built'] == [[1], []]
    for r in res:  # every rank holds every shard, bit for bit
        _assert_same_state(r[job]['fit'], ref['fit'])
        for got, want in zip(r[job]['after'], ref['after']):
            _assert_same_state(got, want)
        # The same hash-chained ledger everywhere (output model hashes).
        assert [e['output_model'] for e in r[job]['ledger']] == \
            [e['output_model'] for e in ref['ledger']]
    # The retrained shard did change.
    key = '1.model.' + next(k.split('.', 2)[2] for k in ref['fit']
                            if k.startswith('1.model.'))
    assert not torch.equal(ref['fit'][key], ref['after'][0][key])


def test_kge_sisa_shards_equal_single_process(ranks, single):
    res, _ = ranks
    ref = single['sisa']
    assert ref['retrained'] == [1]
    for r in res:
        assert r['sisa']['retrained'] == [1]
        _assert_same_state(r['sisa']['fit'], ref['fit'])
        _assert_same_state(r['sisa']['after'], ref['after'])
    assert not torch.equal(ref['fit']['shards.1.node_emb.weight'],
                           ref['after']['shards.1.node_emb.weight'])


def test_meta_training_keeps_ranks_in_lockstep(ranks, single):
    res, _ = ranks
    a, b = res[0]['meta'], res[1]['meta']
    assert len(a['steps']) == len(b['steps']) == META['episodes']
    for x, y in zip(a['steps'], b['steps']):  # after every optimizer step
        _assert_same_state(x, y)
    _assert_same_state(a['final'], b['final'])
    # The steps moved the generator.
    first, last = a['steps'][0], a['steps'][-1]
    assert any(not torch.equal(first[k], last[k]) for k in first)
    # Both ranks hold rank 0's validation history.
    assert _same_history(a['history'], b['history'])
    assert [h['episode'] for h in a['history']] == [0, 4, 8, 12, 16]
    # The 2-rank run differs from the one-process run (other episodes on
    # rank 1) ...
    assert any(not torch.equal(single['meta']['steps'][-1][k],
                               a['steps'][-1][k]) for k in first)
    # ... and improves validation MRR over the untrained generator, as
    # the one-process run does.
    for hist in (a['history'], single['meta']['history']):
        assert max(h['val_mrr'] for h in hist[1:]) > hist[0]['val_mrr']


def test_cli_under_torchrun(ranks, tmp_path):
    res, root = ranks
    assert [r['cli']['rc'] for r in res] == [0, 0]
    assert [r['cli']['rc_meta'] for r in res] == [0, 0]
    assert res[1]['cli']['stdout'] == ''  # only rank 0 prints
    out = res[0]['cli']['stdout']
    assert 'torch.distributed: 2 ranks' in out and 'exact check passed' \
        in out and 'steps of 2 episodes' in out
    with open(osp.join(root, 'rec.json')) as f:
        dist_result = json.load(f)
    assert dist_result['world_size'] == 2
    assert list(dist_result['methods']) == ['eemu', 'sisa']
    # The same command in one process trains the same shards.
    one = str(tmp_path / 'one.json')
    with _threads(1):
        assert main(CLI_REC + ['--out', one]) == 0
    with open(one) as f:
        one_result = json.load(f)
    assert one_result['world_size'] == 1
    for name in ('eemu', 'sisa'):
        d, o = dist_result['methods'][name], one_result['methods'][name]
        assert d['exact_check']['equal'] and o['exact_check']['equal']
        assert d['shard_hashes'] == o['shard_hashes']
        assert d['shard_hashes']['before'] != d['shard_hashes']['after']
        assert d['before'] == o['before'] and d['after'] == o['after']
    # meta-train wrote one loadable MetaEU (rank 0's).
    state = torch.load(osp.join(root, 'metaeu.pt'), weights_only=False)
    assert isinstance(state, dict)
    assert not [f for f in os.listdir(root) if '.tmp' in f]
