"""REST API: datasets, jobs, models, PIR queries, audit, peers, standing approvals, health.
Bearer tokens with roles (operator, approver, auditor; admin only for changing peers,
`peer_routes`); every call — refused ones included — is audited with its route template,
status and the token's name (never bodies, query strings or data). Calls without a valid
token (refusals) are rate-limited: a few entries per window, the rest counted in one summary
entry (`yinji.node.repeats`); successful polls of /health and /metrics write no entry of
their own, only the window's summary."""


from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from yinji import __version__
from yinji.node import identity
from yinji.node.anchors import PAGE, heads
from yinji.node.api.app_routes import add_app_routes
from yinji.node.api.console_routes import add_console_routes
from yinji.node.api.docs_routes import add_docs_routes
from yinji.node.api.limits import BodyLimit
from yinji.node.api.peer_routes import add_peer_routes
from yinji.node.api.scenario_routes import add_scenario_routes
from yinji.node.api.schemas import (
    AnchoredHead,
    AnchorRoundPublic,
    AnchorsPublic,
    AuditEntry,
    DatasetCreate,
    DatasetPublic,
    DecisionCreate,
    JobCreate,
    JobPublic,
    ModelPublic,
    NodePublic,
    PeerPublic,
    PeerVerifyPublic,
    PirQueryCreate,
    PirQueryPublic,
    PirServiceCreate,
    PirServicePublic,
    PredictCreate,
    PredictionPublic,
    ResultPublic,
    TokenPublic,
    VerifyPublic,
)
from yinji.node.api.standing_routes import add_standing_routes
from yinji.node.audit import ApiCallEvent
from yinji.node.catalog import CatalogError, Dataset, PolicyRule
from yinji.node.certinfo import cert_status
from yinji.node.certinfo import warnings as cert_warnings
from yinji.node.jobs import JobError
from yinji.node.metrics import CONTENT_TYPE
from yinji.node.model_runners import ModelError
from yinji.node.node import Node
from yinji.node.pir_services import PirServiceError
from yinji.node.runners import known_protocols, runner_for
from yinji.node.tokens import TokenError

_bearer = HTTPBearer(auto_error=False)
ANY = ("operator", "approver", "auditor")
AUDIT_PAGE = 10_000      # most entries one GET /audit returns
MAX_SEQ = 2**63 - 1      # audit sequence numbers are signed 64-bit in both stores
POLLED = ("/health", "/metrics")   # successful polls: counted, not one audit entry each


def create_app(node: Node) -> FastAPI:
    app = FastAPI(title=f"Yinji node {node.cfg.name}", version=__version__,
                  description="Yinji privacy-computing node API", docs_url=None,
                  redoc_url=None)   # /docs from local assets (docs_routes)

    def require(*roles: str) -> Callable[..., dict[str, Any]]:
        def dep(request: Request,
                creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                ) -> dict[str, Any]:
            if creds is None or creds.scheme.lower() != "bearer":
                raise HTTPException(401, "missing bearer token",
                                    headers={"WWW-Authenticate": "Bearer"})
            principal = node.principal(creds.credentials)
            if principal is None:
                raise HTTPException(401, "unknown, expired or revoked token",
                                    headers={"WWW-Authenticate": "Bearer"})
            request.state.principal = principal
            if principal["role"] not in roles:
                raise HTTPException(403, f"role {principal['role']} may not do this "
                                         f"(needs {' or '.join(roles)})")
            return principal
        return dep

    Anyone = Annotated[dict, Depends(require(*ANY))]
    Operator = Annotated[dict, Depends(require("operator"))]
    Approver = Annotated[dict, Depends(require("approver"))]
    Auditor = Annotated[dict, Depends(require("auditor"))]

    # Before `audit_calls`, so that one is outermost and audits these refusals too.
    app.add_middleware(BodyLimit, principal=node.principal)

    @app.middleware("http")
    async def audit_calls(request: Request, call_next):  # type: ignore[no-untyped-def]
        await run_in_threadpool(node.sync_peers)   # peers added since (CLI) apply at once
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", None) or request.url.path[:200]
        principal = getattr(request.state, "principal", None) or {}
        event = ApiCallEvent(request.method, path, response.status_code,
                             principal.get("name", ""), principal.get("role", ""),
                             response.status_code not in (401, 403))
        if route is not None and path in POLLED and response.status_code < 400:
            # monitors poll these every few seconds: counted, one summary entry per window
            key = (request.method, path, principal.get("name", ""))
            await run_in_threadpool(node.repeats.record, event, key, 0)
        elif principal:
            await run_in_threadpool(node.audit.append, event)
        else:  # health polls and unauthenticated calls: rate-limited (yinji.node.repeats)
            key = (request.method, getattr(route, "path", "(no route)"), response.status_code)
            await run_in_threadpool(node.repeats.record, event, key)
        return response

    @app.exception_handler(JobError)
    async def _job_error(_: Request, exc: JobError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(PirServiceError)
    async def _pir_error(_: Request, exc: PirServiceError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(ModelError)
    async def _model_error(_: Request, exc: ModelError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), **exc.extra}, status_code=exc.status)

    @app.exception_handler(CatalogError)
    async def _catalog_error(_: Request, exc: CatalogError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    @app.exception_handler(TokenError)
    async def _token_error(_: Request, exc: TokenError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=exc.status)

    # -- health, node, peers ------------------------------------------------------------------
    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "node": node.cfg.name}

    @app.get("/metrics", response_class=Response,
             responses={200: {"content": {CONTENT_TYPE: {}}}})
    def metrics(_: Annotated[dict, Depends(require("operator", "auditor", "metrics"))],
                ) -> Response:
        """Prometheus metrics (yinji.node.metrics): jobs by state and duration, protocol
        bytes, PIR queries, audit size, certificate expiry. Token: operator, auditor or a
        scrape-only `metrics` token."""
        return Response(node.metrics.render(), media_type=CONTENT_TYPE)

    @app.get("/node", response_model=NodePublic)
    def node_info(_: Anyone) -> dict[str, Any]:
        return {"name": node.cfg.name, "crypto_profile": node.profile.name,
                "fingerprint": identity.own_fingerprint(node.cfg),
                "signing_key": node.key.public, "dataplane": node.cfg.dataplane,
                "schema_version": node.store.version(),
                "protocols": {n: runner_for(n).unavailable() or "available"  # type: ignore[union-attr]
                              for n in known_protocols()},
                "api_url": node.cfg.api_url, "cert_warn_days": node.cfg.cert_warn_days,
                "certificates": cert_status(node.cfg), "cert_warnings": cert_warnings(node.cfg)}

    @app.get("/peers", response_model=list[PeerPublic])
    def peers(_: Annotated[dict, Depends(require(*ANY, "admin"))]) -> list[dict[str, Any]]:
        expiry = {r["name"]: r for r in cert_status(node.cfg) if r["whose"] == "peer"}
        return [{"name": p.name, "dataplane": p.dataplane, "fingerprint": p.fingerprint,
                 "signing_key": p.signing_key, "api": p.api, "pir": p.pir,
                 "cert_not_after": expiry.get(p.name, {}).get("not_after", ""),
                 "cert_warning": expiry.get(p.name, {}).get("warning", "")}
                for p in sorted(node.cfg.peers.values(), key=lambda p: p.name)]

    # -- datasets -----------------------------------------------------------------------------
    @app.get("/datasets", response_model=list[DatasetPublic], response_model_by_alias=True)
    def datasets(_: Anyone) -> list[dict[str, Any]]:
        return [d.public() for d in node.catalog.list()]

    @app.get("/datasets/{dataset_id}", response_model=DatasetPublic,
             response_model_by_alias=True)
    def dataset(dataset_id: str, _: Anyone) -> dict[str, Any]:
        return node.catalog.get(dataset_id).public()

    def _dataset(body: DatasetCreate) -> Dataset:
        return Dataset(id=body.id, kind=body.kind, location=body.location, table=body.table,
                       schema=dict(body.schema_),
                       policy=[PolicyRule(**r.model_dump()) for r in body.policy])

    @app.post("/datasets", response_model=DatasetPublic, status_code=201,
              response_model_by_alias=True)
    def add_dataset(body: DatasetCreate, who: Operator) -> dict[str, Any]:
        """Register a new dataset (audited); an existing id is refused with 409."""
        return node.catalog.register(_dataset(body), by=who["name"]).public()

    @app.put("/datasets/{dataset_id}", response_model=DatasetPublic,
             response_model_by_alias=True)
    def update_dataset(dataset_id: str, body: DatasetCreate, who: Operator) -> dict[str, Any]:
        """Replace a dataset's descriptor explicitly (audited with before and after)."""
        if body.id != dataset_id:
            raise HTTPException(400, f"body id {body.id!r} differs from {dataset_id!r}")
        return node.catalog.update(_dataset(body), by=who["name"]).public()

    # -- tokens (created on the node's machine only: `yinji token add`) -------------------------
    @app.get("/tokens", response_model=list[TokenPublic])
    def tokens(_: Auditor) -> list[dict[str, Any]]:
        return node.tokens.list()

    @app.delete("/tokens/current", response_model=list[TokenPublic])
    def revoke_current(who: Anyone) -> list[dict[str, Any]]:
        """Revoke the token this request carries (e.g. one that may have leaked)."""
        node.tokens.revoke(who["id"], by=who["name"])
        return [t for t in node.tokens.list() if t["id"] == who["id"]]

    # -- jobs ---------------------------------------------------------------------------------
    @app.post("/jobs", response_model=JobPublic, status_code=201)
    def propose(body: JobCreate, who: Operator) -> dict[str, Any]:
        return node.jobs.propose(body.model_dump(), by=who["name"])

    @app.get("/jobs", response_model=list[JobPublic])
    def list_jobs(_: Anyone, state: str | None = None) -> list[dict[str, Any]]:
        return [node.jobs.public(r) for r in node.store.list_jobs(state)]

    @app.get("/jobs/{job_id}", response_model=JobPublic)
    def job(job_id: str, _: Anyone) -> dict[str, Any]:
        row = node.store.job(job_id)
        if row is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return node.jobs.public(row)

    @app.get("/jobs/{job_id}/decisions")
    def job_decisions(job_id: str, _: Anyone) -> dict[str, Any]:
        """Every company's decision so far (signed records, checked), from the proposer."""
        if node.store.job(job_id) is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return {"job_id": job_id, "decisions": node.jobs.decisions(job_id)}

    @app.post("/jobs/{job_id}/approve", response_model=JobPublic)
    def approve(job_id: str, who: Approver,
                body: DecisionCreate | None = None) -> dict[str, Any]:
        return node.jobs.decide(job_id, "approve", by=who["name"],
                                reason=(body.reason if body else "") or "approved")

    @app.post("/jobs/{job_id}/reject", response_model=JobPublic)
    def reject(job_id: str, who: Approver,
               body: DecisionCreate | None = None) -> dict[str, Any]:
        return node.jobs.decide(job_id, "reject", by=who["name"],
                                reason=(body.reason if body else "") or "rejected")

    @app.post("/jobs/{job_id}/cancel", response_model=JobPublic)
    def cancel(job_id: str, who: Operator) -> dict[str, Any]:
        return node.jobs.cancel(job_id, who["name"])

    @app.get("/jobs/{job_id}/result", response_model=ResultPublic)
    def result(job_id: str, _: Operator) -> dict[str, Any]:
        import json

        row = node.store.result(job_id)
        if row is None:
            raise HTTPException(404, f"no result for job {job_id!r} on this node")
        return {"job_id": job_id, "result": json.loads(row["result_json"]),
                "result_hash": row["result_hash"]}

    # -- models (registry and joint prediction) ------------------------------------------------
    @app.get("/models", response_model=list[ModelPublic])
    def models(_: Anyone) -> list[dict[str, Any]]:
        return node.models.list()

    @app.get("/models/{name}", response_model=ModelPublic)
    def model(name: str, _: Anyone, version: int | None = None) -> dict[str, Any]:
        return node.models.public(node.models.meta(name, version))

    @app.get("/models/{name}/card")
    def model_card(name: str, _: Anyone, version: int | None = None) -> dict[str, Any]:
        """The model card this node wrote for the version (yinji.ml.card)."""
        return node.models.card(name, version)

    @app.post("/models/{name}/predict", response_model=PredictionPublic)
    def predict(name: str, body: PredictCreate, who: Operator,
                response: Response) -> dict[str, Any]:
        status, out = node.models.predict(name, body.ids, version=body.version,
                                          principal=who["name"], timeout=body.timeout)
        response.status_code = status
        return out

    # -- anonymous query (PIR) -----------------------------------------------------------------
    @app.get("/pir/services", response_model=list[PirServicePublic])
    def pir_services(_: Anyone) -> list[dict[str, Any]]:
        return node.pir.list()

    @app.post("/pir/services/{service_id}/refresh", response_model=PirServicePublic)
    def pir_refresh(service_id: str, who: Operator) -> dict[str, Any]:
        return node.pir.refresh(service_id, by=who["name"])

    @app.post("/pir/services", response_model=PirServicePublic, status_code=201)
    def pir_add(body: PirServiceCreate, who: Operator) -> dict[str, Any]:
        return node.pir.add(body.model_dump(exclude_none=True), by=who["name"])

    @app.delete("/pir/services/{service_id}")
    def pir_remove(service_id: str, who: Operator) -> dict[str, Any]:
        return node.pir.remove(service_id, by=who["name"])

    @app.post("/pir/query", response_model=PirQueryPublic)
    def pir_query(body: PirQueryCreate, who: Operator) -> dict[str, Any]:
        return node.pir.query(body.keys, body.members, body.service, body.timeout,
                              principal=who["name"], key_kind=body.key_kind)

    # -- audit --------------------------------------------------------------------------------
    @app.get("/audit", response_model=list[AuditEntry])
    def audit(_: Auditor,
              after: Annotated[int, Query(ge=0, le=MAX_SEQ,
                                          description="entries after this sequence number")] = 0,
              limit: Annotated[int, Query(ge=1, le=AUDIT_PAGE,
                                          description="entries per page")] = 1000,
              job_id: str | None = None) -> list[dict[str, Any]]:
        return node.audit.entries(after=after, limit=limit, job_id=job_id)

    @app.get("/audit/verify", response_model=VerifyPublic)
    def verify(_: Auditor) -> dict[str, Any]:
        return node.audit.verify().as_dict()

    # -- audit anchoring (yinji.node.anchors) ---------------------------------------------------
    @app.post("/audit/anchor", response_model=AnchorRoundPublic)
    def anchor(_: Annotated[dict, Depends(require("operator", "auditor"))]) -> dict[str, Any]:
        return node.anchors.anchor_now()

    @app.get("/audit/anchors", response_model=AnchorsPublic)
    def anchors(_: Auditor) -> dict[str, Any]:
        return node.anchors.summary()

    @app.get("/audit/anchors/{name}", response_model=list[AnchoredHead])
    def anchored_heads(name: str, _: Auditor, witness: str | None = None,
                       after: Annotated[int, Query(ge=0)] = 0,
                       limit: Annotated[int, Query(ge=1, le=PAGE)] = PAGE,
                       ) -> list[dict[str, Any]]:
        """`name`'s heads held by `witness` (default this node; this node's own receipts:
        name = this node, witness = a peer), for cross-checking a node's export."""
        return heads(node.store, name, witness or node.cfg.name, after=after, limit=limit)

    @app.get("/audit/verify/peers", response_model=PeerVerifyPublic)
    def verify_peers(_: Auditor) -> dict[str, Any]:
        return node.anchors.verify_peers().as_dict()

    @app.get("/audit/export", response_class=PlainTextResponse)
    def export(_: Auditor) -> str:
        return "\n".join(node.audit.export_jsonl()) + "\n"

    add_docs_routes(app)
    add_app_routes(app, node, Anyone, Operator)
    add_standing_routes(app, node, Anyone, Approver)
    add_scenario_routes(app, node, Anyone, Operator, Approver, Auditor)
    add_peer_routes(app, node, Annotated[dict, Depends(require("admin"))])
    add_console_routes(app, node, Annotated[dict, Depends(require(*ANY, "admin"))], Auditor)
    return app
