"""In-memory network: ordered delivery, copies on send, counters, timeouts and closing."""

import numpy as np
import pytest

from yinji.net.channel import ChannelClosed, ChannelError, ChannelTimeout
from yinji.net.memory import memory_network
from yinji.testing.parties import run_parties


def test_send_recv_and_stats():
    a, b = memory_network(["A", "B"], timeout=1.0)
    x = np.arange(10, dtype=np.uint64)
    a.channel("B").send_array(x)
    x[:] = 0  # the sender may reuse its buffer at once
    a.channel("B").send_bytes(b"done")
    np.testing.assert_array_equal(b.channel("A").recv_array(), np.arange(10, dtype=np.uint64))
    assert b.channel("A").recv_bytes() == b"done"
    assert a.stats() == b.stats().__class__(80 + 4 + 32, 2, 0, 0)
    assert b.stats().bytes_received == 116 and b.stats().messages_received == 2


def test_run_parties_ring():
    def body(party):
        i = int(party.name[1:])
        party.channel(f"P{(i + 1) % 3}").send_bytes(party.name.encode())
        return party.channel(f"P{(i - 1) % 3}").recv_bytes()

    assert run_parties(body, timeout=5.0) == [b"P2", b"P0", b"P1"]


def test_timeout_kind_mismatch_and_close():
    a, b = memory_network(["A", "B"], timeout=0.05)
    with pytest.raises(ChannelTimeout, match="'A' within"):
        b.channel("A").recv_bytes()
    a.channel("B").send_bytes(b"x")
    with pytest.raises(ChannelError, match="expected array"):
        b.channel("A").recv_array()
    a.close()
    with pytest.raises(ChannelClosed):
        b.channel("A").recv_bytes()
    with pytest.raises(ChannelClosed):
        a.channel("B").send_bytes(b"y")
    with pytest.raises(ChannelError, match="unknown peer 'C'"):
        a.channel("C")


def test_run_in_threads_returns_in_order_and_a_failure_stops_the_others():
    from yinji.net.memory import run_in_threads

    def echo(i, party):
        if i == 0:
            party.channel("b").send_bytes(b"hi")
            return "a"
        return party.channel("a").recv_bytes().decode() + "!"

    assert run_in_threads(["a", "b"], echo, timeout=5) == ["a", "hi!"]

    def fails(i, party):
        if i == 0:
            raise ValueError("owner a's file is bad")
        return party.channel("a").recv_bytes()   # would wait for the timeout without close

    with pytest.raises(ValueError, match="owner a's file is bad"):
        run_in_threads(["a", "b"], fails, timeout=60)
