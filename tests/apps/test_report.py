"""Report rendering: CSV, .xlsx and self-contained HTML against the report's own data."""

import csv
import io
import re
import warnings
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser

import numpy as np
import pytest
from openpyxl import load_workbook

from yinji.apps.base import Report
from yinji.apps.report import ReportError, csv_names, csv_text, render
from yinji.apps.report_html import HTML_ROWS
from yinji.apps.report_xlsx import sheet_name

WHEN = datetime(2026, 12, 6, 8, 30, tzinfo=UTC)
SCRIPT = "<script>alert('x')</script>"


def sample() -> Report:
    rng = np.random.default_rng(7)
    r = Report(f"集团并表 {SCRIPT} & co", ["客户总数 12,345", f"注意 {SCRIPT}", "cost $5 and $6"])
    r.table("按板块汇总", ["板块", "资产 (CNY)", "客户数", "有效"], [
        ["零售", 1234567.89, 10, True],
        [f"富裕 {SCRIPT}", -5.5, None, False],
        ["私人, \"quoted\"\nline", 0.0, 2 ** 60, None],
        ["=HYPERLINK(\"http://evil.example\",\"x\")", 1e-9, -3, True],
        ["-5", 2.5, 0, False],
    ])
    r.table("empty", ["a", "b"], [])
    r.table("daily", ["day", "value", "other"],
            [[i, float(rng.normal()), int(rng.integers(-10**6, 10**6))] for i in range(5000)])
    r.charts = [
        {"kind": "bar", "title": "资产 by 板块 <b>", "table": "按板块汇总", "x": "板块",
         "y": ["资产 (CNY)", "客户数"]},
        {"kind": "line", "title": "daily", "table": "daily", "x": "day", "y": ["value"]},
        {"kind": "bar", "title": "nothing", "table": "empty", "x": "a", "y": ["b"]},
    ]
    return r


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("r") / "report"
    report = sample()
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no font (or other) warnings leak out
        paths = render(report, out, generated=WHEN)
    return report, out, paths


def read_csv(path):
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")   # BOM: Excel reads the Chinese right
    return list(csv.reader(io.StringIO(raw[3:].decode("utf-8"), newline="")))


def test_files(rendered):
    report, out, paths = rendered
    names = csv_names(report)
    assert names == {"按板块汇总": "table1.csv", "empty": "empty.csv", "daily": "daily.csv"}
    assert sorted(p.name for p in paths) == sorted([*names.values(), "report.xlsx",
                                                    "report.html"])
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]   # no temp left


def test_csv_round_trip(rendered):
    report, out, _ = rendered
    for name, file in csv_names(report).items():
        table = report.tables[name]
        rows = read_csv(out / file)
        assert rows[0] == table["columns"]
        assert rows[1:] == [[csv_text(v) for v in r] for r in table["rows"]]
    rows = read_csv(out / "table1.csv")
    assert rows[3] == ["私人, \"quoted\"\nline", "0.0", str(2 ** 60), ""]
    assert rows[4][0].startswith("'=HYPERLINK")   # formula defused for spreadsheets
    assert rows[5][0] == "-5"                     # a number-looking text is left alone
    daily = read_csv(out / "daily.csv")[1:]
    assert [float(r[1]) for r in daily] == [r[1] for r in report.tables["daily"]["rows"]]
    assert b"\r\n" in (out / "daily.csv").read_bytes()


def test_xlsx_values_types_and_charts(rendered):
    report, out, _ = rendered
    wb = load_workbook(out / "report.xlsx")
    assert wb.sheetnames == ["Summary", "按板块汇总", "empty", "daily"]
    summary = [c.value for c in wb["Summary"]["A"] if c.value is not None]
    assert summary[0] == report.title and summary[1] == "Generated 2026-12-06T08:30:00+00:00"
    assert summary[2:] == report.summary
    ws = wb["按板块汇总"]
    assert ws.freeze_panes == "A2" and ws["A1"].font.b
    got = [[c.value for c in row] for row in ws.iter_rows()]
    assert got[0] == report.tables["按板块汇总"]["columns"]
    want = [[str(v) if isinstance(v, int) and v > 2 ** 53 else v for v in r]
            for r in report.tables["按板块汇总"]["rows"]]
    assert got[1:] == want
    assert ws["B2"].data_type == "n" and isinstance(ws["C2"].value, int)
    assert ws["D2"].data_type == "b"
    assert ws["A5"].data_type == "s"   # text starting with "=" is never a formula
    assert ws.column_dimensions["A"].width > ws.column_dimensions["D"].width
    charts = ws._charts
    assert len(charts) == 1 and type(charts[0]).__name__ == "BarChart"
    assert len(charts[0].series) == 2
    daily = wb["daily"]
    assert daily.max_row == 5001
    # openpyxl writes floats with 16 significant digits ("%.16g"; Excel shows 15)
    assert [r[1].value for r in daily.iter_rows(min_row=2)] == \
        pytest.approx([r[1] for r in report.tables["daily"]["rows"]], rel=1e-15, abs=0)
    assert [r[2].value for r in daily.iter_rows(min_row=2)] == \
        [r[2] for r in report.tables["daily"]["rows"]]
    assert [type(c).__name__ for c in daily._charts] == ["LineChart"]
    assert wb["empty"].max_row == 1 and not wb["empty"]._charts


class Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs, self.tags, self.cells = [], [], []
        self._in_td = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_td = tag == "td"
        for k, v in attrs:
            if k in ("src", "href", "xlink:href", "action", "data", "poster") or \
                    (v and "url(" in v):
                self.refs.append((tag, k, v))

    def handle_data(self, data):
        if self._in_td:
            self.cells.append(data)

    def handle_endtag(self, tag):
        self._in_td = False if tag == "td" else self._in_td


def test_html_self_contained_and_escaped(rendered):
    report, out, _ = rendered
    html = (out / "report.html").read_text(encoding="utf-8")
    p = Refs()
    p.feed(html)
    assert p.refs, "the charts' internal references were not seen"
    for tag, attr, value in p.refs:   # only references inside the page itself
        assert "http" not in value and "//" not in value, (tag, attr, value)
        assert value.startswith("#") or value.startswith("url(#"), (tag, attr, value)
    assert "<script" not in html.lower() and "<link" not in html.lower()
    assert "@import" not in html and "<img" not in html
    assert "default-src 'none'" in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert html.count("<svg") == 2 and "nothing: no rows to draw." in html
    svgs = re.findall(r"<svg\b.*?</svg>", html, flags=re.S)
    texts = [t.text for svg in svgs
             for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]
    assert "资产 by 板块 <b>" in texts and "零售" in texts   # CJK kept as text, escaped in XML
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))   # two charts on one page share no element id
    assert "集团并表" in html and "富裕" in html and "cost $5 and $6" in html
    assert f"{5000 - HTML_ROWS:,} more rows in the CSV/xlsx\n(daily.csv, report.xlsx)" in html
    assert f"The chart shows the first {HTML_ROWS:,} of 5,000 rows." in html
    assert "1,234,567.89" in p.cells and "1,152,921,504,606,846,976" in p.cells
    assert p.tags.count("tr") == 1 + 5 + 1 + 1 + HTML_ROWS   # header rows + shown rows


@pytest.mark.parametrize("chart,message", [
    ({"kind": "pie", "title": "t", "table": "t", "x": "a", "y": ["b"]}, "kind must be"),
    ({"kind": "bar", "title": "t", "table": "nope", "x": "a", "y": ["b"]}, "no table 'nope'"),
    ({"kind": "bar", "title": "t", "table": ["t"], "x": "a", "y": ["b"]}, "no table \\['t'\\]"),
    ("bar", "must be an object"),
    ({"kind": "bar", "title": "t", "table": "t", "x": "zz", "y": ["b"]}, "no column 'zz'"),
    ({"kind": "line", "title": "t", "table": "t", "x": "a", "y": ["b", "yy"]},
     "no column 'yy'"),
    ({"kind": "bar", "title": "t", "table": "t", "x": "b", "y": ["a"]}, "must hold numbers"),
    ({"kind": "bar", "title": "t", "table": "t", "x": "a", "y": []}, "y must name"),
])
def test_bad_chart_spec_writes_nothing(tmp_path, chart, message):
    r = Report("t")
    r.table("t", ["a", "b"], [["x", 1]])
    r.charts = [chart]
    with pytest.raises(ReportError, match=message):
        render(r, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_keeps_the_old_report(tmp_path, monkeypatch):
    out = tmp_path / "out"
    render(sample(), out, generated=WHEN)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("yinji.apps.report_html.write_html", broken)
    r = Report("new")
    r.table("other", ["a"], [[1]])
    with pytest.raises(OSError, match="disk full"):
        render(r, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    monkeypatch.undo()
    render(r, out)   # a good render replaces the old report whole
    assert sorted(p.name for p in out.iterdir()) == ["other.csv", "report.html", "report.xlsx"]


@pytest.mark.parametrize("table,message", [
    ({"columns": ["a", "b"], "rows": [[1]]}, "row 1: expected 2 cells"),
    ({"columns": ["a"], "rows": [[object()]]}, "row 1 column 'a'"),
    ({"columns": "a", "rows": []}, "columns must be a list"),
])
def test_bad_tables_named(tmp_path, table, message):
    r = Report("t", tables={"t": table})
    with pytest.raises(ReportError, match=message):
        render(r, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_sheet_and_file_names():
    taken = {"summary", "history"}
    assert sheet_name("a[b]:c*d?e/f\\g", taken) == "a_b__c_d_e_f_g"
    long = "很长的表名" * 10
    assert sheet_name(long, taken) == long[:31]
    assert sheet_name(long, taken) == long[:27] + " (2)"
    assert sheet_name("Summary", taken) == "Summary (2)"
    assert sheet_name("'quoted'", taken) == "quoted"
    assert sheet_name("", taken) == "Table"
    assert all(len(n) <= 31 for n in taken)
    r = Report("t", tables={"A b": {"columns": [], "rows": []},
                            "a_b": {"columns": [], "rows": []},
                            "中文": {"columns": [], "rows": []},
                            "../../etc": {"columns": [], "rows": []}})
    assert csv_names(r) == {"A b": "A_b.csv", "a_b": "a_b-2.csv", "中文": "table3.csv",
                            "../../etc": "etc.csv"}


def test_numpy_cells_and_one_row(tmp_path):
    r = Report("one")
    r.table("t", ["k", "v"], [[np.str_("a"), np.int64(3)]])
    r.charts = [{"kind": "line", "title": "", "table": "t", "x": "k", "y": "v"}]
    render(r, tmp_path / "o", generated=WHEN)
    assert read_csv(tmp_path / "o" / "t.csv") == [["k", "v"], ["a", "3"]]
    assert load_workbook(tmp_path / "o" / "report.xlsx")["t"]["B2"].value == 3


def test_report_without_tables(tmp_path):
    paths = render(Report("只有标题", ["one line"]), tmp_path / "o", generated=WHEN)
    assert [p.name for p in paths] == ["report.xlsx", "report.html"]
    assert load_workbook(paths[0]).sheetnames == ["Summary"]
    html = paths[1].read_text(encoding="utf-8")
    assert "只有标题" in html and "<table" not in html


def test_duplicate_rows_and_columns_kept(tmp_path):
    r = Report("dup")
    r.table("t", ["a", "a"], [["x", "x"], ["x", "x"]])
    render(r, tmp_path / "o", generated=WHEN)
    assert read_csv(tmp_path / "o" / "t.csv") == [["a", "a"], ["x", "x"], ["x", "x"]]
    ws = load_workbook(tmp_path / "o" / "report.xlsx")["t"]
    assert [[c.value for c in row] for row in ws.iter_rows()] == [["a", "a"], ["x", "x"],
                                                                  ["x", "x"]]
