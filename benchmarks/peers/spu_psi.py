"""SecretFlow `spu` 0.9.5 two-party PSI (ECDH on a chosen curve, RR22 or KKRT) on two CSV
files, as a peer for benchmarks/psi.py. Runs in the spu side venv (benchmarks/peers/setup.sh spu), never in the
project's venv.

    benchmarks/.peers/spu/bin/python benchmarks/peers/spu_psi.py \
        --protocol ecdh --curve FOURQ --a a.csv --b b.csv --key id

prints one JSON object: wall seconds (both parties started together, link set-up included),
peak RSS of each party, intersection size. Each party is its own OS process; they talk over
spu's brpc link on loopback. Link retries are tuned (notes/spu-0.9.5.md) so that set-up costs
~0.25 s instead of 1-4 s. spu exposes no byte counters; traffic is not reported.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

MARK = "SPU_PSI_RESULT "  # spu's own logging also goes to stdout


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def party(args: argparse.Namespace) -> None:
    import spu.libspu.link as link
    import spu.psi as psi

    desc = link.Desc()
    for i, port in enumerate(args.ports):
        desc.add_party(f"p{i}", f"127.0.0.1:{port}")
    if os.environ.get("SPU_PSI_LINK") != "default":
        desc.connect_retry_times = 200
        desc.connect_retry_interval_ms = 50
        desc.recv_timeout_ms = 600_000
        desc.http_timeout_ms = 600_000
        opts = desc.retry_opts
        opts.retry_interval_ms = 100
        opts.retry_interval_incr_ms = 0
        opts.max_retry = 100
        desc.retry_opts = opts
    lctx = link.create_brpc(desc, args.rank)
    protocol = {"ecdh": psi.PsiProtocol.PROTOCOL_ECDH,
                "rr22": psi.PsiProtocol.PROTOCOL_RR22,
                "kkrt": psi.PsiProtocol.PROTOCOL_KKRT}[args.protocol]
    conf = psi.PsiExecuteConfig(
        protocol_conf=psi.PsiProtocolConfig(
            protocol=protocol, receiver_rank=0, broadcast_result=False,
            ecdh_params=psi.EcdhParams(curve=getattr(psi.EllipticCurveType, f"CURVE_{args.curve}")),
        ),
        input_params=psi.InputParams(
            type=psi.SourceType.SOURCE_TYPE_FILE_CSV, path=os.path.abspath(args.input),
            selected_keys=[args.key], keys_unique=True),
        output_params=psi.OutputParams(
            type=psi.SourceType.SOURCE_TYPE_FILE_CSV, path=os.path.abspath(args.output),
            disable_alignment=True),
    )
    t0 = time.perf_counter()
    report = psi.psi_execute(conf, lctx)
    seconds = time.perf_counter() - t0
    lctx.stop_link()
    print(MARK + json.dumps({
        "rank": args.rank, "seconds": seconds,
        "intersection": report.intersection_count,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "cpu_seconds": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
    }), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--protocol", choices=["ecdh", "rr22", "kkrt"], default="ecdh")
    ap.add_argument("--a", help="receiver's CSV")
    ap.add_argument("--b", help="sender's CSV")
    ap.add_argument("--key", default="id")
    ap.add_argument("--curve", default="25519", choices=["25519", "FOURQ", "SM2", "SECP256K1"],
                    help="ECDH curve (spu's names)")
    ap.add_argument("--rank", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--output", help=argparse.SUPPRESS)
    ap.add_argument("--ports", type=int, nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.rank is not None:
        party(args)
        return
    ports = _free_ports(2)
    with tempfile.TemporaryDirectory(prefix="spu-psi-") as tmp:
        procs = []
        t0 = time.perf_counter()
        for rank, path in enumerate((args.a, args.b)):
            cmd = [sys.executable, os.path.abspath(__file__), "--protocol", args.protocol,
                   "--key", args.key, "--curve", args.curve, "--rank", str(rank), "--input", os.path.abspath(path),
                   "--output", os.path.join(tmp, f"out{rank}.csv"),
                   "--ports", *map(str, ports)]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=tmp))
        outs = [p.communicate()[0] for p in procs]
        wall = time.perf_counter() - t0
        codes = [p.returncode for p in procs]
    if any(codes):
        print(json.dumps({"error": f"exit codes {codes}"}))
        sys.exit(1)
    parties = [json.loads(line[len(MARK):]) for o in outs for line in o.splitlines()
               if line.startswith(MARK)]
    if len(parties) != 2:
        print(json.dumps({"error": "a party printed no result"}))
        sys.exit(1)
    print(json.dumps({
        "protocol": args.protocol, "curve": args.curve, "wall_seconds": wall,
        "seconds": max(p["seconds"] for p in parties),
        "intersection": parties[0]["intersection"],
        "peak_rss_mb": [p["peak_rss_mb"] for p in parties],
        "cpu_seconds": [p.get("cpu_seconds") for p in parties],
    }))


if __name__ == "__main__":
    main()
