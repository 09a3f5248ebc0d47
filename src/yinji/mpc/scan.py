"""Oblivious scans over 0/1 arithmetic sharings: AND of several bit vectors, prefix AND, and
the position of the first 1 (an oblivious "find first set" by prefix product, Hillis-Steele
scan: ceil(log2 n) rounds of one vectorised multiplication each).

Adversary model and leakage: as replicated.py (semi-honest, honest majority): every function
here only multiplies and adds sharings, so nothing is revealed; the results stay shared. The
number of rounds depends only on the public lengths, never on the bits.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yinji.mpc import replicated as rep
from yinji.mpc.compare import one_minus
from yinji.mpc.replicated import Shares
from yinji.mpc.session import Session


def and_all(s: Session, bits: Sequence[Shares]) -> Shares:
    """Elementwise AND (product) of 0/1 sharings of one shape: a balanced tree,
    ceil(log2 len(bits)) rounds."""
    if not bits:
        raise ValueError("and_all needs at least one vector")
    level = list(bits)
    while len(level) > 1:
        pairs = len(level) // 2
        left = (np.stack([level[2 * i][0] for i in range(pairs)]),
                np.stack([level[2 * i][1] for i in range(pairs)]))
        right = (np.stack([level[2 * i + 1][0] for i in range(pairs)]),
                 np.stack([level[2 * i + 1][1] for i in range(pairs)]))
        prod = rep.mul(s, left, right)                       # all pairs in one round
        level = [(prod[0][i], prod[1][i]) for i in range(pairs)] + level[2 * pairs:]
    return level[0]


def prefix_and(s: Session, bits: Shares) -> Shares:
    """p[k] = bits[0] * ... * bits[k] along the last axis, ceil(log2 n) rounds."""
    p = (bits[0].copy(), bits[1].copy())
    n, d = p[0].shape[-1], 1
    while d < n:
        prod = rep.mul(s, (p[0][..., d:], p[1][..., d:]), (p[0][..., :-d], p[1][..., :-d]))
        p[0][..., d:], p[1][..., d:] = prod
        d *= 2
    return p


def first_one(s: Session, bits: Shares) -> Shares:
    """The number of leading zeros of a 0/1 vector (the index of its first 1, or its length
    if it has none) as a sharing of shape bits.shape[:-1] + (1,):
    sum_k prod_{j<=k} (1 - bits[j])."""
    q = prefix_and(s, one_minus(s, bits))
    return (q[0].sum(axis=-1, dtype=np.uint64, keepdims=True),
            q[1].sum(axis=-1, dtype=np.uint64, keepdims=True))
