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


def shuffle_rows(s: Session, x: Shares) -> Shares:
    """Permute the rows (axis 0) of a sharing with a permutation no single party knows."""
    n = x[0].shape[0]
    for r in range(3):
        first, second, third = r, (r + 1) % 3, (r + 2) % 3
        s.rounds += 1
        if s.rank == first:
            perm = _permutation(s.pair(second).uint64(n))
            rho = s.pair(second).uint64(x[0].shape)
            y_first = s.pair(third).uint64(x[0].shape)
            a = (x[0] + x[1])[perm] + rho
            y_second = a - y_first
            s.send(second, y_second)
            x = (y_first, y_second)
        elif s.rank == second:
            perm = _permutation(s.pair(first).uint64(n))
            rho = s.pair(first).uint64(x[0].shape)
            y_third = x[1][perm] - rho
            s.send(third, y_third)
            x = (s.recv(first), y_third)
        else:
            y_first = s.pair(first).uint64(x[0].shape)
            x = (s.recv(second), y_first)
    return x
