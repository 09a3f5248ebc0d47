"""Name pools of gateway_eval5 (the sixth held-out set for Chinese names, issue #16).

Written from general knowledge for this set alone: not taken from the detectors, their word
lists, the CRF's training data or the earlier evaluation sets. Each draw returns the name and
its type, so the set can report what it holds (gateway_eval5.census).
"""

from __future__ import annotations

import bisect
import functools
import itertools

import numpy as np

# Simplified single surnames, roughly in order of frequency (drawn Zipf-weighted).
COMMON = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩邓冯曹彭曾肖田董潘袁蔡蒋余于杜"
    "叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶"
    "贺毛郝顾龚邵万覃武钱戴严莫孔向常汤康易乔赖文施洪辛柯庄樊殷齐葛伍耿凌岳")
# Rare single surnames, some of them ordinary words or function words (和, 从, 能, 但 …).
RARE = list("亓逄笪缑訾乜仉郗蒯隗宓阙蔺栾靳闵邬晏禹冉敖眭佴厍鄢麻璩扈湛茆嵇酆滕甄臧卞寇邝仝巫"
            "滑谌卜桂昝谯暴羿檀闾储郜郦骆聂帅苗钮浦糜鲍时和从能干来所但单原项全计车")
COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
            "宇文", "司徒", "夏侯", "轩辕", "令狐", "钟离", "闻人", "澹台", "呼延", "端木",
            "百里", "南宫", "西门", "申屠", "拓跋", "独孤", "赫连", "第五", "万俟", "太史",
            "公冶", "濮阳", "淳于", "仲孙"]
GIVEN2 = ["建国", "建军", "国强", "志强", "俊杰", "浩然", "子轩", "宇航", "博文", "晨阳", "一鸣",
          "天宇", "思远", "嘉豪", "泽宇", "翔宇", "凯文", "昊天", "文博", "志明", "海涛", "振华",
          "立新", "晓东", "卫东", "红军", "永刚", "建华", "德明", "学文", "春生", "长青", "玉林",
          "家乐", "宏伟", "鸿飞", "少华", "大鹏", "小龙", "欣怡", "雨涵", "梓萱", "思琪", "诗涵",
          "佳怡", "晓燕", "丽娟", "秀英", "桂英", "玉兰", "春梅", "美玲", "丽华", "淑芬", "晓红",
          "海燕", "婷婷", "倩倩", "雯雯", "雅琴", "慧敏", "梦琪", "若曦", "紫涵", "可馨", "欣然",
          "一诺", "语桐", "子涵", "艺璇", "秀兰", "凤英", "金凤", "翠花", "国华", "建平", "新民",
          "永强", "少杰", "明辉", "嘉怡", "宛如", "书瑶", "沐阳", "梓豪", "睿泽", "景行", "承志",
          "亚楠", "晓丽", "瑞芳", "素珍", "兰英", "德胜", "福生", "根宝", "金宝", "阿毛"]
GIVEN1 = list("伟强军磊涛斌杰勇峰鹏辉刚明华超亮芳娜敏静丽艳娟霞玲婷雪慧颖琳萍红梅兰燕琴蓉洁波"
              "平健宁飞鑫坤")
# Given-name characters seldom seen (wu-xing and literary characters).
RARECHAR = ["喆", "堃", "昉", "翀", "珺", "旻", "玥", "婕", "琰", "祎", "璟", "淼", "犇", "垚",
            "煜", "晗", "昕", "暄", "翊", "彧", "蕤", "璠", "颢", "子堃", "一喆", "玥彤", "祎然",
            "淼淼", "昕妍", "翊辰", "梓琰", "璟瑜", "彧涵", "晗煜", "珺瑶", "鑫垚"]
# Given names that are ordinary words (平安, 胜利 …).
WORDGIVEN = ["平安", "胜利", "和平", "光明", "建设", "国庆", "红旗", "跃进", "解放", "海洋",
             "长江", "东风", "朝阳", "阳光", "快乐", "幸福", "美丽", "如意", "吉祥", "富贵",
             "成功", "春天", "秋月", "白云", "彩云", "自强", "利民", "爱国", "前进", "卫星"]
# Whole two-character names that read as a word (高峰 "peak", 周全 "thorough" …).
WORDNAME = ["高峰", "高明", "高山", "周全", "方圆", "江河", "林海", "林立", "白雪", "石磊",
            "向阳", "向前", "常乐", "文静", "文明", "夏雨", "夏天", "金鑫", "武强", "马力",
            "田野", "钟声", "柳青", "安宁", "于洋", "洪涛", "万里", "黎明", "江山", "龙飞",
            "雷鸣", "严明", "华山", "齐心", "田甜", "秦川", "余欢", "叶茂", "宋词", "程程"]
# Names written without a surname (Tibetan, Mongolian).
NOSURNAME = ["扎西", "卓玛", "次仁", "格桑", "达瓦", "尼玛", "央金", "巴特尔", "其木格", "乌兰",
             "扎西顿珠", "次仁卓玛", "格桑梅朵", "乌日娜", "达瓦次仁", "德吉央宗", "那仁花",
             "斯琴图雅", "额尔敦", "阿拉坦仓", "白玛", "多吉"]
JAPANESE = ["田中健太", "佐藤美咲", "山本浩二", "铃木一郎", "渡边直美", "高桥诚", "伊藤翔太",
            "小林由美", "中村优子", "松本润"]
# Transliterated names: parts joined by a middle dot (·, • or ・).
UYGHUR1 = ["买买提", "艾力", "阿不都", "吐尔逊", "热合曼", "古丽", "阿依古丽", "迪丽拜尔", "努尔",
           "艾尔肯", "麦麦提", "帕提古丽", "阿里木", "依明", "玉素甫", "巴哈尔古丽", "叶尔兰",
           "阿斯哈尔", "热依汗", "库尔班"]
UYGHUR2 = ["艾力", "吐尔逊", "买买提", "阿不都拉", "玉素甫", "依明", "热合曼", "托合提", "卡德尔",
           "吾守尔", "努尔兰", "别克", "哈力克", "司马义"]
WEST1 = ["约翰", "玛丽", "迈克尔", "大卫", "彼得", "安娜", "托马斯", "詹姆斯", "丹尼尔", "凯瑟琳",
         "亚历山大", "伊丽莎白", "马克", "保罗", "罗伯特", "艾米丽", "索菲亚", "劳拉", "让"]
WEST2 = ["史密斯", "布朗", "约翰逊", "威尔逊", "泰勒", "米勒", "施密特", "穆勒", "彼得罗夫",
         "伊万诺娃", "加西亚", "罗德里格斯", "马丁", "勒梅尔", "库克", "霍夫曼", "安德森", "贝克"]
DOTS = ["·", "·", "·", "•", "・"]
_TRAD = str.maketrans("约玛丽迈尔卫马凯亚历罗劳让逊万诺库贝", "約瑪麗邁爾衛馬凱亞歷羅勞讓遜萬諾庫貝")

# Hong Kong: traditional surnames (Zipf-weighted), given names, compound and rare surnames.
HK_COMMON = ["陳", "李", "黃", "張", "梁", "林", "劉", "吳", "何", "王", "鄭", "楊", "郭", "羅",
             "謝", "曾", "葉", "周", "蔡", "鄧", "馮", "麥", "蕭", "許", "盧", "譚", "朱", "胡",
             "潘", "馬", "余", "彭", "袁", "鍾", "溫", "關", "姚", "湯", "范", "侯", "嚴", "蘇"]
HK_RARE = ["冼", "岑", "鄺", "區", "勞", "簡", "祁", "甘", "伍", "霍", "龐", "莫", "黎", "文",
           "戚", "涂", "利", "單", "車", "柯", "翁", "駱", "聶", "閻"]
HK_COMPOUND = ["歐陽", "司徒", "上官", "諸葛", "司馬", "端木", "慕容", "公孫"]
HK_GIVEN2 = ["志偉", "家豪", "嘉欣", "詠詩", "美玲", "慧敏", "偉強", "國明", "俊傑", "家輝", "凱琳",
             "曉彤", "淑儀", "婉婷", "子健", "永康", "錦華", "德華", "潔瑩", "寶儀", "浩然", "卓賢",
             "穎芝", "嘉雯", "少芬", "麗珍", "玉蓮", "秀英", "耀祖", "振邦", "柏豪", "梓晴", "樂瑤",
             "天佑", "健朗", "銘軒", "思穎", "詩琪", "卓琳", "碧君", "佩儀", "頌恩", "迪文", "鎮南",
             "家樂", "偉文", "國榮", "慧琳", "靜儀", "惠芬", "月娥", "笑珊", "一心", "大文", "小明",
             "綺雯", "敏儀", "展鵬", "兆基", "嘉誠", "秀蘭", "麗君", "鳳儀", "俊賢", "啟聰"]
HK_GIVEN1 = list("鋒敏強娟雯偉輝傑珊儀")
HK_FEMALE2 = ["美玲", "淑儀", "婉婷", "潔瑩", "寶儀", "麗珍", "玉蓮", "秀英", "惠芬", "月娥",
              "佩儀", "靜儀", "少芬", "鳳儀", "秀蘭", "麗君", "慧敏", "碧君", "綺雯", "敏儀"]

# Latin names in Chinese text.
EN_FIRST = ["David", "Michael", "Kelvin", "Jacky", "Eric", "Vivian", "Ada", "Carmen", "Peter",
            "Tony", "Alan", "Karen", "Gloria", "Winnie", "Cherry", "Ivan", "Raymond", "Stanley",
            "Connie", "Fiona", "Jason", "Kenneth", "Brian", "Angela", "Sandy", "Queenie",
            "Ricky", "Samuel", "Helen", "Grace", "Catherine", "Oscar", "Louis", "Yvonne"]
EN_LAST_HK = ["Chan", "Wong", "Lee", "Cheung", "Lau", "Ho", "Ng", "Leung", "Tang", "Yip", "Cheng",
              "Lam", "Tsang", "Chow", "Kwok", "Fung", "Mak", "Chu", "Lo", "Kwan", "Tse", "Yeung",
              "Choi", "Szeto", "Au-Yeung"]
EN_LAST_PY = ["Zhang", "Wang", "Liu", "Li", "Chen", "Zhao", "Sun", "Xu", "Zhou", "Huang", "Ouyang"]
EN_LAST_W = ["Smith", "Taylor", "Brown", "Johnson", "Davies", "Walker", "Schmidt", "Dubois",
             "Rossi", "Tanaka", "Kim", "Nguyen"]
HK_ROMAN = ["Tai Man", "Siu Ming", "Chi Wai", "Ka Yan", "Wing Sze", "Mei Ling", "Ka Ho",
            "Kwok Keung", "Hoi Yan", "Chun Kit", "Suet Ying", "Wai Kin", "Man Yee", "Ho Yin"]
PY_GIVEN = ["Wei", "Jianguo", "Xiaoming", "Li", "Fang", "Haitao", "Yuxuan", "Jing", "Zhiqiang",
            "Mengqi", "Hao", "Ning"]

# Titles after a surname or a full name (simplified, Hong Kong).
TITLES = ["先生", "女士", "小姐", "经理", "总", "总监", "老师", "律师", "主任", "董", "会计师",
          "工", "处长", "行长", "博士", "教授", "老板", "姐", "哥", "助理", "部长", "师傅"]
HK_TITLES = ["生", "太", "小姐", "先生", "女士", "姑娘", "經理", "律師", "醫生", "主席", "博士",
             "sir", "Sir", "總", "伯", "師奶"]


@functools.cache
def _cumulative(weights: tuple[float, ...]) -> tuple[list[float], float]:
    cum = list(itertools.accumulate(weights))
    return cum, cum[-1]


def weighted(rng: np.random.Generator, weights: tuple[float, ...]) -> int:
    """An index drawn with probability proportional to its weight."""
    cum, total = _cumulative(weights)
    return min(bisect.bisect_right(cum, rng.random() * total), len(weights) - 1)


@functools.cache
def _zipf_weights(n: int) -> tuple[float, ...]:
    return tuple(1.0 / r for r in range(1, n + 1))


def _zipf(rng: np.random.Generator, items: list[str]) -> str:
    """Rank r drawn with probability proportional to 1/r (surnames in order of frequency)."""
    return items[weighted(rng, _zipf_weights(len(items)))]


def _pick(rng: np.random.Generator, items: list[str]) -> str:
    return items[int(rng.integers(len(items)))]


def _given(rng: np.random.Generator) -> str:
    return _pick(rng, GIVEN1) if rng.random() < 0.28 else _pick(rng, GIVEN2)


# (type, weight) of a simplified-text person name.
ZH_TYPES = [("common3", 0.40), ("common2", 0.14), ("rare", 0.08), ("compound", 0.07),
            ("wordname", 0.06), ("wordgiven", 0.06), ("rarechar", 0.04), ("dotted", 0.06),
            ("nosurname", 0.03), ("japanese", 0.02), ("married", 0.02)]
HK_TYPES = [("hk3", 0.56), ("hk2", 0.09), ("hk_married", 0.17), ("hk_compound", 0.06),
            ("hk_rare", 0.09), ("dotted", 0.03)]
_ZH_W = tuple(w for _, w in ZH_TYPES)
_HK_W = tuple(w for _, w in HK_TYPES)


def person_zh(rng: np.random.Generator) -> tuple[str, str]:
    """A simplified-text person name and its type."""
    kind = ZH_TYPES[weighted(rng, _ZH_W)][0]
    if kind == "common3":
        return _zipf(rng, COMMON) + _pick(rng, GIVEN2), kind
    if kind == "common2":
        return _zipf(rng, COMMON) + _pick(rng, GIVEN1), kind
    if kind == "rare":
        return _pick(rng, RARE) + _given(rng), kind
    if kind == "compound":
        return _pick(rng, COMPOUND) + _given(rng), kind
    if kind == "wordname":
        return _pick(rng, WORDNAME), kind
    if kind == "wordgiven":
        return _zipf(rng, COMMON) + _pick(rng, WORDGIVEN), kind
    if kind == "rarechar":
        return _zipf(rng, COMMON) + _pick(rng, RARECHAR), kind
    if kind == "dotted":
        return dotted(rng), kind
    if kind == "nosurname":
        return _pick(rng, NOSURNAME), kind
    if kind == "japanese":
        return _pick(rng, JAPANESE), kind
    # an older mainland woman's name with her husband's surname first (张王秀英)
    a, b = _zipf(rng, COMMON), _zipf(rng, COMMON)
    return a + b + _pick(rng, ["秀英", "桂兰", "淑珍", "玉梅", "凤琴", "素芳"]), "married"


def dotted(rng: np.random.Generator, trad: bool = False) -> str:
    dot = _pick(rng, DOTS)
    if rng.random() < 0.55 and not trad:
        return _pick(rng, UYGHUR1) + dot + _pick(rng, UYGHUR2)
    name = _pick(rng, WEST1) + dot + _pick(rng, WEST2)
    if trad:
        name = name.translate(_TRAD)
    return name


def person_hk(rng: np.random.Generator) -> tuple[str, str]:
    """A Hong Kong person name in traditional characters and its type."""
    kind = HK_TYPES[weighted(rng, _HK_W)][0]
    if kind == "hk3":
        return _zipf(rng, HK_COMMON) + _pick(rng, HK_GIVEN2), kind
    if kind == "hk2":
        return _zipf(rng, HK_COMMON) + _pick(rng, HK_GIVEN1), kind
    if kind == "hk_married":  # husband's surname + her own surname + her given name
        return _zipf(rng, HK_COMMON) + _zipf(rng, HK_COMMON) + _pick(rng, HK_FEMALE2), kind
    if kind == "hk_compound":
        return _pick(rng, HK_COMPOUND) + _pick(rng, HK_GIVEN2 + HK_GIVEN1), kind
    if kind == "hk_rare":
        return _pick(rng, HK_RARE) + _pick(rng, HK_GIVEN2), kind
    return dotted(rng, trad=True), kind


def person_en(rng: np.random.Generator) -> tuple[str, str]:
    """A Latin-script name as it appears in Chinese text (Kelvin Chan, CHAN Tai Man, Zhang Wei)."""
    r = rng.random()
    if r < 0.5:
        return _pick(rng, EN_FIRST) + " " + _pick(rng, EN_LAST_HK + EN_LAST_W), "english"
    if r < 0.7:
        last = _pick(rng, EN_LAST_HK)
        return (last.upper() if rng.random() < 0.6 else last) + " " + _pick(rng, HK_ROMAN), "english"
    if r < 0.85:
        return _pick(rng, EN_LAST_PY) + " " + _pick(rng, PY_GIVEN), "english"
    return _pick(rng, EN_FIRST) + " " + _pick(rng, EN_LAST_PY), "english"


def surname_title(rng: np.random.Generator, trad: bool = False) -> str:
    """A bare surname with a title or an affix (王总, 陳生, 老王, 小李): not a gold name."""
    if trad:
        sur = _zipf(rng, HK_COMMON)
        return ("阿" + sur) if rng.random() < 0.08 else sur + _pick(rng, HK_TITLES)
    sur = _zipf(rng, COMMON) if rng.random() < 0.93 else _pick(rng, COMPOUND)
    if rng.random() < 0.12 and len(sur) == 1:
        return _pick(rng, ["老", "小"]) + sur
    return sur + _pick(rng, TITLES)


SURNAMES = set(COMMON) | set(RARE) | set(COMPOUND) | set(HK_COMMON) | set(HK_RARE) | set(HK_COMPOUND)
