"""Calls of a published scenario API at its publisher (yinji.node.scenarios, module docstring
for the order of checks): each call gets a random call id and a signed `ScenarioCallEvent`
(`where` = endpoint) whatever its outcome; a call that passes every check starts the app as a
job and waits for it.

Quota: calls that started a job, per caller and scenario version, in the last 60 s and the
last 24 h, counted in the node's store (table `scenario_calls`) under a lock that also
reserves the call's row, so concurrent calls cannot both take the last unit and a restart does
not reset the count. (The `limits` package would keep the counters in memory or Redis: one
more service for what one indexed table already does.)
"""

from __future__ import annotations

import json
import secrets
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from yinji.node.audit import ScenarioCallEvent, canonical
from yinji.node.scenario_calls import params_sha256
from yinji.node.scenarios import FINAL, MAX_TIMEOUT, ScenarioError, endpoint
from yinji.node.standing import out_of_bounds
from yinji.node.store import scenario_calls

if TYPE_CHECKING:
    from yinji.node.scenarios import Scenarios

WINDOWS = (("per_minute", 60.0), ("per_day", 86_400.0))
BODY_KEYS = ("params", "private", "timeout")


def call(sc: Scenarios, principal: dict[str, Any] | None, name: str, version: int,
         body: Any) -> tuple[int, dict[str, Any], dict[str, str]]:
    """(HTTP status, response body, headers) of one call; audited at this node."""
    t0 = time.monotonic()
    call_id = secrets.token_hex(16)
    caller = (principal or {}).get("name", "")
    given = body.get("params") if isinstance(body, dict) else None
    trail = {"params_sha256": params_sha256(given if isinstance(given, dict) else {}),
             "job_id": "", "result_size": 0}
    try:
        status, out = _call(sc, principal, name, version, body, call_id, trail)
        headers: dict[str, str] = {}
        decision = "ok" if status == 200 else "timeout" if status == 504 else "failed"
        reason = "" if status == 200 else str(out.get("detail", ""))
    except ScenarioError as exc:
        status, headers, decision, reason = exc.status, exc.headers, "refused", str(exc)
        out = {"detail": reason}
    except Exception as exc:   # on the record too, then the API's usual 500
        sc.node.audit.append(ScenarioCallEvent(
            call_id, caller, sc.node.cfg.name, name, version, trail["params_sha256"],
            "endpoint", "failed", 500, trail["job_id"], 0,
            round((time.monotonic() - t0) * 1000, 1), f"{type(exc).__name__}: {exc}"[:300]))
        raise
    latency = round((time.monotonic() - t0) * 1000, 1)
    event = ScenarioCallEvent(call_id, caller, sc.node.cfg.name, name, version,
                              trail["params_sha256"], "endpoint", decision, status,
                              trail["job_id"], trail["result_size"], latency, reason[:300])
    if principal is None:   # unauthenticated: rate-limited like other anonymous refusals
        sc.node.repeats.record(event, ("scenario.call", name, version, status))
    else:
        sc.node.audit.append(event)
    if trail["job_id"]:
        with sc.node.store.write() as conn:
            conn.execute(scenario_calls.update().where(scenario_calls.c.call_id == call_id)
                         .values(status=status))
    return status, {"call_id": call_id, **out}, headers


def _call(sc: Scenarios, principal: dict[str, Any] | None, name: str, version: int,
          body: Any, call_id: str, trail: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    from yinji.node import app_runner
    from yinji.node.jobs import JobError

    node, me, ep = sc.node, sc.node.cfg.name, endpoint(name, version)
    if principal is None:
        raise ScenarioError("missing, unknown, expired or revoked token", 401,
                            {"WWW-Authenticate": "Bearer"})
    if principal.get("role") != "caller" or f"scenario:{ep}" not in principal.get("scopes", []):
        raise ScenarioError(f"token {principal.get('name')!r} has no scope scenario:{ep}", 403)
    row = sc._row(me, name, version)
    if row is None:
        raise ScenarioError(f"no scenario {ep} on {me}", 404)
    if row["state"] == "retired":
        raise ScenarioError(f"scenario {ep} was retired ({row['reason']})", 410)
    if row["state"] != "active":
        waiting = sc.view(row)["waiting_for"]
        raise ScenarioError(f"scenario {ep} is {row['state']}"
                            + (f": waiting for approval by {', '.join(waiting)}" if waiting
                               else f" ({row['reason']})" if row["reason"] else ""), 409)
    d = json.loads(row["definition_json"])
    if principal["name"] not in d["callers"]:
        raise ScenarioError(f"caller {principal['name']!r} is not among the callers of {ep}",
                            403)
    given, private, timeout = _body(body, d, ep)
    if d["kind"] == "model":
        return _call_model(sc, d, principal["name"], given, private, timeout, call_id, trail)
    app = app_runner.get(d["app"])
    try:
        params = app.resolve_params({**d["fixed"], **given})
        params.update(app.plan(params, d["roles"], me, private))
    except ValueError as exc:
        raise ScenarioError(f"{exc}", 400) from None
    for pname, bound in d["bounds"].items():
        problems = out_of_bounds(pname, bound, params)
        if problems:
            raise ScenarioError(f"{problems[0]} (bounds of {ep}: "
                                f"{json.dumps(d['bounds'], sort_keys=True)})", 400)
    _reserve(sc, d, principal["name"], call_id)
    run = {"params": {**d["fixed"], **given}, "private": private,
           "inputs": {p: {"dataset": i["dataset"], "role": d["roles"][p],
                          "columns": i["columns"]} for p, i in d["inputs"].items()},
           "recipients": d["recipients"], "compute": d["compute"]}
    if d["omitted"]:
        for p, cols in d["omitted"].items():
            run["inputs"][p]["omit"] = cols
    try:
        job = node.apps.create(d["app"], run, by=f"caller:{principal['name']}",
                               scenario={"endpoint": ep, "call_id": call_id,
                                         "caller": principal["name"]})
    except JobError as exc:   # this node refused the run: no job, the quota unit is returned
        with node.store.write() as conn:
            conn.execute(scenario_calls.delete().where(scenario_calls.c.call_id == call_id))
        raise ScenarioError(f"{me} refused the run: {exc}", 409) from None
    trail["job_id"] = job["id"]
    trail["params_sha256"] = job["spec"]["scenario"]["params_sha256"]
    with node.store.write() as conn:
        conn.execute(scenario_calls.update().where(scenario_calls.c.call_id == call_id)
                     .values(job_id=job["id"]))
    deadline = time.monotonic() + timeout
    state = job["state"]
    while state not in FINAL and time.monotonic() < deadline:
        time.sleep(0.05)
        state = node.store.job(job["id"])["state"]
    out = {"scenario": name, "version": version, "job_id": job["id"], "state": state}
    if state not in FINAL:
        try:
            node.jobs.cancel(job["id"], f"caller:{principal['name']} (timeout)")
        except Exception:  # noqa: BLE001,S110 - it ended meanwhile: reported as is
            pass
        return 504, {**out, "detail": f"no result within {timeout:g} s; the job was "
                                      "cancelled"}
    if state != "succeeded":
        reason = node.store.job(job["id"])["reason"] or ""
        return (409 if state == "rejected" else 502), {**out, "detail": f"the job {state}: "
                                                                         f"{reason}"}
    stored = node.store.result(job["id"])
    report = json.loads(stored["result_json"]) if stored else None
    result = None if report is None else {k: report.get(k) for k in
                                          ("title", "summary", "tables", "data")}
    trail["result_size"] = len(canonical(result))
    return 200, {**out, "result": result}


def _call_model(sc: Scenarios, d: dict[str, Any], caller: str, given: dict[str, Any],
                private: dict[str, Any] | None, timeout: float, call_id: str,
                trail: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A published model: the joint prediction for the caller's IDs (ModelServing.predict)."""
    from yinji.node.model_runners import ModelError

    node, ep = sc.node, endpoint(d["name"], d["version"])
    ids = (private or {}).get("ids")
    if given:
        raise ScenarioError(f"{ep} takes no parameters (the model version is fixed)", 400)
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise ScenarioError("private input 'ids' must be a non-empty list of IDs", 400)
    for pname, bound in d["bounds"].items():
        problems = out_of_bounds(pname, bound, {"n_ids": len(ids)})
        if problems:
            raise ScenarioError(f"{problems[0]} (bounds of {ep})", 400)
    _reserve(sc, d, caller, call_id)
    scenario = {"endpoint": ep, "call_id": call_id, "caller": caller}
    out = {"scenario": d["name"], "version": d["version"]}
    try:
        status, got = node.models.predict(d["model"], ids, version=d["model_version"],
                                          principal=f"caller:{caller}", timeout=timeout,
                                          scenario=scenario)
    except ModelError as exc:
        job_id = exc.extra.get("job_id")
        if not job_id:   # refused before a job existed: the quota unit is returned
            with node.store.write() as conn:
                conn.execute(scenario_calls.delete().where(
                    scenario_calls.c.call_id == call_id))
            raise ScenarioError(str(exc), exc.status) from None
        _job_trail(sc, trail, call_id, job_id)
        return exc.status, {**out, "job_id": job_id, "detail": str(exc)}
    _job_trail(sc, trail, call_id, got["job_id"])
    out.update(job_id=got["job_id"], state=got["state"])
    if status != 200:
        try:
            node.jobs.cancel(got["job_id"], f"caller:{caller} (timeout)")
        except Exception:  # noqa: BLE001,S110 - it ended meanwhile
            pass
        return 504, {**out, "detail": f"no result within {timeout:g} s; the job was cancelled"}
    result = {"ids": got["ids"], "scores": got["scores"]}
    trail["result_size"] = len(canonical(result))
    return 200, {**out, "result": result}


def _job_trail(sc: Scenarios, trail: dict[str, Any], call_id: str, job_id: str) -> None:
    row = sc.node.store.job(job_id)
    trail["job_id"] = job_id
    if row is not None:
        trail["params_sha256"] = json.loads(row["spec_json"])["scenario"]["params_sha256"]
    with sc.node.store.write() as conn:
        conn.execute(scenario_calls.update().where(scenario_calls.c.call_id == call_id)
                     .values(job_id=job_id))


def _body(body: Any, d: dict[str, Any], ep: str,
          ) -> tuple[dict[str, Any], dict[str, Any] | None, float]:
    if body is None:
        body = {}
    if not isinstance(body, dict) or set(body) - set(BODY_KEYS):
        raise ScenarioError(f"the request body is an object with {', '.join(BODY_KEYS)}", 400)
    given = body.get("params") or {}
    if not isinstance(given, dict):
        raise ScenarioError("`params` must be an object", 400)
    fixed = sorted(set(given) - set(d["bounds"]))
    if fixed:
        raise ScenarioError(f"parameter {fixed[0]!r} is fixed at the publication of {ep} "
                            f"(callers may set: {', '.join(sorted(d['bounds'])) or 'none'})",
                            400)
    private = body.get("private")
    if private is not None and (not isinstance(private, dict) or not d["private_input"]):
        raise ScenarioError("`private` must be an object" if d["private_input"] else
                            f"{ep} takes no private input", 400)
    timeout = body.get("timeout", 120)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) \
            or not 0 < timeout <= MAX_TIMEOUT:
        raise ScenarioError(f"`timeout` must be seconds in (0, {MAX_TIMEOUT:g}]", 400)
    return given, private, float(timeout)


def _reserve(sc: Scenarios, d: dict[str, Any], caller: str, call_id: str) -> None:
    """Count the caller's calls in each quota window; reserve this one or refuse (429)."""
    t = scenario_calls
    with sc._lock:
        now = time.time()
        with sc.node.store.write() as conn:   # older rows count in no window
            conn.execute(t.delete().where(t.c.ts < now - WINDOWS[-1][1]))
        for key, window in WINDOWS:
            limit = d["quota"].get(key)
            if limit is None:
                continue
            rows = sc.node.store.read(sa.select(t.c.ts).where(
                t.c.caller == caller, t.c.name == d["name"], t.c.version == d["version"],
                t.c.ts > now - window).order_by(t.c.ts))
            if len(rows) >= limit:
                retry = max(1, int(rows[len(rows) - limit]["ts"] + window - now) + 1)
                raise ScenarioError(f"quota of {limit} calls {key.replace('_', ' ')} for "
                                    f"{caller!r} on {endpoint(d['name'], d['version'])} is "
                                    "used up", 429, {"Retry-After": str(retry)})
        with sc.node.store.write() as conn:
            conn.execute(t.insert().values(call_id=call_id, name=d["name"],
                                           version=d["version"], caller=caller, ts=now,
                                           status=0))
