"""joint-aml end to end at scale: four companies and the AML officer as five parties in one
process (in-memory channels, threads sharing the GIL: a deployment runs five processes on
five machines), on seeded data from yinji.testing.aml_data.

    python benchmarks/apps_aml.py --people 25000 --tx 4        # ~4 x 10^4 records, 10^5 tx
    python benchmarks/apps_aml.py --people 25000,75000 --tx 4

Prints per size: records per company, transactions, identities, seconds per phase (reading
and identity resolution until the officer has sent the group indices; the rules in MPC;
total) and bytes the parties sent. Data generation is not timed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from yinji.testing.aml_data import aml_dataset, run_in_process  # noqa: E402


def one(people: int, tx: float, seed: int) -> dict:
    t0 = time.perf_counter()
    case = aml_dataset(people, seed=seed, tx_per_person=tx)
    gen = time.perf_counter() - t0
    marks: dict[str, float] = {}
    lock = threading.Lock()

    def progress(party: str, fraction: float, step: str) -> None:
        with lock:
            marks.setdefault(step, time.perf_counter())

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        out = run_in_process(case, Path(tmp), progress=progress, timeout=3600)
        total = time.perf_counter() - start
    rules_at = marks.get("rules in MPC", start)
    return {"people": people, "records": {c: len({r["record_id"] for r in rows})
                                          for c, rows in case.tables.items()},
            "transactions": case.transactions, "identities": out["officer"].data["identities"],
            "generate_s": gen, "resolve_s": rules_at - start, "rules_s": start + total - rules_at,
            "total_s": total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--people", default="25000")
    ap.add_argument("--tx", type=float, default=4.0, help="transactions per person (mean)")
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()
    print("| people | records (fund/futures/offshore/securities) | transactions | identities "
          "| resolve s | rules s | total s |")
    print("|---|---|---|---|---|---|---|")
    for n in (int(x) for x in a.people.split(",")):
        r = one(n, a.tx, a.seed)
        recs = "/".join(str(v) for v in r["records"].values())
        print(f"| {n:,} | {recs} | {r['transactions']:,} | {r['identities']:,} "
              f"| {r['resolve_s']:.1f} | {r['rules_s']:.1f} | {r['total_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
