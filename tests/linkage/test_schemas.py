import pytest

from yinji.linkage.schemas import FEBRL, PERSON, field_columns, remap


def test_field_columns_default_and_mapped():
    cols = field_columns(PERSON)
    assert cols["name"] == ("name", "surname", "given_name") and cols["dob"] == ("dob",)
    cols = field_columns(PERSON, {"name": "姓名", "address": ["省", "市"]})
    assert cols["name"] == ("姓名",) and cols["address"] == ("省", "市")
    with pytest.raises(ValueError, match="has no field 'nick'"):
        field_columns(PERSON, {"nick": "x"})
    with pytest.raises(ValueError, match="give a column name"):
        field_columns(PERSON, {"name": []})


def test_remap_joins_mapped_columns_into_the_fields_own_name():
    rows = [{"__id": "7", "姓名": "张伟", "省": "广东", "市": None, "name": "ignored", "dob": "1980"}]
    out = remap(PERSON, rows, {"name": "姓名", "address": ["省", "市"]})
    assert out == [{"__id": "7", "姓名": "张伟", "省": "广东", "市": None, "dob": "1980",
                    "name": "张伟", "address": "广东"}]
    assert PERSON.fields[0].value(out[0]) == "张伟"
    # FEBRL's street reads street_number + address_1: a mapping lands in street_number
    got = remap(FEBRL, [{"addr": "12 main st"}], {"street": "addr"})[0]
    assert [f.value(got) for f in FEBRL.fields if f.name == "street"] == ["12 main st"]
    assert remap(PERSON, rows) == rows and remap(PERSON, rows) is not rows
