"""`make demo` for blacklist-screening: the members publish the generated watch lists of
`write_sample_data` (IDs as clerks type them: lower-case x, full-width digits, spaces) as PIR
services through REST; the requester screens its new accounts; the hits are checked against
the plaintext join on normalised IDs."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

from yinji.apps.base import DemoRun
from yinji.ids import normalize

SERVICE = "blacklist"
LABELS = ["tag", "reason", "date"]


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def demo(app: Any, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
    from yinji.apps.blacklist_screening import write_sample_data

    companies = sorted(data)
    if len(companies) < 2:
        return None
    requester = "securities" if "securities" in companies else companies[0]
    members = [c for c in companies if c != requester]
    files = write_sample_data(data[requester], members, entries=2000, accounts=1000, seed=seed)
    datasets: dict[str, list[dict[str, Any]]] = {}
    calls = []
    for m in members:   # each member's list goes to its own node
        shutil.move(files[m], data[m] / "watch_list.csv")
        datasets[m] = [{"id": "watch-list", "kind": "csv", "location": "data/watch_list.csv",
                        "schema": dict.fromkeys(["id_no", *LABELS], "string"),
                        "policy": [{"columns": ["*"], "protocols": ["pir"], "peers": ["*"]}]}]
        calls.append((m, "POST", "/pir/services", {
            "id": SERVICE, "dataset": "watch-list", "key_column": "id_no",
            "label_columns": LABELS, "port": "auto", "key_kind": "id",
            "day_budget": 20_000, "rate_limit": "2000/min"}))
    datasets[requester] = [{
        "id": "new-accounts", "kind": "csv", "location": f"data/{files['accounts'].name}",
        "schema": {"id_no": "string", "name": "string"},
        "policy": [{"columns": ["*"], "protocols": [app.protocol], "peers": ["*"]}]}]
    request = {"params": {"service": SERVICE},
               "inputs": {requester: {"dataset": "new-accounts"}}}

    def check(reports: dict[str, dict[str, Any] | None]) -> list[str]:
        lists = {m: {normalize(r["id_no"], "id"): r["tag"]
                     for r in _rows(data[m] / "watch_list.csv")} for m in members}
        keys = {normalize(r["id_no"], "id") for r in _rows(files["accounts"])}
        want = sorted((k, m, lists[m][k]) for m in members for k in keys if k in lists[m])
        table = ((reports.get(requester) or {}).get("tables") or {}).get("hits") \
            or {"columns": [], "rows": []}
        col = {c: i for i, c in enumerate(table["columns"])}
        got = sorted((r[col["account_id"]], r[col["member"]], r[col["tag"]])
                     for r in table["rows"])
        return [] if got == want and want else \
            [f"hits differ from the plaintext join ({len(got)} vs {len(want)})"]

    return DemoRun(requester, datasets, request, check, calls)
