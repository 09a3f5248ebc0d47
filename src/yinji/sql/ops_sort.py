"""Shuffle-then-sort (Hamada, Kikuchi, Ikarashi, Chida & Takahashi, ICISC 2012): sorting n
shared values with O(n log n) comparisons whose results may be opened, because the values
are first made distinct and shuffled obliviously.

1. each value x_i becomes the distinct key k_i = x_i * 2^b + i (b = bits of n; rows that
   are not alive get x = PAD, above every datum, so they sort last);
2. the rows are shuffled (`yinji.mpc.shuffle`: a permutation no single party knows);
3. quicksort with the first element of each segment as pivot: every level compares all
   elements of all unsorted segments with their pivots in one batched comparison, opens the
   bits to the three parties and partitions locally.

Leakage: none beyond n. The opened bits are the comparisons of distinct keys in a uniformly
random order, so their joint distribution is that of quicksort on a uniformly random
permutation, whatever the data (the number of levels is a function of those bits too).
Range: |x| * 2^b must stay below 2^61 (ring elements at the value's scale), so
|value| < 2^(61 - b - f) -- for n = 10^6 (b = 20) decimals with f = 16: 3.3e7.

Used for PERCENTILE_DISC and COUNT DISTINCT without GROUP BY on large inputs (the pairwise
circuits in ops_group.py cost n^2).
"""

from __future__ import annotations

import numpy as np

from yinji.mpc import compare as cmp
from yinji.mpc import replicated as rep
from yinji.mpc.session import Session
from yinji.mpc.shuffle import shuffle_rows
from yinji.mpc.tensor import SharedTensor, concatenate, where
from yinji.sql.expr import chunked


def bits_for(n: int) -> int:
    return max(1, int(n - 1).bit_length())


def sort_rows(s: Session, x: SharedTensor, alive: SharedTensor,
              carry: list[SharedTensor]) -> tuple[SharedTensor, list[SharedTensor]]:
    """Sort rows by x (alive rows first, ascending); returns x's shares in sorted order
    with alive rows' values and the `carry` columns (integer 0/1 or values) permuted alike.
    x is padded where not alive; the result's alive rows form a prefix."""
    n = x.shape[0]
    b = bits_for(n)
    pad = np.uint64(1 << (61 - b))
    pad = SharedTensor(s, rep.public(s, np.full(n, 1 << (61 - b), np.uint64)), x.frac_bits)
    padded = where(alive, x, pad).shares
    shift = np.uint64(b)
    idx = rep.public(s, np.arange(n, dtype=np.uint64))
    key = (padded[0] << shift) + idx[0], (padded[1] << shift) + idx[1]
    cols = [key, padded] + [c.shares for c in carry]
    table = tuple(np.stack([c[i].reshape(n) for c in cols], axis=1) for i in range(2))
    table = shuffle_rows(s, table, overwrite=True)
    order = _quicksort(s, (table[0][:, 0].copy(), table[1][:, 0].copy()))
    table = (table[0][order], table[1][order])
    out_x = SharedTensor(s, (table[0][:, 1].copy(), table[1][:, 1].copy()), x.frac_bits)
    out = [SharedTensor(s, (table[0][:, 2 + i].copy(), table[1][:, 2 + i].copy()), c.frac_bits)
           for i, c in enumerate(carry)]
    return out_x, out


def _quicksort(s: Session, key: rep.Shares) -> np.ndarray:
    """The sorting permutation of distinct shared keys (positions in ascending order)."""
    n = key[0].shape[0]
    order = np.arange(n)            # current arrangement: order[pos] = row
    seg = np.zeros(n, np.int64)     # segment id per position (non-decreasing)
    while True:
        start = np.r_[True, seg[1:] != seg[:-1]]
        first = np.maximum.accumulate(np.where(start, np.arange(n), 0))
        size = np.bincount(seg)[seg]
        active = (size > 1) & ~start
        if not active.any():
            return order
        pos = np.flatnonzero(active)
        rows, pivots = order[pos], order[first[pos]]
        bit = np.concatenate([
            rep.reveal(s, cmp.lt(s, (key[0][r], key[1][r]), (key[0][p], key[1][p])))
            for r, p in _batches(rows, pivots)]).astype(np.int64)
        cls = np.ones(n, np.int64)          # 1: pivot or finished element
        cls[pos] = np.where(bit == 1, 0, 2)
        cls[size == 1] = 1
        perm = np.lexsort((np.arange(n), cls, seg))
        order, seg, cls = order[perm], seg[perm], cls[perm]
        new = np.r_[True, (seg[1:] != seg[:-1]) | (cls[1:] != cls[:-1])]
        seg = np.cumsum(new) - 1


CHUNK = 1 << 20  # comparisons per batch: bounds the boolean circuit's temporaries


def _batches(rows: np.ndarray, pivots: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(rows[a:a + CHUNK], pivots[a:a + CHUNK]) for a in range(0, len(rows), CHUNK)] \
        or [(rows, pivots)]


def first_of_runs(s: Session, x: SharedTensor, alive: SharedTensor) -> SharedTensor:
    """For sorted x with alive rows first: 1 where an alive row starts a run of equal
    values (COUNT DISTINCT = its sum)."""
    n = x.shape[0]
    if n == 0:
        return alive
    same = chunked(SharedTensor.eq, x[1:], x[:-1])
    prev_alive = alive[:-1]
    dup = same * prev_alive
    first = SharedTensor.public(s, np.ones(1, np.int64), 0)
    return alive * concatenate([first, 1 - dup])


__all__ = ["bits_for", "first_of_runs", "sort_rows"]
