"""The example package examples/yinji-heatmap installed on the four demo nodes the way an
organisation installs an app -- a distribution on the nodes' path whose `yinji.apps` entry
point names the app, no edit of Yinji's source and no pip install into this environment --
then listed by every node and run end to end through the REST API against the plaintext of
the same CSV files, and published as a scenario API that a client program calls with a
scoped caller token (slower lane: four node processes over loopback TLS).

`make test` does not collect the package's own tests (examples/yinji-heatmap/tests: the
plaintext twin, the parties' views, bad input, the report files) as its own: one test here
runs them as the package's developers do, in a separate pytest process with the package's
source and this checkout's on PYTHONPATH, so CI keeps them (and the security claims they
check) green without installing anything."""

import csv
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import numpy as np
import pytest
from openapi_spec_validator import validate

from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.ids import normalize
from yinji.node.admin import open_admin
from yinji.testing.apps import builtin_entries, child_env, package_dir

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "yinji-heatmap"
APP = "product-heatmap"
COMPANIES = ["fund", "futures", "offshore", "securities"]   # compute: the first three
LINES = {"fund": ["bond funds", "equity funds"], "futures": ["index futures"],
         "offshore": ["HK equities", "US equities"], "securities": ["margin", "options"]}
MIN_COHORT = 3
# Ad-hoc runs proposed by fund or securities are pre-approved by every node's policy; a run
# proposed by futures is not, so the scenario it publishes runs only on the standing
# approvals its publication sets (nothing else would approve its calls).
AD_HOC = ["fund", "securities"]
PUBLISHER = "futures"


def example_entries():
    meta = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    return meta["project"]["entry-points"]["yinji.apps"]


def write_holdings(root):
    """Small seeded holdings: 40 people, each company holding about half of them in one or
    more of its lines; securities writes its IDs in lower case (the ledger normalises)."""
    rng = np.random.default_rng(14)
    people = [f"11010119800101{i:03d}X" for i in range(40)]
    rows = {}
    for c in COMPANIES:
        rows[c] = [(p.lower() if c == "securities" else p, line)
                   for p in people if rng.random() < 0.5
                   for line in LINES[c] if rng.random() < 0.7]
        rows[c].append(rows[c][0])                       # a duplicated row counts once
        with open(root / c / "data" / "holdings.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["client_id", "product_line"])
            w.writerows(rows[c])
    return rows


def plaintext(rows, min_cohort=MIN_COHORT):
    """Labels and the suppressed matrix (None below min_cohort), from Python sets."""
    holders = {f"{c}: {line}": {normalize(p, kind="id") for p, ln in rows[c] if ln == line}
               for c in COMPANIES for line in sorted({ln for _, ln in rows[c]})}
    labels = list(holders)
    matrix = [[len(holders[a] & holders[b]) for b in labels] for a in labels]
    return labels, [[v if v >= min_cohort else None for v in r] for r in matrix]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    root = tmp_path_factory.mktemp("heatnet")
    create_network(root, COMPANIES, job_timeout=60,
                   policies={c: [{"protocols": [f"app.{APP}"], "proposers": AD_HOC}]
                             for c in COMPANIES})
    rows = write_holdings(root)
    pkg = package_dir(tmp_path_factory.mktemp("pkg"), {**builtin_entries(), **example_entries()},
                      dist="yinji_heatmap")
    env = child_env(pkg)
    env["PYTHONPATH"] = os.pathsep.join([str(EXAMPLE / "src"), env["PYTHONPATH"]])
    start_nodes(root, env=dict.fromkeys(COMPANIES, env))
    apis = clients(root)
    schema = {"client_id": "string", "product_line": "string"}
    for c in COMPANIES:
        apis[c].call("POST", "/datasets", json={
            "id": "holdings", "kind": "csv", "location": "data/holdings.csv", "schema": schema,
            "policy": [{"columns": list(schema), "protocols": [f"app.{APP}"]}]})
    yield apis, rows, root
    for api in apis.values():
        api.close()
    stop_nodes(root)


def body(**extra):
    return {"params": {"min_cohort": MIN_COHORT},
            "inputs": {c: {"dataset": "holdings", "columns": {"id_no": "client_id"}}
                       for c in COMPANIES}, **extra}


@pytest.mark.tls
def test_every_node_lists_the_installed_app(net):
    apis, *_ = net
    for c in COMPANIES:
        listed = {a["name"]: a for a in apis[c].call("GET", "/apps")}
        assert APP in listed, c
        assert [r["name"] for r in listed[APP]["roles"]] == ["holdings"]


@pytest.mark.tls
def test_heat_map_to_one_recipient_matches_plaintext(net):
    apis, rows, _ = net
    run = apis["fund"].call("POST", f"/apps/{APP}/runs", json=body(recipients=["securities"]))
    job_id = run["job"]["id"]
    views = wait_job(apis, job_id, COMPANIES, timeout=120)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    got = apis["securities"].call("GET", f"/apps/{APP}/runs/{job_id}")
    labels, matrix = plaintext(rows)
    assert got["report"]["data"]["labels"] == labels
    assert got["report"]["data"]["matrix"] == matrix
    flat = [v for r in matrix for v in r]
    assert None in flat and any(v is not None for v in flat)      # both kinds of cell occur
    assert {"heatmap.csv", "report.xlsx", "report.html", "heatmap.html"} <= set(got["files"])
    for c in ("fund", "futures", "offshore"):                      # nobody else gets a report
        assert not views[c]["has_result"]
        assert apis[c].call("GET", f"/apps/{APP}/runs/{job_id}")["report"] is None


@pytest.mark.tls
def test_more_than_one_recipient_is_refused(net):
    apis, *_ = net
    with pytest.raises(RuntimeError, match="400.*exactly one recipient"):
        apis["fund"].call("POST", f"/apps/{APP}/runs",
                          json=body(recipients=["fund", "securities"]))


@pytest.mark.tls
def test_the_app_demo_runs_and_matches_plaintext(net, tmp_path, monkeypatch):
    """The lead's `make demo` hook for this app (`App.demo` through REST), run here."""
    from yinji.cli.apps_demo import run_apps
    from yinji.node import app_runner

    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    from yinji_heatmap.app import APP as app

    app_runner.register(app)   # this process finds the app the way the nodes do
    try:
        lines = []
        assert run_apps(net[2], tmp_path, out=lines.append, only=[APP], timeout=120), lines
    finally:
        app_runner.unregister(APP)
    assert any("matches the plaintext" in line for line in lines), lines


SCENARIO = "group-product-heatmap"
SC_PATH = f"/scenarios/{SCENARIO}/v1"
SC_SCOPE = f"scenario:{SCENARIO}/v1"
SC_COHORT = 4          # fixed at publication (the ad-hoc runs above use MIN_COHORT = 3)


@pytest.mark.tls
def test_published_as_a_scenario_api_and_called_by_a_client_program(net):
    """The installed example app published as a scenario API at futures (fixed min_cohort,
    the result to futures, no private input), approved once at every company, called by a
    client program with a token scoped to the endpoint: the answer is the plaintext heat map,
    the endpoint's OpenAPI document is served, and every node logged the call id."""
    apis, rows, root = net
    me = apis[PUBLISHER]
    pub = me.call("POST", "/scenarios", json={
        "name": SCENARIO, "app": APP, "title": "Group product-holding heat map",
        "params": {"min_cohort": SC_COHORT},
        "inputs": {c: {"dataset": "holdings", "columns": {"id_no": "client_id"}}
                   for c in COMPANIES},
        "callers": ["product-committee"], "quota": {"per_minute": 5, "per_day": 50}})
    d = pub["definition"]
    assert (pub["path"], pub["state"], pub["waiting_for"]) == (SC_PATH, "proposed", COMPANIES)
    assert d["fixed"] == {"min_cohort": SC_COHORT} and d["bounds"] == {}
    assert d["private_input"] == "" and d["recipients"] == [PUBLISHER]
    assert d["compute"] == ["fund", "futures", "offshore"]
    with open_admin(root / PUBLISHER, by="test") as admin:
        token = admin.tokens.add("product-committee", "caller", by=admin.by,
                                 scopes=[SC_SCOPE])
    client = httpx.Client(base_url=me.url, timeout=150, verify=me.verify,
                          headers={"Authorization": f"Bearer {token}"})

    def post(body):
        r = client.post(SC_PATH, json=body)
        return r.status_code, r.json()

    code, got = post({})
    assert code == 409 and "waiting for approval" in got["detail"], got
    rule_ids = {c: apis[c].call("POST", f"{SC_PATH}/approve", role="approver",
                                params={"publisher": PUBLISHER})["rule_id"] for c in COMPANIES}
    assert all(rule_ids.values()) and me.call("GET", SC_PATH)["state"] == "active"

    doc = client.get(f"{SC_PATH}/openapi.json").json()
    validate(doc)                                  # a valid OpenAPI 3.1 document
    assert list(doc["paths"]) == [SC_PATH]
    assert doc["paths"][SC_PATH]["post"]["security"] == [{"bearer": [SC_SCOPE]}]
    request = doc["components"]["schemas"]["CallRequest"]
    assert "private" not in request["properties"] and "required" not in request
    assert request["properties"]["params"]["properties"] == {}    # nothing settable
    assert f"min_cohort={SC_COHORT}" in doc["info"]["description"]

    # refused before any job: a fixed parameter, a private input the app does not take
    code, got = post({"params": {"min_cohort": 1}})
    assert code == 400 and "fixed at the publication" in got["detail"], got
    code, got = post({"private": {"ids": ["x"]}})
    assert code == 400 and "takes no private input" in got["detail"], got

    code, got = post({"timeout": 120})
    assert code == 200, got
    labels, matrix = plaintext(rows, SC_COHORT)
    assert got["result"]["data"]["labels"] == labels
    assert got["result"]["data"]["matrix"] == matrix
    flat = [v for r in matrix for v in r]
    assert None in flat and SC_COHORT in flat      # suppression at the fixed cohort ...
    assert matrix != plaintext(rows, MIN_COHORT)[1]      # ... which differs from 3 here
    for c in COMPANIES:                            # the report stays with the publisher
        job = apis[c].call("GET", f"/jobs/{got['job_id']}", role="auditor")
        assert job["state"] == "succeeded" and job["has_result"] == (c == PUBLISHER), (c, job)

    # the call trail: every company logged the call id with the publisher's params hash,
    # approved by the standing approval its approver set at publication
    served = [e for e in me.call("GET", "/scenarios/calls", role="auditor",
                                 params={"call_id": got["call_id"]})
              if e["where"] == "endpoint"]
    assert len(served) == 1 and served[0]["status"] == 200
    assert served[0]["caller"] == "product-committee" and served[0]["job_id"] == got["job_id"]
    for c in COMPANIES:
        seen = [e for e in apis[c].call("GET", "/scenarios/calls", role="auditor",
                                        params={"call_id": got["call_id"]})
                if e["where"] == "participant"]
        assert len(seen) == 1, (c, seen)
        assert seen[0]["params_sha256"] == served[0]["params_sha256"]
        assert seen[0]["decision"] == "approve" and rule_ids[c] in seen[0]["reason"], seen
        assert apis[c].call("GET", "/audit/verify", role="auditor")["ok"]


def test_the_package_own_tests_pass():
    env = child_env(EXAMPLE / "src")
    result = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                             "tests"], cwd=EXAMPLE, env={**os.environ, **env},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "failed" not in result.stdout
