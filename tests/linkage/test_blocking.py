import numpy as np

from yinji.linkage.blocking import blocking_tokens, candidate_pairs
from yinji.linkage.encoding import ClkEncoder
from yinji.linkage.schemas import PERSON


def oracle(ta, tb, cap):
    pairs = set()
    for p in range(ta.shape[1]):
        for t in set(ta[:, p].tolist()) - {0}:
            ia = np.flatnonzero(ta[:, p] == t)
            ib = np.flatnonzero(tb[:, p] == t)
            if 0 < len(ia) * len(ib) <= cap:
                pairs |= {(i, j) for i in ia.tolist() for j in ib.tolist()}
    return pairs


def test_candidates_equal_brute_force(rng):
    ta = rng.integers(0, 30, size=(200, 3)).astype(np.uint64)
    tb = rng.integers(0, 30, size=(150, 3)).astype(np.uint64)
    for cap in (10**6, 40):
        ia, ib = candidate_pairs(ta, tb, cap)
        got = set(zip(ia.tolist(), ib.tolist(), strict=True))
        assert got == oracle(ta, tb, cap) and len(got) == len(ia)


def test_empty_inputs():
    ia, ib = candidate_pairs(np.zeros((0, 2), np.uint64), np.ones((5, 2), np.uint64))
    assert len(ia) == len(ib) == 0


def test_blocking_needs_far_fewer_pairs_than_all(key, zh_small):
    enc = ClkEncoder(PERSON, key)
    ta = blocking_tokens(zh_small.a, enc.bits(zh_small.a), PERSON, key)
    tb = blocking_tokens(zh_small.b, enc.bits(zh_small.b), PERSON, key)
    ia, ib = candidate_pairs(ta, tb, PERSON.max_block_pairs)
    ida = {r["id"]: i for i, r in enumerate(zh_small.a)}
    idb = {r["id"]: i for i, r in enumerate(zh_small.b)}
    cand = set(zip(ia.tolist(), ib.tolist(), strict=True))
    found = sum((ida[x], idb[y]) in cand for x, y in zh_small.links)
    assert found >= 0.98 * len(zh_small.links)
    assert len(cand) < 0.25 * len(zh_small.a) * len(zh_small.b)


def test_tokens_are_keyed(key, zh_small):
    enc = ClkEncoder(PERSON, key)
    rec = zh_small.a[:20]
    t1 = blocking_tokens(rec, enc.bits(rec), PERSON, key)
    t2 = blocking_tokens(rec, enc.bits(rec), PERSON, bytes(32))
    assert not np.isin(t1[t1 != 0], t2).any()
