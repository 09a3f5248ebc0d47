"""Parsing and checking a query (sqlglot, DuckDB/MySQL-style dialect) into a `Query`: the
tables and joins, the clauses, and the derived columns each table's owner must share.

Everything here is public: the query text and the schemas. Nothing is computed on data; a
query the engine cannot run obliviously fails here, before any party sends anything, with an
`SqlError` naming the construct, column or table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from yinji.sql.schema import Column, SqlError, Table

AGGREGATES = (exp.Count, exp.Sum, exp.Avg, exp.Min, exp.Max, exp.PercentileDisc)
DATE_PARTS = {exp.Year: "year", exp.Month: "month", exp.Day: "day"}
# node types the evaluator understands (aggregates, windows and date functions separately)
SCALAR = (exp.Column, exp.Literal, exp.Null, exp.Boolean, exp.Paren, exp.Alias, exp.Add,
          exp.Sub, exp.Mul, exp.Div, exp.Neg, exp.EQ, exp.NEQ, exp.LT, exp.LTE, exp.GT, exp.GTE,
          exp.And, exp.Or, exp.Not, exp.In, exp.Between, exp.Is, exp.Case, exp.If,
          exp.Coalesce, exp.Cast, exp.Interval, exp.Var, exp.DataType, exp.Star, exp.Distinct,
          exp.DateDiff, exp.Extract, exp.TimestampTrunc, exp.DateTrunc, exp.Abs, exp.Year,
          exp.Month, exp.Day, exp.Ordered, exp.Order, exp.Window, exp.WithinGroup,
          exp.Rank, exp.Identifier) + AGGREGATES
NAMES = {exp.Like: "LIKE", exp.ILike: "ILIKE", exp.Mod: "% (modulo)", exp.IntDiv: "// (integer division)",
         exp.Subquery: "subquery", exp.Union: "UNION", exp.Exists: "EXISTS", exp.Anonymous: "function"}


@dataclass
class Source:
    alias: str
    table: Table


@dataclass
class Join:
    kind: str          # "inner" or "left"
    left: tuple[str, str]   # (alias, column) of an earlier table
    right: tuple[str, str]  # (alias, column) of the joined table


@dataclass
class Query:
    sql: str
    tree: exp.Select
    sources: list[Source]
    joins: list[Join]
    where: exp.Expression | None
    group: list[exp.Expression]
    select: list[tuple[exp.Expression, str]]
    having: exp.Expression | None
    order: list[exp.Ordered]
    limit: int | None
    aggregate: bool
    needed: dict[str, set[tuple[str, str, object]]] = field(default_factory=dict)

    def table(self, alias: str) -> Table:
        for s in self.sources:
            if s.alias == alias:
                return s.table
        raise SqlError(f"unknown table {alias!r}")

    @property
    def context(self) -> str:
        """The FROM/JOIN structure, normalised (the differencing hook's key)."""
        parts = [f"{self.sources[0].table.name} AS {self.sources[0].alias}"]
        for src, j in zip(self.sources[1:], self.joins, strict=True):
            parts.append(f"{j.kind.upper()} JOIN {src.table.name} AS {src.alias} ON "
                         f"{j.left[0]}.{j.left[1]} = {j.right[0]}.{j.right[1]}")
        return " ".join(parts)


def resolve(q: Query, col: exp.Column) -> tuple[str, Column]:
    """(alias, Column) of a column reference: unknown and ambiguous names are errors."""
    name, qual = col.name, col.table
    if qual:
        for s in q.sources:
            if s.alias.lower() == qual.lower():
                return s.alias, s.table.column(name)
        raise SqlError(f"unknown table {qual!r} in column {qual}.{name}")
    hits = []
    for s in q.sources:
        try:
            hits.append((s.alias, s.table.column(name)))
        except SqlError:
            pass
    if not hits:
        tables = ", ".join(s.table.name for s in q.sources)
        raise SqlError(f"unknown column {name!r} (tables: {tables})")
    if len(hits) > 1:
        raise SqlError(f"ambiguous column {name!r}: in " + ", ".join(a for a, _ in hits))
    return hits[0]


def parse(sql: str, tables: Mapping[str, Table], history: Sequence[str] = ()) -> Query:
    """Check `sql` against the schemas; `history` are earlier cells' predicates (SQL
    conditions over the same FROM/JOIN context) the differencing check will evaluate."""
    try:
        trees = sqlglot.parse(sql, dialect="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise SqlError(f"cannot parse the query: {str(exc).splitlines()[0]}") from None
    if len(trees) != 1 or not isinstance(trees[0], exp.Select):
        kind = type(trees[0]).__name__.upper() if trees and trees[0] is not None else "nothing"
        raise SqlError(f"only one SELECT statement is supported, got {kind}")
    t = trees[0]
    for key in ("with_", "with", "distinct", "qualify", "offset", "windows"):
        if t.args.get(key):
            raise SqlError(f"unsupported: {key.rstrip('_').upper()}")
    sources, joins = _sources(t, tables)
    q = Query(sql, t, sources, [], t.args["where"].this if t.args.get("where") else None,
              list(t.args["group"].expressions) if t.args.get("group") else [],
              [], t.args["having"].this if t.args.get("having") else None,
              list(t.args["order"].expressions) if t.args.get("order") else [],
              _limit(t), False)
    q.joins = [_join(q, j) for j in joins]
    for i, e in enumerate(t.expressions):
        if isinstance(e, exp.Star):
            raise SqlError("unsupported: SELECT * (name the columns)")
        name = e.alias_or_name or f"col{i}"
        q.select.append((e.this if isinstance(e, exp.Alias) else e, name))
    q.aggregate = bool(q.group) or any(_aggregates(e) for e, _ in q.select) or q.having is not None
    for clause in [e for e, _ in q.select] + q.group + [q.where, q.having] + list(q.order):
        if clause is not None:
            _check(q, clause)
    if q.where is not None and _aggregates(q.where):
        raise SqlError("aggregate in WHERE (use HAVING)")
    if q.group and not q.aggregate:
        raise SqlError("GROUP BY without aggregates")
    if q.aggregate:
        _check_grouped(q)
    extra = []
    for h in history:
        try:
            pred = sqlglot.parse_one(h, dialect="duckdb")
        except sqlglot.errors.ParseError as exc:
            raise SqlError(f"cannot parse the history predicate {h!r}: {exc}") from None
        if _aggregates(pred):
            raise SqlError(f"history predicate {h!r} holds an aggregate")
        _check(q, pred)
        extra.append(pred)
    needed: dict[str, set] = {s.alias: set() for s in sources}
    for col in [c for tree in [t] + extra for c in tree.find_all(exp.Column)]:
        if is_select_alias(q, col):
            continue
        alias, c = resolve(q, col)
        parent = col.parent
        what = DATE_PARTS.get(type(parent)) if isinstance(parent, tuple(DATE_PARTS)) else None
        if isinstance(parent, exp.Extract):
            what = _extract_part(parent)
        if isinstance(parent, (exp.TimestampTrunc, exp.DateTrunc)):
            what = "trunc"
        if what is not None and c.kind != "date":
            raise SqlError(f"type mismatch: {what} of {c.kind} column {col.sql()}")
        arg = _trunc_unit(parent) if what == "trunc" else None
        needed[alias].add((what or "raw", c.name, arg))
        if c.nullable:
            needed[alias].add(("valid", c.name, None))
    for g in q.group:
        if isinstance(g, exp.Column) and not is_select_alias(q, g):
            alias, c = resolve(q, g)
            if c.public_domain:
                needed[alias].add(("onehot", c.name, None))
    q.needed = needed
    return q


def _limit(t: exp.Select) -> int | None:
    lim = t.args.get("limit")
    if lim is None:
        return None
    e = lim.expression
    if not isinstance(e, exp.Literal) or e.is_string or not e.this.isdigit():
        raise SqlError("LIMIT needs a non-negative integer literal")
    return int(e.this)


def _sources(t: exp.Select, tables: Mapping[str, Table]) -> tuple[list[Source], list]:
    frm = t.args.get("from_") or t.args.get("from")
    if frm is None:
        raise SqlError("a query needs FROM")
    items = [frm.this] + [j.this for j in t.args.get("joins") or []]
    out = []
    for it in items:
        if not isinstance(it, exp.Table):
            raise SqlError(f"unsupported FROM item: {it.sql()} (only tables)")
        if it.name not in tables:
            raise SqlError(f"unknown table {it.name!r}; known: {sorted(tables)}")
        alias = it.alias_or_name
        if any(s.alias == alias for s in out):
            raise SqlError(f"table alias {alias!r} used twice")
        out.append(Source(alias, tables[it.name]))
    return out, list(t.args.get("joins") or [])


def _join(q: Query, j: exp.Join) -> Join:
    side, kind = (j.args.get("side") or "").lower(), (j.args.get("kind") or "").lower()
    if side in ("right", "full") or kind in ("cross", "outer", "semi", "anti") or j.args.get("using"):
        raise SqlError(f"unsupported join: {j.sql()} (INNER or LEFT JOIN ... ON a = b)")
    on = j.args.get("on")
    if not isinstance(on, exp.EQ) or not all(isinstance(x, exp.Column) for x in (on.this, on.expression)):
        raise SqlError(f"unsupported join condition {on.sql() if on else '(none)'}: "
                       "only equality of two key columns")
    a, b = resolve(q, on.this), resolve(q, on.expression)
    right = j.this.alias_or_name
    if b[0] != right:
        a, b = b, a
    if b[0] != right or a[0] == right:
        raise SqlError(f"join condition {on.sql()} must compare the joined table {right!r} "
                       "with an earlier table")
    if a[1].kind != b[1].kind or a[1].kind == "decimal":
        raise SqlError(f"type mismatch: join on {on.sql()} ({a[1].kind} vs {b[1].kind}; "
                       "keys are int, date, string or category)")
    return Join("left" if side == "left" else "inner", (a[0], a[1].name), (b[0], b[1].name))


def _aggregates(e: exp.Expression) -> list[exp.Expression]:
    return [a for a in e.find_all(*AGGREGATES) if not a.find_ancestor(exp.Window)
            or a.find_ancestor(exp.Window).this is not a]


def is_select_alias(q: Query, col: exp.Column) -> bool:
    """ORDER BY / HAVING may name a select-list alias."""
    if col.table or not (col.find_ancestor(exp.Order) or col.find_ancestor(exp.Having)):
        return False
    if any(name.lower() == col.name.lower() and not isinstance(e, exp.Column) for e, name in q.select):
        try:
            resolve(q, col)
        except SqlError:
            return True
    return False


def _extract_part(e: exp.Extract) -> str:
    part = e.this.name.lower()
    if part not in ("year", "month", "day"):
        raise SqlError(f"unsupported: EXTRACT({part.upper()}) (year, month, day)")
    return part


def _trunc_unit(e: exp.Expression) -> str:
    unit = (e.args.get("unit").name if e.args.get("unit") is not None else "").lower().strip("'")
    if unit not in ("month", "year"):
        raise SqlError(f"unsupported: date_trunc to {unit!r} (month, year)")
    return unit


def _check(q: Query, e: exp.Expression) -> None:
    for node in e.walk():
        if not isinstance(node, SCALAR):
            name = NAMES.get(type(node)) or type(node).__name__.upper()
            if isinstance(node, exp.Anonymous):
                name = f"function {node.name.upper()}"
            elif isinstance(node, exp.Func):
                name = f"function {node.sql_name()}"
            raise SqlError(f"unsupported: {name} in {e.sql()}")
        if isinstance(node, (exp.Year, exp.Month, exp.Day, exp.Extract, exp.TimestampTrunc,
                             exp.DateTrunc)):
            arg = node.expression if isinstance(node, exp.Extract) else node.this
            if not isinstance(arg, exp.Column):
                raise SqlError(f"unsupported: date function on an expression ({node.sql()}); "
                               "apply it to a date column")
            if isinstance(node, exp.Extract):
                _extract_part(node)
            if isinstance(node, (exp.TimestampTrunc, exp.DateTrunc)):
                _trunc_unit(node)
        if isinstance(node, exp.Window):
            if not isinstance(node.this, (exp.Rank, exp.Sum)):
                raise SqlError(f"unsupported window function {node.this.sql()} (RANK, SUM)")
            if node.args.get("spec") is not None:
                raise SqlError(f"unsupported: window frame in {node.sql()}")
            if not node.args.get("order"):
                raise SqlError(f"window {node.sql()} needs ORDER BY")
        if isinstance(node, exp.Column) and not is_select_alias(q, node):
            resolve(q, node)


def _check_grouped(q: Query) -> None:
    """In an aggregate query every column outside an aggregate must be a GROUP BY key."""
    keys = {g.sql().lower() for g in q.group}
    for clause in [e for e, _ in q.select] + ([q.having] if q.having is not None else []) \
            + list(q.order):
        for col in clause.find_all(exp.Column):
            if col.find_ancestor(*AGGREGATES, exp.WithinGroup) or is_select_alias(q, col):
                continue
            node: exp.Expression = col
            ok = node.sql().lower() in keys
            while not ok and node.parent is not None and node.parent is not clause.parent:
                node = node.parent
                ok = node.sql().lower() in keys
            if not ok:
                raise SqlError(f"column {col.sql()} must appear in GROUP BY or in an aggregate")


__all__ = ["AGGREGATES", "Join", "Query", "Source", "parse", "resolve"]
