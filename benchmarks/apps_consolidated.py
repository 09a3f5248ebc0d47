"""consolidated-reporting end to end: four companies and the group reporting node as five
parties in one process (in-memory channels, threads sharing the GIL: a deployment runs five
processes on five machines), on the demo's seeded books (yinji.apps.consolidated_demo).

    python benchmarks/apps_consolidated.py --clients 1500,20000

Prints per universe size: book rows (all companies), distinct clients, wall seconds of the
grouping (OPRF chain, sharing, shuffle, opening to the recipient) and of the MPC part (ORs,
Venn, comparisons, opening), the process's CPU seconds, and whether the report equals the
plaintext computation. Data generation is not timed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from yinji.apps import consolidated_reporting as cr  # noqa: E402
from yinji.apps.consolidated_demo import PARAMS, read_book, write_books  # noqa: E402
from yinji.node.runners import RunContext  # noqa: E402
from yinji.testing.parties import run_parties  # noqa: E402

COMPANIES = ["fund", "futures", "offshore", "securities"]


def one(clients: int, seed: int) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="yinji-cr-"))
    data = {c: folder / c for c in COMPANIES}
    write_books(data, clients=clients, seed=seed)
    books = {c: read_book(data[c] / "book.csv") for c in COMPANIES}
    app = cr.APP
    params = app.resolve_params(PARAMS)
    roles = dict.fromkeys(COMPANIES, "book")
    spec = {"id": "bench", "protocol": app.protocol,
            "inputs": {c: {"dataset": "book", "columns": list(books[c])} for c in COMPANIES},
            "params": {**params, "app_version": app.version, "roles": roles,
                       "compute": app.default_compute(roles, "group", params)},
            "recipients": ["group"]}
    marks: dict[str, float] = {}
    t0, c0 = time.perf_counter(), time.process_time()

    def body(party):  # noqa: ANN001
        def progress(_f: float, stage: str) -> None:
            if party.name == spec["params"]["compute"][0]:
                marks[stage] = time.perf_counter() - t0
        return app.run(RunContext(spec, party.name, party, books.get(party.name), progress))
    out = run_parties(body, names=[*COMPANIES, "group"], timeout=3600)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    want = cr.plaintext(books, params)
    return {"rows": sum(len(b["id_no"]) for b in books.values()),
            "distinct": len({x for b in books.values() for x in b["id_no"]}),
            "grouping": marks.get("consolidating in MPC", float("nan")),
            "mpc": wall - marks.get("consolidating in MPC", float("nan")),
            "wall": wall, "cpu": cpu, "ok": out[-1].data["figures"] == want}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", default="1500", help="universe sizes, comma-separated")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    print(f"{'universe':>9} {'rows':>8} {'distinct':>9} {'grouping s':>11} {'MPC s':>7} "
          f"{'wall s':>7} {'CPU s':>7}  plaintext")
    for n in (int(v) for v in args.clients.split(",")):
        r = one(n, args.seed)
        print(f"{n:>9,} {r['rows']:>8,} {r['distinct']:>9,} {r['grouping']:>11.1f} "
              f"{r['mpc']:>7.1f} {r['wall']:>7.1f} {r['cpu']:>7.1f}  "
              f"{'matches' if r['ok'] else 'DIFFERS'}")


if __name__ == "__main__":
    main()
