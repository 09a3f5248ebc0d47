"""`yinji gateway serve | redact`: run the LLM privacy gateway, or try its detectors locally."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gateway", help="LLM privacy gateway (OpenAI-compatible proxy)")
    gsub = p.add_subparsers(dest="gateway_command", metavar="SUBCOMMAND")

    s = gsub.add_parser("serve", help="serve /v1/chat/completions and /v1/models")
    s.add_argument("--config", help="TOML config file (see docs/gateway.md)")
    s.add_argument("--host", help="listen address (default from config, 127.0.0.1)")
    s.add_argument("--port", type=int, help="listen port (default from config, 8787)")
    s.add_argument("--upstream", help="upstream base URL, e.g. https://api.example.com/v1")
    s.add_argument("--audit", help="append-only JSON-lines audit file")
    s.set_defaults(func=_serve)

    r = gsub.add_parser("redact", help="read text on stdin, print it as the upstream would see it")
    r.add_argument("--config", help="TOML config file")
    r.set_defaults(func=_redact)
    p.set_defaults(func=lambda a: p.print_help() or 2)


def _config(args: argparse.Namespace):  # noqa: ANN202 - GatewayConfig, imported lazily
    from yinji.gateway.config import GatewayConfig

    cfg = GatewayConfig.load(args.config)
    for attr, name in (("host", "host"), ("port", "port"), ("upstream", "upstream_url"),
                       ("audit", "audit_path")):
        if getattr(args, attr, None):
            setattr(cfg, name, getattr(args, attr).rstrip("/") if attr == "upstream"
                    else getattr(args, attr))
    return cfg


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from yinji.gateway.proxy import create_app

    cfg = _config(args)
    print(f"yinji gateway on http://{cfg.host}:{cfg.port} -> {cfg.upstream_url}", file=sys.stderr)
    if not cfg.client_tokens:
        print("no [clients] tokens: callers are not authenticated, so X-Yinji-Conversation is "
              "refused and audit users are the clients' own (scrubbed) labels", file=sys.stderr)
    uvicorn.run(create_app(cfg), host=cfg.host, port=cfg.port, log_level="warning",
                access_log=False)
    return 0


def _redact(args: argparse.Namespace) -> int:
    from yinji.gateway.detectors.engine import DetectorEngine
    from yinji.gateway.redact import apply_policy
    from yinji.gateway.vault import VaultStore

    cfg = _config(args)
    engine = DetectorEngine(account_patterns=cfg.account_patterns,
                            amounts_with_person=cfg.policy.amounts_with_person)
    red = apply_policy(sys.stdin.read(), engine, cfg.policy, VaultStore().new())
    sys.stdout.write(red.text)
    print("\n# " + ", ".join(f"{k}={v}" for k, v in sorted(red.counts.items()))
          + (f"  BLOCKED: {', '.join(sorted(red.blocked))}" if red.blocked else ""),
          file=sys.stderr)
    return 0
