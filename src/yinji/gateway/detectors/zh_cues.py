"""The context names_zh reads around a surname candidate: patterns and character sets for
labels, titles, role words, token boundaries, what is said of a company, numerals and amounts.

Why a module of its own: the scoring rules (zh_score), the CRF merge (zh_crf), the list checks
(zh_lists) and the name forms (names_forms) all read the same cues. Leakage: see names_zh.
"""

from __future__ import annotations

import re

from yinji.gateway.detectors import lexicon as lx

DETECTOR = "person_zh"

_HAN = re.compile(r"[\u4e00-\u9fff]")

_CAND = re.compile(
    "(?=(" + "|".join(lx.COMPOUND_SURNAMES) + "|[" + "".join(sorted(lx.SURNAMES | lx.WEAK_SURNAMES))
    + "]))")  # (followed by anything: 陈sir, 老王，)



def _alt(words: tuple[str, ...]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))



_OPEN = "\"“「『‘'《（(【"

_CLOSE = "\"”」』’'》）)】"

# Characters that end a name token: punctuation, quotes, spaces, Latin letters (not digits).
_BOUNDARY = frozenset("，。、；：！？,.;:!?/|-—…·" + _OPEN + _CLOSE + " \t\r\n\u3000"
                      + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

# Last characters of place names (庄, 城, 湖 …) and of liquor brands (金徽酒); given names
# rarely end with them.
_PLACE_END = frozenset("庄城府桥湖溪嘴园峡湾港岛州角村镇堡寨坊埠渡口酒")

# Field labels whose value is no person (地址：沙田, 地點：柯士甸道分行, 开户行：…).
# (not 事由, 内容, 摘要: a description may start with a person: 事由：X申请解除限制)
_THING_FIELD = re.compile(r"(?:地址|住址|地点|时间|日期|开户行|开户银行|品种|标的)\s*[:：]\s*$")

# The rest of a company's legal name after a candidate (…德私募基金管理有限公司).
# (the characters between are a name's, not 在, 的, 去 …: 张三在华为技术有限公司 keeps 张三)
_LEGAL_ORG = re.compile("(?:(?![" + "".join(sorted(lx.NON_NAME_CHARS)) + "])[\u4e00-\u9fff]){0,10}"
                        "(?:有限公司|有限责任公司|股份公司|合伙企业|事务所)")

# What is said of a listed company, not of a person, right after its name (X今日涨停,
# X发布公告, X股票交易异常波动, 审议X收购事项, 平仓X二万股, X均未在A股上市).
_COMPANY_AFTER = re.compile(
    r"[均都也亦已将]?(?:今日|今天|盘中|午后|早盘|尾盘|集体)?(?:涨停|跌停|走强|走弱|停牌|复牌|发布公告|股价|股票交易"
    r"|收购事项|同日披露|披露年报|未在[A-Z]股)")

# ... and a number of its shares right after it (平仓X二万股; not 仲燕|增持47200股).
_SHARES_AFTER = re.compile("[0-9０-９一二两三四五六七八九十百千万]+股(?![东份权])")

# The start of a line, or a chat log's time stamp there ([11:49] ): a speaker's name follows.
_LINE_START = re.compile(r"(?:^|\n)[ \t\u3000]*(?:[\[【(（]?[0-9]{1,2}:[0-9]{2}(?::[0-9]{2})?"
                         r"[\]】)）]?[ \t\u3000]*)?$")

# An A-share code in brackets after a stock name (高伟达（600386）).
_STOCK_CODE = re.compile(r"[（(]\s*[0-9]{6}(?:\.S[HZ])?\s*[）)]")

_TITLE_RX = re.compile(_alt(lx.TITLES))

_ROLE_RX = re.compile(_alt(lx.ROLE_WORDS))

# A label right before the candidate: 客户张伟, 联系人：王芳, 申请人 “赵子轩”.
_LABEL_RX = re.compile("(?:" + _alt(tuple(w for w in lx.PRE_CUES + lx.ROLE_WORDS if len(w) > 1))
                       + r")(?:为|是)?\s*[:：]?\s*["
                       + re.escape(_OPEN) + r"]?\s*$")

# Single-character function words (由, 与, 对 …) and the list separator 、 are weaker: 对方 is a
# word, not 对 + a name.
_WEAK_PRE = frozenset(w for w in lx.PRE_CUES if len(w) == 1)

_POST_RX = re.compile("(?:" + _alt(lx.POST_CUES) + "|[" + re.escape(_CLOSE) + r"，。、；！？\s]|$)")

_ORG_RX = re.compile(_alt(lx.ORG_SUFFIXES))

_PERSON_PRED_RX = re.compile(_alt(lx.PERSON_PREDICATES))

# Two or three characters before a person (聘任X, 委托X, 感谢X, 拍了拍X, 经X推荐, 据X回忆).
_PERSON_BEFORE_RX = re.compile("(?:聘任|委托|感谢|拍了拍|拜访了|邀请|经|据|请|让|由|@)$")

# An English field label or cue before a value ("name: 张伟", "applicant 王芳"): JSON tool
# arguments and results are scanned field by field with the field name in front (gateway/scan.py).
_FIELD = re.compile(r"(?i)\b(?:name|client|customer|holder|contact(?: person)?|payee|payer|"
                    r"applicant|beneficiary|borrower|guarantor|signed by|ask|dear|cc|attn|"
                    r"spouse|director|manager|rm)s?\s*[:：=]?\s*$")

# Candidates scoring in [threshold - _GREY, threshold) ask jieba's tagger (HMM) for a second
# opinion; _WINDOW bounds the clause it reads on each side (its cost is ~35 µs per character).
_GREY = 0.35

# Accepted 2-character candidates below threshold + _SURE ask the tagger whether a third
# character belongs to the name.
_SURE = 0.3

# Joiners of a list of people: A、B, A和B, A与B, A及B.
_JOIN = frozenset("、和与及")

_HAN_ONLY = re.compile("[\u4e00-\u9fff]+")

# Single characters that often stand right before a person (这笔钱是|X, 大户室的|X, 交给|X, 据|X).
_BEFORE_PERSON = frozenset("的是给请据由跟和与向对让叫被发")

# A bare surname and a title, Hong Kong style (陳生, 黃太, 李sir) or plain (王先生, 张小姐): the
# surname is all there is of the name, so the span is surname and title.
_SURNAME_TITLE = re.compile(r"先生|女士|小姐|太太|生|太|[Ss][Ii][Rr](?![A-Za-z])")

# What may follow a bare 生/太 (陈生话…, 黄太今日…): not Han, a post cue, or a colloquial verb,
# particle or pronoun (simplified, as the text is read).
_AFTER_SHORT_TITLE = frozenset("话讲个来去打约系你您好啊呀哦呢啦咗嘅仲又要想都同叫让就今明昨问")

# A list of short Han tokens joined by 、 between punctuation (or text's ends): 高远、方圆、王芳等.
_LIST_RUN = re.compile(r"(?<![\u4e00-\u9fff])[\u4e00-\u9fff]{2,12}(?:、[\u4e00-\u9fff]{2,5})+"
                       r"(?![\u4e00-\u9fff])")

# A long digit run (mobile, ID, account number) ends a name token like punctuation does.
_DIGIT_RUN = re.compile(r"[0-9０-９]{6,}")

_DIGIT_RUN_END = re.compile(r"[0-9０-９]{6,}[Xx]?$")

# 张 (also 支, 双) after a numeral or demonstrative is a measure word: 一张卡, 两张单, 落咗张单.
_MEASURE_SURNAMES = frozenset("张支双")

# 之 and a kinship word after a name (容丽珊之配偶, 王家明之母): never part of the name.
_KIN_RX = re.compile("之(?:配偶|母|父|妻|夫|子|女|兄|弟|姐|妹|孙)")

# Title and cue words that start with a surname character (董事, 董事长, 顾问, 通知, 法官).
_CUE_WORD_RX = re.compile(_alt(tuple(w for w in lx.TITLES + lx.PRE_CUES
                                     if len(w) > 1 and w[0] in lx.SURNAMES | lx.WEAK_SURNAMES)))

# A cue word of two or more characters after a name (身份证, 表示): the name ends before it.
_POST_WORD_RX = re.compile(_alt(tuple(w for w in lx.POST_CUES + lx.TITLES if len(w) > 1)))

_NUMERAL_BEFORE = frozenset("一二两三四五六七八九十几每这那哪整半咗各嗰𠮶")  # (嗰: Cantonese 那; t2s gives 𠮶)

# Amounts in capital numerals (人民币壹仟伍佰陆拾万元整): 伍 and 陆 are surnames and numerals,
# 万 and 元 surnames and units.
_CAPITAL = frozenset("零壹贰叁肆伍陆柒捌玖拾佰仟万亿元圆整角")

_CAPITAL_SURNAMES = frozenset("伍陆")

_UNIT_SURNAMES = frozenset("万元")

# A phone or ID number (spaced or hyphenated) right before: 133 0065 5767万丽华.
_PHONE_END = re.compile(r"[0-9０-９](?:[ \-]?[0-9０-９]){6,}[Xx]?$")

_NUMERALS = frozenset("零壹贰叁肆伍陆柒捌玖拾佰仟〇一二两三四五六七八九十百千0123456789０１２３４５６７８９")



def _numeral(text: str, p: int) -> bool:
    """The surname character at `p` is part of an amount: 伍/陆 next to a capital numeral or
    unit, 万/元 right after a numeral (spaces between are skipped: OCR'd forms)."""
    c = text[p]
    if c not in _CAPITAL_SURNAMES and c not in _UNIT_SURNAMES:
        return False
    b = p - 1
    while b >= 0 and text[b].isspace():
        b -= 1
    prev = text[b] if b >= 0 else ""
    if c in _UNIT_SURNAMES:  # (not after a phone number or a table's row number: 1	万勇)
        return prev != "" and (prev in _CAPITAL or (
            b == p - 1 and prev in _NUMERALS and not _PHONE_END.search(text, max(0, p - 24), p)))
    a = p + 1
    while a < len(text) and text[a].isspace():
        a += 1
    return (prev != "" and prev in _CAPITAL) or (a < len(text) and text[a] in _CAPITAL)



def _roles(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _ROLE_RX.finditer(text)]



_DOMAIN_RX = re.compile(_alt(tuple(lx.DOMAIN_WORDS)))

_FAMILIAR_WORDS = frozenset(("小白", "老白", "老师", "小米", "小康", "小费", "小麦", "老毛", "小马"))

# (any word + 人 before a colon is a role on a form: 资金调拨人：X, 指令下达人：X)
_FORM_FIELD = re.compile("(?:" + _alt(tuple(w for w in lx.ROLE_WORDS + ("姓名", "户名", "名字")
                                             if len(w) > 1))
                         + r"|[\u4e00-\u9fff]{2,4}人)\s*[:：]\s*$")

_LEAD_RX = re.compile("(?:" + _alt(tuple(w for w in lx.PRE_CUES + lx.ROLE_WORDS if len(w) > 1))
                      + ")(?:为|是)?")

_TAIL_RX = re.compile("(?:" + _alt(tuple(lx.TITLES) + tuple(w for w in lx.POST_CUES if len(w) > 1)
                                   + tuple("说称在于的已将和与及等也都曾想对因到")) + ")$")

_PROPER = ("nr", "ns", "nz")
