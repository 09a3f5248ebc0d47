"""PIR server (a member): serves OPRF evaluations, hints and batched SimplePIR answers.

Why a batcher: SimplePIR's cost is one pass over the database matrix; a pass that multiplies
by b query columns at once costs far less than b passes (memory-bound matrix-vector versus
compute-bound matrix-matrix). Concurrent queries from all clients go into one queue; a single
worker drains whatever arrived within `window` seconds (and whatever queued while it was
busy) into one matrix product.

Versions are immutable (`KeywordVersion`); `publish` swaps the current one atomically, so a
query is answered entirely from one fully built version or told it is stale (its hint is for
another version) and refreshes. Each answered or refused PIR query is reported to the audit
hook as a `PirQueryEvent` carrying no key information, and so is each client dropped for a
malformed or oversized message (kind "frame", status "malformed").

Why limits on what a client may send: a request is a header of at most 64 KiB and one part,
an OPRF batch (`MAX_KEYS_PER_REQUEST` points) or a query (`cols` x `MAX_KEYS_PER_REQUEST`
uint32 of the current version). The handler asks its channel for exactly that, so over TLS a
larger announcement is refused from its frame header and never received.

Leakage: see `keyword.py`; the server additionally learns when, how often and for how many
keys per request a client queries (batch sizes are visible).
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from yinji.crypto.group import POINT_BYTES, InvalidPoint
from yinji.net.channel import Channel, ChannelError, ChannelTimeout, MalformedFrame, Party
from yinji.pir.keyword import KeywordDatabase, KeywordVersion
from yinji.pir.oprf import OprfServer, RateLimited
from yinji.pir.wire import PirError, expect_array, expect_bytes, recv_msg, send_msg

MAX_KEYS_PER_REQUEST = 4096


@dataclass(frozen=True)
class PirQueryEvent:
    """Audit record: "client queried this member" — no key, token or bucket."""

    member: str
    client: str
    kind: str  # "oprf" or "pir"
    count: int  # number of keys in the request (visible to the server anyway)
    version: str
    status: str  # "ok", "stale", "rate_limited", "error"
    at: float


@dataclass
class _Job:
    version: str
    queries: np.ndarray
    done: threading.Event = field(default_factory=threading.Event)
    answer: np.ndarray | None = None
    served_by: str = ""
    error: BaseException | None = None


class PirServer:
    """One member's PIR service. Thread-safe; `serve` may run for several parties at once."""

    def __init__(self, version: KeywordVersion, oprf: OprfServer, *, name: str = "member",
                 audit: Callable[[PirQueryEvent], None] | None = None,
                 window: float = 0.002, max_batch: int = 1024) -> None:
        self.name, self.oprf, self.audit = name, oprf, audit
        self.window, self.max_batch = window, max_batch
        self._current = version
        self._lock = threading.Lock()
        self._jobs: queue.Queue[_Job] = queue.Queue()
        self._stop = threading.Event()  # ends the batcher (last `serve` finished)
        self._halt = threading.Event()  # ends `serve` (operator asked to stop)
        self._batcher: threading.Thread | None = None
        self._serving = 0
        self.batches: list[int] = []  # sizes of the matrix products computed (for tests/bench)

    @classmethod
    def from_database(cls, db: KeywordDatabase, **kwargs) -> PirServer:
        return cls(db.build(), db.oprf, **kwargs)

    @property
    def current(self) -> KeywordVersion:
        return self._current

    def publish(self, version: KeywordVersion) -> None:
        """Make a fully built version the one every later query is answered from."""
        with self._lock:
            self._current = version

    def update(self, db: KeywordDatabase) -> KeywordVersion:
        """Build a new version from `db` off to the side, then publish it."""
        if db.oprf is not self.oprf:
            raise ValueError("database and server must share one OPRF key")
        version = db.build()
        self.publish(version)
        return version

    # -- batching --------------------------------------------------------------------------

    def answer(self, version: str, queries: np.ndarray) -> tuple[str, np.ndarray | None]:
        """Queue one client's query columns; wait for the batch. (version served, answer|None)"""
        job = _Job(version, queries)
        self._jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error
        return job.served_by, job.answer

    def _batch_loop(self) -> None:
        while not self._stop.is_set():
            try:
                jobs = [self._jobs.get(timeout=0.05)]
            except queue.Empty:
                continue
            deadline = time.monotonic() + self.window
            width = jobs[0].queries.shape[1]
            while width < self.max_batch:
                try:
                    left = deadline - time.monotonic()
                    job = self._jobs.get(timeout=left) if left > 0 else self._jobs.get_nowait()
                except queue.Empty:
                    break
                jobs.append(job)
                width += job.queries.shape[1]
            self._run_batch(jobs)

    def _run_batch(self, jobs: list[_Job]) -> None:
        current = self._current
        fresh = [j for j in jobs if j.version == current.version]
        try:
            if fresh:
                stacked = np.concatenate([j.queries for j in fresh], axis=1)
                answers = current.pir.answer(stacked)
                self.batches.append(stacked.shape[1])
                col = 0
                for j in fresh:
                    k = j.queries.shape[1]
                    j.answer = answers[:, col:col + k]
                    col += k
        except Exception as exc:  # noqa: BLE001 - handed to every waiting handler
            for j in fresh:
                j.error = exc
        for j in jobs:
            j.served_by = current.version
            j.done.set()

    def _start(self) -> None:
        with self._lock:
            self._serving += 1
            if self._batcher is None:
                self._stop.clear()
                self._batcher = threading.Thread(target=self._batch_loop, daemon=True,
                                                 name=f"{self.name}-pir-batcher")
                self._batcher.start()

    def _finish(self) -> None:
        with self._lock:
            self._serving -= 1
            batcher = self._batcher if self._serving == 0 else None
            if batcher is not None:
                self._batcher = None
                self._stop.set()
        if batcher is not None:
            batcher.join()

    # -- serving ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def batching(self) -> Iterator[PirServer]:
        """Keep the shared batcher running for the duration (a long-running service holds
        it open so connections that come and go do not restart it)."""
        self._start()
        try:
            yield self
        finally:
            self._finish()

    def serve(self, party: Party, clients: Sequence[str] | None = None) -> None:
        """Answer every client peer of `party` until each says bye or closes its channel."""
        peers = list(clients) if clients is not None else party.peers
        with self.batching():
            threads = [threading.Thread(target=self._handle, args=(party.channel(p),),
                                        daemon=True, name=f"{self.name}-pir-{p}") for p in peers]
            for t in threads:
                t.start()
            for t in threads:
                t.join()

    def serve_channel(self, ch: Channel, idle: float | None = None) -> None:
        """Answer one client on `ch` (e.g. one TLS connection) until it says bye, closes,
        or sends nothing for `idle` seconds. Concurrent calls share one batcher."""
        with self.batching():
            self._handle(ch, idle)

    def stop(self) -> None:
        """Make `serve` return once each client's pending receive times out."""
        self._halt.set()

    def _audit(self, client: str, kind: str, count: int, version: str, status: str) -> None:
        if self.audit is not None:
            self.audit(PirQueryEvent(self.name, client, kind, count, version, status, time.time()))

    def request_limit(self) -> int:
        """Bytes of the largest part a client may send now (an OPRF batch or a query)."""
        cols = self._current.params.cols
        return MAX_KEYS_PER_REQUEST * max(POINT_BYTES, 4 * cols)

    def _handle(self, ch: Channel, idle: float | None = None) -> None:
        last = time.monotonic()
        while True:
            try:
                header, parts = recv_msg(ch, max_part=self.request_limit(), max_parts=1)
            except ChannelTimeout:
                if self._halt.is_set() or (idle is not None and time.monotonic() - last >= idle):
                    return
                continue
            except MalformedFrame:  # oversized or not our format: drop this client, audited
                self._audit(ch.peer, "frame", 0, self._current.version, "malformed")
                return
            except ChannelError:  # closed: drop this client
                return
            last = time.monotonic()
            op, rid = header.get("op"), header.get("id")
            if op == "bye":
                return
            try:
                reply, out = self._dispatch(ch.peer, op, header, parts)
            except RateLimited as exc:
                reply, out = {"status": "rate_limited", "error": str(exc)}, ()
            except (PirError, InvalidPoint, ValueError) as exc:
                reply, out = {"status": "error", "error": str(exc)}, ()
            try:
                send_msg(ch, dict(reply, id=rid), out)
            except ChannelError:
                return

    def _dispatch(self, client: str, op: str | None, header: dict,
                  parts: list) -> tuple[dict, tuple]:
        if op == "hint":
            v = self._current
            return dict(v.describe(), status="ok"), (v.pir.hint,)
        if op == "oprf":
            blob = expect_bytes(parts)
            count = len(blob) // POINT_BYTES
            if len(blob) % POINT_BYTES or not 0 < count <= MAX_KEYS_PER_REQUEST:
                raise PirError(f"OPRF request must hold 1..{MAX_KEYS_PER_REQUEST} points")
            points = [blob[i:i + POINT_BYTES] for i in range(0, len(blob), POINT_BYTES)]
            try:
                out = self.oprf.evaluate(client, points)
            except RateLimited:
                self._audit(client, "oprf", count, self._current.version, "rate_limited")
                raise
            self._audit(client, "oprf", count, self._current.version, "ok")
            return {"status": "ok"}, (b"".join(out),)
        if op == "query":
            q = expect_array(parts, np.uint32, 2)
            version = str(header.get("version"))
            current = self._current
            if version != current.version:
                self._audit(client, "pir", q.shape[1], current.version, "stale")
                return {"status": "stale", "version": current.version}, ()
            if q.shape[0] != current.params.cols or not 0 < q.shape[1] <= MAX_KEYS_PER_REQUEST:
                raise PirError(f"query must be {current.params.cols} x 1..{MAX_KEYS_PER_REQUEST}")
            served, ans = self.answer(version, q)
            if ans is None:
                self._audit(client, "pir", q.shape[1], served, "stale")
                return {"status": "stale", "version": served}, ()
            self._audit(client, "pir", q.shape[1], served, "ok")
            return {"status": "ok", "version": served}, (np.ascontiguousarray(ans),)
        raise PirError(f"unknown op {op!r}")


__all__ = ["MAX_KEYS_PER_REQUEST", "PirQueryEvent", "PirServer"]
