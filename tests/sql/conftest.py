"""Helpers for the secure SQL tests: run a query in MPC (three parties in one process, or
three compute parties plus an input party) and the same query in DuckDB on the same data."""

from __future__ import annotations

import datetime
import math
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

from yinji.mpc.session import Session
from yinji.sql import Column, Table, execute, take_part
from yinji.testing.parties import run_parties

NAMES = ["P0", "P1", "P2"]


def make_table(name: str, owner: str, columns: list[Column], data: dict[str, list],
               key: str | None = None) -> Table:
    rows = len(next(iter(data.values()))) if data else 0
    return Table(name, owner, columns, rows, key, data)


def run_sql(sql: str, tables: list[Table], recipient: str = "P0", *, input_party: str | None = None,
            record: str | None = None, **kw: Any):
    """The recipient's SqlResult (and, with `record`, what that party received)."""
    names = NAMES + ([input_party] if input_party else [])
    views: dict[str, list] = {}

    def mine(who: str) -> dict[str, Table]:
        return {t.name: own_part(t, who) for t in tables}

    def body(party):  # type: ignore[no-untyped-def]
        if record == party.name:
            from yinji.testing.parties import record_received
            views[party.name] = record_received(party)
        if party.name not in NAMES:
            return take_part(party, NAMES, sql, mine(party.name), recipient=recipient,
                             history=kw.get("history", ()))
        s = Session(party, NAMES)
        return execute(sql, mine(party.name), s, recipient=recipient, **kw)

    out = run_parties(body, names=names, timeout=120)
    res = out[names.index(recipient)]
    return (res, views.get(record)) if record else res


def own_part(t: Table, who: str) -> Table:
    """The table as company `who` sees it: its own rows' data, or the schema only."""
    if not t.parts:
        return t if t.owner == who else t.schema_only()
    start = 0
    for owner, rows in t.parts:
        if owner == who:
            data = {k: list(v)[start:start + rows] for k, v in t.data.items()}
            return Table(t.name, t.owner, t.columns, t.rows, None, data, parts=t.parts)
        start += rows
    return t.schema_only()


def duck(sql: str, tables: list[Table]) -> list[tuple]:
    con = duckdb.connect()
    for t in tables:
        df = {}
        for c in t.columns:
            vals = list(t.data[c.name])
            if c.kind == "date":
                df[c.name] = pd.Series(pd.to_datetime(vals), dtype="datetime64[ns]").dt.date
            elif c.kind == "decimal":
                df[c.name] = pd.Series([None if v is None else float(v) for v in vals], dtype="float64")
            elif c.kind == "int":
                df[c.name] = pd.Series(vals, dtype="Int64")
            else:
                df[c.name] = pd.Series(vals, dtype="object")
        frame = pd.DataFrame(df)
        con.register(f"_{t.name}", frame)
        casts = ", ".join(f"CAST({c.name} AS DATE) AS {c.name}" if c.kind == "date" else c.name
                          for c in t.columns)
        con.execute(f"CREATE TABLE {t.name} AS SELECT {casts} FROM _{t.name}")
    return [tuple(_plain(v) for v in row) for row in con.execute(sql).fetchall()]


def _plain(v: Any) -> Any:
    if isinstance(v, datetime.datetime):
        return v.date()
    if hasattr(v, "item") and not isinstance(v, (datetime.date, str)):
        return v.item()
    if isinstance(v, float) and math.isinf(v):
        return None
    return v


def same(a: Any, b: Any, rel: float = 2e-3, abs_: float = 0.05) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(a, (float, int)) and isinstance(b, (float, int)) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)
    return a == b


def assert_rows(got: list[tuple], want: list[tuple], ordered: bool = False) -> None:
    assert len(got) == len(want), f"{len(got)} rows, DuckDB {len(want)}:\n{got}\n{want}"
    if not ordered:
        key = lambda r: tuple((x is None, str(type(x)), x if not isinstance(x, float) else round(x, 1))  # noqa: E731
                              for x in r)
        got, want = sorted(got, key=key), sorted(want, key=key)
    for g, w in zip(got, want, strict=True):
        assert len(g) == len(w) and all(same(x, y) for x, y in zip(g, w, strict=True)), \
            f"row {g} != DuckDB {w}\nall: {got}\nvs {want}"


def check(sql: str, tables: list[Table], ordered: bool = False, **kw: Any):
    res = run_sql(sql, tables, **kw)
    assert_rows(res.rows, duck(sql, tables), ordered=ordered)
    return res


REGIONS = ("north", "south", "east", "west")


def random_tables(rng: np.random.Generator, n: int = 40, m: int = 25, nulls: bool = True) -> list[Table]:
    """clients (at P0, unique key cid) and holdings (at P1, many rows per client)."""
    def maybe(vals: list, p: float = 0.15) -> list:
        return [None if nulls and rng.random() < p else v for v in vals]

    cid = rng.permutation(np.arange(100, 100 + 3 * m))[:m].tolist()
    clients = make_table("clients", "P0", [
        Column("cid", "int"), Column("region", "category", nullable=nulls, categories=REGIONS),
        Column("age", "int", nullable=nulls), Column("name", "string"),
        Column("opened", "date", nullable=nulls)], {
        "cid": cid,
        "region": maybe([REGIONS[i] for i in rng.integers(0, 4, m)]),
        "age": maybe(rng.integers(18, 90, m).tolist()),
        "name": [f"c{i % 7}" for i in range(m)],
        "opened": maybe([str(np.datetime64("2019-01-01") + int(d)) for d in rng.integers(0, 2000, m)]),
    }, key="cid")
    pool = cid + [999, 998]  # some holdings of unknown clients
    holdings = make_table("holdings", "P1", [
        Column("cid", "int"), Column("product", "category", categories=("stock", "bond", "fund")),
        Column("amount", "decimal", nullable=nulls), Column("qty", "int"),
        Column("day", "date")], {
        "cid": [int(pool[i]) for i in rng.integers(0, len(pool), n)],
        "product": [("stock", "bond", "fund")[i] for i in rng.integers(0, 3, n)],
        "amount": maybe(np.round(rng.normal(500, 800, n), 2).tolist()),
        "qty": rng.integers(-5, 50, n).tolist(),
        "day": [str(np.datetime64("2023-06-01") + int(d)) for d in rng.integers(0, 400, n)],
    })
    return [clients, holdings]


@pytest.fixture
def tables() -> list[Table]:
    return random_tables(np.random.default_rng(19))
