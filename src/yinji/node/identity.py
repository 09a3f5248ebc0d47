"""A node's identity: its TLS certificate and key (data plane), its signing key (audit
entries and approvals: Ed25519, or SM2 under the `sm` crypto profile), and the peers it trusts.

The crypto profile is chosen once, at `init_node`: it decides the kind of signing key, and
`signing_key` refuses a key file of the other kind, so a node cannot silently switch. A peer
is added only if its bundle names the same profile and carries a public key of that kind.

Groups here are CA-less: each node has a `self_signed_cert`; a peer is added with its
certificate and the fingerprint the operator obtained out of band. The trust file the TLS
layer uses is rebuilt from the pinned peer certificates, and pins narrow it further, so an
unknown or mismatched certificate is refused at the handshake (`yinji.net.connect`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from yinji.crypto.certs import (
    DEFAULT_CERT_DAYS,
    CertKey,
    cert_names,
    fingerprint,
    issue_cert,
    normalize_fingerprint,
    self_signed_cert,
    write_cert_key,
)
from yinji.crypto.profile import DEFAULT, ProfileMismatch, get_profile, mismatch
from yinji.crypto.sign import KeyFormatError, SigningKey, Sm2SigningKey
from yinji.net.connect import TlsConfig
from yinji.node.config import ConfigError, NodeConfig, PeerConfig, parse_address


def init_node(home: str | os.PathLike[str], name: str, *, api_port: int = 8700,
              dataplane_port: int = 8800, host: str = "127.0.0.1",
              database_url: str | None = None,
              crypto_profile: str = DEFAULT, plain_http: bool = False,
              ca: CertKey | None = None) -> NodeConfig:
    """Create the node's folder: config, TLS key pair and certificate (self-signed, or issued
    by the group CA `ca`; it also names `host` so HTTPS clients can check it), signing key of
    the crypto profile's kind (fixed for the node's life). `plain_http`: the REST API without
    TLS, refused unless `host` is a loopback address."""
    home = Path(home)
    try:
        profile = get_profile(crypto_profile)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if (home / "node.yaml").exists():
        raise ConfigError(f"{home}: a node already lives here")
    if not name or not name.isascii() or any(c in name for c in "/: "):
        raise ConfigError(f"node name must be ASCII without '/', ':' or spaces, got {name!r}")
    cfg = NodeConfig(name=name, crypto_profile=profile.name, api_host=host, api_port=api_port,
                     api_plain_http=plain_http, dataplane_host=host,
                     dataplane_port=dataplane_port, database_url=database_url, home=home)
    cfg.check_plain_http()
    home.mkdir(parents=True, exist_ok=True)
    os.chmod(home, 0o700)
    (home / "peers").mkdir(exist_ok=True)
    write_cert_key(new_node_cert(cfg, ca), home / "tls", "node")
    profile.generate_key().save(home / "signing.key")
    cfg.save()
    rebuild_trust(cfg)
    return cfg


def new_node_cert(cfg: NodeConfig, ca: CertKey | None = None,
                  days: int = DEFAULT_CERT_DAYS) -> CertKey:
    """A fresh key and certificate for the node: its name (what peers check) plus the hosts
    its API and data plane listen on (what HTTPS clients check)."""
    hosts = [cfg.api_host, cfg.dataplane_host]
    if ca is not None:
        return issue_cert(ca, cfg.name, days=days, hosts=hosts)
    return self_signed_cert(cfg.name, days=days, hosts=hosts)


def signing_key(cfg: NodeConfig) -> SigningKey | Sm2SigningKey:
    """The node's signing key; refuses one of another profile than node.yaml names."""
    try:
        return get_profile(cfg.crypto_profile).load_key(cfg.signing_key_file)
    except (ProfileMismatch, KeyFormatError) as exc:
        raise ConfigError(str(exc)) from None


def own_fingerprint(cfg: NodeConfig) -> str:
    return fingerprint(cfg.cert_file.read_bytes())


def export_bundle(cfg: NodeConfig) -> dict[str, Any]:
    """What a peer needs to add this node (public material only)."""
    return {"name": cfg.name, "crypto_profile": cfg.crypto_profile,
            "dataplane": cfg.dataplane, "api": cfg.api_url,
            "cert": cfg.cert_file.read_text(), "fingerprint": own_fingerprint(cfg),
            "signing_key": signing_key(cfg).public,
            "pir": {i: f"{cfg.dataplane_host}:{p.port}" for i, p in sorted(cfg.pir.items())}}


def add_peer(cfg: NodeConfig, bundle: dict[str, Any], expected_fingerprint: str) -> PeerConfig:
    """Add (or replace) a peer from its bundle after checking the fingerprint the operator
    obtained out of band; rebuild the trust file. Saves the config."""
    name = bundle["name"]
    if name == cfg.name:
        raise ConfigError(f"{name!r} is this node itself")
    theirs = bundle.get("crypto_profile") or DEFAULT  # bundles from before profiles
    if theirs != cfg.crypto_profile:
        raise ConfigError(mismatch(cfg.name, cfg.crypto_profile, f"peer {name!r}", theirs))
    try:
        get_profile(cfg.crypto_profile).check_public(bundle["signing_key"])
    except KeyFormatError as exc:
        raise ConfigError(f"peer {name!r}: signing key: {exc}") from None
    cert = bundle["cert"].encode()
    got = fingerprint(cert)
    if got != normalize_fingerprint(expected_fingerprint):
        raise ConfigError(f"peer {name!r}: certificate fingerprint {got} does not match "
                          f"the expected {normalize_fingerprint(expected_fingerprint)}")
    if name not in cert_names(cert):
        raise ConfigError(f"peer {name!r}: certificate is issued to {cert_names(cert)}")
    parse_address(bundle["dataplane"])
    pir = {str(i): str(a) for i, a in (bundle.get("pir") or {}).items()}
    for address in pir.values():
        parse_address(address)
    rel = f"peers/{name}.crt"
    (cfg.home / "peers").mkdir(exist_ok=True)
    (cfg.home / rel).write_bytes(cert)
    peer = PeerConfig(name=name, dataplane=bundle["dataplane"], fingerprint=got,
                      signing_key=bundle["signing_key"], cert=rel, api=bundle.get("api", ""),
                      pir=pir)
    cfg.peers[name] = peer
    cfg.save()
    rebuild_trust(cfg)
    return peer


def remove_peer(cfg: NodeConfig, name: str) -> None:
    if cfg.peers.pop(name, None) is None:
        raise ConfigError(f"no peer {name!r}")
    cfg.save()
    rebuild_trust(cfg)


def rebuild_trust(cfg: NodeConfig) -> None:
    """Trust file = pinned peers' certificates (plus our own so the file is never empty;
    our own name is never accepted as a peer)."""
    parts = [cfg.cert_file.read_bytes()]
    for peer in sorted(cfg.peers.values(), key=lambda p: p.name):
        pairs = [(peer.cert, peer.fingerprint)]
        if peer.previous_fingerprint:       # mid-rotation: the old one is still accepted
            pairs.append((peer.previous_cert, peer.previous_fingerprint))
        for rel, pin in pairs:
            cert = (cfg.home / rel).read_bytes()
            if fingerprint(cert) != normalize_fingerprint(pin):
                raise ConfigError(f"{cfg.home / rel}: does not match the pinned fingerprint "
                                  f"of peer {peer.name!r}")
            parts.append(cert)
    tmp = cfg.trust_file.with_suffix(".tmp")
    tmp.write_bytes(b"".join(p if p.endswith(b"\n") else p + b"\n" for p in parts))
    os.replace(tmp, cfg.trust_file)


def tls_config(cfg: NodeConfig) -> TlsConfig:
    pins: dict[str, str | tuple[str, ...]] = {p.name: p.pins if p.previous_fingerprint
                                               else p.fingerprint for p in cfg.peers.values()}
    pins[cfg.name] = own_fingerprint(cfg)
    return TlsConfig(cfg.cert_file, cfg.key_file, cfg.trust_file, pins)


def load_bundle(path: str | os.PathLike[str]) -> dict[str, Any]:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    missing = {"name", "dataplane", "cert", "signing_key"} - set(data or {})
    if missing:
        raise ConfigError(f"{path}: identity bundle lacks {', '.join(sorted(missing))}")
    return data
