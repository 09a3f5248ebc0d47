"""Turning a member's table into key -> label records, shared by `yinji pir serve` and the
node's PIR services (yinji.node.pir_services): one rule for keys, labels and rate limits.

Keys are the key column's text normalised by the list's key kind (`yinji.ids`, default
"auto": an ID number with a lower-case x, full-width digits, `="..."` or a 15-digit legacy
form becomes its canonical 18-digit form; "exact": only stripped), the rule the kind's
clients apply too (it travels in the public layout). A key that is empty, in spreadsheet
notation ('1.10105E+17': its digits are lost) or repeated after normalisation is an error
naming the rows (never silently dropped). A label is the chosen columns as compact JSON, so a client
reads a small object ({"tag": "aml", "since": "2024-05"}). The label slot size defaults to
the longest label rounded up to 16 bytes, up to MAX_AUTO_LABEL bytes: every record's slot is
that wide and the hint every client downloads grows with it (one 20 KB label among 2,000
records once took the hint from 2.8 to 235 MiB and the server to 6.5 GB), so a longer label
is refused naming its rows unless the operator sets the size explicitly (at most
MAX_LABEL bytes).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from yinji import ids
from yinji.pir.keyword import DEFAULT_KEY_KIND, EXACT, check_key_kind
from yinji.pir.oprf import RateLimit

MAX_AUTO_LABEL = 1024      # bytes: the automatic slot size stops here (a watch-list label is ~100)
MAX_LABEL = 65_536         # bytes: the largest slot an operator may ask for

_RATE_UNITS = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "hour": 3600.0,
               "d": 86400.0, "day": 86400.0}


class RecordError(ValueError):
    """Records that cannot be served as given; the message names the source and rows."""


def build_records(rows: Iterable[Mapping[str, object]], key_column: str,
                  label_columns: list[str], source: str,
                  key_kind: str = DEFAULT_KEY_KIND) -> list[tuple[str, bytes]]:
    """(normalised key, label) per row; label = compact JSON of the label columns (values as
    text). Rejects empty, spreadsheet-notation and duplicate keys, naming the rows (row 1 =
    the first data row)."""
    check_key_kind(key_kind)
    first_row: dict[str, int] = {}
    dups: list[str] = []
    sheet: list[int] = []
    records = []
    for i, row in enumerate(rows, start=1):
        raw = _text(row[key_column])
        key = raw.strip() if key_kind == EXACT else ids.normalize(raw, key_kind)
        if not key:
            raise RecordError(f"{source}: row {i}: empty key in column {key_column!r}")
        if key_kind != EXACT and ids.is_spreadsheet_float(key):
            sheet.append(i)
            continue
        if key in first_row:
            same = "" if raw.strip() == key else f" = {key!r}"
            dups.append(f"{raw.strip()!r}{same} (rows {first_row[key]} and {i})")
            continue
        first_row[key] = i
        label = json.dumps({c: _text(row[c]) for c in label_columns}, ensure_ascii=False,
                           separators=(",", ":")).encode()
        records.append((key, label))
    if sheet:
        raise RecordError(f"{source}: {len(sheet)} key(s) in column {key_column!r} "
                          f"{ids.REASONS[ids.SPREADSHEET]} (rows {sheet[:5]})")
    if dups:
        raise RecordError(f"{source}: {len(dups)} duplicate key(s) in column "
                          f"{key_column!r}, e.g. {'; '.join(dups[:3])}; keys must be unique after "
                          f"normalisation ({key_kind})")
    return records


def _text(value: object) -> str:
    return "" if value is None else str(value)


def label_size_for(records: list[tuple[str, bytes]], requested: int | None = None) -> int:
    """The slot size for these labels: `requested`, or the longest rounded up to 16 -- refused
    when the longest is over MAX_AUTO_LABEL and no size was requested (rows named: row 1 =
    the first data row, as `build_records` returns them)."""
    lengths = [len(lab) for _, lab in records]
    longest = max(lengths, default=0)
    if requested is not None and longest > requested:
        raise RecordError(f"label size {requested}: the longest label is {longest} bytes")
    if requested is not None and not 16 <= requested <= MAX_LABEL:
        raise RecordError(f"label size {requested}: must be between 16 and {MAX_LABEL} bytes")
    if requested is None and longest > MAX_AUTO_LABEL:
        rows = [i + 1 for i, n in enumerate(lengths) if n > MAX_AUTO_LABEL]
        raise RecordError(
            f"{len(rows)} label(s) longer than {MAX_AUTO_LABEL} bytes (rows "
            f"{', '.join(map(str, rows[:5]))}{', ...' if len(rows) > 5 else ''}; the longest "
            f"{longest} bytes): every record's slot would be that wide and the hint every "
            "client downloads grows with it; shorten those values or serve fewer label "
            "columns, or set the label size explicitly")
    return requested if requested is not None else max(16, -(-longest // 16) * 16)


def parse_rate(text: str, what: str = "rate limit") -> RateLimit:
    """'N/s', 'N/min', 'N/h' or 'N/day': N OPRF evaluations per period, N also the burst."""
    count, sep, unit = str(text).partition("/")
    unit = unit.strip().lower()
    if not sep or not count.strip().isdigit() or int(count) <= 0 or unit not in _RATE_UNITS:
        raise RecordError(f"{what} {text!r}: expected N/s, N/min, N/h or N/day, N > 0")
    n = int(count)
    return RateLimit(burst=n, per_second=n / _RATE_UNITS[unit])


__all__ = ["MAX_AUTO_LABEL", "MAX_LABEL", "RecordError", "build_records", "label_size_for",
           "parse_rate"]
