"""Socket helpers for tests that attack a listener: did the other side hang up, and wait for
a condition without sleeping a fixed time."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Callable


def closed_by_peer(sock: socket.socket, within: float = 5.0) -> bool:
    """Whether the other side closed `sock` within `within` seconds (EOF or reset)."""
    sock.settimeout(within)
    try:
        while sock.recv(4096):
            pass
    except (ConnectionResetError, ssl.SSLError):
        return True
    except TimeoutError:
        return False
    return True


def soon(predicate: Callable[[], object], within: float = 5.0) -> bool:
    """Whether `predicate()` holds within `within` seconds (polled every 10 ms)."""
    deadline, tick = time.monotonic() + within, threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        tick.wait(0.01)
    return True
