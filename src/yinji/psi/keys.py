"""Join-key preparation: the one place where keys are prepared before any PSI protocol.

Two parties only find a shared customer if they encode the same person's key to the same
bytes, so every protocol in `yinji.psi` takes keys from `prepare_keys`. Each value is
normalised by the shared identifier rule, `yinji.ids` (NFKC, spreadsheet-export wrappers such
as `="..."` and `'...` removed, ID numbers upper-cased with 15-digit legacy numbers upgraded
to 18 digits, mobiles without +86; kinds "auto", "id", "mobile", "text", "upper"): the same
rule PIR and record linkage apply, so a key matches in every protocol alike.

Multi-column keys are encoded unambiguously (each part length-prefixed). Empty keys (any part
empty after normalisation), keys in spreadsheet notation ('1.10105E+17': Excel stored an
18-digit ID number as a float and its digits are lost, so it could only ever match by
accident) and, with `validate=True`, invalid ones are dropped; the report gives each dropped
row's reason (`yinji.ids.Report`). Duplicates are handled explicitly: `duplicates="reject"`
raises `DuplicateKeys`; "first" keeps the first row of each key (the documented row) and
reports the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from yinji import ids
from yinji.ids import KINDS, id_check_char, normalize, valid_id_number

KeyReport = ids.Report  # the rows dropped and why (empty, invalid, duplicates, spreadsheet)


class DuplicateKeys(ValueError):
    """The same normalised key occurs on more than one row and duplicates="reject"."""

    def __init__(self, rows: list[int]) -> None:
        super().__init__(f"{len(rows)} duplicate key row(s), first rows: {rows[:10]}")
        self.rows = rows


@dataclass
class PreparedKeys:
    """Normalised, unique keys as bytes, and the input row each came from."""

    keys: list[bytes]
    rows: np.ndarray  # int64 row numbers into the input, same order as keys
    report: KeyReport

    def __len__(self) -> int:
        return len(self.keys)


def encode_parts(parts: Sequence[str]) -> bytes:
    """Unambiguous bytes of a (multi-column) key: each part UTF-8, 4-byte length-prefixed."""
    if len(parts) == 1:
        return parts[0].encode()
    out = bytearray()
    for p in parts:
        b = p.encode()
        out += len(b).to_bytes(4, "big") + b
    return bytes(out)


def prepare_keys(columns: Mapping[str, Sequence[object]] | Sequence[object], *,
                 kinds: Mapping[str, str] | str | None = None, validate: bool = False,
                 duplicates: str = "first") -> PreparedKeys:
    """Normalise the key column(s) of one party's table.

    `columns`: one sequence of values (single-column key) or a mapping name -> values
    (multi-column key, parts in mapping order). `kinds`: one kind for all columns or a
    mapping name -> kind (default "auto"). `validate`: drop ID numbers / mobiles that fail
    their format check (reported as invalid). `duplicates`: "reject" or "first".
    """
    if duplicates not in ("reject", "first"):
        raise ValueError(f"duplicates must be 'reject' or 'first', got {duplicates!r}")
    if not isinstance(columns, Mapping):
        columns = {"key": columns}
    names = list(columns)
    if not names:
        raise ValueError("no key columns")
    if isinstance(kinds, str) or kinds is None:
        kind_of = dict.fromkeys(names, kinds or "auto")
    else:
        kind_of = {n: kinds.get(n, "auto") for n in names}
    for k in kind_of.values():
        if k not in KINDS:
            raise ValueError(f"unknown key kind {k!r}; expected one of {KINDS}")
    cols = [list(columns[n]) for n in names]
    n_rows = len(cols[0])
    if any(len(c) != n_rows for c in cols):
        raise ValueError("key columns have different lengths")
    report = KeyReport(rows=n_rows)
    seen: dict[bytes, int] = {}
    keys: list[bytes] = []
    rows: list[int] = []
    for i in range(n_rows):
        parts = []
        reason = None
        for col, name in zip(cols, names, strict=True):
            s, why = ids.check(col[i], kind_of[name], validate)
            if why in (ids.EMPTY, ids.SPREADSHEET):
                reason = why
                break
            reason = reason or why  # invalid: still look for an empty part
            parts.append(s)
        if reason is not None:
            report.drop(i, reason)
            continue
        key = encode_parts(parts)
        if key in seen:
            report.drop(i, ids.DUPLICATE)
            continue
        seen[key] = i
        keys.append(key)
        rows.append(i)
    if duplicates == "reject" and (dups := report.duplicates):
        raise DuplicateKeys(dups)
    return PreparedKeys(keys, np.asarray(rows, dtype=np.int64), report)


__all__ = ["KINDS", "DuplicateKeys", "KeyReport", "PreparedKeys", "encode_parts",
           "id_check_char", "normalize", "prepare_keys", "valid_id_number"]
