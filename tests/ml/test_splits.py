"""XGBoost split search against a brute-force loop over every (feature, bin)."""

import numpy as np

from yinji.ml.splits import best_split


def brute(gl, hl, g, h, lam, mcw):
    best = (0, 0, -np.inf)
    for j in range(gl.shape[0]):
        for b in range(gl.shape[1]):
            gr, hr = g - gl[j, b], h - hl[j, b]
            if hl[j, b] < mcw or hr < mcw:
                continue
            gain = gl[j, b] ** 2 / (hl[j, b] + lam) + gr**2 / (hr + lam) - g**2 / (h + lam)
            if gain > best[2]:
                best = (j, b, gain)
    return best


def test_matches_brute_force_on_random_histograms():
    rng = np.random.default_rng(3)
    for _ in range(50):
        d, nb = rng.integers(1, 5), rng.integers(1, 17)
        g_rows, h_rows = rng.normal(size=(d, nb, 40)), rng.uniform(0, 0.25, (d, nb, 40))
        gl, hl = g_rows.sum(2).cumsum(1), h_rows.sum(2).cumsum(1)
        g, h = gl[0, -1], hl[0, -1]
        j, b, gain = best_split(gl, hl, g, h, 1.0, 1.0)
        want = brute(gl, hl, g, h, 1.0, 1.0)
        assert (j, b) == want[:2] or np.isclose(gain, want[2])
        assert np.isclose(gain, want[2]) or gain == want[2] == -np.inf


def test_no_admissible_split_gives_minus_infinity():
    gl, hl = np.array([[1.0, 2.0]]), np.array([[0.1, 0.2]])
    assert best_split(gl, hl, 2.0, 0.2, 1.0, min_child_weight=1.0)[2] == -np.inf
