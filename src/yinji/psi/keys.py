"""Join-key preparation: the one place where keys are normalised before any PSI protocol.

Two parties only find a shared customer if they encode the same person's key to the same
bytes, so every protocol in `yinji.psi` takes keys from `prepare_keys`:

- every value: Unicode NFKC (full-width digits/letters/spaces -> half-width, e.g. '１１０１'
  -> '1101', U+3000 -> space), then surrounding whitespace trimmed;
- kind "id" (mainland resident ID number): inner spaces removed, the check letter upper-cased
  ('x' -> 'X'); with `validate=True`, 18 characters, 17 digits, a valid birth date and the
  ISO 7064 MOD 11-2 check character are required;
- kind "mobile": spaces and hyphens removed, a leading +86 / 0086 / 86 dropped; with
  `validate=True`, the mainland format 1[3-9]xxxxxxxxx is required;
- kind "text": NFKC + trim only; kind "upper": also upper-cased;
- kind "auto" (the default): per value, "id" if it looks like an 18-character ID number
  (17 digits and a digit or X, spaces ignored), "mobile" if it looks like a mainland mobile
  number (optionally +86 / 0086 / 86, spaces and hyphens ignored), else "text".

Multi-column keys are encoded unambiguously (each part length-prefixed). Empty keys (any part
empty after normalisation) and invalid keys are dropped and reported by row number, and so
are keys in spreadsheet notation ('1.10105E+17': Excel stored an 18-digit ID number as a
float and its digits are lost, so it could only ever match by accident). Duplicates
are handled explicitly: `duplicates="reject"` raises `DuplicateKeys`; "first" keeps the first
row of each key (the documented row) and reports the others.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

KINDS = ("auto", "text", "upper", "id", "mobile")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MOBILE = re.compile(r"1[3-9]\d{9}")
_SPACES = re.compile(r"\s+")
_ID_LIKE = re.compile(r"\d{17}[\dXx]")
_MOBILE_LIKE = re.compile(r"(?:\+86|0086|86)?1[3-9]\d{9}")
_SPREADSHEET = re.compile(r"[0-9]\.[0-9]+[eE]\+[0-9]{1,3}")


class DuplicateKeys(ValueError):
    """The same normalised key occurs on more than one row and duplicates="reject"."""

    def __init__(self, rows: list[int]) -> None:
        super().__init__(f"{len(rows)} duplicate key row(s), first rows: {rows[:10]}")
        self.rows = rows


def id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-digit mainland ID number."""
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def valid_id_number(s: str) -> bool:
    """18 characters, 17 digits + check character, a real birth date, the right checksum."""
    if len(s) != 18 or not s[:17].isdigit() or not s[:17].isascii():
        return False
    try:
        datetime.date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return False
    return id_check_char(s[:17]) == s[17]


def normalize(value: object, kind: str = "auto") -> str:
    """One value normalised as `kind` (see the module docstring); None -> ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value != value:  # NaN from a dataframe
        return ""
    s = unicodedata.normalize("NFKC", str(value)).strip()
    if kind == "auto":
        kind = _guess(s)
    if kind == "text":
        return s
    if kind == "upper":
        return s.upper()
    if kind == "id":
        return _SPACES.sub("", s).upper()
    if kind == "mobile":
        s = _SPACES.sub("", s).replace("-", "")
        for prefix in ("+86", "0086"):
            if s.startswith(prefix):
                s = s[len(prefix):]
        if len(s) == 13 and s.startswith("86"):
            s = s[2:]
        return s
    raise ValueError(f"unknown key kind {kind!r}; expected one of {KINDS}")


def _guess(s: str) -> str:
    compact = _SPACES.sub("", s)
    if _ID_LIKE.fullmatch(compact):
        return "id"
    if _MOBILE_LIKE.fullmatch(compact.replace("-", "")):
        return "mobile"
    return "text"


def _valid(s: str, kind: str) -> bool:
    if kind == "auto":
        kind = _guess(s)
    if kind == "id":
        return valid_id_number(s)
    if kind == "mobile":
        return bool(_MOBILE.fullmatch(s))
    return True


@dataclass
class KeyReport:
    """Rows (0-based, in input order) that were dropped, and why."""

    rows: int = 0
    empty: list[int] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    spreadsheet: list[int] = field(default_factory=list)  # '1.10105E+17': digits lost

    @property
    def kept(self) -> int:
        return (self.rows - len(self.empty) - len(self.invalid) - len(self.duplicates)
                - len(self.spreadsheet))

    def summary(self) -> str:
        text = (f"{self.rows} rows: {self.kept} kept, {len(self.empty)} empty, "
                f"{len(self.invalid)} invalid, {len(self.duplicates)} duplicate")
        if self.spreadsheet:
            text += (f", {len(self.spreadsheet)} in spreadsheet notation such as 1.10105E+17 "
                     f"(first rows {self.spreadsheet[:5]}): the digits are lost; export the "
                     "key column as text")
        return text


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
        status = "ok"
        for col, name in zip(cols, names, strict=True):
            kind = kind_of[name]
            s = normalize(col[i], kind)
            if not s:
                status = "empty"
                break
            if _SPREADSHEET.fullmatch(s):
                status = "spreadsheet"
                break
            if validate and not _valid(s, kind):
                status = "invalid"
            parts.append(s)
        if status == "empty":
            report.empty.append(i)
            continue
        if status == "spreadsheet":
            report.spreadsheet.append(i)
            continue
        if status == "invalid":
            report.invalid.append(i)
            continue
        key = encode_parts(parts)
        if key in seen:
            report.duplicates.append(i)
            continue
        seen[key] = i
        keys.append(key)
        rows.append(i)
    if report.duplicates and duplicates == "reject":
        raise DuplicateKeys(report.duplicates)
    return PreparedKeys(keys, np.asarray(rows, dtype=np.int64), report)


__all__ = ["KINDS", "DuplicateKeys", "KeyReport", "PreparedKeys", "encode_parts",
           "id_check_char", "normalize", "prepare_keys", "valid_id_number"]
