"""Administration from the node's own machine (`yinji dataset | token | peer | approvals`),
audited the same way as the REST API: each change is an entry in the node's signed audit log,
made with the node's key, so `yinji audit verify` covers it. The node may be running meanwhile
(the audit log retries an append another process raced) and takes the change up without a
restart: peers when it next reads node.yaml (`Node.sync_peers`), standing approvals and
datasets from the store at their next use.

`by` is "cli:<os user>" here; the API records the token's name.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yinji.node import identity
from yinji.node.audit import AuditLog, PeerChangeEvent
from yinji.node.catalog import Catalog
from yinji.node.config import NodeConfig, PeerConfig
from yinji.node.standing import StandingApprovals
from yinji.node.store import Store, open_store
from yinji.node.tokens import Tokens


def cli_actor() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = f"uid {os.getuid()}"
    return f"cli:{user}"


@dataclass
class Admin:
    cfg: NodeConfig
    store: Store
    audit: AuditLog
    catalog: Catalog
    tokens: Tokens
    by: str

    @property
    def standing(self) -> StandingApprovals:
        return StandingApprovals(self.store, self.audit,
                                 lambda: [d.id for d in self.catalog.list()])

    def add_peer(self, bundle: dict[str, Any], expected_fingerprint: str) -> PeerConfig:
        """Add or replace a peer (identity.add_peer checks the fingerprint), audited."""
        old = self.cfg.peers.get(bundle.get("name", ""))
        cert_path = self.cfg.home / "peers" / f"{bundle.get('name', '')}.crt"
        old_cert = cert_path.read_bytes() if old is not None and cert_path.exists() else None
        peer = identity.add_peer(self.cfg, bundle, expected_fingerprint)
        try:
            self.audit.append(PeerChangeEvent(peer.name, "replaced" if old else "added",
                                              peer.fingerprint, self.by,
                                              old.fingerprint if old else ""))
        except BaseException:
            self._restore(peer.name, old, old_cert)
            raise
        return peer

    def remove_peer(self, name: str) -> None:
        old = self.cfg.peers.get(name)
        identity.remove_peer(self.cfg, name)   # raises ConfigError for an unknown name
        try:
            self.audit.append(PeerChangeEvent(name, "removed", "", self.by,
                                              old.fingerprint if old else ""))
        except BaseException:
            self._restore(name, old, None)
            raise

    def _restore(self, name: str, old: PeerConfig | None, old_cert: bytes | None) -> None:
        if old is None:
            self.cfg.peers.pop(name, None)
        else:
            self.cfg.peers[name] = old
            if old_cert is not None:
                (self.cfg.home / old.cert).write_bytes(old_cert)
        self.cfg.save()
        identity.rebuild_trust(self.cfg)


@contextmanager
def open_admin(home: str | os.PathLike[str], by: str | None = None) -> Iterator[Admin]:
    """The node's config, store, audit log, catalog and tokens, without starting the node."""
    cfg = NodeConfig.load(Path(home))
    store = open_store(cfg.db_url)
    try:
        audit = AuditLog(store, identity.signing_key(cfg), cfg.name)
        yield Admin(cfg, store, audit, Catalog.for_node(cfg, store, audit),
                    Tokens(store, audit, cfg.token_lifetime), by or cli_actor())
    finally:
        store.close()
