"""ristretto255: a prime-order group, batched, over libsodium (bundled by `rbcl`).

Why: OPRFs and ECDH-PSI need hash-to-group and scalar multiplication; we never write curve
arithmetic ourselves. ristretto255 (RFC 9496) has prime order ℓ: every canonical encoding is
a group element of order ℓ, hashing (SHA-512, then libsodium's Elligator-based
`crypto_core_ristretto255_from_hash`) never lands on a twist or a small-order coset, and
scalars have inverses, so a blinding can be undone (OPRF). A bare X25519 u-coordinate has
none of this: half of all hashes lie on the twist and blinding keeps that bit.

One libsodium operation costs ~15 µs of CPU (hash) and ~52 µs (scalar multiplication) here,
against ~32 µs for an X25519 multiplication.
Two APIs:
- lists of 32-byte `bytes` (OPRF, PIR, unbalanced PSI), through rbcl's wrappers;
- NumPy (n, 32) uint8 arrays (ECDH and multi-party PSI, the hot paths): libsodium is called
  through `ctypes` with raw pointers into the arrays, ~1 µs of Python per element.
Both split large inputs over a thread pool: ctypes releases the GIL for each C call, so both
cores work without the pickling and start-up a process pool would cost.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import rbcl
from rbcl._sodium import _sodium as _lib  # the libsodium that rbcl bundles and loads

# rbcl writes its bundled libsodium to a fresh temporary file on every import and never
# removes it (2.7 MB a process: a node's job processes, test runs and Ray workers filled a
# disk with them). Once loaded, the library is mapped, so the file can go; where the system
# refuses (a loaded DLL on Windows), it stays as rbcl left it.
try:
    os.unlink(sys.modules["rbcl._sodium"].lib_path)
except OSError:
    pass

POINT_BYTES = 32
SCALAR_BYTES = 32
HASH_BYTES = 64
# Below this many elements a thread pool costs more than it saves.
PARALLEL_THRESHOLD = 4096
# The array API: one ctypes call per element is cheap enough to split smaller inputs.
ARRAY_PARALLEL_THRESHOLD = 2048



def _function(name: str, argtypes: list) -> ctypes._CFuncPtr:
    """Our own function object (indexing does not return rbcl's cached one, whose argtypes
    rbcl may rely on)."""
    fn = _lib[name]
    fn.argtypes = argtypes
    fn.restype = ctypes.c_int
    return fn


_from_hash = _function("crypto_core_ristretto255_from_hash", [ctypes.c_void_p, ctypes.c_void_p])
_scalarmult = _function("crypto_scalarmult_ristretto255",
                        [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p])
_is_valid = _function("crypto_core_ristretto255_is_valid_point", [ctypes.c_void_p])


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


def _prefix(domain: bytes) -> bytes:
    if len(domain) >= 1 << 16:
        raise ValueError("domain separation string too long")
    return len(domain).to_bytes(2, "big") + domain


def _hash_one(domain: bytes, item: bytes) -> bytes:
    # Length-prefixed domain separation, then SHA-512 -> Elligator map (RFC 9496 §4.3.4).
    digest = hashlib.sha512(_prefix(domain) + item).digest()
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


def base_mult(scalar: bytes) -> bytes:
    """scalar · G for the ristretto255 generator G (base OTs' public keys)."""
    _check_scalar(scalar)
    return rbcl.crypto_scalarmult_ristretto255_base(scalar)


def add_points(p: bytes, q: bytes) -> bytes:
    """P + Q; raises `InvalidPoint` if either is not a canonical group element."""
    if not (is_valid_point(p) and is_valid_point(q)):
        raise InvalidPoint("not a valid ristretto255 point")
    return rbcl.crypto_core_ristretto255_add(p, q)


def sub_points(p: bytes, q: bytes) -> bytes:
    """P - Q; raises `InvalidPoint` if either is not a canonical group element."""
    if not (is_valid_point(p) and is_valid_point(q)):
        raise InvalidPoint("not a valid ristretto255 point")
    return rbcl.crypto_core_ristretto255_sub(p, q)


# --- the array API: (n, 32) uint8 arrays, libsodium through ctypes -------------------------


def _digests(items: Sequence[bytes], domain: bytes) -> np.ndarray:
    """SHA-512(len(domain) || domain || item) for each item, as an (n, 64) uint8 array."""
    base = hashlib.sha512(_prefix(domain))
    out = bytearray(len(items) * HASH_BYTES)
    pos = 0
    for item in items:
        h = base.copy()
        h.update(item)
        out[pos:pos + HASH_BYTES] = h.digest()
        pos += HASH_BYTES
    return np.frombuffer(out, dtype=np.uint8).reshape(-1, HASH_BYTES)


def _split(n: int, workers: int | None, pool: ThreadPoolExecutor | None,
           part: Callable[[int, int], int]) -> int:
    """Run part(start, stop) over [0, n) in one chunk per worker; sum the returned counts."""
    w = _workers(workers)
    if w == 1 or n < ARRAY_PARALLEL_THRESHOLD:
        return part(0, n)
    size = -(-n // w)
    ranges = [(a, min(a + size, n)) for a in range(0, n, size)]
    ex = pool or ThreadPoolExecutor(max_workers=w, thread_name_prefix="ristretto")
    try:
        return sum(ex.map(lambda r: part(*r), ranges))
    finally:
        if pool is None:
            ex.shutdown()


def _as_points(points: np.ndarray) -> np.ndarray:
    pts = np.ascontiguousarray(points)
    if pts.dtype != np.uint8 or pts.ndim != 2 or pts.shape[1] != POINT_BYTES:
        raise InvalidPoint(f"expected an (n, {POINT_BYTES}) uint8 array of points, got "
                           f"{pts.dtype} {pts.shape}")
    return pts


def _check_scalar(scalar: bytes) -> None:
    if not isinstance(scalar, bytes) or len(scalar) != SCALAR_BYTES:
        raise ValueError(f"a scalar is {SCALAR_BYTES} bytes")


def hash_points(items: Sequence[bytes], domain: bytes, workers: int | None = None,
                pool: ThreadPoolExecutor | None = None) -> np.ndarray:
    """H(item) for each item as an (n, 32) uint8 array (same values as `hash_to_group`)."""
    dig = _digests(items, domain)
    out = np.empty((len(dig), POINT_BYTES), dtype=np.uint8)
    src, dst = dig.ctypes.data, out.ctypes.data

    def part(a: int, b: int) -> int:
        for i in range(a, b):
            _from_hash(dst + i * POINT_BYTES, src + i * HASH_BYTES)
        return 0

    _split(len(dig), workers, pool, part)
    return out


def mult_points(scalar: bytes, points: np.ndarray, workers: int | None = None,
                pool: ThreadPoolExecutor | None = None) -> np.ndarray:
    """scalar · P for every row P of an (n, 32) uint8 array.

    Raises `InvalidPoint` if any row is not a canonical ristretto255 encoding (libsodium
    refuses it), so a received batch is validated by the multiplication itself.
    """
    _check_scalar(scalar)
    pts = _as_points(points)
    out = np.empty_like(pts)
    src, dst = pts.ctypes.data, out.ctypes.data

    def part(a: int, b: int) -> int:
        bad = 0
        for off in range(a * POINT_BYTES, b * POINT_BYTES, POINT_BYTES):
            bad += _scalarmult(dst + off, scalar, src + off)
        return -bad

    bad = _split(len(pts), workers, pool, part)
    if bad:
        raise InvalidPoint(f"{bad} of {len(pts)} rows are not ristretto255 group elements "
                           "(or the product is the identity)")
    return out


def hash_and_mult_points(scalar: bytes, items: Sequence[bytes], domain: bytes,
                         workers: int | None = None,
                         pool: ThreadPoolExecutor | None = None) -> np.ndarray:
    """scalar · H(item) for each item, as an (n, 32) uint8 array, in one pass."""
    _check_scalar(scalar)
    dig = _digests(items, domain)
    hashed = np.empty((len(dig), POINT_BYTES), dtype=np.uint8)
    out = np.empty_like(hashed)
    src, tmp, dst = dig.ctypes.data, hashed.ctypes.data, out.ctypes.data

    def part(a: int, b: int) -> int:
        bad = 0
        for i in range(a, b):
            off = i * POINT_BYTES
            _from_hash(tmp + off, src + i * HASH_BYTES)
            bad += _scalarmult(dst + off, scalar, tmp + off)
        return -bad

    if _split(len(dig), workers, pool, part):
        raise InvalidPoint("a hashed point times the scalar is the identity (zero scalar?)")
    return out


def valid_points(points: np.ndarray) -> np.ndarray:
    """Boolean mask: which rows are canonical encodings of ristretto255 group elements."""
    pts = _as_points(points)
    base = pts.ctypes.data
    return np.array([bool(_is_valid(base + i * POINT_BYTES)) for i in range(len(pts))],
                    dtype=bool)


__all__ = [
    "POINT_BYTES",
    "SCALAR_BYTES",
    "InvalidPoint",
    "add_points",
    "base_mult",
    "hash_and_mult",
    "hash_and_mult_points",
    "hash_points",
    "hash_to_group",
    "is_valid_point",
    "mult_points",
    "random_scalar",
    "scalar_inverse",
    "scalar_mult",
    "scalar_mults",
    "sub_points",
    "valid_points",
]
