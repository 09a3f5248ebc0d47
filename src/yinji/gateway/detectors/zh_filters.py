"""Spans the rules or the model found that are no person, by the words around them (round 8):
a surname before 姓 (王姓客户: "a client surnamed Wang"), 其 as a pronoun at a span's end
(代其|女儿), 曾 the adverb (曾任, 曾向: "once served as"), the items of a keyword list
(关键词：陈述、贺电), and the end of an ordinary word an OCR gap split, then another word
(交 易|编码, 长 沙|分行; not 客户名称 王|建良).

Leakage: see names_zh.
"""

from __future__ import annotations

import re

from yinji.gateway.detectors.base import Detection
from yinji.gateway.detectors.zh_cues import _HAN

# 曾 the adverb before a verb or preposition (曾任, 曾向客户, 曾于, 曾被, 曾多次) and 曾用名 (a
# former name); a span starting at 曾 or at 任 right after it is no name then.
_ADVERB_ZENG = re.compile("曾[任经向在于被是为多获参担]|曾用名")
# A list of keywords, tags or subject words: its items are words, not names.
_KEYWORDS = re.compile(r"(?:关键词|关键字|主题词|标签|Tags?|Keywords?)\s*[:：]\s*[^\n。；;]*")


def not_names(text: str, found: list[Detection], common: frozenset[str],
              labelled) -> list[Detection]:  # noqa: ANN001 - labelled(text, s, e) -> bool
    """Drop the spans of `found` that are no person (module docstring). A span with a label
    before it or a title after it (`labelled`) stays, unless it is X姓, ends with 其 or starts
    with 曾 the adverb."""
    if not found:
        return found
    keywords = [m.span() for m in _KEYWORDS.finditer(text)]
    out = []
    for d in found:
        s, e = d.start, d.end
        span = text[s:e]
        if (len(span) == 2 and span[1] == "姓") \
                or (span[-1] == "其" and e < len(text) and _HAN.match(text, e)) \
                or _ADVERB_ZENG.match(text, s) \
                or (span[0] == "任" and s > 0 and _ADVERB_ZENG.match(text, s - 1)):
            continue  # (whatever the label or title: 监护人|代其|女儿, 曾任|某公司)
        if not labelled(text, s, e) and (
                any(a <= s and e <= b for a, b in keywords)
                or (s >= 2 and text[s - 1] == " " and _HAN.match(text, s - 2) and " " not in span
                    and text[s - 2:s - 1] + span[0] in common and span[1:] in common)):
            continue
        out.append(d)
    return out
