"""Oblivious 3-party shuffle of rows by resharing (cf. Araki et al., "Secure Graph Analysis at
Scale", CCS 2021 / the resharing shuffle of honest-majority 3PC).

Three passes, one per pair of parties (0,1), (1,2), (2,0). In the pass of pair (r, r+1) the
two parties hold the value as a 2-of-2 sharing (r: x_r + x_{r+1}, r+1: x_{r+2}), both apply a
permutation derived from the stream they share, add a fresh mask, and reshare to the third
party. Each party knows two of the three permutations but not the third, so the composed
permutation is uniformly random and unknown to every single party.

Rounds: 3. Bytes per row element: 2 x 8 per pass, 48 in total. `unshuffle_rows` undoes a
recorded shuffle with three more passes (the same cost and leakage).
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
    return shuffle_rows_recorded(s, x, overwrite=overwrite)[0]


def shuffle_rows_recorded(s: Session, x: Shares, *, overwrite: bool = False
                          ) -> tuple[Shares, list[np.ndarray | None]]:
    """`shuffle_rows`, also returning this party's record of the passes: the permutation of
    each pass it took part in (None for the pass it did not), for `unshuffle_rows`."""
    shape, flat = _table(x, overwrite)
    n = shape[0]
    record: list[np.ndarray | None] = []
    for r in range(3):
        first, second = r, (r + 1) % 3
        perm = None
        if s.rank == first:
            perm = _permutation(s.pair(second).uint64(n))
        elif s.rank == second:
            perm = _permutation(s.pair(first).uint64(n))
        record.append(perm)
        _pass(s, flat, r, perm)
    return (flat[0].reshape(shape), flat[1].reshape(shape)), record


def unshuffle_rows(s: Session, x: Shares, record: list[np.ndarray | None], *,
                   overwrite: bool = False) -> Shares:
    """Undo a `shuffle_rows_recorded` on rows of the same count: the inverse permutations, in
    reverse order, each applied by the pair that knows it (three more resharing passes, so
    nobody learns the permutation nor which output row came from which input row)."""
    shape, flat = _table(x, overwrite)
    for r in (2, 1, 0):
        perm = record[r]
        _pass(s, flat, r, None if perm is None else np.argsort(perm, kind="stable"))
    return flat[0].reshape(shape), flat[1].reshape(shape)


def _table(x: Shares, overwrite: bool) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """The shares as (n, width) tables this function may write (copies unless `overwrite`)."""
    shape = x[0].shape
    n = shape[0]
    width = int(np.prod(shape[1:], dtype=np.int64))
    flat = []
    for a in x:
        f = a.reshape(n, width)  # a view where it can be
        if not overwrite and np.may_share_memory(f, a):
            f = f.copy()
        flat.append(f)
    return shape, flat


def _pass(s: Session, flat: list[np.ndarray], r: int, perm: np.ndarray | None) -> None:
    """One resharing pass, in place: the pair (r, r+1) permutes rows by `perm`, re-masks, and
    reshares to the third party. Each block reads only its own columns before they are
    overwritten."""
    first, second, third = r, (r + 1) % 3, (r + 2) % 3
    s.rounds += 1
    n, width = flat[0].shape
    for b in _blocks(n, width):
        cols = b.stop - b.start
        if s.rank == first:
            a = (flat[0][:, b] + flat[1][:, b])[perm]
            a += s.pair(second).uint64((n, cols))           # rho
            flat[0][:, b] = s.pair(third).uint64((n, cols))  # y_first
            a -= flat[0][:, b]                               # y_second
            s.send(second, a)
            flat[1][:, b] = a
        elif s.rank == second:
            y = flat[1][:, b][perm]
            y -= s.pair(first).uint64((n, cols))             # y_third = x[1][perm] - rho
            s.send(third, y)
            flat[1][:, b] = y
            flat[0][:, b] = s.recv(first, flat[0][:, b].shape)
        else:
            flat[1][:, b] = s.pair(first).uint64((n, cols))  # y_first
            flat[0][:, b] = s.recv(second, flat[0][:, b].shape)
