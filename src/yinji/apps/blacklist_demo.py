"""`make demo` for blacklist-screening: three members publish generated watch lists (IDs as
clerks type them: lower-case x, full-width digits, spaces) as PIR services through REST; the
requester screens its new accounts; the hits are checked against the plaintext join on
normalised IDs."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from yinji.apps.base import DemoRun
from yinji.ids import id_check_char, normalize

TAGS = ("AML", "FRAUD", "SANCTION", "PEP")
SERVICE = "blacklist"


def _id_number(n: int) -> str:
    first = f"110101{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first + id_check_char(first)


def _messy(key: str, k: int) -> str:
    if k % 3 == 0:
        return key.lower()
    if k % 3 == 1:
        return "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in key)
    return f"{key[:6]} {key[6:14]} {key[14:]}"


def demo(app: Any, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
    companies = sorted(data)
    if len(companies) < 2:
        return None
    requester = "securities" if "securities" in companies else companies[0]
    members = [c for c in companies if c != requester]
    rng = np.random.default_rng(seed)
    pool = [_id_number(n) for n in range(5000)]
    lists: dict[str, dict[str, tuple[str, str, str]]] = {}
    datasets: dict[str, list[dict[str, Any]]] = {}
    calls = []
    for k, m in enumerate(members):
        chosen = rng.choice(len(pool), 600, replace=False)
        lists[m] = {pool[i]: (TAGS[(i + k) % 4], f"案件 {i}", f"2026-{1 + i % 12:02d}-01")
                    for i in chosen}
        with open(data[m] / "watch_list.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["id_no", "tag", "reason", "date"])
            for j, (key, row) in enumerate(lists[m].items()):
                w.writerow([_messy(key, j) if j % 5 == 0 else key, *row])
        datasets[m] = [{"id": "watch-list", "kind": "csv", "location": "data/watch_list.csv",
                        "schema": dict.fromkeys(["id_no", "tag", "reason", "date"], "string"),
                        "policy": [{"columns": ["*"], "protocols": ["pir"], "peers": ["*"]}]}]
        calls.append((m, "POST", "/pir/services", {
            "id": SERVICE, "dataset": "watch-list", "key_column": "id_no",
            "label_columns": ["tag", "reason", "date"], "port": "auto", "key_kind": "id",
            "day_budget": 20_000, "rate_limit": "2000/min"}))
    listed = sorted(set().union(*lists.values()))
    picks = [listed[i] for i in rng.choice(len(listed), 40, replace=False)]
    accounts = [_messy(key, j) for j, key in enumerate(picks)] + \
        [_id_number(n) for n in range(6000, 6960)]
    with open(data[requester] / "new_accounts.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["证件号码", "户名"])
        w.writerows([a, f"客户{i}"] for i, a in enumerate(accounts))
    datasets[requester] = [{
        "id": "new-accounts", "kind": "csv", "location": "data/new_accounts.csv",
        "schema": {"证件号码": "string", "户名": "string"},
        "policy": [{"columns": ["*"], "protocols": [app.protocol], "peers": ["*"]}]}]
    request = {"params": {"service": SERVICE},
               "inputs": {requester: {"dataset": "new-accounts",
                                      "columns": {"id_no": "证件号码", "name": "户名"}}}}

    def check(reports: dict[str, dict[str, Any] | None]) -> list[str]:
        report = reports.get(requester) or {}
        table = (report.get("tables") or {}).get("hits") or {"columns": [], "rows": []}
        col = {c: i for i, c in enumerate(table["columns"])}
        got = sorted((r[col["account_id"]], r[col["member"]], r[col["tag"]]) for r in
                     table["rows"]) if table["rows"] else []
        keys = {normalize(a, "id") for a in accounts}
        want = sorted((key, m, lists[m][key][0]) for m in members for key in keys
                      if key in lists[m])
        return [] if got == want else [f"hits differ from the plaintext join "
                                       f"({len(got)} vs {len(want)})"]

    return DemoRun(requester, datasets, request, check, calls)
