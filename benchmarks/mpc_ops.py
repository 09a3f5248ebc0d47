"""MPC engine benchmark: the operations of issue 2, in-process and over 3 TLS processes,
with SecretFlow SPU (ABY3 simulation) and MPyC as peers when their side venvs exist.

    .venv/bin/python benchmarks/mpc_ops.py            # full sizes
    .venv/bin/python benchmarks/mpc_ops.py --scale 0.1 --no-peers

Timings: wall seconds of the operation alone (inputs already shared, result left shared),
median of --reps runs after one warm-up run; bytes and messages are summed over the three
parties; rounds are the protocol's sequential communication rounds. Peers (benchmarks/peers)
print their own timing conventions.
"""

from __future__ import annotations

import os

# Three parties share this machine's cores: one BLAS thread per party avoids oversubscribed,
# spinning BLAS pools (set before NumPy loads; spawned TLS parties inherit it).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from yinji.mpc import Session, SharedTensor  # noqa: E402
from yinji.net.channel import Party  # noqa: E402
from yinji.testing.parties import run_parties  # noqa: E402
from yinji.testing.tls import run_parties_tls  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers.run import run_peer  # noqa: E402

NAMES = ["P0", "P1", "P2"]
# name -> (label, elements at scale 1, peer key)
OPS = {
    "mul": ("fixed-point mul", 10**6, "mul_1e6"),
    "lt": ("less-than", 10**6, "lt_1e6"),
    "sigmoid": ("sigmoid", 10**5, "sigmoid_1e5"),
    "matmul": ("matmul 1000x1000 @ 1000x100", 1000, "matmul_1000x1000x100"),
    "div": ("division x/y", 10**6, "div_1e6"),
}


def _inputs(op: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)  # benchmark inputs only
    if op == "matmul":
        return rng.normal(0, 1, (n, n)), rng.normal(0, 1, (n, n // 10))
    if op == "div":
        return rng.normal(0, 10, n), rng.uniform(0.5, 100, n)
    return rng.normal(0, 10, n), rng.normal(0, 10, n)


def _run_op(op: str, x: SharedTensor, y: SharedTensor) -> SharedTensor:
    if op == "mul":
        return x * y
    if op == "lt":
        return x < y
    if op == "sigmoid":
        return x.sigmoid()
    if op == "matmul":
        return x @ y
    return x / y


def party_main(party: Party, op: str, n: int, reps: int) -> dict:
    """One party's side of one benchmark (module-level so it runs in spawned processes)."""
    s = Session(party, NAMES)
    xv, yv = _inputs(op, n, seed=7)
    x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
    y = SharedTensor.share(s, yv if s.rank == 1 else None, 1)
    _run_op(op, x, y)  # warm-up: first-touch page faults, lazily built tables
    times, rounds = [], 0
    st0 = party.stats()
    for _ in range(reps):
        t0, r0 = time.perf_counter(), s.rounds
        _run_op(op, x, y)
        times.append(time.perf_counter() - t0)
        rounds = s.rounds - r0
    st1 = party.stats()
    return {"seconds": times, "rounds": rounds,
            "bytes": (st1.bytes_sent - st0.bytes_sent) / reps,
            "messages": (st1.messages_sent - st0.messages_sent) / reps}


def measure(op: str, n: int, reps: int, tls: bool) -> dict:
    runner = run_parties_tls if tls else run_parties
    res = runner(party_main, names=NAMES, args=[(op, n, reps)] * 3, timeout=900)
    # the op ends when the slowest party ends
    per_rep = [max(r["seconds"][i] for r in res) for i in range(reps)]
    return {"seconds": statistics.median(per_rep), "rounds": res[0]["rounds"],
            "bytes": sum(r["bytes"] for r in res), "messages": sum(r["messages"] for r in res)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply all sizes (default 1)")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ops", default=",".join(OPS), help="comma-separated subset of " + ",".join(OPS))
    ap.add_argument("--no-tls", action="store_true", help="skip the 3-process TLS runs")
    ap.add_argument("--no-peers", action="store_true", help="skip SPU / MPyC")
    args = ap.parse_args()
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    peers = {} if args.no_peers else {p: run_peer(p, scale=args.scale) for p in ("spu", "mpyc")}

    header = (f"{'operation':30} {'size':>9} {'in-proc s':>10} {'ops/s':>11} {'MB':>8} "
              f"{'rounds':>6} {'TLS s':>8} {'TLS/in':>6} {'SPU s':>7} {'yinji/SPU':>9} "
              f"{'MPyC s*':>9}")
    print(header)
    print("-" * len(header))
    for op in ops:
        label, full, key = OPS[op]
        n = max(10, int(full * args.scale))
        if op == "matmul":
            n = max(10, int(round(full * args.scale)))  # spu scales each dimension too
        size = f"{n}x{n}x{n // 10}" if op == "matmul" else f"{n:.0e}" if n >= 1000 else str(n)
        local = measure(op, n, args.reps, tls=False)
        tls = None if args.no_tls else measure(op, n, args.reps, tls=True)
        spu = (peers.get("spu") or {}).get("ops", {}).get(key)
        mpyc = (peers.get("mpyc") or {}).get("extrapolated_full_size_s", {}).get(key)
        elems = n * n * (n // 10) if op == "matmul" else n
        row = (f"{label:30} {size:>9} {local['seconds']:10.3f} {elems / local['seconds']:11.3g} "
               f"{local['bytes'] / 1e6:8.1f} {local['rounds']:6d} "
               f"{tls['seconds'] if tls else float('nan'):8.3f} "
               f"{tls['seconds'] / local['seconds'] if tls else float('nan'):6.2f} "
               f"{spu if spu else float('nan'):7.3f} "
               f"{local['seconds'] / spu if spu else float('nan'):9.2f} "
               f"{mpyc if mpyc else float('nan'):9.3g}")
        print(row, flush=True)
    print("\nops/s for matmul counts multiply-adds. yinji/SPU < 1 means Yinji is faster.")
    print("MPyC s*: MPyC's time for the same size, extrapolated from a smaller run (see "
          "benchmarks/peers/README.md).")
    for name, out in peers.items():
        if out:
            print(f"{name}: {out.get('peer')} config {out.get('config')}")


if __name__ == "__main__":
    main()
