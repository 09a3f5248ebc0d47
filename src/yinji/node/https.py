"""HTTPS for a node's REST API: the server side serves the node's own certificate (the one
its data plane uses), and clients verify it against a trust file (the group CA, or the node's
own self-signed certificate obtained with its fingerprint).

Why: API calls carry bearer tokens; on plain HTTP anyone on the path could replay them. Plain
HTTP stays possible only with an explicit setting (`api_plain_http: true` or `node serve
--plain-http`) and only on a loopback address (`NodeConfig.check_plain_http`); a client
refuses to send a token over plain HTTP to any other host (`check_url`).

The server context is kept, so a rotated certificate (`yinji node rotate-cert`) is loaded
into it without a restart: handshakes after `reload()` present the new certificate.
"""

from __future__ import annotations

import os
import ssl
import threading
from pathlib import Path
from urllib.parse import urlsplit

from yinji.node.config import is_loopback


class ServerTls:
    """The API server's TLS context, reloadable when the node's certificate changes."""

    def __init__(self, cert_file: Path, key_file: Path) -> None:
        self.cert_file, self.key_file = Path(cert_file), Path(key_file)
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._lock = threading.Lock()
        self.reload()

    def reload(self) -> None:
        """Load the certificate and key files again (new handshakes use them). Raises (and
        keeps the old pair) if they do not match, e.g. half-way through a rotation."""
        with self._lock:
            self.context.load_cert_chain(self.cert_file, self.key_file)


def check_url(url: str) -> None:
    """Refuse an API base URL that would send a bearer token in clear over a network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"API URL must start with https:// (got {url!r})")
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        raise ValueError(f"{url}: plain HTTP to a host other than loopback would send the "
                         "API token in clear; use https://")


def client_verify(url: str, ca_file: str | os.PathLike[str] | None) -> ssl.SSLContext | bool:
    """What an HTTP client passes as `verify=`: an SSL context trusting `ca_file` (the group
    CA or the node's certificate), or True (the system's CAs) when none is given."""
    check_url(url)
    if not ca_file:
        return True
    if not Path(ca_file).is_file():
        raise ValueError(f"API CA file {ca_file} does not exist (give the group CA or the "
                         "node's certificate, tls/node.crt)")
    return ssl.create_default_context(cafile=str(ca_file))


__all__ = ["ServerTls", "check_url", "client_verify"]
