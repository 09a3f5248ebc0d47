"""`yinji ca init | issue`: the group CA and the party certificates that `yinji pir serve`,
`yinji pir query` and other TLS commands take with --cert / --tls-key / --ca.

    yinji ca init --dir ca/ --name "Group CA"          # ca/ca.crt (share), ca/ca.key (keep)
    yinji ca issue --dir ca/ --name broker --out broker/  # broker/broker.crt, broker.key

Give each party only its own .crt/.key and the CA's ca.crt; the CA key stays with whoever
issues certificates (the group's IT security team). Keys are written 0600 and never printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from yinji.crypto.certs import (
    DEFAULT_CA_DAYS,
    DEFAULT_CERT_DAYS,
    CertKey,
    fingerprint,
    issue_cert,
    make_ca,
    write_cert_key,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ca", help="create the group CA and issue party certificates",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    csub = p.add_subparsers(dest="ca_command", metavar="SUBCOMMAND")
    i = csub.add_parser("init", help="create a CA: DIR/ca.crt and DIR/ca.key")
    i.add_argument("--dir", required=True, help="folder for ca.crt and ca.key")
    i.add_argument("--name", default="Yinji group CA", help="the CA's name")
    i.add_argument("--days", type=int, default=DEFAULT_CA_DAYS,
                   help=f"validity in days (default {DEFAULT_CA_DAYS})")
    i.set_defaults(func=_init)
    s = csub.add_parser("issue", help="issue a party certificate: OUT/NAME.crt, OUT/NAME.key")
    s.add_argument("--dir", required=True, help="the CA folder (from `yinji ca init`)")
    s.add_argument("--name", required=True, help="the party's name (what peers expect)")
    s.add_argument("--out", help="folder for the party's files (default: the CA folder)")
    s.add_argument("--days", type=int, default=DEFAULT_CERT_DAYS,
                   help=f"validity in days (default {DEFAULT_CERT_DAYS})")
    s.set_defaults(func=_issue)
    p.set_defaults(func=lambda a: p.print_help() or 2)


class CaError(Exception):
    pass


def _init(args: argparse.Namespace) -> int:
    return _run(lambda: _do_init(Path(args.dir), args.name, args.days))


def _issue(args: argparse.Namespace) -> int:
    return _run(lambda: _do_issue(Path(args.dir), args.name, Path(args.out or args.dir),
                                  args.days))


def _run(step) -> int:  # noqa: ANN001 - a callable
    try:
        step()
    except CaError as exc:
        print(f"yinji ca: error: {exc}", file=sys.stderr)
        return 2
    return 0


def _do_init(folder: Path, name: str, days: int) -> None:
    if days < 1:
        raise CaError(f"--days {days}: must be at least 1")
    if (folder / "ca.key").exists() or (folder / "ca.crt").exists():
        raise CaError(f"{folder}: already holds a CA (ca.crt / ca.key); not overwriting")
    cert, key = write_cert_key(make_ca(name, days=days), folder, "ca")
    print(f"CA {name!r}: {cert} (give to every party), {key} (keep private)")
    print(f"fingerprint (SHA-256): {fingerprint(cert.read_bytes())}")


def _do_issue(folder: Path, name: str, out: Path, days: int) -> None:
    if days < 1:
        raise CaError(f"--days {days}: must be at least 1")
    try:
        ca = CertKey((folder / "ca.crt").read_bytes(), (folder / "ca.key").read_bytes())
        ca.cert  # noqa: B018 - parse now, to fail here with the file's name
    except FileNotFoundError as exc:
        raise CaError(f"--dir {folder}: no {Path(exc.filename).name}; run `yinji ca init` "
                      "first") from None
    except ValueError:
        raise CaError(f"--dir {folder}: ca.crt / ca.key are not a PEM certificate and key") \
            from None
    stem = name.replace("/", "_")
    if (out / f"{stem}.key").exists():
        raise CaError(f"{out / (stem + '.key')} exists; not overwriting")
    left = ca.cert.not_valid_after_utc - dt.datetime.now(dt.UTC)
    if dt.timedelta(days=days) > left:
        raise CaError(f"--days {days}: the CA itself is valid for {max(left.days, 0)} more days")
    try:
        cert, key = write_cert_key(issue_cert(ca, name, days=days), out, stem)
    except ValueError as exc:
        raise CaError(str(exc)) from None
    print(f"{name}: {cert}, {key} (give both to {name} only, with the CA's ca.crt)")
    print(f"fingerprint (SHA-256): {fingerprint(cert.read_bytes())}")
