"""Cues on either side of a span that the name forms (names_forms: married, Tibetan/Mongolian and
dotted names) share with names_zh, and how a set of found spans overrides another.

Leakage: see names_zh.
"""

from __future__ import annotations

from yinji.gateway.detectors.base import Detection
from yinji.gateway.detectors.zh_cues import (
    _BOUNDARY,
    _DIGIT_RUN,
    _DIGIT_RUN_END,
    _FIELD,
    _LABEL_RX,
    _LEAD_RX,
    _POST_RX,
    _PROPER,
)
from yinji.gateway.detectors.zh_words import _lexicon, _tagger, _title


def _lead(text: str, s: int, d: int) -> int | None:
    """Where a dotted name starts after a label or ordinary word that ends inside the run of
    transliteration characters before its dot at `d` (嘉宾|威廉·X), or None."""
    common = _lexicon()[0]
    lead = None
    for k in range(s, min(d, s + 8)):  # the longest label ending the first part's prefix
        if (x := _LEAD_RX.match(text, k, d)) is not None and (lead is None or x.end() > lead):
            lead = x.end() if x.start() == s or text[s:x.start()] in common else lead
    start = lead if lead is not None else s
    for k in (3, 2):
        if d - start - k >= 2 and text[start:start + k] in common \
                and _tagger().word_tag_tab.get(text[start:start + k], "n")[:2] not in _PROPER:
            return start + k
    return lead



def _cue_left(text: str, s: int) -> bool:
    """A label, punctuation, space, Latin text or a long digit run right before `s`."""
    return (s == 0 or text[s - 1] in _BOUNDARY
            or _LABEL_RX.search(text, max(0, s - 12), s) is not None
            or _FIELD.search(text, max(0, s - 24), s) is not None
            or _DIGIT_RUN_END.search(text, max(0, s - 24), s) is not None)



def _cue_right(text: str, e: int) -> bool:
    """Punctuation, a title, a verb or particle that follows a person, or a digit run at `e`."""
    return (e == len(text) or text[e] in _BOUNDARY or _title(text, e, _lexicon()[0])
            or _POST_RX.match(text, e) is not None or _DIGIT_RUN.match(text, e) is not None)



def _labelled(text: str, s: int, e: int) -> bool:
    """A label right before `s` or a title right after `e`."""
    return (_LABEL_RX.search(text, max(0, s - 12), s) is not None
            or _title(text, e, _lexicon()[0]))



def _overriding(found: list[Detection], spans: list[Detection]) -> list[Detection]:
    """`spans` replace the found names they overlap unless one of those contains them."""
    keep = [d for d in found if not any(d.start < e.end and e.start < d.end
                                        and not (d.start <= e.start and e.end <= d.end)
                                        for e in spans)]
    add = [e for e in spans if not any(d.start <= e.start and e.end <= d.end for d in keep)]
    return sorted(keep + add, key=lambda d: d.start)
