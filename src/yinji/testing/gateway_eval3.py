"""A third, independently written evaluation set for the gateway's name detectors (issue #16).

Why: gateway_eval and gateway_eval2 were read by whoever tuned the detectors, so they no longer
measure text the detectors were not tuned on. This module was written without reading the
detectors' code or word lists and without running them, and is meant to be measured once
(`benchmarks/gateway_heldout.py --fresh4`). Its own lists, from general knowledge:
- surnames: common single ones weighted by rough frequency, rare ones (诸, 奚, 宓, 仉, 訾, 逯…),
  compound ones (欧阳, 澹台, 万俟, 第五…), and the same in traditional characters;
- given names of one and two characters, many of them ordinary words (建国, 海燕, 平安, 明, 华);
- Uyghur-style and transliterated names with the middle dot (阿卜杜拉·买买提), Tibetan and
  Mongolian names without a surname (次仁卓玛, 巴特尔);
- Hong Kong style: 陳大文（Peter Chan）, 李嘉欣 Michelle — the Chinese name and the English
  name are separate gold spans (the English one is scored as person_en);
- securities/fund/futures snippets: compliance tickets, KYC notes, client chat, minutes, e-mail,
  tables pasted as text, 、/，-lists, label then name (姓名/客户/申请人/联系人/受益人/经办人/法定
  代表人/投资者), name then title (王建国经理), quotes 「」“”『』, honorifics, names glued to ID
  numbers and mobiles; simplified and traditional;
- negatives: companies, places, products and terms that start with surname characters (华夏基金,
  黄山, 平安银行, 申请人 with no name, 金融, 高管, 明日, 文件).
A bare surname with a title (张总) is neither gold nor used in negatives: whether a lone surname
is a name is a policy choice, and this set measures full names.
Gold spans: person, mobile, id_number (valid GB 11643 check character) and email. Rows look like
gateway_eval's: {"id", "lang", "kind", "text", "spans": [[start, end, category], ...]}.
Test data, not security: seeded numpy Generator.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from yinji.ids import id_check_char

# Common single surnames with a rough weight (bigger = commoner).
COMMON = (("王", 70), ("李", 70), ("张", 68), ("刘", 52), ("陈", 46), ("杨", 30), ("赵", 20),
          ("黄", 20), ("周", 19), ("吴", 19), ("徐", 13), ("孙", 12), ("胡", 11), ("朱", 11),
          ("高", 10), ("林", 10), ("何", 9), ("郭", 9), ("马", 9), ("罗", 7), ("梁", 7),
          ("宋", 6), ("郑", 6), ("谢", 5), ("韩", 5), ("唐", 5), ("冯", 5), ("于", 5), ("董", 5),
          ("萧", 4), ("程", 4), ("曹", 4), ("袁", 4), ("邓", 4), ("许", 4), ("傅", 4), ("沈", 4),
          ("曾", 4), ("彭", 4), ("吕", 3), ("苏", 3), ("卢", 3), ("蒋", 3), ("蔡", 3), ("贾", 3),
          ("丁", 3), ("魏", 3), ("薛", 3), ("叶", 3), ("阎", 2), ("余", 2), ("潘", 2), ("杜", 2),
          ("戴", 2), ("夏", 2), ("钟", 2), ("汪", 2), ("田", 2), ("任", 2), ("姜", 2), ("范", 2),
          ("方", 2), ("石", 2), ("姚", 2), ("谭", 2), ("廖", 2), ("邹", 2), ("熊", 2), ("金", 2),
          ("陆", 2), ("郝", 2), ("孔", 2), ("白", 2), ("崔", 2), ("康", 2), ("毛", 2), ("邱", 2),
          ("秦", 2), ("江", 2), ("史", 2), ("顾", 2), ("侯", 2), ("邵", 2), ("孟", 2), ("龙", 2),
          ("万", 2), ("段", 2), ("钱", 2), ("汤", 2), ("尹", 2), ("黎", 2), ("易", 2), ("常", 2),
          ("武", 2), ("乔", 2), ("贺", 2), ("赖", 2), ("龚", 2), ("文", 2))
RARE = ("诸", "奚", "宓", "仉", "虞", "訾", "逯", "鄢", "隗", "闵", "禹", "芮", "缑", "綦", "亓",
        "郦", "乜", "厍", "蒯", "佟", "邰", "阚", "冉", "帅", "郗", "荀", "褚", "滕", "危", "甄",
        "聂", "巫", "卜", "邢", "柯", "骆", "詹", "卓", "俞", "韦", "幸", "臧", "栾", "晁", "戚",
        "蔺", "茅", "瞿", "尤", "习", "湛", "喻", "牟", "岑", "邬", "扈", "鞠", "暴", "操")
COMPOUND = ("欧阳", "司马", "上官", "诸葛", "夏侯", "皇甫", "尉迟", "澹台", "公孙", "长孙",
            "宇文", "万俟", "闻人", "南宫", "独孤", "呼延", "申屠", "公冶", "钟离", "轩辕",
            "拓跋", "第五", "赫连", "太史", "百里", "东郭", "漆雕", "濮阳", "左丘", "段干")
# Two-character given names; many are also ordinary words or read like them.
GIVEN2 = ("建国", "海燕", "文杰", "志强", "平安", "春花", "国庆", "建华", "红梅", "秀兰", "桂英",
          "玉兰", "丽华", "卫东", "爱民", "永红", "振华", "立新", "长青", "金凤", "淑珍", "德胜",
          "梓轩", "一诺", "思远", "浩然", "欣怡", "雨桐", "子墨", "若曦", "晓峰", "俊杰", "婷婷",
          "丹丹", "天佑", "家豪", "明轩", "诗涵", "宇航", "博文", "嘉怡", "晨曦", "雅琴", "志刚",
          "海涛", "春生", "秋菊", "冬梅", "向阳", "光明", "和平", "胜利", "小龙", "大伟", "佳琪",
          "静怡", "子豪", "安琪", "泽宇", "一鸣", "书豪", "瑞雪", "文静", "新民", "少华", "凤英")
GIVEN1 = ("明", "华", "伟", "芳", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
          "娟", "涛", "超", "斌", "霞", "平", "刚", "鑫", "琳", "飞", "颖", "蕾", "瑶", "昊", "宇",
          "晨", "峰", "雪", "阳", "彬", "琦", "凯", "梅", "玲", "冰", "辉")
# Traditional-character names (Taiwan / Hong Kong / overseas documents).
TRAD_SUR = ("陳", "張", "劉", "黃", "趙", "吳", "鄭", "謝", "韓", "馮", "葉", "蕭", "鄧", "許",
            "羅", "林", "何", "楊", "王", "李", "蔡", "賴", "鍾", "盧", "歐陽", "司徒", "諸葛",
            "上官", "龔", "譚", "關", "簡", "游", "莊", "溫")
TRAD_GIVEN = ("大文", "嘉欣", "志明", "美玲", "家俊", "詠琪", "偉強", "淑儀", "國榮", "寶儀",
              "振華", "慧敏", "建國", "海燕", "春嬌", "俊傑", "麗華", "雅婷", "冠宇", "怡君", "宗翰",
              "淑芬", "明", "華", "偉", "傑", "穎", "瑩", "豪", "鳳")
# Uyghur-style and transliterated names, joined with the middle dot.
DOT_PARTS = ("阿卜杜拉", "买买提", "艾力", "吐尔逊", "阿依古丽", "古丽米拉", "热合曼", "努尔",
             "艾合买提", "帕提古丽", "依明", "卡德尔", "阿布都", "迪丽拜尔", "肉孜", "玉苏甫",
             "约翰", "史密斯", "玛丽亚", "伊万诺夫", "安娜", "穆罕默德")
NO_SURNAME = ("次仁卓玛", "扎西顿珠", "格桑曲珍", "洛桑丹增", "巴特尔", "乌云其其格", "其木格",
              "白音仓", "达娃央金", "索朗旺姆")
# Hong Kong: (traditional surname, romanised surname) and English given names.
HK_SUR = (("陳", "Chan"), ("李", "Lee"), ("張", "Cheung"), ("黃", "Wong"), ("劉", "Lau"),
          ("林", "Lam"), ("吳", "Ng"), ("梁", "Leung"), ("何", "Ho"), ("鄭", "Cheng"),
          ("周", "Chow"), ("葉", "Yip"), ("郭", "Kwok"), ("曾", "Tsang"), ("馮", "Fung"),
          ("蔡", "Choi"))
HK_GIVEN_ZH = ("大文", "嘉欣", "志明", "美玲", "家俊", "詠琪", "偉強", "淑儀", "國榮", "寶儀",
               "振華", "慧敏", "嘉豪", "凱琳")
HK_GIVEN_EN = ("Peter", "Michelle", "Kelvin", "Winnie", "Raymond", "Ivy", "Jason", "Candy",
               "Alan", "Gigi", "Stanley", "Karen", "Vincent", "Fiona")

TITLES = ("经理", "总", "总监", "女士", "先生", "老师", "律师", "主任", "董事长", "同志", "处长")
TITLES_BEFORE = ("基金经理", "客户经理", "合规专员", "董事长", "投资顾问", "交易员", "风控总监",
                 "法务", "营业部负责人", "分析师")
COMPANIES = ("华夏基金", "平安银行", "南方基金", "中信证券", "招商证券", "广发期货", "东方证券",
             "国泰君安", "易方达基金", "嘉实基金", "华安基金", "中金公司", "永安期货", "申万宏源",
             "兴业银行", "光大证券", "海通证券", "长江证券", "方正证券", "银河期货")
PLACES = ("黄山", "常州", "武汉", "江阴", "石家庄", "高邮", "金华", "马鞍山", "龙岩", "丽水",
          "温州", "云南", "宁波", "白山", "洪湖", "安庆", "文昌", "明光")
# Words that start with a surname character but are not names.
TERMS = ("黄金", "白银", "石油", "金融", "高管", "文件", "方案", "程序", "周报", "余额", "万能险",
         "龙头股", "牛市", "熊市", "毛利", "康养", "宋体", "夏粮", "钟表", "安全", "常识", "明日",
         "华侨", "平安", "高端", "金价", "江景房", "齐鲁")
ROLES = ("申请人", "受益人", "经办人", "联系人", "客户", "投资者", "法定代表人", "开户人")
EMAIL_DOMAINS = ("qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "fundco.com.cn",
                 "sec-demo.cn", "futures-demo.com.cn", "gmail.com", "outlook.com")
PINYIN = ("wang", "li", "zhang", "liu", "chen", "yang", "zhao", "huang", "zhou", "wu", "xu",
          "sun", "hu", "zhu", "gao", "lin", "he", "guo", "ma", "luo", "jian", "guo", "hai",
          "yan", "wen", "jie", "zhi", "qiang", "ming", "hua", "ping", "an", "chun", "xiao")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "147", "150",
                   "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "177",
                   "180", "181", "183", "185", "186", "187", "188", "189", "198", "199")
AREAS = ("110101", "110105", "310104", "310115", "440305", "440106", "330106", "320102",
         "510107", "420106", "370102", "350203", "610113", "500103", "210202", "650102")

# Templates. Slots: {P} mainland name, {N} traditional name, {U} dotted / no-surname name,
# {H} Hong Kong name (Chinese + English), {M} mobile, {I} ID number, {E} e-mail, {T} title
# after a name, {B} title before a name, {C} company, {L} place, {D} date, {X} amount,
# {R} a role label with no name, {W} a name-like term that is not a name.
# A digit after the letter (P2) is a different value; the same slot twice is the same value.
TEMPLATES = (
    "合规工单（{D}）：客户{P}于{D}申购“稳健增利”产品，风险测评已过期，请经办人{P2}补录。",
    "KYC备注：投资者{P}，证件号{I}，手机{M}，职业为教师，自述无境外账户。",
    "姓名：{P}\n证件号码：{I}\n联系电话：{M}\n风险等级：C4",
    "申请人：{P}  受益人：{P2}  经办人：{P3}",
    "法定代表人：{P}；联系人：{P2}（{M}）",
    "{P}{T}，您好，您名下的账户本周有一笔两融合约即将到期，请留意。",
    "今天下午{B}{P}和{P2}去{C}拜访，{P}负责介绍量化专户。",
    "会议纪要（{D}）\n出席：{P}、{P2}、{P3}\n记录：{P4}\n议题：期货保证金调整",
    "参会人员：{P}，{P2}，{P3}，{P4}",
    "客户「{P}」反映APP无法登录，已转技术部。",
    "“{P}”这个客户上周投诉过两次，{B}说先别打电话。",
    "微信聊天记录：\n{P}：你好，我想问一下那只债基还能买吗\n{B}{P2}：可以的，起购一千元",
    "发件人：{P} <{E}>\n收件人：{P2}\n主题：关于{C}定增项目的尽调安排",
    "Hi {P}，附件是本月对账单，如有疑问请联系{P2}，电话{M}，邮箱{E}。",
    "姓名 | 证件号码 | 手机\n{P} | {I} | {M}\n{P2} | {I2} | {M2}",
    "序号\t姓名\t客户类型\n1\t{P}\t专业投资者\n2\t{P2}\t普通投资者\n3\t{P3}\t普通投资者",
    "{P}{I}已完成双录，{P2}{M}待回访。",
    "回访记录：{M}{P}，本人接听，确认知晓产品风险。",
    "受益人变更：原受益人{P}，新受益人{P2}，经{P3}审核通过。",
    "{P}表示这笔赎回是家里急用，{B}{P2}已经在走加急流程。",
    "请{P}{T}于{D}前提交资产证明，逾期将调整为普通投资者。",
    "感谢{P}老师的分享！下次路演安排在{L}，由{P2}主持。",
    "投诉人：{P}\n被投诉人：{B}{P2}\n事由：推介时未揭示风险",
    "今天和{P}吃饭，他说{C}的{P2}要跳槽去私募了。",
    "@{P} 麻烦把{P2}的开户资料发我一下，明天要报备。",
    "反洗钱排查：{P}（{I}）近30日大额转账{X}，对手方{P2}。",
    "客户{U}，身份证{I}，来自{L}，需提供双语风险揭示书。",
    "经办人：{U}；复核人：{P}",
    "开户见证人{P}，见证对象{U}，手机{M}。",
    "联系人：{H}，手机{M}",
    "HK branch note: 客户{H}要求以港币入金，由{P}跟进。",
    "{H}于{D}签署了专业投资者确认书。",
    "『{P}』、『{P2}』两位客户的适当性匹配结果不一致。",
    "期货居间人{P}介绍客户{P2}开户，需核对居间协议。",
    "{P}先生/女士：您持有的基金份额已于{D}分红。",
    "董事会决议由董事长{P}签字，{P2}、{P3}两位董事列席。",
    "根据{P}提供的说明，{P2}并非实际控制人。",
    "客户经理{P}（工号A1023）离职，客户转交{P2}维护。",
    "{B}：{P}\n电话：{M}\n邮箱：{E}",
    "申请人 {P} 身份证号 {I} 申请开通创业板权限。",
    "您好{P}，我是{C}的{P2}，想跟您确认一下明天的面签时间。",
    "{P}和{P2}是夫妻关系，联名账户需两人同时到场。",
    "这单是{P}的，{P2}只是帮忙录入，别算错了业绩。",
    "风险提示函已寄给{P}，签收人{P2}。",
    "留言：{P}{T}明天请假，会议改由{P2}主持。",
    "大宗交易对手方代表：{P}；我方交易员：{P2}",
)
TRAD_TEMPLATES = (
    "客戶：{N}\n身份證號：{I}\n聯絡電話：{M}\n風險承受能力：進取型",
    "申請人：{N}；受益人：{N2}；經辦人：{N3}",
    "會議紀要：出席者{N}、{N2}、{N3}，記錄{N4}。",
    "「{N}」表示已收到基金年報，{N2}經理稍後回覆。",
    "法定代表人：{N}\n聯絡人：{N2}（{M}）\n電郵：{E}",
    "投資者{N}於{D}贖回全部份額，由{N2}覆核。",
    "{N}先生您好，您的期貨帳戶保證金不足，請儘快補足。",
    "經辦人{N}已將{N2}的開戶文件送交合規部。",
    "聯絡人：{H}\n電話：{M}",
    "{H}同{N}今日傾咗新基金嘅認購安排。",
    "客戶{N}，{N2}，{N3}已完成風險評估。",
)
NEGATIVES = (
    "{C}今日发布公告，旗下多只产品调整申购费率。",
    "申请人须在{D}前提交材料，联系人栏可留空。",
    "本周金融板块走强，高管增持消息提振市场情绪。",
    "明日将召开投资决策委员会会议，请各部门提前准备文件。",
    "{L}分公司本季度新增客户数环比上升，{C}排名第三。",
    "投资者适当性管理办法要求受益人信息完整，经办人需复核。",
    "平安银行与华夏基金签署战略合作协议，黄山旅游停牌核查。",
    "请将文件发至合规邮箱，法定代表人签字页需加盖公章。",
    "常规检查：客户、申请人、受益人三栏均为必填项。",
    "周报：{C}旗下货币基金七日年化收益率小幅回落。",
    "高新技术企业所得税优惠政策延续，利好{L}相关板块。",
    "明天{L}有暴雨，营业部提前一小时关门。",
    "石油化工、白酒和有色金属板块今日领涨，万科A跌停。",
    "任何人不得以个人名义收取客户资金，违者严肃处理。",
    "于是风控部决定暂停该产品的新增认购。",
    "何时恢复交易将另行公告，敬请投资者关注。",
    "马上进入年末结算期，请核对保证金余额。",
    "安全提示：谨防冒充{C}工作人员的诈骗电话。",
    "文华财经数据显示，{L}地区期货成交量同比增长。",
    "向上修正业绩预告的公司数量增加，金地集团表现平稳。",
    "东方财富与{C}的合作尚未落地，林业板块继续调整。",
    "客戶須於{D}前補交文件，聯絡人欄位可以留空。",
    "本週金融股走強，高管增持消息帶動大市。",
    "平安銀行公佈業績，華夏基金旗下產品表現穩定。",
    "明日休市，請各位投資者留意交收安排。",
    "{W1}相关资料已上传共享盘，请{R}在{D}前查收。",
    "{R}：（空）\n{R2}：（待补充）\n备注：{W1}类产品暂停销售",
    "关于{W1}和{W2}的培训材料，{C}已经发到群里了。",
    "表格第三列“{R}”不能为空，第五列填{W1}或{W2}。",
    "{L}的{W1}项目本周路演，{C}牵头。",
    "研报摘要：{W1}需求回升，{W2}供给偏紧，建议关注{C}。",
    "「{W1}」专题讲座改到{D}，地点在{L}营业部。",
    "请在{R}一栏填写完整姓名，{R2}需与证件一致。",
    "{C}、{C2}、{C3}三家机构参与本次询价。",
    "客服回复：{W1}业务请拨打官方热线，勿轻信陌生来电。",
    "{W1}、{W2}、{W3}三个关键词本周搜索量最高。",
    "「{W1}」專題講座改到{D}，地點在{L}分行。",
)


class Gen:
    """Draws fresh4 snippets; `seed` fixes the draw."""

    def __init__(self, seed: int) -> None:
        self.r = np.random.default_rng(seed)
        w = np.array([f for _, f in COMMON], dtype=float)
        self._p = w / w.sum()

    def pick(self, seq):  # noqa: ANN001, ANN201 - any sequence
        return seq[int(self.r.integers(len(seq)))]

    def digits(self, k: int) -> str:
        return "".join(str(int(d)) for d in self.r.integers(0, 10, k))

    def given(self) -> str:
        return self.pick(GIVEN2) if self.r.random() < 0.7 else self.pick(GIVEN1)

    def person(self) -> str:
        u = self.r.random()
        sur = (COMMON[int(self.r.choice(len(COMMON), p=self._p))][0] if u < 0.7
               else self.pick(RARE) if u < 0.88 else self.pick(COMPOUND))
        return sur + self.given()

    def trad(self) -> str:
        return self.pick(TRAD_SUR) + self.pick(TRAD_GIVEN)

    def dotted(self) -> str:
        if self.r.random() < 0.25:
            return self.pick(NO_SURNAME)
        a = self.pick(DOT_PARTS)
        b = self.pick([p for p in DOT_PARTS if p != a])
        return f"{a}·{b}"

    def hk(self) -> list[tuple[str, str | None]]:
        """A Hong Kong style name: the Chinese name and the English one are separate spans."""
        zh_sur, en_sur = self.pick(HK_SUR)
        zh = zh_sur + self.pick(HK_GIVEN_ZH)
        en = self.pick(HK_GIVEN_EN)
        form = int(self.r.integers(4))
        if form == 0:
            return [(zh, "person"), ("（", None), (f"{en} {en_sur}", "person"), ("）", None)]
        if form == 1:
            return [(zh, "person"), (" ", None), (en, "person")]
        if form == 2:
            return [(f"{en} {en_sur}", "person"), (" ", None), (zh, "person")]
        return [(f"{en} {en_sur}", "person"), ("/", None), (zh, "person")]

    def mobile(self) -> str:
        body = self.pick(MOBILE_PREFIXES) + self.digits(8)
        form = int(self.r.integers(5))
        if form == 1:
            return f"{body[:3]} {body[3:7]} {body[7:]}"
        if form == 2:
            return f"{body[:3]}-{body[3:7]}-{body[7:]}"
        if form == 3:
            return "+86 " + body
        return body

    def id_number(self) -> str:
        """A mainland ID with a valid check character and birth date (test data only)."""
        first17 = (self.pick(AREAS) + str(int(self.r.integers(1945, 2007)))
                   + f"{int(self.r.integers(1, 13)):02d}{int(self.r.integers(1, 29)):02d}"
                   + self.digits(3))
        return first17 + id_check_char(first17)

    def email(self) -> str:
        local = self.pick(PINYIN) + self.pick(("", ".", "_")) + self.pick(PINYIN)
        if self.r.random() < 0.5:
            local += self.digits(int(self.r.integers(1, 5)))
        return f"{local}@{self.pick(EMAIL_DOMAINS)}"

    def date(self) -> str:
        return f"{int(self.r.integers(1, 13))}月{int(self.r.integers(1, 29))}日"

    def amount(self) -> str:
        return f"{int(self.r.integers(5, 500))}万元"


_SLOT = re.compile(r"\{([A-Z])(\d?)\}")
Piece = tuple[str, "str | None"]


def _slots(g: Gen) -> dict[str, Callable[[], list[Piece]]]:
    def one(f: Callable[[], str], cat: str | None) -> Callable[[], list[Piece]]:
        return lambda: [(f(), cat)]
    return {"P": one(g.person, "person"), "N": one(g.trad, "person"),
            "U": one(g.dotted, "person"), "H": g.hk, "M": one(g.mobile, "mobile"),
            "I": one(g.id_number, "id_number"), "E": one(g.email, "email"),
            "T": one(lambda: g.pick(TITLES), None), "B": one(lambda: g.pick(TITLES_BEFORE), None),
            "C": one(lambda: g.pick(COMPANIES), None), "L": one(lambda: g.pick(PLACES), None),
            "D": one(g.date, None), "X": one(g.amount, None),
            "R": one(lambda: g.pick(ROLES), None), "W": one(lambda: g.pick(TERMS), None)}


def fill(g: Gen, template: str) -> tuple[str, list[list]]:
    """The template with its slots drawn, and the gold spans [start, end, category]."""
    slots = _slots(g)
    values: dict[str, list[Piece]] = {}
    out: list[str] = []
    spans: list[list] = []
    at = pos = 0

    def put(text: str, cat: str | None) -> None:
        nonlocal at
        if cat is not None:
            spans.append([at, at + len(text), cat])
        out.append(text)
        at += len(text)

    for m in _SLOT.finditer(template):
        put(template[pos:m.start()], None)
        if m.group(0) not in values:  # P and P2 are different people, R and R2 different labels
            taken = [v for k, v in values.items() if k[1] == m.group(1)]
            pieces = slots[m.group(1)]()
            for _ in range(20):
                if pieces not in taken:
                    break
                pieces = slots[m.group(1)]()
            values[m.group(0)] = pieces
        pieces = values[m.group(0)]
        for text, cat in pieces:
            put(text, cat)
        pos = m.end()
    put(template[pos:], None)
    return "".join(out), spans


def build(n: int, seed: int) -> list[dict]:
    """`n` Chinese snippets: about 65% simplified with names, 15% traditional with names, 20%
    negatives (no gold span)."""
    g = Gen(seed)
    rows = []
    for i in range(n):
        u = g.r.random()
        kind, pool = (("name", TEMPLATES) if u < 0.65 else ("name_trad", TRAD_TEMPLATES)
                      if u < 0.8 else ("negative", NEGATIVES))
        text, spans = fill(g, g.pick(pool))
        rows.append({"id": f"fresh4-{seed}-{i:05d}", "lang": "zh", "kind": kind, "text": text,
                     "spans": spans})
    return rows
