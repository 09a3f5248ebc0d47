"""Fixed-point helpers for training on `SharedTensor`s.

`SharedTensor * 0.0001` encodes the public constant with the session's f = 16 fractional bits
(0.0001 becomes 7 / 65536, a 7% error). Learning rates over batch sizes and 1/n are such
constants, so `scale` carries the constant with enough bits of its own and truncates once.
"""

from __future__ import annotations

import math

import numpy as np

from yinji.mpc import SharedTensor
from yinji.mpc import replicated as rep

SIGNIFICANT_BITS = 16  # of the smallest public constant: relative error <= 2^-17


def scale(t: SharedTensor, c: float | np.ndarray, *,
          significant_bits: int = SIGNIFICANT_BITS) -> SharedTensor:
    """t * c for a public real c (scalar or broadcastable array), elementwise.

    c is carried with b = 16 - floor(log2 min|c|) fractional bits (relative error <= 2^-17
    on the smallest nonzero constant), the product truncated by b: one truncation, three
    rounds. Range: needs |t| * max|c| * 2^(f + b) < 2^62."""
    t = t._fixed()
    arr = np.asarray(c, dtype=np.float64)
    nonzero = np.abs(arr[arr != 0])
    if nonzero.size == 0:
        return t * 0
    bits = max(0, significant_bits - math.floor(math.log2(float(nonzero.min()))))
    k = np.rint(arr * 2.0**bits).astype(np.int64).view(np.uint64)
    shape = np.broadcast_shapes(t.shape, arr.shape) or (1,)
    z0 = np.ascontiguousarray(np.broadcast_to(t.shares[0], shape) * k)
    z1 = np.ascontiguousarray(np.broadcast_to(t.shares[1], shape) * k)
    if bits == 0:
        return SharedTensor(t.session, (z0, z1), t.frac_bits)
    return SharedTensor(t.session, rep.trunc(t.session, (z0, z1), bits), t.frac_bits)


def mean_rows(t: SharedTensor) -> SharedTensor:
    """Column means of a 2-d (or the mean of a 1-d) shared tensor, with `scale`'s precision.
    The constant 1/n carries 10 significant bits (relative error <= 2^-11 on the mean),
    so that means up to 2^(46 - 10 - log2 n) fit (8e6 for n = 8,000)."""
    return scale(t.sum(axis=0), 1.0 / t.shape[0], significant_bits=10)


def as_fixed(t: SharedTensor) -> SharedTensor:
    """The same values with the session's fractional bits (integers are rescaled locally)."""
    return t._fixed()
