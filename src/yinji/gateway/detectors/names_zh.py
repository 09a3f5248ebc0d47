"""Chinese person names: surname candidates, judged by jieba's lexicon, nearby cue words and a
character-level CRF.

Why this design: a name is an open class (given names are free), so we never list given names.
A surname (the whole 百家姓, the ~300 commonest and rarer ones, single and compound) proposes a
2-3 (3-4 with a compound surname) character candidate; jieba's offline dictionary tells us when
the candidate is really an ordinary word (金融, 高兴, 东方证券) or when its last character starts
the next word (李明|认为). Role words (申请人, 客户经理, 受益人, 审核人 …) introduce a name and are
never one: no candidate starts inside them and none runs into them. Labels (客户, 联系人：,
申请人为), titles (先生, 经理), a whole token (in 「」“” quotes, between spaces or punctuation,
inside English text) and reporting verbs add evidence. Surnames that are also ordinary words
(于, 水, 经, 第五) need such evidence. Candidates the rules leave undecided get a second opinion
from jieba's part-of-speech tagger (its HMM tags unseen given names `nr`; only outside jieba's
dictionary, not ending like a place, not running into an organisation word), and a name's
company counts: a repeated mention or a list neighbour (、和与及) of a confident name.

Round 3 (issue #16): a linear-chain CRF trained by the project on its own generated text
(name_model; the evaluation sets are not used) adds names the rules miss when it is sure or a
cue is next to them, widens a name the rules cut one short, and drops a doubtful rule name in
which it sees no name; jieba's dictionary still overrides it without a cue (_word_like).
Traditional characters are read through OpenCC t2s (陳大文), and dotted transliterated names
(买买提·艾力) are a span of their own. Downloads nothing; the CRF adds about 5 ms CPU per
2,000 characters (it reads only lines with a surname character) to the engine's ~7 ms.

Round 4 (issue #16's last gap): a bare surname and a title is the whole reference and is
replaced title included (陳生, 黃太, 李sir, 王先生; 老王, 小李), a long digit run (mobile, ID
number) ends a name like punctuation, 张 after a numeral is a measure word (两张单), items of a
、 list that holds a found name are names (高远、方圆、王芳), a form field's whole value is the
name (审批人：白玉兰), a name may start with a surname + character word that jieba tags a proper
name (高明|远, 雷鸣|辉) when a cue follows it, a very sure CRF span may start with a word-like
surname after 的/是/给… (发|班静) or an ordinary word (上午|文华伟), and no name starts inside
a finance word (易方|达, 强平). The CRF was retrained on a larger corpus (digits, lists, chat, jieba words starting with a surname
as hard negatives, names starting with such a word) with digit-run features; dev numbers in
docs/gateway.md ("Round 4").

Round 5 (issue #16): name forms without a listed surname first are recognised by shape
(names_forms): dotted transliterations as runs of transliteration characters (the run stops at
the words around it: 授权|古丽娜尔·吐尔洪|代为), Tibetan/Mongolian names as runs of their name
syllables (扎西次仁, 斯琴高娃), Hong Kong married names (陳李美玲) widened to four characters.
Cantonese and formal cues (我係X, X嘅, X話, X之母, X系夫妻), more role words (持有人, 居间人,
签署人), a common surname + an ordinary word as given name between a cue and a verb or title
(由|李前进|变更), every mention of a sure name, and 向 as a given-name character. Fewer false
positives: a weak surname after a role word before an ordinary word (持卡人|应妥善), title words
(董事|总经理), two-character words jieba knows however rare (路演, 查收), whole items of a 、
list of places, companies or products (常州、金华、马鞍山), an address/date/product field's
value, a stock name before its code, a company's legal name, 於 as the preposition.

Round 6 (issue #16; classes of errors read on --fresh6 seeds 0-2, no name or template of a dev
set in a list): OCR'd text (spaces inside ordinary words: 身份 证, 申 请表) is read without the
spaces between Han characters and reported at the original offsets (王　志 明), as is a spaced
name that is a label's whole value (姓名：武  强); 伍/陆/万/元 in an amount are numerals and
units (壹仟伍佰元整); the commonest Japanese surnames are two-character surnames (佐藤美咲; those
that are Chinese words or places need a cue); a noun or adjective that is also a name (高山, 安宁)
in the slot a label opens (调拨人：高山；, any word + 人 before a colon is a role) or as a speaker
(江河：收到); a three-character name jieba lists as a person (杨建华) is no ordinary word; fewer
false positives: a word + 人 is an agent noun (陈述人, 管理人), Hong Kong places (何文田, 沙田),
fund-product words (X稳健收益3号), what is said of a listed company right after the candidate
(X今日涨停, X发布公告, 审议X收购事项).

Leakage: a name the detector misses reaches the upstream as it is (all of it, or the last
character when a 3-character name is cut); a role word or label next to a name is sent.
Before round 4, measured once on --fresh4 (gateway_eval3, written independently, 3 draws x
3,000 snippets): whole-name recall 0.956, overlap recall 0.969, precision 0.959; round 4's dev
numbers and other sets in docs/gateway.md ("Evaluation"). Still missed: word-like surnames
(于, 文, 平, 时, 和) inside a sentence without a cue, names whose surname and first given
character make an ordinary word jieba does not tag a name (程序|晞, 万里|伟), surnames outside
the lists. A bare surname and title (陈生) is replaced title included.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache

from yinji.gateway.detectors import lexicon as lx
from yinji.gateway.detectors import name_model, names_forms
from yinji.gateway.detectors.base import PERSON, Detection

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
# An English field label or cue before a value ("name: 张伟", "applicant 王芳"): JSON tool
# arguments and results are scanned field by field with the field name in front (gateway/scan.py).
_FIELD = re.compile(r"(?i)\b(?:name|client|customer|holder|contact(?: person)?|payee|payer|"
                    r"applicant|beneficiary|borrower|guarantor|signed by|ask|dear|cc|attn|"
                    r"spouse|director|manager|rm)s?\s*[:：=]?\s*$")
# Words with a non-name tag above this count are "ordinary words" (jieba's scale); words that
# jieba tags as person names but that are frequent (齐全, 石家庄, 熊猫 …) count as ordinary.
_COMMON = 50
# Candidates scoring in [threshold - _GREY, threshold) ask jieba's tagger (HMM) for a second
# opinion; _WINDOW bounds the clause it reads on each side (its cost is ~35 µs per character).
_GREY = 0.35
# Accepted 2-character candidates below threshold + _SURE ask the tagger whether a third
# character belongs to the name.
_SURE = 0.3
# Tags of a given name that jieba cut off its surname (宋/nr 振华/nz, 诸葛/nr 雪莹/nr).
_GIVEN_TAGS = frozenset(("nr", "nrfg", "nz", "n", "ng"))
# Joiners of a list of people: A、B, A和B, A与B, A及B.
_JOIN = frozenset("、和与及")
_WINDOW = 10
# The CRF's span probability that adds a name on its own, or with a label/title next to it.
_MODEL_SURE = 0.8
_MODEL_SURE_SHORT = 0.95
# ... and that lets a word-like surname (福, 海, 班) start a name after punctuation or a
# character that often precedes a person (_BEFORE_PERSON: 发|班静, 是|计容沅).
_MODEL_TOKEN = 0.9
# Below this probability of a name on every character, a doubtful rule name is dropped.
_MODEL_VETO = 0.02
_MODEL_CUE = 0.5
_HAN_ONLY = re.compile("[\u4e00-\u9fff]+")
# Single characters that often stand right before a person (这笔钱是|X, 大户室的|X, 交给|X, 据|X).
_BEFORE_PERSON = frozenset("的是给请据由跟和与向对让叫被发")
# ... or right after an ordinary word (今天|成伟问…, 上午|文华伟到…).
_MODEL_AFTER_WORD = 0.95
# ... and that lets a surname and first given character that make a name-like word (jieba tags
# 高明, 江海 nr/ns/nz; 肖像, 方案 are n) start a 3-character name with a cue after it.
_MODEL_WORD_START = 0.9
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
_NUMERAL_BEFORE = frozenset("一二两三四五六七八九十几每这那哪整半咗各")
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


def warm_up() -> None:
    """Load jieba's dictionary now (about 1-2 s) instead of on the first request."""
    _lexicon()
    _tagger()
    name_model.warm_up()


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


def _roles(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _ROLE_RX.finditer(text)]


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


def _lead(text: str, s: int, d: int) -> int | None:
    """Where a dotted name starts after a label or ordinary word that ends inside the run of
    transliteration characters before its dot at `d` (嘉宾|威廉·X), or None."""
    common = _lexicon()[0]
    lead = None
    for k in range(s, min(d, s + 8)):  # the longest label ending the first part's prefix
        if (x := _LEAD_RX.match(text, k, d)) is not None and (lead is None or x.end() > lead):
            lead = x.end() if x.start() == s or text[s:x.start()] in common else lead
    start = lead if lead is not None else s
    for k in (3, 2):
        if d - start - k >= 2 and text[start:start + k] in common \
                and _tagger().word_tag_tab.get(text[start:start + k], "n")[:2] not in _PROPER:
            return start + k
    return lead


_PROPER = ("nr", "ns", "nz")


def _cue_left(text: str, s: int) -> bool:
    """A label, punctuation, space, Latin text or a long digit run right before `s`."""
    return (s == 0 or text[s - 1] in _BOUNDARY
            or _LABEL_RX.search(text, max(0, s - 12), s) is not None
            or _FIELD.search(text, max(0, s - 24), s) is not None
            or _DIGIT_RUN_END.search(text, max(0, s - 24), s) is not None)


def _cue_right(text: str, e: int) -> bool:
    """Punctuation, a title, a verb or particle that follows a person, or a digit run at `e`."""
    return (e == len(text) or text[e] in _BOUNDARY or _title(text, e, _lexicon()[0])
            or _POST_RX.match(text, e) is not None or _DIGIT_RUN.match(text, e) is not None)


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


def _labelled(text: str, s: int, e: int) -> bool:
    """A label right before `s` or a title right after `e`."""
    return (_LABEL_RX.search(text, max(0, s - 12), s) is not None
            or _title(text, e, _lexicon()[0]))


def _overriding(found: list[Detection], spans: list[Detection]) -> list[Detection]:
    """`spans` replace the found names they overlap unless one of those contains them."""
    keep = [d for d in found if not any(d.start < e.end and e.start < d.end
                                        and not (d.start <= e.start and e.end <= d.end)
                                        for e in spans)]
    add = [e for e in spans if not any(d.start <= e.start and e.end <= d.end for d in keep)]
    return sorted(keep + add, key=lambda d: d.start)


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


# A label whose value is a person (姓名：, 户名, 受托人, Name:), then the value.
_VALUE_LABEL = re.compile("(?:" + _alt(tuple(w for w in lx.ROLE_WORDS + lx.PRE_CUES
                                             + ("姓名", "户名", "名字") if len(w) > 1))
                          + r"|(?i:name))[ \t\u3000]*[:：]?[ \t\u3000]*")
_TOKEN = re.compile(r"[\u4e00-\u9fff]{1,3}")
_SHORT_GAP = re.compile(r"[ \u3000]{1,2}")


def _value_gaps(text: str) -> list[tuple[int, int]]:
    """Gaps inside a spaced name that is a label's whole value (姓名：武  强, 户名 黎  明,
    受托人达 瓦): the value's Han pieces, one or two spaces apart, hold 2-4 characters, start
    with a surname and end before a wider gap, a line end, punctuation, Latin or digits, or the
    next label (委托人陈　琳　受托人…)."""
    out = []
    for m in _VALUE_LABEL.finditer(text):
        pos, han, gaps = m.end(), 0, []
        first = _TOKEN.match(text, pos)
        if first is None or not (first.group()[0] in lx.SURNAMES
                                 or first.group()[:2] in lx.COMPOUND_SURNAMES):
            continue
        pos, han = first.end(), len(first.group())
        while han < 4 and (g := _SHORT_GAP.match(text, pos)) is not None:
            t = _TOKEN.match(text, g.end())
            if t is None or han + len(t.group()) > 4 or _HAN.match(text, t.end()) \
                    or _VALUE_LABEL.match(text, t.start()) or text[t.end():t.end() + 1] in ":：" \
                    or (len(first.group()) >= 2 and len(t.group()) >= 2
                        and first.group() not in lx.COMPOUND_SURNAMES):
                break  # (马力 性别:, 陈毅 金额: a whole name, then the next field)
            gaps.append(g.span())
            pos, han = t.end(), han + len(t.group())
        if gaps and 2 <= han <= 4 and not _HAN.match(text, pos):
            out += gaps
    return out


class ChineseNameDetector:
    name = "person_zh"

    def __init__(self, threshold: float = 0.5, grey: float = _GREY, model: bool = True) -> None:
        self.threshold = threshold
        self.grey = grey
        self.model = model

    def detect(self, text: str) -> list[Detection]:
        if not _HAN.search(text):
            return []
        text = _simplified(text)  # same length: offsets hold for the original text
        spaced = _collapsed(text, _lexicon()[0])
        if spaced is None:
            return self._detect(text)
        flat, where = spaced  # OCR'd text: read without the spaces, report original offsets
        return [Detection(where[d.start], where[d.end - 1] + 1, d.category, d.confidence,
                          d.detector) for d in self._detect(flat)]

    def _detect(self, text: str) -> list[Detection]:
        found = self._names(text)
        common = _lexicon()[0]
        found = names_forms.married(text, found, _cue_left, _cue_right, common)
        minority = names_forms.minority(text, common, _tagger().FREQ, _cue_left, _cue_right)
        if minority:
            found = _overriding(found, minority)
        dotted = names_forms.dotted(text, common, _tagger().word_tag_tab, _lead, _labelled,
                                    _TAIL_RX)
        if dotted:  # a dotted name wins over the pieces of it the rules found
            found = sorted([d for d in found if not any(d.start < e.end and e.start < d.end
                                                        for e in dotted)] + dotted,
                           key=lambda d: d.start)
        return found

    def _names(self, text: str) -> list[Detection]:
        common, names, verbs = _lexicon()
        roles = _roles(text)
        domain = [m.span() for m in _DOMAIN_RX.finditer(text)]  # no name starts inside 易方达
        out: list[Detection] = []
        undecided: list[tuple[int, int, int]] = []  # (start, surname length, end) below threshold
        tagged: dict[tuple[int, int], list] = {}
        taken_until = -1
        for m in _CAND.finditer(text):
            p = m.start()
            if p < taken_until or any(s <= p < e for s, e in roles) \
                    or any(s < p < e for s, e in domain):
                continue
            limit = next((s for s, _ in roles if s > p), len(text))
            sl = len(m.group(1))
            if sl == 1 and m.group(1) in _MEASURE_SURNAMES and p > 0 \
                    and text[p - 1] in _NUMERAL_BEFORE:
                continue
            if sl == 1 and _numeral(text, p):
                continue  # 壹仟伍佰元整, 拾捌万陆仟: a numeral or currency unit
            if _CUE_WORD_RX.match(text, p):
                continue  # 董事|总经理, 顾问: a title or cue word, not a surname
            titled = (self._surname_title(text, p, m.group(1), limit, common)
                      or self._familiar(text, p, m.group(1), limit, common))
            if titled is not None:
                out.append(titled)
                taken_until = titled.end
                continue
            judged = self._judge(text, p, m.group(1), limit, common, names, verbs)
            if judged is None or judged[0] < self.threshold - self.grey:
                continue
            score, gl = judged
            if score < self.threshold:
                n = _tagged_name(text, p, sl, tagged)
                if n is None or p + n > limit:
                    undecided.append((p, sl, p + sl + gl))
                    continue
                score, gl = self.threshold, n - sl
            elif gl == 1 and p + sl + 2 <= limit and _HAN.match(text, p + sl + 1) \
                    and score < self.threshold + _SURE:
                # 王菡|航让我: the rules stopped one short; the tagger may read the whole name.
                if _tagged_name(text, p, sl, tagged) == sl + 2:
                    gl = 2
            det = Detection(p, p + sl + gl, PERSON, round(min(0.99, score), 3), self.name)
            out.append(det)
            taken_until = det.end
        found = self._by_company(text, out, undecided)
        found = self._with_model(text, found, roles) if self.model else found
        found = self._repeated(text, found, roles)
        return _not_in_thing_lists(text, self._in_lists(text, found, roles, common), common)

    def _repeated(self, text: str, found: list[Detection], roles: list[tuple[int, int]]
                  ) -> list[Detection]:
        """Every mention of a sure name of three or more characters is the name (X身份证.jpg、
        X银行卡.pdf: the second X runs into 银行), unless it touches a found name or role word."""
        sure = {text[d.start:d.end] for d in found
                if d.confidence >= self.threshold + _SURE and d.end - d.start >= 3}
        out = list(found)
        for v in sure:
            for m in re.finditer(re.escape(v), text):
                s, e = m.span()
                if not any(d.start < e and s < d.end for d in out) \
                        and not any(rs < e and s < re_ for rs, re_ in roles):
                    out.append(Detection(s, e, PERSON, round(self.threshold + 0.01, 3), self.name))
        return sorted(out, key=lambda d: d.start)

    def _in_lists(self, text: str, found: list[Detection], roles: list[tuple[int, int]],
                  common: frozenset[str]) -> list[Detection]:
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
                out.append(Detection(s, e, PERSON, round(self.threshold, 3), self.name))
        return sorted(out, key=lambda d: d.start)

    def _with_model(self, text: str, found: list[Detection],
                    roles: list[tuple[int, int]]) -> list[Detection]:
        """Add the CRF's opinion (name_model): a name the rules missed, one they cut short, or
        a doubtful rule name (confidence below threshold + _SURE) where the model sees none.

        A model span counts only if it starts with a surname, is 2-4 Han characters, touches no
        role word (申请人 is never a name) and either is confident (>= _MODEL_SURE) or has a
        label before it or a title after it and is likely (>= _MODEL_CUE). A rule name the model
        reads one character longer (徐烁|娅) is extended when the model is likely."""
        common, _, verbs = _lexicon()
        doubtful = tuple((d.start, d.end) for d in found
                         if d.confidence < self.threshold + _SURE)
        spans, most = name_model.read(text, common, doubtful)
        # A doubtful rule name where the model sees no name at all is dropped (every rule name
        # starts with a surname, so the model read its line).
        drop = {span for span, p in zip(doubtful, most, strict=True) if p < _MODEL_VETO}
        out = [d for d in found if (d.start, d.end) not in drop]
        for s, e, prob in spans:
            if (kin := _KIN_RX.search(text, s, e)) is not None:
                e = kin.start()  # 文思颖|之母
            cand = text[s:e]
            sl = 2 if cand[:2] in lx.COMPOUND_SURNAMES else 1
            if not (sl + 1 <= len(cand) <= sl + 2 and _HAN_ONLY.fullmatch(cand)
                    and (sl == 2 or cand[0] in lx.SURNAMES)) \
                    or any(c in lx.NON_NAME_CHARS for c in cand[sl:]):
                continue  # (郑骁的: a function word ends no name)
            if any(rs < e and s < re_ for rs, re_ in roles) or _CUE_WORD_RX.match(text, s) \
                    or (sl == 1 and _numeral(text, s)) \
                    or _THING_FIELD.search(text, max(0, s - 8), s) is not None \
                    or _STOCK_CODE.match(text, e) or _LEGAL_ORG.match(text, e) \
                    or _ORG_RX.match(text, e) \
                    or any(_COMPANY_AFTER.match(text, k) for k in range(s + sl, e + 2)) \
                    or _SHARES_AFTER.match(text, e) \
                    or (len(cand) == sl + 2 and cand[-1] == "人" and cand[:2] in common) \
                    or (len(cand) == 2 and _plain_word(cand)):
                continue  # (常务|副总经理: a frequent ordinary word before a title is none)
            over = [d for d in out if d.start < e and s < d.end]
            if over:
                # A rule name the model reads wider: cut one short (徐烁|娅) or missing the
                # first character of a compound or rare surname (夹|谷颜锋).
                d = over[0]
                titled = _SURNAME_TITLE.fullmatch(text, d.start + 1, d.end) is not None
                if len(over) == 1 and s <= d.start and d.end <= e and (s, e) != (d.start, d.end) \
                        and not titled \
                        and prob >= _MODEL_CUE and (e - d.end) + (d.start - s) == 1 \
                        and not self._word_like(text, s, e, sl, common, loose=True):
                    out[out.index(d)] = Detection(s, e, PERSON, d.confidence, self.name)
                elif len(over) == 1 and d.start < s and d.end <= e and prob >= _MODEL_SURE \
                        and d.confidence < self.threshold + _SURE \
                        and not self._word_like(text, s, e, sl, common, loose=True):
                    # A doubtful rule name that took the model's surname as its given name
                    # (和郗|振玥, 和陶鹏: 和 is a word-like surname, here the conjunction).
                    out[out.index(d)] = Detection(s, e, PERSON, round(self.threshold + 0.01, 3),
                                                  self.name)
                continue
            cue = (_LABEL_RX.search(text[max(0, s - 12):s]) is not None
                   or _title(text, e, common))
            if cand[:sl] in lx.WEAK_SURNAMES and len(cand) - sl == 2 and cand[sl:] in common \
                    and not _title(text, e, common) \
                    and _FORM_FIELD.search(text, max(0, s - 12), s) is None:
                continue  # 申请人|须提交, 持卡人|应妥善: a modal verb before a word, not a name
            if not cue and self._word_like(text, s, e, sl, common, weak_ok=(
                    prob >= _MODEL_TOKEN and (s == 0 or text[s - 1] in _BOUNDARY
                                              or text[s - 1] in _BEFORE_PERSON)) or (
                    prob >= _MODEL_AFTER_WORD and s >= 2 and text[s - 2:s] in common),
                    start_ok=prob >= _MODEL_WORD_START and len(cand) == sl + 2
                    and (_name_like(cand[:sl + 1])
                         or (prob >= _MODEL_TOKEN and not _plain_word(cand[:sl + 1]))) and (
                        _POST_RX.match(text, e) is not None or text[e:e + 2] in verbs)):
                continue
            # One given character without a cue is mostly a word (车贷, 于是): be surer.
            sure = _MODEL_SURE if len(cand) > sl + 1 else _MODEL_SURE_SHORT
            if prob >= sure or (cue and prob >= _MODEL_CUE):
                out.append(Detection(s, e, PERSON, round(self.threshold + 0.01, 3), self.name))
        return sorted(out, key=lambda d: d.start)

    def _surname_title(self, text: str, p: int, surname: str, limit: int,
                       common: frozenset[str]) -> Detection | None:
        """A bare surname and a title (陈生, 黄太, 李sir, 王先生): the surname and the title.

        The surname must be a single one (word-like only before 先生, 女士 … or after a label)
        that does not end the word before it (卫|生 is 卫生, 属于|先生); for 生/太 the two
        characters must not be a word or start one (余生, 生意, 太多) and what follows must end
        the reference (陈生话…, 黄太，)."""
        if len(surname) != 1 or surname not in lx.SURNAMES:
            return None
        t = _SURNAME_TITLE.match(text, p + 1)
        if t is None or t.end() > limit:
            return None
        label = (_LABEL_RX.search(text, max(0, p - 12), p) is not None
                 or _FIELD.search(text, max(0, p - 24), p) is not None)
        if surname in lx.WEAK_SURNAMES and not label and t.end() - t.start() < 2:
            return None  # 于先生 and 区小姐 are people, a word-like surname + 生/太 needs a label
        if not label and p > 0 and (text[p - 1:p + 1] in common
                                    or text[max(0, p - 2):p + 1] in common):
            return None
        e = t.end()
        if e - p == 2 and _HAN.match(text, p + 1):  # 生, 太 (李先生 is in jieba's dictionary)
            nxt = text[e:e + 1]
            if text[p:e] in common or text[p:e + 1] in common \
                    or text[p + 1:e + 1] in common or text[p + 1:e + 2] in common:
                return None
            if nxt and _HAN.match(nxt) and nxt not in _AFTER_SHORT_TITLE \
                    and _POST_RX.match(text, e) is None:
                return None
        return Detection(p, e, PERSON, round(self.threshold + _SURE + 0.05, 3), self.name)

    def _familiar(self, text: str, p: int, surname: str, limit: int,
                  common: frozenset[str]) -> Detection | None:
        """老王, 小李: 老/小 and a common surname, the whole reference (the surname is all there
        is of the name). Not a word (小白, 老江湖), not after a word ending in 老/小 (古老),
        and what follows ends the reference (老王说, 小李，)."""
        if p == 0 or text[p - 1] not in "老小" or surname not in lx.TOP_SURNAMES \
                or surname in lx.WEAK_SURNAMES or p + 1 > limit:
            return None
        # (jieba lists 老张, 小张 and 老王 as words: only a few such words are not people)
        if text[p - 1:p + 1] in _FAMILIAR_WORDS or text[p:p + 2] in common \
                or (p >= 2 and text[p - 2:p] in common) or text[p - 1:p + 2] in common:
            return None
        nxt = text[p + 1:p + 2]
        if nxt and _HAN.match(nxt) and nxt not in _AFTER_SHORT_TITLE \
                and _POST_RX.match(text, p + 1) is None and not _title(text, p + 1, common):
            return None
        return Detection(p - 1, p + 1, PERSON, round(self.threshold + _SURE + 0.05, 3),
                         self.name)

    @staticmethod
    def _word_like(text: str, s: int, e: int, sl: int, common: frozenset[str],
                   loose: bool = False, weak_ok: bool = False, start_ok: bool = False) -> bool:
        """Without a cue, what jieba's dictionary knows overrides the model: the span is an
        ordinary word or starts one (金融机构, 肖像权), its surname ends the word before it (东方|证券),
        its last character starts the next word (李明认|为), an organisation word or place-name
        ending follows, or the surname is itself a common word (于, 经, 和) unless `weak_ok` (the
        model is very sure and the span starts a token: ，福和平，). With `start_ok` (the model is
        sure of a 3-character span) surname and first given character may make a word (高明|远)."""
        cand = text[s:e]
        if loose:  # the rules already found a name here: only the model's edges are in doubt
            return (cand in common or (e < len(text) and text[e - 1:e + 1] in common)
                    or (s > 0 and text[s - 1:s + 1] in common))
        weak = cand[:sl] in lx.WEAK_SURNAMES or cand[:sl] in lx.WEAK_COMPOUND
        return ((cand in common and not _person_word(cand, sl)) or (weak and not weak_ok)
                or (cand[:sl + 1] in common and not start_ok)  # 肖像|权: surname + next a word
                or any(text[s:s + k] in common for k in (e - s + 1, e - s + 2))
                or (s > 0 and (text[s - 1:s + 1] in common or text[max(0, s - 2):s + 1] in common))
                or (e < len(text) and text[e - 1:e + 1] in common
                    and not _POST_WORD_RX.match(text, e))
                or _ORG_RX.match(text, e) is not None or _ORG_RX.match(text, s + sl) is not None
                or cand[-1] in _PLACE_END)

    def _by_company(self, text: str, found: list[Detection],
                    undecided: list[tuple[int, int, int]]) -> list[Detection]:
        """Undecided candidates in the company of a found name become names too.

        A name repeated in the same text (已与X沟通，X同意) and an item of a list whose
        neighbour is a name (A、B、C; A和B; A与B) are names for the same reason the found one is.
        Only confident names lend their company, so one doubtful hit does not spread."""
        if not found or not undecided:
            return found
        sure = [d for d in found if d.confidence >= self.threshold + _SURE]
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
                out.append(Detection(p, end, PERSON, round(self.threshold, 3), self.name))
        return sorted(out, key=lambda d: d.start)

    def _judge(self, text: str, p: int, surname: str, limit: int, common: frozenset[str],
               names: frozenset[str], verbs: frozenset[str]) -> tuple[float, int] | None:
        """The best (score, given-name length) for a candidate at `p`."""
        sl = len(surname)
        pre = text[max(0, p - 12):p]
        # Han characters inside English text ("applicant 于敬 has"): the token is the name.
        before = text[max(0, p - 3):p].rstrip(" (\"'")
        latin = p > 0 and bool(before) and before[-1].isascii() and text[p - 1] in " (\"'"
        weak = (surname in lx.WEAK_SURNAMES or surname in lx.WEAK_COMPOUND) and not latin
        label_m = _LABEL_RX.search(pre)
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
            score = 0.15 if weak else 0.4 if surname in lx.TOP_SURNAMES or sl == 2 else 0.3
            post = _POST_RX.match(text, end) is not None
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
                    or (post and left_edge and not weak and _name_like(cand[:2]))):
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
                score = max(score, self.threshold + _SURE)
            if gl == 1 and sl == 1 and cand in common and (label or field) and not glued \
                    and surname in lx.TOP_SURNAMES and not weak \
                    and (right_edge or title or post or text[end:end + 2] in verbs) \
                    and (best is None or best[0] < self.threshold) and _word_name(cand):
                # 调拨人：高山；, 由交易员|高明|执行: a noun or adjective that is also a name
                # (a common surname + one character) in the slot a label opens for a person,
                # unless the three characters read as a name (经办人|赵家乐|于)
                score = max(score, self.threshold + _SURE)
            if field and right_edge and not any(c in lx.NON_NAME_CHARS for c in cand) \
                    and not _plain_word(cand) and not _ORG_RX.match(text, end):
                # the whole value of a form field is the name even if it is also a word (白玉兰)
                score = max(score, self.threshold + 0.1)
            if best is None or score > best[0] + 1e-9:
                best = (score, gl)
        return best
