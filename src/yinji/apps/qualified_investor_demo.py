"""Generated holdings for the qualified-investor app's demo (`make demo`) and its check
against the plaintext decision (seeded sample data, not a test oracle of randomness)."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np

from yinji.apps.base import DemoRun

COLUMNS = ("id_no", "currency", "financial_assets", "net_assets", "avg_income",
           "first_account_date")
SCHEMA = {"id_no": "string", "currency": "string", "financial_assets": "float",
          "net_assets": "float", "avg_income": "float", "first_account_date": "string"}


def write_holdings(data: dict[str, Path], clients: int = 400, seed: int = 2026) -> list[str]:
    """One holdings.csv per company (offshore's rows in HKD/USD/CNY); returns the IDs."""
    rng = np.random.default_rng(seed)
    ids = [f"{rng.integers(10**16, 10**17)}{rng.integers(0, 10)}" for _ in range(clients)]
    today = dt.datetime.now(dt.UTC).date()
    for company, folder in data.items():
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "holdings.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            for x in ids:
                if rng.random() > 0.55:
                    continue
                cur = str(rng.choice(["HKD", "USD", "CNY"])) if company == "offshore" \
                    else "CNY"
                first = today - dt.timedelta(days=int(rng.integers(0, 2500)))
                w.writerow([x, cur, f"{rng.lognormal(14.3, 1.1):.2f}",
                            f"{rng.normal(1e6, 1.5e6):.2f}", f"{rng.lognormal(12, 1):.2f}",
                            first.isoformat() if rng.random() < 0.85 else ""])
    return ids


def read_holdings(path: Path) -> dict[str, np.ndarray]:
    """A holdings.csv typed as the node's catalog types it."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {c: np.array([r[c] for r in rows], dtype=object) if SCHEMA[c] == "string"
            else np.array([float(r[c]) for r in rows]) for c in COLUMNS}


def demo(app: Any, data: dict[str, Path], seed: int = 2026) -> DemoRun:
    from yinji.apps.qualified_investor import RULES, plaintext

    ids = write_holdings(data, seed=seed)
    asked = ids[:50]
    params = {"preset": "qualified", "explain": True, "rates": "HKD=0.9120,USD=7.1050"}
    request = {"params": params, "inputs": {n: {"dataset": "holdings"} for n in data},
               "private": {"ids": asked}}
    datasets = {n: [{"id": "holdings", "kind": "csv", "location": "data/holdings.csv",
                     "schema": SCHEMA,
                     "policy": [{"columns": list(COLUMNS), "protocols": [app.protocol]}]}]
                for n in data}

    def check(reports: dict[str, dict[str, Any] | None]) -> list[str]:
        report = reports.get("securities")
        if not report:
            return ["securities received no report"]
        holdings = {n: read_holdings(f / "holdings.csv") for n, f in data.items()}
        want = plaintext(holdings, asked, app.resolve_params(params),
                         dt.datetime.now(dt.UTC).date())
        rows = report["tables"]["clients"]["rows"]
        got = [r[2] for r in rows]
        bad = [i for i, (g, w) in enumerate(zip(got, want, strict=True))
               if g != RULES.get(w, "")]
        others = [n for n, r in reports.items() if n != "securities" and r]
        return ([f"{len(bad)} of {len(asked)} decisions differ from plaintext"] if bad else []) \
            + ([f"{', '.join(others)} received a report"] if others else [])

    return DemoRun("securities", datasets, request, check)
