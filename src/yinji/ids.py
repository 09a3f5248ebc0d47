"""Identifier normalisation: the one rule by which PSI, PIR, record linkage and every app turn
an identifier as a company stored it into the bytes that are matched.

Why one module: two parties only find a shared customer if both encode the same person's key
to the same bytes. A rule that differs between sides fails silently (a lower-case `x` in an ID
number, a full-width digit, an Excel export) — no error, just a miss. Every matching path
calls `normalize` with the same kind on both sides; PIR writes the kind into the list's
public layout so the querier applies the member's rule (yinji.pir.keyword).

Every value, whatever the kind:
- Unicode NFKC (full-width digits/letters/spaces -> half-width: '１１０１' -> '1101',
  U+3000 -> space), surrounding whitespace trimmed; None and NaN -> '';
- spreadsheet-export wrappers removed, repeatedly: a formula `="330106..."`, surrounding
  quotes ("...", '...', “...”, ‘...’), and Excel's text marker, a leading apostrophe before
  a digit, '+' or another wrapper (`'330106...`).

Kinds:
- "id" (mainland resident ID number): inner whitespace removed, upper-cased ('x' -> 'X');
  a 15-digit legacy number (first-generation card, all born 19xx) is upgraded to its 18-digit
  form: "19" inserted after the 6-digit region code and the ISO 7064 MOD 11-2 check character
  appended; '330106800101123.0' (a 15-digit number read as a float) loses its '.0';
- "mobile": whitespace and hyphens removed, a leading +86 / 0086 / 86 dropped;
- "text": the common steps only; "upper": also upper-cased;
- "auto" (default): per value, "id" if it looks like an ID number (17 digits and a digit or
  X, or 15 digits whose 19YYMMDD birth date is a real date; whitespace ignored), "mobile" if
  it looks like a mainland mobile number (optionally +86 / 0086 / 86, whitespace and hyphens
  ignored), else "text". A 15-digit account number that happens to hold a valid date is
  upgraded too: consistently on both sides, so it still matches itself; name the kind ("id"
  or "text") when a column's meaning is known.

`normalize` is idempotent: normalize(normalize(v, k), k) == normalize(v, k).

Unusable keys are reported, not guessed: `check` says why a value cannot be used (`EMPTY`;
`SPREADSHEET`: '1.10105E+17', Excel stored an 18-digit ID as a float and its digits are lost,
so it could only match by accident; `INVALID` with validation: wrong ID check character,
impossible or future birth date, not a mainland mobile). `Report` collects the reason per row.

Column names differ per company (证件号码 at one, id_no at another): apps map them per run;
`find_column` recognises the usual names where a tool must pick a column itself.

Leakage: none. The rule is public and runs on each party's own machine before any
cryptography; it only decides which stored values count as the same identifier.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

KINDS = ("auto", "text", "upper", "id", "mobile")
EMPTY, SPREADSHEET, INVALID, DUPLICATE = "empty", "spreadsheet", "invalid", "duplicate"
REASONS = {
    EMPTY: "empty after normalisation",
    SPREADSHEET: "in spreadsheet notation such as 1.10105E+17: the digits are lost; export the "
                 "key column as text",
    INVALID: "fails its format check (ID check character or birth date, or mobile format)",
    DUPLICATE: "repeats the key of an earlier row",
}

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MOBILE = re.compile(r"1[3-9]\d{9}", re.ASCII)
_SPACES = re.compile(r"\s+")
_ID_LIKE = re.compile(r"\d{17}[\dXx]", re.ASCII)
_ID15 = re.compile(r"[1-9]\d{14}", re.ASCII)
_ID15_FLOAT = re.compile(r"(\d{15})\.0+", re.ASCII)
_MOBILE_LIKE = re.compile(r"(?:\+86|0086|86)?1[3-9]\d{9}", re.ASCII)
_SPREADSHEET = re.compile(r"[0-9]\.[0-9]+[eE]\+[0-9]{1,3}", re.ASCII)
_FORMULA = re.compile(r'=\s*"(.*)"', re.DOTALL)
_APOSTROPHE = re.compile("'\\s*[0-9+=\"'\u201c\u2018]")
_CANONICAL = {"auto": re.compile(r"\d{17}[\dX]|1[3-9]\d{9}", re.ASCII),  # \d: ASCII digits
              "id": re.compile(r"\d{17}[\dX]", re.ASCII),
              "mobile": re.compile(r"1[3-9]\d{9}", re.ASCII)}
_OPENERS = frozenset("=\"'\u201c\u2018")
_QUOTES = (('"', '"'), ("'", "'"), ("\u201c", "\u201d"), ("\u2018", "\u2019"))

COLUMN_NAMES = {
    "id": ("证件号码", "证件号", "身份证号码", "身份证号", "身份证", "證件號碼", "身份證號碼",
           "id_no", "id_number", "idno", "id_card", "id_card_no", "cert_no", "certificate_no"),
    "mobile": ("手机号码", "手机号", "手机", "手機號碼", "手機", "联系电话", "mobile", "mobile_no",
               "phone", "phone_no", "cellphone"),
}


# -- the ID-number check ----------------------------------------------------------------------

def id_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-digit mainland ID number (GB 11643)."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError(f"expected the first 17 digits of an ID number, got {first17!r}")
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def _birth_date(digits8: str) -> datetime.date | None:
    try:
        return datetime.date(int(digits8[:4]), int(digits8[4:6]), int(digits8[6:8]))
    except ValueError:
        return None


def valid_id_number(s: str) -> bool:
    """18 characters: 17 digits and the right check character, a real birth date not in the
    future. Expects a normalised value (upper-case X)."""
    if len(s) != 18 or not s[:17].isascii() or not s[:17].isdigit():
        return False
    born = _birth_date(s[6:14])
    if born is None or born > datetime.date.today():
        return False
    return id_check_char(s[:17]) == s[17]


def upgrade_id15(s: str) -> str:
    """The 18-digit form of a 15-digit legacy ID number: region + '19' + YYMMDD + sequence
    + check character. Raises ValueError for anything but 15 ASCII digits."""
    if len(s) != 15 or not s.isascii() or not s.isdigit():
        raise ValueError(f"a 15-digit ID number has 15 digits, got {s!r}")
    first17 = s[:6] + "19" + s[6:]
    return first17 + id_check_char(first17)


def is_spreadsheet_float(s: str) -> bool:
    """'1.10105E+17': a number a spreadsheet stored as a float; its digits are lost."""
    return bool(_SPREADSHEET.fullmatch(s))


# -- normalisation ----------------------------------------------------------------------------

def unwrap(s: str) -> str:
    """`s` without spreadsheet-export wrappers (`="..."`, surrounding quotes, a leading
    apostrophe before a digit, '+' or another wrapper), removed until none is left; trimmed."""
    s = s.strip()
    while s[:1] in _OPENERS:  # cheap test first: most values have no wrapper
        before = s
        m = _FORMULA.fullmatch(s)
        if m:
            s = m.group(1)
        elif len(s) >= 2 and any(s[0] == a and s[-1] == b for a, b in _QUOTES):
            s = s[1:-1]
        elif _APOSTROPHE.match(s):
            s = s[1:]
        s = s.strip()
        if s == before:
            break
    return s


def guess_kind(s: str) -> str:
    """"id", "mobile" or "text" for one value (see the module docstring, kind "auto")."""
    return _guess(unwrap(unicodedata.normalize("NFKC", s)))


def _guess(s: str) -> str:
    if not s[:1].isdigit() and s[:1] != "+":  # names, addresses, customer numbers like C-01
        return "text"
    compact = _SPACES.sub("", s)
    m15 = _ID15_FLOAT.fullmatch(compact)
    if m15:
        compact = m15.group(1)
    if _ID_LIKE.fullmatch(compact):
        return "id"
    if _ID15.fullmatch(compact) and _birth_date("19" + compact[6:12]) is not None:
        return "id"
    if _MOBILE_LIKE.fullmatch(compact.replace("-", "")):
        return "mobile"
    return "text"


def normalize(value: object, kind: str = "auto") -> str:
    """One value normalised as `kind` (see the module docstring); None and NaN -> ''."""
    if kind not in KINDS:
        raise ValueError(f"unknown key kind {kind!r}; expected one of {KINDS}")
    if value is None or (isinstance(value, float) and value != value):  # NaN from a dataframe
        return ""
    if type(value) is str and kind in _CANONICAL and _CANONICAL[kind].fullmatch(value):
        return value  # already canonical (most keys of a clean export): skip the work
    s = _once(str(value), kind)
    if s[:1] not in _OPENERS and (s.isascii() or kind in ("auto", "text")
                                  and unicodedata.is_normalized("NFKC", s)):
        return s  # the common case: nothing a second pass could change
    for _ in range(8):  # to a fixed point: e.g. a wrapper only visible once spaces are gone
        again = _once(s, kind)
        if again == s:
            break
        s = again
    return s


def _once(s: str, kind: str) -> str:
    s = unwrap(unicodedata.normalize("NFKC", s))
    if kind == "auto":
        kind = _guess(s)
    if kind == "text":
        return s
    if kind == "upper":
        return s.upper()
    if kind == "id":
        s = _SPACES.sub("", s).upper()
        m15 = _ID15_FLOAT.fullmatch(s)
        if m15:
            s = m15.group(1)
        return upgrade_id15(s) if len(s) == 15 and s.isascii() and s.isdigit() else s
    s = _SPACES.sub("", s).replace("-", "")  # mobile
    while True:
        if s.startswith(("+86", "0086")):
            s = s[3 if s[0] == "+" else 4:]
        elif len(s) == 13 and s.startswith("86"):
            s = s[2:]
        else:
            return s


def valid(s: str, kind: str = "auto") -> bool:
    """Does a normalised value pass its kind's format check (text always does)?"""
    if kind == "auto":
        kind = guess_kind(s)
    if kind == "id":
        return valid_id_number(s)
    if kind == "mobile":
        return bool(_MOBILE.fullmatch(s))
    return True


def check(value: object, kind: str = "auto", validate: bool = False) -> tuple[str, str | None]:
    """(normalised value, None) or (normalised value, reason it cannot be used: `EMPTY`,
    `SPREADSHEET`, or with `validate` `INVALID`)."""
    s = normalize(value, kind)
    if not s:
        return s, EMPTY
    if is_spreadsheet_float(s):
        return s, SPREADSHEET
    if validate and not valid(s, kind):
        return s, INVALID
    return s, None


def find_column(header: Sequence[str], kind: str = "id") -> str | None:
    """The column of `header` with a usual name for `kind` ("id" or "mobile"), compared after
    NFKC and case-folding; None when no column or more than one has such a name."""
    wanted = {unicodedata.normalize("NFKC", n).casefold() for n in COLUMN_NAMES[kind]}
    found = [h for h in header if unicodedata.normalize("NFKC", h).strip().casefold() in wanted]
    return found[0] if len(found) == 1 else None


# -- per-row reasons --------------------------------------------------------------------------

@dataclass
class Report:
    """Which input rows (0-based) were dropped, and why (`EMPTY`, `SPREADSHEET`, `INVALID`,
    `DUPLICATE`)."""

    rows: int = 0
    dropped: dict[int, str] = field(default_factory=dict)

    def drop(self, row: int, reason: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}; expected one of {list(REASONS)}")
        self.dropped[row] = reason

    def why(self, row: int) -> str | None:
        """The reason row `row` was dropped, or None if it was kept."""
        return self.dropped.get(row)

    def rows_with(self, reason: str) -> list[int]:
        return sorted(r for r, why in self.dropped.items() if why == reason)

    @property
    def empty(self) -> list[int]:
        return self.rows_with(EMPTY)

    @property
    def invalid(self) -> list[int]:
        return self.rows_with(INVALID)

    @property
    def duplicates(self) -> list[int]:
        return self.rows_with(DUPLICATE)

    @property
    def spreadsheet(self) -> list[int]:
        return self.rows_with(SPREADSHEET)

    @property
    def kept(self) -> int:
        return self.rows - len(self.dropped)

    def summary(self) -> str:
        text = (f"{self.rows} rows: {self.kept} kept, {len(self.empty)} empty, "
                f"{len(self.invalid)} invalid, {len(self.duplicates)} duplicate")
        sheet = self.spreadsheet
        if sheet:
            text += (f", {len(sheet)} in spreadsheet notation such as 1.10105E+17 "
                     f"(first rows {sheet[:5]}): the digits are lost; export the "
                     "key column as text")
        return text


__all__ = ["COLUMN_NAMES", "DUPLICATE", "EMPTY", "INVALID", "KINDS", "REASONS", "SPREADSHEET",
           "Report", "check", "find_column", "guess_kind", "id_check_char", "is_spreadsheet_float",
           "normalize", "unwrap", "upgrade_id15", "valid", "valid_id_number"]
