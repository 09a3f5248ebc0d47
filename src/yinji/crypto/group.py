"""ristretto255: a prime-order group, batched, over libsodium (bundled by `rbcl`).

Why: OPRFs and ECDH-PSI need hash-to-group and scalar multiplication; we never write curve
arithmetic ourselves. One libsodium operation costs ~50-100 µs from Python, so the list
functions here split large lists over a thread pool: `rbcl` calls libsodium through `ctypes`,
which releases the GIL for the duration of each C call, so both cores work without the
pickling and process start-up a process pool would cost.

Points and scalars are 32-byte `bytes` (canonical encodings); lists of them are lists of bytes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import rbcl

POINT_BYTES = 32
SCALAR_BYTES = 32
# Below this many elements a thread pool costs more than it saves.
PARALLEL_THRESHOLD = 4096


class InvalidPoint(ValueError):
    """Bytes that are not the canonical encoding of a ristretto255 group element."""


def _workers(workers: int | None) -> int:
    return max(1, workers if workers is not None else (os.cpu_count() or 1))


def _map(fn: Callable[[list], list], items: Sequence, workers: int | None) -> list:
    """Apply a list->list `fn` to `items`, in chunks over threads when the list is large."""
    items = list(items)
    w = _workers(workers)
    if w == 1 or len(items) < PARALLEL_THRESHOLD:
        return fn(items)
    size = -(-len(items) // w)
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    with ThreadPoolExecutor(max_workers=w, thread_name_prefix="ristretto") as pool:
        out: list = []
        for part in pool.map(fn, chunks):
            out.extend(part)
    return out


def random_scalar() -> bytes:
    """A uniformly random non-zero scalar mod the group order ℓ (libsodium's CSPRNG)."""
    return rbcl.crypto_core_ristretto255_scalar_random()


def scalar_inverse(scalar: bytes) -> bytes:
    """1/scalar mod ℓ; raises `ValueError` for zero."""
    try:
        return rbcl.crypto_core_ristretto255_scalar_invert(scalar)
    except RuntimeError as exc:
        raise ValueError("scalar has no inverse (zero)") from exc


def is_valid_point(point: bytes) -> bool:
    return len(point) == POINT_BYTES and bool(rbcl.crypto_core_ristretto255_is_valid_point(point))


def _hash_one(domain: bytes, item: bytes) -> bytes:
    # Length-prefixed domain separation, then SHA-512 -> Elligator map (RFC 9496 §4.3.4).
    digest = hashlib.sha512(len(domain).to_bytes(2, "big") + domain + item).digest()
    return rbcl.crypto_core_ristretto255_from_hash(digest)


def hash_to_group(items: Sequence[bytes], domain: bytes, workers: int | None = None) -> list[bytes]:
    """H(item) for each item: SHA-512(domain, item) mapped with crypto_core_ristretto255_from_hash."""
    return _map(lambda part: [_hash_one(domain, x) for x in part], items, workers)


def _mult_one(scalar: bytes, point: bytes) -> bytes:
    try:
        return rbcl.crypto_scalarmult_ristretto255(scalar, point)
    except (RuntimeError, ValueError, TypeError) as exc:
        raise InvalidPoint("not a valid ristretto255 point (or result is the identity)") from exc


def scalar_mult(scalar: bytes, points: Sequence[bytes], workers: int | None = None) -> list[bytes]:
    """scalar · P for every P (one scalar for the whole list, as in OPRF evaluation).

    Raises `InvalidPoint` if any input is not a canonical group element.
    """
    return _map(lambda part: [_mult_one(scalar, p) for p in part], points, workers)


def scalar_mults(scalars: Sequence[bytes], points: Sequence[bytes],
                 workers: int | None = None) -> list[bytes]:
    """s_i · P_i pairwise (blinding/unblinding with one scalar per element)."""
    if len(scalars) != len(points):
        raise ValueError(f"{len(scalars)} scalars for {len(points)} points")
    pairs = list(zip(scalars, points, strict=True))
    return _map(lambda part: [_mult_one(s, p) for s, p in part], pairs, workers)


def hash_and_mult(scalar: bytes, items: Sequence[bytes], domain: bytes,
                  workers: int | None = None) -> list[bytes]:
    """scalar · H(item) for each item in one pass (server-side OPRF over a whole database)."""
    return _map(lambda part: [_mult_one(scalar, _hash_one(domain, x)) for x in part], items,
                workers)


__all__ = [
    "POINT_BYTES",
    "SCALAR_BYTES",
    "InvalidPoint",
    "hash_and_mult",
    "hash_to_group",
    "is_valid_point",
    "random_scalar",
    "scalar_inverse",
    "scalar_mult",
    "scalar_mults",
]
