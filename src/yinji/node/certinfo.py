"""Certificate expiry of the node's own certificate and its peers' pinned ones: for GET /node
and GET /peers (the console), `yinji node status` (the CLI) and /metrics, with a warning
`cert_warn_days` (node.yaml, default 30) before a certificate expires.

Why: certificates are issued for a year; an expired one silently stops every job with that
peer (the handshake is refused), so operators must see it coming."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from yinji.crypto.certs import fingerprint, not_after
from yinji.node.config import NodeConfig


def expiry(pem: bytes, warn_days: int, now: float | None = None) -> dict[str, Any]:
    """`not_after` (ISO, UTC), `seconds_left` (negative once expired) and a `warning` text
    ('' while more than `warn_days` days are left)."""
    end = not_after(pem)
    left = end.timestamp() - (time.time() if now is None else now)
    if left <= 0:
        warning = f"expired on {end:%Y-%m-%d %H:%M} UTC"
    elif left <= warn_days * 86400:
        warning = f"expires in {left / 86400:.0f} days, on {end:%Y-%m-%d} UTC"
    else:
        warning = ""
    return {"not_after": end.astimezone(dt.UTC).isoformat(), "seconds_left": round(left),
            "warning": warning}


def cert_status(cfg: NodeConfig, now: float | None = None) -> list[dict[str, Any]]:
    """One row per certificate: the node's own (`whose` = "self") and each peer's."""
    rows = []
    own = cfg.cert_file.read_bytes()
    rows.append({"name": cfg.name, "whose": "self", "fingerprint": fingerprint(own),
                 **expiry(own, cfg.cert_warn_days, now)})
    for peer in sorted(cfg.peers.values(), key=lambda p: p.name):
        try:
            pem = (cfg.home / peer.cert).read_bytes()
        except OSError as exc:
            rows.append({"name": peer.name, "whose": "peer", "fingerprint": peer.fingerprint,
                         "not_after": "", "seconds_left": 0,
                         "warning": f"certificate file unreadable: {exc.strerror}"})
            continue
        rows.append({"name": peer.name, "whose": "peer", "fingerprint": fingerprint(pem),
                     **expiry(pem, cfg.cert_warn_days, now)})
    return rows


def warnings(cfg: NodeConfig, now: float | None = None) -> list[str]:
    """Human-readable warnings, e.g. 'own certificate (securities) expires in 12 days ...'."""
    return [f"{'own certificate' if r['whose'] == 'self' else 'peer certificate'} "
            f"({r['name']}) {r['warning']}" for r in cert_status(cfg, now) if r["warning"]]
