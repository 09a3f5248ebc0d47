"""Cost of persisting the PIR OPRF budget: one OPRF request (1 or 256 keys) served from
memory only vs. with the sealed state saved on every spend (AES-256-GCM, temp file, fsync,
rename). Prints medians in ms.

    python benchmarks/oprf_persist.py [--reps 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from yinji.crypto.aead import Aead, fresh_key
from yinji.pir import oprf


def median_ms(fn, reps: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=50)
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="yinji-oprf-"))
    state = oprf.SealedOprfState(folder / "bench.oprf", Aead(fresh_key()), "bench")
    servers = {"memory": oprf.OprfServer(),
               "sealed": oprf.OprfServer.open(state, oprf.RateLimit(burst=10**9))}
    print(f"{'keys':>5} {'memory ms':>10} {'sealed ms':>10} {'extra ms':>9}")
    for keys in (1, 256):
        _, blinded = oprf.blind([b"k%d" % i for i in range(keys)])
        got = {name: median_ms(lambda s=s, b=blinded: s.evaluate("peer", b), args.reps)
               for name, s in servers.items()}
        print(f"{keys:>5} {got['memory']:>10.2f} {got['sealed']:>10.2f} "
              f"{got['sealed'] - got['memory']:>9.2f}")
    save = median_ms(lambda: state.save(b"\0" * 32, {"peer": (1.0, 2.0)}), args.reps)
    print(f"one sealed save alone: {save:.2f} ms")


if __name__ == "__main__":
    main()
