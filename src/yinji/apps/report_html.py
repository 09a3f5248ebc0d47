"""A `Report` as one self-contained HTML page: inline CSS, tables, charts as inline SVG drawn by
matplotlib on the node. Nothing is fetched: no script, no external URL, and a Content-Security-
Policy that forbids loading anything, so the page is the same offline and cannot call out.

Every cell, title and summary line goes through jinja2's autoescaping; chart text is escaped
by matplotlib's SVG writer. Charts keep their text as SVG text (`svg.fonttype = none`), so the
viewer's browser draws Chinese with its own fonts even when the node has no CJK font; the node
then lays text out with its Latin font's metrics (labels may sit a little off) and the "glyph
missing" warnings are silenced. Large tables show their first `HTML_ROWS` rows (charts their
first `HTML_ROWS` points) with a note; the CSV and .xlsx have every row.
"""

from __future__ import annotations

import io
import math
import re
import threading
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from yinji.apps.base import Report

HTML_ROWS = 1000
MAX_TICKS = 30
_mpl_lock = threading.Lock()   # rcParams are process-wide: one chart at a time
_SVG_START = re.compile(r"<svg\b")
_SVG_IDS = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')

TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy"
      content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, "PingFang SC", "Microsoft YaHei", "Noto Sans CJK SC", sans-serif;
       margin: 2em auto; max-width: 1100px; padding: 0 1em; color: #1d2733; }
h1 { font-size: 1.6em; margin-bottom: .2em; }
.generated { color: #6b7785; font-size: .9em; }
ul.summary li { margin: .2em 0; }
section { margin: 2em 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: .9em; }
th, td { border: 1px solid #d5dbe1; padding: .3em .6em; }
th { background: #eef2f6; position: sticky; top: 0; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.note { color: #6b7785; font-size: .9em; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="generated">Generated {{ generated }}</p>
{% if summary %}<ul class="summary">
{% for line in summary %}<li>{{ line }}</li>
{% endfor %}</ul>{% endif %}
{% for t in tables %}<section>
<h2>{{ t.name }}</h2>
{% for c in t.charts %}<figure data-title="{{ c.title }}">{{ c.svg }}{% if c.note %}
<figcaption class="note">{{ c.note }}</figcaption>{% endif %}</figure>
{% endfor %}<div class="scroll"><table>
<thead><tr>{% for c in t.columns %}<th>{{ c }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in t.rows %}<tr>{% for v, num in row %}<td{% if num %} class="num"{% endif %}>{{ v }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table></div>
{% if not t.total %}<p class="note">No rows.</p>{% endif %}
{% if t.more %}<p class="note">{{ "{:,}".format(t.more) }} more rows in the CSV/xlsx
({{ t.csv }}, report.xlsx).</p>{% endif %}
</section>
{% endfor %}</body>
</html>
"""

_env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
_template = _env.from_string(TEMPLATE)


def html_text(value: Any) -> tuple[str, bool]:
    """(cell as shown, is it a number?). Exact values are in the CSV and .xlsx."""
    if value is None:
        return "", False
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    if isinstance(value, int):
        return f"{value:,}", True
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value), True
        if value == 0 or abs(value) >= 1e-4:
            text = f"{value:,.4f}".rstrip("0").rstrip(".")
            return (text if text not in ("-0", "") else "0"), True
        return f"{value:.3g}", True
    return value, False


def write_html(report: Report, path: Path, generated: datetime, csv_names: dict[str, str]) -> None:
    tables = []
    for name, table in report.tables.items():
        rows = table["rows"]
        tables.append({
            "name": name, "columns": table["columns"], "total": len(rows),
            "rows": [[html_text(v) for v in row] for row in rows[:HTML_ROWS]],
            "more": max(len(rows) - HTML_ROWS, 0), "csv": csv_names[name],
            "charts": [chart_svg(c, table, f"chart{i + 1}-") for i, c in enumerate(report.charts)
                       if c["table"] == name]})
    page = _template.render(title=report.title, summary=report.summary, tables=tables,
                            generated=generated.isoformat(timespec="seconds"))
    path.write_text(page, encoding="utf-8")


def chart_svg(spec: dict[str, Any], table: dict[str, Any], ids: str = "") -> dict[str, Any]:
    """{svg: inline SVG markup, note: text or "", title} for one chart of a table; `ids` prefixes
    the SVG's element ids so several charts on one page do not share them."""
    cols, rows = table["columns"], table["rows"]
    if not rows:
        return {"svg": "", "note": f"{spec['title'] or 'Chart'}: no rows to draw.",
                "title": spec.get("title") or ""}
    shown = rows[:HTML_ROWS]
    note = (f"The chart shows the first {HTML_ROWS:,} of {len(rows):,} rows."
            if len(rows) > HTML_ROWS else "")
    xs = [r[cols.index(spec["x"])] for r in shown]
    series = {y: [math.nan if r[cols.index(y)] is None else float(r[cols.index(y)])
                  for r in shown] for y in spec["y"]}
    svg = _SVG_IDS.sub(lambda m: m.group(1) + ids + m.group(2), _draw(spec, xs, series))
    return {"svg": Markup(svg), "note": note, "title": spec.get("title") or ""}


def _draw(spec: dict[str, Any], xs: list[Any], series: dict[str, list[float]]) -> str:
    import matplotlib
    import numpy as np
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    rc = {"svg.fonttype": "none", "svg.hashsalt": "yinji-report", "text.parse_math": False,
          "text.usetex": False, "axes.spines.top": False, "axes.spines.right": False}
    with _mpl_lock, matplotlib.rc_context(rc), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from font")
        fig = Figure(figsize=(8, 3.8), layout="constrained")
        FigureCanvasSVG(fig)
        ax = fig.add_subplot()
        n = len(xs)
        numeric_x = spec["kind"] == "line" and all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in xs)
        pos = np.asarray(xs, dtype=float) if numeric_x else np.arange(n, dtype=float)
        if spec["kind"] == "bar":
            width = 0.8 / len(series)
            for k, (label, ys) in enumerate(series.items()):
                ax.bar(pos + (k - (len(series) - 1) / 2) * width, ys, width, label=label)
        else:
            for label, ys in series.items():
                ax.plot(pos, ys, marker="o" if n <= 50 else None, label=label)
        if not numeric_x:
            step = max(1, math.ceil(n / MAX_TICKS))
            ticks = pos[::step]
            labels = ["" if x is None else str(x)[:24] for x in xs[::step]]
            tilt = step > 1 or n > 8 or max(map(len, labels), default=0) > 8
            ax.set_xticks(ticks, labels, rotation=30 if tilt else 0,
                          ha="right" if tilt else "center")
        ax.set_xlabel(spec["x"])
        ax.set_title(spec["title"])
        if len(series) > 1 or spec["y"][0] != spec["title"]:
            ax.legend(frameon=False)
        ax.grid(axis="y", alpha=0.3)
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Creator": None, "Date": None,
                                                 "Format": None, "Type": None})
    text = buf.getvalue()
    start = _SVG_START.search(text)   # drop the XML declaration and DOCTYPE: inline SVG
    return text[start.start():] if start else ""
