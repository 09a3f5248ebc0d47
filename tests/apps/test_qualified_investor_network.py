"""The qualified-investor app on four node processes over mutual-TLS loopback, installed as
an organisation installs an app (a distribution whose entry points name it), driven only
through the REST API (slower lane)."""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pytest

from yinji.apps import qualified_investor as qi
from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.testing.apps import builtin_entries, child_env, package_dir

pytestmark = pytest.mark.tls

FOUR = ["securities", "fund", "futures", "offshore"]
COLS = [c.name for c in qi.APP.roles[0].columns]
PROTOCOL = qi.APP.protocol
SCHEMA = {"id_no": "string", "currency": "string", "financial_assets": "float",
          "net_assets": "float", "avg_income": "float", "first_account_date": "string"}


def write_holdings(root, rng, universe):
    tables = {}
    for name in FOUR:
        rows = []
        for i, x in enumerate(universe):
            if i and rng.random() > 0.6:
                continue
            cur = str(rng.choice(["HKD", "USD", "CNY"])) if name == "offshore" else "CNY"
            first = (dt.date.today() - dt.timedelta(days=int(rng.integers(0, 1500)))).isoformat()
            rows.append([x, cur, f"{rng.lognormal(14.5, 1):.2f}", f"{rng.normal(1e6, 1e6):.2f}",
                         f"{rng.lognormal(12, 1):.2f}", first if rng.random() < 0.8 else ""])
        with open(root / name / "data" / "holdings.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(COLS)
            w.writerows(rows)
        tables[name] = {c: np.array([r[j] for r in rows],
                                    dtype=object if SCHEMA[c] == "string" else float)
                        for j, c in enumerate(COLS)}
    return tables


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    root = tmp_path_factory.mktemp("qinet")
    apps_dir = package_dir(tmp_path_factory.mktemp("qiapps"), builtin_entries())
    policies = {n: [{"protocols": [PROTOCOL]}] for n in FOUR}
    create_network(root, FOUR, job_timeout=120, policies=policies)
    rng = np.random.default_rng(31)
    universe = [f"{rng.integers(10**16, 10**17)}{rng.integers(0, 10)}" for _ in range(40)]
    tables = write_holdings(root, rng, universe)
    env = child_env(apps_dir)
    start_nodes(root, env=dict.fromkeys(FOUR, env))
    apis = clients(root)
    for name in FOUR:
        apis[name].call("POST", "/datasets", json={
            "id": "holdings", "kind": "csv", "location": "data/holdings.csv", "schema": SCHEMA,
            "policy": [{"columns": COLS, "protocols": [PROTOCOL]}]})
    yield apis, tables, universe
    for api in apis.values():
        api.close()
    stop_nodes(root)


def start(api, ids, **extra):
    body = {"params": {"explain": True, "rates": "HKD=0.9120,USD=7.1050"},
            "inputs": {n: {"dataset": "holdings"} for n in FOUR},
            "private": {"ids": ids}, **extra}
    return api.call("POST", f"/apps/{qi.APP.name}/runs", json=body)


def test_four_nodes_against_plaintext(net):
    apis, tables, universe = net
    ids = [f" {x.lower()}" if i % 4 == 0 else x for i, x in enumerate(universe[:25])]
    ids.append("110101200001010000")  # nobody's client
    job_id = start(apis["offshore"], ids)["job"]["id"]
    views = wait_job(apis, job_id, FOUR, timeout=180)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    got = apis["offshore"].call("GET", f"/apps/{qi.APP.name}/runs/{job_id}")
    res = got["report"]
    assert "clients.csv" in got["files"]
    params = qi.APP.resolve_params({"explain": True, "rates": "HKD=0.9120,USD=7.1050"})
    want = qi.plaintext(tables, ids, params, dt.datetime.now(dt.UTC).date())
    rows = res["tables"]["clients"]["rows"]
    assert [r[0] for r in rows] == ids
    assert [r[2] for r in rows] == [qi.RULES.get(w, "") for w in want]
    assert 0 < sum(map(bool, want)) < len(want)
    assert not any(views[n]["has_result"] for n in ("securities", "fund", "futures"))
    # the private IDs never entered the spec any node stored
    spec = apis["fund"].call("GET", f"/jobs/{job_id}", role="auditor")
    assert universe[1] not in str(spec)
    for n in ("securities", "fund", "futures"):
        assert apis[n].call("GET", f"/apps/{qi.APP.name}/runs/{job_id}")["report"] is None


def test_refused_over_rest(net):
    apis, _, universe = net
    with pytest.raises(RuntimeError, match="422"):
        start(apis["fund"], [f"1101011990{i:08d}" for i in range(1001)])
    with pytest.raises(RuntimeError, match="must not be the lookup party"):
        body = {"params": {"lookup": "fund"}, "inputs": {n: {"dataset": "holdings"}
                                                         for n in FOUR},
                "private": {"ids": universe[:1]}, "compute": ["fund", "futures", "offshore"]}
        apis["fund"].call("POST", f"/apps/{qi.APP.name}/runs", json=body)
