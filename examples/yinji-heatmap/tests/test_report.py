"""The recipient's report and its files: the matrix as CSV/.xlsx, the standard HTML page, and
heatmap.html with cell text escaped."""

import csv

import numpy as np
import pytest
from openpyxl import load_workbook
from yinji.apps.report import ReportError

from yinji_heatmap.app import APP, heatmap_report


def cells():
    return np.array([[12, None, 7], [None, 5, None], [7, None, 30]], dtype=object)


def test_report_tables_chart_and_data():
    axis = ["fund: bond", "securities: margin", "offshore: HK"]
    report = heatmap_report(axis, cells(), min_cohort=5)
    assert report.tables["heatmap"]["rows"][0] == ["fund: bond", 12, None, 7]
    assert report.tables["pairs"]["rows"][0] == ["fund: bond x offshore: HK", "fund: bond",
                                                 "offshore: HK", 7]
    assert [r[3] for r in report.tables["pairs"]["rows"]] == [7, None, None]
    assert report.charts[0]["table"] == "top_pairs"
    assert report.data["matrix"] == [[12, None, 7], [None, 5, None], [7, None, 30]]
    assert "4 of 9 cells below 5" in report.summary[1]


def test_render_writes_matrix_csv_xlsx_and_an_escaped_heatmap_page(tmp_path):
    axis = ["fund: <script>alert(1)</script>", "=cmd|' /C calc'!A0", "offshore: 港股"]
    report = heatmap_report(axis, cells(), min_cohort=5).to_json()
    files = APP.render(report, tmp_path / "out")
    names = {p.name for p in files}
    assert {"heatmap.csv", "pairs.csv", "report.xlsx", "report.html", "heatmap.html"} <= names
    rows = list(csv.reader((tmp_path / "out" / "heatmap.csv").open(encoding="utf-8-sig")))
    assert rows[1][1:] == ["12", "", "7"] and rows[2][0] == "'=cmd|' /C calc'!A0"
    sheet = load_workbook(tmp_path / "out" / "report.xlsx")["heatmap"]
    assert sheet.cell(2, 2).value == 12 and sheet.cell(4, 4).value == 30
    page = (tmp_path / "out" / "heatmap.html").read_text(encoding="utf-8")
    assert "<svg" in page and "<script>" not in page and "港股" in page


def test_a_malformed_matrix_is_refused_and_nothing_is_written(tmp_path):
    report = heatmap_report(["a", "b"], np.array([[1, 2], [2, 1]], dtype=object), 1).to_json()
    report["data"]["matrix"] = [[1, 2]]
    with pytest.raises(ReportError, match="heat map"):
        APP.render(report, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_parameters_and_run_shape_are_checked():
    from yinji.apps.base import AppError

    assert APP.resolve_params({}) == {"min_cohort": 5}
    with pytest.raises(AppError, match="min_cohort.*at least 1"):
        APP.resolve_params({"min_cohort": 0})
    spec = {"params": {"app_version": "1", "min_cohort": 5, "compute": ["a", "b", "c"],
                       "roles": {"a": "holdings", "b": "holdings", "c": "holdings"}},
            "inputs": {c: {"columns": ["id", "line"]} for c in "abc"}, "recipients": ["a"]}
    assert APP.validate(spec) == []
    assert "exactly one recipient" in " ".join(APP.validate({**spec, "recipients": ["a", "b"]}))
    two = {**spec, "inputs": {c: {"columns": ["id", "line"]} for c in "ab"},
           "params": {**spec["params"], "roles": {"a": "holdings", "b": "holdings"}}}
    assert "at least three companies" in " ".join(APP.validate(two))
