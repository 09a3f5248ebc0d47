"""Node metadata store: API tokens, datasets, jobs, approvals, results index, the audit log,
anchored audit heads and standing approvals.

One SQLAlchemy Core schema for both backends: `SqliteStore` (default, a file in the node's
home) and `PostgresStore` (when `database_url` is a postgresql URL, driver psycopg 3).

Migrations: a small versioned list applied in order inside a transaction and recorded in
`schema_version`. Why not Alembic: the schema is owned by one node process, has one linear
history and must be created on first start without a migrations folder or CLI step; Alembic
would add an env.py, a script directory and a second configuration for the same result. When
branching histories or autogenerate are needed, the list below maps one-to-one onto Alembic
revisions.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData()

schema_version = sa.Table("schema_version", metadata,
                          sa.Column("version", sa.Integer, primary_key=True),
                          sa.Column("applied", sa.Float, nullable=False))
tokens = sa.Table("api_tokens", metadata,
                  sa.Column("id", sa.String(64), primary_key=True),
                  sa.Column("name", sa.String(200), nullable=False),
                  sa.Column("role", sa.String(20), nullable=False),
                  sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
                  sa.Column("created", sa.Float, nullable=False),
                  sa.Column("expires", sa.Float),       # v3: None = never
                  sa.Column("revoked", sa.Float),       # v3: when revoked, None = active
                  sa.Column("scopes", sa.Text))         # v7: JSON list (caller tokens), None
datasets = sa.Table("datasets", metadata,
                    sa.Column("id", sa.String(200), primary_key=True),
                    sa.Column("kind", sa.String(20), nullable=False),
                    sa.Column("location", sa.Text, nullable=False),
                    sa.Column("table_name", sa.String(200)),
                    sa.Column("schema_json", sa.Text, nullable=False),
                    sa.Column("policy_json", sa.Text, nullable=False),
                    sa.Column("created", sa.Float, nullable=False),
                    sa.Column("revision", sa.Integer, nullable=False, default=1),  # v3
                    sa.Column("updated", sa.Float))     # v3: last explicit update, None = never
jobs = sa.Table("jobs", metadata,
                sa.Column("id", sa.String(64), primary_key=True),
                sa.Column("proposer", sa.String(200), nullable=False),
                sa.Column("protocol", sa.String(100), nullable=False),
                sa.Column("spec_json", sa.Text, nullable=False),
                sa.Column("spec_hash", sa.String(64), nullable=False),
                sa.Column("state", sa.String(20), nullable=False),
                sa.Column("reason", sa.Text),
                sa.Column("progress", sa.Float, nullable=False, default=0.0),
                sa.Column("stage", sa.String(100), nullable=False, default=""),
                sa.Column("approvals_hash", sa.String(64)),
                sa.Column("created", sa.Float, nullable=False),
                sa.Column("updated", sa.Float, nullable=False))
approvals = sa.Table("approvals", metadata,
                     sa.Column("job_id", sa.String(64), primary_key=True),
                     sa.Column("node", sa.String(200), primary_key=True),
                     sa.Column("decision", sa.String(20), nullable=False),
                     sa.Column("record_json", sa.Text, nullable=False),
                     sa.Column("signature", sa.Text, nullable=False),
                     sa.Column("hash", sa.String(64), nullable=False))
results = sa.Table("results", metadata,
                   sa.Column("job_id", sa.String(64), primary_key=True),
                   sa.Column("result_json", sa.Text, nullable=False),
                   sa.Column("result_hash", sa.String(64), nullable=False),
                   sa.Column("created", sa.Float, nullable=False))
audit = sa.Table("audit", metadata,
                 sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
                 sa.Column("ts", sa.Float, nullable=False),
                 sa.Column("kind", sa.String(60), nullable=False),
                 sa.Column("actor", sa.String(200), nullable=False),
                 sa.Column("data_json", sa.Text, nullable=False),
                 sa.Column("prev_hash", sa.String(64), nullable=False),
                 sa.Column("hash", sa.String(64), nullable=False),
                 sa.Column("signature", sa.Text, nullable=False))
audit_head = sa.Table("audit_head", metadata,
                      sa.Column("id", sa.Integer, primary_key=True),
                      sa.Column("seq", sa.Integer, nullable=False),
                      sa.Column("hash", sa.String(64), nullable=False),
                      sa.Column("signature", sa.Text, nullable=False))

# Anchored audit heads (yinji.node.anchors), one row per (node, witness, seq): heads of peers
# this node witnesses (witness = this node) and the receipts this node holds for its own heads
# (node = this node). `anchored` is the witness's clock when it last accepted that head.
audit_anchors = sa.Table("audit_anchors", metadata,
                         sa.Column("node", sa.String(200), primary_key=True),
                         sa.Column("witness", sa.String(200), primary_key=True),
                         sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
                         sa.Column("hash", sa.String(64), nullable=False),
                         sa.Column("node_signature", sa.Text, nullable=False),
                         sa.Column("witness_signature", sa.Text, nullable=False),
                         sa.Column("anchored", sa.Float, nullable=False))

# PIR services added at run time (REST / CLI; yinji.node.pir_services): the service's
# PirServiceConfig as JSON. node.yaml's `pir` entries stay in node.yaml.
pir_services = sa.Table("pir_services", metadata,
                        sa.Column("id", sa.String(200), primary_key=True),
                        sa.Column("config_json", sa.Text, nullable=False),
                        sa.Column("by", sa.String(200), nullable=False),
                        sa.Column("created", sa.Float, nullable=False))

V1_TABLES = [tokens, datasets, jobs, approvals, results, audit, audit_head]

# Published scenario APIs (yinji.node.scenarios), at the publisher and at every participant:
# the definition as published, its state (proposed | active | rejected | retired | failed),
# each participant's decision (at the publisher) and this node's standing approval for it.
scenarios = sa.Table("scenarios", metadata,
                     sa.Column("publisher", sa.String(200), primary_key=True),
                     sa.Column("name", sa.String(100), primary_key=True),
                     sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
                     sa.Column("definition_json", sa.Text, nullable=False),
                     sa.Column("def_hash", sa.String(64), nullable=False),
                     sa.Column("state", sa.String(20), nullable=False),
                     sa.Column("reason", sa.Text),
                     sa.Column("decisions_json", sa.Text, nullable=False),
                     sa.Column("rule_id", sa.String(64)),
                     sa.Column("created", sa.Float, nullable=False),
                     sa.Column("updated", sa.Float, nullable=False))
# Calls of this node's scenario APIs that started a job (quota counting and the call list;
# the signed record of every call, refused ones included, is the audit log).
scenario_calls = sa.Table("scenario_calls", metadata,
                          sa.Column("call_id", sa.String(64), primary_key=True),
                          sa.Column("name", sa.String(100), nullable=False),
                          sa.Column("version", sa.Integer, nullable=False),
                          sa.Column("caller", sa.String(200), nullable=False),
                          sa.Column("ts", sa.Float, nullable=False),
                          sa.Column("job_id", sa.String(64)),
                          sa.Column("status", sa.Integer, nullable=False, default=0))

# Standing approvals (yinji.node.standing): rules a person with the approver role set, applied
# to matching proposals until revoked or expired. A revoked rule stays, for the record.
standing_approvals = sa.Table("standing_approvals", metadata,
                              sa.Column("id", sa.String(64), primary_key=True),
                              sa.Column("rule_json", sa.Text, nullable=False),
                              sa.Column("created_by", sa.String(200), nullable=False),
                              sa.Column("created", sa.Float, nullable=False),
                              sa.Column("expires", sa.Float),      # None = never
                              sa.Column("revoked", sa.Float),      # None = in force
                              sa.Column("revoked_by", sa.String(200)))


def _v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=V1_TABLES)


def _v2(conn: Connection) -> None:
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_jobs_state ON jobs (state)"))


def _v3_tokens_datasets(conn: Connection) -> None:
    """Token expiry and revocation; dataset revision and update time. Idempotent (v1 creates
    the tables from the current definitions), so its number may change in a merge."""
    inspector = sa.inspect(conn)
    for table, column, ddl in (("api_tokens", "expires", "FLOAT"),
                               ("api_tokens", "revoked", "FLOAT"),
                               ("datasets", "revision", "INTEGER NOT NULL DEFAULT 1"),
                               ("datasets", "updated", "FLOAT")):
        if column not in {c["name"] for c in inspector.get_columns(table)}:
            conn.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {column} {ddl}"))


def _v5_standing(conn: Connection) -> None:
    """(Defined before v4's function only to keep merges with other branches clean.)"""
    metadata.create_all(conn, tables=[standing_approvals])


def _v4_anchors(conn: Connection) -> None:
    metadata.create_all(conn, tables=[audit_anchors])


def _v6_pir_services(conn: Connection) -> None:
    """Runtime PIR services. Numbered 6 because wt-governance adds v5 (standing approvals);
    idempotent, so the lead may renumber it at merge."""
    metadata.create_all(conn, tables=[pir_services])


def _v7_scenarios(conn: Connection) -> None:
    """Scenario APIs: caller tokens' scopes, published scenarios, their calls. Idempotent, so
    the lead may renumber it at merge."""
    if "scopes" not in {c["name"] for c in sa.inspect(conn).get_columns("api_tokens")}:
        conn.execute(sa.text("ALTER TABLE api_tokens ADD COLUMN scopes TEXT"))
    metadata.create_all(conn, tables=[scenarios, scenario_calls])
    conn.execute(sa.text("CREATE INDEX IF NOT EXISTS ix_scenario_calls_caller "
                         "ON scenario_calls (caller, name, version, ts)"))


MIGRATIONS: list[tuple[int, Callable[[Connection], None]]] = [
    (1, _v1), (2, _v2), (3, _v3_tokens_datasets), (4, _v4_anchors), (5, _v5_standing),
    (6, _v6_pir_services), (7, _v7_scenarios)]


class Store:
    """The metadata store interface and its SQLAlchemy implementation; subclasses choose the
    engine. Writes are serialised by a lock (one node process owns its store)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = self._make_engine(url)
        self.lock = threading.RLock()
        self.migrate()

    def _make_engine(self, url: str) -> Engine:
        return sa.create_engine(url)

    def close(self) -> None:
        self.engine.dispose()

    # -- migrations -------------------------------------------------------------------------
    def migrate(self) -> int:
        with self.lock, self.engine.begin() as conn:
            metadata.create_all(conn, tables=[schema_version])
            done = {r[0] for r in conn.execute(sa.select(schema_version.c.version))}
            for version, step in MIGRATIONS:
                if version not in done:
                    step(conn)
                    conn.execute(schema_version.insert().values(version=version,
                                                                applied=time.time()))
            return max([v for v, _ in MIGRATIONS])

    def version(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.max(schema_version.c.version))).scalar() or 0

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self.lock, self.engine.begin() as conn:
            yield conn

    def read(self, stmt: Any) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt)]

    # -- runtime PIR services ------------------------------------------------------------------
    def put_pir_service(self, service_id: str, config: dict[str, Any], by: str) -> bool:
        """Insert a service's config; False if the id is taken."""
        with self.write() as conn:
            if conn.execute(sa.select(pir_services.c.id)
                            .where(pir_services.c.id == service_id)).first():
                return False
            conn.execute(pir_services.insert().values(
                id=service_id, config_json=json.dumps(config, sort_keys=True), by=by,
                created=time.time()))
            return True

    def delete_pir_service(self, service_id: str) -> bool:
        with self.write() as conn:
            return conn.execute(pir_services.delete().where(
                pir_services.c.id == service_id)).rowcount > 0

    def pir_services(self) -> dict[str, dict[str, Any]]:
        rows = self.read(sa.select(pir_services).order_by(pir_services.c.id))
        return {r["id"]: json.loads(r["config_json"]) for r in rows}

    # -- tokens -----------------------------------------------------------------------------
    def add_token(self, token_id: str, name: str, role: str, token_hash: str,
                  expires: float | None = None, scopes: list[str] | None = None) -> None:
        with self.write() as conn:
            conn.execute(tokens.insert().values(id=token_id, name=name, role=role,
                                                token_hash=token_hash, created=time.time(),
                                                expires=expires,
                                                scopes=None if scopes is None
                                                else json.dumps(scopes)))

    def token_by_hash(self, token_hash: str) -> dict[str, Any] | None:
        rows = self.read(sa.select(tokens).where(tokens.c.token_hash == token_hash))
        return rows[0] if rows else None

    def list_tokens(self) -> list[dict[str, Any]]:
        """Every token without its hash, oldest first."""
        return self.read(sa.select(tokens.c.id, tokens.c.name, tokens.c.role, tokens.c.created,
                                   tokens.c.expires, tokens.c.revoked, tokens.c.scopes)
                         .order_by(tokens.c.created, tokens.c.id))

    def set_token_revoked(self, token_id: str, revoked: float | None) -> bool:
        with self.write() as conn:
            return conn.execute(tokens.update().where(tokens.c.id == token_id)
                                .values(revoked=revoked)).rowcount == 1

    def delete_token(self, token_id: str) -> None:
        with self.write() as conn:
            conn.execute(tokens.delete().where(tokens.c.id == token_id))

    # -- datasets ---------------------------------------------------------------------------
    def insert_dataset(self, row: dict[str, Any]) -> bool:
        """Insert a dataset unless one with this id exists; True if inserted (never replaces)."""
        with self.write() as conn:
            if conn.execute(sa.select(datasets.c.id).where(datasets.c.id == row["id"])).first():
                return False
            conn.execute(datasets.insert().values(**{"created": time.time(), "revision": 1,
                                                     **row}))
            return True

    def update_dataset(self, row: dict[str, Any]) -> bool:
        """Overwrite an existing dataset's columns given in `row` (id required); True if found."""
        with self.write() as conn:
            return conn.execute(datasets.update().where(datasets.c.id == row["id"])
                                .values(**row)).rowcount == 1

    def delete_dataset(self, dataset_id: str) -> None:
        with self.write() as conn:
            conn.execute(datasets.delete().where(datasets.c.id == dataset_id))

    def dataset(self, dataset_id: str) -> dict[str, Any] | None:
        rows = self.read(sa.select(datasets).where(datasets.c.id == dataset_id))
        return rows[0] if rows else None

    def list_datasets(self) -> list[dict[str, Any]]:
        return self.read(sa.select(datasets).order_by(datasets.c.id))

    # -- jobs -------------------------------------------------------------------------------
    def insert_job(self, row: dict[str, Any]) -> bool:
        """Insert a job unless one with this id exists; True if inserted."""
        with self.write() as conn:
            if conn.execute(sa.select(jobs.c.id).where(jobs.c.id == row["id"])).first():
                return False
            now = time.time()
            conn.execute(jobs.insert().values(created=now, updated=now, progress=0.0,
                                              stage="", **row))
            return True

    def job(self, job_id: str) -> dict[str, Any] | None:
        rows = self.read(sa.select(jobs).where(jobs.c.id == job_id))
        return rows[0] if rows else None

    def list_jobs(self, state: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        q = sa.select(jobs).order_by(jobs.c.created.desc()).limit(limit)
        if state:
            q = q.where(jobs.c.state == state)
        return self.read(q)

    def transition(self, job_id: str, new: str, allowed_from: tuple[str, ...],
                   **fields: Any) -> bool:
        """Atomically move a job to `new` if it is in one of `allowed_from`."""
        with self.write() as conn:
            res = conn.execute(jobs.update()
                               .where(jobs.c.id == job_id, jobs.c.state.in_(allowed_from))
                               .values(state=new, updated=time.time(), **fields))
            return res.rowcount == 1

    def set_progress(self, job_id: str, progress: float, stage: str) -> None:
        with self.write() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id)
                         .values(progress=progress, stage=stage, updated=time.time()))

    # -- approvals --------------------------------------------------------------------------
    def put_approval(self, job_id: str, node: str, decision: str, record: dict[str, Any],
                     signature: str, digest: str) -> bool:
        with self.write() as conn:
            exists = conn.execute(sa.select(approvals.c.node).where(
                approvals.c.job_id == job_id, approvals.c.node == node)).first()
            if exists:
                return False
            conn.execute(approvals.insert().values(
                job_id=job_id, node=node, decision=decision, signature=signature, hash=digest,
                record_json=json.dumps(record, sort_keys=True)))
            return True

    def approvals(self, job_id: str) -> list[dict[str, Any]]:
        return self.read(sa.select(approvals).where(approvals.c.job_id == job_id)
                         .order_by(approvals.c.node))

    # -- results ----------------------------------------------------------------------------
    def put_result(self, job_id: str, result_json: str, result_hash: str) -> None:
        with self.write() as conn:
            conn.execute(results.insert().values(job_id=job_id, result_json=result_json,
                                                 result_hash=result_hash, created=time.time()))

    def result(self, job_id: str) -> dict[str, Any] | None:
        rows = self.read(sa.select(results).where(results.c.job_id == job_id))
        return rows[0] if rows else None

    # -- standing approvals -----------------------------------------------------------------
    def insert_standing(self, row: dict[str, Any]) -> None:
        with self.write() as conn:
            conn.execute(standing_approvals.insert().values(**row))

    def list_standing(self) -> list[dict[str, Any]]:
        return self.read(sa.select(standing_approvals)
                         .order_by(standing_approvals.c.created, standing_approvals.c.id))

    def standing(self, rule_id: str) -> dict[str, Any] | None:
        rows = self.read(sa.select(standing_approvals).where(standing_approvals.c.id == rule_id))
        return rows[0] if rows else None

    def set_standing_revoked(self, rule_id: str, revoked: float | None, by: str | None) -> bool:
        """Mark a rule revoked (or, with None, in force again: undoing a failed revocation);
        True if it was found in the other state."""
        t = standing_approvals
        cond = t.c.revoked.is_(None) if revoked is not None else t.c.revoked.is_not(None)
        with self.write() as conn:
            return conn.execute(t.update().where(t.c.id == rule_id, cond)
                                .values(revoked=revoked, revoked_by=by)).rowcount == 1

    def delete_standing(self, rule_id: str) -> None:
        with self.write() as conn:
            conn.execute(standing_approvals.delete().where(standing_approvals.c.id == rule_id))


class SqliteStore(Store):
    """SQLite file (WAL, busy timeout) — the default."""

    def _make_engine(self, url: str) -> Engine:
        engine = sa.create_engine(url, connect_args={"check_same_thread": False,
                                                     "timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine


class PostgresStore(Store):
    """PostgreSQL through psycopg 3 (`postgresql://` URLs are mapped to that driver)."""

    def _make_engine(self, url: str) -> Engine:
        if url.startswith("postgresql://") or url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.split("://", 1)[1]
        return sa.create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def open_store(url: str) -> Store:
    if url.startswith("sqlite"):
        return SqliteStore(url)
    if url.startswith("postgres"):
        return PostgresStore(url)
    raise ValueError(f"unsupported database_url {url.split(':', 1)[0]!r} "
                     "(use sqlite:/// or postgresql://)")
