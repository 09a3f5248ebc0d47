import dataclasses

import numpy as np

from yinji.linkage.blocking import (
    block_cap,
    blocking_tokens,
    candidate_pairs,
    join_pieces,
    refine_partners,
)
from yinji.linkage.encoding import ClkEncoder
from yinji.linkage.schemas import FEBRL, PERSON


def oracle(ta, tb, cap):
    """Pairs of a within-cap block (no refinement: no pass has a partner)."""
    return refined_oracle(ta, tb, cap, [-1] * ta.shape[1])


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


def refined_oracle(ta, tb, cap, partners):
    """Pairs of a within-cap block, or of an over-cap block that also agree on the partner
    pass's (nonzero) token and whose block of such (token, partner token) is within cap."""
    pairs = set()
    for p in range(ta.shape[1]):
        r = partners[p]
        for t in set(ta[:, p].tolist()) - {0}:
            ia = np.flatnonzero(ta[:, p] == t)
            ib = np.flatnonzero(tb[:, p] == t)
            if 0 < len(ia) * len(ib) <= cap:
                pairs |= {(i, j) for i in ia.tolist() for j in ib.tolist()}
            elif len(ia) * len(ib) > cap and r >= 0:
                for s in set(ta[ia, r].tolist()) - {0}:
                    ja, jb = ia[ta[ia, r] == s], ib[tb[ib, r] == s]
                    if 0 < len(ja) * len(jb) <= cap:
                        pairs |= {(i, j) for i in ja.tolist() for j in jb.tolist()}
    return pairs


def test_refined_candidates_equal_brute_force(rng):
    ta = rng.integers(0, 8, size=(300, 3)).astype(np.uint64)
    tb = rng.integers(0, 8, size=(250, 3)).astype(np.uint64)
    partners = [2, 2, 0]
    for cap in (10**6, 400, 60, 3, 1):
        ia, ib = candidate_pairs(ta, tb, cap, partners)
        got = set(zip(ia.tolist(), ib.tolist(), strict=True))
        want = refined_oracle(ta, tb, cap, partners)
        assert got == want and len(got) == len(ia)
        if cap < 10**6:   # refinement adds pairs that dropping the block would lose
            assert want > oracle(ta, tb, cap)


def test_pieces_are_bounded_even_inside_one_block():
    rng = np.random.default_rng(3)
    ta = rng.integers(1, 4, size=500).astype(np.uint64)   # blocks of ~170 x ~130 pairs
    tb = rng.integers(1, 4, size=400).astype(np.uint64)
    ia, ib = np.arange(500), np.arange(400)
    whole = set(zip(*(x.tolist() for x in next(join_pieces(ia, ta, ib, tb, 10**9))),
                    strict=True))
    got = []
    for pa, pb in join_pieces(ia, ta, ib, tb, 10**9, piece=1000):
        assert len(pa) == len(pb) <= 1000
        got += list(zip(pa.tolist(), pb.tolist(), strict=True))
    assert len(got) == len(set(got)) and set(got) == whole
    assert len(whole) == sum(int((ta == t).sum() * (tb == t).sum()) for t in (1, 2, 3))


def test_block_cap_is_the_schema_cap_for_small_files_and_shrinks_beyond():
    assert block_cap(PERSON, 1000, 100_000) == PERSON.max_block_pairs
    caps = [block_cap(PERSON, n, n) for n in (100_000, 100_001, 10**6, 10**8)]
    assert caps == [PERSON.max_block_pairs] + [PERSON.min_block_pairs] * 3
    assert block_cap(FEBRL, 10**8, 0) == FEBRL.min_block_pairs


def test_refine_partners_split_by_birth_date_then_initials():
    parts = refine_partners(PERSON)
    cols = ["lsh"] * PERSON.lsh_tables + list(PERSON.blocking[1:])
    assert len(parts) == len(cols)
    assert [cols[p] for p in parts] == ["dob"] * PERSON.lsh_tables + [
        "dob", "initials+year", "dob", "dob"]
    assert refine_partners(dataclasses.replace(PERSON, refine_by=())) == [-1] * len(cols)
