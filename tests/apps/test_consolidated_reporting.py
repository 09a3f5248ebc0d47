"""The consolidated-reporting app in process: four companies and the group node against the
plaintext computation (duplicates, shared clients, empty company, suppression edges, FX with
negative revenue), what the lookup/recipient and the companies receive, and refusals."""

from __future__ import annotations

import numpy as np
import pytest

from yinji.apps import consolidated_reporting as cr
from yinji.apps.base import AppError
from yinji.apps.consolidated_report import SHEETS, VALUE_COLUMNS
from yinji.node.runners import RunContext
from yinji.testing.parties import record_received, run_parties

FOUR = ["fund", "futures", "offshore", "securities"]
GROUP = "group"
COLS = [c.name for c in cr.APP.roles[0].columns]
SMALL = {"segments": ["retail", "private"], "product_lines": ["equities", "funds"],
         "regions": ["north", "hk"]}


def ids(n, rng):
    return [f"{rng.integers(10**16, 10**17)}{rng.integers(0, 10)}" for _ in range(n)]


def books(rng, universe, share=0.5, params=SMALL, empty=()):
    """Every company: a random part of the universe, 1-3 product rows per client (several
    rows per client, sometimes the same cell twice), offshore in HKD/USD/CNY, revenue of
    either sign."""
    out = {}
    for h in FOUR:
        rows = []
        for x in universe:
            if h in empty or rng.random() > share:
                continue
            for _ in range(int(rng.integers(1, 4))):
                cur = str(rng.choice(["HKD", "USD", "CNY"])) if h == "offshore" else \
                    str(rng.choice(["CNY", "", "rmb"]))
                rows.append([x if rng.random() < 0.8 else f" {x.lower()} ",
                             str(rng.choice(params["product_lines"])),
                             str(rng.choice(params["segments"])).upper(),
                             str(rng.choice(params["regions"])),
                             round(float(rng.lognormal(12, 2)), 2),
                             round(float(rng.normal(1e4, 3e4)), 2), cur])
        out[h] = {c: np.array([r[j] for r in rows],
                              dtype=float if c in ("holdings", "revenue") else object)
                  for j, c in enumerate(COLS)}
    return out


def make_spec(params, compute=None):
    app = cr.APP
    p = app.resolve_params({"recipient": GROUP, **params})
    roles = dict.fromkeys(FOUR, "book")
    spec = {"id": "run1", "protocol": app.protocol,
            "inputs": {n: {"dataset": "b", "columns": COLS} for n in FOUR},
            "params": {**p, "app_version": app.version, "roles": roles,
                       "compute": compute or app.default_compute(roles, GROUP, p)},
            "recipients": app.default_recipients(roles, GROUP, p)}
    assert app.validate(spec) == [], app.validate(spec)
    return spec


def run_app(spec, data, views=None):
    def body(party):
        if views is not None:
            views[party.name] = record_received(party)
        ctx = RunContext(spec, party.name, party, data.get(party.name), lambda f, s: None)
        return cr.APP.run(ctx)
    return dict(zip(FOUR + [GROUP], run_parties(body, names=FOUR + [GROUP]), strict=True))


def figures(report):
    return report.data["figures"]


@pytest.mark.parametrize("seed", [1, 2])
def test_against_plaintext(seed):
    rng = np.random.default_rng(seed)
    data = books(rng, ids(60, rng))
    spec = make_spec({**SMALL, "min_cohort": 4, "rates": "HKD=0.9123,USD=7.1050"})
    out = run_app(spec, data)
    want = cr.plaintext(data, spec["params"])
    assert figures(out[GROUP]) == want
    assert all(out[h] is None for h in FOUR)
    shown = [v for v in want if v is not None]
    hidden = [v for v in want if v is None]
    assert shown and hidden  # the data exercise both
    # offshore is an input party by default
    assert spec["params"]["compute"] == ["fund", "futures", "securities"]


def test_distinct_and_venn_by_hand():
    """A small book whose figures are known: distinct clients count once however many
    rows and companies hold them; one company with no clients at all."""
    u = [f"1101011990010{i:04d}{i % 10}" for i in range(12)]
    def rows(xs, reps=1, cur="CNY"):
        r = [x for x in xs for _ in range(reps)]
        return {"id_no": np.array(r, object), "product_line": np.array(["funds"] * len(r), object),
                "segment": np.array(["retail"] * len(r), object),
                "region": np.array(["north"] * len(r), object),
                "holdings": np.full(len(r), 100.0), "revenue": np.full(len(r), -1.5),
                "currency": np.array([cur] * len(r), object)}
    data = {"fund": rows(u[:8], 3), "futures": rows(u[4:12], 2),
            "securities": rows(u[:4]), "offshore": rows([], 1)}
    spec = make_spec({**SMALL, "min_cohort": 3})
    rep_ = run_app(spec, data)[GROUP]
    overlap = {r[0]: r[2] for r in rep_.tables["Overlap"]["rows"]}
    assert overlap["fund + securities"] == 4
    assert overlap["fund + futures"] == 4
    assert overlap["futures"] == 4
    totals = {r[0]: r[1] for r in rep_.tables["Overlap totals"]["rows"]}
    assert totals["distinct clients"] == 12
    assert totals["clients of offshore"] is None          # 0 < min_cohort: suppressed
    assert rep_.data["distinct_clients"] == 12
    cell = next(r for r in rep_.tables["Cells"]["rows"] if r[:3] == ["retail", "funds", "north"])
    assert cell[3] == 12 and cell[4] == pytest.approx(100.0 * (24 + 16 + 4))
    assert cell[5] == pytest.approx(-1.5 * 44)
    assert figures(rep_) == cr.plaintext(data, spec["params"])


def test_suppression_edge_exactly_min_cohort():
    """A cell of exactly min_cohort clients is published, one fewer is suppressed, and its
    segment margin goes too when it is the only suppressed cell there (differencing)."""
    u = [f"44030119850101{i:03d}{i % 10}" for i in range(9)]
    def rows(xs, product):
        return {"id_no": np.array(xs, object), "product_line": np.array([product] * len(xs), object),
                "segment": np.array(["retail"] * len(xs), object),
                "region": np.array(["north"] * len(xs), object),
                "holdings": np.arange(1.0, len(xs) + 1), "revenue": np.zeros(len(xs)),
                "currency": np.array(["CNY"] * len(xs), object)}
    data = {"fund": rows(u[:5], "funds"), "futures": rows(u[5:], "equities"),
            "securities": rows([], "funds"), "offshore": rows([], "funds")}
    spec = make_spec({"segments": ["retail"], "product_lines": ["equities", "funds"],
                      "regions": ["north"], "min_cohort": 5})
    rep_ = run_app(spec, data)[GROUP]
    cells = {r[1]: r for r in rep_.tables["Cells"]["rows"]}
    assert cells["funds"][3] == 5 and cells["funds"][4] == 15.0
    assert cells["equities"][3:] == [None, None, None, "yes"]
    seg = rep_.tables["By segment"]["rows"][0]
    assert seg[1:] == [None, None, None, "yes"]            # 9 >= 5, but total - funds = equities
    assert figures(rep_) == cr.plaintext(data, spec["params"])


def test_audit_rule():
    from yinji.apps.consolidated_tables import audit
    vec = [np.array([1, 1, 0, 0]), np.array([0, 0, 1, 1]), np.array([1, 0, 1, 0]),
           np.array([0, 1, 0, 1]), np.ones(4, int)]
    # one suppressed cell in each row/column margin: all margins through it go
    out = audit(np.array([1, 0, 0, 0], bool), vec, np.zeros(5, bool))
    assert out[0] and out[2] and out[4] and not out[1] and not out[3]
    # two suppressed cells in one row: the row margin shows their sum only, but the column
    # margins would pin each down
    out = audit(np.array([1, 1, 0, 0], bool), vec, np.zeros(5, bool))
    assert out[2] and out[3]
    assert not audit(np.zeros(4, bool), vec, np.zeros(5, bool)).any()


def test_views_do_not_depend_on_who_is_shared():
    """Two runs with the same per-company client counts, one where the companies share no
    clients and one where they share many: a non-recipient company receives share
    components and blinded points only, the recipient/lookup party only the opened tags
    (pseudorandom), the grouping it computes, and the published figures."""
    from yinji.testing.parties import looks_uniform

    rng = np.random.default_rng(5)
    u = ids(120, rng)
    disjoint = {h: u[30 * k:30 * k + 30] for k, h in enumerate(FOUR)}
    shared = {h: u[:20] + u[30 * k + 20:30 * k + 30] for k, h in enumerate(FOUR)}
    shapes, grouping = [], []
    for split in (disjoint, shared):
        data = {h: {"id_no": np.array(xs, object),
                    "product_line": np.array(["funds"] * 30, object),
                    "segment": np.array(["retail"] * 30, object),
                    "region": np.array(["north"] * 30, object),
                    "holdings": np.ones(30), "revenue": np.ones(30),
                    "currency": np.array(["CNY"] * 30, object)} for h, xs in split.items()}
        views = {}
        spec = make_spec({**SMALL, "noise": 0, "min_cohort": 3})
        out = run_app(spec, data, views)
        assert figures(out[GROUP]) == cr.plaintext(data, spec["params"])
        for h in FOUR:
            assert looks_uniform(views[h], min_size=512) == []
        # the offshore company (an input party) receives the same whichever are shared
        shapes.append([(p, getattr(m, "shape", None)) for p, m in views["offshore"]])
        # a compute party's only plaintext message is the grouping: the class sizes, i.e.
        # (with noise 0) how many clients are at exactly m companies, nothing else
        got = [m for p, m in views["fund"] if p == GROUP]
        assert len(got) == 1
        sizes = np.bincount(np.bincount(got[0]), minlength=5)[1:]
        grouping.append(list(sizes))
        # the recipient receives from the companies only OPRF-free share components: the
        # opened tags (as components), the mask and the figures
        assert all(p in spec["params"]["compute"] for p, _ in views[GROUP])
        # ... and of the figures only the published ones: no suppressed value is opened
        published = sum(v is not None for v in figures(out[GROUP]))
        assert [m.shape for _, m in views[GROUP][-3:]] == [(published,)] * 3
        assert published < len(figures(out[GROUP]))
    assert shapes[0] == shapes[1]
    assert grouping == [[120, 0, 0, 0], [40, 0, 0, 20]]


def test_noise_pads_the_class_histogram():
    """With noise, the lookup party sees more classes than clients, by at most 3 x noise per
    size; the figures are unchanged."""
    from yinji.psi import overlap

    rng = np.random.default_rng(7)
    data = books(rng, ids(30, rng))
    seen = {}
    real = overlap._lookup

    def spy(party, compute, n):
        rec = record_received(party)
        out = real(party, compute, n)
        seen["rows"] = len(rec[0][1])
        return out
    overlap._lookup = spy
    try:
        spec = make_spec({**SMALL, "noise": 15, "min_cohort": 3})
        out = run_app(spec, data)
    finally:
        overlap._lookup = real
    assert figures(out[GROUP]) == cr.plaintext(data, spec["params"])
    real_rows = sum(len({x.strip() for x in b["id_no"]}) for b in data.values())
    assert real_rows <= seen["rows"] <= real_rows + 3 * 15 * (1 + 2 + 3 + 4)


def test_refusals():
    app = cr.APP
    with pytest.raises(AppError, match="min_cohort"):
        app.resolve_params({"recipient": GROUP, "min_cohort": 1})
    with pytest.raises(AppError, match="rates"):
        app.resolve_params({"recipient": GROUP, "rates": "HKD=0.9"})
    with pytest.raises(AppError, match="rates"):
        app.resolve_params({"recipient": GROUP, "rates": "HKD=0.9,USD=70"})
    with pytest.raises(AppError, match="report_date"):
        app.resolve_params({"recipient": GROUP, "report_date": "2026-13-01"})
    with pytest.raises(AppError, match="recipient"):
        app.resolve_params({})
    with pytest.raises(AppError, match="cells"):
        app.resolve_params({"recipient": GROUP, "segments": [f"s{i}" for i in range(50)],
                            "regions": [f"r{i}" for i in range(50)]})
    spec = make_spec(SMALL)
    bad = {**spec, "recipients": [GROUP, "fund"]}
    assert any("only recipient" in p for p in app.validate(bad))
    own = {**spec, "params": {**spec["params"], "recipient": "fund"}, "recipients": ["fund"]}
    assert any("must hold no rows" in p for p in app.validate(own))
    two = {**spec, "inputs": {h: spec["inputs"][h] for h in FOUR[:2]},
           "params": {**spec["params"], "roles": dict.fromkeys(FOUR[:2], "book")}}
    assert any("at least 3 companies" in p for p in app.validate(two))


def test_bad_rows_named_without_values():
    rng = np.random.default_rng(3)
    data = books(rng, ids(10, rng), share=1.0)
    data["fund"]["segment"][2] = "secret-segment"
    with pytest.raises(AppError, match="row 3: segment is not one of") as exc:
        run_app(make_spec(SMALL), data)     # fund fails first; the others see it closing
    assert "secret-segment" not in str(exc.value)
    spec = make_spec(SMALL)
    layout, rates = cr.APP.layout(spec["params"]), spec["params"]["rates"]
    for column, row, value, message in (("currency", 0, "EUR", "row 1: currency"),
                                        ("holdings", 1, -5.0, "row 2: holdings must be a non-"),
                                        ("revenue", 1, 2e12, "row 2: revenue must be"),
                                        ("id_no", 3, "  ", "row 4: id_no is empty")):
        cols = {k: v.copy() for k, v in books(rng, ids(10, rng), share=1.0)["offshore"].items()}
        cols[column][row] = value
        with pytest.raises(AppError, match=message):
            cr.book(cols, layout, rates, 4)
    cols = books(rng, ids(10, rng), share=1.0)["offshore"]
    del cols["currency"]                  # optional: CNY
    keys, pres, values = cr.book(cols, layout, rates, 4)
    assert values[:, :, 1:].sum() == 0 and len(keys) == len(set(keys))


def test_report_renders(tmp_path):
    import openpyxl

    rng = np.random.default_rng(9)
    data = books(rng, ids(40, rng))
    spec = make_spec({**SMALL, "min_cohort": 4})
    rep_ = run_app(spec, data)[GROUP]
    files = cr.APP.render(rep_.to_json(), tmp_path / "out")
    names = {f.name for f in files}
    assert {"report.xlsx", "report.html"} <= names
    wb = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx")
    assert wb.sheetnames == list(SHEETS)
    assert [c.value for c in wb["Cells"][1]] == ["segment", "product_line", "region",
                                                 *VALUE_COLUMNS]


def test_empty_group_and_single_client():
    """No company has a client (only dummy classes): every figure is 0 and suppressed; one
    client at all four companies: one Venn cell of 1 (suppressed at min_cohort 3)."""
    none = books(np.random.default_rng(0), [], share=1.0)
    spec = make_spec({**SMALL, "min_cohort": 3, "noise": 2})
    rep_ = run_app(spec, none)[GROUP]
    assert all(v is None for v in figures(rep_)) and figures(rep_) == cr.plaintext(
        none, spec["params"])
    assert "Distinct customers across the group: suppressed." in rep_.summary
    one = books(np.random.default_rng(1), ["11010119900307803X"], share=1.0)
    rep_ = run_app(spec, one)[GROUP]
    assert figures(rep_) == cr.plaintext(one, spec["params"])
    assert rep_.tables["Overlap"]["rows"][-1][:2] == [" + ".join(FOUR), 4]


def test_large_values_and_fx_exact():
    """Amounts near the bound, offshore in USD and HKD with negative revenue: exact to the
    cent after conversion at 4-decimal rates (integer ring arithmetic, no rounding drift)."""
    u = [f"3101011970010{i:04d}{i % 10}" for i in range(6)]
    def rows(cur, big):
        return {"id_no": np.array(u, object), "product_line": np.array(["funds"] * 6, object),
                "segment": np.array(["private"] * 6, object),
                "region": np.array(["hk"] * 6, object),
                "holdings": np.full(6, big), "revenue": np.array([-big / 3, 0.01] * 3),
                "currency": np.array([cur] * 6, object)}
    data = {"fund": rows("CNY", 3.5e11), "futures": rows("CNY", 0.01),
            "securities": rows("", 1e5), "offshore": rows("USD", 4.9e10)}
    data["offshore"]["currency"][::2] = "HKD"
    spec = make_spec({**SMALL, "min_cohort": 3, "rates": "HKD=0.9123,USD=7.1050"})
    rep_ = run_app(spec, data)[GROUP]
    assert figures(rep_) == cr.plaintext(data, spec["params"])
    grand = next(r for r in rep_.tables["Cells"]["rows"] if r[:3] == ["private", "funds", "hk"])
    want = 6 * 3.5e11 + 6 * 0.01 + 6 * 1e5 + 3 * 4.9e10 * (7.1050 + 0.9123)
    assert grand[4] == pytest.approx(want, rel=1e-15)
    too_big = {**data, "fund": rows("CNY", 9e11)}
    with pytest.raises(AppError, match="the bound per company"):
        run_app(spec, too_big)


def test_three_companies_all_computing():
    """Three companies (no input party), a Venn of 7 cells, against plaintext."""
    three = ["fund", "futures", "securities"]
    rng = np.random.default_rng(12)
    data = {h: b for h, b in books(rng, ids(50, rng)).items() if h in three}
    app = cr.APP
    p = app.resolve_params({"recipient": GROUP, **SMALL, "min_cohort": 3})
    roles = dict.fromkeys(three, "book")
    spec = {"id": "run3", "protocol": app.protocol,
            "inputs": {n: {"dataset": "b", "columns": COLS} for n in three},
            "params": {**p, "app_version": app.version, "roles": roles,
                       "compute": app.default_compute(roles, GROUP, p)},
            "recipients": [GROUP]}
    assert app.validate(spec) == []

    def body(party):
        ctx = RunContext(spec, party.name, party, data.get(party.name), lambda f, s: None)
        return app.run(ctx)
    out = run_parties(body, names=three + [GROUP])
    assert figures(out[-1]) == cr.plaintext(data, spec["params"])
    assert len(out[-1].tables["Overlap"]["rows"]) == 7


@pytest.mark.parametrize("seed", range(4))
def test_audit_leaves_no_suppressed_figure_derivable(seed):
    """Random suppression patterns on a 4 x 3 x 3 table: after the audit, no suppressed cell
    and no suppressed margin is a linear combination of the published margins (checked by
    matrix rank, independently of the audit's projection); a margin without suppressed
    cells is never suppressed (it cannot reveal anything)."""
    from yinji.apps.consolidated_tables import Layout, audit

    rng = np.random.default_rng(seed)
    layout = Layout(("a", "b", "c", "d"), ("p", "q", "r"), ("x", "y", "z"))
    vecs = [m for _, _, m in layout.margins()]
    cells = rng.random(layout.cells) < [0.1, 0.2, 0.3, 0.5][seed]
    hidden = audit(cells, vecs, np.zeros(len(vecs), bool))
    cols = np.flatnonzero(cells)
    rows = np.array([v[cols] for v, h in zip(vecs, hidden, strict=True) if not h], float)
    rank = np.linalg.matrix_rank(rows) if len(rows) else 0
    targets = [np.eye(len(cols))[j] for j in range(len(cols))]
    targets += [v[cols].astype(float) for v, h in zip(vecs, hidden, strict=True)
                if h and v[cols].any()]
    for t in targets:
        assert (np.linalg.matrix_rank(np.vstack([rows, t])) if len(rows) else 1) > rank
    clean = [i for i, v in enumerate(vecs) if not v[cols].any()]
    assert not hidden[clean].any()


def test_audit_at_the_cell_bound_is_fast():
    import time

    from yinji.apps.consolidated_tables import Layout, audit

    layout = Layout(tuple("abcdefghij"), tuple("klmnopqrst"), tuple("uvwxyz0123"))
    vecs = [m for _, _, m in layout.margins()]
    cells = np.random.default_rng(0).random(layout.cells) < 0.5
    t = time.perf_counter()
    audit(cells, vecs, np.zeros(len(vecs), bool))
    assert time.perf_counter() - t < 10
