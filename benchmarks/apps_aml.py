"""joint-aml end to end at scale: four companies and the AML officer as five parties in one
process (in-memory channels, threads sharing the GIL: a deployment runs five processes on
five machines), on seeded data from yinji.testing.aml_data.

    python benchmarks/apps_aml.py --people 25000 --tx 4        # ~4 x 10^4 records, 10^5 tx
    python benchmarks/apps_aml.py --people 25000,75000 --tx 4
    python benchmarks/apps_aml.py --people 233000 --tx 4.3  # the bar: 4 x 10^5 records, 10^6 tx

Prints per size: records per company, transactions, identities, wall seconds per phase
(reading and identity resolution until the first compute company starts the rules; the
rules in MPC; total) and the CPU seconds of the whole process (all five parties; on a
shared, loaded machine wall time overstates the cost). Data generation is not timed.
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

    cpu_marks: dict[str, float] = {}

    def progress(party: str, fraction: float, step: str) -> None:
        with lock:
            if step == "rules in MPC" and party == "offshore":  # a compute party
                marks.setdefault(step, time.perf_counter())
                cpu_marks.setdefault(step, time.process_time())

    with tempfile.TemporaryDirectory() as tmp:
        start, cpu0 = time.perf_counter(), time.process_time()
        out = run_in_process(case, Path(tmp), progress=progress, timeout=3600)
        total, cpu = time.perf_counter() - start, time.process_time() - cpu0
    rules_at = marks.get("rules in MPC", start)
    cpu_rules = cpu0 + cpu - cpu_marks.get("rules in MPC", cpu0)
    return {"people": people, "records": {c: len({r["record_id"] for r in rows})
                                          for c, rows in case.tables.items()},
            "transactions": case.transactions, "identities": out["officer"].data["identities"],
            "generate_s": gen, "resolve_s": rules_at - start, "rules_s": start + total - rules_at,
            "total_s": total, "cpu_s": cpu, "cpu_rules_s": cpu_rules}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--people", default="25000")
    ap.add_argument("--tx", type=float, default=4.0, help="transactions per person (mean)")
    ap.add_argument("--seed", type=int, default=2026)
    a = ap.parse_args()
    print("| people | records (fund/futures/offshore/securities) | transactions | identities "
          "| resolve s | rules s | total s | CPU s (all parties) | CPU s in rules |")
    print("|---|---|---|---|---|---|---|---|---|")
    for n in (int(x) for x in a.people.split(",")):
        r = one(n, a.tx, a.seed)
        recs = "/".join(str(v) for v in r["records"].values())
        print(f"| {n:,} | {recs} | {r['transactions']:,} | {r['identities']:,} "
              f"| {r['resolve_s']:.1f} | {r['rules_s']:.1f} | {r['total_s']:.1f} "
              f"| {r['cpu_s']:.1f} | {r['cpu_rules_s']:.1f} |", flush=True)


if __name__ == "__main__":
    main()
