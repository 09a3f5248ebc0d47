"""Table files as companies export them: UTF-8 (BOM or not), GBK / GB18030, Big5 / Big5-HKSCS,
any common delimiter, .xlsx; unreadable files get an error that names the file."""


import numpy as np
import pytest

from yinji.textfile import TableFileError, csv_encoding, read_table

ROWS = "证件号,姓名,手机\n11010519491231002X,张三,13800138000\n440524188001010014,欧阳修,13912345678\n"
HK_ROWS = "id,name,city\n1,張偉,香港\n2,陳大文,九龍\n3,黃志明,沙田\n"


@pytest.fixture(params=["utf-8", "utf-8-sig", "gbk", "gb18030"])
def exported(request, tmp_path):
    p = tmp_path / f"export-{request.param}.csv"
    p.write_bytes(ROWS.encode(request.param))
    return p, request.param


def test_encoding_is_chosen_from_the_bytes(exported):
    path, enc = exported
    assert csv_encoding(path) == ("gb18030" if enc.startswith("gb") else "utf-8-sig")


@pytest.mark.parametrize("enc", ["big5", "big5hkscs"])
def test_big5_is_read_as_big5_not_gb18030(tmp_path, enc):
    p = tmp_path / "hk.csv"
    p.write_bytes(HK_ROWS.encode(enc))
    table = read_table(p)
    assert table.encoding == "big5hkscs"
    assert [r[1] for r in table.rows] == ["張偉", "陳大文", "黃志明"]


def test_one_big5_name_and_one_gb_name(tmp_path):
    """The shortest files: one non-ASCII name each way."""
    (tmp_path / "b.csv").write_bytes("id,name\n1,張偉\n".encode("big5"))
    (tmp_path / "g.csv").write_bytes("id,name\n1,张伟\n".encode("gb18030"))
    assert read_table(tmp_path / "b.csv").rows == [["1", "張偉"]]
    assert read_table(tmp_path / "g.csv").rows == [["1", "张伟"]]


def test_encoding_judged_on_the_whole_file(tmp_path):
    """GB18030 whose first 64 KiB are ASCII: the head alone would say UTF-8."""
    p = tmp_path / "late.csv"
    lines = [f"{i:06d},client{i}" for i in range(10_000)] + ["999999,欧阳修"]
    p.write_bytes(("id,name\n" + "\n".join(lines) + "\n").encode("gb18030"))
    table = read_table(p)
    assert table.encoding == "gb18030" and table.rows[-1] == ["999999", "欧阳修"]


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏"
GIVEN = "伟芳娜英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚华玉萍鹏红梅飞鑫波斌宇浩凯健俊帆旭宁龙林欣佳怡嘉豪文博志"


def test_random_names_each_way(tmp_path):
    """Evaluation independent of the scorer: random surname + given-name characters drawn
    from everyday use, written in both encodings, five draws.

    Seeded (they were drawn with `secrets`): a Big5 file is judged GB18030 when each of its
    24 characters scores the same in both (the tie goes to GB18030), which 23 of the 44
    surnames and 24 of the 50 given-name characters do: (23/44)^8 (12/25)^16 = 4.4e-8 a file,
    2.2e-7 a run (`python -m tests.flake_odds textfile`). A GB18030 file cannot lose (all
    its characters are in GB2312)."""
    surnames, given = SURNAMES, GIVEN
    import opencc

    to_trad = opencc.OpenCC("s2t")
    rng = np.random.default_rng(20261206)
    for draw in range(5):
        names = ["".join(s[rng.integers(len(s))] for s in (surnames, given, given))
                 for _ in range(8)]
        for enc, text in (("gb18030", names), ("big5hkscs", [to_trad.convert(n) for n in names])):
            p = tmp_path / f"{draw}-{enc}.csv"
            p.write_bytes(("name\n" + "\n".join(text) + "\n").encode(enc, errors="ignore"))
            got = read_table(p)
            assert got.encoding == enc, (draw, enc, text)


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_delimiters_are_sniffed(tmp_path, delimiter):
    p = tmp_path / "semi.csv"
    p.write_text(ROWS.replace(",", delimiter), encoding="utf-8")
    table = read_table(p)
    assert table.delimiter == delimiter and table.header == ["证件号", "姓名", "手机"]
    assert table.rows[1] == ["440524188001010014", "欧阳修", "13912345678"]


def test_one_column_file(tmp_path):
    p = tmp_path / "ids.csv"
    p.write_text("id_no\n11010519491231002X\n440524188001010014\n", encoding="utf-8")
    table = read_table(p)
    assert table.header == ["id_no"] and len(table.rows) == 2


def test_xlsx_is_read(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["id_no", "姓名", "手机", "开户日期"])
    import datetime

    sheet.append(["11010519491231002X", "张三", 13800138000, datetime.date(2020, 1, 2)])
    sheet.append([110105194912310020, "李四", None, None])  # an ID Excel stored as a number
    path = tmp_path / "clients.xlsx"
    book.save(path)
    table = read_table(path)
    assert table.format == "xlsx" and table.header == ["id_no", "姓名", "手机", "开户日期"]
    assert table.rows[0] == ["11010519491231002X", "张三", "13800138000", "2020-01-02"]
    assert table.rows[1][1:] == ["李四", "", ""]


def test_xlsx_with_another_name_is_still_xlsx(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["id_no"])
    book.active.append(["1"])
    path = tmp_path / "clients.csv"  # saved by a user with the wrong extension
    book.save(path)
    assert read_table(path).rows == [["1"]]


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "legacy Excel .xls"),
    (b"PK\x03\x04garbage", "not an .xlsx workbook"),
    (b"id\n1\x002\n", "binary data"),
    (b"id\n" + b"a" * 70000 + b"\n\xff\xfe\xfd\n", r"not UTF-8, GB18030 or Big5 text \(byte b'\\xff' at offset 70,004"),
])
def test_unreadable_files_are_named(tmp_path, content, message):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(TableFileError, match=message) as err:
        read_table(p)
    assert "bad.csv" in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(TableFileError, match="nope.csv: no such file"):
        read_table(tmp_path / "nope.csv")


def test_psi_reader(exported):
    from yinji.cli.psi import read_table as psi_read

    table = psi_read(str(exported[0]))
    assert table.header == ["证件号", "姓名", "手机"]
    assert table.rows[1] == ["440524188001010014", "欧阳修", "13912345678"]


def test_linkage_reader(exported):
    from yinji.cli.link import _read

    rows = _read(str(exported[0]), "证件号")
    assert [r["姓名"] for r in rows] == ["张三", "欧阳修"] and rows[0]["__id"] == "11010519491231002X"


def test_catalog_reads_bom_and_gbk_datasets(exported, tmp_path):
    from yinji.crypto.sign import SigningKey
    from yinji.node.audit import AuditLog
    from yinji.node.catalog import Catalog, Dataset
    from yinji.node.store import open_store

    (tmp_path / "home").mkdir()
    store = open_store(f"sqlite:///{tmp_path / 'home' / 'node.db'}")
    audit = AuditLog(store, SigningKey.generate(), "test")
    cat = Catalog(store, tmp_path / "home", audit=audit, data_roots=[tmp_path])
    cat.register(Dataset(id="ids", kind="csv", location=str(exported[0]),
                         schema={"证件号": "string", "姓名": "string"}), by="test")
    assert cat.load("ids", ["姓名"])["姓名"].tolist() == ["张三", "欧阳修"]
    store.close()


def test_psi_cli_errors_are_plain(tmp_path):
    from yinji.cli.psi import PsiCliError
    from yinji.cli.psi import read_table as psi_read

    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    with pytest.raises(PsiCliError, match="empty.csv: empty file"):
        psi_read(str(p))


def test_catalog_reads_semicolon_big5_and_xlsx(tmp_path):
    from openpyxl import Workbook

    from yinji.crypto.sign import SigningKey
    from yinji.node.audit import AuditLog
    from yinji.node.catalog import Catalog, Dataset
    from yinji.node.store import open_store

    (tmp_path / "home").mkdir()
    (tmp_path / "hk.csv").write_bytes(HK_ROWS.replace(",", ";").encode("big5hkscs"))
    book = Workbook()
    book.active.append(["id", "name"])
    book.active.append([1, "張偉"])
    book.save(tmp_path / "hk.xlsx")
    store = open_store(f"sqlite:///{tmp_path / 'home' / 'node.db'}")
    cat = Catalog(store, tmp_path / "home", audit=AuditLog(store, SigningKey.generate(), "t"),
                  data_roots=[tmp_path])
    for name in ("hk.csv", "hk.xlsx"):
        cat.register(Dataset(id=name, kind="csv", location=str(tmp_path / name),
                             schema={"id": "string", "name": "string"}), by="test")
        assert cat.load(name, ["name"])["name"].tolist()[0] == "張偉"
    store.close()
