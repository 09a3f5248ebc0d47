"""`make demo`: three companies compute group totals over mutual TLS on loopback.

The securities broker, the fund manager and the futures broker each run as a separate OS
process with its own certificate (issued on the fly by a throw-away demo CA), read only their
own holdings CSV, and together compute the group's total assets per client segment and how
many clients hold more than 1,000,000 CNY across the three companies. Each process prints
what it learned and how many bytes it exchanged; the demo then checks the figures against a
plaintext computation over the same CSVs (which only the demo, not any company, can see).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from pathlib import Path
from typing import Any

from yinji.apps.group_totals import (
    SEGMENTS,
    GroupTotals,
    plaintext_totals,
    read_holdings,
    read_registry,
    write_sample_data,
)
from yinji.crypto.certs import issue_cert, make_ca, write_cert_key
from yinji.mpc import Session
from yinji.net.ports import free_ports
from yinji.net.tls import TlsConfig, tls_network

COMPANIES = ["securities", "fund", "futures"]
THRESHOLD = 1_000_000.0


def company_main(name: str, addresses: dict[str, tuple[str, int]], config: TlsConfig,
                 data: Path, threshold: float) -> dict[str, Any]:
    """One company's process: its own CSV in, the group figures out."""
    from yinji.apps.group_totals import group_totals

    registry = read_registry(data / "registry.csv")
    mine = read_holdings(data / f"{name}.csv", registry)
    party = tls_network(name, addresses, config, timeout=120, connect_timeout=30)
    try:
        t0 = time.perf_counter()
        result = group_totals(Session(party, COMPANIES), mine, threshold)
        seconds = time.perf_counter() - t0
        stats = party.stats()
    finally:
        party.close()
    return {"result": result, "seconds": seconds, "clients": mine.clients,
            "sent": stats.bytes_sent, "received": stats.bytes_received,
            "messages": stats.messages_sent}


def _child(conn, *args) -> None:  # type: ignore[no-untyped-def]
    try:
        conn.send(("ok", company_main(*args)))
    except BaseException as exc:  # noqa: BLE001 - reported by the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()



def _issue_certs(directory: Path) -> dict[str, TlsConfig]:
    directory.mkdir(parents=True, exist_ok=True)
    ca = make_ca("yinji-demo-ca")
    ca_file = directory / "ca.crt"
    ca_file.write_bytes(ca.cert_pem)
    configs = {}
    for name in COMPANIES:
        cert, key = write_cert_key(issue_cert(ca, name), directory, name)
        configs[name] = TlsConfig(cert, key, ca_file)
    return configs


def run(out: Path, clients: int, threshold: float) -> int:
    print(f"Yinji demo: {', '.join(COMPANIES)} — group totals by secure 3-party computation\n")
    data = out / "data"
    write_sample_data(data, COMPANIES, clients=clients)
    configs = _issue_certs(out / "certs")
    addresses = {n: ("127.0.0.1", p) for n, p in zip(COMPANIES, free_ports(3), strict=True)}
    print(f"sample data: {data}/{{registry,{','.join(COMPANIES)}}}.csv ({clients} registry clients)")
    print(f"certificates: {out / 'certs'} (one per company, demo CA); "
          f"mutual TLS on {', '.join(f'{n}@127.0.0.1:{a[1]}' for n, a in addresses.items())}\n")

    ctx = mp.get_context("spawn")
    procs, pipes = [], []
    for name in COMPANIES:
        recv_end, send_end = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_child, name=f"yinji-{name}", daemon=True,
                        args=(send_end, name, addresses, configs[name], data, threshold))
        p.start()
        send_end.close()
        procs.append(p)
        pipes.append(recv_end)
    outcomes = []
    try:
        for name, conn in zip(COMPANIES, pipes, strict=True):
            if not conn.poll(300):
                raise RuntimeError(f"{name} did not finish within 300 s")
            status, payload = conn.recv()
            if status != "ok":
                raise RuntimeError(f"{name} failed: {payload}")
            outcomes.append(payload)
    except (RuntimeError, EOFError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    finally:
        for p in procs:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()

    for name, o in zip(COMPANIES, outcomes, strict=True):
        r: GroupTotals = o["result"]
        print(f"[{name}] own input: {o['clients']} clients (stays local)")
        print(f"[{name}] learned: group assets by segment (CNY): "
              + ", ".join(f"{s} {r.by_segment[s]:,.2f}" for s in SEGMENTS))
        print(f"[{name}] learned: clients with group assets > {r.threshold:,.0f} CNY: "
              f"{r.clients_over_threshold}")
        print(f"[{name}] exchanged: sent {o['sent'] / 1e6:.2f} MB in {o['messages']} messages, "
              f"received {o['received'] / 1e6:.2f} MB; {o['seconds']:.2f} s\n")

    registry = read_registry(data / "registry.csv")
    truth = plaintext_totals([read_holdings(data / f"{n}.csv", registry) for n in COMPANIES],
                             threshold)
    got = outcomes[0]["result"]
    same = all(o["result"] == got for o in outcomes)
    close = all(abs(got.by_segment[s] - truth.by_segment[s]) <= 0.01 for s in SEGMENTS)
    exact = got.clients_over_threshold == truth.clients_over_threshold
    print("check against a plaintext computation over the same CSVs: "
          f"segment totals {'match' if close else 'DIFFER'}, "
          f"count {'matches' if exact else 'DIFFERS'} ({truth.clients_over_threshold}), "
          f"all three companies {'agree' if same else 'DISAGREE'}")
    return 0 if (same and close and exact) else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m yinji.demo", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=Path("demo-out"),
                    help="folder for sample data and certificates (default: demo-out)")
    ap.add_argument("--clients", type=int, default=20000, help="clients in the group registry")
    ap.add_argument("--threshold", type=float, default=THRESHOLD)
    args = ap.parse_args(argv)
    return run(args.out, args.clients, args.threshold)


if __name__ == "__main__":
    sys.exit(main())
