"""`yinji app list | show | run | runs | status`: scenario apps through a node's REST API.

The CLI only talks to the node (`--api`, `--token-file` / $YINJI_TOKEN, as `yinji job`): the
node validates the run, proposes it to the other companies, runs it once approved and renders
the report; `run --wait` follows the run's progress and downloads the report files the node
received into a folder. A `--private-file` (the client IDs an onboarding desk checks) is sent
only to this node, which keeps it in memory for the run and never sends or stores it.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yinji.cli.http import add_api_args
from yinji.cli.output import FORMATS, add_format, emit, emit_record

FINAL = ("succeeded", "failed", "cancelled", "rejected", "expired")
_FILE = re.compile(r"^[A-Za-z0-9_\-][A-Za-z0-9_.\-]{0,99}$")   # what the node serves


class CliError(Exception):
    """A request the CLI refuses or the node refused: printed as `error: ...`, exit 1."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("app", help="scenario apps: list, describe, run and follow them "
                                   "(through a node's REST API)")
    s = p.add_subparsers(dest="app_command", metavar="SUBCOMMAND")
    ls = s.add_parser("list", help="the apps installed on the node")
    add_api_args(ls)
    add_format(ls)
    ls.set_defaults(func=_list)
    sh = s.add_parser("show", help="an app's roles, columns, parameters and private input")
    add_api_args(sh)
    add_format(sh)
    sh.add_argument("name")
    sh.set_defaults(func=_show)
    r = s.add_parser("run", help="start a run (a job every company approves)")
    add_api_args(r)
    r.add_argument("name")
    r.add_argument("--param", action="append", default=[], metavar="K=V",
                   help="a parameter (repeatable); lists as a,b and rates as HKD=0.92,USD=7.1")
    r.add_argument("--input", action="append", default=[], required=True,
                   metavar="NODE=DATASET[:ROLE][,LOGICAL=ACTUAL...]",
                   help="the dataset a company supplies, its role, and its column names for "
                        "the role's columns where they differ (repeatable)")
    r.add_argument("--recipient", action="append", default=[], metavar="NODE",
                   help="who receives the report (repeatable; default: the app's choice)")
    r.add_argument("--compute", metavar="A,B,C", help="the three compute parties")
    r.add_argument("--private-file", metavar="F",
                   help="CSV/xlsx of IDs: this node's private input (first column or "
                        "--private-column); stays on this node")
    r.add_argument("--private-column", help="the column of --private-file holding the IDs")
    r.add_argument("--wait", action="store_true",
                   help="follow the run until it ends and download the report")
    r.add_argument("--out", metavar="DIR",
                   help="where --wait puts the report files (default ./NAME-RUNID8)")
    r.add_argument("--force", action="store_true", help="write into a non-empty --out")
    r.add_argument("--timeout", type=float, default=0,
                   help="stop waiting after this many seconds (default: until the run ends)")
    r.add_argument("--interval", type=float, default=0.5, help=argparse.SUPPRESS)
    r.set_defaults(func=_run)
    r.add_argument("--format", choices=FORMATS, default="table",
                   help="table (progress lines) or json / csv: the run's final view")
    rs = s.add_parser("runs", help="the runs of an app this node knows")
    add_api_args(rs)
    add_format(rs)
    rs.add_argument("name")
    rs.set_defaults(func=_runs)
    st = s.add_parser("status", help="one run: state, progress, reason, report files")
    add_api_args(st)
    add_format(st)
    st.add_argument("name")
    st.add_argument("run_id")
    st.add_argument("--wait", action="store_true",
                    help="follow the run until it ends (exit 1 unless it succeeded)")
    st.add_argument("--timeout", type=float, default=0,
                    help="stop waiting after this many seconds")
    st.add_argument("--interval", type=float, default=0.5, help=argparse.SUPPRESS)
    st.add_argument("--out", metavar="DIR", help="download the report files of a finished "
                                                 "run into DIR")
    st.add_argument("--force", action="store_true", help="write into a non-empty --out")
    st.set_defaults(func=_status)
    p.set_defaults(func=lambda a: p.print_help() or 2)


# -- talking to the node ------------------------------------------------------------------------

class Client:
    """The node's REST API; errors become CliError with the node's reason."""

    def __init__(self, args: argparse.Namespace) -> None:
        from yinji.cli.http import client

        self.base = args.api
        self.http = client(args)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def call(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        try:
            r = self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise CliError(f"cannot reach the node at {self.base}: {exc}") from None
        if r.status_code >= 400:
            raise CliError(f"{method} {path}: {r.status_code} {_detail(r)}")
        return r.json()

    def download(self, path: str, target: Path) -> int:
        """Stream a file to `target` (via a temporary name); returns its size."""
        import httpx

        part = target.with_name(f".{target.name}.part")
        try:
            with self.http.stream("GET", path) as r:
                if r.status_code >= 400:
                    r.read()
                    raise CliError(f"GET {path}: {r.status_code} {_detail(r)}")
                with open(part, "wb") as fh:
                    for chunk in r.iter_bytes():
                        fh.write(chunk)
            os.replace(part, target)
        except httpx.HTTPError as exc:
            raise CliError(f"downloading {target.name}: {exc}") from None
        finally:
            part.unlink(missing_ok=True)
        return target.stat().st_size


def _detail(r: Any) -> str:
    try:
        detail = r.json().get("detail", r.text)
    except ValueError:
        return r.text[:500]
    if isinstance(detail, list):   # FastAPI validation errors
        return "; ".join(f"{'.'.join(map(str, d.get('loc', [])))}: {d.get('msg')}"
                         for d in detail)
    return str(detail)


def report_errors(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    @functools.wraps(fn)
    def run(args: argparse.Namespace) -> int:
        from yinji.textfile import TableFileError

        try:
            return fn(args)
        except (CliError, TableFileError, OSError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return run


# -- list, show ------------------------------------------------------------------------------------

@report_errors
def _list(args: argparse.Namespace) -> int:
    with Client(args) as c:
        apps = c.call("GET", "/apps")
    emit(apps, ["name", "version", "title"], args.format)
    return 0


@report_errors
def _show(args: argparse.Namespace) -> int:
    with Client(args) as c:
        a = c.call("GET", f"/apps/{args.name}")
    if args.format != "table":
        emit_record(a, args.format)
        return 0
    print(f"{a['name']} (version {a['version']}): {a['title']}")
    if a.get("summary"):
        print(a["summary"])
    print(f"protocol: {a['protocol']}")
    print("roles:")
    for role in a["roles"]:
        many = "any number of companies" if role["many"] else "one company"
        print(f"  {role['name']} ({many}){': ' + role['help'] if role['help'] else ''}")
        for col in role["columns"]:
            opt = " (optional)" if col["name"] in role.get("optional", []) else ""
            print(f"    {col['name']}\t{col['kind']}{opt}\t{col['help']}")
    print("parameters:" if a["params"] else "parameters: none")
    for p in a["params"]:
        bits = [p["type"], "required" if p["required"] else f"default {_show_value(p['default'])}"]
        if p["minimum"] is not None or p["maximum"] is not None:
            lo = "" if p["minimum"] is None else f"{p['minimum']:g}"
            hi = "" if p["maximum"] is None else f"{p['maximum']:g}"
            bits.append(f"bounds [{lo}, {hi}]")
        if p["choices"]:
            bits.append("one of " + ", ".join(map(str, p["choices"])))
        print(f"  {p['name']}\t{'; '.join(bits)}\t{p['help']}")
    print(f"private input: {a['private_input'] or 'none'}")
    return 0


def _show_value(v: Any) -> str:
    if isinstance(v, dict):
        return ",".join(f"{k}={x}" for k, x in v.items())
    if isinstance(v, list):
        return ",".join(map(str, v))
    return str(v)


# -- run --------------------------------------------------------------------------------------------

def parse_input(text: str) -> tuple[str, dict[str, Any]]:
    """NODE=DATASET[:ROLE][,LOGICAL=ACTUAL...] -> (node, {dataset, role?, columns?})."""
    node, sep, rest = text.partition("=")
    first, *mapping = rest.split(",")
    dataset, _, role = first.partition(":")
    if not sep or not node.strip() or not dataset.strip():
        raise CliError(f"--input {text!r}: expected NODE=DATASET[:ROLE][,LOGICAL=ACTUAL...]")
    out: dict[str, Any] = {"dataset": dataset.strip()}
    if role.strip():
        out["role"] = role.strip()
    columns = {}
    for item in mapping:
        logical, eq, actual = item.partition("=")
        if not eq or not logical.strip() or not actual.strip():
            raise CliError(f"--input {text!r}: column mapping {item!r} must be LOGICAL=ACTUAL")
        columns[logical.strip()] = actual.strip()
    if columns:
        out["columns"] = columns
    return node.strip(), out


def run_body(args: argparse.Namespace) -> dict[str, Any]:
    """The POST /apps/NAME/runs body from the command line."""
    params: dict[str, str] = {}
    for item in args.param:
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise CliError(f"--param {item!r}: expected K=V")
        if key.strip() in params:
            raise CliError(f"--param {key.strip()!r} given twice")
        params[key.strip()] = value.strip()
    inputs: dict[str, Any] = {}
    for item in args.input:
        node, inp = parse_input(item)
        if node in inputs:
            raise CliError(f"--input for {node!r} given twice")
        inputs[node] = inp
    body: dict[str, Any] = {"params": params, "inputs": inputs}
    if args.recipient:
        body["recipients"] = list(dict.fromkeys(args.recipient))
    if args.compute:
        body["compute"] = [n.strip() for n in args.compute.split(",") if n.strip()]
    if args.private_file:
        body["private"] = {"ids": read_ids(args.private_file, args.private_column)}
    elif args.private_column:
        raise CliError("--private-column needs --private-file")
    return body


def read_ids(path: str, column: str | None) -> list[str]:
    """The IDs in one column of a CSV/xlsx file (the first column unless named)."""
    from yinji.textfile import read_table

    table = read_table(path)
    if not table.header:
        raise CliError(f"{path}: the file is empty")
    name = column or table.header[0]
    if name not in table.header:
        raise CliError(f"{path}: no column {name!r} (columns: {', '.join(table.header)})")
    j = table.header.index(name)
    ids = [row[j].strip() for row in table.rows if j < len(row) and row[j].strip()]
    if not ids:
        raise CliError(f"{path}: column {name!r} holds no IDs")
    return ids


def request_bytes(body: dict[str, Any]) -> bytes:
    """The run request as JSON, refused here if the node's body limit would refuse it (the
    node closes the connection on an oversized body, which would read as a network error)."""
    import json

    from yinji.node.api.limits import MAX_BODY

    payload = json.dumps(body, ensure_ascii=False).encode()
    if len(payload) > MAX_BODY:
        ids = len((body.get("private") or {}).get("ids") or [])
        raise CliError(f"the run request is {len(payload) / 2**20:.1f} MiB, over the node "
                       f"API's limit of {MAX_BODY / 2**20:.0f} MiB"
                       + (f" (the private file holds {ids:,} IDs: split it)" if ids else ""))
    return payload


def _out_dir(path: Path, force: bool) -> None:
    if path.exists() and not path.is_dir():
        raise CliError(f"--out {path} exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise CliError(f"--out {path} is not empty (use --force to write into it)")


@report_errors
def _run(args: argparse.Namespace) -> int:
    body = run_body(args)
    if args.out and not args.wait:
        raise CliError("--out needs --wait (or fetch the files later: yinji app status NAME "
                       "ID --out DIR)")
    if args.out:
        _out_dir(Path(args.out), args.force)   # refuse before anything is proposed
    payload = request_bytes(body)
    with Client(args) as c:
        view = c.call("POST", f"/apps/{args.name}/runs", content=payload,
                      headers={"Content-Type": "application/json"})
        run_id = view["job"]["id"]
        info = sys.stdout if args.format == "table" else sys.stderr   # keep stdout parseable
        print(f"run {run_id} of {args.name}: {view['state']}"
              + (f" ({len(body['private']['ids'])} private IDs stay on this node)"
                 if "private" in body else ""), file=info)
        if args.format != "table":
            return _run_machine(c, args, view, info)
        if not args.wait:
            if view["state"] in FINAL and view["state"] != "succeeded":
                return _ended(view)
            print(f"follow it with: yinji app status {args.name} {run_id}")
            return 0
        try:
            view = follow(c, args.name, run_id, args.interval, args.timeout)
        except KeyboardInterrupt:
            print(f"stopped waiting; the run goes on: yinji app status {args.name} {run_id}",
                  file=sys.stderr)
            return 130
        if view["state"] != "succeeded":
            return _ended(view)
        out = Path(args.out or f"{args.name}-{run_id[:8]}")
        return deliver(c, args.name, view, out, args.force)


def _run_machine(c: Client, args: argparse.Namespace, view: dict[str, Any], info: Any) -> int:
    """`run --format csv|json`: progress on stderr, the run's final (or first) view on
    stdout; with --wait and --out the report files are downloaded too."""
    if args.wait:
        view = follow(c, args.name, view["job"]["id"], args.interval, args.timeout, out=info)
    job = view["job"]
    emit_record({"id": job["id"], "app": view["app"], "state": view["state"],
                 "progress": view["progress"], "stage": view["stage"],
                 "reason": job["reason"], "files": view["files"]}, args.format, raw=view)
    if args.wait and view["state"] != "succeeded":
        return 1
    if args.wait and args.out:
        with contextlib.redirect_stdout(info):
            return deliver(c, args.name, view, Path(args.out), args.force, summary=False)
    return 0


def follow(c: Client, name: str, run_id: str, interval: float = 0.5,
           timeout: float = 0, out: Any = None) -> dict[str, Any]:
    """Poll the run until it is final, printing a line whenever its state, stage or percent
    changes; returns its last view."""
    deadline = time.monotonic() + timeout if timeout else None
    last = None
    while True:
        view = c.call("GET", f"/apps/{name}/runs/{run_id}")
        now = (view["state"], view["stage"], round(100 * (view["progress"] or 0)))
        if now != last:
            stage = f"  {view['stage']}" if view["stage"] else ""
            print(f"  {now[2]:3d}%  {view['state']}{stage}", flush=True, file=out)
            last = now
        if view["state"] in FINAL:
            return view
        if deadline is not None and time.monotonic() > deadline:
            raise CliError(f"run {run_id} is still {view['state']} after {timeout:g} s; it goes "
                           f"on: yinji app status {name} {run_id}")
        time.sleep(interval)


def _ended(view: dict[str, Any]) -> int:
    print(f"run {view['job']['id']} {view['state']}: {view['job']['reason'] or 'no reason given'}",
          file=sys.stderr)
    return 1


def deliver(c: Client, name: str, view: dict[str, Any], out: Path, force: bool,
            summary: bool = True) -> int:
    """Print the report's title and summary (if `summary`) and download its files into
    `out`."""
    run_id = view["job"]["id"]
    report = view.get("report")
    if report is None or not view["files"]:
        recipients = ", ".join(view["job"]["spec"]["recipients"])
        print(f"run {run_id} succeeded; this node received no report (recipients: "
              f"{recipients})")
        return 0
    if summary:
        print(report.get("title", ""))
        for line in report.get("summary") or []:
            print(f"  {line}")
    bad = [f for f in view["files"] if not _FILE.match(f)]
    if bad:
        raise CliError(f"the node lists file names this CLI will not write: {bad}")
    _out_dir(out, force)
    out.mkdir(parents=True, exist_ok=True)
    for f in view["files"]:
        size = c.download(f"/apps/{name}/runs/{run_id}/files/{f}", out / f)
        print(f"  {out / f}\t{size:,} bytes")
    main = out / "report.html"
    print(f"report written to {main if main.exists() else out}")
    return 0


# -- runs, status ----------------------------------------------------------------------------------

def _when(ts: float | None) -> str:
    return "" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


@report_errors
def _runs(args: argparse.Namespace) -> int:
    with Client(args) as c:
        jobs = c.call("GET", f"/apps/{args.name}/runs")
    rows = [{**j, "progress": f"{round(100 * (j['progress'] or 0))}%",
             "created": _when(j["created"])} for j in jobs]
    emit(rows, ["id", "state", "progress", "stage", "proposer", "created"], args.format,
         raw=jobs)
    return 0


@report_errors
def _status(args: argparse.Namespace) -> int:
    with Client(args) as c:
        view = c.call("GET", f"/apps/{args.name}/runs/{args.run_id}")
        if args.wait:
            view = follow(c, args.name, args.run_id, args.interval, args.timeout,
                          out=sys.stderr if args.format != "table" else sys.stdout)
    job = view["job"]
    if args.format != "table":
        emit_record({"id": job["id"], "app": view["app"], "state": view["state"],
                     "progress": view["progress"], "stage": view["stage"],
                     "reason": job["reason"], "files": view["files"]}, args.format, raw=view)
        if args.out:
            raise CliError("--out works with --format table only")
        return 0 if not args.wait or view["state"] == "succeeded" else 1
    print(f"run {job['id']} of {view['app']}: {view['state']}, "
          f"{round(100 * (view['progress'] or 0))}% {view['stage'] or ''}".rstrip())
    if job["reason"]:
        print(f"reason: {job['reason']}")
    spec = job["spec"]
    print(f"proposer: {job['proposer']}; inputs: {', '.join(sorted(spec['inputs']))}; "
          f"recipients: {', '.join(spec['recipients'])}")
    decided = {a["node"]: a["decision"] for a in job["approvals"]}
    print("approvals: " + ", ".join(f"{n} {decided.get(n, 'pending')}" for n in
                                    sorted(set(spec["inputs"]) | set(spec["recipients"]))))
    if view.get("report"):
        print(view["report"].get("title", ""))
        for line in view["report"].get("summary") or []:
            print(f"  {line}")
    if view["files"]:
        print("files: " + ", ".join(view["files"]))
    if args.out:
        if view["state"] != "succeeded":
            raise CliError(f"run {job['id']} is {view['state']}: no report to download")
        with Client(args) as c:
            return deliver(c, args.name, view, Path(args.out), args.force, summary=False)
    return 0 if not args.wait or view["state"] == "succeeded" else 1
