"""Which output cells of a query get differential-privacy noise: the plan the engine's
`execute(..., noise=...)` takes, built from the owners' DP-marked columns (the policy
report's `dp`, yinji.sql.policy.DpAggregate).

A select item whose aggregate touches a DP-marked column must BE that aggregate (SUM, COUNT
or AVG of an expression using one marked column, optionally aliased): the engine noises the
aggregate cell itself, so `SUM(v) * 2` or `SUM(v) / COUNT(*)` would have to be computed from
the noised value -- refused here (write the arithmetic on the result). HAVING and ORDER BY may
use a noised aggregate of the select list (they see the noised value: post-processing); any
other marked aggregate there would act on exact values and is refused.

The plan also fixes the epsilon each dataset spends: one entry per distinct noised aggregate
(`spend`), so two spellings of an aggregate cost twice, and one aggregate repeated in
HAVING/ORDER BY costs once (the engine reuses the same noised cells).

Not a protocol (local planning on the public query and the owners' public DP rules, no
messages): the adversary model and what each party learns of the noise are yinji.sql.dp's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from yinji.sql.parse import AGGREGATES, Query, is_select_alias, resolve
from yinji.sql.schema import SqlError

DP_FUNCTIONS = {exp.Sum: "sum", exp.Count: "count", exp.Avg: "avg"}


@dataclass(frozen=True)
class NoiseSpec:
    """Noise for one aggregate output column: `function` sum|count|avg, total `epsilon` (AVG
    splits it between its noised SUM and COUNT), `bounds` the clip of each row's value,
    `dataset` the table whose budget pays."""

    function: str
    epsilon: float
    bounds: tuple[float, float]
    dataset: str

    def __post_init__(self) -> None:
        if self.function not in ("sum", "count", "avg"):
            raise SqlError(f"noise for {self.function.upper()} is not supported (SUM, COUNT, AVG)")
        if not self.epsilon > 0:
            raise SqlError(f"noise needs a positive epsilon, got {self.epsilon!r}")
        lo, hi = self.bounds
        if not lo <= hi:
            raise SqlError(f"noise bounds must have low <= high, got {list(self.bounds)}")


def marked_columns(dp: Iterable[Any]) -> dict[tuple[str, str], tuple[float, tuple[float, float]]]:
    """(table, column) -> (epsilon, bounds) from DpAggregate-like records (also dicts); the
    holders of one table must agree on each column's rule."""
    out: dict[tuple[str, str], tuple[float, tuple[float, float]]] = {}
    for d in dp:
        get = d.get if isinstance(d, Mapping) else lambda k, d=d: getattr(d, k)
        key = (get("table"), get("column"))
        rule = (float(get("epsilon")), (float(get("bounds")[0]), float(get("bounds")[1])))
        if out.setdefault(key, rule) != rule:
            raise SqlError(f"the holders of {key[0]!r} mark {key[0]}.{key[1]} with different DP "
                           f"rules ({_show(out[key])} vs {_show(rule)}): they must agree")
    return out


def plan(q: Query, marked: Mapping[tuple[str, str], tuple[float, tuple[float, float]]]
         ) -> dict[int, NoiseSpec]:
    """Select index -> NoiseSpec for every aggregate touching a marked column; SqlError
    naming any use that cannot be noised."""
    if not marked:
        return {}
    out: dict[int, NoiseSpec] = {}
    noised: set[str] = set()
    for i, (e, name) in enumerate(q.select):
        for agg in _aggregates(e):
            hit = _marked_in(q, agg, marked)
            if hit is None:
                continue
            fn = DP_FUNCTIONS.get(type(agg))
            if fn is None or isinstance(agg.this, exp.Distinct):
                raise SqlError(f"{agg.sql()} uses DP-marked column {hit[0]}.{hit[1]}: only SUM, "
                               "COUNT and AVG can be noised")
            if agg is not e:
                raise SqlError(f"select item {name!r} ({e.sql()}) computes on the DP-marked "
                               f"aggregate {agg.sql()}: select the aggregate alone and compute "
                               "on the noised result")
            eps, bounds = marked[hit]
            out[i] = NoiseSpec(fn, eps, bounds, hit[0])
            noised.add(agg.sql().lower())
    later = ([q.having] if q.having is not None else []) + [o.this for o in q.order]
    for clause in later:
        for agg in _aggregates(clause):
            hit = _marked_in(q, agg, marked)
            if hit is not None and agg.sql().lower() not in noised:
                raise SqlError(f"{agg.sql()} in HAVING/ORDER BY uses DP-marked column "
                               f"{hit[0]}.{hit[1]} but is not a noised select item: select it")
    return out


def spend(noise: Mapping[int, NoiseSpec], q: Query) -> dict[str, float]:
    """Epsilon per dataset: once per distinct noised aggregate (sequential composition; the
    cells of one GROUP BY are disjoint, so an aggregate costs its epsilon once)."""
    seen: dict[str, NoiseSpec] = {}
    for i, ns in noise.items():
        seen.setdefault(q.select[i][0].sql().lower(), ns)
    total: dict[str, float] = {}
    for ns in seen.values():
        total[ns.dataset] = total.get(ns.dataset, 0.0) + ns.epsilon
    return total


def _aggregates(e: exp.Expression) -> list[exp.Expression]:
    return [a for a in e.find_all(*AGGREGATES) if not isinstance(a.parent, exp.Window)]


def _marked_in(q: Query, agg: exp.Expression, marked: Mapping) -> tuple[str, str] | None:
    hits = set()
    for col in agg.find_all(exp.Column):
        if is_select_alias(q, col):
            continue
        alias, c = resolve(q, col)
        key = (q.table(alias).name, c.name)
        if key in marked:
            hits.add(key)
    if len(hits) > 1:
        raise SqlError(f"{agg.sql()} combines several DP-marked columns "
                       f"({', '.join(f'{t}.{c}' for t, c in sorted(hits))}): noise one at a time")
    return hits.pop() if hits else None


def _show(rule: tuple[float, tuple[float, float]]) -> str:
    return f"epsilon {rule[0]:g} bounds {list(rule[1])}"


__all__ = ["NoiseSpec", "marked_columns", "plan", "spend"]
