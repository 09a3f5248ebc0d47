"""Released-aggregate ledger of one data owner's node: every aggregate cell released about its
data (the query set, as a SQL predicate over a context), and the differential-privacy budget
spent per dataset.

The differencing check (yinji.sql.isolation) needs the earlier query sets of the same context
(the normalised FROM/JOIN: `context_key`); the ledger keeps them across jobs, restarts and
analysts, so N vs N-1 split over two days or two analysts is still caught. A release and the
budget it spends are written in one transaction: either both are recorded or neither (a
refused spend records nothing), and concurrent jobs cannot together overspend (SQLite: BEGIN
IMMEDIATE; PostgreSQL: the budget rows are locked FOR UPDATE).

Order of use by the engine, per query: `history` (before the check) -> isolation check ->
`record(..., epsilon=...)` after the result is computed and BEFORE it is opened to the
recipient; if opening then fails, the release stays recorded (fails safe: budget counted,
never under-counted).

Adversary model: the ledger is this node's own metadata (like the job store): trusted by its
node, written only by the node process. It lists query predicates (which may name values an
analyst filtered on) but no data. Budgets: a dataset without a limit cannot spend at all
(fail closed); an owner sets the limit with `set_limit`.

Storage follows yinji.node.store: SQLAlchemy Core, SQLite by default (WAL, busy timeout) or a
PostgreSQL URL; tables `sql_releases`, `sql_budget`, `sql_spends` created on first use.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import sqlglot
from sqlalchemy.engine import Connection, Engine
from sqlglot import exp

metadata = sa.MetaData()
releases = sa.Table("sql_releases", metadata,
                    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                    sa.Column("context", sa.Text, nullable=False, index=True),
                    sa.Column("predicate", sa.Text, nullable=False),
                    sa.Column("datasets_json", sa.Text, nullable=False),
                    sa.Column("job_id", sa.String(64), nullable=False),
                    sa.Column("released_at", sa.Float, nullable=False))
budget = sa.Table("sql_budget", metadata,
                  sa.Column("dataset", sa.String(200), primary_key=True),
                  sa.Column("limit_epsilon", sa.Float, nullable=False),
                  sa.Column("spent", sa.Float, nullable=False, default=0.0))
spends = sa.Table("sql_spends", metadata,
                  sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
                  sa.Column("dataset", sa.String(200), nullable=False, index=True),
                  sa.Column("epsilon", sa.Float, nullable=False),
                  sa.Column("job_id", sa.String(64), nullable=False),
                  sa.Column("at", sa.Float, nullable=False))


class LedgerError(ValueError):
    """A release or spend the ledger refuses; nothing was recorded."""


class BudgetExhausted(LedgerError):
    pass


@dataclass(frozen=True)
class Budget:
    dataset: str
    limit: float
    spent: float

    @property
    def remaining(self) -> float:
        return max(0.0, self.limit - self.spent)


class Ledger:
    """One node's ledger; `where` is a SQLite file path or a SQLAlchemy URL. `max_cells` (per
    context, optional) caps how many cells a context may ever release: a blunt limit on the
    multi-query trackers the pairwise check cannot see."""

    def __init__(self, where: str | Path, *, max_cells: int | None = None) -> None:
        url = str(where) if "://" in str(where) else f"sqlite:///{Path(where)}"
        self.url, self.max_cells = url, max_cells
        self.engine = _engine(url)
        self.reader = _engine(url, immediate=False)   # reads take no write lock
        self.lock = threading.RLock()
        metadata.create_all(self.engine)

    def close(self) -> None:
        self.engine.dispose()
        self.reader.dispose()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self.lock, self.engine.begin() as conn:
            yield conn

    # -- query sets -------------------------------------------------------------------------
    def history(self, context: str) -> list[str]:
        """The predicates of every cell released on `context`, oldest first, no duplicates."""
        with self.reader.connect() as conn:
            rows = conn.execute(sa.select(releases.c.predicate).where(
                releases.c.context == context).order_by(releases.c.id)).all()
        return list(dict.fromkeys(r[0] for r in rows))

    def record(self, context: str, predicates: Iterable[str], job: str, *,
               datasets: Iterable[str] = (), epsilon: Mapping[str, float] | None = None) -> None:
        """Record the released cells of one job, and spend `epsilon` (dataset -> epsilon)
        of each dataset's budget, in one transaction: all or nothing."""
        preds = list(predicates)
        if not context or not job:
            raise LedgerError("a release needs a context and a job id")
        if any(not isinstance(p, str) or not p.strip() for p in preds):
            raise LedgerError("every released cell needs a non-empty predicate")
        now = time.time()
        with self._tx() as conn:
            if self.max_cells is not None:
                have = conn.execute(sa.select(sa.func.count()).select_from(releases).where(
                    releases.c.context == context)).scalar() or 0
                if have + len(preds) > self.max_cells:
                    raise LedgerError(f"context {context!r} has released {have} cells; "
                                      f"{len(preds)} more would pass its limit {self.max_cells}")
            for dataset, eps in (epsilon or {}).items():
                self._spend(conn, dataset, eps, job, now)
            ds = json.dumps(sorted(set(datasets)))
            if preds:
                conn.execute(releases.insert(), [
                    {"context": context, "predicate": p, "datasets_json": ds, "job_id": job,
                     "released_at": now} for p in preds])

    # -- differential-privacy budget --------------------------------------------------------
    def set_limit(self, dataset: str, limit: float) -> None:
        """Set a dataset's total epsilon; lowering it below what is spent stops spending."""
        if not limit >= 0:
            raise LedgerError(f"a budget limit must be >= 0, got {limit!r}")
        with self._tx() as conn:
            if conn.execute(sa.select(budget.c.dataset).where(
                    budget.c.dataset == dataset)).first():
                conn.execute(budget.update().where(budget.c.dataset == dataset)
                             .values(limit_epsilon=float(limit)))
            else:
                conn.execute(budget.insert().values(dataset=dataset, limit_epsilon=float(limit),
                                                    spent=0.0))

    def budget(self, dataset: str) -> Budget | None:
        with self.reader.connect() as conn:
            row = conn.execute(sa.select(budget).where(budget.c.dataset == dataset)).first()
        return None if row is None else Budget(row.dataset, row.limit_epsilon, row.spent)

    def spend(self, dataset: str, epsilon: float, job: str = "") -> Budget:
        """Spend `epsilon` of `dataset`'s budget on its own (a release without cells)."""
        with self._tx() as conn:
            self._spend(conn, dataset, epsilon, job or "-", time.time())
        b = self.budget(dataset)
        assert b is not None
        return b

    def _spend(self, conn: Connection, dataset: str, epsilon: float, job: str,
               now: float) -> None:
        if not (isinstance(epsilon, (int, float)) and epsilon > 0):
            raise LedgerError(f"epsilon to spend on {dataset!r} must be positive, "
                              f"got {epsilon!r}")
        row = conn.execute(sa.select(budget).where(budget.c.dataset == dataset)
                           .with_for_update()).first()
        if row is None:
            raise BudgetExhausted(f"dataset {dataset!r} has no privacy budget: its owner must "
                                  "set one before noised aggregates are released")
        if row.spent + epsilon > row.limit_epsilon * (1 + 1e-12):
            raise BudgetExhausted(
                f"privacy budget of dataset {dataset!r} exhausted: spent {row.spent:g} of "
                f"{row.limit_epsilon:g}, this query needs {epsilon:g}")
        conn.execute(budget.update().where(budget.c.dataset == dataset)
                     .values(spent=row.spent + epsilon))
        conn.execute(spends.insert().values(dataset=dataset, epsilon=epsilon, job_id=job, at=now))


def context_key(query: str | exp.Expression, *, dialect: str | None = "duckdb") -> str:
    """A normalised string of a query's FROM/JOIN structure: aliases replaced by table
    names, identifiers lower-cased, one canonical spelling; equal for queries over the same
    joined rows however they are written (`FROM clients c` == `from CLIENTS`)."""
    tree = sqlglot.parse_one(query, read=dialect) if isinstance(query, str) else query.copy()
    if not isinstance(tree, exp.Select) or not tree.args.get("from_"):
        raise ValueError("a context needs a SELECT with FROM")
    items = [tree.args["from_"].this] + [j.this for j in tree.args.get("joins") or []]
    alias = {t.alias_or_name.lower(): t.name.lower() for t in items if isinstance(t, exp.Table)}
    shell = exp.Select(expressions=[exp.Star()], from_=tree.args["from_"].copy(),
                       joins=[j.copy() for j in tree.args.get("joins") or []])

    def canon(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Table):
            return exp.to_table(node.name.lower())
        if isinstance(node, exp.Column) and node.table:
            return exp.column(node.name.lower(), alias.get(node.table.lower(), node.table.lower()))
        if isinstance(node, exp.Identifier):
            return exp.to_identifier(node.name.lower())
        return node

    return shell.transform(canon).sql(normalize=True).removeprefix("SELECT * ")


def _engine(url: str, immediate: bool = True) -> Engine:
    if not url.startswith("sqlite"):
        if url.startswith(("postgresql://", "postgres://")):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return sa.create_engine(url, pool_pre_ping=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30,
                                                 "isolation_level": None})

    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    if immediate:
        @sa.event.listens_for(engine, "begin")
        def _immediate(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql("BEGIN IMMEDIATE")   # writers serialise across processes

    return engine
