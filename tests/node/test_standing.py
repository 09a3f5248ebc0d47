"""Standing approvals set through the API and the CLI while the nodes run: a matching job is
approved by the rule (its id in the signed audit log), one outside the bounds waits for a
person, revoked and expired rules stop applying; malformed rules and wrong roles are refused.
Three nodes in this process; fund has no node.yaml rule, so only standing approvals or a
person approve there."""

import json
import time

import pytest

from tests.node.governance_net import TRIO, agg_job, make_homes, plaintext, start, wait_final
from yinji.cli.main import main as cli
from yinji.cli.network import SEGMENTS
from yinji.node import standing as standing_mod
from yinji.node.policy import evaluate
from yinji.node.standing import StandingError, mismatches, parse_rule

SELF_APPROVE = [{"protocols": ["mpc.aggregate", "app.headcount"]}]
RULE = {"protocols": ["mpc.aggregate"], "proposers": ["securities"],
        "params": {"groups": {"max": 4}}}


@pytest.fixture
def net(tmp_path):
    make_homes(tmp_path, TRIO, {n: [o for o in TRIO if o != n] for n in TRIO},
               {"securities": SELF_APPROVE, "futures": SELF_APPROVE})
    members = {n: start(tmp_path, n) for n in TRIO}
    yield tmp_path, members
    for m in members.values():
        m.node.stop()


@pytest.fixture(scope="module")
def solo(tmp_path_factory):
    """fund alone: for refusals that need no job (each test leaves no rule behind)."""
    root = tmp_path_factory.mktemp("solo")
    make_homes(root, ["fund"], {"fund": []}, {})
    member = start(root, "fund")
    yield root, {"fund": member}
    member.node.stop()


def propose(members, groups=None, recipients=("securities",)):
    fund = members["fund"]
    fund.decided.clear()
    job = members["securities"].call("POST", "/jobs", json=agg_job(TRIO, list(recipients),
                                                                   groups), expect=201)
    assert fund.decided.wait(30), "fund's policy never looked at the proposal"
    return job["id"]


def approvals_at(member, job_id):
    return [e for e in member.node.audit.entries(job_id=job_id) if e["kind"] == "job.approval"
            and e["data"]["node"] == member.node.cfg.name]


def standing_events(member):
    return [e["data"] for e in member.node.audit.entries() if e["kind"] == "approval.standing"]


def test_rule_set_by_api_approves_a_matching_job_and_names_itself(net):
    root, m = net
    rule = m["fund"].call("POST", "/approvals/standing", role="approver", json=RULE, expect=201)
    assert rule["state"] == "active" and rule["created_by"] == "fund-approver"
    job_id = propose(m)
    views = wait_final(m, job_id, TRIO)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    sums, counts = plaintext(root, TRIO, SEGMENTS)
    res = m["securities"].call("GET", f"/jobs/{job_id}/result")["result"]
    assert res["count"] == counts and res["sum"] == pytest.approx(sums, rel=1e-9, abs=0.05)
    (entry,) = approvals_at(m["fund"], job_id)
    assert entry["data"]["by"] == "policy" and entry["data"]["decision"] == "approve"
    assert entry["data"]["reason"] == f"auto-approved by standing approval {rule['id']}"
    (own,) = approvals_at(m["securities"], job_id)
    assert own["data"]["reason"] == "auto-approved by policy"   # node.yaml's rule
    (added,) = standing_events(m["fund"])
    assert added["rule_id"] == rule["id"] and added["action"] == "added"
    assert added["rule"]["params"] == {"groups": {"max": 4}} and added["by"] == "fund-approver"
    assert m["fund"].call("GET", "/audit/verify", role="auditor")["ok"]


def test_the_proposer_learns_the_rule_id_not_its_terms(net):
    _, m = net
    secret_note = "fund-internal: cap at four segments until audit"
    rule = m["fund"].call("POST", "/approvals/standing", role="approver", expect=201,
                          json={**RULE, "note": secret_note, "recipients": ["securities"]})
    job_id = propose(m)
    views = wait_final(m, job_id, TRIO)
    assert views["securities"]["state"] == "succeeded"
    # what securities received from fund: the signed approval (stored as it arrived)
    (got,) = [a for a in views["securities"]["approvals"] if a["node"] == "fund"]
    assert set(got["record"]) == {"job_id", "node", "decision", "spec_hash", "reason", "ts"}
    assert got["record"]["reason"] == f"auto-approved by standing approval {rule['id']}"
    sent = json.dumps(got)
    for term in (secret_note, "max", "groups", "recipients", "fund-approver"):
        assert term not in sent


def test_outside_the_bounds_waits_for_a_person_then_runs(net):
    root, m = net
    m["fund"].call("POST", "/approvals/standing", role="approver", json=RULE, expect=201)
    groups = [*SEGMENTS, "staff"]          # 5 groups: above the rule's max of 4
    job_id = propose(m, groups)
    view = m["fund"].call("GET", f"/jobs/{job_id}")
    assert view["state"] == "proposed" and not approvals_at(m["fund"], job_id)
    # never auto-rejected for that: a person approves and it runs
    m["fund"].call("POST", f"/jobs/{job_id}/approve", role="approver", json={"reason": "ok"})
    views = wait_final(m, job_id, TRIO)
    assert {v["state"] for v in views.values()} == {"succeeded"}
    (entry,) = approvals_at(m["fund"], job_id)
    assert entry["data"]["by"] == "fund-approver"
    sums, counts = plaintext(root, TRIO, groups)
    assert m["securities"].call("GET", f"/jobs/{job_id}/result")["result"]["count"] == counts


def test_revoked_rule_leaves_jobs_pending(net):
    _, m = net
    rule = m["fund"].call("POST", "/approvals/standing", role="approver", json=RULE, expect=201)
    out = m["fund"].call("DELETE", f"/approvals/standing/{rule['id']}", role="approver")
    assert out["state"] == "revoked" and out["revoked_by"] == "fund-approver"
    m["fund"].call("DELETE", f"/approvals/standing/{rule['id']}", role="approver", expect=409)
    m["fund"].call("DELETE", "/approvals/standing/nope", role="approver", expect=404)
    job_id = propose(m)
    assert m["fund"].call("GET", f"/jobs/{job_id}")["state"] == "proposed"
    assert not approvals_at(m["fund"], job_id)
    assert [e["action"] for e in standing_events(m["fund"])] == ["added", "revoked"]
    listed = m["fund"].call("GET", "/approvals/standing", role="auditor")
    assert [(r["id"], r["state"]) for r in listed] == [(rule["id"], "revoked")]


def test_company_rejects_and_non_recipient_gets_no_result(net):
    _, m = net
    job_id = propose(m)                         # no rule at fund: waits
    m["fund"].call("POST", f"/jobs/{job_id}/reject", role="approver",
                   json={"reason": "not this quarter"})
    views = wait_final(m, job_id, TRIO)
    assert {v["state"] for v in views.values()} == {"rejected"}
    assert "not this quarter" in views["securities"]["reason"]
    # a run that succeeds: futures is not a recipient and holds no result
    m["fund"].call("POST", "/approvals/standing", role="approver", json=RULE, expect=201)
    job_id = propose(m)
    assert {v["state"] for v in wait_final(m, job_id, TRIO).values()} == {"succeeded"}
    m["futures"].call("GET", f"/jobs/{job_id}/result", expect=404)
    m["securities"].call("GET", f"/jobs/{job_id}/result", expect=200)


def test_expired_rule_stops_applying(net, monkeypatch):
    _, m = net
    fund = m["fund"].node
    rule = m["fund"].call("POST", "/approvals/standing", role="approver",
                          json={**RULE, "lifetime": "1h"}, expect=201)
    assert rule["expires"] == pytest.approx(time.time() + 3600, abs=60)
    spec = {**agg_job(TRIO, ["securities"]), "id": "x" * 32, "proposer": "securities",
            "created": time.time()}
    assert evaluate(fund.cfg, fund.catalog, spec, fund.standing.active()).decision == "approve"
    later = time.time() + 3601
    assert evaluate(fund.cfg, fund.catalog, spec, fund.standing.active(later)).decision == \
        "pending"
    monkeypatch.setattr(standing_mod.time, "time", lambda: later)
    assert [r["state"] for r in m["fund"].call("GET", "/approvals/standing")] == ["expired"]


@pytest.mark.parametrize("body,field", [
    ({"protocols": ["mpc.aggregate"], "params": {"groups": {"max": "ten"}}},
     "`params.groups.max` must be a finite number"),
    ({"protocols": ["mpc.aggregate"], "params": {"groups": {"atmost": 3}}}, "`params.groups.atmost`"),
    ({"protocols": ["mpc.aggregate"], "params": {"groups": {"min": 5, "max": 4}}},
     "`params.groups`: min 5 is above max 4"),
    ({"protocols": ["mpc.aggregate"], "params": {"metrics": {"in": []}}}, "`params.metrics.in`"),
    ({"proposers": ["securities"]}, "`apps` or `protocols`"),
    ({"protocols": []}, "`protocols`"),
    ({"protocols": ["mpc.aggregate"], "datasets": ["payroll"]}, "`datasets`"),
    ({"protocols": ["mpc.aggregate"], "expires": 1.0}, "`expires`"),
    ({"protocols": ["mpc.aggregate"], "lifetime": "soon"}, "`lifetime`"),
])
def test_malformed_rule_is_422_naming_the_field_and_changes_nothing(solo, body, field):
    _, m = solo
    rules, events = m["fund"].node.standing.list(), len(standing_events(m["fund"]))
    before = len(m["fund"].node.audit.entries())
    r = m["fund"].call("POST", "/approvals/standing", role="approver", json=body, expect=422)
    assert field in r["detail"], r
    assert len(m["fund"].node.audit.entries()) == before + 1    # only the refused call's entry
    assert len(standing_events(m["fund"])) == events
    assert m["fund"].node.standing.list() == rules


def test_unknown_field_and_wrong_types_are_422_naming_them(solo):
    _, m = solo
    r = m["fund"].call("POST", "/approvals/standing", role="approver",
                       json={"protocols": ["mpc.aggregate"], "approve_all": True}, expect=422)
    assert r["detail"][0]["loc"][-1] == "approve_all"
    r = m["fund"].call("POST", "/approvals/standing", role="approver",
                       json={"protocols": "mpc.aggregate"}, expect=422)
    assert r["detail"][0]["loc"][-1] == "protocols"


@pytest.mark.parametrize("role", ["operator", "auditor", "admin"])
def test_only_an_approver_sets_or_revokes(solo, role):
    _, m = solo
    after = m["fund"].node.audit.entries()[-1]["seq"]
    m["fund"].call("POST", "/approvals/standing", role=role, json=RULE, expect=403)
    rule = m["fund"].call("POST", "/approvals/standing", role="approver", json=RULE, expect=201)
    m["fund"].call("DELETE", f"/approvals/standing/{rule['id']}", role=role, expect=403)
    assert m["fund"].node.standing.get(rule["id"])["state"] == "active"
    if role != "admin":     # any role of the usual three lists them
        assert rule["id"] in [r["id"] for r in m["fund"].call("GET", "/approvals/standing",
                                                              role=role)]
    refused = [e["data"] for e in m["fund"].node.audit.entries(after=after)
               if e["kind"] == "api.call" and e["data"]["path"].startswith("/approvals/standing")
               and not e["data"]["allowed"]]
    assert len(refused) == 2 and {e["role"] for e in refused} == {role}
    m["fund"].call("DELETE", f"/approvals/standing/{rule['id']}", role="approver")


def test_cli_rule_applies_to_the_running_node(net, capsys):
    _, m = net
    home = str(m["fund"].node.home)
    assert cli(["approvals", "standing", "add", "--home", home, "--protocol", "mpc.aggregate",
                "--proposer", "securities", "--max", "groups=4", "--in", "metrics=sum,count",
                "--expires", "2d", "--note", "quarterly totals"]) == 0
    rule_id = capsys.readouterr().out.split()[2]
    job_id = propose(m)
    assert {v["state"] for v in wait_final(m, job_id, TRIO).values()} == {"succeeded"}
    (entry,) = approvals_at(m["fund"], job_id)
    assert rule_id in entry["data"]["reason"]
    assert cli(["approvals", "standing", "list", "--home", home, "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["rule"] == {"protocols": ["mpc.aggregate"], "proposers": ["securities"],
                              "params": {"groups": {"max": 4}, "metrics": {"in": ["sum", "count"]}},
                              "note": "quarterly totals"}
    assert listed["created_by"].startswith("cli:")
    assert cli(["approvals", "standing", "revoke", "--home", home, rule_id]) == 0
    assert cli(["approvals", "standing", "revoke", "--home", home, rule_id]) == 1
    assert "already revoked" in capsys.readouterr().err
    job_id = propose(m)
    assert m["fund"].call("GET", f"/jobs/{job_id}")["state"] == "proposed"
    assert cli(["approvals", "standing", "add", "--home", home, "--proposer", "fund"]) == 1
    assert "`apps` or `protocols`" in capsys.readouterr().err
    events = standing_events(m["fund"])
    assert [e["action"] for e in events] == ["added", "revoked"]
    assert all(e["by"].startswith("cli:") for e in events)
    assert m["fund"].call("GET", "/audit/verify", role="auditor")["ok"]


# -- matching, without nodes ---------------------------------------------------------------------

def spec(**kw):
    base = {"protocol": "app.qualified-investor", "proposer": "fund",
            "inputs": {"securities": {"dataset": "holdings", "columns": ["id", "assets"]},
                       "fund": {"dataset": "h", "columns": ["id", "assets"]}},
            "recipients": ["fund"], "params": {"batch_size": 1000, "metrics": ["sum"]}}
    return {**base, **kw}


QI = {"apps": ["qualified-investor"], "proposers": ["fund"],
      "params": {"batch_size": {"max": 1000}}}


@pytest.mark.parametrize("job,rule,why", [
    (spec(), QI, None),
    (spec(params={"batch_size": 1001}), QI, "above max"),
    (spec(params={"batch_size": -1}), {**QI, "params": {"batch_size": {"min": 0}}}, "below min"),
    (spec(params={}), QI, "not given"),
    (spec(params={"batch_size": "1000"}), QI, "not a number"),
    (spec(params={"batch_size": True}), QI, "not a number"),
    (spec(params={"batch_size": 10**18}), QI, "above max"),
    (spec(proposer="futures"), QI, "proposer"),
    (spec(protocol="app.other"), QI, "protocol"),
    (spec(protocol="qualified-investor"), QI, "protocol"),      # not an app run
    (spec(recipients=["fund", "securities"]), {**QI, "recipients": ["fund"]}, "recipient"),
    (spec(), {**QI, "recipients": ["fund", "futures"]}, None),
    (spec(), {**QI, "datasets": ["holdings"]}, None),
    (spec(), {**QI, "datasets": ["other"]}, "dataset not covered"),
    (spec(inputs={"fund": {"dataset": "h", "columns": ["id"]}}), {**QI, "datasets": ["holdings"]},
     "supplies no dataset"),
    (spec(), {**QI, "params": {"metrics": {"in": ["sum", "count"]}}}, None),
    (spec(params={"metrics": ["sum", "mean"]}), {**QI, "params": {"metrics": {"in": ["sum"]}}},
     "allowed"),
    (spec(params={"metrics": []}), {**QI, "params": {"metrics": {"min": 1}}}, "below min"),
    (spec(params={"mode": 1}), {**QI, "params": {"mode": {"in": [True]}}}, "allowed"),
    (spec(), {"protocols": ["*"]}, None),
    (spec(), {"apps": ["*"], "proposers": ["*"]}, None),
    (spec(protocol="mpc.aggregate"), {"apps": ["*"]}, "protocol"),
])
def test_matching(job, rule, why):
    got = mismatches(parse_rule(rule), job, "securities")
    assert (got == []) if why is None else any(why in g for g in got), got


def test_parse_rule_canonical_and_limits():
    assert parse_rule({"apps": ["b", "a", "a"]}) == {"apps": ["a", "b"]}
    for bad in (None, [], {"apps": ["x"] * 1001}, {"apps": [""]}, {"apps": ["a"], "note": 5},
                {"apps": ["a"], "params": {"n": {"max": float("nan")}}},
                {"apps": ["a"], "params": {"n": {"in": [{"nested": 1}]}}}):
        with pytest.raises(StandingError):
            parse_rule(bad)


def test_store_migration_v5_on_postgresql(pg_url, tmp_path):
    from yinji.crypto.sign import SigningKey
    from yinji.node.audit import AuditLog
    from yinji.node.standing import StandingApprovals
    from yinji.node.store import open_store

    store = open_store(pg_url)
    try:
        assert store.version() >= 5
        s = StandingApprovals(store, AuditLog(store, SigningKey.generate(), "n"))
        rule = s.add(QI, by="t", expires=time.time() + 60)
        assert [r for r, _ in s.active()] == [rule["id"]]
        s.revoke(rule["id"], by="t")
        assert s.active() == [] and s.list()[0]["state"] == "revoked"
    finally:
        store.close()
