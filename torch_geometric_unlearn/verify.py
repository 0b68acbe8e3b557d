r"""Evidence that an unlearned model forgot: the state an unlearned
checkpoint carries, and :func:`verify`, the check a user hands an auditor.

An unlearned KGE checkpoint (see :func:`unlearning_state`) holds, under
``"unlearning"``:

* ``ledger`` -- the hash-chained :class:`~torch_geometric_unlearn.ledger.
  Ledger` entries of every request since the original model,
* ``retained`` -- the retained training graph (``edge_index``,
  ``edge_type``), the base of any later request,
* ``graph`` -- the content hash of the original training graph.

:func:`verify` checks the chain of hashes, that no forgotten triple is in
the retained graph, that the retained graph and the model are the ones the
ledger recorded last and, optionally, measures the forget set's filtered
MRR and the membership-inference AUC against the unseen test triples.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import torch
from torch_geometric.data import Data

from .datasets.kg import KGDataset, TripleSet
from .ledger import Ledger
from .utils.fingerprint import (edge_digest, model_hash,
                                retained_digest, triples_hash)

__all__ = ['unlearning_state', 'retained_graph', 'resume', 'VerifyReport',
           'verify']


def unlearning_state(unlearner) -> Dict[str, Any]:
    r"""The ``"unlearning"`` entry of a checkpoint written after requests
    served by :obj:`unlearner` (any
    :class:`~torch_geometric_unlearn.unlearner.Unlearner`, MetaEU
    included)."""
    return dict(ledger=unlearner.ledger.to_list(),
                retained=dict(edge_index=unlearner.data.edge_index,
                              edge_type=unlearner.data.edge_type),
                graph=unlearner.original_hash)


def retained_graph(state: Dict[str, Any], num_nodes: int,
                   num_relations: int) -> Data:
    r"""The retained training graph stored in an ``"unlearning"`` entry."""
    r = state['retained']
    return Data(edge_index=r['edge_index'], edge_type=r['edge_type'],
                num_nodes=int(num_nodes), num_relations=int(num_relations))


def resume(state: Optional[Dict[str, Any]], dataset: KGDataset):
    r"""Where a later request on an unlearned checkpoint starts: the
    original training graph, the ledger and the retained graph.

    :obj:`dataset` may hold the original training graph or the retained
    one (e.g. saved by ``unlearn --save-data``); either way the request
    starts from the retained graph the checkpoint carries. Without
    unlearning state the dataset's training graph is the original.

    Returns:
        ``(original, ledger, retained)``; ``ledger`` and ``retained`` are
        :obj:`None` without unlearning state.

    Raises:
        DataMismatchError: when the dataset's training graph is neither
            the original nor the retained graph of the checkpoint (e.g. it
            still holds forgotten triples, or is another graph).
    """
    from .datasets.errors import DataMismatchError
    train = dataset.train
    if not state or not state.get('ledger'):
        return train, None, None
    ledger = Ledger(state['ledger'])
    problems = ledger.verify()
    if problems:
        raise DataMismatchError('the checkpoint\'s ledger is broken: ' +
                                '; '.join(problems))
    n, r = dataset.num_entities, dataset.num_relations
    retained = retained_graph(state, n, r)
    have = triples_hash(train.edge_index, train.edge_type, n, r)
    if have == state.get('graph'):
        return train, ledger, retained
    if retained_digest(edge_digest(train.edge_index, train.edge_type, n, r),
                       n, r) == ledger[-1].get('retained_data'):
        # The retained graph and the ledger's forgotten triples make up the
        # original graph (as a set, which is what its hash covers).
        forgotten = ledger.forgotten()
        original = Data(
            edge_index=torch.cat([train.edge_index, forgotten[:, [0, 2]].t()],
                                 1),
            edge_type=torch.cat([train.edge_type, forgotten[:, 1]]),
            num_nodes=n, num_relations=r)
        if triples_hash(original.edge_index, original.edge_type, n, r) != \
                state.get('graph'):
            raise DataMismatchError('the retained graph and the ledger do not '
                                    'make up the original training graph')
        return original, ledger, retained
    forgotten = ledger.forgotten()
    held = TripleSet.from_data(train).contains_triples(forgotten) \
        if forgotten.numel() else torch.zeros(0, dtype=torch.bool)
    if bool(held.any()):
        raise DataMismatchError(
            f'the data still holds {int(held.sum())} triple(s) this '
            f'checkpoint forgot (e.g. {forgotten[held][0].tolist()}) and is '
            f'neither its original nor its retained training graph')
    raise DataMismatchError('the data\'s training graph is neither the '
                            'original nor the retained training graph of this '
                            'checkpoint')


@dataclass
class VerifyReport:
    r"""The outcome of :func:`verify`.

    Attributes:
        checks (list): ``(name, passed, detail)`` per check.
        evidence (dict): Measured figures (forget MRR, MIA AUC), if asked.
    """
    checks: List[tuple] = field(default_factory=list)
    evidence: Dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(passed for _, passed, _ in self.checks)

    def add(self, name: str, passed: bool, detail: str = '') -> None:
        self.checks.append((name, bool(passed), detail))

    def format(self) -> str:
        r"""A short human-readable report."""
        lines = [f"{'PASS' if passed else 'FAIL'}  {name}"
                 + (f': {detail}' if detail else '')
                 for name, passed, detail in self.checks]
        for k, v in self.evidence.items():
            lines.append(f'      {k} = {v:.4f}')
        lines.append('verified: every check passed' if self.ok else
                     'NOT verified: see the failed checks')
        return '\n'.join(lines)

    def to_dict(self) -> Dict[str, Any]:
        return dict(ok=self.ok, checks=[dict(name=n, passed=p, detail=d)
                                        for n, p, d in self.checks],
                    evidence=dict(self.evidence))


def verify(model: torch.nn.Module, state: Optional[Dict[str, Any]],
           dataset: KGDataset, evidence: bool = False,
           max_triples: int = 2000) -> VerifyReport:
    r"""Checks an unlearned model against its ledger and the original data.

    Args:
        model (torch.nn.Module): The unlearned KGE model.
        state (dict): Its checkpoint's ``"unlearning"`` entry (see
            :func:`unlearning_state`); :obj:`None` fails the check.
        dataset (KGDataset): The original data (train / valid / test).
        evidence (bool, optional): Also measure the forget set's filtered
            MRR (filter = retained + valid + test) and the
            membership-inference AUC of forgotten vs. unseen test triples.
            (default: :obj:`False`)
        max_triples (int, optional): Evidence is measured on at most this
            many forgotten and test triples. (default: :obj:`2000`)
    """
    report = VerifyReport()
    if not state or 'ledger' not in state:
        report.add('the checkpoint carries a ledger', False,
                   'no unlearning state: not an unlearned checkpoint')
        return report
    ledger = Ledger(state['ledger'])
    problems = ledger.verify()
    report.add('chain of hashes', not problems, '; '.join(problems) or
               f'{len(ledger)} entr{"y" if len(ledger) == 1 else "ies"}')
    n, r = dataset.num_entities, dataset.num_relations
    train = dataset.train
    original = triples_hash(train.edge_index, train.edge_type, n, r)
    report.add('the original data is the one the ledger names',
               state.get('graph') == original and all(
                   e.get('graph') in (None, original) for e in ledger),
               '' if state.get('graph') == original else
               'the data given is not the original training graph')
    retained = retained_graph(state, n, r)
    forgotten = ledger.forgotten()
    back = TripleSet.from_data(retained).contains_triples(forgotten) \
        if forgotten.numel() else torch.zeros(0, dtype=torch.bool)
    report.add('no forgotten triple is in the retained graph',
               not bool(back.any()),
               f'{int(back.sum())} of {forgotten.size(0)} forgotten triples '
               f'are back, e.g. {forgotten[back][0].tolist()}'
               if bool(back.any()) else
               f'{forgotten.size(0)} forgotten triples')
    kept_in_original = TripleSet.from_data(train).contains_triples(
        torch.stack([retained.edge_index[0], retained.edge_type,
                     retained.edge_index[1]], 1))
    report.add('the retained graph is part of the original',
               bool(kept_in_original.all()),
               '' if bool(kept_in_original.all()) else
               f'{int((~kept_in_original).sum())} retained triples are not '
               f'in the original training graph')
    last = ledger[-1] if len(ledger) else {}
    report.add('the retained graph is the one the ledger recorded last',
               last.get('retained_data') == retained_digest(edge_digest(
                   retained.edge_index, retained.edge_type, n, r), n, r))
    report.add("the model's hash matches the ledger",
               last.get('output_model') == model_hash(model),
               '' if last.get('output_model') == model_hash(model) else
               'the model is not the one the last request produced')
    if evidence and forgotten.numel():
        from .kge.evaluate import LinkPredictionEvaluator
        from .metrics import membership_auc
        from .datasets.kg import to_triples
        g = torch.Generator().manual_seed(0)
        f = forgotten[torch.randperm(forgotten.size(0),
                                     generator=g)[:max_triples]]
        test = to_triples(dataset.test)
        test = test[torch.randperm(test.size(0), generator=g)[:max_triples]]
        ev = LinkPredictionEvaluator(n, r, [retained, dataset.valid,
                                            dataset.test])
        report.evidence['forget_mrr'] = float(ev.evaluate(model, f)['mrr'])
        report.evidence['test_mrr'] = float(ev.evaluate(model, test)['mrr'])
        report.evidence['mia_auc'] = float(membership_auc(model, f, test))
    return report
