"""Approval policy: what a node decides about a job proposed to it, before any person looks.

1. The job must be well formed (`malformed`: a peer's proposal of the wrong shape is refused
   before it is stored) and valid for its protocol, and the protocol available here.
2. This node's input must be allowed by its datasets' column-level policy for this protocol
   and these peers (`Catalog.check`); otherwise the job is rejected, and a person cannot
   approve it either.
3. If an `auto_approve` rule in node.yaml or a standing approval in the store
   (yinji.node.standing, set at run time) matches, the job is approved by policy and the
   decision's reason names the rule; otherwise it waits for a person with the approver role
   (API or CLI). A job outside every rule's bounds waits; it is never rejected for that.

auto_approve rules: {"protocols": [...], "proposers": [...], "datasets": [...],
"models": [...], "params": {name: {"max": n, "min": n, "in": [...]}}} (bounds as in a standing
approval, yinji.node.standing); a missing field or "*" matches anything; a job whose
parameters lie outside a rule's `params` bounds is not covered by it (it waits for a person). `models` matches `params.model`
(model.* jobs), so `{protocols: [model.predict], proposers: [fund], models: [lead-score]}` is a
standing approval for fund's prediction calls on that model.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from yinji.node.catalog import Catalog
from yinji.node.config import NodeConfig
from yinji.node.runners import known_protocols, runner_for
from yinji.node.standing import mismatches, within_bounds


@dataclass(frozen=True)
class Decision:
    decision: str          # approve | reject | pending
    reason: str = ""


def _names(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) and v for v in value)


def malformed(spec: Any) -> list[str]:
    """What is wrong with the shape of a spec (a peer's proposal is checked before it is
    stored, so nothing downstream meets a wrong type)."""
    if not isinstance(spec, dict):
        return [f"the job spec is a {type(spec).__name__}, not an object"]
    problems = []
    for name, limit in (("id", 64), ("proposer", 200), ("protocol", 100)):
        value = spec.get(name)
        if not isinstance(value, str) or not 0 < len(value) <= limit:
            problems.append(f"`{name}` must be a non-empty string of at most {limit} characters")
    inputs = spec.get("inputs")
    if not isinstance(inputs, dict) or not all(
            isinstance(i, dict) and isinstance(i.get("dataset"), str) and _names(i.get("columns"))
            for i in inputs.values()):
        problems.append("`inputs` must map each node to {dataset: name, columns: [names]}")
    if not isinstance(spec.get("params", {}), dict):
        problems.append("`params` must be an object")
    if not _names(spec.get("recipients")):
        problems.append("`recipients` must be a list of node names")
    if "helpers" in spec and not _names(spec["helpers"]):
        problems.append("`helpers` must be a list of node names")
    call = spec.get("scenario")
    if "scenario" in spec and not (isinstance(call, dict) and all(
            isinstance(call.get(k), str) and 0 < len(call[k]) <= 200
            for k in ("endpoint", "call_id", "caller", "params_sha256"))):
        problems.append("`scenario` must be {endpoint, call_id, caller, params_sha256}")
    if not isinstance(spec.get("created"), int | float):
        problems.append("`created` must be a number")
    return problems


def participants(spec: dict[str, Any]) -> list[str]:
    """Input holders, recipients and helpers (nodes that compute on neither's data)."""
    return sorted(set(spec.get("inputs") or {}) | set(spec.get("recipients") or [])
                  | set(spec.get("helpers") or []))


def admissible(cfg: NodeConfig, catalog: Catalog, spec: dict[str, Any]) -> list[str]:
    """Reasons this node must refuse the job ([] if it may run it)."""
    problems = malformed(spec)
    if problems:
        return problems
    runner = runner_for(spec["protocol"])
    if runner is None:
        return [f"unknown protocol {spec.get('protocol')!r} "
                f"(known: {', '.join(known_protocols())})"]
    why = runner.unavailable()
    if why:
        return [why]
    try:
        problems = runner.validate(spec)
    except Exception as exc:  # noqa: BLE001 - a runner's check tripping on odd params
        return [f"malformed params for {spec['protocol']}: {type(exc).__name__}: {exc}"]
    if spec.get("helpers") and not getattr(runner, "takes_helpers", False):
        problems.append(f"{spec['protocol']} takes no helper nodes")
    parties = participants(spec)
    unknown = [p for p in parties if p != cfg.name and p not in cfg.peers]
    if unknown:
        problems.append(f"unknown node(s) {', '.join(unknown)}")
    mine = (spec.get("inputs") or {}).get(cfg.name)
    if mine is not None:
        others = [p for p in parties if p != cfg.name]
        problems += catalog.check(mine.get("dataset", ""), list(mine.get("columns") or []),
                                  spec["protocol"], others)
        owner_check = getattr(runner, "owner_check", None)   # e.g. sql.query's column rules
        if owner_check is not None and not problems:
            problems += owner_check(catalog, cfg.name, spec)
    return problems


def _match(values: list[str] | None, value: str) -> bool:
    return not values or "*" in values or value in values


def evaluate(cfg: NodeConfig, catalog: Catalog, spec: dict[str, Any],
             standing: Sequence[tuple[str, dict[str, Any]]] = ()) -> Decision:
    """`standing`: (id, rule) of the standing approvals in force (StandingApprovals.active)."""
    problems = admissible(cfg, catalog, spec)
    if problems:
        return Decision("reject", "; ".join(problems))
    mine = (spec.get("inputs") or {}).get(cfg.name) or {}
    for rule in cfg.auto_approve:
        if (_match(rule.get("protocols"), spec["protocol"])
                and _match(rule.get("proposers"), spec["proposer"])
                and _match(rule.get("datasets"), mine.get("dataset", ""))
                and _match(rule.get("models"), str((spec.get("params") or {}).get("model", "")))
                and within_bounds(rule.get("params"), spec.get("params") or {})):
            return Decision("approve", "auto-approved by policy")
    for rule_id, rule in standing:
        if not mismatches(rule, spec, cfg.name):
            return Decision("approve", f"auto-approved by standing approval {rule_id}")
    return Decision("pending", "waiting for an approver")
