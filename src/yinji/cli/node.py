"""`yinji node | peer | token | dataset | job | audit | approvals`: run and administer a
node."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path

import yaml

from yinji.cli.admin import add_home_arg, admin_errors, when
from yinji.cli.http import add_api_args


def register(sub: argparse._SubParsersAction) -> None:
    # node
    p = sub.add_parser("node", help="create and run a node")
    s = p.add_subparsers(dest="node_command", metavar="SUBCOMMAND")
    i = s.add_parser("init", help="create the node folder: keys, certificate, config")
    add_home_arg(i)
    i.add_argument("--name", required=True)
    i.add_argument("--host", default="127.0.0.1")
    i.add_argument("--api-port", type=int, default=8700)
    i.add_argument("--dataplane-port", type=int, default=8800)
    i.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in the folder)")
    i.add_argument("--crypto-profile", choices=["international", "sm"], default="international",
                   help="international (SHA-256, Ed25519, AES-GCM) or sm (SM3, SM2, SM4-GCM; "
                        "JR/T 0196-2020); fixed for the node's life, the same on every peer")
    i.add_argument("--ca", metavar="DIR",
                   help="issue the node's certificate from the group CA in DIR (yinji ca init)"
                        " instead of a self-signed one")
    i.add_argument("--plain-http", action="store_true",
                   help="serve the REST API without TLS (loopback --host only; development)")
    i.set_defaults(func=admin_errors(_init))
    r = s.add_parser("serve", help="run the node: REST API (HTTPS) and TLS data plane")
    add_home_arg(r)
    r.add_argument("--plain-http", action="store_true", default=None,
                   help="serve the REST API over plain HTTP (only if it listens on loopback)")
    r.set_defaults(func=admin_errors(_serve))
    st = s.add_parser("status", help="this node's name, addresses, and certificate expiry "
                                     "(own and peers'), with warnings")
    add_home_arg(st)
    st.set_defaults(func=admin_errors(_status))
    rc = s.add_parser("rotate-cert", help="new TLS key and certificate, accepted by the peers "
                                          "before the node switches to it (no restart)")
    add_home_arg(rc)
    rc.add_argument("--ca", metavar="DIR", help="issue it from the group CA in DIR "
                                               "(default: self-signed)")
    rc.add_argument("--days", type=int, default=365, help="validity in days (default 365)")
    rc.add_argument("--force", action="store_true",
                    help="switch even if some peers did not accept it (they refuse this node "
                         "until they get it, e.g. by `peer add` with the new bundle)")
    rc.add_argument("--timeout", type=float, default=10.0, help="seconds per peer")
    rc.set_defaults(func=admin_errors(_rotate_cert))
    b = s.add_parser("bundle", help="print this node's public identity bundle (YAML)")
    add_home_arg(b)
    b.set_defaults(func=_bundle)
    p.set_defaults(func=lambda a: p.print_help() or 2)

    # peer
    p2 = sub.add_parser("peer", help="manage the peers this node trusts")
    s2 = p2.add_subparsers(dest="peer_command", metavar="SUBCOMMAND")
    a = s2.add_parser("add", help="add a peer from its identity bundle")
    add_home_arg(a)
    a.add_argument("--bundle", required=True, help="the peer's bundle (yinji node bundle)")
    a.add_argument("--fingerprint", required=True,
                   help="the peer's certificate SHA-256, obtained out of band")
    a.set_defaults(func=_peer_add)
    rm = s2.add_parser("remove", help="stop trusting a peer (a running node at once)")
    add_home_arg(rm)
    rm.add_argument("name")
    rm.set_defaults(func=_peer_remove)
    ls = s2.add_parser("list", help="the peers: name, data-plane address, fingerprint")
    add_home_arg(ls)
    ls.set_defaults(func=_peer_list)
    p2.set_defaults(func=lambda a: p2.print_help() or 2)

    # token
    p3 = sub.add_parser("token", help="API tokens")
    s3 = p3.add_subparsers(dest="token_command", metavar="SUBCOMMAND")
    t = s3.add_parser("add", help="create a token (printed once; stored hashed)")
    add_home_arg(t)
    t.add_argument("--name", required=True)
    t.add_argument("--role", required=True,
                   choices=["operator", "approver", "auditor", "admin", "caller", "metrics"],
                   help="admin: may only add and remove peers through the API; caller: may "
                        "only call the scenario APIs its --scope names; metrics: may only "
                        "read GET /metrics (a Prometheus scrape token)")
    t.add_argument("--scope", action="append", default=[], metavar="scenario:NAME/vN",
                   help="a scenario endpoint a caller token may call (repeatable)")
    t.add_argument("--out", help="write the token to this file (0600) instead of printing")
    t.add_argument("--expires", default="default",
                   help="lifetime: N d|h|m or never (default: token_lifetime in node.yaml, 90d)")
    t.set_defaults(func=_token_add)
    tl = s3.add_parser("list", help="every token: id, name, role, state, expiry (no secrets)")
    add_home_arg(tl)
    tl.set_defaults(func=_token_list)
    tr = s3.add_parser("revoke", help="revoke a token by id, or every active token of a name")
    add_home_arg(tr)
    tr.add_argument("token", metavar="ID_OR_NAME")
    tr.set_defaults(func=_token_revoke)
    p3.set_defaults(func=lambda a: p3.print_help() or 2)

    # dataset
    p4 = sub.add_parser("dataset", help="data catalog")
    s4 = p4.add_subparsers(dest="dataset_command", metavar="SUBCOMMAND")
    d = s4.add_parser("add", help="register a new dataset from a YAML spec (id, kind, "
                                  "location, table, schema, policy); an existing id is refused")
    add_home_arg(d)
    d.add_argument("--spec", required=True)
    d.set_defaults(func=_dataset_add, update=False)
    du = s4.add_parser("update", help="replace an existing dataset from a YAML spec "
                                      "(audited with before and after)")
    add_home_arg(du)
    du.add_argument("--spec", required=True)
    du.set_defaults(func=_dataset_add, update=True)
    dl = s4.add_parser("list", help="datasets with their locations and revisions")
    add_home_arg(dl)
    dl.set_defaults(func=_dataset_list)
    dsh = s4.add_parser("show", help="one dataset's descriptor: kind, location, table, schema, "
                                     "policy, revision (YAML, the form `dataset add` reads)")
    add_home_arg(dsh)
    dsh.add_argument("dataset_id")
    dsh.set_defaults(func=_dataset_show)
    dr = s4.add_parser("roots", help="where datasets may come from: data roots, sql sources")
    add_home_arg(dr)
    dr.set_defaults(func=_dataset_roots)
    p4.set_defaults(func=lambda a: p4.print_help() or 2)

    # job (through the REST API)
    p5 = sub.add_parser("job", help="jobs, through a node's REST API")
    s5 = p5.add_subparsers(dest="job_command", metavar="SUBCOMMAND")
    from yinji.cli.output import add_format

    for name, text in (("list", "jobs on the node (--state to filter)"),
                       ("show", "one job: state, progress, approvals"),
                       ("approve", "approve a proposed job (approver)"),
                       ("reject", "reject a proposed job (approver)"),
                       ("cancel", "cancel a job (operator)"),
                       ("result", "this node's result of a finished job"),
                       ("propose", "propose a job from a JSON/YAML JobCreate file")):
        j = s5.add_parser(name, help=text)
        add_api_args(j)
        add_format(j)
        if name == "list":
            j.add_argument("--state", help="only jobs in this state")
        elif name == "propose":
            j.add_argument("spec")
        else:
            j.add_argument("job_id")
        if name in ("approve", "reject"):
            j.add_argument("--reason", default="")
        if name == "result":
            j.add_argument("--out", metavar="DIR",
                           help="also write the result as CSV, .xlsx and HTML into DIR")
        if name in ("show", "approve", "propose", "result"):
            j.add_argument("--wait", action="store_true",
                           help="wait until the job is final (exit 1 unless it succeeded)")
            j.add_argument("--timeout", type=float, default=0,
                           help="stop waiting after this many seconds (exit 3)")
            j.add_argument("--interval", type=float, default=0.5, help=argparse.SUPPRESS)
        j.set_defaults(func=_job, job_command=name)
    p5.set_defaults(func=lambda a: p5.print_help() or 2)

    # audit (offline, on the node's store)
    p6 = sub.add_parser("audit", help="verify or export the node's audit log")
    s6 = p6.add_subparsers(dest="audit_command", metavar="SUBCOMMAND")
    v = s6.add_parser("verify", help="check hashes, links, signatures and the signed head")
    add_home_arg(v)
    v.add_argument("--database-url")
    v.add_argument("--peers", action="store_true",
                   help="also fetch the heads peers witnessed for this node (over the data "
                        "plane) and report a rollback or fork against them")
    v.add_argument("--timeout", type=float, default=10.0, help="seconds per peer request")
    v.add_argument("--archive", action="append", default=[], metavar="FILE",
                   help="also verify this archive (yinji audit archive) and that it joins "
                        "the live log (repeatable: every archive of the node)")
    v.set_defaults(func=_audit_verify)
    ar = s6.add_parser("archive", help="export entries older than N days to an archive file "
                                       "and prune them (the chain stays verifiable)")
    add_home_arg(ar)
    ar.add_argument("--database-url")
    ar.add_argument("--older-than", required=True, metavar="AGE",
                    help="N d|h|m: archive the entries older than this (e.g. 365d)")
    ar.add_argument("--out", required=True, help="the archive file to write (JSON lines)")
    ar.set_defaults(func=_audit_archive)
    an = s6.add_parser("anchor", help="send the node's signed head to its peers now "
                                      "(through the running node's REST API)")
    add_api_args(an)
    an.set_defaults(func=_audit_anchor)
    e = s6.add_parser("export", help="JSON lines to stdout or --out")
    add_home_arg(e)
    e.add_argument("--database-url")
    e.add_argument("--out")
    e.set_defaults(func=_audit_export)
    ca = s6.add_parser("calls", help="scenario API calls in the log (called node and "
                                     "participants): call id, caller, params hash, decision")
    add_home_arg(ca)
    ca.add_argument("--database-url")
    ca.add_argument("--scenario", help="only this scenario's calls")
    ca.set_defaults(func=_audit_calls)
    p6.set_defaults(func=lambda a: p6.print_help() or 2)

    # approvals standing (yinji.cli.approvals; node-local like token and dataset)
    from yinji.cli import approvals

    approvals.register(sub)


def _init(args: argparse.Namespace) -> int:
    from yinji.node.identity import init_node, own_fingerprint

    cfg = init_node(args.home, args.name, api_port=args.api_port,
                    dataplane_port=args.dataplane_port, host=args.host,
                    database_url=args.database_url, crypto_profile=args.crypto_profile,
                    plain_http=args.plain_http, ca=_load_ca(args.ca) if args.ca else None)
    cfg.data_dir.mkdir(mode=0o700, exist_ok=True)
    print(f"node {cfg.name} created in {cfg.home} (crypto profile {cfg.crypto_profile})")
    print(f"certificate fingerprint (give it to your peers): {own_fingerprint(cfg)}")
    print(f"datasets are read only from {cfg.data_dir} and the folders listed under "
          "data_roots: in node.yaml; sql datasets only from sql_sources: (name: URL) there")
    return 0


def _load_ca(folder: str):  # type: ignore[no-untyped-def]
    from yinji.crypto.certs import CertKey
    from yinji.node.config import ConfigError

    try:
        ca = CertKey((Path(folder) / "ca.crt").read_bytes(),
                     (Path(folder) / "ca.key").read_bytes())
        ca.cert  # noqa: B018 - parse now, to fail here with the folder's name
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--ca {folder}: no usable ca.crt / ca.key ({exc})") from None
    return ca


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from yinji.node.api import create_app
    from yinji.node.config import NodeConfig
    from yinji.node.https import ServerTls
    from yinji.node.node import Node

    plain = NodeConfig.load(args.home).check_plain_http(args.plain_http)  # before any work
    node = Node(args.home)
    from yinji.node.logs import setup_logging

    setup_logging(node.cfg)
    node.cfg.api_plain_http = plain
    from yinji.apps.model_report import render_json

    node.models.report_renderer = render_json   # model-health reports as CSV/.xlsx/HTML
    # SIGTERM and SIGINT both stop the node cleanly, with its `node stopped` entry: while
    # uvicorn runs it handles them (graceful shutdown) and then re-raises the signal, which
    # lands here; during start-up the signal interrupts it.
    received: list[str] = []

    def on_signal(signum: int, _frame: object) -> None:
        received.append(signal.Signals(signum).name)
        raise KeyboardInterrupt

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        node.start()
        print(f"yinji node {node.cfg.name}: API {node.cfg.api_url}, data plane "
              f"{node.cfg.dataplane}", file=sys.stderr, flush=True)
        from yinji.node.certinfo import warnings

        for w in warnings(node.cfg):
            print(f"WARNING: {w} (renew: yinji node rotate-cert)", file=sys.stderr, flush=True)
            logging.getLogger("yinji.node").warning("certificate: %s", w)
        logging.getLogger("yinji.node").info("node %s started: API %s, data plane %s",
                                             node.cfg.name, node.cfg.api_url,
                                             node.cfg.dataplane)
        # keep-alive well above uvicorn's 5 s: clients that poll a job on one node while
        # another works would otherwise race the server closing their idle connection
        factory = None
        if not plain:   # our own context, reloaded when the certificate is rotated
            tls = ServerTls(node.cfg.cert_file, node.cfg.key_file)
            node.cert_listeners.append(tls.reload)
            factory = lambda _config, _default: tls.context  # noqa: E731
        uvicorn.run(create_app(node), host=node.cfg.api_host, port=node.cfg.api_port,
                    log_level="warning", access_log=False, timeout_keep_alive=75,
                    ssl_context_factory=factory)
    except KeyboardInterrupt:
        if not received:
            raise
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):   # a second signal must not cut the stop
            signal.signal(sig, signal.SIG_IGN)
        node.stop(f"on {received[0]}" if received else "")
    return 0


def _status(args: argparse.Namespace) -> int:
    from yinji.node.certinfo import cert_status, warnings
    from yinji.node.config import NodeConfig

    cfg = NodeConfig.load(args.home)
    print(f"node {cfg.name}: API {cfg.api_url}, data plane {cfg.dataplane}, "
          f"crypto profile {cfg.crypto_profile}")
    print("certificate	whose	not_after	days_left	fingerprint")
    for r in cert_status(cfg):
        print(f"{r['name']}	{r['whose']}	{r['not_after'][:16]}	"
              f"{r['seconds_left'] / 86400:.0f}	{r['fingerprint'][:16]}")
    for w in warnings(cfg):
        print(f"WARNING: {w} (renew: yinji node rotate-cert)", file=sys.stderr)
    return 0


def _rotate_cert(args: argparse.Namespace) -> int:
    from yinji.node.admin import open_admin
    from yinji.node.rotation import peer_sender, rotate

    if args.days < 1:
        print("error: --days must be at least 1", file=sys.stderr)
        return 1
    ca = _load_ca(args.ca) if args.ca else None
    with open_admin(args.home) as admin:
        report = rotate(admin.cfg, admin.audit, peer_sender(admin.cfg, args.timeout),
                        by=admin.by, ca=ca, days=args.days, force=args.force)
    for peer, status in report.announced.items():
        print(f"{peer}: {'accepted the new certificate' if status == 'ok' else status}")
    if not report.switched:
        print(f"new certificate {report.fingerprint} staged, not in use: "
              f"{', '.join(report.pending)} did not accept it; run again when they are "
              "reachable (or --force)", file=sys.stderr)
        return 3
    print(f"switched to the new certificate {report.fingerprint}; a running node serves it "
          "from its next connection")
    for peer, status in report.confirmed.items():
        if status != "ok":
            print(f"{peer}: not told to drop the old certificate ({status})", file=sys.stderr)
    return 0


def _bundle(args: argparse.Namespace) -> int:
    from yinji.node.config import NodeConfig
    from yinji.node.identity import export_bundle

    print(yaml.safe_dump(export_bundle(NodeConfig.load(args.home)), sort_keys=False), end="")
    return 0


@admin_errors
def _peer_add(args: argparse.Namespace) -> int:
    from yinji.node.admin import open_admin
    from yinji.node.identity import load_bundle

    with open_admin(args.home) as admin:
        peer = admin.add_peer(load_bundle(args.bundle), args.fingerprint)
    print(f"peer {peer.name} at {peer.dataplane} added (fingerprint {peer.fingerprint}); "
          "a running node trusts it from its next connection")
    return 0


@admin_errors
def _peer_remove(args: argparse.Namespace) -> int:
    from yinji.node.admin import open_admin

    with open_admin(args.home) as admin:
        admin.remove_peer(args.name)
    print(f"peer {args.name} removed; a running node refuses it from its next connection")
    return 0


def _peer_list(args: argparse.Namespace) -> int:
    from yinji.node.config import NodeConfig

    for p in NodeConfig.load(args.home).peers.values():
        print(f"{p.name}\t{p.dataplane}\t{p.fingerprint}")
    return 0


@admin_errors
def _token_add(args: argparse.Namespace) -> int:
    from yinji.crypto.certs import write_private
    from yinji.node.admin import open_admin

    with open_admin(args.home) as admin:
        token = admin.tokens.add(args.name, args.role, by=admin.by, lifetime=args.expires,
                                 scopes=args.scope or None)
    if args.out:
        write_private(args.out, (token + "\n").encode())
    else:
        print(token)
    return 0


@admin_errors
def _token_list(args: argparse.Namespace) -> int:
    from yinji.node.admin import open_admin

    with open_admin(args.home) as admin:
        rows = admin.tokens.list()
    print("id\tname\trole\tstate\tcreated\texpires\tscopes")
    for r in rows:
        print(f"{r['id']}\t{r['name']}\t{r['role']}\t{r['state']}\t{when(r['created'])}\t"
              f"{when(r['expires'])}\t{','.join(r['scopes'])}")
    return 0


@admin_errors
def _token_revoke(args: argparse.Namespace) -> int:
    from yinji.node.admin import open_admin

    with open_admin(args.home) as admin:
        for r in admin.tokens.revoke(args.token, by=admin.by):
            print(f"token {r['id']} ({r['name']}, {r['role']}) revoked")
    return 0


def _spec_dataset(path: str):  # type: ignore[no-untyped-def]
    from yinji.node.catalog import CatalogError, Dataset, PolicyRule

    try:
        spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"{path}: cannot read the spec: {exc}") from None
    missing = [k for k in ("id", "kind", "location", "schema") if k not in (spec or {})]
    if missing:
        raise CatalogError(f"{path}: the spec needs {', '.join(missing)}")
    try:
        policy = [PolicyRule(**r) for r in spec.get("policy") or []]
    except TypeError as exc:
        raise CatalogError(f"{path}: policy: {exc}") from None
    return Dataset(id=str(spec["id"]), kind=spec["kind"], location=str(spec["location"]),
                   table=spec.get("table"), schema=spec["schema"], policy=policy)


@admin_errors
def _dataset_add(args: argparse.Namespace) -> int:
    from yinji.node.admin import open_admin

    ds = _spec_dataset(args.spec)
    with open_admin(args.home) as admin:
        if args.update:
            admin.catalog.update(ds, by=admin.by)
        else:
            admin.catalog.register(ds, by=admin.by)
    print(f"dataset {ds.id} {'updated to revision ' + str(ds.revision) if args.update else 'registered'}"
          f" ({', '.join(ds.schema)})")
    return 0


@admin_errors
def _dataset_list(args: argparse.Namespace) -> int:
    from yinji.node.admin import open_admin

    with open_admin(args.home) as admin:
        for ds in admin.catalog.list():
            where = ds.location + (f" table {ds.table}" if ds.table else "")
            print(f"{ds.id}\t{ds.kind}\t{where}\trevision {ds.revision}\t"
                  f"{', '.join(ds.schema)}")
    return 0


@admin_errors
def _dataset_show(args: argparse.Namespace) -> int:
    from yinji.node.admin import open_admin

    with open_admin(args.home) as admin:
        ds = admin.catalog.get(args.dataset_id)
    print(yaml.safe_dump({"id": ds.id, **ds.descriptor()}, sort_keys=False,
                         allow_unicode=True), end="")
    return 0


@admin_errors
def _dataset_roots(args: argparse.Namespace) -> int:
    from yinji.node.config import NodeConfig

    cfg = NodeConfig.load(args.home)
    for root in cfg.data_root_paths:
        print(f"data root\t{root.resolve()}")
    for name in sorted(cfg.sql_sources):
        print(f"sql source\t{name}")
    return 0


JOB_FINAL = ("succeeded", "failed", "cancelled", "rejected", "expired")
JOB_COLUMNS = ["id", "protocol", "state", "progress", "stage", "proposer", "created", "reason"]


def _job_row(job: dict) -> dict:
    return {**job, "progress": f"{round(100 * (job.get('progress') or 0))}%",
            "created": when(job.get("created"))}


def _job(args: argparse.Namespace) -> int:
    import httpx

    from yinji.cli.http import client as api_client

    try:
        with api_client(args) as client:
            return _job_call(args, client)
    except httpx.HTTPError as exc:
        print(f"error: cannot reach the node at {args.api}: {exc}", file=sys.stderr)
        return 1


def _job_call(args: argparse.Namespace, client) -> int:  # type: ignore[no-untyped-def]
    from yinji.cli.output import emit, emit_record, result_rows

    cmd = args.job_command
    if cmd == "list":
        r = client.get("/jobs", params={"state": args.state} if args.state else None)
    elif cmd in ("show", "result"):
        r = client.get(f"/jobs/{args.job_id}")
    elif cmd == "propose":
        try:
            spec = yaml.safe_load(Path(args.spec).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            print(f"error: {args.spec}: {exc}", file=sys.stderr)
            return 1
        r = client.post("/jobs", json=spec)
    elif cmd == "cancel":
        r = client.post(f"/jobs/{args.job_id}/cancel")
    else:
        r = client.post(f"/jobs/{args.job_id}/{cmd}", json={"reason": args.reason})
    if not r.is_success:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        print(f"error: {r.status_code} {detail}", file=sys.stderr)
        return 1
    if cmd == "list":
        emit([_job_row(j) for j in r.json()], JOB_COLUMNS, args.format, raw=r.json())
        return 0
    job = r.json()
    if getattr(args, "wait", False):
        job = wait_job(client, job, args.timeout, args.interval)
        if job is None:
            return 3
    if cmd == "result":
        if job["state"] != "succeeded" or not job["has_result"]:
            print(f"error: job {job['id']} is {job['state']}"
                  + ("" if job["state"] != "succeeded" else "; this node holds no result"),
                  file=sys.stderr)
            return 1
        r = client.get(f"/jobs/{job['id']}/result")
        if not r.is_success:
            print(f"error: {r.status_code} {r.text}", file=sys.stderr)
            return 1
        result = r.json()["result"]
        rows, cols = result_rows(result)
        emit(rows, cols, args.format, raw=r.json())
        entry = result.get("file") if isinstance(result, dict) else None
        if args.out:
            _write_result(job, result, rows, cols, Path(args.out))
            if isinstance(entry, dict):
                return _download_result_file(client, job["id"], entry, Path(args.out))
        elif isinstance(entry, dict):
            print(f"note: the full table ({entry['rows']} rows) is the file {entry['name']} "
                  f"at the node; --out DIR downloads it", file=sys.stderr)
        return 0
    row = _job_row(job)
    emit_record({c: row.get(c) for c in JOB_COLUMNS}, args.format, raw=job)
    if getattr(args, "wait", False) and job["state"] != "succeeded":
        return 1
    return 0


def _write_result(job: dict, result: object, rows: list, cols: list, out: Path) -> None:
    """The result as files for people: an app's report as it is, any other result as one
    table (CSV, .xlsx, self-contained HTML; formula-looking text defused)."""
    from yinji.apps.base import Report
    from yinji.apps.report import render

    if isinstance(result, dict) and isinstance(result.get("tables"), dict) and "title" in result:
        report = Report.from_json(result)
    else:
        report = Report(f"job {job['id']} ({job['protocol']})",
                        [f"state {job['state']}, proposed by {job['proposer']}"])
        def cell(v: object) -> object:
            plain = v is None or isinstance(v, str | int | float | bool)
            return v if plain else json.dumps(v, ensure_ascii=False)

        report.table("result", cols, [[cell(r.get(c)) for c in cols] for r in rows])
    files = render(report, out)
    print(f"written: {', '.join(str(p) for p in files)}", file=sys.stderr)


def _download_result_file(client, job_id: str, entry: dict, out: Path) -> int:  # type: ignore[no-untyped-def]
    """Stream a job's result file (`yinji.node.result_files`) into `out`, checking the
    SHA-256 the signed result names; a mismatch leaves no file."""
    import hashlib
    import re

    import httpx

    name = str(entry.get("name", ""))
    if not re.fullmatch(r"[A-Za-z0-9_.\-]{1,100}", name):
        print(f"error: the result names a bad file {name!r}", file=sys.stderr)
        return 1
    out.mkdir(parents=True, exist_ok=True)
    target, part = out / name, out / f".{name}.part"
    digest = hashlib.sha256()
    try:
        with client.stream("GET", f"/jobs/{job_id}/files/{name}") as r:
            if not r.is_success:
                r.read()
                print(f"error: {r.status_code} {r.text[:300]}", file=sys.stderr)
                return 1
            with open(part, "wb") as fh:
                for chunk in r.iter_bytes():
                    digest.update(chunk)
                    fh.write(chunk)
        if digest.hexdigest() != entry.get("sha256"):
            print(f"error: {name} does not match the SHA-256 in the job's result "
                  "(changed at the node?); not written", file=sys.stderr)
            return 1
        os.replace(part, target)
    except (httpx.HTTPError, OSError) as exc:
        print(f"error: downloading {name}: {exc}", file=sys.stderr)
        return 1
    finally:
        part.unlink(missing_ok=True)
    print(f"written: {target} ({entry.get('rows')} rows, SHA-256 checked)", file=sys.stderr)
    return 0


def wait_job(client, job: dict, timeout: float, interval: float) -> dict | None:  # type: ignore[no-untyped-def]
    """Poll until the job is final, a line on stderr per change; None after `timeout`."""
    import time

    deadline = time.monotonic() + timeout if timeout else None
    last = None
    while True:
        now = (job["state"], job.get("stage") or "", round(100 * (job.get("progress") or 0)))
        if now != last:
            print(f"  {now[2]:3d}%  {now[0]}  {now[1]}".rstrip(), file=sys.stderr, flush=True)
            last = now
        if job["state"] in JOB_FINAL:
            return job
        if deadline is not None and time.monotonic() > deadline:
            print(f"job {job['id']} is still {job['state']} after {timeout:g} s; it goes on: "
                  f"yinji job show {job['id']} --wait", file=sys.stderr)
            return None
        time.sleep(interval)
        r = client.get(f"/jobs/{job['id']}")
        r.raise_for_status()
        job = r.json()


def _audit_store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from yinji.node.config import NodeConfig
    from yinji.node.identity import signing_key
    from yinji.node.store import open_store

    cfg = NodeConfig.load(args.home)
    return cfg, open_store(args.database_url or cfg.db_url), signing_key(cfg)


def _audit_calls(args: argparse.Namespace) -> int:
    from yinji.node.audit import AuditLog

    cfg, store, key = _audit_store(args)
    try:
        rows = [e for e in AuditLog(store, key, cfg.name).entries()
                if e["kind"] == "scenario.call"
                and (not args.scenario or e["data"]["scenario"] == args.scenario)]
    finally:
        store.close()
    print("seq\tcall_id\twhere\tcaller\tendpoint\tdecision\tstatus\tparams_sha256\tjob_id")
    for e in rows:
        d = e["data"]
        print(f"{e['seq']}\t{d['call_id']}\t{d['where']}\t{d['caller']}\t{d['publisher']}:"
              f"{d['scenario']}/v{d['version']}\t{d['decision']}\t{d['status']}\t"
              f"{d['params_sha256']}\t{d['job_id']}")
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from yinji.node.audit import verify_rows
    from yinji.node.retention import verify_archive

    if args.peers:
        return _audit_verify_peers(args)
    cfg, store, key = _audit_store(args)
    try:
        report = (verify_archive(args.archive, store, key.public) if args.archive
                  else verify_rows(store, key.public))
    finally:
        store.close()
    if report.ok:
        print(f"audit OK: {cfg.name}, {report.entries} entries, head {report.head[:16]}")
        return 0
    print(f"audit FAILED: {cfg.name}, {report.entries} entries", file=sys.stderr)
    for p in report.problems:
        print(f"  {p}", file=sys.stderr)
    return 1


def _audit_archive(args: argparse.Namespace) -> int:
    from yinji.node.admin import cli_actor
    from yinji.node.audit import AuditLog
    from yinji.node.config import parse_lifetime
    from yinji.node.retention import RetentionError, archive

    try:
        age = parse_lifetime(args.older_than)
    except ValueError as exc:
        print(f"error: --older-than: {exc}", file=sys.stderr)
        return 1
    if age is None:
        print("error: --older-than: give an age such as 365d", file=sys.stderr)
        return 1
    cfg, store, key = _audit_store(args)
    try:
        done = archive(store, AuditLog(store, key, cfg.name), age, args.out, by=cli_actor())
    except RetentionError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()
    if not done["archived"]:
        print(f"no entries older than {args.older_than}; nothing archived")
    else:
        print(f"archived entries {done['first_seq']}..{done['last_seq']} ({done['archived']}) "
              f"to {done['out']} (SHA-256 {done['sha256']}); keep it with the node's "
              "earlier archives and verify with `yinji audit verify --archive FILE ...`")
    return 0


def _audit_verify_peers(args: argparse.Namespace) -> int:
    from yinji.node.anchors import peer_client, verify_with_peers

    cfg, store, key = _audit_store(args)
    report = verify_with_peers(cfg, store, key.public, peer_client(cfg), args.timeout)
    for peer, view in report.peers.items():
        print(f"  {peer}: {view['status']}, {view['anchors']} anchored heads up to seq "
              f"{view['last_seq']}")
    if report.ok:
        print(f"audit OK: {cfg.name}, {report.local['entries']} entries, head "
              f"{report.local['head'][:16]}, consistent with {len(report.peers)} peers' "
              "anchored heads")
        return 0
    print(f"audit FAILED: {cfg.name}, {report.local['entries']} entries", file=sys.stderr)
    for p in report.problems:
        print(f"  {p}", file=sys.stderr)
    return 1


def _audit_anchor(args: argparse.Namespace) -> int:
    from yinji.cli.http import client as api_client

    with api_client(args) as client:
        r = client.post("/audit/anchor")
    print(json.dumps(r.json(), indent=2, ensure_ascii=False))
    return 0 if r.is_success and all(p["ok"] for p in r.json()["peers"].values()) else 1


def _audit_export(args: argparse.Namespace) -> int:
    from yinji.node.audit import AuditLog

    cfg, store, key = _audit_store(args)
    lines = AuditLog(store, key, cfg.name).export_jsonl()
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    try:
        for line in lines:
            out.write(line + "\n")
    finally:
        if args.out:
            out.close()
    return 0
