"""A published scenario API end to end on four node processes over mutual-TLS loopback: the
qualified-investor check published at the fund company for its onboarding system, approved
once by every company, called by a client program (plain httpx with a scoped caller token),
and the call trail cross-checked between the four nodes' audit logs (slower lane)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

import httpx
import numpy as np
import pytest

from tests.apps.test_qualified_investor_network import (
    COLS,
    FOUR,
    PROTOCOL,
    SCHEMA,
    write_holdings,
)
from yinji.apps import qualified_investor as qi
from yinji.cli.main import main as cli
from yinji.cli.network import clients, create_network, start_nodes, stop_nodes
from yinji.node.admin import open_admin
from yinji.testing.apps import builtin_entries, child_env, package_dir

pytestmark = pytest.mark.tls

NAME = "qualified-investor-check"
PATH = f"/scenarios/{NAME}/v1"
SCOPE = f"scenario:{NAME}/v1"
FIXED = {"explain": True, "rates": "HKD=0.9120,USD=7.1050"}
BATCH_MAX = 30


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    root = tmp_path_factory.mktemp("scnet")
    apps_dir = package_dir(tmp_path_factory.mktemp("scapps"), builtin_entries())
    create_network(root, FOUR, job_timeout=120,
                   policies={n: [{"protocols": ["mpc.aggregate"]}] for n in FOUR})
    rng = np.random.default_rng(41)
    universe = [f"{rng.integers(10**16, 10**17)}{rng.integers(0, 10)}" for _ in range(40)]
    tables = write_holdings(root, rng, universe)
    start_nodes(root, env=dict.fromkeys(FOUR, child_env(apps_dir)))
    apis = clients(root)
    for name in FOUR:
        apis[name].call("POST", "/datasets", json={
            "id": "holdings", "kind": "csv", "location": "data/holdings.csv", "schema": SCHEMA,
            "policy": [{"columns": COLS, "protocols": [PROTOCOL]}]})
    yield apis, tables, universe, root
    for api in apis.values():
        api.close()
    stop_nodes(root)


def caller_token(root, name="onboarding", scopes=(SCOPE,)):
    with open_admin(root / "fund", by="test") as admin:
        return admin.tokens.add(name, "caller", by=admin.by, scopes=list(scopes))


def status(api, method, path, role="operator", **kw):
    r = api.http.request(method, path, headers={"Authorization": f"Bearer {api.tokens[role]}"},
                         **kw)
    return r.status_code, r.json()


def publish(api, name=NAME, **extra):
    return api.call("POST", "/scenarios", json={
        "name": name, "app": qi.APP.name, "title": "Qualified-investor check for onboarding",
        "params": FIXED, "bounds": {"batch_size": {"max": BATCH_MAX}},
        "inputs": {n: {"dataset": "holdings"} for n in FOUR}, "callers": ["onboarding"],
        "quota": {"per_minute": 3, "per_day": 100}, **extra})


def test_published_qi_check_end_to_end(net, tmp_path, capsys):
    apis, tables, universe, root = net
    fund = apis["fund"]
    view = publish(fund)
    assert view["state"] == "proposed" and view["version"] == 1
    assert view["waiting_for"] == sorted(FOUR)
    # the onboarding system's token, made on the fund's machine
    assert cli(["token", "add", "--home", str(root / "fund"), "--name", "onboarding",
                "--role", "caller", "--scope", SCOPE, "--out", str(tmp_path / "tok")]) == 0
    token = (tmp_path / "tok").read_text().strip()
    client = httpx.Client(base_url=fund.url, timeout=120, verify=fund.verify,
                          headers={"Authorization": f"Bearer {token}"})

    def post(body, c=client):
        r = c.post(PATH, json=body)
        return r.status_code, r.json(), r.headers

    # not yet approved by every company: refused, naming who is missing
    code, body, _ = post({"private": {"ids": universe[:2]}})
    assert code == 409 and "waiting for approval" in body["detail"], body
    for n in FOUR:   # every company approves once (its approver; a standing approval)
        got = apis[n].call("POST", f"{PATH}/approve", role="approver")
        assert got["rule_id"]
    assert fund.call("GET", PATH)["state"] == "active"
    for n in FOUR:
        rules = [r for r in apis[n].call("GET", "/approvals/standing")
                 if r["rule"].get("scenarios") == [f"{NAME}/v1"]]
        assert len(rules) == 1 and rules[0]["rule"]["callers"] == ["onboarding"]
        assert rules[0]["rule"]["params"] == {"batch_size": {"max": BATCH_MAX}}
    # a second call of approve is refused
    assert status(apis["futures"], "POST", f"{PATH}/approve", role="approver")[0] == 409

    # the OpenAPI document of this endpoint only, readable with the caller token
    doc = client.get(f"{PATH}/openapi.json").json()
    assert list(doc["paths"]) == [PATH]
    ids_schema = doc["components"]["schemas"]["CallRequest"]["properties"]["private"][
        "properties"]["ids"]
    assert ids_schema["maxItems"] == BATCH_MAX
    assert doc["paths"][PATH]["post"]["security"] == [{"bearer": [SCOPE]}]

    # two calls by the client program, checked against the plaintext computation
    today = dt.datetime.now(dt.UTC).date()
    params = qi.APP.resolve_params(FIXED)
    calls = []
    for ids in (universe[:25] + ["110101200001010000"], [universe[30]]):   # many; one
        code, body, _ = post({"private": {"ids": ids}, "timeout": 150})
        assert code == 200, body
        rows = body["result"]["tables"]["clients"]["rows"]
        want = qi.plaintext(tables, ids, params, today)
        assert [r[0] for r in rows] == ids
        assert [r[2] for r in rows] == [qi.RULES.get(w, "") for w in want]
        calls.append((body["call_id"], body["job_id"], ids))
    assert len({c[0] for c in calls}) == 2

    # negative: out of bounds, fixed parameter, wrong scope, quota, revoked, retired
    code, body, _ = post({"private": {"ids": universe[:BATCH_MAX + 1]}})
    assert code == 400 and "batch_size" in body["detail"] and f"max {BATCH_MAX}" in \
        body["detail"], body
    code, body, _ = post({"private": {"ids": universe[:2]}, "params": {"preset": "professional"}})
    assert code == 400 and "fixed at the publication" in body["detail"], body
    other = httpx.Client(base_url=fund.url, verify=fund.verify, headers={
        "Authorization": f"Bearer {caller_token(root, scopes=('scenario:other/v1',))}"})
    code, body, _ = post({"private": {"ids": universe[:2]}}, other)
    assert code == 403 and SCOPE in body["detail"]
    code, body = status(fund, "POST", PATH, json={"private": {"ids": universe[:2]}})
    assert code == 403   # an operator token is no caller
    code, body, _ = post({"private": {"ids": [universe[0], universe[0]]}})
    assert code == 400 and "duplicate" in body["detail"], body
    # a company withdraws its standing approval: the next call's job waits for a person
    # there; the caller gets 504 after its timeout and the job is cancelled
    rule = [r for r in apis["offshore"].call("GET", "/approvals/standing")
            if r["rule"].get("scenarios") == [f"{NAME}/v1"]][0]
    apis["offshore"].call("DELETE", f"/approvals/standing/{rule['id']}", role="approver")
    code, body, _ = post({"private": {"ids": universe[:2]}, "timeout": 2})
    assert code == 504 and "cancelled" in body["detail"], body
    withdrawn = body
    assert fund.call("GET", f"/jobs/{body['job_id']}", role="auditor")["state"] == "cancelled"
    code, body, headers = post({"private": {"ids": universe[:2]}})
    assert code == 429 and "quota of 3 calls per minute" in body["detail"], body
    assert int(headers["Retry-After"]) >= 1
    with open_admin(root / "fund", by="test") as admin:
        admin.tokens.revoke("onboarding", by=admin.by)
    code, body, _ = post({"private": {"ids": universe[:2]}})
    assert code == 401   # at once: no token cache
    assert fund.call("POST", f"{PATH}/retire")["state"] == "retired"
    fresh = httpx.Client(base_url=fund.url, verify=fund.verify, headers={
        "Authorization": f"Bearer {caller_token(root)}"})
    code, body, _ = post({"private": {"ids": universe[:2]}}, fresh)
    assert code == 410, body
    for n in FOUR:   # every company took the retirement up and revoked its standing approval
        assert apis[n].call("GET", f"{PATH}?publisher=fund")["state"] == "retired"
        rules = [r for r in apis[n].call("GET", "/approvals/standing")
                 if r["rule"].get("scenarios") == [f"{NAME}/v1"]]
        assert [r["state"] for r in rules] == ["revoked"]

    # the call trail: every node that took part logged each call id with the same params
    # hash; the called node logged every call with its status
    trails = {n: apis[n].call("GET", f"/scenarios/calls?scenario={NAME}", role="auditor")
              for n in FOUR}
    endpoint = {e["call_id"]: e for e in trails["fund"] if e["where"] == "endpoint"}
    assert sorted(e["status"] for e in endpoint.values()) == \
        [200, 200, 400, 400, 400, 401, 403, 403, 409, 410, 429, 504], endpoint
    for call_id, job_id, _ in calls:
        served = endpoint[call_id]
        assert served["job_id"] == job_id and served["result_size"] > 0
        assert served["latency_ms"] > 0 and served["caller"] == "onboarding"
        for n in FOUR:
            seen = [e for e in trails[n] if e["where"] == "participant"
                    and e["call_id"] == call_id]
            assert len(seen) == 1, (n, trails[n])
            assert seen[0]["params_sha256"] == served["params_sha256"]
            assert seen[0]["decision"] == "approve" and seen[0]["job_id"] == job_id
    pending = [e for e in trails["offshore"] if e["call_id"] == withdrawn["call_id"]]
    assert [e["decision"] for e in pending] == ["pending"]   # offshore's own decision
    for n in FOUR:
        assert apis[n].call("GET", "/audit/verify", role="auditor")["ok"]
    (tmp_path / "auditor").write_text(apis["offshore"].tokens["auditor"])
    capsys.readouterr()
    assert cli(["scenario", "calls", "--scenario", NAME, "--api", apis["offshore"].url, "--api-ca", apis["offshore"].ca,
                "--token-file", str(tmp_path / "auditor")]) == 0
    printed = capsys.readouterr().out
    assert all(c[0] in printed for c in calls) and "participant" in printed

    # nobody but the fund saw the IDs checked, nor a hash of them
    for n in ("securities", "futures", "offshore"):
        log = apis[n].http.get("/audit/export", headers={
            "Authorization": f"Bearer {apis[n].tokens['auditor']}"}).text
        jobs = json.dumps([apis[n].call("GET", f"/jobs/{c[1]}", role="auditor")
                           for c in calls])
        for _, _, ids in calls:
            digest = hashlib.sha256(json.dumps(ids).encode()).hexdigest()
            for text in (log, jobs):
                assert digest not in text
                assert not any(x in text for x in ids[:25])


def test_rejected_publication_refuses_calls(net):
    apis, _, universe, root = net
    view = publish(apis["fund"], name="qi-rejected")
    for n in ("fund", "securities"):
        apis[n].call("POST", "/scenarios/qi-rejected/v1/approve", role="approver")
    apis["offshore"].call("POST", "/scenarios/qi-rejected/v1/reject", role="approver",
                          json={"reason": "cross-border use not agreed"})
    got = apis["fund"].call("GET", "/scenarios/qi-rejected/v1")
    assert got["state"] == "rejected" and "cross-border" in got["reason"]
    assert view["def_hash"] == got["def_hash"]
    token = caller_token(root, scopes=("scenario:qi-rejected/v1",))
    r = httpx.post(f"{apis['fund'].url}/scenarios/qi-rejected/v1", verify=apis["fund"].verify,
                   headers={"Authorization": f"Bearer {token}"},
                   json={"private": {"ids": universe[:2]}})
    assert r.status_code == 409 and "rejected" in r.json()["detail"]


def test_demo_hook(net):
    """`make demo`'s scenario API call (last here: it rewrites the companies' holdings)."""
    from yinji.cli.scenario_demo import run_scenario_api

    *_, root = net
    lines: list[str] = []
    assert run_scenario_api(root, out=lines.append, timeout=150), lines
    assert "matches the plaintext computation" in lines[-1] and "4 nodes" in lines[-1], lines
