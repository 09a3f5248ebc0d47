"""Lead mining with model="secureboost" (boosted trees trained and evaluated in MPC on the
hidden join, yinji.ml.mpc_boost) in-process: scores against the float twin of the same
algorithm on the plaintext join, per-column contributions, edge cases, and the label
holder's view (who is shared must not show)."""

from __future__ import annotations

import numpy as np
import pytest

import yinji.apps.lead_mining as lm
from yinji.apps.base import AppError
from yinji.apps.lead_mining import prepare_features
from yinji.ml import metrics
from yinji.ml.mpc_boost import quantile_bins
from yinji.testing.boost import opened_splits, plain_boost, same_splits

from .test_lead_mining import _scores, _view_shapes, make_data, near_twins, run_app, spec

BOOST = {"model": "secureboost", "trees": 4, "depth": 2, "bins": 8}


@pytest.fixture
def models(monkeypatch):
    """Each party's trained BoostModel (boost_score_all is where it is used)."""
    store: dict = {}
    orig = lm.boost_score_all

    def spy(j, model, dl, df):
        store[j.session.party.name] = model
        return orig(j, model, dl, df)

    monkeypatch.setattr(lm, "boost_score_all", spy)
    return store


def owner_bins(lcols, fcols, bins):
    """Each owner's bins of its own prepared columns, as the app computes them."""
    il = quantile_bins(prepare_features({"a": lcols["income"], "b": lcols["age"]},
                                        [("a", "income"), ("b", "age")]), bins)[0]
    jf = quantile_bins(prepare_features({"a": fcols["assets"], "b": fcols["trades"]},
                                        [("a", "assets"), ("b", "trades")]), bins)[0]
    return il, jf


def logit(p):
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def test_boosted_scores_match_the_float_twin_on_the_plaintext_join(models):
    rng = np.random.default_rng(31)
    lcols, fcols = make_data(rng, n_l=220, n_f=200, shared=160, w=(1.6, -1.2, 2.0, 1.4))
    out = run_app(lcols, fcols, spec(**BOOST))
    rl, rf, rh = (o[0] for o in out)
    assert rh is None
    il, jf = owner_bins(lcols, fcols, 8)
    fidx = {k: i for i, k in enumerate(fcols["id_no"])}
    lid = list(lcols["证件号码"])
    sh = [i for i, k in enumerate(lid) if k in fidx]
    joined = np.column_stack([il[sh], jf[[fidx[lid[i]] for i in sh]]])
    y = lcols["bought"][sh]
    twin = plain_boost(joined, y, bins=8, trees=4, depth=2)
    got = opened_splits([models[n] for n in lm.LeadMining._parts(
        spec()["params"]["roles"]) + ("futures",)])
    assert same_splits(got, twin)
    want = 1 / (1 + np.exp(-twin.margin(joined)))
    sl, sf = _scores(rl), _scores(rf)
    assert np.abs(sl[sh] - want).max() < 2e-3
    pos_f = [fidx[lid[i]] for i in sh]
    assert np.abs(sf[pos_f] - want).max() < 2e-3
    assert abs(metrics.auc(y, sl[sh]) - metrics.auc(y, want)) < 0.01
    # an unshared customer of L: its F part is some shared customers' bins, column by column
    bias, _ = twin.contributions(joined)
    f_bins = [np.unique(jf[pos_f, c]) for c in range(2)]
    for i in [i for i in range(len(lid)) if lid[i] not in fidx]:
        combos = np.array([[*il[i], a, b] for a in f_bins[0] for b in f_bins[1]])
        assert np.abs(1 / (1 + np.exp(-twin.margin(combos))) - sl[i]).min() < 2e-3
    # contributions: own columns + the other company's total add up to logit(score) - bias
    for rep, n_own in ((rl, 2), (rf, 2)):
        c = np.array(rep.data["contributions"])
        assert c.shape[1] == n_own + 1
        resid = logit(_scores(rep)) - c.sum(axis=1)
        assert np.abs(resid - bias).max() < 0.01
    _, tc = twin.contributions(joined)
    cl = np.array(rl.data["contributions"])[sh]
    assert np.abs(cl[:, :2] - tc[:, :2]).max() < 2e-3
    assert np.abs(cl[:, 2] - tc[:, 2:].sum(axis=1)).max() < 2e-3
    assert rl.data["model"] == "secureboost" and "boosted trees" in rl.summary[0]
    named = {c.split(" (")[0] for r in rl.tables["leads"]["rows"] for c in r[3:] if c}
    assert named <= {"income", "age", "group data"}
    assert "lift" in rl.tables["deciles"]["columns"] and rl.data["metrics"]["auc"] > 0.7


def test_one_class_labels_are_refused_at_the_label_holder():
    lcols, fcols = make_data(np.random.default_rng(32), n_l=40, n_f=30, shared=20)
    lcols["bought"] = np.ones(40, int)
    with pytest.raises(AppError, match="fund: all 40 labels are 1: boosting needs both"):
        run_app(lcols, fcols, spec(**BOOST))


def test_too_many_one_hot_cells_are_refused_naming_the_limit(monkeypatch):
    monkeypatch.setattr(lm, "MAX_CELLS", 100)
    lcols, fcols = make_data(np.random.default_rng(33), n_l=40, n_f=30, shared=20)
    with pytest.raises(AppError, match="40 customers x 2 columns x 8 bins exceeds 100"):
        run_app(lcols, fcols, spec(**BOOST))


def test_label_holder_view_does_not_depend_on_who_is_shared():
    """As test_lead_mining's SS-LR test: two runs differing only in WHICH of L's customers
    are shared; L receives messages of the same shapes, gets one row per own customer, and
    the repeated-group-value attack stays near chance."""
    rng = np.random.default_rng(34)
    lcols, fcols = make_data(rng, n_l=60, n_f=50, shared=30)
    lid = list(lcols["证件号码"])
    runs = []
    for first in (0, 30):
        f2 = {k: v.copy() for k, v in fcols.items()}
        f2["id_no"] = np.array(lid[first:first + 30] + [f"new{i}" for i in range(20)], object)
        runs.append((run_app(lcols, f2, spec(**BOOST), record="fund")[0], f2))
    ((rep1, view1), _), ((rep2, view2), f2) = runs
    assert _view_shapes(view1) == _view_shapes(view2)
    for rep, truth in ((rep1, np.arange(60) < 30), (rep2, np.isin(lid, f2["id_no"]))):
        assert [r[0] for r in rep.tables["scores"]["rows"]] == lid
        group = np.array(rep.data["contributions"])[:, -1]
        guess = np.ones(len(group), bool)
        guess[near_twins(group)] = False
        assert (guess == truth).mean() < 0.8
