"""The generator of the seventh held-out name set (gateway_eval6) — checked without any detector."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from yinji.ids import valid_id_number
from yinji.testing import gateway_eval6 as ev
from yinji.testing import gateway_eval6_fill as fl
from yinji.testing import gateway_eval6_names as nm
from yinji.testing import gateway_eval6_templates as tp

N = 6000
CATEGORIES = {"person", "person_title", "mobile", "id_number", "email", "account"}
HAN = re.compile(r"[\u3400-\u9fff]")
DOTS = "·•・"
LATIN_NAME = re.compile(r"[A-Z][a-z]+ [A-Z][a-z]+")
MOBILE = re.compile(r"(\+86 ?-?|0086 )?1[3-9]\d([ -]?)\d{4}\2\d{4}")
EMAIL = re.compile(r"[a-z0-9._]+@[a-z0-9\-]+(\.[a-z0-9\-]+)+")
ACCOUNT = re.compile(r"(A|M|C|HK)?\d{7,12}")
SURNAMES = sorted(set(nm.SURNAMES) | set(nm.TRAD_SURNAMES) | set(nm.TRAD_COMPOUND),
                  key=len, reverse=True)


@pytest.fixture(scope="module")
def drawn() -> list[tuple[dict, dict]]:
    return list(ev._rows(N, 0))


@pytest.fixture(scope="module")
def rows(drawn) -> list[dict]:
    return [row for row, _ in drawn]


def _is_name(v: str) -> bool:
    """A drawn name: a known surname + 1-3 given characters (a married name: two surnames + a
    given name), a whole name that is a word, a dotted transliteration or a Latin name."""
    if LATIN_NAME.fullmatch(v):
        return True
    if any(d in v for d in DOTS):
        first, last = re.split(f"[{DOTS}]", v)
        return first in nm.DOT_FIRST and last in nm.DOT_LAST
    if not all(HAN.match(ch) for ch in v):
        return False
    return v in nm.WORD_NAMES or any(v.startswith(s) and 1 <= len(v) - len(s) <= 3 for s in SURNAMES)


def test_rows_are_well_formed(rows):
    assert len(rows) == N and len({r["id"] for r in rows}) == N
    for i, row in enumerate(rows):
        assert row["id"] == f"fresh7-0-{i}" and row["lang"] == "zh" and row["kind"] in ev.KINDS
        ends = 0
        for s, e, c in sorted(row["spans"]):
            assert c in CATEGORIES and ends <= s < e <= len(row["text"]), row
            assert not row["text"][s].isspace() and not row["text"][e - 1].isspace()
            ends = e


def test_every_span_is_the_value_its_slot_drew(drawn):
    for row, meta in drawn:
        assert len(meta["values"]) == len(row["spans"])
        for (s, e, c), v in zip(row["spans"], meta["values"], strict=True):
            got = row["text"][s:e]
            if row["kind"] == "name_ocr" and c == "person":  # OCR noise adds spaces inside
                got, v = re.sub(r"\s", "", got), re.sub(r"\s", "", v)
            assert got == v, (row, v)


def test_person_spans_are_exactly_names(rows):
    n = 0
    for row in rows:
        for s, e, c in row["spans"]:
            if c == "person":
                v = row["text"][s:e]
                assert _is_name(v if LATIN_NAME.fullmatch(v) else re.sub(r"\s", "", v)), (v, row)
                n += 1
    assert n > N


def test_person_title_spans_are_a_bare_surname_with_a_title(rows):
    titles = sorted(set(nm.TITLES) | set(nm.TRAD_TITLES), key=len, reverse=True)
    seen = 0
    for row in rows:
        for s, e, c in row["spans"]:
            if c != "person_title":
                continue
            v = row["text"][s:e]
            seen += 1
            if v[0] in "老小阿" and v[1:] in SURNAMES:
                continue
            assert any(v.endswith(t) and v[:-len(t)] in SURNAMES for t in titles), v
    assert seen > 100


def test_a_title_after_a_full_name_is_outside_the_span():
    frame = "{P}先生，您好！"
    for seed in range(50):
        text, spans = ev.render(frame, np.random.default_rng(seed))
        (s, e, c, _, v), = spans
        assert c == "person" and s == 0 and text[e:].startswith("先生") and text[:e] == v


def test_identifier_spans_are_valid(rows):
    counts = dict.fromkeys(("mobile", "id_number", "email", "account"), 0)
    for row in rows:
        for s, e, c in row["spans"]:
            v = row["text"][s:e]
            if c == "id_number":
                assert len(v.replace(" ", "")) == 18 and valid_id_number(v.replace(" ", "")), v
            elif c == "mobile":
                assert MOBILE.fullmatch(v), v
            elif c == "email":
                assert EMAIL.fullmatch(v), v
            elif c == "account":
                assert ACCOUNT.fullmatch(v) and not re.fullmatch(r"1\d{10}", v), v
            else:
                continue
            counts[c] += 1
    assert min(counts.values()) > 200, counts


def test_kinds_carry_what_they_promise(rows):
    for row in rows:
        cats = {c for _, _, c in row["spans"]}
        kind = row["kind"]
        if kind == "negative":
            assert not row["spans"], row
        elif kind == "title":
            assert cats == {"person_title"}, row
        elif kind == "pii":
            assert cats and not cats & {"person", "person_title"}, row
        else:
            assert "person" in cats, row


def test_frames_name_only_known_slots():
    for kind, frames in ev.FRAMES.items():
        assert len(set(frames)) == len(frames), kind  # no frame listed twice
        for frame in frames:
            slots = {m.group(1) for m in ev.SLOT.finditer(frame)}
            assert slots <= set(ev.SLOTS), (frame, slots - set(ev.SLOTS))
            gold = slots & ev.GOLD_SLOTS
            if kind == "negative":
                assert not gold, frame
            elif kind == "title":
                assert gold and gold <= {"T", "TT"}, frame
            elif kind == "pii":
                assert gold and not gold & (ev.PERSON_SLOTS | {"T", "TT"}), frame
            else:
                assert gold & ev.PERSON_SLOTS, frame


def test_draws_are_seeded():
    a, b = ev.build(300, 7), ev.build(300, 7)
    assert a == b
    c = ev.build(300, 8)
    assert [r["text"] for r in a] != [r["text"] for r in c]
    assert c[0]["id"] == "fresh7-8-0"


def test_proportions_templates_and_name_types():
    st = ev.stats(N, 1)
    for kind, p in ev.KINDS.items():
        assert abs(st["kinds"][kind] / N - p) < 0.02, (kind, st["kinds"])
    assert st["rows_with_han_name"] / N >= 0.35
    assert st["distinct_frames"] >= 200 and st["frames_available"] >= 200
    types = st["name_types"]
    for t in ("2char", "3char", "rare_surname", "compound_surname", "word_given", "word_name",
              "dotted", "married", "latin", "trad_3char", "4char", "3char_ocr"):
        assert types[t] >= 20, (t, types)
    lengths = st["han_lengths"]
    assert lengths[2] > 500 and lengths[3] > 2000 and lengths[4] > 300, lengths


def test_ocr_noise_never_splits_an_identifier():
    text = "客户姓名王建国证件号码110101199003071234手机13812345678"
    spans = [(4, 7, "person", "3char", "王建国"), (11, 29, "id_number", "id_number", text[11:29]),
             (31, 42, "mobile", "mobile", text[31:42])]
    for seed in range(30):
        out, moved = ev.ocr_noise(text, spans, np.random.default_rng(seed), rate=0.9)
        for (s, e, c, _, v) in moved:
            assert re.sub(r"\s", "", out[s:e]) == v
            if c != "person":
                assert out[s:e] == v


def test_unmarked_text_holds_no_identifier(rows):
    """Fillers never produce a mobile, an ID number or an e-mail that is not a gold span."""
    for row in rows:
        text = list(row["text"])
        for s, e, _ in row["spans"]:
            text[s:e] = [" "] * (e - s)
        rest = "".join(text)
        assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", rest), row
        assert not re.search(r"\d{15,}", rest), row
        assert not re.search(r"[A-Za-z0-9._]+@[A-Za-z0-9-]+\.", rest), row


def test_chinese_numerals_and_negatives():
    rng = np.random.default_rng(3)
    assert fl.cn_number(11) == "十一" and fl.cn_number(23) == "二十三" and fl.cn_number(30) == "三十"
    for _ in range(50):
        assert not re.search(r"\d", fl.cn_amount(rng) + fl.cn_date(rng))
    assert {"高度", "周期", "方向", "黄金", "万元", "于是", "成本", "金融"} <= set(fl.WORDS)
    assert {"申请人", "联系人", "受益人", "经办人"} <= set(fl.ROLES)
    assert {"平安银行", "万科A"} <= set(fl.STOCKS)


def test_the_set_does_not_touch_the_detectors():
    """Written independently: no import from yinji.gateway or the earlier sets."""
    root = Path(ev.__file__).parent
    for mod in ("gateway_eval6", "gateway_eval6_names", "gateway_eval6_fill",
                "gateway_eval6_templates"):
        tree = ast.parse((root / f"{mod}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [a.name for a in node.names]
                for name in names:
                    assert "gateway." not in name and not name.startswith("yinji.gateway"), name
                    assert not re.search(r"gateway_eval\d?$|gateway_eval[1-5]", name), name
    assert tp.NAME and tp.NEGATIVE
