"""joint-aml in one process (four companies + the officer on an in-memory network): against the
plaintext twin, planted cases, data-quality reports, what the officer and a non-recipient see,
and refused run requests."""

import itertools

import numpy as np
import pytest

from yinji.apps.joint_aml import APP
from yinji.linkage.aml_rules import COUNT_RULES
from yinji.testing.aml_data import COMPANIES, aml_dataset, plaintext_codes, run_in_process
from yinji.testing.parties import looks_uniform


@pytest.fixture(scope="module")
def case():
    return aml_dataset(300, seed=11)


@pytest.fixture(scope="module")
def run(case, tmp_path_factory):
    spy, views = {}, {}
    out = run_in_process(case, tmp_path_factory.mktemp("aml"), spy=spy, views=views)
    return out, spy, views


def groups_of(spy):
    return {(c, rid): g for c, m in spy.items() for rid, g in m.items()}


def alerts_of(report):
    return {rid: set(r) for rid, r in report.data["alerts"].items()}


def test_alerts_match_the_plaintext_twin(case, run):
    out, spy, _ = run
    truth = plaintext_codes(case, groups_of(spy))
    assert sum(bool(v) for v in truth.values()) >= 4
    for c in COMPANIES:
        want = {rid: r for (cc, rid), r in truth.items() if cc == c and r}
        assert alerts_of(out[c]) == want, c


def test_officer_counts_match_the_plaintext_twin(case, run):
    out, spy, _ = run
    truth = plaintext_codes(case, groups_of(spy))
    groups = groups_of(spy)
    rows = {r[0]: dict(zip(COUNT_RULES, r[1:], strict=True))
            for r in out["officer"].tables["alert_counts"]["rows"]}
    for c in COMPANIES:
        idents = {groups[k]: v for k, v in truth.items() if k[0] == c}
        for rule in ("STRUCT", "RAPID", "INCOME"):
            assert rows[c][rule] == sum(rule in v for v in idents.values()), (c, rule)
        assert rows[c]["ANY"] == sum(bool(v) for v in idents.values())
    by_group = {groups[k]: v for k, v in truth.items()}
    assert rows["group (distinct identities)"]["ANY"] == sum(bool(v) for v in by_group.values())


def records_of(case, person):
    return [k for k, p in case.person_of.items() if p == person]


def test_planted_cases_across_companies_and_second_accounts(case, run):
    out, spy, _ = run
    groups = groups_of(spy)
    for planted in ("STRUCT", "RAPID", "INCOME", "STRUCT_HK"):
        (person,) = case.planted[planted]
        rule = planted.removesuffix("_HK")
        recs = records_of(case, person)
        assert len({groups[k] for k in recs}) == 1, f"{planted} person not resolved to one identity"
        assert len(recs) == 2 or planted != "STRUCT_HK"
        for c, rid in recs:
            assert rule in alerts_of(out[c]).get(rid, set()), (planted, c, rid)
    # the INCOME person: two accounts at securities, one label in its report
    recs = records_of(case, case.planted["INCOME"][0])
    assert {c for c, _ in recs} == {"securities"} and len(recs) == 2
    labels = {r[0]: r[1] for r in out["securities"].tables["alerts"]["rows"]}
    assert labels[recs[0][1]] == labels[recs[1][1]]
    for person in case.planted["CONTROL"]:
        for c, rid in records_of(case, person):
            assert rid not in alerts_of(out[c]), (person, c, rid)


def test_near_empty_records_never_link(case, run):
    _, spy, _ = run
    groups = groups_of(spy)
    for key in case.near_empty:
        assert sum(g == groups[key] for g in groups.values()) == 1, key


def test_resolution_against_the_truth(case, run):
    _, spy, _ = run
    groups = groups_of(spy)
    keys = list(groups)
    same_truth = {(a, b) for a, b in itertools.combinations(keys, 2)
                  if case.person_of[a] == case.person_of[b]}
    same_found = {(a, b) for a, b in itertools.combinations(keys, 2) if groups[a] == groups[b]}
    tp = len(same_truth & same_found)
    assert tp / len(same_found) >= 0.97 and tp / len(same_truth) >= 0.85


def test_quality_reports_per_file(run):
    out, _, _ = run

    def issues(c):
        return {r[0]: r[1] for r in out[c].tables["data_quality"]["rows"]}

    sec = issues("securities")
    assert any("birth date unreadable" in k for k in sec)
    assert any("transaction date unreadable" in k for k in sec)
    assert any(k.startswith("column phone is empty") for k in issues("futures"))
    assert any(k.startswith("column declared_income is empty") for k in issues("offshore"))
    fund = issues("fund")
    assert fund.get("empty name") == 1
    assert any("too little evidence" in k for k in fund)
    # each report names only its own file's rows and records
    for c in COMPANIES:
        text = str(out[c].tables["data_quality"]["rows"])
        others = [o[:3].upper() for o in COMPANIES if o != c]
        assert not any(f"{p}000" in text for p in others), c


def test_officer_receives_counts_only(run):
    out, _, views = run
    got = [(peer, m) for peer, m in views["officer"] if peer in ("fund", "futures", "offshore")]
    # from each compute company: its resolution inputs (3 arrays), then the counts (1 array)
    counts = [m for peer, m in got if m.shape == ((len(COMPANIES) + 1) * len(COUNT_RULES),)]
    assert len(counts) == 3
    assert not out["officer"].data.get("alerts")
    assert "alerts" not in out["officer"].tables


def test_company_views_are_share_components(run):
    """Everything a company receives from the MPC looks uniform (share components, masked
    openings), so it cannot depend on other companies' transactions."""
    _, _, views = run
    for c in COMPANIES:
        mpc = [(p, m) for p, m in views[c] if p != "officer"]
        assert not looks_uniform(mpc, min_size=256), c


def test_non_recipient_company_gets_nothing(case, tmp_path):
    """futures (compute) and securities (input party) are not recipients: no report, and
    securities receives nothing from the compute parties after sharing its input."""
    views = {}
    out = run_in_process(case, tmp_path, recipients=["fund", "offshore", "officer"],
                         views=views)
    assert out["futures"] is None and out["securities"] is None
    assert out["fund"] is not None
    compute = {"fund", "futures", "offshore"}
    assert not [m for p, m in views["securities"] if p in compute and not isinstance(m, bytes)]


@pytest.mark.parametrize("change,message", [
    (lambda s: s["inputs"].update({"officer": s["inputs"]["fund"]}) or
     s["params"]["roles"].update({"officer": "aml"}), "has an input"),
    (lambda s: s.update(recipients=["fund"]), "must be a recipient"),
    (lambda s: s.update(recipients=[*s["recipients"], "stranger"]), "neither companies"),
    (lambda s: s["params"].update(period_start="2026-02-30"), "period_start"),
    (lambda s: [s["inputs"].pop(c) or s["params"]["roles"].pop(c) for c in ("fund", "futures")],
     "at least 3 companies"),
])
def test_bad_run_requests_are_refused(change, message):
    params = APP.resolve_params({"aml_officer": "officer", "period_start": "2026-03-01"})
    spec = {"params": {**params, "app_version": "1", "roles": dict.fromkeys(COMPANIES, "aml"),
                       "compute": ["fund", "futures", "offshore"]},
            "inputs": {c: {"dataset": "aml", "columns": ["x"] * 9} for c in COMPANIES},
            "recipients": [*COMPANIES, "officer"]}
    assert APP.validate(spec) == []
    change(spec)
    assert any(message in p for p in APP.validate(spec)), APP.validate(spec)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="aml_officer"):
        APP.resolve_params({"period_start": "2026-03-01"})
    with pytest.raises(ValueError, match="period_days"):
        APP.resolve_params({"aml_officer": "o", "period_start": "2026-03-01",
                            "period_days": 400})


def test_edge_one_company_records_empty_and_duplicates(tmp_path):
    """A company with no rows at all, one with a single customer and no transaction, and a
    duplicated row: the run completes and matches the twin."""
    case = aml_dataset(40, seed=3)
    case.tables["futures"] = []
    case.tables["offshore"] = case.tables["offshore"][:1]
    case.tables["offshore"][0].update(tx_date="", amount="", direction="")
    case.tables["fund"].append(dict(case.tables["fund"][0]))
    spy = {}
    out = run_in_process(case, tmp_path, spy=spy)
    truth = plaintext_codes(case, groups_of(spy))
    for c in COMPANIES:
        want = {rid: r for (cc, rid), r in truth.items() if cc == c and r}
        assert alerts_of(out[c]) == want, c
    assert out["futures"].tables["alerts"]["rows"] == []
    assert np.isfinite(len(out["officer"].tables["alert_counts"]["rows"]))


def test_all_files_empty(tmp_path):
    case = aml_dataset(3, seed=1)
    for c in COMPANIES:
        case.tables[c] = []
    out = run_in_process(case, tmp_path)
    rows = out["officer"].tables["alert_counts"]["rows"]
    assert all(v == 0 for r in rows for v in r[1:])
    assert all(out[c].tables["alerts"]["rows"] == [] for c in COMPANIES)
