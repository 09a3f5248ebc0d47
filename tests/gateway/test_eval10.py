"""The generator of the eleventh held-out names set (gateway_eval10): its rows, not any detector."""

from __future__ import annotations

import datetime
import re
from collections import Counter

import numpy as np
import pytest

from yinji.ids import id_check_char
from yinji.testing import gateway_eval10 as ev
from yinji.testing import gateway_eval10_names as nm
from yinji.testing.gateway_eval import check_kinds, check_rows

SURNAMES = set(nm.COMMON) | set(nm.RARE) | set(nm.COMPOUND) | set(nm.TRAD_SURNAMES)
TITLES = {t for f in ev.FRAMES for m in re.finditer(r"\{T[^{}:]*:([^{}]+)\}", f[1])
          for t in m.group(1).split("/")}
HAN = re.compile(r"[\u3400-\u9fff]+")
PERSON_SLOT = re.compile(r"\{P\d")
TITLE_SLOT = re.compile(r"\{T[\d|:]")


@pytest.fixture(scope="module")
def draw6000():
    return ev.draw(6000, 11)


def is_name(text: str) -> bool:
    """A name make_name can draw; an OCR'd one with single spaces between its parts."""
    if text in nm.LATIN or text in nm.HK_LATIN:
        return True
    if " " in text and not re.fullmatch(r"\S+( \S+)+", text):
        return False
    bare = text.replace(" ", "")
    if bare in nm.OTHER or bare in nm.WORD_WHOLE:
        return True
    for dot in set(nm.DOTS):
        first, sep, last = bare.partition(dot)
        if sep:
            return first in nm.DOT_FIRST and last in nm.DOT_LAST
    if not HAN.fullmatch(bare) or not 2 <= len(bare) <= 4:
        return False
    return bare[:2] in nm.COMPOUND or bare[0] in SURNAMES


def is_title(text: str) -> bool:
    for p in ev.PREFIXES:
        if text.startswith(p) and text[len(p):] in SURNAMES:
            return True
    return any(text.startswith(s) and text[len(s):] in TITLES for s in SURNAMES)


def check_value(cat: str, v: str) -> None:
    if cat == "person":
        assert is_name(v), v
    elif cat == "person_title":
        assert is_title(v), v
    elif cat == "mobile":
        assert re.fullmatch(r"1[3-9]\d{9}", re.sub(r"^\+86|[\s-]", "", v)), v
    elif cat == "id_number":
        assert len(v) == 18 and id_check_char(v[:17]) == v[17], v
        datetime.date(int(v[6:10]), int(v[10:12]), int(v[12:14]))  # a real birth date
    elif cat == "email":
        assert re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+", v), v
    else:
        assert re.fullmatch(r"\d{8}|\d{10}|\d{12}|62\d{14}|62\d{17}|[A0B]\d{9}", v), v


def test_rows_format_kinds_and_spans(draw6000):
    rows, used, types = draw6000
    assert len(rows) == 6000
    check_rows(rows, "fresh11-11-", ev.KINDS, ev.CATEGORIES)
    check_kinds(rows, ev.KINDS, 0.005, chinese_share=0.6)
    for r, ts in zip(rows, types, strict=True):
        for s, e, c in r["spans"]:
            check_value(c, r["text"][s:e])
        if r["kind"] in ("negative", "pii", "title"):
            assert ts == [], r  # no person drawn, not even one only referred to by a title


def test_spans_are_whole_names(draw6000):
    """No gold name is cut: the characters around a person span are not part of a name slot,
    and an OCR'd name keeps its inner spaces inside the span."""
    rows, _, _ = draw6000
    ocr = 0
    for r in rows:
        for s, e, c in r["spans"]:
            v = r["text"][s:e]
            if c == "person" and " " in v and HAN.search(v):
                ocr += 1
                assert r["kind"] == "ocr" and " " in v.strip(), r
            if c in ("person", "person_title"):
                assert v[0] not in "，。、：:；（）()【】“”《》" and v[-1] not in "，。、：；", v
    assert ocr > 150


def test_negative_rows_hold_no_name(draw6000):
    rows, used, types = draw6000
    neg = [r for r in rows if r["kind"] == "negative"]
    assert neg and all(r["spans"] == [] for r in neg)
    frames = {f for k, f in ev.FRAMES if k in ("negative", "pii")}
    assert not any(PERSON_SLOT.search(f) or TITLE_SLOT.search(f) for f in frames)
    title_frames = {f for k, f in ev.FRAMES if k == "title"}
    assert all(TITLE_SLOT.search(f) and not PERSON_SLOT.search(f) for f in title_frames)


def test_seeds_reproducible_and_distinct():
    assert ev.build(400, 7) == ev.build(400, 7)
    assert ev.build(400, 7) != ev.build(400, 8)
    assert [r["id"] for r in ev.build(3, 5)] == ["fresh11-5-0", "fresh11-5-1", "fresh11-5-2"]
    assert ev.build(0, 1) == []
    with pytest.raises(ValueError, match="n must be"):
        ev.build(-1, 0)


def test_frames_many_distinct_and_all_used(draw6000):
    _, used, _ = draw6000
    frames = [f for _, f in ev.FRAMES]
    assert len(set(frames)) == len(frames) >= 300
    assert set(used) == set(frames)
    per_kind = Counter(k for k, _ in ev.FRAMES)
    assert all(per_kind[k] >= 10 for k in ev.KINDS), per_kind


def test_name_type_mix(draw6000):
    rows, _, types = draw6000
    mix = Counter(t for ts in types for t in ts)
    total = sum(mix.values())
    assert set(mix) == set(nm.NAME_KINDS), mix
    assert 0.35 < mix["common3"] / total < 0.55 and mix["rare"] / total > 0.08, mix
    assert all(mix[k] / total > 0.01 for k in nm.NAME_KINDS), mix
    lengths = Counter(len(r["text"][s:e].replace(" ", "")) for r in rows
                      for s, e, c in r["spans"] if c == "person"
                      and HAN.fullmatch(r["text"][s:e].replace(" ", "")))
    assert lengths[2] > 1000 and lengths[3] > 5000 and lengths[4] > 500, lengths


def test_title_refers_to_the_named_person():
    """{T1:经理} after {P1} uses P1's surname; a name without one is repeated in full."""
    rng = np.random.default_rng(3)
    for _ in range(300):
        text, spans, _ = ev.render("客户{P1}，{T1:经理}说", rng)
        (s1, e1, c1), (s2, e2, c2) = spans
        name = text[s1:e1]
        if c2 == "person_title":
            assert text[s2:e2].endswith("经理") and name.startswith(text[s2:e2][:-2])
        else:
            assert c2 == "person" and text[s2:e2] == name
    with pytest.raises(ValueError, match="unknown slot"):
        ev.render("{NOPE}", rng)
