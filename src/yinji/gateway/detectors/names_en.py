"""English and romanised Chinese person names: capitalisation, name lists and cue words.

Why: English text marks names with capitals, but so are companies, places and sentence starts.
A candidate is a run of capitalised tokens; a title (Mr./Ms./Dr.), a known given name, a
romanised Chinese surname (Zhang, Chan, Wong) or a cue (client, Dear, account holder) make it a
name; institution and place words (Bank, Holdings, Hong Kong) unmake it.
"""

from __future__ import annotations

import re

from yinji.gateway.detectors import lexicon as lx
from yinji.gateway.detectors.base import PERSON, Detection

_TOK = r"(?:[A-Z][a-z]+(?:[-'’][A-Z]?[a-z]+)?|[A-Z]{2,}(?=[ ]+[A-Z][a-z]))"
_INITIAL = r"(?:[A-Z]\.)"
_RUN = re.compile(r"(?<![A-Za-z])" + _TOK + r"(?:[ ](?:" + _INITIAL + r"[ ])?" + _TOK + r"){0,3}"
                  r"(?![A-Za-z])")
_TITLE = re.compile(r"\b(?:" + "|".join(lx.EN_TITLES) + r")\.?\s+$")
_PRE = re.compile(r"(?:^|[^A-Za-z])(?:" + "|".join(re.escape(c) for c in lx.EN_PRE_CUES)
                  + r")\s*[:：,]?\s*$", re.IGNORECASE)
_SURNAMES_UP = frozenset(s.upper() for s in lx.EN_CN_SURNAMES)
_LEAD_WORDS = frozenset(lx.EN_NOT_NAMES | set(lx.EN_TITLES)
                        | {c.title() for c in lx.EN_PRE_CUES if " " not in c})


def _tokens(span: str) -> list[str]:
    return [t for t in span.split() if not re.fullmatch(_INITIAL, t)]


def _has_org(toks: list[str]) -> bool:
    """The run holds a firm's name made of name words ("Morgan Stanley", "Sun Life")."""
    words = [t.title() for t in toks]
    return any(" ".join(words[i:i + n]) in lx.EN_ORG_PHRASES
               for n in (2, 3) for i in range(len(words) - n + 1))


def _is_place(toks: list[str], after: str) -> bool:
    """A romanised place ("Ho Man Tin"), or a run followed by a place noun ("... branch")."""
    words = [t.title() for t in toks]
    for n in range(2, min(4, len(words)) + 1):
        if any(" ".join(words[i:i + n]) in lx.EN_PLACES for i in range(len(words) - n + 1)):
            return True
    nxt = re.match(r"[ ]*([A-Za-z]+)", after)
    return bool(nxt) and nxt.group(1).lower() in lx.EN_PLACE_NOUNS


class EnglishNameDetector:
    name = "person_en"

    def __init__(self, threshold: float = 0.5) -> None:
        self.threshold = threshold

    def detect(self, text: str) -> list[Detection]:
        out: list[Detection] = []
        for m in _RUN.finditer(text):
            start, end = m.start(), m.end()
            toks = _tokens(m.group())
            if _has_org(toks):
                continue
            # Drop leading / trailing words that cannot be part of a name ("Dear John", "Hong Kong").
            while toks and toks[0].title() in _LEAD_WORDS:
                start = text.index(toks[0], start) + len(toks[0])
                toks = toks[1:]
                while start < end and text[start] in " ":
                    start += 1
            while toks and toks[-1].title() in lx.EN_NOT_NAMES:
                end = text.rindex(toks[-1], start, end)
                toks = toks[:-1]
                end = len(text[:end].rstrip())
            if not toks or any(t.title() in lx.EN_NOT_NAMES for t in toks) \
                    or _is_place(toks, text[end:end + 16]):
                continue
            score = self._score(text, start, end, toks)
            if round(score, 6) >= self.threshold:   # sums of tenths: 0.3 + 0.15 + 0.05 < 0.5
                out.append(Detection(start, end, PERSON, round(min(0.99, score), 3), self.name))
        return out

    def _score(self, text: str, start: int, end: int, toks: list[str]) -> float:
        before = text[max(0, start - 24):start]
        first, last = toks[0].title(), toks[-1].title()
        cn = sum(t.title() in lx.EN_CN_SURNAMES for t in toks)
        score = 0.0
        if first in lx.EN_FIRST_NAMES:
            score += 0.45
        if cn:
            score += 0.3 if len(toks) > 1 else 0.1
        if any(t.isupper() and len(t) > 1 and t in _SURNAMES_UP for t in toks):
            score += 0.2  # LI Ming, CHAN Tai Man: surname written in capitals
        if len(toks) >= 2:
            score += 0.15
        if last in lx.EN_CN_SURNAMES or (len(toks) > 1 and last not in lx.EN_FIRST_NAMES):
            score += 0.05
        if _TITLE.search(before):
            score += 0.6
        elif _PRE.search(before):
            score += 0.3
        rest = text[end:end + 12].lstrip().lower()
        if any(rest.startswith(c) for c in lx.EN_POST_CUES):
            score += 0.1
        # Sentence-initial single capitalised word without other evidence: not a name.
        if len(toks) == 1 and first not in lx.EN_FIRST_NAMES and not _TITLE.search(before):
            score -= 0.3
        return score
