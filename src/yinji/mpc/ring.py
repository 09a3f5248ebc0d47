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


# Exact Z_2^64 matrix products on float64 BLAS: split each word into limbs of 22, 21 and 21
# bits (offsets 0, 22, 43); a product of two limbs is < 2^44, so a dot product over at most
# 512 terms stays below 2^53 and is exact in float64. Limb pairs whose offsets add up to 64 or
# more vanish mod 2^64, leaving six products. About 10x faster than NumPy's integer matmul.
_LIMBS = ((0, (1 << 22) - 1), (22, (1 << 21) - 1), (43, (1 << 21) - 1))
_CHUNK = 512


def _limbs(x: np.ndarray) -> list[np.ndarray]:
    # via int64: NumPy converts signed integers to float much faster than unsigned ones
    return [((x >> U64(shift)) & U64(mask)).view(np.int64).astype(np.float64)
            for shift, mask in _LIMBS]


def _exact(x: np.ndarray, shift: int) -> np.ndarray:
    return x.astype(np.int64).view(np.uint64) << U64(shift)


def ring_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b over Z_2^64 for 2-D uint64 arrays (other shapes fall back to NumPy's integer
    matmul)."""
    if a.ndim != 2 or b.ndim != 2:
        return np.asarray(np.matmul(a, b))
    out = np.zeros((a.shape[0], b.shape[1]), dtype=np.uint64)
    al, bl = _limbs(np.ascontiguousarray(a)), _limbs(np.ascontiguousarray(b))
    for start in range(0, a.shape[1], _CHUNK):
        part = slice(start, start + _CHUNK)
        a0, a1, a2 = (limb[:, part] for limb in al)
        b0, b1, b2 = (limb[part] for limb in bl)
        out += _exact(a0 @ b0, 0)
        out += _exact(np.hstack([a0, a1]) @ np.vstack([b1, b0]), 22)
        out += _exact(np.hstack([a0, a2]) @ np.vstack([b2, b0]), 43)
        out += _exact(a1 @ b1, 44)
    return out


def limbs(x: np.ndarray) -> list[np.ndarray]:
    """The float64 limbs of a 2-D uint64 array, for `limb_matmul`: a matrix that takes part
    in many products is converted once."""
    return _limbs(np.ascontiguousarray(x))


def limb_matmul(al: list[np.ndarray], bl: list[np.ndarray]) -> np.ndarray:
    """a @ b over Z_2^64 from `limbs(a)` and `limbs(b)` (transposed views of limbs work:
    limbs(a).T are the limbs of a.T). Same arithmetic as `ring_matmul`: each partial sum of
    at most 2 x 512 limb products stays below 2^53. Each limb of a is read once per chunk
    (three products with b's limbs side by side), which matters when a is the large one."""
    k = bl[0].shape[1]
    out = np.zeros((al[0].shape[0], k), dtype=np.uint64)
    for start in range(0, al[0].shape[1], _CHUNK):
        part = slice(start, start + _CHUNK)
        a0, a1, a2 = (limb[:, part] for limb in al)
        b0, b1, b2 = (limb[part] for limb in bl)
        p0 = a0 @ np.hstack([b0, b1, b2])
        p1 = a1 @ np.hstack([b0, b1])
        out += _exact(p0[:, :k], 0)
        out += _exact(p0[:, k:2 * k] + p1[:, :k], 22)
        out += _exact(p0[:, 2 * k:] + a2 @ b0, 43)
        out += _exact(p1[:, k:], 44)
    return out
