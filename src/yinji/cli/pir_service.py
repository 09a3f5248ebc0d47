"""`yinji pir service add | list | remove | refresh`: a node's PIR services through its REST
API (operator token), so publishing a watch list takes no node.yaml edit and no restart
(yinji.node.pir_services). Each command is one REST call; the node does the work.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import httpx

EXIT_ERROR = 2


def register(psub: argparse._SubParsersAction) -> None:
    from yinji.cli.http import add_api_args

    p = psub.add_parser("service", help="publish, list, refresh or remove this node's lists "
                                        "(REST /pir/services)")
    s = p.add_subparsers(dest="service_command", metavar="SUBCOMMAND")
    a = s.add_parser("add", help="serve a catalog dataset as a PIR service, at once")
    a.add_argument("id", help="service id (letters, digits, . _ -), e.g. blacklist")
    a.add_argument("--dataset", required=True, help="catalog dataset (policy allows `pir`)")
    a.add_argument("--key-column", required=True, metavar="C")
    a.add_argument("--label-columns", required=True, metavar="A,B",
                   help="columns returned with a hit, e.g. tag,reason,date")
    a.add_argument("--port", default="auto", help='port, or "auto" (default) for a free one')
    a.add_argument("--rate-limit", default="1000/min", metavar="N/min",
                   help="OPRF keys per peer: N/s, N/min, N/h or N/day (default 1000/min)")
    a.add_argument("--day-budget", type=int, metavar="N",
                   help="keys per peer per day; a request may then be a whole day's batch")
    a.add_argument("--key-kind", default="text",
                   help="key normalisation: id, mobile, text, upper or auto (default text)")
    a.add_argument("--label-size", type=int, metavar="BYTES")
    for name, text in (("list", "this node's PIR services"),
                       ("remove", "stop serving a service added at run time"),
                       ("refresh", "re-read the dataset: a new list version")):
        c = s.add_parser(name, help=text)
        if name != "list":
            c.add_argument("id")
    for c in s.choices.values():
        add_api_args(c)
        c.set_defaults(func=_run)
    p.set_defaults(func=lambda _a: p.print_help() or EXIT_ERROR)


def client(args: argparse.Namespace) -> httpx.Client:
    """The REST client (replaced in tests by an in-process one)."""
    from yinji.cli.http import client as api_client

    return api_client(args, timeout=600)


def _request(args: argparse.Namespace) -> tuple[str, str, dict[str, Any] | None]:
    cmd = args.service_command
    if cmd == "list":
        return "GET", "/pir/services", None
    if cmd == "remove":
        return "DELETE", f"/pir/services/{args.id}", None
    if cmd == "refresh":
        return "POST", f"/pir/services/{args.id}/refresh", None
    port: Any = args.port if args.port == "auto" else int(args.port)
    body = {"id": args.id, "dataset": args.dataset, "key_column": args.key_column,
            "label_columns": [c.strip() for c in args.label_columns.split(",") if c.strip()],
            "port": port, "rate_limit": args.rate_limit, "day_budget": args.day_budget,
            "key_kind": args.key_kind, "label_size": args.label_size}
    return "POST", "/pir/services", {k: v for k, v in body.items() if v is not None}


def _run(args: argparse.Namespace) -> int:
    try:
        method, path, body = _request(args)
    except ValueError:
        print(f"yinji pir service: error: --port must be a number or auto, got {args.port!r}",
              file=sys.stderr)
        return EXIT_ERROR
    with client(args) as c:
        r = c.request(method, path, json=body)
    if not r.is_success:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        print(f"yinji pir service: error: {r.status_code} {detail}", file=sys.stderr)
        return EXIT_ERROR
    answer = r.json()
    if args.service_command == "remove":
        print(f"removed {args.id}")
        return 0
    for s in answer if isinstance(answer, list) else [answer]:
        budget = f", {s['day_budget']}/day" if s.get("day_budget") else ""
        print(f"{s['id']}: {s['dataset']} ({s['key_column']} -> "
              f"{','.join(s['label_columns'])}) at {s['address']}, version {s['version']}, "
              f"{s['records']} records, keys as {s.get('key_kind', 'text')}, "
              f"{s['rate_limit']}{budget}, peers {','.join(s['clients'])} "
              f"[{s.get('source', 'node.yaml')}]")
    return 0
