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
