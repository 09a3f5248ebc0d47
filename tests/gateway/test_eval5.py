"""The generator of the sixth held-out name set (gateway_eval5) — checked without any detector."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

from yinji.ids import valid_id_number
from yinji.testing import gateway_eval5 as ev
from yinji.testing import gateway_eval5_fill as fl
from yinji.testing import gateway_eval5_names as nm
from yinji.testing import gateway_eval5_templates as tp

N = 6000
CATEGORIES = {"person", "mobile", "id_number", "email", "person_title"}
DOTS = "·•・"
HAN = re.compile(r"[\u3400-\u9fff]")
LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z'\-]*( [A-Za-z][A-Za-z'\-]*)+")
EMAIL = re.compile(r"[A-Za-z0-9._]+@[a-z0-9\-]+(\.[a-z0-9\-]+)+")
SURNAMES = sorted(nm.SURNAMES, key=len, reverse=True)
WHOLE = set(nm.WORDNAME) | set(nm.NOSURNAME) | set(nm.JAPANESE)


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return ev.build(N, 0)


def _spans(rows, cat):
    for row in rows:
        for s, e, c in row["spans"]:
            if c == cat:
                yield row, row["text"][s:e]


def _is_name(value: str) -> bool:
    """A drawn name: surname + 1-3 given characters, a whole name from the lists, a dotted
    transliteration or a Latin name. OCR and form padding may put spaces inside."""
    v = re.sub(r"[ \u3000]", "", value)
    if LATIN_NAME.fullmatch(value):
        return True
    if any(d in v for d in DOTS):
        parts = re.split(f"[{DOTS}]", v)
        return len(parts) == 2 and all(p and all(HAN.match(ch) for ch in p) for p in parts)
    if not all(HAN.match(ch) for ch in v):
        return False
    if v in WHOLE:
        return True
    return any(v.startswith(s) and 1 <= len(v) - len(s) <= 3 for s in SURNAMES)


def test_rows_are_well_formed(rows):
    assert len(rows) == N
    assert len({r["id"] for r in rows}) == N
    for i, row in enumerate(rows):
        assert row["id"] == f"fresh6-0-{i}" and row["lang"] == "zh" and row["kind"] in ev.KINDS
        prev_end = 0
        for s, e, c in row["spans"]:
            assert c in CATEGORIES
            assert prev_end <= s < e <= len(row["text"]), row
            value = row["text"][s:e]
            assert value == value.strip(), row  # no space at either end of a span
            prev_end = e


def test_person_spans_are_exactly_names(rows):
    values = [v for _, v in _spans(rows, "person")]
    assert len(values) > N // 2
    bad = [v for v in values if not _is_name(v)]
    assert not bad, bad[:10]


def test_every_span_is_the_value_its_slot_drew(monkeypatch):
    """Record what each gold slot produced; the row's spans must be exactly those values (OCR
    rows: the same characters with spaces between them), in order."""
    drawn: list[tuple[str, str]] = []

    def recording(key, slot):
        def wrapped(rng):
            text, spans = slot(rng)
            if key in ("PL", "HPL"):  # names and separators only
                rest = text
                for s, e, _, _ in spans:
                    rest = rest.replace(text[s:e], "", 1)
                assert set(rest) <= set("、，/；和与與及以 "), text
                drawn.extend((text[s:e], c) for s, e, c, _ in spans)
            elif spans:  # the slot's whole value is the one gold value
                drawn.append((text, spans[0][2]))
            return text, spans
        return wrapped

    for key, slot in list(ev.SLOTS.items()):
        monkeypatch.setitem(ev.SLOTS, key, recording(key, slot))
    seen = []
    for row in ev.build(1500, 4):
        for s, e, c in row["spans"]:
            value = row["text"][s:e]
            seen.append((re.sub(r"[ \u3000]", "", value) if row["kind"] == "name_ocr" else value, c))
    squeezed = [(re.sub(r"[ \u3000]", "", v), c) for v, c in drawn]
    assert [(re.sub(r"[ \u3000]", "", v), c) for v, c in seen] == squeezed
    assert len(seen) > 1500


def test_a_title_after_a_full_name_is_outside_the_span():
    text, spans = ev.render("{P}先生、{HP}女士和{P}经理", np.random.default_rng(3))
    persons = [text[s:e] for s, e, c, _ in spans if c == "person"]
    assert len(persons) == 3
    assert not any(p.endswith(("先生", "女士", "经理")) for p in persons)
    rest = text
    for p in persons:
        rest = rest.replace(p, "", 1)
    assert rest == "先生、女士和经理"


def test_identifier_spans_are_valid(rows):
    mobiles = [v for _, v in _spans(rows, "mobile")]
    ids = [v for _, v in _spans(rows, "id_number")]
    emails = [v for _, v in _spans(rows, "email")]
    assert min(len(mobiles), len(ids), len(emails)) > 200
    for m in mobiles:
        digits = re.sub(r"^\+86[ -]", "", m).replace("-", "").replace(" ", "")
        assert re.fullmatch(r"1[3-9]\d{9}", digits), m
    for v in ids:
        assert valid_id_number(v.upper()), v
    assert all(EMAIL.fullmatch(v) for v in emails), [v for v in emails if not EMAIL.fullmatch(v)]


def test_person_title_spans_are_a_bare_surname_with_a_title(rows):
    titles = [v for _, v in _spans(rows, "person_title")]
    assert len(titles) > 200
    words = sorted(nm.TITLES + nm.HK_TITLES, key=len, reverse=True)
    for v in titles:
        if v[0] in "老小阿" and v[1:] in nm.SURNAMES:
            continue
        sur = next((s for s in SURNAMES if v.startswith(s)), None)
        assert sur is not None and v[len(sur):] in words, v


def test_kinds_carry_what_they_promise(rows):
    for row in rows:
        cats = [c for _, _, c in row["spans"]]
        if row["kind"] == "negative":
            assert cats == [], row
        elif row["kind"] in ("pii", "title"):
            assert "person" not in cats, row
        elif row["kind"] != "name_mixed":
            assert any(HAN.search(row["text"][s:e]) for s, e, c in row["spans"] if c == "person")
    assert all(row["spans"] for row in rows if row["kind"] in ("pii", "title"))


def test_templates_name_only_known_slots():
    for kind, templates in ev.TEMPLATES.items():
        for t in templates:
            slots = re.findall(r"\{([A-Z0-9]+)\}", t)
            assert set(slots) <= set(ev.SLOTS), (kind, t)
            if kind == "negative":
                assert not set(slots) & {"P", "PS", "PL", "HP", "HPL", "EN", "T", "HT",
                                         "M", "ID", "E"}, t


def test_draws_are_seeded_and_prefixes():
    assert ev.build(300, 7) == ev.build(300, 7)
    assert ev.build(300, 7) == ev.build(600, 7)[:300]
    assert [r["text"] for r in ev.build(300, 7)] != [r["text"] for r in ev.build(300, 8)]
    assert ev.build(0, 1) == []
    with pytest.raises(ValueError, match="n must be"):
        ev.build(-1, 0)


def test_proportions_and_name_types():
    c = ev.census(N, 0)
    for kind, p in ev.KINDS.items():
        assert abs(c["kinds"][kind] / N - p) < 0.025, (kind, c["kinds"][kind])
    assert c["rows"]["with_zh_person"] / N >= 0.35
    types = c["name_types"]
    for t in ("common3", "common2", "rare", "compound", "wordname", "wordgiven", "rarechar",
              "dotted", "nosurname", "japanese", "married", "hk3", "hk2", "hk_married",
              "hk_compound", "hk_rare", "english"):
        assert types[t] >= 40, (t, types[t])
    lengths = {len(v) for _, v in _spans(ev.build(N, 0), "person") if HAN.search(v)
               and " " not in v and "\u3000" not in v and not any(d in v for d in DOTS)}
    assert {2, 3, 4} <= lengths


def test_ocr_spacing_keeps_spans_on_the_same_characters():
    rng = np.random.default_rng(5)
    for _ in range(50):
        text, spans = ev.render(tp.NAME_OCR[int(rng.integers(len(tp.NAME_OCR)))], rng)
        new, moved = ev.ocrify(text, spans, rng)
        def squeeze(s: str) -> str:
            return re.sub(r"[ \u3000]", "", s)
        assert [squeeze(new[s:e]) for s, e, _, _ in moved] == \
               [squeeze(text[s:e]) for s, e, _, _ in spans]
        assert squeeze(new) == squeeze(text) and len(new) > len(text)


def test_chinese_numeral_amounts():
    assert fl._capital(1234567) == "壹佰贰拾叁万肆仟伍佰陆拾柒元整"
    assert fl._capital(10050) == "壹万零伍拾元整"
    assert fl._capital(1005) == "壹仟零伍元整"
    assert fl._capital(1200000) == "壹佰贰拾万元整"
    assert fl._small_cn(10) == "十" and fl._small_cn(23) == "二十三"


def test_negative_fillers_never_produce_a_gold_looking_identifier():
    rng = np.random.default_rng(11)
    for _ in range(2000):
        acct = fl.account(rng)
        assert not acct.startswith("1")
        assert not re.search(r"1[3-9]\d{9}", fl.amount(rng))


def test_the_set_does_not_touch_the_detectors():
    """Written independently: the set's modules import nothing of yinji.gateway."""
    src = Path(ev.__file__).parent
    for name in ("gateway_eval5", "gateway_eval5_names", "gateway_eval5_fill",
                 "gateway_eval5_templates"):
        tree = ast.parse((src / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("yinji.gateway"), name
                assert not {a.name for a in node.names} & {"name_train", "name_dev",
                                                         "gateway_eval", "gateway_eval2",
                                                         "gateway_eval3", "gateway_eval4"}
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("yinji.gateway") for a in node.names), name
