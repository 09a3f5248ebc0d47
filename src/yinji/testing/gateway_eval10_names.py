"""Name lists and name makers of gateway_eval10 (the eleventh held-out names set, #16).

Written from general knowledge for this set only. `make_name(rng, kind)` returns
(text, surname, name_type): text is exactly what the gold person span covers.
"""

from __future__ import annotations

import numpy as np

# Commonest surnames, roughly in order of frequency (drawn with Zipf weights).
COMMON = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
    "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
    "毛郝龚邵万钱严覃武戴莫孔向汤")

# Rarer single surnames (several hundred; some look like ordinary words or function words).
RARE = sorted(set(
    "岳庞樊兰殷施洪安颜倪牛温芦季俞章鲁葛伍申尤毕聂丛焦柳邢路齐梅庄辛管祝左涂谷祁时舒耿牟卜"
    "詹关苗凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位霍翁隋植甘景薄单包司柏宁柯阮桂闵解强柴华"
    "车冉房边辜吉饶刁瞿戚丘古米池滕晋苑邬臧畅宫来苟全褚廉简娄盖符奚木穆党燕郎邸冀谈姬屠连郜"
    "晏栾郁商蒙计喻揭窦迟宇敖糜鄢冷卓花仇艾蓝巩嵇井练仲乐虞卞封竺冼原官衣楚佟栗匡宗应巫鞠"
    "桑荆谌银扬明沙伏岑习胥保蔺云昌凤酆常皮康元平萧湛禹贝茅麻危骆支经裘缪干宣贲杭诸钮荣荀"
    "羊於惠芮羿储汲邴松富乌巴弓牧隗山宓蓬郗班仰秋伊暴钭厉戎祖束韶蓟印宿怀蒲邰从鄂索咸籍赖"
    "乔阴苍双闻莘贡劳逄扶堵宰郦雍璩濮寿扈郏浦尚农别阎充慕茹宦鱼容易慎戈庾暨居衡步满弘寇广"
    "文禄阙东殳沃利蔚越夔隆师厍晁勾融訾阚那须丰巢蒯相权逯益桓仝帅揭展粟佘冼靖旷麦区"
    ) - set(COMMON))

COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
            "司徒", "令狐", "夏侯", "轩辕", "端木", "独孤", "南宫", "呼延", "澹台", "申屠", "钟离",
            "闻人", "万俟", "太史", "濮阳", "赫连", "拓跋", "左丘", "司空", "乐正", "第五", "西门",
            "百里", "东郭", "公冶"]

MALE = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国峰亮成志海"
            "晨博文斌彬翔晖政锋昊天泽轩睿哲铭瑞嘉振坤鸿毅琛骏晟煜恺楠栋梁岩松柏钧铮")
FEMALE = list("芳娜敏静丽艳娟霞秀玲桂英梅琳燕婷雪莉倩颖慧佳琪蕾璐欣怡萱涵悦彤妍瑶茜薇晶菲"
              "岚蓉婉晓月露洁琴红丹蓓媛姗诗雯瑾萍")
# Two-character given names as parents actually choose them (drawn half of the time).
GIVEN2 = ["子涵", "浩然", "欣怡", "梓萱", "志伟", "丽娟", "建平", "海波", "晓东", "雨桐", "思远",
          "佳怡", "俊杰", "婷婷", "文博", "一鸣", "诗涵", "宇轩", "若曦", "嘉懿", "明轩", "梓涵",
          "晓燕", "秀兰", "桂兰", "玉梅", "志刚", "振宇", "海涛", "春生", "永红", "金凤", "丽萍",
          "德胜", "少华", "美玲", "国栋", "家豪", "天佑", "雅琴", "慧敏", "晓峰", "立军", "红霞",
          "亚楠", "鹏飞", "俊豪", "思琪", "静怡", "宏伟", "海峰", "凤英", "学军", "新华", "玉珍",
          "世杰", "泽宇", "梦瑶", "心怡", "博文", "子轩", "一诺", "沐阳", "语嫣", "晨曦", "嘉豪",
          "婉清", "书瑶", "锦程", "韵涵", "家明", "树林", "长青", "惠芬", "翠兰", "金龙", "永福",
          "海龙", "晓丽", "振国", "宝华", "淑芬", "卫平", "雪梅", "瑞祥", "启明", "思源", "乐怡"]
# Given names that are ordinary words (王建设, 李平安): gold all the same.
WORD_GIVEN = ["建国", "建军", "国庆", "海燕", "春梅", "秀英", "志强", "平安", "和平", "胜利",
              "光明", "海洋", "建设", "发展", "长江", "东方", "红旗", "卫东", "振华", "永久",
              "文化", "新民", "爱国", "国强", "建华", "建平", "金山", "玉兰", "桂芳", "淑珍",
              "丽华", "文静", "晓红", "春花", "秋菊", "冬梅", "立新", "跃进", "向阳", "朝阳",
              "红梅", "美丽", "前进", "援朝", "抗美", "解放", "卫国", "小平", "玉芬", "德华"]
# Whole names that read as words (高明, 石磊, 方圆, 江山): gold in a person context.
WORD_WHOLE = ["高明", "石磊", "方圆", "江山", "金星", "林立", "白云", "常青", "文明", "黄河",
              "夏天", "宋词", "齐心", "向前", "安宁", "柳青", "周全", "任重", "马力", "钱多"]

TRAD_SURNAMES = list("陳黃李張林王吳劉蔡鄭楊許謝郭梁何羅周葉曾蘇朱胡鄧盧馮譚麥區")
TRAD_GIVEN = ["大文", "志明", "嘉欣", "美玲", "偉強", "家豪", "詠詩", "俊傑", "淑儀", "國華",
              "錦輝", "寶儀", "振邦", "慧敏", "家樂", "子聰", "少芬", "永康", "綺雯", "德明",
              "秀蘭", "浩然", "潔瑩", "文傑", "佩珊", "建華", "麗珠", "志偉", "鳳儀", "卓賢"]
TRAD_FEMALE = ["嘉欣", "美玲", "詠詩", "淑儀", "寶儀", "慧敏", "少芬", "綺雯", "秀蘭", "潔瑩",
               "佩珊", "麗珠", "鳳儀"]
HK_LATIN = ["Chan Tai Man", "Wong Siu Ming", "Lee Ka Yan", "Cheung Wing Kei", "Lau Chi Keung",
            "Ng Mei Ling", "Leung Ho Yin", "Ho Wai Lun", "Tsang Kwok Wah", "Yeung Suet Ying",
            "Chow Yuk Fai", "Kwok Hiu Tung"]
LATIN = ["Zhang Wei", "Li Na", "Wang Jianguo", "Liu Yang", "Chen Jing", "Michael Zhou",
         "Jennifer Huang", "David Lin", "Grace Xu", "Kevin Tang", "Sarah Johnson",
         "Peter Müller", "Tanaka Hiroshi", "Kim Min-jun", "Olivia Martin", "James O'Brien",
         "Ahmad bin Ismail", "Lim Wei Jie", "Tan Mei Hua", "Hiroko Sato"]
# Transliterated names: Uyghur/Kazakh first and last names, and Western/Arabic ones, not mixed.
DOT_UY = (["买买提", "阿依古丽", "迪丽娜尔", "古丽米拉", "艾力", "热依拉", "努尔兰", "阿不都",
           "帕提古丽", "叶尔兰", "哈斯木", "米娜瓦尔"],
          ["艾力", "吐尔逊", "阿不都拉", "沙塔尔", "依明", "热合曼", "库尔班", "托合提", "阿合买提",
           "木沙", "努尔"])
DOT_WEST = (["约翰", "玛丽亚", "安东尼", "伊万", "亚历山大", "娜塔莎", "穆罕默德", "阿卜杜拉"],
            ["史密斯", "彼得罗夫", "卡里莫夫", "巴克", "加尔西亚", "哈桑", "米勒"])
DOT_FIRST = DOT_UY[0] + DOT_WEST[0]
DOT_LAST = DOT_UY[1] + DOT_WEST[1]
DOTS = ["·", "·", "·", "•", "・"]
# Names without a Han surname (Tibetan, Mongolian, Japanese, Korean).
OTHER = ["扎西次仁", "德吉卓玛", "格桑平措", "央金", "巴特尔", "乌兰图雅", "斯琴高娃", "其木格",
         "山本健一", "佐藤美咲", "铃木一郎", "渡边雅人", "高桥由美", "金敏洙", "朴智勋", "崔秀妍"]

NAME_KINDS = ("common3", "common2", "rare", "compound", "word", "double", "dot", "other",
              "trad", "married", "latin", "ocr")


def zipf(k: int, a: float = 1.0) -> np.ndarray:
    w = 1.0 / np.arange(1, k + 1) ** a
    return w / w.sum()


_COMMON_P = zipf(len(COMMON), 0.9)


def pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def surname(rng: np.random.Generator) -> str:
    """A surname for a bare title (王总): mostly common, sometimes rare or compound."""
    u = rng.random()
    if u < 0.8:
        return COMMON[int(rng.choice(len(COMMON), p=_COMMON_P))]
    return pick(rng, RARE) if u < 0.96 else pick(rng, COMPOUND)


def given(rng: np.random.Generator, size: int) -> str:
    if size == 2 and rng.random() < 0.5:
        return pick(rng, GIVEN2)
    pool = MALE if rng.random() < 0.5 else FEMALE
    out = "".join(pick(rng, pool) for _ in range(size))
    if size == 2 and out[0] == out[1] and rng.random() < 0.7:
        out = out[0] + pick(rng, pool)
    return out


# Default mix of a Han-context name slot; shares of NAME_KINDS minus trad/latin/ocr.
_MIX = [("common3", 0.50), ("common2", 0.13), ("rare", 0.13), ("compound", 0.04),
        ("word", 0.07), ("double", 0.04), ("dot", 0.05), ("other", 0.04)]
_MIX_P = np.array([p for _, p in _MIX]) / sum(p for _, p in _MIX)


def make_name(rng: np.random.Generator, kind: str = "zh") -> tuple[str, str, str]:
    """(name text, its surname or '', name type) for slot kind zh / hk / hkf / dot / en / ocr."""
    if kind == "zh":
        kind = _MIX[int(rng.choice(len(_MIX), p=_MIX_P))][0]
    if kind == "hkf":  # a woman: 小姐, 女士, 太太
        if rng.random() < 0.35:
            return make_name(rng, "married")
        s = pick(rng, TRAD_SURNAMES)
        return s + pick(rng, TRAD_FEMALE), s, "trad"
    if kind == "hk":
        kind = "married" if rng.random() < 0.2 else "trad"
    if kind == "ocr":
        text, sur, _ = make_name(rng, "common3" if rng.random() < 0.7 else "zh")
        if rng.random() < 0.7:
            spaced = " ".join(text)
        else:
            cut = int(rng.integers(1, len(text)))
            spaced = text[:cut] + " " + text[cut:]
        return spaced, sur, "ocr"
    if kind in ("common3", "common2"):
        s = COMMON[int(rng.choice(len(COMMON), p=_COMMON_P))]
        g = given(rng, 2 if kind == "common3" else 1)
        return s + g, s, kind
    if kind == "rare":
        s = pick(rng, RARE)
        return s + given(rng, 2 if rng.random() < 0.7 else 1), s, kind
    if kind == "compound":
        s = pick(rng, COMPOUND)
        return s + given(rng, 1 if rng.random() < 0.6 else 2), s, kind
    if kind == "word":
        if rng.random() < 0.7:
            s = COMMON[int(rng.choice(len(COMMON), p=_COMMON_P))]
            return s + pick(rng, WORD_GIVEN), s, kind
        w = pick(rng, WORD_WHOLE)
        return w, w[0], kind
    if kind == "double":
        a = COMMON[int(rng.choice(len(COMMON), p=_COMMON_P))]
        b = pick(rng, COMMON[:40])
        while b == a:
            b = pick(rng, COMMON[:40])
        return a + b + given(rng, 2), a, kind
    if kind == "dot":
        first, last = DOT_UY if rng.random() < 0.7 else DOT_WEST
        return pick(rng, first) + pick(rng, DOTS) + pick(rng, last), "", kind
    if kind == "other":
        return pick(rng, OTHER), "", kind
    if kind == "trad":
        s = pick(rng, TRAD_SURNAMES)
        return s + pick(rng, TRAD_GIVEN), s, kind
    if kind == "married":
        s, own = pick(rng, TRAD_SURNAMES), pick(rng, TRAD_SURNAMES)
        while own == s:
            own = pick(rng, TRAD_SURNAMES)
        return s + own + pick(rng, TRAD_FEMALE), s, kind
    if kind == "en":
        text = pick(rng, HK_LATIN if rng.random() < 0.4 else LATIN)
        return text, "", "latin"
    raise ValueError(f"unknown name slot kind {kind!r}")
