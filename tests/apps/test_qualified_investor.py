"""The qualified-investor app in process: four companies against the plaintext decision,
the epoch cache, what a non-asking company receives, and refusals."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from yinji.apps import qualified_investor as qi
from yinji.apps.base import AppError
from yinji.node.runners import RunContext
from yinji.testing.parties import record_received, run_parties

FOUR = ["securities", "fund", "futures", "offshore"]
COLS = [c.name for c in qi.APP.roles[0].columns]
TODAY = dt.datetime.now(dt.UTC).date()


def client_ids(n, rng):
    return [f"{rng.integers(10**16, 10**17)}{rng.integers(0, 10)}" for _ in range(n)]


def holdings(rng, universe, offshore_fx=True):
    """Every company holds a random part of the universe; amounts around the thresholds."""
    data = {}
    for k, name in enumerate(FOUR):
        mine = [x for i, x in enumerate(universe) if i == 0 or rng.random() < 0.55]
        n = len(mine)
        cur = (rng.choice(["HKD", "USD", "CNY"], n) if name == "offshore" and offshore_fx
               else rng.choice(["CNY", "", "rmb"], n))
        first = []
        for _ in range(n):
            r = rng.random()
            if r < 0.2:
                first.append("")
            elif r < 0.4:
                first.append(f"{rng.uniform(0, 4):.2f}")  # years
            else:
                d = TODAY - dt.timedelta(days=int(rng.integers(0, 2000)))
                first.append(d.strftime(["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"][k % 3]))
        data[name] = {
            "id_no": np.array(mine, dtype=object),
            "currency": np.array(cur, dtype=object),
            "financial_assets": np.round(rng.lognormal(14, 1.2, n), 2),
            "net_assets": np.round(rng.normal(1e6, 1.5e6, n), 2),
            "avg_income": np.round(rng.lognormal(12, 1.0, n), 2),
            "first_account_date": np.array(first, dtype=object),
        }
    return data


def make_spec(params, requester, ids, compute=None):
    app = qi.APP
    p = app.resolve_params(params)
    roles = dict.fromkeys(FOUR, "holdings")
    p.update(app.plan(p, roles, requester, {"ids": ids}))
    spec = {"id": "run1", "protocol": app.protocol,
            "inputs": {n: {"dataset": "h", "columns": COLS} for n in FOUR},
            "params": {**p, "app_version": app.version, "roles": roles,
                       "compute": compute or app.default_compute(roles, requester, p)},
            "recipients": [requester]}
    assert app.validate(spec) == []
    return spec


def run_app(spec, data, ids, home, views=None, keys=None):
    requester = spec["params"]["requester"]
    stages = {}

    def body(party):
        me = party.name
        if views is not None:
            views[me] = record_received(party)
        log = stages.setdefault(me, [])
        ctx = RunContext(spec, me, party, data[me], lambda f, s: log.append(s), home,
                         {"ids": ids} if me == requester else None,
                         input_key=(keys or {}).get(me))
        return qi.APP.run(ctx)
    out = run_parties(body, names=FOUR)
    return out[FOUR.index(requester)], out, stages


@pytest.fixture(autouse=True)
def fresh_epochs():
    qi.EPOCHS.items.clear()
    qi.EPOCHS.rows.clear()
    yield
    qi.EPOCHS.items.clear()
    qi.EPOCHS.rows.clear()


@pytest.mark.parametrize("requester,preset,explain", [
    ("securities", "qualified", True), ("fund", "professional", False),
    ("offshore", "qualified", False)])
def test_decisions_match_plaintext(tmp_path, requester, preset, explain):
    rng = np.random.default_rng(21)
    universe = client_ids(60, rng)
    data = holdings(rng, universe)
    ids = [f" {x.lower()} " if i % 3 == 0 else x for i, x in enumerate(universe[:40])]
    ids += client_ids(2, rng)  # unknown to every company
    params = {"preset": preset, "explain": explain, "rates": "HKD=0.9123,USD=7.1034"}
    spec = make_spec(params, requester, ids)
    report, out, _ = run_app(spec, data, ids, tmp_path)
    want = qi.plaintext(data, ids, spec["params"], TODAY)
    rows = report.tables["clients"]["rows"]
    assert [r[0] for r in rows] == ids
    assert [r[1] for r in rows] == ["yes" if w else "no" for w in want]
    if explain:
        assert [r[2] for r in rows] == [qi.RULES.get(w, "") for w in want]
    assert 0 < sum(map(bool, want)) < len(want)  # the data exercise both answers
    assert sum(1 for o in out if o is not None) == 1  # only the requester gets a report


def test_thresholds_are_inclusive_and_fx_is_applied(tmp_path):
    """Edge values: exactly at a threshold qualifies, one cent below does not; HKD at the
    approved rate; experience is the earliest first account at any company."""
    two_years = TODAY.replace(year=TODAY.year - 2) if not (TODAY.month == 2 and TODAY.day == 29) \
        else TODAY.replace(year=TODAY.year - 2, day=28)
    ids = ["11010119800101001X", "110101198001010021", "110101198001010031",
           "110101198001010041", "110101198001010051"]
    rows = {  # company -> rows (id, currency, fa, na, inc, first)
        "securities": [(ids[0], "CNY", 2_500_000, 0, 0, two_years.isoformat()),
                       (ids[1], "CNY", 2_500_000, 0, 0, "5"),
                       (ids[3], "CNY", 0, 0, 400_000, "")],
        "fund": [(ids[0], "CNY", 1_500_000, 0, 0, "")],
        "futures": [(ids[1], "CNY", 2_499_999.99, 0, 0, "1"),
                    (ids[3], "CNY", 0, 0, 100_000, "2.5"),
                    (ids[4], "CNY", 9e9, 9e9, 9e9, "30")],
        "offshore": [(ids[0], "HKD", 1_000_000 / 0.91, 0, 0, ""),
                     (ids[2], "USD", 10_000_000, -5e6, 0, "3")],
    }
    data = {n: {c: np.array([r[j] for r in rs], dtype=object if j in (0, 1, 5) else float)
                for j, c in enumerate(COLS)} for n, rs in rows.items()}
    spec = make_spec({"explain": True, "rates": {"HKD": 0.91, "USD": 7.1}}, "fund", ids)
    report, _, _ = run_app(spec, data, ids, tmp_path)
    got = [r[2] for r in report.tables["clients"]["rows"]]
    want = qi.plaintext(data, ids, spec["params"], TODAY)
    assert got == [qi.RULES.get(w, "") for w in want]
    # 0: 2.5m + 1.5m + HKD 1.0989m * 0.91 = 5.0m, experience exactly 2 years
    # 1: 4,999,999.99 CNY: financial assets one cent short
    # 2: USD 10m qualifies on assets (net assets negative), 3 years
    # 3: income is the max over companies (400,000), not the sum; 5 years (max)
    assert want == [2, 0, 2, 3, 1]


def test_epoch_is_reused_and_rebuilt_when_data_change(tmp_path):
    rng = np.random.default_rng(22)
    universe = client_ids(30, rng)
    data = holdings(rng, universe)
    ids = universe[:5]
    spec = make_spec({}, "securities", ids)
    first, _, stages = run_app(spec, data, ids, tmp_path)
    assert "building the epoch's ledger" in stages["fund"]
    ids2 = universe[5:9]
    spec2 = make_spec({}, "securities", ids2)
    second, _, stages = run_app(spec2, data, ids2, tmp_path)
    assert all("reusing the epoch's ledger" in stages[n] for n in FOUR)
    assert [r[1] for r in second.tables["clients"]["rows"]] == \
        ["yes" if w else "no" for w in qi.plaintext(data, ids2, spec2["params"], TODAY)]
    data["futures"]["financial_assets"] = data["futures"]["financial_assets"] * 3
    third, _, stages = run_app(spec2, data, ids2, tmp_path)
    assert all("building the epoch's ledger" in stages[n] for n in FOUR)
    assert [r[1] for r in third.tables["clients"]["rows"]] == \
        ["yes" if w else "no" for w in qi.plaintext(data, ids2, spec2["params"], TODAY)]


def test_converted_input_is_kept_per_catalog_key(tmp_path, monkeypatch):
    """Same catalog content key: the rows are not converted again; a new key (the file
    changed) converts again and the ledger is rebuilt on the new figures."""
    calls = []
    real = qi.ledger_rows
    monkeypatch.setattr(qi, "ledger_rows", lambda cols, today: calls.append(1) or
                        real(cols, today))
    rng = np.random.default_rng(23)
    universe = client_ids(20, rng)
    data = holdings(rng, universe)
    ids = universe[:3]
    spec = make_spec({}, "fund", ids)
    keys = {n: f"k-{n}-1" for n in FOUR}
    run_app(spec, data, ids, tmp_path, keys=keys)
    assert len(calls) == 4
    _, _, stages = run_app(spec, data, ids, tmp_path, keys=keys)
    assert len(calls) == 4 and all("reusing the epoch's ledger" in stages[n] for n in FOUR)
    data["futures"]["financial_assets"] = data["futures"]["financial_assets"] * 3
    keys["futures"] = "k-futures-2"
    got, _, stages = run_app(spec, data, ids, tmp_path, keys=keys)
    assert len(calls) == 5 and "building the epoch's ledger" in stages["fund"]
    assert [r[1] for r in got.tables["clients"]["rows"]] == \
        ["yes" if w else "no" for w in qi.plaintext(data, ids, spec["params"], TODAY)]


def test_other_companies_views_do_not_depend_on_the_client_checked(tmp_path):
    """With the epoch built, check client A, then client B (each held by two companies) and
    client C (held by all four): what every non-requesting company receives has the same
    senders, dtypes and shapes; the fourth company (securities: neither computing nor
    asking) receives only the cache flags."""
    rng = np.random.default_rng(23)
    universe = client_ids(20, rng)
    data = holdings(rng, universe)
    a, b, c = "110101199001011111", "110101199001012222", "110101199001013333"
    for name, holds in (("securities", (a, c)), ("fund", (b, c)), ("futures", (a, c)),
                        ("offshore", (b, c))):
        cols = data[name]
        extra = len(holds)
        cols["id_no"] = np.concatenate([cols["id_no"], np.array(holds, dtype=object)])
        cols["currency"] = np.concatenate([cols["currency"], np.array(["CNY"] * extra, object)])
        for k in ("financial_assets", "net_assets", "avg_income"):
            cols[k] = np.concatenate([cols[k], np.full(extra, 1e6)])
        cols["first_account_date"] = np.concatenate([cols["first_account_date"],
                                                     np.array(["3"] * extra, object)])
    compute = ["fund", "offshore", "futures"]  # fund asks; L = futures; securities: 4th
    spec = make_spec({"explain": True}, "fund", [a], compute=compute)
    run_app(spec, data, [a], tmp_path)  # builds
    shapes = {}
    for x in (a, b, c):
        views = {}
        spec = make_spec({"explain": True}, "fund", [x], compute=compute)
        run_app(spec, data, [x], tmp_path, views)
        shapes[x] = {n: [(p, str(getattr(m, "dtype", "bytes")), getattr(m, "shape", len(m)))
                         for p, m in v] for n, v in views.items()}
    assert qi.APP._roles(spec).lookup == "futures"
    for n in ("securities", "futures", "offshore"):
        assert shapes[a][n] == shapes[b][n] == shapes[c][n]
    assert shapes[a]["securities"] == [(n, "bytes", 1) for n in ("fund", "futures",
                                                                   "offshore")]


def test_refusals():
    ids = ["110101199001011234"]
    with pytest.raises(AppError, match="over the bound of 1000"):
        make_spec({}, "fund", [f"1101011990{i:08d}" for i in range(1001)])
    with pytest.raises(AppError, match="non-empty list"):
        make_spec({}, "fund", [])
    with pytest.raises(ValueError, match="duplicate ID"):
        make_spec({}, "fund", ids + [" " + ids[0]])
    with pytest.raises(AppError, match="rates"):
        make_spec({"rates": "HKD=0.9"}, "fund", ids)
    with pytest.raises(AppError, match="rates"):
        make_spec({"rates": "HKD=0.9,USD=70"}, "fund", ids)
    with pytest.raises(AppError, match="professional"):
        make_spec({"preset": "professional", "net_assets_min": 3e6}, "fund", ids)
    with pytest.raises(AppError, match="at most 1e"):
        make_spec({"financial_assets_min": 1e12}, "fund", ids)
    spec = make_spec({}, "fund", ids)
    spec["params"]["lookup"] = "fund"
    assert any("must not be the lookup party" in p for p in qi.APP.validate(spec))
    spec = make_spec({}, "fund", ids)
    spec["recipients"] = ["fund", "futures"]
    assert any("only recipient" in p for p in qi.APP.validate(spec))
    spec = make_spec({}, "fund", ids)
    spec["proposer"] = "futures"
    assert any("must be the proposer" in p for p in qi.APP.validate(spec))


def test_bad_rows_are_refused_naming_the_row():
    base = {"id_no": ["110101199001011234"], "currency": ["EUR"], "financial_assets": [1.0],
            "net_assets": [0.0], "avg_income": [0.0], "first_account_date": [""]}
    with pytest.raises(AppError, match="row 1: currency 'EUR'"):
        qi.ledger_rows(base, TODAY)
    for col, bad, msg in (("financial_assets", -5, "non-negative"),
                          ("avg_income", "abc", "not a number"),
                          ("net_assets", 2e10, "at most"),
                          ("first_account_date", "2999-01-01", "between 1900 and today"),
                          ("first_account_date", "soon", "neither a date")):
        row = {**base, "currency": ["HKD"], col: [bad]}
        with pytest.raises(AppError, match=f"row 1: {col}.*{msg}") as err:
            qi.ledger_rows(row, TODAY)
        assert str(bad) not in str(err.value)  # a failed run's reason reaches the others


def test_used_up_padding_rows_make_the_next_run_rebuild(tmp_path):
    rng = np.random.default_rng(24)
    universe = client_ids(10, rng)
    data = holdings(rng, universe)
    unknown = client_ids(2, rng)  # held by nobody: 4 padding rows each
    spec = make_spec({"dummies": 0}, "securities", unknown)
    first, _, stages = run_app(spec, data, unknown, tmp_path)
    assert "building the epoch's ledger" in stages["fund"]
    second, _, stages = run_app(spec, data, unknown, tmp_path)
    assert all("building the epoch's ledger" in stages[n] for n in FOUR)  # L said: used up
    assert [r[1] for r in second.tables["clients"]["rows"]] == ["no", "no"]
