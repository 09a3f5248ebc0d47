"""The ring Z_2^64 and fixed-point encoding.

Values live in uint64 arrays; arithmetic wraps mod 2^64 (NumPy's unsigned overflow). A real
number v is encoded as round(v * 2^f) in two's complement, f = fractional bits (default 16).
A product of two encodings carries 2f fractional bits and must be truncated by f; truncation
(see `replicated.trunc`) needs |product| < 2^62, so with f = 16 real products must stay below
2^30 (about 1.07e9) in magnitude. Encoding refuses values that cannot be represented.
"""

from __future__ import annotations

import numpy as np

RING_BITS = 64
DEFAULT_FRAC_BITS = 16
U64 = np.uint64


def as_u64(x: np.ndarray | int) -> np.ndarray:
    """An integer array (signed or not) as its two's-complement uint64 image."""
    arr = np.asarray(x)
    if arr.dtype == np.uint64:
        return arr
    if arr.dtype.kind not in "iub":
        raise TypeError(f"expected integers, got dtype {arr.dtype}")
    return arr.astype(np.int64).view(np.uint64)


def max_abs(frac_bits: int) -> float:
    """Largest magnitude `encode` accepts: |v| * 2^f < 2^62."""
    return float(2 ** (62 - frac_bits))


def encode(x: np.ndarray | float, frac_bits: int = DEFAULT_FRAC_BITS) -> np.ndarray:
    """Real values → ring elements with `frac_bits` fractional bits (round to nearest)."""
    arr = np.asarray(x, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        raise ValueError("cannot encode NaN or infinity")
    limit = max_abs(frac_bits)
    if arr.size and np.max(np.abs(arr)) >= limit:
        raise ValueError(
            f"value {np.max(np.abs(arr)):.6g} out of fixed-point range (|v| < {limit:.6g} "
            f"with {frac_bits} fractional bits)")
    return np.rint(arr * float(2 ** frac_bits)).astype(np.int64).view(np.uint64)


def decode(x: np.ndarray, frac_bits: int = DEFAULT_FRAC_BITS) -> np.ndarray:
    """Ring elements → real values (two's complement, `frac_bits` fractional bits)."""
    signed = np.asarray(x, dtype=np.uint64).view(np.int64)
    if frac_bits == 0:
        return signed.copy()
    return signed.astype(np.float64) / float(2 ** frac_bits)
