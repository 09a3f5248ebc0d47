"""Reading a table in chunks of rows, so memory is bounded by a chunk, not by the table.

Sources: a CSV file (the encoding and delimiter judged as `yinji.textfile` does: the encoding
on all bytes, read in 1 MiB pieces; the delimiter on the head), a Parquet file (pyarrow's
`iter_batches`; without pyarrow a clear error), an .xlsx workbook (openpyxl's read-only
streaming), or a SQL query or table (`SqlSource`: SQLAlchemy with a server-side cursor,
`stream_results` and `partitions`). Values come as text for files ("" for a missing cell or
a Parquet null) and as the driver returns them for SQL (None for NULL).

Why here: PSI, PIR builds and record linkage all read the same kinds of sources, and the one
rule for them (`iter_rows`) keeps a 10^7-row file from ever being a 10^7-element list.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from yinji import textfile
from yinji.textfile import TableFileError

DEFAULT_CHUNK = 1 << 18


@dataclass(frozen=True)
class SqlSource:
    """A SQL source: `url` (a SQLAlchemy URL or Engine) and either a `query` (SELECT text whose
    result names the columns) or a `table` name (its columns are selected by name)."""

    url: Any
    query: str | None = None
    table: str | None = None

    def __post_init__(self) -> None:
        if (self.query is None) == (self.table is None):
            raise ValueError("SqlSource needs exactly one of query= or table=")

    def __str__(self) -> str:
        return f"sql {self.table or 'query'}"


Source = str | Path | SqlSource


@dataclass
class Stream:
    """Chunks of rows of a source (only the wanted columns, in their order), and how it is
    read (`describe`, after the last chunk: the row count)."""

    header: list[str]
    chunks: Iterator[list[list[Any]]]
    format: str
    encoding: str | None = None
    delimiter: str | None = None
    rows: int = 0

    def describe(self) -> str:
        how = self.format.upper()
        if self.format == "csv":
            how += f" in {self.encoding} with {self.delimiter!r}"
        return f"{self.rows:,} rows, {how}, read in chunks"


def iter_rows(source: Source, columns: Sequence[str] | None = None,
              chunk_rows: int = DEFAULT_CHUNK) -> Stream:
    """The rows of `source` in chunks of at most `chunk_rows` rows, each row the values of
    `columns` (default: all) in that order. Raises TableFileError naming a missing column."""
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, got {chunk_rows}")
    if isinstance(source, SqlSource):
        return _sql(source, columns, chunk_rows)
    path = Path(source)
    kind = textfile.file_format(path)
    if kind == "parquet":
        return _parquet(path, columns, chunk_rows)
    if kind == "xlsx":
        return _xlsx(path, columns, chunk_rows)
    return _csv(path, columns, chunk_rows)


def _pick(header: list[str], columns: Sequence[str] | None, where: object) -> list[int]:
    if columns is None:
        return list(range(len(header)))
    missing = [c for c in columns if c not in header]
    if missing:
        raise TableFileError(f"{where}: no column(s) {missing}; columns: {header}")
    return [header.index(c) for c in columns]


def _counted(stream: Stream, chunks: Iterator[list[list[Any]]]) -> Stream:
    def gen() -> Iterator[list[list[Any]]]:
        for chunk in chunks:
            stream.rows += len(chunk)
            yield chunk
    stream.chunks = gen()
    return stream


def _csv(path: Path, columns: Sequence[str] | None, chunk_rows: int) -> Stream:
    encoding = textfile.csv_encoding(path)
    with open(path, newline="", encoding=encoding) as fh:
        head = fh.read(textfile.SCORE_SAMPLE)
    if "\x00" in head:
        raise TableFileError(f"{path}: binary data (NUL bytes), not a CSV text file; "
                             "expected CSV, .xlsx or .parquet")
    delimiter = textfile.sniff_delimiter(head)
    fh = open(path, newline="", encoding=encoding)  # noqa: SIM115 - closed by the generator
    reader = csv.reader(fh, delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        fh.close()
        raise TableFileError(f"{path}: line {reader.line_num}: {exc}") from None
    if header is None:
        fh.close()
        raise TableFileError(f"{path}: empty file (no header)")
    try:
        at = _pick(header, columns, path)
    except TableFileError:
        fh.close()
        raise

    def gen() -> Iterator[list[list[str]]]:
        with fh:
            while True:
                try:
                    raw = list(islice(reader, chunk_rows))
                except csv.Error as exc:
                    raise TableFileError(f"{path}: line {reader.line_num}: {exc}") from None
                if not raw:
                    return
                yield [[r[i] if i < len(r) else "" for i in at] for r in raw]

    return _counted(Stream([header[i] for i in at], iter(()), "csv", encoding, delimiter),
                    gen())


def _parquet(path: Path, columns: Sequence[str] | None, chunk_rows: int) -> Stream:
    pq = textfile.parquet_module(path)
    pf = pq.ParquetFile(path)
    header = list(pf.schema_arrow.names)
    at = _pick(header, columns, path)
    names = [header[i] for i in at]

    def gen() -> Iterator[list[list[str]]]:
        with pf:
            for batch in pf.iter_batches(batch_size=chunk_rows, columns=names):
                cols = [["" if v is None else str(v) for v in batch.column(c).to_pylist()]
                        for c in range(len(names))]
                yield [list(r) for r in zip(*cols, strict=True)] if cols else []

    return _counted(Stream(names, iter(()), "parquet"), gen())


def _xlsx(path: Path, columns: Sequence[str] | None, chunk_rows: int) -> Stream:
    from openpyxl import load_workbook

    fh = open(path, "rb")  # noqa: SIM115 - closed by the generator
    try:
        book = load_workbook(fh, read_only=True, data_only=True)
        rows = book.worksheets[0].iter_rows(values_only=True)
        first = next(rows, None)
    except Exception as exc:  # noqa: BLE001 - any failure: the file is not a workbook
        fh.close()
        raise TableFileError(f"{path}: a ZIP file but not an .xlsx workbook ({exc})") from None
    if first is None:
        book.close()
        fh.close()
        raise TableFileError(f"{path}: the first sheet is empty (no header)")
    header = [textfile.cell_text(v).strip() for v in first]
    try:
        at = _pick(header, columns, path)
    except TableFileError:
        book.close()
        fh.close()
        raise

    def gen() -> Iterator[list[list[str]]]:
        try:
            while raw := list(islice(rows, chunk_rows)):
                out = [[textfile.cell_text(r[i]) if i < len(r) else "" for i in at] for r in raw
                       if any(v is not None for v in r)]
                yield out
        finally:
            book.close()
            fh.close()

    return _counted(Stream([header[i] for i in at], iter(()), "xlsx"), gen())


def _sql(src: SqlSource, columns: Sequence[str] | None, chunk_rows: int) -> Stream:
    import sqlalchemy as sa

    engine = sa.create_engine(src.url) if isinstance(src.url, str) else src.url
    own = isinstance(src.url, str)
    conn = engine.connect()
    try:
        if src.table is not None:
            table = sa.Table(src.table, sa.MetaData(), autoload_with=conn)
            names = [c.name for c in table.columns]
            at = _pick(names, columns, src)
            stmt = sa.select(*[table.c[names[i]] for i in at])
        else:
            stmt = sa.text(src.query)
        result = conn.execution_options(stream_results=True,
                                        yield_per=chunk_rows).execute(stmt)
        names = list(result.keys())
        at = _pick(names, columns, src)
    except Exception:
        conn.close()
        if own:
            engine.dispose()
        raise

    def gen() -> Iterator[list[list[Any]]]:
        try:
            for part in result.partitions(chunk_rows):
                yield [[r[i] for i in at] for r in part]
        finally:
            result.close()
            conn.close()
            if own:
                engine.dispose()

    return _counted(Stream([names[i] for i in at], iter(()), "sql"), gen())


__all__ = ["DEFAULT_CHUNK", "SqlSource", "Stream", "iter_rows"]
