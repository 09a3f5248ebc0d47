"""PSI benchmark: Yinji's two-party ECDH-PSI and KKRT16 PSI (two processes over mutual-TLS
loopback) against SecretFlow `spu` ECDH (FourQ and Curve25519), RR22 and KKRT on the same
files, plus the hidden-intersection join.

    .venv/bin/python benchmarks/psi.py                       # 2^16, 2^18, 2^20 per side
    .venv/bin/python benchmarks/psi.py --log2 16 18 --no-spu
    .venv/bin/python benchmarks/psi.py --log2 20 --protocols kkrt --spu-protocols kkrt --no-join
    .venv/bin/python benchmarks/psi.py --log2 --no-join --multiparty 12  # multi-party bar only
    benchmarks/peers/setup.sh spu                            # once, for the spu columns

Each size: two CSV files of n 18-digit keys per side with 50% overlap; party A is the
receiver. Our time is from starting the two processes to both finishing (TLS set-up,
reading the CSV, key preparation and the protocol included), and "CPU" each party process's
user + system seconds, which a loaded machine inflates far less than wall time; spu's
"wall" is the same,
its "protocol" the time inside `psi_execute` (it also reads the CSV there). Peak memory is
each party process's maximum RSS; bytes are what our channels counted (spu exposes none).

spu's ECDH speed depends on the curve and the CPU: its Curve25519 runs Intel's AVX-512 IFMA
multi-buffer code (crypto_mb) where the CPU has IFMA, and is then its fastest ECDH (about
twice FourQ's speed); without IFMA its FourQ (FourQlib) is ~9x faster than its Curve25519.
The ECDH bar is read against spu's fastest curve on the machine of the run, which the default
`--spu-protocols` picks from /proc/cpuinfo (`spu_fastest_ecdh`).

After spu's ECDH, a "floor" line: the least time any ECDH-PSI built on the libraries our
standards allow (libsodium, OpenSSL) could take here. Each key costs each party at least two
variable-base multiplications (its own keys blinded, the peer's keys re-blinded), so the two
parties' 4n multiplications on two cores take at least 2n times the fastest such
multiplication measured now (X25519 in libsodium or OpenSSL, ristretto255 in libsodium), with
no hashing, I/O or Python counted; as CPU seconds a party it is compared with the CPU of spu's
busier party, which load inflates far less than wall time.
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

HERE = Path(__file__).resolve().parent
SPU_PYTHON = HERE / ".peers" / "spu" / "bin" / "python"



def _peak_rss_mb() -> float:
    """This process's peak resident MB (VmHWM). Not ru_maxrss: Linux keeps it across execve,
    so a spawned party would report its parent's peak if that was larger."""
    with open("/proc/self/status") as fh:
        return next(int(x.split()[1]) for x in fh if x.startswith("VmHWM:")) / 1024

def spu_fastest_ecdh() -> str:
    """spu's fastest ECDH here: Curve25519 with AVX-512 IFMA, else FourQ."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "ecdh-fourq"
    return "ecdh-25519" if "avx512ifma" in flags else "ecdh-fourq"


def multiplication_costs(count: int = 20_000) -> dict[str, float]:
    """Microseconds of one thread's CPU per variable-base multiplication, fastest of 3 passes:
    libsodium's X25519 and ristretto255 (through rbcl's libsodium), OpenSSL's X25519."""
    import ctypes

    from cryptography.hazmat.primitives.asymmetric.x25519 import (
        X25519PrivateKey,
        X25519PublicKey,
    )
    from rbcl._sodium import _sodium as lib

    from yinji.crypto import group

    scalar = group.random_scalar()
    points = group.hash_to_group([i.to_bytes(8, "big") for i in range(count)], b"floor",
                                 workers=1)
    out = ctypes.create_string_buffer(32)
    x25519 = lib.crypto_scalarmult_curve25519
    x25519.argtypes = [ctypes.c_char_p] * 3
    ristretto = lib.crypto_scalarmult_ristretto255
    ristretto.argtypes = [ctypes.c_char_p] * 3
    key = X25519PrivateKey.from_private_bytes(os.urandom(32))
    us = [os.urandom(31) + b"\x00" for _ in range(count)]  # u-coordinates below 2^248

    def openssl() -> None:
        for u in us:
            key.exchange(X25519PublicKey.from_public_bytes(u))

    runs = {"libsodium X25519": lambda: [x25519(out, scalar, u) for u in us],
            "libsodium ristretto255": lambda: [ristretto(out, scalar, p) for p in points],
            "OpenSSL X25519": openssl}
    costs = {}
    for name, run in runs.items():
        best = float("inf")
        for _ in range(3):
            t0 = time.thread_time()
            run()
            best = min(best, time.thread_time() - t0)
        costs[name] = best / count * 1e6
    return costs


def write_inputs(directory: Path, n: int, seed: int = 0) -> tuple[Path, Path]:
    rng = np.random.default_rng(seed)
    ids = rng.choice(10**17, 2 * n - n // 2, replace=False) + 10**17
    a, b = ids[:n], ids[n // 2:]
    paths = []
    for name, values in (("a", a), ("b", rng.permutation(b))):
        path = directory / f"{name}_{n}.csv"
        with open(path, "w", newline="") as fh:
            fh.write("id\n")
            fh.write("\n".join(map(str, values.tolist())))
            fh.write("\n")
        paths.append(path)
    return paths[0], paths[1]


def yinji_party(party, path: str, receiver: str, protocol: str = "ecdh") -> dict:  # noqa: ANN001
    """One party process: read the CSV, prepare keys, run our PSI (`protocol`: ecdh, kkrt)."""
    from yinji.psi.ecdh import ecdh_psi
    from yinji.psi.keys import prepare_keys

    t0 = time.perf_counter()
    with open(path, newline="") as fh:
        reader = csv.reader(fh)
        next(reader)
        col = [r[0] for r in reader]
    keys = prepare_keys(col, duplicates="first")
    peer = "B" if party.name == "A" else "A"
    out = ecdh_psi(party, peer, keys, receiver=receiver, protocol=protocol)
    st = party.stats()
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"seconds": time.perf_counter() - t0, "cpu_seconds": ru.ru_utime + ru.ru_stime,
            "intersection": None if out is None else len(out),
            "peak_rss_mb": _peak_rss_mb(),
            "bytes_sent": st.bytes_sent}


def run_yinji(a: Path, b: Path, timeout: float, protocol: str = "ecdh") -> dict:
    from yinji.testing.tls import run_parties_tls

    t0 = time.perf_counter()
    ra, rb = run_parties_tls(yinji_party, names=["A", "B"],
                             args=[(str(a), "A", protocol), (str(b), "A", protocol)],
                             timeout=timeout)
    return {"wall_seconds": time.perf_counter() - t0,
            "seconds": max(ra["seconds"], rb["seconds"]),
            "cpu_seconds": [ra.get("cpu_seconds"), rb.get("cpu_seconds")],
            "intersection": ra["intersection"],
            "peak_rss_mb": [ra["peak_rss_mb"], rb["peak_rss_mb"]],
            "bytes": [ra["bytes_sent"], rb["bytes_sent"]]}


def run_spu(protocol: str, a: Path, b: Path, timeout: float) -> dict | None:
    """`protocol`: rr22, kkrt, or ecdh-<curve> (fourq, 25519, sm2, secp256k1)."""
    if not SPU_PYTHON.exists():
        print(f"[psi bench] no spu side venv at {SPU_PYTHON}: run benchmarks/peers/setup.sh spu",
              file=sys.stderr)
        return None
    proto, _, curve = protocol.partition("-")
    cmd = [str(SPU_PYTHON), str(HERE / "peers" / "spu_psi.py"), "--protocol", proto,
           *(["--curve", curve.upper()] if curve else []), "--a", str(a), "--b", str(b), "--key", "id"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              start_new_session=True)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode or not lines:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"}
    return json.loads(lines[-1])


def join_bar(rows: int = 100_000, cols: int = 10) -> dict:
    """Hidden-intersection join, 3 parties in one process (threads, in-memory network)."""
    from yinji.mpc.session import Session
    from yinji.psi.join import hidden_join
    from yinji.testing.parties import run_parties

    rng = np.random.default_rng(1)
    ids = rng.choice(10**12, 2 * rows, replace=False)
    ka = [b"%d" % v for v in ids[:rows]]
    kb = [b"%d" % v for v in np.concatenate([ids[: rows // 2], ids[rows: rows + rows // 2]])]
    fa, fb = rng.normal(size=(rows, cols)), rng.normal(size=(rows, cols))

    def body(party, keys, feats):  # noqa: ANN001
        return hidden_join(Session(party, ["A", "B", "C"]), keys, feats).shape

    t0 = time.perf_counter()
    shapes = run_parties(body, names=["A", "B", "C"], args=[(ka, fa), (kb, fb), (None, None)],
                         timeout=600)
    return {"seconds": time.perf_counter() - t0, "shape": list(shapes[0])}


def multiparty_bar(log2: int, holders: int = 4) -> dict:
    """Multi-party PSI, `holders` sets of 2^log2 keys (half of them common to all) plus the
    aggregator, in one process (threads, in-memory network)."""
    from yinji.psi.multiparty import multiparty_psi
    from yinji.testing.parties import run_parties

    n = 1 << log2
    common = [b"c%d" % i for i in range(n // 2)]
    sets = [common + [b"h%d-%d" % (h, i) for i in range(n - n // 2)] for h in range(holders)]
    names = [f"H{h}" for h in range(holders)]

    def body(party, keys):  # noqa: ANN001
        return multiparty_psi(party, names, "H0", "G", keys)

    t0, c0 = time.perf_counter(), time.process_time()
    out = run_parties(body, names=[*names, "G"], args=[(s,) for s in sets] + [(None,)],
                      timeout=3600)
    if len(out[0]) != n // 2:
        raise SystemExit(f"multi-party PSI: wrong intersection size {len(out[0])}")
    return {"holders": holders, "n": n, "seconds": time.perf_counter() - t0,
            "cpu_seconds": time.process_time() - c0}


def fmt(x: float | None, unit: str = "") -> str:
    return "-" if x is None else f"{x:.1f}{unit}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log2", type=int, nargs="*", default=[16, 18, 20],
                    help="two-party sizes (log2 of keys per side); none to skip")
    ap.add_argument("--protocols", nargs="+", default=["ecdh", "kkrt"],
                    choices=["ecdh", "kkrt"], help="our two-party protocols to run")
    ap.add_argument("--no-spu", action="store_true")
    ap.add_argument("--spu-protocols", nargs="+", default=[spu_fastest_ecdh(), "rr22", "kkrt"],
                    help="spu runs: rr22, kkrt, ecdh-fourq, ecdh-25519, ecdh-sm2, ...")
    ap.add_argument("--timeout", type=float, default=3600)
    ap.add_argument("--no-join", action="store_true")
    ap.add_argument("--multiparty", type=int, metavar="LOG2",
                    help="also run multi-party PSI, 4 holders of 2^LOG2 keys, in one process")
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    print(f"cores: {os.cpu_count()}; load average at start: {os.getloadavg()[0]:.1f}; "
          f"spu's fastest ECDH here: {spu_fastest_ecdh()}")
    results = []
    with tempfile.TemporaryDirectory(prefix="yinji-psi-bench-") as tmp:
        for lg in args.log2:
            n = 1 << lg
            a, b = write_inputs(Path(tmp), n)
            row = {"n": n}
            for proto in args.protocols:
                y = run_yinji(a, b, args.timeout, proto)
                if y["intersection"] != n // 2:
                    raise SystemExit(f"{proto}: wrong intersection size {y['intersection']}")
                row["yinji" if proto == "ecdh" else f"yinji_{proto}"] = y
                print(f"2^{lg}: yinji {proto} {y['wall_seconds']:.1f} s wall "
                      f"(in-party {y['seconds']:.1f} s, CPU A/B {y['cpu_seconds'][0]:.1f}/"
                      f"{y['cpu_seconds'][1]:.1f} s), peak RSS "
                      f"{y['peak_rss_mb'][0]:.0f}/{y['peak_rss_mb'][1]:.0f} MB, bytes A->B "
                      f"{y['bytes'][0] / 1e6:.1f} MB, B->A {y['bytes'][1] / 1e6:.1f} MB",
                      flush=True)
            if not args.no_spu:
                for proto in args.spu_protocols:
                    row[f"spu_{proto}"] = s = run_spu(proto, a, b, args.timeout)
                    if not s:
                        continue
                    if "error" in s:
                        print(f"    spu {proto}: {s['error']}", flush=True)
                        continue
                    cpu = s.get("cpu_seconds") or [None, None]
                    print(f"    spu {proto}: {s['wall_seconds']:.1f} s wall (protocol "
                          f"{s['seconds']:.1f} s, CPU A/B {fmt(cpu[0])}/{fmt(cpu[1])} s), "
                          f"peak RSS {s['peak_rss_mb'][0]:.0f}/{s['peak_rss_mb'][1]:.0f} MB",
                          flush=True)
                ecdh = [row[f"spu_{p}"] for p in args.spu_protocols if p.startswith("ecdh")
                        and "wall_seconds" in (row[f"spu_{p}"] or {})]
                if ecdh:
                    costs = multiplication_costs()
                    fastest = min(costs, key=costs.get)
                    floor = 2 * n * costs[fastest] / 1e6
                    wall = min(s["wall_seconds"] for s in ecdh)
                    cpu = min(max([c for c in s.get("cpu_seconds") or [] if c is not None]
                                  or [float("nan")]) for s in ecdh)
                    row["floor"] = {"us_per_multiplication": costs, "seconds": floor}
                    print(f"    floor for ECDH-PSI on libsodium/OpenSSL: 2 x 2^{lg} x "
                          f"{costs[fastest]:.1f} us ({fastest}) = {floor:.1f} s of CPU a party "
                          f"= {floor / cpu:.2f}x the CPU of spu's fastest ECDH's busier party "
                          f"({cpu:.1f} s), {floor / wall:.2f}x its wall time ("
                          + ", ".join(f"{k} {v:.1f} us" for k, v in costs.items()) + ")",
                          flush=True)
            results.append(row)
    out = {"psi": results}
    if args.multiparty is not None:
        out["multiparty"] = m = multiparty_bar(args.multiparty)
        print(f"multi-party PSI, {m['holders']} holders x 2^{args.multiparty} keys "
              f"(in-process): {m['seconds']:.1f} s wall, {m['cpu_seconds']:.1f} s CPU", flush=True)
    if not args.no_join:
        out["join"] = join_bar()
        print(f"hidden join 1e5 x 1e5, 10 + 10 columns (in-process): "
              f"{out['join']['seconds']:.1f} s, output {out['join']['shape']}")
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
