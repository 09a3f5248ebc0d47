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


def shuffle_rows(s: Session, x: Shares) -> Shares:
    """Permute the rows (axis 0) of a sharing with a permutation no single party knows."""
    return shuffle_rows_recorded(s, x)[0]


def shuffle_rows_recorded(s: Session, x: Shares) -> tuple[Shares, list[np.ndarray | None]]:
    """`shuffle_rows`, also returning this party's record of the passes: the permutation of
    each pass it took part in (None for the pass it did not), for `unshuffle_rows`."""
    n = x[0].shape[0]
    record: list[np.ndarray | None] = []
    for r in range(3):
        first, second = r, (r + 1) % 3
        perm = None
        if s.rank == first:
            perm = _permutation(s.pair(second).uint64(n))
        elif s.rank == second:
            perm = _permutation(s.pair(first).uint64(n))
        record.append(perm)
        x = _pass(s, x, r, perm)
    return x, record


def unshuffle_rows(s: Session, x: Shares, record: list[np.ndarray | None]) -> Shares:
    """Undo a `shuffle_rows_recorded` on rows of the same count: the inverse permutations, in
    reverse order, each applied by the pair that knows it (three more resharing passes, so
    nobody learns the permutation nor which output row came from which input row)."""
    for r in (2, 1, 0):
        perm = record[r]
        x = _pass(s, x, r, None if perm is None else np.argsort(perm, kind="stable"))
    return x


def _pass(s: Session, x: Shares, r: int, perm: np.ndarray | None) -> Shares:
    """One resharing pass: the pair (r, r+1) permutes rows by `perm`, re-masks, and reshares
    to the third party."""
    first, second, third = r, (r + 1) % 3, (r + 2) % 3
    s.rounds += 1
    if s.rank == first:
        rho = s.pair(second).uint64(x[0].shape)
        y_first = s.pair(third).uint64(x[0].shape)
        a = (x[0] + x[1])[perm] + rho
        y_second = a - y_first
        s.send(second, y_second)
        return (y_first, y_second)
    if s.rank == second:
        rho = s.pair(first).uint64(x[0].shape)
        y_third = x[1][perm] - rho
        s.send(third, y_third)
        return (s.recv(first), y_third)
    y_first = s.pair(first).uint64(x[0].shape)
    return (s.recv(second), y_first)
