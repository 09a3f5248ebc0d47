"""A node's anonymous-query (keyword PIR) services: serving its own lists to its peers, and
asking its peers' lists through the query alliance (issue 5 on the node runtime).

Member side: each `pir` entry of node.yaml, and each service an operator added at run time
(`add`, REST POST /pir/services, `yinji pir service add`; kept in the metadata store so it
survives a restart, removed with `remove`), names a catalog dataset, its key column and label
columns, a port (0: any free one), an OPRF rate limit with an optional per-peer day budget and
the key kind (`yinji.ids`, default "auto": keys are normalised before the OPRF, and the
kind is published in the layout so every querier normalises its keys the same way; a
lower-case `x` in an ID number matches). A node.yaml list that cannot be built stops the
node; a stored one is audited and listed as failed (it can be refreshed or removed through the
API, which needs the node up). At start the node checks the dataset's column policy
for protocol `pir` per peer (only peers every column is allowed for may connect), reads the
columns in chunks and builds a database version streamed into `HOME/pir/ID/` on the node's
workers (`yinji.pir.build`; Ray tasks when `ray_address` is set) and serves it with `PirService` on
its own port, with the node's own certificate and trust file: only pinned peers, each by its
certificate, are admitted. `refresh` re-reads the dataset, re-checks the policy and publishes
a new version atomically (`PirServer.update`); queries in flight finish on the old version or
are told to fetch the new hint. Every OPRF and PIR request served is a signed audit entry
(`PirServedEvent`: peer, key count, version, status); refused connections are audited too
(rate-limited, `yinji.node.repeats`). Each service's OPRF key and per-peer budgets are kept
sealed in `HOME/pir/ID.oprf` under the node's state key (`yinji.node.sealing`), saved on
every spend: a restart neither refills a peer's budget nor invalidates its tokens. Nor does it
rebuild an unchanged list: a version stored in `HOME/pir/ID/` with the same stamp (the file's
SHA-256, columns and types, settings, label cipher and an identifier of the OPRF key) is
served again (audited "published" with that reason), so the API comes up in seconds, not
after a build, and peers' cached hints stay valid; any difference builds a new version.

Directory: a peer asks a member's data plane `{"type": "pir.directory"}` and gets the
member's live services that its column policy admits that peer to (id, port, version, key
kind, label columns, rate limit, day budget and what is left of it today) -- nothing of a
service the peer may not query. So a service added at run time is usable by the peers at
once, without a new bundle or a restart.

Querying side: `query` resolves the members (default: every peer advertising a PIR
service, as its directory or else its bundle said: `PeerConfig.pir`), asks a member's
directory when it has no entry for the service, and again when the member is down at the
address it knows (a service re-added on another port), and fans out through
`yinji.pir.alliance`. A member whose directory cannot be reached is answered `down`.
Connections are kept in a small pool per member and service so a member's hint is
downloaded once per database version, not once per query; a pooled connection the member
has meanwhile dropped is retried once on a fresh one. After each answer the pooled connection
precomputes, in the background and in chunks, SimplePIR query secrets for a batch of the same
size (they depend only on the hint; each is used once), so the next daily batch needs only
the online step; a query that takes the connection stops that work after the current chunk. The answer lists, per member, hit /
miss and label per key (keys as given; each is normalised by the member's rule inside
`PirClient`; a key in spreadsheet notation such as 1.10105E+17 is refused up front), or down / timeout / rate_limited / error with the reason. The call
is audited here with key and member counts and statuses (`PirCallEvent`), never keys,
labels or hit counts.

Leakage: as yinji.pir (docs/pir.md). What a member records is exactly what PIR lets it
learn: which peer asked, when, how many keys, against which version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from yinji import ids
from yinji.chunks import DEFAULT_CHUNK, Stream, iter_rows
from yinji.crypto.prg import derive
from yinji.net.channel import ChannelError, PeerUnavailable
from yinji.node import identity
from yinji.node.audit import PeerCallEvent, PirCallEvent, PirServedEvent, PirServiceEvent
from yinji.node.catalog import CatalogError, typed_column
from yinji.node.config import PirServiceConfig, parse_address
from yinji.node.sealing import state_aead
from yinji.pir.alliance import DOWN, Alliance, MemberAnswer
from yinji.pir.build import BuildError, build_stream, stored_version
from yinji.pir.client import PirClient
from yinji.pir.keyword import KeywordVersion
from yinji.pir.oprf import OprfServer, SealedOprfState
from yinji.pir.records import RecordError, parse_rate
from yinji.pir.server import PirQueryEvent, PirServer
from yinji.pir.service import PirService, connect_member

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from yinji.node.node import Node

KEY_KINDS = ("exact", *ids.KINDS)   # how a list's keys are normalised (yinji.ids)
PROTOCOL = "pir"               # the protocol name column policies allow
EMPTY_LIST = "the list has no records: every query answers `miss`"
REUSED = "served the version stored before the restart: same file, columns, settings and key"
MAX_KEYS = 1000                # keys per POST /pir/query (one OPRF + one PIR request each)
CONNECT_TIMEOUT = 3.0          # seconds to reach a member before it counts as down
_IDLE_PER_MEMBER = 4           # pooled connections kept per member and service
_PREPARE_CHUNK = 100           # query secrets precomputed per lock hold
DIRECTORY = "pir.directory"    # the data-plane request a member answers with its services
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")   # also a file name: HOME/pir/ID.oprf


class PirServiceError(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _ListKey:
    """What every version of one list is built with: its OPRF key (and budgets), persisted,
    so tokens a peer obtained stay valid across versions and restarts."""

    oprf: OprfServer


@dataclass
class _Served:
    cfg: PirServiceConfig
    db: _ListKey
    server: PirServer
    service: PirService
    clients: list[str]
    published: float = field(default_factory=time.time)
    builds: int = 1
    lock: threading.Lock = field(default_factory=threading.Lock)


def _safe_reason(exc: BaseException) -> str:
    """An audit-safe reason: record errors may quote keys, so they are summarised."""
    if isinstance(exc, RecordError):
        return ("records rejected: empty, spreadsheet-notation or duplicate keys, or a label "
                "longer than label_size (or than 1024 bytes without one)")
    return f"{type(exc).__name__}: {exc}"[:300]


def service_config(body: dict[str, Any]) -> PirServiceConfig:
    """A runtime service's config from a request body, checked (PirServiceError names the
    field). port: a number, or "auto"/0 for any free port."""
    problems = []
    sid = body.get("id")
    if not isinstance(sid, str) or not _ID.fullmatch(sid):
        problems.append("id must be 1-64 letters, digits, '.', '_' or '-', starting with a "
                        "letter or digit")
    for name in ("dataset", "key_column"):
        if not isinstance(body.get(name), str) or not body[name]:
            problems.append(f"{name} must be a non-empty text")
    labels = body.get("label_columns")
    if isinstance(labels, str):
        labels = [c.strip() for c in labels.split(",") if c.strip()]
    if not isinstance(labels, list) or not labels or not all(isinstance(c, str) and c
                                                             for c in labels):
        problems.append("label_columns must be a non-empty list of column names")
    elif body.get("key_column") in labels or len(set(labels)) != len(labels):
        problems.append("label_columns must be distinct and not the key column")
    port = body.get("port", "auto")
    port = 0 if port in ("auto", None) else port
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        problems.append('port must be 0..65535 or "auto"')
    rate = body.get("rate_limit") or "1000/min"
    try:
        parse_rate(rate)
    except RecordError as exc:
        problems.append(str(exc))
    day = body.get("day_budget")
    if day is not None and (isinstance(day, bool) or not isinstance(day, int) or day <= 0):
        problems.append("day_budget must be a positive number of keys per peer per day")
    kind = body.get("key_kind") or "auto"
    if kind not in KEY_KINDS:
        problems.append(f"key_kind must be one of {', '.join(KEY_KINDS)}")
    size = body.get("label_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int)
                             or not 16 <= size <= 4096):
        problems.append("label_size must be 16..4096 bytes")
    unknown = set(body) - {"id", "dataset", "key_column", "label_columns", "port",
                           "rate_limit", "day_budget", "key_kind", "label_size"}
    if unknown:
        problems.append(f"unknown field(s) {', '.join(sorted(unknown))}")
    if problems:
        raise PirServiceError("; ".join(problems), 422)
    return PirServiceConfig(sid, body["dataset"], body["key_column"], list(labels), port,
                            rate, size, day, kind)


class PirServices:
    def __init__(self, node: Node) -> None:
        self.node = node
        self._served: dict[str, _Served] = {}
        self._runtime: set[str] = set()           # added through add(), kept in the store
        self._admin = threading.Lock()            # add / remove
        self._idle: dict[tuple[str, str, tuple[str, int]], list[PirClient]] = {}
        self._pool_lock = threading.Lock()
        self._directory: dict[str, dict[str, dict[str, Any]]] = {}   # peer -> sid -> entry
        self._preparing: dict[int, tuple[threading.Thread, threading.Event]] = {}
        self._failed: dict[str, tuple[PirServiceConfig, str]] = {}   # stored, did not build

    # -- member side ------------------------------------------------------------------------
    def start(self) -> None:
        """Build and serve every configured and every stored list; on any failure stop those
        started and raise (a node does not run with a PIR service silently missing)."""
        stored = {sid: PirServiceConfig(**c) for sid, c in self.node.store.pir_services().items()
                  if sid not in self.node.cfg.pir}
        for cfg in self.node.cfg.pir.values():
            try:
                self._start_one(cfg)
            except Exception as exc:
                self.node.audit.append(PirServiceEvent(cfg.id, "failed", cfg.dataset,
                                                       reason=_safe_reason(exc)))
                self.stop()
                raise PirServiceError(f"pir service {cfg.id!r}: {exc}") from exc
        self._runtime = set(stored)
        for cfg in stored.values():   # added through the API: removable through it, so a list
            try:                      # that no longer builds must not keep the node down
                self._start_one(cfg)
            except Exception as exc:  # noqa: BLE001 - audited, logged, listed as failed
                reason = _safe_reason(exc)
                self._failed[cfg.id] = (cfg, reason)
                self.node.audit.append(PirServiceEvent(cfg.id, "failed", cfg.dataset,
                                                       reason=reason))
                log.error("pir service %r (added through the API) not served: %s", cfg.id,
                          reason)

    def add(self, body: dict[str, Any], by: str) -> dict[str, Any]:
        """Build, serve and store a new service (operator; takes effect at once: peers find
        it through the directory). Nothing is kept if any step fails."""
        cfg = service_config(body)
        with self._admin:
            if cfg.id in self._served or cfg.id in self.node.cfg.pir or cfg.id in self._failed:
                raise PirServiceError(f"a PIR service {cfg.id!r} exists on this node; "
                                      "refresh or remove it", 409)
            try:
                self._start_one(cfg, by)
            except Exception as exc:
                self.node.audit.append(PirServiceEvent(cfg.id, "failed", cfg.dataset, by=by,
                                                       reason=_safe_reason(exc)))
                if isinstance(exc, CatalogError | RecordError | ValueError | OSError
                              | BuildError):
                    raise PirServiceError(f"pir service {cfg.id!r}: {exc}") from None
                raise
            try:
                if not self.node.store.put_pir_service(cfg.id, asdict(cfg), by):
                    raise PirServiceError(f"a PIR service {cfg.id!r} is stored already", 409)
            except BaseException:
                self._served.pop(cfg.id).service.close()
                raise
            self._runtime.add(cfg.id)
            return self._describe(self._served[cfg.id])

    def remove(self, service_id: str, by: str) -> dict[str, Any]:
        """Stop serving a runtime service and forget it. Its sealed OPRF state (key and the
        peers' budgets) is kept, so removing and re-adding a list refills no budget."""
        with self._admin:
            if service_id in self._failed:
                self.node.store.delete_pir_service(service_id)
                self._runtime.discard(service_id)
                cfg, _ = self._failed.pop(service_id)
                self.node.audit.append(PirServiceEvent(service_id, "removed", cfg.dataset,
                                                       by=by))
                return {"id": service_id, "removed": True}
            s = self._get(service_id)
            if service_id not in self._runtime:
                raise PirServiceError(f"PIR service {service_id!r} is configured in node.yaml; "
                                      "remove it there and restart the node", 409)
            self.node.store.delete_pir_service(service_id)
            self._runtime.discard(service_id)
            del self._served[service_id]
            s.service.close()
            shutil.rmtree(self._folder(service_id), ignore_errors=True)
            self.node.audit.append(PirServiceEvent(service_id, "removed", s.cfg.dataset,
                                                   s.server.current.version,
                                                   s.server.current.records, by))
            return {"id": service_id, "removed": True}

    def directory(self, peer: str) -> list[dict[str, Any]]:
        """The live services `peer` may query (the data plane's `pir.directory` answer)."""
        out = []
        for sid, s in sorted(self._served.items()):
            if peer not in s.clients:
                continue
            rate = s.db.oprf.rate_limit
            out.append({"id": sid, "port": s.service.address[1],
                        "version": s.server.current.version, "key_kind": s.cfg.key_kind,
                        "label_columns": s.cfg.label_columns, "rate_limit": s.cfg.rate_limit,
                        "day_budget": s.cfg.day_budget,
                        "remaining_today": rate.remaining_today(peer)})
        return out

    def peers_changed(self) -> None:
        """Peers were added or removed while serving (`Node.sync_peers`): each list admits,
        from the next handshake, exactly the current peers its column policy allows."""
        tls = identity.tls_config(self.node.cfg)
        for s in list(self._served.values()):
            cols = [s.cfg.key_column, *s.cfg.label_columns]
            with s.lock:
                s.clients = [p for p in sorted(self.node.cfg.peers)
                             if not self.node.catalog.check(s.cfg.dataset, cols, PROTOCOL, [p])]
                s.service.listener.retrust(tls, s.clients)

    def _clients(self, cfg: PirServiceConfig) -> list[str]:
        """The peers the column policy lets query the list (CatalogError if none)."""
        cols = [cfg.key_column, *cfg.label_columns]
        peers = sorted(self.node.cfg.peers)
        problems = {p: self.node.catalog.check(cfg.dataset, cols, PROTOCOL, [p]) for p in peers}
        clients = [p for p in peers if not problems[p]]
        if not clients:
            why = next((v[0] for v in problems.values() if v), "this node has no peers")
            raise CatalogError(f"protocol {PROTOCOL!r} is allowed for no peer: {why}")
        return clients

    def _rows(self, cfg: PirServiceConfig) -> tuple[Stream, Any]:
        """The list's rows in chunks, typed by the dataset's schema as `Catalog.load` types
        them (so labels read the same), and the file to quote keys from in an error. A file
        is read in chunks, a sql dataset from a server-side cursor (`Catalog.sql_stream`):
        memory bounded by a chunk either way."""
        cols = [cfg.key_column, *cfg.label_columns]
        ds = self.node.catalog.get(cfg.dataset)
        path = None
        if ds.kind == "sql":
            raw = self.node.catalog.sql_stream(cfg.dataset, cols, DEFAULT_CHUNK)
        else:
            path = self.node.catalog.source(cfg.dataset, cols)
            try:
                raw = iter_rows(path, cols)
            except ValueError as exc:   # TableFileError: a column gone from the file, bad CSV
                raise CatalogError(f"dataset {cfg.dataset!r}: {exc}") from None

        def typed():  # noqa: ANN202 - Iterator[list[list[Any]]]
            for chunk in raw.chunks:
                columns = [typed_column([r[j] for r in chunk], ds.schema[c], cfg.dataset, c)
                           for j, c in enumerate(cols)]
                yield [list(r) for r in zip(*columns, strict=True)] if chunk else []

        return Stream(cols, typed(), raw.format), path

    def _stamp(self, cfg: PirServiceConfig, oprf: OprfServer) -> dict[str, Any] | None:
        """What a version of the list is built from: the file's SHA-256, the columns and
        their types, the list's settings, the profile's label cipher and an identifier of the
        OPRF key (derived one-way from it). A restart serves a stored version with the same
        stamp instead of building again; a sql dataset has no stamp (always rebuilt)."""
        ds = self.node.catalog.get(cfg.dataset)
        if ds.kind == "sql":
            return None
        cols = [cfg.key_column, *cfg.label_columns]
        path = self.node.catalog.source(cfg.dataset, cols)
        with open(path, "rb") as fh:
            digest = hashlib.file_digest(fh, "sha256").hexdigest()
        return {"dataset": ds.id, "sha256": digest, "columns": cols,
                "types": [ds.schema[c] for c in cols], "label_size": cfg.label_size,
                "key_kind": cfg.key_kind, "cipher": self.node.profile.cipher,
                "oprf": derive(oprf.build_key(), "pir build stamp").hex()}

    def _build(self, cfg: PirServiceConfig, oprf: OprfServer, builds: int,
               stamp: dict[str, Any] | None) -> KeywordVersion:
        """A new version of the list, built streamed into HOME/pir/ID/ on the node's workers
        (threads, or its Ray cluster: `ray_address`). `stamp` is taken before the file is
        read, so a file changed meanwhile is built again at the next start."""
        rows, path = self._rows(cfg)
        return build_stream(rows, cfg.key_column, cfg.label_columns, oprf,
                            self._folder(cfg.id), label_size=cfg.label_size,
                            key_kind=cfg.key_kind,
                            cipher=self.node.profile.cipher,  # labels at rest: profile's AEAD
                            workers=self.node.workers(), name=f"dataset {cfg.dataset!r}",
                            version=f"v{builds}-{secrets.token_hex(6)}", quote_from=path,
                            stamp=stamp)

    def _folder(self, service_id: str):  # noqa: ANN202 - Path
        return self.node.home / "pir" / service_id

    def _prune(self, service_id: str, keep: set[str]) -> None:
        """Remove the list's other versions (and leftovers of interrupted builds); the one
        published before is kept too, for a batch that may still be answering from it."""
        folder = self._folder(service_id)
        for p in folder.iterdir() if folder.exists() else ():
            if p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)

    def _start_one(self, cfg: PirServiceConfig, by: str = "start") -> None:
        clients = self._clients(cfg)
        rate = parse_rate(cfg.rate_limit, f"pir service {cfg.id!r}: rate_limit")
        rate.day = cfg.day_budget
        oprf = OprfServer.open(self._oprf_state(cfg.id), rate)
        stamp = self._stamp(cfg, oprf)
        version = stored_version(self._folder(cfg.id), stamp) if stamp else None
        reused = version is not None
        self._prune(cfg.id, {version.version} if version else set())
        version = version or self._build(cfg, oprf, 1, stamp)
        server = PirServer(version, oprf, name=self.node.cfg.name,
                           audit=lambda e, sid=cfg.id: self._on_served(sid, e))
        try:
            service = PirService(server, (self.node.cfg.dataplane_host, cfg.port),
                                 identity.tls_config(self.node.cfg), allowed=clients,
                                 on_refused=self._on_refused)
            service.start()
        except BaseException:
            self._prune(cfg.id, set())
            raise
        self._served[cfg.id] = _Served(cfg, _ListKey(oprf), server, service, clients)
        empty = "" if version.records else EMPTY_LIST
        if empty:
            log.warning("pir service %r: %s", cfg.id, empty)
        note = REUSED if reused else ""
        self.node.audit.append(PirServiceEvent(cfg.id, "published", cfg.dataset,
                                               version.version, version.records, by,
                                               reason="; ".join(filter(None, (note, empty)))))

    def _oprf_state(self, service_id: str) -> SealedOprfState:
        """`HOME/pir/ID.oprf`: the service's OPRF key and per-peer budgets, sealed."""
        folder = self.node.home / "pir"
        folder.mkdir(mode=0o700, exist_ok=True)
        aead = state_aead(self.node.home, self.node.profile.name)
        return SealedOprfState(folder / f"{service_id}.oprf", aead,
                               f"{self.node.cfg.name}/{service_id}")

    def _on_served(self, service: str, e: PirQueryEvent) -> None:
        self.node.audit.append(PirServedEvent(service, e.client, e.kind, e.count, e.version,
                                              e.status))

    def _on_refused(self, reason: str) -> None:
        """Refused (unauthenticated) connections are rate-limited per reason."""
        self.node.repeats.record(PeerCallEvent("unknown", "pir.connect", accepted=False,
                                               reason=reason[:300]), reason[:300])

    def refresh(self, service_id: str, by: str = "") -> dict[str, Any]:
        """Re-read the dataset in chunks and publish a new version (built in full, on the
        node's workers, with the list's persistent OPRF key); a stored service that did not
        build at start is tried again."""
        with self._admin:
            if service_id in self._failed:
                cfg, _ = self._failed[service_id]
                try:
                    self._start_one(cfg, by)
                except Exception as exc:  # noqa: BLE001 - stays failed, the caller is told
                    self.node.audit.append(PirServiceEvent(cfg.id, "failed", cfg.dataset,
                                                           by=by, reason=_safe_reason(exc)))
                    raise PirServiceError(f"pir service {service_id!r}: {exc}") from None
                del self._failed[service_id]
                return self._describe(self._served[service_id])
        s = self._get(service_id)
        with s.lock:
            try:
                clients = self._clients(s.cfg)
                before = s.server.current.version
                version = self._build(s.cfg, s.db.oprf, s.builds + 1,
                                      self._stamp(s.cfg, s.db.oprf))
                s.server.publish(version)
                self._prune(service_id, {version.version, before})
            except Exception as exc:
                self.node.audit.append(PirServiceEvent(service_id, "failed", s.cfg.dataset,
                                                       s.server.current.version, by=by,
                                                       reason=_safe_reason(exc)))
                if isinstance(exc, CatalogError | RecordError | BuildError):
                    raise PirServiceError(f"refresh of {service_id!r}: {exc}") from None
                raise
            s.builds, s.published = s.builds + 1, time.time()
            s.clients = clients
            s.service.listener.allowed = frozenset(clients)
            self.node.audit.append(PirServiceEvent(service_id, "published", s.cfg.dataset,
                                                   version.version, version.records, by))
            return self._describe(s)

    def _get(self, service_id: str) -> _Served:
        s = self._served.get(service_id)
        if s is None:
            raise PirServiceError(f"no PIR service {service_id!r} on this node", 404)
        return s

    def _describe(self, s: _Served) -> dict[str, Any]:
        v = s.server.current
        return {"id": s.cfg.id, "dataset": s.cfg.dataset, "key_column": s.cfg.key_column,
                "label_columns": s.cfg.label_columns,
                "address": "{}:{}".format(*s.service.address), "version": v.version,
                "records": v.records, "label_size": v.layout.label_size,
                "buckets": v.layout.buckets, "slots": v.layout.slots,
                "label_cipher": v.layout.cipher, "key_kind": v.layout.key_kind,
                "published": s.published, "clients": s.clients,
                "rate_limit": s.cfg.rate_limit, "day_budget": s.cfg.day_budget,
                "source": "api" if s.cfg.id in self._runtime else "node.yaml"}

    def list(self) -> list[dict[str, Any]]:
        """Served lists, and stored ones that did not build at start (with `failed`)."""
        failed = [{"id": c.id, "dataset": c.dataset, "key_column": c.key_column,
                   "label_columns": c.label_columns, "address": "", "version": "",
                   "records": 0, "label_size": 0, "buckets": 0, "slots": 0,
                   "published": 0.0, "clients": [], "rate_limit": c.rate_limit,
                   "day_budget": c.day_budget, "key_kind": c.key_kind, "source": "api",
                   "failed": why} for c, why in self._failed.values()]
        return sorted([self._describe(s) for s in self._served.values()] + failed,
                      key=lambda d: d["id"])

    def stop(self) -> None:
        for s in self._served.values():
            s.service.close()
        self._served.clear()
        with self._pool_lock:
            idle = [c for clients in self._idle.values() for c in clients]
            self._idle.clear()
            for _, stop in self._preparing.values():
                stop.set()
            self._preparing.clear()
        for client in idle:
            self._drop(client, bye=True)

    # -- querying side ----------------------------------------------------------------------
    def lookup(self, peer: str, timeout: float = CONNECT_TIMEOUT) -> dict[str, dict[str, Any]]:
        """Ask `peer`'s directory for the services it lets us query (cached); raises
        PeerUnavailable when it cannot be reached or answers with an error."""
        cfg = self.node.cfg.peers[peer]
        reply = self.node.dataplane.request(peer, {"type": DIRECTORY}, timeout, retry=False)
        if not reply.get("ok") or not isinstance(reply.get("services"), list):
            raise PeerUnavailable(f"{peer}: directory: {reply.get('error') or 'no answer'}")
        host = cfg.address[0]
        entries = {}
        for e in reply["services"]:
            if isinstance(e, dict) and isinstance(e.get("id"), str) \
                    and isinstance(e.get("port"), int) and 0 < e["port"] < 65536:
                entries[e["id"]] = {**e, "address": f"{host}:{e['port']}"}
        self._directory[peer] = entries
        return entries

    def discover(self, service: str | None = None, peers: list[str] | None = None,
                 timeout: float = CONNECT_TIMEOUT,
                 ) -> tuple[dict[str, dict[str, dict[str, Any]]], dict[str, str]]:
        """Ask every peer's directory at once: ({peer: its services [with `service`]},
        {peer: why its directory could not be read})."""
        names = sorted(self.node.cfg.peers if peers is None else peers)
        found: dict[str, dict[str, dict[str, Any]]] = {}
        down: dict[str, str] = {}
        if not names:
            return found, down

        def one(peer: str) -> tuple[str, Any]:
            try:
                return peer, self.lookup(peer, timeout)
            except (ChannelError, OSError, KeyError) as exc:
                return peer, f"{type(exc).__name__}: {exc}"[:300]

        with ThreadPoolExecutor(min(len(names), 16)) as pool:
            for peer, got in pool.map(one, names):
                if isinstance(got, str):
                    down[peer] = got
                elif service is None or service in got:
                    found[peer] = got
        return found, down

    def _advertised(self, peer: str) -> dict[str, str]:
        """sid -> HOST:PORT as last learnt: the directory's answer, else the bundle's."""
        if peer in self._directory:
            return {sid: e["address"] for sid, e in self._directory[peer].items()}
        return dict(self.node.cfg.peers[peer].pir)

    def _targets(self, members: list[str] | None, service: str | None,
                 ) -> tuple[dict[str, tuple[str, tuple[str, int]]], dict[str, str]]:
        """(member -> (service id, address of its PIR service), member -> why it could not
        be found: its directory is unreachable and no address is known)."""
        peers = self.node.cfg.peers
        if members is None:
            members = [n for n in sorted(peers)
                       if (service in self._advertised(n) if service else self._advertised(n))]
            if not members:
                found, _ = self.discover(service)
                members = [n for n, svc in sorted(found.items()) if svc]
            if not members:
                raise PirServiceError("no peer advertises a PIR service"
                                      + (f" {service!r}" if service else ""))
        out, unreachable = {}, {}
        for m in dict.fromkeys(members):
            if m not in peers:
                raise PirServiceError(f"{m!r} is not a peer of this node")
            known = self._advertised(m)
            if (service not in known) if service else len(known) != 1:
                try:
                    known = {sid: e["address"] for sid, e in self.lookup(m).items()}
                except (ChannelError, OSError) as exc:
                    if service or known:
                        unreachable[m] = f"{type(exc).__name__}: {exc}"[:300]
                        continue
                    raise PirServiceError(f"peer {m!r}: its PIR directory cannot be read "
                                          f"({exc}) and it advertises no PIR service") from None
            if service:
                sid = service
            elif len(known) == 1:
                sid = next(iter(known))
            else:
                raise PirServiceError(f"peer {m!r} advertises {len(known)} PIR services "
                                      f"({', '.join(sorted(known)) or 'none'}); name one "
                                      "with `service`")
            if sid not in known:
                raise PirServiceError(f"peer {m!r} advertises no PIR service {sid!r}")
            out[m] = (sid, parse_address(known[sid]))
        return out, unreachable

    def _round(self, targets: dict[str, tuple[str, tuple[str, int]]], keys: list[str],
               timeout: float, fresh: bool,
               ) -> tuple[dict[str, MemberAnswer], dict[str, PirClient], set[str]]:
        """One alliance query: pooled connections where there are some (unless `fresh`),
        new ones for the rest. Returns the answers, the clients used and which were pooled."""
        pooled: dict[str, PirClient] = {}
        if not fresh:
            with self._pool_lock:
                for m, (sid, addr) in targets.items():
                    idle = self._idle.get((m, sid, addr))
                    if idle:
                        pooled[m] = idle.pop()
            for client in pooled.values():
                self._take(client, timeout)
        me, tls = self.node.cfg.name, identity.tls_config(self.node.cfg)
        opened = Alliance.connect(
            {m: (lambda m=m, a=addr: connect_member(me, m, a, tls, timeout=timeout,
                                                      connect_timeout=CONNECT_TIMEOUT))
             for m, (_, addr) in targets.items() if m not in pooled}, timeout=timeout)
        opened.close(keep_clients=True)
        clients = {**pooled, **opened.members}
        alliance = Alliance(clients, timeout, unavailable=opened.unavailable)
        try:
            answer = alliance.query(keys, timeout)
        finally:
            alliance.close(keep_clients=True)
        return dict(answer.members), clients, set(pooled)

    def _drop(self, client: PirClient, bye: bool = False) -> None:
        """Close a connection without holding up the caller (a timed-out member may still
        have the client busy)."""
        def close() -> None:
            if bye and client.lock.acquire(blocking=False):
                client.lock.release()
                try:
                    client.close()
                except ChannelError:
                    pass
            try:
                client.channel.close()
            except ChannelError:
                pass
        threading.Thread(target=close, daemon=True, name="yinji-pir-drop").start()

    def query(self, keys: list[str], members: list[str] | None = None,
              service: str | None = None, timeout: float = 30.0,
              principal: str = "", key_kind: str | None = None) -> dict[str, Any]:
        """Ask the members for `keys` (normalised as `key_kind` first when given, as the
        members' lists are: `PirServiceConfig.key_kind`)."""
        if key_kind is not None and key_kind not in KEY_KINDS:
            raise PirServiceError(f"key_kind must be one of {', '.join(KEY_KINDS)}")
        keys = [ids.normalize(k, key_kind) if key_kind not in (None, "exact")
                else str(k).strip() for k in keys]
        if not keys or len(keys) > MAX_KEYS or not all(keys):
            raise PirServiceError(f"give 1..{MAX_KEYS} non-empty keys")
        unusable = [i for i, k in enumerate(keys) if ids.check(k)[1] is not None]
        if unusable:
            raise PirServiceError(f"{len(unusable)} key(s) empty or in spreadsheet notation "
                                  f"(positions {unusable[:5]}): {ids.REASONS[ids.SPREADSHEET]}")
        targets, unreachable = self._targets(members, service)
        answers: dict[str, MemberAnswer] = {}
        used: dict[str, PirClient] = {}
        if targets:
            answers, used, pooled = self._round(targets, keys, timeout, fresh=False)
            retry = {m: targets[m] for m in pooled if answers[m].status == DOWN}
            if retry:  # the member dropped the pooled connection (restart, idle): once more
                for m in retry:
                    self._drop(used.pop(m))
                again, used_again, _ = self._round(retry, keys, timeout, fresh=True)
                answers.update(again)
                used.update(used_again)
            moved = self._moved({m: targets[m] for m, a in answers.items() if a.status == DOWN})
            if moved:  # down where we knew it: its directory gave a new address
                for m in moved:
                    if m in used:
                        self._drop(used.pop(m))
                targets.update(moved)
                again, used_again, _ = self._round(moved, keys, timeout, fresh=True)
                answers.update(again)
                used.update(used_again)
        out: dict[str, Any] = {}
        for m, a in answers.items():
            client = used.get(m)
            out[m] = {"status": a.status, "service": targets[m][0],
                      "version": client.version if client is not None and a.ok else None,
                      "seconds": round(a.seconds, 4), "error": a.error,
                      "results": None if not a.ok or a.labels is None else
                      [{"key": k, "hit": lab is not None, "label": _label(lab)}
                       for k, lab in zip(keys, a.labels, strict=True)]}
        for m, why in unreachable.items():
            out[m] = {"status": DOWN, "service": service or "", "version": None,
                      "seconds": 0.0, "error": f"its PIR directory cannot be read: {why}",
                      "results": None}
        for m, client in used.items():
            self._release(m, targets[m], client, answers[m].ok, ahead=len(keys))
        statuses = {m: a["status"] for m, a in sorted(out.items())}
        self.node.audit.append(PirCallEvent(
            service or "", principal, len(keys), sorted(out), statuses))
        return {"keys": len(keys), "complete": all(v == "ok" for v in statuses.values()),
                "members": dict(sorted(out.items()))}

    def _moved(self, down: dict[str, tuple[str, tuple[str, int]]],
               ) -> dict[str, tuple[str, tuple[str, int]]]:
        """Members whose directory now names another address for the service."""
        moved = {}
        for m, (sid, addr) in down.items():
            try:
                entry = self.lookup(m).get(sid)
            except (ChannelError, OSError):
                continue
            if entry is not None and parse_address(entry["address"]) != addr:
                moved[m] = (sid, parse_address(entry["address"]))
        return moved

    def _release(self, member: str, target: tuple[str, tuple[str, int]], client: PirClient,
                 healthy: bool, ahead: int = 0) -> None:
        """Pool a healthy connection and, in the background, precompute `ahead` query
        secrets for it (SimplePIR's offline phase: they depend only on the hint, so the
        next batch of that size needs only the online step)."""
        if healthy:
            with self._pool_lock:
                idle = self._idle.setdefault((member, *target), [])
                if len(idle) < _IDLE_PER_MEMBER:
                    idle.append(client)
                    if ahead > client.prepared:
                        stop = threading.Event()
                        worker = threading.Thread(target=self._prepare,
                                                  args=(client, ahead, stop), daemon=True,
                                                  name="yinji-pir-prepare")
                        self._preparing[id(client)] = (worker, stop)
                        worker.start()
                    return
        self._drop(client, bye=healthy)

    @staticmethod
    def _prepare(client: PirClient, count: int, stop: threading.Event) -> None:
        """In chunks, so a query that takes this connection waits for one chunk at most."""
        try:
            for _ in range(-(-min(count, MAX_KEYS) // _PREPARE_CHUNK)):
                ready = client.prepared
                if stop.is_set() or ready >= count:
                    break
                client.prepare(min(ready + _PREPARE_CHUNK, count))
        except Exception:  # noqa: BLE001 - only a speed-up: the next query computes them
            log.debug("pir: precomputing query secrets failed", exc_info=True)

    def _take(self, client: PirClient, timeout: float) -> None:
        """A pooled connection about to be used: stop its precomputation (after the chunk
        under way) so the query does not find it busy."""
        with self._pool_lock:
            running = self._preparing.pop(id(client), None)
        if running is not None:
            running[1].set()
            running[0].join(timeout)

    def prepared(self) -> dict[str, int]:
        """member -> query secrets ready on its pooled connections (offline phase)."""
        with self._pool_lock:
            pooled = [(m, c) for (m, _, _), cs in self._idle.items() for c in cs]
        out: dict[str, int] = {}
        for m, c in pooled:
            out[m] = out.get(m, 0) + c.prepared
        return out


def _label(label: bytes | None) -> Any:
    """A node's labels are compact JSON objects of the label columns; anything else is
    returned as text."""
    if label is None:
        return None
    text = label.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


__all__ = ["DIRECTORY", "MAX_KEYS", "PROTOCOL", "PirServiceError", "PirServices",
           "service_config"]
