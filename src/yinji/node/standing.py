"""Standing approvals: rules a person with the approver role sets at run time (REST API or
`yinji approvals standing`) so that matching proposals are approved without waiting for them,
e.g. "qualified-investor runs from the fund company, up to 1,000 clients":

    {"apps": ["qualified-investor"], "proposers": ["fund"],
     "params": {"batch_size": {"max": 1000}}}

Rules live in the node's metadata store, so one set through the CLI while the node runs takes
effect at its next proposal (the policy reads them at every decision). Each rule has an id, who
set it, when, an optional expiry; a revoked rule is kept, marked revoked. Setting and revoking
are signed audit entries carrying the whole rule (`StandingApprovalEvent`), and a job approved
by a rule has the rule's id in its approval's reason.

Match fields (a missing field or "*" matches anything; a rule must name apps or protocols):
- apps / protocols: the job's protocol is `app.<name>` for an app run, else e.g. mpc.aggregate;
- proposers: the proposing node;
- datasets: this node's dataset in the job (a rule naming datasets never matches a job where
  this node supplies none);
- recipients: every recipient of the job must be listed;
- params: {param: {"max": n, "min": n, "in": [...]}} on the job's `params` (an app run's
  parameters are there too); max/min bound a number or a list's length, `in` lists the
  allowed values (for a list, of every item). A parameter that is missing or out of bounds makes the rule not
  match: the job then waits for a person, it is never rejected for that alone;
- fixed: {param: value}: the job's parameter must equal the value exactly (any JSON value);
- scenarios: a published scenario API's endpoints (`NAME/vN`, yinji.node.scenarios): the
  job must be a call of one of them (its spec's `scenario.endpoint`) whose `params_sha256` is
  the SHA-256 of the job's params; a rule naming scenarios never matches any other job;
- callers: the scenario caller (token name) the calling node names in the job's spec.

The rules only ever approve: what the catalog's column policy or the protocol refuses is
rejected before any rule is consulted (yinji.node.policy).

Boundary: only an approver token (REST) or a shell user on the node's machine (CLI) sets or
revokes a rule. A rule approves exactly what its fields say; a parameter it does not bound is
not limited. Peers learn that a rule approved a job (its random id is in the signed approval's
reason, sent to the proposer), not the rule's terms.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from yinji.node.audit import StandingApprovalEvent, canonical
from yinji.node.store import Store

if TYPE_CHECKING:
    from yinji.node.audit import AuditLog

LISTS = ("apps", "protocols", "proposers", "datasets", "recipients", "scenarios", "callers")
FIELDS = (*LISTS, "params", "fixed", "note")
BOUNDS = ("max", "min", "in")
MAX_ITEMS = 1000


class StandingError(ValueError):
    """A rule that cannot be set or revoked; `status` is the HTTP status to use."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool) or _number(value)


def parse_rule(raw: Any, datasets: Iterable[str] | None = None) -> dict[str, Any]:
    """The rule in canonical form, or StandingError naming the first wrong field.
    `datasets`: this node's dataset ids (a rule may name only those)."""
    if not isinstance(raw, dict):
        raise StandingError(f"a rule is an object, not {type(raw).__name__}")
    unknown = sorted(set(raw) - set(FIELDS))
    if unknown:
        raise StandingError(f"`{unknown[0]}`: unknown field (a rule has {', '.join(FIELDS)})")
    rule: dict[str, Any] = {}
    for name in LISTS:
        if raw.get(name) is None:
            continue
        values = raw[name]
        if (not isinstance(values, list) or not values or len(values) > MAX_ITEMS
                or not all(isinstance(v, str) and 0 < len(v) <= 200 for v in values)):
            raise StandingError(f"`{name}` must be a non-empty list of names (at most "
                                f"{MAX_ITEMS}, each 1-200 characters)")
        rule[name] = sorted(set(values))
    if not rule.get("apps") and not rule.get("protocols"):
        raise StandingError("`apps` or `protocols`: a rule must name what it approves "
                            '(["*"] for everything)')
    if datasets is not None and "*" not in rule.get("datasets", ["*"]):
        missing = sorted(set(rule["datasets"]) - set(datasets))
        if missing:
            raise StandingError(f"`datasets`: no dataset {missing[0]!r} on this node")
    params = raw.get("params")
    if params is not None:
        rule["params"] = parse_param_bounds(params)
    fixed = raw.get("fixed")
    if fixed is not None:
        if not isinstance(fixed, dict) or len(fixed) > MAX_ITEMS or \
                not all(isinstance(k, str) for k in fixed):
            raise StandingError("`fixed` must map parameter names to their exact values")
        rule["fixed"] = dict(fixed)
    note = raw.get("note")
    if note is not None:
        if not isinstance(note, str) or len(note) > 500:
            raise StandingError("`note` must be text of at most 500 characters")
        rule["note"] = note
    return rule


def parse_param_bounds(params: Any) -> dict[str, dict[str, Any]]:
    if not isinstance(params, dict) or len(params) > MAX_ITEMS:
        raise StandingError('`params` must map parameter names to bounds {"max", "min", "in"}')
    out: dict[str, dict[str, Any]] = {}
    for name, bounds in params.items():
        where = f"params.{name}"
        if not isinstance(bounds, dict) or not bounds:
            raise StandingError(f"`{where}` must be an object with max, min and/or in")
        extra = sorted(set(bounds) - set(BOUNDS))
        if extra:
            raise StandingError(f"`{where}.{extra[0]}`: unknown bound (use max, min, in)")
        for b in ("max", "min"):
            if b in bounds and not _number(bounds[b]):
                raise StandingError(f"`{where}.{b}` must be a finite number")
        if "max" in bounds and "min" in bounds and bounds["min"] > bounds["max"]:
            raise StandingError(f"`{where}`: min {bounds['min']} is above max {bounds['max']}")
        if "in" in bounds:
            allowed = bounds["in"]
            if (not isinstance(allowed, list) or not allowed or len(allowed) > MAX_ITEMS
                    or not all(_scalar(v) for v in allowed)):
                raise StandingError(f"`{where}.in` must be a non-empty list of values "
                                    "(text, numbers, true/false, null)")
        out[str(name)] = dict(bounds)
    return out


def _listed(values: list[str] | None, value: str) -> bool:
    return values is None or "*" in values or value in values


def mismatches(rule: dict[str, Any], spec: dict[str, Any], me: str) -> list[str]:
    """Why `rule` does not cover the job `spec` at node `me` ([] if it does)."""
    protocol = spec.get("protocol", "")
    apps, protocols = rule.get("apps"), rule.get("protocols")
    if not ((apps and protocol.startswith("app.") and _listed(apps, protocol[4:]))
            or (protocols and _listed(protocols, protocol))):
        return [f"protocol {protocol} not covered"]
    out = []
    if not _listed(rule.get("proposers"), spec.get("proposer", "")):
        out.append(f"proposer {spec.get('proposer')} not covered")
    mine = (spec.get("inputs") or {}).get(me)
    if rule.get("datasets") is not None and "*" not in rule["datasets"] and (
            mine is None or mine.get("dataset") not in rule["datasets"]):
        out.append("this node's dataset not covered" if mine else "this node supplies no dataset")
    recipients = rule.get("recipients")
    if recipients is not None and "*" not in recipients:
        extra = sorted(set(spec.get("recipients") or []) - set(recipients))
        if extra:
            out.append(f"recipient(s) {', '.join(extra)} not covered")
    given = spec.get("params") or {}
    for name, bounds in (rule.get("params") or {}).items():
        out += out_of_bounds(name, bounds, given)
    for name, value in (rule.get("fixed") or {}).items():
        if name not in given or _canon(given[name]) != _canon(value):
            out.append(f"params.{name} differs from its fixed value")
    out += _scenario_mismatches(rule, spec)
    return out


def _scenario_mismatches(rule: dict[str, Any], spec: dict[str, Any]) -> list[str]:
    call = spec.get("scenario")
    if rule.get("scenarios") is None and rule.get("callers") is None:
        return []
    if not isinstance(call, dict):
        return ["not a scenario call"]
    out = []
    if not _listed(rule.get("scenarios"), str(call.get("endpoint", ""))):
        out.append(f"scenario {call.get('endpoint')} not covered")
    if not _listed(rule.get("callers"), str(call.get("caller", ""))):
        out.append(f"caller {call.get('caller')} not covered")
    digest = hashlib.sha256(canonical(spec.get("params") or {})).hexdigest()
    if call.get("params_sha256") != digest:
        out.append("the call's params hash does not match its params")
    return out


def within_bounds(bounds: Any, given: dict[str, Any]) -> bool:
    """A node.yaml `auto_approve` rule's `params` (same form as a standing approval's): True
    if every bounded parameter is given and within; a malformed bound covers nothing."""
    if not bounds:
        return True
    try:
        parsed = parse_param_bounds(bounds)
    except StandingError:
        return False
    return not any(out_of_bounds(n, b, given) for n, b in parsed.items())


def out_of_bounds(name: str, bounds: dict[str, Any], given: dict[str, Any]) -> list[str]:
    """max/min bound a number, or the length of a list; `in` holds a value, or every item of
    a list."""
    if name not in given:
        return [f"params.{name} not given"]
    value = given[name]
    size = len(value) if isinstance(value, list) else value
    if ("max" in bounds or "min" in bounds) and not _number(size):
        return [f"params.{name} is not a number or a list"]
    out = []
    if "max" in bounds and size > bounds["max"]:
        out.append(f"params.{name}={size} above max {bounds['max']}")
    if "min" in bounds and size < bounds["min"]:
        out.append(f"params.{name}={size} below min {bounds['min']}")
    if "in" in bounds:
        allowed = {_canon(v) for v in bounds["in"]}
        items = value if isinstance(value, list) else [value]
        if not all(_canon(v) in allowed for v in items):
            out.append(f"params.{name} not among the allowed values")
    return out


def _canon(value: Any) -> str:
    """Compare by JSON form, so true is not 1 and "1" is not 1."""
    return json.dumps(value, sort_keys=True)


def state(row: dict[str, Any], now: float | None = None) -> str:
    """active | expired | revoked"""
    if row.get("revoked") is not None:
        return "revoked"
    if row.get("expires") is not None and (now or time.time()) >= row["expires"]:
        return "expired"
    return "active"


def public(row: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    return {"id": row["id"], "rule": json.loads(row["rule_json"]),
            "created_by": row["created_by"], "created": row["created"],
            "expires": row["expires"], "revoked": row["revoked"],
            "revoked_by": row["revoked_by"], "state": state(row, now)}


class StandingApprovals:
    """The node's standing approvals in its store; every change audited."""

    def __init__(self, store: Store, audit: AuditLog,
                 datasets: Callable[[], Iterable[str]] | None = None) -> None:
        self.store, self.audit, self._datasets = store, audit, datasets

    def add(self, raw: Any, *, by: str, expires: float | None = None) -> dict[str, Any]:
        """Set a rule (see the module docstring); `expires`: epoch seconds, None = never."""
        rule = parse_rule(raw, self._datasets() if self._datasets else None)
        now = time.time()
        if expires is not None and (not _number(expires) or expires <= now):
            raise StandingError("`expires` must be a time in the future (epoch seconds)")
        row = {"id": secrets.token_hex(8), "rule_json": json.dumps(rule, sort_keys=True),
               "created_by": by[:200], "created": now, "expires": expires,
               "revoked": None, "revoked_by": None}
        self.store.insert_standing(row)
        try:
            self.audit.append(StandingApprovalEvent(row["id"], "added", rule, by, expires))
        except BaseException:
            self.store.delete_standing(row["id"])   # not in force unless on the record
            raise
        return public(row)

    def list(self) -> list[dict[str, Any]]:
        now = time.time()
        return [public(r, now) for r in self.store.list_standing()]

    def get(self, rule_id: str) -> dict[str, Any]:
        row = self.store.standing(rule_id)
        if row is None:
            raise StandingError(f"no standing approval {rule_id!r}", 404)
        return public(row)

    def revoke(self, rule_id: str, *, by: str) -> dict[str, Any]:
        before = self.get(rule_id)
        if not self.store.set_standing_revoked(rule_id, time.time(), by[:200]):
            raise StandingError(f"standing approval {rule_id} is already revoked", 409)
        try:
            self.audit.append(StandingApprovalEvent(rule_id, "revoked", before["rule"], by,
                                                    before["expires"]))
        except BaseException:
            self.store.set_standing_revoked(rule_id, None, None)
            raise
        return self.get(rule_id)

    def active(self, now: float | None = None) -> list[tuple[str, dict[str, Any]]]:
        """(id, rule) of every rule in force, oldest first."""
        now = now or time.time()
        return [(r["id"], json.loads(r["rule_json"])) for r in self.store.list_standing()
                if state(r, now) == "active"]
