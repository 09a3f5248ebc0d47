"""Oblivious ordering over m output rows: ORDER BY ranks (for LIMIT), RANK() and running SUM
windows. Every row is compared with every other row (m^2 comparisons, ~10 rounds), so the
work and the messages do not depend on the data. Nothing is opened here.

Adversary model: that of `yinji.mpc` (three compute parties, semi-honest, at most one
corrupted). Each party receives only replicated shares and the public row count m and number
of sort keys; what is opened afterwards (a LIMIT's rows, the ranks) is decided and stated by
the caller (yinji.sql.engine, docs/SECURITY.md "Secure SQL").
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yinji.mpc.tensor import SharedTensor
from yinji.sql.expr import Val

QUADRATIC_LIMIT = 3000  # rows: m^2 comparisons beyond this take minutes


def key_matrices(vals: Sequence[Val], desc: Sequence[bool], nulls_first: Sequence[bool],
                  ev) -> list[tuple[SharedTensor, SharedTensor]]:  # type: ignore[no-untyped-def]
    """Per sort key: (B, Q) with B[i, j] = row j sorts strictly before row i on this key and
    Q[i, j] = they tie on it; NULLs sort as one value, first or last as asked."""
    out = []
    for v, d, nf in zip(vals, desc, nulls_first, strict=True):
        x = ev.tensor(v)
        m = x.shape[0]
        col, row = x.reshape(m, 1), x.reshape(1, m)
        lt = (row > col) if d else (row < col)   # [i, j]: x_j before x_i
        eq = row.eq(col)
        if v.valid is not None:
            a = v.valid
            ok_i, ok_j = a.reshape(m, 1), a.reshape(1, m)
            both = ok_i * ok_j
            # NULL before non-NULL when nulls first, after otherwise
            null_j_first = (1 - ok_j) * ok_i if nf else (1 - ok_i) * ok_j
            neither = (1 - ok_i) * (1 - ok_j)
            lt = both * lt + null_j_first
            eq = both * eq + neither
        out.append((lt, eq))
    return out


def before(keys: list[tuple[SharedTensor, SharedTensor]], tie_by_index: bool) -> SharedTensor:
    """[i, j] = row j comes strictly before row i (lexicographic; ties broken by row index
    when `tie_by_index`, else left as ties)."""
    m = keys[0][0].shape[0]
    acc = None
    if tie_by_index:
        acc = keys[0][0]._coerce(np.tril(np.ones((m, m), np.int64), -1))  # j < i
    for lt, eq in reversed(keys):
        acc = lt if acc is None else lt + eq * acc
    return acc


def ties(keys: list[tuple[SharedTensor, SharedTensor]]) -> SharedTensor:
    acc = keys[0][1]
    for _, eq in keys[1:]:
        acc = acc * eq
    return acc


def ranks(order_before: SharedTensor, alive: SharedTensor) -> SharedTensor:
    """0-based position of each row among the alive rows."""
    return order_before @ alive


__all__ = ["QUADRATIC_LIMIT", "before", "ranks", "ties"]
