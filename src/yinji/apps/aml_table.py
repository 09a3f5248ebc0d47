"""Reading one company's AML file for `joint-aml`: customer rows and their transactions in one
table (one row per transaction, the customer's fields repeated; a customer without
transactions has one row with the transaction cells empty -- the shape a SQL join of the
customer and transaction tables gives, so nothing is pivoted by hand).

Every problem is counted in a per-file quality report with the rows or record ids it
concerns (never their values: the report stays at the company, but may be shared inside
it): rows without a record id, rows of one record that disagree on an identity field,
empty names, unreadable or impossible birth dates, unreadable declared income, unreadable
or out-of-period transaction dates, bad amounts or directions, identity columns empty in
the whole file (one-sided: they cannot agree with another company's records), and records
with too little evidence to link. Nothing is dropped without being reported; a record with
problems still takes part as its own identity.
"""

from __future__ import annotations

import datetime
import functools
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yinji.linkage import normalise as nz

IDENTITY = ("name", "dob", "id_no", "phone")
COLUMNS = ("record_id", *IDENTITY, "declared_income", "tx_date", "amount", "direction")
INFLOW = {"in", "inflow", "credit", "cr", "c", "deposit", "dep", "receipt", "+", "入", "存入",
          "收入", "转入", "轉入", "入金", "贷", "貸", "存款"}
OUTFLOW = {"out", "outflow", "debit", "dr", "d", "withdrawal", "wd", "payment", "-", "出",
           "取出", "支出", "转出", "轉出", "出金", "借", "取款"}
MAX_FEN = 10**11       # one transaction or a declared income above 10^9 CNY is refused
EXAMPLES = 10
_NUM = re.compile(r"[,\s¥￥$]|CNY|RMB|HKD|HK\$|元")


@dataclass
class Quality:
    """Per-file report: issue -> list of rows (1 = first data row) or record ids."""

    issues: dict[str, list[Any]] = field(default_factory=dict)

    def add(self, issue: str, where: Any) -> None:
        self.issues.setdefault(issue, []).append(where)

    def rows(self) -> list[list[Any]]:
        return [[issue, len(v), ", ".join(map(str, v[:EXAMPLES]))
                 + (" ..." if len(v) > EXAMPLES else "")] for issue, v in self.issues.items()]


@dataclass
class AmlTable:
    ids: list[str]                    # record ids, first-seen order
    records: list[dict[str, str]]     # per record: name, dob, phone, id_number for linkage
    income: np.ndarray                # (n,) declared annual income in fen, 0 = none
    tx_record: np.ndarray             # (m,) record index
    tx_day: np.ndarray                # (m,) day index in the period
    tx_amount: np.ndarray             # (m,) fen, > 0
    tx_in: np.ndarray                 # (m,) bool: inflow
    quality: Quality


@functools.lru_cache(maxsize=1 << 16)
def _date(text: str) -> tuple[tuple[str, str, str] | None, str | None]:
    return nz.parse_date(text)   # files repeat the same dates: parse each once


@functools.lru_cache(maxsize=1 << 12)
def _ordinal(parts: tuple[str, str, str]) -> int:
    return datetime.date(*map(int, parts)).toordinal()


def cell(v: Any) -> str:
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return str(v).strip()


def money(text: str) -> int | None:
    """Fen from '12,345.67', '¥12345', 'HKD 100' (currency is not converted); None if not a
    number."""
    t = _NUM.sub("", nz.nfkc(text))
    try:
        x = float(t)
    except ValueError:
        return None
    if x != x or abs(x) == float("inf"):
        return None
    return int(round(x * 100))


def read_table(cols: dict[str, Any], period_start: datetime.date, days: int,
               min_evidence: int = 2) -> AmlTable:
    """Parse the columns (logical names of COLUMNS -> arrays) into records and transactions,
    with the file's quality report."""
    from yinji.linkage.groups import evidence_fields
    from yinji.linkage.schemas import PERSON

    n_rows = len(cols["record_id"])
    start = period_start.toordinal()
    q = Quality()
    raw = {c: [cell(v) for v in cols[c]] for c in COLUMNS}
    for c in (*IDENTITY, "declared_income"):
        if n_rows and not any(raw[c]):
            q.add(f"column {c} is empty in the whole file (one-sided: "
                  + ("INCOME cannot use this company's figures)" if c == "declared_income"
                     else "it cannot agree with another company's records)"), c)
    index: dict[str, int] = {}
    ident: list[dict[str, str]] = []
    income_txt: list[str] = []
    tx_r, tx_d, tx_a, tx_i = [], [], [], []
    for row in range(n_rows):
        line = row + 1
        rid = raw["record_id"][row]
        if not rid:
            q.add("rows without a record id (not used)", line)
            continue
        k = index.get(rid)
        if k is None:
            k = index[rid] = len(ident)
            ident.append({c: raw[c][row] for c in IDENTITY})
            income_txt.append(raw["declared_income"][row])
        else:
            for c in IDENTITY:
                v = raw[c][row]
                if v and ident[k][c] and v != ident[k][c]:
                    q.add(f"rows of one record disagree on {c} (first value used)", line)
                elif v and not ident[k][c]:
                    ident[k][c] = v
            if raw["declared_income"][row] and not income_txt[k]:
                income_txt[k] = raw["declared_income"][row]
        date, amount, direction = (raw["tx_date"][row], raw["amount"][row],
                                   raw["direction"][row])
        if not (date or amount or direction):
            continue  # a customer row without a transaction
        parts, problem = _date(date)
        if parts is None or problem:
            q.add("transaction date unreadable (transaction not counted)", line)
            continue
        day = _ordinal(parts) - start
        if not 0 <= day < days:
            q.add("transaction date outside the period (not counted)", line)
            continue
        fen = money(amount)
        if fen is None:
            q.add("amount is not a number (transaction not counted)", line)
            continue
        d = nz.nfkc(direction).strip().lower()
        if d in INFLOW:
            inflow = True
        elif d in OUTFLOW:
            inflow = False
        elif not d and fen != 0:
            inflow = fen > 0  # no direction column value: the sign says it
        else:
            q.add("direction is not in/out (transaction not counted)", line)
            continue
        fen = abs(fen)
        if fen == 0 or fen > MAX_FEN:
            q.add("amount is zero or above 10^9 (transaction not counted)", line)
            continue
        tx_r.append(k)
        tx_d.append(day)
        tx_a.append(fen)
        tx_i.append(inflow)
    ids = list(index)
    records, income = [], np.zeros(len(ids), np.int64)
    for k, rid in enumerate(ids):
        r = ident[k]
        rec = {"name": r["name"], "dob": r["dob"], "phone": r["phone"], "id_number": r["id_no"]}
        records.append(rec)
        if not r["name"]:
            q.add("empty name", rid)
        if r["dob"]:
            problem = _date(r["dob"])[1]
            if problem:
                q.add(f"birth date {problem} ({'left out of linkage' if problem == 'unreadable' else 'kept as written'})", rid)
        if income_txt[k]:
            fen = money(income_txt[k])
            if fen is None or fen < 0 or fen > MAX_FEN:
                q.add("declared income unreadable (treated as not declared)", rid)
            else:
                income[k] = fen
        if evidence_fields(PERSON, rec) < min_evidence and not nz.id_number(r["id_no"]):
            q.add("too little evidence to link (fewer than two identifying fields and no ID "
                  "number): kept as its own identity", rid)
    return AmlTable(ids, records, income, np.asarray(tx_r, np.int64), np.asarray(tx_d, np.int64),
                    np.asarray(tx_a, np.int64), np.asarray(tx_i, bool), q)


class ActivityByGroup:
    """A company's per-identity, per-day activity (yinji.linkage.aml_rules.Activity), built
    for rows lo..hi of the G identities at a time: transactions sorted by identity once."""

    def __init__(self, t: AmlTable, groups: np.ndarray, count: int, days: int,
                 threshold: int) -> None:
        g = groups[t.tx_record] if len(t.tx_record) else np.zeros(0, np.int64)
        order = np.argsort(g, kind="stable")
        self.g, self.day = g[order], t.tx_day[order]
        self.amount, self.inflow = t.tx_amount[order], t.tx_in[order]
        self.income = np.zeros(count, np.int64)
        np.maximum.at(self.income, groups, t.income)
        self.member = np.zeros(count, np.int64)
        self.member[groups] = 1
        self.count, self.days, self.threshold = count, days, threshold

    def rows(self, lo: int, hi: int):  # noqa: ANN201 - aml_rules.Activity
        from yinji.linkage.aml_rules import Activity

        a, b = np.searchsorted(self.g, [lo, hi])
        g, day = self.g[a:b] - lo, self.day[a:b]
        amount, inflow = self.amount[a:b], self.inflow[a:b]
        shape = (hi - lo, self.days)
        inn, out, small = np.zeros(shape, np.int64), np.zeros(shape, np.int64), \
            np.zeros(shape, np.int64)
        np.add.at(inn, (g[inflow], day[inflow]), amount[inflow])
        np.add.at(out, (g[~inflow], day[~inflow]), amount[~inflow])
        sm = inflow & (amount < self.threshold)
        np.add.at(small, (g[sm], day[sm]), amount[sm])
        return Activity(small, inn, out, self.income[lo:hi], self.member[lo:hi])
