"""`Node`: one company's runtime, built explicitly from its home folder (nothing global)."""

from __future__ import annotations

import os
from pathlib import Path

from yinji.crypto.profile import get_profile
from yinji.node import identity
from yinji.node.audit import AuditLog, NodeEvent, PeerCallEvent, check_log_profile
from yinji.node.catalog import Catalog
from yinji.node.config import NodeConfig
from yinji.node.dataplane import DataPlane
from yinji.node.jobs import JobEngine
from yinji.node.model_runners import ModelServing
from yinji.node.pir_services import PirServices
from yinji.node.store import Store, open_store
from yinji.node.tokens import hash_token, new_token


class Node:
    def __init__(self, home: str | os.PathLike[str], *, database_url: str | None = None) -> None:
        self.home = Path(home)
        self.cfg = NodeConfig.load(self.home)
        if database_url:
            self.cfg.database_url = database_url
        self.key = identity.signing_key(self.cfg)      # of cfg.crypto_profile's kind
        self.profile = get_profile(self.cfg.crypto_profile)
        self.store: Store = open_store(self.cfg.db_url)
        try:
            check_log_profile(self.store, self.profile)  # a profile is fixed at init
        except BaseException:
            self.store.close()
            raise
        self.audit = AuditLog(self.store, self.key, self.cfg.name)
        self.catalog = Catalog(self.store, self.home)
        self.jobs = JobEngine(self)
        self._tls = identity.tls_config(self.cfg)
        self.dataplane = DataPlane(
            self.cfg.name, (self.cfg.dataplane_host, self.cfg.dataplane_port),
            lambda: self._tls, lambda p: self.cfg.peers[p].address,
            self._on_message, self.jobs.channel_check, self._on_refused,
            profile=self.profile.name)
        self.pir = PirServices(self)
        self.models = ModelServing(self)

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> None:
        self.audit.append(NodeEvent("started", f"schema v{self.store.version()}"))
        self.jobs.recover()
        self.dataplane.start()
        try:
            self.pir.start()   # builds every configured PIR list before the API comes up
        except BaseException:
            self.dataplane.stop()
            raise

    def stop(self) -> None:
        self.pir.stop()
        self.dataplane.stop()
        self.audit.append(NodeEvent("stopped"))
        self.store.close()

    # -- data plane callbacks -----------------------------------------------------------------
    def _on_message(self, peer: str, body: dict) -> dict:
        reply = self.jobs.handle(peer, body)
        job = body.get("job_id") or (body.get("spec") or {}).get("id") or \
            ((body.get("approval") or {}).get("record") or {}).get("job_id", "")
        self.audit.append(PeerCallEvent(peer, str(body.get("type", "")), str(job),
                                        bool(reply.get("ok")), str(reply.get("error", ""))[:300]))
        return reply

    def _on_refused(self, who: str, why: str) -> None:
        self.audit.append(PeerCallEvent(who, "connect", accepted=False, reason=why[:300]))

    # -- API tokens ---------------------------------------------------------------------------
    def add_token(self, name: str, role: str) -> str:
        """Create an API token; returns it once (only its hash is stored)."""
        return new_token(self.store, name, role)

    def principal(self, token: str) -> dict | None:
        return self.store.token_by_hash(hash_token(token))
