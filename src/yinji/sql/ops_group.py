"""Oblivious GROUP BY and aggregates over a secret-shared row context.

Groups are a shared 0/1 membership matrix M [groups x rows]:
- no GROUP BY: one group, every row;
- public key domain (category columns, int columns with a declared domain): M is the
  product of the one-hot columns the owners computed locally; the group count is the size of
  the public domain, whatever the data;
- secret keys: every row is a candidate group; M = [key_i == key_j] (n^2 comparisons) and a
  row represents its group iff no earlier alive row has its key. The candidates (n, always)
  are shuffled before anything about them is opened to the recipient, who learns only the
  groups that exist (its result).
Aggregates weight every row by its shared "alive" bit (WHERE and join matches): COUNT and
SUM are one matrix product; AVG a shared division; MIN/MAX a tournament over masked
values; COUNT DISTINCT and PERCENTILE_DISC compare every pair of rows (n^2). No operator
opens anything, so no party learns a group count, a filter's selectivity or a cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlglot import exp

from yinji.mpc import replicated as rep
from yinji.mpc.tensor import SharedTensor, where
from yinji.sql.expr import Evaluator, Val, chunked
from yinji.sql.ops_order import QUADRATIC_LIMIT
from yinji.sql.ops_sort import first_of_runs, sort_rows
from yinji.sql.schema import SqlError

BIG = 1 << 60          # ring value above any encoded datum (|v| < 2^62 / 4): MIN/MAX padding
MEAN_SCALE = 1.0 / 64    # AVG: (sum/64) / count * 64 keeps |avg| < 2^25 in divide's range
EPS = 2.0 ** -10       # PERCENTILE_DISC: cum >= p * count, with fixed-point slack


@dataclass
class Groups:
    mode: str                   # global | public | secret | sorted (ops_sortgroup)
    m: SharedTensor | None      # [G x n] 0/1 membership (secret: key equality; sorted: None)
    keys: list[list]            # public mode: the key values of each group
    present: SharedTensor | None = None   # [G] group exists (secret: representative row)
    cache: dict = field(default_factory=dict)
    key_val: Val | None = None            # sorted mode: the key of each (sorted) row
    count_all: SharedTensor | None = None  # sorted mode: COUNT(*) at each group's last row

    @property
    def size(self) -> int:
        return self.m.shape[0] if self.m is not None else self.present.shape[0]


def aggregate(ev: Evaluator, g: Groups, alive: SharedTensor, node: exp.Expression) -> Val:
    """The per-group value of one aggregate call, as a Val of length G."""
    key = node.sql().lower()
    if key in g.cache:
        return g.cache[key]
    if g.mode == "sorted":
        raise SqlError(f"{node.sql()} with a large secret GROUP BY key is not supported")
    if isinstance(node, exp.Count):
        arg = node.this
        if isinstance(arg, exp.Star):
            out = Val(g.m @ alive, None, "int")
        elif isinstance(arg, exp.Distinct):
            if len(arg.expressions) != 1:
                raise SqlError(f"unsupported: {node.sql()} (COUNT(DISTINCT x) of one column)")
            out = _count_distinct(ev, g, alive, ev.value(arg.expressions[0]))
        else:
            out = Val(_count(ev, g, alive, ev.value(arg)), None, "int")
    elif isinstance(node, (exp.Sum, exp.Avg)):
        v = ev.value(node.this)
        if v.kind not in ("int", "decimal", "bool"):
            raise SqlError(f"type mismatch: {node.key.upper()} of {v.kind} in {node.sql()}")
        w = _weight(ev, alive, v)
        total = g.m @ (w * ev.tensor(v))
        cnt = _count(ev, g, alive, v)
        ok = cnt >= 1
        if isinstance(node, exp.Sum):
            out = Val(total, ok, "decimal" if v.kind == "decimal" else "int")
        else:
            out = Val(((total._fixed() * MEAN_SCALE) / cnt._fixed()) * (1 / MEAN_SCALE), ok, "decimal")
    elif isinstance(node, (exp.Min, exp.Max)):
        out = _min_max(ev, g, alive, ev.value(node.this), isinstance(node, exp.Min))
    elif isinstance(node, exp.PercentileDisc):
        p, x = _percentile_args(node)
        out = _percentile(ev, g, alive, ev.value(x), p)
    else:
        raise SqlError(f"unsupported aggregate {node.sql()}")
    g.cache[key] = out
    return out


def _weight(ev: Evaluator, alive: SharedTensor, v: Val) -> SharedTensor:
    return alive if v.valid is None else alive * v.valid


def _count(ev: Evaluator, g: Groups, alive: SharedTensor, v: Val) -> SharedTensor:
    key = ("count", id(v.valid))
    if key not in g.cache:
        g.cache[key] = g.m @ _weight(ev, alive, v)
    return g.cache[key]


def _check_quadratic(n: int, what: str) -> None:
    if n > QUADRATIC_LIMIT:
        raise SqlError(f"{what} over {n} rows: the oblivious pairwise circuit is limited to "
                       f"{QUADRATIC_LIMIT} rows")


def _same_group(ev: Evaluator, g: Groups) -> SharedTensor | None:
    """[n x n]: rows j and k are in the same group (None: one group)."""
    if g.mode == "global":
        return None
    if g.mode == "secret":
        return g.m
    return g.m.T @ g.m


def _count_distinct(ev: Evaluator, g: Groups, alive: SharedTensor, v: Val) -> Val:
    n = alive.shape[0]
    if g.mode == "global" and n > 1 and v.kind != "string":
        x, (w,) = sort_rows(ev.s, ev.tensor(v), _weight(ev, alive, v), [_weight(ev, alive, v)])
        return Val(first_of_runs(ev.s, x, w).sum().reshape(1), None, "int")
    _check_quadratic(n, "COUNT(DISTINCT)")
    x = ev.tensor(v)
    w = _weight(ev, alive, v)
    same = x.reshape(n, 1).eq(x.reshape(1, n))
    grp = _same_group(ev, g)
    if grp is not None:
        same = same * grp
    earlier = same * np.tril(np.ones((n, n), np.int64), -1)   # [j, k]: k < j, same value
    seen = earlier @ w
    first = w * seen.eq(0)
    return Val(g.m @ first, None, "int")


def _min_max(ev: Evaluator, g: Groups, alive: SharedTensor, v: Val, is_min: bool) -> Val:
    if v.kind not in ("int", "decimal", "date"):
        raise SqlError(f"type mismatch: MIN/MAX of {v.kind}")
    x = ev.tensor(v)
    w = _weight(ev, alive, v)
    z = g.m * w.reshape(1, -1)
    pad = _big(ev, x.frac_bits)
    vals = where(z, (-x if is_min else x).reshape(1, -1), -pad)
    best = vals.max(axis=1)
    cnt = _count(ev, g, alive, v)
    return Val(-best if is_min else best, cnt >= 1, v.kind, column=v.column)


def _big(ev: Evaluator, frac: int) -> SharedTensor:
    """The padding value as a raw ring element at any scale (2^60 > every datum)."""
    return SharedTensor(ev.s, rep.public(ev.s, np.full((1, 1), BIG, np.uint64)), frac)


def _percentile_args(node: exp.PercentileDisc) -> tuple[float, exp.Expression]:
    if isinstance(node.parent, exp.WithinGroup):
        p_node, x = node.this, node.parent.expression.expressions[0].this
    else:
        x, p_node = node.this, node.expression
    if not isinstance(p_node, exp.Literal) or p_node.is_string or not 0 <= float(p_node.this) <= 1:
        raise SqlError(f"PERCENTILE_DISC needs a literal fraction in [0, 1], got {p_node.sql()}")
    return float(p_node.this), x


def _percentile(ev: Evaluator, g: Groups, alive: SharedTensor, v: Val, p: float) -> Val:
    """The smallest x whose cumulative count reaches p * count (PostgreSQL/DuckDB
    percentile_disc)."""
    n = alive.shape[0]
    if v.kind not in ("int", "decimal", "date"):
        raise SqlError(f"type mismatch: PERCENTILE_DISC of {v.kind}")
    if g.mode == "global" and n > 1:
        return _percentile_sorted(ev, g, alive, v, p)
    _check_quadratic(n, "PERCENTILE_DISC")
    x = ev.tensor(v)
    w = _weight(ev, alive, v)
    le = 1 - (x.reshape(n, 1) < x.reshape(1, n))   # [i, j] = x_j <= x_i
    mw = g.m * w.reshape(1, -1)                     # [g, j]
    cum = mw @ le.T                                  # [g, i]
    cnt = _count(ev, g, alive, v)
    need = cnt._fixed() * p - EPS
    cand = mw * (cum >= need.reshape(-1, 1))
    pad = _big(ev, x.frac_bits)
    vals = where(cand, (-x).reshape(1, -1), -pad)
    return Val(-vals.max(axis=1), cnt >= 1, v.kind, column=v.column)


def _percentile_sorted(ev: Evaluator, g: Groups, alive: SharedTensor, v: Val, p: float) -> Val:
    """Without GROUP BY: shuffle-then-sort (ops_sort), then pick position
    max(ceil(p * count), 1) - 1 of the sorted alive prefix by a shared one-hot."""
    n = alive.shape[0]
    w = _weight(ev, alive, v)
    x, _ = sort_rows(ev.s, ev.tensor(v), w, [])
    cnt = w.sum().reshape(1)
    # position k = ceil(p*cnt) - 1 (0 when p*cnt <= 1): #{i >= 1 : i < p*cnt - EPS}
    need = (cnt._fixed() * p - EPS) + np.zeros(n - 1)     # broadcast for batching
    pos = SharedTensor.public(ev.s, np.arange(1, n, dtype=np.int64), 0)
    k = chunked(SharedTensor.__lt__, pos, need).sum().reshape(1)
    pick = chunked(SharedTensor.eq, SharedTensor.public(ev.s, np.arange(n, dtype=np.int64), 0),
                   k + np.zeros(n, np.int64))
    value = (pick * x).sum().reshape(1)
    return Val(value, cnt >= 1, v.kind, column=v.column)


def window(ev: Evaluator, node: exp.Window, alive: SharedTensor) -> Val:
    """RANK() / SUM(x) OVER ([PARTITION BY ...] ORDER BY ...) over the rows with `alive`
    (the default RANGE frame: a running sum includes the current row's peers)."""
    from yinji.sql.ops_order import before, key_matrices, ties
    m = alive.shape[0]
    _check_quadratic(m, "a window function")
    order = node.args["order"].expressions
    vals = [ev.value(o.this) for o in order]
    keys = key_matrices(vals, [bool(o.args.get("desc")) for o in order],
                         [bool(o.args.get("nulls_first")) for o in order], ev)
    b = before(keys, tie_by_index=False)
    part = node.args.get("partition_by") or []
    if part:
        pv = [ev.value(p) for p in part]
        same = ties(key_matrices(pv, [False] * len(pv), [False] * len(pv), ev))
        b = b * same
    if isinstance(node.this, exp.Rank):
        return Val(b @ alive + 1, None, "int")
    x = ev.value(node.this.this)
    w = _weight(ev, alive, x)
    upto = b + ties(keys)
    if part:
        upto = upto * same
    total = upto @ (w * ev.tensor(x))
    return Val(total, None, "decimal" if x.kind == "decimal" else "int")


__all__ = ["Groups", "aggregate", "window"]
