"""The eighth held-out name set's generator (gateway_eval7) checked on its own, no detector run."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from yinji.ids import valid_id_number
from yinji.testing import gateway_eval7 as ev
from yinji.testing import gateway_eval7_fill as fl
from yinji.testing import gateway_eval7_names as nm
from yinji.testing.gateway_eval import check_kinds, check_rows

N = 2500
HAN = "\u3400-\u9fff"
DOT = "·•・"
_SUR = "|".join(sorted(nm.SURNAMES, key=len, reverse=True))
_TITLE = (f"(?:[老小阿](?:{_SUR})|(?:{_SUR})(?:"
          + "|".join(sorted(set(nm.TITLES + nm.TITLES_TRAD), key=len, reverse=True)) + "))")
_NAME = f"(?:[{HAN}]{{2,4}}|[{HAN}]+[{DOT}][{HAN}]+)"
# What each slot's value looks like, written apart from the generator.
SLOT_RE = {
    "P": _NAME, "H": _NAME, "S": f"[{HAN}]{{3}}", "MP": f"[{HAN}]{{2,3}}",
    "D": f"[{HAN}]+[{DOT}][{HAN}]+", "DT": f"[{HAN}]+[{DOT}][{HAN}]+", "L": "[A-Za-z]+(?: [A-Za-z]+){1,3}",
    "O": f"[{HAN}](?: {{1,2}}[{HAN}]+)+", "T": _TITLE, "TH": _TITLE,
    "TE": "(?:Mr|Ms|Mrs|Miss)\\.? [A-Z][a-z]+",
    "M": r"1\d{2}(?:\d{8}|-\d{4}-\d{4}| \d{4} \d{4})", "ID": r"\d{17}[\dX]", "IDM": r"\d{17}[\dX]",
    "E": r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", "AC": r"\d{12}", "AT": r"\d{8}", "AK": r"\d{9,10}",
    "AB": r"\d{16}|\d{19}|(?:\d{4} ){3,4}\d{1,4}", "AS": r"[A0]\d{9}",
}
CATS = {"person", "person_title", "mobile", "id_number", "email", "account"}


@pytest.fixture(scope="module")
def drawn():
    return ev.draw(N, 3)


def _frame_regex(frame: str) -> tuple[re.Pattern, list[str]]:
    """The frame as a regex: a group per span slot (a repeated {P1} must repeat its text)."""
    parts, groups, first = [], [], {}
    pos = 0
    for m in re.finditer(r"\{([A-Z]+)(\d?)\}", frame):
        parts.append(re.escape(frame[pos:m.start()]))
        pos = m.end()
        slot, idx = m.group(1), m.group(2)
        if slot not in SLOT_RE:
            assert slot in fl.FILL, f"unknown slot {slot} in {frame!r}"
            parts.append("(?:.+?)")
            continue
        g = f"g{len(groups)}"
        key = slot + idx
        body = f"(?P={first[key]})" if idx and slot != "S" and key in first else f"(?:{SLOT_RE[slot]})"
        if idx and slot != "S":
            first.setdefault(key, g)
        parts.append(f"(?P<{g}>{body})")
        groups.append(g)
    parts.append(re.escape(frame[pos:]))
    return re.compile("".join(parts), re.S), groups


def test_rows_well_formed_and_reproducible(drawn):
    rows, _ = drawn
    assert len(rows) == N
    check_rows(rows, "fresh8-3-", ev.KINDS, CATS)
    assert ev.build(300, 3) == ev.build(300, 3)
    assert ev.build(300, 3) != ev.build(300, 4)
    assert ev.build(0, 1) == []
    with pytest.raises(ValueError, match="n must be"):
        ev.build(-1, 0)


def test_spans_point_at_the_slots(drawn):
    """Outside OCR, each row matches its frame with one group per span, at the span's place."""
    rows, meta = drawn
    for r, m in zip(rows, meta, strict=True):
        kind, fi = m["frame"]
        if kind == "name_ocr":
            continue
        rx, groups = _frame_regex(ev.FRAMES[kind][fi])
        hit = rx.fullmatch(r["text"])
        assert hit is not None, (ev.FRAMES[kind][fi], r["text"])
        assert [list(hit.span(g)) for g in groups] == [[s, e] for s, e, _ in r["spans"]], r


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
                assert re.fullmatch(r"[A0-9][0-9 ]{7,22}", v), v
            elif c == "person_title":
                assert re.fullmatch(f"{_TITLE}|{SLOT_RE['TE']}", v), v
            elif re.search(f"[{HAN}]", v):
                han = v.replace(" ", "")
                assert re.fullmatch(_NAME, han) or re.fullmatch(
                    f"[{HAN}]{{2,4}}", han), v
                if not any(d in han for d in DOT):       # starts with a surname
                    assert han[:1] in nm.SURNAMES or han[:2] in nm.SURNAMES, v
            else:
                assert re.fullmatch(SLOT_RE["L"], v), v


def test_kinds_and_spans_per_kind(drawn):
    rows, meta = drawn
    check_kinds(rows, ev.KINDS, 0.03)
    ocr = [r["text"][s:e] for r in rows if r["kind"] == "name_ocr" for s, e, c in r["spans"]
           if c == "person" and " " in r["text"][s:e]]
    assert len(ocr) > 50


def test_distinct_frames_and_name_types(drawn):
    _, meta = drawn
    total = sum(map(len, ev.FRAMES.values()))
    assert total >= 150
    assert len({m["frame"] for m in meta}) == total          # a draw uses every frame
    assert all(len(set(v)) == len(v) for v in ev.FRAMES.values())
    types = Counter(t for m in meta for t in m["types"])
    for t in ("zh2", "zh3", "rare", "compound", "double", "wordlike", "dotted", "married", "trad",
              "latin", "ocr"):
        assert types[t] > 20, (t, types)
