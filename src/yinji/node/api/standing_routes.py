"""REST routes for standing approvals (`yinji.node.standing`): anyone with a token lists them;
only the approver role sets or revokes one (it approves jobs in that role's place). Each change
is a signed audit entry with the rule; a rule set here applies to the next proposal."""


import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from yinji.node.config import parse_lifetime
from yinji.node.node import Node
from yinji.node.standing import StandingError


class StandingCreate(BaseModel):
    """A standing approval; a missing list matches anything, params bound the job's params."""

    model_config = ConfigDict(extra="forbid")
    apps: list[str] | None = Field(None, examples=[["qualified-investor"]])
    protocols: list[str] | None = Field(None, examples=[["mpc.aggregate"]])
    proposers: list[str] | None = Field(None, examples=[["fund"]])
    datasets: list[str] | None = Field(None, description="this node's datasets")
    recipients: list[str] | None = Field(None, description="every recipient must be listed")
    params: dict[str, Any] | None = Field(None, examples=[{"batch_size": {"max": 1000}}],
                                          description='param -> {"max", "min", "in"}')
    fixed: dict[str, Any] | None = Field(None, description="param -> its exact value")
    scenarios: list[str] | None = Field(None, examples=[["qualified-investor-check/v1"]],
                                        description="only calls of these scenario APIs")
    callers: list[str] | None = Field(None, description="scenario callers (token names)")
    note: str | None = None
    expires: float | None = Field(None, description="epoch seconds; or give lifetime")
    lifetime: str | None = Field(None, examples=["30d"], description="N d|h|m from now")


class StandingPublic(BaseModel):
    id: str
    rule: dict[str, Any]
    created_by: str
    created: float
    expires: float | None
    revoked: float | None
    revoked_by: str | None
    state: str = Field(description="active | expired | revoked")


def add_standing_routes(app: FastAPI, node: Node, Anyone: Any, Approver: Any) -> None:  # noqa: N803
    @app.exception_handler(StandingError)
    async def _standing_error(_: Request, exc: StandingError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.get("/approvals/standing", response_model=list[StandingPublic])
    def standing(_: Anyone) -> list[dict[str, Any]]:
        return node.standing.list()

    @app.post("/approvals/standing", response_model=StandingPublic, status_code=201)
    def add_standing(body: StandingCreate, who: Approver) -> dict[str, Any]:
        raw = body.model_dump(exclude_none=True, exclude={"expires", "lifetime"})
        expires = body.expires
        if body.lifetime is not None:
            if expires is not None:
                raise StandingError("`lifetime`: give expires or lifetime, not both")
            try:
                seconds = parse_lifetime(body.lifetime)
            except ValueError as exc:
                raise StandingError(f"`lifetime`: {exc}") from None
            expires = None if seconds is None else time.time() + seconds
        return node.standing.add(raw, by=who["name"], expires=expires)

    @app.delete("/approvals/standing/{rule_id}", response_model=StandingPublic)
    def revoke_standing(rule_id: str, who: Approver) -> dict[str, Any]:
        return node.standing.revoke(rule_id, by=who["name"])
