"""`make demo` for consolidated-reporting: generated books for the four companies (clients
with several product lines, clients at two to four companies, the offshore company in HKD,
USD and CNY, revenue of either sign), the group node as the recipient; the report is checked
figure by figure against the plaintext computation of the same CSVs."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from yinji.apps.base import DemoRun

RECIPIENT = "group"   # the demo network's group node: holds no book
COLUMNS = ("id_no", "product_line", "segment", "region", "holdings", "revenue", "currency")
SCHEMA = {c: "float" if c in ("holdings", "revenue") else "string" for c in COLUMNS}
PARAMS = {"recipient": RECIPIENT, "report_date": "2026-06-30",
          "rates": "HKD=0.9120,USD=7.1050", "min_cohort": 10}


def write_books(data: dict[str, Path], clients: int = 1500, seed: int = 2026) -> None:
    """One book.csv per company (seeded sample data)."""
    from yinji.apps.consolidated_reporting import PRODUCTS, REGIONS, SEGMENTS

    rng = np.random.default_rng(seed)
    ids = [f"{rng.integers(10**16, 10**17)}{rng.integers(0, 10)}" for _ in range(clients)]
    seg = rng.choice(len(SEGMENTS), clients, p=[0.6, 0.25, 0.1, 0.05])
    region = rng.choice(len(REGIONS), clients, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    for company, folder in sorted(data.items()):
        folder.mkdir(parents=True, exist_ok=True)
        offshore = company == "offshore"
        with open(folder / "book.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            for i, x in enumerate(ids):
                if rng.random() > (0.25 if offshore else 0.45):
                    continue
                reg = REGIONS[-1] if offshore and rng.random() < 0.7 else REGIONS[region[i]]
                for p in rng.choice(len(PRODUCTS), int(rng.integers(1, 3)), replace=False):
                    cur = str(rng.choice(["HKD", "USD", "CNY"])) if offshore else "CNY"
                    w.writerow([x, PRODUCTS[p], SEGMENTS[seg[i]], reg,
                                f"{rng.lognormal(11 + seg[i], 1.2):.2f}",
                                f"{rng.normal(2e3, 6e3):.2f}", cur])


def read_book(path: Path) -> dict[str, np.ndarray]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {c: np.array([float(r[c]) for r in rows]) if SCHEMA[c] == "float"
            else np.array([r[c] for r in rows], dtype=object) for c in COLUMNS}


def demo(app: Any, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
    from yinji.apps.consolidated_reporting import plaintext

    if len(data) < 3:
        return None
    write_books(data, seed=seed)
    datasets = {n: [{"id": "book", "kind": "csv", "location": "data/book.csv", "schema": SCHEMA,
                     "policy": [{"columns": list(COLUMNS), "protocols": [app.protocol]}]}]
                for n in data}
    request = {"params": dict(PARAMS), "inputs": {n: {"dataset": "book"} for n in data}}
    proposer = "securities" if "securities" in data else sorted(data)[0]

    def check(reports: dict[str, dict[str, Any] | None]) -> list[str]:
        report = reports.get(RECIPIENT)
        if not report:
            return [f"{RECIPIENT} received no report"]
        books = {n: read_book(f / "book.csv") for n, f in data.items()}
        want = plaintext(books, app.resolve_params(PARAMS))
        got = (report.get("data") or {}).get("figures") or []
        bad = sum(1 for g, w in zip(got, want, strict=False) if g != w)
        others = [n for n, r in reports.items() if n != RECIPIENT and r]
        return ([f"{bad} of {len(want)} figures differ from plaintext"]
                if bad or len(got) != len(want) else []) \
            + ([f"{', '.join(others)} received a report"] if others else [])

    return DemoRun(proposer, datasets, request, check)
