"""Money amounts, flagged only when configured and only in a sentence that names a person.

Why tied to a person: "营收增长12亿元" is not personal; "张伟账户余额52万元" is. The engine passes
the person spans it found; an amount in the same sentence as one of them is reported.
"""

from __future__ import annotations

import re

from yinji.gateway.detectors.base import AMOUNT, Detection

_AMOUNT = re.compile(
    r"(?:(?:人民币|RMB|CNY|HKD|USD|港币|美元|HK\$|US\$|¥|￥|\$)\s?\d[\d,]*(?:\.\d+)?\s?"
    r"(?:万元|亿元|万|亿|元|million|mn|m|k)?"
    r"|\d[\d,]*(?:\.\d+)?\s?(?:万元|亿元|万港元|港元|美元|元|万|亿)(?:人民币)?)",
    re.IGNORECASE)
_SENTENCE_END = re.compile(r"[。！？!?;；\n]|\.\s")


def amounts_near_people(text: str, people: list[Detection]) -> list[Detection]:
    if not people:
        return []
    bounds = [0] + [m.end() for m in _SENTENCE_END.finditer(text)] + [len(text) + 1]

    def sentence(i: int) -> int:
        lo, hi = 0, len(bounds) - 1
        while lo < hi - 1:
            mid = (lo + hi) // 2
            if bounds[mid] <= i:
                lo = mid
            else:
                hi = mid
        return lo

    with_person = {sentence(p.start) for p in people}
    return [Detection(m.start(), m.end(), AMOUNT, 0.8, "amount")
            for m in _AMOUNT.finditer(text) if sentence(m.start()) in with_person]
