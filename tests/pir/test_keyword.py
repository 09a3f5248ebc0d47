import numpy as np
import pytest

from yinji.pir import oprf
from yinji.pir.keyword import DuplicateKey, KeywordDatabase, as_key, open_bucket
from yinji.pir.lwe import SimplePirClient


def lookup(db: KeywordDatabase, version, keys):
    """Client side without a network: OPRF, PIR query, decrypt."""
    state, blinded = oprf.blind([as_key(k) for k in keys])
    tokens = oprf.finalize(state, db.oprf.evaluate("c", blinded))
    client = SimplePirClient(version.params, version.pir.hint)
    qs, q = client.query([version.layout.bucket_of(t) for t in tokens])
    cols = client.recover(qs, version.pir.answer(q))
    return [open_bucket(cols[:, i], t, version.version, version.layout)
            for i, t in enumerate(tokens)]


def test_present_and_absent():
    recs = [(f"id{i}", f"tag{i}".encode()) for i in range(3000)]
    db = KeywordDatabase(recs, label_size=16)
    v = db.build()
    assert lookup(db, v, [b"id0", b"id2999", b"id3000", b"", b"id17"]) == [
        b"tag0", b"tag2999", None, None, b"tag17"]


def test_duplicate_keys_rejected():
    with pytest.raises(DuplicateKey, match="duplicate"):
        KeywordDatabase([("a", b"1"), ("b", b"2"), ("a", b"3")])
    db = KeywordDatabase([("a", b"1")])
    with pytest.raises(DuplicateKey):
        db.add([("a", b"9")])
    with pytest.raises(DuplicateKey):  # str and its UTF-8 bytes are the same key
        db.add([(b"a", b"9")])
    assert len(db) == 1


def test_max_size_and_empty_labels():
    big = bytes(range(256)) * 2
    db = KeywordDatabase([("big", big), ("empty", b"")], label_size=len(big))
    v = db.build()
    assert lookup(db, v, ["big", "empty", "none"]) == [big, b"", None]
    with pytest.raises(ValueError, match="exceeds"):
        db.add([("bigger", big + b"!")])


def test_empty_database():
    db = KeywordDatabase([], label_size=8)
    v = db.build()
    assert v.records == 0 and v.layout.buckets == 1
    assert lookup(db, v, ["anything", "else"]) == [None, None]


def test_remove_and_add_publish_new_versions():
    db = KeywordDatabase([("a", b"1"), ("b", b"2")], label_size=4)
    v1 = db.build()
    db.remove(["a"])
    db.add([("c", b"3")])
    v2 = db.build()
    assert v1.version != v2.version
    assert lookup(db, v1, ["a", "c"]) == [b"1", None]  # old versions are immutable
    assert lookup(db, v2, ["a", "b", "c"]) == [None, b"2", b"3"]
    with pytest.raises(KeyError):
        db.remove(["zzz"])


def test_unused_slots_look_like_ciphertexts():
    db = KeywordDatabase([("a", b"1")], label_size=16, buckets=4)
    v = db.build()
    assert v.layout.buckets == 4
    # A bucket without records is random bytes, not zeros.
    cols = np.arange(4)
    client = SimplePirClient(v.params, v.pir.hint)
    qs, q = client.query(list(cols))
    raw = client.recover(qs, v.pir.answer(q))
    assert all(len(set(raw[:, j].tolist())) > 4 for j in cols)
