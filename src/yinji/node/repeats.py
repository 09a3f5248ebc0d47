"""Rate limit for noisy audit events: health polls, unauthenticated API calls and refused
connections.

Why: each of these used to be one signed audit entry, so a monitor polling `/health` or anyone
who can reach a port could grow the log (and its signing work) without bound. Here the first
`burst` events of a kind per `window` seconds are written as they are; further ones of the same
key are only counted, and one `RepeatedEvent` (the first event's fields, how many more, first
and last time) is written when the window ends. Nothing is dropped silently: every event is
either an entry or counted in one. Successful polls of /health and /metrics (monitors, every
few seconds) use burst 0: no entry per poll, one summary per window. Summaries pending at shutdown are written by `flush()`.

At most `max_keys` keys are tracked per window; events of further keys are counted under one
overflow key, so varying a path or a hello name cannot grow memory or the log either.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from yinji.node.audit import Event

WINDOW = 600.0    # seconds
BURST = 3         # entries written as they are, per key and window
MAX_KEYS = 64     # keys tracked per window before the overflow key takes the rest
_OVERFLOW = ("(other)",)


@dataclass(frozen=True)
class RepeatedEvent(Event):
    """`count` more events like `sample` (of kind `of`) between `first` and `last`."""

    kind: ClassVar[str] = "repeated"
    of: str
    sample: dict[str, Any]
    count: int
    first: float
    last: float


@dataclass
class _Window:
    start: float
    sample: tuple[str, dict[str, Any]]
    written: int = 0
    count: int = 0
    first: float = 0.0
    last: float = 0.0


@dataclass
class Repeats:
    """Write, count or summarise noisy events (see the module docstring)."""

    append: Callable[[Event], Any]
    window: float = WINDOW
    burst: int = BURST
    max_keys: int = MAX_KEYS
    clock: Callable[[], float] = time.time
    _open: dict[Hashable, _Window] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, event: Event, key: Hashable | None = None,
               burst: int | None = None) -> None:
        """Audit `event` unless `burst` (default `self.burst`) events of its key were written
        this window; `burst=0`: only counted, in the window's one summary entry."""
        burst = self.burst if burst is None else burst
        now = self.clock()
        key = (event.kind, key if key is not None else repr(asdict(event)))
        with self._lock:
            due = self._close(lambda w: now - w.start >= self.window)
            if key not in self._open and len(self._open) >= self.max_keys:
                key = _OVERFLOW
            w = self._open.get(key)
            if w is None:
                w = self._open[key] = _Window(now, (event.kind, asdict(event)))
            write = w.written < burst
            if write:
                w.written += 1
            else:
                w.count += 1
                w.first = w.first or now
                w.last = now
        for summary in due:
            self.append(summary)
        if write:
            self.append(event)

    def flush(self, expired_only: bool = False) -> None:
        """Write the summaries of all windows (or only of those that ended)."""
        now = self.clock()
        with self._lock:
            due = self._close(lambda w: not expired_only or now - w.start >= self.window)
        for summary in due:
            self.append(summary)

    def _close(self, done: Callable[[_Window], bool]) -> list[RepeatedEvent]:
        out = []
        for key in [k for k, w in self._open.items() if done(w)]:
            w = self._open.pop(key)
            if w.count:
                of, sample = w.sample
                out.append(RepeatedEvent(of if key != _OVERFLOW else "(other)", sample,
                                         w.count, round(w.first, 3), round(w.last, 3)))
        return out


__all__ = ["BURST", "MAX_KEYS", "WINDOW", "RepeatedEvent", "Repeats"]
