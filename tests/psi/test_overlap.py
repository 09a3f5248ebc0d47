"""psi.overlap.hidden_groups: grouping against Python sets (random, empty holder, one element,
all shared), what the lookup party and the compute parties receive, and refusals."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from yinji.psi import overlap
from yinji.psi.overlap import OverlapError, hidden_groups
from yinji.testing.parties import looks_uniform, record_received, run_parties

H = ["a", "b", "c", "o"]
C = ["a", "b", "c"]
L = "g"


def run(sets, noise=0, views=None, compute=C):
    def body(party):
        if views is not None:
            views[party.name] = record_received(party)
        if party.name == L:
            return hidden_groups(party, H, compute, L, columns=len(H), noise=noise)
        keys = sets[party.name]
        pay = np.zeros((len(keys), len(H)), np.uint64)
        pay[:, H.index(party.name)] = 1
        return hidden_groups(party, H, compute, L, keys, pay, columns=len(H), noise=noise)
    return dict(zip(H + [L], run_parties(body, names=H + [L]), strict=True))


def venn(out, compute=C):
    g = [out[c] for c in compute]
    total = (g[0].shares[0] + g[1].shares[0] + g[2].shares[0]).sum(axis=1)
    codes = (total * np.array([1, 2, 4, 8], np.uint64)).sum(axis=1).astype(int)
    return Counter(c for c in codes if c)


def plain(sets):
    where: dict[bytes, int] = {}
    for i, h in enumerate(H):
        for x in sets[h]:
            where[x] = where.get(x, 0) | (1 << i)
    return Counter(where.values())


@pytest.mark.parametrize("seed", [0, 1])
def test_random_sets(seed):
    rng = np.random.default_rng(seed)
    u = [f"x{i}".encode() for i in range(200)]
    sets = {h: [x for x in u if rng.random() < 0.5] for h in H}
    out = run(sets, noise=3)
    assert venn(out) == plain(sets)
    assert out[L] is None and out["o"] is None
    assert all(len(out[c].sizes) >= len(plain(sets)) for c in C)


def test_edges():
    one = {h: [b"only"] for h in H}
    assert venn(run(one)) == {15: 1}
    empty = {"a": [b"1", b"2"], "b": [], "c": [b"2"], "o": []}
    assert venn(run(empty)) == {1: 1, 5: 1}
    nothing = dict.fromkeys(H, [])
    out = run(nothing)
    assert venn(out) == {} and out["a"].shares[0].shape == (0, 4, 4)
    # the offshore holder among the compute parties, a holder outside them
    sets = {"a": [b"1"], "b": [b"1", b"3"], "c": [], "o": [b"3", b"1"]}
    out = run(sets, compute=["o", "b", "a"])
    assert venn(out, ["o", "b", "a"]) == {11: 1, 10: 1}


def test_views():
    """The lookup party gets share components (uniform) and nothing from a holder; compute
    parties get uniform components, blinded points, and the grouping from L only."""
    rng = np.random.default_rng(3)
    u = [f"x{i}".encode() for i in range(300)]
    sets = {h: [x for x in u if rng.random() < 0.6] for h in H}
    views = {}
    run(sets, views=views)
    assert {p for p, _ in views[L]} == set(C)
    assert looks_uniform(views[L], min_size=64) == []
    for c in C:
        plain_msgs = [m for p, m in views[c] if p == L]
        assert len(plain_msgs) == 1 and plain_msgs[0].dtype == np.int64
        assert looks_uniform([(p, m) for p, m in views[c] if p != L], min_size=256) == []
    assert {p for p, _ in views["o"]} == {"c"}   # only its OPRF answer


def test_refusals():
    with pytest.raises(OverlapError, match="must hold no rows"):
        run_parties(lambda p: hidden_groups(p, ["a", "b", "g"], C, L, [b"1"],
                                            np.zeros((1, 1), np.uint64), columns=1),
                    names=["a"])
    with pytest.raises(OverlapError, match="distinct"):
        run_parties(lambda p: hidden_groups(p, H, C, L, [b"1", b"1"],
                                            np.zeros((2, 1), np.uint64), columns=1),
                    names=["a"])
    with pytest.raises(OverlapError, match="payload"):
        run_parties(lambda p: hidden_groups(p, H, C, L, [b"1"],
                                            np.zeros((1, 1), np.int64), columns=1),
                    names=["a"])


def test_duplicate_key_detected_by_lookup():
    """A holder that submits one key twice (bypassing the check) is caught: the lookup party
    sees a class larger than the number of holders and every compute party stops."""
    sets = {h: [b"k"] for h in H}
    real = overlap._check

    def lax(party, holders, compute, lookup, keys, payload):
        return None
    overlap._check = lax
    try:
        sets["a"] = [b"k", b"k"]
        with pytest.raises(OverlapError, match="duplicate keys|collision"):
            run(sets)
    finally:
        overlap._check = real


def test_dummy_tags_look_like_real_tags():
    """The lookup party cannot tell dummy classes from real ones by their bits: a ristretto255
    encoding's lowest bit is always 0, and so it is for every opened tag, dummies included."""
    rng = np.random.default_rng(4)
    u = [f"x{i}".encode() for i in range(100)]
    sets = {h: [x for x in u if rng.random() < 0.5] for h in H}
    views = {}
    out = run(sets, noise=30, views=views)
    comps = [m for p, m in views[L] if m.ndim == 2]
    tags = (comps[0] + comps[1] + comps[2])
    assert len(tags) > sum(len(v) for v in sets.values()) + 30  # dummies are in the pool
    assert not (tags[:, 0] & np.uint64(1)).any()
    assert venn(out) == plain(sets)
