"""Jobs: proposal, signed approvals, execution and outcome, agreed between the participants.

Lifecycle: proposed -> approved -> running -> succeeded | failed, or proposed -> rejected,
or proposed -> expired, or (any non-final state) -> cancelled / failed.

- The proposer sends the spec to every participant. Each stores it, audits it and decides
  (policy, or later a person); a decision is a record {job_id, node, decision, spec_hash,
  reason, ts} signed with the node's key and sent to the proposer. Spec, approval and
  result hashes and the signatures follow the node's crypto profile: SHA-256 / Ed25519, or
  SM3 / SM2 under `sm` (every participant has the same profile: nodes of another refuse).
- When every participant has approved, the proposer sends all signed approvals to everyone
  ("start"). Each node checks every signature and that every approval names the spec hash it
  stored itself, so a node never runs a job whose parameters differ from what it approved;
  the job's audit entries carry the hash of that set of approvals (`approvals_hash`), the
  same on every node.
- A rejection is forwarded by the proposer to everyone; nobody touches data for it.
- What an approver sees of a job (`public`, `local_input`): besides the spec, this node's own
  input -- dataset, registered location, the file actually read or the sql source and table,
  revision and, while the job is proposed, its row count now. It is never sent to peers.
- A proposal not approved by everyone within `proposal_ttl` seconds (node.yaml, default 24 h,
  by this node's clock from when it stored the proposal) expires: it moves to `expired`
  (audited) and the other participants are told, so nothing waits for approval forever.
- A peer's proposal of the wrong shape is refused before it is stored (`policy.malformed`);
  whatever goes wrong while deciding on a stored one fails the job with the reason.
- Data are read only inside the runner of an approved job, after checking the column policy
  again, and only if the dataset was not updated since this node approved (an update after
  approval fails the job: what was approved is not what would be read). Any failure (peer gone, node restarted, timeout, bad input) marks the job failed
  locally with the reason and tells the other participants, which mark it failed too. Jobs
  only read data; nothing is written back to a dataset.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yinji.crypto.profile import CryptoProfile, get_profile
from yinji.net.channel import Party
from yinji.node.audit import (
    ApprovalEvent,
    JobProposedEvent,
    JobStateEvent,
    ResultDeliveredEvent,
    canonical,
    sha256_hex,
)
from yinji.node.catalog import CatalogError
from yinji.node.policy import admissible, evaluate, malformed, participants
from yinji.node.runners import RunContext, runner_for
from yinji.node.scenario_calls import participant_call_event

if TYPE_CHECKING:
    from yinji.node.node import Node

FINAL = ("succeeded", "failed", "cancelled", "rejected", "expired")
ACTIVE = ("proposed", "approved", "running")
_APPROVAL_TAG = b"yinji-approval/1 "
_HOLD_ENV = "YINJI_TEST_HOLD_STAGE"  # fault-injection tests: block this node at a stage


class JobError(Exception):
    """A request about a job that cannot be honoured; `status` is the HTTP status to use."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


class AlreadyDecided(JobError):
    """This node's decision on the job is already recorded, or the job no longer waits for
    one (a person and a standing policy may both act on the same proposal)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, 409)


def spec_hash(spec: dict[str, Any], profile: str | CryptoProfile = "international") -> str:
    return get_profile(profile).hash_hex(canonical(spec))


def approval_hash(record: dict[str, Any], signature: str,
                  profile: str | CryptoProfile = "international") -> str:
    return get_profile(profile).hash_hex(canonical({"record": record, "signature": signature}))


def approvals_hash(hashes: list[str], profile: str | CryptoProfile = "international") -> str:
    return get_profile(profile).hash_hex(canonical(sorted(hashes)))


class JobEngine:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.cfg, self.store, self.audit = node.cfg, node.store, node.audit
        self.profile = get_profile(node.key.profile)
        self._parties: dict[str, Party] = {}
        self._private: dict[str, dict[str, Any]] = {}   # proposer-only inputs, memory only
        self._lock = threading.Lock()

    # -- helpers ------------------------------------------------------------------------------
    def _job(self, job_id: str) -> dict[str, Any]:
        row = self.store.job(job_id)
        if row is None:
            raise JobError(f"no job {job_id!r}", 404)
        return row

    def _spec(self, row: dict[str, Any]) -> dict[str, Any]:
        return json.loads(row["spec_json"])

    def _peer_key(self, name: str) -> str | None:
        if name == self.cfg.name:
            return self.node.key.public
        peer = self.cfg.peers.get(name)
        return peer.signing_key if peer else None

    def _send(self, peer: str, body: dict[str, Any], timeout: float = 10.0) -> dict[str, Any]:
        return self.node.dataplane.request(peer, body, timeout)

    def _send_all(self, peers: list[str], body: dict[str, Any]) -> dict[str, Any]:
        """`body` to every peer at once (not one after the other: a run's set-up is one
        round trip, not one per company); per peer its reply or the exception."""
        peers = [p for p in peers if p != self.cfg.name]

        def one(peer: str) -> Any:
            try:
                return self._send(peer, body)
            except Exception as exc:  # noqa: BLE001 - the caller reports it per peer
                return exc

        if len(peers) <= 1:
            return {p: one(p) for p in peers}
        with ThreadPoolExecutor(len(peers), thread_name_prefix="yinji-send") as pool:
            return dict(zip(peers, pool.map(one, peers), strict=True))

    def _broadcast(self, peers: list[str], body: dict[str, Any], timeout: float = 5.0) -> None:
        """Best-effort notice to peers, in the background."""
        for peer in peers:
            if peer == self.cfg.name:
                continue
            threading.Thread(target=self._notice, args=(peer, body, timeout), daemon=True,
                             name=f"yinji-notice {peer}").start()

    def _background(self, target: Any, *args: Any) -> None:
        threading.Thread(target=target, args=args, daemon=True).start()

    def _notice(self, peer: str, body: dict[str, Any], timeout: float) -> None:
        try:
            self._send(peer, body, timeout)
        except Exception:  # noqa: BLE001,S110 - best effort: the peer fails on its own timeout
            pass

    def _state(self, job_id: str, new: str, allowed: tuple[str, ...], reason: str = "",
               **fields: Any) -> bool:
        row = self.store.job(job_id)
        ok = self.store.transition(job_id, new, allowed, reason=reason or None, **fields)
        if ok and new in FINAL:
            self._private.pop(job_id, None)
        if ok:
            self.audit.append(JobStateEvent(job_id, new, reason,
                                            fields.get("approvals_hash")
                                            or (row or {}).get("approvals_hash") or ""))
        return ok

    # -- proposing ----------------------------------------------------------------------------
    def propose(self, create: dict[str, Any], by: str,
                private: dict[str, Any] | None = None) -> dict[str, Any]:
        """Propose a job to its participants. `private`: input only this node's runner sees
        (an app's private input); kept in memory for the job's life, never sent or stored."""
        spec = {"id": uuid.uuid4().hex, "proposer": self.cfg.name,
                "protocol": create["protocol"],
                "inputs": {p: {"dataset": i["dataset"], "columns": list(i["columns"])}
                           for p, i in create["inputs"].items()},
                "params": create.get("params") or {},
                "recipients": sorted(set(create["recipients"])),
                "created": round(time.time(), 3)}
        if create.get("helpers"):
            spec["helpers"] = sorted(set(create["helpers"]))
        if create.get("scenario"):   # a call of a published scenario API (node.scenarios)
            spec["scenario"] = {**create["scenario"],
                                "params_sha256": sha256_hex(canonical(spec["params"]))}
        parts = participants(spec)
        if self.cfg.name not in parts:
            raise JobError("the proposing node must be a participant of the job")
        problems = admissible(self.cfg, self.node.catalog, spec)
        if problems:
            raise JobError("; ".join(problems))
        if private is not None:
            self._private[spec["id"]] = private
        self._store_proposal(spec)
        for peer, reply in self._send_all(parts, {"type": "propose", "spec": spec}).items():
            if isinstance(reply, Exception) or not reply.get("ok"):
                reason = (f"could not deliver the proposal to {peer}: {reply}"
                          if isinstance(reply, Exception) else
                          f"{peer} refused the proposal: {reply.get('error')}")
                self.fail(spec["id"], reason)
                return self.public(self._job(spec["id"]))
        self._decide_by_policy(spec)
        return self.public(self._job(spec["id"]))

    def _store_proposal(self, spec: dict[str, Any]) -> bool:
        h = spec_hash(spec, self.profile)
        inserted = self.store.insert_job({"id": spec["id"], "proposer": spec["proposer"],
                                          "protocol": spec["protocol"],
                                          "spec_json": canonical(spec).decode(),
                                          "spec_hash": h, "state": "proposed"})
        if inserted:
            self.audit.append(JobProposedEvent(spec["id"], spec["proposer"], spec["protocol"], h,
                                               participants(spec), spec["recipients"]))
        return inserted

    def _decide_by_policy(self, spec: dict[str, Any]) -> None:
        d = evaluate(self.cfg, self.node.catalog, spec, self.node.standing.active())
        if isinstance(spec.get("scenario"), dict):   # the call trail at every participant
            self.audit.append(participant_call_event(spec, d.decision, d.reason))
        if d.decision != "pending":
            try:
                self.decide(spec["id"], d.decision, by="policy", reason=d.reason)
            except AlreadyDecided:
                return   # a person decided first, or the job moved on: the policy has no say
            except JobError:
                if self._job(spec["id"])["state"] == "proposed":
                    raise  # otherwise a peer already ended the job: nothing to decide

    # -- deciding -----------------------------------------------------------------------------
    def decide(self, job_id: str, decision: str, by: str, reason: str = "") -> dict[str, Any]:
        """This node approves or rejects a proposed job (policy or a person)."""
        row = self._job(job_id)
        spec = self._spec(row)
        if row["state"] == "proposed" and self._stale(row):
            self._expire(row)
            row = self._job(job_id)
        if row["state"] != "proposed":
            raise AlreadyDecided(f"job {job_id} is {row['state']}, not waiting for approval")
        if decision == "approve":
            problems = admissible(self.cfg, self.node.catalog, spec)
            if problems:
                raise JobError("cannot approve: " + "; ".join(problems), 409)
        record = {"job_id": job_id, "node": self.cfg.name, "decision": decision,
                  "spec_hash": row["spec_hash"], "reason": reason[:500],
                  "ts": round(time.time(), 3)}
        signature = self.node.key.sign(_APPROVAL_TAG + canonical(record)).hex()
        if not self._record(record, signature, by):
            raise AlreadyDecided(f"this node already decided on job {job_id}")
        approval = {"record": record, "signature": signature}
        if spec["proposer"] == self.cfg.name:
            self._after_decision(job_id, approval)
        else:
            try:
                reply = self._send(spec["proposer"], {"type": "decision", "approval": approval})
                ended = reply.get("ended")
                if isinstance(ended, dict) and ended.get("type") in ("rejected", "cancelled",
                                                                     "expired", "failed"):
                    # the job ended before our decision arrived (its notice may have reached
                    # us before the proposal did): take the end as if it were the notice
                    self._ended(spec["proposer"], ended, self._job(job_id))
            except Exception as exc:  # noqa: BLE001
                self.fail(job_id, f"could not send the decision to {spec['proposer']}: {exc}")
            if decision == "reject":
                self._state(job_id, "rejected", ("proposed",), f"rejected by {self.cfg.name}: "
                            f"{reason}")
        return self.public(self._job(job_id))

    def _verify(self, record: dict[str, Any], signature: str, row: dict[str, Any]) -> str | None:
        key = self._peer_key(record.get("node", ""))
        if key is None:
            return f"approval from unknown node {record.get('node')!r}"
        if record.get("job_id") != row["id"] or record.get("spec_hash") != row["spec_hash"]:
            return f"approval from {record['node']} is for a different job or spec"
        if record.get("node") not in participants(self._spec(row)):
            return f"{record['node']} is not a participant"
        try:
            ok = self.profile.verify(key, bytes.fromhex(signature),
                                     _APPROVAL_TAG + canonical(record))
        except ValueError:
            ok = False
        return None if ok else f"approval from {record['node']} has an invalid signature"

    def _record(self, record: dict[str, Any], signature: str, by: str) -> bool:
        digest = approval_hash(record, signature, self.profile)
        stored = self.store.put_approval(record["job_id"], record["node"], record["decision"],
                                         record, signature, digest)
        if stored:
            self.audit.append(ApprovalEvent(record["job_id"], record["node"], record["decision"],
                                            record["spec_hash"], digest, by,
                                            record.get("reason", "")))
        return stored

    def _after_decision(self, job_id: str, approval: dict[str, Any]) -> None:
        """At the proposer: forward a rejection, or start when everyone approved."""
        row = self._job(job_id)
        spec = self._spec(row)
        record = approval["record"]
        if record["decision"] == "reject":
            if self._state(job_id, "rejected", ("proposed",),
                           f"rejected by {record['node']}: {record.get('reason', '')}"):
                self._broadcast(participants(spec), {"type": "rejected", "job_id": job_id,
                                                     "approval": approval})
            return
        approvals = {a["node"]: a for a in self.store.approvals(job_id)}
        parts = participants(spec)
        if any(approvals.get(p, {}).get("decision") != "approve" for p in parts):
            return
        signed = [{"record": json.loads(approvals[p]["record_json"]),
                   "signature": approvals[p]["signature"]} for p in parts]
        if not self._approve_all(job_id, signed):
            return
        replies = self._send_all(parts, {"type": "start", "job_id": job_id, "approvals": signed})
        failed = [f"{peer}: {reply if isinstance(reply, Exception) else reply.get('error')}"
                  for peer, reply in replies.items()
                  if isinstance(reply, Exception) or not reply.get("ok")]
        if failed:
            self.fail(job_id, "could not start the job on " + "; ".join(failed))
            return
        self._launch(job_id)

    def _approve_all(self, job_id: str, signed: list[dict[str, Any]]) -> bool:
        """Check a full set of approvals; move the job to approved. False if not applicable."""
        row = self._job(job_id)
        parts = participants(self._spec(row))
        got = {}
        for a in signed:
            problem = self._verify(a["record"], a["signature"], row)
            if problem:
                raise JobError(problem, 403)
            if a["record"]["decision"] != "approve":
                raise JobError(f"{a['record']['node']} did not approve", 409)
            got[a["record"]["node"]] = a
        if sorted(got) != parts:
            raise JobError("approvals missing from " + ", ".join(sorted(set(parts) - set(got))),
                           409)
        mine = {a["node"]: a for a in self.store.approvals(job_id)}.get(self.cfg.name)
        if mine is None or mine["decision"] != "approve":
            raise JobError(f"{self.cfg.name} has not approved job {job_id}", 409)
        for a in signed:
            self._record(a["record"], a["signature"], by=a["record"]["node"])
        digest = approvals_hash([approval_hash(a["record"], a["signature"], self.profile)
                                 for a in signed], self.profile)
        return self._state(job_id, "approved", ("proposed",), approvals_hash=digest)

    # -- peers' messages ----------------------------------------------------------------------
    def handle(self, peer: str, msg: dict[str, Any]) -> dict[str, Any]:
        kind = msg.get("type")
        try:
            if kind == "propose":
                spec = msg.get("spec")
                problems = malformed(spec)
                if problems:
                    raise JobError(f"malformed proposal from {peer}: " + "; ".join(problems))
                if spec.get("proposer") != peer:
                    raise JobError(f"{peer} proposed a job in the name of {spec.get('proposer')}")
                if self.cfg.name not in participants(spec):
                    raise JobError(f"{self.cfg.name} is not a participant of this job")
                existing = self.store.job(spec["id"])
                if existing is not None:
                    if existing["spec_hash"] != spec_hash(spec, self.profile):
                        raise JobError("a different job with this id exists")
                    return {"ok": True}
                self._store_proposal(spec)
                self._background(self._policy_later, spec)
                return {"ok": True}
            job_id = msg.get("job_id") or (msg.get("approval") or {}).get("record", {}).get(
                "job_id", "")
            row = self._job(job_id)
            spec = self._spec(row)
            if peer not in participants(spec):
                raise JobError(f"{peer} is not a participant of job {job_id}", 403)
            if kind == "decision":
                if spec["proposer"] != self.cfg.name:
                    raise JobError("decisions go to the proposer")
                a = msg["approval"]
                if a["record"].get("node") != peer:
                    raise JobError(f"{peer} sent a decision of {a['record'].get('node')}", 403)
                problem = self._verify(a["record"], a["signature"], row)
                if problem:
                    raise JobError(problem, 403)
                self._record(a["record"], a["signature"], by=peer)
                ended = self._end_notice(row)
                if ended is not None:
                    return {"ok": True, "ended": ended}
                threading.Thread(target=self._after_decision_safe, args=(job_id, a),
                                 daemon=True).start()
            elif kind == "decisions":
                if spec["proposer"] != self.cfg.name:
                    raise JobError("the proposer keeps the decisions")
                return {"ok": True, "approvals": self._signed_approvals(job_id)}
            elif kind == "start":
                if peer != spec["proposer"]:
                    raise JobError("only the proposer starts a job", 403)
                if row["state"] == "proposed" and self._stale(row):
                    self._expire(row)
                if self._approve_all(job_id, msg["approvals"]):
                    self._launch(job_id)
                elif self._job(job_id)["state"] != "approved":
                    raise JobError(f"job {job_id} is {self._job(job_id)['state']} here", 409)
            elif kind in ("rejected", "cancelled", "expired", "failed"):
                self._ended(peer, msg, row)
            else:
                raise JobError(f"unknown message type {kind!r}")
        except JobError as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True}

    def _signed_approvals(self, job_id: str) -> list[dict[str, Any]]:
        return [{"record": json.loads(a["record_json"]), "signature": a["signature"]}
                for a in self.store.approvals(job_id)]

    def decisions(self, job_id: str) -> list[dict[str, Any]]:
        """Every company's decision on a job so far, as its proposer holds them: while a job
        waits, a data owner's approver sees the others' decisions (a participant may; the
        proposer refuses anyone else). Each record's signature is checked here."""
        row = self._job(job_id)
        spec = self._spec(row)
        if spec["proposer"] == self.cfg.name:
            signed = self._signed_approvals(job_id)
        else:
            try:
                reply = self._send(spec["proposer"], {"type": "decisions", "job_id": job_id},
                                   timeout=5.0)
            except Exception as exc:  # noqa: BLE001 - a peer that is down: say so
                raise JobError(f"cannot reach the proposer {spec['proposer']}: {exc}", 502) \
                    from None
            if not reply.get("ok") or not isinstance(reply.get("approvals"), list):
                raise JobError(f"the proposer {spec['proposer']} did not list the decisions: "
                               f"{reply.get('error', 'malformed reply')}", 502)
            signed = reply["approvals"]
            for a in signed:
                problem = (self._verify(a["record"], a["signature"], row)
                           if isinstance(a, dict) and isinstance(a.get("record"), dict)
                           and isinstance(a.get("signature"), str) else "malformed decision")
                if problem:
                    raise JobError(f"the proposer {spec['proposer']} sent a decision that does "
                                   f"not verify: {problem}", 502)
        return [{"node": a["record"]["node"], "decision": a["record"]["decision"],
                 "reason": a["record"].get("reason", ""), "ts": a["record"].get("ts")}
                for a in signed]

    def _ended(self, peer: str, msg: dict[str, Any], row: dict[str, Any]) -> None:
        """A participant's notice that the job ended (rejected, cancelled, expired, failed)."""
        kind, job_id = msg["type"], row["id"]
        if kind == "rejected":
            a = msg["approval"]
            problem = self._verify(a["record"], a["signature"], row)
            if problem or a["record"]["decision"] != "reject":
                raise JobError(problem or "not a rejection", 403)
            self._record(a["record"], a["signature"], by=peer)
            self._state(job_id, "rejected", ACTIVE,
                        f"rejected by {a['record']['node']}: {a['record'].get('reason', '')}")
        elif kind == "cancelled":
            self._state(job_id, "cancelled", ACTIVE, f"cancelled by {peer}")
            self._abort(job_id)
        elif kind == "expired":
            self._state(job_id, "expired", ("proposed",), f"the proposal expired at {peer}")
        else:
            self._state(job_id, "failed", ACTIVE, f"failed at {peer}: {msg.get('reason', '')}")
            self._abort(job_id)

    def _end_notice(self, row: dict[str, Any]) -> dict[str, Any] | None:
        """The notice that ended a job (as broadcast to the participants), or None if it has
        not ended: the proposer's answer to a decision that arrives too late."""
        state, job_id = row["state"], row["id"]
        if state == "rejected":
            rejections = [a for a in self.store.approvals(job_id) if a["decision"] == "reject"]
            if rejections:
                a = rejections[0]
                return {"type": "rejected", "job_id": job_id,
                        "approval": {"record": json.loads(a["record_json"]),
                                     "signature": a["signature"]}}
        if state in ("failed", "cancelled", "expired"):
            return {"type": state, "job_id": job_id, "reason": (row["reason"] or "")[:500]}
        return None

    def _policy_later(self, spec: dict[str, Any]) -> None:
        try:
            self._decide_by_policy(spec)
        except Exception as exc:  # noqa: BLE001 - never leave a proposal undecided
            reason = exc if isinstance(exc, JobError) else f"{type(exc).__name__}: {exc}"
            self.fail(spec["id"], f"{self.cfg.name} could not decide: {reason}")

    def _after_decision_safe(self, job_id: str, approval: dict[str, Any]) -> None:
        try:
            self._after_decision(job_id, approval)
        except Exception as exc:  # noqa: BLE001
            self.fail(job_id, str(exc) if isinstance(exc, JobError)
                      else f"{type(exc).__name__}: {exc}")

    # -- expiry -------------------------------------------------------------------------------
    def _stale(self, row: dict[str, Any], now: float | None = None) -> bool:
        return (time.time() if now is None else now) - row["created"] > self.cfg.proposal_ttl

    def _expire(self, row: dict[str, Any]) -> None:
        reason = f"not approved by every participant within {self.cfg.proposal_ttl:g} s"
        if self._state(row["id"], "expired", ("proposed",), reason):
            self._broadcast(participants(self._spec(row)),
                            {"type": "expired", "job_id": row["id"]})

    def expire(self, now: float | None = None) -> int:
        """Expire every proposal older than `proposal_ttl`; returns how many."""
        stale = [r for r in self.store.list_jobs("proposed", limit=100_000)
                 if self._stale(r, now)]
        for row in stale:
            self._expire(row)
        return len(stale)

    def channel_check(self, peer: str, job_id: str, hash_: str) -> str | None:
        row = self.store.job(job_id)
        if row is None:
            return f"unknown job {job_id}"
        if row["spec_hash"] != hash_:
            return "spec hash differs from the approved job"
        spec = self._spec(row)
        runner = runner_for(spec["protocol"])
        if runner is None:
            return f"unknown protocol {spec['protocol']!r}"
        if peer not in runner.compute_parties(spec) or self.cfg.name not in \
                runner.compute_parties(spec):
            return f"{peer} is not a compute party of job {job_id}"
        if row["state"] in FINAL:
            return f"job {job_id} is {row['state']}"
        mine = {a["node"]: a for a in self.store.approvals(job_id)}.get(self.cfg.name)
        if mine is None or mine["decision"] != "approve":
            return f"{self.cfg.name} has not approved job {job_id}"
        return None

    # -- running ------------------------------------------------------------------------------
    def _launch(self, job_id: str) -> None:
        threading.Thread(target=self._run, args=(job_id,), daemon=True,
                         name=f"yinji-job {job_id[:8]}").start()

    def _progress(self, job_id: str, fraction: float, stage: str) -> None:
        self.store.set_progress(job_id, fraction, stage)
        if os.environ.get(_HOLD_ENV) == stage:
            threading.Event().wait()  # fault injection: the test kills this process here

    def _run(self, job_id: str) -> None:
        row = self._job(job_id)
        spec = self._spec(row)
        runner = runner_for(spec["protocol"])
        if runner is None:
            self.fail(job_id, f"unknown protocol {spec['protocol']!r} on {self.cfg.name}")
            return
        if hasattr(runner, "bind"):  # runners that use node state (model registry, audit)
            runner = runner.bind(self.node)
        if not self._state(job_id, "running", ("approved",)):
            return
        party = None
        try:
            inputs, input_key = None, None
            mine = spec["inputs"].get(self.cfg.name)
            if mine is not None:
                self._unchanged_since_approval(job_id, mine["dataset"])
                others = [p for p in participants(spec) if p != self.cfg.name]
                problems = self.node.catalog.check(mine["dataset"], mine["columns"],
                                                   spec["protocol"], others)
                if problems:
                    raise JobError("; ".join(problems))
                if (getattr(runner, "streams", None) and runner.streams(spec)
                        and (self.node.catalog.get(mine["dataset"]).kind != "sql"
                             or getattr(runner, "streams_sql", False))):
                    pass   # the runner reads in chunks (catalog.source / sql_stream)
                else:
                    inputs, input_key = self.node.catalog.load_keyed(
                        mine["dataset"], mine["columns"],
                        empty_as_nan=getattr(runner, "empty_as_nan", False))
            self._progress(job_id, 0.1, "connecting")
            party = self.node.dataplane.job_party(job_id, row["spec_hash"],
                                                  runner.compute_parties(spec),
                                                  self.cfg.job_timeout, self.cfg.job_timeout)
            with self._lock:
                self._parties[job_id] = party
            if self._job(job_id)["state"] != "running":
                raise JobError(f"job {job_id} was stopped")
            result = runner.run(RunContext(spec, self.cfg.name, party, inputs,
                                           lambda f, s: self._progress(job_id, f, s),
                                           self.cfg.home, self._private.get(job_id),
                                           self.node, input_key, self.results_dir(job_id)))
            party.close()
            if result is not None:
                text = canonical(result).decode()
                digest = self.profile.hash_hex(text.encode())
                if hasattr(runner, "render"):   # apps: CSV, .xlsx and HTML for this recipient
                    self._progress(job_id, 0.97, "writing the report")
                    runner.render(result, self.results_dir(job_id))
                self.store.put_result(job_id, text, digest)
                self.audit.append(ResultDeliveredEvent(job_id, self.cfg.name, digest))
            self.store.set_progress(job_id, 1.0, "done")
            self._state(job_id, "succeeded", ("running",))
        except Exception as exc:  # noqa: BLE001 - any failure fails the job everywhere
            self.fail(job_id, f"{type(exc).__name__}: {exc}")
            shutil.rmtree(self.results_dir(job_id), ignore_errors=True)  # no partial files
        finally:
            with self._lock:
                self._parties.pop(job_id, None)
            self._private.pop(job_id, None)
            if party is not None:
                party.close()

    def results_dir(self, job_id: str) -> Path:
        """Where this node keeps the report files of a job it received a result of."""
        return self.cfg.home / "results" / job_id

    def _unchanged_since_approval(self, job_id: str, dataset_id: str) -> None:
        mine = {a["node"]: a for a in self.store.approvals(job_id)}.get(self.cfg.name)
        approved = json.loads(mine["record_json"])["ts"] if mine else None
        updated = self.node.catalog.get(dataset_id).updated
        # the record's ts is rounded to 1 ms: an update within 1 ms before counts as after
        if approved is not None and updated is not None and updated >= approved - 0.001:
            raise JobError(f"dataset {dataset_id!r} was updated after {self.cfg.name} approved "
                           "this job; propose it again")

    def _abort(self, job_id: str) -> None:
        with self._lock:
            party = self._parties.pop(job_id, None)
        self.node.dataplane.drop_job(job_id)
        if party is not None:
            party.close()

    def fail(self, job_id: str, reason: str) -> None:
        row = self.store.job(job_id)
        if row is None:
            return
        if self._state(job_id, "failed", ACTIVE, reason[:1000]):
            self._broadcast(participants(self._spec(row)),
                            {"type": "failed", "job_id": job_id, "reason": reason[:500]})
        self._abort(job_id)

    def cancel(self, job_id: str, by: str) -> dict[str, Any]:
        row = self._job(job_id)
        if not self._state(job_id, "cancelled", ACTIVE, f"cancelled by {self.cfg.name} ({by})"):
            raise JobError(f"job {job_id} is already {row['state']}", 409)
        self._broadcast(participants(self._spec(row)), {"type": "cancelled", "job_id": job_id})
        self._abort(job_id)
        return self.public(self._job(job_id))

    def recover(self) -> None:
        """After a restart: jobs that were approved or running here cannot resume."""
        for state in ("approved", "running"):
            for row in self.store.list_jobs(state, limit=100_000):
                self.fail(row["id"], "node restarted while the job was running")
                shutil.rmtree(self.results_dir(row["id"]), ignore_errors=True)
        self.expire()

    # -- views --------------------------------------------------------------------------------
    def public(self, row: dict[str, Any]) -> dict[str, Any]:
        approvals = self.store.approvals(row["id"])
        return {"id": row["id"], "protocol": row["protocol"], "proposer": row["proposer"],
                "state": row["state"], "reason": row["reason"] or "",
                "progress": row["progress"], "stage": row["stage"],
                "spec": self._spec(row), "spec_hash": row["spec_hash"],
                "approvals": [{"node": a["node"], "decision": a["decision"], "hash": a["hash"],
                               "record": json.loads(a["record_json"]),
                               "signature": a["signature"]} for a in approvals],
                "approvals_hash": row["approvals_hash"] or "",
                "has_result": self.store.result(row["id"]) is not None,
                "created": row["created"], "updated": row["updated"],
                "local_input": self._local_input(self._spec(row), row["state"]),
                **self._approval_view(self._spec(row))}

    def _approval_view(self, spec: dict[str, Any]) -> dict[str, Any]:
        """A runner's own lines for approvers (sql.query: the query, recipients, checks)."""
        lines = getattr(runner_for(spec["protocol"]), "approval_lines", None)
        return {} if lines is None else {"sql_checks": lines(self.node.catalog, self.cfg.name,
                                                             spec)}

    def _local_input(self, spec: dict[str, Any], state: str) -> dict[str, Any] | None:
        """This node's own input as its approvers see it: location, and while the job waits
        for approval the row count now (counting reads the source, so only then)."""
        mine = (spec.get("inputs") or {}).get(self.cfg.name)
        if mine is None:
            return None
        try:
            ds = self.node.catalog.get(mine["dataset"])
        except CatalogError as exc:
            return {"dataset": mine["dataset"], "columns": mine["columns"],
                    "problem": str(exc)}
        out = self.node.catalog.describe_source(ds, rows=state == "proposed")
        return {**out, "columns": mine["columns"]}
