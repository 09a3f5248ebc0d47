"""joint-aml on five node processes (four companies, the AML officer) over mutual TLS, the app
installed through a `yinji.apps` entry point, driven through the REST API (slower lane)."""

import csv

import pytest

from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.crypto.certs import write_private
from yinji.testing.aml_data import COLUMNS, COMPANIES, aml_dataset, run_in_process
from yinji.testing.apps import builtin_entries, child_env, package_dir

pytestmark = pytest.mark.tls

NODES = [*COMPANIES, "officer"]
PROTOCOL = "app.joint-aml"
KEY = bytes(range(7, 39))  # the key run_in_process writes


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    from yinji.node.admin import open_admin
    from yinji.node.catalog import Dataset, PolicyRule

    root = tmp_path_factory.mktemp("amlnet")
    create_network(root, NODES, job_timeout=120,
                   policies={n: [{"protocols": [PROTOCOL]}] for n in NODES})
    case = aml_dataset(150, seed=5)
    for c in COMPANIES:
        home = root / c
        with open(home / "data" / "aml.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, COLUMNS)
            w.writeheader()
            w.writerows(case.tables[c])
        (home / "linkage").mkdir()
        write_private(home / "linkage" / "aml.key", KEY)
        with open_admin(home, by="test") as admin:
            admin.catalog.register(Dataset(
                id="aml", kind="csv", location="data/aml.csv",
                schema=dict.fromkeys(COLUMNS, "string"),
                policy=[PolicyRule(columns=list(COLUMNS), protocols=[PROTOCOL])]), by=admin.by)
    env = child_env(package_dir(tmp_path_factory.mktemp("pkg"), builtin_entries()))
    start_nodes(root, env=dict.fromkeys(NODES, env))
    apis = clients(root)
    yield root, apis, case, tmp_path_factory.mktemp("twin")
    for api in apis.values():
        api.close()
    stop_nodes(root)


def start(apis, recipients=None):
    body = {"params": {"aml_officer": "officer", "period_start": "2026-03-01"},
            "inputs": {c: {"dataset": "aml"} for c in COMPANIES}}
    if recipients:
        body["recipients"] = recipients
    run = apis["securities"].call("POST", "/apps/joint-aml/runs", json=body)
    job_id = run["job"]["id"]
    views = wait_job(apis, job_id, NODES, timeout=300)
    return job_id, views


def test_four_companies_alerts_and_counts_as_in_process(net):
    root, apis, case, twin = net
    job_id, views = start(apis)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    reports = {n: apis[n].call("GET", f"/apps/joint-aml/runs/{job_id}")["report"]
               for n in NODES}
    ref = run_in_process(case, twin)
    for c in COMPANIES:
        assert reports[c]["data"]["alerts"] == ref[c].data["alerts"], c
        assert reports[c]["tables"]["data_quality"] == ref[c].tables["data_quality"]
    assert reports["officer"]["tables"]["alert_counts"] == ref["officer"].tables["alert_counts"]
    assert "alerts" not in reports["officer"]["data"]
    planted = {p for r in ("STRUCT", "RAPID", "INCOME") for p in case.planted[r]}
    alerted = {case.person_of[(c, rid)] for c in COMPANIES
               for rid in reports[c]["data"]["alerts"]}
    assert planted <= alerted and not (set(case.planted["CONTROL"]) & alerted)
    files = apis["offshore"].call("GET", f"/apps/joint-aml/runs/{job_id}")["files"]
    assert "alerts.csv" in files and "data_quality.csv" in files


def test_non_recipient_company_gets_no_result(net):
    _, apis, _, _ = net
    job_id, views = start(apis, recipients=["fund", "offshore", "officer"])
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    for n in ("futures", "securities"):
        assert apis[n].call("GET", f"/apps/joint-aml/runs/{job_id}")["report"] is None
    assert apis["fund"].call("GET", f"/apps/joint-aml/runs/{job_id}")["report"] is not None
