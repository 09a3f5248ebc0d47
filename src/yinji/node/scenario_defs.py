"""Scenario definitions (yinji.node.scenarios): what a publication body becomes, the job
every call of it starts, and the standing approval a participant sets for it. Pure functions
of the definition, plus `build` and `check`, which read the publishing or approving node's
apps, models, peers and catalog."""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from yinji.node.standing import StandingError, parse_param_bounds
from yinji.node.store import scenarios

if TYPE_CHECKING:
    from yinji.node.node import Node

NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
MAX_QUOTA = 1_000_000


class ScenarioError(Exception):
    """A request that cannot be honoured; `status` is the HTTP status to use."""

    def __init__(self, message: str, status: int = 422,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.headers = status, headers or {}


def endpoint(name: str, version: int) -> str:
    return f"{name}/v{version}"


def participants(d: dict[str, Any]) -> list[str]:
    return sorted(set(d["inputs"]) | set(d["recipients"]) | set(d.get("helpers") or [])
                  | {d["publisher"]})


def protocol(d: dict[str, Any]) -> str:
    return "model.predict" if d.get("kind") == "model" else f"app.{d['app']}"


def fixed_params(d: dict[str, Any]) -> dict[str, Any]:
    """The job parameters every call has exactly (an app's roles and compute parties too)."""
    if d.get("kind") == "model":
        return dict(d["fixed"])
    return {**d["fixed"], "app_version": d["app_version"], "roles": d["roles"],
            "compute": d["compute"], **({"omitted": d["omitted"]} if d["omitted"] else {})}


def job_shape(d: dict[str, Any]) -> dict[str, Any]:
    """What every call's job spec has, for checking a definition before any call."""
    return {"id": "publication", "proposer": d["publisher"], "protocol": protocol(d),
            "inputs": d["inputs"], "recipients": d["recipients"],
            "created": float(d.get("created") or 0), "params": fixed_params(d),
            **({"helpers": d["helpers"]} if d.get("helpers") else {})}


def standing_rule(d: dict[str, Any], me: str, def_hash: str) -> dict[str, Any]:
    """The standing approval a participant sets when it approves definition `d`."""
    what = {"protocols": ["model.predict"]} if d.get("kind") == "model" else {"apps": [d["app"]]}
    rule: dict[str, Any] = {
        **what, "proposers": [d["publisher"]],
        "scenarios": [endpoint(d["name"], d["version"])], "callers": d["callers"],
        "recipients": d["recipients"], "fixed": fixed_params(d),
        "note": f"scenario API {d['publisher']}:{endpoint(d['name'], d['version'])} "
                f"(definition {def_hash[:16]})"}
    if d["bounds"]:
        rule["params"] = d["bounds"]
    if me in d["inputs"]:
        rule["datasets"] = [d["inputs"][me]["dataset"]]
    return rule


def build(node: Node, body: dict[str, Any]) -> dict[str, Any]:
    """The definition a publication body describes (ScenarioError 4xx naming the
    problem); version is the publisher's next for the name."""
    me = node.cfg.name
    name = body.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise ScenarioError("`name`: 1-63 lower-case letters, digits and hyphens")
    callers = body.get("callers")
    if not isinstance(callers, list) or not callers or not all(
            isinstance(c, str) and 0 < len(c) <= 200 for c in callers):
        raise ScenarioError("`callers`: a non-empty list of token names")
    quota = dict(body.get("quota") or {})
    for k in ("per_minute", "per_day"):
        v = quota.setdefault(k, None)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)
                              or not 0 < v <= MAX_QUOTA):
            raise ScenarioError(f"`quota.{k}`: a whole number in 1..{MAX_QUOTA}")
    if set(quota) - {"per_minute", "per_day"}:
        raise ScenarioError("`quota` has per_minute and per_day only")
    try:
        bounds = parse_param_bounds(body.get("bounds") or {})
    except StandingError as exc:
        raise ScenarioError(f"`bounds`: {exc}") from None
    kind = body.get("kind", "app")
    if kind == "app":
        part = _app_part(node, body, bounds)
    elif kind == "model":
        part = _model_part(node, body, bounds)
    else:
        raise ScenarioError("`kind`: app or model")
    t = scenarios
    latest = node.store.read(sa.select(sa.func.max(t.c.version).label("v")).where(
        t.c.publisher == me, t.c.name == name))
    version = (latest[0]["v"] or 0) + 1
    return {"name": name, "version": version, "kind": kind, "publisher": me, **part,
            "bounds": bounds, "callers": sorted(set(callers)), "quota": quota,
            "created": round(time.time(), 3)}

def _app_part(node: Node, body: dict[str, Any], bounds: dict[str, Any]) -> dict[str, Any]:
    from yinji.node import app_runner

    me = node.cfg.name
    try:
        app = app_runner.get(str(body.get("app")))
    except app_runner.AppLookupError as exc:
        raise ScenarioError(str(exc.args[0]), 404) from None
    known = {p.name for p in app.params}
    unknown = sorted(set(bounds) - known)
    given = dict(body.get("params") or {})
    both = sorted(set(bounds) & set(given))
    if unknown or both:
        raise ScenarioError(f"`bounds.{(unknown or both)[0]}`: "
                            + ("not a parameter of app " + app.name if unknown else
                               "a parameter is either fixed (params) or bounded"))
    try:
        resolved = app.resolve_params(given)
        inputs, roles, omitted = node.apps._inputs(app, body.get("inputs") or {})
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    compute = list(body.get("compute") or app.default_compute(roles, me, resolved))
    recipients = sorted(set(body.get("recipients")
                            or app.default_recipients(roles, me, resolved)))
    if me not in recipients:  # the endpoint answers from the publisher's own result
        raise ScenarioError(f"`recipients`: the publishing node {me} must receive the result "
                            "it answers callers with (recipients: "
                            f"{', '.join(recipients)}); publish at a recipient")
    return {"app": app.name, "app_version": app.version,
            "title": str(body.get("title") or app.title)[:200],
            "fixed": {k: v for k, v in resolved.items() if k not in bounds},
            "private_input": getattr(app, "takes_private", ""),
            "inputs": inputs, "roles": roles, "omitted": omitted, "compute": compute,
            "helpers": [], "recipients": recipients}

def _model_part(node: Node, body: dict[str, Any], bounds: dict[str, Any]) -> dict[str, Any]:
    """A trained model's joint prediction (`model.predict`): the caller's private input
    is the IDs to score (bound `n_ids`); the model version is fixed."""
    me = node.cfg.name
    if set(bounds) - {"n_ids"} or body.get("params"):
        raise ScenarioError("a model scenario fixes everything but the number of IDs: "
                            '`bounds` may only hold n_ids, e.g. {"n_ids": {"max": 100}}')
    version = body.get("model_version")
    if version is not None and (not isinstance(version, int) or isinstance(version, bool)):
        raise ScenarioError("`model_version` must be a whole number")
    meta = node.models.meta(str(body.get("model")), version)
    if me not in meta.features:
        raise ScenarioError(f"{me} holds no features of model {meta.name!r}: only a data "
                            "holder can publish its predictions", 403)
    raw = meta.params.get("inputs") or meta.features   # input columns (before yinji.ml.prep)
    inputs = {p: {"dataset": meta.params["datasets"][p],
                  "columns": [meta.params["id_columns"][p], *raw[p]]}
              for p in sorted(meta.features)}
    return {"app": "", "app_version": "", "model": meta.name, "model_version": meta.version,
            "title": str(body.get("title") or f"{meta.name} v{meta.version} scores")[:200],
            "fixed": {"model": meta.name, "version": meta.version},
            "private_input": "ids: the customer IDs to score",
            "inputs": inputs, "roles": {}, "omitted": {}, "compute": [],
            "helpers": list(meta.params.get("helpers") or []), "recipients": [me]}


def check(node: Node, spec: dict[str, Any]) -> list[str]:
    """What this node can check of the jobs a definition will start, before any call:
    the peers are known, and its own input passes its column policy for the app."""
    from yinji.node.policy import malformed
    from yinji.node.policy import participants as job_parties

    problems = malformed(spec)
    if problems:
        return problems
    me, parties = node.cfg.name, job_parties(spec)
    unknown = [p for p in parties if p != me and p not in node.cfg.peers]
    if unknown:
        problems.append(f"unknown node(s) {', '.join(unknown)}")
    mine = spec["inputs"].get(me)
    if mine is not None:
        problems += node.catalog.check(mine["dataset"], list(mine["columns"]),
                                            spec["protocol"],
                                            [p for p in parties if p != me])
    return problems
