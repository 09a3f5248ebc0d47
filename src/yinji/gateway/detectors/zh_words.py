"""jieba's offline dictionary as names_zh reads it: ordinary words, listed person names and
common verbs, and the part-of-speech tagger's second opinion on an undecided candidate.

Loads nothing from the network; leakage: see names_zh.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from yinji.gateway.detectors import lexicon as lx
from yinji.gateway.detectors import names_forms
from yinji.gateway.detectors.zh_cues import _ORG_RX, _PLACE_END, _TITLE_RX

# Words with a non-name tag above this count are "ordinary words" (jieba's scale); words that
# jieba tags as person names but that are frequent (齐全, 石家庄, 熊猫 …) count as ordinary.
_COMMON = 50

# Tags of a given name that jieba cut off its surname (宋/nr 振华/nz, 诸葛/nr 雪莹/nr).
_GIVEN_TAGS = frozenset(("nr", "nrfg", "nz", "n", "ng"))

_WINDOW = 10



@lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """From jieba's offline dictionary: common ordinary words, names, common 2-character verbs."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    tags = jieba.posseg.dt.word_tag_tab
    freq = jieba.dt.FREQ
    names = frozenset(w for w, t in tags.items() if t.startswith("nr") and freq.get(w, 0) <= _COMMON)
    common = frozenset(w for w, f in freq.items() if f > _COMMON and w not in names)
    verbs = frozenset(w for w, t in tags.items()
                      if t == "v" and len(w) == 2 and freq.get(w, 0) > _COMMON)
    return common | lx.DOMAIN_WORDS, names, verbs



@lru_cache(maxsize=1)
def _tagger():  # noqa: ANN202 - jieba's POSTokenizer
    import jieba.posseg

    _lexicon()
    return jieba.posseg.dt



# Clause delimiters: the tagger reads only the clause around an undecided candidate.
_CLAUSE = frozenset("，。；！？,;!?\n\r\t【】[]@")



def _clause(text: str, p: int) -> tuple[int, int]:
    s = p
    while s > 0 and p - s < _WINDOW and text[s - 1] not in _CLAUSE:
        s -= 1
    e = p
    while e < len(text) and e - p < _WINDOW and text[e] not in _CLAUSE:
        e += 1
    return s, e



def _tagged_name(text: str, p: int, sl: int,
                 cache: dict[tuple[int, int], list] | None = None) -> int | None:
    """Second opinion: the length of a jieba `nr` word starting at `p`, or None.

    jieba's HMM tags unseen words, so it knows 王惠|让我 and 全瑾 (label ： name ；) without a
    list of given names; it also tags dictionary words (谢谢, 顾问, 申请人, 张江, 袁隆平) and
    places (魏桥, 朱家角) as nr, so the answer counts only for a candidate that starts with a
    surname, is not in jieba's dictionary (the rules already judged those), does not end like a
    place name and does not run into an organisation word (宁德|时代)."""
    s, e = _clause(text, p)
    tagger = _tagger()
    cache = {} if cache is None else cache
    words = cache.get((s, e))
    if words is None:
        words = cache[s, e] = list(tagger.cut(text[s:e]))  # one cut per clause and request
    pos = s
    for i, (word, flag) in enumerate(words):
        if pos == p:
            if len(word) == sl and flag.startswith("nr") and i + 1 < len(words):
                # jieba often tags a person as surname/nr + given name/nr|nz|n (宋|振华).
                given, gflag = words[i + 1]
                if 1 <= len(given) <= 2 and gflag in _GIVEN_TAGS:
                    word, flag = word + given, "nr"
            n = len(word)
            ok = (flag.startswith("nr") and sl + 1 <= n <= sl + 2 and not tagger.FREQ.get(word)
                  and word not in _lexicon()[0]  # nor one of the domain words (高开, 尽调)
                  # a word-like surname before a dictionary word (於|汇丰, 于|今年)
                  and not (word[:sl] in lx.WEAK_SURNAMES and n - sl >= 2
                           and tagger.FREQ.get(word[sl:]))
                  and not any(c in lx.NON_NAME_CHARS for c in word[sl:])  # 郑骁|的
                  and text[p + n - 1:p + n + 1] not in _lexicon()[2]  # 顾晶|核对 (华表 may)
                  and word[-1] not in _PLACE_END and not _ORG_RX.match(text, p + n)
                  and all("\u4e00" <= c <= "\u9fff" for c in word))
            return n if ok else None
        if pos > p:
            return None
        pos += len(word)
    return None



def _title(text: str, p: int, common: frozenset[str]) -> bool:
    """A title starts at `p` (先生, 经理, 董事) and is neither the start of a longer word
    (董事|会) nor the end of one that starts before it (财务|总监)."""
    m = _TITLE_RX.match(text, p)
    return m is not None and not any(text[p:m.end() + k] in common for k in (1, 2)) \
        and not any(text[max(0, p - k):m.end()] in common for k in (1, 2))



def _plain_word(word: str) -> bool:
    """A frequent ordinary word that is no proper name (法定, 待定, 空白; not 白玉兰/nr)."""
    tagger = _tagger()
    return (tagger.FREQ.get(word, 0) >= 300
            and tagger.word_tag_tab.get(word, "n")[:2] not in ("nr", "ns", "nz"))



# A word that may also be a two-character name: a noun, adjective or time word (高山, 安宁,
# 夏天) of moderate frequency (方面, 关系 are too common to be anyone's name).
_WORD_NAME_TAGS = ("n", "nr", "ns", "nz", "a", "t", "nrt", "nrfg")

_WORD_NAME_MAX = 3000



def _word_name(word: str) -> bool:
    tagger = _tagger()
    return (tagger.word_tag_tab.get(word, "x") in _WORD_NAME_TAGS
            and tagger.FREQ.get(word, 0) <= _WORD_NAME_MAX)



def _person_word(word: str, sl: int) -> bool:
    """A surname and a two-character given name that jieba lists as a person (杨建华, 王晓东),
    however often it occurs: three-character nr words are people, not ordinary words (but a
    place, 杨家庄, 王府井, 白云山, or a title, 刘司令, may be tagged so too)."""
    tags = _tagger().word_tag_tab
    return (len(word) == sl + 2 and tags.get(word, "")[:2] == "nr"
            and word[-1] not in _PLACE_END and word[-1] not in "山井"
            and tags.get(word[sl:], "")[:2] != "ns" and _TITLE_RX.search(word, sl) is None
            and not all(c in names_forms.TRANSLIT for c in word))  # (安德森: a part of 大卫·安德森)



def _name_like(word: str) -> bool:
    """jieba tags the word a person, place or other proper name (高明, 江海, 金华; not 肖像)."""
    return _tagger().word_tag_tab.get(word, "n")[:2] in ("nr", "ns", "nz")
