"""Qualified-investor check at node level: four companies with 10^6 clients each (bar: one
client < 2 s, a batch of 1,000 < 60 s, on this machine).

Layout (stated, not hidden): four real `Node`s in this one process (own metadata store,
catalog and mutual-TLS listeners on 127.0.0.1; `apps_blacklist.network`), each with a
holdings CSV of `--clients` rows registered in its catalog; every company auto-approves
qualified-investor runs; securities (the onboarding desk) proposes through the app layer
(`node.apps.create`, what REST POST /apps/qualified-investor/runs calls) and waits for the
result. The first run of the day builds the epoch's ledger (catalog read, conversion, OPRF
chain, sharing, shuffle); later runs reuse it and the catalog's cached columns. All four nodes
share the machine's 2 cores. Each answer is checked against the plaintext decision.

Run: .venv/bin/python benchmarks/apps_qi_nodes.py [--clients 1000000] [--singles 3]
     [--batch 1000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from apps_blacklist import network, row  # noqa: E402
from yinji.apps import qualified_investor as qi  # noqa: E402
from yinji.apps.qualified_investor_demo import COLUMNS, SCHEMA  # noqa: E402
from yinji.node.catalog import Dataset, PolicyRule  # noqa: E402

FOUR = ["securities", "fund", "futures", "offshore"]


def write_holdings(root: Path, n: int, seed: int) -> list[str]:
    """Each company holds n of 2n client IDs; offshore's rows in HKD/USD/CNY."""
    rng = np.random.default_rng(seed)
    universe = (rng.choice(10**17, 2 * n, replace=False) + 10**17).astype(str)
    today = dt.datetime.now(dt.UTC).date().toordinal()
    for name in FOUR:
        pick = rng.choice(2 * n, n, replace=False)
        cur = rng.choice(["HKD", "USD", "CNY"], n) if name == "offshore" else np.full(n, "CNY")
        fa = np.char.mod("%.2f", rng.lognormal(14.3, 1.1, n))
        na = np.char.mod("%.2f", rng.normal(1e6, 1.5e6, n))
        inc = np.char.mod("%.2f", rng.lognormal(12, 1, n))
        first = [dt.date.fromordinal(int(d)).isoformat()
                 for d in today - rng.integers(0, 2500, n)]
        with open(root / name / "data" / "holdings.csv", "w", newline="",
                  encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(COLUMNS)
            w.writerows(zip(universe[pick], cur, fa, na, inc, first, strict=True))
    return list(universe)


def run(nodes: dict, ids: list[str], params: dict) -> tuple[float, dict]:
    t = time.perf_counter()
    job = nodes["securities"].apps.create("qualified-investor", {
        "params": params, "inputs": {n: {"dataset": "holdings"} for n in FOUR},
        "private": {"ids": ids}}, by="bench")
    store = nodes["securities"].store
    while store.job(job["id"])["state"] in ("proposed", "approved", "running"):
        threading.Event().wait(0.01)
    seconds = time.perf_counter() - t
    got = store.job(job["id"])
    if got["state"] != "succeeded":
        sys.exit(f"run {got['state']}: {got['reason']}")
    return seconds, json.loads(store.result(job["id"])["result_json"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=1_000_000)
    ap.add_argument("--singles", type=int, default=3, help="one-client runs after the build")
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    args = ap.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="yinji-qi-"))
    print(f"qualified-investor: 4 companies x {args.clients:,} clients (in-process nodes, "
          f"TLS on 127.0.0.1, {os.cpu_count()} cores)")
    rule = [{"apps": ["qualified-investor"]}]
    nodes = network(root, FOUR, dict.fromkeys(FOUR, rule), job_timeout=7200)
    params = {"preset": "qualified", "explain": True, "rates": "HKD=0.9120,USD=7.1050"}
    try:
        for node in nodes.values():
            node.start()
        t = time.perf_counter()
        universe = write_holdings(root, args.clients, 7)
        for node in nodes.values():
            node.catalog.register(Dataset(
                id="holdings", kind="csv", location="data/holdings.csv", schema=SCHEMA,
                policy=[PolicyRule(columns=list(COLUMNS), protocols=["app.qualified-investor"],
                                   peers=["*"])]), by="bench")
        row("data written and registered", f"{time.perf_counter() - t:8.1f} s")
        rng = np.random.default_rng(11)
        asks = [[str(x)] for x in rng.choice(universe, args.singles + 1, replace=False)]
        asks.append([str(x) for x in rng.choice(universe, args.batch, replace=False)])
        results = []
        for k, ask in enumerate(asks):
            label = ("first run of the day (builds the ledger), 1 client" if k == 0 else
                     f"{len(ask)} client{'s' if len(ask) > 1 else ''}, ledger reused")
            seconds, report = run(nodes, ask, params)
            results.append((ask, report))
            row(label, f"{seconds:8.2f} s")
        t = time.perf_counter()
        holdings = {n: nodes[n].catalog.load("holdings", list(COLUMNS)) for n in FOUR}
        today = dt.datetime.now(dt.UTC).date()
        resolved = qi.APP.resolve_params(params)
        wrong = 0
        for ask, report in results:
            want = [qi.RULES.get(c, "") for c in qi.plaintext(holdings, ask, resolved, today)]
            wrong += sum(r[2] != w for r, w in zip(report["tables"]["clients"]["rows"], want,
                                                   strict=True))
        row("answers vs the plaintext decision", "all equal" if not wrong else
            f"{wrong} DIFFER")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        row("peak RSS of the one process (four nodes)", f"{rss:8,.0f} MiB")
    finally:
        for node in nodes.values():
            try:
                node.stop()
            except Exception as exc:  # noqa: BLE001 - report, keep stopping the rest
                print(f"stop {node.cfg.name}: {exc}", file=sys.stderr)
        if args.dir is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # see apps_blacklist.py: OpenBLAS exit-handler deadlock after many threads
