"""`make demo` for joint-aml: generated customer-transaction tables for the four companies
(planted structuring, rapid in-and-out and above-income cases, second accounts, near-empty
records, Chinese and Hong Kong date formats; yinji.testing.aml_data), a fresh linkage key in
each company's home, the group node as AML officer. Checked: every planted person is alerted,
no control person is, and the officer's counts agree with the companies' alerts."""

from __future__ import annotations

import csv
import secrets
from pathlib import Path
from typing import Any

from yinji.apps.base import DemoRun
from yinji.crypto.certs import write_private

OFFICER = "group"   # the demo network's group node (yinji network demo): no data, counts only


def demo(app: Any, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
    from yinji.testing.aml_data import COLUMNS, COMPANIES, START, aml_dataset

    if not set(COMPANIES) <= set(data):
        return None
    case = aml_dataset(400, seed=seed % 1000)
    key = secrets.token_bytes(32)
    datasets = {}
    for c in COMPANIES:
        with open(data[c] / "aml.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, COLUMNS)
            w.writeheader()
            w.writerows(case.tables[c])
        (data[c].parent / "linkage").mkdir(exist_ok=True)
        write_private(data[c].parent / "linkage" / "aml.key", key)
        datasets[c] = [{"id": "aml", "kind": "csv", "location": "data/aml.csv",
                        "schema": dict.fromkeys(COLUMNS, "string"),
                        "policy": [{"columns": list(COLUMNS), "protocols": [app.protocol]}]}]
    request = {"params": {"aml_officer": OFFICER, "period_start": START.isoformat()},
               "inputs": {c: {"dataset": "aml"} for c in COMPANIES}}

    def check(reports: dict[str, dict[str, Any] | None]) -> list[str]:
        alerted = {case.person_of[(c, rid)] for c in COMPANIES
                   for rid in ((reports.get(c) or {}).get("data") or {}).get("alerts", {})}
        planted = {p for r in ("STRUCT", "RAPID", "INCOME") for p in case.planted[r]}
        problems = []
        if not planted <= alerted:
            problems.append(f"{len(planted - alerted)} planted person(s) not alerted")
        if set(case.planted.get("CONTROL", [])) & alerted:
            problems.append("a control person was alerted")
        if not ((reports.get(OFFICER) or {}).get("tables") or {}).get("alert_counts"):
            problems.append("the officer received no counts")
        return problems

    return DemoRun(COMPANIES[-1], datasets, request, check)
