"""Sigmoid, reciprocal, division, inverse square root, shuffle, and random mixed programs."""

import numpy as np
import pytest

from yinji.mpc import SharedTensor, where
from yinji.mpc import nonlinear as nl
from yinji.mpc.ring import decode, encode
from yinji.testing.mpc import run_mpc

ULP = 2.0**-16


def fx(v):
    return decode(encode(v))


def sig(v):
    return 1.0 / (1.0 + np.exp(-np.clip(v, -700, 700)))


def test_sigmoid_approximation_bound_on_dense_grid():
    """The documented bound SIGMOID_APPROX_ERROR holds for the plaintext piecewise cubic."""
    table = nl._sigmoid_table() / 2.0**nl.SIGMOID_COEF_BITS
    a = np.linspace(0, 40, 400001)
    seg = np.searchsorted(nl.SIGMOID_BREAKS[1:], a, side="right")
    approx = sum(table[seg, j] * a**j for j in range(nl.SIGMOID_DEGREE + 1))
    assert np.max(np.abs(approx - sig(a))) <= nl.SIGMOID_APPROX_ERROR


def test_sigmoid_against_numpy(rng):
    xv = np.concatenate([rng.normal(0, 4, 5000), np.linspace(-20, 20, 801),
                         [0.0, -0.0, 1e6, -1e6, 16.0, -16.0, 11.0, 2.0**-16]])

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
        return x.sigmoid().reveal()

    out = run_mpc(prog)[0]
    assert np.max(np.abs(out - sig(fx(xv)))) <= nl.SIGMOID_APPROX_ERROR + 8 * ULP
    assert out[-8] == pytest.approx(0.5, abs=1e-4) and out[-6] == 1.0 and out[-5] == 0.0


def test_reciprocal_and_division(rng):
    den = np.concatenate([rng.uniform(0.01, 1e5, 2000) * rng.choice([-1, 1], 2000),
                          [1.0, -1.0, 0.5, 3.0, 2.0**-10, 6e7]])
    num = rng.normal(0, 100, den.size)

    def prog(s):
        d = SharedTensor.share(s, den if s.rank == 1 else None, 1)
        x = SharedTensor.share(s, num if s.rank == 2 else None, 2)
        return d.reciprocal().reveal(), (x / d).reveal(), (x / 8).reveal(), (x / -0.5).reveal()

    rec, q, by8, byhalf = run_mpc(prog)[0]
    d, x = fx(den), fx(num)
    assert np.all(np.abs(rec - 1 / d) <= 4 * ULP + 2.0**-14 * np.abs(1 / d))
    ok = np.abs(x / d) < 2**19
    assert np.all((np.abs(q - x / d) <= 8 * ULP + 2.0**-13 * np.abs(x / d))[ok])
    assert np.max(np.abs(by8 - x / 8)) <= ULP and np.max(np.abs(byhalf + 2 * x)) <= 2 * ULP


def test_division_by_zero_gives_zero():
    def prog(s):
        d = SharedTensor.share(s, np.zeros(3) if s.rank == 0 else None, 0)
        return d.reciprocal().reveal()

    assert np.array_equal(run_mpc(prog)[0], np.zeros(3))


def test_rsqrt_and_sqrt(rng):
    xv = np.concatenate([rng.uniform(0.001, 1e6, 2000), [1.0, 2.0, 0.5, 4.0, 1e7, 2.0**-16]])

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
        return x.rsqrt().reveal(), x.sqrt().reveal()

    rs, sq = run_mpc(prog)[0]
    v = fx(xv)
    assert np.all(np.abs(rs - 1 / np.sqrt(v)) <= 4 * ULP + 2.0**-12 * (1 / np.sqrt(v)))
    assert np.all(np.abs(sq - np.sqrt(v)) <= 4 * ULP + 2.0**-12 * np.sqrt(v))


@pytest.mark.parametrize("n", [0, 1, 2, 500])
def test_shuffle_is_a_permutation_of_rows(rng, n):
    xv = rng.normal(0, 100, (n, 3))
    xv[:, 0] = np.arange(n)

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
        return x.shuffle().reveal()

    out = run_mpc(prog)
    assert all(np.array_equal(o, out[0]) for o in out)
    order = np.argsort(out[0][:, 0])
    assert np.array_equal(out[0][order], fx(xv))  # rows intact, only their order changes
    if n == 500:
        assert not np.array_equal(out[0][:, 0], np.arange(n))


def test_shuffle_in_column_blocks_keeps_rows_together(rng, monkeypatch):
    """A table larger than one block goes through column by column with ONE permutation."""
    from yinji.mpc import shuffle

    n = 300
    monkeypatch.setattr(shuffle, "CHUNK_BYTES", 8 * n * 2)  # two columns per block
    xv = rng.normal(0, 100, (n, 2, 3))  # three dims: rows of 6 columns, three blocks
    xv[:, 0, 0] = np.arange(n)

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
        return x.shuffle().reveal()

    out = run_mpc(prog)[0]
    assert out.shape == xv.shape
    order = np.argsort(out[:, 0, 0])
    assert np.array_equal(out[order], fx(xv))
    assert not np.array_equal(out[:, 0, 0], np.arange(n))


def test_shuffle_permutation_differs_per_run(rng):
    xv = np.arange(200.0)

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
        return x.shuffle().reveal()

    a, b = run_mpc(prog)[0], run_mpc(prog)[0]
    assert not np.array_equal(a, b)


def test_random_mixed_fixed_point_programs(rng):
    """Programs mixing mul, matmul, compare, select, sigmoid and division agree with NumPy."""
    for _ in range(5):
        a = rng.normal(0, 2, (16, 8))
        w = rng.normal(0, 1, (8, 4))
        b = rng.uniform(0.5, 10, (16, 4))

        def prog(s, a=a, w=w, b=b):
            A = SharedTensor.share(s, a if s.rank == 0 else None, 0)
            W = SharedTensor.share(s, w if s.rank == 1 else None, 1)
            B = SharedTensor.share(s, b if s.rank == 2 else None, 2)
            z = A @ W
            h = where(z > 0, z * B, z * 0.5)
            p = (h / B).sigmoid()
            return (p * p + z).reveal()

        got = run_mpc(prog)[0]
        z = fx(a) @ fx(w)
        h = np.where(z > 0, z * fx(b), z * 0.5)
        want = sig(h / fx(b)) ** 2 + z
        assert np.max(np.abs(got - want)) < 2e-3
