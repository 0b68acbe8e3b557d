import pytest
import torch

from torch_geometric_unlearn.datasets import (UnknownNameError,
                                              UserInputError,
                                              check_forget_request,
                                              lookup_name_or_id,
                                              read_forget_file, to_triples)


def test_lookup_name_or_id(small_kg):
    ev, rv = small_kg.entity_vocab, small_kg.relation_vocab
    assert lookup_name_or_id('e12', ev) == 12
    assert lookup_name_or_id(' 12 ', ev) == 12  # not a name: an id
    assert lookup_name_or_id(rv.name(3), rv, 'relation') == 3
    assert lookup_name_or_id('3', rv, 'relation', ids=True) == 3
    with pytest.raises(UnknownNameError, match="unknown entity 'nobody'") \
            as info:
        lookup_name_or_id('nobody', ev)
    assert info.value.names == ['nobody']
    with pytest.raises(UserInputError, match="relation 'x' is not an "
                       "integer id"):
        lookup_name_or_id('x', rv, 'relation', ids=True)
    with pytest.raises(UserInputError, match=r'entity id 300 is out of '
                       r'range \[0, 299\]'):
        lookup_name_or_id('300', ev)


def test_read_forget_file(small_kg, tmp_path):
    rows = to_triples(small_kg.train)[[0, 5, 9]]
    names = small_kg.decode(rows)
    path = tmp_path / 'forget.tsv'
    path.write_text('# a comment\n\n' + '\t'.join(names[0]) + '\n' +
                    ' '.join(names[1]) + '\n' + '\t'.join(names[0]) + '\n' +
                    '\t'.join(names[2]) + '\n')
    triples, dup = read_forget_file(str(path), small_kg)
    assert torch.equal(triples, rows) and dup == 1
    ids = tmp_path / 'ids.txt'
    ids.write_text('\n'.join(' '.join(map(str, r)) for r in rows.tolist()))
    triples, dup = read_forget_file(str(ids), small_kg, ids=True)
    assert torch.equal(triples, rows) and dup == 0


@pytest.mark.parametrize('text,error,message', [
    ('# nothing\n\n', UserInputError, 'holds no triple'),
    ('e0 base0 e1\ne0 base0\n', UserInputError,
     'line 2: expected head, relation and tail, got 2 field'),
    ('e0\tno_such\te1\n', UnknownNameError,
     "line 1: unknown relation 'no_such'"),
    ('e0\tbase0\t999\n', UserInputError, 'line 1: entity id 999 is out'),
])
def test_read_forget_file_errors(small_kg, tmp_path, text, error, message):
    path = tmp_path / 'f.tsv'
    path.write_text(text)
    with pytest.raises(error, match=message):
        read_forget_file(str(path), small_kg)


def test_read_forget_file_missing(small_kg, tmp_path):
    with pytest.raises(FileNotFoundError, match="forget file '.*' does not "
                       "exist"):
        read_forget_file(str(tmp_path / 'missing.tsv'), small_kg)


def test_check_forget_request(small_kg):
    train = small_kg.train
    rows = to_triples(train)[:3]
    check_forget_request(train, triples=rows)
    check_forget_request(train, entities=[int(rows[0, 0])],
                         relations=[int(rows[0, 1])])
    have = {tuple(t) for t in to_triples(train).tolist()}
    absent = next((0, r, t) for r in range(small_kg.num_relations)
                  for t in range(1, small_kg.num_entities)
                  if (0, r, t) not in have)
    bad = torch.cat([rows, torch.tensor([absent])])
    with pytest.raises(UserInputError, match=r'1 triple\(s\) to forget are '
                       r'not in the training graph, e\.g\. \(e0, '):
        check_forget_request(train, triples=bad, dataset=small_kg)
    with pytest.raises(UserInputError, match=r'e\.g\. \(0, '):
        check_forget_request(train, triples=bad)
    # An entity without training triples has nothing to forget.
    e = int(train.edge_index[0, 0])
    keep = (train.edge_index[0] != e) & (train.edge_index[1] != e)
    graph = train.clone()
    graph.edge_index = train.edge_index[:, keep]
    graph.edge_type = train.edge_type[keep]
    with pytest.raises(UserInputError, match=f'1 entities with no triple in '
                       f'the training graph .nothing to forget.: e{e}$'):
        check_forget_request(graph, entities=[e, int(rows[1, 2])],
                             dataset=small_kg)
    with pytest.raises(UserInputError, match='entities out of range'):
        check_forget_request(train, entities=[small_kg.num_entities])
    empty = train.clone()
    empty.edge_index = train.edge_index[:, train.edge_type != 0]
    empty.edge_type = train.edge_type[train.edge_type != 0]
    with pytest.raises(UserInputError, match='1 relations with no triple in '
                       'the training graph'):
        check_forget_request(empty, relations=[0, 1], dataset=small_kg)


def test_read_forget_file_utf8_bom_is_dropped(small_kg, tmp_path):
    rows = to_triples(small_kg.train)[[0, 5]]
    names = small_kg.decode(rows)
    path = tmp_path / 'bom.tsv'
    path.write_bytes(b'\xef\xbb\xbf' + ''.join(
        '\t'.join(n) + '\n' for n in names).encode())
    triples, dup = read_forget_file(str(path), small_kg)
    assert torch.equal(triples, rows) and dup == 0


@pytest.mark.parametrize('content,message', [
    (b'e0\tbase0\te1\ne1\tbase0\te\xff2\n', r"f\.tsv, line 2: not UTF-8 "
     r'text \(byte 0xff at byte 11 of the line'),
    (b'\xe9t\xe9\tbase0\te1\n', r"f\.tsv, line 1: not UTF-8 text \(byte "
     r'0xe9 at byte 1 of the line'),
    (b'\xff\xfee\x000\x00', r'f\.tsv, line 1: the file is UTF-16 text'),
])
def test_read_forget_file_undecodable(small_kg, tmp_path, content, message):
    path = tmp_path / 'f.tsv'
    path.write_bytes(content)
    with pytest.raises(UserInputError, match=message):
        read_forget_file(str(path), small_kg)
