"""`make demo`, apps part: every installed app with a demo (`App.demo`) run on generated data
by the four companies' nodes (and the group node, the AML officer) through REST, like users would: datasets registered, the run
proposed, each company's approver approving, the reports downloaded per recipient and checked
against the plaintext computation of the same data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from yinji.cli.network import COMPANIES, Api, clients, wait_job

FINAL = ("succeeded", "failed", "cancelled", "rejected", "expired")


def _approve_until_final(apis: dict[str, Api], job_id: str, nodes: list[str],
                         timeout: float) -> None:
    """Each company's approver approves the proposal when it reaches them (a person would
    read it first: GET /jobs/ID shows the app, parameters, datasets and recipients)."""
    deadline = time.monotonic() + timeout
    pending = set(nodes)
    while pending and time.monotonic() < deadline:
        for n in sorted(pending):
            try:
                view = apis[n].call("GET", f"/jobs/{job_id}", role="approver")
            except RuntimeError:
                continue   # the proposal has not reached this node yet
            mine = [a for a in view["approvals"] if a["node"] == n]
            if view["state"] != "proposed" or mine:
                pending.discard(n)
                continue
            try:
                apis[n].call("POST", f"/jobs/{job_id}/approve", role="approver",
                             json={"reason": "demo: read and approved"})
            except RuntimeError:
                pass   # decided meanwhile (policy or a race): checked on the next round
        time.sleep(0.1)


def download(api: Api, app: str, run_id: str, files: list[str], directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name in files:
        r = api.http.get(f"/apps/{app}/runs/{run_id}/files/{name}",
                         headers={"Authorization": f"Bearer {api.tokens['operator']}"})
        r.raise_for_status()
        (directory / name).write_bytes(r.content)
        out.append(directory / name)
    return out


def run_apps(root: Path, out_dir: Path, out=print, only: list[str] | None = None,
             timeout: float = 600.0) -> bool:  # type: ignore[no-untyped-def]
    """Run every installed app's demo; True if each run succeeded and its check passed."""
    from yinji.node import app_runner

    apis = clients(root)
    homes = {n: Path(api_home) for n, api_home in _homes(root).items()}
    ok = True
    try:
        for name, app in sorted(app_runner.installed().items()):
            if only and name not in only:
                continue
            plan = app.demo({n: h / "data" for n, h in homes.items() if n in COMPANIES})
            if plan is None:
                continue
            ok &= _run_one(apis, name, plan, out_dir, out, timeout)
    finally:
        for api in apis.values():
            api.close()
    return ok


def _homes(root: Path) -> dict[str, str]:
    import yaml

    manifest = yaml.safe_load((root / "network.yaml").read_text())
    return {n: i["home"] for n, i in manifest["nodes"].items()}


def register_datasets(apis: dict[str, Api], plan: Any) -> None:
    """Each company registers the demo's datasets through REST (one already there: kept)."""
    for company, bodies in plan.datasets.items():
        for body in bodies:
            try:
                apis[company].call("POST", "/datasets", json=body)
            except RuntimeError as exc:
                if "409" not in str(exc):
                    raise


def _run_one(apis: dict[str, Api], name: str, plan: Any, out_dir: Path, out: Any,
             timeout: float) -> bool:
    t0 = time.perf_counter()
    register_datasets(apis, plan)
    for company, method, path, body in plan.calls:
        try:
            apis[company].call(method, path, json=body)
        except RuntimeError as exc:
            if "409" not in str(exc):   # already there from an earlier demo in this folder
                raise
    run = apis[plan.proposer].call("POST", f"/apps/{name}/runs", json=plan.request)
    job = run["job"]
    from yinji.node.policy import participants

    nodes = participants(job["spec"])
    _approve_until_final(apis, job["id"], nodes, timeout)
    views = wait_job(apis, job["id"], nodes, timeout=timeout)
    states = {n: v["state"] for n, v in views.items()}
    took = time.perf_counter() - t0
    if set(states.values()) != {"succeeded"}:
        out(f"app {name}: {states}; " + "; ".join(f"{n}: {v['reason']}" for n, v in
                                                  views.items() if v["reason"]))
        return False
    reports: dict[str, dict[str, Any] | None] = {}
    for company in job["spec"]["recipients"]:
        got = apis[company].call("GET", f"/apps/{name}/runs/{job['id']}")
        reports[company] = got["report"]
        paths = download(apis[company], name, job["id"], got["files"],
                         out_dir / name / company)
        html = [p for p in paths if p.suffix == ".html"]
        out(f"app {name}: report for {company}: {html[0] if html else out_dir / name / company}")
    problems = plan.check(reports) if plan.check else []
    out(f"app {name}: {len(nodes)} node(s) in the job, {took:.1f} s, "
        + ("matches the plaintext computation" if not problems else "; ".join(problems)))
    return not problems
