"""Reading one company's customer file for `customer-view`: one row per customer record.

Columns (logical names): record_id, gcn (group customer number, may be empty), name, dob,
id_no, phone, consent, rm (relationship manager), products (a ;-separated list of product
categories), assets, currency. A bad cell refuses the whole file with an error naming the
row (1 = first data row) and the column -- never a name, ID number or phone -- so nothing
is sent from a file that cannot be used as it is.

Accepted values:
- consent: yes / y / true / 1 / 是 / 同意 (consented) and no / n / false / 0 / 否 / 不同意
  (not consented), any case, full-width forms folded; anything else, empty included, is
  refused (consent must be explicit);
- products: categories from the run's `categories` parameter, separated by ; or ；, any
  case; empty = none;
- assets: a non-negative amount ('1,234.50', '¥1234'), empty = 0, at most 10^13;
- currency: CNY (also RMB or empty) or a currency of the run's `fx_rates`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from yinji.apps.aml_table import cell, money
from yinji.apps.base import AppError
from yinji.linkage import normalise as nz

COLUMNS = ("record_id", "gcn", "name", "dob", "id_no", "phone", "consent", "rm", "products",
           "assets", "currency")
OPTIONAL = ("gcn", "id_no", "phone", "currency")
YES = frozenset({"yes", "y", "true", "1", "是", "同意"})
NO = frozenset({"no", "n", "false", "0", "否", "不同意"})
MAX_FEN = 10**15   # 10^13 CNY


@dataclass
class CustomerTable:
    ids: list[str]                   # record ids in file order
    records: list[dict[str, str]]    # name, dob, phone, id_number (for linkage)
    gcn: list[str]                   # normalised group customer number, "" = none
    consent: np.ndarray              # (n,) bool
    rm: list[str]
    products: np.ndarray             # (n, J) bool, J = len(categories)
    assets: np.ndarray               # (n,) int64, CNY fen after conversion


def _norm(text: str) -> str:
    return nz.nfkc(text).strip()


def read_customers(cols: dict[str, Any], categories: Sequence[str],
                   fx_rates: dict[str, float]) -> CustomerTable:
    """Parse and check a company's columns (logical name -> array; optional columns may be
    absent). Raises AppError naming the first bad row and column."""
    n = len(cols["record_id"])
    raw = {c: [cell(v) for v in cols[c]] if c in cols else [""] * n for c in COLUMNS}
    cat_index = {c.lower(): j for j, c in enumerate(categories)}
    rates = {"CNY": 1.0, "RMB": 1.0, **{k.upper(): float(v) for k, v in fx_rates.items()}}
    seen: dict[str, int] = {}
    consent = np.zeros(n, bool)
    products = np.zeros((n, len(categories)), bool)
    assets = np.zeros(n, np.int64)
    records, gcn, rm = [], [], []
    for row in range(n):
        line = row + 1
        where = f"customer file row {line}"
        rid = raw["record_id"][row]
        if not rid:
            raise AppError(f"{where}: empty record_id")
        if rid in seen:
            raise AppError(f"{where}: record_id repeats row {seen[rid]} (one row per record)")
        seen[rid] = line
        c = _norm(raw["consent"][row]).lower()
        if c not in YES and c not in NO:
            raise AppError(f"{where}: consent {raw['consent'][row]!r} is not yes/no (accepted: "
                           f"{', '.join(sorted(YES))} / {', '.join(sorted(NO))})")
        consent[row] = c in YES
        for item in _norm(raw["products"][row]).split(";"):
            item = item.strip().lower()
            if not item:
                continue
            if item not in cat_index:
                raise AppError(f"{where}: product category {item!r} is not one of the run's "
                               f"categories ({', '.join(categories)})")
            products[row, cat_index[item]] = True
        cur = _norm(raw["currency"][row]).upper() or "CNY"
        if cur not in rates:
            raise AppError(f"{where}: currency {cur!r} has no approved rate (fx_rates: "
                           f"{', '.join(sorted(rates))})")
        text = raw["assets"][row]
        fen = money(text) if text else 0
        if fen is None or fen < 0:
            raise AppError(f"{where}: assets must be a non-negative amount")
        fen = int(round(fen * rates[cur]))
        if fen > MAX_FEN:
            raise AppError(f"{where}: assets above 10^13 CNY")
        assets[row] = fen
        records.append({"name": raw["name"][row], "dob": raw["dob"][row],
                        "phone": raw["phone"][row], "id_number": raw["id_no"][row]})
        gcn.append(_norm(raw["gcn"][row]).upper())
        rm.append(raw["rm"][row] or "(no relationship manager)")
    return CustomerTable(list(seen), records, gcn, consent, rm, products, assets)
