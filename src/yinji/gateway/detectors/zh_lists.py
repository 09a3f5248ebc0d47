"""Names and the company they keep: items of a 、 list that holds a found name, every mention of
a sure name, a list neighbour of a sure name; and whole items of a list of places, companies or
products, which are no names.

Leakage: see names_zh.
"""

from __future__ import annotations

import re

from yinji.gateway.detectors import lexicon as lx
from yinji.gateway.detectors.base import PERSON, Detection
from yinji.gateway.detectors.zh_context import _labelled
from yinji.gateway.detectors.zh_cues import (
    _DOMAIN_RX,
    _HAN_ONLY,
    _JOIN,
    _LABEL_RX,
    _LIST_RUN,
    _SURE,
    DETECTOR,
    _alt,
)
from yinji.gateway.detectors.zh_words import _tagger

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
                        and sum(things) * 2 >= len(items) - 1:
                    drop.add((d.start, d.end))
    return [d for d in found if (d.start, d.end) not in drop]



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
            k = 2 if cand[:2] in lx.COMPOUND_SURNAMES else 1
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
