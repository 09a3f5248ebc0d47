"""Data catalog: datasets backed by CSV, Parquet or a SQL table, with a schema and a
column-level policy saying which columns may be used with which peers and protocols.

Data never leaves the node except as protocol messages: the catalog only hands columns to a
protocol runner of a job this node approved, after checking the policy again.

Policy rules (any rule that covers the use allows it):
    {"columns": ["segment", "assets_cny"] | ["*"],
     "peers": ["fund", "futures"] | ["*"],      # every other participant must be listed
     "protocols": ["mpc.aggregate"] | ["*"],
     "sql": None | "plaintext" | {"rule": "plaintext_after_aggregate", "min_group": 5, ...}}

Secure SQL column control (yinji.sql.policy): a rule with `sql` set gives its columns that
column-control rule for the receiving companies listed in `peers` ("*": every recipient
without a rule of its own); `Dataset.sql_policy()` collects them, one rule per column and
recipient (two rules for the same pair are refused at registration). A column without one is
refused by every SQL query.

Adversary model: whoever registers or updates a dataset (an operator token over the API, or
a shell user running `yinji dataset`) may try to make the node read something that is not
meant as data -- another file on the machine, the node's own keys, config or metadata store,
or a database host -- and may use the error text to probe the machine or the network. What
the catalog guarantees, whoever asks:

- A file dataset is read only if its resolved path (symlinks followed) is a regular file
  inside a data root (`<home>/data` and node.yaml's `data_roots`) and not inside the node's
  home except under `<home>/data`, and is none of the node's key, config or store files
  (compared by inode too, so a hard link does not help). This is checked at registration
  and again at every read.
- A sql dataset names one of node.yaml's `sql_sources`, never a URL; a source that is the
  node's own metadata store is refused; nothing is ever connected to that is not listed.
  Its `table` is a table name or one SELECT query, run read-only as a sub-select
  (`yinji.node.sql_query`).
- A location that is refused, missing, unreadable as a path, a directory or a device gets
  one error text, the same for all; a sql location that is not a listed source gets one
  text whether or not the host exists or answers (nothing is connected to). The caller thus
  learns only whether the location is an allowed, readable source -- which it may use anyway.
  A listed source that cannot be read gets one text without the driver's message.
- A dataset id is never silently replaced: `register` refuses an existing id; `update`
  changes it explicitly, bumps its revision and audits the descriptor before and after.
  Every change is a `DatasetEvent` in the audit log, whichever interface made it.

Reading: a file dataset's typed columns are kept in memory (an LRU bounded by node.yaml's
`dataset_cache_mb`) under the file's state (path, inode, size, modification time) and the
dataset's revision, so a daily app run on an unchanged 10^6-row file does not parse it again;
any change to the file or the descriptor is a new key. Cached arrays are read-only. A SQL
table is read every time (nothing cheap tells that it is unchanged).

Not covered: whoever can edit node.yaml on the machine chooses the roots and sources (that
person can read the files anyway); a data root should hold only data.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cachetools
import numpy as np

from yinji import textfile
from yinji.chunks import Stream, iter_rows
from yinji.node import sql_query
from yinji.node.audit import DatasetEvent
from yinji.node.store import Store

if TYPE_CHECKING:
    from yinji.node.audit import AuditLog
    from yinji.node.config import NodeConfig

KINDS = ("csv", "parquet", "sql")
TYPES = ("string", "float", "int")
_LOCAL_HOSTS = {"", "localhost", "127.0.0.1", "::1"}
log = logging.getLogger(__name__)


class CatalogError(ValueError):
    """A dataset that cannot be registered or used as asked; the message says why.
    `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class PolicyRule:
    columns: list[str] = field(default_factory=lambda: ["*"])
    peers: list[str] = field(default_factory=lambda: ["*"])
    protocols: list[str] = field(default_factory=lambda: ["*"])
    sql: str | dict[str, Any] | None = None   # a yinji.sql.policy rule for peers = recipients

    def covers(self, column: str, peers: Iterable[str], protocol: str) -> bool:
        if protocol == "sql.query":   # its peers are recipients, judged by yinji.sql.policy
            return (self.sql is not None and ("*" in self.columns or column in self.columns)
                    and bool({"*", "sql", "sql.query"} & set(self.protocols)))
        return (("*" in self.columns or column in self.columns)
                and ("*" in self.protocols or protocol in self.protocols)
                and ("*" in self.peers or all(p in self.peers for p in peers)))


@dataclass
class Dataset:
    id: str
    kind: str
    location: str                    # a file path (relative to the home) or a sql source name
    schema: dict[str, str]
    policy: list[PolicyRule] = field(default_factory=list)
    table: str | None = None
    revision: int = 1
    updated: float | None = None     # time of the last explicit update (None: never updated)

    def public(self) -> dict[str, Any]:
        """What the dataset listing shows: no locations (those are in a job's local_input)."""
        return {"id": self.id, "kind": self.kind, "schema": self.schema,
                "policy": [vars(r) for r in self.policy], "revision": self.revision}

    def sql_policy(self) -> dict[str, dict[str, Any]]:
        """column -> recipient -> SQL column rule, from the rules with `sql` set (the input
        yinji.sql.policy.check_query takes per table). Conflicting rules raise CatalogError."""
        out: dict[str, dict[str, Any]] = {}
        for rule in self.policy:
            if rule.sql is None:
                continue
            for col in (list(self.schema) if "*" in rule.columns else rule.columns):
                for peer in rule.peers:
                    have = out.setdefault(col, {})
                    if peer in have and have[peer] != rule.sql:
                        raise CatalogError(f"dataset {self.id!r}: two SQL rules for column "
                                           f"{col!r} and recipient {peer!r}")
                    have[peer] = rule.sql
        return out

    def descriptor(self) -> dict[str, Any]:
        """What the audit log records of a registration or update (no data, no credentials:
        a sql location is a source name)."""
        return {"kind": self.kind, "location": self.location, "table": self.table,
                "schema": self.schema, "policy": [vars(r) for r in self.policy],
                "revision": self.revision}


class Catalog:
    """The datasets of one node. `data_roots` are extra folders besides `<home>/data`;
    `protected` are files never read (the node's keys, config, store) wherever they are."""

    def __init__(self, store: Store, home: Path, *, audit: AuditLog,
                 data_roots: Iterable[str | os.PathLike[str]] = (),
                 sql_sources: dict[str, str] | None = None,
                 protected: Iterable[str | os.PathLike[str]] = (),
                 own_store_url: str | None = None, cache_mb: int = 1024) -> None:
        self.store, self.home, self.audit = store, Path(home), audit
        self.roots = [self.home / "data", *(self.home / Path(r) for r in data_roots)]
        self.sql_sources = dict(sql_sources or {})
        self.protected = [Path(p) for p in protected]
        self.own_store_url = own_store_url or store.url
        self._row_cache: dict[tuple[Any, ...], int] = {}
        self._columns_cache: cachetools.LRUCache = cachetools.LRUCache(
            maxsize=max(1, cache_mb << 20), getsizeof=_cached_size)
        self._cache_on = cache_mb > 0
        self._cache_lock = threading.Lock()

    @classmethod
    def for_node(cls, cfg: NodeConfig, store: Store, audit: AuditLog) -> Catalog:
        protected = [cfg.home / "node.yaml", cfg.key_file, cfg.signing_key_file,
                     cfg.cert_file, cfg.trust_file]
        db = _sqlite_file(cfg.db_url)
        if db is not None:
            protected += [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")]
        return cls(store, cfg.home, audit=audit, data_roots=cfg.data_roots,
                   sql_sources=cfg.sql_sources, protected=protected, own_store_url=cfg.db_url,
                   cache_mb=cfg.dataset_cache_mb)

    # -- changes (each one audited) -----------------------------------------------------------
    def register(self, ds: Dataset, *, by: str) -> Dataset:
        """Add a new dataset; an existing id is refused (409), use `update`."""
        if self.store.dataset(ds.id) is not None:
            raise CatalogError(f"dataset {ds.id!r} already exists; update it explicitly "
                               "(PUT /datasets/{id}, `yinji dataset update`)", 409)
        self._validate(ds)
        ds.revision, ds.updated = 1, None
        if not self.store.insert_dataset(_row(ds)):
            raise CatalogError(f"dataset {ds.id!r} already exists", 409)
        try:
            self.audit.append(DatasetEvent(ds.id, "registered", sorted(ds.schema), by,
                                           {}, ds.descriptor()))
        except BaseException:
            self.store.delete_dataset(ds.id)   # an unaudited change does not stay
            raise
        return ds

    def update(self, ds: Dataset, *, by: str) -> Dataset:
        """Replace an existing dataset's descriptor: revision + 1, audited before/after.
        Jobs this node approved before the update fail instead of reading the new source."""
        self._validate(ds)
        old = self.get(ds.id)
        ds.revision, ds.updated = old.revision + 1, time.time()
        if not self.store.update_dataset(_row(ds)):
            raise CatalogError(f"no dataset {ds.id!r}", 404)
        try:
            self.audit.append(DatasetEvent(ds.id, "updated", sorted(ds.schema), by,
                                           old.descriptor(), ds.descriptor()))
        except BaseException:
            self.store.update_dataset(_row(old))
            raise
        return ds

    def _validate(self, ds: Dataset) -> None:
        if not ds.id or any(c in ds.id for c in "/ ") or len(ds.id) > 200:
            raise CatalogError(f"dataset id must be non-empty without '/' or spaces: {ds.id!r}")
        if ds.kind not in KINDS:
            raise CatalogError(f"dataset kind must be one of {', '.join(KINDS)}")
        if not isinstance(ds.schema, dict) or not ds.schema:
            raise CatalogError("dataset schema must list at least one column")
        bad = {c: t for c, t in ds.schema.items() if t not in TYPES}
        if bad:
            raise CatalogError(f"column types must be one of {', '.join(TYPES)}: {bad}")
        for rule in ds.policy:
            unknown = [c for c in rule.columns if c != "*" and c not in ds.schema]
            if unknown:
                raise CatalogError(f"policy names unknown column(s) {', '.join(unknown)}")
            if rule.sql is not None:
                from yinji.sql.policy import ColumnRule  # only when a rule uses SQL

                try:
                    ColumnRule.of(rule.sql)
                except (ValueError, TypeError) as exc:
                    raise CatalogError(f"SQL rule of column(s) {', '.join(rule.columns)}: "
                                       f"{exc}") from None
        ds.sql_policy()
        if ds.kind == "sql" and sql_query.is_query(ds.table):
            why = sql_query.problem(ds.table or "")
            if why:
                raise CatalogError(f"dataset {ds.id!r}: {why}")
        present = self._columns(ds)   # confinement first: nothing refused is ever read
        missing = [c for c in ds.schema if c not in present]
        if missing:
            raise CatalogError(f"dataset {ds.id!r}: column(s) {', '.join(missing)} not found "
                               "in the source")

    # -- reading ------------------------------------------------------------------------------
    def get(self, dataset_id: str) -> Dataset:
        row = self.store.dataset(dataset_id)
        if row is None:
            raise CatalogError(f"no dataset {dataset_id!r}", 404)
        return _from_row(row)

    def list(self) -> list[Dataset]:
        return [_from_row(r) for r in self.store.list_datasets()]

    def check(self, dataset_id: str, columns: list[str], protocol: str,
              peers: Iterable[str]) -> list[str]:
        """Reasons this use is not allowed ([] if it is)."""
        try:
            ds = self.get(dataset_id)
        except CatalogError as exc:
            return [str(exc)]
        peers = sorted(set(peers))
        problems = []
        for col in columns:
            if col not in ds.schema:
                problems.append(f"dataset {dataset_id!r} has no column {col!r}")
            elif not any(r.covers(col, peers, protocol) for r in ds.policy):
                problems.append(f"policy of dataset {dataset_id!r} does not allow column "
                                f"{col!r} in {protocol} with {', '.join(peers)}")
        return problems

    def load(self, dataset_id: str, columns: list[str]) -> dict[str, np.ndarray]:
        """The named columns, typed by the schema (strings as object arrays)."""
        return self.load_keyed(dataset_id, columns)[0]

    def load_keyed(self, dataset_id: str, columns: list[str], *, empty_as_nan: bool = False
                   ) -> tuple[dict[str, np.ndarray], str | None]:
        """`load`, and a key naming exactly this content (file state, revision, columns), or
        None for a source that may have changed unseen (sql) -- so a caller may keep what it
        derives from the columns under the same key. File columns come from the cache when
        the file is unchanged; they are read-only arrays. `empty_as_nan`: an empty cell of a
        float or int column is NaN (an int column with one is returned as float) instead of
        an error -- for protocols that declare how they treat missing values (model jobs)."""
        ds = self.get(dataset_id)
        unknown = [c for c in columns if c not in ds.schema]
        if unknown:
            raise CatalogError(f"dataset {dataset_id!r} has no column(s) {unknown}")
        if ds.kind == "sql":
            raw = self._read_sql(ds, columns)
            return {c: typed_column(raw[c], ds.schema[c], dataset_id, c, empty_as_nan)
                    for c in columns}, None
        before = self._file_state(ds)
        key = (before, ds.id, ds.revision, tuple((c, ds.schema[c]) for c in columns),
               empty_as_nan)
        digest = hashlib.sha256(repr(key).encode()).hexdigest()
        with self._cache_lock:
            hit = self._columns_cache.get(key) if self._cache_on else None
        if hit is not None:
            return dict(hit), digest
        raw = self._read_csv(ds, columns) if ds.kind == "csv" else self._read_parquet(ds, columns)
        out = {c: typed_column(raw[c], ds.schema[c], dataset_id, c, empty_as_nan) for c in columns}
        if self._file_state(ds) != before:  # changed while we read: use it, keep nothing
            return out, None
        for a in out.values():
            a.setflags(write=False)
        if self._cache_on:
            with self._cache_lock:
                with contextlib.suppress(ValueError):  # larger than the whole cache
                    self._columns_cache[key] = out
        return dict(out), digest

    def source(self, dataset_id: str, columns: list[str]) -> Path:
        """The confined path of a csv or parquet dataset, for a protocol that reads it in
        chunks itself (`yinji.chunks`, e.g. bucketed PSI on a stream): the same confinement
        and column checks as `load`, nothing read or cached here."""
        ds = self.get(dataset_id)
        unknown = [c for c in columns if c not in ds.schema]
        if unknown:
            raise CatalogError(f"dataset {dataset_id!r} has no column(s) {unknown}")
        if ds.kind == "sql":
            raise CatalogError(f"dataset {dataset_id!r}: a sql dataset is loaded, not streamed")
        return self._file(ds)

    def sql_stream(self, dataset_id: str, columns: list[str], chunk_rows: int = 1 << 16
                   ) -> Stream:
        """The named columns of a sql dataset in chunks of rows as text (NULL as "", as
        `load` types string columns), read from a server-side cursor in a read-only
        transaction: a protocol that reads in chunks never holds the table. Same source
        checks as `load`; errors while reading name the dataset, details in the node log."""
        ds = self.get(dataset_id)
        unknown = [c for c in columns if c not in ds.schema]
        if unknown:
            raise CatalogError(f"dataset {dataset_id!r} has no column(s) {unknown}")
        if ds.kind != "sql":
            raise CatalogError(f"dataset {dataset_id!r} is a {ds.kind} file: read it with "
                               "`source`")
        self._sql_url(ds)   # the confinement checks, before anything is read

        def chunks() -> Iterator[list[list[Any]]]:
            import sqlalchemy as sa

            with self._sql(ds) as engine:
                if sql_query.is_query(ds.table):
                    parts = sql_query.read_chunks(engine, ds.table or "", columns, chunk_rows)
                else:
                    table = sa.Table(ds.table, sa.MetaData(), autoload_with=engine)
                    parts = _table_chunks(engine, sa.select(*[table.c[c] for c in columns]),
                                          chunk_rows)
                for part in parts:
                    yield [["" if v is None else str(v).strip() for v in r] for r in part]
        return Stream(list(columns), chunks(), "sql")

    def _file_state(self, ds: Dataset) -> tuple[Any, ...]:
        path = self._file(ds)
        st = path.stat()
        return (str(path), st.st_ino, st.st_size, st.st_mtime_ns)

    def describe_source(self, ds: Dataset, *, rows: bool) -> dict[str, Any]:
        """What an approver sees of this node's input: where it is read from (the resolved
        file, or the sql source name and table) and, if `rows`, how many rows it has now."""
        out: dict[str, Any] = {"dataset": ds.id, "kind": ds.kind, "location": ds.location,
                               "table": ds.table, "path": None, "revision": ds.revision,
                               "updated": ds.updated, "rows": None, "problem": None}
        try:
            if ds.kind == "sql":
                self._sql_url(ds)
            else:
                out["path"] = str(self._file(ds))
            if rows:
                out["rows"] = self.count_rows(ds)
        except CatalogError as exc:
            out["problem"] = str(exc)
        return out

    def count_rows(self, ds: Dataset) -> int:
        """Data rows of the source now (cached per file state for files)."""
        if ds.kind == "sql":
            import sqlalchemy as sa

            with self._sql(ds) as engine:
                if sql_query.is_query(ds.table):
                    return sql_query.count(engine, ds.table or "")
                table = sa.Table(ds.table, sa.MetaData(), autoload_with=engine)
                with engine.connect() as conn:
                    return int(conn.execute(sa.select(sa.func.count()).select_from(table))
                               .scalar_one())
        path = self._file(ds)
        st = path.stat()
        key = (str(path), st.st_mtime_ns, st.st_size, st.st_ino)
        n = self._row_cache.get(key)
        if n is None:
            try:
                if ds.kind == "parquet":
                    n = _pyarrow().read_metadata(path).num_rows
                else:   # counted in chunks: an approver's view never loads the table
                    n = sum(len(c) for c in iter_rows(path, []).chunks)
            except CatalogError:
                raise
            except Exception as exc:  # noqa: BLE001 - a source inside the roots: say why
                raise CatalogError(f"dataset {ds.id!r}: cannot read source: "
                                   f"{type(exc).__name__}") from None
            if len(self._row_cache) > 256:
                self._row_cache.clear()
            self._row_cache[key] = n
        return n

    # -- confinement --------------------------------------------------------------------------
    def _denied(self, ds: Dataset) -> CatalogError:
        if ds.kind == "sql":
            return CatalogError(f"dataset {ds.id!r}: location of a sql dataset must be the "
                                "name of one of this node's sql_sources (node.yaml)")
        return CatalogError(f"dataset {ds.id!r}: location must name an existing {ds.kind} "
                            "file inside this node's data roots (<home>/data and data_roots "
                            "in node.yaml)")

    def _file(self, ds: Dataset) -> Path:
        """The resolved path of a file dataset, or the one refusal for anything else."""
        return self._confined(ds.location, self._denied(ds))

    def _confined(self, location: str, denied: CatalogError) -> Path:
        if not location or "\x00" in location:
            raise denied
        path = Path(location)
        path = Path(os.path.abspath(path if path.is_absolute() else self.home / path))
        roots = [(Path(os.path.abspath(r)), r.resolve()) for r in self.roots]
        # lexically outside every root: refused before the file system is touched at all
        if not any(path.is_relative_to(a) or path.is_relative_to(b) for a, b in roots):
            raise denied
        try:
            real = path.resolve(strict=True)
            st = real.stat()
        except (OSError, RuntimeError):
            raise denied from None
        if not real.is_file() or not any(real.is_relative_to(b) for _, b in roots):
            raise denied
        home = self.home.resolve()
        if real.is_relative_to(home) and real.relative_to(home).parts[:1] != ("data",):
            raise denied
        for p in self.protected:
            try:
                pst = p.stat()
            except OSError:
                continue
            if (pst.st_dev, pst.st_ino) == (st.st_dev, st.st_ino):
                raise denied
        return real

    def _sql_url(self, ds: Dataset) -> str:
        url = self.sql_sources.get(ds.location)
        if url is None:
            raise self._denied(ds)
        if _same_database(url, self.own_store_url):
            raise CatalogError(f"dataset {ds.id!r}: sql source {ds.location!r} is this node's "
                               "own metadata store")
        db = _sqlite_file(url)
        if db is not None:   # a SQLite file is a file: the same confinement
            self._confined(str(db), self._denied(ds))
        if not ds.table:
            raise CatalogError("a sql dataset needs `table`: a table name or one SELECT query")
        return url

    # -- sources --------------------------------------------------------------------------
    @contextlib.contextmanager
    def _sql(self, ds: Dataset) -> Iterator[Any]:
        """An engine for a listed source; any failure is one text, the driver's detail goes
        to the node log only (it may name hosts and ports)."""
        import sqlalchemy as sa

        url = self._sql_url(ds)
        engine = None
        try:
            engine = sa.create_engine(url)
            yield engine
        except CatalogError:
            raise
        except Exception as exc:  # noqa: BLE001
            log.warning("dataset %s: sql source %s: %s: %s", ds.id, ds.location,
                        type(exc).__name__, exc)
            raise CatalogError(f"dataset {ds.id!r}: cannot read table {ds.table!r} of sql "
                               f"source {ds.location!r} (details in the node log)") from None
        finally:
            if engine is not None:
                engine.dispose()

    def _columns(self, ds: Dataset) -> list[str]:
        if ds.kind == "sql":
            import sqlalchemy as sa

            with self._sql(ds) as engine:
                if sql_query.is_query(ds.table):
                    return sql_query.columns(engine, ds.table or "")
                return [c["name"] for c in sa.inspect(engine).get_columns(ds.table)]
        path = self._file(ds)
        try:
            if ds.kind == "csv":
                return textfile.read_header(path)
            return list(_pyarrow().read_schema(path).names)
        except CatalogError:
            raise
        except Exception as exc:  # noqa: BLE001 - a source inside the roots: say why
            raise CatalogError(f"dataset {ds.id!r}: cannot read source: "
                               f"{type(exc).__name__}: {exc}") from None

    def _read_csv(self, ds: Dataset, columns: list[str]) -> dict[str, list[str]]:
        try:
            table = textfile.read_table(self._file(ds))
        except textfile.TableFileError as exc:
            raise CatalogError(f"dataset {ds.id!r}: {exc}") from None
        out: dict[str, list[str]] = {}
        for c in columns:
            if c not in table.header:
                raise CatalogError(f"dataset {ds.id!r}: the file has no column {c!r} any more "
                                   f"(columns: {table.header})")
            at = table.header.index(c)
            out[c] = [r[at] if at < len(r) else "" for r in table.rows]
        return out

    def _read_parquet(self, ds: Dataset, columns: list[str]) -> dict[str, list[Any]]:
        table = _pyarrow().read_table(self._file(ds), columns=columns)
        return {c: table.column(c).to_pylist() for c in columns}

    def _read_sql(self, ds: Dataset, columns: list[str]) -> dict[str, list[Any]]:
        import sqlalchemy as sa

        with self._sql(ds) as engine:
            if sql_query.is_query(ds.table):
                return sql_query.read(engine, ds.table or "", columns)
            table = sa.Table(ds.table, sa.MetaData(), autoload_with=engine)
            with engine.connect() as conn:
                rows = conn.execute(sa.select(*[table.c[c] for c in columns])).all()
        return {c: [r[i] for r in rows] for i, c in enumerate(columns)}


def _table_chunks(engine: Any, stmt: Any, chunk_rows: int) -> Iterator[list[Any]]:
    with sql_query.read_only(engine) as conn:
        result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(stmt)
        yield from result.partitions(chunk_rows)


def _sqlite_file(url: str) -> Path | None:
    """The database file of a sqlite URL (None for other backends or in-memory)."""
    from sqlalchemy.engine import make_url

    try:
        u = make_url(url)
    except Exception:  # noqa: BLE001 - not a URL at all: not a sqlite file either
        return None
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database).absolute()


def _same_database(a: str, b: str) -> bool:
    """Do two SQLAlchemy URLs name the same database (driver, password and query ignored)?"""
    from sqlalchemy.engine import make_url

    try:
        ua, ub = make_url(a), make_url(b)
    except Exception:  # noqa: BLE001
        return False
    if ua.get_backend_name() != ub.get_backend_name():
        return False
    fa, fb = _sqlite_file(a), _sqlite_file(b)
    if fa is not None or fb is not None:
        return fa is not None and fb is not None and fa.resolve() == fb.resolve()

    def host(u):  # type: ignore[no-untyped-def]
        h = (u.host or "").lower()
        return "local" if h in _LOCAL_HOSTS else h

    return (host(ua), ua.port, ua.database) == (host(ub), ub.port, ub.database)


def _pyarrow():  # type: ignore[no-untyped-def]
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise CatalogError("Parquet datasets need pyarrow (pip install pyarrow)") from None
    return pq


def typed_column(values: list[Any], kind: str, dataset_id: str, column: str,
           empty_as_nan: bool = False) -> np.ndarray:
    if empty_as_nan and kind in ("float", "int") and \
            any(v is None or (isinstance(v, str) and not v.strip()) for v in values):
        values, kind = [None if v is None or (isinstance(v, str) and not v.strip())
                        else v for v in values], "float"
    try:
        if kind == "float":
            out = np.asarray([np.nan if v is None and empty_as_nan else float(v) for v in values],
                             dtype=np.float64)
        elif kind == "int":
            return np.asarray([int(v) for v in values], dtype=np.int64)
        else:
            return np.asarray(["" if v is None else str(v).strip() for v in values],
                              dtype=object)
    except (TypeError, ValueError):
        # never echo the value: it may be personal data
        raise CatalogError(f"dataset {dataset_id!r}: column {column!r} has a value that is "
                           f"not {kind}") from None
    rows = np.flatnonzero(np.isinf(out))
    if rows.size:
        raise CatalogError(
            f"dataset {dataset_id!r}: column {column!r} is infinite on {rows.size} row(s) "
            f"(data rows {', '.join(str(r + 1) for r in rows[:5])}); no model or statistic "
            "can use it: fix or drop those rows")
    return out


def _cached_size(columns: dict[str, np.ndarray]) -> int:
    """Bytes of cached columns; a string cell counts as its object (about 64 bytes)."""
    return sum(a.nbytes + (a.size * 64 if a.dtype == object else 0) for a in columns.values())


def _row(ds: Dataset) -> dict[str, Any]:
    return {"id": ds.id, "kind": ds.kind, "location": ds.location, "table_name": ds.table,
            "schema_json": json.dumps(ds.schema),
            "policy_json": json.dumps([vars(r) for r in ds.policy]),
            "revision": ds.revision, "updated": ds.updated}


def _from_row(row: dict[str, Any]) -> Dataset:
    return Dataset(id=row["id"], kind=row["kind"], location=row["location"],
                   table=row["table_name"], schema=json.loads(row["schema_json"]),
                   policy=[PolicyRule(**r) for r in json.loads(row["policy_json"])],
                   revision=row.get("revision") or 1, updated=row.get("updated"))
