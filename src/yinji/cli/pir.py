"""`yinji pir serve | query`: a member serving its list for anonymous query, and a client
asking one member or a whole alliance (see docs/pir.md).

serve: reads key -> label records from CSV (or Parquet when pyarrow is installed), normalises
the keys by `--key-kind` (`yinji.ids`; default auto: ID numbers with a lower-case x,
full-width digits, `="..."` / `'...` exports and 15-digit legacy IDs become the canonical
form; the kind is published in the layout so every client normalises the same way), builds a
database version streamed in bounded memory (`yinji.pir.build`: into `--data-dir`, or a
temporary folder; on Ray with `--ray [ADDRESS]`; progress on stderr), prints the version and
its certificate fingerprint,
and serves clients of the group CA over mutual TLS until Ctrl-C. Labels are the chosen
columns as a compact JSON object.

query: asks every member for every key (each normalised by that member's published rule;
a key in spreadsheet notation such as 1.10105E+17 is refused: its digits are lost) and reports, per key and member, `hit` (with the
label), `miss`, or why the member did not answer (`down`, `timeout`, `rate_limited`,
`error`). Exit status 0 when every member answered, 3 when some did not (their rows say
which), 2 on bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import json
import signal
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

from yinji import ids, textfile

EXIT_PARTIAL = 3
KEYS_PER_REQUEST = 256  # keys per OPRF/PIR request; the rate limit is charged per request


class CliError(Exception):
    """Bad input: reported as one line, exit status 2."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pir", help="anonymous query (keyword PIR): serve a list, query members")
    psub = p.add_subparsers(dest="pir_command", metavar="SUBCOMMAND")

    s = psub.add_parser("serve", help="serve a key -> label list to clients of the group CA")
    s.add_argument("--list", required=True, metavar="FILE",
                   help="records, .csv (or .parquet if pyarrow is installed)")
    s.add_argument("--key-column", required=True, metavar="C", help="column holding the key")
    s.add_argument("--label-columns", required=True, metavar="A,B",
                   help="columns that make up the label (comma-separated)")
    s.add_argument("--listen", required=True, metavar="HOST:PORT", help="e.g. 0.0.0.0:7443")
    _tls_args(s, key_alias=True)
    s.add_argument("--rate-limit", metavar="N/min", default="1000/min",
                   help="OPRF evaluations (keys) per client certificate: N/s, N/min, N/h or "
                        "N/day (default 1000/min); N is also the burst")
    s.add_argument("--key-kind", default="auto", choices=("exact", *ids.KINDS),
                   help="how keys are normalised on both sides (default auto: ID numbers, "
                        "mobiles, text; exact: as written)")
    s.add_argument("--label-size", type=int, metavar="BYTES",
                   help="label slot size (default: longest label rounded up to 16)")
    s.add_argument("--allow", metavar="NAME,...",
                   help="only these client names (default: any certificate from the CA)")
    s.add_argument("--audit", metavar="FILE",
                   help="append one JSON line per request (client, kind, key count; no keys)")
    s.add_argument("--data-dir", metavar="DIR",
                   help="where the database is built and kept, read in chunks so memory does "
                        "not grow with the list (default: a temporary folder removed on exit)")
    s.add_argument("--ray", nargs="?", const="local", metavar="ADDRESS",
                   help="run the build's OPRF, sealing and hint on Ray: a cluster ADDRESS "
                        "(host:6379, ray://host:10001, auto) or, alone, a local Ray")
    s.add_argument("--chunk-rows", type=int, default=1 << 18, metavar="N",
                   help="records read and processed at a time (default 262144)")
    s.set_defaults(func=_serve)

    q = psub.add_parser("query", help="ask one member or an alliance for one or many keys")
    who = q.add_mutually_exclusive_group(required=True)
    who.add_argument("--member", action="append", metavar="NAME=HOST:PORT",
                     help="a member to ask (repeat for several)")
    who.add_argument("--alliance", metavar="FILE",
                     help="alliance file (.json, or .yaml): members: {NAME: HOST:PORT}")
    keys = q.add_mutually_exclusive_group(required=True)
    keys.add_argument("--key", action="append", metavar="K", help="a key (repeatable)")
    keys.add_argument("--keys-file", metavar="F",
                      help="one key per line (# comments), or a table with --keys-column")
    q.add_argument("--keys-column", metavar="COL", help="the key column of --keys-file")
    _tls_args(q, key_alias=False)
    q.add_argument("--out", metavar="FILE.csv", help="also write the results as CSV")
    q.add_argument("--timeout", type=float, help="seconds to wait for all members (default 30)")
    q.add_argument("--connect-timeout", type=float, default=3.0,
                   help="seconds to keep trying to reach a member (default 3)")
    q.add_argument("--hint-cache", metavar="DIR",
                   help="keep members' hints here between runs (default "
                        "$XDG_CACHE_HOME/yinji/pir-hints; a member's newer version replaces "
                        "its hint)")
    q.add_argument("--no-hint-cache", action="store_true",
                   help="download every member's hint, keep nothing on disk")
    q.set_defaults(func=_query)

    from yinji.cli.http import add_api_args

    nq = psub.add_parser("node-query", help="ask the alliance through this node's REST API "
                                            "(POST /pir/query)")
    nkeys = nq.add_mutually_exclusive_group(required=True)
    nkeys.add_argument("--key", action="append", metavar="K", help="a key (repeatable)")
    nkeys.add_argument("--keys-file", metavar="F",
                       help="one key per line (# comments), or a table with --keys-column")
    nq.add_argument("--keys-column", metavar="COL", help="the key column of --keys-file")
    nq.add_argument("--member", action="append", metavar="PEER",
                    help="a peer to ask (default: every peer with a PIR service)")
    nq.add_argument("--service", help="PIR service id at the members")
    add_api_args(nq)
    nq.set_defaults(func=_node_query)

    from yinji.cli.pir_service import register as register_service

    register_service(psub)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _tls_args(p: argparse.ArgumentParser, key_alias: bool) -> None:
    p.add_argument("--cert", required=True, help="own certificate (PEM), issued by the group CA")
    flags = ["--tls-key", "--key"] if key_alias else ["--tls-key"]
    p.add_argument(*flags, dest="key_file", required=True, metavar="FILE",
                   help="own private key (PEM)" + ("" if key_alias else
                                                    "; --key is the key to look up"))
    p.add_argument("--ca", required=True, help="group CA certificate (PEM)")
    p.add_argument("--name", help="own name (default: the name in --cert)")


def _fail(exc: Exception) -> int:
    print(f"yinji pir: error: {exc}", file=sys.stderr)
    return 2


# -- shared helpers ---------------------------------------------------------------------------

def _tls(args: argparse.Namespace):  # noqa: ANN202 - (name, TlsConfig), imported lazily
    """Own name and TLS files, checked locally before anything is built or dialled: a wrong
    key, CA or an expired certificate is our error (exit 2), not every member being down."""
    from yinji.crypto.certs import cert_names
    from yinji.net.connect import TlsConfig

    paths = {"--cert": args.cert, "--tls-key": args.key_file, "--ca": args.ca}
    for flag, path in paths.items():
        if not Path(path).is_file():
            raise CliError(f"{flag} {path}: no such file")
    names = cert_names(Path(args.cert).read_bytes())
    name = args.name or (names[0] if names else None)
    if not name:
        raise CliError(f"--cert {args.cert} names nobody; pass --name")
    config = TlsConfig(Path(args.cert), Path(args.key_file), Path(args.ca))
    check_tls_files(name, config)
    return name, config


def check_tls_files(name: str, config) -> None:  # noqa: ANN001 - TlsConfig
    """The certificate and key are a pair, the CA file holds a CA that signed the certificate,
    and the certificate is valid now and names `name`."""
    import ssl

    from cryptography import x509

    from yinji.net.connect import check_own_certificate

    try:
        cert = x509.load_pem_x509_certificate(Path(config.cert_file).read_bytes())
    except ValueError:
        raise CliError(f"--cert {config.cert_file}: not a PEM certificate") from None
    try:
        cas = x509.load_pem_x509_certificates(Path(config.ca_file).read_bytes())
    except ValueError:
        raise CliError(f"--ca {config.ca_file}: not a PEM certificate") from None
    try:
        ssl.create_default_context().load_cert_chain(config.cert_file, config.key_file)
    except ssl.SSLError as exc:
        why = ("does not belong to the certificate" if "MISMATCH" in str(exc).upper()
               else "is not a PEM private key")
        raise CliError(f"--tls-key {config.key_file}: {why} {config.cert_file}") from None
    if not any(_issued_by(cert, ca) for ca in cas):
        raise CliError(f"--cert {config.cert_file}: not issued by the CA in --ca "
                       f"{config.ca_file}; peers would refuse it")
    try:
        check_own_certificate(name, config)
    except ValueError as exc:
        raise CliError(str(exc)) from None


def _issued_by(cert, ca) -> bool:  # noqa: ANN001 - x509.Certificate
    from cryptography.exceptions import InvalidSignature

    try:
        cert.verify_directly_issued_by(ca)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def check_listen(bind: tuple[str, int]) -> None:
    """The address can be bound now (before minutes of building the database)."""
    import socket

    try:
        family = socket.AF_INET6 if ":" in bind[0] else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(bind)
    except OSError as exc:
        raise CliError(f"--listen {bind[0]}:{bind[1]}: cannot listen there "
                       f"({exc.strerror or exc})") from None


def parse_address(text: str, what: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise CliError(f"{what} {text!r}: expected HOST:PORT")
    return host.strip("[]"), int(port)


def parse_rate(text: str):  # noqa: ANN201 - RateLimit, imported lazily
    from yinji.pir.records import parse_rate as parse

    return parse(text, "--rate-limit")


# -- serve -----------------------------------------------------------------------------------

def _check_columns(path: Path, wanted: list[str], available: list[str]) -> None:
    missing = [c for c in wanted if c not in available]
    if missing:
        raise CliError(f"--list {path}: no column {', '.join(map(repr, missing))} "
                       f"(columns: {', '.join(available) or 'none'})")


def _progress(stage: str, done: int, total: int) -> None:
    if stage == "oprf":
        print(f"  OPRF over keys: {done}/{total or '...'}", file=sys.stderr, flush=True)
    elif stage == "seal":
        print(f"  sealing labels: {done}/{total}", file=sys.stderr, flush=True)
    elif stage == "hint" and (done == total or done % 16 == 0):
        print(f"  PIR matrix and hint: block {done}/{total}", file=sys.stderr, flush=True)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _block(service) -> None:  # noqa: ANN001 - PirService; replaced in tests
    """Serve until Ctrl-C (or SIGTERM, e.g. from a service manager)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(1.0)
    except KeyboardInterrupt:
        print("\nstopping", file=sys.stderr)


def _serve(args: argparse.Namespace) -> int:
    try:
        return _serve_checked(args)
    except (CliError, ValueError, OSError, RuntimeError) as exc:
        return _fail(exc)


def _workers(address: str | None):  # noqa: ANN202 - Workers, imported lazily
    """Threads here, or Ray (`--ray`: a local instance, or the cluster at ADDRESS)."""
    from yinji.net.workers import LocalWorkers, RayWorkers

    if address is None:
        return LocalWorkers()
    try:
        return RayWorkers(None if address == "local" else address)
    except RuntimeError as exc:
        raise CliError(f"--ray: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - Ray's own errors (cluster unreachable, ...)
        raise CliError(f"--ray {address}: cannot start or reach Ray ({exc})") from None


def _serve_checked(args: argparse.Namespace) -> int:
    from yinji.pir.oprf import OprfServer

    name, config = _tls(args)
    bind = parse_address(args.listen, "--listen")
    check_listen(bind)
    rate = parse_rate(args.rate_limit)
    key_column = args.key_column.strip()
    label_columns = [c.strip() for c in args.label_columns.split(",") if c.strip()]
    if not label_columns:
        raise CliError("--label-columns: give at least one column")
    if key_column in label_columns:
        raise CliError(f"--label-columns: {key_column!r} is the key column")
    path = Path(args.list)
    if args.chunk_rows < 1:
        raise CliError(f"--chunk-rows {args.chunk_rows}: must be at least 1")
    start = time.perf_counter()
    oprf = OprfServer(rate_limit=rate)
    with contextlib.ExitStack() as cleanup:
        data = args.data_dir or cleanup.enter_context(tempfile.TemporaryDirectory(
            prefix="yinji-pir-"))
        version = _build(args, path, key_column, label_columns, oprf, data)
        hint_mib = version.pir.hint.nbytes / 2**20
        print(f"{name}: {version.records} records from {path} (label "
              f"{version.layout.label_size} bytes, keys normalised as {args.key_kind})",
              file=sys.stderr)
        print(f"  built in {time.perf_counter() - start:.1f} s: {version.layout.buckets} "
              f"buckets x {version.layout.slots} slots, hint {hint_mib:.1f} MiB, kept in "
              f"{version.path}", file=sys.stderr, flush=True)
        return _serve_version(args, name, config, bind, version, oprf)


def _build(args: argparse.Namespace, path: Path, key_column: str, label_columns: list[str],
           oprf, data: str):  # noqa: ANN001, ANN202 - OprfServer -> KeywordVersion
    """The list read in chunks and built on disk (yinji.pir.build), on threads or Ray."""
    from yinji.chunks import iter_rows
    from yinji.pir.build import build_stream

    try:
        _check_columns(path, [key_column, *label_columns], iter_rows(path).header)
    except textfile.TableFileError as exc:
        raise CliError(f"--list {exc}") from None
    workers = _workers(args.ray)
    try:
        version = build_stream(path, key_column, label_columns, oprf, data,
                               label_size=args.label_size, key_kind=args.key_kind,
                               workers=workers, chunk_rows=args.chunk_rows,
                               progress=_progress, name=f"--list {path}")
    except textfile.TableFileError as exc:
        raise CliError(f"--list {exc}") from None
    finally:
        workers.close()
    if not version.records:
        import shutil

        shutil.rmtree(version.path, ignore_errors=True)
        raise CliError(f"--list {path}: no records (a header only); serving it would answer "
                       "every query `miss`")
    return version


def _serve_version(args: argparse.Namespace, name: str, config, bind, version,  # noqa: ANN001
                   oprf) -> int:  # noqa: ANN001 - TlsConfig, address, KeywordVersion, OprfServer
    """Serve a built version over mutual TLS until Ctrl-C."""
    from yinji.crypto.certs import fingerprint
    from yinji.pir.server import PirServer
    from yinji.pir.service import PirService

    audit_fh = open(args.audit, "a", encoding="utf-8") if args.audit else None

    def audit(event) -> None:  # noqa: ANN001 - PirQueryEvent
        if audit_fh is not None:
            audit_fh.write(json.dumps(asdict(event), separators=(",", ":")) + "\n")
            audit_fh.flush()

    allowed = [n.strip() for n in args.allow.split(",") if n.strip()] if args.allow else None
    server = PirServer(version, oprf, name=name, audit=audit)
    try:
        with PirService(server, bind, config, allowed=allowed) as service:
            host, port = service.address
            print(f"member {name}: serving version {version.version} on {host}:{port}")
            print(f"certificate fingerprint (SHA-256): "
                  f"{fingerprint(Path(config.cert_file).read_bytes())}", flush=True)
            service.start()
            _block(service)
    finally:
        if audit_fh is not None:
            audit_fh.close()
    return 0


# -- query -----------------------------------------------------------------------------------

def _yaml_members(text: str, source: str) -> dict:
    """The alliance file's YAML: PyYAML if installed, else the plain two-level form."""
    if importlib.util.find_spec("yaml") is not None:
        import yaml

        return yaml.safe_load(text)
    doc: dict = {}
    section: dict | None = None
    for n, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        key, sep, value = line.strip().partition(":")
        if not sep:
            raise CliError(f"--alliance {source}: line {n}: expected 'name: value' (without "
                           "PyYAML only plain 'members:' mappings are read; or use JSON)")
        value = value.strip().strip("'\"")
        if raw[0] in " \t":
            if section is None:
                raise CliError(f"--alliance {source}: line {n}: indented line outside a section")
            section[key.strip().strip("'\"")] = value
        elif value:
            doc[key] = value
            section = None
        else:
            section = doc[key] = {}
    return doc


def load_alliance(path: Path) -> tuple[dict[str, tuple[str, int]], float | None]:
    """Members (name -> address) and optional timeout from an alliance file."""
    if not path.is_file():
        raise CliError(f"--alliance {path}: no such file")
    text = path.read_text(encoding="utf-8")
    try:
        doc = json.loads(text) if path.suffix.lower() == ".json" else _yaml_members(text, str(path))
    except json.JSONDecodeError as exc:
        raise CliError(f"--alliance {path}: not valid JSON: {exc}") from None
    members = doc.get("members") if isinstance(doc, dict) else None
    if isinstance(members, list):
        try:
            members = {m["name"]: m["address"] for m in members}
        except (TypeError, KeyError):
            raise CliError(f"--alliance {path}: each member needs 'name' and 'address'") from None
    if not isinstance(members, dict) or not members:
        raise CliError(f"--alliance {path}: expected 'members' mapping names to HOST:PORT")
    out = {str(n): parse_address(str(a), f"--alliance {path}: member {n}")
           for n, a in members.items()}
    timeout = doc.get("timeout")
    return out, float(timeout) if timeout is not None else None


def _members(args: argparse.Namespace) -> tuple[dict[str, tuple[str, int]], float | None]:
    if args.alliance:
        return load_alliance(Path(args.alliance))
    members: dict[str, tuple[str, int]] = {}
    for spec in args.member:
        name, sep, addr = spec.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--member {spec!r}: expected NAME=HOST:PORT")
        if name.strip() in members:
            raise CliError(f"--member {name.strip()!r} given twice")
        members[name.strip()] = parse_address(addr, f"--member {name}")
    return members, None


def _keys(args: argparse.Namespace) -> list[str]:
    if args.key:
        keys = [k.strip() for k in args.key]
    else:
        keys = read_keys(Path(args.keys_file), args.keys_column)
    if not keys or any(not k for k in keys):
        raise CliError("no keys to query" if not keys else "empty key")
    unusable = [k for k in keys if ids.check(k)[1] is not None]
    if unusable:
        raise CliError(f"{len(unusable)} key(s) such as {unusable[0]!r} are empty or "
                       f"{ids.REASONS[ids.SPREADSHEET]}")
    return keys


def read_keys(path: Path, column: str | None) -> list[str]:
    """Keys from a file: the `column` of a table with a header; or, for a one-column file,
    every line ('#' comments skipped), the first line taken as a header when it has no
    digit and the keys below it have (an `id_no` title above ID numbers)."""
    try:
        table = textfile.read_table(path)
    except textfile.TableFileError as exc:
        raise CliError(f"--keys-file {exc}") from None
    if column is not None:
        if column not in table.header:
            raise CliError(f"--keys-column {column!r}: not a column of {path} (columns: "
                           f"{', '.join(table.header)})")
        at = table.header.index(column)
        values = [r[at].strip() if at < len(r) else "" for r in table.rows]
    elif len(table.header) > 1:
        hint = ids.find_column(table.header, "id")
        raise CliError(f"--keys-file {path}: {len(table.header)} columns "
                       f"({', '.join(table.header)}); choose the key column with --keys-column"
                       + (f" (e.g. --keys-column {hint}, an ID-number column)" if hint else ""))
    else:
        values = [r[0].strip() if r else "" for r in [table.header, *table.rows]]
        values = [v for v in values if v and not v.startswith("#")]
        if len(values) > 1 and _looks_like_title(values[0], values[1:]):
            print(f"--keys-file {path}: first line {values[0]!r} read as a header",
                  file=sys.stderr)
            values = values[1:]
        return values
    return [v for v in values if v]


def _looks_like_title(first: str, rest: list[str]) -> bool:
    with_digits = sum(any(ch.isdigit() for ch in v) for v in rest)
    return not any(ch.isdigit() for ch in first) and with_digits >= 0.8 * len(rest)


def _query(args: argparse.Namespace) -> int:
    try:
        return _query_checked(args)
    except (CliError, ValueError, OSError) as exc:
        return _fail(exc)


def _query_checked(args: argparse.Namespace) -> int:
    from yinji.pir.alliance import OK, Alliance
    from yinji.pir.hint_cache import HintCache, default_dir
    from yinji.pir.service import connect_member

    name, config = _tls(args)
    members, file_timeout = _members(args)
    keys = _keys(args)
    timeout = args.timeout or file_timeout or 30.0
    openers = {m: (lambda m=m, a=a: connect_member(name, m, a, config, timeout=timeout,
                                                    connect_timeout=args.connect_timeout))
               for m, a in members.items()}
    cache = None if args.no_hint_cache else \
        HintCache(Path(args.hint_cache) if args.hint_cache else default_dir())
    # a hint belongs to one member's list at one address, as this client sees it
    alliance = Alliance.connect(openers, timeout=timeout, hint_cache=cache,
                                hint_keys={m: f"{m}@{a}" for m, a in members.items()})
    rows: list[dict[str, str]] = []
    not_ok: dict[str, str] = {}
    try:
        for i in range(0, len(keys), KEYS_PER_REQUEST):
            chunk = keys[i:i + KEYS_PER_REQUEST]
            answer = alliance.query(chunk)
            for key_i, key in enumerate(chunk):
                for m in members:
                    a = answer.members[m]
                    if a.status != OK:
                        not_ok.setdefault(m, a.status)
                        rows.append({"key": key, "member": m, "status": a.status, "label": "",
                                     "detail": a.error or ""})
                        continue
                    assert a.labels is not None
                    label = a.labels[key_i]
                    rows.append({"key": key, "member": m,
                                 "status": "miss" if label is None else "hit",
                                 "label": "" if label is None
                                 else label.decode("utf-8", errors="replace"),
                                 "detail": ""})
    finally:
        alliance.close()
    _print_rows(rows)
    answered = len(members) - len(not_ok)
    summary = f"{len(keys)} key(s), {len(members)} member(s): {answered} answered"
    if not_ok:
        summary += "; NOT answered: " + ", ".join(f"{m} ({s})" for m, s in not_ok.items())
        summary += " - a miss there means nothing"
    print(summary)
    if args.out:
        with open(args.out, "w", newline="", encoding="utf-8") as fh:
            w = csv.DictWriter(fh, fieldnames=["key", "member", "status", "label", "detail"])
            w.writeheader()
            w.writerows(rows)
    return EXIT_PARTIAL if not_ok else 0


def _print_rows(rows: list[dict[str, str]]) -> None:
    kw = max([3, *(len(r["key"]) for r in rows)])
    mw = max([6, *(len(r["member"]) for r in rows)])
    print(f"{'key':<{kw}}  {'member':<{mw}}  {'status':<12}  label")
    for r in rows:
        tail = r["label"] if r["status"] in ("hit", "miss") else f"({r['detail']})"
        print(f"{r['key']:<{kw}}  {r['member']:<{mw}}  {r['status']:<12}  {tail}")


def _node_query(args: argparse.Namespace) -> int:
    from yinji.cli.http import client

    try:
        keys = _keys(args)
    except CliError as exc:
        return _fail(exc)
    body = {"keys": keys, "members": args.member, "service": args.service}
    with client(args, timeout=120) as http:
        r = http.post("/pir/query", json=body)
    if not r.is_success:
        return _fail(CliError(f"{args.api}: {r.status_code} {r.text}"))
    answer = r.json()
    rows = [{"key": k, "member": m, "status": a["status"], "detail": a["error"] or "",
             "label": ""} if a["status"] != "ok" else
            {"key": k, "member": m, "status": "hit" if res["hit"] else "miss", "detail": "",
             "label": "" if res["label"] is None else json.dumps(res["label"], ensure_ascii=False)}
            for m, a in answer["members"].items()
            for k, res in zip(keys, a["results"] or [None] * len(keys), strict=True)]
    _print_rows(rows)
    return 0 if answer["complete"] else EXIT_PARTIAL
