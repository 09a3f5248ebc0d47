"""Helpers shared by the PIR protocol tests."""

from __future__ import annotations

import numpy as np
import pytest

from yinji.net.channel import Channel
from yinji.pir.keyword import KeywordDatabase


class RecordingChannel(Channel):
    """Wraps a channel and keeps a copy of everything received (what the party learns)."""

    def __init__(self, inner: Channel) -> None:
        super().__init__()
        self.inner, self.peer, self.timeout = inner, inner.peer, inner.timeout
        self.stats = inner.stats
        self.received: list[bytes | np.ndarray] = []

    def send_bytes(self, data: bytes) -> None:
        self.inner.send_bytes(data)

    def send_array(self, array: np.ndarray) -> None:
        self.inner.send_array(array)

    def recv_bytes(self) -> bytes:
        got = self.inner.recv_bytes()
        self.received.append(got)
        return got

    def recv_array(self) -> np.ndarray:
        got = self.inner.recv_array()
        self.received.append(got)
        return got

    def close(self) -> None:
        self.inner.close()


RECORDS = [(f"11010119900101{i:04d}", f"risk:{i % 7};src:{i % 3}".encode()) for i in range(2000)]


@pytest.fixture
def member_db() -> KeywordDatabase:
    return KeywordDatabase(RECORDS, label_size=32)
