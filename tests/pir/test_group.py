import pytest

from yinji.crypto import group


def test_hash_to_group_is_deterministic_and_domain_separated():
    a = group.hash_to_group([b"x", b"y"], b"d1")
    assert a == group.hash_to_group([b"x", b"y"], b"d1")
    assert a != group.hash_to_group([b"x", b"y"], b"d2")
    assert all(group.is_valid_point(p) for p in a)


def test_blind_unblind_roundtrip():
    pts = group.hash_to_group([b"a", b"b", b"c"], b"t")
    rs = [group.random_scalar() for _ in pts]
    blinded = group.scalar_mults(rs, pts)
    assert blinded != pts
    back = group.scalar_mults([group.scalar_inverse(r) for r in rs], blinded)
    assert back == pts


def test_parallel_path_matches_serial(monkeypatch):
    items = [i.to_bytes(4, "big") for i in range(300)]
    k = group.random_scalar()
    serial = group.hash_and_mult(k, items, b"t", workers=1)
    monkeypatch.setattr(group, "PARALLEL_THRESHOLD", 10)
    assert group.hash_and_mult(k, items, b"t", workers=2) == serial
    assert group.scalar_mult(k, group.hash_to_group(items, b"t", workers=2), workers=2) == serial


def test_invalid_point_rejected():
    with pytest.raises(group.InvalidPoint):
        group.scalar_mult(group.random_scalar(), [b"\xff" * 32])
    assert not group.is_valid_point(b"\xff" * 32)
