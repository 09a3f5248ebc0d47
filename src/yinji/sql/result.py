"""The result of a secure SQL query as its recipient sees it: decoding the one opened matrix
[per select item: value, valid | rank | released | suppressed] into rows, and the per-row
predicates for the differencing ledger."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import numpy as np

EPOCH = datetime.date(1970, 1, 1)
HIDDEN = object()  # a secret group key that is not in the select list


@dataclass
class SqlResult:
    """What `execute` returns. `rows`, `suppressed` and `cell_predicates` are filled at the
    recipient only (None elsewhere)."""
    columns: list[str]
    rows: list[tuple] | None
    context: str
    suppressed: list[tuple] | None = None
    cell_predicates: list[str] | None = None
    opened: dict[str, Any] = field(default_factory=dict)  # public facts the compute parties
    # learnt on the way (only "join_size" with the hidden join): for the audit record


def jsonable(v: Any) -> Any:
    return v if v is None or isinstance(v, (str, int, float)) else int(v)


def _decode(kind: str, frac: int, cats: list, raw: int) -> Any:
    if kind == "decimal":
        return raw / float(1 << frac)
    if kind == "date":
        return EPOCH + datetime.timedelta(days=raw)
    if kind == "category":
        return cats[raw] if 0 <= raw < len(cats) else None
    if kind == "bool":
        return bool(raw)
    return int(raw)


def fill(result: SqlResult, meta: dict, raw: np.ndarray) -> None:
    """Recipient side: decode the opened matrix into rows."""
    k = len(meta["kinds"])
    rows, ranks, suppressed, preds = [], [], [], []
    for r, line in enumerate(raw):
        released = int(line[2 * k + (1 if meta["rank"] else 0)])
        if meta["supp"] and int(line[-1]) and meta["keys"] is not None:
            suppressed.append(tuple(meta["keys"][r]))
        if not released:
            continue
        row = []
        for c in range(k):
            ok = int(line[2 * c + 1])
            row.append(_decode(meta["kinds"][c], meta["frac"][c], meta["categories"][c],
                               int(line[2 * c])) if ok else None)
        rows.append(tuple(row))
        ranks.append(int(line[2 * k]) if meta["rank"] else r)
        keys = meta["keys"][r] if meta["keys"] is not None else \
            [row[i] if i >= 0 else HIDDEN for i in meta["key_cols"]]
        preds.append(_predicate(meta, keys))
    order = np.argsort(np.asarray(ranks, dtype=np.int64), kind="stable")
    result.rows = [rows[i] for i in order]
    result.cell_predicates = [preds[i] for i in order]
    result.suppressed = suppressed


def _predicate(meta: dict, keys: list) -> str:
    parts = [f"({meta['where']})"] if meta["where"] else []
    for expr_sql, v in zip(meta["group"], keys, strict=True):
        if v is HIDDEN:
            parts.append(f"{expr_sql} = <not selected>")
        elif v is None:
            parts.append(f"{expr_sql} IS NULL")
        elif isinstance(v, datetime.date):
            parts.append(f"{expr_sql} = DATE '{v.isoformat()}'")
        elif isinstance(v, str):
            parts.append(f"{expr_sql} = '" + v.replace("'", "''") + "'")
        else:
            parts.append(f"{expr_sql} = {v!r}")
    return " AND ".join(parts) if parts else "TRUE"
