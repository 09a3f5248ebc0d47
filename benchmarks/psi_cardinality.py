"""PSI cardinality end to end, before and after streaming (issue #18 item 3): two CSV files of n
18-digit keys per side (50% overlap), each party in its own process over mutual-TLS loopback,
A receives the count.

    .venv/bin/python benchmarks/psi_cardinality.py --n 1000000 --mode after
    .venv/bin/python benchmarks/psi_cardinality.py --n 1000000 --mode before
    .venv/bin/python benchmarks/psi_cardinality.py --n 10000000 --mode after --standin

before: the code this replaced -- the whole file read (`textfile.read_table`), the whole key
column prepared (`prepare_keys`), `ecdh.exchange(..., sort_returned=True)` keeping every tag in
memory and `member` on both sets (what `psi_cardinality` and `yinji psi --cardinality` ran).
after: `yinji.psi.cardinality.psi_cardinality_stream` (chunks, spill files, blocks, partitions).

--standin replaces the ristretto255 operations, in the benchmark's party processes only, by a
commutative stand-in (multiplication by an odd 64-bit scalar mod 2^64 on a hash: NOT secure)
so that 10^7 keys a side run in minutes: memory, disk and the non-group work are measured as
they are; the group operations' time is projected from the real run's CPU per key.

Per party: wall seconds of each stage (with resident and peak MB then), CPU seconds (user +
system; a loaded machine inflates wall time far more) and peak RSS (VmHWM).

Measured 2026-12-07 (load 11-15 on 2 cores; docs/psi.md, "Large jobs in bounded memory"):
10^6 a side before 526 / 527 MB, 129.6 / 127.5 CPU s, 693 s wall; after 111 / 101 MB,
138.6 / 137.8 CPU s, 371 s. 10^7 a side with --standin: before 4,154 / 4,189 MB, 87 / 63 CPU
s, 442 s; after 101 / 102 MB, 88 / 84 CPU s, 377 s. Real 10^7 a side, after (quiet machine):
101 / 101 MB, 1,284 / 1,278 CPU s, 1,303 s wall.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from psi_stream import write_inputs  # noqa: E402


def install_standin() -> None:
    """Commutative, vectorised, insecure stand-in for hash-to-group and scalar multiplication:
    H(x) = the first 8 bytes of SHA-256(x) as uint64, s·P = P * (s | 1) mod 2^64, as 32 bytes
    (the uint64 big-endian, then zeros): a·b·H(x) == b·a·H(x), so matching works."""
    from yinji.crypto import group

    def scal(s: bytes) -> np.uint64:
        return np.uint64(int.from_bytes(s[:8], "little") | 1)

    def pack(v: np.ndarray) -> np.ndarray:
        out = np.zeros((len(v), 32), np.uint8)
        out[:, :8] = v.astype(">u8").view(np.uint8).reshape(-1, 8)
        return out

    def hash_and_mult(scalar, items, domain, workers=None, pool=None):  # noqa: ANN001, ANN202
        h = np.fromiter((int.from_bytes(hashlib.sha256(domain + k).digest()[:8], "big")
                         for k in items), dtype=np.uint64, count=len(items))
        return pack(h * scal(scalar))

    def mult(scalar, points, workers=None, pool=None):  # noqa: ANN001, ANN202
        v = np.ascontiguousarray(points[:, :8]).view(">u8").ravel().astype(np.uint64)
        return pack(v * scal(scalar))

    group.hash_and_mult_points = hash_and_mult
    group.mult_points = mult


def party(p, path: str, mode: str, chunk: int, standin: bool) -> dict:  # noqa: ANN001
    if standin:
        install_standin()
    t0 = time.perf_counter()
    marks: dict[str, list] = {}

    def stage(name: str) -> None:   # seconds, and resident / peak MB at that point
        marks[name] = [round(time.perf_counter() - t0, 1), *_rss()]
    peer = "B" if p.name == "A" else "A"
    if mode == "after":
        from yinji.psi.cardinality import psi_cardinality_stream

        res = psi_cardinality_stream(p, peer, path, ["id"], receiver="A", chunk_rows=chunk,
                                     on_stage=stage)
        count, n = res.count, res.n
    else:
        from yinji.psi.ecdh import exchange, member
        from yinji.psi.keys import prepare_keys
        from yinji.textfile import read_table

        table = read_table(path)
        prepared = prepare_keys([r[0] for r in table.rows])
        del table
        stage("read")
        me = p.name == "A"
        ex = exchange(p, peer, prepared.keys, i_receive=me, peer_receives=not me,
                      sort_returned=True)
        count = int(member(ex.mine, ex.theirs).sum()) if me else None
        n = len(prepared.keys)
        stage("exchange")
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"party": p.name, "seconds": round(time.perf_counter() - t0, 1), "stages": marks,
            "cpu_seconds": round(ru.ru_utime + ru.ru_stime, 1),
            "peak_rss_mb": _rss()[1], "n": n, "count": count}


def _rss() -> tuple[int, int]:
    """This process's resident and peak resident MB (VmRSS, VmHWM). Not ru_maxrss: Linux
    keeps that across execve, so a spawned party would report its parent's peak (here the
    parent that wrote n keys) whenever that is higher."""
    vm = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return int(vm["VmRSS"].split()[0]) >> 10, int(vm["VmHWM"].split()[0]) >> 10


def run(n: int, mode: str, chunk: int, standin: bool) -> dict:
    from yinji.testing.tls import run_parties_tls

    with tempfile.TemporaryDirectory(prefix="yinji-psi-card-bench-") as tmp:
        t0 = time.perf_counter()
        a, b = write_inputs(Path(tmp), n)
        print(f"[psi_cardinality] wrote inputs in {time.perf_counter() - t0:.1f} s",
              file=sys.stderr)
        t0 = time.perf_counter()
        ra, rb = run_parties_tls(party, names=["A", "B"], timeout=4 * 3600,
                                 args=[(str(a), mode, chunk, standin),
                                       (str(b), mode, chunk, standin)])
        wall = time.perf_counter() - t0
    assert ra["count"] == n // 2 and rb["count"] is None, (ra, rb)
    cpu = max(ra["cpu_seconds"], rb["cpu_seconds"])
    return {"n": n, "mode": mode, "standin": standin, "chunk_rows": chunk,
            "wall_seconds": round(wall, 1), "cpu_us_per_key": round(cpu / n * 1e6, 1),
            "parties": [ra, rb]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--mode", choices=["before", "after"], default="after")
    ap.add_argument("--chunk-rows", type=int, default=1 << 16)
    ap.add_argument("--standin", action="store_true",
                    help="insecure stand-in group (memory and non-group work only)")
    args = ap.parse_args()
    print(json.dumps(run(args.n, args.mode, args.chunk_rows, args.standin), indent=1))


if __name__ == "__main__":
    main()
