"""yinji.net.ports: ports handed out to parties that bind them later."""

from __future__ import annotations

import pytest

from yinji.net.ports import free_ports


def test_a_port_is_handed_out_once_per_process():
    """A node's port is written to its config first and bound later; a second call meanwhile
    must not hand out the same port again (two parties of one test collided on it)."""
    seen = [p for _ in range(400) for p in free_ports(4)]
    assert len(seen) == len(set(seen)) == 1600
    assert all(1024 <= p <= 65535 for p in seen)


def test_none_or_a_negative_number_of_ports():
    assert free_ports(0) == []
    with pytest.raises(ValueError, match="-1 ports"):   # not 64 tries and an OSError
        free_ports(-1)
