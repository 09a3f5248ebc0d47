"""The web console: static files served at /console from the node's own origin, and the two
small read routes it needs that the rest of the API lacks (who am I; peers' certificate expiry
and reachability; the AI gateway's counts).

The console is plain HTML/JS/CSS shipped in the package (`yinji/node/console/`): no build step,
no CDN, no external font. It talks only to this node's REST API with the token the user signs
in with (kept in the tab's sessionStorage, sent as a Bearer header), so what it shows and
allows follows the API's roles exactly; it holds no authority of its own.

Every console response carries a strict Content-Security-Policy (`CSP`): scripts, styles,
fetches and frames from this origin only, no inline script or style, images also from `blob:`
(the report's charts, shown as SVG images, which cannot run script), no embedding in other
sites. The static files need no token (they hold no data)."""

import datetime as dt
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from yinji.node.gateway_counts import FILE as GATEWAY_FILE
from yinji.node.gateway_counts import summarize
from yinji.node.node import Node

FILES = Path(__file__).resolve().parents[1] / "console"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
       "connect-src 'self'; font-src 'self'; frame-src 'none'; object-src 'none'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
           "Cache-Control": "no-cache"}
REACH_TIMEOUT = 1.0   # seconds for a TCP connection to a peer's data plane


class ConsoleFiles(StaticFiles):
    """StaticFiles with the console's security headers on every response (404s included)."""

    async def get_response(self, path: str, scope: Scope):  # type: ignore[no-untyped-def]
        try:
            response = await super().get_response(path, scope)
        except Exception as exc:   # HTTPException(404) from StaticFiles: keep the headers
            from starlette.exceptions import HTTPException

            if isinstance(exc, HTTPException):
                raise HTTPException(exc.status_code, exc.detail, headers=HEADERS) from None
            raise
        response.headers.update(HEADERS)
        return response


def cert_expiry(pem: bytes) -> str | None:
    """The certificate's notAfter as ISO-8601 UTC, or None if it cannot be read."""
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(pem).not_valid_after_utc.isoformat()
    except (ValueError, TypeError):
        return None


def reachable(address: tuple[str, int], timeout: float = REACH_TIMEOUT) -> bool:
    """Does the peer's data plane accept a TCP connection? (No handshake: no data is sent.)"""
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def peer_status(node: Node) -> dict[str, Any]:
    """This node's and each peer's certificate expiry, and whether each peer is reachable."""
    peers = sorted(node.cfg.peers.values(), key=lambda p: p.name)

    def one(p: Any) -> dict[str, Any]:
        path = node.cfg.home / p.cert
        expiry = cert_expiry(path.read_bytes()) if path.is_file() else None
        try:
            up = reachable(p.address)
        except ValueError:   # a malformed address in node.yaml
            up = False
        return {"name": p.name, "fingerprint": p.fingerprint, "dataplane": p.dataplane,
                "api": p.api, "cert_expires": expiry, "reachable": up}

    with ThreadPoolExecutor(max_workers=max(1, min(8, len(peers)))) as pool:
        rows = list(pool.map(one, peers))
    own = node.cfg.cert_file
    return {"node": node.cfg.name,
            "cert_expires": cert_expiry(own.read_bytes()) if own.is_file() else None,
            "checked": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "peers": rows}


def add_console_routes(app: FastAPI, node: Node, AnyRole: Any,  # noqa: N803
                       Auditor: Any) -> None:  # noqa: N803
    @app.get("/whoami")
    def whoami(who: AnyRole) -> dict[str, Any]:
        """The signed-in token's name and role (the console shows what that role may do)."""
        return {"name": who["name"], "role": who["role"], "node": node.cfg.name}

    @app.get("/peers/status")
    def peers_status(_: AnyRole) -> dict[str, Any]:
        """Certificate expiry of this node and its peers; peers' reachability (TCP, 1 s)."""
        return peer_status(node)

    @app.get("/gateway/summary")
    def gateway_summary(_: Auditor) -> dict[str, Any]:
        """Counts from the AI gateway's audit file (`yinji.node.gateway_counts`), if any."""
        out = summarize(node.cfg.home / GATEWAY_FILE)
        if out is None:
            raise HTTPException(404, f"no gateway audit file at {GATEWAY_FILE} in the node home")
        return out

    app.mount("/console", ConsoleFiles(directory=FILES, html=True), name="console")
