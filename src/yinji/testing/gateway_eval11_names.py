"""Name lists and name makers of gateway_eval11 (written from general knowledge, see its docstring).

A `Person` knows its full name as written, the surname a title attaches to (None when a title
makes no sense: Latin, dotted, Tibetan and Mongolian names are repeated in full instead) and its
type (for the make-up statistics of the set's docstring and test).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# ~100 common surnames, most frequent first (weights ~ 1/rank^0.9).
COMMON = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛"
    "郝龚邵万钱严覃武戴莫孔向汤")
_w = 1.0 / np.arange(1, len(COMMON) + 1) ** 0.9
COMMON_P = _w / _w.sum()

_RARE = (
    "鲍靳滕甘殷伍祁柴阎晏翟骆蓝仇庞樊兰焦聂柯管卓屈项戚葛喻詹蒲邬房符裴褚岳商牛艾隋苗栾迟宫谷"
    "车冷单花耿阮巫齐沙申植钮仲宗麦练邝冼区乐卞瞿茅芮臧薄竺费贝邴暴郦宁季狄米明计伏成平和穆萧"
    "姬桂蒙翁戈封芦鞠冀钭阙昝訾逄蔺佘乔盛窦章饶左包丰巩牟璩桑桓濮寇扈燕尚农温别庄晋柏景居衡步"
    "都满弘匡国文广禄阚东殳沃利蔚越夔隆师厍晁勾敖融辛那简空毋乜养须巢关蒯相查后荆红游权逯盖益"
    "公岑古凌霍涂连时安常信危揭续过来全易宇鄢解蒿邸缪虞舒荣洪鲁梅韶凤粟谈帅应闵卜卫水亓仝佟"
    "雍郜郗啜澹丛党郁糜湛笪银钦娄苑甄惠祝阳谌强苟斯浦邰钞宦鄂习蓟奚漆官谯檀嵇鞠卿冉扶占胥"
    "闻栗储尉於井路颜禹商酆聂邢谷尤华施孙")
RARE = sorted(set(_RARE) - set(COMMON), key=_RARE.index)

COMPOUND = ("欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 司空 端木 令狐 夏侯 "
            "南宫 西门 百里 呼延 独孤 轩辕 闻人 澹台 公冶 太史 申屠 钟离 第五 拓跋 濮阳 赫连 "
            "东郭 万俟 左丘 漆雕").split()

M1 = "建国志俊文明永海家伟晓宏振子浩宇嘉博天一思立云景承泽德少启远兆鸿耀瑞鹏锦开庆树正世卫学"
M2 = "华强军平东辉峰杰斌涛磊鹏飞龙波刚勇林超亮成宁森轩然航铭霖睿哲翔豪凯昊源琦彬晨阳川钧毅"
F1 = "美秀丽春雅静慧晓嘉欣思雨佳梦紫诗若婉玉丹芳淑雪月凤红海梓可语心梅翠书晴依"
F2 = "华英芳玲娟敏婷燕萍霞琳颖洁妍怡涵萱琪瑶悦彤菲宁蓉丹薇岚雯楠璐倩君珊婕"
SINGLE = "伟敏静磊洋勇军杰娟涛明超秀霞平刚斌鹏辉丽红华峰林琳波宁帆蕾翔晶坤凯颖瑶璐彤佳诚骏亮茜"

# Given names that are ordinary words, and whole names that read as words.
WORD_GIVEN = ("建设 国庆 建国 红旗 平安 和平 胜利 海洋 春天 光明 文化 爱国 秋菊 跃进 援朝 卫东 "
              "向阳 双喜 金凤 友谊 振华 永红 富强 前进 思源 明天 长江 新华 东风 学军 建华 "
              "小龙 志强 美丽 晓东 红梅 海燕 春燕 国栋 金山 家乐").split()
WORD_WHOLE = ("高明 周全 白云 江山 林立 金城 高峰 夏雨 向前 马力 石磊 常青 李想 田野 方圆 "
              "万里 文静 宁静 于洋 钟情 程功 黎明 海涛 江涛 白雪 柳青 安宁 高翔 夏天 林海 "
              "陈晨 张扬 孙悦 王府 方正").split()
WORD_WHOLE.remove("王府")  # a street (王府井), used as a negative only
WORD_WHOLE.remove("方正")  # a broker / company name, used as a negative only

HK_SUR = list("陳黃李張劉梁林吳王何鄭蔡楊周許謝葉鄧馮曾彭盧蕭羅趙郭麥區冼鍾蘇潘譚袁余莫關甘")
_hk_w = 1.0 / np.arange(1, len(HK_SUR) + 1) ** 0.8
HK_SUR_P = _hk_w / _hk_w.sum()
HK1 = "嘉家俊志詠美寶麗慧偉國文卓子浩健凱思穎曉雅淑德永惠少"
HK2 = "欣玲儀敏婷傑豪輝明強華樂琪晴霖朗軒賢恩翹雯怡聰鋒康權"

DOT_GIVEN = ("艾力 买买提 阿不都热依木 古丽米拉 迪丽拜尔 买买提江 努尔江 热依拉 艾克拜尔 帕提古丽 "
             "阿依古丽 吐尔洪 依力哈木 米日古丽 阿迪力 祖丽皮亚 热合木江 努尔买买提 叶尔兰 "
             "哈那提 阿依达娜 别克波拉提 加娜尔 木拉提").split()
DOT_FATHER = ("买买提 吐尔逊 阿布都拉 热合曼 艾山 托合提 阿不力孜 吾守尔 依明 玉素甫 "
              "肉孜 司马义 努尔兰 别克 卡德尔 沙吾提 赛买提 哈力克 阿木提").split()
WEST = ("约翰·史密斯 玛丽亚·加西亚 彼得·霍夫曼 安娜·施密特 大卫·布朗 克里斯蒂娜·罗西 "
        "米歇尔·勒菲弗 托马斯·穆勒 伊丽莎白·泰勒 詹姆斯·威尔逊 索菲亚·马丁内斯 "
        "亚历山大·伊万诺夫 娜塔莉亚·彼得罗娃 卢卡·费拉里").split()
DOTS = ("·", "·", "·", "•", "・")

TIBETAN = "扎西 次仁 多吉 顿珠 卓玛 央金 格桑 达瓦 尼玛 旺堆 平措 拉姆 德吉 白玛 索朗 群培 洛桑 曲珍 边巴 普布".split()
MONGOL = ("巴特尔 乌兰图雅 其木格 苏日娜 额尔敦 那仁花 阿拉坦仓 哈斯巴根 图门 宝音 朝鲁 "
          "格日勒 敖其尔 孟和 塔娜 斯琴 巴雅尔 乌日娜 特木尔 萨仁高娃 包宝音 白音仓").split()
JP_SUR = "佐藤 铃木 高桥 田中 渡边 伊藤 山本 中村 小林 加藤 吉田 山田 佐佐木 松本 井上 木村 清水 山口 森田 池田".split()
JP_GIVEN = "健太 翔太 大辉 拓也 直树 和也 美咲 阳菜 由美 惠子 真由美 优子 浩二 一郎 洋平 贵之 里奈 明日香".split()
KR_SUR = list("金李朴崔郑姜赵尹张林韩吴")
KR_GIVEN = "敏浩 智恩 秀贤 贤宇 成民 在勋 恩惠 惠珍 东旭 俊熙 允儿 世英 志勋 珉锡 素妍 泰亨 夏恩 宰范".split()
MY_CN = [("林志强", "Lim Chee Keong"), ("黄美华", "Wong Mei Wah"), ("陈伟杰", "Tan Wei Jie"),
         ("郑秀玲", "Teh Siew Ling"), ("李国华", "Lee Kok Wah"), ("吴俊贤", "Goh Choon Hian"),
         ("蔡丽珠", "Chua Lee Choo"), ("许文杰", "Khor Boon Kiat"), ("杨佩仪", "Yeoh Pei Yee"),
         ("邱振德", "Khoo Chin Teik")]
MY_MALAY = ["阿末·依斯迈", "诺阿兹瑞娜·哈山", "莫哈末·法立", "西蒂·努哈丽扎", "阿兹敏·阿里",
            "拉惹·古玛", "法丽达·阿都拉"]
LATIN = ["David Wong", "Kelvin Chan", "Emily Lau", "Michael Zhang", "Grace Li", "Vincent Ho",
         "Jessica Cheung", "Raymond Tse", "Zhang Wei", "Liu Yang", "Ahmad bin Ismail",
         "Siti Aminah binti Hassan", "Rajesh Kumar", "Tan Mei Ling", "Kenji Sato",
         "Park Ji-hoon", "Chloe Ng Wing Sze", "Alan Leung"]

TITLES = ("总 经理 总监 先生 女士 小姐 老师 律师 主任 处长 科长 老板 姐 哥 工 博士 教授 行长 董 "
          "助理 部长 主管 会计 秘书 总助 师傅 阿姨 sir").split()
HK_TITLES = "生 太 小姐 先生 Sir 姑娘 律師 經理 醫生 姐 哥 老闆 主任".split()
PREFIXES = ("老", "小", "阿")

# Name types (weights for ordinary kinds; the `foreign` and `hk` kinds have their own).
TYPES = {"common2": 0.40, "common1": 0.13, "rare": 0.12, "compound": 0.04, "word": 0.07,
         "double": 0.04, "dotted": 0.04, "latin": 0.03, "hk": 0.03, "married": 0.02,
         "japanese": 0.02, "korean": 0.02, "tibetan": 0.02, "mongolian": 0.02,
         "malaysian": 0.01, "malay": 0.005}
FOREIGN_TYPES = {"dotted": 0.22, "tibetan": 0.16, "mongolian": 0.16, "japanese": 0.14,
                 "korean": 0.14, "malaysian": 0.12, "malay": 0.06}
HK_TYPES = {"hk": 0.62, "married": 0.18, "latin": 0.10, "common2": 0.10}


@dataclass
class Person:
    full: str
    surname: str | None
    type: str
    alt: str | None = None   # a Latin romanisation (Malaysian names) written after the name


def _pick(rng: np.random.Generator, s) -> str:
    return s[int(rng.integers(len(s)))]


def _given(rng: np.random.Generator, two: bool) -> str:
    if not two:
        return _pick(rng, SINGLE)
    if rng.random() < 0.5:
        return _pick(rng, M1) + _pick(rng, M2)
    return _pick(rng, F1) + _pick(rng, F2)


def _common(rng: np.random.Generator) -> str:
    return COMMON[int(rng.choice(len(COMMON), p=COMMON_P))]


def _hk_sur(rng: np.random.Generator) -> str:
    return HK_SUR[int(rng.choice(len(HK_SUR), p=HK_SUR_P))]


def make(rng: np.random.Generator, kind_types: dict[str, float] | None = None) -> Person:
    types = kind_types or TYPES
    keys = list(types)
    p = np.array([types[k] for k in keys])
    t = keys[int(rng.choice(len(keys), p=p / p.sum()))]
    if t in ("common2", "common1"):
        s = _common(rng)
        return Person(s + _given(rng, t == "common2"), s, t)
    if t == "rare":
        s = _pick(rng, RARE)
        return Person(s + _given(rng, rng.random() < 0.7), s, t)
    if t == "compound":
        s = _pick(rng, COMPOUND)
        return Person(s + _given(rng, rng.random() < 0.5), s, t)
    if t == "word":
        if rng.random() < 0.5:
            w = _pick(rng, WORD_WHOLE)
            return Person(w, w[0], t)
        s = _common(rng)
        return Person(s + _pick(rng, WORD_GIVEN), s, t)
    if t == "double":
        a, b = _common(rng), _common(rng)
        while b == a:
            b = _common(rng)
        return Person(a + b + _given(rng, True), a, t)
    if t == "dotted":
        dot = _pick(rng, DOTS)
        if rng.random() < 0.8:
            return Person(_pick(rng, DOT_GIVEN) + dot + _pick(rng, DOT_FATHER), None, t)
        return Person(_pick(rng, WEST).replace("·", dot), None, t)
    if t == "latin":
        return Person(_pick(rng, LATIN), None, t)
    if t == "hk":
        s = _hk_sur(rng)
        g = _pick(rng, HK1) + _pick(rng, HK2) if rng.random() < 0.9 else _pick(rng, HK2)
        return Person(s + g, s, t)
    if t == "married":
        a, b = _hk_sur(rng), _hk_sur(rng)
        while b == a:
            b = _hk_sur(rng)
        return Person(a + b + _pick(rng, HK1) + _pick(rng, HK2), a, t)
    if t == "japanese":
        s = _pick(rng, JP_SUR)
        return Person(s + _pick(rng, JP_GIVEN), s, t)
    if t == "korean":
        s = _pick(rng, KR_SUR)
        return Person(s + _pick(rng, KR_GIVEN), s, t)
    if t == "tibetan":
        a = _pick(rng, TIBETAN)
        b = _pick(rng, TIBETAN)
        return Person(a + b if b != a else a, None, t)
    if t == "mongolian":
        return Person(_pick(rng, MONGOL), None, t)
    if t == "malaysian":
        cn, lat = MY_CN[int(rng.integers(len(MY_CN)))]
        return Person(cn, cn[0], t, alt=lat if rng.random() < 0.6 else None)
    if t == "malay":
        return Person(_pick(rng, MY_MALAY), None, t)
    raise AssertionError(t)


def title_for(p: Person, title: str | None, rng: np.random.Generator, hk: bool) -> str | None:
    """`p`'s surname with a title (陈总, 老陈, 陳生), or None when `p` takes no title."""
    if p.surname is None:
        return None
    t = title or _pick(rng, HK_TITLES if hk or p.type in ("hk", "married") else TITLES)
    if t in PREFIXES:
        return t + p.surname if len(p.surname) == 1 else None
    return p.surname + t


def bare_title(rng: np.random.Generator, title: str | None, hk: bool) -> str:
    """A surname + title of nobody named in the text (王总, 老李, 陳太)."""
    s = _hk_sur(rng) if hk else (_common(rng) if rng.random() < 0.85 else _pick(rng, RARE))
    t = title or _pick(rng, HK_TITLES if hk else TITLES + ["老", "小"])
    return t + s if t in PREFIXES else s + t


def ocr_space(name: str, rng: np.random.Generator) -> str:
    """A Han name as an OCR'd form prints it: spaces inside (王 建 国, 王  建国)."""
    gap = " " if rng.random() < 0.7 else ("  " if rng.random() < 0.6 else "\u3000")
    if len(name) >= 3 and rng.random() < 0.35:
        return name[0] + gap + name[1:]
    return gap.join(name)


# Which surnames a person_title may start or end with (for the test).
ALL_SURNAMES = set(COMMON) | set(RARE) | set(COMPOUND) | set(HK_SUR) | set(JP_SUR) | set(KR_SUR) \
    | {n[0] for n, _ in MY_CN}
