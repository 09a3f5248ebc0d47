"""Lead mining (yinji.apps.lead_mining) in-process: three parties on the in-memory network run
the app's `run` with the spec a node would approve; checked against a plaintext twin on the
same data, on edge cases, and from the label holder's view (who is shared must not show)."""

from __future__ import annotations

import numpy as np
import pytest

from yinji.apps.base import AppError
from yinji.apps.lead_mining import APP, float_scores, prepare_features
from yinji.ml import metrics
from yinji.node.runners import RunContext
from yinji.testing.parties import record_received, run_parties

NAMES = ["fund", "securities", "futures"]   # label holder, feature holder, helper
L_COLS = ["证件号码", "bought", "income", "age"]
F_COLS = ["id_no", "assets", "trades"]
OMIT = [f"f{i}" for i in range(3, 13)]


def make_data(rng, n_l=160, n_f=140, shared=100, w=(0.8, -0.5, 1.5, 1.0)):
    """L's and F's columns; `shared` customers in both, labels from a model using all four
    features (so F's data matter)."""
    ids = [f"11010119800101{i:04d}" for i in range(n_l + n_f)]
    pop = rng.normal(size=(n_l + n_f, 4))
    logit = pop @ np.array(w) - 0.5
    y = (rng.random(n_l + n_f) < 1 / (1 + np.exp(-logit))).astype(int)
    li = np.arange(n_l)
    fi = np.concatenate([li[:shared], np.arange(n_l, n_l + n_f - shared)])
    fi = rng.permutation(fi)
    lcols = {"证件号码": np.array([ids[i] for i in li], object), "bought": y[li],
             "income": pop[li, 0] * 3e4 + 2e5, "age": np.round(pop[li, 1] * 10 + 45)}
    fcols = {"id_no": np.array([ids[i] for i in fi], object),
             "assets": pop[fi, 2] * 1e6 + 3e6, "trades": pop[fi, 3] * 20 + 100}
    return lcols, fcols


def spec(**params):
    p = APP.resolve_params({"helper": NAMES[2], "min_overlap": 10, **params})
    return {"protocol": APP.protocol,
            "inputs": {"fund": {"dataset": "leads", "columns": L_COLS},
                       "securities": {"dataset": "leads", "columns": F_COLS}},
            "params": {**p, "app_version": APP.version,
                       "roles": {"fund": "label", "securities": "features"},
                       "compute": NAMES,
                       "omitted": {"fund": OMIT, "securities": OMIT}},
            "recipients": ["fund", "securities"], "helpers": ["futures"]}


def run_app(lcols, fcols, sp=None, record=None):
    sp = sp or spec()
    assert APP.validate(sp) == []

    def body(party, inputs):
        view = record_received(party) if party.name == record else None
        return APP.run(RunContext(sp, party.name, party, inputs, lambda *a: None)), view

    return run_parties(body, names=NAMES, args=[(lcols,), (fcols,), (None,)], timeout=120)


def _plain(t):
    """A SharedTensor's value from the three parties' share sets (test only)."""
    s = sum(x.shares[0] for x in t).view(np.int64)
    return s.astype(np.float64) / 2.0 ** t[0].frac_bits


@pytest.fixture(autouse=True)
def _spy(monkeypatch):
    """Let tests capture each party's model share set (score_all is the one place it is
    used after training)."""
    import yinji.apps.lead_mining as lm

    orig = lm.score_all
    store: dict = {}

    def spy(j, model, dl, df, impute):
        store[j.session.party.name] = model
        return orig(j, model, dl, df, impute)

    monkeypatch.setattr(lm, "score_all", spy)
    return store


def twin(lcols, fcols, models, impute):
    """Plaintext twin: every customer's score from the opened model, in floating point."""
    st = [m.features for m in models]
    w = _plain([m.weights for m in models])
    mean, r1, shift, r2 = (_plain([getattr(x, k) for x in st])
                           for k in ("mean", "r1", "shift", "r2"))
    xl = prepare_features({"a": lcols["income"], "b": lcols["age"]},
                          [("a", "income"), ("b", "age")])
    xf = prepare_features({"a": fcols["assets"], "b": fcols["trades"]},
                          [("a", "assets"), ("b", "trades")])
    fidx = {k: i for i, k in enumerate(fcols["id_no"])}
    return xl, xf, fidx, (w, mean, r1, shift, r2)


def _donor_rows(x, shared, ocols):
    return x[shared]


def rep_rows(rep):
    """(own contributions..., group data) per customer, from the report's data."""
    return rep.data["contributions"]


def _scores(rep):
    return np.array([r[1] for r in rep.tables["scores"]["rows"]])


@pytest.mark.parametrize("impute", ["mean", "donor"])
def test_scores_match_the_plaintext_twin(impute, _spy):
    rng = np.random.default_rng(1 if impute == "mean" else 2)
    lcols, fcols = make_data(rng)
    out = run_app(lcols, fcols, spec(impute=impute))
    rl, rf, rh = (o[0] for o in out)
    assert rh is None
    assert len(rl.tables["scores"]["rows"]) == 160 and len(rf.tables["scores"]["rows"]) == 140
    assert [r[0] for r in rl.tables["scores"]["rows"]] == list(lcols["证件号码"])
    models = [_spy[n] for n in NAMES]
    xl, xf, fidx, (w, mean, r1, shift, r2) = twin(lcols, fcols, models, impute)
    sl, sf = _scores(rl), _scores(rf)
    lidx = {k: i for i, k in enumerate(lcols["证件号码"])}
    for side, (own, other, oidx, ids, got, left) in {
            "L": (xl, xf, fidx, lcols["证件号码"], sl, True),
            "F": (xf, xl, lidx, fcols["id_no"], sf, False)}.items():
        shared = np.array([k in oidx for k in ids])
        x = np.zeros((len(ids), 4))
        cols = slice(0, 2) if left else slice(2, 4)
        ocols = slice(2, 4) if left else slice(0, 2)
        x[:, cols] = own
        for i, k in enumerate(ids):
            x[i, ocols] = other[oidx[k]] if k in oidx else mean[ocols]
        want, _ = float_scores(x, w, mean, r1, shift, r2)
        assert np.abs(got[shared] - want[shared]).max() < 2e-3, side
        if impute == "mean":
            assert np.abs(got - want).max() < 2e-3, side
        else:   # an unshared customer's group value: one shared customer's part per column
            _, cd = float_scores(_donor_rows(x, shared, ocols), w, mean, r1,
                                 shift, r2)
            c1, c2 = cd[:, ocols][:, 0], cd[:, ocols][:, 1]
            combos = (c1[:, None] + c2[None, :]).ravel()
            group = np.array(rep_rows(rl if left else rf))[:, -1]
            for i in np.flatnonzero(~shared):
                assert np.abs(combos - group[i]).min() < 2e-3, side
    # the joint model is as good as the central one on the shared customers
    from sklearn.linear_model import LogisticRegression

    sh = [i for i, k in enumerate(lcols["证件号码"]) if k in fidx]
    xj = np.column_stack([xl[sh], xf[[fidx[lcols["证件号码"][i]] for i in sh]]])
    yj = lcols["bought"][sh]
    ref = LogisticRegression().fit(xj, yj).predict_proba(xj)[:, 1]
    assert metrics.auc(yj, sl[sh]) > metrics.auc(yj, ref) - 0.02
    # the report: leads, reasons naming own columns or the group aggregate, lift at L only
    leads = rl.tables["leads"]
    assert len(leads["rows"]) == 50 and leads["rows"][0][2] == pytest.approx(sl.max(), abs=1e-5)
    named = {c.split(" (")[0] for r in leads["rows"] for c in r[3:] if c}
    assert named <= {"income", "age", "group data"}
    assert "lift" in rl.tables["deciles"]["columns"]
    assert "lift" not in rf.tables["deciles"]["columns"]
    assert rl.data["metrics"] and not rf.data["metrics"]


@pytest.mark.parametrize("shared", [0, 1, 9])
def test_too_small_an_intersection_stops_the_run_everywhere_with_nothing_opened(shared):
    lcols, fcols = make_data(np.random.default_rng(shared), n_l=30, n_f=25, shared=shared)
    with pytest.raises(AppError, match=f"has {shared} customers, fewer than min_overlap=10"):
        run_app(lcols, fcols)


def test_all_customers_shared_and_the_smallest_allowed_intersection(tmp_path):
    lcols, fcols = make_data(np.random.default_rng(4), n_l=40, n_f=40, shared=40)
    rl, rf, _ = (o[0] for o in run_app(lcols, fcols))
    assert len(rl.tables["scores"]["rows"]) == 40 and len(rf.tables["scores"]["rows"]) == 40
    files = {f.suffix for f in APP.render(rl.to_json(), tmp_path)}
    assert {".csv", ".xlsx", ".html"} <= files
    assert "<svg" in next(tmp_path.glob("*.html")).read_text(encoding="utf-8")
    lcols, fcols = make_data(np.random.default_rng(5), n_l=12, n_f=30, shared=10)
    rl, rf, _ = (o[0] for o in run_app(lcols, fcols, spec(top_n=1000)))
    assert len(rl.tables["scores"]["rows"]) == 12 and len(rf.tables["scores"]["rows"]) == 30
    assert len(rl.tables["leads"]["rows"]) == 12   # top_n above the customer count: all
    assert all(0 <= r[1] <= 1 for r in rl.tables["scores"]["rows"])


def _view_shapes(view):
    return [(peer, getattr(m, "shape", None), getattr(m, "dtype", None),
             len(m) if isinstance(m, bytes) else None) for peer, m in view]


def test_label_holder_view_does_not_depend_on_who_is_shared(monkeypatch):
    """The label holder plays the attacker. Two runs: its own data identical, the feature
    holder's customers differ only in WHICH of the label holder's customers they are (same
    count). Everything L receives has the same shapes (all epochs run), and its output has one row per own
    customer in its own order; in donor mode, the attack that singles out unshared customers
    under the mean mode (repeated group-data values) stays near chance."""
    import functools

    import yinji.apps.lead_mining as lm

    # every epoch runs: the early-stopping epoch is SS-LR's documented leakage (it depends on
    # the shared customers' data, not on which of L's customers they are)
    monkeypatch.setattr(lm, "SSLR", functools.partial(lm.SSLR, patience=10**6))
    rng = np.random.default_rng(9)
    lcols, fcols = make_data(rng, n_l=60, n_f=50, shared=30)
    lid = list(lcols["证件号码"])
    runs = []
    for first in (0, 30):   # shared: L's customers 0..29, then 30..59
        f2 = {k: v.copy() for k, v in fcols.items()}
        f2["id_no"] = np.array(lid[first:first + 30] + [f"new{i}" for i in range(20)], object)
        runs.append(run_app(lcols, f2, spec(impute="donor"), record="fund")[0])
    (rep1, view1), (rep2, view2) = runs
    assert _view_shapes(view1) == _view_shapes(view2)
    for rep in (rep1, rep2):
        assert [r[0] for r in rep.tables["scores"]["rows"]] == lid
        group = np.array(rep.data["contributions"])[:, -1]
        # the attack that works on the mean mode (a repeated group value = not shared)
        # stays near chance here; equal values come only from equal donors (docstring)
        guess = np.ones(len(group), bool)
        guess[near_twins(group)] = False
        truth = np.isin(lid, f2["id_no"]) if rep is rep2 else np.arange(60) < 30
        assert (guess == truth).mean() < 0.8


def near_twins(values, tol=1e-4):
    """Indices of values within `tol` of another one (the fixed-point noise is ~3e-5)."""
    order = np.argsort(values)
    close = np.diff(values[order]) < tol
    hit = np.zeros(len(values), bool)
    hit[:-1] |= close
    hit[1:] |= close
    return order[hit]


def test_mean_imputation_shows_who_is_shared_as_documented():
    """The documented leak of impute='mean': an unshared customer's group-data value is the
    same constant, so the owner can pick out its shared customers."""
    lcols, fcols = make_data(np.random.default_rng(10), n_l=50, n_f=40, shared=25)
    rl = run_app(lcols, fcols, spec(impute="mean"))[0][0]
    group = np.array(rl.data["contributions"])[:, -1]
    guess = np.ones(len(group), bool)
    guess[near_twins(group)] = False     # the attack: a repeated value means "not shared"
    truth = np.isin(lcols["证件号码"], fcols["id_no"])
    assert (guess == truth).mean() > 0.95


def test_only_recipients_get_scores():
    lcols, fcols = make_data(np.random.default_rng(11), n_l=40, n_f=30, shared=20)
    sp = spec()
    sp["recipients"] = ["securities"]
    rl, rf, rh = (o[0] for o in run_app(lcols, fcols, sp))
    assert rl is None and rh is None and len(rf.tables["scores"]["rows"]) == 30


@pytest.mark.parametrize("params,msg", [
    ({"top_n": 0}, "top_n' must be at least 1"),
    ({"top_n": 1001}, "top_n' must be at most 1000"),
    ({"min_overlap": 5}, "min_overlap' must be at least 10"),
    ({"reasons": 9}, "reasons' must be at most 5"),
    ({"impute": "zero"}, "impute' must be one of donor, mean"),
    ({"model": "secureboost", "impute": "mean"}, "'mean' is for model 'sslr'"),
    ({"trees": 51}, "trees' must be at most 50"),
    ({"bins": 1}, "bins' must be at least 2"),
    ({"tree_l2": 0.0}, "tree_l2' must be at least 0.1"),
    ({"newton_steps": 51}, "newton_steps' must be at most 50"),
])
def test_out_of_bounds_parameters_are_refused(params, msg):
    with pytest.raises(AppError, match=msg):
        spec(**params)


def test_bad_specs_are_refused():
    sp = spec()
    sp["recipients"] = ["fund", "futures"]
    assert any("only the two data owners" in p for p in APP.validate(sp))
    sp = spec()
    sp["params"]["compute"] = ["securities", "fund", "futures"]
    assert any("params.compute must be" in p for p in APP.validate(sp))
    sp = spec()
    sp["helpers"] = []   # the helper is not a participant: the compute parties do not fit
    assert any("params.compute must name three" in p for p in APP.validate(sp))
    sp = spec()
    sp["helpers"] = ["futures", "offshore"]
    assert any("helpers must be exactly" in p for p in APP.validate(sp))
    sp = spec()
    sp["params"]["roles"]["securities"] = "label"
    assert any("role label: expected" in p for p in APP.validate(sp))
    with pytest.raises(AppError, match="exactly one company in role 'label'"):
        APP.default_compute({"fund": "label", "securities": "label"}, "fund",
                            {"helper": "futures"})


@pytest.mark.parametrize("column,value,msg", [
    ("income", "high", "column 'income', row 3: not a number"),
    ("age", np.inf, "column 'age', row 3: |value| must be at most"),
    ("bought", 2, "label column 'bought', row 3: must be 0 or 1"),
    ("证件号码", "110101198001010000", "duplicate IDs"),
])
def test_bad_columns_are_refused_naming_the_column(column, value, msg):
    lcols, fcols = make_data(np.random.default_rng(12), n_l=30, n_f=30, shared=20)
    lcols[column] = lcols[column].astype(object)
    lcols[column][2] = value
    with pytest.raises(AppError, match=msg.replace("|", r"\|")):
        run_app(lcols, fcols)


def test_missing_values_take_the_own_mean_and_constant_columns_are_refused():
    x = prepare_features({"a": np.array([1.0, None, 3.0], object)}, [("a", "a")])
    assert np.allclose(x[:, 0], [-1.2247, 0.0, 1.2247], atol=1e-3)
    with pytest.raises(AppError, match="column 'c' is constant"):
        prepare_features({"c": np.ones(5)}, [("c", "c")])


def float_newton(x, y, steps=12, l2=1e-4):
    """SS-LR's default solver (full-batch Newton to the optimum of mean log loss +
    l2/2 |w|^2, intercept unpenalised) in floating point, on SS-LR's standardisation."""
    from yinji.ml.sslr import SCALE_ROWS, VAR_EPS

    mean = x.mean(axis=0)
    r1 = 1 / (np.abs((x - mean)[:SCALE_ROWS]).mean(axis=0) + 2.0 ** -14)
    z = (x - mean) * r1
    shift = z.mean(axis=0)
    r2 = 1 / np.sqrt(((z - shift) ** 2).mean(axis=0) + VAR_EPS)
    xs = np.column_stack([((x - mean) * r1 - shift) * r2, np.ones(len(x))])
    pen = np.r_[np.full(x.shape[1], l2), 0.0]
    w = np.zeros(xs.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(xs @ w)))
        h = (xs * (p * (1 - p))[:, None]).T @ xs / len(x) + np.diag(pen)
        w = w - np.linalg.solve(h, xs.T @ (p - y) / len(x) + pen * w)
    return w, mean, r1, shift, r2


def test_training_matches_the_same_newton_in_floating_point(monkeypatch):
    """The plaintext twin of training: SS-LR's Newton solver run in floating point on the
    same joined rows (opened here by the test only) gives the same scores within fixed-point
    error."""
    import yinji.apps.lead_mining as lm

    seen = {}
    real = lm.SSLR

    class Spy(real):
        def fit(self, x, y, **kw):
            seen[x.session.party.name] = (x, y)
            self.shuffle = False
            return super().fit(x, y, **kw)

    monkeypatch.setattr(lm, "SSLR", Spy)
    lcols, fcols = make_data(np.random.default_rng(21), n_l=300, n_f=260, shared=200)
    out = run_app(lcols, fcols, spec(impute="mean"))
    x = _plain([seen[n][0] for n in NAMES])
    y = _plain([seen[n][1] for n in NAMES])
    w, mean, r1, shift, r2 = float_newton(x, y)
    xl = prepare_features({"a": lcols["income"], "b": lcols["age"]},
                          [("a", "income"), ("b", "age")])
    xf = prepare_features({"a": fcols["assets"], "b": fcols["trades"]},
                          [("a", "assets"), ("b", "trades")])
    fidx = {k: i for i, k in enumerate(fcols["id_no"])}
    xx = np.array([np.concatenate([xl[i], xf[fidx[k]] if k in fidx else mean[2:]])
                   for i, k in enumerate(lcols["证件号码"])])
    want, _ = float_scores(xx, w, mean, r1, shift, r2)
    got = _scores(out[0][0])
    assert np.abs(got - want).max() < 5e-4   # measured: 2-3e-5
    assert np.abs(got - want).mean() < 1e-4
