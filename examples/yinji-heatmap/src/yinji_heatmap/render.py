"""heatmap.html: the matrix as a coloured grid in one self-contained page (inline SVG drawn
here with matplotlib, no CDN), next to the standard report files of `yinji.apps.report`.

The SVG is drawn before anything is written, so a report that cannot be drawn leaves the
folder as it was; the page is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import html
import io
import os
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

from yinji.apps.base import Report
from yinji.apps.report import ReportError, render

_lock = threading.Lock()   # matplotlib's rcParams are process-wide


def render_with_heatmap(report: dict[str, Any], directory: Path) -> list[Path]:
    data = report.get("data") or {}
    page = heatmap_page(str(report.get("title") or "Heat map"), data.get("labels"),
                        data.get("matrix"), data.get("min_cohort"))
    files = render(Report.from_json(report), directory)
    path = Path(directory) / "heatmap.html"
    fd, tmp = tempfile.mkstemp(prefix=".heatmap.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(page)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return [*files, path]


def heatmap_page(title: str, labels: Any, matrix: Any, min_cohort: Any) -> str:
    n = len(labels) if isinstance(labels, list) else -1
    if n < 1 or not all(isinstance(s, str) for s in labels) or not isinstance(matrix, list) \
            or len(matrix) != n or any(not isinstance(r, list) or len(r) != n for r in matrix) \
            or any(v is not None and (isinstance(v, bool) or not isinstance(v, int))
                   for r in matrix for v in r):
        raise ReportError("heat map: data.labels must be n names and data.matrix n x n "
                          "whole numbers or empty cells")
    svg = heatmap_svg(labels, matrix)
    note = f"Empty cells: fewer than {int(min_cohort)} clients (suppressed)." \
        if isinstance(min_cohort, int) else ""
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:2em}svg{max-width:100%;height:auto}"
            "</style></head><body>"
            f"<h1>{html.escape(title)}</h1>{svg}<p>{html.escape(note)}</p></body></html>\n")


def heatmap_svg(labels: list[str], matrix: list[list[int | None]]) -> str:
    import matplotlib
    import numpy as np
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    n = len(labels)
    values = np.ma.masked_invalid(np.array([[np.nan if v is None else v for v in r]
                                            for r in matrix], dtype=float))
    rc = {"svg.fonttype": "none", "svg.hashsalt": "yinji-heatmap", "text.parse_math": False,
          "text.usetex": False}
    size = min(4 + 0.45 * n, 24)
    with _lock, matplotlib.rc_context(rc), warnings.catch_warnings():
        # svg.fonttype none: text stays text, the browser's fonts draw Chinese labels
        warnings.filterwarnings("ignore", message=r"Glyph .* missing from font")
        fig = Figure(figsize=(size + 2, size), layout="constrained")
        FigureCanvasSVG(fig)
        ax = fig.add_subplot()
        cmap = matplotlib.colormaps["YlOrRd"].with_extremes(bad="#e8e8e8")
        im = ax.imshow(values, cmap=cmap, vmin=0)
        short = [s[:32] for s in labels]
        ax.set_xticks(range(n), short, rotation=45, ha="right")
        ax.set_yticks(range(n), short)
        if n <= 24:
            top = float(values.max()) if values.count() else 0.0
            for i in range(n):
                for j in range(n):
                    v = matrix[i][j]
                    ax.text(j, i, "" if v is None else str(v), ha="center", va="center",
                            fontsize=8, color="white" if v is not None and v > top * 0.6
                            else "black")
        fig.colorbar(im, ax=ax, label="distinct clients holding both")
        buf = io.StringIO()
        fig.savefig(buf, format="svg", metadata={"Creator": None, "Date": None,
                                                 "Format": None, "Type": None})
    text = buf.getvalue()
    return text[text.index("<svg"):]
