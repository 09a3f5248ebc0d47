"""The proposal as a data owner's approver sees it (GET /jobs/{id} at a node that did not
propose, while the job waits): app, version, parameters, roles, compute parties, recipients,
and this node's dataset, columns, location and row count. Also a standing approval for an app
with a parameter bound, and a run outside it left for a person."""

import csv

import pytest

from tests.node.governance_net import TRIO, agg_job, make_homes, start, wait_final
from yinji.apps.base import App, Column, Param, Report, Role
from yinji.node import app_runner


class Headcount(App):
    """A test app: each recipient learns only how many rows its own input has (no joint
    computation: the tests are about governance, not the pipeline)."""

    name = "headcount"
    version = "2"
    roles = (Role("holder", (Column("segment"), Column("assets", "number"))),)
    params = (Param("batch_size", "int", default=100, minimum=1, maximum=100_000),
              Param("label", "str", default="q1"))

    def run(self, ctx):
        if ctx.me not in ctx.spec["recipients"]:
            return None
        return Report("headcount", data={"rows": 0 if ctx.inputs is None
                                         else len(next(iter(ctx.inputs.values())))})


SELF_APPROVE = [{"protocols": ["mpc.aggregate", "app.headcount"]}]


@pytest.fixture
def net(tmp_path):
    app_runner.register(Headcount())
    make_homes(tmp_path, TRIO, {n: [o for o in TRIO if o != n] for n in TRIO},
               {"securities": SELF_APPROVE, "futures": SELF_APPROVE})
    members = {n: start(tmp_path, n) for n in TRIO}
    yield tmp_path, members
    for m in members.values():
        m.node.stop()
    app_runner.unregister("headcount")


def rows(root, name):
    with open(root / name / "data" / "customers.csv", newline="") as fh:
        return sum(1 for _ in csv.DictReader(fh))


def run_request(batch_size):
    return {"params": {"batch_size": batch_size},
            "inputs": {n: {"dataset": "customers",
                           "columns": {"segment": "segment", "assets": "assets_cny"}}
                       for n in TRIO},
            "recipients": ["securities"]}


def start_run(m, batch_size):
    m["fund"].decided.clear()
    view = m["securities"].call("POST", "/apps/headcount/runs", json=run_request(batch_size),
                                expect=201)
    assert m["fund"].decided.wait(30)
    return view["job"]["id"]


def test_app_run_proposal_as_the_approver_sees_it(net):
    root, m = net
    m["fund"].call("POST", "/approvals/standing", role="approver", expect=201, json={
        "apps": ["headcount"], "proposers": ["securities"],
        "params": {"batch_size": {"max": 1000}}})
    job_id = start_run(m, 1500)            # above the bound: waits for a person at fund
    view = m["fund"].call("GET", f"/jobs/{job_id}", role="approver")
    assert view["state"] == "proposed" and view["proposer"] == "securities"
    spec = view["spec"]
    assert spec["protocol"] == "app.headcount"
    assert spec["params"]["app_version"] == "2"
    assert spec["params"]["batch_size"] == 1500 and spec["params"]["label"] == "q1"
    assert spec["params"]["roles"] == dict.fromkeys(TRIO, "holder")
    assert sorted(spec["params"]["compute"]) == sorted(TRIO)
    assert spec["recipients"] == ["securities"]
    assert spec["inputs"]["fund"] == {"dataset": "customers", "columns": ["segment", "assets_cny"]}
    mine = view["local_input"]
    assert mine["dataset"] == "customers" and mine["columns"] == ["segment", "assets_cny"]
    assert mine["location"] == "data/customers.csv"
    assert mine["path"] == str((root / "fund" / "data" / "customers.csv").resolve())
    assert mine["rows"] == rows(root, "fund") > 0
    # within the bound: approved by the rule, runs, only the recipient gets the report
    job_id = start_run(m, 1000)
    views = wait_final(m, job_id, TRIO)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    fund_approval = next(a for a in views["securities"]["approvals"] if a["node"] == "fund")
    assert "standing approval" in fund_approval["record"]["reason"]
    report = m["securities"].call("GET", f"/jobs/{job_id}/result")["result"]
    assert report["data"]["rows"] == rows(root, "securities")
    m["fund"].call("GET", f"/jobs/{job_id}/result", expect=404)


def test_builtin_protocol_proposal_view(net):
    root, m = net
    m["fund"].decided.clear()
    job = m["securities"].call("POST", "/jobs", json=agg_job(TRIO, ["securities", "futures"]),
                               expect=201)
    assert m["fund"].decided.wait(30)
    view = m["fund"].call("GET", f"/jobs/{job['id']}", role="auditor")
    assert view["state"] == "proposed"
    assert view["spec"]["params"]["groups"] and view["spec"]["recipients"] == ["futures",
                                                                              "securities"]
    assert view["local_input"]["rows"] == rows(root, "fund")
    m["fund"].call("POST", f"/jobs/{job['id']}/approve", role="approver")
    assert {v["state"] for v in wait_final(m, job["id"], TRIO).values()} == {"succeeded"}
    # once decided, the row count is no longer read (it would reveal nothing new to approve)
    assert m["fund"].call("GET", f"/jobs/{job['id']}")["local_input"]["rows"] is None
