"""Model-health reports: the label holder's `yinji.ml.health.report` (a Report JSON object:
ROC/KS, calibration, lift) rendered to CSV, .xlsx and HTML like every app's report.

The node runtime does not import the app layer, so `yinji node run` plugs `render_json` into
the node (`node.models.report_renderer`); training jobs then deliver the report files to the
label holder's results folder. `yinji model report` renders a stored `health.json`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from yinji.apps.base import Report
from yinji.apps.report import render


def render_json(report: dict[str, Any], directory: Path | str) -> list[Path]:
    """Write a Report JSON object's files (CSV per table, report.xlsx, report.html)."""
    return render(Report.from_json(report), directory)
