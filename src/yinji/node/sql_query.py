"""SQL datasets defined by a query (`table: SELECT ... FROM ... WHERE ...`) rather than a
whole table: the bank's data team names the rows and columns a dataset is, in the source's
own SQL, without a view in their database.

Why it is safe to accept a query from whoever may register a dataset: the query is run only
as a sub-select (`SELECT cols FROM (<query>) AS yinji_q`), which no database accepts for a
statement that writes (DROP, UPDATE, ...); it must be one statement (no ';'); and it runs in
a read-only transaction that is rolled back (SQLite `PRAGMA query_only`, PostgreSQL `SET
TRANSACTION READ ONLY`). It reaches only the listed `sql_sources` like a table dataset, so it
reads nothing a table dataset of the same source could not name. Every read runs the query
again (nothing cheap tells that its rows are unchanged), like a table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

QUERY = re.compile(r"^\s*(select|with)\b", re.IGNORECASE)
MAX_QUERY = 20_000


def is_query(table: str | None) -> bool:
    return bool(table) and bool(QUERY.match(table or ""))


def problem(query: str) -> str | None:
    """Why `query` cannot define a dataset, or None."""
    if len(query) > MAX_QUERY:
        return f"a dataset query may have at most {MAX_QUERY} characters"
    if ";" in query:
        return "a dataset query is one SELECT statement, without ';'"
    return None


@contextmanager
def read_only(engine: Any) -> Iterator[Any]:
    """A connection in a read-only transaction, rolled back at the end."""
    with engine.connect() as conn:
        name = engine.dialect.name
        if name == "sqlite":
            conn.exec_driver_sql("PRAGMA query_only = ON")
        elif name == "postgresql":
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        try:
            yield conn
        finally:
            conn.rollback()


def _wrapped(engine: Any, query: str, what: str) -> str:
    return f"SELECT {what} FROM ({query}) AS yinji_q"


def columns(engine: Any, query: str) -> list[str]:
    with read_only(engine) as conn:
        return list(conn.exec_driver_sql(_wrapped(engine, query, "*") + " WHERE 1 = 0").keys())


def count(engine: Any, query: str) -> int:
    with read_only(engine) as conn:
        return int(conn.exec_driver_sql(_wrapped(engine, query, "COUNT(*)")).scalar_one())


def read(engine: Any, query: str, names: list[str]) -> dict[str, list[Any]]:
    quote = engine.dialect.identifier_preparer.quote
    with read_only(engine) as conn:
        rows = conn.exec_driver_sql(
            _wrapped(engine, query, ", ".join(quote(c) for c in names))).all()
    return {c: [r[i] for r in rows] for i, c in enumerate(names)}


def read_chunks(engine: Any, query: str, names: list[str], chunk_rows: int
                ) -> Iterator[list[list[Any]]]:
    """`read` in chunks of at most `chunk_rows` rows, from a server-side cursor (the same
    read-only transaction and sub-select), so a large result is never held whole."""
    quote = engine.dialect.identifier_preparer.quote
    with read_only(engine) as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows) \
            .exec_driver_sql(_wrapped(engine, query, ", ".join(quote(c) for c in names)))
        for part in result.partitions(chunk_rows):
            yield [list(r) for r in part]


__all__ = ["MAX_QUERY", "columns", "count", "is_query", "problem", "read", "read_chunks",
           "read_only"]
