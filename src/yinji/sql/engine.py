"""Secure SQL: a SELECT over several companies' tables, run obliviously by the three compute
parties of a `yinji.mpc.Session`; only the final result is opened, to the recipient only.

    result = execute(sql, tables, session, recipient="fund", min_group=5)

Pipeline (every step on secret shares, none opens anything until the last):
  share tables (context.py) -> JOIN (context.py / ops_join.py) -> WHERE: a shared 0/1
  "alive" bit per row, no compaction (expr.py) -> GROUP BY / aggregates (ops_group.py) ->
  HAVING, min_group suppression, windows, ORDER BY ranks and LIMIT (ops_order.py) ->
  [differencing check hook] -> shuffle (secret groups, row results) -> open to recipient.

Adversary model: semi-honest, honest majority among the three compute parties (yinji.mpc);
data owners and the recipient semi-honest.

Leakage (exactly what is opened and to whom):
- everyone: the query, the schemas and row counts of the tables it names (public); with the
  hidden-intersection join (allow={"join_size"} only), |A∩B| to the compute parties.
- the recipient: the result -- for each output row its values; the number of result rows
  (a public-domain GROUP BY: which of the domain's groups are non-empty, pass HAVING and
  are released; secret groups and row results: how many, in a random order); with
  min_group, which public-domain groups are suppressed (the per-cell suppressed bit);
  with ORDER BY, the released rows' order.
- nobody: intermediate sizes (filter selectivity, join size of the oblivious join, group
  counts), suppressed or non-released cells' values.
- with `check`: whatever the check function opens (its boolean per cell is public).
- with `noise`: the marked aggregates' cells are opened only noised (yinji.sql.dp: each
  compute party's share of the noise is uniform to the others); which cells are released
  (present / suppressed / HAVING on the noised values) is as above.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import product
from typing import Any

import numpy as np
import sqlglot
from sqlglot import exp

from yinji.mpc import replicated as rep
from yinji.mpc.inputs import receive_output, reveal_outside, send_input
from yinji.mpc.session import Session
from yinji.mpc.shuffle import shuffle_rows
from yinji.mpc.tensor import SharedTensor, concatenate, where
from yinji.net.channel import Party
from yinji.sql import dp, ops_order
from yinji.sql.context import Context, build, owner_matrix
from yinji.sql.expr import Evaluator, Val
from yinji.sql.noise import NoiseSpec
from yinji.sql.ops_group import MEAN_SCALE, Groups, aggregate, window
from yinji.sql.ops_sortgroup import sorted_groups
from yinji.sql.parse import AGGREGATES, DATE_PARTS, Query, is_select_alias, parse, resolve
from yinji.sql.result import SqlResult, fill, jsonable
from yinji.sql.schema import SqlError, Table

SORT_GROUPS_ABOVE = 1000  # rows: a secret GROUP BY key is sorted (ops_sortgroup) above this
META_LIMIT = 64 << 20  # bytes of the result description an input-party recipient accepts
Check = Callable[[Session, SharedTensor, SharedTensor | None], np.ndarray]


def execute(sql: str, tables: Mapping[str, Table], session: Session, *, recipient: str,
            min_group: int = 0, history: Sequence[str] = (), check: Check | None = None,
            string_key: bytes = b"yinji-sql", allow: Iterable[str] = (),
            noise: Mapping[int, NoiseSpec] | None = None) -> SqlResult:
    """Run by each of the three compute parties with the same arguments (each table's `data`
    only at its owner). Returns the result at the recipient (rows) and the shape elsewhere.

    min_group: an aggregate row with fewer contributing rows is suppressed (computed in MPC;
    only its suppressed bit is opened). history: earlier released cells' predicates (SQL
    conditions over the same context); with `check`, the engine evaluates the new cells and
    the history as shared [cells x rows] and [history x rows] 0/1 matrices and calls
    check(session, new, old) -> bool per new cell before opening anything; any True refuses
    the query (SqlError naming the cell). string_key: the job's key for hashing string
    columns (agreed by the parties at approval; the default is for tests). allow: leaks
    the caller's policy permits -- only "join_size" (the hidden-intersection join).
    noise: select index -> NoiseSpec (yinji.sql.noise.plan): that aggregate's inputs are
    clipped to the bounds and its cells get distributed discrete-Laplace noise (yinji.sql.dp)
    before anything is opened; HAVING / ORDER BY on it see the noised cells; a noised cell is
    never NULL (an empty group's SUM is noised 0, so emptiness is not revealed by validity).
    """
    allow = frozenset(allow)
    unknown = allow - {"join_size"}
    if unknown:
        raise SqlError(f"unknown leak allowance(s) {sorted(unknown)}; known: ['join_size']")
    if min_group < 0:
        raise SqlError("min_group must be >= 0")
    s = session
    q = parse(sql, tables, history)
    if not q.aggregate and min_group > 0:
        raise SqlError("a row-level query (no aggregate) cannot meet min_group; aggregate it")
    noised = _noise_keys(q, noise or {})
    ctx = build(s, q, string_key, allow)
    run = _Run(s, q, ctx, string_key)
    run.noise = noised
    if q.where is not None:
        ctx.alive = ctx.alive * run.row_ev.cond(q.where).t
    out = run.output(min_group)
    if check is not None:
        run.differencing(check, history, out)
    meta = out.pop("meta")
    raw = out["raw"]
    if out["shuffle"]:
        raw = shuffle_rows(s, raw)
    result = SqlResult([name for _, name in q.select], None, q.context, opened=dict(ctx.opened))
    if recipient in s.names:
        got = rep.reveal_to(s, raw, s.names.index(recipient))
        if got is not None:
            fill(result, meta, got.view(np.int64))
    else:
        if s.rank == 0:
            s.party.channel(recipient).send_bytes(json.dumps(meta).encode())
        reveal_outside(SharedTensor(s, raw, 0), recipient)
    return result


def take_part(party: Party, compute: Sequence[str], sql: str, tables: Mapping[str, Table], *,
              recipient: str, string_key: bytes = b"yinji-sql", frac_bits: int = 16,
              history: Sequence[str] = ()) -> SqlResult | None:
    """Run by an input party (a company outside the three compute parties): share the
    tables it owns, in the query's order, and receive the result if it is the recipient."""
    q = parse(sql, tables, history)
    for src in q.sources:
        for owner, _ in src.table.owners:
            if owner == party.name:
                raw = owner_matrix(src.table, q.needed[src.alias], frac_bits, string_key,
                                   owner=owner)
                send_input(party, compute, raw.view(np.int64), frac_bits=0)
    if recipient != party.name:
        return None
    meta = json.loads(party.channel(compute[0]).recv_bytes_at_most(META_LIMIT).decode())
    raw = receive_output(party, compute, frac_bits=0)
    result = SqlResult([name for _, name in q.select], None, q.context)
    fill(result, meta, raw)
    return result


class _Run:
    def __init__(self, s: Session, q: Query, ctx: Context, string_key: bytes) -> None:
        self.s, self.q, self.ctx, self.key = s, q, ctx, string_key
        self.row_ev = Evaluator(s, ctx.n, self.row_lookup, string_key)
        self.base_alive = ctx.alive
        self.windows: dict[str, Val] = {}
        self.noise: dict[str, NoiseSpec] = {}

    # ---------------------------------------------------------- row context
    def col_val(self, alias: str, name: str, what: str = "raw", arg: Any = None) -> Val:
        col = self.q.table(alias).column(name)
        x = self.ctx.cols[(alias, what, col.name, arg)]
        valid = self.ctx.cols.get((alias, "valid", col.name, None))
        kind = col.kind if what in ("raw", "trunc") else "int"
        return Val(x, valid, kind, column=col)

    def row_lookup(self, node: exp.Expression) -> Val | None:
        if isinstance(node, exp.Column):
            alias, col = resolve(self.q, node)
            return self.col_val(alias, col.name)
        part = _date_part(node)
        if part is not None:
            what, col_node, arg = part
            alias, col = resolve(self.q, col_node)
            return self.col_val(alias, col.name, what, arg)
        if isinstance(node, exp.Window):
            return self._window(self.row_ev, node, self.ctx.alive)
        if isinstance(node, AGGREGATES):
            raise SqlError(f"aggregate {node.sql()} outside an aggregate query")
        return None

    def _window(self, ev: Evaluator, node: exp.Window, alive: SharedTensor) -> Val:
        key = node.sql().lower()
        if key not in self.windows:
            self.windows[key] = window(ev, node, alive)
        return self.windows[key]

    # --------------------------------------------------------------- groups
    def groups(self) -> Groups:
        s, q, n = self.s, self.q, self.ctx.n
        if not q.group:
            return Groups("global", SharedTensor.public(s, np.ones((1, n), np.int64), 0), [[]])
        cols = [g for g in q.group if isinstance(g, exp.Column) and not is_select_alias(q, g)]
        if len(cols) == len(q.group) and all(resolve(q, c)[1].public_domain for c in cols):
            masks, domains = [], []
            for c in cols:
                alias, col = resolve(q, c)
                oh = self.ctx.cols[(alias, "onehot", col.name, None)]        # (n, k)
                dom: list[Any] = list(col.public_domain)
                if (alias, "valid", col.name, None) in self.ctx.cols:        # a NULL group
                    oh = concatenate([oh, (1 - oh.sum(axis=1)).reshape(n, 1)], axis=1)
                    dom.append(None)
                masks.append(oh.T)
                domains.append(dom)
            m = masks[0]
            for extra in masks[1:]:
                k1, k2 = m.shape[0], extra.shape[0]
                m = (m.reshape(k1, 1, n) * extra.reshape(1, k2, n)).reshape(k1 * k2, n)
            g = Groups("public", m, [list(k) for k in product(*domains)])
            g.present = (m @ self.ctx.alive) >= 1
            return g
        if n > SORT_GROUPS_ABOVE and len(q.group) == 1:
            aggs = [a for clause in [e for e, _ in q.select] + [q.having] + list(q.order)
                    if clause is not None for a in clause.find_all(*AGGREGATES)
                    if not (isinstance(a.parent, exp.Window) and a.parent.this is a)]
            return sorted_groups(self.row_ev, self._group_target(q.group[0]), aggs, self.ctx.alive)
        if n > ops_order.QUADRATIC_LIMIT:
            raise SqlError(f"GROUP BY on secret keys over {n} rows: the oblivious pairwise "
                           f"circuit is limited to {ops_order.QUADRATIC_LIMIT} rows; declare a public "
                           "domain (category column or int domain) for the key")
        same = None
        for gexpr in q.group:
            v = self.row_ev.value(self._group_target(gexpr))
            if v.kind == "string":
                raise SqlError(f"GROUP BY string column {gexpr.sql()}: strings are hashed; "
                               "declare it a category with its public values")
            x = self.row_ev.tensor(v)
            if v.valid is not None:
                x = x * v.valid  # NULL keys encode as 0 and form one group
            e = x.reshape(n, 1).eq(x.reshape(1, n))
            if v.valid is not None:
                e = e * v.valid.reshape(n, 1).eq(v.valid.reshape(1, n))
            same = e if same is None else same * e
        earlier = same * np.tril(np.ones((n, n), np.int64), -1)
        rep_bit = self.ctx.alive * (earlier @ self.ctx.alive).eq(0)
        g = Groups("secret", same, [])
        g.present = rep_bit
        return g

    def _group_target(self, gexpr: exp.Expression) -> exp.Expression:
        """GROUP BY may name a select-list alias."""
        if isinstance(gexpr, exp.Column) and not gexpr.table:
            try:
                resolve(self.q, gexpr)
            except SqlError:
                for e, name in self.q.select:
                    if name.lower() == gexpr.name.lower():
                        return e
                raise
        return gexpr

    # --------------------------------------------------------------- output
    def output(self, min_group: int) -> dict[str, Any]:
        q, s = self.q, self.s
        if q.aggregate:
            g = self.groups()
            self.g = g
            size = g.size
            keymap = {self._group_target(k).sql().lower(): i for i, k in enumerate(q.group)}
            ev = Evaluator(s, size, lambda node: self.group_lookup(node, ev, keymap), self.key)
            present = g.present if g.present is not None else ev.bits(1)
            count = g.count_all if g.mode == "sorted" else g.m @ self.ctx.alive
            self.count = count
            supp = present * (count < min_group) if min_group > 0 else None
            shuffle = g.mode in ("secret", "sorted")
        else:
            self.g = None
            size, ev = self.ctx.n, self.row_ev
            present, supp, shuffle = self.ctx.alive, None, True
        if size > ops_order.QUADRATIC_LIMIT and q.order:
            raise SqlError(f"ORDER BY over {size} result rows exceeds the oblivious ranking "
                           f"limit of {ops_order.QUADRATIC_LIMIT} (aggregate first)")
        self.ev = ev
        base = present
        if q.having is not None:
            base = base * ev.cond(q.having).t
        if supp is not None:
            base = base * (1 - supp)
        self.base = base
        vals = [ev.value(e) for e, _ in q.select]
        for (_e, name), v in zip(q.select, vals, strict=True):
            if v.kind in ("string", "text", "interval"):
                raise SqlError(f"cannot output {name!r}: {v.kind} values are hashed or "
                               "unsupported in results (use a category column)")
        rank = None
        release = base
        if q.order:
            okeys = [ev.value(self._order_target(o.this)) for o in q.order]
            km = ops_order.key_matrices(okeys, [bool(o.args.get("desc")) for o in q.order],
                                         [_nulls_first(o) for o in q.order], ev)
            rank = ops_order.ranks(ops_order.before(km, tie_by_index=True), base)
            if q.limit is not None:
                release = base * (rank < q.limit)
        elif q.limit is not None:  # no order: the first alive rows, by a local prefix sum
            rank = _exclusive_cumsum(base)
            release = base * (rank < q.limit)
        self.release = release
        cols = []
        for v in vals:
            x = ev.tensor(v) if v.kind != "null" else ev.bits(0)
            ok = ev.valid(v) if v.kind != "null" else ev.bits(0)
            cols += [x.shares, ok.shares]
        if rank is not None:
            cols.append(rank.shares)
        mat = tuple(np.stack([c[i].reshape(size) for c in cols], axis=1) for i in range(2))
        rel = release.shares
        masked = rep.mul(s, mat, (rel[0].reshape(size, 1), rel[1].reshape(size, 1)))
        # the suppressed bits open only where the group list is public anyway; a suppressed
        # secret-key group is simply not released
        open_supp = supp is not None and self.g.mode in ("public", "global")
        extra = [release.shares] + ([supp.shares] if open_supp else [])
        raw = tuple(np.concatenate([masked[i]] + [e[i].reshape(size, 1) for e in extra], axis=1)
                    for i in range(2))
        meta = {"kinds": [v.kind for v in vals], "frac": [ev.tensor(v).frac_bits if v.kind != "null"
                                                          else 0 for v in vals],
                "categories": [list(v.column.categories) if v.column is not None and v.kind == "category"
                               else [] for v in vals],
                "rank": rank is not None, "supp": open_supp,
                "keys": [[jsonable(k) for k in key] for key in self.g.keys]
                if q.aggregate and self.g.mode == "public" else None,
                "key_cols": self._key_columns(vals) if q.aggregate else [],
                "where": q.where.sql(dialect="duckdb") if q.where is not None else None,
                "group": [k.sql(dialect="duckdb") for k in q.group],
                "key_kinds": []}
        if q.aggregate and self.g.mode == "public":
            meta["key_kinds"] = [resolve(q, k)[1].kind for k in q.group]
        return {"raw": raw, "shuffle": shuffle, "meta": meta}

    def _key_columns(self, vals: list[Val]) -> list[int]:
        """For each GROUP BY key, the index of the select item that is that key (-1: none)."""
        out = []
        for k in self.q.group:
            target = self._group_target(k).sql().lower()
            idx = [i for i, (e, name) in enumerate(self.q.select)
                   if e.sql().lower() == target or name.lower() == k.sql().lower()]
            out.append(idx[0] if idx else -1)
        return out

    def _order_target(self, e: exp.Expression) -> exp.Expression:
        if isinstance(e, exp.Column) and is_select_alias(self.q, e):
            for sel, name in self.q.select:
                if name.lower() == e.name.lower():
                    return sel
        if isinstance(e, exp.Literal) and not e.is_string and e.this.isdigit():
            i = int(e.this)
            if not 1 <= i <= len(self.q.select):
                raise SqlError(f"ORDER BY position {i} is not in the select list")
            return self.q.select[i - 1][0]
        return e

    def group_lookup(self, node: exp.Expression, ev: Evaluator, keymap: dict) -> Val | None:
        q, g = self.q, self.g
        key = node.sql().lower()
        if key in keymap:
            i = keymap[key]
            if g.mode == "public":
                alias, col = resolve(q, q.group[i])
                codes = [k[i] for k in g.keys]
                if col.kind == "category":
                    nums = [col.categories.index(c) if c is not None else 0 for c in codes]
                else:
                    nums = [c if c is not None else 0 for c in codes]
                x = SharedTensor.public(self.s, np.asarray(nums, np.int64), 0)
                valid = None
                if None in codes:
                    valid = SharedTensor.public(self.s, np.asarray([c is not None for c in codes],
                                                                   np.int64), 0)
                return Val(x, valid, col.kind, column=col)
            if g.mode == "sorted":
                return g.key_val
            return self.row_ev.value(self._group_target(q.group[i]))
        if isinstance(node, exp.Column) and is_select_alias(q, node):
            for sel, name in q.select:
                if name.lower() == node.name.lower():
                    return ev.value(sel)
        if isinstance(node, exp.Window):
            return self._window(ev, node, self.base)
        if isinstance(node, exp.WithinGroup):
            node = node.this
        if key in self.noise:
            return self._noised(node, self.noise[key])
        if isinstance(node, AGGREGATES):
            return aggregate(self.row_ev, g, self.ctx.alive, node)
        if isinstance(node, exp.Column):
            raise SqlError(f"column {node.sql()} must appear in GROUP BY or in an aggregate")
        return None

    def _noised(self, node: exp.Expression, spec: NoiseSpec) -> Val:
        """The aggregate over clipped values plus distributed noise (yinji.sql.dp), cached
        so every use of it (select, HAVING, ORDER BY) sees the same noised cells."""
        g, s, alive = self.g, self.s, self.ctx.alive
        key = ("noised", node.sql().lower())
        if key in g.cache:
            return g.cache[key]
        if g.m is None:
            raise SqlError(f"noised {node.sql()} with a large secret GROUP BY key is not "
                           "supported: declare a public domain for the key")
        if isinstance(node, exp.Count) and isinstance(node.this, exp.Star):
            w = alive
        else:
            v = self.row_ev.value(node.this)
            w = alive if v.valid is None else alive * v.valid
        if spec.function == "count":
            out = Val(dp.add_noise(s, g.m @ w, 1.0, spec.epsilon), None, "int")
        else:
            if v.kind not in ("int", "decimal", "bool"):
                raise SqlError(f"type mismatch: {node.key.upper()} of {v.kind} in {node.sql()}")
            clipped = dp.clip(self.row_ev.tensor(v), spec.bounds)
            eps = spec.epsilon if spec.function == "sum" else spec.epsilon / 2
            total = dp.add_noise(s, g.m @ (w * clipped), dp.sum_sensitivity(spec.bounds), eps)
            if spec.function == "sum":
                out = Val(total, None, "decimal" if v.kind == "decimal" else "int")
            else:   # AVG = noised SUM / max(noised COUNT, 1): post-processing, in MPC
                cnt = dp.add_noise(s, g.m @ w, 1.0, eps)
                one = SharedTensor.public(s, np.ones(cnt.shape, np.int64), 0)
                cnt = where(cnt < one, one, cnt)
                avg = ((total._fixed() * MEAN_SCALE) / cnt._fixed()) * (1 / MEAN_SCALE)
                out = Val(avg, None, "decimal")
        g.cache[key] = out
        return out

    # ------------------------------------------------------------ differencing
    def differencing(self, check: Check, history: Sequence[str], out: dict) -> None:
        """new [cells x rows] = group membership AND WHERE; old [history x rows] = each
        earlier predicate over the same (joined, unfiltered) context rows."""
        if not self.q.aggregate:
            raise SqlError("the differencing check applies to aggregate queries")
        g = self.g
        if g.m is None:
            raise SqlError("the differencing check is not available for a secret GROUP BY "
                           "key over more rows than the pairwise limit")
        new = g.m * self.ctx.alive.reshape(1, -1)
        if g.mode == "secret":
            new = new * g.present.reshape(-1, 1)
        old = None
        if history:
            rows = [self.row_ev.cond(sqlglot.parse_one(h, dialect="duckdb")).t * self.base_alive
                    for h in history]
            old = SharedTensor(self.s, tuple(np.stack([r.shares[i] for r in rows]) for i in range(2)), 0)
        refused = np.asarray(check(self.s, new, old), dtype=bool).reshape(-1)
        if refused.shape != (g.size,):
            raise SqlError(f"the differencing check returned {refused.shape}, expected ({g.size},)")
        if refused.any():
            i = int(np.flatnonzero(refused)[0])
            name = _cell_name(self.q, g, i)
            raise SqlError(f"query refused: cell {name} could isolate fewer than the minimum "
                           "number of rows when differenced with earlier released cells")


def _noise_keys(q: Query, noise: Mapping[int, NoiseSpec]) -> dict[str, NoiseSpec]:
    """Aggregate SQL (lower case) -> its NoiseSpec; each marked select item must be exactly
    an aggregate of the spec's function."""
    out: dict[str, NoiseSpec] = {}
    for i, spec in noise.items():
        if not (isinstance(i, int) and 0 <= i < len(q.select)):
            raise SqlError(f"noise for select item {i!r}: the query has {len(q.select)} items")
        e, name = q.select[i]
        want = {"sum": exp.Sum, "count": exp.Count, "avg": exp.Avg}[spec.function]
        if not isinstance(e, want) or isinstance(e.this, exp.Distinct):
            raise SqlError(f"noise {spec.function.upper()} for select item {name!r}: it is "
                           f"{e.sql()}, not a {spec.function.upper()} aggregate")
        if out.setdefault(e.sql().lower(), spec) != spec:
            raise SqlError(f"select items repeat {e.sql()} with different noise")
    return out


def _exclusive_cumsum(x: SharedTensor) -> SharedTensor:
    """sum_{j<i} x_j (local on shares)."""
    def scan(a: np.ndarray) -> np.ndarray:
        out = np.zeros_like(a)
        np.cumsum(a[:-1], out=out[1:], dtype=np.uint64)
        return out
    return x._new((scan(x.shares[0]), scan(x.shares[1])))


def _cell_name(q: Query, g: Groups, i: int) -> str:
    if g.mode == "global":
        return "(all rows)"
    if g.mode == "public":
        return "(" + ", ".join(f"{k.sql()}={v!r}" for k, v in zip(q.group, g.keys[i], strict=True)) + ")"
    return f"#{i} (secret group key)"


def _date_part(node: exp.Expression) -> tuple[str, exp.Column, Any] | None:
    if isinstance(node, tuple(DATE_PARTS)) and isinstance(node.this, exp.Column):
        return DATE_PARTS[type(node)], node.this, None
    if isinstance(node, exp.Extract) and isinstance(node.expression, exp.Column):
        return node.this.name.lower(), node.expression, None
    if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)) and isinstance(node.this, exp.Column):
        unit = node.args.get("unit")
        return "trunc", node.this, (unit.name if unit is not None else "").lower().strip("'")
    return None


def _nulls_first(o: exp.Ordered) -> bool:
    return bool(o.args.get("nulls_first"))


__all__ = ["SqlResult", "execute", "take_part"]
