"""Render an app's `Report` to the files a recipient receives: one CSV per table, `report.xlsx`
and a self-contained `report.html` (DESIGN.md, App layer: charts rendered by the node, no CDN).

Why these rules:
- The report is checked whole before anything is written (tables rectangular, cells of JSON
  types, each chart naming an existing table and columns, y columns numeric), and the files
  are written into a temporary sibling folder that is then renamed into place: a recipient
  sees the old report, or the whole new one, never half of one.
- CSV: UTF-8 with a byte-order mark (Excel then reads Chinese text right), RFC 4180 quoting
  and CRLF. A text cell that starts like a formula (= + - @, tab, CR) gets a leading `'` so a
  spreadsheet shows it as text instead of running it (OWASP "CSV injection": table cells can
  come from another company's data); number-looking text ("-5", "+852") is left alone. The
  .xlsx keeps such cells exact, stored as text.
- File names: the REST route serves only `[A-Za-z0-9_.-]` names, so a table's CSV is named
  from the ASCII part of its name (`table1.csv`, `table2.csv`, ... when it has none); the
  .xlsx and HTML show the full names.
"""

from __future__ import annotations

import csv
import math
import numbers
import os
import re
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from yinji.apps.base import Report

CHART_KINDS = ("bar", "line")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class ReportError(ValueError):
    """A report that cannot be rendered; the message names the table, column or chart."""


# -- checking -----------------------------------------------------------------------------------

def _cell(value: Any, where: str) -> Any:
    if value is None or isinstance(value, str | bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        return float(value)
    raise ReportError(f"{where}: cells must be text, numbers, true/false or empty, got "
                      f"{type(value).__name__}")


def checked(report: Report) -> Report:
    """The report with cells normalised to str/int/float/bool/None; raises ReportError naming
    the first problem."""
    tables: dict[str, dict[str, Any]] = {}
    for name, table in report.tables.items():
        if not isinstance(name, str) or not name.strip():
            raise ReportError(f"table names must be non-empty text, got {name!r}")
        columns = table.get("columns") if isinstance(table, dict) else None
        if not isinstance(columns, list) or not all(isinstance(c, str) for c in columns):
            raise ReportError(f"table {name!r}: columns must be a list of names")
        rows = []
        for i, row in enumerate(table.get("rows") or []):
            if not isinstance(row, list | tuple) or len(row) != len(columns):
                raise ReportError(f"table {name!r} row {i + 1}: expected {len(columns)} cells, "
                                  f"got {len(row) if isinstance(row, list | tuple) else row!r}")
            rows.append([_cell(v, f"table {name!r} row {i + 1} column {c!r}")
                         for v, c in zip(row, columns, strict=True)])
        tables[name] = {"columns": list(columns), "rows": rows}
    charts = [_chart(c, i, tables) for i, c in enumerate(report.charts)]
    return Report(str(report.title), [str(s) for s in report.summary], tables, charts,
                  dict(report.data))


def _chart(chart: Any, i: int, tables: dict[str, dict[str, Any]]) -> dict[str, Any]:
    where = f"chart {i + 1}"
    if not isinstance(chart, dict):
        raise ReportError(f"{where} must be an object with kind, title, table, x and y")
    if isinstance(chart.get("title"), str) and chart["title"]:
        where += f" ({chart['title']!r})"
    if chart.get("kind") not in CHART_KINDS:
        raise ReportError(f"{where}: kind must be one of {', '.join(CHART_KINDS)}, got "
                          f"{chart.get('kind')!r}")
    name = chart.get("table")
    table = tables.get(name) if isinstance(name, str) else None
    if table is None:
        raise ReportError(f"{where}: no table {chart.get('table')!r} in the report (tables: "
                          f"{', '.join(map(repr, tables)) or 'none'})")
    ys = chart.get("y")
    ys = [ys] if isinstance(ys, str) else ys
    if not isinstance(ys, list) or not ys:
        raise ReportError(f"{where}: y must name one or more columns of table "
                          f"{chart['table']!r}")
    cols = table["columns"]
    for col in [chart.get("x"), *ys]:
        if col not in cols:
            raise ReportError(f"{where}: table {chart['table']!r} has no column {col!r} "
                              f"(columns: {', '.join(map(repr, cols))})")
    for col in ys:
        j = cols.index(col)
        for r, row in enumerate(table["rows"]):
            v = row[j]
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                raise ReportError(f"{where}: column {col!r} of table {chart['table']!r} must "
                                  f"hold numbers, row {r + 1} has {v!r}")
    return {"kind": chart["kind"], "title": str(chart.get("title") or ""),
            "table": chart["table"], "x": chart["x"], "y": list(ys)}


# -- file names -----------------------------------------------------------------------------------

def csv_names(report: Report) -> dict[str, str]:
    """table name -> CSV file name (ASCII, unique ignoring case, not clashing with ours)."""
    taken = {"report.xlsx", "report.html"}
    out = {}
    for n, name in enumerate(report.tables, start=1):
        stem = re.sub(r"[^A-Za-z0-9_.\-]+", "_", name).strip("._-")[:80] or f"table{n}"
        candidate, k = f"{stem}.csv", 2
        while candidate.lower() in taken:
            candidate, k = f"{stem}-{k}.csv", k + 1
        taken.add(candidate.lower())
        out[name] = candidate
    return out


# -- writing ----------------------------------------------------------------------------------------

def csv_text(value: Any) -> str:
    """A cell as CSV text (formula-looking text defused, see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if value != value else ("inf" if value > 0 else "-inf")
    if isinstance(value, int | float):
        return repr(value)
    if value.startswith(_FORMULA_START) and not _NUMBER.match(value.strip()):
        return "'" + value
    return value


def write_csv(table: dict[str, Any], path: Path) -> None:
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh, lineterminator="\r\n")
        w.writerow([csv_text(c) for c in table["columns"]])
        w.writerows([csv_text(v) for v in row] for row in table["rows"])
        fh.flush()
        os.fsync(fh.fileno())


def render(report: Report, directory: Path | str, *,
           generated: datetime | None = None) -> list[Path]:
    """Write the report's files into `directory` (replacing what was there as one step);
    returns their paths. Raises ReportError, and writes nothing, if the report is malformed."""
    from yinji.apps.report_html import write_html
    from yinji.apps.report_xlsx import write_xlsx

    report = checked(report)
    generated = generated or datetime.now(UTC)
    directory = Path(directory)
    if directory.exists() and not directory.is_dir():
        raise ReportError(f"{directory} exists and is not a folder")
    directory.parent.mkdir(parents=True, exist_ok=True)
    names = csv_names(report)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
    try:
        for name, table in report.tables.items():
            write_csv(table, tmp / names[name])
        write_xlsx(report, tmp / "report.xlsx", generated)
        write_html(report, tmp / "report.html", generated, names)
        _swap(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return [directory / n for n in [*names.values(), "report.xlsx", "report.html"]]


def _swap(new: Path, directory: Path) -> None:
    """Put the folder `new` at `directory` by renames: the old report stays whole until the
    new one is in place."""
    if directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
    if not directory.exists():
        os.rename(new, directory)
    else:
        old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old.", dir=directory.parent))
        os.rename(directory, old / "report")
        os.rename(new, directory)
        shutil.rmtree(old, ignore_errors=True)
    fd = os.open(directory.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
