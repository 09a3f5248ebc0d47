"""Tables of the secure SQL engine: a public schema (owner, row count, column types) and, at
the owning company only, the data; and the owner-side encoding of columns into ring elements.

Types (all values become elements of Z_2^64, `yinji.mpc.ring`):
- int: integers (scale 0); decimal: fixed point with the session's fractional bits
  (negatives in two's complement); date: day number since 1970-01-01 (scale 0);
- string: a 61-bit keyed BLAKE2b hash under a key the parties agree for the job (equality,
  IN, joins, COUNT DISTINCT; never opened as a group key);
- category: a string from a public list of values, encoded as its index (a public group key
  domain: GROUP BY becomes one-hot masks the owner computes locally).
- NULL: every nullable column is shared with a 0/1 validity column.

Derived columns are functions of ONE column of ONE owner's table (date parts, date_trunc,
one-hot of a public domain, join tokens): the owner computes them on its own data before
sharing, which reveals nothing to anyone and saves the MPC a comparison circuit per row.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from yinji.mpc.ring import encode

KINDS = ("int", "decimal", "date", "string", "category")
HASH_BITS = 61  # string hashes stay below 2^61 so that differences never wrap


class SqlError(ValueError):
    """A query, schema or input the engine refuses; the message names the construct."""


@dataclass(frozen=True)
class Column:
    name: str
    kind: str = "int"
    nullable: bool = False
    categories: tuple[str, ...] = ()  # public domain of a category column
    domain: tuple[int, ...] = ()      # optional public domain of an int column (GROUP BY)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SqlError(f"column {self.name!r}: unknown type {self.kind!r}; expected one of {KINDS}")
        if self.kind == "category" and not self.categories:
            raise SqlError(f"category column {self.name!r} needs its public list of categories")
        # codes follow the sorted order, so that comparing codes compares the strings
        object.__setattr__(self, "categories", tuple(sorted(set(map(str, self.categories)))))
        object.__setattr__(self, "domain", tuple(sorted(set(int(d) for d in self.domain))))

    @property
    def public_domain(self) -> tuple[Any, ...]:
        return self.categories if self.kind == "category" else self.domain


@dataclass
class Table:
    """A table's public schema; `data` (column name -> values) is given only at its owner.

    A table split across companies (the same columns, each company holding some rows, e.g.
    every company's holdings) lists `parts` = ((owner, rows), ...); each owner's `data` is
    its own rows, and `owner`/`rows` are then ignored."""
    name: str
    owner: str
    columns: Sequence[Column]
    rows: int
    key: str | None = None  # a column declared unique (joins on it need no fan-out)
    data: Mapping[str, Any] | None = field(default=None, repr=False)
    parts: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if self.parts:
            self.parts = tuple((str(o), int(r)) for o, r in self.parts)
            if len({o for o, _ in self.parts}) != len(self.parts):
                raise SqlError(f"table {self.name!r}: a company appears twice in its parts")
            if self.key is not None:
                raise SqlError(f"table {self.name!r}: a table split across companies cannot "
                               "declare a unique key (nobody can check it)")
            self.rows = sum(r for _, r in self.parts)
            self.owner = self.parts[0][0]
        if self.rows < 0:
            raise SqlError(f"table {self.name!r}: negative row count")

    @property
    def owners(self) -> tuple[tuple[str, int], ...]:
        """(owner, rows) of each part, in row order."""
        return self.parts or ((self.owner, self.rows),)

    def rows_of(self, owner: str) -> int:
        return sum(r for o, r in self.owners if o == owner)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name.lower() == name.lower():
                return c
        raise SqlError(f"unknown column {name!r} in table {self.name!r}")

    def schema_only(self) -> Table:
        return Table(self.name, self.owner, tuple(self.columns), self.rows, self.key,
                     parts=self.parts)


def _nulls(values: Any) -> tuple[np.ndarray, np.ndarray]:
    """(values, bool array: is NULL); vectorised for typed arrays, a scan for objects."""
    arr = np.asarray(values).reshape(-1)
    if arr.dtype.kind in "iub":
        return arr, np.zeros(arr.size, bool)
    if arr.dtype.kind == "f":
        return arr, np.isnan(arr)
    if arr.dtype.kind in "mM":
        return arr, np.isnat(arr)
    if arr.dtype.kind in "US":
        return arr, np.zeros(arr.size, bool)
    arr = arr.astype(object)
    null = np.fromiter((v is None or (isinstance(v, float) and v != v) or str(v) in ("NaT", "<NA>")
                        for v in arr), dtype=bool, count=arr.size)
    return arr, null


def day_numbers(values: np.ndarray, column: str) -> np.ndarray:
    try:
        return np.asarray(values).astype("datetime64[D]").astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise SqlError(f"date column {column!r}: {exc}") from None


def string_hash(values: Sequence[str], key: bytes) -> np.ndarray:
    """The engine's string encoding: keyed BLAKE2b, 61 bits, as int64."""
    out = np.empty(len(values), dtype=np.int64)
    base = hashlib.blake2b(key=key, digest_size=8, person=b"yinji-sql-str")
    for i, v in enumerate(values):
        h = base.copy()
        h.update(str(v).encode("utf-8"))
        out[i] = int.from_bytes(h.digest(), "little") >> (64 - HASH_BITS)
    return out


def join_tokens(values: Sequence[str], key: bytes) -> np.ndarray:
    """(n, 2) uint64 keyed BLAKE2b tokens of join keys under a per-query key."""
    out = bytearray(16 * len(values))
    base = hashlib.blake2b(key=key, digest_size=16, person=b"yinji-sql-join")
    for i, v in enumerate(values):
        h = base.copy()
        h.update(str(v).encode("utf-8"))
        out[16 * i:16 * i + 16] = h.digest()
    return np.frombuffer(bytes(out), np.uint64).reshape(-1, 2).copy()


def encode_column(table: Table, spec: tuple[str, str, Any], frac_bits: int,
                  string_key: bytes, token_key: bytes = b"", rows: int | None = None) -> np.ndarray:
    """Owner side: the ring encoding (n,) or (n, k) uint64 of one derived column
    spec = (what, column, arg), what in raw / valid / year / month / day / trunc / onehot /
    token. NULLs encode as 0 (their validity bit is 0)."""
    what, name, arg = spec
    rows = table.rows if rows is None else rows
    col = table.column(name)
    if table.data is None:
        raise SqlError(f"table {table.name!r}: the owner gave no data")
    if name not in table.data:
        raise SqlError(f"table {table.name!r}: data has no column {name!r}")
    arr, null = _nulls(table.data[name])
    if arr.size != rows:
        raise SqlError(f"table {table.name!r}: column {name!r} has {arr.size} rows, "
                       f"the schema says {rows}")
    if null.any() and not col.nullable:
        raise SqlError(f"column {table.name}.{name} has NULLs but is not declared nullable")
    if what == "valid":
        return (~null).astype(np.int64).view(np.uint64)
    kept = arr[~null]

    def full(vals: np.ndarray, dtype: Any = np.int64) -> np.ndarray:
        out = np.zeros(arr.size, dtype=dtype)
        out[~null] = vals
        return out

    if what == "token":  # 128-bit keyed tokens; a NULL key gets a fresh random token
        out = np.frombuffer(secrets.token_bytes(16 * arr.size), np.uint64).reshape(-1, 2).copy()
        if kept.size:
            out[~null] = join_tokens([str(v) for v in kept], token_key)
        return out
    if col.kind == "date":
        days = day_numbers(kept, f"{table.name}.{name}") if kept.size else np.zeros(0, np.int64)
        d = days.astype("datetime64[D]")
        parts = {"raw": days,
                 "year": d.astype("datetime64[Y]").astype(np.int64) + 1970,
                 "month": d.astype("datetime64[M]").astype(np.int64) % 12 + 1,
                 "day": (d - d.astype("datetime64[M]")).astype(np.int64) + 1,
                 "trunc": (d.astype(f"datetime64[{'M' if arg == 'month' else 'Y'}]")
                           .astype("datetime64[D]").astype(np.int64)) if what == "trunc" else None}
        if what not in parts or parts[what] is None:
            raise SqlError(f"{what} of date column {name!r} is not supported")
        return full(parts[what]).view(np.uint64)
    if col.kind == "category":
        uniq, inverse = np.unique(kept.astype(str), return_inverse=True)
        index = {c: i for i, c in enumerate(col.categories)}
        bad = [u for u in uniq if u not in index]
        if bad:
            raise SqlError(f"column {table.name}.{name}: value {bad[0]!r} is not one of its "
                           f"categories {list(col.categories)}")
        lookup = np.asarray([index[u] for u in uniq], np.int64)
        codes = full(lookup[inverse.reshape(-1)] if kept.size else np.zeros(0, np.int64))
        if what == "onehot":
            return (codes[:, None] == np.arange(len(col.categories))[None, :]) \
                .astype(np.int64).view(np.uint64) * (~null)[:, None].astype(np.uint64)
        return codes.view(np.uint64)
    if what == "onehot":  # int column with a public domain
        vals = full(kept.astype(np.int64))
        return ((vals[:, None] == np.asarray(col.domain, np.int64)[None, :]) & (~null)[:, None]) \
            .astype(np.int64).view(np.uint64)
    if what != "raw":
        raise SqlError(f"{what} of {col.kind} column {name!r} is not supported")
    if col.kind == "string":
        return full(string_hash([str(v) for v in kept], string_key)).view(np.uint64)
    if col.kind == "decimal":
        return encode(full(kept.astype(np.float64), np.float64), frac_bits)
    try:
        ints = kept.astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise SqlError(f"int column {table.name}.{name}: {exc}") from None
    if kept.size and not np.array_equal(ints, kept.astype(np.float64)):
        raise SqlError(f"int column {table.name}.{name} holds non-integer values")
    return full(ints).view(np.uint64)


__all__ = ["KINDS", "Column", "SqlError", "Table", "day_numbers", "encode_column", "string_hash"]
