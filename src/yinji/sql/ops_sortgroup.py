"""GROUP BY on a secret key over many rows: shuffle-then-sort (ops_sort) by the key, then a
segmented prefix sum (Hillis-Steele, ceil(log2 n) rounds of one batched multiplication).

After sorting, the alive rows form a prefix ordered by key; row i starts a group iff it is
alive and its key differs from row i-1's (or row i-1 is dead), and ends one iff row i+1 does
not continue it. The segmented scan leaves each group's COUNT and SUM at its last row; the
n rows, with "ends a group" as the present bit, are shuffled before the result opens (as
for the pairwise circuit in engine.py). Leakage: that of ops_sort (none beyond n) and of the
result.

Supported here: one GROUP BY key (int, decimal, date or category, NULLs as one group) and
COUNT(*), COUNT(x), SUM(x), AVG(x); the other aggregates over secret keys use the pairwise
circuits (up to ops_order.QUADRATIC_LIMIT rows).
"""

from __future__ import annotations

import numpy as np
from sqlglot import exp

from yinji.mpc import replicated as rep
from yinji.mpc.tensor import SharedTensor, concatenate
from yinji.sql.expr import Evaluator, Val, chunked
from yinji.sql.ops_group import MEAN_SCALE, Groups
from yinji.sql.ops_sort import sort_rows
from yinji.sql.schema import SqlError

SIMPLE = (exp.Count, exp.Sum, exp.Avg)


def sorted_groups(ev: Evaluator, key: exp.Expression, aggs: list[exp.Expression],
                  alive: SharedTensor) -> Groups:
    s, n = ev.s, alive.shape[0]
    for a in aggs:
        if not isinstance(a, SIMPLE) or (isinstance(a, exp.Count) and isinstance(a.this, exp.Distinct)):
            raise SqlError(f"{a.sql()} with a secret GROUP BY key over {n} rows: only COUNT, "
                           "SUM and AVG scale by sorting (others: declare a public key domain)")
    kv = ev.value(key)
    if kv.kind in ("string", "text", "null", "interval"):
        raise SqlError(f"GROUP BY {key.sql()}: {kv.kind} keys cannot be sorted")
    x = ev.tensor(kv)
    valid = ev.valid(kv)
    # a distinct sort key per group: 2*x for values, 1 for NULL (x*valid keeps NULL at 0)
    xv = x * valid if kv.valid is not None else x
    isnull = 1 - valid
    skey = xv * 2 + (isnull._rescale(x.frac_bits) if x.frac_bits else isnull)
    carry: list[SharedTensor] = [alive, xv, valid]
    slots: dict[str, int] = {}
    for a in aggs:
        arg = a.this
        if isinstance(arg, exp.Star) or arg is None:
            continue
        v = ev.value(arg)
        w = alive if v.valid is None else alive * v.valid
        name = arg.sql().lower()
        if name not in slots:
            slots[name] = len(carry)
            carry += [w, w * ev.tensor(v)]
    skey_sorted, got = sort_rows(s, skey, alive, carry)
    alive_s = got[0]
    same = chunked(SharedTensor.eq, skey_sorted[1:], skey_sorted[:-1])  # row i continues i-1
    cont = alive_s[1:] * same
    one = SharedTensor.public(s, np.ones(1, np.int64), 0)
    start = alive_s * concatenate([one, 1 - cont])
    end = alive_s * concatenate([1 - cont, one])
    sums = _segmented_sum(s, start, [alive_s] + got[3:])
    g = Groups("sorted", None, [])
    g.present = end
    g.key_val = Val(got[1], got[2] if kv.valid is not None else None, kv.kind, column=kv.column)
    g.count_all = sums[0]
    for a in aggs:
        arg = a.this
        if isinstance(arg, exp.Star) or arg is None:
            g.cache[a.sql().lower()] = Val(sums[0], None, "int")
            continue
        i = slots[arg.sql().lower()] - 3
        cnt, tot = sums[1 + i], sums[2 + i]
        kind = ev.value(arg).kind
        ok = cnt >= 1
        if isinstance(a, exp.Count):
            out = Val(cnt, None, "int")
        elif isinstance(a, exp.Sum):
            out = Val(tot, ok, "decimal" if kind == "decimal" else "int")
        else:
            out = Val(((tot._fixed() * MEAN_SCALE) / cnt._fixed()) * (1 / MEAN_SCALE), ok, "decimal")
        g.cache[a.sql().lower()] = out
    return g


def _segmented_sum(s, start: SharedTensor, cols: list[SharedTensor]) -> list[SharedTensor]:  # type: ignore[no-untyped-def]
    """Inclusive prefix sums of `cols` restarting where `start` is 1 (Hillis-Steele): at
    distance d, v_i += (1 - f_i) v_{i-d} and f_i |= f_{i-d}; one multiplication round per
    level for all columns and the flags together."""
    n = start.shape[0]
    v = [tuple(c.shares[i].copy() for i in range(2)) for c in cols]
    f = tuple(start.shares[i].copy() for i in range(2))
    d = 1
    while d < n:
        notf = (-f[0][d:], -f[1][d:])
        if s.rank == 0:
            notf = (notf[0] + np.uint64(1), notf[1])
        elif s.rank == 2:
            notf = (notf[0], notf[1] + np.uint64(1))
        left = tuple(np.stack([notf[i]] * len(v) + [f[i][d:]]) for i in range(2))
        right = tuple(np.stack([c[i][:-d] for c in v] + [f[i][:-d]]) for i in range(2))
        prod = rep.mul(s, left, right)
        for k, c in enumerate(v):
            c[0][d:] += prod[0][k]
            c[1][d:] += prod[1][k]
        newf = (f[0][d:] + f[0][:-d] - prod[0][-1], f[1][d:] + f[1][:-d] - prod[1][-1])
        f[0][d:], f[1][d:] = newf
        d *= 2
    return [SharedTensor(s, v[k], cols[k].frac_bits) for k in range(len(cols))]


__all__ = ["sorted_groups"]
