"""Run all detectors over a text and resolve overlaps into one set of non-overlapping spans.

Why a resolution step: the same digits can look like a card, an account and an ID; a name can
sit inside an address. Higher confidence wins; on a tie the longer span wins.
"""

from __future__ import annotations

from collections.abc import Iterable

from yinji.gateway.detectors.accounts import (
    DEFAULT_ACCOUNT_PATTERNS,
    AccountDetector,
    AccountPattern,
)
from yinji.gateway.detectors.address import AddressDetector
from yinji.gateway.detectors.amounts import amounts_near_people
from yinji.gateway.detectors.base import PERSON, Detection, Detector
from yinji.gateway.detectors.names_en import EnglishNameDetector
from yinji.gateway.detectors.names_zh import ChineseNameDetector, warm_up
from yinji.gateway.detectors.patterns import (
    BankCardDetector,
    EmailDetector,
    GluedIdMobileDetector,
    IdNumberDetector,
    PassportDetector,
    PhoneDetector,
    UsccDetector,
)

# Full-width ASCII (１３８, ＠, －) and the ideographic space, as Chinese input methods type
# them, read as their ASCII forms by the pattern detectors: one character for one, so the
# spans found point at the same places in the original text.
_HALFWIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: 0x20}
_READ_ORIGINAL = (AddressDetector, ChineseNameDetector, EnglishNameDetector)


class DetectorEngine:
    """All detectors; `detect` returns sorted, non-overlapping spans above `min_confidence`."""

    def __init__(self, *, account_patterns: Iterable[AccountPattern] = DEFAULT_ACCOUNT_PATTERNS,
                 min_confidence: float = 0.5, amounts_with_person: bool = False,
                 extra: Iterable[Detector] = ()) -> None:
        self.min_confidence = min_confidence
        self.amounts_with_person = amounts_with_person
        self.detectors: list[Detector] = [
            IdNumberDetector(), PhoneDetector(), GluedIdMobileDetector(), BankCardDetector(),
            EmailDetector(),
            UsccDetector(), PassportDetector(), AccountDetector(account_patterns),
            AddressDetector(), ChineseNameDetector(), EnglishNameDetector(), *extra,
        ]

    def warm_up(self) -> None:
        warm_up()

    def detect(self, text: str, min_confidence: float | None = None) -> list[Detection]:
        floor = self.min_confidence if min_confidence is None else min_confidence
        plain = text.translate(_HALFWIDTH)
        found = [d for det in self.detectors
                 for d in det.detect(text if isinstance(det, _READ_ORIGINAL) else plain)
                 if d.confidence >= floor]
        chosen = resolve(found)
        if self.amounts_with_person:
            people = [d for d in chosen if d.category == PERSON]
            chosen = resolve(chosen + amounts_near_people(text, people))
        return chosen


def resolve(found: list[Detection]) -> list[Detection]:
    """Greedy: keep the most confident (then longest) span, drop everything overlapping it."""
    order = sorted(found, key=lambda d: (-d.confidence, -(d.end - d.start), d.start))
    taken: list[tuple[int, int]] = []
    kept: list[Detection] = []
    for d in order:
        if all(d.end <= s or d.start >= e for s, e in taken):
            kept.append(d)
            taken.append((d.start, d.end))
    return sorted(kept, key=lambda d: d.start)
