"""Rule MODEL of the risk look-through: features, SS-LR training on the label holder's clients
and scoring in MPC, against NumPy with the same weights (opened here only); the model checks,
the all-or-nothing start, and what non-recipients receive."""

import numpy as np
import pytest

from yinji.apps import risk_model as rm
from yinji.apps.base import AppError
from yinji.apps.risk_lookthrough import entries, look_through, plaintext
from yinji.apps.risk_model_training import APP as TRAINING
from yinji.apps.risk_model_training import client_labels, train_lookthrough
from yinji.apps.risk_rules import Thresholds, unpack
from yinji.ml.registry import ModelMeta, ModelRegistry
from yinji.mpc import Session, SharedTensor
from yinji.testing.parties import looks_uniform, record_received, run_parties

COMPANIES = ["fund", "futures", "offshore", "securities"]
COMPUTE = COMPANIES[:3]
OWN = {"securities": "margin_financing", "futures": "futures_margin",
       "fund": "leveraged_products", "offshore": "offshore_positions"}
T = Thresholds(leverage=800, concentration=900, concentration_min=10_000_00, drop=300,
               min_assets=100_000_00)
FX = {"HKD": 0.92, "USD": 7.1}
NAMES = rm.feature_names(COMPANIES)
BAND = 2e-3   # |decision - logit(t)| below this: fixed-point rounding may decide either way


def id_number(n: int) -> str:
    return f"11010119900101{n:04d}"


def raw_tables(rng, clients=80, share=0.6):
    """Each company's raw columns (two accounts for some clients); securities' label
    `label` depends on the group leverage and drop, so a model has something to learn."""
    wealth = rng.lognormal(12, 1.5, clients)
    lever = np.where(rng.random(clients) < 0.3, rng.uniform(0.5, 3, clients),
                     rng.uniform(0, 0.3, clients))
    fell = rng.random(clients) < 0.2
    tables = {}
    for c in COMPANIES:
        held = np.flatnonzero(rng.random(clients) < share)
        rows = np.concatenate([held, rng.choice(held, size=3, replace=False)])
        n = len(rows)
        assets = np.round(wealth[rows] * rng.uniform(0.2, 1.0, n), 2)
        cols = {"id_no": np.array([id_number(i) for i in rows], dtype=object),
                "assets": assets,
                "prior_assets": np.round(assets * np.where(fell[rows], 2.5, 1.0), 2),
                OWN[c]: np.round(assets * lever[rows], 2)}
        if c == "securities":
            odds = -2.0 + 2.0 * lever[rows] + 1.5 * fell[rows]
            cols["label"] = (rng.random(n) < 1 / (1 + np.exp(-odds))).astype(float)
        tables[c] = cols
    return tables


def prepared(raw):
    return {c: entries(raw[c], COMPANIES.index(c), len(COMPANIES), FX)[:3:2]
            for c in COMPANIES}


def group_figures(tables, company):
    """The plaintext group figures of `company`'s clients (its ids' order)."""
    group = {}
    for ids, values in tables.values():
        for i, v in zip(ids, values, strict=True):
            group[i] = group.get(i, 0) + v
    return np.array([group[i] for i in tables[company][0]], np.int64)


def train(tables, labels, holder="securities", record=()):
    views = {}

    def body(party):
        if party.name in record:
            views[party.name] = record_received(party)
        ids, values = tables[party.name]
        return train_lookthrough(party, COMPANIES, COMPUTE, holder, ids, values,
                                 labels if party.name == holder else None)

    out = dict(zip(COMPANIES, run_parties(body, names=COMPANIES, timeout=120), strict=True))
    return out, views


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One training run on securities' clients, stored in each compute party's registry."""
    rng = np.random.default_rng(31)
    raw = raw_tables(rng)
    tables = prepared(raw)
    labels = client_labels(raw["securities"], tables["securities"][0])
    out, _ = train(tables, labels)
    root = tmp_path_factory.mktemp("models")
    parts = []
    for c in COMPUTE:
        model = out[c][0]
        rm.save(ModelRegistry(root / c, c), "risk-score", 1, COMPUTE, NAMES, "securities",
                model, "job-1", {})
        parts.append(model.shares())
    return {"raw": raw, "tables": tables, "labels": labels, "out": out, "root": root,
            "opened": rm.open_model(parts)}


def kinds(view):
    """(sender, dtype, shape) of each array received, (sender, "bytes", length) of bytes."""
    return [(p, m.dtype.str, m.shape) if isinstance(m, np.ndarray) else (p, "bytes", len(m))
            for p, m in view]


# -- features ------------------------------------------------------------------------------

def shared_run(x, fn):
    def body(party):
        s = Session(party, ["P0", "P1", "P2"])
        t = SharedTensor.share(s, x if s.rank == 0 else None, 0, frac_bits=0, shape=x.shape)
        return fn(t)
    return run_parties(body)[0]


def test_features_match_their_float_twin_on_random_and_edge_rows():
    rng = np.random.default_rng(2)
    x = (rng.lognormal(17, 2.5, (120, 6)) * (rng.random((120, 6)) < 0.7)).astype(np.int64)
    x[0] = 0                                   # nothing anywhere
    x[1] = [0, 0, 10**10, 0, 0, 0]             # exposure without assets: leverage capped
    x[2] = 10**13                              # the largest amounts: capped features
    x[3] = [10**9, 0, 0, 0, 0, 0]              # assets, nothing before: drop near -1
    x[4] = [1, 10**12, 0, 0, 0, 0]             # assets lost: drop near 1
    x[5] = [10**8, 10**8, 10**7, 10**7, 10**7, 10**7]   # even exposure: concentration 1/4
    got = shared_run(x, lambda t: rm.features(t).reveal())
    want = rm.plain_features(x)
    assert got.shape == (120, len(NAMES))
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=2e-3)
    assert want[1, 6] == pytest.approx(100, rel=1e-3) and want[2, 0] == rm.AMOUNT_CAP
    assert want[3, 8] < -0.99 and want[4, 8] > 0.99 and want[5, 7] == pytest.approx(0.25, 1e-3)
    assert (want[:, 8] < 0).sum() > 5          # negative fixed-point features occur


# -- training and scoring against NumPy -----------------------------------------------------

def test_training_learns_from_the_label_holders_clients(trained):
    """The holder gets the in-sample counts of the model's own scores; the model ranks like
    scikit-learn's on the same features (the shares opened here only)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    tables, labels, out = trained["tables"], trained["labels"], trained["out"]
    x = group_figures(tables, "securities")
    scores = rm.plain_scores(x, trained["opened"])
    counts = out["securities"][1]
    assert out["securities"][0] is None and all(out[c][1] is None for c in COMPUTE)
    z = rm.plain_decision(x, trained["opened"])
    for j, cut in enumerate(rm.TRAINING_CUTS):
        sure = np.abs(z - rm.logit(cut)) > BAND
        above = z >= rm.logit(cut)
        assert abs(counts[0, j] - above.sum()) <= (~sure).sum()
        assert abs(counts[1, j] - (above & (labels == 1)).sum()) <= (~sure).sum()
    feats = rm.plain_features(x)
    sk = LogisticRegression(C=1 / (1e-3 * len(x)), max_iter=1000).fit(
        (feats - feats.mean(0)) / (feats.std(0) + 1e-9), labels)
    auc = roc_auc_score(labels, scores)
    auc_sk = roc_auc_score(labels, sk.decision_function((feats - feats.mean(0)) /
                                                        (feats.std(0) + 1e-9)))
    assert auc > 0.7 and abs(auc - auc_sk) < 0.03, (auc, auc_sk)


@pytest.mark.parametrize("where", ["min", "median", "max"])
def test_model_bits_against_numpy_at_edge_thresholds(trained, where):
    """Clients exactly at the threshold and the bounds 0.001 / 0.999: every client further
    than the rounding band from it is decided as NumPy decides."""
    x = group_figures(trained["tables"], "fund")
    scores = rm.plain_scores(x, trained["opened"])
    t = {"min": rm.THRESHOLD_RANGE[0], "max": rm.THRESHOLD_RANGE[1],
         "median": float(np.median(scores))}[where]
    parts = [rm.load(ModelRegistry(trained["root"] / c, c), "risk-score", None, COMPUTE,
                     NAMES)[1] for c in COMPUTE]
    meta = rm.load(ModelRegistry(trained["root"] / "fund", "fund"), "risk-score", 1, COMPUTE,
                   NAMES)[0]

    def body(party):
        from yinji.ml.sslr import SSLinearModel

        s = Session(party, COMPUTE)
        model = SSLinearModel.from_shares(s, meta.params, parts[s.rank])
        t_x = SharedTensor.share(s, x if s.rank == 0 else None, 0, frac_bits=0, shape=x.shape)
        return rm.model_bits(model, t_x, t).reveal()

    got = run_parties(body, names=COMPUTE)[0].reshape(-1)
    z = rm.plain_decision(x, trained["opened"])
    sure = np.abs(z - rm.logit(t)) > BAND
    np.testing.assert_array_equal(got[sure], (scores >= t)[sure])
    assert sure.sum() >= len(x) - 2
    if where == "median":
        assert 0 < got.sum() < len(x)


def test_a_run_with_the_model_adds_model_to_codes_and_counts(trained):
    """The whole look-through with rule MODEL: LEV, CONC, DROP exactly as the plaintext,
    MODEL as NumPy's score >= threshold, the officer's counts with a MODEL column."""
    tables, root = trained["tables"], trained["root"]
    threshold = 0.4
    parts = {c: rm.load(ModelRegistry(root / c, c), "risk-score", 1, COMPUTE, NAMES)
             for c in COMPUTE}

    def body(party):
        ids, values = tables.get(party.name, (None, None))
        model = (parts[party.name][0].params, parts[party.name][1]) if party.name in parts \
            else None
        return look_through(party, COMPANIES, COMPUTE, "group", T, ids, values, model=model,
                            threshold=threshold)

    got = dict(zip(COMPANIES + ["group"], run_parties(body, names=COMPANIES + ["group"],
                                                      timeout=120), strict=True))
    codes, counts = plaintext(tables, T)
    model_counts, unsure = [], 0
    for c in COMPANIES:
        bits = unpack(got[c][0], 4)
        np.testing.assert_array_equal(bits[:, :3], unpack(codes[c]))
        scores = rm.plain_scores(group_figures(tables, c), trained["opened"])
        z = rm.plain_decision(group_figures(tables, c), trained["opened"])
        sure = np.abs(z - rm.logit(threshold)) > BAND
        unsure += int((~sure).sum())
        np.testing.assert_array_equal(bits[sure, 3], (scores >= threshold)[sure])
        model_counts.append(int(bits[:, 3].sum()))
        assert bits[:, 3].sum() > 0
    officer = got["group"][1]
    assert officer.shape == (4, 5) and unsure <= 2
    np.testing.assert_array_equal(officer[:, :3], counts[:, :3])
    np.testing.assert_array_equal(officer[:, 3], model_counts)
    anyflag = [int(unpack(got[c][0], 4).any(axis=1).sum()) for c in COMPANIES]
    np.testing.assert_array_equal(officer[:, 4], anyflag)


def test_a_non_recipients_view_does_not_depend_on_the_weights(trained):
    """securities (an input party) is no receiver of a run; with the model and with its
    weights negated (other scores, other flags) it receives messages of the same senders,
    kinds and shapes (its ledger traffic), any share components uniform-looking."""
    tables, root = trained["tables"], trained["root"]
    loaded = {c: rm.load(ModelRegistry(root / c, c), "risk-score", 1, COMPUTE, NAMES)
              for c in COMPUTE}
    flipped = {c: (m, {**p, "w.0": np.uint64(0) - p["w.0"], "w.1": np.uint64(0) - p["w.1"]})
               for c, (m, p) in loaded.items()}
    views, officer = [], []
    for models in (loaded, flipped):
        seen = {}

        def body(party, models=models, seen=seen):
            if party.name == "securities":
                seen["v"] = record_received(party)
            ids, values = tables.get(party.name, (None, None))
            m = models.get(party.name)
            return look_through(party, COMPANIES, COMPUTE, "group", T, ids, values,
                                receivers=["fund", "futures"],
                                model=(m[0].params, m[1]) if m else None)

        out = run_parties(body, names=COMPANIES + ["group"], timeout=120)
        assert out[3][0] is None
        officer.append(out[4][1])
        views.append(seen["v"])
    assert not np.array_equal(officer[0][:, 3], officer[1][:, 3])   # the scores differ
    shapes = [kinds(v) for v in views]
    assert shapes[0] == shapes[1]
    for view in views:   # group elements (ledger) and, as a non-receiver, no share at all
        words = [(p, m) for p, m in view if isinstance(m, np.ndarray) and m.dtype == np.uint64]
        assert words == [] or looks_uniform(words, min_size=6) == []
        assert {m.dtype.str for _, m in view if isinstance(m, np.ndarray)} <= {"|u1", "<i8",
                                                                              "<u8"}


def test_training_input_party_view_does_not_depend_on_the_labels():
    """With fund as label holder, securities only feeds the ledger: it receives the same
    senders, kinds and shapes whatever fund's labels are, nothing about the model."""
    rng = np.random.default_rng(41)
    raw = raw_tables(rng, clients=50)
    tables = prepared(raw)
    n = len(tables["fund"][0])
    shapes = []
    for labels in (np.arange(n) % 2, (np.arange(n) < 5).astype(np.int64)):
        out, views = train(tables, labels, holder="fund", record=("securities",))
        assert out["securities"] == (None, None) and out["fund"][1].shape == (2, 9)
        shapes.append(kinds(views["securities"]))
    assert shapes[0] == shapes[1]


# -- model checks, the all-or-nothing start -------------------------------------------------

def test_model_checks_name_the_problem(trained, tmp_path):
    reg = ModelRegistry(trained["root"] / "fund", "fund")
    with pytest.raises(AppError, match="no model 'nope' in fund's registry"):
        rm.load(reg, "nope", None, COMPUTE, NAMES)
    with pytest.raises(AppError, match="no model 'risk-score' version 7"):
        rm.load(reg, "risk-score", 7, COMPUTE, NAMES)
    three = rm.feature_names(["fund", "futures", "offshore"])
    with pytest.raises(AppError, match="the model lacks|the run lacks feature.*exposure_securities"):
        rm.load(reg, "risk-score", 1, COMPUTE, three)
    more = rm.feature_names([*COMPANIES, "trust"])
    with pytest.raises(AppError, match="the model lacks feature.*exposure_trust"):
        rm.load(reg, "risk-score", 1, COMPUTE, more)
    with pytest.raises(AppError, match="compute parties fund, futures, offshore; this run "
                                       "computes with futures, fund, offshore"):
        rm.load(reg, "risk-score", 1, ["futures", "fund", "offshore"], NAMES)
    other = ModelRegistry(tmp_path, "fund")
    other.save(ModelMeta("boost", 1, "secureboost", COMPUTE, {"fund": ["a"]}, "fund"), {"t": 1})
    with pytest.raises(AppError, match="boost v1 is a secureboost model"):
        rm.load(other, "boost", None, COMPUTE, NAMES)
    other.save(ModelMeta("lead", 1, "sslr", COMPUTE, {"fund": ["a"], "futures": ["b"]}, "fund",
                         params={"kind": "logistic"}), {"w.0": np.zeros(2, np.uint64)})
    with pytest.raises(AppError, match="not a look-through model"):
        rm.load(other, "lead", None, COMPUTE, NAMES)


def test_a_missing_model_stops_every_party_before_anything_is_shared():
    """One compute party lacks the model: every participant raises the same error after the
    status round; nobody received anything but the status messages."""
    names = COMPANIES + ["group"]
    views = {}

    def body(party):
        views[party.name] = record_received(party)
        problem = "no model 'risk-score' in futures's registry" if party.name == "futures" else ""
        info = {"version": 1, "digest": "d"} if party.name in COMPUTE else None
        rm.preflight(party, names, problem, info)

    with pytest.raises(AppError, match="not run, nothing was shared: futures: no model"):
        run_parties(body, names=names)
    for view in views.values():
        assert len(view) == len(names) - 1 and all(isinstance(m, bytes) for _, m in view)


def test_compute_parties_with_different_versions_are_refused():
    infos = {"fund": {"version": 2, "digest": "a"}, "futures": {"version": 1, "digest": "b"},
             "offshore": {"version": 2, "digest": "a"}}
    with pytest.raises(AppError, match=r"different models named m \(fund v2, futures v1"):
        rm.agreed_version("m", infos, COMPUTE)
    infos["futures"] = infos["fund"]
    assert rm.agreed_version("m", infos, COMPUTE) == 2 and rm.agreed_version(None, {}, []) is None


def test_labels_per_client_and_their_checks():
    ids = [id_number(i) for i in range(25)]
    cols = {"id_no": np.array(ids + [" " + ids[0]], dtype=object),
            "label": np.array([0.0] * 25 + [1.0])}
    labels = client_labels(cols, sorted(ids))
    assert labels.tolist() == [1] + [0] * 24          # a client with any flagged account
    with pytest.raises(AppError, match="0 or 1; rows 2"):
        client_labels({**cols, "label": np.array([0.0, 2.0] + [0.0] * 24)}, sorted(ids))
    with pytest.raises(AppError, match="both classes"):
        client_labels({**cols, "label": np.zeros(26)}, sorted(ids))
    with pytest.raises(AppError, match="at least 20"):
        client_labels({"id_no": cols["id_no"][:5], "label": np.array([0.0, 1, 0, 1, 0])},
                      sorted(ids[:5]))


def test_training_spec_checks():
    base = {"model": "risk-score", "label_holder": "securities"}
    params = TRAINING.resolve_params(base)
    with pytest.raises(AppError, match="give the name only"):
        TRAINING.plan({**params, "model": "risk-score:v2"}, {}, "securities", None)
    with pytest.raises(AppError, match="newton_steps"):
        TRAINING.resolve_params({**base, "newton_steps": 50})
    spec = {"params": {**params, "app_version": "1", "roles": dict.fromkeys(COMPANIES,
                                                                            "exposures"),
                       "compute": COMPUTE,
                       "omitted": {c: ["label"] for c in COMPANIES}},
            "inputs": {c: {"dataset": "d", "columns": ["x"] * 8} for c in COMPANIES},
            "recipients": ["fund", "securities"]}
    problems = " | ".join(TRAINING.validate(spec))
    assert "securities must supply the label column" in problems
    assert "recipients must be [securities]" in problems
