"""The row context of a query: each company's columns secret-shared into the three compute
parties, then joined obliviously.

Sharing: each table's owner encodes the derived columns the query needs (`Query.needed`)
into one (rows x width) matrix of ring elements and secret-shares it (`replicated.share` if
the owner is a compute party, `yinji.mpc.inputs.send_input` if it is an input party). Row
counts and the query are public; nothing else leaves the owner unshared.

Joins (equality on a key column, the joined table's key declared unique):
- oblivious (default): the equality matrix E[i, j] = [key_i == key_j] (n x m comparisons),
  the joined columns are E @ columns (one matrix product), matched_i = sum_j E[i, j]. INNER
  JOIN makes matched part of the shared "alive" bit; LEFT JOIN makes it the validity of the
  joined columns. The context has the fact table's n rows whatever matched: no party learns
  the join size or who matched. Cost n*m comparisons: for moderate tables.
- hidden-intersection join (both keys unique, only with allow={"join_size"}): see
  `yinji.sql.ops_join`; reveals |A∩B| to the three compute parties.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from yinji.mpc import replicated as rep
from yinji.mpc.inputs import receive_input
from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor
from yinji.sql.parse import Query
from yinji.sql.schema import SqlError, Table, encode_column

JOIN_PAIRS_LIMIT = 4_000_000  # n*m comparisons of the oblivious join


def layout(table: Table, specs: set) -> list[tuple[tuple, int, bool]]:
    """(spec, width, fixed_point) for each derived column, in a fixed order."""
    out = []
    for spec in sorted(specs, key=lambda s: (s[0], s[1], str(s[2]))):
        what, name, _ = spec
        col = table.column(name)
        width = len(col.public_domain) if what == "onehot" else 2 if what == "token" else 1
        fixed = what == "raw" and col.kind == "decimal"
        out.append((spec, width, fixed))
    return out


def owner_matrix(table: Table, specs: set, frac_bits: int, string_key: bytes,
                 token_key: bytes = b"", owner: str | None = None) -> np.ndarray:
    """Owner side: the (rows x width) uint64 matrix of the table's derived columns (of
    `owner`'s part for a table split across companies)."""
    rows = table.rows if owner is None else table.rows_of(owner)
    if table.key is not None and table.data is not None:
        keys = [v for v in table.data[table.key] if v is not None]
        if len(set(map(str, keys))) != len(keys):
            raise SqlError(f"table {table.name!r}: its declared key {table.key!r} has duplicates")
    parts = []
    for spec, width, _ in layout(table, specs):
        m = encode_column(table, spec, frac_bits, string_key, token_key, rows)
        parts.append(m.reshape(rows, width))
    if not parts:
        return np.zeros((rows, 0), np.uint64)
    return np.concatenate(parts, axis=1)


@dataclass
class Context:
    n: int
    cols: dict[tuple, SharedTensor]           # (alias, what, column, arg) -> shares
    alive: SharedTensor                       # join matches (then WHERE)
    aliases: list[str] = field(default_factory=list)
    opened: dict[str, int] = field(default_factory=dict)  # public facts, e.g. the join size


def share_table(s: Session, table: Table, specs: set, string_key: bytes,
                token_key: bytes = b"") -> dict[tuple, SharedTensor]:
    """Run by each compute party: the table's derived columns as shared tensors."""
    lay = layout(table, specs)
    width = sum(w for _, w, _ in lay)
    blocks = []
    for owner, rows in table.owners:
        shape = (rows, width)
        if owner in s.names:
            rank = s.names.index(owner)
            raw = None
            if s.rank == rank:
                if table.data is None:
                    raise SqlError(f"table {table.name!r}: its owner {owner} gave no data")
                raw = owner_matrix(table, specs, s.frac_bits, string_key, token_key, owner)
            blocks.append(rep.share(s, raw, rank, shape))
        else:
            got = receive_input(s, owner, frac_bits=0, max_elements=max(1, rows * width))
            if got.shape != shape:
                raise SqlError(f"table {table.name!r} from {owner}: expected {shape}, got {got.shape}")
            blocks.append(got.shares)
    shares = tuple(np.concatenate([b[i] for b in blocks]) for i in range(2))
    out, pos = {}, 0
    for spec, w, fixed in lay:
        part = (shares[0][:, pos:pos + w], shares[1][:, pos:pos + w])
        if w == 1 and spec[0] not in ("onehot", "token"):
            part = (part[0][:, 0].copy(), part[1][:, 0].copy())
        out[spec] = SharedTensor(s, (np.ascontiguousarray(part[0]), np.ascontiguousarray(part[1])),
                                 s.frac_bits if fixed else 0)
        pos += w
    return out


def build(s: Session, q: Query, string_key: bytes, allow: frozenset[str]) -> Context:
    """Share every table and join them into one row context (module docstring)."""
    from yinji.sql.ops_join import hidden_join_context, token_key, use_hidden_join
    if use_hidden_join(s, q, allow):
        return hidden_join_context(s, q, token_key(s, q), string_key)
    shared = {src.alias: share_table(s, src.table, q.needed[src.alias], string_key)
              for src in q.sources}
    base = q.sources[0]
    joins = list(q.joins)
    if len(q.joins) == 1:
        j = q.joins[0]
        left_t, right_t = q.table(j.left[0]), q.table(j.right[0])
        if not _is_key(right_t, j.right[1]) and _is_key(left_t, j.left[1]) and j.kind == "inner":
            base = q.sources[1]
            joins = [type(j)("inner", j.right, j.left)]
    ctx = Context(base.table.rows,
                  {(base.alias,) + k: v for k, v in shared[base.alias].items()},
                  SharedTensor.public(s, np.ones(base.table.rows, np.int64), 0), [base.alias])
    for j in joins:
        other = j.right[0]
        if not _is_key(q.table(other), j.right[1]):
            raise SqlError(f"JOIN on a non-key: {j.left[0]}.{j.left[1]} = {j.right[0]}.{j.right[1]}"
                           f" (declare a unique key of {q.table(other).name!r})")
        _attach(s, q, ctx, shared[other], other, j)
    return ctx


def _is_key(t: Table, col: str) -> bool:
    return t.key is not None and t.key.lower() == col.lower()


def _key(ctx_cols: dict, alias: str, col: str, prefix: tuple = ()) -> tuple[SharedTensor, SharedTensor | None]:
    x = ctx_cols[prefix + ("raw", col, None)]
    v = ctx_cols.get(prefix + ("valid", col, None))
    return x, v


def _attach(s: Session, q: Query, ctx: Context, other: dict, alias: str, j) -> None:  # type: ignore[no-untyped-def]
    n, m = ctx.n, q.table(alias).rows
    if n * m > JOIN_PAIRS_LIMIT:
        raise SqlError(f"JOIN of {n} x {m} rows: the oblivious join is limited to "
                       f"{JOIN_PAIRS_LIMIT:,} pairs; allow the join size to be revealed "
                       "(allow={'join_size'}) for the hidden-intersection join of unique keys")
    lx, lv = _key(ctx.cols, j.left[0], j.left[1], (j.left[0],))
    rx, rv = _key(other, alias, j.right[1])
    e = lx.reshape(n, 1).eq(rx.reshape(1, m))
    valid = None
    if lv is not None and rv is not None:
        valid = lv.reshape(n, 1) * rv.reshape(1, m)
    elif lv is not None or rv is not None:
        valid = lv.reshape(n, 1) if lv is not None else rv.reshape(1, m)
    if valid is not None:
        e = e * valid
    matched = e.sum(axis=1)
    specs = list(other)
    if specs:
        widths = [1 if other[k].ndim == 1 else other[k].shape[1] for k in specs]
        mat = tuple(np.concatenate([other[k].shares[i].reshape(m, -1) for k in specs], axis=1)
                    for i in range(2))
        got = rep.matmul(s, e.shares, mat)
        pos = 0
        for k, w in zip(specs, widths, strict=True):
            part = (got[0][:, pos:pos + w], got[1][:, pos:pos + w])
            if other[k].ndim == 1:
                part = (part[0][:, 0].copy(), part[1][:, 0].copy())
            ctx.cols[(alias,) + k] = SharedTensor(s, part, other[k].frac_bits)
            pos += w
    if j.kind == "inner":
        ctx.alive = ctx.alive * matched
    else:
        for k in specs:
            if k[0] == "raw" and (alias, "valid", k[1], None) not in ctx.cols:
                ctx.cols[(alias, "valid", k[1], None)] = matched
        ctx.cols[(alias, "matched", "", None)] = matched
    ctx.aliases.append(alias)


__all__ = ["Context", "build", "layout", "owner_matrix", "share_table"]
