"""X25519 scalar multiplication in batches, over libsodium (`crypto_scalarmult_curve25519`).

Why: ECDH-PSI blinds every element twice with commutative exponentiation. X25519 is the
cheapest variable-base scalar multiplication libsodium offers (measured here: 37 µs per call
from Python, against 60 µs for ristretto255 and 42 µs for OpenSSL's X25519 through
`cryptography`, whose per-call key objects cost extra). We use the libsodium that `rbcl` loads
(the same binary `yinji.crypto.group` uses), called through `ctypes` with raw pointers into
NumPy buffers, so the Python cost per element is ~1 µs; `ctypes` releases the GIL during each
call, so a thread pool keeps both cores busy without copying data between processes.

Hash-to-curve is SHA-512(domain, item) truncated to 32 bytes and read as a u-coordinate, as
SecretFlow's ECDH-PSI does for Curve25519: every 255-bit string is the u-coordinate of a point
on Curve25519 or on its twist, and both have large prime-order subgroups (twist security), so
x([a][b]P) = x([b][a]P) and the CDH assumption hold for the clamped scalars X25519 uses.
libsodium refuses (returns -1 for) inputs whose product is the identity, i.e. small-order
points, which we surface as `InvalidPoint`.

Points are rows of an (n, 32) uint8 array; scalars are 32 random bytes.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from rbcl._sodium import _sodium as _lib  # the libsodium that rbcl bundles and loads

POINT_BYTES = 32
SCALAR_BYTES = 32
# Below this many elements one thread is faster than a pool.
PARALLEL_THRESHOLD = 2048

_scalarmult = _lib.crypto_scalarmult_curve25519
_scalarmult.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
_scalarmult.restype = ctypes.c_int


class InvalidPoint(ValueError):
    """An input whose product is the identity (a small-order point)."""


def random_scalar() -> bytes:
    """A fresh secret scalar (clamped by X25519 itself) from the OS CSPRNG."""
    return secrets.token_bytes(SCALAR_BYTES)


def hash_to_curve(items: Sequence[bytes], domain: bytes) -> np.ndarray:
    """SHA-512(len(domain) || domain || item)[:32] for each item, as an (n, 32) uint8 array."""
    prefix = len(domain).to_bytes(2, "big") + domain
    base = hashlib.sha512(prefix)
    out = bytearray(len(items) * POINT_BYTES)
    pos = 0
    for item in items:
        h = base.copy()
        h.update(item)
        out[pos:pos + POINT_BYTES] = h.digest()[:POINT_BYTES]
        pos += POINT_BYTES
    return np.frombuffer(bytes(out), dtype=np.uint8).reshape(-1, POINT_BYTES)


def _mult_into(scalar: bytes, points: np.ndarray, out: np.ndarray) -> int:
    """scalar · P for each row into `out`; returns the number of refused (small-order) inputs."""
    n = points.shape[0]
    if n == 0:
        return 0
    src = points.ctypes.data
    dst = out.ctypes.data
    bad = 0
    f = _scalarmult
    for off in range(0, n * POINT_BYTES, POINT_BYTES):
        bad += f(dst + off, scalar, src + off)
    return -bad


def _workers(workers: int | None) -> int:
    return max(1, workers if workers is not None else (os.cpu_count() or 1))


def scalar_mult(scalar: bytes, points: np.ndarray, workers: int | None = None,
                pool: ThreadPoolExecutor | None = None) -> np.ndarray:
    """X25519(scalar, P) for every row P of an (n, 32) uint8 array, over `workers` threads.

    Raises `InvalidPoint` if any input is a small-order point.
    """
    if len(scalar) != SCALAR_BYTES:
        raise ValueError(f"scalar must be {SCALAR_BYTES} bytes")
    points = np.ascontiguousarray(points, dtype=np.uint8).reshape(-1, POINT_BYTES)
    out = np.empty_like(points)
    n = points.shape[0]
    w = _workers(workers)
    if w == 1 or n < PARALLEL_THRESHOLD:
        bad = _mult_into(scalar, points, out)
    else:
        size = -(-n // w)
        parts = [(points[i:i + size], out[i:i + size]) for i in range(0, n, size)]
        own = pool is None
        ex = pool or ThreadPoolExecutor(max_workers=w, thread_name_prefix="x25519")
        try:
            bad = sum(ex.map(lambda p: _mult_into(scalar, p[0], p[1]), parts))
        finally:
            if own:
                ex.shutdown()
    if bad:
        raise InvalidPoint(f"{bad} input(s) are small-order points")
    return out


def hash_and_mult(scalar: bytes, items: Sequence[bytes], domain: bytes,
                  workers: int | None = None, pool: ThreadPoolExecutor | None = None
                  ) -> np.ndarray:
    """scalar · H(item) for each item."""
    return scalar_mult(scalar, hash_to_curve(items, domain), workers, pool)


__all__ = ["POINT_BYTES", "SCALAR_BYTES", "InvalidPoint", "hash_and_mult", "hash_to_curve",
           "random_scalar", "scalar_mult"]
