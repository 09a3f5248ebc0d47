"""Job results too large for the result JSON: written as a CSV file in the job's results
folder while they are produced, so a recipient node never holds a 10^7-row intersection or
link table in memory, in JSON or in its database.

The result JSON then names the file with its row count, size and SHA-256 (so the signed
`result delivered` audit entry covers the file's content) and, when the table has at most
INLINE_ROWS rows, carries it inline as well, as results always did (small jobs, tests,
scripts). The file is written under a temporary name and renamed when complete; a job that
fails leaves no file (`jobs.Jobs` removes the folder it created).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

INLINE_ROWS = 10_000   # a table up to this many rows is also inline in the result JSON
_FLUSH = 1 << 20       # bytes of CSV text buffered between writes
_BATCH = 4096          # rows formatted at once


def write_table(folder: Path, name: str, header: list[str], rows: Iterable[list[Any]],
                inline: int = INLINE_ROWS) -> tuple[dict[str, Any], list[list[Any]] | None]:
    """Stream `rows` to folder/name as CSV (UTF-8, header first). Returns the file's entry
    for the result JSON -- {"name", "rows", "bytes", "sha256"} -- and the rows themselves if
    there were at most `inline` of them (else None)."""
    folder.mkdir(parents=True, exist_ok=True)
    final, part = folder / name, folder / f".{name}.part"
    digest, size, count = hashlib.sha256(), 0, 0
    kept: list[list[Any]] | None = []
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    try:
        with open(part, "wb") as f:
            def flush() -> None:
                nonlocal size
                data = buf.getvalue().encode("utf-8")
                f.write(data)
                digest.update(data)
                size += len(data)
                buf.seek(0)
                buf.truncate()

            it = iter(rows)
            while batch := list(itertools.islice(it, _BATCH)):
                w.writerows(batch)
                count += len(batch)
                if kept is not None:
                    kept.extend(batch)
                    if len(kept) > inline:
                        kept = None
                if buf.tell() >= _FLUSH:
                    flush()
            flush()
        part.replace(final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    entry = {"name": name, "rows": count, "bytes": size, "sha256": digest.hexdigest()}
    return entry, kept


__all__ = ["INLINE_ROWS", "write_table"]
