"""Data catalog: datasets backed by CSV, Parquet or a SQL table, with a schema and a
column-level policy saying which columns may be used with which peers and protocols.

Data never leaves the node except as protocol messages: the catalog only hands columns to a
protocol runner of a job this node approved, after checking the policy again.

Policy rules (any rule that covers the use allows it):
    {"columns": ["segment", "assets_cny"] | ["*"],
     "peers": ["fund", "futures"] | ["*"],      # every other participant must be listed
     "protocols": ["mpc.aggregate"] | ["*"]}
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from yinji.node.store import Store
from yinji.textfile import decode_error, open_csv

KINDS = ("csv", "parquet", "sql")
TYPES = ("string", "float", "int")


class CatalogError(ValueError):
    """A dataset that cannot be registered or used as asked; the message says why."""


@dataclass
class PolicyRule:
    columns: list[str] = field(default_factory=lambda: ["*"])
    peers: list[str] = field(default_factory=lambda: ["*"])
    protocols: list[str] = field(default_factory=lambda: ["*"])

    def covers(self, column: str, peers: Iterable[str], protocol: str) -> bool:
        return (("*" in self.columns or column in self.columns)
                and ("*" in self.protocols or protocol in self.protocols)
                and ("*" in self.peers or all(p in self.peers for p in peers)))


@dataclass
class Dataset:
    id: str
    kind: str
    location: str
    schema: dict[str, str]
    policy: list[PolicyRule] = field(default_factory=list)
    table: str | None = None

    def public(self) -> dict[str, Any]:
        """What the API shows: no file paths or database URLs (they may carry credentials)."""
        return {"id": self.id, "kind": self.kind, "schema": self.schema,
                "policy": [vars(r) for r in self.policy]}


class Catalog:
    def __init__(self, store: Store, home: Path) -> None:
        self.store, self.home = store, home

    def _path(self, location: str) -> Path:
        p = Path(location)
        return p if p.is_absolute() else self.home / p

    def register(self, ds: Dataset) -> Dataset:
        if not ds.id or any(c in ds.id for c in "/ "):
            raise CatalogError(f"dataset id must be non-empty without '/' or spaces: {ds.id!r}")
        if ds.kind not in KINDS:
            raise CatalogError(f"dataset kind must be one of {', '.join(KINDS)}")
        if not ds.schema:
            raise CatalogError("dataset schema must list at least one column")
        bad = {c: t for c, t in ds.schema.items() if t not in TYPES}
        if bad:
            raise CatalogError(f"column types must be one of {', '.join(TYPES)}: {bad}")
        present = self._columns(ds)
        missing = [c for c in ds.schema if c not in present]
        if missing:
            raise CatalogError(f"dataset {ds.id!r}: column(s) {', '.join(missing)} not found "
                               "in the source")
        for rule in ds.policy:
            unknown = [c for c in rule.columns if c != "*" and c not in ds.schema]
            if unknown:
                raise CatalogError(f"policy names unknown column(s) {', '.join(unknown)}")
        self.store.put_dataset({"id": ds.id, "kind": ds.kind, "location": ds.location,
                                "table_name": ds.table, "schema_json": json.dumps(ds.schema),
                                "policy_json": json.dumps([vars(r) for r in ds.policy])})
        return ds

    def get(self, dataset_id: str) -> Dataset:
        row = self.store.dataset(dataset_id)
        if row is None:
            raise CatalogError(f"no dataset {dataset_id!r}")
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
        ds = self.get(dataset_id)
        unknown = [c for c in columns if c not in ds.schema]
        if unknown:
            raise CatalogError(f"dataset {dataset_id!r} has no column(s) {unknown}")
        if ds.kind == "csv":
            raw = self._read_csv(ds, columns)
        elif ds.kind == "parquet":
            raw = self._read_parquet(ds, columns)
        else:
            raw = self._read_sql(ds, columns)
        return {c: _typed(raw[c], ds.schema[c], dataset_id, c) for c in columns}

    # -- sources --------------------------------------------------------------------------
    def _columns(self, ds: Dataset) -> list[str]:
        try:
            if ds.kind == "csv":
                with open_csv(self._path(ds.location)) as fh:
                    return next(csv.reader(fh), [])
            if ds.kind == "parquet":
                pq = _pyarrow()
                return list(pq.read_schema(self._path(ds.location)).names)
            import sqlalchemy as sa

            if not ds.table:
                raise CatalogError("a sql dataset needs `table`")
            engine = sa.create_engine(ds.location)
            try:
                return [c["name"] for c in sa.inspect(engine).get_columns(ds.table)]
            finally:
                engine.dispose()
        except CatalogError:
            raise
        except Exception as exc:  # noqa: BLE001 - report which source failed and why
            raise CatalogError(f"dataset {ds.id!r}: cannot read source: "
                               f"{type(exc).__name__}: {exc}") from None

    def _read_csv(self, ds: Dataset, columns: list[str]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {c: [] for c in columns}
        path = self._path(ds.location)
        with open_csv(path) as fh:
            try:
                for row in csv.DictReader(fh):
                    for c in columns:
                        out[c].append(row[c])
            except UnicodeDecodeError as exc:
                raise CatalogError(f"dataset {ds.id!r}: {decode_error(ds.location, exc)}") \
                    from None
        return out

    def _read_parquet(self, ds: Dataset, columns: list[str]) -> dict[str, list[Any]]:
        table = _pyarrow().read_table(self._path(ds.location), columns=columns)
        return {c: table.column(c).to_pylist() for c in columns}

    def _read_sql(self, ds: Dataset, columns: list[str]) -> dict[str, list[Any]]:
        import sqlalchemy as sa

        engine = sa.create_engine(ds.location)
        try:
            table = sa.Table(ds.table, sa.MetaData(), autoload_with=engine)
            with engine.connect() as conn:
                rows = conn.execute(sa.select(*[table.c[c] for c in columns])).all()
        finally:
            engine.dispose()
        return {c: [r[i] for r in rows] for i, c in enumerate(columns)}


def _pyarrow():  # type: ignore[no-untyped-def]
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise CatalogError("Parquet datasets need pyarrow (pip install pyarrow)") from None
    return pq


def _typed(values: list[Any], kind: str, dataset_id: str, column: str) -> np.ndarray:
    try:
        if kind == "float":
            return np.asarray([float(v) for v in values], dtype=np.float64)
        if kind == "int":
            return np.asarray([int(v) for v in values], dtype=np.int64)
    except (TypeError, ValueError):
        # never echo the value: it may be personal data
        raise CatalogError(f"dataset {dataset_id!r}: column {column!r} has a value that is "
                           f"not {kind}") from None
    return np.asarray(["" if v is None else str(v).strip() for v in values], dtype=object)


def _from_row(row: dict[str, Any]) -> Dataset:
    return Dataset(id=row["id"], kind=row["kind"], location=row["location"],
                   table=row["table_name"], schema=json.loads(row["schema_json"]),
                   policy=[PolicyRule(**r) for r in json.loads(row["policy_json"])])
