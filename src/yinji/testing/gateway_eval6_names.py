"""Name lists of the seventh held-out name set (gateway_eval6), written from general knowledge.

Simplified names for mainland text, traditional ones for Hong Kong text, Latin names, dotted
transliterations, Hong Kong married names and bare-surname titles. Every draw goes through a
numpy Generator passed in by the caller (test data, not security). `draw_*` return the name
and its type (counted per draw by gateway_eval6.stats).
"""

from __future__ import annotations

import numpy as np

# Common single surnames, most frequent first (weights ~ 1/rank: Zipf).
COMMON = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
COMMON_W = 1.0 / np.arange(1, len(COMMON) + 1) ** 0.85
COMMON_W /= COMMON_W.sum()

# Rare single surnames (some are everyday words or function words).
RARE = list("亓逄阚檀殳訾郗乜黑花植招战那过年暴贲郜钭隗昝酆厍笪郦铁揭蔺芮羿阙粟"
            "帅莘厉楚琚糜蓟邰秘母门山竺钮宓满旷咸汲双尉睢佴仉撒郁虎要但从")
# Compound surnames.
COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
            "司徒", "令狐", "夏侯", "轩辕", "端木", "呼延", "南宫", "西门", "澹台", "公冶", "百里",
            "东郭", "闻人", "鲜于", "申屠", "万俟", "太史", "钟离", "独孤", "拓跋", "左丘"]
SURNAMES = sorted(set(COMMON) | set(RARE) | set(COMPOUND), key=len, reverse=True)

MALE = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆旭宁龙林阳建国峰东亮成志海文博晨"
            "轩然睿泽宏振昊哲毅彬翔锋松岩坤洋晖航骏琛瑞铭诚庆祥鸿渊嘉豪逸梓天思家永春德立学中新"
            "世长金光兴朝云广宗仁义忠孝礼信安荣富贵达武威雄彪源钧")
FEMALE = list("芳娜敏静丽艳娟霞秀玲燕红婷雪琳晶颖慧莹倩洁萍丹蕾薇璐菲妍琪怡欣悦涵萱瑶诗雨梦佳"
              "婉露茜岚琴淑惠美凤兰梅桂月彤馨蓉媛曦可心雅若晓小亚珊珍翠霏娅妮姗")
GIVEN2 = ["建国", "晓明", "子涵", "浩然", "雨轩", "欣怡", "思远", "志强", "丽华", "秀英", "桂兰",
          "玉兰", "海燕", "春梅", "建华", "文静", "晓燕", "俊杰", "一鸣", "梓萱", "宇航", "佳怡",
          "嘉豪", "振宇", "明轩", "若曦", "紫涵", "诗琪", "博文", "天佑", "昊天", "子轩", "一诺",
          "雨桐", "欣妍", "思琪", "嘉怡", "浩宇", "俊熙", "梦洁", "丽娟", "秀兰", "凤英", "淑珍",
          "国栋", "国华", "卫国", "建军", "红梅", "玉梅", "志刚", "永强", "晓东", "学军", "德明",
          "金龙", "海涛", "少华", "立新", "伟民", "雪梅", "慧敏", "静怡", "晨阳", "亦凡", "沐辰",
          "景行", "之恒", "云舒", "清扬", "鹤年", "松涛", "兆麟", "芷若", "婉清", "语嫣", "润之"]
# Given names that are ordinary words (王平安, 张伟大, 李明白).
WORD_GIVEN = ["平安", "伟大", "明白", "胜利", "和平", "光明", "建设", "海洋", "自强", "永远", "红旗",
              "跃进", "国庆", "爱国", "振兴", "兴旺", "发财", "富贵", "长江", "安然", "欣然", "天明",
              "春风", "秋实", "晓光", "德才", "金山", "银河", "团结", "前进", "进步", "幸福", "快乐",
              "美丽", "英雄", "文化", "红军", "解放", "朝阳", "东风", "新华", "建业", "宏图", "成才",
              "有才", "满意", "顺利", "如意", "吉祥", "勇敢", "聪明", "秀丽", "清白", "大海", "小龙"]
# Whole names that read as words.
WORD_NAMES = ["石磊", "金鑫", "常青", "于洋", "夏天", "白云", "林立", "向阳", "黎明", "宁静", "成功",
              "方正", "高山", "齐心", "安康", "文静", "万里", "江河", "梅花", "关心", "温暖", "高尚",
              "杨柳", "马力", "金星", "洪涛", "丁香"]

# Dotted transliterations: first and last parts.
DOT_FIRST = ["阿卜杜拉", "买买提", "古丽娜尔", "迪丽拜尔", "艾尔肯", "热依拉", "阿依古丽", "努尔兰",
             "帕提古丽", "约翰", "玛丽亚", "亚历山大", "安德烈", "伊万", "娜塔莎", "穆罕默德",
             "阿里木", "吐尔洪", "米热古丽", "巴图", "乌兰", "斯琴", "扎西", "卓玛", "次仁",
             "威廉", "乔治", "伊丽莎白", "凯瑟琳", "托马斯", "弗朗索瓦", "汉斯", "卡尔"]
DOT_LAST = ["艾买提", "吐尔逊", "阿不都", "热合曼", "司马义", "库尔班", "买合木提", "阿吾提",
            "史密斯", "加西亚", "彼得罗夫", "伊万诺夫", "穆勒", "施密特", "约翰逊", "布朗", "巴特尔",
            "朝鲁", "多吉", "格桑", "阿力木", "肉孜", "依明", "沙吾提", "哈斯木", "马丁", "杜邦"]
DOTS = ["·", "·", "·", "•", "・"]

# Traditional-character names (Hong Kong, Taiwan, Macau).
TRAD_SURNAMES = list("陳李黃張梁林劉吳何王鄭楊謝羅郭曾周蔡葉馮鄧蘇盧許朱潘袁余胡彭鍾莫麥譚蕭程"
                     "關杜馬區岑冼鄺植文伍勞甘凌鄔廖范湯姚溫方翁孔崔傅龐韋")
TRAD_W = 1.0 / np.arange(1, len(TRAD_SURNAMES) + 1) ** 0.8
TRAD_W /= TRAD_W.sum()
TRAD_COMPOUND = ["歐陽", "司徒", "上官", "諸葛", "司馬", "端木"]
TRAD_GIVEN = ["志偉", "嘉欣", "家豪", "詠詩", "美玲", "浩然", "俊傑", "凱琳", "雅婷", "子晴", "偉文",
              "國強", "少華", "淑儀", "慧敏", "寶儀", "家樂", "德華", "嘉慧", "綺雯", "穎欣", "梓晴",
              "振邦", "永康", "錦輝", "麗娟", "玉珍", "潔瑩", "曉彤", "卓謙", "樂瑤", "柏霖", "思穎",
              "佩珊", "家駿", "俊賢", "燕萍", "惠芬", "漢明", "耀祖", "國華", "秀蘭", "偉強", "凱欣",
              "婉婷", "詩韻", "頌恩", "敏儀", "健雄", "志明", "偉業", "嘉琪", "碧霞", "鳳儀", "朗軒",
              "天賜", "錦榮", "兆基", "達明", "銘恩", "芷晴", "靜雯", "建業", "翠華"]
TRAD_GIVEN1 = list("偉豪傑強明華輝榮軍敏雯玲儀欣珊琪娟霞鳳蘭麗穎瑩")

# Latin names: Hong Kong given names + romanised surnames; Western names; pinyin names.
HK_EN_GIVEN = ["Kelvin", "Ivan", "Winnie", "Peggy", "Ken", "Alex", "Joyce", "Karen", "Eric", "Carmen",
               "Vincent", "Queenie", "Priscilla", "Ronald", "Gigi", "Kenny", "Jacky", "Fanny", "Wilson",
               "Raymond", "Bonnie", "Edmond", "Stanley", "Candy", "Connie", "Derek", "Heidi", "Terence"]
HK_EN_SURNAME = ["Chan", "Wong", "Lee", "Cheung", "Leung", "Lam", "Lau", "Ng", "Ho", "Cheng", "Yeung",
                 "Tse", "Law", "Kwok", "Tsang", "Chow", "Choi", "Yip", "Fung", "Tang", "So", "Lo", "Hui",
                 "Chu", "Poon", "Yuen", "Mak", "Tam", "Siu", "Kwan", "Au", "Sham"]
WEST_GIVEN = ["David", "Sarah", "Michael", "Emily", "James", "Laura", "Robert", "Olivia", "Daniel",
              "Sophie", "Thomas", "Hannah", "Peter", "Julia", "Mark", "Anna"]
WEST_SURNAME = ["Smith", "Johnson", "Brown", "Miller", "Taylor", "Anderson", "Martin", "Clarke",
                "Walker", "Wright", "Hughes", "Fischer", "Dubois", "Rossi", "Keller", "Novak"]
PINYIN_NAMES = ["Zhang Wei", "Li Na", "Wang Fang", "Liu Yang", "Chen Jing", "Zhao Lei", "Huang Min",
                "Zhou Tao", "Wu Xiaoming", "Xu Jianguo", "Sun Li", "Ma Chao", "Hu Jun", "Zhu Hong"]

# Titles after a bare surname (person_title): simplified and Hong Kong/traditional.
TITLES = ["总", "经理", "先生", "小姐", "女士", "老师", "主任", "律师", "医生", "姐", "哥", "工",
          "董", "处", "行长", "总监", "科长", "阿姨", "师傅", "局", "会计", "助理", "博士", "老板"]
TRAD_TITLES = ["生", "太", "小姐", "先生", "女士", "經理", "總", "Sir", "sir", "姑娘", "伯", "師傅",
               "老師", "律師", "醫生", "主席", "董", "姐", "哥"]


def common_surname(rng: np.random.Generator) -> str:
    return COMMON[rng.choice(len(COMMON), p=COMMON_W)]


def trad_surname(rng: np.random.Generator) -> str:
    return TRAD_SURNAMES[rng.choice(len(TRAD_SURNAMES), p=TRAD_W)]


def _pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def given(rng: np.random.Generator, length: int) -> str:
    """A simplified given name of 1 or 2 characters."""
    pool = MALE if rng.random() < 0.55 else FEMALE
    if length == 1:
        return _pick(rng, pool)
    if rng.random() < 0.45:
        return _pick(rng, GIVEN2)
    a, b = _pick(rng, pool), _pick(rng, pool)
    return a + b if a != b or rng.random() < 0.5 else a + _pick(rng, pool)


def draw_simplified(rng: np.random.Generator, kind: str = "any") -> tuple[str, str]:
    """A simplified Chinese name of the asked kind ('any' mixes them)."""
    if kind == "any":
        kind = ["common3", "common2", "rare", "compound", "word_given", "word_name", "double",
                "dotted"][rng.choice(8, p=[0.53, 0.2, 0.07, 0.06, 0.05, 0.03, 0.02, 0.04])]
    if kind == "common3":
        return common_surname(rng) + given(rng, 2), "3char"
    if kind == "common2":
        return common_surname(rng) + given(rng, 1), "2char"
    if kind == "rare":
        name = _pick(rng, RARE) + given(rng, 1 + int(rng.random() < 0.7))
        return name, "rare_surname"
    if kind == "compound":
        name = _pick(rng, COMPOUND) + given(rng, 1 + int(rng.random() < 0.6))
        return name, "compound_surname"
    if kind == "word_given":
        return common_surname(rng) + _pick(rng, WORD_GIVEN), "word_given"
    if kind == "word_name":
        return _pick(rng, WORD_NAMES), "word_name"
    if kind == "double":  # two surnames + given name (mainland double-barrelled)
        return common_surname(rng) + common_surname(rng) + given(rng, 2), "4char"
    if kind == "dotted":
        return _pick(rng, DOT_FIRST) + _pick(rng, DOTS) + _pick(rng, DOT_LAST), "dotted"
    raise ValueError(f"unknown name kind {kind!r}")


def draw_trad(rng: np.random.Generator, kind: str = "any") -> tuple[str, str]:
    """A traditional-character name; 'married' is husband's surname + own full name."""
    if kind == "any":
        kind = ["trad3", "trad2", "married", "trad_compound"][
            rng.choice(4, p=[0.62, 0.14, 0.18, 0.06])]
    if kind == "trad3":
        return trad_surname(rng) + _pick(rng, TRAD_GIVEN), "trad_3char"
    if kind == "trad2":
        return trad_surname(rng) + _pick(rng, TRAD_GIVEN1), "trad_2char"
    if kind == "married":
        husband, own = trad_surname(rng), trad_surname(rng)
        while own == husband:
            own = trad_surname(rng)
        return husband + own + _pick(rng, TRAD_GIVEN), "married"
    if kind == "trad_compound":
        return _pick(rng, TRAD_COMPOUND) + _pick(rng, TRAD_GIVEN), "compound_surname"
    raise ValueError(f"unknown name kind {kind!r}")


def draw_latin(rng: np.random.Generator) -> tuple[str, str]:
    r = rng.random()
    if r < 0.45:
        return f"{_pick(rng, HK_EN_GIVEN)} {_pick(rng, HK_EN_SURNAME)}", "latin"
    if r < 0.75:
        return f"{_pick(rng, WEST_GIVEN)} {_pick(rng, WEST_SURNAME)}", "latin"
    return _pick(rng, PINYIN_NAMES), "latin"


def hk_english(rng: np.random.Generator) -> str:
    return f"{_pick(rng, HK_EN_GIVEN)} {_pick(rng, HK_EN_SURNAME)}"


def draw_title(rng: np.random.Generator, trad: bool = False) -> str:
    """A bare surname with a title or affix (王总, 老李, 小王; 陳生, 黃太, 何sir)."""
    if trad:
        s = trad_surname(rng)
        r = rng.random()
        if r < 0.12:
            return "阿" + s
        return s + _pick(rng, TRAD_TITLES)
    s = common_surname(rng)
    r = rng.random()
    if r < 0.12:
        return "老" + s
    if r < 0.22:
        return "小" + s
    if r < 0.27:
        return _pick(rng, COMPOUND) + _pick(rng, ["总", "经理", "女士", "先生"])
    return s + _pick(rng, TITLES)
