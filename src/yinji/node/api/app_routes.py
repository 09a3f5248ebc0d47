"""REST routes of the app layer: list and describe apps, start runs, follow them, fetch the
report files a recipient received (`yinji.node.app_runner`).

No `from __future__ import annotations` here: FastAPI must see the `Anyone` / `Operator`
dependencies themselves, not the strings "Anyone" / "Operator" (which it cannot resolve and
would take for query parameters, leaving the routes without authentication)."""

import json
import re
from typing import Any

from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse

from yinji.node.api.schemas import AppRunCreate
from yinji.node.app_runner import AppLookupError
from yinji.node.node import Node

_FILE = re.compile(r"^[A-Za-z0-9_.\-]{1,100}$")
MEDIA = {".csv": "text/csv; charset=utf-8", ".html": "text/html; charset=utf-8",
         ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         ".json": "application/json"}


def run_view(node: Node, row: dict[str, Any]) -> dict[str, Any]:
    """A run as its app's users see it: the job, and this node's report and files if any."""
    job = node.jobs.public(row)
    result = node.store.result(row["id"])
    folder = node.jobs.results_dir(row["id"])
    files = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
    return {"app": row["protocol"].removeprefix("app."), "job": job,
            "state": job["state"], "progress": job["progress"], "stage": job["stage"],
            "report": json.loads(result["result_json"]) if result else None,
            "files": files}


def add_app_routes(app: FastAPI, node: Node, Anyone: Any, Operator: Any) -> None:  # noqa: N803
    def _app(name: str) -> dict[str, Any]:
        try:
            return node.apps.show(name)
        except AppLookupError as exc:
            raise HTTPException(404, str(exc.args[0])) from None

    def _run(name: str, run_id: str) -> dict[str, Any]:
        _app(name)
        row = node.store.job(run_id)
        if row is None or row["protocol"] != f"app.{name}":
            raise HTTPException(404, f"no run {run_id!r} of app {name!r}")
        return row

    @app.get("/apps")
    def apps(_: Anyone) -> list[dict[str, Any]]:
        return node.apps.list()

    @app.get("/apps/{name}")
    def app_info(name: str, _: Anyone) -> dict[str, Any]:
        return _app(name)

    @app.post("/apps/{name}/runs", status_code=201)
    def start(name: str, body: AppRunCreate, who: Operator) -> dict[str, Any]:
        job = node.apps.create(name, body.model_dump(exclude_none=True), by=who["name"])
        return run_view(node, node.store.job(job["id"]))

    @app.get("/apps/{name}/runs")
    def runs(name: str, _: Anyone) -> list[dict[str, Any]]:
        _app(name)
        return [node.jobs.public(r) for r in node.store.list_jobs(None)
                if r["protocol"] == f"app.{name}"]

    @app.get("/apps/{name}/runs/{run_id}")
    def run(name: str, run_id: str, _: Operator) -> dict[str, Any]:
        return run_view(node, _run(name, run_id))

    @app.get("/apps/{name}/runs/{run_id}/files/{filename}")
    def run_file(name: str, run_id: str, filename: str, _: Operator) -> FileResponse:
        _run(name, run_id)
        return job_file(node, run_id, filename)

    @app.get("/jobs/{job_id}/files/{filename}")
    def any_job_file(job_id: str, filename: str, _: Operator) -> FileResponse:
        """A report file this node received for a job (e.g. a training job's model-health
        report at the label holder)."""
        if node.store.job(job_id) is None:
            raise HTTPException(404, f"no job {job_id!r}")
        return job_file(node, job_id, filename)


def job_file(node: Node, job_id: str, filename: str) -> FileResponse:
    """One file of the job's results folder at this node; nothing outside it."""
    folder = node.jobs.results_dir(job_id)
    path = folder / filename
    if not _FILE.match(filename) or not path.is_file() or path.parent != folder:
        raise HTTPException(404, f"no file {filename!r} for job {job_id}")
    return FileResponse(path, media_type=MEDIA.get(path.suffix, "application/octet-stream"),
                        filename=filename)
