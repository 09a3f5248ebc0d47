"""Names for gateway_eval7 (the eighth held-out set, issue #16), written from general knowledge.

Every generator takes the draw's numpy Generator and returns (name, type) so that a draw can
count what it holds. Types: zh2, zh3 (surname + one or two given characters), rare (a rare single
surname), compound (欧阳/司徒 + given), double (two surnames, 张王子涵), wordlike (the given name,
or the whole name, is an ordinary word: 王平安, 高明), dotted (·/•/・ transliterations), married
(Hong Kong: husband's surname before her own, 陳黃美玲), trad (a name in traditional characters),
latin (romanised or English names), ocr (a name with spaces between its characters).
"""

from __future__ import annotations

import numpy as np

# Common single surnames, most frequent first (weights fall off as 1/rank: Zipf).
COMMON = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程"
    "魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾"
    "龚邵万覃武钱戴严莫孔向常汤康易乔赖文施洪辛柯庄纪"
)
# Rare single surnames (real, seldom seen; several are also ordinary words or function words).
RARE = list(
    "谌仉佘禚訾麻扈蒯隗逄昝邴靳芮郗阙嵇檀笪冼岑亓揭宓卞郜鞠蓟濮臧甄晏佟栾璩苗盖计伍仇过"
    "巫桂伏干竺牟寿亢丛储戈茅车商仝安海柳"
)
COMPOUND = ["欧阳", "司马", "诸葛", "上官", "东方", "慕容", "令狐", "皇甫", "尉迟", "公孙",
            "夏侯", "宇文", "长孙", "端木", "南宫", "司徒", "申屠", "轩辕", "钟离", "闻人",
            "澹台", "呼延", "太史", "万俟", "独孤", "西门", "单于", "拓跋"]
SURNAMES = set(COMMON) | set(RARE) | set(COMPOUND)

# Given-name characters; the first ones are the most common.
_GIVEN_M = list(
    "伟强军磊勇杰涛明超辉华平刚斌鹏建国峰宇浩俊亮志文龙飞波云海东林成阳晨博凯旭昊宁鑫帆"
    "嘉睿哲翔天泽宏振彬德松毅坤瑞轩然铭诚锋家晓忠良康永荣兴鸿启航子恒奕骏琪钧焕"
)
_GIVEN_F = list(
    "芳娜敏静丽艳娟霞秀燕玲桂英梅莉红婷雪琳洁倩慧颖佳欣怡璐瑶晶蓉萍菲薇琴悦岚楠婉瑾"
    "雯诗涵梦思雨曦妍蕾露月彤馨妮茜莹嫣淑珊宜凤兰菊丹媛洋青"
)
# Given names that are ordinary words (and whole names that read as words).
WORD_GIVEN = ["平安", "伟大", "明白", "建设", "光明", "和平", "胜利", "国庆", "建军", "文明",
              "春风", "海洋", "向阳", "红旗", "卫东", "志强", "长江", "爱国", "永远", "大海",
              "小平", "新华", "解放", "富贵", "吉祥", "美丽", "幸福", "团结", "自强", "如意",
              "发财", "东风", "继承", "建华", "秋菊", "春花", "立新", "跃进", "红梅", "朝阳"]
WORD_WHOLE = ["高明", "周全", "方正", "江河", "林立", "石磊", "马力", "金山", "白雪", "常青",
              "文静", "安宁", "于洋", "黄河", "高峰", "万里", "柳青", "向前", "田野", "杨柳",
              "武林", "龙飞", "金星", "史诗", "冯春", "严明", "白云", "夏天", "秦川", "海燕"]
# Transliterated names (minority and foreign) around a dot; the dot is drawn per name.
_DOT_PARTS = [("阿不都", "热合曼"), ("古丽娜", "艾力"), ("买买提", "吐尔逊"), ("迪丽娜尔", "阿布都"),
              ("艾克拜尔", "米吉提"), ("努尔", "白克力"), ("热依拉", "买合木提"), ("玉素甫", "卡德尔"),
              ("米哈伊尔", "伊万诺夫"), ("安娜", "彼得罗娃"), ("玛丽亚", "桑切斯"), ("约翰", "史密斯"),
              ("穆罕默德", "汗"), ("伊丽莎白", "沃森"), ("卡尔", "施密特"), ("苏菲", "马丁"),
              ("扎西", "多吉"), ("次仁", "卓玛"), ("格桑", "拉姆"), ("阿依古丽", "吐尔洪"),
              ("尼古拉", "佩特罗夫"), ("汉斯", "穆勒"), ("让", "杜邦"), ("保罗", "罗西")]
_DOTS = ["·", "·", "·", "•", "・"]
_DOT_PARTS_TRAD = [("約翰", "史密斯"), ("瑪麗亞", "桑切斯"), ("安娜", "彼得羅娃"), ("卡爾", "施密特"),
                   ("蘇菲", "馬丁"), ("漢斯", "穆勒"), ("保羅", "羅西"), ("伊麗莎白", "華森"),
                   ("尼古拉", "佩特羅夫"), ("穆罕默德", "汗"), ("艾力", "買買提"), ("米高", "霍夫曼")]

# Hong Kong names in traditional characters.
TRAD_COMMON = list("陳黃李張梁林劉吳王何鄭楊謝郭羅葉蔡曾鄧許馮蕭潘彭朱麥盧袁蘇余鍾譚區岑杜容莫招伍"
                   "關鄺廖邱湯姚洪施黎")
TRAD_COMPOUND = ["歐陽", "司徒", "上官", "諸葛", "司馬"]
_TRAD_GIVEN = list("家嘉偉志明國華文輝建業俊傑豪強卓朗峰浩軒詠詩美玲淑儀慧敏琳婉婷穎芷晴欣"
                   "寶珊麗雯嘉樂銘鴻達耀榮燕萍鳳翠瑩潔慧賢健德樂恩晉鍵彥倩靜")
SURNAMES |= set(TRAD_COMMON) | set(TRAD_COMPOUND)

# Latin names: Hong Kong romanisation, pinyin and English.
_LATIN_LAST = ["Chan", "Wong", "Lee", "Cheung", "Lau", "Ho", "Leung", "Ng", "Tsang", "Yip",
               "Zhang", "Wang", "Liu", "Chen", "Smith", "Brown", "Taylor", "Tan", "Lim", "Kwok"]
_LATIN_FIRST = ["David", "Michelle", "Peter", "Vivian", "Kelvin", "Winnie", "Jason", "Carmen",
                "Eric", "Joyce", "Raymond", "Gloria", "Alan", "Sharon", "Kenneth", "Olivia"]
_HK_GIVEN = ["Tai Man", "Ka Ming", "Siu Fung", "Wai Ling", "Chi Keung", "Mei Yee", "Kin Wah",
             "Hoi Yan", "Wing Sze", "Yuk Lan"]
_PINYIN_LAST = ["Zhang", "Wang", "Li", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou"]
_PINYIN_GIVEN = ["Wei", "Xiaoming", "Jianguo", "Li", "Haoran", "Yuting", "Fang", "Zhiqiang"]

# Titles after a bare surname (person_title), and prefixes before one.
TITLES = ["总", "经理", "总监", "老师", "先生", "女士", "小姐", "姐", "哥", "工", "律师", "医生",
          "主任", "董", "行长", "处长", "科长", "会计", "总助", "老板", "师傅", "阿姨", "叔"]
TITLES_TRAD = ["生", "太", "小姐", "先生", "姑娘", "sir", "經理", "總", "老闆", "醫生", "律師", "主席"]
PREFIXES = ["老", "小", "阿"]


def _zipf(rng: np.random.Generator, items: list, a: float = 1.0):
    w = 1.0 / np.arange(1, len(items) + 1) ** a
    return items[int(rng.choice(len(items), p=w / w.sum()))]


def _given(rng: np.random.Generator, k: int, pool: list[str] | None = None) -> str:
    if pool is None:
        pool = _GIVEN_M if rng.random() < 0.5 else _GIVEN_F
    out = _zipf(rng, pool, 0.6)
    while len(out) < k:
        c = _zipf(rng, pool, 0.6)
        if c != out[-1] or rng.random() < 0.3:        # 婷婷, 明明: a repeated character now and then
            out += c
    return out


def zh_name(rng: np.random.Generator) -> tuple[str, str]:
    """A simplified-character name of a mainland person."""
    r = rng.random()
    if r < 0.46:
        return _zipf(rng, COMMON) + _given(rng, 2), "zh3"
    if r < 0.64:
        return _zipf(rng, COMMON) + _given(rng, 1), "zh2"
    if r < 0.72:
        s = RARE[int(rng.integers(len(RARE)))]
        return s + _given(rng, int(rng.integers(1, 3))), "rare"
    if r < 0.80:
        s = COMPOUND[int(rng.integers(len(COMPOUND)))]
        return s + _given(rng, int(rng.integers(1, 3))), "compound"
    if r < 0.85:
        a, b = _zipf(rng, COMMON), _zipf(rng, COMMON)
        while b == a:
            b = _zipf(rng, COMMON)
        return a + b + _given(rng, int(rng.integers(1, 3))), "double"
    if r < 0.92:
        w = WORD_GIVEN[int(rng.integers(len(WORD_GIVEN)))]
        return _zipf(rng, COMMON) + w, "wordlike"
    if r < 0.96:
        return WORD_WHOLE[int(rng.integers(len(WORD_WHOLE)))], "wordlike"
    return dotted(rng)


def dotted(rng: np.random.Generator, trad: bool = False) -> tuple[str, str]:
    parts = _DOT_PARTS_TRAD if trad else _DOT_PARTS
    a, b = parts[int(rng.integers(len(parts)))]
    dot = "・" if trad and rng.random() < 0.5 else _DOTS[int(rng.integers(len(_DOTS)))]
    return a + dot + b, "dotted"


def siblings(rng: np.random.Generator, k: int) -> list[tuple[str, str]]:
    """k 3-character names with one surname and one generation character (王建国、王建军)."""
    s = _zipf(rng, COMMON)
    gen = _zipf(rng, _GIVEN_M, 0.4)
    pool = [c for c in _GIVEN_M + _GIVEN_F if c != gen]
    picks = rng.choice(len(pool), size=k, replace=False)
    if rng.random() < 0.5:
        return [(s + gen + pool[int(i)], "zh3") for i in picks]
    return [(s + pool[int(i)] + gen, "zh3") for i in picks]


def trad_name(rng: np.random.Generator) -> tuple[str, str]:
    """A Hong Kong name in traditional characters (married names 陳黃美玲 among them)."""
    r = rng.random()
    s = _zipf(rng, TRAD_COMMON, 0.9)
    if r < 0.62:
        return s + _given(rng, 2, _TRAD_GIVEN), "trad"
    if r < 0.72:
        return s + _given(rng, 1, [c for c in _TRAD_GIVEN if c != "家"]), "trad"
    if r < 0.80:
        return TRAD_COMPOUND[int(rng.integers(len(TRAD_COMPOUND)))] + _given(rng, 2, _TRAD_GIVEN), \
            "compound"
    if r < 0.95:
        own = _zipf(rng, TRAD_COMMON, 0.9)
        while own == s:
            own = _zipf(rng, TRAD_COMMON, 0.9)
        return s + own + _given(rng, 2, _TRAD_GIVEN), "married"
    return dotted(rng, trad=True)


def latin_name(rng: np.random.Generator) -> tuple[str, str]:
    r = rng.random()
    last = _LATIN_LAST[int(rng.integers(len(_LATIN_LAST)))]
    if r < 0.35:
        return f"{_LATIN_FIRST[int(rng.integers(len(_LATIN_FIRST)))]} {last}", "latin"
    if r < 0.6:
        given = _HK_GIVEN[int(rng.integers(len(_HK_GIVEN)))]
        return (f"{last.upper()} {given}" if rng.random() < 0.5 else f"{given} {last}"), "latin"
    if r < 0.8:
        first = _LATIN_FIRST[int(rng.integers(len(_LATIN_FIRST)))]
        given = _HK_GIVEN[int(rng.integers(len(_HK_GIVEN)))]
        return f"{first} {last} {given}", "latin"
    last = _PINYIN_LAST[int(rng.integers(len(_PINYIN_LAST)))]
    given = _PINYIN_GIVEN[int(rng.integers(len(_PINYIN_GIVEN)))]
    return (f"{last} {given}" if rng.random() < 0.5 else f"{given} {last.upper()}"), "latin"


def ocr_name(rng: np.random.Generator) -> tuple[str, str]:
    """A name with one or two spaces between its characters, as OCR leaves it (王 建 国)."""
    name, _ = zh_name(rng)
    while "·" in name or "•" in name or "・" in name:
        name, _ = zh_name(rng)
    sep = " " if rng.random() < 0.7 else "  "
    if rng.random() < 0.35 and len(name) == 3:
        return name[0] + sep + name[1:], "ocr"
    return sep.join(name), "ocr"


def bare_title(rng: np.random.Generator, trad: bool = False) -> str:
    """A bare surname with a title or a 老/小/阿 prefix: 王总, 陳生, 老李 (person_title)."""
    if trad:
        s = _zipf(rng, TRAD_COMMON, 0.9)
        if rng.random() < 0.2:
            return "阿" + s
        return s + TITLES_TRAD[int(rng.integers(len(TITLES_TRAD)))]
    s = _zipf(rng, COMMON)
    if rng.random() < 0.22:
        return PREFIXES[int(rng.integers(2))] + s
    return s + TITLES[int(rng.integers(len(TITLES)))]


def english_title(rng: np.random.Generator) -> str:
    """Mr Chan, Ms Wong: a bare surname with an English title (person_title)."""
    t = ["Mr", "Mr.", "Ms", "Ms.", "Mrs", "Miss"][int(rng.integers(6))]
    return f"{t} {_LATIN_LAST[int(rng.integers(len(_LATIN_LAST)))]}"
