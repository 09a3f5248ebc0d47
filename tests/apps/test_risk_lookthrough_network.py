"""The risk look-through app on four node processes over loopback TLS, driven through the
REST API only, against the plaintext computation of the same CSV files (slower lane)."""

import csv
import time

import numpy as np
import pytest

from yinji.apps.risk_lookthrough import (
    OWN_EXPOSURE,
    expected_reports,
    read_csv_input,
    write_sample_data,
)
from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.testing.apps import builtin_entries, child_env, package_dir, reject_and_check_nothing_ran

pytestmark = pytest.mark.tls

APP = "risk-lookthrough"
COMPANIES = ["fund", "futures", "offshore", "securities"]   # compute: the first three
FX = {"HKD": 0.92, "USD": 7.1}
# Standing approvals: every company runs the app for any proposer within bounds; offshore
# only for securities' runs with leverage_max in 0.5..1 (others wait for its approver).
RULE = {"protocols": [f"app.{APP}"]}
TRAINING = "risk-model-training"
TRAIN_RULE = {"protocols": [f"app.{TRAINING}"], "proposers": ["securities"]}
POLICIES = {c: [RULE, TRAIN_RULE] for c in COMPANIES}
POLICIES["offshore"] = [{**RULE, "proposers": ["securities"],
                         "params": {"leverage_max": {"min": 0.5, "max": 1.0}}}, TRAIN_RULE]
ID_COLUMN = {"securities": "证件号码"}   # securities names its ID column in Chinese


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    root = tmp_path_factory.mktemp("risknet")
    create_network(root, COMPANIES, job_timeout=60, policies=POLICIES)
    paths = write_sample_data({c: root / c / "data" for c in COMPANIES}, clients=300, seed=7)
    for c, path in paths.items():   # rename securities' ID column
        rows = list(csv.reader(path.open(encoding="utf-8")))
        rows[0] = [ID_COLUMN.get(c, "id_no") if h == "id_no" else h for h in rows[0]]
        with path.open("w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows(rows)
    pkg = package_dir(tmp_path_factory.mktemp("apps"), builtin_entries())
    start_nodes(root, env=dict.fromkeys(COMPANIES, child_env(pkg)))
    apis = clients(root)
    for c, path in paths.items():
        header = next(csv.reader(path.open(encoding="utf-8")))
        schema = {h: ("string" if h in ("id_no", "证件号码", "currency") else "float")
                  for h in header}
        apis[c].call("POST", "/datasets", json={
            "id": "risk", "kind": "csv", "location": "data/risk.csv", "schema": schema,
            "policy": [{"columns": header, "protocols": [f"app.{APP}", f"app.{TRAINING}"]}]})
    yield root, apis, paths
    for api in apis.values():
        api.close()
    stop_nodes(root)


def run_body(paths, **params):
    inputs = {}
    for c, path in paths.items():
        header = next(csv.reader(path.open(encoding="utf-8")))
        cols = {"id_no": ID_COLUMN.get(c, "id_no")}
        omit = [x for x in ("margin_financing", "futures_margin", "leveraged_products",
                            "offshore_positions", "currency") if x not in header]
        inputs[c] = {"dataset": "risk", "columns": cols, "omit": omit}
    return {"params": {"risk_officer": "securities", "fx": FX, **params}, "inputs": inputs}


def truth(paths, t):
    return expected_reports({c: read_csv_input(p, ID_COLUMN.get(c, "id_no"))
                             for c, p in paths.items()}, t, FX)


def test_four_companies_each_get_their_flagged_clients_and_the_officer_the_counts(net):
    from yinji.apps.risk_lookthrough import APP as app

    root, apis, paths = net
    run = apis["securities"].call("POST", f"/apps/{APP}/runs", json=run_body(paths))
    job_id = run["job"]["id"]
    views = wait_job(apis, job_id, COMPANIES, timeout=120)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    flagged, counts = truth(paths, app.thresholds(run["job"]["spec"]["params"]))
    assert counts[:, 3].min() > 0
    for c in COMPANIES:
        report = apis[c].call("GET", f"/apps/{APP}/runs/{job_id}")["report"]
        table = report["tables"]["flagged"]
        got = {row[0]: row[1].split() for row in table["rows"]}
        assert got == flagged[c]
        own = {r[ID_COLUMN.get(c, "id_no")] for r in csv.DictReader(paths[c].open(
            encoding="utf-8"))}
        assert set(got) <= own       # no row of another company's clients
        assert ("counts_by_company" in report["tables"]) == (c == "securities")
    officer = apis["securities"].call("GET", f"/apps/{APP}/runs/{job_id}")["report"]
    rows = officer["tables"]["counts_by_company"]["rows"]
    assert [r[0] for r in rows] == COMPANIES
    np.testing.assert_array_equal([r[1:] for r in rows], counts)
    assert officer["charts"][0]["kind"] == "bar"
    files = apis["securities"].call("GET", f"/apps/{APP}/runs/{job_id}")["files"]
    assert "counts_by_company.csv" in files and "flagged.csv" in files


def test_non_recipient_gets_404_for_the_result(net):
    _, apis, paths = net
    body = {**run_body(paths), "recipients": ["fund", "offshore", "securities"]}
    run = apis["securities"].call("POST", f"/apps/{APP}/runs", json=body)
    job_id = run["job"]["id"]
    views = wait_job(apis, job_id, COMPANIES, timeout=120)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    assert not views["futures"]["has_result"]
    with pytest.raises(RuntimeError, match="404"):
        apis["futures"].call("GET", f"/jobs/{job_id}/result")
    assert apis["futures"].call("GET", f"/apps/{APP}/runs/{job_id}")["report"] is None
    assert apis["fund"].call("GET", f"/jobs/{job_id}/result")["result"]["tables"]["flagged"]


def test_a_company_rejects_and_nobody_reads_data(net):
    _, apis, paths = net
    run = apis["fund"].call("POST", f"/apps/{APP}/runs", json=run_body(paths))
    job_id = run["job"]["id"]
    reject_and_check_nothing_ran(apis, job_id, "offshore", COMPANIES, "not this month")


def test_parameters_outside_bounds(net):
    """Outside the app's bounds: refused at the proposer (422). Inside the app's bounds but
    outside offshore's standing approval (leverage_max 0.5..1): offshore's policy does not
    approve; the run waits for its approver."""
    _, apis, paths = net
    with pytest.raises(RuntimeError, match="422.*leverage_max"):
        apis["securities"].call("POST", f"/apps/{APP}/runs",
                                json=run_body(paths, leverage_max=50))
    run = apis["securities"].call("POST", f"/apps/{APP}/runs",
                                  json=run_body(paths, leverage_max=2.5))
    job_id = run["job"]["id"]
    deadline = time.monotonic() + 20
    while True:
        views = {c: apis[c].call("GET", f"/jobs/{job_id}", role="auditor") for c in COMPANIES}
        decided = {c: {a["node"] for a in v["approvals"]} for c, v in views.items()}
        if {"fund", "futures", "securities"} <= decided["securities"]:
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert "offshore" not in decided["securities"]
    assert views["securities"]["state"] == "proposed"
    apis["securities"].call("POST", f"/jobs/{job_id}/cancel", json={})


def test_omitting_a_column_that_is_not_optional_is_refused(net):
    _, apis, paths = net
    body = run_body(paths)
    body["inputs"]["fund"]["omit"] = ["assets"]
    with pytest.raises(RuntimeError, match="422.*optional"):
        apis["securities"].call("POST", f"/apps/{APP}/runs", json=body)


def test_own_exposure_columns_are_the_companies_own():
    assert set(OWN_EXPOSURE) == set(COMPANIES)


def test_make_demo_runs_the_app_and_matches_plaintext(net, tmp_path):
    """`make demo`'s app part (every installed app's demo through REST) for this app and
    risk-model-training."""
    from yinji.apps.risk_lookthrough import APP as app
    from yinji.apps.risk_model_training import APP as training
    from yinji.cli.apps_demo import run_apps
    from yinji.node import app_runner

    root, _, _ = net
    app_runner.register(app)   # this process finds the apps the way the nodes do
    app_runner.register(training)
    try:
        lines = []
        ok = run_apps(root, tmp_path, out=lines.append, only=[APP, TRAINING], timeout=120)
        assert ok, "\n".join(lines)
    finally:
        app_runner.unregister(APP)
        app_runner.unregister(TRAINING)
    assert sum("matches the plaintext" in line for line in lines) == 2, lines


def test_a_trained_model_flags_clients_as_rule_model(net):
    """securities trains a look-through model on its margin calls (risk-model-training);
    each compute party stores its shares; a look-through run with model=...:v1 adds MODEL
    exactly where NumPy's score with the same weights (read from the three registries here,
    in the test only) is at least the threshold; a run naming an unknown model fails at
    every node before anything is shared."""
    from yinji.apps import risk_model as rm
    from yinji.apps.risk_lookthrough import APP as app
    from yinji.apps.risk_lookthrough import entries
    from yinji.ml.registry import ModelRegistry

    root, apis, paths = net
    body = run_body(paths)
    del body["params"]["risk_officer"], body["params"]["fx"]
    body["params"].update({"model": "margin-risk", "label_holder": "securities"})
    for c, inp in body["inputs"].items():
        if c == "securities":
            inp["columns"]["label"] = "margin_call"
        else:
            inp["omit"].append("label")
    run = apis["securities"].call("POST", f"/apps/{TRAINING}/runs", json=body)
    job_id = run["job"]["id"]
    views = wait_job(apis, job_id, COMPANIES, timeout=180)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    report = apis["securities"].call("GET", f"/apps/{TRAINING}/runs/{job_id}")["report"]
    assert report["data"]["version"] == 1 and report["data"]["stored_at"] == COMPANIES[:3]
    assert [r[0] for r in report["tables"]["in_sample"]["rows"]][0] == 0.1
    assert apis["fund"].call("GET", f"/apps/{TRAINING}/runs/{job_id}")["report"] is None
    regs = {c: ModelRegistry(root / c / "models", c) for c in COMPANIES}
    assert regs["securities"].versions("margin-risk") == []     # not a compute party
    parts = [regs[c].load("margin-risk", 1)[1] for c in COMPANIES[:3]]
    opened = rm.open_model(parts)                                # the test's eyes only

    threshold = 0.3
    run = apis["securities"].call("POST", f"/apps/{APP}/runs", json=run_body(
        paths, model="margin-risk:v1", model_threshold=threshold))
    job_id = run["job"]["id"]
    views = wait_job(apis, job_id, COMPANIES, timeout=180)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    flagged, counts = truth(paths, app.thresholds(run["job"]["spec"]["params"]))
    prepared = {c: entries(read_csv_input(p, ID_COLUMN.get(c, "id_no")), COMPANIES.index(c),
                           len(COMPANIES), FX) for c, p in paths.items()}
    group = {}
    for ids, _, values in prepared.values():
        for i, v in zip(ids, values, strict=True):
            group[i] = group.get(i, 0) + v
    model_counts, unsure = [], 0
    for c in COMPANIES:
        ids, shown, _ = prepared[c]
        figures = np.array([group[i] for i in ids])
        scores, z = rm.plain_scores(figures, opened), rm.plain_decision(figures, opened)
        table = apis[c].call("GET", f"/apps/{APP}/runs/{job_id}")["report"]["tables"]["flagged"]
        assert table["columns"][-1] == "MODEL"
        got = {row[0]: row[1].split() for row in table["rows"]}
        assert {k: [r for r in v if r != "MODEL"] for k, v in got.items()
                if v != ["MODEL"]} == flagged[c]
        for j, who in enumerate(shown):
            if abs(z[j] - rm.logit(threshold)) < 2e-3:
                unsure += 1
                continue
            assert ("MODEL" in got.get(who, [])) == (scores[j] >= threshold), (c, who)
        model_counts.append(sum("MODEL" in v for v in got.values()))
    rows_scored = sum(len(prepared[c][0]) for c in COMPANIES)
    assert unsure <= rows_scored // 100 and sum(model_counts) > 0   # a client counts at each
    officer = apis["securities"].call("GET", f"/apps/{APP}/runs/{job_id}")["report"]
    rows = officer["tables"]["counts_by_company"]["rows"]
    assert officer["tables"]["counts_by_company"]["columns"][-2:] == ["MODEL", "any"]
    np.testing.assert_array_equal([r[1:4] for r in rows], counts[:, :3])
    assert abs(sum(r[4] for r in rows) - sum(model_counts)) <= unsure

    run = apis["securities"].call("POST", f"/apps/{APP}/runs",
                                  json=run_body(paths, model="no-such-model"))
    views = wait_job(apis, run["job"]["id"], COMPANIES, timeout=120)
    assert {v["state"] for v in views.values()} == {"failed"}, views
    assert all("no model 'no-such-model'" in v["reason"] for v in views.values()), views
