"""Model health figures against scikit-learn / scipy on random and edge-case data."""

import datetime as dt

import numpy as np
import pytest
from scipy.stats import ks_2samp
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

from yinji.ml import health
from yinji.ml.metrics import OneClassError
from yinji.ml.splits import parse_dates, split_by_date


def _data(rng, n, ties=False):
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    s = 1 / (1 + np.exp(-(y * 0.8 + rng.normal(size=n))))
    return y, (np.round(s, 1) if ties else s)


@pytest.mark.parametrize("ties", [False, True])
def test_roc_auc_ks_match_sklearn_and_scipy(ties):
    rng = np.random.default_rng(1)
    for n in (2, 3, 57, 1000):
        y, s = _data(rng, n, ties)
        fpr, tpr, thr = health.roc(y, s)
        want = roc_curve(y, s, drop_intermediate=False)
        np.testing.assert_allclose(fpr, want[0])
        np.testing.assert_allclose(tpr, want[1])
        np.testing.assert_allclose(thr[1:], want[2][1:])
        d = health.discrimination(y, s)
        assert d.auc == pytest.approx(roc_auc_score(y, s))
        assert d.gini == pytest.approx(2 * roc_auc_score(y, s) - 1)
        assert d.ks == pytest.approx(ks_2samp(s[y == 1], s[y == 0]).statistic)
        # the threshold attains the KS gap
        flag = s >= d.ks_threshold
        assert abs(flag[y == 1].mean() - flag[y == 0].mean()) == pytest.approx(d.ks)


def test_calibration_matches_sklearn_brier_and_hand_hl():
    rng = np.random.default_rng(2)
    y, p = _data(rng, 2000)
    c = health.calibration(y, p, groups=10)
    assert c.brier == pytest.approx(brier_score_loss(y, p))
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy="quantile")
    np.testing.assert_allclose([r["observed_rate"] for r in c.table], prob_true)
    np.testing.assert_allclose([r["mean_score"] for r in c.table], prob_pred)
    # Hosmer-Lemeshow by hand over deciles
    g = np.searchsorted(np.quantile(p, np.linspace(0, 1, 11)[1:-1]), p, side="left")
    hl = sum((y[g == k].sum() - p[g == k].sum()) ** 2
             / (p[g == k].sum() * (1 - p[g == k].mean())) for k in range(10))
    assert c.hosmer_lemeshow == pytest.approx(hl)
    assert c.hl_dof == 8 and 0 <= c.hl_pvalue <= 1
    # well calibrated by construction: y ~ Bernoulli(p)
    p2 = rng.uniform(0.05, 0.95, 20000)
    y2 = (rng.uniform(size=20000) < p2).astype(int)
    assert health.calibration(y2, p2).hl_pvalue > 0.001
    assert health.calibration(y2, p2 ** 3).hl_pvalue < 1e-6  # miscalibrated


def test_lift_table():
    rng = np.random.default_rng(3)
    y, s = _data(rng, 1003)
    t = health.lift_table(y, s, 10)
    assert sum(r["rows"] for r in t) == 1003 and t[-1]["gains"] == pytest.approx(1.0)
    order = np.argsort(-s, kind="mergesort")
    top = y[order[:t[0]["rows"]]]
    assert t[0]["lift"] == pytest.approx(top.mean() / y.mean())
    assert t[0]["lift"] > 1 > t[-1]["lift"]
    assert all(a["gains"] <= b["gains"] for a, b in zip(t, t[1:], strict=False))
    assert health.lift_table([0, 1], [0.2, 0.9], 2)[0]["lift"] == 2.0
    with pytest.raises(ValueError, match="groups"):
        health.lift_table([0, 1], [0.2, 0.9], 3)


def test_psi_and_csi():
    rng = np.random.default_rng(4)
    e = rng.normal(size=5000)
    assert health.psi(e, e) == pytest.approx(0.0)
    assert health.psi(e, rng.normal(size=5000)) < 0.02
    shifted = health.psi(e, rng.normal(1.0, 1, 5000))
    assert shifted > 0.25
    # by hand: deciles of e, shares of a
    a = rng.normal(0.3, 1.2, 3000)
    edges = np.quantile(e, np.linspace(0, 1, 11)[1:-1])
    pe = np.bincount(np.searchsorted(edges, e), minlength=10) / len(e)
    pa = np.bincount(np.searchsorted(edges, a), minlength=10) / len(a)
    assert health.psi(e, a) == pytest.approx(np.sum((pa - pe) * np.log(pa / pe)))
    # empty bin: smoothed, finite
    assert np.isfinite(health.psi(e, np.full(10, 9.0)))
    # one distinct value: one bin each side, PSI 0
    assert health.psi(np.ones(10), np.ones(4)) == 0.0
    # a stored baseline gives the same PSI without the training rows
    base = health.baseline(e, 10)
    assert len(base["shares"]) == 10 and sum(base["shares"]) == pytest.approx(1.0)
    assert health.psi_from_baseline(base, a) == pytest.approx(health.psi(e, a))
    with pytest.raises(ValueError, match="shares"):
        health.psi_from_baseline({"edges": [0.0], "shares": [1.0]}, a)
    got = health.csi(np.c_[e, e], np.c_[e, rng.normal(1.0, 1, 5000)], names=["a", "b"])
    assert got["a"] == pytest.approx(0.0) and got["b"] > 0.25
    for bad in ([], [np.nan]):
        with pytest.raises(ValueError):
            health.psi(e, bad)


def test_bad_inputs_are_named():
    with pytest.raises(OneClassError):
        health.discrimination([1, 1], [0.1, 0.2])
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        health.roc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="2 labels but 3 scores"):
        health.roc([0, 1], [0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="probabilities"):
        health.calibration([0, 1], [-0.1, 2.0])


def test_split_by_date():
    dates = ["2024-01-31", "2024/2/1", "20240315", "2023.12.01", "2024-02-01T10:00:00",
             dt.date(2024, 3, 1), np.datetime64("2024-01-01")]
    train, test = split_by_date(dates, "2024-02-01")
    assert train.tolist() == [True, False, False, True, False, False, True]
    assert (test == ~train).all()
    d = parse_dates(np.array(["2024-01-01", "2024-06-30"], dtype="datetime64[D]"))
    assert d.dtype == np.dtype("datetime64[D]")
    assert split_by_date(np.array([20240131.0, 20240201.0]), 20240201)[1].tolist() == [False, True]
    with pytest.raises(ValueError, match="row 2: nan is not a date"):
        split_by_date(np.array([20240131.0, np.nan]), "2024-02-01")
    with pytest.raises(ValueError, match="row 2: '2024-13-01' is not a date"):
        split_by_date(["2024-01-01", "2024-13-01"], "2024-02-01")
    with pytest.raises(ValueError, match="row 1: 'soon' is not a date"):
        split_by_date(["soon"], "2024-02-01")
    with pytest.raises(ValueError, match="cutoff"):
        split_by_date(["2024-01-01"], "next week")
    with pytest.raises(ValueError, match="one side would be empty"):
        split_by_date(["2024-01-01", "2024-01-02"], "2025-01-01")
