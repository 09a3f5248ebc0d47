"""Operator essentials: cost of a /metrics scrape on a busy node, and of archiving and
verifying the audit log (live log plus archive).

    python benchmarks/node_ops.py [--jobs 20000] [--entries 2000]

A node in a temporary folder gets `--jobs` job rows (inserted directly) and `--entries` signed
audit entries; then: /metrics render time (mean of 20), `audit archive` of every entry, and
`audit verify --archive` over live log plus archive.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from yinji.node.audit import NodeEvent
from yinji.node.identity import init_node
from yinji.node.node import Node
from yinji.node.retention import archive, verify_archive
from yinji.node.store import jobs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=20_000)
    ap.add_argument("--entries", type=int, default=2_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        init_node(Path(tmp) / "n", "securities")
        node = Node(Path(tmp) / "n")
        try:
            now = time.time()
            states = ["succeeded", "failed", "proposed", "running"]
            with node.store.write() as conn:
                conn.execute(jobs.insert(), [
                    {"id": f"j{i}", "proposer": "fund", "protocol": "psi.intersect",
                     "spec_json": "{}", "spec_hash": "h", "state": states[i % 4],
                     "created": now, "updated": now, "progress": 0.0, "stage": ""}
                    for i in range(args.jobs)])
            t = time.perf_counter()
            for i in range(args.entries):
                node.audit.append(NodeEvent("started", str(i)))
            append_s = time.perf_counter() - t
            t, n = time.perf_counter(), 20
            for _ in range(n):
                body = node.metrics.render()
            scrape_ms = (time.perf_counter() - t) / n * 1000
            t = time.perf_counter()
            done = archive(node.store, node.audit, -1.0, Path(tmp) / "a.jsonl", by="bench")
            archive_s = time.perf_counter() - t
            t = time.perf_counter()
            report = verify_archive([Path(tmp) / "a.jsonl"], node.store, node.key.public)
            verify_s = time.perf_counter() - t
        finally:
            node.store.close()
    print("| what | value |")
    print("|---|---|")
    print(f"| /metrics render, {args.jobs:,} jobs, {args.entries:,} audit entries | "
          f"{scrape_ms:.1f} ms ({len(body):,} bytes) |")
    print(f"| {args.entries:,} audit appends (signed, for scale) | {append_s:.2f} s |")
    print(f"| audit archive of {done['archived']:,} entries | {archive_s:.2f} s |")
    print(f"| verify live log + archive ({report.entries:,} entries, ok={report.ok}) | "
          f"{verify_s:.2f} s |")


if __name__ == "__main__":
    main()
