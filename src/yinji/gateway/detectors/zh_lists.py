"""Names and the company they keep: items of a 、 list that holds a found name, every mention of
a sure name, a list neighbour of a sure name; and whole items of a list of places, companies or
products, which are no names. Round 8: cells of a person column in a flattened table, items of
short lists with two found names, the sender's name after a letter's closing.

Leakage: see names_zh.
"""

from __future__ import annotations

import re

from yinji.gateway.detectors import lexicon as lx
from yinji.gateway.detectors import name_model
from yinji.gateway.detectors.base import PERSON, Detection
from yinji.gateway.detectors.zh_context import _labelled
from yinji.gateway.detectors.zh_cues import (
    _DOMAIN_RX,
    _HAN_ONLY,
    _JOIN,
    _LABEL_RX,
    _LIST_RUN,
    _PLACE_END,
    _SURE,
    DETECTOR,
    _alt,
)
from yinji.gateway.detectors.zh_words import _plain_word, _tagger

# A 、 list and its items (up to 12 characters between separators).
_ITEM = r"[^\s，。；：:！？,;!?、（）()「」“”]"

_ANY_LIST = re.compile("(?<!" + _ITEM + ")" + _ITEM + "{1,20}(?:、" + _ITEM + "{1,20})+")

_THING_TAGS = ("ns", "nt", "nz")

# ... an organisation word within an item's first characters (江西铜业, 金桥股份午后涨停), or an
# A-share class letter (万科A).
_THING_HEAD = re.compile("[\u4e00-\u9fff]{1,6}(?:" + _alt(tuple(w for w in lx.ORG_SUFFIXES
                                                                 if len(w) > 1)) + ")")

_SHARE_CLASS = re.compile("[\u4e00-\u9fff]{2,4}[AB](?![A-Za-z0-9])")



def _thing(item: str, common: frozenset[str]) -> bool:
    """A list item that names a place, organisation or product (常州, 江西铜业, 万科A, 周大福),
    not a person: jieba tags it a place/organisation, it ends with an organisation word, starts
    with a finance word or holds Latin letters or digits."""
    tags = _tagger().word_tag_tab
    return (any(tags.get(item[:k], "")[:2] in _THING_TAGS for k in range(2, min(len(item), 4) + 1))
            or _DOMAIN_RX.match(item) is not None or _THING_HEAD.match(item) is not None
            or _SHARE_CLASS.match(item) is not None)



def _not_in_thing_lists(text: str, found: list[Detection], common: frozenset[str]
                        ) -> list[Detection]:
    """Drop names that are whole items of a 、 list of places, companies or products
    (常州、金华、马鞍山; 张江高科、金桥股份; 周大福、周黑鸭): a list holds one kind of thing, and
    its other items say which. A name with a title or label next to it stays."""
    if "、" not in text or not found:
        return found
    drop = set()
    values = {text[d.start:d.end] for d in found}
    for run in _ANY_LIST.finditer(text):
        items, pos = [], run.start()
        for part in run.group().split("、"):
            items.append((pos, pos + len(part)))
            pos += len(part) + 1
        # an item that holds a found name is none (青岛营业部李诗涵、佘子涵)
        # (nor one that starts with a found name: X身份证.jpg、X银行卡.pdf)
        things = [_thing(text[a:b], common)
                  and not any(a <= d.start and d.end <= b for d in found)
                  and not any(text.startswith(v, a) for v in values) for a, b in items]
        if not any(things):
            continue
        for d in found:
            for (a, b), thing in zip(items, things, strict=True):
                if a == d.start and d.end <= b and not thing and not _labelled(text, d.start, d.end) \
                        and sum(things) * 2 >= len(items) - 1 \
                        and not (d.end == b and _person_shaped(text[a:b])):
                    drop.add((d.start, d.end))
    return [d for d in found if (d.start, d.end) not in drop]



def _person_shaped(item: str) -> bool:
    """An item that reads as a person's name even in a list of companies and funds (a
    shareholder list: 华夏基金、汤凯琳、广发证券): a listed surname that is no word-like one, two
    given-name characters many of jieba's persons have, no place-name ending, and no word jieba
    knows unless it is a person's name."""
    tagger = _tagger()
    return (len(item) == 3 and item[0] in lx.SURNAMES and item[0] not in lx.WEAK_SURNAMES
            and item[-1] not in _PLACE_END  # (柯桥, 陆家嘴: jieba tags some places nr)
            and all(name_model.common_given(c) for c in item[1:])
            and (not tagger.FREQ.get(item) or tagger.word_tag_tab.get(item, "")[:2] == "nr"))


def repeated(text: str, found: list[Detection], roles: list[tuple[int, int]],
             threshold: float) -> list[Detection]:
    """Every mention of a sure name of three or more characters is the name (X身份证.jpg、
    X银行卡.pdf: the second X runs into 银行), unless it touches a found name or role word."""
    sure = {text[d.start:d.end] for d in found
            if d.confidence >= threshold + _SURE and d.end - d.start >= 3}
    out = list(found)
    for v in sure:
        for m in re.finditer(re.escape(v), text):
            s, e = m.span()
            if not any(d.start < e and s < d.end for d in out) \
                    and not any(rs < e and s < re_ for rs, re_ in roles):
                out.append(Detection(s, e, PERSON, round(threshold + 0.01, 3), DETECTOR))
    return sorted(out, key=lambda d: d.start)



def in_lists(text: str, found: list[Detection], roles: list[tuple[int, int]],
             common: frozenset[str], threshold: float) -> list[Detection]:
    """Items of a 、 list that holds a found name are names too (参会：高远、方圆、王芳):
    an item is a whole token (between 、 and punctuation, a label or a trailing 等) of a
    surname and one or two characters; an item that is also an ordinary word (高远, 文静)
    needs two found names in its list."""
    if "、" not in text or not found:
        return found
    out = list(found)
    for run in _LIST_RUN.finditer(text):
        items, pos = [], run.start()
        for part in run.group().split("、"):
            items.append((pos, pos + len(part)))
            pos += len(part) + 1
        # the first item may follow a label (参会高远), the last be followed by 等
        s0, e0 = items[0]
        for k in range(s0, e0):
            if _LABEL_RX.search(text, max(0, k - 12), k) and _HAN_ONLY.fullmatch(text[k:e0]):
                items[0] = (k, e0)
                break
        sl, el = items[-1]
        if text[el - 1] == "等":
            items[-1] = (sl, el - 1)
        names = [any(d.start == s and d.end == e for d in out) for s, e in items]
        if not any(names):
            continue
        for (s, e), known in zip(items, names, strict=True):
            cand = text[s:e]
            k = lx.surname_length(cand) or 1
            if known or not (k + 1 <= len(cand) <= k + 2) or any(
                    d.start < e and s < d.end for d in out) or any(
                    rs < e and s < re_ for rs, re_ in roles):
                continue
            if (k == 1 and cand[0] not in lx.SURNAMES and cand[0] not in lx.WEAK_SURNAMES) \
                    or any(c in lx.NON_NAME_CHARS for c in cand[k:]) \
                    or (cand in common and sum(names) < 2):
                continue
            out.append(Detection(s, e, PERSON, round(threshold, 3), DETECTOR))
    return sorted(out, key=lambda d: d.start)



def by_company(text: str, found: list[Detection], undecided: list[tuple[int, int, int]],
               threshold: float) -> list[Detection]:
    """Undecided candidates in the company of a found name become names too.

    A name repeated in the same text (已与X沟通，X同意) and an item of a list whose
    neighbour is a name (A、B、C; A和B; A与B) are names for the same reason the found one is.
    Only confident names lend their company, so one doubtful hit does not spread."""
    if not found or not undecided:
        return found
    sure = [d for d in found if d.confidence >= threshold + _SURE]
    values = {text[d.start:d.end] for d in sure}
    ends = {d.end for d in sure}
    starts = {d.start for d in sure}
    out = list(found)
    for p, _sl, end in undecided:
        if any(d.start < end and p < d.end for d in out):
            continue
        listed = (p > 0 and text[p - 1] in _JOIN and (p - 1) in ends) or \
            (end < len(text) and text[end] in _JOIN and (end + 1) in starts)
        if listed or text[p:end] in values:
            out.append(Detection(p, end, PERSON, round(threshold, 3), DETECTOR))
    return sorted(out, key=lambda d: d.start)


# A flattened table: cells split by one delimiter; a header cell that names a person column
# (姓名, 客户姓名, 客户经理, 联系人 …: a role word or label ends it).
_CELL_SPLIT = re.compile(r"[,|\t，｜]")
_PERSON_HEADER = re.compile("(?:" + _alt(tuple(w for w in lx.ROLE_WORDS + lx.PRE_CUES
                                               + ("姓名", "名字", "户名") if len(w) > 1))
                            + r")\s*$")
_CELL_NAME = re.compile("(?:" + _alt(lx.COMPOUND_SURNAMES) + "|[" + "".join(sorted(lx.SURNAMES))
                        + r"])[\u4e00-\u9fff]{1,2}")


def in_tables(text: str, found: list[Detection], common: frozenset[str], threshold: float
              ) -> list[Detection]:
    """Cells of a person column are names (姓名|身份证号 / 高峰|1101…; 营业部,客户经理 /
    杭州庆春路营业部,白雪): the header names the column, and a row splits into as many cells as
    the header. A cell must be the whole value: a listed surname and one or two characters
    (with a compound surname two or three), no place, organisation or product (_thing)."""
    if "\n" not in text or not any(c in text for c in ",|\t，｜"):
        return found
    out = list(found)
    lines, pos = [], 0
    for line in text.split("\n"):
        lines.append((pos, line))
        pos += len(line) + 1
    cols: list[int] = []
    width = 0
    for start, line in lines:
        cells, k = [], start
        for part in _CELL_SPLIT.split(line):
            cells.append((k, part))
            k += len(part) + 1
        if len(cells) < 2:
            cols, width = [], 0
            continue
        heads = [i for i, (_, c) in enumerate(cells) if _PERSON_HEADER.search(c.strip())
                 and not _CELL_NAME.fullmatch(c.strip())]
        if heads and not cols:
            cols, width = heads, len(cells)
            continue
        if not cols or len(cells) != width:
            cols = heads if heads else []
            width = len(cells) if heads else 0
            continue
        for i in cols:
            a, cell = cells[i]
            s = a + len(cell) - len(cell.lstrip())
            v = cell.strip()
            if not _CELL_NAME.fullmatch(v) or _thing(v, common) or (
                    v[:2] not in lx.COMPOUND_SET and len(v) > 3) \
                    or any(c in lx.NON_NAME_CHARS for c in v[1:]):
                continue
            if any(d.start < s + len(v) and s < d.end for d in out):
                continue
            out.append(Detection(s, s + len(v), PERSON, round(threshold + 0.01, 3), DETECTOR))
    return sorted(out, key=lambda d: d.start)


# Lists of short tokens: hard boundaries end a list (sentence punctuation, colons, line ends),
# separators split it (，、/；, spaces, and 和/及/与 before its last item); a note in brackets
# after an item (杨柳（阿里巴巴）) belongs to the item.
_LIST_END = re.compile(r"[。！？!?：:\n「」“”\"]")
_LIST_SEP = re.compile(r"\s*[，,、/／；;|｜]\s*|[ \t\u3000]+")
_LAST_JOIN = re.compile(r"([\u4e00-\u9fff]{2,4})(?:和|及|与|以及)([\u4e00-\u9fff]{2,4})")
_ITEM_HAN = re.compile(r"[\u4e00-\u9fff]+")


def _list_items(text: str, a: int, b: int, starts: set[int], ends: set[int]
                ) -> list[tuple[int, int] | None]:
    """The items of text[a:b] split at separators: (start, end) of an item of 2-4 Han
    characters (a longer first or last piece trimmed to a found name at its edge: 参会人|罗天宇),
    None for any other piece (it breaks the list)."""
    out: list[tuple[int, int] | None] = []
    pos = a
    pieces = []
    for m in _LIST_SEP.finditer(text, a, b):
        pieces.append((pos, m.start()))
        pos = m.end()
    pieces.append((pos, b))
    for s, e in pieces:
        while e > s and text[e - 1] in ")）":  # a note in brackets after the item
            n = text.rfind("（", s, e) if text[e - 1] == "）" else text.rfind("(", s, e)
            if n <= s:
                break
            e = n
        j = _LAST_JOIN.fullmatch(text, s, e)
        spans = [j.span(1), j.span(2)] if j else [(s, e)]
        for x, y in spans:
            if _ITEM_HAN.fullmatch(text, x, y) is None:
                out.append(None)
            elif 2 <= y - x <= 4:
                out.append((x, y))
            elif y in ends and any(k in starts for k in range(y - 4, y - 1)):
                out.append((next(k for k in range(y - 4, y - 1) if k in starts), y))
            elif x in starts and any(k in ends for k in range(x + 2, x + 5)):
                out.append((x, next(k for k in range(x + 4, x + 1, -1) if k in ends)))
            else:
                out.append(None)
    return out


def in_short_lists(text: str, found: list[Detection], common: frozenset[str],
                   threshold: float) -> list[Detection]:
    """Items of a list of short tokens (参会人罗天宇，高明，陈红; 江河/谌鸿峰/王伟大; 出席：白雪；
    王飞) are names when the list holds three or more items in a row, two of them found names,
    and every item reads as a name (a listed surname and one or two characters, no place,
    organisation or product): one kind of thing fills a list, and two names say which."""
    if len(found) < 2:
        return found
    spans = {(d.start, d.end) for d in found}
    starts = {d.start for d in found}
    ends = {d.end for d in found}
    out = list(found)
    bounds = [0] + [m.end() for m in _LIST_END.finditer(text)] + [len(text) + 1]
    for a, b in zip(bounds, bounds[1:], strict=False):
        b = min(b - 1, len(text)) if b <= len(text) else len(text)
        if b - a < 8 or not any(a <= d.start < b for d in found):
            continue
        items = _list_items(text, a, b, starts, ends)
        run: list[tuple[int, int]] = []
        for item in items + [None]:
            if item is not None and (item in spans or _shaped(text[item[0]:item[1]], common)):
                run.append(item)
                continue
            if len(run) >= 3 and sum(span in spans for span in run) >= 2:
                for s, e in run:
                    if not any(d.start < e and s < d.end for d in out):
                        out.append(Detection(s, e, PERSON, round(threshold + 0.01, 3), DETECTOR))
            run = []
    return sorted(out, key=lambda d: d.start)


def _shaped(v: str, common: frozenset[str]) -> bool:
    """A listed surname (single or compound) and one or two characters, no function word among
    them, no place, organisation or product, no frequent ordinary word."""
    sl = lx.surname_length(v)
    return bool(sl) and sl + 1 <= len(v) <= sl + 2 \
        and not any(c in lx.NON_NAME_CHARS for c in v[sl:]) and not _thing(v, common) \
        and (not _plain_word(v) or _list_word(v)) \
        and _tagger().word_tag_tab.get(v, "") != "t"  # (周一, 周四: a time word is none)


# A frequent word that may still be a name in a list of names (时光, 白雪, 雷鸣: a noun,
# adjective or proper noun two characters long, not among jieba's most frequent words).
_LIST_WORD_TAGS = ("n", "nr", "ns", "nz", "a")

_LIST_WORD_MAX = 5000


def _list_word(v: str) -> bool:
    tagger = _tagger()
    return len(v) == 2 and tagger.word_tag_tab.get(v, "x") in _LIST_WORD_TAGS \
        and tagger.FREQ.get(v, 0) <= _LIST_WORD_MAX


# A letter's closing line (Regards, / Best regards, / Thanks, / 祝好 / 此致敬礼 / --), then the
# signature: the next line starts with the sender's name (白雪 | 小米集团, 东方军⏎风险管理部).
_CLOSING = re.compile(r"(?im)^[ \t]*(?:(?:best |kind |warm )?regards|thanks|thank you|cheers|"
                      r"best wishes|best|sincerely|yours sincerely|祝好|顺祝商祺|此致敬礼|敬礼|"
                      r"谢谢|--)[ \t]*[,，!！。.]?[ \t]*\n[ \t]*")
_SIGNER = re.compile("(?:" + _alt(lx.COMPOUND_SURNAMES) + "|[" + "".join(sorted(lx.SURNAMES))
                     + r"])[\u4e00-\u9fff]{1,2}(?=[ \t]*(?:$|\n|[|｜/,，(（]))", re.M)


def signatures(text: str, found: list[Detection], common: frozenset[str], threshold: float
               ) -> list[Detection]:
    """The name that starts the line after a letter's closing is the sender's (Regards,⏎金山 |
    某公司): a listed surname and one or two characters (with a compound surname two or three),
    alone up to the line's end or a separator, no place, organisation or product."""
    if "\n" not in text:
        return found
    out = list(found)
    for m in _CLOSING.finditer(text):
        n = _SIGNER.match(text, m.end())
        if n is None:
            continue
        s, e = n.span()
        v = text[s:e]
        sl = lx.surname_length(v) or 1
        if len(v) > sl + 2 or any(c in lx.NON_NAME_CHARS for c in v[sl:]) or _thing(v, common) \
                or any(d.start < e and s < d.end for d in out):
            continue
        out.append(Detection(s, e, PERSON, round(threshold + 0.01, 3), DETECTOR))
    return sorted(out, key=lambda d: d.start)
