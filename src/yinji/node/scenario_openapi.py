"""The OpenAPI 3.1 document of one published scenario API (`GET /scenarios/{name}/v{n}/
openapi.json`): only that endpoint, its request body with the parameters a caller may set
(types from the app's `Param`s, bounds as published), the private input, the response, the
errors and the bearer scheme with the scope the token needs. Built from the definition the
data owners approved, so the document cannot promise more than the standing approvals allow.
"""

from __future__ import annotations

from typing import Any

from yinji.node.scenario_serving import MAX_TIMEOUT
from yinji.node.scenarios import endpoint

TYPES: dict[str, dict[str, Any]] = {
    "int": {"type": "integer"}, "float": {"type": "number"}, "str": {"type": "string"},
    "bool": {"type": "boolean"},
    "names": {"type": "array", "items": {"type": "string"}},
    "rates": {"type": "object", "additionalProperties": {"type": "number"}},
}
ERRORS = {"400": "parameters or private input outside the app's rules or the published bounds",
          "401": "missing, unknown, expired or revoked token",
          "403": "the token lacks the scope, or its name is not a caller of this endpoint",
          "404": "no such scenario version", "409": "not (yet) approved by every data owner",
          "410": "retired", "429": "quota used up (see Retry-After)",
          "502": "the computation failed", "504": "no result within the timeout"}


REPORT = {"type": "object", "description": "the app's report", "properties": {
    "title": {"type": "string"}, "summary": {"type": "array", "items": {"type": "string"}},
    "tables": {"type": "object", "additionalProperties": {"type": "object", "properties": {
        "columns": {"type": "array", "items": {"type": "string"}},
        "rows": {"type": "array", "items": {"type": "array"}}}}},
    "data": {"type": "object"}}}
MODEL_RESULT = {"type": "object", "description": "one score per ID, in the order asked",
                "properties": {"ids": {"type": "array", "items": {"type": "string"}},
                               "scores": {"type": "array", "items": {"type": "number"}}}}


def _param_schema(param: Any, bound: dict[str, Any]) -> dict[str, Any]:
    schema = {**TYPES.get(param.type, {}), "description": param.help or param.name}
    size = "Items" if param.type == "names" else ""
    lo = [v for v in (param.minimum, bound.get("min")) if v is not None]
    hi = [v for v in (param.maximum, bound.get("max")) if v is not None]
    if lo:
        schema[f"min{size}" if size else "minimum"] = max(lo)
    if hi:
        schema[f"max{size}" if size else "maximum"] = min(hi)
    allowed = bound.get("in") or list(param.choices)
    if allowed:
        schema["enum"] = list(allowed)
    if param.default is not None:
        schema["default"] = param.default
    return schema


def document(d: dict[str, Any], app: Any, server: str) -> dict[str, Any]:
    ep = endpoint(d["name"], d["version"])
    scope = f"scenario:{ep}"
    params = {p.name: p for p in (app.params if app is not None else ())}
    settable = {n: _param_schema(params[n], b) for n, b in d["bounds"].items()
                if n in params and n not in getattr(app, "derived_params", ("batch_size",))}
    derived = {n: b for n, b in d["bounds"].items() if n not in settable}
    private = {"type": "object", "description": d["private_input"] or "none"}
    if derived:
        private["description"] += "; bounded by " + ", ".join(
            f"{n} {b}" for n, b in sorted(derived.items()))
    if "ids" in (d["private_input"] or "").split(":")[0]:
        ids: dict[str, Any] = {"type": "array", "items": {"type": "string"}, "minItems": 1}
        size = derived.get("batch_size") or derived.get("n_ids") or {}
        if "max" in size:
            ids["maxItems"] = int(size["max"])
        private.update(required=["ids"], properties={"ids": ids},
                       additionalProperties=False)
    request = {"type": "object", "additionalProperties": False, "properties": {
        "params": {"type": "object", "additionalProperties": False, "properties": settable},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_TIMEOUT,
                    "default": 120, "description": "seconds to wait for the result"}}}
    if d["private_input"]:
        request["properties"]["private"] = private
        request["required"] = ["private"]
    result = {"type": "object", "properties": {
        "call_id": {"type": "string"}, "scenario": {"type": "string"},
        "version": {"type": "integer"}, "job_id": {"type": "string"},
        "state": {"type": "string"},
        "result": MODEL_RESULT if d.get("kind") == "model" else REPORT}}
    error = {"type": "object", "properties": {"call_id": {"type": "string"},
                                              "detail": {"type": "string"}}}
    responses: dict[str, Any] = {"200": {"description": "the result", "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/CallResult"}}}}}
    for code, text in ERRORS.items():
        responses[code] = {"description": text, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    fixed = ", ".join(f"{k}={v}" for k, v in sorted(d["fixed"].items()))
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{d['title']} ({ep})", "version": str(d["version"]),
                 "description": f"Scenario API {ep} published by {d['publisher']} ("
                                + (f"model {d.get('model')} v{d.get('model_version')}"
                                   if d.get("kind") == "model" else
                                   f"app {d['app']} v{d['app_version']}")
                                + "). Fixed at publication: "
                                f"{fixed or 'nothing'}. Callers: {', '.join(d['callers'])}. "
                                f"Quota per caller: {d['quota']}. Every call is audited at "
                                "every node that takes part."},
        "servers": [{"url": server}],
        "paths": {f"/scenarios/{d['name']}/v{d['version']}": {"post": {
            "operationId": f"call_{d['name'].replace('-', '_')}_v{d['version']}",
            "summary": d["title"],
            "security": [{"bearer": [scope]}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/CallRequest"}}}},
            "responses": responses}}},
        "components": {
            "schemas": {"CallRequest": request, "CallResult": result, "Error": error},
            "securitySchemes": {"bearer": {
                "type": "http", "scheme": "bearer",
                "description": f"a caller token with scope {scope} "
                               f"(yinji token add --role caller --scope {scope})"}}},
    }
