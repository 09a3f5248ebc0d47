"""Check digits of the identifiers we detect: they turn a digit run into strong evidence.

Mainland resident ID (GB 11643-1999, ISO 7064 MOD 11-2), bank cards (Luhn), unified social
credit code (GB 32100-2015, MOD 31), Hong Kong identity card (MOD 11).
"""

from __future__ import annotations

import datetime as _dt

from yinji.ids import id_check_char  # the one MOD 11-2 implementation (yinji.ids)

# Province-level prefixes of mainland administrative division codes (GB/T 2260).
PROVINCES = frozenset({
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51,
    52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
})


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        d = _dt.date(year, month, day)
    except ValueError:
        return False
    return _dt.date(1900, 1, 1) <= d <= _dt.date.today()


def id18_valid(s: str) -> bool:
    """True for an 18-character resident ID with valid region, birth date and check digit."""
    if len(s) != 18 or not s[:17].isascii() or not s[:17].isdigit():
        return False
    if int(s[:2]) not in PROVINCES or not _valid_date(int(s[6:10]), int(s[10:12]), int(s[12:14])):
        return False
    return id_check_char(s[:17]) == s[17].upper()


def id15_valid(s: str) -> bool:
    """True for a legacy 15-digit ID (no check digit): valid region and 19YYMMDD birth date."""
    if len(s) != 15 or not s.isdigit():
        return False
    return int(s[:2]) in PROVINCES and _valid_date(1900 + int(s[6:8]), int(s[8:10]), int(s[10:12]))


def id18_check_digit(first17: str) -> str:
    return id_check_char(first17)


def luhn_valid(digits: str) -> bool:
    """Luhn (mod 10) check used by UnionPay, Visa, Mastercard and most issuers."""
    if not digits.isdigit():
        return False
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = ord(c) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_check_digit(body: str) -> str:
    for d in "0123456789":
        if luhn_valid(body + d):
            return d
    raise AssertionError("unreachable")


USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str | None:
    try:
        total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    except ValueError:
        return None
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_valid(s: str) -> bool:
    """True for an 18-character unified social credit code whose MOD 31 check matches."""
    s = s.upper()
    return len(s) == 18 and uscc_check_char(s[:17]) == s[17]


def hkid_valid(prefix: str, digits: str, check: str) -> bool:
    """Hong Kong identity card: 1-2 letters, 6 digits, check character (0-9 or A)."""
    letters = prefix.upper().rjust(2, " ")
    vals = [36 if c == " " else ord(c) - 55 for c in letters] + [int(d) for d in digits]
    total = sum(v * w for v, w in zip(vals, range(9, 1, -1), strict=True))
    r = (11 - total % 11) % 11
    return check.upper() == ("A" if r == 10 else str(r))
