"""Installing apps for tests the way an organisation does: a distribution on the path whose
`yinji.apps` entry points name the app objects (no edit of Yinji's source).

`package_dir(tmp, entries, modules)` writes `tmp/<dist>.dist-info/entry_points.txt` (and any
extra module files) and returns `tmp`; put it on PYTHONPATH for node processes (and on sys.path
plus `app_runner.reload()` in-process). `builtin_entries()` reads the built-in apps' entry
points from this checkout's pyproject.toml, so a worktree's new app is found before it is
installed.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import yinji


def builtin_entries() -> dict[str, str]:
    pyproject = Path(yinji.__file__).resolve().parents[2] / "pyproject.toml"
    if not pyproject.is_file():
        return {}
    data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    return dict(data.get("project", {}).get("entry-points", {}).get("yinji.apps", {}))


def package_dir(tmp: Path, entries: dict[str, str], modules: dict[str, str] | None = None,
                dist: str = "yinji_apps_under_test") -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    info = tmp / f"{dist}-1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n",
                                   encoding="utf-8")
    lines = ["[yinji.apps]", *(f"{k} = {v}" for k, v in entries.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for name, text in (modules or {}).items():
        (tmp / f"{name}.py").write_text(text, encoding="utf-8")
    return tmp


def child_env(path: Path) -> dict[str, str]:
    """Environment for node processes that puts `path` (and this checkout's src) first."""
    src = str(Path(yinji.__file__).resolve().parents[1])
    old = os.environ.get("PYTHONPATH", "")
    return {"PYTHONPATH": os.pathsep.join(p for p in (str(path), src, old) if p)}


def reject_and_check_nothing_ran(apis: dict, job_id: str, rejecter: str, nodes: list[str],
                                 reason: str = "not now", timeout: float = 30.0) -> None:
    """Network tests: `rejecter`'s approver rejects the job once its proposal has arrived;
    then every node in `nodes` shows it rejected, holds no result, and never ran it (no
    `running` state in its audit log)."""
    import time

    from yinji.cli.network import wait_job

    deadline = time.monotonic() + 20
    while apis[rejecter].call("GET", f"/jobs/{job_id}", role="auditor")["state"] != "proposed":
        assert time.monotonic() < deadline, f"the proposal never reached {rejecter}"
        time.sleep(0.05)
    apis[rejecter].call("POST", f"/jobs/{job_id}/reject", role="approver",
                        json={"reason": reason})
    views = wait_job(apis, job_id, nodes, timeout=timeout)
    assert {v["state"] for v in views.values()} == {"rejected"}, views
    for n in nodes:
        assert not views[n]["has_result"], n
        entries = apis[n].call("GET", "/audit", role="auditor", params={"job_id": job_id})
        assert not any(e["kind"] == "job.state" and e["data"]["state"] == "running"
                       for e in entries), n
