"""Audit of gateway calls: who, when, which categories and how many, blocked or not.

Never the personal values, the prompt or the answer. `AuditSink` is a one-method protocol so
the node runtime's signed, tamper-evident audit log can be plugged in later; until then calls go
to an append-only JSON-lines file (or memory, for tests).
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class GatewayCallEvent:
    """One call through the gateway. `categories` maps category -> number of spans found."""

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
