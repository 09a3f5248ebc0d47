"""Audit of gateway calls: who, when, which categories and how many, blocked or not.

Never the personal values, the prompt or the answer, nor request metadata as sent: `user` is
the authenticated caller's configured name or a client label with personal values replaced,
`conversation` a keyed digest (see callers.py). Every call, refused ones included, gets one
record: `CallRecord` is filled in as the request is understood and written once. `AuditSink`
is a one-method protocol so the node runtime's signed, tamper-evident audit log can be plugged
in later; until then calls go to an append-only JSON-lines file (or memory, for tests).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from yinji.gateway.callers import UNAUTHENTICATED


@dataclass(frozen=True)
class GatewayCallEvent:
    """One call through the gateway. `categories` maps category -> number of spans found.

    `user`: the `[clients]` name of an authenticated caller, else the client's own label after
    `callers.label`; `conversation`: `callers.conversation_digest`, never the id as sent.
    """

    time: str
    user: str
    endpoint: str
    model: str
    route: str
    conversation: str | None
    categories: dict[str, int] = field(default_factory=dict)
    blocked: bool = False
    blocked_categories: tuple[str, ...] = ()
    status: int = 200
    stream: bool = False
    detect_ms: float = 0.0
    upstream_ms: float = 0.0
    error: str | None = None  # error type only (e.g. upstream_timeout), never message content

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False, sort_keys=True)


class AuditSink(Protocol):
    def record(self, event: GatewayCallEvent) -> None: ...


class MemoryAuditSink:
    def __init__(self) -> None:
        self.events: list[GatewayCallEvent] = []

    def record(self, event: GatewayCallEvent) -> None:
        self.events.append(event)


class JsonlAuditSink:
    """Appends one JSON line per event (O_APPEND); `fsync=True` forces each line to disk."""

    def __init__(self, path: str | os.PathLike[str], *, fsync: bool = False) -> None:
        self.path = os.fspath(path)
        self.fsync = fsync
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self._lock = threading.Lock()

    def record(self, event: GatewayCallEvent) -> None:
        line = event.to_json() + "\n"
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line.encode())
                if self.fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)


@dataclass
class CallRecord:
    """What the audit record of one call will say; filled in as the request is understood."""

    sink: AuditSink
    endpoint: str
    user: str = UNAUTHENTICATED  # until the caller is known
    model: str = ""
    route: str = ""
    conversation: str | None = None
    counts: Counter[str] = field(default_factory=Counter)
    blocked: set[str] = field(default_factory=set)
    stream: bool = False
    t0: float = field(default_factory=time.perf_counter)
    detect_ms: float = 0.0
    t_upstream: float | None = None
    recorded: bool = False

    def record(self, status: int, error: str | None = None) -> None:
        """Write the audit record once (later calls are ignored)."""
        if self.recorded:
            return
        self.recorded = True
        up = (time.perf_counter() - self.t_upstream) * 1000 if self.t_upstream else 0.0
        self.sink.record(GatewayCallEvent(
            time=_now(), user=self.user, endpoint=self.endpoint, model=self.model,
            route=self.route, conversation=self.conversation, categories=dict(self.counts),
            blocked=bool(self.blocked), blocked_categories=tuple(sorted(self.blocked)),
            status=status, stream=self.stream, detect_ms=round(self.detect_ms, 3),
            upstream_ms=round(up, 3), error=error))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
