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

Persistence (`OprfServer.open`): the key k and every client's remaining budget live in one
file sealed with AES-256-GCM (`yinji.crypto.aead.Aead`, bound to the service's name), replaced
atomically after every evaluation that spends budget, so a restart neither resets a client's
budget nor changes k (tokens a client obtained stay valid). Adversary model for the file:
whoever can read it but not the sealing key learns nothing of k or the budgets and cannot
alter them undetected; whoever can write the server's folder can still delete it or put back
an older copy (a fresh key, or an older budget) -- that is the server operator's own
trust boundary.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from cryptography.exceptions import InvalidTag

from yinji.crypto import group
from yinji.crypto.aead import Aead

H1_DOMAIN = b"yinji/pir/oprf/H1/v1"
H2_DOMAIN = b"yinji/pir/oprf/H2/v1"
TOKEN_BYTES = 64


class RateLimited(Exception):
    """The server refused an OPRF evaluation: the client's budget is spent."""


class OprfStateError(ValueError):
    """A sealed OPRF state file that cannot be opened or read; the message names the file."""


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


Budgets = dict[str, tuple[float, float]]   # client -> (level, time of last update)


DAY = 86_400.0
_DAY_TAG = "\n@day"   # budgets key suffix of a client's day bucket (no name has a newline)


@dataclass
class RateLimit:
    """Token bucket per client: at most `burst` evaluations at once, refilled at `per_second`.

    With `day` (keys per client per day) a second bucket bounds the total, and one request
    may be a whole day's batch: it is charged `min(count, burst)` on the rate bucket (a batch
    larger than the burst empties it, so it counts as one burst, once) and `count` on the day
    bucket (burst `day`, refilled at `day` per 24 h). A client therefore evaluates at most
    `day * (1 + T / 24 h)` keys in any window of T seconds, however it splits its requests;
    without `day` every request must fit the rate bucket as before.

    The clock is wall time (injectable, so tests need no sleeps) so that budgets persisted by
    `persist` mean the same after a restart; a clock stepping back refills nothing.
    `persist(budgets)` runs under the lock after every spend; if it raises, the evaluation is
    refused (the budget stays spent in memory).
    """

    burst: int = 100_000
    per_second: float = 1_000.0
    clock: Callable[[], float] = time.time
    persist: Callable[[Budgets], None] | None = field(default=None, repr=False)
    day: int | None = None
    _state: Budgets = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _level(self, key: str, cap: float, rate: float, now: float) -> float:
        level, last = self._state.get(key, (cap, now))
        return min(cap, level + max(now - last, 0.0) * rate)

    def take(self, client: str, count: int) -> bool:
        """Spend `count` evaluations of `client`'s budget; False (and nothing spent) if short."""
        with self._lock:
            now = self.clock()
            burst = float(self.burst)
            level = self._level(client, burst, self.per_second, now)
            need = min(count, self.burst) if self.day else count
            ok = need <= level
            if self.day:
                day_key, cap = client + _DAY_TAG, float(self.day)
                day_level = self._level(day_key, cap, cap / DAY, now)
                ok = ok and count <= day_level
                self._state[day_key] = (day_level - count if ok else day_level, now)
            self._state[client] = (level - need if ok else level, now)
            if ok and self.persist is not None:
                self.persist(dict(self._state))
            return ok

    def remaining_today(self, client: str) -> int | None:
        """Keys `client` may still ask for today (None without a day budget)."""
        if not self.day:
            return None
        with self._lock:
            cap = float(self.day)
            return int(self._level(client + _DAY_TAG, cap, cap / DAY, self.clock()))

    def budgets(self) -> Budgets:
        with self._lock:
            return dict(self._state)

    def restore(self, budgets: Budgets) -> None:
        """Continue from persisted budgets (levels above their bucket's size are cut to it)."""
        with self._lock:
            self._state = {}
            for c, (level, last) in budgets.items():
                is_day = c.endswith(_DAY_TAG)
                if is_day and not self.day:
                    continue
                cap = float(self.day if is_day else self.burst)
                self._state[c] = (min(float(level), cap), float(last))


class SealedOprfState:
    """The OPRF key and the budgets in one AEAD-sealed file (see the module docstring)."""

    def __init__(self, path: str | os.PathLike[str], aead: Aead, name: str) -> None:
        self.path, self._aead = Path(path), aead
        self._aad = b"yinji/pir/oprf-state/v1 " + name.encode()

    def load(self) -> tuple[bytes, Budgets] | None:
        """(key, budgets), or None when there is no state yet."""
        try:
            sealed = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            data = json.loads(self._aead.open(sealed, self._aad))
            key = bytes.fromhex(data["key"])
            budgets = {str(c): (float(v[0]), float(v[1])) for c, v in data["budgets"].items()}
        except InvalidTag:
            raise OprfStateError(f"{self.path}: cannot be opened with this sealing key (altered, "
                                 "or sealed for another service or key)") from None
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            raise OprfStateError(f"{self.path}: unreadable OPRF state ({exc})") from None
        if len(key) != group.SCALAR_BYTES:
            raise OprfStateError(f"{self.path}: OPRF key has {len(key)} bytes")
        return key, budgets

    def save(self, key: bytes, budgets: Budgets) -> None:
        """Seal and replace the file atomically (temporary file, fsync, rename; mode 0600)."""
        plain = json.dumps({"key": key.hex(), "budgets": {c: list(v) for c, v in
                                                           sorted(budgets.items())}})
        blob = self._aead.seal(plain.encode(), self._aad)
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise


class OprfServer:
    """Holds the OPRF key k (a random scalar; it leaves this object only sealed, to its
    `SealedOprfState`)."""

    def __init__(self, key: bytes | None = None, rate_limit: RateLimit | None = None) -> None:
        self._key = key if key is not None else group.random_scalar()
        self.rate_limit = rate_limit if rate_limit is not None else RateLimit()

    @classmethod
    def open(cls, state: SealedOprfState, rate_limit: RateLimit | None = None) -> OprfServer:
        """The server whose key and budgets `state` holds (a fresh key, saved, on first use);
        every later spend of `rate_limit` is saved to `state` before the evaluation."""
        loaded = state.load()
        key, budgets = loaded if loaded is not None else (group.random_scalar(), {})
        server = cls(key, rate_limit)
        server.rate_limit.restore(budgets)
        if loaded is None:
            state.save(key, budgets)
        server.rate_limit.persist = lambda b: state.save(key, b)
        return server

    def evaluate(self, client: str, blinded: Sequence[bytes]) -> list[bytes]:
        """B^k for each blinded element, charged to `client`'s budget.

        Raises `RateLimited` when over budget, `group.InvalidPoint` on a non-group element.
        """
        if not self.rate_limit.take(client, len(blinded)):
            raise RateLimited(f"OPRF budget of {client!r} exhausted")
        return group.scalar_mult(self._key, blinded)

    def build_key(self) -> bytes:
        """k itself, for this node's own build workers (`yinji.pir.build`: threads, or Ray
        tasks of the node's own cluster, inside its trust boundary); never sent to a peer."""
        return self._key

    def tokens(self, keys: Sequence[bytes], workers: int | None = None) -> list[bytes]:
        """F_k(x) for the server's own keys (database build): no blinding needed."""
        keys = [bytes(k) for k in keys]
        points = group.hash_and_mult(self._key, keys, H1_DOMAIN, workers=workers)
        return [_token(k, p) for k, p in zip(keys, points, strict=True)]


def build_tokens(key: bytes, keys: Sequence[bytes]) -> np.ndarray:
    """F_k(x) for a server's own keys as an (n, 64) uint8 array, on one thread: the unit of
    work of a database build (module-level, so a Ray task can run it)."""
    points = group.hash_and_mult_points(key, keys, H1_DOMAIN, workers=1)
    out = bytearray(len(keys) * TOKEN_BYTES)
    for i, k in enumerate(keys):
        out[i * TOKEN_BYTES:(i + 1) * TOKEN_BYTES] = _token(bytes(k), points[i].tobytes())
    return np.frombuffer(out, dtype=np.uint8).reshape(len(keys), TOKEN_BYTES)


__all__ = ["BlindState", "build_tokens", "OprfServer", "OprfStateError", "RateLimit", "RateLimited",
           "SealedOprfState", "TOKEN_BYTES", "blind", "finalize"]
