"""Scenario APIs (建立算法-生成场景化模型-封装API): an app or a trained model published as a
versioned REST endpoint `/scenarios/{name}/v{n}` that client programs call with a scoped
token; every call audited at every node that took part (调用留痕, yinji.node.scenario_calls).

A scenario's *definition* is fixed at publication and hashed (`def_hash`): name, version (the
publisher's next for that name), kind `app` (app and app version) or `model` (the model's
joint prediction, `model.predict`: model and version fixed, only `n_ids` bounded), `fixed`
parameters (every app parameter the caller may not set, defaults included), `bounds` of the parameters the caller may set
({"max", "min", "in"} as in a standing approval; a bound on a parameter the app derives from
the private input, e.g. `batch_size`, limits the private input), the inputs (dataset and
columns per company), roles, compute parties, recipients, `callers` (token names) and
`quota` (calls per caller per minute and per day).

Lifecycle: an operator of the publishing node publishes (state `proposed`); the definition
goes to every participant (data plane `scenario.propose`), which checks it (app installed in
that version, its dataset and column policy) and stores it. An approver at each participant,
the publisher included, approves once: that sets a standing approval (yinji.node.standing)
naming the endpoint, the publisher, the callers, the recipients, this node's dataset, the
fixed parameters exactly and the bounds, and tells the publisher (`scenario.decision`). When
every participant approved, the scenario is `active`; one rejection makes it `rejected`. An
operator of the publisher retires it (`retired`: calls get 410 at once); participants are told
(`scenario.retired`) and revoke their standing approval. A new version is a new publication.

A call (`call`) is checked in this order: token (401 unknown/revoked/expired; looked up at
every call, no cache), scope `scenario:NAME/vN` and caller listed (403), scenario (404
unknown, 410 retired, 409 not active), parameters and private input against the app and
the bounds (400 naming the bound), quota (429 with Retry-After; counted in the store, so it
holds across restarts and concurrent calls). Then the app runs as a normal job whose spec
carries the call (`scenario`: endpoint, call id, caller, SHA-256 of the job's params); every
participant's standing approval approves it only if it matches. The caller gets the report
(title, summary, tables, data) or 504 after its timeout (the job is cancelled).

Boundary: the publisher authenticates callers; participants trust its statement of who
called (the `callers` match) but approve only jobs within the definition they approved. A
participant's columns are bounded by its dataset's column policy, not by the definition.
What other nodes learn of a call: the call id, the caller's token name, the public parameters
(the spec) -- never the private input or a hash of it.
"""

from __future__ import annotations

import json
import threading
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from yinji.node.audit import ScenarioEvent, canonical, sha256_hex
from yinji.node.scenario_defs import (
    NAME,
    ScenarioError,
    build,
    check,
    endpoint,
    job_shape,
    participants,
    standing_rule,
)
from yinji.node.standing import StandingError, parse_param_bounds
from yinji.node.store import scenarios

__all__ = ["FINAL", "MAX_TIMEOUT", "ScenarioError", "Scenarios", "endpoint"]

if TYPE_CHECKING:
    from yinji.node.node import Node

FINAL = ("succeeded", "failed", "cancelled", "rejected", "expired")
MAX_TIMEOUT = 600.0


class Scenarios:
    def __init__(self, node: Node) -> None:
        self.node = node
        self._lock = threading.Lock()   # quota check and reservation are one step
        self._decisions = threading.RLock()   # a scenario's decisions: read-modify-write

    # -- store --------------------------------------------------------------------------------
    def _row(self, publisher: str, name: str, version: int) -> dict[str, Any] | None:
        t = scenarios
        rows = self.node.store.read(sa.select(t).where(
            t.c.publisher == publisher, t.c.name == name, t.c.version == version))
        return rows[0] if rows else None

    def _find(self, name: str, version: int, publisher: str | None = None) -> dict[str, Any]:
        t = scenarios
        q = sa.select(t).where(t.c.name == name, t.c.version == version)
        if publisher:
            q = q.where(t.c.publisher == publisher)
        rows = self.node.store.read(q)
        if not rows:
            raise ScenarioError(f"no scenario {endpoint(name, version)}"
                                + (f" of {publisher}" if publisher else ""), 404)
        if len(rows) > 1:
            raise ScenarioError(f"scenario {endpoint(name, version)} was published by "
                                f"{', '.join(r['publisher'] for r in rows)}: name the publisher")
        return rows[0]

    def _update(self, row: dict[str, Any], **fields: Any) -> None:
        t = scenarios
        if "decisions" in fields:
            fields["decisions_json"] = json.dumps(fields.pop("decisions"), sort_keys=True)
        with self.node.store.write() as conn:
            conn.execute(t.update().where(t.c.publisher == row["publisher"],
                                          t.c.name == row["name"],
                                          t.c.version == row["version"])
                         .values(updated=time.time(), **fields))

    def _insert(self, d: dict[str, Any], def_hash: str, state: str) -> None:
        now = time.time()
        with self.node.store.write() as conn:
            conn.execute(scenarios.insert().values(
                publisher=d["publisher"], name=d["name"], version=d["version"],
                definition_json=canonical(d).decode(), def_hash=def_hash, state=state,
                decisions_json="{}", created=now, updated=now))

    def _event(self, row: dict[str, Any], action: str, **kw: Any) -> None:
        self.node.audit.append(ScenarioEvent(row["publisher"], row["name"], row["version"],
                                             action, row["def_hash"], **kw))

    def view(self, row: dict[str, Any]) -> dict[str, Any]:
        d = json.loads(row["definition_json"])
        decisions = json.loads(row["decisions_json"])
        mine = row["publisher"] == self.node.cfg.name
        return {"publisher": row["publisher"], "name": row["name"], "version": row["version"],
                "endpoint": endpoint(row["name"], row["version"]),
                "path": f"/scenarios/{row['name']}/v{row['version']}",
                "state": row["state"], "reason": row["reason"] or "",
                "def_hash": row["def_hash"], "definition": d, "decisions": decisions,
                "waiting_for": [p for p in participants(d) if p not in decisions]
                if mine and row["state"] == "proposed" else [],
                "rule_id": row["rule_id"], "created": row["created"], "updated": row["updated"]}

    def list(self) -> list[dict[str, Any]]:
        t = scenarios
        return [self.view(r) for r in self.node.store.read(
            sa.select(t).order_by(t.c.publisher, t.c.name, t.c.version))]

    def show(self, name: str, version: int, publisher: str | None = None) -> dict[str, Any]:
        return self.view(self._find(name, version, publisher))

    # -- publishing ---------------------------------------------------------------------------
    def publish(self, body: dict[str, Any], by: str) -> dict[str, Any]:
        d = build(self.node, body)
        problems = check(self.node, job_shape(d))
        if problems:
            raise ScenarioError("cannot publish: " + "; ".join(problems))
        digest = sha256_hex(canonical(d))
        self._insert(d, digest, "proposed")
        row = self._row(d["publisher"], d["name"], d["version"])
        assert row is not None
        self._event(row, "published", by=by)
        sent, failed = [], []
        for peer in participants(d):
            if peer == d["publisher"]:
                continue
            try:
                reply = self.node.dataplane.request(
                    peer, {"type": "scenario.propose", "scenario": d}, 10.0)
                (sent if reply.get("ok") else failed).append(
                    peer if reply.get("ok") else f"{peer}: {reply.get('error')}")
            except Exception as exc:  # noqa: BLE001 - reported to the publisher
                failed.append(f"{peer}: {exc}")
        if failed:
            reason = "not accepted by " + "; ".join(failed)
            self._update(row, state="failed", reason=reason[:1000])
            self._event(row, "failed", reason=reason[:300])
            self._notify(row, sent, "scenario.retired")
            raise ScenarioError(f"publication of {endpoint(d['name'], d['version'])} failed: "
                                f"{reason}", 502)
        return self.view(self._row(d["publisher"], d["name"], d["version"]))  # type: ignore[arg-type]

    def _notify(self, row: dict[str, Any], peers: list[str], kind: str,
                **extra: Any) -> list[str]:
        """Send a scenario message to peers; returns the peers it did not reach."""
        missed = []
        for peer in peers:
            if peer == self.node.cfg.name:
                continue
            try:
                reply = self.node.dataplane.request(peer, {
                    "type": kind, "name": row["name"], "version": row["version"],
                    "def_hash": row["def_hash"], **extra}, 10.0)
                if not reply.get("ok"):
                    missed.append(f"{peer}: {reply.get('error')}")
            except Exception as exc:  # noqa: BLE001
                missed.append(f"{peer}: {exc}")
        return missed

    def decide(self, name: str, version: int, decision: str, by: str,
               publisher: str | None = None, reason: str = "") -> dict[str, Any]:
        """This node's one decision on a scenario proposed to it (approver)."""
        with self._decisions:
            return self._decide(name, version, decision, by, publisher, reason)

    def _decide(self, name: str, version: int, decision: str, by: str,
                publisher: str | None, reason: str) -> dict[str, Any]:
        me = self.node.cfg.name
        row = self._find(name, version, publisher)
        decisions = json.loads(row["decisions_json"])
        if me in decisions or row["state"] not in ("proposed",):
            raise ScenarioError(f"scenario {endpoint(name, version)} is {row['state']} here"
                                + (f"; {me} already decided ({decisions[me]})"
                                   if me in decisions else ""), 409)
        d = json.loads(row["definition_json"])
        rule_id = None
        if decision == "approve":
            rule_id = self.node.standing.add(standing_rule(d, me, row["def_hash"]), by=by)["id"]
        decisions[me] = decision
        self._update(row, decisions=decisions, rule_id=rule_id,
                     **({} if row["publisher"] == me else
                        {"state": "approved" if decision == "approve" else "rejected"}))
        self._event(row, "approved" if decision == "approve" else "rejected", node=me, by=by,
                    reason=reason[:300], rule_id=rule_id or "")
        if row["publisher"] == me:
            self._decided(row, me, decision, reason)
        else:
            missed = self._notify(row, [row["publisher"]], "scenario.decision",
                                  decision=decision, reason=reason[:300])
            if missed:   # undone: the publisher must know every decision that is in force
                if rule_id:
                    self.node.standing.revoke(rule_id, by=f"{by} (decision not delivered)")
                decisions.pop(me)
                self._update(row, decisions=decisions, rule_id=None, state="proposed")
                raise ScenarioError(f"could not tell the publisher: {missed[0]}", 502)
        return self.view(self._row(row["publisher"], name, version))  # type: ignore[arg-type]

    def _decided(self, row: dict[str, Any], node: str, decision: str, reason: str) -> None:
        """At the publisher: a participant's decision."""
        with self._decisions:
            self._decided_locked(row, node, decision, reason)

    def _decided_locked(self, row: dict[str, Any], node: str, decision: str,
                        reason: str) -> None:
        row = self._row(row["publisher"], row["name"], row["version"]) or row
        decisions = {**json.loads(row["decisions_json"]), node: decision}
        d = json.loads(row["definition_json"])
        fields: dict[str, Any] = {"decisions": decisions}
        if decision != "approve":
            fields.update(state="rejected", reason=f"rejected by {node}: {reason}"[:1000])
        elif all(decisions.get(p) == "approve" for p in participants(d)):
            fields["state"] = "active"
        self._update(row, **fields)
        if fields.get("state"):
            self._event(row, fields["state"], node=node, reason=reason[:300])

    def retire(self, name: str, version: int, by: str) -> dict[str, Any]:
        me = self.node.cfg.name
        row = self._find(name, version, me)
        if row["state"] in ("retired", "failed"):
            raise ScenarioError(f"scenario {endpoint(name, version)} is already {row['state']}",
                                409)
        self._update(row, state="retired", reason=f"retired by {by}")
        self._event(row, "retired", by=by)
        if row["rule_id"]:
            self._revoke_quietly(row["rule_id"], f"{by} (scenario retired)")
        d = json.loads(row["definition_json"])
        missed = self._notify(row, participants(d), "scenario.retired")
        return {**self.view(self._row(me, name, version)), "not_told": missed}  # type: ignore[arg-type]

    def _revoke_quietly(self, rule_id: str, by: str) -> None:
        try:
            self.node.standing.revoke(rule_id, by=by)
        except StandingError:
            pass   # already revoked by a person

    # -- peers' messages ----------------------------------------------------------------------
    def handle(self, peer: str, msg: dict[str, Any]) -> dict[str, Any]:
        try:
            kind = msg.get("type")
            if kind == "scenario.propose":
                self._proposed(peer, msg.get("scenario"))
                return {"ok": True}
            name, version = msg.get("name"), msg.get("version")
            if not isinstance(name, str) or not isinstance(version, int):
                raise ScenarioError("a scenario message names the scenario and version")
            if kind == "scenario.decision":
                with self._decisions:
                    self._peer_decision(peer, name, version, msg)
            elif kind == "scenario.retired":
                row = self._row(peer, name, version)
                if row is None or row["def_hash"] != msg.get("def_hash"):
                    raise ScenarioError(f"no scenario {endpoint(name, version)} of {peer}")
                if row["state"] != "retired":
                    self._update(row, state="retired", reason=f"retired by {peer}")
                    self._event(row, "retired", by=peer)
                    if row["rule_id"]:
                        self._revoke_quietly(row["rule_id"], f"{peer} (scenario retired)")
            else:
                raise ScenarioError(f"unknown message type {kind!r}")
        except ScenarioError as exc:
            return {"ok": False, "error": str(exc)}
        return {"ok": True}

    def _peer_decision(self, peer: str, name: str, version: int, msg: dict[str, Any]) -> None:
        """At the publisher: a participant's decision message (under the decisions lock)."""
        row = self._row(self.node.cfg.name, name, version)
        if row is None or row["def_hash"] != msg.get("def_hash"):
            raise ScenarioError(f"no scenario {endpoint(name, version)} with that hash")
        if peer not in participants(json.loads(row["definition_json"])):
            raise ScenarioError(f"{peer} is not a participant", 403)
        if row["state"] != "proposed" or peer in json.loads(row["decisions_json"]):
            raise ScenarioError(f"scenario is {row['state']}, or {peer} decided", 409)
        decision = "approve" if msg.get("decision") == "approve" else "reject"
        self._event(row, "approved" if decision == "approve" else "rejected",
                    node=peer, by=peer, reason=str(msg.get("reason", ""))[:300])
        self._decided(row, peer, decision, str(msg.get("reason", "")))

    def _proposed(self, peer: str, d: Any) -> None:
        """A peer's publication: checked, stored as proposed (idempotent)."""
        from yinji.node import app_runner

        me = self.node.cfg.name
        keys = ("name", "version", "app", "app_version", "publisher", "fixed", "bounds",
                "inputs", "roles", "omitted", "compute", "recipients", "callers", "quota")
        if not isinstance(d, dict) or any(k not in d for k in keys) \
                or not isinstance(d["name"], str) or not NAME.match(d["name"]) \
                or not isinstance(d["version"], int) or not isinstance(d["inputs"], dict) \
                or not isinstance(d["recipients"], list) or not isinstance(d["fixed"], dict):
            raise ScenarioError(f"malformed scenario from {peer}")
        if d["publisher"] != peer:
            raise ScenarioError(f"{peer} published a scenario in the name of {d['publisher']}")
        if me not in participants(d):
            raise ScenarioError(f"{me} is not a participant of this scenario")
        if d.get("kind") == "model":
            if me in d["inputs"]:   # its own part of that model version is here
                self.node.models.meta(str(d.get("model")), d.get("model_version"))
        else:
            app = app_runner.installed().get(d["app"])
            if app is None or str(app.version) != str(d["app_version"]):
                raise ScenarioError(f"app {d['app']} version {d['app_version']} is not "
                                    f"installed on {me}")
        try:
            parse_param_bounds(d["bounds"])
        except StandingError as exc:
            raise ScenarioError(f"bounds: {exc}") from None
        problems = check(self.node, job_shape(d))
        if problems:
            raise ScenarioError("; ".join(problems))
        digest = sha256_hex(canonical(d))
        existing = self._row(peer, d["name"], d["version"])
        if existing is not None:
            if existing["def_hash"] != digest:
                raise ScenarioError("a different scenario with this name and version exists")
            return
        self._insert(d, digest, "proposed")
        self._event(self._row(peer, d["name"], d["version"]), "proposed", by=peer)  # type: ignore[arg-type]
