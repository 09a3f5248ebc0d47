import pytest

from yinji.psi.keys import (
    DuplicateKeys,
    encode_parts,
    id_check_char,
    normalize,
    prepare_keys,
    valid_id_number,
)


def make_id(prefix17: str) -> str:
    return prefix17 + id_check_char(prefix17)


ID_X = "11010519491231002X"  # the standard's example, check letter X


def test_id_checksum():
    assert valid_id_number(ID_X)
    assert id_check_char("11010519491231002") == "X"
    assert not valid_id_number("110105194912310021")  # wrong check character
    assert not valid_id_number("110105194913310023")  # month 13
    assert not valid_id_number("11010519491231002")  # 17 characters


def test_normalize_fullwidth_case_and_spaces():
    assert normalize("１１０１０５１９４９１２３１００２ｘ", "id") == ID_X
    assert normalize("  110105 19491231 002x\u3000", "id") == ID_X
    assert normalize("＋８６ １３８-0013-8000", "mobile") == "13800138000"
    assert normalize("008613800138000", "mobile") == "13800138000"
    assert normalize("8613800138000", "mobile") == "13800138000"
    assert normalize("  Ａｂｃ  ", "text") == "Abc"
    assert normalize("  Ａｂｃ  ", "upper") == "ABC"
    assert normalize(None) == ""
    assert normalize(float("nan")) == ""


def test_prepare_reports_empty_invalid_duplicates():
    ids = [ID_X, "11010519491231002x", "", None, "110105194912310021", make_id("44030019900101123"),
           " ", "１１０１０５１９４９１２３１００２Ｘ"]
    p = prepare_keys(ids, kinds="id", validate=True, duplicates="first")
    assert p.keys == [ID_X.encode(), make_id("44030019900101123").encode()]
    assert p.rows.tolist() == [0, 5]
    assert p.report.empty == [2, 3, 6]
    assert p.report.invalid == [4]
    assert p.report.duplicates == [1, 7]
    assert p.report.kept == 2
    assert "2 kept" in p.report.summary()


def test_spreadsheet_notation_is_dropped_and_explained():
    """Excel shows an 18-digit ID as 1.10105E+17: two people would collide on it."""
    p = prepare_keys([ID_X, "1.10105E+17", "4.40524E+17", "1.10105e+17", "3E12", "1.5"])
    assert p.report.spreadsheet == [1, 2, 3] and p.report.kept == 3
    assert [k.decode() for k in p.keys] == [ID_X, "3E12", "1.5"]  # not that notation: kept
    assert "3 in spreadsheet notation such as 1.10105E+17 (first rows [1, 2, 3])" in \
        p.report.summary()
    assert "spreadsheet" not in prepare_keys([ID_X]).report.summary()


def test_duplicates_reject():
    with pytest.raises(DuplicateKeys) as e:
        prepare_keys(["a", "b", "ａ"], duplicates="reject")
    assert e.value.rows == [2]


def test_invalid_kept_without_validation():
    p = prepare_keys(["110105194912310021"], kinds="id")
    assert len(p) == 1


def test_multi_column_unambiguous():
    p = prepare_keys({"name": ["张三", "张三", "ab"], "mobile": ["13800138000", "13800138001", "c"]},
                     kinds={"mobile": "mobile"})
    assert len(p) == 3
    assert encode_parts(["a", "bc"]) != encode_parts(["ab", "c"])
    q = prepare_keys({"name": ["张三 "], "mobile": ["+86 13800138000"]}, kinds={"mobile": "mobile"})
    assert q.keys[0] == p.keys[0]
    with pytest.raises(ValueError):
        prepare_keys({"a": [1, 2], "b": [1]})
    with pytest.raises(ValueError):
        prepare_keys(["x"], kinds="nope")


def test_auto_kind_recognises_ids_and_mobiles():
    assert normalize("１１０１０５１９４９１２３１００２ｘ") == ID_X
    assert normalize("110105 19491231 002x") == ID_X
    assert normalize("+86 138-0013-8000") == "13800138000"
    assert normalize(" Zhang San ") == "Zhang San"
    assert normalize("12345x") == "12345x"  # not ID-like: left as text
    p = prepare_keys({"id": ["11010519491231002x", "110105194912310021"], "n": ["a", "b"]},
                     validate=True)
    assert p.report.invalid == [1]
    assert p.keys[0] == encode_parts([ID_X, "a"])
