"""The call trail of scenario APIs at a participant (调用留痕): what a node that took part in
a call's job records, and the hash every node computes of the job's parameters.

A scenario call's job carries `spec["scenario"]` = {endpoint: "NAME/vN", call_id, caller,
params_sha256}, set by the called node (yinji.node.scenarios). Every participant, the called
node included, logs a `ScenarioCallEvent` (`where` = participant) with the call id and the
SHA-256 it computes itself of the job's `params`, plus its own policy decision: comparing the
call ids and hashes of all nodes' logs shows whether every node saw the same call with the
same parameters. The private input (e.g. the client IDs checked) is never in `params` and
never hashed into the log: a hash of a few ID numbers could be inverted by guessing.
"""

from __future__ import annotations

from typing import Any

from yinji.node.audit import ScenarioCallEvent, canonical, sha256_hex


def params_sha256(params: dict[str, Any]) -> str:
    return sha256_hex(canonical(params))


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """"NAME/vN" -> (NAME, N); N = 0 if it is not of that form."""
    name, _, version = endpoint.rpartition("/v")
    return (name, int(version)) if version.isdigit() and name else (endpoint, 0)


def participant_call_event(spec: dict[str, Any], decision: str,
                           reason: str = "") -> ScenarioCallEvent:
    call = spec["scenario"]
    name, version = split_endpoint(str(call.get("endpoint", "")))
    digest = params_sha256(spec.get("params") or {})
    if digest != call.get("params_sha256"):
        reason = f"params hash differs from the caller's {call.get('params_sha256')}; {reason}"
    return ScenarioCallEvent(str(call.get("call_id", "")), str(call.get("caller", "")),
                             str(spec.get("proposer", "")), name, version, digest,
                             "participant", decision, job_id=str(spec.get("id", "")),
                             reason=reason[:300])
