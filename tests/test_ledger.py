import json

import pytest
import torch

from torch_geometric_unlearn.ledger import GENESIS, Ledger


def _chain(n=3):
    ledger = Ledger()
    for i in range(n):
        ledger.append(dict(request=f'request {i}', method='metaeu',
                           forget=dict(ids=[[i, 0, i + 1]], names=None)))
    return ledger


def test_entries_chain_by_hash_and_round_trip(tmp_path):
    ledger = _chain()
    assert ledger[0]['prev'] == GENESIS
    assert [e['index'] for e in ledger] == [0, 1, 2]
    assert ledger[1]['prev'] == ledger[0]['hash'] == ledger[1]['prev']
    assert ledger.head == ledger[2]['hash'] and ledger.verify() == []
    path = str(tmp_path / 'l.jsonl')
    ledger.save(path)
    lines = open(path).read().splitlines()
    assert len(lines) == 3 and json.loads(lines[2])['request'] == 'request 2'
    back = Ledger.load(path)
    assert back.verify() == [] and back.to_list() == ledger.to_list()
    assert back.forgotten().tolist() == [[0, 0, 1], [1, 0, 2], [2, 0, 3]]
    assert back.entry_of([1, 0, 2])['index'] == 1
    assert back.entry_of([9, 9, 9]) is None


def test_edits_removals_and_reorders_are_detected():
    entries = _chain().to_list()
    edited = [dict(e) for e in entries]
    edited[1]['forget'] = dict(ids=[[5, 0, 6]], names=None)
    assert any('edited' in p for p in Ledger(edited).verify())
    removed = entries[:1] + entries[2:]
    problems = Ledger(removed).verify()
    assert any('chain' in p for p in problems)
    swapped = [entries[0], entries[2], entries[1]]
    assert Ledger(swapped).verify() != []
    # Re-hashing an edited entry still breaks the link to the next one.
    ledger = Ledger(edited)
    from torch_geometric_unlearn.ledger import _digest
    edited[1]['hash'] = _digest(edited[1])
    assert any('chain' in p for p in Ledger(edited).verify())
    assert ledger.verify() != []


def test_append_copies_and_refuses_unserialisable_entries():
    ledger = Ledger()
    entry = dict(request='r', forget=dict(ids=[[0, 1, 2]]))
    stored = ledger.append(entry)
    entry['forget']['ids'].append([3, 4, 5])
    assert ledger[0]['forget']['ids'] == [[0, 1, 2]] and 'time' in stored
    with pytest.raises(TypeError):
        ledger.append(dict(request=torch.zeros(2)))
    with pytest.raises(ValueError, match='line 2'):
        Ledger.from_jsonl('{"index": 0}\nnot json\n')
