import numpy as np
import pytest

from yinji.apps.risk_rules import (
    MAX_AMOUNT_FEN,
    Thresholds,
    flags,
    layout,
    packed,
    plain_counts,
    plain_flags,
    rule_counts,
    unpack,
)
from yinji.mpc import SharedTensor
from yinji.testing.mpc import run_mpc

K = 4


def in_mpc(x: np.ndarray, t: Thresholds, k: int = K):
    """(bits, counts) opened from the MPC rules on per-client figures x."""
    def prog(s):
        xs = SharedTensor.share(s, x if s.rank == 0 else None, 0, frac_bits=0,
                                shape=x.shape)
        bits = flags(xs, k, t)
        codes = packed(bits).reveal()
        np.testing.assert_array_equal(unpack(codes), bits.reveal())
        return bits.reveal(), rule_counts(bits).reveal()

    return run_mpc(prog)[0]


def random_clients(rng, n, k=K, scale=10**9):
    """Figures of n clients: each held by 1..k companies, some zeros."""
    present = rng.random((n, k)) < 0.5
    present[np.arange(n), rng.integers(0, k, n)] = True
    exposure = rng.integers(0, scale, (n, k)) * present * (rng.random((n, k)) < 0.7)
    assets = rng.integers(0, scale, (n, k)).sum(axis=1) * (rng.random(n) < 0.95)
    prior = (assets * rng.uniform(0.5, 2.5, n)).astype(np.int64) * (rng.random(n) < 0.9)
    return np.column_stack([assets, prior, exposure]).astype(np.int64)


def test_layout_names_every_column():
    assert layout(2) == ["assets", "prior_assets", "exposure_0", "exposure_1"]


@pytest.mark.parametrize("seed", [1, 2])
def test_rules_match_plaintext_on_random_clients(seed):
    rng = np.random.default_rng(seed)
    x = random_clients(rng, 400)
    t = Thresholds(leverage=800, concentration=900, concentration_min=10**6, drop=300,
                   min_assets=10**7)
    truth = plain_flags(x, K, t)
    assert truth.sum(axis=0).min() > 5   # every rule fires on some clients
    assert (truth.sum(axis=0) < len(x)).all()
    bits, counts = in_mpc(x, t)
    np.testing.assert_array_equal(bits, truth)
    np.testing.assert_array_equal(counts, plain_counts(truth))


def test_edges_exactly_at_thresholds_and_degenerate_clients():
    t = Thresholds(leverage=800, concentration=900, concentration_min=1000, drop=300,
                   min_assets=1000)
    rows = [
        # assets, prior, e0..e3
        [0, 0, 0, 0, 0, 0],             # nothing at all: no flag
        [0, 0, 5, 0, 0, 0],             # exposure, zero assets: LEV (and CONC no: E < min)
        [1000, 1000, 800, 0, 0, 0],     # exactly 0.8: not LEV; CONC 100 % of 800 < min
        [1000, 1000, 801, 0, 0, 0],     # above 0.8: LEV
        [10**6, 10**6, 900, 100, 0, 0], # exactly 90 %: not CONC
        [10**6, 10**6, 901, 99, 0, 0],  # 90.1 %: CONC
        [700, 1000, 0, 0, 0, 0],        # exactly 30 % drop: not DROP
        [699, 1000, 0, 0, 0, 0],        # 30.1 % drop: DROP
        [0, 999, 0, 0, 0, 0],           # prior below min_assets: no DROP
        [5, 1000, 0, 0, 0, 0],          # DROP
        [2000, 1000, 0, 0, 0, 0],       # assets rose: nothing
    ]
    x = np.array(rows, dtype=np.int64)
    expected = [[0, 0, 0], [1, 0, 0], [0, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 0],
                [0, 0, 0], [0, 0, 1], [0, 0, 0], [0, 0, 1], [0, 0, 0]]
    np.testing.assert_array_equal(plain_flags(x, K, t), expected)
    bits, counts = in_mpc(x, t)
    np.testing.assert_array_equal(bits, expected)
    np.testing.assert_array_equal(counts, plain_counts(np.array(expected)))


def test_huge_values_compare_exactly():
    """Amounts at the top of the range, one fen apart, with the largest ratios."""
    top = MAX_AMOUNT_FEN
    t = Thresholds(leverage=10_000, concentration=1000, concentration_min=0, drop=0,
                   min_assets=0)
    x = np.array([[top * 4, top * 4, top, top, top, top],          # E = A, no drop
                  [top * 4 - 1, top * 4, top, top, top, top],      # 1 fen drop
                  [0, 0, top, top, top, top]], dtype=np.int64)     # no assets at all
    expected = plain_flags(x, K, t)
    np.testing.assert_array_equal(expected, [[0, 0, 0], [0, 0, 1], [1, 0, 0]])
    np.testing.assert_array_equal(in_mpc(x, t)[0], expected)


def test_one_client_and_one_company():
    x = np.array([[100, 100, 90]], dtype=np.int64)
    t = Thresholds(concentration_min=0)
    bits, counts = in_mpc(x, t, k=1)
    np.testing.assert_array_equal(bits, [[1, 1, 0]])
    np.testing.assert_array_equal(counts, [1, 1, 0, 1])


def test_bad_figures_and_thresholds_refused():
    with pytest.raises(ValueError, match="negative"):
        plain_flags(np.array([[1, -1, 0]]), 1, Thresholds())
    with pytest.raises(ValueError, match="exactly"):
        plain_flags(np.array([[MAX_AMOUNT_FEN + 1, 0, 0]]), 1, Thresholds())
    with pytest.raises(ValueError, match="concentration"):
        Thresholds(concentration=400)
    with pytest.raises(ValueError, match="leverage"):
        Thresholds(leverage=10**6)
