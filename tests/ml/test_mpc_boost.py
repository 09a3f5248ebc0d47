"""Boosted trees on secret-shared rows (yinji.ml.mpc_boost) against the float twin of the same
algorithm (yinji.testing.boost) and XGBoost on the same bins; edge cases; what a party sees."""

from __future__ import annotations

import numpy as np
import pytest

from yinji.ml.metrics import auc
from yinji.ml.mpc_boost import MpcBoost, check_labels, grad_scale, one_hot, quantile_bins
from yinji.mpc import SharedTensor, concatenate
from yinji.mpc import replicated as rep
from yinji.testing.boost import opened, opened_splits, plain_boost, same_splits
from yinji.testing.mpc import NAMES, run_mpc
from yinji.testing.parties import looks_uniform, record_received, run_parties


def separated(rng, n, d=4):
    """Labels from a few strong effects (clear best splits)."""
    x = rng.normal(size=(n, d))
    logit = 2.5 * (x[:, 0] > 0.3) - 2.0 * (x[:, 1] > -0.5) + 1.5 * x[:, 2] * (d > 2)
    return x, (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)


def fit_mpc(idx, y, bins, split=None, **kw):
    """Owner 0 shares the one-hot bins of the first `split` columns and the labels, owner 1
    the rest; returns each party's (model, bias, contributions opened)."""
    split = idx.shape[1] if split is None else split
    parts = [one_hot(idx[:, :split], bins), one_hot(idx[:, split:], bins)]

    def prog(s):
        xs = [SharedTensor.share(s, parts[o] if s.rank == o else None, o, frac_bits=0,
                                 shape=parts[o].shape) for o in (0, 1) if parts[o].shape[1]]
        x = concatenate(xs, axis=1)
        ys = SharedTensor.share(s, y if s.rank == 0 else None, 0, frac_bits=0, shape=y.shape)
        model = MpcBoost(bins=bins, **kw).fit(x, ys)
        bias, c = model.contributions(x)
        return model, bias.reveal(), c.reveal()

    return run_mpc(prog)


@pytest.mark.parametrize("seed,n,trees,depth,bins", [(1, 300, 3, 3, 8), (2, 500, 4, 2, 16),
                                                     (3, 200, 3, 1, 4)])
def test_trees_and_scores_match_the_float_twin(seed, n, trees, depth, bins):
    rng = np.random.default_rng(seed)
    x, y = separated(rng, n)
    idx, _ = quantile_bins(x, bins)
    out = fit_mpc(idx, y, bins, split=2, trees=trees, depth=depth)
    ref = plain_boost(idx, y, bins=bins, trees=trees, depth=depth)
    assert same_splits(opened_splits([o[0] for o in out]), ref)
    bias, c = out[0][1], out[0][2]
    rb, rc = ref.contributions(idx)
    assert abs(bias[0] - rb) < 1e-3
    assert np.abs(c - rc).max() < 2e-3
    assert np.abs((bias + c.sum(1)) - ref.margin(idx)).max() < 2e-3
    # the model's own evaluation of the training rows agrees with what training accumulated
    assert all(np.array_equal(o[2], out[0][2]) for o in out)


def test_auc_matches_the_twin_and_xgboost_on_the_same_bins():
    import xgboost

    rng = np.random.default_rng(7)
    n, d, bins = 1500, 6, 16
    x = rng.normal(size=(n, d))
    logit = x @ np.array([1.0, -0.8, 0.0, 0.5, 0.0, 0.3]) + 1.5 * (x[:, 0] > 0.5) \
        - (np.abs(x[:, 1]) > 1) - 0.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    idx, _ = quantile_bins(x, bins)
    out = fit_mpc(idx, y, bins, split=3)   # defaults: 10 trees, depth 3, lr 0.3, l2 1
    mpc = out[0][1] + out[0][2].sum(1)
    twin = plain_boost(idx, y, bins=bins).margin(idx)
    xgb = xgboost.XGBClassifier(n_estimators=10, max_depth=3, learning_rate=0.3,
                                reg_lambda=1.0, min_child_weight=1.0, base_score=0.5,
                                tree_method="exact").fit(idx, y)
    a_mpc, a_twin = auc(y, mpc), auc(y, twin)
    a_xgb = auc(y, xgb.predict_proba(idx)[:, 1])
    assert abs(a_mpc - a_twin) < 0.01
    assert abs(a_mpc - a_xgb) < 0.01
    assert a_mpc > 0.75


def test_a_constant_column_is_never_split_on_and_negative_values_bin_by_order():
    rng = np.random.default_rng(4)
    x, y = separated(rng, 240, d=3)
    x = np.column_stack([np.full(len(x), -7.5), x - 1e6])     # constant, then negatives
    idx, edges = quantile_bins(x, 8)
    assert len(edges[0]) == 1 and (idx[:, 0] == 0).all()
    assert np.array_equal(idx[:, 1:], quantile_bins(x[:, 1:] + 2e6, 8)[0])
    out = fit_mpc(idx, y, 8, split=1, trees=2, depth=3)
    got = opened_splits([o[0] for o in out])
    assert all(((lev == -1) | (lev >= 7)).all() for t in got for lev in t)   # feature 0: 0..6
    assert np.abs(out[0][2][:, 0]).max() == 0.0
    assert same_splits(got, plain_boost(idx, y, bins=8, trees=2, depth=3))


@pytest.mark.parametrize("n", [1, 2, 5])
def test_tiny_tables_have_no_valid_split_and_leaves_follow_the_twin(n):
    rng = np.random.default_rng(n)
    x, y = rng.normal(size=(n, 2)), np.arange(n) % 2
    idx, _ = quantile_bins(x, 4)
    out = fit_mpc(idx, y, 4, trees=3, depth=2)
    ref = plain_boost(idx, y, bins=4, trees=3, depth=2)
    assert all((lev == -1).all() for t in opened_splits([o[0] for o in out]) for lev in t)
    assert np.abs(out[0][1] + out[0][2].sum(1) - ref.margin(idx)).max() < 1e-3


def test_duplicate_rows_and_one_class_shares_train_without_error():
    idx = np.zeros((30, 2), np.int64)
    idx[15:, 0] = 3
    out = fit_mpc(idx, np.ones(30, np.int64), 4, trees=3, depth=2)   # all labels 1
    ref = plain_boost(idx, np.ones(30), bins=4, trees=3, depth=2)
    margin = out[0][1] + out[0][2].sum(1)
    assert np.abs(margin - ref.margin(idx)).max() < 1e-3 and (margin > 0).all()


def test_owner_side_checks_name_the_problem():
    with pytest.raises(ValueError, match="all 4 labels are 1: boosting needs both classes"):
        check_labels(np.ones(4))
    with pytest.raises(ValueError, match="labels must be 0 or 1"):
        check_labels(np.array([0, 2]))
    with pytest.raises(ValueError, match="NaN"):
        quantile_bins(np.array([[1.0], [np.nan]]), 4)
    with pytest.raises(ValueError, match="bins must be in 2..64"):
        quantile_bins(np.ones((3, 1)), 1)
    with pytest.raises(ValueError, match="n >= 1"):
        quantile_bins(np.zeros((0, 2)), 4)
    with pytest.raises(ValueError, match="bin indices must be in 0..3"):
        one_hot(np.array([[4]]), 4)
    for kw, msg in [({"trees": 0}, "trees"), ({"depth": 7}, "depth"), ({"l2": 0.0}, "l2"),
                    ({"min_child_weight": 0.0}, "min_child_weight"),
                    ({"learning_rate": 0.0}, "learning_rate")]:
        with pytest.raises(ValueError, match=msg):
            MpcBoost(**kw)
    assert one_hot(np.array([[1, 0]]), 2).tolist() == [[0, 1, 1, 0]]
    assert grad_scale(16383) == 1 and grad_scale(10**5) == 8


def test_fit_refuses_inputs_that_are_not_shared_one_hot_integers():
    def prog(s):
        x = SharedTensor.public(s, np.zeros((4, 8)))      # fixed point, not integers
        y = SharedTensor.public(s, np.zeros(4, np.int64), 0)
        with pytest.raises(ValueError, match="0/1 integer rows"):
            MpcBoost(bins=4).fit(x, y)
        with pytest.raises(ValueError, match="d \\* 3 one-hot columns"):
            MpcBoost(bins=3).fit(SharedTensor.public(s, np.zeros((4, 8), np.int64), 0), y)
        with pytest.raises(ValueError, match="one label per row"):
            MpcBoost(bins=4).fit(SharedTensor.public(s, np.zeros((4, 8), np.int64), 0),
                                 SharedTensor.public(s, np.zeros(3, np.int64), 0))
        return True

    assert run_mpc(prog) == [True] * 3


def test_nothing_is_opened_and_a_party_view_does_not_depend_on_the_data(monkeypatch):
    """Party 1 (the feature owner) plays the attacker: training and scoring never open a
    value (reveal is disabled), the shapes of everything it receives are the same for two
    different tables and label columns of the same size, and every large array it receives
    looks uniformly random."""
    def refuse(*a, **k):
        raise AssertionError("a value was opened")

    monkeypatch.setattr(rep, "reveal", refuse)
    monkeypatch.setattr(rep, "reveal_to", refuse)
    views = []
    for seed in (5, 6):
        rng = np.random.default_rng(seed)
        x, y = separated(rng, 120)
        if seed == 6:
            y = 1 - y
        idx, _ = quantile_bins(x, 8)
        oh = one_hot(idx, 8)

        def body(party, oh=oh, y=y):
            from yinji.mpc import Session

            s = Session(party, NAMES)
            view = record_received(party) if s.rank == 1 else None
            xs = SharedTensor.share(s, oh if s.rank == 0 else None, 0, frac_bits=0,
                                    shape=oh.shape)
            ys = SharedTensor.share(s, y if s.rank == 0 else None, 0, frac_bits=0,
                                    shape=y.shape)
            model = MpcBoost(bins=8, trees=2, depth=3).fit(xs, ys)
            model.predict(xs)
            return view

        views.append(run_parties(body, names=NAMES)[1])
    shapes = [[(p, m.shape, m.dtype) for p, m in v if isinstance(m, np.ndarray)] for v in views]
    assert shapes[0] == shapes[1] and len(shapes[0]) > 100
    assert looks_uniform(views[0]) == [] and looks_uniform(views[1]) == []


def test_opened_is_the_sum_of_shares():
    def prog(s):
        return SharedTensor.share(s, np.array([1.5, -2.0]) if s.rank == 0 else None, 0,
                                  shape=(2,))

    assert opened(run_mpc(prog)).tolist() == [1.5, -2.0]
