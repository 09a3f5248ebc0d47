"""`run_parties`: run one function per party in threads over an in-memory network."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from yinji.net.channel import Party
from yinji.net.memory import memory_network

DEFAULT_NAMES = ("P0", "P1", "P2")


def run_parties(fn: Callable[..., Any], n: int = 3, *, names: Sequence[str] | None = None,
                args: Sequence[Sequence[Any]] | None = None, timeout: float = 60.0) -> list[Any]:
    """Call `fn(party, *args[i])` for each party in its own thread; return results in order.

    If any party raises, the first exception (by party order) is re-raised after all threads
    have ended; channels of a failed party are closed so its peers do not hang.
    """
    names = list(names) if names is not None else [f"P{i}" for i in range(n)]
    parties = memory_network(names, timeout=timeout)
    results: list[Any] = [None] * len(names)
    errors: list[BaseException | None] = [None] * len(names)

    def body(i: int, party: Party) -> None:
        try:
            results[i] = fn(party, *(args[i] if args else ()))
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            errors[i] = exc
            party.close()

    threads = [threading.Thread(target=body, args=(i, p), name=p.name, daemon=True)
               for i, p in enumerate(parties)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for err in errors:
        if err is not None:
            raise err
    return results


def record_received(party: Party) -> list[tuple[str, Any]]:
    """From now on, keep (sender, message) for every array and byte string `party` receives:
    a party's whole view, for tests that play that party as the attacker."""
    got: list[tuple[str, Any]] = []
    for ch in party.channels.values():
        def wrap(recv: Callable[[], Any], peer: str = ch.peer) -> Callable[[], Any]:
            def recording() -> Any:
                message = recv()
                got.append((peer, message))
                return message
            return recording
        ch.recv_array = wrap(ch.recv_array)
        ch.recv_bytes = wrap(ch.recv_bytes)
    return got


def looks_uniform(view: list[tuple[str, Any]], min_size: int = 256) -> list[str]:
    """The received uint64 arrays of at least `min_size` words whose top bit is not set about
    half of the time (a plaintext or fixed-point value would show here; a share component or
    a masked value would not); each as 'sender shape fraction'."""
    import numpy as np

    bad = []
    for peer, msg in view:
        if isinstance(msg, np.ndarray) and msg.dtype == np.uint64 and msg.size >= min_size:
            top = float(np.mean(msg >> np.uint64(63)))
            if not 0.4 < top < 0.6:
                bad.append(f"{peer} {msg.shape} {top:.2f}")
    return bad
