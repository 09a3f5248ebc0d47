"""The `Channel` interface: an ordered, reliable link from this party to one named peer.

Protocols depend only on this interface; tests plug in `MemoryChannel`, nodes plug in
`TlsChannel`. Everything that crosses a channel is bytes or a NumPy array with an explicit
dtype and shape: nothing is ever unpickled.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

import numpy as np

DEFAULT_TIMEOUT = 120.0


class ChannelError(Exception):
    """Base class of transport failures; the message names the peer."""


class PeerUnavailable(ChannelError):
    """The peer could not be reached (down, refused, or failed the TLS handshake)."""


class ChannelClosed(ChannelError):
    """The peer closed the link, possibly in the middle of a message."""


class ChannelTimeout(ChannelError):
    """Nothing arrived from the peer within the timeout."""


class MalformedFrame(ChannelError):
    """The peer sent bytes that are not a valid frame (bad magic, dtype, shape or length)."""


@dataclass
class ChannelStats:
    """Traffic counters of one channel, for benchmarks and round-complexity tests."""

    bytes_sent: int = 0
    messages_sent: int = 0
    bytes_received: int = 0
    messages_received: int = 0

    def add(self, other: ChannelStats) -> ChannelStats:
        return ChannelStats(
            self.bytes_sent + other.bytes_sent,
            self.messages_sent + other.messages_sent,
            self.bytes_received + other.bytes_received,
            self.messages_received + other.messages_received,
        )


class Channel(abc.ABC):
    """A link to one peer. `send_*` never blocks on the peer reading; `recv_*` waits up to
    `timeout` seconds and raises `ChannelTimeout` after that."""

    peer: str
    timeout: float = DEFAULT_TIMEOUT

    def __init__(self) -> None:
        self.stats = ChannelStats()

    @abc.abstractmethod
    def send_bytes(self, data: bytes) -> None: ...

    @abc.abstractmethod
    def recv_bytes(self) -> bytes: ...

    @abc.abstractmethod
    def send_array(self, array: np.ndarray) -> None: ...

    @abc.abstractmethod
    def recv_array(self) -> np.ndarray: ...

    def recv_bytes_at_most(self, limit: int) -> bytes:
        """`recv_bytes`, refusing a message of more than `limit` bytes with `MalformedFrame`.

        A protocol states here what it expects next (a 64 KiB header, say). Transports that
        read from a socket (`TlsChannel`) refuse an oversized message from its header, before
        its payload is received; this default, for in-memory channels, checks afterwards.
        """
        data = self.recv_bytes()
        if len(data) > limit:
            raise MalformedFrame(f"message of {len(data)} bytes from {self.peer!r} exceeds "
                                 f"the limit of {limit} bytes")
        return data

    def recv_array_at_most(self, limit: int) -> np.ndarray:
        """`recv_array`, refusing an array of more than `limit` bytes (see
        `recv_bytes_at_most`)."""
        array = self.recv_array()
        if array.nbytes > limit:
            raise MalformedFrame(f"array of {array.nbytes} bytes from {self.peer!r} exceeds "
                                 f"the limit of {limit} bytes")
        return array

    def close(self) -> None:  # noqa: B027 - optional for implementations
        """Release the link; further calls fail with `ChannelClosed`."""


@dataclass
class Party:
    """One party's view of the network: its own name and a channel to each named peer."""

    name: str
    channels: dict[str, Channel] = field(default_factory=dict)

    def channel(self, peer: str) -> Channel:
        try:
            return self.channels[peer]
        except KeyError:
            known = ", ".join(sorted(self.channels)) or "none"
            raise ChannelError(f"{self.name}: unknown peer {peer!r} (known peers: {known})") from None

    @property
    def peers(self) -> list[str]:
        return sorted(self.channels)

    def stats(self) -> ChannelStats:
        """Traffic summed over all of this party's channels."""
        total = ChannelStats()
        for ch in self.channels.values():
            total = total.add(ch.stats)
        return total

    def close(self) -> None:
        for ch in self.channels.values():
            ch.close()


class TrafficTotals:
    """Bytes and messages over every channel handed to `track`, live or closed (a node's
    protocol traffic for /metrics). Holds the channels' counters, not the channels: a closed
    channel's counts are folded into the total when its channel is gone."""

    def __init__(self) -> None:
        import threading

        self._lock = threading.Lock()
        self._done = ChannelStats()
        self._live: list[tuple[Any, ChannelStats]] = []

    def track(self, channel: Channel) -> None:
        import weakref

        with self._lock:
            self._live.append((weakref.ref(channel), channel.stats))

    def total(self) -> ChannelStats:
        with self._lock:
            live = []
            for ref, stats in self._live:
                if ref() is None:
                    self._done = self._done.add(stats)
                else:
                    live.append((ref, stats))
            self._live = live
            total = self._done
            for _, stats in live:
                total = total.add(stats)
            return total
