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
RESULT_LIMIT = 64 << 20   # bytes of a result message one node sends another (JSON)
DATA_LIMIT = 512 << 20    # bytes of one data message of a job that loads its input whole
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


class MessageTooLarge(ValueError):
    """A peer's message over the bound its receiver set for it (or one about to be sent)."""


def check_size(data: bytes, what: str, to: str, limit: int | None = None) -> bytes:
    """`data`, or MessageTooLarge before it is sent when it exceeds `limit` (default
    RESULT_LIMIT: the bound the receiver applies): the job fails here, saying what to do."""
    limit = limit or RESULT_LIMIT
    if len(data) > limit:
        raise MessageTooLarge(f"{what} for {to} is {len(data)} bytes, over the limit of "
                              f"{limit} bytes; run the job on a stream (results go to files)")
    return data


def recv_bounded(ch: Any, what: str, limit: int | None = None) -> bytes:
    """The next message from `ch`'s peer, refused past `limit` bytes (default RESULT_LIMIT)
    before it is read (`Channel.recv_bytes_at_most`) with an error naming the peer, the size
    and `what`."""
    from yinji.net.channel import MalformedFrame

    limit = limit or RESULT_LIMIT
    try:
        return ch.recv_bytes_at_most(limit)
    except MalformedFrame as exc:
        raise MessageTooLarge(f"{what} from {ch.peer} refused: {exc}") from None


__all__ = ["DATA_LIMIT", "INLINE_ROWS", "RESULT_LIMIT", "MessageTooLarge", "check_size",
           "recv_bounded", "write_table"]
