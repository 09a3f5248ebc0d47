"""The REST client every CLI command uses: base URL, bearer token and how the node's HTTPS
certificate is verified (`--api-ca`: the group CA or the node's own tls/node.crt; default the
system's CAs). Plain http:// is accepted for loopback addresses only (`yinji.node.https`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import httpx

DEFAULT_API = "https://127.0.0.1:8700"


def add_api_args(p: argparse.ArgumentParser, *, url: bool = True) -> None:
    if url:
        p.add_argument("--api", default=os.environ.get("YINJI_API", DEFAULT_API),
                       help="node REST API base URL (default $YINJI_API or "
                            f"{DEFAULT_API})")
    p.add_argument("--api-ca", default=os.environ.get("YINJI_API_CA"),
                   help="certificate file that verifies the node's HTTPS certificate: the "
                        "group CA or the node's tls/node.crt (default $YINJI_API_CA, else "
                        "the system's CAs)")
    p.add_argument("--token-file", help="file holding the API token (default $YINJI_TOKEN)")


def token(args: argparse.Namespace) -> str:
    if getattr(args, "token_file", None):
        return Path(args.token_file).read_text().strip()
    value = os.environ.get("YINJI_TOKEN")
    if not value:
        raise SystemExit("give --token-file or set YINJI_TOKEN")
    return value


def verify(args: argparse.Namespace):  # noqa: ANN201 - ssl.SSLContext | bool
    from yinji.node.https import client_verify

    try:
        return client_verify(args.api, getattr(args, "api_ca", None))
    except ValueError as exc:
        raise SystemExit(f"error: {exc}") from None


def client(args: argparse.Namespace, timeout: float = 60.0, auth: bool = True) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token(args)}"} if auth else {}
    return httpx.Client(base_url=args.api, timeout=timeout, headers=headers,
                        verify=verify(args))
