"""Render a `Report` to files (placeholder: CSV only; .xlsx and HTML follow)."""

from __future__ import annotations

import csv
from pathlib import Path

from yinji.apps.base import Report


def render(report: Report, directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for name, table in report.tables.items():
        path = directory / f"{name}.csv"
        with open(path, "w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            w.writerow(table["columns"])
            w.writerows(table["rows"])
        out.append(path)
    return out
