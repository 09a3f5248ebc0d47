"""REST API: datasets, jobs, models, PIR queries, audit, peers, health. Bearer tokens with roles
(operator, approver, auditor); every call — refused ones included — is audited with its route
template, status and the token's name (never bodies, query strings or data)."""


from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from yinji import __version__
from yinji.node import identity
from yinji.node.api.limits import BodyLimit
from yinji.node.api.schemas import (
    AuditEntry,
    DatasetCreate,
    DatasetPublic,
    DecisionCreate,
    JobCreate,
    JobPublic,
    ModelPublic,
    NodePublic,
    PeerPublic,
    PirQueryCreate,
    PirQueryPublic,
    PirServicePublic,
    PredictCreate,
    PredictionPublic,
    ResultPublic,
    VerifyPublic,
)
from yinji.node.audit import ApiCallEvent, DatasetEvent
from yinji.node.catalog import CatalogError, Dataset, PolicyRule
from yinji.node.jobs import JobError
from yinji.node.model_runners import ModelError
from yinji.node.node import Node
from yinji.node.pir_services import PirServiceError
from yinji.node.runners import RUNNERS

_bearer = HTTPBearer(auto_error=False)
ANY = ("operator", "approver", "auditor")


def create_app(node: Node) -> FastAPI:
    app = FastAPI(title=f"Yinji node {node.cfg.name}", version=__version__,
                  description="Yinji privacy-computing node API")

    def require(*roles: str) -> Callable[..., dict[str, Any]]:
        def dep(request: Request,
                creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                ) -> dict[str, Any]:
            if creds is None or creds.scheme.lower() != "bearer":
                raise HTTPException(401, "missing bearer token",
                                    headers={"WWW-Authenticate": "Bearer"})
            principal = node.principal(creds.credentials)
            if principal is None:
                raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
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
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", None) or request.url.path[:200]
        principal = getattr(request.state, "principal", None) or {}
        await run_in_threadpool(node.audit.append, ApiCallEvent(
            request.method, path, response.status_code, principal.get("name", ""),
            principal.get("role", ""), response.status_code not in (401, 403)))
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
        return JSONResponse({"detail": str(exc)}, status_code=400)

    # -- health, node, peers ------------------------------------------------------------------
    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "node": node.cfg.name}

    @app.get("/node", response_model=NodePublic)
    def node_info(_: Anyone) -> dict[str, Any]:
        return {"name": node.cfg.name, "fingerprint": identity.own_fingerprint(node.cfg),
                "signing_key": node.key.public, "dataplane": node.cfg.dataplane,
                "schema_version": node.store.version(),
                "protocols": {n: r.unavailable() or "available" for n, r in RUNNERS.items()}}

    @app.get("/peers", response_model=list[PeerPublic])
    def peers(_: Anyone) -> list[dict[str, Any]]:
        return [{"name": p.name, "dataplane": p.dataplane, "fingerprint": p.fingerprint,
                 "signing_key": p.signing_key, "api": p.api, "pir": p.pir}
                for p in sorted(node.cfg.peers.values(), key=lambda p: p.name)]

    # -- datasets -----------------------------------------------------------------------------
    @app.get("/datasets", response_model=list[DatasetPublic], response_model_by_alias=True)
    def datasets(_: Anyone) -> list[dict[str, Any]]:
        return [d.public() for d in node.catalog.list()]

    @app.get("/datasets/{dataset_id}", response_model=DatasetPublic,
             response_model_by_alias=True)
    def dataset(dataset_id: str, _: Anyone) -> dict[str, Any]:
        try:
            return node.catalog.get(dataset_id).public()
        except CatalogError as exc:
            raise HTTPException(404, str(exc)) from None

    @app.post("/datasets", response_model=DatasetPublic, status_code=201,
              response_model_by_alias=True)
    def add_dataset(body: DatasetCreate,
                    _: Operator) -> dict[str, Any]:
        ds = node.catalog.register(Dataset(
            id=body.id, kind=body.kind, location=body.location, table=body.table,
            schema=dict(body.schema_), policy=[PolicyRule(**r.model_dump()) for r in body.policy]))
        node.audit.append(DatasetEvent(ds.id, "registered", sorted(ds.schema)))
        return ds.public()

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

    @app.post("/pir/query", response_model=PirQueryPublic)
    def pir_query(body: PirQueryCreate, who: Operator) -> dict[str, Any]:
        return node.pir.query(body.keys, body.members, body.service, body.timeout,
                              principal=who["name"])

    # -- audit --------------------------------------------------------------------------------
    @app.get("/audit", response_model=list[AuditEntry])
    def audit(_: Auditor, after: int = 0, limit: int = 1000,
              job_id: str | None = None) -> list[dict[str, Any]]:
        return node.audit.entries(after=after, limit=min(limit, 10_000), job_id=job_id)

    @app.get("/audit/verify", response_model=VerifyPublic)
    def verify(_: Auditor) -> dict[str, Any]:
        return node.audit.verify().as_dict()

    @app.get("/audit/export", response_class=PlainTextResponse)
    def export(_: Auditor) -> str:
        return "\n".join(node.audit.export_jsonl()) + "\n"

    return app
