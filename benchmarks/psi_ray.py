"""Bucketed PSI on Ray: 1 -> 2 lanes per party, and a cost model that projects 10^8 x 10^8.

    .venv/bin/python benchmarks/psi_ray.py                  # 2^16 per side, 16 buckets
    .venv/bin/python benchmarks/psi_ray.py --log2 17 --buckets 32 --lanes 1 2
    .venv/bin/python benchmarks/psi_ray.py --log2 18 --buckets 2 --threads   # KKRT16 buckets

Both parties run in this process (their settings channel in memory); every lane is a Ray
actor of one local Ray instance reserving one CPU (`--threads` runs lanes as threads
instead), and each lane pair talks over its own mutual-TLS connection on loopback. The
instance is given as many logical CPUs as lanes of both parties: with two physical cores and
two parties, two lanes per party oversubscribe the machine, so read the CPU column, not wall
time, for per-key cost. CPU is measured only with `--threads` (everything in this process);
a Ray actor's CPU ends with its process, which the run stops. The projection uses the CPU per
key and party measured with `--threads`: on N machines
with C cores per party, wall ~ keys x CPU per key x padding / (N x C), plus the bytes at the
link's rate. The projection cuts 10^8 keys into buckets as a streamed job does
(`stream.auto_buckets`, ~2^17 keys a bucket, so KKRT16 runs in each): it is meaningful when the
measured run's buckets use the same protocol, i.e. hold 2^16 keys or more (`--log2 18
--buckets 2`); smaller buckets run ECDH-PSI, ~10x the CPU a key. Bytes a key, both directions:
114 for KKRT16 (85.2 + 34.6 MB at 2^20 in `benchmarks/psi.py`), 48 for ECDH.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from yinji.net.workers import LocalWorkers, RayWorkers  # noqa: E402
from yinji.psi.bucketed import bucket_cap, bucketed_psi  # noqa: E402
from yinji.psi.stream import auto_buckets  # noqa: E402
from yinji.testing.parties import run_parties  # noqa: E402
from yinji.testing.tls import make_tls_configs  # noqa: E402


def keys(n: int, seed: int) -> tuple[list[bytes], list[bytes]]:
    rng = np.random.default_rng(seed)
    ids = rng.choice(10**17, 2 * n - n // 2, replace=False) + 10**17
    a = [f"{v:018d}".encode() for v in ids[:n]]
    b = [f"{v:018d}".encode() for v in rng.permutation(ids[n // 2:])]
    return a, b


def cpu_seconds() -> float:
    """CPU of this process and its live descendants (Ray's raylet and actor processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    total = own.ru_utime + own.ru_stime
    parent, ticks = {}, {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                f = (d / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(d.name)] = int(f[1])
            ticks[int(d.name)] = int(f[11]) + int(f[12])
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {p for p, pp in parent.items() if pp in frontier} - mine
        mine |= frontier
    return total + sum(ticks[p] for p in mine) / os.sysconf("SC_CLK_TCK")


def run(n: int, buckets: int, lanes: int, workers, tls: dict) -> tuple[float, float]:  # noqa: ANN001
    a, b = keys(n, seed=n + lanes)
    t0, c0 = time.perf_counter(), cpu_seconds()

    def body(party, mine):
        peer = "B" if party.name == "A" else "A"
        return bucketed_psi(party, peer, mine, tls=tls[party.name], buckets=buckets,
                            lanes=lanes, receiver="A", workers=workers, timeout=3600)
    found, _ = run_parties(body, names=["A", "B"], args=[(a,), (b,)], timeout=3600)
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    assert len(found) == n // 2, (len(found), n // 2)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log2", type=int, default=16)
    ap.add_argument("--buckets", type=int, default=16)
    ap.add_argument("--lanes", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--threads", action="store_true", help="lanes as threads, not Ray actors")
    a = ap.parse_args()
    n = 1 << a.log2
    pad = bucket_cap(n, a.buckets) * a.buckets / n
    print(f"n = 2^{a.log2} per side, {a.buckets} buckets (padding x{pad:.3f}), "
          f"{'threads' if a.threads else 'Ray actors'}")
    print("| lanes per party | wall s | CPU s (all processes) | CPU us per key and party |")
    print("|---|---|---|---|")
    per_key = []
    most = 2 * max(a.lanes)   # one Ray instance for all runs, a logical CPU per lane
    workers = LocalWorkers(most) if a.threads else RayWorkers(None, cpus=1, local_cpus=most)
    with tempfile.TemporaryDirectory() as tmp:
        tls = make_tls_configs(["A", "B"], tmp)
        for lanes in a.lanes:
            wall, cpu = run(n, a.buckets, lanes, workers, tls)
            if not a.threads:
                print(f"| {lanes} | {wall:.1f} | (see --threads) | |", flush=True)
                continue
            us = cpu / (2 * n) * 1e6
            per_key.append(us)
            print(f"| {lanes} | {wall:.1f} | {cpu:.1f} | {us:.0f} |", flush=True)
    workers.close()
    if not per_key:
        return
    us = min(per_key) / pad          # CPU per padded key and party
    kkrt = n // a.buckets >= 1 << 16  # the measured buckets ran KKRT16 (else ECDH-PSI)
    big = 10**8
    nb = auto_buckets(big)
    pad_big = bucket_cap(big, nb) * nb / big
    per_key_bytes = 114 if kkrt else 48
    print(f"\nProjection for 10^8 x 10^8 at {us:.1f} us CPU per padded key and party "
          f"({'KKRT16' if kkrt else 'ECDH-PSI'} buckets), padding x{pad_big:.3f} at {nb} "
          f"buckets, {per_key_bytes} bytes per key on the wire at 10 Gb/s:")
    for machines, cores in ((1, 2), (1, 32), (4, 32), (16, 32)):
        cpu = big * pad_big * us * 1e-6
        wire = big * per_key_bytes * 8 / 10e9
        print(f"  {machines:>2} machine(s) x {cores} cores per party: "
              f"~{cpu / (machines * cores) + wire:,.0f} s")

if __name__ == "__main__":
    main()
