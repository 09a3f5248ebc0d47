"""The CRF's opinion (name_model) merged into the rules' names: names the rules missed, names
they cut short, doubtful rule names the model sees no name in; jieba's dictionary still
overrides the model without a cue (word_like).

Leakage: see names_zh.
"""

from __future__ import annotations

import re

from yinji.gateway.detectors import lexicon as lx
from yinji.gateway.detectors import name_model
from yinji.gateway.detectors.base import PERSON, Detection
from yinji.gateway.detectors.zh_cues import (
    _BEFORE_PERSON,
    _BOUNDARY,
    _COMPANY_AFTER,
    _CUE_WORD_RX,
    _FORM_FIELD,
    _HAN_ONLY,
    _KIN_RX,
    _LABEL_RX,
    _LEGAL_ORG,
    _MEASURE_SURNAMES,
    _NUMERAL_BEFORE,
    _ORG_RX,
    _PLACE_END,
    _POST_RX,
    _POST_WORD_RX,
    _SHARES_AFTER,
    _STOCK_CODE,
    _SURE,
    _SURNAME_TITLE,
    _THING_FIELD,
    DETECTOR,
    _numeral,
)
from yinji.gateway.detectors.zh_words import (
    _lexicon,
    _name_like,
    _person_word,
    _plain_word,
    _title,
)

# At this probability the model overrides jieba's dictionary on its own (客户|时光|来电,
# 柜员|劳宝贵|核对, 合规总监|夏天|于): a name that is also a word, starts with a word-like surname
# or with a surname outside the lists (卿杰兴, 晃娜薇). The vetoes above were set when the model
# was trained only on the project's text; trained on varied text it is right far more often
# than the dictionary where it is this sure (docs/gateway.md, rounds 9 and 10: 0.9 in round 9,
# 0.8 since round 10, measured on --fresh9/--fresh10, text the model never saw).
_MODEL_OVERRIDE = 0.8
# The CRF's span probability that adds a name of three or more characters on its own (0.8
# until round 9; 0.6 since round 10, same measurement), of two characters (a name that is
# often also a word: 夏天|的时候 — kept at 0.95), or with a label/title next to it (_MODEL_CUE).
_MODEL_SURE = 0.6

_MODEL_SURE_SHORT = 0.95

# ... and that lets a word-like surname (福, 海, 班) start a name after punctuation or a
# character that often precedes a person (_BEFORE_PERSON: 发|班静, 是|计容沅).
_MODEL_TOKEN = 0.9

# A character this rarely a given-name character of jieba's persons (撤, 诉, 借) does not widen
# a rule name at its end unless the model is sure (轩辕军|撤单, 王卫国|诉).
_GIVEN_END = 10

# Below this probability of a name on every character, a doubtful rule name is dropped.
_MODEL_VETO = 0.02

_MODEL_CUE = 0.5

# ... or right after an ordinary word (今天|成伟问…, 上午|文华伟到…).
_MODEL_AFTER_WORD = 0.95

# ... and that lets a surname and first given character that make a name-like word (jieba tags
# 高明, 江海 nr/ns/nz; 肖像, 方案 are n) start a 3-character name with a cue after it.
_MODEL_WORD_START = 0.9



_TITLE_WORDS = frozenset(lx.TITLES)
# Honorifics that follow only a person (马力女士, 夏天先生; 副总经理 may follow 常务).
_HONORIFIC = re.compile("先生|女士|小姐|太太|夫人")
# The CRF's span probability that lets a 3-character name's surname end the word before it.
_MODEL_GLUE = 0.97


def word_like(text: str, s: int, e: int, sl: int, common: frozenset[str],
               loose: bool = False, weak_ok: bool = False, start_ok: bool = False,
               glue_ok: bool = False) -> bool:
    """Without a cue, what jieba's dictionary knows overrides the model: the span is an
    ordinary word or starts one (金融机构, 肖像权), its surname ends the word before it (东方|证券),
    its last character starts the next word (李明认|为), an organisation word or place-name
    ending follows, or the surname is itself a common word (于, 经, 和) unless `weak_ok` (the
    model is very sure and the span starts a token: ，福和平，). With `start_ok` (the model is
    sure of a 3-character span) surname and first given character may make a word (高明|远);
    with `glue_ok` (the model is all but certain of a 3-character span whose given name is no
    word) the surname may end a word before it (今天|王静怡: 天王, 前称|王丽娟: 称王)."""
    cand = text[s:e]
    if loose:  # the rules already found a name here: only the model's edges are in doubt
        return (cand in common or (e < len(text) and text[e - 1:e + 1] in common)
                or (s > 0 and text[s - 1:s + 1] in common))
    weak = cand[:sl] in lx.WEAK_SURNAMES or cand[:sl] in lx.WEAK_COMPOUND
    return ((cand in common and not _person_word(cand, sl)) or (weak and not weak_ok)
            or (cand[:sl + 1] in common and not start_ok)  # 肖像|权: surname + next a word
            or any(text[s:s + k] in common for k in (e - s + 1, e - s + 2))
            or (s > 0 and not glue_ok
                and (text[s - 1:s + 1] in common or text[max(0, s - 2):s + 1] in common))
            or (e < len(text) and text[e - 1:e + 1] in common
                and not _POST_WORD_RX.match(text, e))
            or _ORG_RX.match(text, e) is not None or _ORG_RX.match(text, s + sl) is not None
            or cand[-1] in _PLACE_END)


def with_model(text: str, found: list[Detection], roles: list[tuple[int, int]],
               threshold: float) -> list[Detection]:
    """Add the CRF's opinion (name_model): a name the rules missed, one they cut short, or
    a doubtful rule name (confidence below threshold + _SURE) where the model sees none.

    A model span counts only if it starts with a surname, is 2-4 Han characters, touches no
    role word (申请人 is never a name) and either is confident (>= _MODEL_SURE) or has a
    label before it or a title after it and is likely (>= _MODEL_CUE). A rule name the model
    reads one character longer (徐烁|娅) is extended when the model is likely."""
    common, _, verbs = _lexicon()
    doubtful = tuple((d.start, d.end) for d in found
                     if d.confidence < threshold + _SURE)
    spans, most = name_model.read(text, common, doubtful)
    # A doubtful rule name where the model sees no name at all is dropped (every rule name
    # starts with a surname, so the model read its line) — not a surname and a title (方总, 李工:
    # the model learnt such references as no name, the rules decide them).
    drop = {span for span, p in zip(doubtful, most, strict=True)
            if p < _MODEL_VETO and text[span[0] + 1:span[1]] not in _TITLE_WORDS}
    # ... nor a name that is found again in the text where the model does not veto it
    # (已与贝冉沟通，贝冉同意: one mention the model doubts, one it does not)
    kept = {text[d.start:d.end] for d in found if (d.start, d.end) not in drop}
    drop = {span for span in drop if text[span[0]:span[1]] not in kept}
    out = [d for d in found if (d.start, d.end) not in drop]
    for s, e, prob in spans:
        if (kin := _KIN_RX.search(text, s, e)) is not None:
            e = kin.start()  # 文思颖|之母
        cand = text[s:e]
        sl = lx.surname_length(cand) or 1
        if not (sl + 1 <= len(cand) <= sl + 2 and _HAN_ONLY.fullmatch(cand)
                and (sl == 2 or cand[0] in lx.SURNAMES or (
                    prob >= _MODEL_OVERRIDE and cand[0] not in lx.NON_NAME_CHARS
                    and cand not in common))) \
                or any(c in lx.NON_NAME_CHARS for c in cand[sl:]):
            continue  # (郑骁的: a function word ends no name)
        if any(rs < e and s < re_ for rs, re_ in roles) or _CUE_WORD_RX.match(text, s) \
                or (sl == 1 and _numeral(text, s)) \
                or (sl == 1 and cand[0] in _MEASURE_SURNAMES and s > 0
                    and text[s - 1] in _NUMERAL_BEFORE) \
                or _THING_FIELD.search(text, max(0, s - 8), s) is not None \
                or _STOCK_CODE.match(text, e) or _LEGAL_ORG.match(text, e) \
                or _ORG_RX.match(text, e) \
                or any(_COMPANY_AFTER.match(text, k) for k in range(s + sl, e + 2)) \
                or _SHARES_AFTER.match(text, e) \
                or (len(cand) == sl + 2 and cand[-1] == "人" and cand[:2] in common) \
                or (len(cand) == 2 and _plain_word(cand) and not _HONORIFIC.match(text, e)
                    and prob < _MODEL_OVERRIDE):
            continue  # (常务|副总经理: a frequent ordinary word before a title is none, but
            # 马力女士 is a person: 女士 follows nothing else)
        over = [d for d in out if d.start < e and s < d.end]
        if over:
            # A rule name the model reads wider: cut one short (徐烁|娅) or missing the
            # first character of a compound or rare surname (夹|谷颜锋).
            d = over[0]
            titled = _SURNAME_TITLE.fullmatch(text, d.start + 1, d.end) is not None
            if len(over) == 1 and s <= d.start and d.end <= e and (s, e) != (d.start, d.end) \
                    and not titled \
                    and prob >= _MODEL_CUE and (e - d.end) + (d.start - s) == 1 \
                    and (e == d.end or prob >= _MODEL_TOKEN
                         or name_model.given_count(text[e - 1]) >= _GIVEN_END) \
                    and not word_like(text, s, e, sl, common, loose=True):
                out[out.index(d)] = Detection(s, e, PERSON, d.confidence, DETECTOR)
            elif len(over) == 1 and d.start < s and d.end <= e and prob >= _MODEL_SURE \
                    and d.confidence < threshold + _SURE \
                    and not word_like(text, s, e, sl, common, loose=True):
                # A doubtful rule name that took the model's surname as its given name
                # (和郗|振玥, 和陶鹏: 和 is a word-like surname, here the conjunction).
                out[out.index(d)] = Detection(s, e, PERSON, round(threshold + 0.01, 3),
                                              DETECTOR)
            continue
        cue = (_LABEL_RX.search(text[max(0, s - 12):s]) is not None
               or _title(text, e, common))
        if cand[:sl] in lx.WEAK_SURNAMES and len(cand) - sl == 2 and cand[sl:] in common \
                and not _title(text, e, common) \
                and _FORM_FIELD.search(text, max(0, s - 12), s) is None \
                and prob < _MODEL_OVERRIDE:
            continue  # 申请人|须提交, 持卡人|应妥善: a modal verb before a word, not a name
        if not cue and prob < _MODEL_OVERRIDE and word_like(text, s, e, sl, common, weak_ok=(
                prob >= _MODEL_TOKEN and (s == 0 or text[s - 1] in _BOUNDARY
                                          or text[s - 1] in _BEFORE_PERSON)) or (
                prob >= _MODEL_AFTER_WORD and s >= 2 and text[s - 2:s] in common),
                start_ok=prob >= _MODEL_WORD_START and len(cand) == sl + 2
                and (_name_like(cand[:sl + 1])
                     or (prob >= _MODEL_TOKEN and not _plain_word(cand[:sl + 1]))) and (
                    _POST_RX.match(text, e) is not None or text[e:e + 2] in verbs),
                glue_ok=prob >= _MODEL_GLUE and len(cand) == sl + 2 and cand[sl:] not in common):
            continue
        # One given character without a cue is mostly a word (车贷, 于是): be surer.
        sure = _MODEL_SURE if len(cand) > sl + 1 else _MODEL_SURE_SHORT
        if prob >= sure or (cue and prob >= _MODEL_CUE):
            out.append(Detection(s, e, PERSON, round(threshold + 0.01, 3), DETECTOR))
    return sorted(out, key=lambda d: d.start)
