"""Scenario APIs in this process (one node, REST through the ASGI test client): publication
checks, caller tokens and scopes, every refusal of a call with its status and audit entry,
quota under concurrency, the OpenAPI document, and the standing-approval fields a publication
sets (the four-node end-to-end run is tests/node/test_scenario_network.py)."""

from __future__ import annotations

import threading

import pytest
from openapi_spec_validator import validate

from tests.node.governance_net import make_homes, start
from yinji.apps.base import App, Column, Param, Report, Role
from yinji.node import app_runner
from yinji.node.audit import canonical, sha256_hex
from yinji.node.policy import malformed
from yinji.node.scenario_calls import participant_call_event
from yinji.node.scenario_serving import _reserve
from yinji.node.scenarios import ScenarioError
from yinji.node.standing import mismatches, parse_rule
from yinji.node.tokens import TokenError


class Headcount(App):
    """A toy app: the policy of the test datasets allows `app.headcount`."""

    name = "headcount"
    roles = (Role("customers", (Column("segment"), Column("assets_cny", "number"))),)
    params = (Param("scale", "float", 1.0, 0.5, 10.0), Param("mode", "str", "a",
                                                               choices=("a", "b", "c")),
              Param("batch_size", "int", None, 1, 1000))
    takes_private = "ids: client IDs"

    def plan(self, params, roles, proposer, private):
        ids = (private or {}).get("ids")
        if not isinstance(ids, list) or not ids:
            raise ValueError("private input 'ids' must be a non-empty list")
        return {"batch_size": len(ids)}

    def run(self, ctx):
        return Report("headcount")


APP = Headcount()
PUB = {"name": "count-check", "app": "headcount", "params": {"mode": "b"},
       "bounds": {"scale": {"min": 1, "max": 2}, "batch_size": {"max": 3}},
       "inputs": {"fund": {"dataset": "customers"}}, "callers": ["onboarding"],
       "quota": {"per_minute": 1}}
PATH = "/scenarios/count-check/v1"


@pytest.fixture(scope="module")
def fund(tmp_path_factory):
    app_runner.register(APP)
    root = tmp_path_factory.mktemp("scen")
    make_homes(root, ["fund"], {"fund": []}, {})
    m = start(root, "fund")
    m.tokens["caller"] = m.node.tokens.add("onboarding", "caller", by="test",
                                           scopes=["scenario:count-check/v1"])
    m.tokens["other"] = m.node.tokens.add("onboarding", "caller", by="test",
                                          scopes=["scenario:other/v1"])
    m.tokens["stranger"] = m.node.tokens.add("stranger", "caller", by="test",
                                             scopes=["scenario:count-check/v1"])
    yield m
    m.node.stop()
    app_runner.unregister(APP.name)


def calls_at(m, **match):
    return [e["data"] for e in m.node.audit.entries() if e["kind"] == "scenario.call"
            and all(e["data"].get(k) == v for k, v in match.items())]


def test_caller_tokens_need_scopes_and_can_do_nothing_else(fund):
    tokens = fund.node.tokens
    for role, scopes, words in (("caller", None, "needs scopes"),
                                ("caller", ["scenario:Bad Name/v1"], "got 'scenario:Bad"),
                                ("caller", ["scenario:x/v0"], "of the form"),
                                ("operator", ["scenario:x/v1"], "only caller tokens")):
        with pytest.raises(TokenError, match=words):
            tokens.add("t", role, by="test", scopes=scopes)
    me = [t for t in tokens.list() if t["name"] == "stranger"][0]
    assert me["scopes"] == ["scenario:count-check/v1"] and me["role"] == "caller"
    for method, path in (("GET", "/jobs"), ("GET", "/datasets"), ("POST", "/scenarios"),
                         ("GET", "/scenarios"), ("GET", "/scenarios/calls"),
                         ("GET", "/audit"), ("DELETE", "/tokens/current")):
        fund.call(method, path, role="caller", expect=403, json={})


@pytest.mark.parametrize("change, status, words", [
    ({"name": "Bad_Name"}, 422, "`name`"),
    ({"app": "nope"}, 404, "no app 'nope'"),
    ({"kind": "job"}, 422, "`kind`: app or model"),
    ({"kind": "model"}, 422, "`bounds` may only hold n_ids"),
    ({"kind": "model", "bounds": {}, "params": {}, "model": "nope"}, 404, "no model 'nope'"),
    ({"bounds": {"zzz": {"max": 1}}}, 422, "bounds.zzz"),
    ({"bounds": {"mode": {"in": ["a"]}}}, 422, "either fixed"),
    ({"bounds": {"scale": {"max": "x"}}}, 422, "finite number"),
    ({"quota": {"per_day": 0}}, 422, "quota.per_day"),
    ({"callers": []}, 422, "callers"),
    ({"recipients": ["futures"]}, 422, "must receive the result"),
    ({"params": {"mode": "z"}}, 422, "one of a, b, c"),
    ({"inputs": {"fund": {"dataset": "nope"}}}, 422, "cannot publish"),
    ({"inputs": {"fund": {"dataset": "customers"}, "ghost": {"dataset": "x"}}}, 422,
     "unknown node(s) ghost"),
])
def test_bad_publications_are_refused_naming_the_problem(fund, change, status, words):
    before = fund.call("GET", "/scenarios")
    got = fund.call("POST", "/scenarios", json={**PUB, **change}, expect=status)
    assert words in got["detail"], got
    assert fund.call("GET", "/scenarios") == before   # nothing stored


def test_publish_approve_call_and_every_refusal(fund):
    view = fund.call("POST", "/scenarios", json=PUB, expect=201)
    assert (view["state"], view["version"], view["waiting_for"]) == ("proposed", 1, ["fund"])
    d = view["definition"]
    assert d["fixed"] == {"mode": "b"} and d["bounds"] == PUB["bounds"]
    assert view["def_hash"] == sha256_hex(canonical(d))
    body = {"private": {"ids": ["a", "b"]}, "params": {"scale": 1.5}, "timeout": 20}
    assert fund.call("POST", PATH, role="caller", expect=409, json=body)["detail"].endswith(
        "waiting for approval by fund")
    approved = fund.call("POST", f"{PATH}/approve", role="approver", expect=200)
    assert approved["state"] == "active" and approved["rule_id"]
    rule = fund.node.standing.get(approved["rule_id"])["rule"]
    assert rule["scenarios"] == ["count-check/v1"] and rule["callers"] == ["onboarding"]
    assert rule["fixed"]["mode"] == "b" and rule["params"] == PUB["bounds"]
    assert rule["datasets"] == ["customers"] and rule["proposers"] == ["fund"]
    fund.call("POST", f"{PATH}/approve", role="approver", expect=409)

    refusals = [  # (token role, body, status, words)
        ("caller", {**body, "params": {"scale": 3}}, 400, "params.scale=3.0 above max 2"),
        ("caller", {**body, "private": {"ids": list("abcd")}}, 400,
         "params.batch_size=4 above max 3"),
        ("caller", {**body, "params": {"mode": "a"}}, 400, "'mode' is fixed at the publication"),
        ("caller", {**body, "extra": 1}, 400, "object with params, private, timeout"),
        ("caller", {**body, "timeout": 0}, 400, "`timeout`"),
        ("caller", {**body, "private": {}}, 400, "non-empty list"),
        ("caller", [1, 2], 400, "request body is an object"),
        ("other", body, 403, "no scope scenario:count-check/v1"),
        ("stranger", body, 403, "'stranger' is not among the callers"),
        ("operator", body, 403, "no scope"),
    ]
    for role, b, code, words in refusals:
        got = fund.call("POST", PATH, role=role, expect=code, json=b)
        assert words in got["detail"] and len(got["call_id"]) == 32, (words, got)
    r = fund.api.post(PATH, json=body, headers={"Authorization": "Bearer yj_nope"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"] == "Bearer"
    fund.call("POST", "/scenarios/count-check/v9", role="caller", expect=403, json=body)
    fund.call("POST", "/scenarios/other/v1", role="other", expect=404, json=body)

    # a valid call, but a one-company run is no valid headcount run: this node refuses to
    # propose it; the caller is told, the trail says so, and the quota unit is returned
    got = fund.call("POST", PATH, role="caller", expect=409, json=body)
    assert "fund refused the run" in got["detail"] and "three distinct" in got["detail"]
    assert [e["decision"] for e in calls_at(fund, call_id=got["call_id"])] == ["refused"]
    _reserve(fund.node.scenarios, view["definition"], "onboarding", "used")   # quota: 1/min
    r = fund.api.post(PATH, json=body,
                      headers={"Authorization": f"Bearer {fund.tokens['caller']}"})
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 61
    statuses = sorted(e["status"] for e in calls_at(fund, where="endpoint", scenario="count-check"))
    assert statuses == sorted([409, 400, 400, 400, 400, 400, 400, 400, 403, 403, 403, 401, 403,
                               409, 429]), statuses

    # the OpenAPI document: valid OpenAPI 3.1, this endpoint only, the published bounds
    doc = fund.call("GET", f"{PATH}/openapi.json", role="caller")
    validate(doc)
    assert list(doc["paths"]) == [PATH]
    props = doc["components"]["schemas"]["CallRequest"]["properties"]
    assert props["params"]["properties"] == {"scale": {
        "type": "number", "description": "scale", "minimum": 1, "maximum": 2, "default": 1.0}}
    assert props["private"]["properties"]["ids"]["maxItems"] == 3
    fund.call("GET", f"{PATH}/openapi.json", role="other", expect=403)

    # the call trail over REST (auditor), and retiring
    trail = fund.call("GET", "/scenarios/calls?scenario=count-check", role="auditor")
    assert {e["call_id"] for e in trail} >= {got["call_id"]}
    assert fund.call("POST", f"{PATH}/retire")["state"] == "retired"
    assert not fund.node.standing.active()   # its standing approval is revoked with it
    assert "retired" in fund.call("POST", PATH, role="caller", expect=410, json=body)["detail"]
    fund.call("POST", f"{PATH}/retire", expect=409)
    assert fund.call("GET", "/audit/verify", role="auditor")["ok"]


def test_quota_holds_under_concurrent_calls(fund):
    d = {"name": "quota-test", "version": 1, "quota": {"per_minute": 3, "per_day": 5}}
    ok, refused = [], []

    def one(i):
        try:
            _reserve(fund.node.scenarios, d, "racer", f"race-{i}")
            ok.append(i)
        except ScenarioError as exc:
            refused.append(exc.status)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ok) == 3 and refused == [429] * 5
    _reserve(fund.node.scenarios, d, "another-caller", "race-x")   # per caller


SPEC = {"id": "j1", "proposer": "fund", "protocol": "app.headcount", "created": 1.0,
        "inputs": {"fund": {"dataset": "customers", "columns": ["segment", "assets_cny"]}},
        "recipients": ["fund"], "params": {"mode": "b", "scale": 1.5, "batch_size": 2}}


def with_call(spec, **change):
    call = {"endpoint": "count-check/v1", "call_id": "c" * 32, "caller": "onboarding",
            "params_sha256": sha256_hex(canonical(spec["params"])), **change}
    return {**spec, "scenario": call}


def test_a_scenario_rule_covers_only_its_calls_within_fixed_and_bounds():
    rule = parse_rule({"apps": ["headcount"], "proposers": ["fund"],
                       "scenarios": ["count-check/v1"], "callers": ["onboarding"],
                       "fixed": {"mode": "b"}, "params": {"batch_size": {"max": 3}}})
    assert mismatches(rule, with_call(SPEC), "futures") == []
    assert mismatches(rule, SPEC, "futures") == ["not a scenario call"]
    assert mismatches(rule, with_call(SPEC, endpoint="count-check/v2"), "futures") == \
        ["scenario count-check/v2 not covered"]
    assert mismatches(rule, with_call(SPEC, caller="x"), "futures") == ["caller x not covered"]
    forged = {**with_call(SPEC), "params": {**SPEC["params"], "scale": 9}}
    assert mismatches(rule, forged, "futures") == [
        "the call's params hash does not match its params"]
    other = {**SPEC, "params": {**SPEC["params"], "mode": "a"}}
    assert mismatches(rule, with_call(other), "futures") == ["params.mode differs from its "
                                                             "fixed value"]
    big = {**SPEC, "params": {**SPEC["params"], "batch_size": 4}}
    assert mismatches(rule, with_call(big), "futures") == ["params.batch_size=4 above max 3"]


def test_the_participant_trail_hashes_the_params_itself():
    event = participant_call_event(with_call(SPEC), "approve")
    assert (event.scenario, event.version, event.params_sha256, event.reason) == \
        ("count-check", 1, sha256_hex(canonical(SPEC["params"])), "")
    forged = participant_call_event(with_call(SPEC, params_sha256="0" * 64), "pending")
    assert forged.params_sha256 == event.params_sha256 and "differs" in forged.reason


@pytest.mark.parametrize("call", [None, "x", {"endpoint": "a/v1"},
                                  {"endpoint": "a/v1", "call_id": 1, "caller": "c",
                                   "params_sha256": "h"}])
def test_a_malformed_scenario_field_is_refused(call):
    assert any("`scenario`" in p for p in malformed({**SPEC, "scenario": call}))


def test_cli_makes_caller_tokens_and_lists_the_call_trail(fund, capsys):
    from yinji.cli.main import main as cli

    home = str(fund.node.home)
    assert cli(["token", "add", "--home", home, "--name", "crm", "--role", "caller"]) == 1
    assert "needs scopes" in capsys.readouterr().err
    assert cli(["token", "add", "--home", home, "--name", "crm", "--role", "caller",
                "--scope", "scenario:count-check/v2"]) == 0
    capsys.readouterr()
    assert cli(["token", "list", "--home", home]) == 0
    assert "scenario:count-check/v2" in capsys.readouterr().out
    r = fund.api.post(PATH, json={}, headers={"Authorization":
                                              f"Bearer {fund.tokens['stranger']}"})
    assert r.status_code in (404, 410)   # (whether the test above published and retired it)
    assert cli(["audit", "calls", "--home", home, "--scenario", "count-check"]) == 0
    out = capsys.readouterr().out
    assert "stranger" in out and "endpoint" in out
