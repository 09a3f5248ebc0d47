"""Boolean sharing, conversions, comparisons, selection, max/argmax against NumPy."""

import numpy as np
import pytest

from yinji.mpc import SharedTensor, where
from yinji.mpc import boolean as bl
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
