"""Certificate rotation without downtime (`yinji node rotate-cert`).

Why: node certificates are issued for a year; replacing one by hand means every peer must
re-pin it at the same moment, or jobs fail in between. Peers already know each node's
long-lived signing key (from its bundle), so a node can vouch for its own new certificate.

Steps (each re-runnable; a half-done rotation is picked up where it stopped):
1. stage: a new key and certificate in tls/next.key, tls/next.crt (self-signed, or issued by
   the group CA given with --ca); the node keeps serving the old one.
2. announce: over the data plane (still the old certificate), each peer gets the new
   certificate and the node's signature of "yinji-cert-rotate/1 announce NAME FINGERPRINT".
   A peer checks the signature with the signing key it pinned for NAME, that the certificate
   names NAME and is valid now, and then accepts both the old and the new certificate
   (`PeerConfig.previous_fingerprint`), audited as a peer change.
3. switch, only when every peer accepted (or with force): the new files replace tls/node.*;
   a running node takes them up at its next connection or request (`Node.sync_cert`), the
   REST API's TLS context included -- no restart.
4. confirm: a signed "done" message (now over the new certificate) tells each peer to drop
   the old pin. A peer that missed it keeps accepting the old certificate until it gets one
   (running rotate-cert again re-sends it).

Security: a peer never trusts a certificate on the word of the connection alone: the
announcement must be signed with the node's pinned signing key, so a stolen TLS key cannot
rotate itself a new certificate without the signing key as well.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

from yinji.crypto.certs import (
    DEFAULT_CERT_DAYS,
    CertKey,
    cert_names,
    fingerprint,
    write_cert_key,
)
from yinji.crypto.profile import verify_signature
from yinji.node import identity
from yinji.node.audit import AuditLog, Event, PeerChangeEvent
from yinji.node.config import ConfigError, NodeConfig

ROTATE = "cert.rotate"
Send = Callable[[str, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class CertRotatedEvent(Event):
    """This node switched to a new TLS certificate (which peers had accepted it)."""

    kind: ClassVar[str] = "cert.rotated"
    previous: str
    fingerprint: str
    accepted_by: list[str] = field(default_factory=list)
    not_reached: list[str] = field(default_factory=list)
    by: str = ""


@dataclass
class RotationReport:
    fingerprint: str                           # the new certificate's
    switched: bool
    announced: dict[str, str]                  # peer -> "ok" or the error
    confirmed: dict[str, str] = field(default_factory=dict)

    @property
    def pending(self) -> list[str]:
        return sorted(p for p, s in self.announced.items() if s != "ok")


def _message(phase: str, name: str, fp: str) -> bytes:
    return f"yinji-cert-rotate/1 {phase} {name} {fp}".encode()


def stage(cfg: NodeConfig, ca: CertKey | None = None,
          days: int = DEFAULT_CERT_DAYS) -> bytes:
    """The staged certificate (PEM), made now unless an earlier run left one."""
    nxt = cfg.cert_file.with_name("next.crt")
    if nxt.exists() and cfg.cert_file.with_name("next.key").exists():
        return nxt.read_bytes()
    cert = identity.new_node_cert(cfg, ca, days)
    write_cert_key(cert, cfg.cert_file.parent, "next")
    return cert.cert_pem


def rotate(cfg: NodeConfig, audit: AuditLog, send: Send, *, by: str,
           ca: CertKey | None = None, days: int = DEFAULT_CERT_DAYS,
           force: bool = False) -> RotationReport:
    """Stage, announce, switch (when every peer accepted, or `force`) and confirm."""
    key = identity.signing_key(cfg)
    pem = stage(cfg, ca, days)
    fp = fingerprint(pem)
    old = identity.own_fingerprint(cfg)
    announced = {}
    for peer in sorted(cfg.peers):
        body = {"type": ROTATE, "phase": "announce", "cert": pem.decode(),
                "signature": key.sign(_message("announce", cfg.name, fp)).hex()}
        announced[peer] = _ask(send, peer, body)
    report = RotationReport(fp, False, announced)
    if report.pending and not force:
        return report
    tls = cfg.cert_file.parent
    os.replace(tls / "next.key", cfg.key_file)   # key first: a reader between the two finds
    os.replace(tls / "next.crt", cfg.cert_file)  # a mismatch and retries (Node.sync_cert)
    identity.rebuild_trust(cfg)
    report.switched = True
    audit.append(CertRotatedEvent(old, fp, [p for p, s in announced.items() if s == "ok"],
                                  report.pending, by))
    for peer in sorted(cfg.peers):
        body = {"type": ROTATE, "phase": "done", "cert": pem.decode(),
                "signature": key.sign(_message("done", cfg.name, fp)).hex()}
        report.confirmed[peer] = _ask(send, peer, body)
    return report


def peer_sender(cfg: NodeConfig, timeout: float = 10.0) -> Send:
    """Control messages to peers with this node's TLS identity as the files are now (the new
    certificate once switched), without a listener: `yinji node rotate-cert` beside a
    running node."""
    from yinji.node.dataplane import DataPlane

    plane = DataPlane(cfg.name, (cfg.dataplane_host, cfg.dataplane_port),
                      lambda: identity.tls_config(cfg), lambda p: cfg.peers[p].address,
                      lambda peer, body: {"ok": False}, lambda *_: "no channels",
                      profile=cfg.crypto_profile)
    return lambda peer, body: plane.request(peer, body, timeout=timeout, retry=False)


def _ask(send: Send, peer: str, body: dict[str, Any]) -> str:
    try:
        reply = send(peer, body)
    except Exception as exc:  # noqa: BLE001 - an unreachable peer is reported, not fatal
        return f"{type(exc).__name__}: {exc}"
    return "ok" if reply.get("ok") else str(reply.get("error", "refused"))


def accept(cfg: NodeConfig, audit: AuditLog, peer: str, body: dict[str, Any]) -> dict[str, Any]:
    """A peer's announcement or confirmation (see the module docstring); saves node.yaml and
    the trust file, audited. Refuses anything not signed with the peer's pinned key."""
    known = cfg.peers.get(peer)
    if known is None:
        raise ConfigError(f"{peer!r} is not a peer")
    phase, pem = body.get("phase"), str(body.get("cert", "")).encode()
    if phase not in ("announce", "done"):
        raise ConfigError(f"unknown rotation phase {phase!r}")
    try:
        fp = fingerprint(pem)
        names = cert_names(pem)
        parsed = CertKey(pem, b"").cert
        sig = bytes.fromhex(str(body.get("signature", "")))
    except ValueError as exc:
        raise ConfigError(f"{peer}: unreadable certificate or signature: {exc}") from None
    if not verify_signature(known.signing_key, sig, _message(phase, peer, fp)):
        raise ConfigError(f"{peer}: rotation not signed with its pinned signing key")
    if phase == "done":
        if fp != known.fingerprint or not known.previous_fingerprint:
            return {"ok": True}                       # nothing to drop (already done)
        old = known.previous_fingerprint
        (cfg.home / known.previous_cert).unlink(missing_ok=True)
        _save(cfg, replace(known, previous_fingerprint="", previous_cert=""))
        audit.append(PeerChangeEvent(peer, "cert-rotated", fp, f"peer:{peer}", old))
        return {"ok": True}
    if peer not in names:
        raise ConfigError(f"{peer}: the new certificate is issued to {names}")
    now = dt.datetime.now(dt.UTC)
    if not parsed.not_valid_before_utc <= now + dt.timedelta(minutes=5) or \
            parsed.not_valid_after_utc <= now:
        raise ConfigError(f"{peer}: the new certificate is not valid now")
    if fp in known.pins:
        return {"ok": True}                           # announced before
    prev_rel = f"peers/{peer}.prev.crt"
    (cfg.home / prev_rel).write_bytes((cfg.home / known.cert).read_bytes())
    tmp = cfg.home / f"peers/{peer}.crt.tmp"
    tmp.write_bytes(pem)
    os.replace(tmp, cfg.home / known.cert)
    _save(cfg, replace(known, fingerprint=fp, previous_fingerprint=known.fingerprint,
                       previous_cert=prev_rel))
    audit.append(PeerChangeEvent(peer, "cert-rotating", fp, f"peer:{peer}",
                                 known.fingerprint))
    return {"ok": True}


def _save(cfg: NodeConfig, peer: Any) -> None:
    cfg.peers[peer.name] = peer
    cfg.save()
    identity.rebuild_trust(cfg)


__all__ = ["ROTATE", "CertRotatedEvent", "RotationReport", "accept", "peer_sender", "rotate",
           "stage"]
