"""consolidated-reporting on five node processes (four companies, the group reporting node)
over mutual TLS, installed through a `yinji.apps` entry point, driven through the REST API
only, against the plaintext computation of the same CSV files (slower lane)."""

from __future__ import annotations

import pytest

from yinji.apps import consolidated_reporting as cr
from yinji.apps.consolidated_demo import COLUMNS, SCHEMA, read_book, write_books
from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.testing.apps import builtin_entries, child_env, package_dir, reject_and_check_nothing_ran

pytestmark = pytest.mark.tls

COMPANIES = ["fund", "futures", "offshore", "securities"]
NODES = [*COMPANIES, "group"]
PROTOCOL = cr.APP.protocol
RULE = {"protocols": [PROTOCOL]}
POLICIES = {n: [RULE] for n in NODES}
POLICIES["offshore"] = [{**RULE, "proposers": ["securities"]}]   # others wait for its approver
PARAMS = {"recipient": "group", "report_date": "2026-06-30", "rates": "HKD=0.9120,USD=7.1050",
          "min_cohort": 5}


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    root = tmp_path_factory.mktemp("crnet")
    create_network(root, NODES, job_timeout=120, policies=POLICIES)
    write_books({c: root / c / "data" for c in COMPANIES}, clients=300, seed=11)
    env = child_env(package_dir(tmp_path_factory.mktemp("crapps"), builtin_entries()))
    start_nodes(root, env=dict.fromkeys(NODES, env))
    apis = clients(root)
    for c in COMPANIES:
        apis[c].call("POST", "/datasets", json={
            "id": "book", "kind": "csv", "location": "data/book.csv", "schema": SCHEMA,
            "policy": [{"columns": list(COLUMNS), "protocols": [PROTOCOL]}]})
    books = {c: read_book(root / c / "data" / "book.csv") for c in COMPANIES}
    yield apis, books, root
    for api in apis.values():
        api.close()
    stop_nodes(root)


def body(**params):
    return {"params": {**PARAMS, **params}, "inputs": {c: {"dataset": "book"} for c in COMPANIES}}


def test_five_nodes_against_plaintext(net):
    apis, books, _ = net
    run = apis["securities"].call("POST", f"/apps/{cr.APP.name}/runs", json=body())
    job_id = run["job"]["id"]
    spec = apis["group"].call("GET", f"/jobs/{job_id}", role="auditor")["spec"]
    assert spec["recipients"] == ["group"], spec
    assert spec["params"]["compute"] == ["fund", "futures", "securities"]
    views = wait_job(apis, job_id, NODES, timeout=240)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    got = apis["group"].call("GET", f"/apps/{cr.APP.name}/runs/{job_id}")
    want = cr.plaintext(books, cr.APP.resolve_params(PARAMS))
    assert got["report"]["data"]["figures"] == want
    assert any(v is None for v in want) and any(v is not None for v in want)
    assert {"report.xlsx", "report.html", "Overlap.csv"} <= set(got["files"])
    # a company is no recipient: nothing to fetch
    for c in COMPANIES:
        assert not views[c]["has_result"]
        with pytest.raises(RuntimeError, match="404"):
            apis[c].call("GET", f"/jobs/{job_id}/result")
        assert apis[c].call("GET", f"/apps/{cr.APP.name}/runs/{job_id}")["report"] is None


def test_a_company_rejects(net):
    apis, _, _ = net
    job_id = apis["fund"].call("POST", f"/apps/{cr.APP.name}/runs", json=body())["job"]["id"]
    reject_and_check_nothing_ran(apis, job_id, "offshore", NODES, "rates not approved")


def test_refused_parameters(net):
    apis, _, _ = net
    api = apis["securities"]
    with pytest.raises(RuntimeError, match="422.*min_cohort"):
        api.call("POST", f"/apps/{cr.APP.name}/runs", json=body(min_cohort=1))
    with pytest.raises(RuntimeError, match="422.*rates"):
        api.call("POST", f"/apps/{cr.APP.name}/runs", json=body(rates="HKD=0.9120,USD=70"))
    with pytest.raises(RuntimeError, match="must hold no rows"):
        api.call("POST", f"/apps/{cr.APP.name}/runs", json=body(recipient="fund"))


def test_demo_matches_plaintext(net, tmp_path):
    """`make demo`'s run of this app (last here: it rewrites the companies' books)."""
    from yinji.cli.apps_demo import run_apps
    from yinji.node import app_runner

    apis, _, root = net
    app_runner.register(cr.APP)
    lines: list[str] = []
    try:
        assert run_apps(root, tmp_path, out=lines.append, only=[cr.APP.name]), lines
    finally:
        app_runner.unregister(cr.APP.name)
    assert any("matches the plaintext computation" in ln for ln in lines), lines
    assert (tmp_path / cr.APP.name / "group" / "report.xlsx").is_file()
    assert not (tmp_path / cr.APP.name / "fund").exists()
