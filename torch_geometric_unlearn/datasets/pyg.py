r"""Loader for the knowledge graphs that PyG ships as datasets
(:class:`torch_geometric.datasets.FB15k_237` and
:class:`torch_geometric.datasets.WordNet18RR`), with their entity and
relation names recovered."""
from __future__ import annotations

import os.path as osp
from itertools import chain
from typing import Dict, List, Optional, Tuple

import torch
from torch import Tensor

from .kg import SPLITS, KGDataset, Vocabulary, make_kg, triple_keys

__all__ = ['load_pyg_kg', 'PYG_KG_NAMES']

#: Canonical names of the datasets :func:`load_pyg_kg` supports.
PYG_KG_NAMES = ('FB15k-237', 'WN18RR')

_ALIASES = {
    'fb15k237': 'FB15k-237',
    'fb237': 'FB15k-237',
    'wn18rr': 'WN18RR',
    'wordnet18rr': 'WN18RR',
}


def _canonical_name(name: str) -> str:
    key = ''.join(c for c in str(name).lower() if c.isalnum())
    if key not in _ALIASES:
        raise ValueError(f"unknown PyG knowledge graph '{name}' (choose from "
                         f"{', '.join(PYG_KG_NAMES)})")
    return _ALIASES[key]


def _raw_files_exist(paths: List[str]) -> bool:
    return all(osp.isfile(p) for p in paths)


def _fb15k237_names(
    raw_paths: List[str]
) -> Tuple[List[str], List[str], List[Tuple[Tensor, Tensor]]]:
    r"""Re-reads FB15k-237's raw files exactly as
    :meth:`torch_geometric.datasets.FB15k_237.process` does: ids in order of
    first appearance over ``train``, ``valid``, ``test``, line by line, head
    before tail. Returns the entity names, the relation names and, per split,
    the encoded ``(edge_index [2, E], edge_type [E])``."""
    node_ids: Dict[str, int] = {}
    rel_ids: Dict[str, int] = {}
    encoded = []
    for path in raw_paths:
        # Same reading as PyG (platform encoding, the last '\n'-separated
        # piece dropped, no stripping), so that the ids agree.
        with open(path) as f:
            lines = [x.split('\t') for x in f.read().split('\n')[:-1]]
        heads, rels, tails = [], [], []
        for i, line in enumerate(lines):
            if len(line) != 3:
                raise ValueError(f"{path}:{i + 1}: expected 3 tab-separated "
                                 f"fields, got {len(line)}")
            src, rel, dst = line
            heads.append(node_ids.setdefault(src, len(node_ids)))
            tails.append(node_ids.setdefault(dst, len(node_ids)))
            rels.append(rel_ids.setdefault(rel, len(rel_ids)))
        encoded.append((torch.tensor([heads, tails], dtype=torch.long).view(
            2, -1), torch.tensor(rels, dtype=torch.long)))
    return list(node_ids), list(rel_ids), encoded


def _wn18rr_names(
    raw_paths: List[str], edge2id: Dict[str, int]
) -> Tuple[List[str], List[Tuple[Tensor, Tensor]]]:
    r"""Re-reads WN18RR's raw files exactly as
    :meth:`torch_geometric.datasets.WordNet18RR.process` does: per file, ids
    in order of first appearance over all heads, then all tails. Returns the
    entity names and, per split, the encoded
    ``(edge_index [2, E], edge_type [E])`` in file order."""
    node_ids: Dict[str, int] = {}
    encoded = []
    for path in raw_paths:
        with open(path) as f:
            tokens = f.read().split()
        if len(tokens) % 3 != 0:
            raise ValueError(f"'{path}' must hold whitespace-separated "
                             f"'head relation tail' triples")
        heads, rels, tails = tokens[::3], tokens[1::3], tokens[2::3]
        for entity in chain(heads, tails):
            if entity not in node_ids:
                node_ids[entity] = len(node_ids)
        unknown = set(rels) - set(edge2id)
        if unknown:
            raise ValueError(f"'{path}' has relations {sorted(unknown)} that "
                             f"PyG's WordNet18RR does not know")
        edge_index = torch.tensor([[node_ids[h] for h in heads],
                                   [node_ids[t] for t in tails]],
                                  dtype=torch.long).view(2, -1)
        edge_type = torch.tensor([edge2id[r] for r in rels],
                                 dtype=torch.long)
        encoded.append((edge_index, edge_type))
    return list(node_ids), encoded


def _sorted_keys(edge_index: Tensor, edge_type: Tensor, num_nodes: int,
                 num_relations: int) -> Tensor:
    return triple_keys(edge_index[0], edge_type, edge_index[1], num_nodes,
                       num_relations).sort().values


def _mismatch(name: str, root: str) -> RuntimeError:
    return RuntimeError(
        f"the raw files of {name} in '{osp.join(root, 'raw')}' do not match "
        f"the processed data in '{osp.join(root, 'processed')}' (were the raw "
        f"files replaced after processing?); reload with "
        f"'force_reload=True' to re-process them")


def _load_fb15k237(root: str, force_reload: bool) -> KGDataset:
    from torch_geometric.datasets import FB15k_237

    datasets = {}
    for s, pyg_split in zip(SPLITS, ('train', 'val', 'test')):
        # Processing writes all three splits at once: re-process only once.
        datasets[s] = FB15k_237(root, split=pyg_split,
                                force_reload=force_reload and s == 'train')
    parts = {s: datasets[s][0] for s in SPLITS}
    num_nodes = int(parts['train'].num_nodes)

    raw_paths = datasets['train'].raw_paths
    entity_vocab = relation_vocab = None
    if _raw_files_exist(raw_paths):
        ent_names, rel_names, encoded = _fb15k237_names(raw_paths)
        if len(ent_names) != num_nodes:
            raise _mismatch('FB15k-237', root)
        for s, (edge_index, edge_type) in zip(SPLITS, encoded):
            if not (torch.equal(edge_index, parts[s].edge_index)
                    and torch.equal(edge_type, parts[s].edge_type)):
                raise _mismatch('FB15k-237', root)
        entity_vocab = Vocabulary(ent_names)
        relation_vocab = Vocabulary(rel_names)
        num_relations = len(rel_names)
    else:
        num_relations = max(
            int(parts[s].edge_type.max()) + 1 if parts[s].num_edges else 0
            for s in SPLITS)

    splits = {
        s: make_kg(parts[s].edge_index, parts[s].edge_type, num_nodes,
                   num_relations)
        for s in SPLITS
    }
    return KGDataset(**splits, entity_vocab=entity_vocab,
                     relation_vocab=relation_vocab, name='FB15k-237',
                     meta={'source': 'pyg', 'path': str(root)})


def _load_wn18rr(root: str, force_reload: bool) -> KGDataset:
    from torch_geometric.datasets import WordNet18RR

    dataset = WordNet18RR(root, force_reload=force_reload)
    data = dataset[0]
    num_nodes = int(data.num_nodes)
    edge2id = dict(WordNet18RR.edge2id)
    rel_names = sorted(edge2id, key=edge2id.__getitem__)
    if [edge2id[r] for r in rel_names] != list(range(len(rel_names))):
        raise RuntimeError('WordNet18RR.edge2id must map to 0, 1, ..., '
                           f'{len(rel_names) - 1}')
    num_relations = len(rel_names)

    masks = {
        'train': data.train_mask,
        'valid': data.val_mask,
        'test': data.test_mask
    }
    splits = {
        s: make_kg(data.edge_index[:, m], data.edge_type[m], num_nodes,
                   num_relations)
        for s, m in masks.items()
    }

    entity_vocab: Optional[Vocabulary] = None
    if _raw_files_exist(dataset.raw_paths):
        ent_names, encoded = _wn18rr_names(dataset.raw_paths, edge2id)
        if len(ent_names) != num_nodes:
            raise _mismatch('WN18RR', root)
        # PyG sorts the edges; compare each split as a sorted set of keys.
        for s, (edge_index, edge_type) in zip(SPLITS, encoded):
            ours = _sorted_keys(edge_index, edge_type, num_nodes,
                                num_relations)
            theirs = _sorted_keys(splits[s].edge_index, splits[s].edge_type,
                                  num_nodes, num_relations)
            if not torch.equal(ours, theirs):
                raise _mismatch('WN18RR', root)
        entity_vocab = Vocabulary(ent_names)

    return KGDataset(**splits, entity_vocab=entity_vocab,
                     relation_vocab=Vocabulary(rel_names), name='WN18RR',
                     meta={'source': 'pyg', 'path': str(root)})


def load_pyg_kg(root: str, name: str = 'FB15k-237',
                force_reload: bool = False) -> KGDataset:
    r"""Loads a knowledge graph through PyG's own dataset class and returns
    it as a :class:`KGDataset` with entity and relation names.

    * ``"FB15k-237"`` (aliases ``"fb15k237"``, ``"fb237"``):
      :class:`torch_geometric.datasets.FB15k_237` from the `"Observed Versus
      Latent Features for Knowledge Base and Text Inference"
      <https://aclanthology.org/W15-4007>`_ paper (14,541 entities, 237
      relations, 272,115 / 17,535 / 20,466 triples), read with
      :obj:`split="train"`, :obj:`"val"` and :obj:`"test"`.
    * ``"WN18RR"`` (alias ``"WordNet18RR"``):
      :class:`torch_geometric.datasets.WordNet18RR` from the
      `"Convolutional 2D Knowledge Graph Embeddings"
      <https://arxiv.org/abs/1707.01476>`_ paper (40,943 entities, 11
      relations, 86,835 / 3,034 / 3,134 triples), split by its
      ``train_mask`` / ``val_mask`` / ``test_mask``.

    The PyG classes are used as they are: they download the raw files into
    ``root/raw`` when these are missing (which needs a network connection)
    and process them into ``root/processed``. PyG keeps only integer ids, so
    the names are recovered by re-reading the raw files in the order in which
    PyG assigns ids, and the recovered encoding is checked against PyG's
    processed tensors. Without raw files, entities are named :obj:`"e{i}"`
    (and FB15k-237's relations :obj:`"r{i}"`); WN18RR's relation names always
    come from :obj:`WordNet18RR.edge2id`.

    .. code-block:: python

        from torch_geometric_unlearn.datasets import load_pyg_kg

        dataset = load_pyg_kg('data/FB15k-237', 'FB15k-237')
        dataset.train                  # Data(edge_index=[2, 272115], ...)
        dataset.entity_vocab.name(0)   # '/m/027rn'

    Args:
        root (str): Root folder of the PyG dataset (the one holding ``raw/``
            and ``processed/``).
        name (str, optional): ``"FB15k-237"`` or ``"WN18RR"`` (case and
            punctuation are ignored). (default: :obj:`"FB15k-237"`)
        force_reload (bool, optional): Whether PyG re-processes the raw
            files. (default: :obj:`False`)

    Returns:
        :class:`KGDataset` with ``train`` / ``valid`` / ``test`` splits of
        ``edge_index`` ``[2, E]`` and ``edge_type`` ``[E]``, in PyG's order.

    Raises:
        ValueError: If :obj:`name` is not supported.
        RuntimeError: If the raw files do not encode to PyG's processed
            tensors (re-process with :obj:`force_reload=True`).
    """
    canonical = _canonical_name(name)
    root = osp.expanduser(str(root))
    if canonical == 'FB15k-237':
        return _load_fb15k237(root, force_reload)
    return _load_wn18rr(root, force_reload)
