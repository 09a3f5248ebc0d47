"""Field normalisation before encoding: the same person must give the same features whatever
the script, spelling or format a company stored.

Names: Chinese characters are folded traditional→simplified (OpenCC `t2s`) and romanised
(pypinyin, with surname readings for heteronymous surnames such as 单 shan, 曾 zeng); Latin
names are case-folded, stripped of accents, punctuation and titles (Mr, Ms, Dr, ...), and
when most of a Latin name's words parse as Hanyu Pinyin syllables ("Weiming", "Wei-Ming";
"Peter Zhang Xiaoming") those words are split into syllables. A name
becomes an *unordered* set of tokens, so "Zhang Wei", "WEI Zhang", 張偉 and 张伟 agree, and
so do swapped given-name characters (张明伟 / 张伟明). ü is written u (lv/lyu/lü → lu).
`hk_name_tokens` gives a second reading of a name, in Hong Kong Cantonese romanisation
(陳大文 = "CHAN Tai Man"; cantonese.py), which identity resolution compares across scripts.

Every value is first NFKC-normalised, so full-width letters and digits (ＺＨＡＮＧ, １９８０)
read as ASCII. Dates become (year, month, day); phones lose country codes and punctuation;
addresses are folded to simplified characters / lower-case words. Identity numbers and
phones go through the shared identifier rule first (`yinji.ids`: a lower-case x, `="..."` /
`'...` spreadsheet exports, 15-digit legacy IDs upgraded to 18 digits; a number in
spreadsheet notation such as 1.10105E+17 has lost its digits and counts as missing), so
linkage compares them as PSI and PIR match them. Nothing here is secret: normalisation is
public; secrecy comes from the keyed encoding (encoding.py).
"""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata

from yinji import ids

_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[a-z0-9]+")

# Surnames whose everyday reading differs from the surname reading.
SURNAME_READINGS = {
    "单": "shan", "曾": "zeng", "解": "xie", "仇": "qiu", "区": "ou", "查": "zha", "朴": "piao",
    "盖": "ge", "覃": "qin", "乐": "yue", "缪": "miao", "翟": "zhai", "召": "shao", "尉": "yu",
    "种": "chong", "长": "chang", "万": "wan", "句": "gou", "员": "yun", "重": "chong",
    "柏": "bai", "秘": "bi", "繁": "po", "谌": "chen", "阚": "kan", "宓": "mi", "贲": "ben",
    "沈": "shen", "任": "ren", "华": "hua", "纪": "ji", "薄": "bo", "相": "xiang", "隗": "wei",
}
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mdm", "madam", "dr", "sir", "prof"})
COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "公孙", "夏侯", "尉迟",
    "长孙", "宇文", "司徒", "端木", "独孤", "南宫", "万俟", "轩辕", "呼延", "澹台", "西门",
})


@functools.lru_cache(maxsize=1)
def _t2s():  # noqa: ANN202 - opencc.OpenCC
    import opencc

    return opencc.OpenCC("t2s.json")


@functools.lru_cache(maxsize=1)
def pinyin_syllables() -> frozenset[str]:
    """All toneless Hanyu Pinyin syllables (ü written u), from pypinyin's dictionary."""
    from pypinyin.pinyin_dict import pinyin_dict

    out = set()
    for readings in pinyin_dict.values():
        for r in readings.split(","):
            out.add(_fold_u(_strip_tone(r)))
    return frozenset(s for s in out if s.isascii() and s.isalpha())


def _strip_tone(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c))


def _fold_u(s: str) -> str:
    """ü spellings to u: lü / lv / lyu / lu: → lu (also for n)."""
    s = s.replace("u:", "u").replace("v", "u")
    return re.sub(r"^([ln])yu", r"\1u", s)


def nfkc(value: object) -> str:
    """Compatibility forms folded: full-width letters, digits and spaces become ASCII."""
    return unicodedata.normalize("NFKC", str(value))


def to_simplified(text: str) -> str:
    """Traditional → simplified Chinese (OpenCC t2s); non-Han text is unchanged."""
    return _t2s().convert(text) if _HAN.search(text) else text


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def han_syllables(name: str) -> list[str]:
    """Pinyin syllables of a Chinese name, surname first, with surname readings."""
    from pypinyin import Style, lazy_pinyin

    chars = "".join(_HAN.findall(to_simplified(name)))
    if not chars:
        return []
    sur = 2 if chars[:2] in COMPOUND_SURNAMES else 1
    out = lazy_pinyin(chars, style=Style.NORMAL, errors="ignore")
    if sur == 1 and chars[0] in SURNAME_READINGS and len(chars) > 1:
        out[0] = SURNAME_READINGS[chars[0]]
    return [_fold_u(s) for s in out]


def split_pinyin(word: str) -> list[str] | None:
    """Split a Latin word into pinyin syllables (fewest syllables), or None if it does not
    parse. Apostrophes and hyphens are separators."""
    syl = pinyin_syllables()
    n = len(word)
    best: list[list[str] | None] = [None] * (n + 1)
    best[0] = []
    for i in range(1, n + 1):
        for j in range(max(0, i - 6), i):
            prev = best[j]
            piece = word[j:i]
            if prev is None or piece not in syl or (j > 0 and piece[0] in "aoe"):
                continue  # a syllable inside a word never starts with a, o, e (Xi'an rule)
            if best[i] is None or len(prev) + 1 < len(best[i]):
                best[i] = [*prev, piece]
    return best[n]


def latin_words(text: str) -> list[str]:
    """Lower-case ASCII words of `text` (accents removed, ü → u, punctuation dropped)."""
    t = _strip_tone(text.lower().replace("ü", "u").replace("ß", "ss"))
    return _WORD.findall(t)


def name_tokens(name: str | None) -> list[str]:
    """The unordered token set of a person's name (see the module docstring), sorted."""
    if not name or not name.strip():
        return []
    return list(_name_tokens(nfkc(name)))


@functools.lru_cache(maxsize=1 << 16)
def _name_tokens(name: str) -> tuple[str, ...]:
    tokens = han_syllables(name)
    words = latin_words(_HAN.sub(" ", name))
    words = [w for w in words if not w.isdigit() and w not in TITLES]
    if words:
        parts = [split_pinyin(_fold_u(w)) if w.isalpha() else None for w in words]
        if 2 * sum(p is not None for p in parts) > len(parts):  # mostly pinyin: split those
            tokens += [s for w, p in zip(words, parts, strict=True) for s in (p or [w])]
        else:  # a Western name: "Anna" stays one word, not "an na"
            tokens += words
    return tuple(sorted(set(tokens)))


def hk_name_tokens(name: str | None, alternatives: bool = False) -> list[str]:
    """The name's Hong Kong romanisation keys (cantonese.py), an unordered set, sorted:
    陳大文, 陈大文, "CHAN Tai Man", "Chan Tai-man", "TAI MAN CHAN" and "Chan, Tai Man" all
    give the same keys. With `alternatives`, a character with several readings gives the
    keys of each (the encoding's Hong Kong view)."""
    if not name or not name.strip():
        return []
    return list(_hk_name_tokens(nfkc(name), alternatives))


def hk_name_skeleton(name: str | None) -> list[str]:
    """The coarser keys (cantonese.skeleton) of `hk_name_tokens`, for the evidence rule."""
    from yinji.linkage import cantonese

    return sorted({cantonese.skeleton(k) for k in hk_name_tokens(name)})


@functools.lru_cache(maxsize=1 << 16)
def _hk_name_tokens(name: str, alternatives: bool) -> tuple[str, ...]:
    from yinji.linkage import cantonese

    tokens = cantonese.han_keys("".join(_HAN.findall(name)), alternatives)
    words = [w for w in latin_words(_HAN.sub(" ", name)) if not w.isdigit() and w not in TITLES]
    return tuple(sorted(set(tokens + cantonese.latin_keys(words))))


_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)}
_MINGUO = re.compile(r"^\s*民[国國]\s*")
_EXCEL_EPOCH = datetime.date(1899, 12, 30)  # serial 1 = 1900-01-01 (after Excel's leap bug)
CENTURY_PIVOT = 30  # two-digit years: 30-99 -> 19xx, 00-29 -> 20xx


def date_parts(value: str | None) -> tuple[str, str, str] | None:
    """(YYYY, MM, DD) of a date as companies write it, else None (see `parse_date`)."""
    return parse_date(value)[0]


def parse_date(value: str | None) -> tuple[tuple[str, str, str] | None, str | None]:
    """A date's (YYYY, MM, DD) and what is wrong with it: None, 'unreadable' or 'impossible'.

    Read: '1987-05-12', '19870512', '1987/5/12', '1987年5月12日', '12/05/1987' (day first),
    '18-Apr-1970', 'Apr 18, 1970', '85-03-07' (two-digit year first when it cannot be a day),
    Excel serial day numbers ('31478'), and Republic-of-China years ('民国74年3月7日' = 1985).
    An impossible date ('1985-02-30', month 18) keeps its parts, which still agree with a
    correct record in the other fields' way, and is reported as 'impossible'."""
    if not value:
        return None, None
    return _parse_date(str(value))


@functools.lru_cache(maxsize=1 << 16)
def _parse_date(value: str) -> tuple[tuple[str, str, str] | None, str | None]:
    if not (text := nfkc(value).strip()):
        return None, None
    parts = _date_fields(text)
    if parts is None:
        return None, "unreadable"
    y, m, d = parts
    try:
        datetime.date(y, m, d)
    except ValueError:
        if not (1 <= m <= 99 and 1 <= d <= 99 and 1000 <= y <= 9999):
            return None, "unreadable"
        return (f"{y:04d}", f"{m:02d}", f"{d:02d}"), "impossible"
    return (f"{y:04d}", f"{m:02d}", f"{d:02d}"), None


def _date_fields(text: str) -> tuple[int, int, int] | None:
    minguo = _MINGUO.match(text)
    if minguo:
        text = text[minguo.end():]
    month_name = next((n for w, n in _MONTHS.items() if re.search(rf"(?i)\b{w}[a-z]*\b", text)),
                      None)
    nums = re.findall(r"[0-9]+", text)
    if minguo:
        return (int(nums[0]) + 1911, int(nums[1]), int(nums[2])) if len(nums) >= 3 else None
    if month_name is not None:
        if len(nums) != 2:
            return None
        year = next((int(n) for n in nums if len(n) == 4), None)
        day = next((int(n) for n in nums if len(n) <= 2), None)
        return (year, month_name, day) if year and day else None
    if len(nums) == 1 and len(nums[0]) == 8:
        s = nums[0]
        return int(s[:4]), int(s[4:6]), int(s[6:])
    if len(nums) == 1 and len(nums[0]) == 5 and text.isdigit():  # an Excel serial day
        day = _EXCEL_EPOCH + datetime.timedelta(days=int(nums[0]))
        return day.year, day.month, day.day
    if len(nums) < 3 or any(len(n) > 4 for n in nums[:3]):
        return None
    a, b, c = nums[:3]
    if len(a) == 4:
        return int(a), int(b), int(c)
    if len(c) == 4:  # DD/MM/YYYY
        return int(c), int(b), int(a)
    if len(a) == 2 and int(a) > 31:  # YY-MM-DD: the first number cannot be a day
        return _century(int(a)), int(b), int(c)
    return None  # DD-MM-YY or YY-MM-DD: ambiguous


def _century(yy: int) -> int:
    return 1900 + yy if yy >= CENTURY_PIVOT else 2000 + yy


def digits(value: str | None) -> str:
    return re.sub(r"[^0-9]", "", nfkc(value)) if value else ""


def phone_digits(value: str | None) -> str:
    """National phone number: digits without the +86 / +852 country code."""
    if not value:
        return ""
    s, why = ids.check(value, "mobile")
    d = "" if why else digits(s).lstrip("0")
    if d.startswith("86") and len(d) == 13:
        d = d[2:]
    elif d.startswith("852") and len(d) == 11:
        d = d[3:]
    return d


def id_number(value: str | None) -> str:
    """Identity document number: upper-case letters and digits, after the shared rule for
    mainland ID numbers (`yinji.ids`, kind "id"); other documents (HK ID 'A123456(7)',
    passports) keep their letters and digits."""
    if not value:
        return ""
    s, why = ids.check(value, "id")
    return "" if why else re.sub(r"[^0-9A-Z]", "", s)


def gender(value: str | None) -> str:
    if not value:
        return ""
    v = nfkc(value).strip().lower()
    if v in ("m", "male", "man", "男", "1", "先生"):
        return "m"
    if v in ("f", "female", "woman", "女", "2", "女士"):
        return "f"
    return ""


def text(value: str | None) -> str:
    """Free text (addresses): simplified characters, lower-case words, single spaces."""
    if not value:
        return ""
    t = _strip_tone(to_simplified(nfkc(value)).lower())
    return " ".join(re.findall(r"[a-z0-9]+|[\u3400-\u9fff\uf900-\ufaff]+", t))
