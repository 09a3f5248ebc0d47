"""customer-view in one process (four companies + the linkage unit on an in-memory network):
profiles and statistics against a plaintext twin written from the raw rows, planted identity
and consent cases, what a company's output depends on, and refused inputs and run requests."""

import itertools

import numpy as np
import pytest

from yinji.apps import customer_view
from yinji.apps.base import AppError
from yinji.apps.customer_table import COLUMNS, read_customers
from yinji.testing.custview_data import (
    CATEGORIES,
    COMPANIES,
    CONSENT,
    customer_dataset,
    run_in_process,
)
from yinji.testing.parties import looks_uniform

RATES = {"CNY": 1.0, "HKD": 0.92, "USD": 7.1}
EDGES = [500_000_00, 1_000_000_00, 5_000_000_00, 10_000_000_00]


@pytest.fixture(scope="module")
def case():
    return customer_dataset(200, seed=7)


@pytest.fixture(scope="module")
def run(case, tmp_path_factory):
    spy, opened, views = {}, {}, {}
    out = _run(case, tmp_path_factory.mktemp("cv"), spy, opened, views=views)
    return out, spy, opened, views


def _run(case, home, spy, opened, **kw):
    """run_in_process, also keeping each company's opened profile matrix by record id."""
    orig = customer_view.company_side

    def keep(party, plan, feats):  # noqa: ANN001, ANN202
        prof, stats = orig(party, plan, feats)
        opened[party.name] = prof
        return prof, stats

    customer_view.company_side = keep
    try:
        return run_in_process(case, home, spy=spy, **kw)
    finally:
        customer_view.company_side = orig


# ------------------------------------------------------------------ the plaintext twin
def facts(case, spy):
    """identity -> company -> {consent, categories, fen} from the raw rows."""
    out = {}
    for c in COMPANIES:
        for r in case.tables[c]:
            i = spy[c][r["record_id"]]
            f = out.setdefault(i, {}).setdefault(c, {"consent": True, "cats": set(), "fen": 0})
            f["consent"] &= r["consent"] == CONSENT[c][0]
            f["cats"] |= {x for x in r["products"].split(";") if x}
            fen = int(round(float(r["assets"].replace(",", "")) * 100))
            f["fen"] += int(round(fen * RATES[r["currency"]]))
    return out


def band(fen):
    return customer_view.band_labels({"band_edges": "500000,1000000,5000000,10000000"})[
        sum(fen >= e for e in EDGES)]


def twin_profiles(case, spy):
    f = facts(case, spy)
    out = {}
    for b in COMPANIES:
        mine = {}
        for r in case.tables[b]:
            i = spy[b][r["record_id"]]
            if not f[i][b]["consent"]:
                continue
            ok = [c for c in COMPANIES if c in f[i] and f[i][c]["consent"]]
            mine[r["record_id"]] = {
                "companies": ok,
                "categories": [x for x in CATEGORIES if any(x in f[i][c]["cats"] for c in ok)],
                "band": band(sum(f[i][c]["fen"] for c in ok))}
        out[b] = mine
    return out


def suppress(counts, k, complement):
    shown = [v >= k for v in counts]
    small = [0 < v < k for v in counts]
    if complement and sum(small) == 1 and any(shown):
        low = min(v for v, s in zip(counts, shown, strict=True) if s)
        for n, v in enumerate(counts):
            if shown[n] and v == low:
                shown[n], small[n] = False, True
    return [f"< {k}" if s else (v if sh else 0) for v, sh, s in zip(counts, shown, small,
                                                                     strict=True)]


def twin_stats(case, spy, k=10):
    f = facts(case, spy)
    patterns = [0] * 15
    bands = [0] * (len(EDGES) + 1)
    cats = [0] * len(CATEGORIES)
    consent = [0] * len(COMPANIES)
    for per in f.values():
        patterns[sum(1 << n for n, c in enumerate(COMPANIES) if c in per) - 1] += 1
        bands[sum(sum(p["fen"] for p in per.values()) >= e for e in EDGES)] += 1
        for n, x in enumerate(CATEGORIES):
            cats[n] += any(x in p["cats"] for p in per.values())
        for n, c in enumerate(COMPANIES):
            consent[n] += c in per and per[c]["consent"]
    return {"patterns": suppress(patterns, k, True), "bands": suppress(bands, k, True),
            "categories": suppress(cats, k, False), "consent": suppress(consent, k, False)}


def shown_stats(report):
    return {n: [r[1] for r in report.tables[f"stats {n}"]["rows"]]
            for n in ("patterns", "bands", "categories", "consent")}


# ------------------------------------------------------------------------------ tests
def test_profiles_match_the_plaintext_twin(case, run):
    out, spy, *_ = run
    twin = twin_profiles(case, spy)
    assert sum(len(v) for v in twin.values()) > 100
    for c in COMPANIES:
        assert out[c].data["profiles"] == twin[c], c
        rows = out[c].tables["profiles"]["rows"]
        assert {r[1] for r in rows} == set(twin[c])
        for rm in {r[0] for r in rows}:   # one table per relationship manager
            assert {r[0] for r in out[c].tables[f"rm {rm}"]["rows"]} == \
                {r[1] for r in rows if r[0] == rm}


def test_statistics_match_the_plaintext_twin(case, run):
    out, spy, *_ = run
    want = twin_stats(case, spy)
    assert shown_stats(out["unit"]) == want
    assert any(v == "< 10" for v in want["patterns"]) and any(isinstance(v, int) and v >= 10
                                                               for v in want["patterns"])
    for c in COMPANIES:   # the companies are not the statistics recipient
        assert not any(t.startswith("stats") for t in out[c].tables), c


def test_identities_gcn_first_then_linkage(case, run):
    _, spy, *_ = run
    ident = {(c, rid): g for c, m in spy.items() for rid, g in m.items()}

    def of(person):
        return {ident[k] for k, p in case.person_of.items() if p == person}

    (p,) = case.planted["GCN_ONLY"]
    assert len(of(p)) == 1, "same GCN, different identifying fields: one identity"
    a, b = case.planted["GCN_SPLIT"]
    assert len(of(a)) == 1 and len(of(b)) == 1 and of(a) != of(b)
    keys = list(ident)
    truth = {(x, y) for x, y in itertools.combinations(keys, 2)
             if case.person_of[x] == case.person_of[y]}
    found = {(x, y) for x, y in itertools.combinations(keys, 2) if ident[x] == ident[y]}
    tp = len(truth & found)
    assert tp / len(found) >= 0.97 and tp / len(truth) >= 0.9


def records(case, person):
    return [k for k, p in case.person_of.items() if p == person]


def test_planted_consent_patterns(case, run):
    out, *_ = run
    prof = {c: out[c].data["profiles"] for c in COMPANIES}
    for c, rid in records(case, case.planted["ALL"][0]):
        assert prof[c][rid]["companies"] == list(COMPANIES)
    for c, rid in records(case, case.planted["NONE"][0]):
        assert rid not in prof[c]
    recs = dict(records(case, case.planted["A_NOT_B"][0]))
    assert prof["fund"][recs["fund"]]["companies"] == ["fund"]
    assert recs["securities"] not in prof["securities"]
    second = records(case, case.planted["SECOND"][0])
    for c, rid in second:
        if c == "securities":
            assert rid not in prof[c], "one account said no: no consent at securities"
        else:
            assert prof[c][rid]["companies"] == ["futures"]


def changed_non_consented(case, rng):
    """The same people, with every fact a company holds WITHOUT consent redrawn."""
    import copy

    new = copy.deepcopy(case)
    for c in COMPANIES:
        for r in new.tables[c]:
            if r["consent"] == CONSENT[c][1]:
                r["products"] = ";".join(x for x in CATEGORIES if rng.random() < 0.5)
                r["assets"] = f"{rng.uniform(0, 5e7):.2f}"
    return new


def by_record(case, spy, opened):
    return {c: {r["record_id"]: opened[c][spy[c][r["record_id"]]].tolist()
                for r in case.tables[c]} for c in COMPANIES}


def test_a_company_receives_nothing_without_consent(case, run, tmp_path):
    """The attack: change every fact held without consent; each company's opened output
    (its whole profile matrix, every row) must not change, and rows of identities that
    did not consent at the company are zero."""
    out, spy, opened, _ = run
    for c in COMPANIES:
        mine = {spy[c][r["record_id"]] for r in case.tables[c]
                if r["record_id"] in out[c].data["profiles"]}
        nonzero = set(np.flatnonzero(opened[c].any(axis=1)).tolist())
        assert nonzero == mine, c
    other = changed_non_consented(case, np.random.default_rng(3))
    spy2, opened2 = {}, {}
    out2 = _run(other, tmp_path, spy2, opened2)
    assert by_record(case, spy, opened) == by_record(other, spy2, opened2)
    assert {c: opened[c].shape for c in COMPANIES} == {c: opened2[c].shape for c in COMPANIES}
    assert shown_stats(out2["unit"]) != shown_stats(out["unit"])   # the change was real


def test_company_views_are_share_components_and_masked_openings(run):
    """Everything a company receives from the MPC (profile openings included) looks uniform:
    its own profile is opened as three freshly masked components."""
    *_, views = run
    for c in COMPANIES:
        mpc = [(p, m) for p, m in views[c] if p != "unit"]
        assert sum(getattr(m, "size", 0) >= 256 for _, m in mpc) >= 3, c
        assert not looks_uniform(mpc, min_size=256), c


def test_statistics_to_a_company_and_non_recipients(case, run, tmp_path):
    """offshore, an input party and no recipient, receives nothing from the compute
    companies after sharing its input (only their key-check bytes)."""
    _, spy, *_ = run
    views = {}
    out = run_in_process(case, tmp_path, stats_recipient="securities",
                         recipients=["fund", "securities", "unit"], views=views,
                         compute=("fund", "futures", "securities"))
    assert out["offshore"] is None and out["futures"] is None
    got = [m for p, m in views["offshore"] if p in COMPANIES and not isinstance(m, bytes)]
    assert got == []
    assert shown_stats(out["securities"]) == twin_stats(case, spy)
    assert "stats bands" not in out["unit"].tables and "stats bands" not in out["fund"].tables


# ------------------------------------------------------------------- refused inputs
def cols(rows):
    return {c: np.array([r[c] for r in rows], dtype=object) for c in COLUMNS}


@pytest.mark.parametrize("column,value,message", [
    ("consent", "maybe", "row 2: consent 'maybe' is not yes/no"),
    ("consent", "", "row 2: consent '' is not yes/no"),
    ("products", "equity;crypto", "row 2: product category 'crypto'"),
    ("currency", "EUR", "row 2: currency 'EUR' has no approved rate"),
    ("assets", "-5", "row 2: assets must be a non-negative amount"),
    ("assets", "lots", "row 2: assets must be a non-negative amount"),
    ("record_id", "SEC000001", "row 2: record_id repeats row 1"),
    ("record_id", "", "row 2: empty record_id"),
])
def test_bad_cells_are_refused_naming_the_row(case, column, value, message):
    rows = [dict(r) for r in case.tables["securities"][:3]]
    rows[1][column] = value
    with pytest.raises(AppError, match=message):
        read_customers(cols(rows), CATEGORIES, {"HKD": 0.92})


def test_accepted_forms():
    base = {"record_id": "R1", "gcn": " g001 ", "name": "张三", "dob": "1980-01-01",
            "id_no": "", "phone": "", "rm": "", "products": "Equity；BOND", "assets": "1,000.50",
            "currency": "hkd"}
    rows = [dict(base, record_id=f"R{n}", consent=v) for n, v in
            enumerate(["YES", "是", "同意", "1", "ｙｅｓ", "No", "否", "不同意", "0", "N"])]
    t = read_customers(cols(rows), CATEGORIES, {"HKD": 0.92})
    assert t.consent.tolist() == [True] * 5 + [False] * 5
    assert t.products[0].tolist() == [True, True] + [False] * 6
    assert t.assets[0] == round(100050 * 0.92) and t.gcn[0] == "G001"
    assert t.rm[0] == "(no relationship manager)"
    empty = read_customers(cols([]), CATEGORIES, {})
    assert empty.ids == [] and empty.products.shape == (0, len(CATEGORIES))


def spec(**params):
    app = customer_view.APP
    p = app.resolve_params({"linkage_unit": "unit", "stats_recipient": "unit", **params})
    return {"params": {**p, "app_version": "1", "roles": dict.fromkeys(COMPANIES, "customers"),
                       "compute": list(COMPANIES[:3])},
            "inputs": {c: {"dataset": "d", "columns": list(COLUMNS)} for c in COMPANIES},
            "recipients": [*COMPANIES, "unit"]}


def test_refused_run_requests():
    app = customer_view.APP
    assert app.validate(spec()) == []
    s = spec(linkage_unit="fund")
    assert any("holds no records" in p for p in app.validate(s))
    s = spec(stats_recipient="elsewhere")
    assert any("stats_recipient 'elsewhere' must be a recipient" in p for p in app.validate(s))
    s = spec()
    s["recipients"].append("stranger")
    assert any("stranger" in p for p in app.validate(s))
    assert any("band_edges" in p for p in app.validate(spec(band_edges="100,50")))
    assert any("band_edges" in p for p in app.validate(spec(band_edges="ten")))
    assert any("categories" in p for p in app.validate(spec(categories=["a;b"])))
    s = spec()
    for c in ("securities", "offshore"):
        del s["inputs"][c], s["params"]["roles"][c]
    assert any("at least 3 companies" in p for p in app.validate(s))
    with pytest.raises(AppError, match="min_cohort"):
        app.resolve_params({"linkage_unit": "u", "stats_recipient": "u", "min_cohort": 1})
    assert app.participants_needing_channels(s)[-1] == "unit"


def test_different_keys_fail_the_run(case, tmp_path):
    from yinji.crypto.certs import write_private

    (tmp_path / "offshore" / "linkage").mkdir(parents=True)
    write_private(tmp_path / "offshore" / "linkage" / "customers.key", bytes(32))
    with pytest.raises(ValueError, match="linkage key 'customers' at .* differs"):
        run_in_process(case, tmp_path, timeout=20)


def test_edge_cases_tiny_files_and_large_amounts(tmp_path):
    """One record per company, a company with no records at all, amounts near the limit."""
    small = customer_dataset(0, seed=1)
    small.tables["offshore"] = []
    small.person_of = {k: v for k, v in small.person_of.items() if k[0] != "offshore"}
    for c in COMPANIES:
        for r in small.tables[c]:
            r["assets"] = "9999999999999"
    spy, opened = {}, {}
    out = _run(small, tmp_path, spy, opened, params={"min_cohort": 2})
    assert {c: out[c].data["profiles"] for c in COMPANIES} == twin_profiles(small, spy)
    assert out["offshore"].data["profiles"] == {}
    assert out["unit"].data["statistics"]["bands"][-1] > 0   # sums above 10^13 CNY


def test_merge_rules_on_small_cases():
    """The unit's merge: GCN decides where records carry one, linkage elsewhere."""
    from yinji.apps.customer_identity import merge

    # owner 0: rows in linkage groups 0, 0, 1, 2 with GCN tokens 5, 0, 5, 0
    # owner 1: rows in linkage groups 2, 3, 3, 3 with GCN tokens 0, 7, 8, 0
    m = merge([np.array([0, 0, 1, 2]), np.array([2, 3, 3, 3])],
              [np.array([5, 0, 5, 0], np.uint64), np.array([0, 7, 8, 0], np.uint64)], 4,
              relabel=False)
    a, b = m.identities
    assert a[0] == a[1] == a[2]          # GCN 5 joins linkage groups 0 and 1
    assert a[3] == b[0] != a[0]          # no GCN: linkage group 2
    assert len({b[1], b[2], b[3]}) == 3  # group 3 holds GCNs 7 and 8: split, rest apart
    assert (m.count, m.gcn_identities, m.gcn_joins, m.conflicts) == (5, 3, 1, 1)
    empty = merge([np.zeros(0, np.int64)] * 2, [np.zeros(0, np.uint64)] * 2, 0)
    assert empty.count == 0 and [len(x) for x in empty.identities] == [0, 0]
    one = merge([np.array([0])], [np.array([9], np.uint64)], 1)
    assert one.count == 1 and one.identities[0].tolist() == [0]


def test_demo_files_and_check(tmp_path):
    """`make demo`'s run: the files it writes parse, and its check passes on the reports of
    the same data (and fails on a report that leaks the statistics to a company)."""
    data = {c: tmp_path / c / "data" for c in COMPANIES}
    for d in data.values():
        d.mkdir(parents=True)
    plan = customer_view.APP.demo(data, seed=2026)
    case = customer_dataset(400, seed=2026 % 1000)
    for c in COMPANIES:
        t = read_customers(cols(case.tables[c]), CATEGORIES, {"HKD": 0.92, "USD": 7.1})
        assert len(t.ids) == len((data[c] / "customers_view.csv").read_text(
            encoding="utf-8").splitlines()) - 1
    out = run_in_process(case, tmp_path / "run", unit="group", stats_recipient="group",
                         params=plan.request["params"])
    reports = {n: r.to_json() if r else None for n, r in out.items()}
    assert plan.check(reports) == []
    reports["fund"]["tables"]["stats bands"] = {}
    assert plan.check(reports) == ["a company received the statistics"]


def test_a_sum_beyond_the_ring_budget_is_refused():
    """Ten records of 10^13 CNY for one client pass (sums stay exact), eleven are refused."""
    from yinji.apps.customer_mpc import features

    rows = [{"record_id": f"R{n}", "gcn": "", "name": "", "dob": "", "id_no": "", "phone": "",
             "consent": "yes", "rm": "", "products": "", "assets": "9999999999999",
             "currency": ""} for n in range(11)]
    t = read_customers(cols(rows[:10]), CATEGORIES, {})
    assert features(t, np.zeros(10, np.int64), 1)[0, 2 + len(CATEGORIES)] == 999999999999900 * 10
    with pytest.raises(AppError, match="more than 10"):
        features(read_customers(cols(rows), CATEGORIES, {}), np.zeros(11, np.int64), 1)
