"""Run an ASGI app with uvicorn on 127.0.0.1 in a background thread (tests and benchmarks)."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from yinji.net.ports import free_ports


def free_port() -> int:
    """A loopback port no other caller in this process was handed (yinji.net.ports)."""
    return free_ports(1)[0]


@contextmanager
def serve(app, *, port: int | None = None, timeout: float = 20.0,  # noqa: ANN001
          ssl_context: ssl.SSLContext | None = None) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (HTTPS with `ssl_context`, e.g. a node's
    `yinji.node.https.ServerTls(...).context`); yields its base URL; stops it on exit."""
    port = port or free_port()
    factory = (lambda _c, _d: ssl_context) if ssl_context is not None else None
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error",
                                           access_log=False, lifespan="on",
                                           ssl_context_factory=factory))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.01)
    try:
        yield f"{'https' if ssl_context is not None else 'http'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
