"""2HashDH oblivious PRF on ristretto255 (Jarecki, Kiayias, Krawczyk, Asiacrypt 2014; the
OPRF mode of RFC 9497 has the same shape).

F_k(x) = H2(x, H1(x)^k). The client sends B = H1(x)^r for a fresh random r, the server
returns B^k, the client unblinds with 1/r and hashes (x, H1(x)^k) into a 64-byte token. One
round; the server holds k and evaluates the whole database the same way (without blinding)
to build its buckets.

Leakage: the server sees B, a uniformly random group element independent of x (r is uniform
and the group has prime order), so it learns only how many evaluations a client asked for.
The client learns F_k(x) for the keys it blinded and nothing about k or about F_k on other
inputs (one-more-gap-DH). Every evaluation is a dictionary guess a client can test, so the
server rate-limits evaluations per client (`RateLimit`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from yinji.crypto import group

H1_DOMAIN = b"yinji/pir/oprf/H1/v1"
H2_DOMAIN = b"yinji/pir/oprf/H2/v1"
TOKEN_BYTES = 64


class RateLimited(Exception):
    """The server refused an OPRF evaluation: the client's budget is spent."""


def _token(key: bytes, point: bytes) -> bytes:
    h = hashlib.sha512()
    for part in (H2_DOMAIN, key, point):
        h.update(len(part).to_bytes(4, "big"))
        h.update(part)
    return h.digest()


@dataclass
class BlindState:
    """The client's secret between `blind` and `finalize`: the keys and their blinds."""

    keys: list[bytes]
    blinds: list[bytes]


def blind(keys: Sequence[bytes]) -> tuple[BlindState, list[bytes]]:
    """Client step 1: H1(x)^r for every key, with a fresh r per key."""
    keys = [bytes(k) for k in keys]
    blinds = [group.random_scalar() for _ in keys]
    blinded = group.scalar_mults(blinds, group.hash_to_group(keys, H1_DOMAIN))
    return BlindState(keys, blinds), blinded


def finalize(state: BlindState, evaluated: Sequence[bytes]) -> list[bytes]:
    """Client step 2: unblind (·1/r) and hash (x, H1(x)^k) into each key's token."""
    if len(evaluated) != len(state.keys):
        raise ValueError(f"{len(evaluated)} evaluations for {len(state.keys)} keys")
    inverses = [group.scalar_inverse(r) for r in state.blinds]
    points = group.scalar_mults(inverses, evaluated)
    return [_token(k, p) for k, p in zip(state.keys, points, strict=True)]


@dataclass
class RateLimit:
    """Token bucket per client: at most `burst` evaluations at once, refilled at `per_second`.

    The clock is injectable so tests need no sleeps.
    """

    burst: int = 100_000
    per_second: float = 1_000.0
    clock: Callable[[], float] = time.monotonic
    _state: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, client: str, count: int) -> bool:
        """Spend `count` evaluations of `client`'s budget; False (and nothing spent) if short."""
        with self._lock:
            now = self.clock()
            level, last = self._state.get(client, (float(self.burst), now))
            level = min(float(self.burst), level + (now - last) * self.per_second)
            if count > level:
                self._state[client] = (level, now)
                return False
            self._state[client] = (level - count, now)
            return True


class OprfServer:
    """Holds the OPRF key k (a random scalar, never leaves this object)."""

    def __init__(self, key: bytes | None = None, rate_limit: RateLimit | None = None) -> None:
        self._key = key if key is not None else group.random_scalar()
        self.rate_limit = rate_limit if rate_limit is not None else RateLimit()

    def evaluate(self, client: str, blinded: Sequence[bytes]) -> list[bytes]:
        """B^k for each blinded element, charged to `client`'s budget.

        Raises `RateLimited` when over budget, `group.InvalidPoint` on a non-group element.
        """
        if not self.rate_limit.take(client, len(blinded)):
            raise RateLimited(f"OPRF budget of {client!r} exhausted")
        return group.scalar_mult(self._key, blinded)

    def tokens(self, keys: Sequence[bytes], workers: int | None = None) -> list[bytes]:
        """F_k(x) for the server's own keys (database build): no blinding needed."""
        keys = [bytes(k) for k in keys]
        points = group.hash_and_mult(self._key, keys, H1_DOMAIN, workers=workers)
        return [_token(k, p) for k, p in zip(keys, points, strict=True)]


__all__ = ["BlindState", "OprfServer", "RateLimit", "RateLimited", "TOKEN_BYTES", "blind",
           "finalize"]
