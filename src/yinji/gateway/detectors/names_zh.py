"""Chinese person names: surname candidates, judged by jieba's lexicon and nearby cue words.

Why this design: a name is an open class (given names are free), so we never list given names.
A surname from the list proposes a 2-3 (or 3-4 with a compound surname) character candidate;
jieba's offline dictionary tells us when the candidate is really an ordinary word (金融, 高兴,
东方证券) or when its last character starts the next word (李明|认为); titles (先生, 经理),
labels (客户, 联系人) and reporting verbs (表示, 致电) add evidence. This generalises to names
never seen, costs microseconds per candidate, and downloads nothing.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from yinji.gateway.detectors import lexicon as lx
from yinji.gateway.detectors.base import PERSON, Detection

_HAN = re.compile(r"[\u4e00-\u9fff]")
_STRONG = lx.SURNAMES - lx.WEAK_SURNAMES
_CAND = re.compile(
    "(?=(" + "|".join(lx.COMPOUND_SURNAMES) + "|[" + "".join(sorted(_STRONG | lx.WEAK_SURNAMES))
    + "])[\u4e00-\u9fff])")


def _alt(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_TITLE_RX = re.compile(_alt(lx.TITLES))
_PRE_RX = re.compile("(?:" + _alt(lx.PRE_CUES) + r")\s*[:：]?\s*$")
_POST_RX = re.compile("(?:" + _alt(lx.POST_CUES) + r"|[，。、；！？\s]|$)")
_ORG_RX = re.compile(_alt(lx.ORG_SUFFIXES))
_LABEL = re.compile(r"(?:姓名|名字|户名|联系人|客户|委托人|开户人|持卡人|收款人|付款人|签名|签字)"
                    r"\s*[:：]?\s*$")
# An English field label before a value ("name: 张伟", "client_name=王芳"): JSON tool arguments
# and results are scanned field by field with the field name in front (see gateway/scan.py).
_FIELD = re.compile(r"(?i)(?:name|client|customer|holder|contact|payee|payer)s?\s*[:：=]\s*$")
# Frequent words with a non-name tag above this count are "ordinary words" (jieba's scale).
_COMMON = 50


@lru_cache(maxsize=1)
def _lexicon() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """From jieba's offline dictionary: common ordinary words, names, common 2-character verbs."""
    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    tags = jieba.posseg.dt.word_tag_tab
    names = frozenset(w for w, t in tags.items() if t.startswith("nr"))
    common = frozenset(w for w, f in jieba.dt.FREQ.items() if f > _COMMON and w not in names)
    verbs = frozenset(w for w, t in tags.items()
                      if t == "v" and len(w) == 2 and jieba.dt.FREQ.get(w, 0) > _COMMON)
    return common | lx.DOMAIN_WORDS, names, verbs


def warm_up() -> None:
    """Load jieba's dictionary now (about 1-2 s) instead of on the first request."""
    _lexicon()


class ChineseNameDetector:
    name = "person_zh"

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def detect(self, text: str) -> list[Detection]:
        if not _HAN.search(text):
            return []
        common, names, verbs = _lexicon()
        out: list[Detection] = []
        taken_until = -1
        for m in _CAND.finditer(text):
            p = m.start()
            if p < taken_until:
                continue
            best = self._judge(text, p, m.group(1), common, names, verbs)
            if best is not None:
                out.append(best)
                taken_until = best.end
        return out

    def _judge(self, text: str, p: int, surname: str, common: frozenset[str],
               names: frozenset[str], verbs: frozenset[str]) -> Detection | None:
        sl = len(surname)
        pre = text[max(0, p - 6):p]
        weak = sl == 1 and surname in lx.WEAK_SURNAMES
        pre_cue = (_PRE_RX.search(pre) is not None or _LABEL.search(pre) is not None
                   or _FIELD.search(text, max(0, p - 16), p) is not None)
        # The surname character belongs to the word before it (东方|证券, 中国|平安).
        glued = p > 0 and not pre_cue and ((text[p - 1:p + 1] in common)
                                           or (text[max(0, p - 2):p + 1] in common))
        best: tuple[float, int] | None = None
        for gl in (2, 1):
            end = p + sl + gl
            cand = text[p:end]
            if len(cand) < sl + gl or not all("\u4e00" <= c <= "\u9fff" for c in cand):
                continue
            given = cand[sl:]
            if any(c in lx.NON_NAME_CHARS for c in given):
                continue
            title = _TITLE_RX.match(text, end) is not None
            score = 0.15 if weak else 0.4 if surname in lx.TOP_SURNAMES or sl == 2 else 0.3
            if cand in names:
                score += 0.3
            elif cand in common:
                score -= 0.6
            if gl == 1 and (given + text[end:end + 1] in common) and not title:
                score -= 0.2  # 张|伟明 unlikely split: the 2-char given name reads as a word
            if gl == 2 and (cand[-1] + text[end:end + 1] in common):
                score -= 0.45  # 李明认|为: the last character starts the next word
            if gl == 2 and (cand[sl:sl + 2] in common) and not title:
                score -= 0.1
            if gl == 2 and given in verbs and not (title or pre_cue):
                score -= 0.3  # 管|绑定: the "given name" is an ordinary verb
            if glued:
                score -= 0.5
            # A longer ordinary word starts at the surname (金融机构, 周期性).
            if any((text[p:p + k] in common) for k in (sl + gl + 1, sl + gl + 2)):
                score -= 0.4
            if _ORG_RX.match(text, end):
                score -= 0.5
            if title:
                score += 0.5
            if pre_cue:
                score += 0.45
            if _POST_RX.match(text, end):
                score += 0.25
            elif text[end:end + 2] in verbs:
                score += 0.2  # a name is often the subject of the verb that follows
            if best is None or score > best[0] + 1e-9:
                best = (score, gl)
        if best is None or best[0] < self.threshold:
            return None
        conf = min(0.99, best[0])
        return Detection(p, p + sl + best[1], PERSON, round(conf, 3), self.name)
