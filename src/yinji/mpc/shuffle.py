"""Oblivious 3-party shuffle of rows by resharing (cf. Araki et al., "Secure Graph Analysis at
Scale", CCS 2021 / the resharing shuffle of honest-majority 3PC).

Three passes, one per pair of parties (0,1), (1,2), (2,0). In the pass of pair (r, r+1) the
two parties hold the value as a 2-of-2 sharing (r: x_r + x_{r+1}, r+1: x_{r+2}), both apply a
permutation derived from the stream they share, add a fresh mask, and reshare to the third
party. Each party knows two of the three permutations but not the third, so the composed
permutation is uniformly random and unknown to every single party.

Rounds: 3. Bytes per row element: 2 x 8 per pass, 48 in total.
Adversary model: semi-honest, honest majority. Leakage: the number of rows; nothing about
the permutation or the values (every received array is masked by a stream unknown to its
receiver).
"""

from __future__ import annotations

import numpy as np

from yinji.mpc.replicated import Shares
from yinji.mpc.session import Session


def _permutation(stream_keys: np.ndarray) -> np.ndarray:
    """A uniformly random permutation from 64-bit random keys (argsort; ties have
    probability < n^2 / 2^64)."""
    return np.argsort(stream_keys, kind="stable")


CHUNK_BYTES = 1 << 25  # per column block: bounds the temporaries of a large table


def _blocks(n: int, width: int) -> list[slice]:
    """Column blocks of an (n, width) table, the same at every party."""
    step = max(1, CHUNK_BYTES // max(1, 8 * n))
    return [slice(a, min(a + step, width)) for a in range(0, width, step)] or [slice(0, 0)]


def shuffle_rows(s: Session, x: Shares, *, overwrite: bool = False) -> Shares:
    """Permute the rows (axis 0) of a sharing with a permutation no single party knows.

    The passes run in column blocks (one message per block, same round) and write each block
    back in place, so a large table needs one copy of itself plus block-sized temporaries;
    with `overwrite` the caller's arrays are that copy (they hold the result afterwards)."""
    shape = x[0].shape
    n = shape[0]
    width = int(np.prod(shape[1:], dtype=np.int64))
    flat = []
    for a in x:
        f = a.reshape(n, width)  # a view where it can be
        if not overwrite and np.may_share_memory(f, a):
            f = f.copy()
        flat.append(f)
    for r in range(3):
        first, second, third = r, (r + 1) % 3, (r + 2) % 3
        s.rounds += 1
        # Each block reads only its own columns before they are overwritten.
        if s.rank == first:
            perm = _permutation(s.pair(second).uint64(n))
            for b in _blocks(n, width):
                cols = b.stop - b.start
                a = (flat[0][:, b] + flat[1][:, b])[perm]
                a += s.pair(second).uint64((n, cols))           # rho
                flat[0][:, b] = s.pair(third).uint64((n, cols))  # y_first
                a -= flat[0][:, b]                               # y_second
                s.send(second, a)
                flat[1][:, b] = a
        elif s.rank == second:
            perm = _permutation(s.pair(first).uint64(n))
            for b in _blocks(n, width):
                cols = b.stop - b.start
                y = flat[1][:, b][perm]
                y -= s.pair(first).uint64((n, cols))             # y_third = x[1][perm] - rho
                s.send(third, y)
                flat[1][:, b] = y
                flat[0][:, b] = s.recv(first)
        else:
            for b in _blocks(n, width):
                cols = b.stop - b.start
                flat[1][:, b] = s.pair(first).uint64((n, cols))  # y_first
                flat[0][:, b] = s.recv(second)
    return flat[0].reshape(shape), flat[1].reshape(shape)
