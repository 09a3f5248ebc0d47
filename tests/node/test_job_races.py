"""A job's end reaches every participant even when its notice is lost or overtakes the
proposal (the notice is best effort): a decision sent to the proposer after the job ended is
answered with the end, and the late node ends the job the same way."""

import pytest

from tests.node.governance_net import TRIO, agg_job, make_homes, start, wait_final


@pytest.fixture
def trio(tmp_path):
    make_homes(tmp_path, TRIO, {n: [o for o in TRIO if o != n] for n in TRIO},
               {"securities": [{"protocols": ["mpc.aggregate"]}]})
    members = {n: start(tmp_path, n) for n in TRIO}
    yield members
    for m in members.values():
        m.node.stop()


def _drop_end_notices(member):
    """This node never hears the proposer's end notices (as if they overtook the proposal)."""
    original = member.node.jobs.handle

    def handle(peer, msg):
        if msg.get("type") in ("rejected", "failed", "cancelled", "expired"):
            return {"ok": False, "error": "no such job yet"}
        return original(peer, msg)
    member.node.jobs.handle = handle


@pytest.mark.parametrize("end", ["rejected", "cancelled"])
def test_a_decision_after_the_end_learns_the_end(trio, end):
    _drop_end_notices(trio["fund"])
    job = trio["securities"].call("POST", "/jobs", json=agg_job(TRIO, ["securities"]),
                                  expect=201)
    if end == "rejected":
        trio["futures"].call("POST", f"/jobs/{job['id']}/reject", role="approver",
                             json={"reason": "not this quarter"})
    else:
        trio["securities"].call("POST", f"/jobs/{job['id']}/cancel")
    assert trio["fund"].call("GET", f"/jobs/{job['id']}", role="auditor")["state"] == "proposed"
    trio["fund"].call("POST", f"/jobs/{job['id']}/approve", role="approver")
    views = wait_final(trio, job["id"], TRIO, timeout=30)
    assert {v["state"] for v in views.values()} == {end}, views
    if end == "rejected":
        assert "not this quarter" in views["fund"]["reason"]


def test_a_policy_deciding_after_a_person_leaves_the_job_alone(trio, monkeypatch):
    """A standing approval and an approver may both act on one proposal; whichever comes
    second finds the node's decision recorded and must not fail the job (it did: 'could not
    decide: this node already decided')."""
    from yinji.node import jobs
    from yinji.node.policy import Decision

    job = trio["securities"].call("POST", "/jobs", json=agg_job(TRIO, ["securities"]),
                                  expect=201)
    fund = trio["fund"]
    fund.call("POST", f"/jobs/{job['id']}/approve", role="approver")
    monkeypatch.setattr(jobs, "evaluate", lambda *a, **k: Decision("approve", "standing"))
    fund.node.jobs._decide_by_policy(job["spec"])          # the policy, a moment later
    assert fund.call("GET", f"/jobs/{job['id']}", role="auditor")["state"] == "proposed"
    trio["futures"].call("POST", f"/jobs/{job['id']}/approve", role="approver")
    views = wait_final(trio, job["id"], TRIO, timeout=30)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views


def test_a_data_owner_sees_the_others_decisions_while_the_job_waits(trio):
    """The proposer holds the decisions until everyone has decided; a participant's
    GET /jobs/ID/decisions asks it and checks every signature."""
    job = trio["securities"].call("POST", "/jobs", json=agg_job(TRIO, ["securities"]),
                                  expect=201)
    trio["fund"].call("POST", f"/jobs/{job['id']}/approve", role="approver",
                      json={"reason": "fine by fund"})
    seen = trio["futures"].call("GET", f"/jobs/{job['id']}/decisions", role="approver")
    got = {d["node"]: (d["decision"], d["reason"]) for d in seen["decisions"]}
    assert got["fund"] == ("approve", "fine by fund") and "futures" not in got
    assert got == {d["node"]: (d["decision"], d["reason"]) for d in trio["securities"].call(
        "GET", f"/jobs/{job['id']}/decisions", role="auditor")["decisions"]}
    # a forged record from the proposer is refused, naming it
    jobs = trio["securities"].node.jobs
    real = jobs._signed_approvals
    jobs._signed_approvals = lambda job_id: [
        {**a, "record": {**a["record"], "decision": "reject"}} for a in real(job_id)]
    try:
        with pytest.raises(AssertionError, match="502.*does not verify"):
            trio["futures"].call("GET", f"/jobs/{job['id']}/decisions", role="approver")
    finally:
        jobs._signed_approvals = real
