"""Name lists and name makers of the ninth held-out name set (gateway_eval8), written from general
knowledge without reading the detectors, their word lists or any earlier set's body.

Every maker takes the draw's numpy Generator and returns (name, types): `types` are the tags the
set's statistics and tests count (zh2/zh3/zh4, common/rare/compound/double/married/wordlike/
whole_word, dotted/translit/minority, japanese/korean, trad/hk/tw/macau/my, latin).
"""

from __future__ import annotations

import numpy as np

# ~130 common single surnames, roughly in order of frequency (Zipf-weighted below).
COMMON = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "洪赖")
# ~340 less common single surnames, drawn uniformly.
RARE = list(
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥"
    "南班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支"
    "卿国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邸雍辜羊乌母裘亓修邰赫杭况那宿鲜印逯"
    "隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
    "眭酆晃笪蹇蔚钮昌郦汝璩钭糜仰荀暴訾郗贝滑邴弓牧隗山宓蓬秋韶蓟怀从鄂咸籍能苍双莘贡逄扶堵宰"
    "却寿通郏别阎充习宦鱼慎庾终暨步弘广禄东殳沃越夔厍融毋乜养须巢蒯后竺益桓汲经羿")
COMPOUND = ["欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐",
            "长孙", "宇文", "司徒", "夏侯", "轩辕", "端木", "南宫", "独孤", "澹台", "百里",
            "呼延", "闻人", "申屠", "钟离", "左丘", "太史", "公冶", "濮阳", "淳于", "赫连",
            "拓跋", "司空", "西门", "第五", "万俟", "仲孙", "乐正", "谷梁"]

MALE = list("伟强军磊洋勇杰涛明超斌鹏辉刚波峰浩宇凯龙鑫俊飞亮博文华平建国志海东林成春晨晓子轩睿"
            "泽宁远航然哲铭翔毅恒健坤锋彬昊琦楠昕晖嘉骏豪晟瑞德源振兴旭阳栋梁松柏岩峻骁煜炜钧")
FEMALE = list("芳娜敏静丽艳娟霞秀玲燕婷雪慧颖琳倩欣怡悦萍红梅莉晶佳璐瑶蕾薇琪露茜蓉菲珊妍雯涵"
              "萱彤岚婧媛婉姗蓓黛馨璇婕琼瑾曼淑贞洁素月桂英兰凤翠娥丹青")
# Given names that are ordinary words (王建设, 李国庆, 张平安, 刘海洋).
WORD_GIVEN = ["建设", "国庆", "平安", "海洋", "光明", "春天", "大海", "红旗", "向东", "卫国",
              "利民", "振兴", "文明", "和平", "胜利", "长江", "东方", "红梅", "秋菊", "冬梅",
              "建华", "新华", "中华", "爱国", "为民", "跃进", "卫东", "宏伟", "金山", "富贵",
              "吉祥", "如意", "幸福", "美丽", "阳光", "彩虹", "天明", "建军", "国强", "海军",
              "长城", "白云", "青山", "进步", "自由", "科学", "永久", "发展", "前进", "解放",
              "援朝", "抗美", "晓东", "小平", "春华", "秋实", "志愿", "钢铁", "立新", "学文",
              "有才", "来福", "招娣", "宝贵", "铁军", "国栋", "家乐", "一帆", "天宇"]
# Surname + one character forming an ordinary word or a famous-sounding pair (高明, 石磊).
WHOLE_WORD = ["高明", "石磊", "金鑫", "江河", "方圆", "常青", "万里", "文静", "向前", "高峰",
              "林森", "马力", "钱进", "田野", "江山", "雷鸣", "柳青", "韩冰", "江涛", "林海",
              "夏天", "丁香", "金星", "白雪", "安宁", "宁静", "程功", "牛犇", "于洋", "方正",
              "毛毅", "康乐", "黎明", "华丽", "云朵", "关爱", "齐心", "包容", "时光", "段落",
              "周全", "孔明", "路遥", "易安", "梅花", "龙腾", "钟情", "管乐"]
# Tibetan and Mongolian personal names without a surname.
NO_SURNAME = ["扎西多吉", "次仁卓玛", "格桑德吉", "尼玛次仁", "旦增", "拉巴次仁", "央金",
              "巴特尔", "乌兰其其格", "那日苏", "额尔敦", "苏和", "宝音", "阿拉坦仓", "其木格",
              "德吉央宗", "索朗旺姆", "达瓦", "斯琴图雅", "朝鲁"]
UYGHUR_A = ["艾力", "阿依古丽", "买买提江", "努尔麦麦提", "迪丽拜尔", "帕尔哈提", "古丽米拉",
            "热依拉", "阿不都热合曼", "依明江", "玛依努尔", "叶尔兰", "阿斯哈尔", "吐尔逊娜依",
            "麦尔丹", "祖丽胡玛尔", "艾克拜尔", "米娜瓦尔"]
UYGHUR_B = ["买买提", "吐尔逊", "阿不都拉", "艾买提", "热合曼", "吐尔洪", "阿不力孜", "努尔兰",
            "木拉提", "沙吾提", "克里木", "艾则孜", "卡德尔", "玉素甫", "伊力哈木"]
WEST_A = ["约翰", "大卫", "迈克尔", "彼得", "安娜", "玛丽", "詹姆斯", "托马斯", "丹尼尔",
          "艾米丽", "苏菲", "劳拉", "马克", "乔治", "凯瑟琳", "亚历山大", "保罗", "露西", "汉斯"]
WEST_B = ["史密斯", "布朗", "约翰逊", "威廉姆斯", "米勒", "戴维斯", "怀特", "罗伯茨", "格林",
          "克拉克", "霍夫曼", "施密特", "穆勒", "杜邦", "马丁", "贝克", "科恩", "陈", "李"]
DOTS = ["·", "·", "·", "•", "・"]
JP_SUR = ["山本", "田中", "佐藤", "铃木", "高桥", "渡边", "伊藤", "中村", "小林", "加藤",
          "吉田", "山田", "佐佐木", "山口", "松本", "井上", "木村", "清水", "斋藤", "池田",
          "桥本", "石川", "前田", "藤田", "小川", "冈田", "长谷川", "村上", "近藤", "坂本",
          "远藤", "青木", "西村", "福田", "三浦", "藤原", "松田", "中野", "原田", "竹内"]
JP_GIVEN = ["一郎", "太郎", "健", "翔太", "大辉", "拓也", "直树", "诚", "浩二", "正雄", "美穗",
            "由美", "惠子", "阳子", "直美", "优子", "彩", "裕子", "明美", "和也", "雅人", "健太",
            "隆", "早苗", "千寻", "真一", "弘"]
KR_SUR = list("金李朴崔郑姜赵尹张林韩吴徐申权黄安宋洪")
KR_GIVEN = ["敏俊", "智妍", "承宪", "秀贤", "允浩", "志勋", "恩惠", "惠善", "秀彬", "东健",
            "在勋", "敏浩", "智敏", "多贤", "秀晶", "贤宇", "相佑", "泰熙", "宥真", "始源"]

# Traditional characters: Hong Kong, Taiwan and Macau.
TRAD_SUR = list("陳黃李張何林梁吳劉鄭王楊周謝郭馮曾鄧蔡盧羅葉蕭許麥余潘彭袁譚鍾朱胡蘇莫杜黎賴溫"
                "龐岑鄺關傅姚區冼伍范方雷翁容韋嚴湯錢顏")
TRAD_COMPOUND = ["司徒", "歐陽", "上官", "諸葛", "夏侯"]
HK_GIVEN = ["嘉欣", "家豪", "志明", "偉強", "美玲", "詠詩", "凱琳", "俊傑", "子軒", "潔瑩", "浩然",
            "國強", "麗華", "秀英", "淑儀", "寶珠", "錦榮", "振華", "卓謙", "穎欣", "曉彤", "綺雯",
            "慧敏", "嘉豪", "俊朗", "樂怡", "思敏", "芷晴", "梓豪", "煒琛", "展鵬", "耀華", "少芬",
            "惠玲", "月娥", "玉蓮", "桂英", "德明", "家輝", "啟明", "永康", "志偉", "鳳儀", "靜雯",
            "健雄", "兆基", "炳坤", "秀蘭", "婉婷", "柏宇"]
TW_GIVEN = ["怡君", "雅婷", "淑芬", "冠宇", "宗翰", "俊宏", "美惠", "佩君", "欣怡", "郁婷", "惠雯",
            "建宏", "承翰", "柏翰", "宜蓁", "詩涵", "品妍", "子晴", "冠廷", "彥廷", "聖傑", "雅雯",
            "志豪", "淑惠", "家瑋", "佳蓉"]
# Malaysian/Singaporean Chinese: simplified, often with 亚/福/金.
MY_GIVEN = ["亚福", "亚九", "金水", "德华", "志强", "美玲", "秀兰", "福来", "亚妹", "顺发",
            "文龙", "丽珠", "国良", "瑞兴", "玉凤", "振财"]

# Romanisations for Latin names (Hong Kong Cantonese, Hokkien, pinyin) and English first names.
ROMAN_SUR = ["Chan", "Wong", "Lee", "Cheung", "Lau", "Ho", "Leung", "Ng", "Chow", "Tsang", "Lam",
             "Tang", "Yip", "Kwok", "Tse", "Fung", "Tan", "Lim", "Teo", "Goh", "Ong", "Chua",
             "Yeoh", "Ooi", "Khoo", "Zhang", "Wang", "Liu", "Chen", "Zhao", "Huang", "Xu", "Sun",
             "Zhou", "Lin", "Gao", "Luo", "Ma", "Hu"]
ROMAN_GIVEN = ["Siu Ming", "Ka Yan", "Wai Keung", "Mei Ling", "Chee Keong", "Boon Huat",
               "Siew Lan", "Kah Seng", "Swee Hock", "Bee Lian", "Poh Choo", "Tak Wing", "Hoi Yee",
               "Jianguo", "Xiaoming", "Wei", "Lei", "Yufei", "Haoran", "Jingyi", "Zihan", "Na",
               "Ah Kow", "Kok Leong"]
EN_FIRST = ["David", "Emily", "Kelvin", "Peter", "Jason", "Ivy", "Michael", "Amy", "Winnie",
            "Eric", "Grace", "Vincent", "Karen", "Alan", "Cindy", "Raymond", "Joyce", "Stanley",
            "Fiona", "Terence", "Queenie", "Edmund", "Gloria", "Ken", "Natalie", "Oscar", "José"]

# Titles after a bare surname (person_title) and the prefixes 老/小/阿.
TITLES = ["先生", "女士", "小姐", "总", "经理", "老师", "师傅", "律师", "医生", "主任", "处长",
          "科长", "总监", "董", "工", "姐", "哥", "老板", "会计", "博士", "教授", "秘书", "行长",
          "所长", "部长", "助理", "阿姨", "叔"]
TITLES_TRAD = ["生", "太", "小姐", "先生", "女士", "姑娘", "老闆", "經理", "Sir", "醫生", "律師",
               "主任", "總", "師傅", "姐", "董"]
PREFIXES = ["老", "小", "阿"]

_RANKS = np.arange(1, len(COMMON) + 1, dtype=float)
_ZIPF = 1.0 / _RANKS ** 0.9
_ZIPF /= _ZIPF.sum()


def pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def common_surname(rng: np.random.Generator) -> str:
    return COMMON[int(rng.choice(len(COMMON), p=_ZIPF))]


def given(rng: np.random.Generator, length: int) -> str:
    pool = MALE if rng.random() < 0.5 else FEMALE
    out = pick(rng, pool)
    if length == 2:
        other = pick(rng, pool)
        while other == out and rng.random() < 0.9:
            other = pick(rng, pool)
        out += other
    return out


def han_name(rng: np.random.Generator) -> tuple[str, list[str]]:
    """A simplified mainland name of a random type (the mixture of the `P` slot)."""
    u = rng.random()
    if u < 0.42:
        g = given(rng, 2)
        return common_surname(rng) + g, ["zh3", "common"]
    if u < 0.56:
        return common_surname(rng) + given(rng, 1), ["zh2", "common"]
    if u < 0.68:
        g = given(rng, 2) if rng.random() < 0.7 else given(rng, 1)
        return pick(rng, RARE) + g, ["zh3" if len(g) == 2 else "zh2", "rare"]
    if u < 0.74:
        g = given(rng, 2) if rng.random() < 0.55 else given(rng, 1)
        return pick(rng, COMPOUND) + g, ["zh4" if len(g) == 2 else "zh3", "compound"]
    if u < 0.83:
        sur = common_surname(rng) if rng.random() < 0.8 else pick(rng, RARE)
        return sur + pick(rng, WORD_GIVEN), ["zh3", "wordlike"]
    if u < 0.87:
        return pick(rng, WHOLE_WORD), ["zh2", "whole_word"]
    if u < 0.90:      # both parents' surnames, 张杨子涵
        a, b = common_surname(rng), common_surname(rng)
        while b == a:
            b = common_surname(rng)
        g = given(rng, int(rng.integers(1, 3)))
        return a + b + g, ["zh4" if len(g) == 2 else "zh3", "double"]
    if u < 0.94:
        return dotted(rng)
    if u < 0.96:
        return pick(rng, NO_SURNAME), ["minority"]
    if u < 0.98:
        return japanese(rng)
    return korean(rng)


def female_name(rng: np.random.Generator) -> tuple[str, list[str]]:
    """A mainland woman's name (the `PF` slot: 女士, 她, 母亲)."""
    u = rng.random()
    g = pick(rng, FEMALE) + (pick(rng, FEMALE) if rng.random() < 0.7 else "")
    if u < 0.75:
        sur, t = common_surname(rng), "common"
    elif u < 0.93:
        sur, t = pick(rng, RARE), "rare"
    else:
        sur, t = pick(rng, COMPOUND), "compound"
    return sur + g, [f"zh{len(sur + g)}", t]


def dotted(rng: np.random.Generator) -> tuple[str, list[str]]:
    dot = pick(rng, DOTS)
    if rng.random() < 0.65:
        return pick(rng, UYGHUR_A) + dot + pick(rng, UYGHUR_B), ["dotted", "minority"]
    return pick(rng, WEST_A) + dot + pick(rng, WEST_B), ["dotted", "translit"]


def japanese(rng: np.random.Generator) -> tuple[str, list[str]]:
    return pick(rng, JP_SUR) + pick(rng, JP_GIVEN), ["japanese"]


def korean(rng: np.random.Generator) -> tuple[str, list[str]]:
    return pick(rng, KR_SUR) + pick(rng, KR_GIVEN), ["korean", "zh3"]


def trad_name(rng: np.random.Generator) -> tuple[str, list[str]]:
    """A Hong Kong, Taiwan or Macau name in traditional characters (the `H` slot)."""
    u = rng.random()
    if u < 0.50:
        return pick(rng, TRAD_SUR) + pick(rng, HK_GIVEN), ["zh3", "trad", "hk"]
    if u < 0.68:
        return pick(rng, TRAD_SUR) + pick(rng, TW_GIVEN), ["zh3", "trad", "tw"]
    if u < 0.84:      # married: husband's surname + own surname + given, 陳黃美玲
        a, b = pick(rng, TRAD_SUR), pick(rng, TRAD_SUR)
        while b == a:
            b = pick(rng, TRAD_SUR)
        return a + b + pick(rng, HK_GIVEN), ["zh4", "trad", "married"]
    if u < 0.92:
        g = pick(rng, HK_GIVEN)
        return pick(rng, TRAD_SUR) + g[0], ["zh2", "trad", "hk"]
    return pick(rng, TRAD_COMPOUND) + pick(rng, HK_GIVEN), ["zh4", "trad", "compound"]


def my_name(rng: np.random.Generator) -> tuple[str, list[str]]:
    """A Malaysian/Singaporean Chinese name in simplified characters."""
    return common_surname(rng) + pick(rng, MY_GIVEN), ["zh3", "my"]


def latin_name(rng: np.random.Generator) -> tuple[str, list[str]]:
    u = rng.random()
    sur = pick(rng, ROMAN_SUR)
    if u < 0.45:
        return f"{pick(rng, EN_FIRST)} {sur}", ["latin"]
    if u < 0.75:
        return f"{sur} {pick(rng, ROMAN_GIVEN)}", ["latin"]
    if u < 0.88:
        return f"{pick(rng, EN_FIRST)} {sur} {pick(rng, ROMAN_GIVEN)}", ["latin"]
    return f"{sur.upper()} {pick(rng, ROMAN_GIVEN)}", ["latin"]


def title(rng: np.random.Generator, trad: bool = False) -> str:
    """A bare surname with a title or a 老/小/阿 prefix (person_title): 王总, 陳生, 老李."""
    if trad:
        sur = pick(rng, TRAD_SUR)
        return "阿" + sur if rng.random() < 0.12 else sur + pick(rng, TITLES_TRAD)
    if rng.random() < 0.25:
        return pick(rng, PREFIXES) + common_surname(rng)
    sur = common_surname(rng) if rng.random() < 0.85 else pick(rng, COMPOUND)
    return sur + pick(rng, TITLES)


def ocr_spaced(rng: np.random.Generator, name: str) -> str:
    """The name as a scanner renders it: spaces between some or all characters (王 建 国)."""
    chars = list(name)
    out = chars[0]
    all_gaps = rng.random() < 0.5
    for ch in chars[1:]:
        if all_gaps or rng.random() < 0.5:
            out += " " * (1 if rng.random() < 0.8 else 2)
        out += ch
    if out == name:
        out = name[0] + " " + name[1:]
    return out


ALL_SURNAMES = set(COMMON) | set(RARE) | set(COMPOUND) | set(TRAD_SUR) | set(TRAD_COMPOUND)
