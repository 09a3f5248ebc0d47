"""yinji.ml.prep: fit/apply against a plaintext reference, edge cases, JSON round trips, the
registry's prep.json, and the joint (secure aggregation) fit against the pooled statistics."""

import json

import numpy as np
import pytest

from yinji.ml import prep
from yinji.ml.prep import PrepError


def table(rng, n=200):
    inc = rng.normal(50, 20, n)
    inc[rng.random(n) < 0.1] = np.nan
    inc[rng.random(n) < 0.05] = 999.0                     # a sentinel code
    city = rng.choice(["Beijing", "Shanghai", "Shenzhen", ""], n, p=[.5, .3, .15, .05])
    return {"inc": inc, "city": city.astype(object), "debt": rng.normal(-3, 2, n)}


def reference(t, inc_fit, city_fit):
    """Plaintext: sentinel 999 and NaN missing, median of the fitting rows, indicator; city
    one-hot over the fitting rows' sorted categories, empty as missing."""
    ref_inc = np.where(inc_fit == 999, np.nan, inc_fit)
    med = np.nanmedian(ref_inc)
    inc = np.where(t["inc"] == 999, np.nan, t["inc"])
    cats = sorted({c for c in city_fit if c})
    cols = [np.where(np.isnan(inc), med, inc), np.isnan(inc)]
    cols += [t["city"] == c for c in cats] + [t["city"] == ""]
    return np.column_stack(cols + [t["debt"]]).astype(float)


@pytest.mark.parametrize("seed", range(5))
def test_fit_apply_equals_plaintext(seed):
    rng = np.random.default_rng(seed)
    tr, te = table(rng), table(rng, 50)
    state = prep.fit({"inc": {"missing": [999]}}, ["inc", "city", "debt"], tr)
    assert prep.output_columns(state) == ["inc", "inc[missing]", "city[0]", "city[1]",
                                          "city[2]", "city[missing]", "debt"]
    for t in (tr, te):   # test rows use the training rows' statistics
        assert np.allclose(prep.apply(state, t), reference(t, tr["inc"], tr["city"]))


def test_json_round_trip_and_determinism():
    rng = np.random.default_rng(1)
    t = table(rng)
    spec = {"inc": {"missing": [999], "clip": {"quantiles": [0.05, 0.95]}},
            "city": {"kind": "text", "max_categories": 2, "overflow": "other"},
            "debt": {"impute": "mean", "indicator": True, "clip": [-5, None]}}
    state = prep.fit(spec, ["inc", "city", "debt"], t)
    back = json.loads(prep.dumps(state))
    assert back == state and prep.fit(spec, ["inc", "city", "debt"], t) == state
    assert np.array_equal(prep.apply(back, t), prep.apply(state, t))
    x = prep.apply(state, t)
    assert x[:, 0].min() >= state["columns"][0]["clip"][0]          # quantile clip
    assert x[:, 0].max() <= state["columns"][0]["clip"][1]
    assert x[:, -2].min() >= -5 and x[:, -1].sum() == 0               # declared clip, indicator
    city = state["columns"][1]
    assert city["categories"] == ["Beijing", "Shanghai"] and city["other"]   # top 2 kept


def test_edge_cases():
    cols = ["allmiss", "one", "neg"]
    t = {"allmiss": [None, "", None], "one": ["a", "a", "a"], "neg": [-1e12, -3.0, 7.0]}
    state = prep.fit({"one": {"kind": "text"}}, cols, t)
    assert prep.output_columns(state) == ["allmiss", "allmiss[missing]", "one[0]", "neg"]
    assert np.array_equal(prep.apply(state, t), [[0, 1, 1, -1e12], [0, 1, 1, -3], [0, 1, 1, 7]])
    # unseen category and missing at prediction: no other bucket fitted -> all zeros;
    # a value in an all-missing column is taken as is
    assert np.array_equal(prep.apply(state, {"allmiss": [5.0], "one": ["b"], "neg": [np.nan]}),
                          [[5, 0, 0, -3]])
    # one row, duplicates
    s1 = prep.fit({}, ["v"], {"v": [2.5]})
    assert np.array_equal(prep.apply(s1, {"v": [2.5, 2.5, None]}), [[2.5], [2.5], [2.5]])
    # empty table: nothing to fit -> fill 0, no indicator; applies to 0 rows
    s0 = prep.fit({}, ["v"], {"v": np.zeros(0)})
    assert prep.apply(s0, {"v": np.zeros(0)}).shape == (0, 1)


def test_unseen_category_goes_to_other_and_new_missing_code():
    tr = {"job": ["a", "b", "c", "c", "N/A"]}
    state = prep.fit({"job": {"kind": "text", "min_count": 2, "missing": ["N/A"]}}, ["job"], tr)
    assert prep.output_columns(state) == ["job[0]", "job[other]", "job[missing]"]
    x = prep.apply(state, {"job": ["c", "zzz", "a", "N/A", ""]})
    assert np.array_equal(x, [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]])
    num = prep.fit({"v": {"missing": [-1]}}, ["v"], {"v": [1.0, 2.0, 3.0]})
    assert prep.output_columns(num) == ["v"]        # no missing while fitting: no indicator
    assert np.array_equal(prep.apply(num, {"v": [-1, np.nan]}), [[2.0], [2.0]])  # median


def test_text_sentinel_in_a_numeric_column():
    """A declared text code ("N/A") is missing, so the column is still numeric."""
    t = {"v": np.array(["1", "N/A", "3", ""], dtype=object)}
    state = prep.fit({"v": {"missing": ["N/A"]}}, ["v"], t)
    assert prep.output_columns(state) == ["v", "v[missing]"]
    assert prep.apply(state, t).tolist() == [[1, 0], [2, 1], [3, 0], [2, 1]]


def test_errors_name_the_column():
    with pytest.raises(PrepError, match="'inc' is infinite on 1 row"):
        prep.fit({}, ["inc"], {"inc": [1.0, np.inf]})
    state = prep.fit({}, ["inc"], {"inc": [1.0, 2.0]})
    with pytest.raises(PrepError, match="'inc' is infinite"):
        prep.apply(state, {"inc": [-np.inf]})
    with pytest.raises(PrepError, match="'inc' is missing from the input"):
        prep.apply(state, {"income": [1.0]})
    with pytest.raises(PrepError, match="'inc' has 1 missing value"):
        prep.fit({"inc": {"impute": "none"}}, ["inc"], {"inc": [1.0, np.nan]})
    strict = prep.fit({"inc": {"impute": "none"}}, ["inc"], {"inc": [1.0]})
    with pytest.raises(PrepError, match="'inc' has 1 missing value"):
        prep.apply(strict, {"inc": [np.nan]})
    with pytest.raises(PrepError, match="'inc' has a value that is not a number") as e:
        prep.fit({"inc": {"kind": "numeric"}}, ["inc"], {"inc": ["1", "secret-name"]})
    assert "secret-name" not in str(e.value)
    many = {"name": [f"n{i}" for i in range(30)]}
    with pytest.raises(PrepError, match="text column 'name' has 30 categories"):
        prep.fit({}, ["name"], many)
    with pytest.raises(PrepError, match="'x'.*kind must be one of"):
        prep.fit({"x": {"kind": "date"}}, ["x"], {"x": [1]})
    with pytest.raises(PrepError, match="declares 'y', which is not an input column"):
        prep.fit({"y": {}}, ["x"], {"x": [1]})


def test_woe_hook():
    spec = {"s": {"kind": "woe", "edges": [0, 10], "woe": [-1.0, 0.5, 2.0], "missing_woe": 9,
                  "missing": [-99]}}
    state = prep.fit(spec, ["s"], {"s": [1.0]})
    x = prep.apply(state, {"s": [-5, 0, 0.1, 10, 11, -99, None]})
    assert x.ravel().tolist() == [-1, -1, 0.5, 0.5, 2, 9, 9]   # right-closed bins


def test_registry_stores_prep_and_predicts_from_raw_columns(tmp_path):
    from yinji.ml.registry import ModelMeta, ModelRegistry, prepared_rows

    t = {"inc": [1.0, None, 3.0], "city": ["a", "b", "a"]}
    state = prep.fit({}, ["inc", "city"], t)
    reg = ModelRegistry(tmp_path, "A")
    meta = ModelMeta("m", 0, "fedavg", ["A"], {"A": prep.output_columns(state)}, "A",
                     params={"inputs": {"A": ["inc", "city"]}})
    reg.save(meta, {"w": [1, 2]}, prep=state)
    assert reg.load_prep("m", 1) == state
    public = json.loads((tmp_path / "m" / "v1" / "model.json").read_text())
    assert public["features"] == {"A": ["inc", "inc[missing]", "city[0]", "city[1]"]}
    assert "categories" not in json.dumps(public)       # fitted state stays in prep.json
    m, _ = reg.load("m")
    assert np.array_equal(prepared_rows(reg, m, t), prep.apply(state, t))
    with pytest.raises(PrepError, match="'city' is missing"):
        prepared_rows(reg, m, {"inc": [1.0]})
    with pytest.raises(ValueError):   # bad state: nothing written
        reg.save(ModelMeta("bad", 0, "fedavg", ["A"], {}, "A"), {"w": [1]},
                 prep={"format": 1, "columns": [{"fill": float("nan")}]})
    assert not (tmp_path / "bad").exists()
    # a model stored without preprocessing takes numbers as they are, and refuses a gap
    reg.save(ModelMeta("old", 0, "fedavg", ["A"], {"A": ["inc"]}, "A"), {"w": [1]})
    old, _ = reg.load("old")
    assert prepared_rows(reg, old, {"inc": [1.0, 2.0]}).tolist() == [[1.0], [2.0]]
    with pytest.raises(ValueError, match="missing or infinite values in 'inc'"):
        prepared_rows(reg, old, {"inc": [1.0, np.nan]})


# ------------------------------------------------------------------ joint fit (horizontal)
JOINT = {"inc": {"kind": "numeric", "impute": "mean", "missing": [999]},
         "age": {"kind": "numeric", "bins": list(range(20, 71, 5))},
         "city": {"kind": "text", "categories": ["Beijing", "Shanghai", "Shenzhen", "Xian"]},
         "debt": {"kind": "numeric", "impute": "constant", "fill": 0.0, "clip": [-10, 10]}}
COLS = ["inc", "age", "city", "debt"]


def joint_tables(rng, sizes=(120, 60, 30)):
    out = []
    for n in sizes:
        t = table(rng, n)
        t["age"] = rng.uniform(18, 75, n)
        t["city"][:3] = "Chengdu"   # outside the declared list: other
        out.append(t)
    return out


def run_joint(tables, record=None):
    from yinji.testing.parties import record_received, run_parties

    clients = [f"C{i}" for i in range(len(tables))]
    seen = {}

    def body(party):
        if record and party.name in record:
            seen[party.name] = record_received(party)
        if party.name == "S":
            return prep.joint_fit_server(party, clients, JOINT, COLS)
        return prep.joint_fit_client(party, "S", clients, JOINT, COLS,
                                     tables[clients.index(party.name)])

    return run_parties(body, names=["S", *clients], timeout=60), seen


def test_joint_fit_equals_pooled_statistics():
    rng = np.random.default_rng(3)
    tables = joint_tables(rng)
    states, _ = run_joint(tables)
    assert all(s == states[0] for s in states)            # every client gets the server's
    pooled = {c: np.concatenate([np.asarray(t[c]) for t in tables]) for c in COLS}
    inc = np.where(pooled["inc"] == 999, np.nan, pooled["inc"])
    st = {c["name"]: c for c in states[0]["columns"]}
    assert st["inc"]["fill"] == pytest.approx(np.nanmean(inc), abs=1e-3)
    assert st["inc"]["indicator"] and st["inc"]["fitted_missing"] == int(np.isnan(inc).sum())
    exact = np.median(pooled["age"])                       # histogram median: within its bin
    assert abs(st["age"]["fill"] - exact) <= 5 and not st["age"]["indicator"]
    assert st["city"]["categories"] == ["Beijing", "Shanghai", "Shenzhen"]   # Xian unseen
    assert st["city"]["other"] and st["city"]["indicator"]
    assert st["debt"]["fill"] == 0.0 and st["debt"]["clip"] == [-10.0, 10.0]
    # the pooled local fit of the same declarations gives the same state (median aside)
    local = prep.fit({**JOINT, "age": {"kind": "numeric", "impute": "mean"}}, COLS, pooled)
    loc = {c["name"]: c for c in local["columns"]}
    assert loc["inc"]["fill"] == pytest.approx(st["inc"]["fill"], abs=1e-3)
    assert loc["city"]["categories"] == st["city"]["categories"]


def test_joint_fit_client_view_depends_only_on_the_pool():
    """A client receives the same bytes from the server (besides the masked aggregation's
    fresh keys) whichever way the same rows are dealt among the others. (Integer incomes:
    each client's sum is rounded to 2^-8 before aggregation, so a mean of fractional values
    may move in its last bits with the partition.)"""
    rng = np.random.default_rng(4)
    tables = joint_tables(rng)
    for t in tables:
        t["inc"] = np.round(t["inc"])
    _, seen_a = run_joint(tables, record={"C0"})
    _, seen_b = run_joint([tables[0], *_redeal(tables[1], tables[2], rng)], record={"C0"})
    last = [m for _, m in seen_a["C0"]][-1], [m for _, m in seen_b["C0"]][-1]
    assert json.loads(last[0]) == json.loads(last[1])


def _redeal(a, b, rng):
    """The rows of a and b dealt anew into two tables of other sizes."""
    rows = {c: np.concatenate([np.asarray(a[c]), np.asarray(b[c])]) for c in COLS}
    order = rng.permutation(len(rows["inc"]))
    cut = len(order) // 3
    return [{c: rows[c][order[:cut]] for c in COLS}, {c: rows[c][order[cut:]] for c in COLS}]


def test_joint_fit_refusals():
    with pytest.raises(PrepError, match="'age': a joint median needs declared public bins"):
        prep.joint_statistics({"age": {"kind": "numeric"}}, ["age"], {"age": [1.0]})
    with pytest.raises(PrepError, match="'city': joint fitting of a text column needs"):
        prep.joint_statistics({"city": {"kind": "text"}}, ["city"], {"city": ["a"]})
    with pytest.raises(PrepError, match="'v': sum .* too large for secure aggregation"):
        prep.joint_statistics({"v": {"kind": "numeric", "impute": "mean"}}, ["v"],
                              {"v": [2.0**53]})


def test_cli_model_show_prints_the_preprocessing(tmp_path, capsys):
    from yinji.cli.main import main
    from yinji.ml.registry import ModelMeta, ModelRegistry

    state = prep.fit({"inc": {"missing": [999]}}, ["inc", "city"],
                     {"inc": [1.0, 999, 3.0], "city": ["north", "south", "north"]})
    meta = ModelMeta("m", 0, "secureboost", ["A", "B"],
                     {"A": prep.output_columns(state), "B": ["x"]}, "A",
                     params={"inputs": {"A": ["inc", "city"], "B": ["x"]}})
    ModelRegistry(tmp_path, "A").save(meta, {"trees": []}, prep=state)
    assert main(["model", "show", "--registry", str(tmp_path), "m"]) == 0
    out = capsys.readouterr().out
    assert "A: inc, city -> 4 feature(s): inc, inc[missing], city[0], city[1]" in out
    assert "B: x -> 1 feature(s): x" in out
    assert "inc: numeric, impute median = 2, + missing indicator, missing codes [999]" in out
    assert "city: text one-hot [0]=north, [1]=south" in out


def test_public_output_names_do_not_depend_on_the_values():
    """What other parties see of a party's preprocessing (model.json's feature names) is the
    same for two tables with other category values, medians and bounds but the same shape:
    only the number of categories and whether something was missing show."""
    rng = np.random.default_rng(9)
    spec = {"v": {"clip": {"quantiles": [0.1, 0.9]}}, "c": {"kind": "text"}}
    a = {"v": np.r_[rng.normal(0, 1, 50), np.nan], "c": rng.choice(["x", "y", "z"], 51)}
    b = {"v": np.r_[rng.normal(1e6, 5e5, 50), np.nan],
         "c": rng.choice(["secret-a", "secret-b", "secret-c"], 51)}
    sa, sb = prep.fit(spec, ["v", "c"], a), prep.fit(spec, ["v", "c"], b)
    assert sa != sb and prep.output_columns(sa) == prep.output_columns(sb)
    assert not any("secret" in n for n in prep.output_columns(sb))


def test_fedavg_on_jointly_fitted_preprocessing_matches_the_pooled_model():
    """Horizontal end to end: three clients with text and missing cells fit the
    preprocessing jointly (secure aggregation), apply it to their own rows and train FedAvg
    (Newton); the model equals scikit-learn's on the pooled rows preprocessed by the pooled
    plaintext fit of the same declarations."""
    from sklearn.linear_model import LogisticRegression

    from yinji.ml.fedavg import FedAvg, fedavg_client, fedavg_server
    from yinji.testing.parties import run_parties

    rng = np.random.default_rng(12)
    spec = {"inc": {"kind": "numeric", "impute": "mean", "missing": [999]},
            "city": {"kind": "text", "categories": ["Beijing", "Shanghai", "Shenzhen"]},
            "debt": {"kind": "numeric", "impute": "mean"}}
    cols = list(spec)
    tables, labels = [], []
    for n in (300, 200, 100):
        t = table(rng, n)
        t["city"] = np.where(t["city"] == "", "Chengdu", t["city"]).astype(object)
        t["city"][rng.random(n) < 0.05] = ""
        score = np.nan_to_num(np.where(t["inc"] == 999, 0, t["inc"] - 50)) / 20 + \
            (t["city"] == "Beijing") - 0.5 * t["debt"] / 2
        labels.append((score + rng.logistic(size=n) > 0).astype(float))
        tables.append(t)
    clients = ["C0", "C1", "C2"]
    cfg = FedAvg(solver="newton")

    def body(party):
        if party.name == "S":
            state = prep.joint_fit_server(party, clients, spec, cols)
            return state, fedavg_server(party, clients, cfg, len(prep.output_columns(state)))
        i = clients.index(party.name)
        state = prep.joint_fit_client(party, "S", clients, spec, cols, tables[i])
        x = prep.apply(state, tables[i])
        fedavg_client(party, "S", clients, cfg, x, labels[i],
                      columns=prep.output_columns(state))
        return None

    state, res = run_parties(body, names=["S", *clients], timeout=60)[0]
    pooled = {c: np.concatenate([np.asarray(t[c]) for t in tables]) for c in cols}
    y = np.concatenate(labels)
    central = prep.fit(spec, cols, pooled)
    assert prep.output_columns(central) == prep.output_columns(state)
    x = prep.apply(central, pooled)
    assert np.allclose(prep.apply(state, pooled), x, atol=1e-3)
    xs = (x - x.mean(0)) / x.std(0)
    sk = LogisticRegression(C=1.0 / (cfg.l2 * len(y)), tol=1e-10, max_iter=10000).fit(xs, y)
    ours = cfg.predict(res.params, res.standardise(x))
    assert np.max(np.abs(ours - sk.predict_proba(xs)[:, 1])) < 1e-3
