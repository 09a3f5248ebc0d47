"""`yinji node | peer | token | dataset | job | audit`: run and administer a node."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import yaml


def _home(p: argparse.ArgumentParser) -> None:
    p.add_argument("--home", default=os.environ.get("YINJI_HOME", "."),
                   help="the node's folder (default $YINJI_HOME or .)")


def _api(p: argparse.ArgumentParser) -> None:
    p.add_argument("--api", default=os.environ.get("YINJI_API", "http://127.0.0.1:8700"),
                   help="node REST API base URL (default $YINJI_API)")
    p.add_argument("--token-file", help="file holding the API token (default $YINJI_TOKEN)")


def register(sub: argparse._SubParsersAction) -> None:
    # node
    p = sub.add_parser("node", help="create and run a node")
    s = p.add_subparsers(dest="node_command", metavar="SUBCOMMAND")
    i = s.add_parser("init", help="create the node folder: keys, certificate, config")
    _home(i)
    i.add_argument("--name", required=True)
    i.add_argument("--host", default="127.0.0.1")
    i.add_argument("--api-port", type=int, default=8700)
    i.add_argument("--dataplane-port", type=int, default=8800)
    i.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in the folder)")
    i.add_argument("--crypto-profile", choices=["international", "sm"], default="international",
                   help="international (SHA-256, Ed25519, AES-GCM) or sm (SM3, SM2, SM4-GCM; "
                        "JR/T 0196-2020); fixed for the node's life, the same on every peer")
    i.set_defaults(func=_init)
    r = s.add_parser("serve", help="run the node: REST API and TLS data plane")
    _home(r)
    r.set_defaults(func=_serve)
    b = s.add_parser("bundle", help="print this node's public identity bundle (YAML)")
    _home(b)
    b.set_defaults(func=_bundle)
    p.set_defaults(func=lambda a: p.print_help() or 2)

    # peer
    p2 = sub.add_parser("peer", help="manage the peers this node trusts")
    s2 = p2.add_subparsers(dest="peer_command", metavar="SUBCOMMAND")
    a = s2.add_parser("add", help="add a peer from its identity bundle")
    _home(a)
    a.add_argument("--bundle", required=True, help="the peer's bundle (yinji node bundle)")
    a.add_argument("--fingerprint", required=True,
                   help="the peer's certificate SHA-256, obtained out of band")
    a.set_defaults(func=_peer_add)
    rm = s2.add_parser("remove")
    _home(rm)
    rm.add_argument("name")
    rm.set_defaults(func=_peer_remove)
    ls = s2.add_parser("list")
    _home(ls)
    ls.set_defaults(func=_peer_list)
    p2.set_defaults(func=lambda a: p2.print_help() or 2)

    # token
    p3 = sub.add_parser("token", help="API tokens")
    s3 = p3.add_subparsers(dest="token_command", metavar="SUBCOMMAND")
    t = s3.add_parser("add", help="create a token (printed once; stored hashed)")
    _home(t)
    t.add_argument("--name", required=True)
    t.add_argument("--role", required=True, choices=["operator", "approver", "auditor"])
    t.add_argument("--out", help="write the token to this file (0600) instead of printing")
    t.set_defaults(func=_token_add)
    p3.set_defaults(func=lambda a: p3.print_help() or 2)

    # dataset
    p4 = sub.add_parser("dataset", help="data catalog")
    s4 = p4.add_subparsers(dest="dataset_command", metavar="SUBCOMMAND")
    d = s4.add_parser("add", help="register a dataset from a YAML spec (id, kind, location, "
                                  "table, schema, policy)")
    _home(d)
    d.add_argument("--spec", required=True)
    d.set_defaults(func=_dataset_add)
    p4.set_defaults(func=lambda a: p4.print_help() or 2)

    # job (through the REST API)
    p5 = sub.add_parser("job", help="jobs, through a node's REST API")
    s5 = p5.add_subparsers(dest="job_command", metavar="SUBCOMMAND")
    for name in ("list", "show", "approve", "reject", "cancel", "result"):
        j = s5.add_parser(name)
        _api(j)
        if name != "list":
            j.add_argument("job_id")
        if name in ("approve", "reject"):
            j.add_argument("--reason", default="")
        j.set_defaults(func=_job, job_command=name)
    pr = s5.add_parser("propose", help="propose a job from a JSON/YAML JobCreate file")
    _api(pr)
    pr.add_argument("spec")
    pr.set_defaults(func=_job, job_command="propose")
    p5.set_defaults(func=lambda a: p5.print_help() or 2)

    # audit (offline, on the node's store)
    p6 = sub.add_parser("audit", help="verify or export the node's audit log")
    s6 = p6.add_subparsers(dest="audit_command", metavar="SUBCOMMAND")
    v = s6.add_parser("verify", help="check hashes, links, signatures and the signed head")
    _home(v)
    v.add_argument("--database-url")
    v.set_defaults(func=_audit_verify)
    e = s6.add_parser("export", help="JSON lines to stdout or --out")
    _home(e)
    e.add_argument("--database-url")
    e.add_argument("--out")
    e.set_defaults(func=_audit_export)
    p6.set_defaults(func=lambda a: p6.print_help() or 2)


def _init(args: argparse.Namespace) -> int:
    from yinji.node.identity import init_node, own_fingerprint

    cfg = init_node(args.home, args.name, api_port=args.api_port,
                    dataplane_port=args.dataplane_port, host=args.host,
                    database_url=args.database_url, crypto_profile=args.crypto_profile)
    print(f"node {cfg.name} created in {cfg.home} (crypto profile {cfg.crypto_profile})")
    print(f"certificate fingerprint (give it to your peers): {own_fingerprint(cfg)}")
    return 0


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from yinji.node.api import create_app
    from yinji.node.node import Node

    node = Node(args.home)
    node.start()
    try:
        print(f"yinji node {node.cfg.name}: API {node.cfg.api_url}, data plane "
              f"{node.cfg.dataplane}", file=sys.stderr, flush=True)
        # keep-alive well above uvicorn's 5 s: clients that poll a job on one node while
        # another works would otherwise race the server closing their idle connection
        uvicorn.run(create_app(node), host=node.cfg.api_host, port=node.cfg.api_port,
                    log_level="warning", access_log=False, timeout_keep_alive=75)
    finally:
        node.stop()
    return 0


def _bundle(args: argparse.Namespace) -> int:
    from yinji.node.config import NodeConfig
    from yinji.node.identity import export_bundle

    print(yaml.safe_dump(export_bundle(NodeConfig.load(args.home)), sort_keys=False), end="")
    return 0


def _peer_add(args: argparse.Namespace) -> int:
    from yinji.node.config import NodeConfig
    from yinji.node.identity import add_peer, load_bundle

    peer = add_peer(NodeConfig.load(args.home), load_bundle(args.bundle), args.fingerprint)
    print(f"peer {peer.name} at {peer.dataplane} added (fingerprint {peer.fingerprint}); "
          "restart the node to use it")
    return 0


def _peer_remove(args: argparse.Namespace) -> int:
    from yinji.node.config import NodeConfig
    from yinji.node.identity import remove_peer

    remove_peer(NodeConfig.load(args.home), args.name)
    return 0


def _peer_list(args: argparse.Namespace) -> int:
    from yinji.node.config import NodeConfig

    for p in NodeConfig.load(args.home).peers.values():
        print(f"{p.name}\t{p.dataplane}\t{p.fingerprint}")
    return 0


def _token_add(args: argparse.Namespace) -> int:
    from yinji.crypto.certs import write_private
    from yinji.node.config import NodeConfig
    from yinji.node.store import open_store
    from yinji.node.tokens import new_token

    token = new_token(open_store(NodeConfig.load(args.home).db_url), args.name, args.role)
    if args.out:
        write_private(args.out, (token + "\n").encode())
    else:
        print(token)
    return 0


def _dataset_add(args: argparse.Namespace) -> int:
    from yinji.node.catalog import Catalog, Dataset, PolicyRule
    from yinji.node.config import NodeConfig
    from yinji.node.store import open_store

    cfg = NodeConfig.load(args.home)
    spec = yaml.safe_load(Path(args.spec).read_text(encoding="utf-8"))
    ds = Dataset(id=spec["id"], kind=spec["kind"], location=spec["location"],
                 table=spec.get("table"), schema=spec["schema"],
                 policy=[PolicyRule(**r) for r in spec.get("policy") or []])
    Catalog(open_store(cfg.db_url), cfg.home).register(ds)
    print(f"dataset {ds.id} registered ({', '.join(ds.schema)})")
    return 0


def _token(args: argparse.Namespace) -> str:
    if args.token_file:
        return Path(args.token_file).read_text().strip()
    token = os.environ.get("YINJI_TOKEN")
    if not token:
        raise SystemExit("give --token-file or set YINJI_TOKEN")
    return token


def _job(args: argparse.Namespace) -> int:
    import httpx

    headers = {"Authorization": f"Bearer {_token(args)}"}
    with httpx.Client(base_url=args.api, headers=headers, timeout=60) as client:
        cmd = args.job_command
        if cmd == "list":
            r = client.get("/jobs")
        elif cmd == "show":
            r = client.get(f"/jobs/{args.job_id}")
        elif cmd == "result":
            r = client.get(f"/jobs/{args.job_id}/result")
        elif cmd == "propose":
            r = client.post("/jobs", json=yaml.safe_load(Path(args.spec).read_text()))
        elif cmd == "cancel":
            r = client.post(f"/jobs/{args.job_id}/cancel")
        else:
            r = client.post(f"/jobs/{args.job_id}/{cmd}", json={"reason": args.reason})
    print(json.dumps(r.json(), indent=2, ensure_ascii=False))
    return 0 if r.is_success else 1


def _audit_store(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from yinji.node.config import NodeConfig
    from yinji.node.identity import signing_key
    from yinji.node.store import open_store

    cfg = NodeConfig.load(args.home)
    return cfg, open_store(args.database_url or cfg.db_url), signing_key(cfg)


def _audit_verify(args: argparse.Namespace) -> int:
    from yinji.node.audit import verify_rows

    cfg, store, key = _audit_store(args)
    report = verify_rows(store, key.public)
    if report.ok:
        print(f"audit OK: {cfg.name}, {report.entries} entries, head {report.head[:16]}")
        return 0
    print(f"audit FAILED: {cfg.name}, {report.entries} entries", file=sys.stderr)
    for p in report.problems:
        print(f"  {p}", file=sys.stderr)
    return 1


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
