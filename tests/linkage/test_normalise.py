import pytest

from yinji.linkage import normalise as nz


@pytest.mark.parametrize("a,b", [
    ("张伟", "張偉"), ("张伟", "Zhang Wei"), ("张伟", "WEI, Zhang"), ("张伟明", "张明伟"),
    ("张伟明", "Zhang Wei-Ming"), ("张伟明", "Weiming ZHANG"), ("吕布", "Lyu Bu"), ("吕布", "LV BU"),
    ("曾国藩", "Zeng Guofan"), ("单田芳", "Shan Tianfang"), ("欧阳修", "Ouyang Xiu"),
    ("John Smith", "SMITH, John"), ("José  Álvarez", "jose alvarez"),
    ("张伟", "ＺＨＡＮＧ　ＷＥＩ"), ("张伟", "Mr. Zhang Wei"), ("Peter 张晓明", "Zhang Xiaoming (Peter)"),
    ("Peter 张晓明", "Peter Xiaoming ZHANG"),
])
def test_same_person_same_tokens(a, b):
    assert nz.name_tokens(a) == nz.name_tokens(b)


@pytest.mark.parametrize("a,b", [("张伟", "王伟"), ("李娜", "李静"), ("Anna Lee", "Anna Li")])
def test_different_names_differ(a, b):
    assert nz.name_tokens(a) != nz.name_tokens(b)


def test_english_names_are_not_split_into_syllables_unless_most_words_parse():
    assert nz.name_tokens("Anna Lee") == ["anna", "lee"]
    assert nz.name_tokens("michaela neumann") == ["michaela", "neumann"]
    assert nz.name_tokens("Peter Zhang Xiaoming") == ["ming", "peter", "xiao", "zhang"]


@pytest.mark.parametrize("empty", [None, "", "   ", float("nan")])
def test_empty_values(empty):
    v = empty if not isinstance(empty, float) else None
    assert nz.name_tokens(v) == [] and nz.date_parts(v) is None and nz.phone_digits(v) == ""


def test_formats():
    assert nz.date_parts("1987年5月12日") == nz.date_parts("19870512") == ("1987", "05", "12")
    assert nz.date_parts("12/05/1987") == ("1987", "05", "12")
    assert nz.phone_digits("+86 138-0013-8000") == nz.phone_digits("13800138000")
    assert nz.gender("男") == nz.gender("M") == "m"
    assert nz.text("北京市朝陽區") == nz.text("北京市朝阳区")


def test_full_width_forms_read_as_ascii():
    assert nz.date_parts("１９８０－０３－０４") == ("1980", "03", "04")
    assert nz.phone_digits("＋８６ １３８００１３８０００") == "13800138000"
    assert nz.id_number("１１０１０１１９９００３０７１２３ｘ") == "11010119900307123X"
    assert nz.gender("Ｍ") == "m"
    assert nz.text("北京市ＡＢＣ路１２号") == nz.text("北京市ABC路12号") == "北京市 abc 路 12 号"


@pytest.mark.parametrize("value, parts, problem", [
    ("18-Apr-1970", ("1970", "04", "18"), None),
    ("Apr 18, 1970", ("1970", "04", "18"), None),
    ("85-03-07", ("1985", "03", "07"), None),
    ("31478", ("1986", "03", "07"), None),  # Excel serial day
    ("民国74年3月7日", ("1985", "03", "07"), None),
    ("民國74年3月7日", ("1985", "03", "07"), None),
    ("1985-02-30", ("1985", "02", "30"), "impossible"),
    ("1985-18-01", ("1985", "18", "01"), "impossible"),
    ("07-03-85", None, "unreadable"),  # day-month-year or year-month-day: ambiguous
    ("unknown", None, "unreadable"),
    ("", None, None),
])
def test_dates_as_companies_write_them(value, parts, problem):
    assert nz.parse_date(value) == (parts, problem)
    assert nz.date_parts(value) == parts
