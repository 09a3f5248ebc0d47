"""Sharing, reveal, arithmetic and truncation against NumPy."""

import numpy as np
import pytest

from yinji.mpc import SharedTensor, concatenate, stack
from yinji.mpc import replicated as rep
from yinji.mpc.ring import decode, encode, max_abs
from yinji.testing.mpc import run_mpc

ULP = 2.0**-16


def fx(v):
    """The value after fixed-point encoding (what the protocol actually computes on)."""
    return decode(encode(v))


def share2(s, xv, yv):
    x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
    y = SharedTensor.share(s, yv if s.rank == 1 else None, "P1")
    return x, y


@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (3, 5), (2, 3, 4)])
def test_share_reveal_add_sub_neg(rng, shape):
    xv, yv = rng.normal(0, 1e4, shape), rng.normal(0, 1e4, shape)

    def prog(s):
        x, y = share2(s, xv, yv)
        return [(x + y).reveal(), (x - y).reveal(), (-x).reveal(), (x + 2.5).reveal(),
                (3 - y).reveal()]

    for out in run_mpc(prog):
        assert np.allclose(out[0], fx(xv) + fx(yv), atol=ULP)
        assert np.allclose(out[1], fx(xv) - fx(yv), atol=ULP)
        assert np.allclose(out[2], -fx(xv), atol=ULP)
        assert np.allclose(out[3], fx(xv) + 2.5, atol=ULP)
        assert np.allclose(out[4], 3 - fx(yv), atol=ULP)


@pytest.mark.parametrize("scale", [1e-3, 1.0, 100.0, 3e3])
def test_mul_with_truncation_random_and_negative(rng, scale):
    n = 20000
    xv, yv = rng.normal(0, scale, n), rng.normal(0, scale, n)
    xv[:4] = [0.0, -0.0, -1.5, 2.0**-16]
    yv[:4] = [-7.0, 3.0, -1.5, -2.0**-16]

    def prog(s):
        x, y = share2(s, xv, yv)
        return (x * y).reveal(), (x * -2.25).reveal(), (x * 3).reveal()

    prod, by_float, by_int = run_mpc(prog)[0]
    # truncation is within one unit of the floor, plus the rounding of the exact product
    assert np.max(np.abs(prod - fx(xv) * fx(yv))) <= 2 * ULP
    assert np.max(np.abs(by_float - fx(xv) * -2.25)) <= 2 * ULP
    assert np.array_equal(by_int, fx(xv) * 3)


def test_truncation_near_range_limit_has_no_large_errors(rng):
    # products close to the 2^62 bound of the ring: |x*y| < 2^30 real at f = 16
    n = 50000
    xv = rng.uniform(-2**15, 2**15, n)
    yv = rng.uniform(-2**14.9, 2**14.9, n)

    def prog(s):
        x, y = share2(s, xv, yv)
        return (x * y).reveal()

    out = run_mpc(prog)[0]
    assert np.max(np.abs(out - fx(xv) * fx(yv))) <= 2 * ULP


@pytest.mark.parametrize("frac_bits", [8, 16, 24])
def test_configurable_fraction_bits(rng, frac_bits):
    xv, yv = rng.normal(0, 10, 100), rng.normal(0, 10, 100)

    def prog(s):
        x, y = share2(s, xv, yv)
        return (x * y).reveal()

    out = run_mpc(prog, frac_bits=frac_bits)[0]
    assert np.max(np.abs(out - xv * yv)) < 40 * 2.0**-frac_bits


@pytest.mark.parametrize("shapes", [((4, 6), (6, 3)), ((1, 1), (1, 1)), ((0, 5), (5, 2)),
                                    ((50, 200), (200, 30)), ((5,), (5,))])
def test_matmul_and_dot(rng, shapes):
    xv, yv = rng.normal(0, 3, shapes[0]), rng.normal(0, 3, shapes[1])
    public = rng.normal(0, 1, shapes[1])

    def prog(s):
        x, y = share2(s, xv, yv)
        return (x @ y).reveal(), x.dot(public).reveal()

    out, with_public = run_mpc(prog)[0]
    assert out.shape == np.shape(xv @ yv)
    assert np.allclose(out, fx(xv) @ fx(yv), atol=2 * ULP)
    assert np.allclose(with_public, fx(xv) @ fx(public), atol=2 * ULP)


def test_sum_mean_indexing_and_shapes(rng):
    xv = rng.normal(0, 100, (6, 4))

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 2 else None, 2)
        assert x.shape == (6, 4) and x.ndim == 2 and x.size == 24 and len(x) == 6
        parts = [x.sum().reveal(), x.sum(axis=0).reveal(), x.mean(axis=1).reveal(),
                 x[1:3, ::2].reveal(), x.T.reveal(), x.reshape(3, 8).reveal(),
                 concatenate([x, x[:2]], axis=0).reveal(), stack([x[0], x[1]]).reveal()]
        return parts

    out = run_mpc(prog)[1]
    v = fx(xv)
    assert np.isclose(out[0], v.sum(), atol=1e-6)
    assert np.allclose(out[1], v.sum(axis=0), atol=1e-6)
    assert np.allclose(out[2], v.mean(axis=1), atol=2 * ULP)
    assert np.array_equal(out[3], v[1:3, ::2])
    assert np.array_equal(out[4], v.T)
    assert np.array_equal(out[5], v.reshape(3, 8))
    assert np.array_equal(out[6], np.concatenate([v, v[:2]]))
    assert np.array_equal(out[7], np.stack([v[0], v[1]]))


def test_integers_stay_exact(rng):
    xv = rng.integers(-2**40, 2**40, 1000)
    yv = rng.integers(-2**20, 2**20, 1000)

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0, frac_bits=0)
        y = SharedTensor.share(s, yv if s.rank == 1 else None, 1, frac_bits=0)
        return (x * y).reveal(), (x + y).sum().reveal()

    prod, total = run_mpc(prog)[2]
    assert prod.dtype == np.int64
    assert np.array_equal(prod, xv * yv) and total == (xv + yv).sum()


def test_encode_rejects_out_of_range_and_nan():
    with pytest.raises(ValueError, match="out of fixed-point range"):
        encode(np.array([max_abs(16)]))
    with pytest.raises(ValueError, match="NaN"):
        encode(np.array([np.nan]))


def test_owner_must_supply_value_and_names_must_be_known():
    def prog(s):
        with pytest.raises(ValueError, match="unknown party"):
            SharedTensor.share(s, None, "nobody")
        return True

    assert run_mpc(prog) == [True, True, True]


def test_reveal_to_one_party_sends_one_message_and_nothing_to_others(rng):
    """reveal_to(P) delivers nothing that lets the other two reconstruct the value: only the
    receiver gets a message, and each other party's own view is one uniformly random pair."""
    xv = rng.normal(0, 10, 5000)

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
        before = {p: ch.stats.messages_received for p, ch in s.party.channels.items()}
        out = x.reveal_to("P2")
        after = {p: ch.stats.messages_received for p, ch in s.party.channels.items()}
        got = sum(after[p] - before[p] for p in after)
        return out, got, x.shares

    results = run_mpc(prog)
    assert results[0][0] is None and results[1][0] is None
    assert np.allclose(results[2][0], fx(xv))
    assert [r[1] for r in results] == [0, 0, 1]
    # the non-receivers' own components are uniformly distributed and far from the secret
    for rank in (0, 1):
        a, b = results[rank][2]
        for comp in (a, b):
            assert np.mean(decode(comp) == fx(xv)) < 0.01  # a uniform word hits: 2^-64
            # uniform over 64 bits: the top bit is set about half the time (5000 words: sd
            # 0.0071, 0.05 is 7.1 sd, 1.3e-12 a component, 4 components)
            assert 0.45 < np.mean(comp >> np.uint64(63)) < 0.55


def test_rounds_and_bytes_of_multiplication_are_pinned(rng):
    n = 1000

    def prog(s):
        x = SharedTensor.share(s, np.ones(n) if s.rank == 0 else None, 0)
        y = SharedTensor.share(s, np.ones(n) if s.rank == 0 else None, 0)
        r0, st0 = s.rounds, s.party.stats()
        rep.mul(s, x.shares, y.shares)
        r1, st1 = s.rounds, s.party.stats()
        _ = x * y
        r2, st2 = s.rounds, s.party.stats()
        return (r1 - r0, st1.bytes_sent - st0.bytes_sent, r2 - r1, st2.bytes_sent - st1.bytes_sent)

    res = run_mpc(prog)
    assert all(r[0] == 1 and r[2] == 3 for r in res)
    assert all(8 * n <= r[1] <= 8 * n + 64 for r in res)  # one 8-byte part per element
    total_fixed = sum(r[3] for r in res)
    assert 56 * n <= total_fixed <= 56 * n + 200


@pytest.mark.parametrize("shape", [((3, 4), (4, 2)), ((7, 1100), (1100, 5)), ((0, 3), (3, 2)),
                                   ((2, 0), (0, 3))])
def test_ring_matmul_is_exact_mod_2_64(rng, shape):
    from yinji.mpc.ring import limb_matmul, limbs, ring_matmul

    a = rng.integers(0, 2**64 - 1, shape[0], dtype=np.uint64, endpoint=True)
    b = rng.integers(0, 2**64 - 1, shape[1], dtype=np.uint64, endpoint=True)
    if a.size:
        a.flat[0] = np.uint64(2**64 - 1)
    assert np.array_equal(ring_matmul(a, b), a @ b)
    # converted once, multiplied often (yinji.ml.mpc_boost); transposed limbs are a.T's
    assert np.array_equal(limb_matmul(limbs(a), limbs(b)), a @ b)
    at = np.ascontiguousarray(a.T)
    assert np.array_equal(limb_matmul([x.T for x in limbs(at)], limbs(b)), a @ b)


def test_streamed_chunks_give_the_same_results(rng, monkeypatch):
    """Large arrays are sent in chunks (PIPELINE elements); exercise that path on small data."""
    monkeypatch.setattr(rep, "PIPELINE", 1000)
    xv, yv = rng.normal(0, 30, 3500), rng.normal(0, 30, 3500)

    def prog(s):
        x, y = share2(s, xv, yv)
        before = s.party.stats().messages_sent
        prod = x * y
        sent = s.party.stats().messages_sent - before
        return prod.reveal(), (x < y).reveal(), (x * y.reshape(35, 100).T.reshape(-1)).reveal(), sent

    prod, less, other, sent = run_mpc(prog)[0]
    assert np.max(np.abs(prod - fx(xv) * fx(yv))) <= 2 * ULP
    assert np.array_equal(less, (fx(xv) < fx(yv)).astype(np.int64))
    assert np.max(np.abs(other - fx(xv) * fx(yv).reshape(35, 100).T.reshape(-1))) <= 2 * ULP
    assert sent == 8  # P0: 4 chunks of c0, then 4 chunks of its reshared part


def test_integer_times_real_becomes_fixed_point():
    def prog(s):
        x = SharedTensor.share(s, np.array([3, -5]) if s.rank == 0 else None, 0, frac_bits=0)
        return (x * 2.5).reveal(), (x * 2.5).frac_bits

    out, f = run_mpc(prog)[0]
    assert f == 16 and np.allclose(out, [7.5, -12.5], atol=ULP)


def test_small_public_factors_and_mean_keep_precision(rng):
    xv = rng.normal(100, 30, 10000)

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
        return x.mean().reveal(), (x * 1e-4).reveal(), (x * -3e-3).reveal()

    mean, small, neg = run_mpc(prog)[0]
    assert abs(mean - fx(xv).mean()) < 1e-4
    assert np.max(np.abs(small - fx(xv) * 1e-4)) <= 2 * ULP
    assert np.max(np.abs(neg - fx(xv) * -3e-3)) <= 2 * ULP


def test_public_real_factor_on_large_values(rng):
    xv = np.concatenate([rng.uniform(-2.6e9, 2.6e9, 1000), [0.0, 1.0, -1.0]])

    def prog(s):
        x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
        return (x * 2.0**-12).reveal(), (x * 1e-6).reveal(), (x * 0.75).reveal()

    a, b, c = run_mpc(prog)[0]
    assert np.max(np.abs(a - fx(xv) * 2.0**-12)) <= 4 * ULP
    assert np.max(np.abs(b - fx(xv) * 1e-6)) <= 4 * ULP + 1e-6
    assert np.max(np.abs(c - fx(xv) * 0.75)) <= 2 * ULP


@pytest.mark.parametrize("wrong", [np.zeros(5, np.uint64), np.zeros(1, np.uint64),
                                   np.zeros(3, np.int64)])
def test_a_share_of_the_wrong_shape_is_refused_not_broadcast(wrong):
    """Party 1 sends party 0 a component of the wrong size or dtype while opening a (3,)
    sharing: party 0 refuses it, naming party 1, instead of broadcasting it into the sum."""
    from yinji.net.expect import UnexpectedMessage

    def prog(s):
        x = rep.share(s, np.arange(3, dtype=np.uint64) if s.rank == 0 else None, 0, shape=(3,))
        if s.rank == 1:
            s.send(s.prev, wrong)
            return None
        if s.rank == 0:
            with pytest.raises(UnexpectedMessage, match=r"P1 sent .*expected shares as uint64 \(3,\)"):
                rep.reveal(s, x)
            return True
        return rep.reveal(s, x).tolist()

    assert run_mpc(prog)[0] is True
