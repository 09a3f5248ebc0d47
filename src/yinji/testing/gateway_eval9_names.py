"""Name lists and name makers of the tenth held-out name set (gateway_eval9).

Written from general knowledge for this set only (no detector word list, no earlier set read).
Every maker returns (text, spans, types): spans are (start, end, category) relative to the text,
types are tags the generator's test counts (zh2/zh3/zh4/zh5 by Han length, and the name's kind).
"""

from __future__ import annotations

import numpy as np

# Commoner surnames, roughly in order of frequency (drawn with Zipf weights).
COMMON = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺"
    "顾毛郝龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧"
    "耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙"
    "鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫"
    "米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝"
)
_W = 1.0 / np.arange(1, len(COMMON) + 1) ** 1.05
COMMON_P = _W / _W.sum()

# Rare single surnames (real, mostly seen a few times per hundred thousand people or less).
RARE = sorted(set(
    "亢仉仝訾郗逄郜扈蔺昝郦滑睢禚敬揭眭蹇阙璩芮钮郇帅亓乜乐归海习钭晁阚寿郁荀茅禹伏双盖晋"
    "谈宓勾计伊宦鞠暴冀郏浦尉戈后过邰隗桓权逯盍益濮牧蓟厍融那毋养须丰巢蒯相荆红竺贲邴糜"
    "松井富乌巴弓山蓬班仰秋厉戎祖束幸韶薄印宿怀从鄂索咸籍赖屠阴胥能苍闻莘贡劳扶堵宰雍却"
    "通燕尚别充慕茹鱼容慎庾终暨居衡步都满弘匡国广禄东殳沃利蔚越夔隆夏侯汲邸嵇衣矫佴酆"
    "郎台漆雒渠淡贝乔展檀钦银闾浑邗戢郈鄢粘羿巨危缑镡蒿库谌邵靖肇琚鲜於充庹冼植揭谯覃"
    "阿爱伯昌储楚笪达代刀道狄督端法凤福傅干公官哈杭禾惠花家况栗廉练令伦冒墨木南年皮平强"
    "琴裘水斯粟铁奚宣言元云郧湛战招支诸操"
) - set(COMMON) - set("夏侯"))
COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙",
            "宇文", "司徒", "司空", "夏侯", "令狐", "端木", "轩辕", "独孤", "南宫", "西门",
            "百里", "呼延", "万俟", "澹台", "公冶", "宗政", "濮阳", "淳于", "单于", "太叔",
            "申屠", "闻人", "赫连", "钟离", "拓跋", "第五", "左丘", "东郭", "梁丘", "羊舌"]

GIVEN_CHARS = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉玲波宇浩凯健俊帆帅旭宁"
    "龙林欣琳颖佳嘉怡雪婷倩楠瑶璐晨阳昊然睿哲轩泽宸梓涵萱彤悦诗雨欣妍晗琪博文斌斐雯蕾蓓"
    "薇茜晖晟晔昕炜烨琛瑜瑾璇珂瑞祥福禄寿春夏秋冬松柏竹梅菊荷莲峰岚川江河海波涌澜翔鸿鹤"
    "鹰骏驰腾飞志远毅坚诚信义礼智仁德贤良善宏伦光耀东辰星月霖露霏雷云霓岳崇峻"
    "书琴棋画墨翰章彬彦哲思源清澈淳洁馨香芝蓉芸蔚莹璐琰玮珏珊琼瑛璟曦晓旻昱晴朗"
)
# Given names that are ordinary words (名字是常用词).
WORD_GIVEN = ["建国", "建军", "国庆", "建设", "平安", "海洋", "文明", "志强", "红旗", "卫东",
              "向阳", "春梅", "秋菊", "冬梅", "光明", "胜利", "爱国", "和平", "建华", "振华",
              "立新", "永红", "跃进", "学文", "金山", "海燕", "彩霞", "丽华", "晓峰", "新民",
              "援朝", "国强", "淑珍", "桂芳", "玉兰", "秀英", "德胜", "长江", "黎明", "东升",
              "富贵", "春华", "丰收", "卫国", "红梅", "利民", "明亮", "家乐", "一鸣", "天佑",
              "思远", "子豪", "雨轩", "梓萱", "浩然", "可欣", "天天", "乐乐", "安琪", "小梅"]
# Whole names that read as words (高明 = brilliant, 石磊 = stones).
WHOLE_WORD = ["高明", "石磊", "江涛", "方圆", "常青", "夏雨", "金鑫", "朱红", "黄河", "白云",
              "林立", "安康", "文静", "雷鸣", "向前", "华丽", "周全", "万里", "于洋", "马力",
              "高峰", "江河", "田野", "武功", "钱多", "金刚", "程诚", "何平", "宋词", "齐心",
              "孙悦", "常乐", "韩雪", "杨柳", "龙飞", "叶青", "胡杨", "沈默", "童话", "时光"]

TRAD_SUR = ["陳", "黃", "張", "劉", "林", "李", "王", "吳", "鄭", "梁", "何", "周", "謝", "楊",
            "許", "郭", "蔡", "曾", "蕭", "葉", "羅", "馮", "鄧", "盧", "蘇", "譚", "潘", "鍾",
            "麥", "區", "岑", "莫", "袁", "廖", "邱", "賴", "洪", "簡", "范", "余", "顏", "翁",
            "湯", "游", "魏", "韋", "馬", "高", "姚", "龔", "尹", "關", "戴", "施", "孫", "趙"]
TRAD_COMPOUND = ["歐陽", "司徒", "上官", "諸葛", "司馬", "端木", "皇甫"]
HK_GIVEN = ["志明", "家豪", "嘉欣", "詠詩", "國偉", "偉強", "淑儀", "美儀", "慧敏", "嘉慧",
            "俊傑", "浩然", "子健", "家輝", "建華", "錦華", "碧霞", "麗珍", "少華", "秀英",
            "大文", "小明", "永康", "德華", "潤發", "耀祖", "寶儀", "佩珊", "凱琳", "芷晴",
            "卓謙", "朗軒", "樂怡", "曉彤", "穎琳", "國榮", "兆基", "家誠", "少芬", "綺雯"]
HK_GIVEN1 = ["敏", "強", "儀", "華", "明", "輝", "芬", "珊", "傑", "雯", "欣", "峰"]
TW_GIVEN = ["怡君", "雅婷", "淑芬", "家豪", "志偉", "宗翰", "冠宇", "俊宏", "美玲", "佳穎",
            "詩涵", "承恩", "柏翰", "怡萱", "雅雯", "建宏", "淑惠", "鈺婷", "郁婷", "宜蓁",
            "信宏", "彥廷", "品妤", "筱涵", "育誠", "振宇", "秀蘭", "麗卿", "文雄", "金龍"]
# Malaysian / Singaporean Chinese: name with its dialect romanisation.
MY_PAIRS = [("林文忠", "Lim Boon Chong"), ("陈金发", "Tan Kim Huat"), ("黄志强", "Ng Chee Keong"),
            ("李美玲", "Lee Mei Ling"), ("郑国荣", "Tay Kok Weng"), ("吴淑仪", "Goh Siew Yee"),
            ("张伟明", "Teo Wee Meng"), ("蔡丽华", "Chua Lay Hua"), ("杨俊杰", "Yeo Choon Kiat"),
            ("王秀珍", "Ong Siew Chin"), ("许德华", "Koh Teck Wah"), ("刘嘉欣", "Lau Ka Yan"),
            ("谢明辉", "Chia Meng Hui"), ("洪振发", "Ang Chin Huat"), ("叶佩玲", "Yap Pei Ling"),
            ("邱志远", "Khoo Chee Wan"), ("曾丽萍", "Chan Lay Peng"), ("罗国华", "Loh Kok Wah"),
            ("苏文杰", "Soh Boon Kiat"), ("赖美琪", "Lai Mei Kee")]
JP_SUR = ["佐藤", "铃木", "高桥", "田中", "渡边", "伊藤", "山本", "中村", "小林", "加藤",
          "吉田", "山田", "佐佐木", "松本", "井上", "木村", "清水", "山口", "池田", "桥本",
          "石川", "前田", "藤田", "小川", "冈田", "村上", "长谷川", "近藤", "西村", "森田"]
JP_GIVEN = ["太郎", "健一", "浩二", "大辅", "翔太", "直树", "美咲", "由美", "惠子", "阳子",
            "和也", "拓也", "真由美", "裕子", "明美", "诚", "优子", "健太", "雄一", "千寻"]
KR_SUR = ["金", "李", "朴", "崔", "郑", "姜", "赵", "尹", "张", "林", "韩", "申", "权", "黄"]
KR_GIVEN = ["敏俊", "智妍", "秀贤", "在勇", "贤宇", "惠珍", "东赫", "允儿", "成浩", "珉浩",
            "恩惠", "俊熙", "素妍", "在范", "志勋", "夏恩", "泰民", "宝英", "相宇", "美善"]
# Uyghur / Kazakh and other names written with a separating dot.
DOT_PARTS = ["买买提", "艾力", "阿不都", "热依拉", "阿依古丽", "古丽米拉", "迪丽娜尔", "努尔",
             "吐尔逊", "麦麦提", "艾克拜尔", "阿布力孜", "帕提古丽", "热合曼", "依明", "卡德尔",
             "玉素甫", "阿迪力", "再努尔", "米热古丽", "努尔兰", "叶尔兰", "巴合提亚尔", "赛力克",
             "阿依努尔", "托合提", "沙吾提", "祖丽菲亚", "木合塔尔", "阿曼古丽"]
FOREIGN = ["约翰·史密斯", "大卫·陈", "玛丽亚·罗德里格斯", "彼得·沃森", "安娜·李",
           "迈克尔·布朗", "詹姆斯·威尔逊", "罗伯特·泰勒", "伊丽莎白·琼斯", "亚历山大·伊万诺夫",
           "托马斯·穆勒", "苏菲·马丁", "克里斯·黄", "艾米丽·张", "丹尼尔·金"]
DOTS = ["·", "•", "・"]
# Tibetan and Mongolian names (no surname).
NO_SURNAME = ["扎西次仁", "格桑卓玛", "次仁旺堆", "德吉央宗", "巴特尔", "其其格", "乌云",
              "额尔敦", "斯琴高娃", "那日苏", "阿拉坦", "索朗多吉", "拉巴次仁", "白玛央金",
              "旦增尼玛", "朝鲁门", "宝音", "乌日娜", "达瓦卓嘎", "嘎玛"]

LATIN = ["Chan Tai Man", "Wong Siu Ming", "Leung Ka Wai", "Cheung Wing Kei", "Lau Chi Keung",
         "Ho Mei Ling", "Tsang Kwok Fai", "Yeung Hoi Yan", "Lam Ka Ho", "Ng Wai Kit",
         "Zhang Wei", "Li Na", "Wang Jianguo", "Liu Yang", "Chen Xiaoyu", "Zhao Lei",
         "John Smith", "Emily Chen", "David Wong", "Michael Lee", "Sarah Lim", "Kevin Zhou",
         "Tony Wang", "Grace Ho", "Jason Tan", "Vivian Cheung", "Peter Ng", "Amy Lau",
         "Lin Chih Hao", "Chang Ya Ting", "Huang Kuan Yu", "Richard Kwok", "Helen Yip",
         "Takahashi Kenji", "Kim Min Jun", "Park Ji Yeon"]
EN_GIVEN = ["Tony", "Amy", "Kevin", "Jason", "Cathy", "Vivian", "Eric", "Alice", "Michael",
            "Grace", "Peter", "Winnie", "Jack", "Sandy", "Ken", "Ivy", "Leo", "Joyce", "Frank",
            "Helen", "Bella", "Sam", "Coco", "Ray"]

TITLES = ["总", "经理", "总监", "主任", "老师", "律师", "医生", "先生", "女士", "小姐", "姐", "哥",
          "工", "处", "董", "行长", "会计", "师傅", "助理", "科长", "阿姨", "叔"]
TITLES_TRAD = ["生", "太", "先生", "小姐", "女士", "經理", "總", "主任", "律師", "姑娘", "Sir",
               "老闆", "醫生", "師傅"]
PREFIXES = ["老", "小", "阿"]

ALL_SURNAMES = frozenset(COMMON) | frozenset(RARE) | frozenset(COMPOUND) | frozenset(
    TRAD_SUR) | frozenset(TRAD_COMPOUND) | frozenset(KR_SUR)


def _given(rng: np.random.Generator, k: int) -> str:
    return "".join(GIVEN_CHARS[int(i)] for i in rng.integers(len(GIVEN_CHARS), size=k))


def _pick(rng: np.random.Generator, xs):
    return xs[int(rng.integers(len(xs)))]


def _len_tag(name: str) -> str:
    n = sum(1 for ch in name if "\u3400" <= ch <= "\u9fff")
    return f"zh{min(n, 5)}"


def _one(name: str, *types: str) -> tuple[str, list, list]:
    return name, [(0, len(name), "person")], [_len_tag(name), *types]


def common(rng):
    sur = COMMON[int(rng.choice(len(COMMON), p=COMMON_P))]
    return _one(sur + _given(rng, 1 if rng.random() < 0.22 else 2), "common")


def rare(rng):
    return _one(_pick(rng, RARE) + _given(rng, 1 if rng.random() < 0.3 else 2), "rare")


def compound(rng):
    return _one(_pick(rng, COMPOUND) + _given(rng, 1 if rng.random() < 0.4 else 2), "compound")


def wordlike(rng):
    sur = COMMON[int(rng.choice(len(COMMON), p=COMMON_P))]
    return _one(sur + _pick(rng, WORD_GIVEN), "wordlike")


def whole_word(rng):
    return _one(_pick(rng, WHOLE_WORD), "whole_word")


def double(rng):
    a, b = rng.choice(40, size=2, replace=False)
    return _one(COMMON[int(a)] + COMMON[int(b)] + _given(rng, 2), "double")


def dotted(rng):
    a, b = rng.choice(len(DOT_PARTS), size=2, replace=False)
    return _one(DOT_PARTS[int(a)] + _pick(rng, DOTS) + DOT_PARTS[int(b)], "dotted")


def foreign(rng):
    return _one(_pick(rng, FOREIGN).replace("·", _pick(rng, DOTS)), "translit")


def no_surname(rng):
    return _one(_pick(rng, NO_SURNAME), "no_surname")


def japanese(rng):
    return _one(_pick(rng, JP_SUR) + _pick(rng, JP_GIVEN), "japanese")


def korean(rng):
    return _one(_pick(rng, KR_SUR) + _pick(rng, KR_GIVEN), "korean")


def hk(rng):
    given = _pick(rng, HK_GIVEN) if rng.random() < 0.85 else _pick(rng, HK_GIVEN1)
    return _one(_pick(rng, TRAD_SUR) + given, "trad", "hk")


def tw(rng):
    return _one(_pick(rng, TRAD_SUR) + _pick(rng, TW_GIVEN), "trad", "tw")


def trad_compound(rng):
    return _one(_pick(rng, TRAD_COMPOUND) + _pick(rng, HK_GIVEN + TW_GIVEN), "trad", "compound")


def married(rng):
    """Hong Kong married name: husband's surname, own surname, given name (陳黃美玲)."""
    a, b = rng.choice(len(TRAD_SUR), size=2, replace=False)
    return _one(TRAD_SUR[int(a)] + TRAD_SUR[int(b)] + _pick(rng, HK_GIVEN), "trad", "married")


def latin(rng):
    name = _pick(rng, LATIN)
    return name, [(0, len(name), "person")], ["latin"]


def en_pair(rng, han_maker=None):
    """English given name beside a Chinese name (Tony 王志强 / 王志强Tony): only the Chinese
    name is gold -- an English given name alone is a nickname, not a full name."""
    name, _, types = (han_maker or common)(rng)
    en = _pick(rng, EN_GIVEN)
    style = int(rng.integers(4))
    if style == 0:
        text, s = f"{en} {name}", len(en) + 1
    elif style == 1:
        text, s = f"{en}{name}", len(en)
    elif style == 2:
        text, s = f"{name}{en}", 0
    else:
        text, s = f"{name}（{en}）", 0
    return text, [(s, s + len(name), "person")], [*types, "en_pair"]


def my_pair(rng):
    """Malaysian/Singaporean name with its romanisation: two spans, both gold."""
    zh, rom = _pick(rng, MY_PAIRS)
    if rng.random() < 0.5:
        text = f"{rom}（{zh}）"
        spans = [(0, len(rom), "person"), (len(rom) + 1, len(rom) + 1 + len(zh), "person")]
    else:
        text = f"{zh} {rom}"
        spans = [(0, len(zh), "person"), (len(zh) + 1, len(text), "person")]
    return text, spans, ["zh3", "my", "latin"]


# The simplified mix behind {P}: (maker, weight).
MIX = [(common, 52), (rare, 12), (compound, 6), (wordlike, 8), (whole_word, 3), (double, 3),
       (dotted, 3), (foreign, 1.5), (no_surname, 1.5), (japanese, 2), (korean, 2), (hk, 1.5),
       (tw, 0.8), (married, 0.7)]
TRAD_MIX = [(hk, 48), (tw, 25), (married, 10), (trad_compound, 6), (rare, 4), (dotted, 3),
            (common, 4)]


def _mixer(mix):
    makers = [m for m, _ in mix]
    w = np.array([w for _, w in mix], dtype=float)
    return makers, w / w.sum()


_MIXES = {"zh": _mixer(MIX), "trad": _mixer(TRAD_MIX)}


def person(rng, script: str = "zh"):
    makers, p = _MIXES[script]
    return makers[int(rng.choice(len(makers), p=p))](rng)


def title(rng, trad: bool = False):
    """A bare surname with a title or a 老/小/阿 prefix (王总, 陳生, 老李): person_title."""
    if trad:
        sur = _pick(rng, TRAD_SUR)
        t = sur + _pick(rng, TITLES_TRAD) if rng.random() < 0.8 else _pick(rng, PREFIXES) + sur
    else:
        sur = COMMON[int(rng.choice(60, p=COMMON_P[:60] / COMMON_P[:60].sum()))]
        t = sur + _pick(rng, TITLES) if rng.random() < 0.7 else _pick(rng, PREFIXES) + sur
    return t, [(0, len(t), "person_title")], ["title"]


def ocr_space(rng, text: str, spans: list) -> tuple[str, list]:
    """Put one or two spaces between some characters of each Han person span (a scanned
    form): the span keeps its spaces."""
    out, new, pos = [], [], 0
    for s, e, c in spans:
        out.append(text[pos:s])
        value = text[s:e]
        if c == "person" and any("\u3400" <= ch <= "\u9fff" for ch in value):
            chars = list(value)
            gaps = [" " * int(rng.integers(1, 3)) if rng.random() < 0.7 else ""
                    for _ in chars[1:]]
            if not any(gaps):
                gaps[int(rng.integers(len(gaps)))] = " "
            value = chars[0] + "".join(g + ch for g, ch in zip(gaps, chars[1:], strict=True))
        start = sum(map(len, out))
        out.append(value)
        new.append((start, start + len(value), c))
        pos = e
    out.append(text[pos:])
    return "".join(out), new
