"""Reading a company's AML file: the formats Chinese and Hong Kong systems export, and every
problem reported per file (nothing dropped silently)."""

import datetime

import numpy as np

from yinji.apps.aml_table import COLUMNS, money, read_table

START = datetime.date(2026, 3, 1)


def table(rows):
    return {c: np.array([r.get(c, "") for r in rows], dtype=object) for c in COLUMNS}


def test_formats_are_read():
    base = {"record_id": "R1", "name": "陳大文", "dob": "1980年1月2日", "id_no": "",
            "phone": "+852 9123 4567", "declared_income": "¥1,200,000.00"}
    rows = [{**base, "tx_date": "2026-03-01", "amount": "1,000.50", "direction": "转入"},
            {**base, "tx_date": "05/03/2026", "amount": "HKD 200", "direction": "DR"},
            {**base, "tx_date": "2026年3月10日", "amount": "-300", "direction": ""},
            {**base, "tx_date": "20260311", "amount": "400", "direction": "C"},
            {"record_id": "R2", "name": "Chan Tai Man", "dob": "02/01/1980",
             "phone": "91234567", "declared_income": "", "tx_date": "", "amount": "",
             "direction": ""}]
    t = read_table(table(rows), START, 30)
    assert t.ids == ["R1", "R2"]
    assert list(t.quality.issues) == [  # no ID numbers in this file: reported, not an error
        "column id_no is empty in the whole file (one-sided: it cannot agree with another "
        "company's records)"]
    assert t.tx_day.tolist() == [0, 4, 9, 10]
    assert t.tx_amount.tolist() == [100050, 20000, 30000, 40000]
    assert t.tx_in.tolist() == [True, False, False, True]
    assert t.income.tolist() == [120_000_000, 0]
    assert money("12,345.67") == 1234567 and money("abc") is None and money("nan") is None


def test_problems_are_reported_per_row_or_record():
    ok = {"name": "张三", "dob": "1980-01-02", "id_no": "", "phone": "13800001111",
          "declared_income": "100000"}
    rows = [{"record_id": "", **ok},
            {"record_id": "A", **ok, "tx_date": "2026-02-30", "amount": "5", "direction": "in"},
            {"record_id": "A", **ok, "name": "张四", "tx_date": "2026-02-01", "amount": "5",
             "direction": "in"},
            {"record_id": "A", **ok, "tx_date": "2026-03-02", "amount": "x", "direction": "in"},
            {"record_id": "A", **ok, "tx_date": "2026-03-02", "amount": "5", "direction": "?"},
            {"record_id": "A", **ok, "tx_date": "2026-03-02", "amount": "0", "direction": "in"},
            {"record_id": "B", "name": "", "dob": "不详", "declared_income": "lots"},
            {"record_id": "C", "name": "李四", "dob": "1985-02-30"}]
    t = read_table(table(rows), START, 30)
    issues = {k.split(" (")[0]: v for k, v in t.quality.issues.items()}
    assert issues["rows without a record id"] == [1]
    assert issues["transaction date unreadable"] == [2]
    assert issues["rows of one record disagree on name"] == [3]
    assert issues["transaction date outside the period"] == [3]
    assert issues["amount is not a number"] == [4]
    assert issues["direction is not in/out"] == [5]
    assert issues["amount is zero or above 10^9"] == [6]
    assert issues["empty name"] == ["B"]
    assert issues["birth date unreadable"] == ["B"]
    assert issues["birth date impossible"] == ["C"]
    assert issues["declared income unreadable"] == ["B"]
    assert issues["too little evidence to link"] == ["B"]  # C: name + a kept impossible date
    assert any(k.startswith("column id_no is empty") for k in t.quality.issues)
    assert len(t.tx_day) == 0 and t.ids == ["A", "B", "C"]


def test_empty_file():
    t = read_table(table([]), START, 30)
    assert t.ids == [] and t.quality.issues == {} and len(t.tx_day) == 0
