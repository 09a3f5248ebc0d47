"""REST routes of scenario APIs (yinji.node.scenarios): publish, list, approve, retire, the
endpoint itself, its OpenAPI document and the call trail.

Operators publish and retire, approvers approve or reject once, auditors read the call trail;
the endpoint `POST /scenarios/{name}/v{n}` takes only caller tokens with its scope and writes
a `ScenarioCallEvent` for every call, so it checks the token itself (a dependency that
refuses would leave refused calls out of the call trail)."""

from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Query, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field

from yinji.node.node import Node
from yinji.node.scenario_openapi import document
from yinji.node.scenario_serving import call
from yinji.node.scenarios import ScenarioError

_bearer = HTTPBearer(auto_error=False)
Creds = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


class ScenarioPublish(BaseModel):
    """A publication: what is fixed, what callers may set (bounds), who may call."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(examples=["qualified-investor-check"])
    kind: str = Field("app", description="app | model")
    app: str | None = Field(None, examples=["qualified-investor"])
    model: str | None = Field(None, description="kind model: the model's name")
    model_version: int | None = Field(None, description="kind model (default: the latest)")
    title: str | None = None
    params: dict[str, Any] = Field(default_factory=dict, description="fixed parameters")
    bounds: dict[str, Any] = Field(default_factory=dict, examples=[
        {"batch_size": {"max": 100}}], description='param -> {"max", "min", "in"}')
    inputs: dict[str, Any] | None = Field(None, description="kind app: node -> {dataset, "
                                                            "role?, columns?}")
    recipients: list[str] | None = None
    compute: list[str] | None = None
    callers: list[str] = Field(examples=[["onboarding"]], description="caller token names")
    quota: dict[str, int] = Field(default_factory=dict,
                                  examples=[{"per_minute": 10, "per_day": 1000}])


class Decision(BaseModel):
    reason: str = ""


def add_scenario_routes(app: FastAPI, node: Node, Anyone: Any, Operator: Any,  # noqa: N803
                        Approver: Any, Auditor: Any) -> None:  # noqa: N803
    @app.exception_handler(ScenarioError)
    async def _scenario_error(_: Request, exc: ScenarioError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=exc.headers)

    @app.post("/scenarios", status_code=201)
    def publish(body: ScenarioPublish, who: Operator) -> dict[str, Any]:
        return node.scenarios.publish(body.model_dump(exclude_none=True), by=who["name"])

    @app.get("/scenarios")
    def scenarios(_: Anyone) -> list[dict[str, Any]]:
        return node.scenarios.list()

    @app.get("/scenarios/calls")
    def calls(_: Auditor, scenario: str | None = None, version: int | None = None,
              call_id: str | None = None,
              after: Annotated[int, Query(ge=0)] = 0,
              limit: Annotated[int, Query(ge=1, le=10_000)] = 1000) -> list[dict[str, Any]]:
        """The call trail in this node's audit log (every call it served or took part in)."""
        out = []
        for e in node.audit.entries(after=after):
            data = e["data"]
            if e["kind"] != "scenario.call" or (scenario and data["scenario"] != scenario) \
                    or (version and data["version"] != version) \
                    or (call_id and data["call_id"] != call_id):
                continue
            out.append({"seq": e["seq"], "ts": e["ts"], "node": e["actor"], **data})
            if len(out) >= limit:
                break
        return out

    @app.get("/scenarios/{name}/v{version}")
    def show(name: str, version: int, _: Anyone,
             publisher: str | None = None) -> dict[str, Any]:
        return node.scenarios.show(name, version, publisher)

    @app.get("/scenarios/{name}/v{version}/openapi.json")
    def openapi(name: str, version: int, request: Request, creds: Creds) -> dict[str, Any]:
        principal = node.principal(creds.credentials) if creds else None
        request.state.principal = principal
        if principal is None:
            raise ScenarioError("missing, unknown, expired or revoked token", 401,
                                {"WWW-Authenticate": "Bearer"})
        scope = f"scenario:{name}/v{version}"
        if principal["role"] in ("admin",) or (principal["role"] == "caller"
                                               and scope not in principal["scopes"]):
            raise ScenarioError(f"token has no scope {scope}", 403)
        from yinji.node import app_runner

        d = node.scenarios.show(name, version, node.cfg.name)["definition"]
        return document(d, app_runner.get(d["app"]) if d["kind"] == "app" else None,
                        str(request.base_url).rstrip("/"))

    @app.post("/scenarios/{name}/v{version}")
    def call_scenario(name: str, version: int, request: Request, creds: Creds,
                      body: Annotated[Any, Body()] = None) -> JSONResponse:
        principal = node.principal(creds.credentials) if creds else None
        if principal is not None:
            request.state.principal = principal
        status, out, headers = call(node.scenarios, principal, name, version, body)
        return JSONResponse(out, status_code=status, headers=headers)

    @app.post("/scenarios/{name}/v{version}/approve")
    def approve(name: str, version: int, who: Approver, publisher: str | None = None,
                body: Decision | None = None) -> dict[str, Any]:
        return node.scenarios.decide(name, version, "approve", who["name"], publisher,
                                     (body.reason if body else "") or "approved")

    @app.post("/scenarios/{name}/v{version}/reject")
    def reject(name: str, version: int, who: Approver, publisher: str | None = None,
               body: Decision | None = None) -> dict[str, Any]:
        return node.scenarios.decide(name, version, "reject", who["name"], publisher,
                                     (body.reason if body else "") or "rejected")

    @app.post("/scenarios/{name}/v{version}/retire")
    def retire(name: str, version: int, who: Operator) -> dict[str, Any]:
        return node.scenarios.retire(name, version, who["name"])
