"""The app layer: parameters, run requests, and an app installed as an outside package run by
four node processes (three compute, one input party) through REST."""

import csv
import shutil
from pathlib import Path

import pytest

from yinji.apps.base import App, AppError, Column, Param, Role
from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.testing.apps import child_env, package_dir

FOUR = ["futures", "fund", "offshore", "securities"]


def test_params_are_checked_and_filled():
    class A(App):
        name = "a"
        params = (Param("n", "int", 10, minimum=1, maximum=1000), Param("on", "bool", False),
                  Param("who", "names", required=True), Param("fx", "rates", {"HKD": 0.9}),
                  Param("mode", "str", "x", choices=("x", "y")))

    a = A()
    assert a.resolve_params({"who": "fund,offshore", "n": "20", "on": "yes"}) == \
        {"n": 20, "on": True, "who": ["fund", "offshore"], "fx": {"HKD": 0.9}, "mode": "x"}
    assert a.resolve_params({"who": ["a"], "fx": "hkd=0.92,USD=7.1"})["fx"] == \
        {"HKD": 0.92, "USD": 7.1}
    for given, words in (({"who": ["a"], "n": 1001}, "at most 1000"),
                         ({"who": ["a"], "n": 2.5}, "whole number"),
                         ({"who": ["a"], "n": "nan"}, "must be a number"),
                         ({}, "'who' is required"),
                         ({"who": ["a"], "zzz": 1}, "unknown parameter 'zzz'"),
                         ({"who": ["a"], "mode": "z"}, "one of x, y"),
                         ({"who": ["a"], "fx": {"HKD": -1}}, "positive number"),
                         ({"who": ["a"], "on": "maybe"}, "true or false")):
        with pytest.raises(AppError, match=words):
            a.resolve_params(given)


def test_validate_names_what_is_wrong():
    class A(App):
        name = "a"
        roles = (Role("r", (Column("id_no", "id"), Column("v", "number"))),)
        params = (Param("n", "int", 1, maximum=5),)

    spec = {"inputs": {p: {"dataset": "d", "columns": ["x", "y"]} for p in "pqr"},
            "params": {"n": 1, "app_version": "1", "roles": dict.fromkeys("pqr", "r"),
                       "compute": ["p", "q", "r"]}, "recipients": ["p"]}
    assert A().validate(spec) == []
    bad = {**spec, "params": {**spec["params"], "n": 9, "app_version": "0",
                              "compute": ["p", "q"]}}
    problems = " | ".join(A().validate(bad))
    for words in ("version 1 here", "at most 5", "three distinct companies"):
        assert words in problems
    short = {**spec, "inputs": {**spec["inputs"], "p": {"dataset": "d", "columns": ["x"]}}}
    assert "expected 2 columns (id_no, v)" in " ".join(A().validate(short))


@pytest.fixture(scope="module")
def acme_net(tmp_path_factory):
    root = tmp_path_factory.mktemp("apps")
    pkg = package_dir(root / "site", {"acme-totals": "acme_app:APP"},
                      {"acme_app": (Path(__file__).parent / "acme_app.py").read_text()})
    policy = [{"protocols": ["app.acme-totals"]}]
    create_network(root, FOUR, job_timeout=30, policies=dict.fromkeys(FOUR, policy))
    for name in FOUR:   # each company's own column names; the run maps them
        src = root / name / "data" / "customers.csv"
        shutil.copy(src, root / name / "data" / "book.csv")
    start_nodes(root, env=dict.fromkeys(FOUR, child_env(pkg)))
    apis = clients(root)
    for name, api in apis.items():
        seg, amt = ("分部", "资产") if name == "offshore" else ("segment", "assets_cny")
        path = root / name / "data" / "book.csv"
        rows = list(csv.reader(open(path, newline="")))
        rows[0] = ["customer_id", seg, amt]
        with open(path, "w", newline="") as fh:
            csv.writer(fh).writerows(rows)
        api.call("POST", "/datasets", json={
            "id": "book", "kind": "csv", "location": "data/book.csv",
            "schema": {"customer_id": "string", seg: "string", amt: "float"},
            "policy": [{"columns": [seg, amt], "protocols": ["app.acme-totals"]}]})
    yield root, apis
    for api in apis.values():
        api.close()
    stop_nodes(root)


def _plain(root):
    totals = {}
    for name in FOUR:
        with open(root / name / "data" / "customers.csv", newline="") as fh:
            for r in csv.DictReader(fh):
                totals[r["segment"]] = totals.get(r["segment"], 0.0) + float(r["assets_cny"])
    return totals


def _inputs():
    return {n: {"dataset": "book",
                "columns": ({"segment": "分部", "assets": "资产"} if n == "offshore"
                            else {"assets": "assets_cny"})} for n in FOUR}


@pytest.mark.tls
def test_outside_app_runs_on_four_companies(acme_net):
    root, apis = acme_net
    listed = apis["offshore"].call("GET", "/apps")
    assert "acme-totals" in [a["name"] for a in listed]
    shown = apis["fund"].call("GET", "/apps/acme-totals")
    assert shown["version"] == "2" and shown["roles"][0]["columns"][0]["name"] == "segment"
    run = apis["offshore"].call("POST", "/apps/acme-totals/runs",
                                json={"params": {"scale": 2}, "inputs": _inputs()})
    job_id = run["job"]["id"]
    spec = run["job"]["spec"]
    assert spec["protocol"] == "app.acme-totals"
    assert spec["params"] == {"scale": 2.0, "app_version": "2",
                              "roles": dict.fromkeys(FOUR, "customers"),
                              "compute": ["fund", "futures", "offshore"]}
    assert spec["inputs"]["offshore"]["columns"] == ["分部", "资产"]
    assert spec["recipients"] == ["offshore"]
    views = wait_job(apis, job_id, FOUR, timeout=60)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    got = apis["offshore"].call("GET", f"/apps/acme-totals/runs/{job_id}")
    rows = dict(got["report"]["tables"]["totals"]["rows"])
    for seg, total in _plain(root).items():
        assert rows[seg] == pytest.approx(2 * total, abs=0.05)
    assert "totals.csv" in got["files"]
    text = apis["offshore"].http.get(
        f"/apps/acme-totals/runs/{job_id}/files/totals.csv",
        headers={"Authorization": f"Bearer {apis['offshore'].tokens['operator']}"}).text
    assert "retail" in text
    # a company that is not a recipient holds no report and no files
    other = apis["securities"].call("GET", f"/apps/acme-totals/runs/{job_id}")
    assert other["report"] is None and other["files"] == []
    with pytest.raises(RuntimeError, match="404"):
        apis["securities"].call("GET", f"/apps/acme-totals/runs/{job_id}/files/totals.csv")


@pytest.mark.tls
def test_bad_run_requests_are_refused_with_the_reason(acme_net):
    _, apis = acme_net
    api = apis["fund"]
    with pytest.raises(RuntimeError, match="404.*no app 'nope'"):
        api.call("POST", "/apps/nope/runs", json={"inputs": _inputs()})
    with pytest.raises(RuntimeError, match="422.*'scale' must be at most 1000"):
        api.call("POST", "/apps/acme-totals/runs",
                 json={"params": {"scale": 5000}, "inputs": _inputs()})
    bad = _inputs()
    bad["fund"]["columns"] = {"amount": "assets_cny"}
    with pytest.raises(RuntimeError, match="role customers has no column.*amount"):
        api.call("POST", "/apps/acme-totals/runs", json={"inputs": bad})
    own = _inputs()
    own["fund"]["columns"] = {"assets": "no_such"}
    with pytest.raises(RuntimeError, match="has no column 'no_such'"):
        api.call("POST", "/apps/acme-totals/runs", json={"inputs": own})
    # another company's wrong column: that company refuses the proposal, naming it
    peer = _inputs()
    peer["futures"]["columns"] = {"assets": "no_such"}
    run = api.call("POST", "/apps/acme-totals/runs", json={"inputs": peer})
    views = wait_job(apis, run["job"]["id"], FOUR, timeout=30)
    assert {v["state"] for v in views.values()} == {"rejected"}
    assert "dataset 'book' has no column 'no_such'" in views["fund"]["reason"]
