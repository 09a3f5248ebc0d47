"""Detection results and the detector interface shared by every detector module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

# Categories, in the order the policy and reports list them.
ID_NUMBER = "id_number"
MOBILE = "mobile"
LANDLINE = "landline"
BANK_CARD = "bank_card"
EMAIL = "email"
USCC = "uscc"
PASSPORT = "passport"
ACCOUNT = "account"
PERSON = "person"
ADDRESS = "address"
AMOUNT = "amount"

CATEGORIES: tuple[str, ...] = (
    ID_NUMBER, MOBILE, LANDLINE, BANK_CARD, EMAIL, USCC, PASSPORT, ACCOUNT, PERSON, ADDRESS,
    AMOUNT,
)


@dataclass(frozen=True, slots=True)
class Detection:
    """One span of personal data: `text[start:end]` of `category`, with a confidence in [0, 1]."""

    start: int
    end: int
    category: str
    confidence: float
    detector: str

    def value(self, text: str) -> str:
        return text[self.start:self.end]


class Detector(Protocol):
    """Finds spans of one or more categories in a text."""

    name: str

    def detect(self, text: str) -> list[Detection]: ...
