"""`--format table|csv|json` for the CLI's job and app commands: one place that turns the
API's answers into a table (a header line, then tab-separated rows, like every other listing
of this CLI), CSV (spreadsheets) or JSON (the API's own answer, for jq and programs)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any, TextIO

FORMATS = ("table", "csv", "json")


def add_format(p: argparse.ArgumentParser, default: str = "table") -> None:
    p.add_argument("--format", choices=FORMATS, default=default,
                   help=f"output: table, csv or json (default {default})")


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    if isinstance(v, dict | list):
        return json.dumps(v, ensure_ascii=False, separators=(",", ":"))
    return str(v)


def emit(rows: list[dict[str, Any]], columns: list[str], fmt: str, *, raw: Any = None,
         out: TextIO | None = None) -> None:
    """Print `rows` (their `columns`) as a table or CSV, or `raw` (default `rows`) as JSON."""
    out = out or sys.stdout
    if fmt == "json":
        out.write(json.dumps(rows if raw is None else raw, indent=2, ensure_ascii=False) + "\n")
        return
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    if fmt == "csv":
        w = csv.writer(out, lineterminator="\n")
        w.writerow(columns)
        w.writerows(cells)
        return
    for row in [columns, *cells]:   # the CLI's tables: a header, tab-separated (cut, awk)
        out.write("\t".join(v.replace("\t", " ").replace("\n", " ") for v in row) + "\n")


def emit_record(record: dict[str, Any], fmt: str, *, raw: Any = None,
                out: TextIO | None = None) -> None:
    """One object: field/value rows as a table or CSV, or `raw` (default the object) as JSON."""
    rows = [{"field": k, "value": v} for k, v in record.items()]
    emit(rows, ["field", "value"], fmt, raw=record if raw is None else raw, out=out)


def result_rows(result: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """A job result as rows: a list of objects, an object of equal-length columns, or else
    field/value pairs."""
    if isinstance(result, list) and result and all(isinstance(r, dict) for r in result):
        cols = list(dict.fromkeys(k for r in result for k in r))
        return result, cols
    if isinstance(result, dict):
        lists = {k: v for k, v in result.items() if isinstance(v, list)}
        lengths = {len(v) for v in lists.values()}
        if lists and len(lengths) == 1 and len(lists) == len(result):
            n = lengths.pop()
            return [{k: v[i] for k, v in lists.items()} for i in range(n)], list(lists)
        return [{"field": k, "value": v} for k, v in result.items()], ["field", "value"]
    return [{"value": result}], ["value"]


__all__ = ["FORMATS", "add_format", "emit", "emit_record", "result_rows"]
