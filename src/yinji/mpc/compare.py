"""Comparisons, selection and ReLU on arithmetic sharings (results are arithmetic 0/1 shares).

All comparisons reduce to the sign bit: x < y ⇔ msb(x - y) = 1, valid while |x - y| < 2^63.
Costs per element: `ltz` 10 rounds, 126.875 bytes in total (msb 86.875 + bit2a 40, for element
counts that are multiples of 64); equality runs two sign tests in one batch. Adversary model
and leakage: as replicated.py — nothing but the output is revealed, and the output stays
shared until someone reveals it.
"""

from __future__ import annotations

import numpy as np

from yinji.mpc import boolean as bl
from yinji.mpc import replicated as rep
from yinji.mpc.replicated import Shares
from yinji.mpc.session import Session

ONE = np.uint64(1)


def sub(x: Shares, y: Shares) -> Shares:
    return x[0] - y[0], x[1] - y[1]


def ltz(s: Session, x: Shares) -> Shares:
    """[x < 0] as an arithmetic 0/1 sharing."""
    return bl.bit2a(s, bl.msb(s, x))


def lt(s: Session, x: Shares, y: Shares) -> Shares:
    """[x < y]."""
    return ltz(s, sub(x, y))


def eq(s: Session, x: Shares, y: Shares) -> Shares:
    """[x == y]: both x - y and y - x are non-negative. One batched sign test of 2n values,
    then one bit conversion; 10 rounds."""
    d = sub(x, y)
    signs = bl.msb(s, (np.stack([d[0], -d[0]]), np.stack([d[1], -d[1]])))
    ne = (signs[0][0] ^ signs[0][1], signs[1][0] ^ signs[1][1])
    b = bl.bit2a(s, ne)
    return one_minus(s, b)


def one_minus(s: Session, b: Shares) -> Shares:
    """1 - b for an integer sharing (public 1 added to component x0)."""
    a0 = (ONE - b[0]) if s.rank == 0 else -b[0]
    a1 = (ONE - b[1]) if s.rank == 2 else -b[1]
    return a0, a1


def select(s: Session, c: Shares, x: Shares, y: Shares) -> Shares:
    """c ? x : y for a 0/1 sharing c: y + c*(x - y). One round (c is an integer, so no
    truncation), 8 bytes per element per party."""
    t = rep.mul(s, c, sub(x, y))
    return y[0] + t[0], y[1] + t[1]
