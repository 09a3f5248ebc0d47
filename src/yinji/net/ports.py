"""Free TCP ports on loopback, for local networks of parties (demos, CLI runs, tests)."""

from __future__ import annotations

import socket

# Ports this process handed out already: a caller usually binds them later (a node's config is
# written first, its listener started after), so until then the OS may hand the same port out
# again and two parties would collide. Each port is handed out at most once per process.
_HANDED_OUT: set[int] = set()


def free_ports(n: int, host: str = "127.0.0.1") -> list[int]:
    """`n` distinct ports that were free a moment ago and that this process has not handed out
    before (the OS may still give them to another process later)."""
    if n < 0:
        raise ValueError(f"cannot hand out {n} ports")
    out: list[int] = []
    for _ in range(64):
        socks = [socket.socket() for _ in range(n - len(out))]
        try:
            for s in socks:
                s.bind((host, 0))
            ports = [s.getsockname()[1] for s in socks]
        finally:
            for s in socks:
                s.close()
        out += [p for p in ports if p not in _HANDED_OUT and p not in out]
        if len(out) == n:
            _HANDED_OUT.update(out)
            return out
    raise OSError(f"no {n} free ports on {host} that were not handed out before")
