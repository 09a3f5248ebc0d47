"""How names_zh reads a text: traditional characters as simplified (OpenCC t2s), and OCR'd or
letter-spaced text without the spaces between Han characters, offsets kept for the original.

Leakage: see names_zh.
"""

from __future__ import annotations

import re
from functools import lru_cache

from yinji.gateway.detectors import lexicon as lx
from yinji.gateway.detectors.zh_cues import _HAN, _HAN_ONLY
from yinji.gateway.detectors.zh_words import _lexicon


@lru_cache(maxsize=1)
def _t2s():  # noqa: ANN202 - opencc.OpenCC
    import opencc

    return opencc.OpenCC("t2s.json")



_KEEP = lx.SURNAMES | lx.WEAK_SURNAMES | frozenset("".join(lx.COMPOUND_SURNAMES))



def _simplified(text: str) -> str:
    """Traditional characters read as simplified (陳大文 -> 陈大文, OpenCC t2s) so the surname
    lists, jieba and the model apply; a character that is itself a listed surname (於) stays.
    Returns the text unchanged if the conversion would change its length."""
    conv = _t2s().convert(text)
    if conv == text or len(conv) != len(text):
        return text
    return "".join(o if o in _KEEP else c for o, c in zip(text, conv, strict=True))



# Spaces and tabs (ASCII and ideographic) between two Han characters (no line breaks).
_GAP = re.compile(r"(?<=[\u4e00-\u9fff])[ \t\u3000\u00a0]+(?=[\u4e00-\u9fff])")

# Gaps inside an ordinary word (身份 证, 申 请表) that make a text OCR'd (scans, PDF forms).
_OCR_GAPS = 2

# A letter-spaced text (本 人 母 亮 庆 已 阅 读, 签 收 人 ：何 莹): at least this many gaps
# between Han characters, and at least this share of all neighbouring Han pairs spaced.
_SPACED_GAPS = 4

_SPACED_SHARE = 0.5

_HAN_PAIR = re.compile(r"(?<=[\u4e00-\u9fff])[\u4e00-\u9fff]")

# A gap this wide (or with a tab) separates two fields even in OCR'd text (何 莹    签 收 日 期):
# one space of it stays, so a name does not run into the next field.
_WIDE_GAP = re.compile(r"[ \u3000\u00a0]{3,}|.*\t")



def _letter_spaced(text: str, gaps: int) -> bool:
    """Most neighbouring Han characters are a space apart: every character was spaced, so
    spaces say nothing about words (and a name's characters are spaced like the rest)."""
    return gaps >= _SPACED_GAPS and gaps >= _SPACED_SHARE * (gaps + len(_HAN_PAIR.findall(text)))



def _collapsed(text: str, common: frozenset[str]) -> tuple[str, list[int]] | None:
    """OCR'd text puts spaces anywhere, inside names (王　志 明, 赵  晓红) and inside ordinary
    words (身份 证, 委托 书), so spaces there say nothing about where a name ends. When at least
    _OCR_GAPS gaps split an ordinary word of jieba's dictionary, or the text is letter-spaced
    (_letter_spaced), return the text with every gap between Han characters removed (a wide
    one, _WIDE_GAP, kept as one space) and, per character, its offset in `text`; else None.
    (Text that spaces whole words apart, 出席：张淼 巫嘉怡, splits no word and stays as it is.)"""
    gaps = [m.span() for m in _GAP.finditer(text)]
    if not gaps:
        return None
    inside = 0
    if not _letter_spaced(text, len(gaps)):
        for a, b in gaps:
            if any(text[a - k:a] + text[b:b + m] in common for k in (1, 2, 3) for m in (1, 2, 3)
                   if 2 <= k + m <= 4 and a - k >= 0 and _HAN_ONLY.fullmatch(text[a - k:a])
                   and _HAN_ONLY.fullmatch(text[b:b + m])):
                inside += 1
                if inside >= _OCR_GAPS:
                    break
        if inside < _OCR_GAPS:
            gaps = _value_gaps(text)
            if not gaps:
                return None
    where, pos = [], 0
    for a, b in gaps:
        where.extend(range(pos, a))
        if _WIDE_GAP.match(text, a, b):
            where.append(a)
        pos = b
    where.extend(range(pos, len(text)))
    return "".join(text[i] for i in where), where



# A label whose value is a person (姓名：, 户名, 受托人, 复核, Name:), then the value. OCR'd forms
# space labels too (收 款 人：, 法定代表 人：), add the field's kind (客户名称, 客户签名), a note in
# brackets (申请人（签章）：) and a line to sign on (客户签名________王 伟 峰).
_FORM_LABELS = ("复核", "审核", "审批", "签章", "签署", "经办", "见证")
_SP = "[ \u3000]?"


def _spaced_alt(words: tuple[str, ...]) -> str:
    return "|".join(_SP.join(re.escape(c) for c in w)
                    for w in sorted(set(words), key=len, reverse=True))


_NOTE = r"(?:[ \u3000]*[（(][^（）()\n]{0,8}[）)])?"  # (签章), （签字）
_VALUE_LABEL = re.compile(
    "(?:" + _spaced_alt(tuple(w for w in lx.ROLE_WORDS + lx.PRE_CUES + _FORM_LABELS
                              + ("姓名", "户名", "名字") if len(w) > 1))
    + r"|(?i:name))"
    + "(?:" + _SP + "(?:" + _spaced_alt(("名称", "姓名", "签名", "签字", "签章")) + "))?"
    + _NOTE + r"[ \t\u3000]*[:：]?[ \t\u3000_]*"
    # (any word + 人 before a colon is a role on a form: 核验人：, 声明人（签字）：)
    + r"|[\u4e00-\u9fff]{1,3}人" + _NOTE + r"[ \t\u3000]*[:：][ \t\u3000_]*")

# (a function word, 已, 的, 于, ends a value: 本人付 芳|已充分理解)
_NON_NAME = "".join(sorted(lx.NON_NAME_CHARS))
_TOKEN = re.compile("[\u4e00-\u9fff](?:(?![" + _NON_NAME + "])[\u4e00-\u9fff]){0,2}")

_SHORT_GAP = re.compile(r"[ \u3000]{1,2}")



def _han_on(text: str, pos: int) -> bool:
    """A Han character at `pos` that may go on a name (not a function word: 已, 的, 于)."""
    return _HAN.match(text, pos) is not None and text[pos] not in lx.NON_NAME_CHARS


def _value_gaps(text: str) -> list[tuple[int, int]]:
    """Gaps inside a spaced name that is a label's whole value (姓名：武  强, 户名 黎  明,
    受托人达 瓦, 收 款 人：太 史 浩, 客户签名____王 伟 峰___): the value's Han pieces, one or
    two spaces apart, hold 2-4 characters, start with a surname (single or compound) and end
    before a wider gap, a line end, punctuation, an underscore, Latin or digits, a function
    word (本人付 芳|已阅读) or the next label (委托人陈　琳　受托人…)."""
    out = []
    for m in _VALUE_LABEL.finditer(text):
        first = _TOKEN.match(text, m.end())
        if first is None:
            continue
        pos, han, gaps, value = first.end(), len(first.group()), [], first.group()
        while han < 4 and (g := _SHORT_GAP.match(text, pos)) is not None:
            t = _TOKEN.match(text, g.end())
            if t is None or han + len(t.group()) > 4 or _han_on(text, t.end()) \
                    or _VALUE_LABEL.match(text, t.start()) or text[t.end():t.end() + 1] in (":", "：") \
                    or (len(first.group()) >= 2 and len(t.group()) >= 2
                        and first.group() not in lx.COMPOUND_SET):
                break  # (马力 性别:, 陈毅 金额: a whole name, then the next field)
            gaps.append(g.span())
            pos, han, value = t.end(), han + len(t.group()), value + t.group()
        if gaps and 2 <= han <= 4 and not _han_on(text, pos) \
                and lx.surname_length(value):
            out += gaps
    gaps: list[tuple[int, int]] = []
    for g in sorted(set(out) | set(_lone_runs(text))):  # (in order, none inside another)
        if not gaps or g[0] >= gaps[-1][1]:
            gaps.append(g)
    return gaps


# A spaced name standing between words with no label (兹授权 银 娜  涵 代为办理, 今收到 赵 淑萍
# 交来): a surname alone after a space or punctuation, then pieces of one or two characters,
# each one or two spaces apart, 2-4 characters in all, and a space, punctuation or the text's
# end after the last piece.
_LONE_START = re.compile(r"(?:^|(?<=[\s，。：:；;、（(]))[\u4e00-\u9fff](?=[ \u3000]{1,2}[\u4e00-\u9fff])")
_PIECE = re.compile(r"[ \u3000]{1,2}([\u4e00-\u9fff]{1,2})(?![\u4e00-\u9fff])")
_RUN_END = re.compile(r"[\s，。；;、）)]|$")


def _lone_runs(text: str) -> list[tuple[int, int]]:
    """Gaps inside a spaced name that stands alone between words: the first character a listed
    surname, no later one a function word, the whole no ordinary word of jieba's (收 据, 金 额
    are spaced words, not names), and never two pieces of two (一 致 相关 业务)."""
    out, taken = [], 0
    for m in _LONE_START.finditer(text):
        b = m.start() - 1
        while b >= 0 and text[b] in " \u3000":
            b -= 1
        if m.start() < taken or m.group() not in lx.SURNAMES \
                or (b >= 0 and _HAN.match(text, b) and (b == 0 or not _HAN.match(text, b - 1))):
            continue  # (inside a run, or right after a lone character: 高 明  授权)
        value, pos, gaps = m.group(), m.end(), []
        while (piece := _PIECE.match(text, pos)) is not None \
                and len(value) + len(piece.group(1)) <= 4 \
                and not (len(piece.group(1)) == 2 and len(value) >= 2):
            gaps.append((pos, piece.start(1)))
            value, pos = value + piece.group(1), piece.end()
        if len(value) < 2 or not _RUN_END.match(text, pos) \
                or any(c in lx.NON_NAME_CHARS for c in value[1:]) or value in _lexicon()[0]:
            continue
        out += gaps
        taken = pos
    return out
