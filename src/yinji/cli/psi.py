"""`yinji psi`: private set intersection between local CSV / Parquet files, each party in its
own OS process, connected by mutual TLS on loopback (a throw-away CA per run).

    yinji psi --input securities=a.csv --input fund=b.csv --key id --kind id=id \\
        --receiver securities --out shared.csv
    yinji psi --input A=a.csv --input B=b.csv --input C=c.csv --key id --out common.csv
    yinji psi --input A=a.csv --input B=b.csv --key id --cardinality

Two inputs run two-party PSI (--protocol: KKRT16 when both sides have >= 65536 keys, ECDH
otherwise; or either one explicitly); three or more run multi-party PSI with an extra
aggregator process that holds no data. Each process reads only its own file. The receiver
writes its own rows that are in the intersection (all columns) to --out, or with
--cardinality prints the count only.

--cardinality always reads the files in chunks (`yinji.psi.cardinality`): keys are blinded
and sent in blocks and the receiver counts on private disk partitions, so memory stays
bounded by a chunk and a partition at any size.

Large inputs (about 2^20 rows or more, judged from the file size or Parquet metadata; or any
input with --buckets N) run bucketed PSI on a stream (`yinji.psi.stream`): each party reads
its file in chunks of --chunk-rows rows, spills its keys to per-bucket files in a private
temporary folder and runs the buckets over parallel TLS lanes, so memory stays bounded by a
chunk and a bucket per lane; the receiver's output rows are read back in chunks too.
"""

from __future__ import annotations

import argparse
import csv
import json
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

from yinji import textfile
from yinji.net.ports import free_ports

AGGREGATOR = "aggregator"
DEFAULT_CHUNK = 1 << 18
AUTO_STREAM_ROWS = 1 << 20   # = yinji.psi.stream.AUTO_STREAM_ROWS (not imported: start-up)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("psi", help="private set intersection between local files",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--input", action="append", required=True, metavar="NAME=PATH",
                   help="a party and its CSV or Parquet file (repeat: 2 for two-party, 3+ "
                        "for multi-party)")
    p.add_argument("--key", action="append", required=True, metavar="COLUMN",
                   help="key column (repeat for a multi-column key)")
    p.add_argument("--kind", action="append", default=[], metavar="COLUMN=KIND",
                   help="normalisation of a key column: auto (default: ID numbers and mobiles recognised per value), text, upper, id, mobile")
    p.add_argument("--validate", action="store_true",
                   help="drop ID numbers / mobile numbers that fail their checks")
    p.add_argument("--duplicates", choices=["first", "reject"], default="first",
                   help="duplicate keys: keep the first row (default) or fail")
    p.add_argument("--receiver", help="party that gets the result (default: the first input)")
    p.add_argument("--cardinality", action="store_true",
                   help="two-party only: the receiver learns only the intersection size")
    p.add_argument("--protocol", choices=["auto", "ecdh", "kkrt"], default="auto",
                   help="two-party intersection: KKRT16 (OT-based, fast on large sets), "
                        "ECDH, or auto (default: kkrt when both sides have >= 65536 keys); "
                        "--cardinality is always ECDH")
    p.add_argument("--out", help="output CSV of the receiver's intersecting rows (with "
                                 "--cardinality: the count); never one of the inputs")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")
    p.add_argument("--timeout", type=float, default=3600.0, help="seconds (default 3600)")
    p.add_argument("--buckets", default="auto", metavar="N|auto",
                   help="two-party: stream the inputs in chunks and run N buckets; 0: read "
                        "whole files, unbucketed; auto (default): stream when an input has "
                        f"about {AUTO_STREAM_ROWS:,} rows or more")
    p.add_argument("--chunk-rows", type=int, default=DEFAULT_CHUNK, metavar="ROWS",
                   help=f"rows read at a time when streaming or with --cardinality "
                        f"(default {DEFAULT_CHUNK})")
    p.add_argument("--lanes", type=int, default=None,
                   help="parallel lanes per party when streaming (default: CPU count)")
    p.set_defaults(func=_run)


class PsiCliError(Exception):
    pass


def read_table(path: str) -> textfile.Table:
    """Header and rows of a CSV (UTF-8, GB18030 or Big5; any common delimiter), .xlsx or
    Parquet file, all values as text (`yinji.textfile.read_table`)."""
    try:
        return textfile.read_table(path)
    except textfile.TableFileError as exc:
        raise PsiCliError(str(exc)) from None


def _write_csv(path: str, header: list[str], rows) -> None:  # noqa: ANN001 - rows of text
    """Write next to `path` and rename, so a failure never leaves a half-written file."""
    tmp = f"{path}.part"
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    os.replace(tmp, path)


def _progress(name: str):  # noqa: ANN202
    last = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if total >= 1 << 16 and (now - last[0] > 0.5 or done >= total):
            last[0] = now
            width = 30
            fill = int(width * done / max(total, 1))
            print(f"\r[{name}] [{'#' * fill}{'.' * (width - fill)}] {done}/{total}",
                  end="\n" if done >= total else "", file=sys.stderr, flush=True)
    return show


def estimate_rows(path: str) -> int | None:
    """Roughly how many rows a file has, without reading it: Parquet metadata, or a CSV's size
    over the mean line length of its first 64 KiB; None for a workbook."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
    if head.startswith(b"PAR1") or Path(path).suffix.lower() in (".parquet", ".pq"):
        try:
            import pyarrow.parquet as pq
        except ImportError:
            return None
        return pq.read_metadata(path).num_rows
    if head.startswith(b"PK\x03\x04"):
        return None
    lines = head.count(b"\n")
    if lines == 0:
        return 1
    return int(os.path.getsize(path) / (len(head) / lines))


def stream_main(party, job: dict, tls) -> dict:  # noqa: ANN001 - Party, TlsConfig
    """Two-party bucketed PSI on a stream of the own file (`yinji.psi.stream`)."""
    from yinji.psi.stream import bucketed_psi_stream, select_rows

    me = party.name
    path = job["paths"][me]
    peer = next(n for n in job["names"] if n != me)
    try:
        res = bucketed_psi_stream(party, peer, path, job["keys"], tls=tls,
                                  buckets=job["buckets"], lanes=job.get("lanes"),
                                  receiver=job["receiver"], kinds=job["kinds"] or None,
                                  validate=job["validate"], duplicates=job["duplicates"],
                                  chunk_rows=job["chunk_rows"], timeout=job["timeout"])
        summary = {"party": me, "read": res.read, "keys": res.report.summary(),
                   "buckets": job["buckets"]}
        if res.rows is not None:
            summary["intersection_size"] = len(res.rows)
            if job["out"]:
                header, rows = select_rows(path, res.rows, job["chunk_rows"])
                _write_csv(job["out"], header, rows)
                summary["out"] = job["out"]
    except textfile.TableFileError as exc:
        raise PsiCliError(str(exc)) from None
    return summary


def cardinality_main(party, job: dict) -> dict:  # noqa: ANN001 - Party
    """Two-party PSI cardinality, the own file read in chunks (`yinji.psi.cardinality`)."""
    from yinji.psi.cardinality import psi_cardinality_stream

    me = party.name
    peer = next(n for n in job["names"] if n != me)
    try:
        res = psi_cardinality_stream(party, peer, job["paths"][me], job["keys"],
                                     receiver=job["receiver"], kinds=job["kinds"] or None,
                                     validate=job["validate"], duplicates=job["duplicates"],
                                     chunk_rows=job["chunk_rows"])
    except textfile.TableFileError as exc:
        raise PsiCliError(str(exc)) from None
    summary = {"party": me, "read": res.read, "keys": res.report.summary()}
    if res.count is not None:
        summary["intersection_size"] = res.count
        if job["out"]:
            _write_csv(job["out"], ["intersection_size"], [[res.count]])
            summary["out"] = job["out"]
    return summary


def party_main(party, job: dict, tls=None) -> dict:  # noqa: ANN001 - Party, TlsConfig
    """One process: read own file, prepare keys, run the protocol, write the output."""
    if job.get("buckets"):
        return stream_main(party, job, tls)
    if job["cardinality"]:
        return cardinality_main(party, job)
    from yinji.psi.ecdh import ecdh_psi
    from yinji.psi.keys import prepare_keys
    from yinji.psi.multiparty import multiparty_psi

    me = party.name
    names = job["names"]
    if me == AGGREGATOR:
        multiparty_psi(party, names, job["receiver"], AGGREGATOR, None)
        return {"party": me}
    table = read_table(job["paths"][me])
    header, rows = table.header, table.rows
    missing = [k for k in job["keys"] if k not in header]
    if missing:
        raise PsiCliError(f"{job['paths'][me]}: no column(s) {missing}; columns: {header}")
    cols = {k: [r[header.index(k)] if header.index(k) < len(r) else "" for r in rows]
            for k in job["keys"]}
    prepared = prepare_keys(cols, kinds=job["kinds"], validate=job["validate"],
                            duplicates=job["duplicates"])
    summary = {"party": me, "read": table.describe(), "keys": prepared.report.summary()}
    receiver = job["receiver"]
    if len(names) == 2:
        peer = names[1 - names.index(me)]
        out = ecdh_psi(party, peer, prepared, receiver=receiver, progress=_progress(me),
                       protocol=job.get("protocol", "auto"))
    else:
        out = multiparty_psi(party, names, receiver, AGGREGATOR, prepared)
    if out is not None:
        summary["intersection_size"] = len(out)
        if job["out"]:
            _write_csv(job["out"], header, (rows[i] for i in sorted(prepared.rows[out].tolist())))
            summary["out"] = job["out"]
    return summary


def _child(job: dict, name: str, addresses: dict, config, conn) -> None:  # noqa: ANN001
    from yinji.net.tls import tls_network
    try:
        party = tls_network(name, addresses, config, timeout=job["timeout"])
        try:
            result = party_main(party, job, config)
        finally:
            party.close()
        conn.send(("ok", json.dumps(result)))
    except BaseException as exc:  # noqa: BLE001 - reported by the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()



def run_local(job: dict) -> list[dict]:
    """Run every party of `job` in its own process over TLS loopback; their summaries."""
    from yinji.crypto.certs import issue_cert, make_ca, write_cert_key
    from yinji.net.tls import TlsConfig

    names = list(job["names"]) + ([AGGREGATOR] if len(job["names"]) > 2 else [])
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="yinji-psi-") as tmp:
        ca = make_ca("yinji-psi-local-ca")
        ca_file = Path(tmp) / "ca.crt"
        ca_file.write_bytes(ca.cert_pem)
        configs = {}
        for i, name in enumerate(names):
            cert, key = write_cert_key(issue_cert(ca, name), tmp, f"party{i}")
            configs[name] = TlsConfig(cert, key, ca_file)
        addresses = {n: ("127.0.0.1", p) for n, p in zip(names, free_ports(len(names)),
                                                           strict=True)}
        procs, pipes = [], []
        for name in names:
            recv_end, send_end = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(job, name, addresses, configs[name],
                                                    send_end), daemon=True)
            proc.start()
            send_end.close()
            procs.append(proc)
            pipes.append(recv_end)
        results, errors = [], []
        for name, conn, proc in zip(names, pipes, procs, strict=True):
            if conn.poll(job["timeout"] + 60):
                try:
                    status, body = conn.recv()
                except EOFError:
                    status, body = "error", "ended without a result"
            else:
                status, body = "error", "timed out"
            if status == "ok":
                results.append(json.loads(body))
            else:
                errors.append(f"{name}: {body}")
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
    if errors:
        # The first error is the cause; the others are usually peers that lost their link.
        raise PsiCliError("; ".join(errors))
    return results


def _output_path(out: str, inputs, force: bool) -> str:  # noqa: ANN001 - input paths
    """--out resolved; refused when it is an input (whatever --force says) or exists."""
    path = Path(out).resolve()
    if any(path == Path(p) or (path.exists() and path.samefile(p)) for p in inputs):
        raise PsiCliError(f"--out {out}: is one of the input files; choose another file")
    if path.exists() and not force:
        raise PsiCliError(f"--out {out}: exists; use --force to replace it")
    if not path.parent.is_dir():
        raise PsiCliError(f"--out {out}: no such folder {path.parent}")
    return str(path)


def _buckets(args: argparse.Namespace, paths: dict[str, str]) -> int:
    """0 (whole files, unbucketed) or the bucket count of a streamed run."""
    from yinji.psi.bucketed import MAX_BUCKETS
    from yinji.psi.stream import auto_buckets

    streamable = len(paths) == 2 and not args.cardinality
    if args.buckets == "auto":
        est = [estimate_rows(p) or 0 for p in paths.values()]
        return auto_buckets(max(est)) if streamable and max(est) >= AUTO_STREAM_ROWS else 0
    try:
        n = int(args.buckets)
    except ValueError:
        raise PsiCliError(f"--buckets {args.buckets!r}: expected a number or auto") from None
    if not 0 <= n <= MAX_BUCKETS:
        raise PsiCliError(f"--buckets must be from 0 to {MAX_BUCKETS}")
    if n and not streamable:
        raise PsiCliError("--buckets is for two-party intersections (a cardinality or "
                          "multi-party run reads whole files, unbucketed)")
    return n


def _run(args: argparse.Namespace) -> int:
    try:
        paths = {}
        for item in args.input:
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise PsiCliError(f"--input {item!r}: expected NAME=PATH")
            if name in paths or name == AGGREGATOR:
                raise PsiCliError(f"--input: party name {name!r} used twice or reserved")
            if not Path(path).exists():
                raise PsiCliError(f"{path}: no such file")
            paths[name] = str(Path(path).resolve())
        if len(paths) < 2:
            raise PsiCliError("need at least two --input parties")
        kinds = {}
        for item in args.kind:
            col, sep, kind = item.partition("=")
            if not sep or col not in args.key:
                raise PsiCliError(f"--kind {item!r}: expected KEYCOLUMN=KIND for a --key column")
            kinds[col] = kind
        names = list(paths)
        receiver = args.receiver or names[0]
        if receiver not in paths:
            raise PsiCliError(f"--receiver {receiver!r} is not one of {names}")
        if args.cardinality and len(names) != 2:
            raise PsiCliError("--cardinality is for two parties")
        if args.protocol == "kkrt" and (args.cardinality or len(names) != 2):
            raise PsiCliError("--protocol kkrt is for a two-party intersection (cardinality "
                              "and multi-party PSI have their own protocols)")
        out = _output_path(args.out, paths.values(), args.force) if args.out else None
        buckets = _buckets(args, paths)
        if args.chunk_rows < 1:
            raise PsiCliError("--chunk-rows must be at least 1")
        if args.lanes is not None and args.lanes < 1:
            raise PsiCliError("--lanes must be at least 1")
        job = {"names": names, "paths": paths, "keys": args.key, "kinds": kinds,
               "validate": args.validate, "duplicates": args.duplicates, "receiver": receiver,
               "cardinality": args.cardinality, "protocol": args.protocol,
               "out": out, "buckets": buckets, "chunk_rows": args.chunk_rows,
               "lanes": args.lanes, "timeout": args.timeout}
        t0 = time.perf_counter()
        results = run_local(job)
    except PsiCliError as exc:
        print(f"yinji psi: error: {exc}", file=sys.stderr)
        return 1
    for r in results:
        if "keys" in r:
            how = f"; {r['buckets']} buckets" if r.get("buckets") else ""
            print(f"{r['party']}: read {r['read']}; {r['keys']}{how}", file=sys.stderr)
    for r in results:
        if "intersection_size" in r:
            print(f"intersection size: {r['intersection_size']}")
            if r.get("out"):
                print(f"wrote {r['out']}")
    print(f"{time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0
