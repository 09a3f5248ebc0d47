"""`yinji approvals standing add | list | revoke`: standing approvals on the node's own machine
(`yinji.node.standing`), audited like the REST API's (`yinji.node.admin`, by "cli:<user>").
A running node applies a change to its next proposal; no restart."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from yinji.cli.admin import add_home_arg, admin_errors, when
from yinji.cli.http import add_api_args, token


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("approvals", help="standing approvals of this node")
    s = p.add_subparsers(dest="approvals_command", metavar="SUBCOMMAND")
    st = s.add_parser("standing", help="rules that approve matching jobs without a person")
    ss = st.add_subparsers(dest="standing_command", metavar="SUBCOMMAND")
    a = ss.add_parser("add", help="set a rule (from --rule FILE and/or the options below)",
                      description="Example: yinji approvals standing add --app "
                                  "qualified-investor --proposer fund --max batch_size=1000")
    add_home_arg(a)
    a.add_argument("--rule", help="YAML/JSON file with the rule's fields")
    for flag, field in (("--app", "apps"), ("--protocol", "protocols"),
                        ("--proposer", "proposers"), ("--dataset", "datasets"),
                        ("--recipient", "recipients")):
        a.add_argument(flag, dest=field, action="append", metavar="NAME",
                       help=f"add to `{field}` (repeat, or comma-separate)")
    for bound in ("max", "min"):
        a.add_argument(f"--{bound}", dest=bound, action="append", default=[],
                       metavar="PARAM=N", help=f"params bound: PARAM {bound} N")
    a.add_argument("--in", dest="in_", action="append", default=[], metavar="PARAM=A,B",
                   help="params bound: PARAM one of A, B (values read as YAML scalars)")
    a.add_argument("--note")
    a.add_argument("--expires", default="never", help="N d|h|m from now, or never (default)")
    a.set_defaults(func=_add)
    ls = ss.add_parser("list", help="every rule: id, state, who set it, expiry, rule")
    add_home_arg(ls)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=_list)
    rv = ss.add_parser("revoke", help="revoke a rule by id (it stays listed, revoked)")
    add_home_arg(rv)
    rv.add_argument("rule_id")
    rv.set_defaults(func=_revoke)
    st.set_defaults(func=lambda a: st.print_help() or 2)
    nt = s.add_parser("notify", help="POST a webhook notice for each proposal newly waiting "
                                     "for this node (polls the REST API; metadata only)")
    add_api_args(nt)
    nt.add_argument("--webhook", required=True, help="http(s) URL receiving JSON notices")
    nt.add_argument("--interval", type=float, default=10.0, help="seconds between polls")
    nt.add_argument("--once", action="store_true", help="poll once and exit")
    nt.set_defaults(func=_notify)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _notify(args: argparse.Namespace) -> int:
    import signal
    import threading

    from yinji.node.notify import Notifier, NotifyError

    try:
        from yinji.cli.http import verify

        notifier = Notifier(args.api, token(args), args.webhook, api_verify=verify(args))
        if args.once:
            for n in notifier.poll_once():
                print(n["text"])
            return 0
    except NotifyError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        notifier.run(args.interval, stop)
    except KeyboardInterrupt:
        pass
    return 0


def _bound(text: str, flag: str) -> tuple[str, Any]:
    from yinji.node.standing import StandingError

    name, sep, value = text.partition("=")
    if not sep or not name:
        raise StandingError(f"{flag} {text!r}: write PARAM=VALUE")
    return name, value


def rule_from_args(args: argparse.Namespace) -> dict[str, Any]:
    from yinji.node.standing import StandingError

    rule: dict[str, Any] = {}
    if args.rule:
        try:
            rule = yaml.safe_load(Path(args.rule).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise StandingError(f"{args.rule}: cannot read the rule: {exc}") from None
        if not isinstance(rule, dict):
            raise StandingError(f"{args.rule}: a rule is a mapping of fields")
    for field in ("apps", "protocols", "proposers", "datasets", "recipients"):
        for item in getattr(args, field) or []:
            rule.setdefault(field, []).extend(v.strip() for v in item.split(",") if v.strip())
    params = rule.setdefault("params", {}) if (args.max or args.min or args.in_) else None
    for bound in ("max", "min"):
        for text in getattr(args, bound):
            name, value = _bound(text, f"--{bound}")
            try:
                params.setdefault(name, {})[bound] = float(value) if "." in value \
                    else int(value)
            except ValueError:
                raise StandingError(f"--{bound} {text!r}: {value!r} is not a number") from None
    for text in args.in_:
        name, value = _bound(text, "--in")
        params.setdefault(name, {})["in"] = [yaml.safe_load(v) for v in value.split(",")]
    if args.note:
        rule["note"] = args.note
    return rule


@admin_errors
def _add(args: argparse.Namespace) -> int:
    from yinji.node.admin import open_admin
    from yinji.node.config import parse_lifetime
    from yinji.node.standing import StandingError

    rule = rule_from_args(args)
    try:
        seconds = parse_lifetime(args.expires)
    except ValueError as exc:
        raise StandingError(f"--expires: {exc}") from None
    with open_admin(args.home) as admin:
        out = admin.standing.add(rule, by=admin.by,
                                 expires=None if seconds is None else time.time() + seconds)
    print(f"standing approval {out['id']} set (expires {when(out['expires'])}): "
          f"{json.dumps(out['rule'], ensure_ascii=False, sort_keys=True)}")
    return 0


@admin_errors
def _list(args: argparse.Namespace) -> int:
    from yinji.node.admin import open_admin

    with open_admin(args.home) as admin:
        rows = admin.standing.list()
    if args.json:
        print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    print("id\tstate\tset by\tcreated\texpires\trule")
    for r in rows:
        print(f"{r['id']}\t{r['state']}\t{r['created_by']}\t{when(r['created'])}\t"
              f"{when(r['expires'])}\t{json.dumps(r['rule'], ensure_ascii=False, sort_keys=True)}")
    return 0


@admin_errors
def _revoke(args: argparse.Namespace) -> int:
    from yinji.node.admin import open_admin

    with open_admin(args.home) as admin:
        out = admin.standing.revoke(args.rule_id, by=admin.by)
    print(f"standing approval {out['id']} revoked", file=sys.stdout)
    return 0
