"""`make demo` for customer-view: generated customer files for the four companies (GCNs on
about half the records, Chinese / pinyin / Hong Kong forms, planted consent patterns;
yinji.testing.custview_data), a fresh linkage key in each company's home, the group node as
linkage unit and statistics recipient. Checked: the client who consented everywhere is
profiled with all four companies at each of them, the one who consented nowhere appears in
no profile, and only the group node receives statistics."""

from __future__ import annotations

import csv
import secrets
from pathlib import Path
from typing import Any

from yinji.apps.base import DemoRun
from yinji.crypto.certs import write_private

GROUP = "group"   # the demo network's group node: no data, no key


def demo(app: Any, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
    from yinji.apps.customer_table import COLUMNS
    from yinji.testing.custview_data import COMPANIES, customer_dataset

    if not set(COMPANIES) <= set(data):
        return None
    case = customer_dataset(400, seed=seed % 1000)
    key = secrets.token_bytes(32)
    datasets = {}
    for c in COMPANIES:
        with open(data[c] / "customers_view.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, COLUMNS)
            w.writeheader()
            w.writerows(case.tables[c])
        (data[c].parent / "linkage").mkdir(exist_ok=True)
        write_private(data[c].parent / "linkage" / "customers.key", key)
        datasets[c] = [{"id": "customer_view", "kind": "csv",
                        "location": "data/customers_view.csv",
                        "schema": dict.fromkeys(COLUMNS, "string"),
                        "policy": [{"columns": list(COLUMNS), "protocols": [app.protocol]}]}]
    request = {"params": {"linkage_unit": GROUP, "stats_recipient": GROUP},
               "inputs": {c: {"dataset": "customer_view"} for c in COMPANIES}}

    def check(reports: dict[str, dict[str, Any] | None]) -> list[str]:
        problems = []
        prof = {c: ((reports.get(c) or {}).get("data") or {}).get("profiles", {})
                for c in COMPANIES}
        for c, rid in [k for k, p in case.person_of.items() if p in case.planted["ALL"]]:
            if (prof[c].get(rid) or {}).get("companies") != list(COMPANIES):
                problems.append(f"{c}: the client consenting everywhere lacks a full profile")
        for c, rid in [k for k, p in case.person_of.items() if p in case.planted["NONE"]]:
            if rid in prof[c]:
                problems.append(f"{c}: a client who consented nowhere has a profile")
        if "stats bands" not in ((reports.get(GROUP) or {}).get("tables") or {}):
            problems.append("the group node received no statistics")
        if any("stats bands" in ((reports.get(c) or {}).get("tables") or {}) for c in COMPANIES):
            problems.append("a company received the statistics")
        return problems

    return DemoRun(COMPANIES[-1], datasets, request, check)
