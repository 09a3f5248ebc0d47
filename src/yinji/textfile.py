"""Opening the CSV files companies export: UTF-8 (with or without the byte-order mark Excel
writes) or GB18030, the superset of GBK / GB2312 that Chinese Windows and Excel save by
default. Without this a GBK export fails with a decoding error and a UTF-8 file with a BOM
has a first column named '\\ufeffid'."""

from __future__ import annotations

import codecs
from pathlib import Path
from typing import TextIO

SNIFF = 1 << 16  # bytes read to choose the encoding


def csv_encoding(path: str | Path) -> str:
    """'utf-8-sig' when the file's first 64 KiB are UTF-8 (ASCII included), else 'gb18030'."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8-sig"


def open_csv(path: str | Path) -> TextIO:
    """The file opened for `csv.reader` in its encoding. A later byte that does not decode
    raises UnicodeDecodeError; callers name the file in their error."""
    return open(path, newline="", encoding=csv_encoding(path))  # noqa: SIM115


def decode_error(path: str | Path, exc: UnicodeDecodeError) -> str:
    return (f"{path}: not UTF-8 or GB18030 text ({exc.encoding} cannot decode byte "
            f"{exc.object[exc.start:exc.start + 1]!r} at position {exc.start} of a chunk); "
            "save it as UTF-8")
