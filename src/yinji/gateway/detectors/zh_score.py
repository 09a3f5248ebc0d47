"""The rules' score of one surname candidate (names_zh): jieba's dictionary, labels, titles,
role words, token edges and what follows, weighed by hand-set weights; the best given-name
length (1 or 2) and its score.

Leakage: see names_zh.
"""

from __future__ import annotations

from yinji.gateway.detectors import lexicon as lx
from yinji.gateway.detectors import name_model
from yinji.gateway.detectors.zh_cues import (
    _BOUNDARY,
    _COMPANY_AFTER,
    _DIGIT_RUN,
    _DIGIT_RUN_END,
    _FIELD,
    _FORM_FIELD,
    _HAN,
    _KIN_RX,
    _LABEL_RX,
    _LEGAL_ORG,
    _LINE_START,
    _ORG_RX,
    _PERSON_BEFORE_RX,
    _PERSON_PRED_RX,
    _PLACE_END,
    _POST_RX,
    _POST_WORD_RX,
    _PROPER,
    _SHARES_AFTER,
    _STOCK_CODE,
    _SURE,
    _THING_FIELD,
    _WEAK_PRE,
)
from yinji.gateway.detectors.zh_words import (
    _name_like,
    _person_word,
    _plain_word,
    _tagger,
    _title,
    _word_name,
)

# Cues that are verbs or prepositions taking a person (同意X, 通知X, 由X), not labels or roles.
_VERB_CUES = ("由", "与", "和", "及", "给", "向", "对", "陪同", "根据", "回访", "授权", "同意", "通知",
              "转告", "联系", "拜访", "会见", "提醒", "告知", "、")


def judge(text: str, p: int, surname: str, limit: int, common: frozenset[str],
          names: frozenset[str], verbs: frozenset[str], threshold: float) -> tuple[float, int] | None:
    """The best (score, given-name length) for a candidate at `p`."""
    sl = len(surname)
    pre = text[max(0, p - 12):p]
    # Han characters inside English text ("applicant 于敬 has"): the token is the name.
    before = text[max(0, p - 3):p].rstrip(" (\"'")
    latin = p > 0 and bool(before) and before[-1].isascii() and text[p - 1] in " (\"'"
    weak = (surname in lx.WEAK_SURNAMES or surname in lx.WEAK_COMPOUND) and not latin
    label_m = _LABEL_RX.search(pre)
    if label_m is not None and surname in lx.RARE_SURNAMES and surname in lx.WEAK_SURNAMES \
            and label_m.group().rstrip(" ：:").endswith(_VERB_CUES):
        label_m = None  # 同意|续期: a rare surname that is a word needs a role or label, not a verb
    label = (label_m is not None
             or _FIELD.search(text, max(0, p - 24), p) is not None)
    # A label glued to the candidate, nothing between (销售|方案, 客户|关系): a frequent
    # ordinary word there is the compound's second half, not a name.
    glued_label = label_m is not None and _HAN.match(label_m.group()[-1]) is not None
    weak_pre = p > 0 and text[p - 1] in _WEAK_PRE
    # A form field: a role word or label, a colon, then the value (审批人：白玉兰).
    field = _FORM_FIELD.search(text, max(0, p - 12), p) is not None
    if not label and any(text[max(0, p - k):p] in common for k in (2, 3)):
        left_word = 0.1  # a word ends right before the candidate (今天上午|王芳)
    else:
        left_word = 0.0
    # The name is a whole token: something that ends a word before it (start, punctuation,
    # quote, space, Latin text or a label).
    left_edge = (p == 0 or text[p - 1] in _BOUNDARY or label
                 or _DIGIT_RUN_END.search(text, max(0, p - 24), p) is not None)
    # The surname character belongs to the word before it (东方|证券, 中国|平安, 对|方).
    glued = p > 0 and not label and ((text[p - 1:p + 1] in common)
                                     or (text[max(0, p - 2):p + 1] in common))
    if ("：" in pre or ":" in pre) and _THING_FIELD.search(text, max(0, p - 8), p):
        return None  # the value of an address, date or product field
    brackets = "（" in text or "(" in text
    legal = "公司" in text or "事务所" in text or "企业" in text
    # what is said of a company right after the candidate or a character or two later
    # (王致和|发布公告 is no name, nor is 王致 or 曲美|家居发布公告's 曲美)
    company = any(_COMPANY_AFTER.match(text, k) for k in range(p + sl, p + sl + 4))
    speaker = _LINE_START.search(text, max(0, p - 24), p) is not None
    best: tuple[float, int] | None = None
    for gl in (2, 1):
        end = p + sl + gl
        cand = text[p:end]
        if end > limit or len(cand) < sl + gl or not all("\u4e00" <= c <= "\u9fff"
                                                            for c in cand):
            continue
        given = cand[sl:]
        if glued_label and sl + gl == 2 and _plain_word(cand):
            continue  # 销售|方案, 客户|关系 (客户|高山 is a name: jieba tags 高山 a place)
        if gl == 2 and cand[-1] == "人" and cand[:2] in common:
            continue  # 陈述|人, 管理|人: a word + 人 is an agent noun (a role), not a name
        if any(c in lx.NON_NAME_CHARS for c in given) or cand in lx.DOMAIN_WORDS \
                or _KIN_RX.search(text, p + sl, end + 1):  # 王家明|之母: 之 + kin ends it
            continue  # (易方达, 高净值: finance words jieba does not know)
        title = _title(text, end, common)
        if (company or _SHARES_AFTER.match(text, end)) and not title:
            continue
        right_edge = (end == len(text) or text[end] in _BOUNDARY or end == limit
                      or _DIGIT_RUN.match(text, end) is not None)
        score = (0.15 if weak else 0.55 if surname in lx.STRONG_COMPOUND
                 else 0.4 if surname in lx.TOP_SURNAMES or sl == 2 else 0.3)
        post = _POST_RX.match(text, end) is not None
        if surname in lx.STRONG_COMPOUND and gl == 2 and (
                cand[-1] in "会能曾" or name_model.given_count(cand[-1]) < 10):
            score -= 0.2  # 轩辕军|撤单, 太史露|会帮: rarely a given name's last character
        if (any(c in lx.SOFT_NAME_CHARS for c in given)
                and not (right_edge or title or label or post)):
            score -= 0.3  # 张三和|李四: 和 is more likely the conjunction
        if weak and gl == 1 and not (title or field):
            score -= 0.2  # 经查, 于是: a word-like surname and one character is mostly a word
        if p > 0 and text[p - 1] == "的" and not title:
            score -= 0.25  # …的路演: a name rarely follows 的 directly
        if _ORG_RX.match(text, p + sl):
            score -= 0.5  # 紫|金矿业, 长|江电力: the "given name" starts an organisation word
        if gl + sl == 2 and _tagger().word_tag_tab.get(cand) == "v" and not (
                title or label or field):
            score -= 0.4  # 请|查收: the candidate is a verb jieba knows, however rare
        elif gl + sl == 2 and _tagger().word_tag_tab.get(cand, "nr")[:2] not in _PROPER \
                and not (title or label or field):
            score -= 0.3  # 本周|路演: a rare ordinary word is still a word
        if cand in names:
            score += 0.1  # jieba's person names are mostly famous people, some are places
        elif cand in common and not _person_word(cand, sl):
            score -= 0.6
        elif sl == 1 and gl == 2 and text[p:p + 2] in common and not (
                (label and not weak) or field or title
                or (post and left_edge and not weak and _name_like(cand[:2]))
                or (given[0] == "家" and given not in common and surname in lx.TOP_SURNAMES
                    and not weak and cand[-1] not in _PLACE_END)):
            # (王家|伟: 王家 "the Wang family" is a word, but 家 + a character that makes no
            # word with it, 家伟, 家怡, is one of the commonest given names)
            # 金额x, 齐全x: surname and first given character make a word (but 高明远说,
            # a whole token with a cue after it, starting with a name-like word, is a name)
            score -= 0.25
        if gl == 1 and (given + text[end:end + 1] in common) and not (title or right_edge):
            score -= 0.2  # 张|伟明 unlikely split: the 2-char given name reads as a word
        if gl == 2 and (cand[-1] + text[end:end + 1] in common) and not right_edge \
                and not _POST_WORD_RX.match(text, end):  # (彭建平|身份证: not 平身)
            score -= 0.45  # 李明认|为: the last character starts the next word
        if gl == 2 and (cand[sl:sl + 2] in common) and not (title or label or right_edge):
            score -= 0.1
        # (after a role word too: 受益人|信息均未填写, 持卡人|应妥善保管; not in a form field)
        if weak and gl == 2 and given in common and not (title or field):
            score -= 0.3  # 经|核实: a word-like surname in front of an ordinary word
        elif weak and gl == 2 and _tagger().FREQ.get(given) and not (title or field):
            score -= 0.2  # 有|笔误: in front of any dictionary word, even a rare one
        if gl == 2 and given in verbs and not (title or label):
            score -= 0.3  # 管|绑定: the "given name" is an ordinary verb
        if glued:
            score -= 0.5
        # A longer ordinary word starts at the surname (金融机构, 周期性).
        if any((text[p:p + k] in common) for k in (sl + gl + 1, sl + gl + 2)):
            score -= 0.4
        # The given name starts a longer ordinary word (和|王府井, 去|张家口): a place or word
        # follows a surname-like character, not a name.
        if gl == 2 and not title and any(text[p + sl:p + sl + k] in common for k in (3, 4)):
            score -= 0.5
        if _ORG_RX.match(text, end) or (brackets and _STOCK_CODE.match(text, end)) \
                or (legal and not title and _LEGAL_ORG.match(text, end)):
            # (a stock name before its code: 高伟达（600386）; a company's legal name:
            # 杭州明|德私募基金管理有限公司)
            score -= 0.5
        if title:
            score += 0.5 if not glued else 0.25  # 现任|财务总监: the surname ends a word
        if label:
            score += 0.45
        elif weak_pre and not glued:
            score += 0.2
        if left_edge and right_edge:
            # a whole token: 「王莲绿」, applicant 李厚惠., 抄送：A；B (经核实， is not one)
            score += 0.15 if weak and not label else 0.3
        if cand[-1] in _PLACE_END and not (title or label):
            score -= 0.3  # 朱家角, 宋城, 罗湖: place names end this way
        if speaker and text[end:end + 1] in ":：" and (cand not in common or (
                _name_like(cand) and surname in lx.TOP_SURNAMES and not weak)):
            # a speaker's name in a chat log or transcript (骆镇南：…, 江河：收到 — a word
            # only if jieba tags it a proper name: not 周一：, 金额：)
            score += 0.3
        if post:
            score += 0.25
        elif text[end:end + 2] in verbs:
            score += 0.2  # a name is often the subject of the verb that follows
        elif any(text[end:end + k] in common for k in (2, 3)):
            score += 0.1  # the next word starts right after the candidate
        score += left_word if not glued else 0.0
        if latin and right_edge:
            score += 0.15
        if sl == 1 and gl == 2 and surname in lx.TOP_SURNAMES and not weak and given in common \
                and text[p:p + 2] not in common and cand not in common and not glued \
                and (label or field or p == 0 or text[p - 1] in _BOUNDARY or weak_pre) \
                and (title or post or right_edge or text[end:end + 2] in verbs):
            # 由|李前进|变更, 业务员雷阳光涉嫌: a common surname and a word as given name
            # (建设, 阳光) between a cue and a verb or title is a name, however word-like
            score = max(score, threshold + _SURE)
        if gl == 1 and sl == 1 and cand in common and (label or field) and not glued \
                and surname in lx.TOP_SURNAMES and not weak \
                and (right_edge or title or post or text[end:end + 2] in verbs) \
                and (best is None or best[0] < threshold) and _word_name(cand):
            # 调拨人：高山；, 由交易员|高明|执行: a noun or adjective that is also a name
            # (a common surname + one character) in the slot a label opens for a person,
            # unless the three characters read as a name (经办人|赵家乐|于)
            score = max(score, threshold + _SURE)
        if gl == 1 and sl == 1 and cand in common and surname in lx.TOP_SURNAMES and not weak \
                and not glued and _word_name(cand) and _PERSON_PRED_RX.match(text, end) \
                and (label or field or p == 0 or text[p - 1] in _BOUNDARY
                     or _PERSON_BEFORE_RX.search(text, max(0, p - 3), p) is not None) \
                and (best is None or best[0] < threshold):
            # 高峰说, 据方正回忆, 夏天的账户: a word that is also a name (a common surname + one
            # character) where a person starts and something only a person does follows
            score = max(score, threshold + _SURE)
        if field and right_edge and not any(c in lx.NON_NAME_CHARS for c in cand) \
                and not _plain_word(cand) and not _ORG_RX.match(text, end):
            # the whole value of a form field is the name even if it is also a word (白玉兰)
            score = max(score, threshold + 0.1)
        if best is None or score > best[0] + 1e-9:
            best = (score, gl)
    return best
