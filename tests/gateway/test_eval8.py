"""The ninth held-out name set's generator (gateway_eval8) checked on its own; no detector runs."""

from __future__ import annotations

import re
from collections import Counter
from functools import cache

import pytest

from yinji.ids import valid_id_number
from yinji.testing import gateway_eval8 as ev
from yinji.testing import gateway_eval8_fill as fl
from yinji.testing import gateway_eval8_names as nm
from yinji.testing.gateway_eval import check_kinds, check_rows

N = 2500
HAN = "\u3400-\u9fff"
DOT = "·•・"
_HAN_NAME = f"[{HAN}]{{2,5}}|[{HAN}]{{2,6}}[{DOT}][{HAN}]{{1,5}}"
_OCR_NAME = f"[{HAN}](?: {{0,2}}(?:[{HAN}]|[{DOT}]))+"
_LATIN = "[A-Z][A-Za-zé]+(?: [A-Za-zé]+){1,3}"
_SUR = "|".join(sorted(nm.ALL_SURNAMES, key=len, reverse=True))
_TITLE = (f"[老小阿](?:{_SUR})|(?:{_SUR})(?:"
          + "|".join(sorted(set(nm.TITLES) | set(nm.TITLES_TRAD), key=len, reverse=True)) + ")")
# What each span slot's value looks like, written apart from the generator.
SLOT_RE = {
    "P": _HAN_NAME, "PF": f"[{HAN}]{{2,4}}", "H": f"[{HAN}]{{2,4}}", "D": _HAN_NAME,
    "J": f"[{HAN}]{{2,5}}", "Y": f"[{HAN}]{{3}}", "L": _LATIN, "T": _TITLE, "TH": _TITLE,
    "M": r"1\d{2}(?:\d{8}|-\d{4}-\d{4}| \d{4} \d{4})", "I": r"\d{17}[\dX]",
    "E": r"[a-z0-9.-]+@[a-z0-9-]+(?:\.[a-z]+)+", "AF": r"\d{12}", "AT": r"\d{8}",
    "AC": r"[1-9]\d{8,9}", "AB": r"\d{16}|\d{19}|(?:\d{4} ){3,4}\d{3,4}", "AS": r"[A0]\d{9}",
}
PERSON_SLOTS = {"P", "PF", "H", "D", "J", "Y", "L"}
CATS = {"person", "person_title", "mobile", "id_number", "email", "account"}


@pytest.fixture(scope="module")
def drawn():
    return ev.draw(N, 5)


@cache
def _frame_regex(kind: str, fi: int) -> tuple[re.Pattern, list[str]]:
    """The frame as a regex: a group per span slot (a repeated {P1} repeats its text), the
    filler slots as the alternation of their values."""
    frame = ev.FRAMES[kind][fi]
    parts, groups, first, pos = [], [], {}, 0
    for m in re.finditer(r"\{([A-Za-z]+)(\d*)\}", frame):
        parts.append(re.escape(frame[pos:m.start()]))
        pos = m.end()
        slot, idx = m.group(1), m.group(2)
        if slot not in SLOT_RE:
            assert slot in fl.FILL, f"unknown slot {slot} in {frame!r}"
            parts.append("(?:" + "|".join(map(re.escape, fl.FILL[slot])) + ")")
            continue
        pat = _OCR_NAME if kind == "name_ocr" and slot in PERSON_SLOTS - {"L"} else SLOT_RE[slot]
        g = f"g{len(groups)}"
        body = f"(?P={first[slot + idx]})" if idx and slot + idx in first else f"(?:{pat})"
        if idx:
            first.setdefault(slot + idx, g)
        parts.append(f"(?P<{g}>{body})")
        groups.append(g)
    parts.append(re.escape(frame[pos:]))
    return re.compile("".join(parts), re.S), groups


def test_rows_well_formed_and_reproducible(drawn):
    rows, meta = drawn
    assert len(rows) == len(meta) == N
    check_rows(rows, "fresh9-5-", ev.KINDS, CATS)
    assert ev.build(300, 5) == ev.build(300, 5)
    assert ev.build(300, 5) != ev.build(300, 6)
    assert ev.build(0, 1) == []
    assert len(ev.build(7, 1)) == 7
    with pytest.raises(ValueError, match="n must be"):
        ev.build(-1, 0)


def test_spans_point_at_the_slots(drawn):
    """Each row matches its frame with one group per span slot, at the span's place."""
    rows, meta = drawn
    for r, m in zip(rows, meta, strict=True):
        rx, groups = _frame_regex(*m["frame"])
        hit = rx.fullmatch(r["text"])
        assert hit is not None, (ev.FRAMES[m["frame"][0]][m["frame"][1]], r["text"])
        assert [list(hit.span(g)) for g in groups] == [[s, e] for s, e, _ in r["spans"]], r


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
                assert re.fullmatch(r"[A0-9][0-9 ]{7,22}", v) and not valid_id_number(v), v
            elif c == "person_title":
                assert re.fullmatch(_TITLE, v), v        # a bare surname with a title only
            elif re.search(f"[{HAN}]", v):
                han = re.sub(r"\s", "", v)
                assert re.fullmatch(_HAN_NAME, han), v
                assert _starts_with_surname(han), v
                # the span is the name only: no title or honorific inside it
                assert not re.search("先生|女士|小姐|经理|經理|律师|老师|同志", han), v
            else:
                assert re.fullmatch(_LATIN, v), v


def test_kinds_and_spans_per_kind(drawn):
    rows, _ = drawn
    check_kinds(rows, ev.KINDS, 0.005)
    ocr = [r["text"][s:e] for r in rows if r["kind"] == "name_ocr" for s, e, c in r["spans"]
           if c == "person"]
    assert ocr and all(" " in v for v in ocr if re.search(f"[{HAN}]", v))


def test_frames_distinct_and_kinds_hold_the_right_slots():
    slots = {k: {m.group(1) for f in fs for m in re.finditer(r"\{([A-Za-z]+)\d*\}", f)}
             for k, fs in ev.FRAMES.items()}
    assert sum(map(len, ev.FRAMES.values())) >= 200
    assert all(len(set(v)) == len(v) for v in ev.FRAMES.values())
    assert not slots["negative"] & set(SLOT_RE)                  # negatives: fillers only
    assert not slots["pii"] & (PERSON_SLOTS | {"T", "TH"})
    assert not slots["title"] & PERSON_SLOTS
    for k, fs in ev.FRAMES.items():
        if k.startswith("name"):
            assert all(re.search(r"\{(?:P|PF|H|D|J|Y|L)\d*\}", f) for f in fs), k


def test_every_frame_used_and_name_types(drawn):
    _, meta = drawn
    assert len({m["frame"] for m in meta}) == sum(map(len, ev.FRAMES.values()))
    types = Counter(t for m in meta for t in m["types"])
    for t in ("zh2", "zh3", "zh4", "common", "rare", "compound", "double", "wordlike",
              "whole_word", "dotted", "translit", "minority", "japanese", "korean", "trad",
              "hk", "tw", "married", "my", "latin", "ocr", "title"):
        assert types[t] >= 15, (t, types)


def test_fillers_carry_no_generated_name():
    """Fillers are unmarked text: none holds a slot or a surname + given name the name makers
    use (hard negatives such as 郑州金水路 may share a given name without a surname)."""
    given = {g for g in nm.HK_GIVEN + nm.TW_GIVEN + nm.MY_GIVEN + nm.KR_GIVEN
             + nm.JP_GIVEN if len(g) > 1}
    rx = re.compile("|".join(sorted(given, key=len, reverse=True)))
    for values in fl.FILL.values():
        for v in values:
            assert "{" not in v, v
            for m in rx.finditer(v):
                before = v[:m.start()]
                assert not any(before.endswith(s) for s in nm.ALL_SURNAMES), v
