"""`run_parties`: run one function per party in threads over an in-memory network."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from typing import Any

from yinji.net.channel import MalformedFrame, Party
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


def refuse_unbounded(party: Party) -> None:
    """From now on, `party` may read only with a size bound (`recv_*_at_most`): a plain
    `recv_array()` / `recv_bytes()` raises AssertionError naming the peer, so a test run of
    a protocol shows that every read of that party is bounded."""
    for ch in party.channels.values():
        def bounded(recv: Callable[[], Any], size: Callable[[Any], int], ch: Any = ch
                    ) -> Callable[[int], Any]:
            def at_most(limit: int) -> Any:
                message = recv()
                if size(message) > limit:
                    raise MalformedFrame(f"message of {size(message)} bytes from {ch.peer!r} "
                                         f"exceeds the limit of {limit} bytes")
                return message
            return at_most

        def unbounded(peer: str = ch.peer) -> Any:
            raise AssertionError(f"an unbounded read of {peer}'s message")

        ch.recv_array_at_most = bounded(ch.recv_array, lambda a: a.nbytes)
        ch.recv_bytes_at_most = bounded(ch.recv_bytes, len)
        ch.recv_array = ch.recv_bytes = unbounded


FALSE_ALARM = 1e-12  # per array, check and side: 10^4 arrays in one test flake < 3e-8 a run


def _chernoff_exponent(n: int, seen: float, p: float) -> float:
    """n * KL(seen || p): a Bernoulli(p) sample of n has a frequency at least as far from p
    as `seen` (on that side) with probability at most exp(-n * KL) (Chernoff-Hoeffding)."""
    def term(a: float, b: float) -> float:
        return 0.0 if a == 0 else a * math.log(a / b)
    return n * (term(seen, p) + term(1 - seen, 1 - p))


def looks_uniform(view: list[tuple[str, Any]], min_size: int = 256) -> list[str]:
    """The received uint64 arrays of at least `min_size` words that do not look uniform over
    Z_2^64, each as 'sender shape reason'. Two checks: the top bit is set about half of the
    time, and almost no word is small as a signed number (|v| < 2^56 has probability 2^-7).
    Each flags an array only where the Chernoff bound puts a uniform array's chance of doing
    as badly below FALSE_ALARM (1e-12), exactly for any size, so a test checking thousands of
    arrays does not flake. A plaintext or fixed-point value fails the second at once (every
    word small: n * ln 128 > ln 1e12 from n = 6 words); a top bit that is never set (63-bit
    masks) fails the first from n = 40 words; a share component or a masked value passes both."""
    import numpy as np

    limit = math.log(1 / FALSE_ALARM)
    bad = []
    for peer, msg in view:
        if isinstance(msg, np.ndarray) and msg.dtype == np.uint64 and msg.size >= min_size:
            n = msg.size
            top = float(np.mean(msg >> np.uint64(63)))
            signed = msg.view(np.int64)
            small = float(np.mean((signed > -(1 << 56)) & (signed < (1 << 56))))
            if _chernoff_exponent(n, top, 0.5) > limit:
                bad.append(f"{peer} {msg.shape} top bit set in {top:.2f}")
            elif small > 2 ** -7 and _chernoff_exponent(n, small, 2 ** -7) > limit:
                bad.append(f"{peer} {msg.shape} {small:.2f} of the words are small numbers")
    return bad
