"""Reading the table files companies export: CSV in UTF-8 (with or without the byte-order mark
Excel writes), GB18030 (the superset of GBK / GB2312 that mainland Windows and Excel save),
Big5 / Big5-HKSCS (what Hong Kong systems save), with `,` `;` tab or `|` between fields;
Excel workbooks (.xlsx, first sheet); and Parquet.

Why here: every command and the node catalog read the same kinds of files, and a misread file
gives silently wrong answers (a Big5 name decoded as GB18030 is another name, and then no
link and no match). The encoding is judged on the whole file, not on its head: a file whose
first 64 KiB are ASCII may still be GB18030 further down.

Choosing between GB18030 and Big5: most byte strings of one decode under the other too, so
decodability alone does not decide. Each decoding that succeeds is scored by the share of its
non-ASCII characters that are common characters of that encoding's own standard (GB2312 for
GB18030, Big5 level 1 for Big5); a misread gives rare characters (張偉 read as GB18030 is
"眎岸"-like). The higher score wins, ties go to GB18030. `charset-normalizer` was measured
on names in both encodings and picked GB18030 for 17-25% of Big5 files of 5-50 lines, so it
is not used for this choice.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

CHUNK = 1 << 20
SCORE_SAMPLE = 1 << 16  # non-ASCII characters scored per candidate encoding
DELIMITERS = ",;\t|"
CJK_ENCODINGS = ("gb18030", "big5hkscs")
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # legacy .xls
_PARQUET = b"PAR1"


class TableFileError(ValueError):
    """A file that cannot be read as a table; the message names the file and the problem."""


@dataclass(frozen=True)
class Table:
    """A file's header and rows, all values as text, and how it was read."""

    header: list[str]
    rows: list[list[str]]
    format: str  # "csv", "xlsx" or "parquet"
    encoding: str | None = None  # CSV only
    delimiter: str | None = None  # CSV only

    def describe(self) -> str:
        """'1,234 rows, CSV in gb18030 with ';'' — for the commands to print."""
        how = self.format.upper()
        if self.format == "csv":
            how += f" in {self.encoding} with {self.delimiter!r}"
        return f"{len(self.rows):,} rows, {how}"


def csv_encoding(path: str | Path) -> str:
    """The encoding of a text file, judged on all of its bytes: 'utf-8-sig' (ASCII included),
    'gb18030' or 'big5hkscs'. Raises TableFileError naming the first byte no candidate
    decodes."""
    path = Path(path)
    failure = _first_failure(path, "utf-8")
    if failure is None:
        return "utf-8-sig"
    fits = {enc: _sample(path, enc) for enc in CJK_ENCODINGS
            if _first_failure(path, enc) is None}
    if not fits:
        raise TableFileError(
            f"{path}: not UTF-8, GB18030 or Big5 text (byte {failure[1]!r} at offset "
            f"{failure[0]:,} does not decode); save it as UTF-8 CSV or .xlsx")
    return max(fits, key=lambda enc: (_common_share(fits[enc], enc), enc == "gb18030"))


def open_csv(path: str | Path) -> TextIO:
    """The file opened for `csv.reader` in its encoding (see `csv_encoding`)."""
    return open(path, newline="", encoding=csv_encoding(path))  # noqa: SIM115


def read_table(path: str | Path) -> Table:
    """Header and rows of a CSV, .xlsx or Parquet file (chosen by content, not by name)."""
    path = Path(path)
    kind = file_format(path)
    if kind == "parquet":
        return _read_parquet(path)
    return _read_xlsx(path) if kind == "xlsx" else _read_csv(path)


def read_header(path: str | Path) -> list[str]:
    """The column names only (a CSV's first record, an .xlsx sheet's first row, a Parquet
    schema), without reading every row into memory."""
    path = Path(path)
    kind = file_format(path)
    if kind == "parquet":
        return list(parquet_module(path).read_schema(path).names)
    if kind == "xlsx":
        return _read_xlsx(path, max_rows=1).header
    with open(path, newline="", encoding=csv_encoding(path)) as fh:
        text = fh.read(SCORE_SAMPLE)
    return next(csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text)), [])


def file_format(path: Path) -> str:
    """'parquet', 'xlsx' or 'csv', from the file's first bytes (and a Parquet name)."""
    if not path.is_file():
        raise TableFileError(f"{path}: no such file")
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(_PARQUET) or path.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    if head.startswith(_ZIP):
        return "xlsx"
    if head.startswith(_OLE):
        raise TableFileError(f"{path}: a legacy Excel .xls workbook; save it as .xlsx or CSV")
    return "csv"


def _read_csv(path: Path) -> Table:
    encoding = csv_encoding(path)
    with open(path, newline="", encoding=encoding) as fh:
        text = fh.read()
    if "\x00" in text:
        raise TableFileError(f"{path}: binary data (NUL bytes), not a CSV text file; "
                             "expected CSV, .xlsx or .parquet")
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise TableFileError(f"{path}: empty file (no header)")
        rows = list(reader)
    except csv.Error as exc:
        raise TableFileError(f"{path}: line {reader.line_num}: {exc}") from None
    return Table(header, rows, "csv", encoding, delimiter)


def sniff_delimiter(text: str) -> str:
    """The field separator among `DELIMITERS`, from the first lines; ',' for one column."""
    sample = "\n".join(text[:SCORE_SAMPLE].splitlines()[:20])
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        first = sample.split("\n", 1)[0]
        counts = {d: first.count(d) for d in DELIMITERS}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _read_xlsx(path: Path, max_rows: int | None = None) -> Table:
    import zipfile

    from openpyxl import load_workbook

    with open(path, "rb") as fh:  # a file object: openpyxl would judge a name by its extension
        try:
            book = load_workbook(fh, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise TableFileError(f"{path}: a ZIP file but not an .xlsx workbook ({exc})") \
                from None
        try:
            rows = [[cell_text(v) for v in r]
                    for r in book.worksheets[0].iter_rows(max_row=max_rows, values_only=True)]
        finally:
            book.close()
    while rows and not any(rows[-1]):
        rows.pop()
    if not rows:
        raise TableFileError(f"{path}: the first sheet is empty (no header)")
    width = max(len(r) for r in rows)
    header = [h.strip() for h in rows[0]]
    while width and not header[width - 1] and not any(r[width - 1:] for r in rows[1:]):
        width -= 1
    return Table(header[:width], [r[:width] + [""] * (width - len(r)) for r in rows[1:]],
                 "xlsx")


def cell_text(value: object) -> str:
    """A cell as the text a user sees. Integral numbers print without '.0'; an 18-digit ID
    that Excel stored as a number stays in exponent form, which PSI's key report names."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text.removesuffix("T00:00:00")
    return str(value)


def parquet_module(path: Path):  # noqa: ANN202 - pyarrow.parquet, optional
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise TableFileError(f"{path}: reading Parquet needs pyarrow, which is not "
                             "installed; install it or convert the file to CSV") from None
    return pq


def _read_parquet(path: Path) -> Table:
    table = parquet_module(path).read_table(path)
    cols = table.column_names
    data = [table.column(c).to_pylist() for c in cols]
    rows = [["" if v is None else str(v) for v in r] for r in zip(*data, strict=True)]
    return Table(list(cols), rows, "parquet")


def _first_failure(path: Path, encoding: str) -> tuple[int, bytes] | None:
    """(offset, byte) of the first byte that does not decode, or None if the file decodes."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(CHUNK)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return offset + exc.start - pending, exc.object[exc.start:exc.start + 1]
            if not chunk:
                return None
            offset += len(chunk)


def _sample(path: Path, encoding: str) -> str:
    """Up to SCORE_SAMPLE non-ASCII characters of the file decoded as `encoding`."""
    out: list[str] = []
    got = 0
    with open(path, encoding=encoding, newline="") as fh:
        while got < SCORE_SAMPLE and (text := fh.read(CHUNK)):
            wide = [c for c in text if ord(c) > 127]
            out.extend(wide)
            got += len(wide)
    return "".join(out[:SCORE_SAMPLE])


def _common_share(text: str, encoding: str) -> float:
    """Share of `text`'s characters that are common in `encoding`'s standard: in GB2312 for
    GB18030, in Big5 level 1 (0xA440-0xC67E) or the symbol rows for Big5."""
    if not text:
        return 1.0
    common = 0
    for ch, n in Counter(text).items():
        if encoding == "gb18030":
            try:
                ch.encode("gb2312")
                common += n
            except UnicodeEncodeError:
                pass
        else:
            try:
                code = int.from_bytes(ch.encode("big5"), "big")
            except UnicodeEncodeError:
                continue
            if 0xA140 <= code <= 0xC67E:
                common += n
    return common / len(text)


def decode_error(path: str | Path, exc: UnicodeDecodeError) -> str:
    return (f"{path}: not UTF-8, GB18030 or Big5 text ({exc.encoding} cannot decode byte "
            f"{exc.object[exc.start:exc.start + 1]!r} at position {exc.start} of a chunk); "
            "save it as UTF-8")
