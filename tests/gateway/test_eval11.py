"""The generator of the twelfth independent name set (gateway_eval11, --fresh12) -- no detector runs."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest

from yinji.ids import id_check_char
from yinji.testing import gateway_eval11 as ev
from yinji.testing import gateway_eval11_names as nm
from yinji.testing.gateway_eval import check_kinds, check_rows


@pytest.fixture(scope="module")
def draw0():
    return ev.draw(6000, 0)


def _norm(name: str) -> str:
    return re.sub(r"[ \u3000]", "", name)


def test_rows_format_and_kinds(draw0):
    rows, _, _ = draw0
    assert len(rows) == 6000
    check_rows(rows, "fresh12-0-", ev.KINDS, ev.CATEGORIES)
    check_kinds(rows, ev.KINDS, tolerance=0.002, chinese_share=0.35)
    assert abs(sum(ev.KINDS.values()) - 1) < 1e-9
    hard = sum(ev.KINDS[k] for k in ("asr", "bank", "ocr", "table", "bio", "court", "hk",
                                     "foreign"))
    assert 0.30 <= hard <= 0.37


def test_seeds_reproducible_and_different():
    assert ev.build(300, 7) == ev.build(300, 7)
    assert ev.build(300, 7) != ev.build(300, 8)
    assert ev.build(0, 1) == []
    with pytest.raises(ValueError):
        ev.build(-1, 0)


def test_frames_distinct_and_all_used(draw0):
    _, used, _ = draw0
    frames = [t for _, t in ev.FRAMES]
    assert len(set(frames)) == len(frames) >= 200
    assert set(used) == set(frames)
    per_kind = Counter(k for k, _ in ev.FRAMES)
    assert set(per_kind) == set(ev.KINDS) and min(per_kind.values()) >= 10, per_kind
    assert not any(re.search(r"\{[A-Z]", t) for t in ev.WRAPPERS)


def test_identifier_spans_are_valid(draw0):
    rows, _, _ = draw0
    seen = Counter()
    for r in rows:
        for s, e, c in r["spans"]:
            x = r["text"][s:e]
            seen[c] += 1
            if c == "id_number":
                assert re.fullmatch(r"\d{17}[\dX]", x) and id_check_char(x[:17]) == x[17], x
            elif c == "mobile":
                assert re.fullmatch(r"1\d{2}[- ]?\d{4}[- ]?\d{4}|[5679]\d{3} ?\d{4}", x), x
            elif c == "email":
                assert re.fullmatch(r"[a-z0-9.]+@[a-z0-9.]+\.[a-z]+", x), x
            elif c == "account":
                assert re.fullmatch(r"\d{8}|\d{10}|\d{12}|\d{16}|\d{19}|[A0B]\d{9}", x), x
    assert all(seen[c] > 50 for c in ev.CATEGORIES), seen


def test_person_and_title_spans_point_at_names():
    """Render every frame many times: each person span is exactly a rendered person's name (or
    its romanisation), spaces aside; each person_title is a known surname with a title."""
    rng = np.random.default_rng(11)
    titles = set(nm.TITLES) | set(nm.HK_TITLES)
    for kind, frame in ev.FRAMES:
        for _ in range(8):
            text, spans, people = ev.render(frame, kind, rng)
            names = {p.full for p in people} | {p.alt for p in people if p.alt}
            names |= {re.sub("[·•・]", "", n) for n in names}
            names = {_norm(n) for n in names}
            for s, e, c in spans:
                x = text[s:e]
                if c == "person":
                    assert _norm(x) in names, (frame, x)
                    assert not re.search(r"[，。：；！？、,:()（）\n]", x), x
                elif c == "person_title":
                    if x[0] in nm.PREFIXES:
                        assert x[1:] in nm.ALL_SURNAMES, x
                    else:
                        assert any(x.startswith(sn) and x[len(sn):] in titles
                                   for sn in nm.ALL_SURNAMES), x


def test_negatives_and_name_mix(draw0):
    rows, _, persons = draw0
    assert all(r["spans"] == [] for r in rows if r["kind"] == "negative")
    # No brand, firm or street filler is ever gold (a generated person may be called 李宁: gold).
    gold = {r["text"][s:e] for r in rows for s, e, c in r["spans"] if c == "person"}
    assert not gold & {"周大福", "曹操出行", "张飞牛肉", "王老吉", "中山公园", "孔府家酒"}
    types = Counter(p.type for p in persons)
    n = sum(types.values())
    assert types["common2"] / n > 0.3 and types["rare"] / n > 0.08
    for t in ("compound", "word", "double", "dotted", "latin", "hk", "married", "japanese",
              "korean", "tibetan", "mongolian", "malaysian", "malay"):
        assert types[t] > 10, t
    spaced = sum(1 for r in rows for s, e, c in r["spans"]
                 if c == "person" and re.search(r"[\u4e00-\u9fff][ \u3000]+[\u4e00-\u9fff]",
                                                r["text"][s:e]))
    assert spaced > 100
    assert len(nm.RARE) >= 250 and len(nm.COMPOUND) >= 30
    assert not set(nm.RARE) & set(nm.COMMON)
