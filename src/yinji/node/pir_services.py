"""A node's anonymous-query (keyword PIR) services: serving its own lists to its peers, and
asking its peers' lists through the query alliance (issue 5 on the node runtime).

Member side: each `pir` entry of node.yaml names a catalog dataset, its key column and label
columns, a port, an OPRF rate limit and the key kind (`yinji.ids`, default "auto": keys are
normalised before the OPRF, and the kind is published in the layout so every querier
normalises its keys the same way). At start the node checks the dataset's column policy
for protocol `pir` per peer (only peers every column is allowed for may connect), reads the
columns, builds a database version (`yinji.pir.keyword`) and serves it with `PirService` on
its own port, with the node's own certificate and trust file: only pinned peers, each by its
certificate, are admitted. `refresh` re-reads the dataset, re-checks the policy and publishes
a new version atomically (`PirServer.update`); queries in flight finish on the old version or
are told to fetch the new hint. Every OPRF and PIR request served is a signed audit entry
(`PirServedEvent`: peer, key count, version, status); refused connections are audited too
(rate-limited, `yinji.node.repeats`). Each service's OPRF key and per-peer budgets are kept
sealed in `HOME/pir/ID.oprf` under the node's state key (`yinji.node.sealing`), saved on
every spend: a restart neither refills a peer's budget nor invalidates its tokens.

Querying side: `query` resolves the members (default: every peer advertising a PIR
service, as its bundle said: `PeerConfig.pir`), and fans out through `yinji.pir.alliance`.
Connections are kept in a small pool per member and service so a member's hint is
downloaded once per database version, not once per query; a pooled connection the member
has meanwhile dropped is retried once on a fresh one. The answer lists, per member, hit /
miss and label per key (keys as given; each is normalised by the member's rule inside
`PirClient`; a key in spreadsheet notation such as 1.10105E+17 is refused up front), or down / timeout / rate_limited / error with the reason. The call
is audited here with key and member counts and statuses (`PirCallEvent`), never keys,
labels or hit counts.

Leakage: as yinji.pir (docs/pir.md). What a member records is exactly what PIR lets it
learn: which peer asked, when, how many keys, against which version.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from yinji import ids
from yinji.net.channel import ChannelError
from yinji.node import identity
from yinji.node.audit import PeerCallEvent, PirCallEvent, PirServedEvent, PirServiceEvent
from yinji.node.catalog import CatalogError
from yinji.node.config import PirServiceConfig, parse_address
from yinji.node.sealing import state_aead
from yinji.pir.alliance import DOWN, Alliance, MemberAnswer
from yinji.pir.client import PirClient
from yinji.pir.keyword import KeywordDatabase
from yinji.pir.oprf import OprfServer, SealedOprfState
from yinji.pir.records import RecordError, build_records, label_size_for, parse_rate
from yinji.pir.server import PirQueryEvent, PirServer
from yinji.pir.service import PirService, connect_member

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from yinji.node.node import Node

PROTOCOL = "pir"               # the protocol name column policies allow
EMPTY_LIST = "the list has no records: every query answers `miss`"
MAX_KEYS = 1000                # keys per POST /pir/query (one OPRF + one PIR request each)
CONNECT_TIMEOUT = 3.0          # seconds to reach a member before it counts as down
_IDLE_PER_MEMBER = 4           # pooled connections kept per member and service


class PirServiceError(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class _Served:
    cfg: PirServiceConfig
    db: KeywordDatabase
    records: dict[str, bytes]
    server: PirServer
    service: PirService
    clients: list[str]
    published: float = field(default_factory=time.time)
    dirty: bool = False                       # db holds a diff that never got published
    lock: threading.Lock = field(default_factory=threading.Lock)


def _safe_reason(exc: BaseException) -> str:
    """An audit-safe reason: record errors may quote keys, so they are summarised."""
    if isinstance(exc, RecordError):
        return ("records rejected: empty, spreadsheet-notation or duplicate keys, or a label "
                "longer than label_size")
    return f"{type(exc).__name__}: {exc}"[:300]


class PirServices:
    def __init__(self, node: Node) -> None:
        self.node = node
        self._served: dict[str, _Served] = {}
        self._idle: dict[tuple[str, str, tuple[str, int]], list[PirClient]] = {}
        self._pool_lock = threading.Lock()

    # -- member side ------------------------------------------------------------------------
    def start(self) -> None:
        """Build and serve every configured list; on any failure stop those started and
        raise (a node does not run with a PIR service silently missing)."""
        for cfg in self.node.cfg.pir.values():
            try:
                self._start_one(cfg)
            except Exception as exc:
                self.node.audit.append(PirServiceEvent(cfg.id, "failed", cfg.dataset,
                                                       reason=_safe_reason(exc)))
                self.stop()
                raise PirServiceError(f"pir service {cfg.id!r}: {exc}") from exc

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

    def _load(self, cfg: PirServiceConfig) -> tuple[list[tuple[str, bytes]], list[str]]:
        """The records, and the peers the column policy lets query them."""
        cols = [cfg.key_column, *cfg.label_columns]
        peers = sorted(self.node.cfg.peers)
        problems = {p: self.node.catalog.check(cfg.dataset, cols, PROTOCOL, [p]) for p in peers}
        clients = [p for p in peers if not problems[p]]
        if not clients:
            why = next((v[0] for v in problems.values() if v), "this node has no peers")
            raise CatalogError(f"protocol {PROTOCOL!r} is allowed for no peer: {why}")
        data = self.node.catalog.load(cfg.dataset, cols)
        rows = ({c: data[c][i] for c in cols} for i in range(len(data[cfg.key_column])))
        return build_records(rows, cfg.key_column, cfg.label_columns,
                             f"dataset {cfg.dataset!r}", cfg.key_kind), clients

    def _start_one(self, cfg: PirServiceConfig) -> None:
        records, clients = self._load(cfg)
        rate = parse_rate(cfg.rate_limit, f"pir service {cfg.id!r}: rate_limit")
        db = KeywordDatabase(records, label_size=label_size_for(records, cfg.label_size),
                             oprf=OprfServer.open(self._oprf_state(cfg.id), rate),
                             cipher=self.node.profile.cipher,  # labels at rest: profile's AEAD
                             key_kind=cfg.key_kind)
        version = db.build()
        server = PirServer(version, db.oprf, name=self.node.cfg.name,
                           audit=lambda e, sid=cfg.id: self._on_served(sid, e))
        service = PirService(server, (self.node.cfg.dataplane_host, cfg.port),
                             identity.tls_config(self.node.cfg), allowed=clients,
                             on_refused=self._on_refused)
        service.start()
        self._served[cfg.id] = _Served(cfg, db, dict(records), server, service, clients)
        empty = "" if records else EMPTY_LIST
        if empty:
            log.warning("pir service %r: %s", cfg.id, empty)
        self.node.audit.append(PirServiceEvent(cfg.id, "published", cfg.dataset,
                                               version.version, version.records, "start",
                                               reason=empty))

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
        """Re-read the dataset and publish a new version (only new keys are OPRF'd again)."""
        s = self._get(service_id)
        with s.lock:
            try:
                records, clients = self._load(s.cfg)
                label_size = label_size_for(records, s.cfg.label_size)
                new = dict(records)
                if s.dirty or label_size != s.db.label_size:
                    db = KeywordDatabase(records, label_size=label_size, oprf=s.db.oprf,
                                         cipher=s.db.cipher, key_kind=s.db.key_kind)
                else:
                    db, s.dirty = s.db, True
                    db.remove([k for k, v in s.records.items() if new.get(k) != v])
                    db.add((k, v) for k, v in new.items() if s.records.get(k) != v)
                version = s.server.update(db)
            except Exception as exc:
                self.node.audit.append(PirServiceEvent(service_id, "failed", s.cfg.dataset,
                                                       s.server.current.version, by=by,
                                                       reason=_safe_reason(exc)))
                if isinstance(exc, CatalogError | RecordError):
                    raise PirServiceError(f"refresh of {service_id!r}: {exc}") from None
                raise
            s.db, s.records, s.dirty, s.published = db, new, False, time.time()
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
                "rate_limit": s.cfg.rate_limit}

    def list(self) -> list[dict[str, Any]]:
        return [self._describe(s) for _, s in sorted(self._served.items())]

    def stop(self) -> None:
        for s in self._served.values():
            s.service.close()
        self._served.clear()
        with self._pool_lock:
            idle = [c for clients in self._idle.values() for c in clients]
            self._idle.clear()
        for client in idle:
            self._drop(client, bye=True)

    # -- querying side ----------------------------------------------------------------------
    def _targets(self, members: list[str] | None,
                 service: str | None) -> dict[str, tuple[str, tuple[str, int]]]:
        """member -> (service id, address of its PIR service)."""
        peers = self.node.cfg.peers
        if members is None:
            members = [n for n, p in sorted(peers.items())
                       if (service in p.pir if service else p.pir)]
            if not members:
                raise PirServiceError("no peer advertises a PIR service"
                                      + (f" {service!r}" if service else ""))
        out = {}
        for m in dict.fromkeys(members):
            peer = peers.get(m)
            if peer is None:
                raise PirServiceError(f"{m!r} is not a peer of this node")
            if service:
                sid = service
            elif len(peer.pir) == 1:
                sid = next(iter(peer.pir))
            else:
                raise PirServiceError(f"peer {m!r} advertises {len(peer.pir)} PIR services "
                                      f"({', '.join(sorted(peer.pir)) or 'none'}); name one "
                                      "with `service`")
            if sid not in peer.pir:
                raise PirServiceError(f"peer {m!r} advertises no PIR service {sid!r}")
            out[m] = (sid, parse_address(peer.pir[sid]))
        return out

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
              principal: str = "") -> dict[str, Any]:
        keys = [str(k).strip() for k in keys]
        if not keys or len(keys) > MAX_KEYS or not all(keys):
            raise PirServiceError(f"give 1..{MAX_KEYS} non-empty keys")
        unusable = [i for i, k in enumerate(keys) if ids.check(k)[1] is not None]
        if unusable:
            raise PirServiceError(f"{len(unusable)} key(s) empty or in spreadsheet notation "
                                  f"(positions {unusable[:5]}): {ids.REASONS[ids.SPREADSHEET]}")
        targets = self._targets(members, service)
        answers, used, pooled = self._round(targets, keys, timeout, fresh=False)
        retry = {m: targets[m] for m in pooled if answers[m].status == DOWN}
        if retry:  # the member dropped the pooled connection (restart, idle): once more
            for m in retry:
                self._drop(used.pop(m))
            again, used_again, _ = self._round(retry, keys, timeout, fresh=True)
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
        for m, client in used.items():
            self._release(m, targets[m], client, answers[m].ok)
        self.node.audit.append(PirCallEvent(
            service or "", principal, len(keys), sorted(targets),
            {m: a.status for m, a in sorted(answers.items())}))
        return {"keys": len(keys), "complete": all(a.ok for a in answers.values()),
                "members": out}

    def _release(self, member: str, target: tuple[str, tuple[str, int]], client: PirClient,
                 healthy: bool) -> None:
        if healthy:
            with self._pool_lock:
                idle = self._idle.setdefault((member, *target), [])
                if len(idle) < _IDLE_PER_MEMBER:
                    idle.append(client)
                    return
        self._drop(client, bye=healthy)


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


__all__ = ["MAX_KEYS", "PROTOCOL", "PirServiceError", "PirServices"]
