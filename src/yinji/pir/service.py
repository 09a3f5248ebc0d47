"""A member's long-running PIR endpoint over mutual TLS, and the client's way to reach it.

Why: `PirServer.serve(party)` answers a fixed set of peers wired up by the caller; a member
that serves risk officers over months needs to accept connections as they come. `PirService`
puts a `TlsListener` (yinji.net) in front of one `PirServer`: every admitted connection runs
the same request loop in its own thread, and all connections share the server's batcher, so
concurrent queries from different clients still go into one matrix product.

Who may connect: any client holding a certificate from the group CA (`TlsConfig.ca_file`),
optionally narrowed to `allowed` names; others are refused at the TLS handshake. The OPRF
rate limit and the audit events are keyed by the client's certificate name, so a client
cannot reset its budget by reconnecting. Clients that never authenticate cannot use up the
connection slots (`TlsListener`), and an authenticated one can make the member receive no
more than one request's worth of bytes (`PirServer.request_limit`).

Leakage: as `PirServer` (the member learns that a client, known by its certificate, asked
for k keys, and when). Connection set-up adds nothing about the keys.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection

from yinji.net.channel import Channel
from yinji.net.connect import Address, TlsConfig
from yinji.net.tls import DEFAULT_HANDSHAKE_TIMEOUT, TlsListener, tls_connect
from yinji.pir.server import PirServer
from yinji.pir.wire import MAX_HEADER_BYTES

DEFAULT_IDLE = 600.0  # seconds a connection may stay silent before the member drops it
_POLL = 1.0  # receive timeout of a service channel: how often an idle handler looks up


class PirService:
    """Serves one `PirServer` to every client that connects to `bind` with mutual TLS."""

    def __init__(self, server: PirServer, bind: Address, config: TlsConfig, *,
                 allowed: Collection[str] | None = None, idle: float = DEFAULT_IDLE,
                 max_connections: int = 256, max_handshakes: int = 64,
                 handshake_timeout: float = DEFAULT_HANDSHAKE_TIMEOUT,
                 on_refused: Callable[[str], None] | None = None) -> None:
        """`on_refused(reason)` is told of every refused connection (e.g. to audit it).
        Connection slots and the handshake deadline: see `TlsListener`. A connection reads
        ahead at most one request header (64 KiB) before the server asks for it."""
        self.server, self.idle = server, idle
        self.listener = TlsListener(server.name, bind, config, allowed=allowed,
                                    timeout=min(_POLL, idle), max_connections=max_connections,
                                    max_handshakes=max_handshakes,
                                    handshake_timeout=handshake_timeout,
                                    read_ahead=MAX_HEADER_BYTES, on_refused=on_refused)
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> Address:
        """Where the service listens (the real port when `bind` asked for port 0)."""
        return self.listener.address

    @property
    def refusals(self) -> list[str]:
        """Recent refused connections, with reasons (unknown CA, wrong name, …)."""
        return list(self.listener.refusals)

    def _handle(self, ch: Channel) -> None:
        self.server.serve_channel(ch, idle=self.idle)

    def serve_forever(self) -> None:
        """Accept and serve clients until `close()` (from another thread or a signal)."""
        with self.server.batching():
            self.listener.serve(self._handle)

    def start(self) -> PirService:
        """Serve in a background thread; returns self (use as a context manager to close)."""
        self._thread = threading.Thread(target=self.serve_forever, daemon=True,
                                        name=f"{self.server.name}-pir-service")
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop accepting, drop open connections, and wait for the accept loop to end."""
        self.listener.close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> PirService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect_member(client: str, member: str, address: Address, config: TlsConfig, *,
                   timeout: float = 30.0, connect_timeout: float = 5.0) -> Channel:
    """A TLS channel from `client` to the `PirService` of `member` at `address`.

    Raises `PeerUnavailable` when the member cannot be reached or refuses us.
    """
    return tls_connect(client, member, address, config, timeout=timeout,
                       connect_timeout=connect_timeout)


__all__ = ["DEFAULT_IDLE", "PirService", "connect_member"]
