"""Compiled loops of SecureBoost's histogram hot path (numba): sums by label in one pass.

Why: in the assisted mode the helper and the passive party sum rows x features x columns
uint64 words by bin per tree. NumPy has no grouped sum for integers: sorting the columns by
label (np.take) and `np.add.reduceat` reads and writes every word twice through a permuted
copy (4.1 ns a word measured); one pass adding each word into its label's slot, in row
order, takes 0.5-0.8 ns. The arithmetic is the same (uint64 addition wraps mod 2^64; float
sums in the same row order as np.bincount), so the results are bit for bit those of the
NumPy code they replace. The loops release the GIL: parties in one process overlap.

`cache=True` keeps the machine code in __pycache__ (or numba's per-user cache when the
package directory is read-only): a process's first call costs ~0.6 s CPU (numba's import
and start, loading the cached code: once per process, so a node pays it once, not per job);
compiling the three loops, once per machine and source version, ~0.6 s more (measured).
"""

from __future__ import annotations

import numba


def _jit(fn):
    try:
        return numba.njit(cache=True, nogil=True)(fn)
    except RuntimeError:  # pragma: no cover - no writable cache directory: compile per run
        return numba.njit(nogil=True)(fn)


@_jit
def add_by_label(x, labels, out):
    """out[k, labels[i]] += x[k, i] for every column k and row i (uint64: wrapping mod 2^64).
    Up to four columns per pass over the labels: four independent chains of additions."""
    c, n = x.shape
    k = 0
    while k + 4 <= c:
        x0, x1, x2, x3 = x[k], x[k + 1], x[k + 2], x[k + 3]
        o0, o1, o2, o3 = out[k], out[k + 1], out[k + 2], out[k + 3]
        for i in range(n):
            b = labels[i]
            o0[b] += x0[i]
            o1[b] += x1[i]
            o2[b] += x2[i]
            o3[b] += x3[i]
        k += 4
    while k + 2 <= c:
        x0, x1, o0, o1 = x[k], x[k + 1], out[k], out[k + 1]
        for i in range(n):
            b = labels[i]
            o0[b] += x0[i]
            o1[b] += x1[i]
        k += 2
    if k < c:
        x0, o0 = x[k], out[k]
        for i in range(n):
            o0[labels[i]] += x0[i]


@_jit
def add_at_places(z, place, rows, gh):
    """z[0, place[r]] += gh[r, 0] and z[1, place[r]] += gh[r, 1] for each r in rows: one
    node's (g, h) columns added at its rows' places in a permuted order (wrapping)."""
    for t in range(rows.shape[0]):
        r = rows[t]
        at = place[r]
        z[0, at] += gh[r, 0]
        z[1, at] += gh[r, 1]


@_jit
def add_rows_by_bin(bins, gh, rows, out):
    """out[j, bins[r, j], :] += gh[r, :] for each r in rows (in order) and feature j."""
    for t in range(rows.shape[0]):
        r = rows[t]
        g, h = gh[r, 0], gh[r, 1]
        for j in range(bins.shape[1]):
            b = bins[r, j]
            out[j, b, 0] += g
            out[j, b, 1] += h
