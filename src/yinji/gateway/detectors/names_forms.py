"""Chinese person names that do not start with a listed surname + 1-2 characters (names_zh).

Why a module of its own: names_zh proposes candidates from the surname lists; three common
forms escape that scheme and are recognised by their own shape instead, from general knowledge
of names in China and Hong Kong (no list of given names):

- dotted transliterations (约翰·史密斯, 买买提·艾力, 古丽娜尔•米勒): each part is a run of the
  characters Chinese uses to write foreign and minority-language sounds (the Xinhua
  transliteration table's characters: 阿, 尔, 斯, 克, 娜, 提 …); the run stops at the first
  other character, so 授权|古丽娜尔·吐尔洪|代为 is cut at the words around it. Dots: ·•・‧･．
  and ASCII '.' between Han characters.
- Tibetan and Mongolian names without a surname (扎西次仁, 斯琴高娃, 乌兰图雅, 旺堆): a run of
  the common name syllables of those languages (扎西, 卓玛, 次仁, 德吉, 斯琴, 高娃, 乌兰 …). Two
  or more syllables are a name by themselves; a single syllable needs a cue (a label before, a
  title after, or a token of its own).
- Hong Kong married women's names (陳李美玲: the husband's surname, her own surname and her
  given name): two single surnames and two given characters make a four-character name when it
  is a whole token or has a label, title or verb next to it; names_zh found at most three of
  its characters.

Leakage: as names_zh (a name these rules miss reaches the upstream as it is).
"""

from __future__ import annotations

import re

from yinji.gateway.detectors import lexicon as lx
from yinji.gateway.detectors import name_model
from yinji.gateway.detectors.base import PERSON, Detection

# Characters of transliterated names (simplified; names_zh reads traditional text through
# OpenCC first). Function words (的, 了, 是, 在, 和, 与, 为, 由, 给, 向 …) are not in it, so a
# run stops at them.
TRANSLIT = frozenset(
    "阿埃艾爱安昂奥澳巴芭白拜班邦保鲍贝本比彼毕碧别宾波玻伯勃博布查察柴彻楚茨次达戴丹道德得"
    "登迪狄笛蒂丁东杜敦顿多朵俄厄恩尔法凡菲费芬丰夫弗伏福盖甘冈戈哥格葛根古瓜圭哈海罕汉翰豪"
    "赫黑亨洪胡华怀惠霍基吉加佳嘉贾杰捷金津居卡凯坎康考柯科克肯库夸奎昆阔拉腊莱赖兰朗劳勒雷"
    "蕾黎里利丽莉连廉列林琳伦罗洛玛马买麦迈曼芒梅门蒙孟米密缅摩莫墨默姆木穆纳娜乃奈南内尼妮"
    "涅纽努诺欧帕派潘庞佩彭皮珀普奇齐契恰乔切钦琴琼丘屈热仁日荣茹瑞若萨塞赛桑瑟森沙莎山善尚"
    "绍舍圣施什史舒斯丝松苏索塔泰坦汤唐陶特提图吐托瓦万旺威韦维温沃乌伍武西希锡夏香谢辛休修"
    "雅亚扬耶叶伊依因英尤约泽扎詹朱卓兹孜祖佐则合娃江力不都汗吾历逊翰蒂拜克孜哲大如义司玉素甫卜明肉"
    "守让"  # (吾守尔; 让 is French Jean: 让·米勒)
    "烈治鲁朝"  # (安德烈, 乔治, 鲁道夫; Mongolian 朝鲁)
    "高"  # (Hong Kong renderings: 米高 Michael, 高比 Kobe)
    "露卫黛薇娅琪莲芙菈璐茜蓓"  # (露西, 大卫, 黛安娜, 薇薇安, 娅, 琪, 莲娜, 芙兰, 璐, 茜, 蓓)
    "再"  # (Uyghur 再努尔 Zaynur, 再依纳甫; round 10)
)
# A Chinese surname as the last part after a Western given name (乔治·李, 丹尼尔•陈: George
# Lee, Daniel Chan, as Hong Kong and overseas Chinese write their names).
_SURNAME_LAST = lx.TOP_SURNAMES - lx.WEAK_SURNAMES
# One-character first parts of a dotted name (让·米勒, the standard rendering of Jean).
_ONE_CHAR_FIRST = frozenset("让")
_DOTS = "·•・‧･．"
# A dot between two transliteration characters (ASCII '.' too: 约翰.史密斯).
_DOT_RX = re.compile("(?<=[\u4e00-\u9fff])[" + re.escape(_DOTS) + r".](?=[\u4e00-\u9fff])")
_PART_MAX = 8
# Characters that end a name when the run reaches them at its end (米勒|约客户, 哈桑|都同意).
_TAIL_CHARS = frozenset("约都不日")

# Common syllables of Tibetan and Mongolian given names (a name is one to four of them).
MINORITY_SYLLABLES = (
    # Tibetan
    "扎西", "卓玛", "次仁", "多吉", "旺堆", "德吉", "央宗", "央金", "拉姆", "格桑", "平措", "尼玛",
    "达瓦", "巴桑", "索朗", "顿珠", "白玛", "强巴", "洛桑", "措姆", "卓嘎", "拉巴", "益西", "曲珍",
    "次旦", "边巴", "普布", "米玛", "仁增", "贡布", "阿旺", "罗布", "群培", "桑珠", "旦增", "丹增",
    "嘎玛", "琼达", "德庆", "嘉措", "加措", "曲吉", "拉珍", "次珍", "仓决", "卓拉", "旺姆", "旺杰",
    "贡嘎", "土登", "欧珠", "央拉", "次央", "多布杰", "朗杰", "尼珍", "玉珍", "拉毛", "才让",
    "卓玛吉", "才旦", "仁青", "桑吉", "斯朗", "巴珠", "旺久", "德央", "拉宗", "次吉", "格列",
    # Mongolian
    "巴特尔", "其其格", "斯琴", "高娃", "乌兰", "图雅", "苏日娜", "朝鲁", "阿拉坦", "额尔敦",
    "宝音", "那仁", "萨仁", "格日勒", "孟和", "乌力吉", "巴图", "哈斯", "图门", "敖登", "乌云",
    "娜仁", "其木格", "阿古拉", "巴雅尔", "毕力格", "布和", "满都拉", "那顺", "赛音", "特古斯",
    "乌日娜", "额尔德尼", "呼和", "吉日嘎拉", "达来", "苏和", "朝格", "图", "吉雅", "阿木尔",
    "巴根", "包头", "宝力道", "道尔吉", "额日和", "格根", "哈日", "孟根", "那木", "萨日娜",
    "塔娜", "托娅", "乌恩", "希日", "牧仁", "阿荣", "达赖", "诺敏", "赛罕", "苏布道", "查干",
)
# One-character endings of Mongolian names after a syllable (阿拉坦|仓, 朝鲁|门, 那仁|花).
_ENDINGS = "仓门花娃格图夫"
_SYL = "|".join(sorted((s for s in MINORITY_SYLLABLES if len(s) > 1 and s != "包头"),
                       key=len, reverse=True))
# (the lookahead on the syllables' first characters lets the scan skip other positions fast)
_FIRST = "".join(sorted({s[0] for s in MINORITY_SYLLABLES}))
_MINORITY_RX = re.compile("(?=[" + _FIRST + "])((?:" + _SYL + "){1,4})([" + _ENDINGS + "]?)")
_ONE_SYL = re.compile("(?:" + _SYL + ")")

# A found name this sure (names_zh's scale) is widened by a married surname before it with a
# cue on one side only (委托|鄭王月娥|代为, 交易员|陳陳淑儀|於).
_SURE_NAME = 0.8
# ... unless that character is a measure word after a numeral (一张|王美玲的卡).
_MEASURE_BEFORE = frozenset("一二两三四五六七八九十几每这那哪整半咗各")
# Surnames common enough to stand first and second in a married name (陳李美玲) ...
_MARRIED_COMMON = (lx.TOP_SURNAMES - lx.WEAK_SURNAMES) | frozenset("区冼麦岑邝莫叶卢邓蔡彭袁曾谭潘关甘"
                                                               "容伍钟侯")
# ... and any other listed surname that is no ordinary word (a Hong Kong woman keeps her own
# surname, whatever it is: 龐, 詹, 植), if the last two characters are no ordinary word
# (贝冉|沟通, 仲燕|增持).
_MARRIED_SURNAMES = _MARRIED_COMMON | (lx.SURNAMES - lx.WEAK_SURNAMES)
# A one-character cue before a married name (由|關劉美玲|接手, 对|江郭雨轩|采取).
_PRE_ONE = frozenset(w for w in lx.PRE_CUES if len(w) == 1)


def dotted(text: str, common: frozenset[str], tags: dict[str, str],  # noqa: ANN001
           cue_before, labelled, tail_rx) -> list[Detection]:
    """Dotted transliterated names: runs of transliteration characters joined by dots.

    `cue_before(text, s, d)` is the position after a label or word that ends inside the run
    (嘉宾|威廉), or None; `labelled(text, s, e)` says a label is before or a title after the
    span; `tail_rx` finds a title or verb at the run's end (先生, 表示)."""
    out: list[Detection] = []
    dots = [m.start() for m in _DOT_RX.finditer(text)]
    used = -1
    for d in dots:
        if d < used:
            continue
        s = d
        while s > 0 and d - s < _PART_MAX and text[s - 1] in TRANSLIT:
            s -= 1
        e, last = d, d
        while True:  # the parts after this dot (and after further dots: A·B·C)
            k = last + 1
            while k < len(text) and k - last - 1 < _PART_MAX and text[k] in TRANSLIT:
                k += 1
            if k == last + 1 and last == d and d - s >= 2 and text[k:k + 1] in _SURNAME_LAST \
                    and (k + 1 == len(text) or not "\u4e00" <= text[k + 1] <= "\u9fff"
                         or text[k + 1] in lx.NON_NAME_CHARS or text[k + 1] in "反用的"):
                k += 1  # 乔治·李, 丹尼尔•陈的: a Chinese surname ends the name
            if k == last + 1:
                break
            e = k
            if k < len(text) and k in dots:
                last = k
                continue
            break
        if (d - s < 2 and not (d - s == 1 and text[s] in _ONE_CHAR_FIRST)) or e <= d + 1:
            continue
        lead = cue_before(text, s, d)
        s = lead if lead is not None else s
        # (a tail character before punctuation or a function word is the name's: 阿布都的话)
        ends = e == len(text) or not "\u4e00" <= text[e] <= "\u9fff" \
            or text[e] in lx.NON_NAME_CHARS
        while e - 1 > d + 1 and text[e - 1] in _TAIL_CHARS and not ends:
            e -= 1
        while (t := tail_rx.search(text, s, e)) is not None and t.start() > d + 1 \
                and not (ends and t.start() == e - 1 and text[e - 1] in _TAIL_CHARS):
            e = t.start()
        parts = re.split("[" + re.escape(_DOTS) + r".]", text[s:e])
        if len(parts) < 2 or (len(parts[0]) < 2 and parts[0] not in _ONE_CHAR_FIRST) \
                or not parts[-1]:
            continue
        # Places and words as parts (中国·上海, 复星·国际) are no name; a part that is a place
        # or proper noun beside a name (亚历山大·米勒) is.
        words = [p in common and not tags.get(p, "").startswith("nr") and p not in _ONE_CHAR_FIRST
                 for p in parts]
        # (a part of three or more transliteration characters is a name even if jieba lists
        # it as a noun: 买买提)
        # (a one-character part beside a part of three or more is a name's: 穆罕默德·汗)
        long = any(len(p) >= 3 for p in parts)
        plain = [w and tags.get(p, "n")[:2] not in ("ns", "nz") and len(p) < 3
                 and not (len(p) == 1 and long) for w, p in zip(words, parts, strict=True)]
        # (every part a place or proper noun, 亚历山大·穆勒, is a name only with a cue: not
        # 巴西·圣保罗; but parts that are names or other proper nouns and no place, 汉斯·穆勒,
        # are a name)
        proper = all(tags.get(p, "n")[:2] in ("nr", "ns", "nz") for p in parts)
        named = all(tags.get(p, "n")[:2] in ("nr", "nz") for p in parts)
        # (a word as a part beside a transliterated person's name, 大卫·史密斯: 大卫 is a noun
        # in jieba, 史密斯 a person)
        person = any(len(p) >= 2 and tags.get(p, "")[:2] == "nr" and all(c in TRANSLIT for c in p)
                     for p in parts) and not any(tags.get(p, "")[:2] == "ns" for p in parts)
        # (a place jieba knows well as the first part, 巴西·圣保罗, 日本·东京, is a place phrase
        # even when a later part is tagged a person: 圣保罗 is nr)
        place_first = len(parts[0]) <= 3 and tags.get(parts[0], "")[:2] == "ns" \
            and parts[0] in common
        if (all(words) and not named and not (proper and labelled(text, s, e))) \
                or ((any(plain) and not person) or place_first) and lead is None \
                and not labelled(text, s, e):
            continue  # (an ordinary word as a part is fine with a label or title: 买买提)
        out.append(Detection(s, e, PERSON, 0.9, "person_zh"))
        used = e
    return out


def minority(text: str, common: frozenset[str], freq: dict[str, int],  # noqa: ANN001
             cue_left, cue_right) -> list[Detection]:
    """Tibetan and Mongolian names without a surname (扎西次仁, 斯琴高娃, 阿拉坦仓, 旺堆).

    `freq` is jieba's dictionary: a word that runs past the span (乌兰察布) is no name.
    `cue_left(text, s)` / `cue_right(text, e)` say a label or token edge before, or a title,
    verb or token edge after the span marks it as a person."""
    out = []
    for m in _MINORITY_RX.finditer(text):
        s, e = m.span()
        units = len(_ONE_SYL.findall(m.group(1)))
        if m.group(2) and not cue_right(text, e):
            e -= 1  # 朝鲁|门 only when the name ends there (朝鲁门先生), not 乌兰|图书
        elif m.group(2):
            units += 1
        span = text[s:e]
        if any(e + k <= len(text) and text[s:e + k] in freq for k in (1, 2, 3)) \
                or span in common or (e < len(text) and text[e - 1:e + 1] in common) \
                or (s > 0 and text[s - 1:s + 1] in common):
            continue  # 乌兰察布, 图门江: a place or word
        if units < 2 and (len(span) < 3 or span in common) \
                and not (cue_left(text, s) or cue_right(text, e)):
            continue
        out.append(Detection(s, e, PERSON, 0.9, "person_zh"))
    return out


def married(text: str, found: list[Detection], cue_left, cue_right,  # noqa: ANN001
            common: frozenset[str] = frozenset()) -> list[Detection]:
    """Hong Kong married names (陳李美玲, 區蔡碧雲女士, 陳陳秀英: the husband's surname may be
    her own): widen a found name of the second surname (李美玲) or first two characters (陳李)
    to four characters when the character before it (or the two after it) complete the
    husband's surname + own surname + 2 given characters, and the four characters are a token
    of their own or have a cue next to them (one side is enough before a sure name whose last
    two characters are no ordinary word of `common`)."""
    out = list(found)
    for d in found:
        for s in (d.start - 1, d.start):
            e = s + 4
            if s < 0 or e > len(text) or not (s < d.end <= e):
                continue
            cand = text[s:e]
            if not all("\u4e00" <= c <= "\u9fff" for c in cand) \
                    or cand[0] not in _MARRIED_SURNAMES or cand[1] not in _MARRIED_SURNAMES \
                    or any(c in lx.NON_NAME_CHARS for c in cand[2:]):
                continue
            # other found pieces must lie inside the four characters' reach (區蔡碧|雲女士)
            others = [o for o in out if o is not d and o.start < e and s < o.end]
            if any(o.start < s for o in others):
                continue
            if (cand[0] not in _MARRIED_COMMON or cand[1] not in _MARRIED_COMMON) \
                    and (cand[2:] in common or text[e - 1:e + 1] in common):
                continue
            strong = cue_left(text, s)
            left = strong or (s > 0 and text[s - 1] in _PRE_ONE)
            if (strong and cue_right(text, e)) or (
                    (d.confidence >= _SURE_NAME or s == d.start)
                    and (left or cue_right(text, e))
                    and cand[2:] not in common  # (曾任|东吴, 钱江|摩托: `common` words)
                    and not (s > 0 and text[s - 1] in _MEASURE_BEFORE)):
                out = [o for o in out if o not in others]
                out[out.index(d)] = Detection(s, e, PERSON, d.confidence, d.detector)
                break
    return sorted(out, key=lambda x: x.start)


# Words that join names (长谷川翔太和冯昕): a name may end before them.
_JOINERS = "和与及跟同"


def _ends(text: str, e: int, words: frozenset[str], cue_right) -> bool:  # noqa: ANN001
    """A name of a form of its own (Japanese, Korean) may end at `e`: the text ends, a non-Han
    character or a joiner follows, a cue (`cue_right`), or one of `words` starts there."""
    nxt = text[e:e + 1]
    return (not nxt or not "\u4e00" <= nxt <= "\u9fff" or nxt in _JOINERS
            or cue_right(text, e) or text[e:e + 2] in words)


# Japanese names written in Chinese (round 9): the commonest three-character surnames, and the
# endings of Japanese given names (一郎, 太郎, 阳子, 由美, 直树, 拓也, 翔太, 千寻, 早苗) and
# one-character given names (诚, 健, 隆, 彩), which mark a two-character Japanese surname that
# is also a Chinese word (井上, 小林, 村上) as a surname without a label.
JAPANESE_LONG = ("佐佐木", "长谷川", "五十岚", "小笠原", "宇都宫", "佐久间", "久保田", "大久保",
                 "小野寺", "长谷部", "东海林", "小田切", "寺之内", "二阶堂")
_JP_END = frozenset("郎子美也太树介香奈惠代雄彦男夫吾苗寻斗平藏助治司哉里绘穗乃菜音纪织")
_JP_ONE = frozenset("诚健隆彩翔茜遥葵萌修实薰聪勇亮刚仁武豪忍望悟淳")
_JP_RX = re.compile("(?=(" + "|".join(JAPANESE_LONG + tuple(lx.JAPANESE_SURNAMES)) + "))")


def japanese(text: str, common: frozenset[str], cue_left, cue_right) -> list[Detection]:  # noqa: ANN001
    """Japanese names: a three-character surname (佐佐木一郎) or a listed two-character one and a
    given name of Japanese form — two characters ending like one (井上早苗, 小林太郎) or one of
    the common one-character names (桥本诚, 山口健) — that ends before a non-Han character, a
    cue (`cue_right`) or a word, and is no ordinary word (中山大学, 小林同学 are none)."""
    out: list[Detection] = []
    taken = -1
    for m in _JP_RX.finditer(text):
        s = m.start()
        if s < taken:
            continue
        g = s + len(m.group(1))
        for e in (g + 2, g + 1):
            given = text[g:e]
            if len(given) != e - g or not all("\u4e00" <= c <= "\u9fff" for c in given) \
                    or any(c in lx.NON_NAME_CHARS for c in given):
                continue
            if not (given[-1] in _JP_END if len(given) == 2 else given in _JP_ONE):
                continue
            nxt = text[e:e + 1]
            if text[s:e] in common or any(text[s:e + k] in common for k in (1, 2)) \
                    or (nxt and nxt not in _JOINERS and text[e - 1:e + 1] in common) \
                    or not _ends(text, e, common, cue_right) \
                    or (s > 0 and text[s - 1:s + 1] in common and not cue_left(text, s)):
                continue  # (山本彩|核验, 村上隆|作为, 早苗|一行 end a name; 中山大学 is none)
            out.append(Detection(s, e, PERSON, 0.9, "person_zh"))
            taken = e
            break
    return out


# Korean names written in Chinese (round 10): 在 is one of the commonest first characters of a
# Korean given name (文在寅, 李在镕, 金在勇), and a function word in Chinese, so it never
# continues a name by the rules. The commonest Korean surnames, as written in Chinese.
KOREAN_SURNAMES = frozenset("金李朴崔郑姜赵尹张林韩吴申徐权黄安宋柳洪全高文孙梁裴白许南沈卢"
                            "河丁成车具禹朱任罗千闵俞元严蔡玄卞秋陆卓延吉奇潘孟")
_KOREAN_RX = re.compile("[" + "".join(sorted(KOREAN_SURNAMES)) + "]在[\u4e00-\u9fff]")


def korean(text: str, common: frozenset[str], verbs: frozenset[str], cue_right  # noqa: ANN001
           ) -> list[Detection]:
    """Korean names with 在 as the first given character (林在勋, 金在勇): a Korean surname,
    在, and a character many of jieba's persons have in their given name, the three no word
    and 在 + that character none either (王在家, 在场 are words), ending at a token edge, a
    cue or a two-character verb (赵在范|整理). 王在北京 is none: 北 does not end there."""
    out = []
    for m in _KOREAN_RX.finditer(text):
        s, e = m.span()
        if text[s + 1:e] in common or text[s:e] in common or text[s:s + 2] in common \
                or not name_model.common_given(text[e - 1]) \
                or any(text[s + 1:e + k] in common for k in (1, 2)) \
                or not _ends(text, e, verbs, cue_right):
            continue
        out.append(Detection(s, e, PERSON, 0.9, "person_zh"))
    return out
