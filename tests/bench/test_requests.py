import pytest
import torch
from torch_geometric.utils import k_hop_subgraph

from torch_geometric_unlearn.bench import (cluster_forget_set, draw_requests,
                                           hub_forget_set, parse_request)
from torch_geometric_unlearn.transforms import sample_forget_set


def _deg(data):
    return torch.bincount(data.edge_index.reshape(-1),
                          minlength=data.num_nodes)


def _keeps_everything(data, ids):
    keep = torch.ones(data.num_edges, dtype=torch.bool)
    keep[ids] = False
    ei, et = data.edge_index[:, keep], data.edge_type[keep]
    before = _deg(data) > 0
    after = torch.bincount(ei.reshape(-1), minlength=data.num_nodes) > 0
    rels = torch.bincount(et, minlength=data.num_relations) > 0
    rels0 = torch.bincount(data.edge_type,
                           minlength=data.num_relations) > 0
    return bool((after == before).all() and (rels == rels0).all())


def _mean_degree(data, ids):
    deg = _deg(data).double()
    return float((deg[data.edge_index[0, ids]]
                  + deg[data.edge_index[1, ids]]).mean() / 2)


@pytest.mark.parametrize('ratio', [0.02, 0.1])
def test_hub_picks_high_degree_entities(small_kg, ratio):
    g = small_kg.train
    ids, info = hub_forget_set(g, ratio=ratio, seed=0, return_info=True)
    rand = sample_forget_set(g, ratio=ratio, seed=0)
    assert ids.numel() == rand.numel() == round(ratio * g.num_edges)
    assert ids.unique().numel() == ids.numel()
    assert _mean_degree(g, ids) > 1.5 * _mean_degree(g, rand)
    assert _keeps_everything(g, ids)
    # No entity loses more than half its triples.
    lost = torch.bincount(g.edge_index[:, ids].reshape(-1),
                          minlength=g.num_nodes)
    assert bool((lost <= _deg(g) // 2).all())
    # The hubs come by decreasing degree, starting with the largest; the
    # set spreads over at least ten of them.
    deg = _deg(g)
    assert deg[info['hubs'][0]] == deg.max()
    hub_deg = deg[info['hubs']]
    assert bool((hub_deg[:-1] >= hub_deg[1:]).all())
    assert len(info['hubs']) >= info['num_hubs'] == 10
    assert torch.equal(ids, hub_forget_set(g, ratio=ratio, seed=0))


def test_hub_quota(small_kg):
    g = small_kg.train
    deg = _deg(g)
    for num_hubs in (1, 4):
        ids, info = hub_forget_set(g, count=40, num_hubs=num_hubs,
                                   return_info=True)
        h, t = g.edge_index[:, ids]
        owner = torch.where(deg[h] >= deg[t], h, t)
        assert int(torch.bincount(owner).max()) <= 40 // num_hubs
        assert len(info['hubs']) == num_hubs


def test_cluster_lies_in_the_ball(small_kg):
    g = small_kg.train
    ids, info = cluster_forget_set(g, ratio=0.02, seed=3, num_seeds=2,
                                   num_hops=2, return_info=True)
    assert ids.numel() == round(0.02 * g.num_edges)
    assert len(info['seeds']) >= 2 and info['num_hops'] == 2
    both = torch.cat([g.edge_index, g.edge_index.flip(0)], 1)
    ball = k_hop_subgraph(torch.tensor(info['seeds']), 2, both,
                          num_nodes=g.num_nodes)[0]
    inside = torch.zeros(g.num_nodes, dtype=torch.bool)
    inside[ball] = True
    assert bool(inside[g.edge_index[:, ids]].all())
    assert _keeps_everything(g, ids)
    # The ball is a small part of the graph: the set is concentrated.
    ents = g.edge_index[:, ids].unique().numel()
    rand = sample_forget_set(g, ratio=0.02, seed=3)
    assert ents < g.edge_index[:, rand].unique().numel()


def test_cluster_adds_seeds_when_the_ball_is_small(small_kg):
    g = small_kg.train
    ids, info = cluster_forget_set(g, ratio=0.3, seed=0, num_seeds=1,
                                   num_hops=1, return_info=True)
    assert ids.numel() == round(0.3 * g.num_edges)
    assert len(info['seeds']) > 1
    assert _keeps_everything(g, ids)


def test_sequential_requests_are_disjoint(small_kg):
    reqs = draw_requests(small_kg.train, forget_ratio=0.05, steps=3,
                         forget_kind='hub', seed=1)
    assert [r.step for r in reqs] == [1, 2, 3]
    count = round(0.05 * small_kg.train.num_edges)
    assert [r.count for r in reqs] == [count] * 3
    seen = set()
    graph = small_kg.train
    for r in reqs:
        rows = {tuple(t) for t in r.triples.tolist()}
        assert not rows & seen
        seen |= rows
        # Edge ids index the graph the previous requests left.
        assert torch.equal(graph.edge_index[:, r.edge_ids],
                           r.triples[:, [0, 2]].t())
        graph = r.retained
    assert graph.num_edges == small_kg.train.num_edges - 3 * count


def test_entity_and_relation_requests(small_kg):
    (r, ) = draw_requests(small_kg.train, forget_entities=3, seed=0)
    ents = torch.tensor(r.info['value'])
    assert r.unlearn_kwargs['entities'].tolist() == ents.tolist()
    hit = torch.isin(r.triples[:, 0], ents) | \
        torch.isin(r.triples[:, 2], ents)
    assert bool(hit.all()) and r.count == int(
        (torch.isin(small_kg.train.edge_index, ents).any(0)).sum())
    (r, ) = draw_requests(small_kg.train, forget_relation='1')
    assert r.info['value'] == 1 and bool((r.triples[:, 1] == 1).all())
    with pytest.raises(ValueError, match='unknown relation'):
        draw_requests(small_kg.train, forget_relation='no_such',
                      relation_names=['a'])


def test_bad_arguments(small_kg):
    g = small_kg.train
    with pytest.raises(ValueError):
        hub_forget_set(g, ratio=0.1, share=0.0)
    with pytest.raises(ValueError):
        hub_forget_set(g, ratio=0.1, num_hubs=0)
    with pytest.raises(ValueError):
        cluster_forget_set(g, ratio=0.1, num_hops=0)
    with pytest.raises(ValueError):
        hub_forget_set(g, ratio=1.5)
    with pytest.raises(ValueError, match='only'):
        hub_forget_set(g, ratio=0.9)


def test_parse_request():
    assert parse_request('random:0.01') == dict(forget_ratio=0.01,
                                                forget_kind='random',
                                                steps=1)
    assert parse_request('hub:0.05*3') == dict(forget_ratio=0.05,
                                               forget_kind='hub', steps=3)
    assert parse_request('entity:10') == dict(forget_entities=10,
                                              min_degree=5, max_degree=100)
    assert parse_request('relation:p31') == dict(forget_relation='p31')
    for bad in ('random', 'nope:1'):
        with pytest.raises(ValueError):
            parse_request(bad)
