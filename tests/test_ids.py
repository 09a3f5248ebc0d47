"""yinji.ids: every form a company stores an identifier in comes out as the same key."""

import random

import pytest

from yinji import ids

ID_X = "11010519491231002X"     # GB 11643's example (check character X)
ID15_X = "110105491231002"      # the same person's 15-digit legacy number


def check_char_by_formula(first17: str) -> str:
    """ISO 7064 MOD 11-2 written independently of yinji.ids: weight of position i (from the
    right, the check character at 1) is 2^(i-1) mod 11; check = (12 - sum mod 11) mod 11."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def test_check_character_agrees_with_the_standard_formula():
    rng = random.Random(7)
    for _ in range(500):
        first17 = "".join(rng.choice("0123456789") for _ in range(17))
        assert ids.id_check_char(first17) == check_char_by_formula(first17)
    assert ids.id_check_char(ID_X[:17]) == "X"
    with pytest.raises(ValueError, match="first 17 digits"):
        ids.id_check_char("1234")
    with pytest.raises(ValueError, match="first 17 digits"):
        ids.id_check_char("１" * 17)  # full-width: normalise first


@pytest.mark.parametrize("old, new", [
    (ID15_X, ID_X),                                     # the standard's own pair
    ("330106800101123", "33010619800101123" + check_char_by_formula("33010619800101123")),
    ("440524760229001", "44052419760229001" + check_char_by_formula("44052419760229001")),
])
def test_15_digit_ids_upgrade_to_18(old, new):
    assert ids.upgrade_id15(old) == new
    assert ids.normalize(old) == new and ids.normalize(old, "id") == new
    assert ids.valid_id_number(new)
    assert ids.normalize(new) == new


def test_upgrade_needs_15_digits():
    for bad in ("12345678901234", "1234567890123456", "33010680010112X", "３３０１０６８００１０１１２３"):
        with pytest.raises(ValueError, match="15 digits"):
            ids.upgrade_id15(bad)


FORMS_OF_ID_X = [
    ID_X, ID_X.lower(), "１１０１０５１９４９１２３１００２ｘ", " 110105 19491231 002x\u3000",
    f'="{ID_X}"', f'="{ID_X.lower()}"', f"'{ID_X}", f"' {ID_X.lower()}", f'"{ID_X}"',
    f"'{ID_X}'", f"\u201c{ID_X}\u201d", f'＝"{ID_X}"', f"\t{ID_X}\n", f'"=""{ID_X}"""'[1:-1],
    ID15_X, f'="{ID15_X}"', f"'{ID15_X}", "１１０１０５４９１２３１００２", f"{ID15_X}.0",
    f'"{ID15_X}"',
]


@pytest.mark.parametrize("form", FORMS_OF_ID_X)
def test_every_stored_form_gives_the_canonical_id(form):
    assert ids.normalize(form) == ID_X
    assert ids.normalize(form, "id") == ID_X
    assert ids.check(form, validate=True) == (ID_X, None)


def test_full_width_digits_only():
    """No check letter to give it away: full-width digits alone must still be folded."""
    canonical = ids.upgrade_id15("330106800101123")
    full = "".join(chr(ord(c) + 0xFEE0) for c in canonical)
    for kind in ("auto", "id"):
        assert ids.normalize(full, kind) == canonical
    assert ids.normalize("１３８００１３８０００", "mobile") == "13800138000"
    assert ids.normalize("１３８００１３８０００") == "13800138000"


def test_mobiles():
    for form in ("13800138000", "+86 138-0013-8000", "008613800138000", "8613800138000",
                 "＋８６ １３８ ００１３ ８０００", '="13800138000"', "'13800138000", "'+86 13800138000"):
        assert ids.normalize(form) == "13800138000", form
        assert ids.normalize(form, "mobile") == "13800138000", form
    assert ids.check("12800138000", "mobile", validate=True)[1] == ids.INVALID
    assert ids.guess_kind("12800138000") == "text"


def test_text_and_upper():
    assert ids.normalize("  Ａｂｃ  ", "text") == "Abc"
    assert ids.normalize("  Ａｂｃ  ", "upper") == "ABC"
    assert ids.normalize('="C-0001"', "text") == "C-0001"
    assert ids.normalize("'t Hooft", "text") == "'t Hooft"   # an apostrophe before a letter stays
    assert ids.normalize("Zhang San") == "Zhang San"
    assert ids.normalize("12345x") == "12345x"               # not ID-like: text
    assert ids.normalize(None) == "" and ids.normalize(float("nan")) == ""
    assert ids.normalize(123) == "123"


@pytest.mark.parametrize("bad", [
    "110105194912310021",      # wrong check character
    "110105194913310023",      # month 13
    "110105194902300022",      # 30 February
    "11010519491231002",       # 17 characters
    "1101051949123100２X"[:-2] + "Y" * 2,
])
def test_invalid_ids_are_reported_with_validation_only(bad):
    s, why = ids.check(bad, "id", validate=True)
    assert why == ids.INVALID and not ids.valid_id_number(s)
    assert ids.check(bad, "id")[1] is None  # without validation it is a key like any other


def test_bad_dates():
    first17 = "1101052099010100" + "1"  # born 2099: in the future
    assert not ids.valid_id_number(first17 + ids.id_check_char(first17))
    first17 = "11010519000229001"        # 1900 was not a leap year
    assert not ids.valid_id_number(first17 + ids.id_check_char(first17))
    first17 = "11010520000229001"        # 2000 was
    assert ids.valid_id_number(first17 + ids.id_check_char(first17))
    # A 15-digit number without a real 19YYMMDD date is not taken for an ID in "auto" ...
    assert ids.guess_kind("110105491331002") == "text"
    assert ids.normalize("110105491331002") == "110105491331002"
    # ... and as kind "id" it is upgraded but fails validation.
    s, why = ids.check("110105491331002", "id", validate=True)
    assert len(s) == 18 and why == ids.INVALID


def test_spreadsheet_float_is_unusable():
    for s in ("1.10105E+17", "4.40524e+17", "1.1010519491231002e+17", "＝\"1.10105E+17\""):
        assert ids.check(s) == (ids.normalize(s), ids.SPREADSHEET), s
        assert ids.is_spreadsheet_float(ids.normalize(s))
    for s in ("3E12", "1.5", ID_X, "1.10105E-17"):
        assert ids.check(s)[1] is None, s
    assert ids.check("  ")[1] == ids.EMPTY and ids.check('=""')[1] == ids.EMPTY


def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match="unknown key kind 'nope'.*auto"):
        ids.normalize("x", "nope")


def test_report_says_per_row_why():
    r = ids.Report(rows=6)
    r.drop(4, ids.DUPLICATE)
    r.drop(1, ids.SPREADSHEET)
    r.drop(0, ids.EMPTY)
    r.drop(3, ids.INVALID)
    assert r.why(1) == ids.SPREADSHEET and r.why(2) is None
    assert (r.empty, r.invalid, r.duplicates, r.spreadsheet, r.kept) == ([0], [3], [4], [1], 2)
    assert r.summary().startswith("6 rows: 2 kept, 1 empty, 1 invalid, 1 duplicate, 1 in "
                                  "spreadsheet notation")
    with pytest.raises(ValueError, match="unknown reason"):
        r.drop(5, "odd")
    for reason in (ids.EMPTY, ids.SPREADSHEET, ids.INVALID, ids.DUPLICATE):
        assert ids.REASONS[reason]


def test_find_column_per_company_names():
    assert ids.find_column(["客户名称", "证件号码", "开户日期"]) == "证件号码"
    assert ids.find_column(["name", "ID_No", "tag"]) == "ID_No"
    assert ids.find_column(["name", "手机号码"], "mobile") == "手机号码"
    assert ids.find_column(["id_no", "证件号码"]) is None   # two candidates: the caller chooses
    assert ids.find_column(["name", "tag"]) is None


ALPHABET = ("0123456789xX  \u3000\t'\"=+-.eE８６１ｘＸ\u201c\u201d\u2018\u2019aZ张"
            "\u0301\u00a0ß\u0390\u01f0ﬁ")


FIXED = [*FORMS_OF_ID_X, "", "'", '"', "=", '=""', "''", '""""', "'+", "'  '", "+86", "86" * 7,
         "0086008613800138000", "+86+8613800138000", '+86"13800138000"', "ΐ", "ǰ", "ß"]


def fuzz_values(n: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    out = list(FIXED)
    for _ in range(n):
        kind = rng.random()
        if kind < 0.4:  # a random value from tricky characters
            out.append("".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 24))))
        else:           # an ID or mobile with random wrappers, spaces and full-width digits
            base = rng.choice([ID_X, ID15_X, "13800138000", "+86 138-0013-8000", "330106800101123",
                               "0086 +86 13800138000"])
            base = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() and rng.random() < 0.3 else c
                           for c in base)
            for _ in range(rng.randint(0, 3)):
                base = rng.choice(['="{}"', "'{}", '"{}"', " {} ", "\u201c{}\u201d", "' {}"]
                                  ).format(base)
            out.append(base)
    return out


@pytest.mark.parametrize("kind", ids.KINDS)
def test_normalize_is_idempotent(kind):
    for v in fuzz_values(3000):
        once = ids.normalize(v, kind)
        assert ids.normalize(once, kind) == once, (v, once)


def test_wrapped_forms_agree_with_the_plain_form():
    """Whatever wrappers the fuzzer put around an ID, it normalises to the canonical ID."""
    for v in fuzz_values(2000)[len(FIXED):]:
        plain = v.translate({ord(c): None for c in "=\"' \u201c\u201d"})
        plain = ids.normalize(plain)
        if plain in (ID_X, "13800138000", ids.upgrade_id15("330106800101123")):
            assert ids.normalize(v) == plain, v
