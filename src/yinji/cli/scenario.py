"""`yinji scenario publish | list | show | approve | reject | retire | openapi | calls`:
scenario APIs (yinji.node.scenarios) through a node's REST API (`--api`, `--token-file` /
$YINJI_TOKEN). `publish` takes the publication as a JSON or YAML file (the body of
POST /scenarios); the caller token is made on the publishing node's machine with
`yinji token add --role caller --name NAME --scope scenario:NAME/vN`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from yinji.cli.app import Client, CliError, report_errors
from yinji.cli.http import add_api_args


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scenario", help="scenario APIs: publish an app as a versioned "
                                        "endpoint, approve, retire, read the call trail")
    s = p.add_subparsers(dest="scenario_command", metavar="SUBCOMMAND")
    pb = s.add_parser("publish", help="publish (operator); every data owner then approves")
    add_api_args(pb)
    pb.add_argument("file", help="JSON or YAML: name, app, params (fixed), bounds, inputs, "
                                 "callers, quota, recipients?, compute?, title?")
    pb.set_defaults(func=_publish)
    ls = s.add_parser("list", help="the scenarios this node published or was asked to approve")
    add_api_args(ls)
    ls.set_defaults(func=_list)
    for cmd, text in (("show", "one scenario: definition, state, decisions"),
                      ("approve", "approve once (approver): sets this node's standing approval"),
                      ("reject", "reject (approver)"),
                      ("retire", "stop calls at once (operator of the publisher)"),
                      ("openapi", "the endpoint's OpenAPI document")):
        c = s.add_parser(cmd, help=text)
        add_api_args(c)
        c.add_argument("name")
        c.add_argument("version", type=int)
        if cmd in ("show", "approve", "reject"):
            c.add_argument("--publisher", help="the publishing node (if two published it)")
        if cmd in ("approve", "reject"):
            c.add_argument("--reason", default="")
        c.set_defaults(func=_one, scenario_command=cmd)
    cl = s.add_parser("calls", help="the call trail in this node's audit log (auditor)")
    add_api_args(cl)
    cl.add_argument("--scenario", help="only this scenario's calls")
    cl.add_argument("--version", type=int)
    cl.set_defaults(func=_calls)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _print(obj: Any) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False))


@report_errors
def _publish(args: argparse.Namespace) -> int:
    import yaml

    try:
        body = yaml.safe_load(Path(args.file).read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CliError(f"{args.file} is not JSON or YAML: {exc}") from None
    if not isinstance(body, dict):
        raise CliError(f"{args.file} must hold an object (the publication)")
    with Client(args) as c:
        view = c.call("POST", "/scenarios", json=body)
    print(f"published {view['endpoint']} ({view['path']}), definition {view['def_hash'][:16]};"
          f" waiting for approval by {', '.join(view['waiting_for'])}")
    return 0


@report_errors
def _list(args: argparse.Namespace) -> int:
    with Client(args) as c:
        rows = c.call("GET", "/scenarios")
    print("publisher\tendpoint\tapp\tstate\tcallers")
    for r in rows:
        what = r['definition']['app'] or f"model {r['definition'].get('model')}"
        print(f"{r['publisher']}\t{r['endpoint']}\t{what}\t{r['state']}\t"
              f"{','.join(r['definition']['callers'])}")
    return 0


@report_errors
def _one(args: argparse.Namespace) -> int:
    path = f"/scenarios/{args.name}/v{args.version}"
    query = {"publisher": args.publisher} if getattr(args, "publisher", None) else None
    with Client(args) as c:
        if args.scenario_command == "show":
            _print(c.call("GET", path, params=query))
        elif args.scenario_command in ("approve", "reject"):
            view = c.call("POST", f"{path}/{args.scenario_command}", params=query,
                          json={"reason": args.reason})
            print(f"{args.scenario_command}d {view['endpoint']} of {view['publisher']}"
                  + (f" (standing approval {view['rule_id']})" if view["rule_id"] else ""))
        elif args.scenario_command == "retire":
            view = c.call("POST", f"{path}/retire")
            print(f"retired {view['endpoint']}"
                  + (f"; not told: {'; '.join(view['not_told'])}" if view["not_told"] else ""))
        else:
            _print(c.call("GET", f"{path}/openapi.json"))
    return 0


@report_errors
def _calls(args: argparse.Namespace) -> int:
    query = {k: v for k, v in (("scenario", args.scenario), ("version", args.version)) if v}
    with Client(args) as c:
        rows = c.call("GET", "/scenarios/calls", params=query)
    print("seq\tcall_id\twhere\tcaller\tendpoint\tdecision\tstatus\tparams_sha256\tresult_size"
          "\tlatency_ms")
    for r in rows:
        print(f"{r['seq']}\t{r['call_id']}\t{r['where']}\t{r['caller']}\t"
              f"{r['scenario']}/v{r['version']}\t{r['decision']}\t{r['status']}\t"
              f"{r['params_sha256'][:16]}\t{r['result_size']}\t{r['latency_ms']}")
    return 0
