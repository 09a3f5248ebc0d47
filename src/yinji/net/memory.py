"""In-memory channels between threads of one process, for tests and in-process benchmarks."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from yinji.net.channel import (
    DEFAULT_TIMEOUT,
    Channel,
    ChannelClosed,
    ChannelError,
    ChannelTimeout,
    Party,
)

_CLOSED = object()
# Header size a framed message would carry on the wire; counted so that byte totals
# of the memory backend match the TLS backend's order of magnitude.
_HEADER_BYTES = 16


class MemoryChannel(Channel):
    """One end of a queue pair. Arrays are copied on send, so the sender may reuse its buffer."""

    def __init__(self, owner: str, peer: str, inbox: queue.Queue, outbox: queue.Queue,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.owner, self.peer = owner, peer
        self._inbox, self._outbox = inbox, outbox
        self.timeout = timeout
        self._closed = False

    def _put(self, kind: str, item: object, nbytes: int) -> None:
        if self._closed:
            raise ChannelClosed(f"{self.owner}: channel to {self.peer!r} is closed")
        self.stats.bytes_sent += nbytes + _HEADER_BYTES
        self.stats.messages_sent += 1
        self._outbox.put((kind, item))

    def _get(self, kind: str) -> object:
        if self._closed:
            raise ChannelClosed(f"{self.owner}: channel to {self.peer!r} is closed")
        try:
            got = self._inbox.get(timeout=self.timeout)
        except queue.Empty:
            raise ChannelTimeout(
                f"{self.owner}: nothing from {self.peer!r} within {self.timeout:g} s") from None
        if got is _CLOSED:
            self._closed = True
            raise ChannelClosed(f"{self.owner}: {self.peer!r} closed the channel")
        got_kind, item = got
        if got_kind != kind:
            raise ChannelError(f"{self.owner}: expected {kind} from {self.peer!r}, got {got_kind}")
        nbytes = item.nbytes if isinstance(item, np.ndarray) else len(item)
        self.stats.bytes_received += nbytes + _HEADER_BYTES
        self.stats.messages_received += 1
        return item

    def send_bytes(self, data: bytes) -> None:
        self._put("bytes", bytes(data), len(data))

    def recv_bytes(self) -> bytes:
        return self._get("bytes")  # type: ignore[return-value]

    def send_array(self, array: np.ndarray) -> None:
        array = np.array(array, copy=True, order="C")
        self._put("array", array, array.nbytes)

    def recv_array(self) -> np.ndarray:
        return self._get("array")  # type: ignore[return-value]

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._outbox.put(_CLOSED)


def memory_network(names: list[str], timeout: float = DEFAULT_TIMEOUT) -> list[Party]:
    """Fully connected in-memory network: one `Party` per name, in the order given."""
    if len(set(names)) != len(names):
        raise ValueError(f"party names must be distinct: {names}")
    parties = [Party(n) for n in names]
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            q_ab, q_ba = queue.Queue(), queue.Queue()
            parties[names.index(a)].channels[b] = MemoryChannel(a, b, q_ba, q_ab, timeout)
            parties[names.index(b)].channels[a] = MemoryChannel(b, a, q_ab, q_ba, timeout)
    return parties


__all__ = ["MemoryChannel", "memory_network", "run_in_threads"]


def run_in_threads(names: list[str], body: Callable[[int, Party], Any],
                   timeout: float = DEFAULT_TIMEOUT) -> list[Any]:
    """body(i, party) for each of `names` in its own thread over a `memory_network`; the
    results in order. A party whose body fails closes its channels (so the others stop
    waiting) and the first error is raised after all threads end."""
    parties = memory_network(names, timeout=timeout)
    results: list[Any] = [None] * len(names)
    errors: list[BaseException | None] = [None] * len(names)

    def run(i: int) -> None:
        try:
            results[i] = body(i, parties[i])
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors[i] = exc
            parties[i].close()

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(names))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in errors:
        if e is not None:
            raise e
    return results
