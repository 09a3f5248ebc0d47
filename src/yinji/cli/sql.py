"""`yinji sql`: propose a secure SQL query (`sql.query` job) through a node's REST API.

    yinji sql "SELECT segment, SUM(assets_cny) FROM clients GROUP BY segment" \\
        --table securities:clients --table fund:clients --table futures:clients \\
        --type clients.segment=category:retail,affluent,private,institutional \\
        --type clients.assets_cny=decimal --recipient fund --wait

Table names in the query are dataset ids; `--table NODE:DATASET` (repeat) names who holds
it (the same dataset at several nodes is one table split across them). `--type
TABLE.COLUMN=KIND[:v1,v2,...]` declares each column's public type (int, decimal, date, string,
category with its values); the columns of a table are the ones declared. Each data owner
checks the query against its column policy before approval; with --wait the result table
is printed once the job succeeds (at the recipient's node).

    yinji sql-budget clients 2.0 --home ./securities     # DP budget of a dataset (local)
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from yinji.cli.http import add_api_args
from yinji.cli.output import add_format, emit


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sql", help="propose a secure SQL query across nodes",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("query", help="the SELECT statement; table names are dataset ids")
    p.add_argument("--table", action="append", required=True, metavar="NODE:DATASET",
                   help="a node holding a table of the query (repeat)")
    p.add_argument("--type", action="append", required=True, metavar="TABLE.COLUMN=KIND",
                   help="a column's type: int, decimal, date, string or category:v1,v2,...")
    p.add_argument("--key", action="append", default=[], metavar="TABLE.COLUMN",
                   help="a column declared unique (for JOINs)")
    p.add_argument("--recipient", required=True, help="the node that receives the result")
    p.add_argument("--compute", help="three compute nodes a,b,c (default: the first three "
                                     "table holders)")
    p.add_argument("--helper", action="append", default=[],
                   help="a node that computes without data (when fewer than three hold tables)")
    p.add_argument("--min-group", type=int, default=0, help="a minimum group size floor")
    p.add_argument("--allow-join-size", action="store_true",
                   help="permit the hidden-intersection join (reveals |A∩B| to the compute "
                        "parties)")
    p.add_argument("--wait", action="store_true", help="wait and print the result")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--interval", type=float, default=0.5)
    add_format(p)
    add_api_args(p)
    p.set_defaults(func=_run)
    b = sub.add_parser("sql-budget", help="show or set a dataset's differential-privacy budget "
                       "(this node's ledger)",
                       description="Show, or with EPSILON set, the total epsilon that sql.query "
                       "jobs may spend on DATASET's DP-marked columns (a dataset without a "
                       "budget cannot be queried with noise). Local: reads the node folder.")
    b.add_argument("dataset")
    b.add_argument("epsilon", nargs="?", type=float, help="the new total (>= 0)")
    b.add_argument("--home", default=os.environ.get("YINJI_HOME", "."),
                   help="the node's folder (default $YINJI_HOME or .)")
    b.set_defaults(func=_budget)


def _budget(args: argparse.Namespace) -> int:
    from yinji.node.sql_runner import budget
    from yinji.sql.ledger import LedgerError

    try:
        b = budget(Path(args.home), args.dataset, args.epsilon)
    except (ValueError, LedgerError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if b is None:
        print(f"dataset {args.dataset!r} has no privacy budget (noised queries are refused)")
    else:
        print(f"dataset {b.dataset!r}: epsilon limit {b.limit:g}, spent {b.spent:g}, "
              f"remaining {b.remaining:g}")
    return 0


def job_create(args: argparse.Namespace) -> dict[str, Any]:
    """The JobCreate body of the arguments (SystemExit naming a malformed one)."""
    types: dict[str, dict[str, Any]] = {}
    for t in args.type:
        col, _, kind = t.partition("=")
        table, _, column = col.partition(".")
        if not (table and column and kind):
            raise SystemExit(f"error: --type {t!r}: expected TABLE.COLUMN=KIND")
        name, _, values = kind.partition(":")
        spec: Any = ({"kind": name, "categories": values.split(",")} if name == "category"
                     else name)
        types.setdefault(table, {})[column] = spec
    inputs = {}
    for t in args.table:
        node, _, ds = t.partition(":")
        if not node or not ds:
            raise SystemExit(f"error: --table {t!r}: expected NODE:DATASET")
        if ds not in types:
            raise SystemExit(f"error: --table {t!r}: declare its columns with --type {ds}.COL=KIND")
        if node in inputs:
            raise SystemExit(f"error: node {node!r} given twice (one table per node)")
        inputs[node] = {"dataset": ds, "columns": list(types[ds])}
    params: dict[str, Any] = {"sql": args.query, "types": types}
    keys = {}
    for k in args.key:
        table, _, column = k.partition(".")
        keys[table] = column
    if keys:
        params["keys"] = keys
    if args.compute:
        params["compute"] = args.compute.split(",")
    if args.min_group:
        params["min_group"] = args.min_group
    if args.allow_join_size:
        params["allow_join_size"] = True
    body: dict[str, Any] = {"protocol": "sql.query", "inputs": inputs, "params": params,
                            "recipients": [args.recipient]}
    if args.helper:
        body["helpers"] = args.helper
    return body


def _run(args: argparse.Namespace) -> int:
    import httpx

    from yinji.cli.http import client as api_client
    from yinji.cli.node import wait_job

    body = job_create(args)
    try:
        with api_client(args) as client:
            r = client.post("/jobs", json=body)
            if not r.is_success:
                print(f"error: {r.status_code} {r.text}", file=sys.stderr)
                return 1
            job = r.json()
            if job["state"] in ("failed", "rejected"):
                print(f"error: job {job['id']} {job['state']}: {job['reason']}", file=sys.stderr)
                return 1
            print(f"job {job['id']} proposed", file=sys.stderr)
            for line in job.get("sql_checks") or []:
                print(f"  {line}", file=sys.stderr)
            if not args.wait:
                return 0
            job = wait_job(client, job, args.timeout, args.interval)
            if job is None:
                return 3
            if job["state"] != "succeeded":
                print(f"error: job {job['id']} {job['state']}: {job['reason']}", file=sys.stderr)
                return 1
            if not job["has_result"]:
                print("the job succeeded; the result is at the recipient's node",
                      file=sys.stderr)
                return 0
            res = client.get(f"/jobs/{job['id']}/result")
            res.raise_for_status()
    except httpx.HTTPError as exc:
        print(f"error: cannot reach the node at {args.api}: {exc}", file=sys.stderr)
        return 1
    result = res.json()["result"]
    cols = result["columns"]
    emit([dict(zip(cols, r, strict=True)) for r in result["rows"]], cols, args.format,
         raw=result)
    return 0
