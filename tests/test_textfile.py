"""CSV files as companies export them: UTF-8, UTF-8 with a BOM (Excel), GBK / GB18030."""

import pytest

from yinji.textfile import csv_encoding

ROWS = "证件号,姓名,手机\n11010519491231002X,张三,13800138000\n440524188001010014,欧阳修,13912345678\n"


@pytest.fixture(params=["utf-8", "utf-8-sig", "gbk", "gb18030"])
def exported(request, tmp_path):
    p = tmp_path / f"export-{request.param}.csv"
    p.write_bytes(ROWS.encode(request.param))
    return p, request.param


def test_encoding_is_chosen_from_the_bytes(exported):
    path, enc = exported
    assert csv_encoding(path) == ("gb18030" if enc.startswith("gb") else "utf-8-sig")


def test_psi_reader(exported):
    from yinji.cli.psi import read_table

    header, rows = read_table(str(exported[0]))
    assert header == ["证件号", "姓名", "手机"] and rows[1] == ["440524188001010014", "欧阳修",
                                                          "13912345678"]


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


def test_empty_file(tmp_path):
    from yinji.cli.psi import PsiCliError, read_table

    p = tmp_path / "empty.csv"
    p.write_bytes(b"")
    assert csv_encoding(p) == "utf-8-sig"
    with pytest.raises(PsiCliError, match="empty file"):
        read_table(str(p))


def test_undecodable_bytes_are_named(tmp_path):
    from yinji.cli.psi import PsiCliError, read_table

    p = tmp_path / "bad.csv"
    p.write_bytes(b"id\n" + b"a" * 70000 + b"\n\xff\xfe\xfd\n")  # UTF-8 by its head, then not
    with pytest.raises(PsiCliError, match="bad.csv: not UTF-8 or GB18030 text"):
        read_table(str(p))
