"""Differencing check in MPC: query-set-size and overlap control (Denning, "Secure statistical
databases with random sample queries", TODS 1980; Denning & Schlörer, "Inference controls for
statistical databases", IEEE Computer 1983), on secret-shared query sets.

A released aggregate cell is a query set: the rows it aggregates, as a 0/1 indicator over the
rows of one context (the same FROM/JOIN, unfiltered). The check refuses a new cell whose set,
alone or differenced with an earlier released cell or another new cell, isolates between 1 and
k-1 rows:

    flag(new_i) = 0 < |new_i| < k                           (query-set size)
               or 0 < |U| - |new_i| < k                      (its complement in the context U)
               or 0 < |new_i XOR s| < k  for s in old + new  (overlap: N vs N-1 and variants)

|new_i XOR s| = |new_i| + |s| - 2 <new_i, s>: one shared matrix product (m x (p+m) inner
products over n rows), then one batched sign test of V - k and V - 1 for every value V (for
V >= 0, 0 < V < k is the XOR of the two signs), an OR over each row by a tree of ANDs, and
the m result bits are opened. Rounds: 1 + 8 + ceil(log2(p+m+2)) + 1.

Adversary model: the three compute parties are semi-honest with an honest majority (as
yinji.mpc); the indicators are shared by the engine, which evaluated the predicates in MPC.
Leakage: each compute party learns exactly one bit per new cell (refused or not) and the
public shapes (m, p, n); no size, overlap or row is opened. The bits themselves say something
(a refusal tells that a set or a difference is small; this is the known "denial leakage" of
query auditing, bounded here by one bit per cell of an analyst-chosen query).

What it does not stop: trackers that combine three or more released sets linearly, e.g.
Denning's general tracker q(C) = q(C or T) + q(C or not T) - q(All) with |T| large: every set
and every pairwise difference is large, yet C is isolated. The complement check catches the
one-query form (|U| - |C| small); the pairwise check catches every two-query form; beyond
that the defences are the owner's DP marking (noise on every release, a budget in the ledger,
which bounds what any number of queries can learn) and the minimum group size. Exact auditing
of all linear combinations (Chin & Ozsoyoglu 1982) is not attempted: it needs the ranks of
the released-set matrix, which is itself disclosive, and refuses most useful workloads.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from yinji.mpc import boolean as bl
from yinji.mpc import replicated as rep
from yinji.mpc.replicated import Shares
from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor

ONE = np.uint64(1)


def check(session: Session, new: SharedTensor | Shares, old: SharedTensor | Shares | None,
          k: int, *, universe: SharedTensor | Shares | None = None) -> np.ndarray:
    """For each new cell (a row of `new`, shared 0/1 over the context's n rows), True if it
    would isolate fewer than k rows alone, by complement or against an `old` cell or another
    new cell. `universe` is the shared 0/1 vector of the context's live rows (default: all n
    rows are live). Opens only the m result bits, to all three parties."""
    n_new = _shares(new, "new")
    m, n = n_new[0].shape if n_new[0].ndim == 2 else (0, 0)
    if n_new[0].ndim != 2:
        raise ValueError(f"new must be a cells x rows matrix, got shape {n_new[0].shape}")
    n_old = _shares(old, "old") if old is not None else (np.zeros((0, n), np.uint64),) * 2
    if n_old[0].ndim != 2 or n_old[0].shape[1] != n:
        raise ValueError(f"old must be a cells x {n} matrix over the same rows as new, "
                         f"got shape {n_old[0].shape}")
    if not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"the minimum group size k must be a non-negative integer, got {k!r}")
    if m == 0 or k <= 1:
        return np.zeros(m, dtype=bool)     # nothing can be in (0, k): no communication
    sets = (np.concatenate([n_old[0], n_new[0]]), np.concatenate([n_old[1], n_new[1]]))
    size_new = (n_new[0].sum(axis=1), n_new[1].sum(axis=1))
    size_all = (sets[0].sum(axis=1), sets[1].sum(axis=1))
    inner = rep.matmul(session, n_new, (sets[0].T.copy(), sets[1].T.copy()))
    xor = tuple(size_new[i][:, None] + size_all[i][None, :] - (inner[i] << ONE)
                for i in range(2))
    if universe is None:
        total = rep.public(session, np.uint64(n))
    else:
        u = _shares(universe, "universe")
        if u[0].shape != (n,):
            raise ValueError(f"universe must be a vector of {n} rows, got shape {u[0].shape}")
        total = (u[0].sum(), u[1].sum())
    comp = (total[0] - size_new[0], total[1] - size_new[1])
    values = tuple(np.concatenate([size_new[i][:, None], comp[i][:, None], xor[i]], axis=1)
                   for i in range(2))
    flags = small(session, values, k)
    out = _any(session, flags)
    return bl.reveal_xor(session, (out[0] & ONE, out[1] & ONE)).astype(bool)


def checker(k: int) -> Callable[..., np.ndarray]:
    """The engine's differencing hook for minimum group size k: `check(session, new, old,
    universe=None)` (yinji.sql.engine calls it with the cells' and the history's shared
    indicators; it should pass the context's live-row vector as `universe` when the context
    has padded or unmatched rows, else the complement is taken over all n rows)."""
    def hook(session: Session, new: SharedTensor | Shares, old: SharedTensor | Shares | None,
             universe: SharedTensor | Shares | None = None) -> np.ndarray:
        return check(session, new, old, k, universe=universe)
    return hook


def small(session: Session, v: Shares, k: int) -> Shares:
    """Boolean-shared bits (bit 0) of 0 < v < k for shared integers 0 <= v < 2^62: one sign
    test of v - k and v - 1 in one batch; for v >= 0 the two signs differ exactly there."""
    kk, one = rep.public(session, np.uint64(k)), rep.public(session, ONE)
    stacked = (np.stack([v[0] - kk[0], v[0] - one[0]]), np.stack([v[1] - kk[1], v[1] - one[1]]))
    sign = bl.msb(session, stacked)
    return sign[0][0] ^ sign[0][1], sign[1][0] ^ sign[1][1]


def _any(session: Session, bits: Shares) -> Shares:
    """OR along axis 1 of boolean-shared bits: NOT of the AND of the NOTs, by halving."""
    x = bl.xor_public(session, bits, ONE)        # NOT (bit 0)
    while x[0].shape[1] > 1:
        width = x[0].shape[1]
        if width % 2:                               # pad with a public 1 (AND's identity)
            pad = rep.public(session, np.ones((x[0].shape[0], 1), np.uint64))
            x = (np.hstack([x[0], pad[0]]), np.hstack([x[1], pad[1]]))
            width += 1
        half = width // 2
        x = bl.and_(session, (x[0][:, :half], x[1][:, :half]), (x[0][:, half:], x[1][:, half:]))
    out = bl.xor_public(session, x, ONE)
    return out[0][:, 0], out[1][:, 0]


def check_plain(new: np.ndarray, old: np.ndarray | None, k: int,
                universe: np.ndarray | None = None) -> np.ndarray:
    """The same rule on plaintext 0/1 masks: the reference for tests, and what the engine's
    plaintext stand-in computes."""
    new = np.asarray(new, dtype=np.int64)
    m, n = new.shape
    old = np.zeros((0, n), np.int64) if old is None else np.asarray(old, dtype=np.int64)
    sets = np.concatenate([old, new])
    total = n if universe is None else int(np.sum(universe))
    size = new.sum(axis=1)
    xor = size[:, None] + sets.sum(axis=1)[None, :] - 2 * (new @ sets.T)
    values = np.concatenate([size[:, None], (total - size)[:, None], xor], axis=1)
    return ((values > 0) & (values < k)).any(axis=1)


def _shares(x: SharedTensor | Shares, name: str) -> Shares:
    if isinstance(x, SharedTensor):
        if x.frac_bits:
            raise ValueError(f"{name} must be shared 0/1 integers (frac_bits=0), "
                             f"got frac_bits={x.frac_bits}")
        return x.shares
    return x
