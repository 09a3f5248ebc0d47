"""gateway_eval3's own consistency: gold spans, determinism, counts — not the detectors' scores."""

from __future__ import annotations

import re
from collections import Counter
from itertools import pairwise

import pytest

from yinji.ids import valid_id_number
from yinji.testing import gateway_eval3 as ev

N = 1500


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return ev.build(N, 0)


def _is_name(value: str) -> bool:
    """What a gold person span may hold: Han name, dotted name or a Latin name."""
    return bool(re.fullmatch(r"[\u4e00-\u9fff]{2,5}|[\u4e00-\u9fff]{2,5}·[\u4e00-\u9fff]{2,5}"
                             r"|[A-Z][a-z]+( [A-Z][a-z]+)?", value))


def test_spans_point_at_the_drawn_values(rows):
    for row in rows:
        text, spans = row["text"], row["spans"]
        assert "{" not in text and "}" not in text, row  # every slot was filled
        ends = sorted((s, e) for s, e, _ in spans)
        assert all(e1 <= s2 for (_, e1), (s2, _) in pairwise(ends)), row  # no overlap
        for s, e, cat in spans:
            value = text[s:e]
            assert 0 <= s < e <= len(text) and value == value.strip(), row
            if cat == "person":
                assert _is_name(value), value
            elif cat == "mobile":
                digits = re.sub(r"^\+86 |[ -]", "", value)
                assert re.fullmatch(r"1[3-9]\d{9}", digits), value
            elif cat == "id_number":
                assert valid_id_number(value), value
            elif cat == "email":
                assert re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]+", value), value
            else:
                raise AssertionError(f"unexpected category {cat}")
            # the value is not glued to more letters of its own kind (span boundaries are right)
            if cat in ("mobile", "id_number"):
                assert not text[e:e + 1].isdigit() and not text[s - 1:s].isdigit(), row


def test_gold_person_spans_come_from_the_name_lists(rows):
    surnames = ({s for s, _ in ev.COMMON} | set(ev.RARE) | set(ev.COMPOUND) | set(ev.TRAD_SUR)
                | {s for s, _ in ev.HK_SUR})
    for row in rows:
        for s, e, cat in row["spans"]:
            v = row["text"][s:e]
            if cat != "person" or not "\u4e00" <= v[0] <= "\u9fff":
                continue
            assert "·" in v or v in ev.NO_SURNAME or v[:1] in surnames or v[:2] in surnames, v


def test_same_seed_same_rows_other_seed_other_rows(rows):
    assert ev.build(N, 0) == rows
    assert ev.build(N, 1) != rows
    assert ev.build(50, 0) == rows[:50]  # a shorter draw is a prefix: n does not reshuffle


def test_counts_per_category_and_kind(rows):
    kinds = Counter(r["kind"] for r in rows)
    cats = Counter(c for r in rows for _, _, c in r["spans"])
    assert 0.15 * N < kinds["negative"] < 0.25 * N
    assert 0.1 * N < kinds["name_trad"] < 0.2 * N
    assert all(not r["spans"] for r in rows if r["kind"] == "negative")
    assert all(any(c == "person" for _, _, c in r["spans"]) for r in rows if r["kind"] != "negative")
    assert cats["person"] > 1.2 * N and cats["mobile"] > 0.1 * N
    assert cats["id_number"] > 0.05 * N and cats["email"] > 0.02 * N
    texts = [r["text"] for r in rows]
    names = [r["text"][s:e] for r in rows for s, e, c in r["spans"] if c == "person"]
    assert sum("·" in v for v in names) > 20  # dotted names
    assert sum(v.isascii() for v in names) > 20  # English names of Hong Kong style
    assert sum(v[:2] in ev.COMPOUND for v in names) > 50  # compound surnames
    assert sum(any(t in x for t in ("華夏基金", "华夏基金", "平安银行", "黄山")) for x in texts) > 10


def test_fill_repeats_a_slot_and_spans_are_exact():
    g = ev.Gen(7)
    text, spans = ev.fill(g, "{P}和{P2}，{P}的手机{M}")
    a, b, a2, m = (text[s:e] for s, e, _ in spans)
    assert a == a2 and text == f"{a}和{b}，{a}的手机{m}"
    assert [c for *_, c in spans] == ["person", "person", "person", "mobile"]


def test_numbered_slots_draw_different_values():
    g = ev.Gen(3)
    for _ in range(200):
        text, spans = ev.fill(g, "{P}、{P2}、{P3}")
        assert len({text[s:e] for s, e, _ in spans}) == 3, text
        text, _ = ev.fill(g, "{R}|{R2}|{R3}")  # 8 labels: equal draws would be common
        assert len(set(text.split("|"))) == 3, text
