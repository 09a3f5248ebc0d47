"""Boolean sharing, conversions, comparisons, selection, max/argmax against NumPy."""

import numpy as np
import pytest

from yinji.mpc import SharedTensor, where
from yinji.mpc import boolean as bl
from yinji.mpc import compare as cmp
from yinji.mpc import replicated as rep
from yinji.mpc.ring import decode, encode
from yinji.testing.mpc import run_mpc


def fx(v):
    return decode(encode(v))


def edge_values(rng, n):
    v = rng.normal(0, 1000, n)
    edges = [0.0, -2.0**-16, 2.0**-16, 1.0, -1.0, 2.0**40, -(2.0**40), 2.0**45 - 1]
    v[: min(n, 8)] = edges[: min(n, 8)]
    return v


def test_xor_and_on_packed_words(rng):
    a = rng.integers(0, 2**63, 1000, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, 1000, dtype=np.uint64)

    def prog(s):
        x = bl.share_xor(s, a if s.rank == 0 else None, 0)
        y = bl.share_xor(s, b if s.rank == 2 else None, 2)
        return bl.reveal_xor(s, bl.and_(s, x, y)), bl.reveal_xor(s, bl.xor(x, y))

    for a_and_b, a_xor_b in run_mpc(prog):
        assert np.array_equal(a_and_b, a & b) and np.array_equal(a_xor_b, a ^ b)


def test_a2b_b2a_msb_roundtrip(rng):
    v = rng.integers(0, 2**64 - 1, 5000, dtype=np.uint64)
    v[:3] = [0, 2**63, 2**64 - 1]

    def prog(s):
        x = rep.share(s, v if s.rank == 1 else None, 1)
        b = bl.a2b(s, x)
        return (bl.reveal_xor(s, b), rep.reveal(s, bl.b2a(s, b)),
                bl.reveal_xor(s, bl.msb(s, x)), rep.reveal(s, bl.bit2a(s, bl.msb(s, x))))

    for as_bool, back, top, top_arith in run_mpc(prog):
        assert np.array_equal(as_bool, v) and np.array_equal(back, v)
        assert np.array_equal(top, v >> np.uint64(63)) and np.array_equal(top_arith, top)


@pytest.mark.parametrize("n", [0, 1, 1000])
def test_comparisons_against_numpy(rng, n):
    xv, yv = edge_values(rng, n), edge_values(rng, n)
    if n:
        yv[: n // 4] = xv[: n // 4]  # ties

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
        y = SharedTensor.share(s, yv if s.rank == 1 else None, 1)
        return [o.reveal() for o in (x < y, x <= y, x > y, x >= y, x.eq(y), x.ne(y),
                                     x < 3.5, x >= -1, x.sign_bit())]

    got = run_mpc(prog)[0]
    a, b = fx(xv), fx(yv)
    want = [a < b, a <= b, a > b, a >= b, a == b, a != b, a < 3.5, a >= -1, a < 0]
    for g, w in zip(got, want, strict=True):
        assert g.dtype == np.int64 and np.array_equal(g, w.astype(np.int64))


def test_where_relu_abs_min(rng):
    xv, yv = edge_values(rng, 2000), rng.normal(0, 10, 2000)

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
        y = SharedTensor.share(s, yv if s.rank == 2 else None, 2)
        c = x > y
        return (where(c, x, y).reveal(), where(c, 1.0, -2.0).reveal(), x.relu().reveal(),
                x.abs().reveal(), where(x < 0, 0, x).reveal())

    sel, const, relu, ab, clip = run_mpc(prog)[1]
    a, b = fx(xv), fx(yv)
    assert np.array_equal(sel, np.where(a > b, a, b))
    assert np.array_equal(const, np.where(a > b, 1.0, -2.0))
    assert np.array_equal(relu, np.maximum(a, 0))
    assert np.array_equal(ab, np.abs(a))
    assert np.array_equal(clip, np.maximum(a, 0))


def test_where_needs_a_comparison_result(rng):
    def prog(s):
        x = SharedTensor.share(s, np.ones(3) if s.rank == 0 else None, 0)
        with pytest.raises(ValueError, match="0/1 integer condition"):
            where(x, x, x)
        with pytest.raises(TypeError, match="no public truth value"):
            bool(x < x)
        return True

    assert all(run_mpc(prog))


@pytest.mark.parametrize("shape,axis", [((7,), -1), ((5, 9), 1), ((8, 3), 0), ((4, 1), 1),
                                        ((3, 16), 1)])
def test_max_argmax(rng, shape, axis):
    xv = rng.normal(0, 50, shape)
    if shape == (3, 16):
        xv[0, :] = 1.0  # all ties: first index wins
        xv[1, 5] = xv[1, 11] = 1e4

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
        m, i = x.max_argmax(axis)
        return m.reveal(), i.reveal(), x.min(axis).reveal()

    m, i, mn = run_mpc(prog)[0]
    assert np.array_equal(m, fx(xv).max(axis=axis))
    assert np.array_equal(i, fx(xv).argmax(axis=axis))
    assert np.array_equal(mn, fx(xv).min(axis=axis))


def test_comparison_round_count_is_pinned():
    def prog(s):
        x = SharedTensor.share(s, np.arange(10.0) if s.rank == 0 else None, 0)
        r = s.rounds
        _ = x < 3
        return s.rounds - r

    assert run_mpc(prog) == [10, 10, 10]


# ----------------------------------------------------------------- msb by the folded carry tree
I64 = np.iinfo(np.int64)
EDGES = [0, -1, 1, 2**62, -(2**62), 2**62 - 1, -(2**62) + 1, I64.min, I64.max, I64.min + 1,
         I64.max - 1, 2**32, -(2**32), 2**63 - 2**32]


def ring_values(rng, n, lo=I64.min, hi=I64.max, edges=EDGES):
    v = rng.integers(lo, hi, n, dtype=np.int64, endpoint=True)
    edges = [e for e in edges if lo <= e <= hi]
    v[: min(n, len(edges))] = edges[: min(n, len(edges))]
    return v


def fold(w, level, shifted=False):
    """The fold of level `level` on plaintext words: the bits under FOLD_MASKS[level] of the
    first half stay, the second half's move 2^level bits down (optionally of w << 2^level)."""
    k = np.uint64(1 << level)
    mask = bl.FOLD_MASKS[level]
    h = len(w) // 2
    a, b = (w[:h] << k, w[h:] << k) if shifted else (w[:h], w[h:])
    want = (a & mask) | ((b & mask) >> k)
    assert np.array_equal(bl._fold(w, mask, 1 << level)[shifted], want)
    return want


def plain_carry_tree(a, b):
    """msb(a + b) by the same folded tree as bl.msb, on plaintext words (len(a) % 64 == 0)."""
    g, p = (a & b) << np.uint64(1), (a ^ b) << np.uint64(1)
    for level in range(6):
        g, p = fold(g, level) ^ (fold(p, level) & fold(g, level, True)), \
            fold(p, level) & fold(p, level, True)
    return ((a ^ b) >> np.uint64(63)) ^ bl._unfold(g)


def test_fold_bookkeeping_in_plaintext(rng):
    m = 128  # two words after six folds
    for e in range(m):  # element e alone, all bits set: it ends in bit SLOTS[e // 2] of word e % 2
        w = np.zeros(m, np.uint64)
        w[e] = bl.ALL
        for level in range(6):
            w = fold(w, level)
        want = np.zeros(2, np.uint64)
        want[e % 2] = np.uint64(1) << bl.SLOTS[e // 2]
        assert np.array_equal(w, want), e
        assert np.array_equal(bl._unfold(w), (np.arange(m) == e).astype(np.uint64))
    assert sorted(bl.SLOTS.tolist()) == list(range(64))
    a = rng.integers(0, 2**64 - 1, 64 * 50, dtype=np.uint64, endpoint=True)
    b = rng.integers(0, 2**64 - 1, 64 * 50, dtype=np.uint64, endpoint=True)
    a[:8] = [0, 2**64 - 1, 2**63, 2**63 - 1, 1, 2**63, 2**64 - 1, 0]
    b[:8] = [0, 1, 2**63, 1, 2**63 - 1, 2**64 - 1, 2**64 - 1, 2**63]
    assert np.array_equal(plain_carry_tree(a, b), (a + b) >> np.uint64(63))


@pytest.mark.parametrize("n", [0, 1, 31, 32, 33, 64, 65, 100003])
def test_msb_ltz_lt_relu_against_numpy(rng, n):
    xv = ring_values(rng, n)
    half = 2**62  # lt(x, y) = msb(x - y) is x < y while |x - y| < 2^63
    av, bv = ring_values(rng, n, -half, half - 1), ring_values(rng, n, -half, half - 1)
    if n > 20:
        bv[20: n // 2] = av[20: n // 2]  # ties

    def prog(s):
        x, a, b = (rep.share(s, v.view(np.uint64) if s.rank == r else None, r)
                   for r, v in ((0, xv), (1, av), (2, bv)))
        ltz = cmp.ltz(s, x)
        relu = rep.mul(s, x, cmp.one_minus(s, ltz))
        return (bl.reveal_xor(s, bl.msb(s, x)), rep.reveal(s, ltz),
                rep.reveal(s, cmp.lt(s, a, b)), rep.reveal(s, relu))

    msb, ltz, lt, relu = run_mpc(prog)[2]
    neg = (xv < 0).astype(np.uint64)
    assert np.array_equal(msb, neg) and np.array_equal(ltz, neg)
    assert np.array_equal(lt, (av < bv).astype(np.uint64))
    assert np.array_equal(relu.view(np.int64), np.maximum(xv, 0))


def test_msb_keeps_shapes_and_streams(rng, monkeypatch):
    monkeypatch.setattr(rep, "PIPELINE", 100)  # every AND of the tree's first levels in chunks
    xv = ring_values(rng, 3 * 5 * 67).reshape(3, 5, 67)

    def prog(s):
        x = rep.share(s, xv.view(np.uint64) if s.rank == 1 else None, 1)
        empty = bl.msb(s, (x[0][:, :0], x[1][:, :0]))
        r, msgs = s.rounds, s.party.stats().messages_sent
        out = bl.msb(s, x)
        return bl.reveal_xor(s, out), s.rounds - r, s.party.stats().messages_sent - msgs, empty

    for out, rounds, msgs, empty in run_mpc(prog):
        assert np.array_equal(out, (xv < 0).astype(np.uint64)) and rounds == 8 + 1
        assert msgs > 7 * 3  # level 1 alone: 2 * 512 words in chunks of 100
        assert empty[0].shape == empty[1].shape == (3, 0, 67)


def test_msb_and_comparison_bytes_are_pinned():
    """Exact bytes per party for n = 1000 elements, padded to m = 1024 (64 per tree word).
    Every message carries a 16-byte header in the memory transport."""
    n, m, head = 1000, 1024, 16
    # input x0 + x1 (party 0, two messages); g = a & b on n words; level L = 1..5: two ANDs
    # on the m / 2^L folded words; level 6: one AND on m / 64 words. 8 bytes per word per party.
    tree = 8 * n + 8 * sum(2 * m >> level for level in range(1, 6)) + 8 * m // 64
    msb = [16 * n + tree + 9 * head, tree + 7 * head, tree + 7 * head]
    bit2a = [16 * n + 8 * n + 3 * head, 8 * n + head, 8 * n + head]  # input t, one product
    a2b = [16 * n + 8 * n * 12 + 9 * head, 8 * n * 12 + 7 * head, 8 * n * 12 + 7 * head]

    def prog(s):
        x = SharedTensor.share(s, np.arange(n) - 500.0 if s.rank == 0 else None, 0)
        got = []
        for op in (lambda: bl.msb(s, x.shares), lambda: x < 3, lambda: bl.a2b(s, x.shares)):
            r, b = s.rounds, s.party.stats().bytes_sent
            op()
            got.append((s.rounds - r, s.party.stats().bytes_sent - b))
        return got

    for rank, got in enumerate(run_mpc(prog)):
        assert got == [(8, msb[rank]), (10, msb[rank] + bit2a[rank]), (8, a2b[rank])]
    assert sum(msb) - 23 * head == 40 * n + 46.875 * m  # 86.875 bytes per element if 64 | n
    assert sum(a2b) - 23 * head == 304 * n
