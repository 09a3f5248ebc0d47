"""Column control lists for secure SQL (the CCL idea of SecretFlow SCQL, adapted to an
oblivious engine): every column a query touches is classified by how it is used, and each use
is checked against the owner's rule for that column and that receiving company, before
anything runs.

Rules (per column, per recipient; "*" is the default recipient; an unlisted column or table is
refused):

    plaintext            any use.
    plaintext_after_join a join key anywhere; any other use only when its table's rows in the
                         result are exactly the rows that matched another table: the table is
                         on a side of an INNER JOIN, or the optional side of a LEFT/RIGHT JOIN,
                         joined by a key equality (never FULL or CROSS joins, never alone).
    plaintext_after_compare  a join key; a comparison whose per-row result is revealed
                         (`compare`, e.g. `WHERE x > 5` in a row-level query, `SELECT x > 5`,
                         a CASE WHEN condition in the output); a filter or condition feeding
                         only aggregates (`filter`). Never its value, order or groups.
    plaintext_after_aggregate  inside the allowed aggregates only (default COUNT, COUNT
                         DISTINCT, SUM, AVG; an owner may add MIN, MAX, PERCENTILE, which
                         reveal one row's value), or as a filter feeding only aggregates;
                         aggregate cells must hold at least `min_group` rows (the report's
                         `min_group` is the largest over the columns used); with `dp_epsilon`
                         and `bounds` the aggregates get calibrated noise (yinji.sql.dp) and
                         the column may be used only inside SUM, COUNT or AVG.
    encrypted_only       a join key only (the hidden-intersection join): no value, comparison,
                         order, group or aggregate derived from it is ever revealed.

Uses: output (row-level value, including window aggregates, which are per row), compare,
filter, aggregate:<fn>, join_key, group_key (GROUP BY, PARTITION BY: needs a rule that allows
plaintext), order (ORDER BY / window ORDER BY on a raw column). An expression passes each of
its columns the use of its position: `SUM(a * b)` is an aggregate use of a and b,
`SUM(CASE WHEN c > 0 THEN a END)` a filter use of c. Such conditions inside aggregates narrow
the rows an aggregate really covers, so the report lists them (`aggregate_conditions`): the
engine must AND them into the cell's predicate for the size and differencing checks, or
`SUM(CASE WHEN id = 'G1' THEN assets END)` over a large cell would release one client's
value. Subqueries, CTEs and set operations are
refused (the checker does not follow columns through derived tables, so it fails closed).

Adversary model: the analyst (recipient) chooses the query and is honest-but-curious about
the data; the checker runs at every data owner's node on the query text as approved, so a
query the checker refuses never runs. What passes reveals, per column, only what its rule
allows; what the rule cannot see -- differencing across queries and sizes -- is handled by
yinji.sql.isolation and the ledger (yinji.sql.ledger).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

PLAINTEXT = "plaintext"
AFTER_JOIN = "plaintext_after_join"
AFTER_COMPARE = "plaintext_after_compare"
AFTER_AGGREGATE = "plaintext_after_aggregate"
ENCRYPTED_ONLY = "encrypted_only"
RULES = (PLAINTEXT, AFTER_JOIN, AFTER_COMPARE, AFTER_AGGREGATE, ENCRYPTED_ONLY)
AGGREGATES = ("count", "count_distinct", "sum", "avg", "min", "max", "percentile")
DEFAULT_AGGREGATES = ("count", "count_distinct", "sum", "avg")
DP_AGGREGATES = ("count", "sum", "avg")
USES = ("output", "compare", "filter", "aggregate", "join_key", "group_key", "order")


class PolicyRefused(ValueError):
    """A query uses a column beyond its rule; `violations` has one line per refused use,
    naming table.column, the rule and the use."""

    def __init__(self, violations: list[str]) -> None:
        super().__init__("query refused by the column policy:\n  " + "\n  ".join(violations))
        self.violations = violations


@dataclass(frozen=True)
class ColumnRule:
    """One column's rule for one recipient."""

    kind: str
    min_group: int = 0
    aggregates: tuple[str, ...] = DEFAULT_AGGREGATES
    dp_epsilon: float | None = None
    bounds: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        if self.kind not in RULES:
            raise ValueError(f"unknown column rule {self.kind!r} (one of {', '.join(RULES)})")
        if not isinstance(self.min_group, int) or self.min_group < 0:
            raise ValueError(f"min_group must be a non-negative integer, got {self.min_group!r}")
        bad = [a for a in self.aggregates if a not in AGGREGATES]
        if bad:
            raise ValueError(f"unknown aggregate(s) {bad} (one of {', '.join(AGGREGATES)})")
        if self.dp_epsilon is not None:
            if self.kind != AFTER_AGGREGATE:
                raise ValueError("dp_epsilon needs the plaintext_after_aggregate rule")
            if not self.dp_epsilon > 0:
                raise ValueError(f"dp_epsilon must be positive, got {self.dp_epsilon!r}")
            if self.bounds is None or len(self.bounds) != 2 or not self.bounds[0] <= self.bounds[1]:
                raise ValueError("a DP-marked column needs bounds [low, high] with low <= high")

    @classmethod
    def of(cls, spec: ColumnRule | str | Mapping[str, Any]) -> ColumnRule:
        """From a rule name or a dict {"rule": ..., "min_group": ..., "aggregates": [...],
        "dp_epsilon": ..., "bounds": [lo, hi]}."""
        if isinstance(spec, ColumnRule):
            return spec
        if isinstance(spec, str):
            return cls(spec)
        extra = set(spec) - {"rule", "min_group", "aggregates", "dp_epsilon", "bounds"}
        if extra or "rule" not in spec:
            raise ValueError(f"a column rule is a name or a dict with 'rule' and optionally "
                             f"min_group, aggregates, dp_epsilon, bounds; got {dict(spec)}")
        bounds = spec.get("bounds")
        return cls(spec["rule"], int(spec.get("min_group", 0)),
                   tuple(spec.get("aggregates", DEFAULT_AGGREGATES)), spec.get("dp_epsilon"),
                   None if bounds is None else (float(bounds[0]), float(bounds[1])))

    def describe(self) -> str:
        bits = [self.kind]
        if self.kind == AFTER_AGGREGATE:
            bits.append(f"min group {self.min_group}")
            if self.dp_epsilon is not None:
                bits.append(f"dp epsilon {self.dp_epsilon:g} bounds {list(self.bounds or ())}")
        return ", ".join(bits)


@dataclass(frozen=True)
class ColumnUse:
    table: str
    column: str
    use: str                 # one of USES
    function: str = ""       # the aggregate, for use == "aggregate"
    where: str = ""          # the clause: SELECT, WHERE, JOIN, GROUP BY, ...

    def describe(self) -> str:
        what = f"aggregate {self.function.upper()}" if self.use == "aggregate" else self.use
        return f"{self.table}.{self.column} as {what} in {self.where}"


@dataclass(frozen=True)
class DpAggregate:
    """An aggregate that must get noise: the engine clips the column to `bounds` and calls
    yinji.sql.dp with `epsilon` (split between sum and count for AVG)."""

    table: str
    column: str
    function: str
    epsilon: float
    bounds: tuple[float, float]


@dataclass
class PolicyReport:
    sql: str
    recipient: str
    checks: list[str] = field(default_factory=list)
    uses: list[ColumnUse] = field(default_factory=list)
    min_group: int = 0
    dp: list[DpAggregate] = field(default_factory=list)
    aggregate_conditions: list[str] = field(default_factory=list)

    def approval_lines(self, recipients: Iterable[str] | None = None) -> list[str]:
        """What an approver sees: the query, who receives the result, every check."""
        who = ", ".join(recipients) if recipients is not None else self.recipient
        lines = [f"query: {self.sql}", f"recipients: {who}",
                 f"minimum group size enforced: {self.min_group}"]
        lines += [f"noise: {d.function.upper()}({d.table}.{d.column}) epsilon {d.epsilon:g} "
                  f"bounds {list(d.bounds)}" for d in self.dp]
        return lines + [f"check: {c}" for c in self.checks]


Policies = Mapping[str, Mapping[str, Any]]   # table -> column -> rule spec or {recipient: spec}


def rule_for(policies: Policies, table: str, column: str, recipient: str) -> ColumnRule | None:
    """The rule of table.column for `recipient` (its own entry, else "*"), None if none."""
    cols = policies.get(table)
    if cols is None or column not in cols:
        return None
    spec = cols[column]
    if isinstance(spec, Mapping) and "rule" not in spec:
        spec = spec.get(recipient, spec.get("*"))
        if spec is None:
            return None
    return ColumnRule.of(spec)


def check_query(query: str | exp.Expression, policies: Policies, recipient: str,
                *, others: Mapping[str, Iterable[str]] | None = None,
                dialect: str | None = "duckdb") -> PolicyReport:
    """Classify every column use of `query` and check it against `policies` for
    `recipient`; raise PolicyRefused naming every refused use, else return the report.

    `others`: tables of other owners in the query (table -> its public column names), whose
    uses each owner's node checks against its own policies; here they are only resolved and
    listed. A node passes its own tables as `policies` and everyone else's as `others`."""
    tree = sqlglot.parse_one(query, read=dialect) if isinstance(query, str) else query
    others = {t: list(cols) for t, cols in (others or {}).items()}
    mixed = set(others) & set(policies)
    if mixed:
        raise ValueError(f"table(s) {sorted(mixed)} given both as own policies and as others")
    columns = {t: list(cols) for t, cols in policies.items()} | others
    walker = _Classifier(tree, columns)
    uses, joined = walker.run()
    report = PolicyReport(tree.sql(), recipient, aggregate_conditions=walker.agg_conditions)
    violations: list[str] = []
    for u in uses:
        if u.table in others:
            report.checks.append(f"{u.describe()}: checked by the owner of {u.table!r}")
            continue
        rule = rule_for(policies, u.table, u.column, recipient)
        problem = _problem(rule, u, joined)
        label = "no rule" if rule is None else rule.describe()
        if problem:
            violations.append(f"{u.describe()}: rule {label} for {recipient!r} {problem}")
            continue
        report.checks.append(f"{u.describe()}: allowed by {label} for {recipient!r}")
        report.uses.append(u)
        if rule is not None and rule.kind == AFTER_AGGREGATE:
            report.min_group = max(report.min_group, rule.min_group)
            if rule.dp_epsilon is not None and u.use == "aggregate":
                assert rule.bounds is not None
                dp = DpAggregate(u.table, u.column, u.function, rule.dp_epsilon, rule.bounds)
                if dp not in report.dp:
                    report.dp.append(dp)
    if violations:
        raise PolicyRefused(violations)
    return report


def _problem(rule: ColumnRule | None, u: ColumnUse, joined: set[str]) -> str:
    """Why `rule` does not allow `u` ('' if it does)."""
    if rule is None:
        return "does not exist: the column may not be used at all"
    kind = rule.kind
    if kind == PLAINTEXT:
        return ""
    if u.use == "join_key":
        return ""   # every rule allows the hidden-intersection join on its keys
    if kind == AFTER_JOIN:
        return "" if u.table in joined else (
            f"allows {u.use} only on rows restricted by a join with another table")
    if kind == AFTER_COMPARE:
        return "" if u.use in ("compare", "filter") else (
            f"allows only comparisons, not {u.use}")
    if kind == AFTER_AGGREGATE:
        if rule.dp_epsilon is not None:
            if u.use != "aggregate" or u.function not in DP_AGGREGATES:
                return ("marks the column for differential privacy: only SUM, COUNT, AVG "
                        f"(noised) are allowed, not {u.function or u.use}")
            return ""
        if u.use == "filter":
            return ""
        if u.use != "aggregate":
            return f"allows only aggregates, not {u.use}"
        if u.function not in rule.aggregates:
            return (f"does not allow {u.function.upper()} (allowed: "
                    f"{', '.join(a.upper() for a in rule.aggregates)})")
        return ""
    return f"allows only a join key, not {u.use}"    # encrypted_only


_AGG_NAMES = {exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg", exp.Min: "min",
              exp.Max: "max", exp.PercentileCont: "percentile", exp.PercentileDisc: "percentile",
              exp.Median: "percentile", exp.Quantile: "percentile",
              exp.ApproxQuantile: "percentile"}
_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between,
                exp.Like, exp.ILike, exp.Is, exp.NullSafeEQ, exp.NullSafeNEQ)


class _Classifier:
    """One walk over a single SELECT: the column uses and the tables restricted by a join."""

    def __init__(self, tree: exp.Expression, policies: Mapping[str, list[str]]) -> None:
        if not isinstance(tree, exp.Select):
            raise PolicyRefused([f"only a single SELECT can be checked, not {tree.key.upper()}"])
        nested = [n for n in tree.find_all(exp.Subquery, exp.With, exp.Union, exp.Intersect,
                                           exp.Except) if n is not tree]
        nested += [n for n in tree.find_all(exp.Select) if n is not tree]
        if nested:
            raise PolicyRefused([f"{nested[0].key.upper()} (subqueries, CTEs and set operations)"
                                 " cannot be checked against column policies"])
        self.tree, self.policies = tree, policies
        self.alias: dict[str, str] = {}
        self.uses: list[ColumnUse] = []
        self.errors: list[str] = []
        self.agg_conditions: list[str] = []
        self.select_aliases = {e.alias for e in tree.expressions if isinstance(e, exp.Alias)}
        self.aggregated = bool(tree.args.get("group")) or any(
            _is_aggregate(n) for e in tree.expressions for n in e.find_all(exp.AggFunc))

    def run(self) -> tuple[list[ColumnUse], set[str]]:
        t = self.tree
        froms = [t.args["from_"].this] if t.args.get("from_") else []
        joins = t.args.get("joins") or []
        for node in froms + [j.this for j in joins]:
            if not isinstance(node, exp.Table):
                self.errors.append(f"FROM item {node.sql()} is not a table")
                continue
            self.alias[node.alias_or_name] = node.name
            if node.name not in self.policies:
                self.errors.append(f"table {node.name!r} has no column policy: it may not be "
                                   "queried")
        joined: set[str] = set()
        row_use = "filter" if self.aggregated else "compare"
        left = [self.alias.get(n.alias_or_name, n.name) for n in froms if isinstance(n, exp.Table)]
        for j in joins:
            right = self.alias.get(j.this.alias_or_name, j.this.name)
            keyed = self._join(j, row_use)
            side, kind = (j.args.get("side") or "").upper(), (j.args.get("kind") or "").upper()
            if keyed and kind != "CROSS" and side != "FULL":
                if side in ("", "INNER", "LEFT"):       # the right table's rows all matched
                    joined.add(right)
                if side in ("", "INNER", "RIGHT"):      # the left tables' rows all matched
                    joined.update(left)
            left.append(right)
        for e in t.expressions:
            self._walk(e, "output", "SELECT")
        if t.args.get("where"):
            self._walk(t.args["where"].this, row_use, "WHERE")
        for g in (t.args["group"].expressions if t.args.get("group") else []):
            self._walk(g, "group_key", "GROUP BY")
        if t.args.get("having"):
            self._walk(t.args["having"].this, "compare", "HAVING")
        for o in (t.args["order"].expressions if t.args.get("order") else []):
            self._walk(o.this if isinstance(o, exp.Ordered) else o, "order", "ORDER BY")
        if self.errors:
            raise PolicyRefused(self.errors)
        return self.uses, joined

    def _join(self, j: exp.Join, row_use: str) -> bool:
        """Record a join's key and condition uses; True if it has a key equality."""
        keyed = False
        for ident in j.args.get("using") or []:
            keyed = True
            for table in self.alias.values():
                if ident.name in self.policies.get(table, {}):
                    self.uses.append(ColumnUse(table, ident.name, "join_key", where="JOIN"))
        on = j.args.get("on")
        for part in (on.flatten() if isinstance(on, exp.And) else [on] if on else []):
            if (isinstance(part, exp.EQ) and isinstance(part.this, exp.Column)
                    and isinstance(part.expression, exp.Column)):
                a, b = self._resolve(part.this), self._resolve(part.expression)
                if a and b and a[0] != b[0]:
                    keyed = True
                    self.uses += [ColumnUse(*a, "join_key", where="JOIN"),
                                  ColumnUse(*b, "join_key", where="JOIN")]
                    continue
            self._walk(part, row_use, "JOIN ON")
        return keyed

    def _walk(self, node: exp.Expression, use: str, where: str, fn: str = "") -> None:
        if isinstance(node, exp.Star):
            if use == "output":
                for table in dict.fromkeys(self.alias.values()):
                    for col in self.policies.get(table, {}):
                        self.uses.append(ColumnUse(table, col, use, fn, where))
            return
        if isinstance(node, exp.Column):
            if isinstance(node.this, exp.Star):     # t.*
                table = self.alias.get(node.table, node.table)
                for col in self.policies.get(table, {}) if use == "output" else ():
                    self.uses.append(ColumnUse(table, col, use, fn, where))
                return
            if not node.table and node.name in self.select_aliases and where != "SELECT":
                return   # an alias of a SELECT item, checked there
            hit = self._resolve(node)
            if hit:
                self.uses.append(ColumnUse(*hit, use, fn, where))
            return
        if isinstance(node, exp.Window):
            for p in node.args.get("partition_by") or []:
                self._walk(p, "group_key", where + " PARTITION BY")
            order = node.args.get("order")
            for o in (order.expressions if order else []):
                self._walk(o.this if isinstance(o, exp.Ordered) else o, "order",
                           where + " window ORDER BY")
            inner = node.this
            for arg in inner.args.values() if isinstance(inner, exp.Expression) else []:
                for a in arg if isinstance(arg, list) else [arg]:
                    if isinstance(a, exp.Expression):
                        self._walk(a, "output", where + " window")
            return
        if isinstance(node, exp.WithinGroup):   # PERCENTILE_CONT(q) WITHIN GROUP (ORDER BY x)
            order = node.expression
            for o in (order.expressions if isinstance(order, exp.Order) else [order]):
                self._walk(o.this if isinstance(o, exp.Ordered) else o, "aggregate", where,
                           "percentile")
            return
        if _is_aggregate(node):
            name = _AGG_NAMES.get(type(node))
            if name is None:
                self.errors.append(f"aggregate {node.sql()} is not supported by column policies")
                return
            inner = node.this
            if name == "count" and isinstance(inner, exp.Distinct):
                name = "count_distinct"
            for arg in node.args.values():            # the value, and any other argument
                for a in arg if isinstance(arg, list) else [arg]:
                    if isinstance(a, exp.Expression):
                        self._walk(a, "aggregate", where, name)
            return
        if use == "aggregate" and isinstance(node, exp.If):   # CASE WHEN inside an aggregate
            self.agg_conditions.append(node.this.sql())
            self._walk(node.this, "filter", where, fn)
            self._walk(node.args["true"], use, where, fn)
            return
        if isinstance(node, exp.Case):
            cond_use = "filter" if use in ("aggregate", "filter") else "compare"
            if use == "aggregate":
                self.agg_conditions += [b.this.sql() for b in node.args.get("ifs") or []]
            for branch in node.args.get("ifs") or []:
                self._walk(branch.this, cond_use, where + " CASE WHEN")
                self._walk(branch.args["true"], use, where, fn)
            if node.args.get("default") is not None:
                self._walk(node.args["default"], use, where, fn)
            if node.this is not None:                 # CASE x WHEN ...: a comparison on x
                self._walk(node.this, cond_use, where + " CASE")
            return
        if isinstance(node, _COMPARISONS) and use in ("output", "order", "group_key"):
            use = "compare"
        elif isinstance(node, _COMPARISONS) and use == "aggregate":
            use = "filter"
        for child in node.iter_expressions():
            self._walk(child, use, where, fn)

    def _resolve(self, col: exp.Column) -> tuple[str, str] | None:
        name = col.name
        if col.table:
            table = self.alias.get(col.table)
            if table is None:
                self.errors.append(f"column {col.sql()}: no table {col.table!r} in FROM/JOIN")
                return None
            return table, name
        owners = [t for t in dict.fromkeys(self.alias.values()) if name in self.policies.get(t, {})]
        if len(owners) == 1:
            return owners[0], name
        if not owners:
            tables = ", ".join(dict.fromkeys(self.alias.values()))
            self.errors.append(f"column {name!r} has no rule in any table of the query ({tables}):"
                               " the column may not be used")
        else:
            self.errors.append(f"column {name!r} is ambiguous ({', '.join(owners)}): qualify it")
        return None


def _is_aggregate(node: exp.Expression) -> bool:
    return isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Window)
