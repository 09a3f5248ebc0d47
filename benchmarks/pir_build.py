"""PIR database build at scale: the in-memory build against the streamed one (yinji.pir.build)
on 1 and 2 workers (threads or a local Ray, each worker one CPU), and a per-record cost
model projecting 10^8 records on N machines.

    .venv/bin/python benchmarks/pir_build.py --records 1000000
    .venv/bin/python benchmarks/pir_build.py --records 100000 --modes stream ray --workers 1 2

Each configuration runs in a child process (OPENBLAS/OMP threads = 1, so a worker is one
CPU) building from the same CSV (18-digit ID, two label columns, ~40-byte labels); the child
reports wall time per stage, CPU of the driver and of its descendants (Ray's workers) read
from /proc before Ray stops, the driver's peak RSS (ru_maxrss) and the largest peak RSS
(VmHWM) of any descendant. The machine is shared: the load average before and after each
run is printed, and CPU seconds are the number to trust when it is high.

Cost model (from the 1-worker Ray run): a build costs the driver d seconds per record
(reading, checks, spill and partition I/O, laying blocks out, summing partial hints) and the
workers w seconds per record (OPRF, sealing, hint blocks). The driver prepares the next
piece while the workers compute the current one, so on N machines of C worker CPUs
wall(n) ~ n x max(d, w / (N x C)), and at most n x (d + w / (N x C)). The hint and matrix grow as sqrt(n) per row, the
per-record costs stay flat to first order (checked by running two sizes).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def write_list(path: Path, n: int, seed: int = 7) -> None:
    rng = np.random.default_rng(seed)
    ids = rng.choice(9 * 10**16, n, replace=False) + 10**17
    tags = ["aml", "fraud", "pep", "sanction"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "tag", "since"])
        for start in range(0, n, 100_000):
            w.writerows([f"{v:018d}", tags[(start + i) % 4], f"2024-{(start + i) % 12 + 1:02d}"]
                        for i, v in enumerate(ids[start:start + 100_000].tolist()))


def _tree() -> list[int]:
    parent = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parent[int(d.name)] = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    mine, frontier = [], [os.getpid()]
    while frontier:
        p = frontier.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        mine += kids
        frontier += kids
    return mine


def descendants() -> tuple[float, float]:
    """(CPU seconds, largest VmHWM in MiB) over this process's live descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu, hwm = 0.0, 0.0
    for pid in _tree():
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(f[11]) + int(f[12])) / tick
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return cpu, hwm


def child(mode: str, workers: int, path: Path, chunk: int, block_mb: int) -> dict:
    from yinji.net.workers import LocalWorkers, RayWorkers
    from yinji.pir.build import build_stream
    from yinji.pir.keyword import KeywordDatabase
    from yinji.pir.oprf import OprfServer
    from yinji.pir.records import build_records, label_size_for

    oprf = OprfServer()
    pool = (RayWorkers(None, cpus=1, local_cpus=workers) if mode == "ray"
            else LocalWorkers(workers) if mode == "local" else None)
    base_cpu = descendants()[0]        # Ray's own start-up is not the build's
    own = resource.getrusage(resource.RUSAGE_SELF)
    base_own = own.ru_utime + own.ru_stime
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=path.parent) as data:
        if mode == "memory":     # today's path: read all, KeywordDatabase.build
            from yinji.chunks import iter_rows

            stream = iter_rows(path, ["id", "tag", "since"], chunk)
            rows = ({"id": r[0], "tag": r[1], "since": r[2]} for c in stream.chunks for r in c)
            records = build_records(rows, "id", ["tag", "since"], str(path))
            db = KeywordDatabase(records, label_size=label_size_for(records), oprf=oprf)
            version = db.build(workers=workers)
        else:
            version = build_stream(path, "id", ["tag", "since"], oprf, data, workers=pool,
                                   chunk_rows=chunk, block_bytes=block_mb << 20)
        wall = time.perf_counter() - start
        kids_cpu, kids_hwm = descendants()
        if pool is not None:
            pool.close()
        own = resource.getrusage(resource.RUSAGE_SELF)
        return {"mode": mode, "workers": workers, "records": version.records, "wall_s": wall,
                "driver_cpu_s": own.ru_utime + own.ru_stime - base_own,
                "workers_cpu_s": kids_cpu - base_cpu,
                "driver_peak_mib": own.ru_maxrss / 1024, "worker_peak_mib": kids_hwm,
                "buckets": version.layout.buckets, "slots": version.layout.slots,
                "hint_mib": version.pir.hint.nbytes / 2**20,
                "matrix_mib": version.params.rows * version.params.cols / 2**20,
                **{k: round(v, 2) for k, v in version.timings.items()}}


def run(args: argparse.Namespace) -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="pir-build-bench-", dir=args.tmp) as tmp:
        path = Path(tmp) / "list.csv"
        t = time.perf_counter()
        write_list(path, args.records)
        print(f"list of {args.records:,} records: {path.stat().st_size / 2**20:.0f} MiB "
              f"({time.perf_counter() - t:.0f} s to write)", flush=True)
        env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                   PYTHONPATH=str(ROOT / "src"),  # Ray workers import this checkout
                   MKL_NUM_THREADS="1", RAY_USAGE_STATS_ENABLED="0")
        for mode in args.modes:
            for w in ([1] if mode == "memory" else args.workers):
                before = os.getloadavg()[0]
                out = subprocess.run(
                    [sys.executable, __file__, "--child", mode, str(w), str(path),
                     "--chunk", str(args.chunk), "--block-mb", str(args.block_mb)],
                    env=env, capture_output=True, text=True, check=False)
                if out.returncode:
                    print(f"{mode} x{w} failed:\n{out.stderr[-3000:]}", flush=True)
                    continue
                res = json.loads(out.stdout.strip().splitlines()[-1])
                res["load_before"], res["load_after"] = before, os.getloadavg()[0]
                results.append(res)
                print(json.dumps(res), flush=True)
    report(results, args)


def report(results: list[dict], args: argparse.Namespace) -> None:
    print("\n| build | workers | wall s | driver CPU s | workers CPU s | driver peak RSS MiB | "
          "worker peak RSS MiB | OPRF s | seal s | layout+hint s | load avg |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['mode']} | {r['workers']} | {r['wall_s']:.0f} | {r['driver_cpu_s']:.0f} | "
              f"{r['workers_cpu_s']:.0f} | {r['driver_peak_mib']:.0f} | "
              f"{r['worker_peak_mib']:.0f} | {r.get('oprf_s', 0):.0f} | "
              f"{r.get('seal_partition_s', 0):.0f} | {r.get('layout_hint_s', r.get('hint_s', 0)):.0f}"
              f" | {r['load_before']:.1f}->{r['load_after']:.1f} |")
    base = next((r for r in results if r["mode"] == "ray" and r["workers"] == 1), None)
    if base is None:
        return
    n = base["records"]
    d, w = base["driver_cpu_s"] / n, base["workers_cpu_s"] / n
    print(f"\ncost model (ray, 1 worker, {n:,} records): driver {d * 1e6:.1f} us/record, "
          f"workers {w * 1e6:.1f} us/record of CPU")
    chunk = args.chunk
    print(f"per chunk of {chunk:,} records: driver {d * chunk:.1f} s, workers {w * chunk:.1f} "
          "CPU-s")
    print("projected wall for 10^8 records, driver overlapping the workers "
          "(n x max(driver, workers / (N x C))) and, as an upper bound, not "
          "(n x (driver + workers / (N x C))):")
    for machines, cores in ((1, 1), (1, 2), (1, 16), (4, 16), (16, 16)):
        par = w / (machines * cores)
        print(f"  N={machines:2d} machines x C={cores:2d} worker CPUs: "
              f"{1e8 * max(d, par) / 3600:.2f} h (at most {1e8 * (d + par) / 3600:.2f} h)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--modes", nargs="+", default=["memory", "stream", "ray"],
                    choices=["memory", "stream", "ray"])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--chunk", type=int, default=1 << 18)
    ap.add_argument("--block-mb", type=int, default=32)
    ap.add_argument("--tmp", default=None, help="folder for the list and the databases")
    ap.add_argument("--child", nargs=3, metavar=("MODE", "WORKERS", "CSV"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        mode, w, path = args.child
        mode = "local" if mode == "stream" else mode
        print(json.dumps(child(mode, int(w), Path(path), args.chunk, args.block_mb)))
        return
    run(args)


if __name__ == "__main__":
    main()
