"""A `Report` as an Excel workbook (openpyxl, write-only mode so large tables stay fast).

Sheets: "Summary" (title, generation time, summary lines), then one per table with a bold,
frozen header row, column widths from the content, numbers stored as numbers, and each chart
of the table as a native Excel chart beside it. Sheet names are made valid for Excel (at most
31 characters, none of []:*?/\\, not starting or ending with ', unique ignoring case).
Integers beyond 2^53 and non-finite floats are stored as text: Excel keeps only doubles and
would silently change the digits. Text that starts with "=" is stored as text, never as a
formula. Floats keep 16 significant digits (openpyxl writes "%.16g"; Excel shows 15): the
CSV has the exact values.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from yinji.apps.base import Report

MAX_ROWS = 1_048_575          # Excel's rows per sheet, less the header
EXACT_INT = 2 ** 53
WIDTH_SAMPLE = 1000           # rows looked at for column widths
CHART_HEIGHT_ROWS = 16
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def sheet_name(name: str, taken: set[str]) -> str:
    """A valid Excel sheet name for `name`, not in `taken` (compared ignoring case); adds it."""
    base = _BAD_SHEET_CHARS.sub("_", ILLEGAL_CHARACTERS_RE.sub("", name)).strip().strip("'")
    base = base[:31].strip() or "Table"
    candidate, k = base, 2
    while candidate.lower() in taken:
        suffix = f" ({k})"
        candidate, k = base[:31 - len(suffix)] + suffix, k + 1
    taken.add(candidate.lower())
    return candidate


def xlsx_value(value: Any) -> tuple[Any, bool]:
    """(value to store, stored as text?)."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value), True
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > EXACT_INT:
        return str(value), True
    if isinstance(value, float) and not math.isfinite(value):
        return ("NaN" if value != value else ("inf" if value > 0 else "-inf")), True
    return value, False


def _cell(ws: Any, value: Any, bold: bool = False) -> Any:
    stored, text = xlsx_value(value)
    if not bold and not (text and stored.startswith("=")):
        return stored   # appended as it is: openpyxl stores it as a number / bool / text
    cell = WriteOnlyCell(ws, value=stored)
    if text:
        cell.data_type = "s"   # never a formula, whatever the text starts with
    if bold:
        cell.font = Font(bold=True)
    return cell


def _width(value: Any) -> float:
    text = "" if value is None else str(value)
    # CJK characters are about two Latin characters wide
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text[:200])


def write_xlsx(report: Report, path: Path, generated: datetime) -> None:
    wb = Workbook(write_only=True)
    taken = {"summary", "history"}   # "History" is reserved by Excel
    summary = wb.create_sheet("Summary")
    summary.column_dimensions["A"].width = 100
    summary.append([_cell(summary, report.title, bold=True)])
    summary.append([_cell(summary, f"Generated {generated.isoformat(timespec='seconds')}")])
    summary.append([])
    for line in report.summary:
        summary.append([_cell(summary, line)])
    for name, table in report.tables.items():
        ws = wb.create_sheet(sheet_name(name, taken))
        cols, rows = table["columns"], table["rows"]
        if len(rows) > MAX_ROWS:
            summary.append([_cell(summary, f"Sheet {ws.title!r} holds the first {MAX_ROWS:,} of "
                                           f"{len(rows):,} rows of {name!r}; the CSV has all.")])
            rows = rows[:MAX_ROWS]
        for j, col in enumerate(cols, start=1):
            widest = max([_width(col), *(_width(r[j - 1]) for r in rows[:WIDTH_SAMPLE])])
            ws.column_dimensions[get_column_letter(j)].width = min(max(widest + 2, 8), 60)
        ws.freeze_panes = "A2"
        for k, chart in enumerate(c for c in report.charts if c["table"] == name):
            if rows:
                ws.add_chart(_chart(ws, chart, cols, len(rows)),
                             f"{get_column_letter(len(cols) + 2)}{2 + k * CHART_HEIGHT_ROWS}")
        ws.append([_cell(ws, c, bold=True) for c in cols])
        for row in rows:
            ws.append([_cell(ws, v) for v in row])
    wb.save(path)


def _chart(ws: Any, spec: dict[str, Any], cols: list[str], n: int) -> Any:
    chart = BarChart() if spec["kind"] == "bar" else LineChart()
    chart.title = spec["title"] or None
    chart.x_axis.title = spec["x"]
    chart.height, chart.width = 7.5, 16
    for y in spec["y"]:
        j = cols.index(y) + 1
        chart.add_data(Reference(ws, min_col=j, min_row=1, max_row=n + 1), titles_from_data=True)
    x = cols.index(spec["x"]) + 1
    chart.set_categories(Reference(ws, min_col=x, min_row=2, max_row=n + 1))
    return chart
