"""`Node`: one company's runtime, built explicitly from its home folder (nothing global).

`start` writes the `node started` entry, `stop` the `node stopped` one (`yinji node serve`
calls it on SIGTERM and SIGINT alike). While running, a housekeeping thread expires stale
proposals and writes the summaries of rate-limited audit events (`yinji.node.repeats`).

Peers added or removed while the node runs (`yinji peer add|remove` on the node's machine, or
POST/DELETE /peers) take effect without a restart: `sync_peers` notices that node.yaml was
replaced and takes up its peers; it runs before every data-plane connection (in or out), every
REST call and every housekeeping round, so the next handshake trusts (or refuses) the peer and
the next proposal may name it; PIR lists admit the current peers their column policy allows.
Standing approvals are read from the store at every decision.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from yinji.crypto.profile import get_profile
from yinji.node import identity, rotation
from yinji.node.anchors import STOP_TIMEOUT, Anchors, sender
from yinji.node.app_runner import AppRuns
from yinji.node.audit import AuditLog, NodeEvent, PeerCallEvent, check_log_profile
from yinji.node.catalog import Catalog
from yinji.node.config import ConfigError, NodeConfig
from yinji.node.dataplane import DataPlane
from yinji.node.jobs import JobEngine
from yinji.node.metrics import NodeMetrics
from yinji.node.model_runners import ModelServing
from yinji.node.pir_services import DIRECTORY as PIR_DIRECTORY
from yinji.node.pir_services import PirServices
from yinji.node.repeats import Repeats
from yinji.node.scenarios import Scenarios
from yinji.node.standing import StandingApprovals
from yinji.node.store import Store, open_store
from yinji.node.tokens import Tokens

HOUSEKEEPING_S = 60.0   # how often stale proposals expire and audit summaries are written
_log = logging.getLogger(__name__)


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
        self.repeats = Repeats(self.audit.append)
        self.catalog = Catalog.for_node(self.cfg, self.store, self.audit)
        self.tokens = Tokens(self.store, self.audit, self.cfg.token_lifetime)
        self.standing = StandingApprovals(self.store, self.audit,
                                          lambda: [d.id for d in self.catalog.list()])
        self.jobs = JobEngine(self)
        self._peers_lock = threading.Lock()
        self._rotation_lock = threading.Lock()
        self._config_stamp = self._stamp()
        self._cert_stamp = self._stamp(self.cfg.cert_file, self.cfg.key_file)
        self.cert_listeners: list[Callable[[], None]] = []   # e.g. the API's TLS context
        self._tls = identity.tls_config(self.cfg)
        self.dataplane = DataPlane(
            self.cfg.name, (self.cfg.dataplane_host, self.cfg.dataplane_port),
            self.tls, lambda p: self.cfg.peers[p].address,
            self._on_message, self.jobs.channel_check, self._on_refused,
            anchor_handler=lambda peer, body: self.anchors.handle(peer, body),
            profile=self.profile.name)
        self.anchors = Anchors(self.cfg, self.store, self.key, self.audit, sender(self.dataplane))
        self.pir = PirServices(self)
        self.models = ModelServing(self)
        self.apps = AppRuns(self)
        self.scenarios = Scenarios(self)
        self.metrics = NodeMetrics(self)
        self._stopping = threading.Event()
        self._housekeeper: threading.Thread | None = None
        self._workers: Any = None
        self._workers_lock = threading.Lock()

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
        self._housekeeper = threading.Thread(target=self._housekeeping, daemon=True,
                                             name=f"yinji-housekeeping {self.cfg.name}")
        self._housekeeper.start()
        self.anchors.start()

    def stop(self, detail: str = "") -> None:
        """Stop serving and write the `node stopped` entry (once; later calls do nothing);
        then anchor the final head at the peers."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.anchors.stop()
        if self._housekeeper is not None:
            self._housekeeper.join(10)
        self.pir.stop()
        self.dataplane.stop()
        if self._workers is not None:
            self._workers.close()
        self.repeats.flush()
        self.audit.append(NodeEvent("stopped", detail))
        try:
            self.anchors.anchor_now(STOP_TIMEOUT)   # peers hold the final head
        finally:
            self.store.close()

    def _housekeeping(self) -> None:
        while not self._stopping.wait(HOUSEKEEPING_S):
            try:
                self.sync_peers()
                self.jobs.expire()
                self.repeats.flush(expired_only=True)
            except Exception:  # noqa: BLE001 - retried next round; the node keeps serving
                _log.exception("housekeeping failed")

    # -- peers at run time ---------------------------------------------------------------------
    def _stamp(self, *paths: Path) -> tuple | None:
        try:   # NodeConfig.save and rotate-cert replace the files
            return tuple((st.st_mtime_ns, st.st_size, st.st_ino)
                         for st in (p.stat() for p in (paths or (self.home / "node.yaml",))))
        except OSError:
            return None

    def sync_cert(self) -> bool:
        """Take up a rotated certificate (`yinji node rotate-cert`): the data plane's next
        handshake and the API's (via `cert_listeners`) present it. True if it changed."""
        stamp = self._stamp(self.cfg.cert_file, self.cfg.key_file)
        if stamp == self._cert_stamp:
            return False
        with self._peers_lock:
            if stamp == self._cert_stamp:
                return False
            try:
                for listener in self.cert_listeners:
                    listener()
            except Exception:  # noqa: BLE001 - e.g. cert and key caught half-way: next round
                _log.exception("the rotated certificate cannot be loaded yet")
                return False
            self._tls = identity.tls_config(self.cfg)
            self._cert_stamp = stamp
        return True

    def sync_peers(self) -> bool:
        """Take up the peers in node.yaml if the file changed since we last read it; True if
        it did. Only peers are taken up (other settings still need a restart). A rotated own
        certificate is taken up here too (`sync_cert`)."""
        self.sync_cert()
        stamp = self._stamp()
        if stamp == self._config_stamp:
            return False
        with self._peers_lock:
            if stamp == self._config_stamp:
                return False
            try:
                fresh = NodeConfig.load(self.home)
            except ConfigError:
                _log.exception("node.yaml changed but cannot be read; keeping the peers")
                return False
            self.cfg.peers = fresh.peers          # one reference swap: readers see old or new
            self._tls = identity.tls_config(self.cfg)
            self._config_stamp = stamp
        try:
            self.pir.peers_changed()              # PIR lists admit the current peers
        except Exception:  # noqa: BLE001 - the data plane has the new peers either way
            _log.exception("PIR services could not take up the new peers")
        return True

    def tls(self) -> Any:
        """The data plane's TLS settings (pins of the current peers)."""
        self.sync_peers()
        return self._tls

    def workers(self) -> Any:
        """Where this node's parallel local work runs (`ray_address`): threads, or Ray
        actors, started on first use and kept while the node runs."""
        with self._workers_lock:
            if self._workers is None:
                from yinji.net.workers import LocalWorkers, RayWorkers

                address = self.cfg.ray_address
                self._workers = (LocalWorkers() if address is None else
                                 RayWorkers(None if address == "local" else address,
                                            cpus=self.cfg.ray_cpus_per_lane))
            return self._workers

    # -- data plane callbacks -----------------------------------------------------------------
    def _on_message(self, peer: str, body: dict) -> dict:
        try:
            if body.get("type") == PIR_DIRECTORY:   # a peer asks which lists it may query
                reply = {"ok": True, "services": self.pir.directory(peer)}
            elif str(body.get("type", "")).startswith("scenario."):
                reply = self.scenarios.handle(peer, body)
            elif body.get("type") == rotation.ROTATE:   # a peer rotates its certificate
                with self._rotation_lock:
                    reply = rotation.accept(NodeConfig.load(self.home), self.audit, peer, body)
                self.sync_peers()
            else:
                reply = self.jobs.handle(peer, body)
        except Exception as exc:  # noqa: BLE001 - a malformed message: refused and audited
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        self.audit.append(PeerCallEvent(peer, str(body.get("type", ""))[:100],
                                        _job_of(body)[:64], bool(reply.get("ok")),
                                        str(reply.get("error", ""))[:300]))
        return reply

    def _on_refused(self, who: str, why: str) -> None:
        event = PeerCallEvent(who, "connect", accepted=False, reason=why[:300])
        if who.startswith("unknown@"):  # unauthenticated: rate-limited per address and reason
            self.repeats.record(event, (who.rpartition(":")[0], why.replace(who, "")[:300]))
        else:
            self.audit.append(event)

    # -- API tokens ---------------------------------------------------------------------------
    def add_token(self, name: str, role: str, *, by: str = "node",
                  lifetime: str | None = "default") -> str:
        """Create an API token (audited); returns it once (only its hash is stored)."""
        return self.tokens.add(name, role, by=by, lifetime=lifetime)

    def principal(self, token: str) -> dict | None:
        """The token's holder, or None if it is unknown, revoked or expired."""
        return self.tokens.principal(token)


def _job_of(body: dict[str, Any]) -> str:
    """The job a peer's message is about, for its audit entry (whatever shape it has)."""
    def get(obj: Any, key: str) -> Any:
        return obj.get(key) if isinstance(obj, dict) else None

    job = get(body, "job_id") or get(get(body, "spec"), "id") or \
        get(get(get(body, "approval"), "record"), "job_id") or ""
    return str(job)
