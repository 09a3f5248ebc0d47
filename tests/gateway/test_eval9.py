"""The tenth held-out name set's generator (gateway_eval9) checked on its own; no detector runs."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import pytest

from yinji.ids import valid_id_number
from yinji.testing import gateway_eval9 as ev
from yinji.testing import gateway_eval9_fill as fl
from yinji.testing import gateway_eval9_names as nm
from yinji.testing.gateway_eval import check_kinds, check_rows

N = 2500
HAN = "\u3400-\u9fff"
DOT = "·•・"
_NAME = f"[{HAN}]{{2,6}}|[{HAN}]{{2,6}}[{DOT}][{HAN}]{{1,6}}"
_OCR = f"[{HAN}](?: {{0,2}}[{HAN}{DOT}])+"
_LATIN = "[A-Z][a-z]+(?: [A-Z][a-z]+){1,3}"
_EN = "|".join(nm.EN_GIVEN)
_SUR = "|".join(sorted(nm.ALL_SURNAMES, key=len, reverse=True))
_TITLE = (f"[老小阿](?:{_SUR})|(?:{_SUR})(?:"
          + "|".join(sorted(set(nm.TITLES) | set(nm.TITLES_TRAD), key=len, reverse=True)) + ")")
_TITLE_WORDS = "先生|女士|小姐|经理|經理|律师|律師|老师|主任|总监|醫生|医生"
# What each marked slot looks like, written apart from the generator: a list of group
# patterns (one group per span), `None` for the name pattern (spaced in name_ocr rows).
_ID = r"\d{17}[\dX]"
SLOT_RE = {
    "M": r"1[3-9]\d(?:\d{8}|-\d{4}-\d{4}| \d{4} \d{4})", "I": _ID,
    "E": r"[a-z0-9._-]+@[a-z0-9-]+(?:\.[a-z]+)+", "AF": r"\d{12}", "AT": r"[1-9]\d{7}",
    "AC": r"[2-9]\d{9}", "AB": r"62\d{14}|62\d{17}|(?:\d{4} ){3,4}\d{1,4}", "AS": r"[A0]\d{9}",
    "L": _LATIN, "T": _TITLE, "TT": _TITLE,
}
NAME_SLOTS = {"P", "PD", "PF", "PN", "PJ", "PK", "PH", "PW", "PT", "PC", "PR", "PZ"}
PERSON_SLOTS = NAME_SLOTS | {"PE", "MY", "L"}
CATS = {"person", "person_title", "mobile", "id_number", "email", "account"}


@pytest.fixture(scope="module")
def drawn():
    return ev.draw(N, 5)


def _slot_pattern(slot: str, kind: str, g: int) -> tuple[str, int]:
    """The slot's regex with numbered groups g, g+1, ...; returns (pattern, groups used)."""
    name = _OCR if kind == "name_ocr" else _NAME
    if slot in NAME_SLOTS:
        return f"(?P<g{g}>{name})", 1
    if slot == "PE":
        return (f"(?:(?:{_EN}) ?)?(?P<g{g}>{name})(?:(?:{_EN})|（(?:{_EN})）)?", 1)
    if slot == "MY":
        return (f"(?:(?P<g{g}>{_LATIN})（(?P<g{g + 1}>{name})）"
                f"|(?P<g{g + 2}>{name}) (?P<g{g + 3}>{_LATIN}))", 4)
    return f"(?P<g{g}>{SLOT_RE[slot]})", 1


@cache
def _frame_regex(kind: str, fi: int) -> tuple[re.Pattern, int]:
    """The frame as a regex: groups per marked slot (a repeated {P1} back-references its
    first group), the filler slots as the alternation of their values."""
    frame = ev.FRAMES[kind][fi]
    parts, first, pos, g = [], {}, 0, 0
    for m in re.finditer(r"\{([A-Za-z]+)(\d*)\}", frame):
        parts.append(re.escape(frame[pos:m.start()]))
        pos = m.end()
        slot, idx = m.group(1), m.group(2)
        if slot.islower():
            parts.append("(?:" + "|".join(map(re.escape, fl.FILL[slot])) + ")")
            continue
        if idx and slot + idx in first:
            parts.append(f"(?P<g{g}>(?P=g{first[slot + idx]}))")
            g += 1
            continue
        pat, used = _slot_pattern(slot, kind, g)
        if idx:
            assert used == 1, frame
            first[slot + idx] = g
        parts.append(pat)
        g += used
    parts.append(re.escape(frame[pos:]))
    return re.compile("".join(parts), re.S), g


def test_rows_well_formed_and_reproducible(drawn):
    rows, meta = drawn
    assert len(rows) == len(meta) == N
    check_rows(rows, "fresh10-5-", ev.KINDS, CATS)
    assert ev.build(300, 5) == ev.build(300, 5)
    assert ev.build(300, 5) != ev.build(300, 6)
    assert ev.build(0, 1) == []
    assert len(ev.build(7, 1)) == 7
    assert len(ev.build(6000, 0)) == 6000
    with pytest.raises(ValueError, match="n must be"):
        ev.build(-1, 0)


def test_spans_point_at_the_slots(drawn):
    """Each row matches its frame; the groups that took part are the row's spans, in order."""
    rows, meta = drawn
    for r, m in zip(rows, meta, strict=True):
        rx, ngroups = _frame_regex(*m["frame"])
        hit = rx.fullmatch(r["text"])
        assert hit is not None, (ev.FRAMES[m["frame"][0]][m["frame"][1]], r["text"])
        got = [list(hit.span(f"g{i}")) for i in range(ngroups) if hit.span(f"g{i}") != (-1, -1)]
        assert got == [[s, e] for s, e, _ in r["spans"]], r


def _starts_with_surname(name: str) -> bool:
    if any(d in name for d in DOT) or name in nm.NO_SURNAME:
        return True
    return (name[:1] in nm.ALL_SURNAMES or name[:2] in nm.ALL_SURNAMES
            or any(name.startswith(s) for s in nm.JP_SUR))


def test_span_values(drawn):
    rows, _ = drawn
    for r in rows:
        for s, e, c in r["spans"]:
            v = r["text"][s:e]
            if c == "id_number":
                assert valid_id_number(v), v
            elif c == "mobile":
                assert re.fullmatch(SLOT_RE["M"], v), v
            elif c == "email":
                assert re.fullmatch(SLOT_RE["E"], v), v
            elif c == "account":
                digits = v.replace(" ", "")
                assert re.fullmatch(r"[A0-9][0-9 ]{7,22}", v) and not valid_id_number(digits), v
                assert not re.fullmatch(r"1[3-9]\d{9}", digits), v      # never mobile-like
            elif c == "person_title":
                assert re.fullmatch(_TITLE, v), v        # a bare surname with a title only
            elif re.search(f"[{HAN}]", v):
                han = re.sub(r"\s", "", v)
                assert re.fullmatch(_NAME, han), v
                assert _starts_with_surname(han), v
                assert not re.search(_TITLE_WORDS, han), v     # the name only, no title
            else:
                assert re.fullmatch(_LATIN, v), v


def test_english_given_names_alone_are_not_gold(drawn):
    rows, _ = drawn
    for r in rows:
        for s, e, _ in r["spans"]:
            assert r["text"][s:e] not in nm.EN_GIVEN, r


def test_kinds_and_spans_per_kind(drawn):
    rows, _ = drawn
    check_kinds(rows, ev.KINDS, 0.005)
    ocr = [r["text"][s:e] for r in rows if r["kind"] == "name_ocr" for s, e, c in r["spans"]
           if c == "person" and re.search(f"[{HAN}]", r["text"][s:e])]
    assert ocr and all(" " in v for v in ocr)
    titles = [r["text"][s:e] for r in rows for s, e, c in r["spans"] if c == "person_title"]
    assert len(titles) > N * 0.06 and all(len(t) <= 4 for t in titles)


def test_frames_distinct_and_kinds_hold_the_right_slots():
    slots = {k: {m.group(1) for f in fs for m in re.finditer(r"\{([A-Za-z]+)\d*\}", f)}
             for k, fs in ev.FRAMES.items()}
    assert set(ev.FRAMES) == set(ev.KINDS) and abs(sum(ev.KINDS.values()) - 1) < 1e-9
    assert sum(map(len, ev.FRAMES.values())) >= 400
    assert all(len(set(v)) == len(v) for v in ev.FRAMES.values())
    assert not slots["negative"] & (set(ev.MAKERS))               # negatives: fillers only
    assert not slots["pii"] & (PERSON_SLOTS | {"T", "TT"})
    assert not slots["title"] & PERSON_SLOTS
    for k, fs in ev.FRAMES.items():
        assert all(s in ev.MAKERS or s in fl.FILL for s in slots[k]), k
        if k.startswith("name"):
            assert all(any(m.group(1) in PERSON_SLOTS for m in re.finditer(
                r"\{([A-Za-z]+)\d*\}", f)) for f in fs), k
    asr = ev.FRAMES["name_asr"]
    assert not any(re.search("[，。、；：！？]", f) for f in asr)         # no punctuation


def test_every_frame_used_and_name_types(drawn):
    _, meta = drawn
    assert len({m["frame"] for m in meta}) == sum(map(len, ev.FRAMES.values()))
    types = Counter(t for m in meta for t in m["types"])
    for t in ("zh2", "zh3", "zh4", "zh5", "common", "rare", "compound", "double", "wordlike",
              "whole_word", "dotted", "translit", "no_surname", "japanese", "korean", "trad",
              "hk", "tw", "married", "my", "latin", "en_pair", "ocr", "title"):
        assert types[t] >= 10, (t, types)


def test_fillers_carry_no_generated_name():
    """Fillers are unmarked text: no slot, and none of the special names the makers use
    (person-named brands such as 张飞牛肉 and words such as 华丽/白云山 that are also whole
    names are deliberate hard negatives)."""
    special = ([zh for zh, _ in nm.MY_PAIRS] + nm.DOT_PARTS + nm.NO_SURNAME
               + [f.split("·")[0] for f in nm.FOREIGN] + nm.LATIN)
    special += [s + g for s in nm.JP_SUR for g in nm.JP_GIVEN]
    for values in fl.FILL.values():
        for v in values:
            assert "{" not in v, v
            assert not any(name in v for name in special), v
