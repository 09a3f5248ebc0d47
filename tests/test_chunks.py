"""yinji.chunks: a table read in chunks gives exactly the rows `textfile.read_table` gives."""

import pytest

from yinji import textfile
from yinji.chunks import SqlSource, iter_rows
from yinji.textfile import TableFileError


def rows_of(stream):
    return [r for chunk in stream.chunks for r in chunk]


def test_csv_in_chunks_equals_the_whole_file(tmp_path):
    path = tmp_path / "a.csv"
    lines = ["客户;金额;备注"] + [f"张{i};{i * 10};x" for i in range(23)] + ["短行"]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    whole = textfile.read_table(path)
    for chunk in (1, 5, 24, 100):
        s = iter_rows(path, chunk_rows=chunk)
        sizes = []
        got = []
        for c in s.chunks:
            sizes.append(len(c))
            got += c
        assert s.header == whole.header and max(sizes) <= chunk
        assert got == [r + [""] * (3 - len(r)) for r in whole.rows]
        assert s.describe() == "24 rows, CSV in gb18030 with ';', read in chunks"
    s = iter_rows(path, ["备注", "客户"], 7)
    assert s.header == ["备注", "客户"] and rows_of(s)[-1] == ["", "短行"]


def test_xlsx_and_clear_errors(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["id", "n"])
    for i in range(9):
        sheet.append([f"k{i}", i])
    book.save(tmp_path / "a.xlsx")
    s = iter_rows(tmp_path / "a.xlsx", ["n", "id"], 4)
    assert rows_of(s) == [[str(i), f"k{i}"] for i in range(9)] and s.format == "xlsx"
    with pytest.raises(TableFileError, match=r"no column\(s\) \['nope'\]; columns: \['id', 'n'\]"):
        iter_rows(tmp_path / "a.xlsx", ["nope"])
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(TableFileError, match="empty file"):
        iter_rows(tmp_path / "e.csv")
    with pytest.raises(TableFileError, match="no such file"):
        iter_rows(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="chunk_rows must be at least 1"):
        iter_rows(tmp_path / "a.xlsx", chunk_rows=0)
    with pytest.raises(ValueError, match="exactly one of query= or table="):
        SqlSource("sqlite://")
