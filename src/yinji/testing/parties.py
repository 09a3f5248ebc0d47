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
