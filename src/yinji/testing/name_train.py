"""Training text for the Chinese-name sequence model (yinji.gateway.detectors.name_model).

Own lists and clause templates, written for training only (nothing is read from the evaluation
generators gateway_eval*.py). A snippet is 1-4 clauses: clauses with person slots in many
positions (after a label with or without a colon, a quote or a space; before a title; as a
subject or object; in lists; inside English text) and filler clauses with hard negatives (role
words alone, words that start with a surname character, places, companies, products).
Deterministic: a seeded NumPy Generator (this is test data, not security).
"""

from __future__ import annotations

import numpy as np

from yinji.gateway.detectors import lexicon as lx

# Given-name characters, common and less common (one or two are drawn per name).
GIVEN = (
    "伟芳敏静丽强磊军洋勇艳杰娟涛明超霞平刚英华玉萍红飞鹏辉建国志斌宇浩然俊凯晨欣怡佳琪雨涵"
    "轩睿思远文博天翼鸣雪梅燕金凤春生秋菊冬立新晓东峰丹莉宏振德胜永庆卫淑珍兰婷嘉诗雅琴慧"
    "晶琳瑞祥家豪锦程子梓一可若沐依诺安言钧弘烁娅柔寒元薇琼昌河莲绿青行雯瑶璐蕾颖蓓昕彤桐"
    "悦琦琰瑾璇琬珂璟煜炜烨熠晗昊旻暄曦朗昱晟皓铭锋锐鑫钰铮嵘岚崇巍峻峥崧淼泓涛澜沛渊湘"
    "漪溪沁洁清源海江波泽润霖露霏震雷霆彬彦彰韬韦亮光耀辰星宸宁静怀德仁义礼信智忠孝廉勤"
    "俭敬修齐贤良方正士学才华茂盛荣旺福禄寿喜乐康泰和顺祥瑞吉庆丰裕富贵君子玲珑秀美婉娴"
    "淑惠贞洁纯真善容颜色芬芝蕙兰菁萱苗蓉芸茜蔓荷莎菲蓬萌葳蕴菡航远舟帆楠杉松柏桦枫榕森"
    "林栋梁材标杨槐柳梓楷模范"
)
# Two-character given names that are also ordinary words (宏伟, 文静): the model must use context.
WORDLIKE_GIVEN = ("宏伟", "文静", "月华", "建华", "海峰", "志强", "国庆", "建军", "春燕", "秀英",
                  "光明", "和平", "胜利", "国强", "海洋", "红梅", "玉兰", "金山", "永安", "长春",
                  "新华", "振兴", "明亮", "晓光", "天明", "雪松", "家乐", "美玲", "安康", "子健")
LABELS = ("客户", "姓名", "申请人", "联系人", "借款人", "担保人", "受益人", "收款人", "付款人", "户名",
          "持卡人", "委托人", "开户人", "经办人", "投资者", "被保险人", "投保人", "法定代表人", "代理人",
          "紧急联系人", "客户经理", "理财经理", "投资顾问", "配偶", "监护人", "实际控制人", "户主",
          "签约人", "汇款人", "转账人", "股东", "董事", "分析师", "研究员", "负责人", "推荐人", "老客户",
          "VIP客户", "承办人", "当事人", "共同借款人", "授权人", "法人代表", "交易员", "合伙人")
TITLES = ("先生", "女士", "小姐", "经理", "总", "总监", "律师", "老师", "主任", "董事长", "行长",
          "教授", "博士", "医生", "阿姨", "处长", "专员", "顾问", "老板", "夫妇", "本人", "同志")
VERBS = ("表示", "来电咨询", "申请赎回", "已签字确认", "称", "于今日到访", "提交了材料", "要求撤单",
         "反映手续费偏高", "希望提高额度", "的账户已冻结", "名下有两张卡", "本人到场", "办理了挂失",
         "通过手机银行转账", "昨天来过", "在营业部等候", "认为风险可控", "没有回复", "让我转告您",
         "告诉我们", "回复说同意", "同意续期", "拒绝了方案", "刚才来电", "下午会来", "买入了基金",
         "卖出全部持仓", "确认收到", "提出投诉", "预约了面签", "负责此事", "指出问题", "的配偶",
         "目前在外地", "已经退休", "对此不满", "打算追加投资", "因病无法到场", "发来邮件", "也参加了",
         "都已签字", "最近很忙", "说可以", "吧", "呢", "嘛", "了", "今天休假", "明天出差", "来了",
         "已离职", "的电话打不通", "的资料不全", "想了解产品", "决定暂缓", "和家人商量后再定",
         "做了汇报", "约了时间", "核对了余额", "把钱转走了", "用现金支付", "去了外地", "看过合同",
         "签了字", "打来电话", "问能否提前赎回", "给我发了短信", "交了保证金", "做总结", "写了说明",
         "主持会议", "介绍了情况", "补交了材料", "明确表示同意", "不同意", "很满意", "先走了",
         "从工资卡转入", "把材料发来", "跟进此事", "每月定投", "一直没来", "上午到访", "并未签字")
OBJ_CUES = ("请联系", "请转告", "已通知", "需回访", "拜访了", "会见了", "授权", "提醒", "告知",
            "陪同", "致", "尊敬的", "亲爱的", "抄送", "由", "与", "给", "向", "根据", "我是", "我叫",
            "感谢", "已电话联系", "将资料寄给", "面谈对象为", "转交")
QUOTES = (("「", "」"), ("“", "”"), ("『", "』"), ("（", "）"), ("【", "】"), ("\"", "\""))
PLACES = ("王府井", "张家口", "石家庄", "朱家角", "宋城", "罗湖", "黄埔", "高新区", "金山区", "江宁",
          "马鞍山", "秦皇岛", "贺兰山", "龙华", "方庄", "何家湾", "林芝", "章丘", "洪山", "周庄",
          "钱塘江", "常熟", "温州", "荣成", "邯郸", "万州", "石景山", "柳州", "桂林", "汤山")
ORGS = ("宁德时代", "东方证券", "招商银行", "万科集团", "华夏基金", "中国平安", "金地集团", "长江电力",
        "紫金矿业", "申万宏源", "华泰证券", "龙湖地产", "石药集团", "高瓴资本", "东方财富", "贵州茅台",
        "安信证券", "广发基金", "平安银行", "海通证券", "方正证券", "兴业银行", "国泰君安", "上汽集团")
FILLERS = (
    "申请人已签字", "请联系客户经理", "联系人信息待补充", "受益人比例合计100%", "客户经理将另行通知",
    "经核实，资料无误", "金融机构应履行反洗钱义务", "高净值客户占比提升", "本周市场高开低走",
    "黄金价格创新高", "白酒板块回调", "石油化工板块领涨", "余额宝收益下降", "万能险结算利率调整",
    "于是我们决定暂缓", "明天上午十点开会", "全部资料已归档", "任何问题请及时反馈", "方便时请回电",
    "向上调整评级", "平安度过观察期", "有关部门已受理", "和往年相比变化不大", "成本管控见效",
    "公司治理结构完善", "周期性行业承压", "江南地区降雨偏多", "钱款已于当日到账", "洪涝灾害影响有限",
    "龙头公司估值修复", "管理层变动频繁", "高管增持计划公布", "申购费率打一折", "白马股表现稳健",
    "邓白氏编码已核验", "史上最低利率", "常规检查未见异常", "单笔限额五万元", "车险续保提醒",
    "经办人签名处空白", "户名与证件不一致", "姓名栏填写有误", "联系电话无人接听", "持卡人须本人办理",
    "投资者适当性评估已完成", "委托人需补充授权书", "被保险人年龄超限", "法定代表人变更已登记",
    "请在申请人处签字", "客户满意度调查",
    # a role word and a modal verb or word that starts with a surname character (round 5)
    "持卡人应妥善保管密码", "申请人须提交身份证明", "投资者应当充分了解风险", "委托人需本人到场",
    "被保险人应如实告知", "受益人信息均未填写", "代理人须持有效证件", "借款人应按期还款",
    "监护人须签字确认", "投保人应于到期前续保", "开户人须年满十八岁", "申请人于次日到账", "配偶信息无需提供", "紧急联系人不能是本人", "代理人需出示证件",
    "以上内容仅供参考", "如有疑问请致电客服", "风险等级为C3", "期限为三年", "年化收益率约3.2%",
    "合同编号HT20240518", "订单号20240611003", "交易日期2024年6月3日", "金额人民币50万元",
    "利率上浮10个基点", "请于周五前回复", "谢谢配合", "祝您生活愉快", "特此通知", "此致敬礼",
    "温馨提示：谨防诈骗", "华东区业绩第一", "东北地区试点", "西南分公司", "北京分行营业部",
    "张贴公告", "王牌产品", "李子柒品牌", "高兴地看到", "马上处理", "程序已更新", "周末不办公",
    "许多客户反馈", "孙公司股权转让", "朱红色印章", "金价波动", "林业资产", "杨树种植基地",
    "钟表行业", "夏季促销", "秦汉文化基金", "关于调整费率的通知", "对方账户已冻结", "成交量放大",
    "项目组已完成尽调", "康养产业", "宋体字号", "文件已签收", "明细见附件", "安全性高", "包括但不限于",
    "申请单位盖章", "负责人签字", "当事人双方", "本人承诺", "户主关系", "监护人同意书", "签名确认",
)
EN_CLAUSES = ("client {n} called this morning", "Name: {n}", "applicant {n} has signed",
              "Dear {n},", "contact person {n} (mobile pending)", "signed by {n}",
              "beneficiary {n} confirmed", "RM {n} will follow up", "cc {n}", "holder {n}")
EN_NAMES = ("James Chan", "Emily Wong", "Kelvin Lau", "Sarah Lee", "Wei Zhang", "Fang Wang")


def _pick(rng: np.random.Generator, xs):  # noqa: ANN001, ANN202 - any sequence
    return xs[int(rng.integers(len(xs)))]


_SINGLE = tuple(sorted(lx.SURNAMES - lx.WEAK_SURNAMES))
_TOP = tuple(sorted(lx.TOP_SURNAMES))
_WEAK = tuple(sorted(lx.WEAK_SURNAMES & lx.SURNAMES))
_RARE = tuple(sorted(lx.RARE_SURNAMES))


def name(rng: np.random.Generator, word_starts: tuple[str, ...] = ()) -> str:
    """A surname (top 100, any single, rare, word-like, compound) and a 1-2 character given
    name; with `word_starts` (2-character ordinary words that start with a surname), one name in
    ten starts with such a word (高明|远, 江海|涛) and one in twenty is such a word (高明, 江海:
    round 8): the model must read the context, not the word."""
    if word_starts:
        r = rng.random()
        if r < 0.1:
            return _pick(rng, word_starts) + _pick(rng, GIVEN)
        if r < 0.15:
            return _pick(rng, word_starts)
    r = rng.random()
    surname = (_pick(rng, _TOP) if r < 0.45 else _pick(rng, _SINGLE) if r < 0.74
               else _pick(rng, _RARE) if r < 0.8 else _pick(rng, _WEAK) if r < 0.9
               else _pick(rng, lx.COMPOUND_SURNAMES))
    r = rng.random()
    if r < 0.12:
        given = _pick(rng, WORDLIKE_GIVEN)
    elif r < 0.4:
        given = _pick(rng, GIVEN)
    else:
        given = _pick(rng, GIVEN) + _pick(rng, GIVEN)
    return surname + given


# Round 4 (issue #16): names next to ID numbers and mobiles ({d} a digit run), longer lists
# with 、, colloquial chat where nothing but the verb marks the name, and words that start with
# a surname character ({x}, hard negatives drawn from jieba's dictionary by the training tool).
DIGIT_CLAUSES = ("{n}{d}", "{n} {d}", "{d}{n}", "{d} {n}", "手机{d}（{n}）", "证件号{d}，{n}",
                 "{n}/{d}", "{n}，{d}", "{n}：{d}", "卡号{d}户名{n}", "{n}{d}已核验",
                 "{n}（{d}）", "尾号{d}的{n}")
CHAT_PRE = ("昨天", "今天", "刚才", "早上", "下午", "晚上", "跟", "和", "找", "问", "叫", "让", "请",
            "帮", "通知", "等", "见到", "听说", "我跟", "你问问", "记得提醒", "麻烦转告", "还有",
            "另外", "上次", "下周", "周一", "刚刚", "其实", "所以", "但是", "后来")
CHAT_POST = ("来办了张卡", "说了什么", "问收益怎么算", "来电话了", "没接电话", "又来了", "到了",
             "发消息说不买了", "那边怎么样", "怎么说", "同意了吗", "签了没有", "回复了", "去哪了",
             "买了多少", "亏了不少", "赚了一点", "还在犹豫", "也想买", "明天过来", "说下周再看",
             "的单子", "的材料", "那笔钱", "一起吃饭", "加了仓", "减了仓", "要赎回", "不在")
WORD_CARRIERS = ("关于{x}的问题要重视", "{x}方面没有变化", "这次{x}的进度正常", "请关注{x}",
                 "{x}和{x}都在名单外", "报告提到{x}", "今天{x}很多", "{x}已经处理完",
                 "客户关心{x}", "会上讨论了{x}", "{x}，{x}", "我们看好{x}", "{x}要求提高")
MEASURE = ("一张卡", "两张单", "这张表", "几张图", "每张票", "开了张单", "落咗張單", "那张合同",
           "一支笔", "两双鞋", "三张银行卡", "签了张字据", "这张保单", "各张凭证")


# Round 5 (issue #16): name forms without a listed surname first and Hong Kong text. Own
# lists: dotted transliterations (parts drawn separately), Tibetan/Mongolian names built from
# syllables, married names (two surnames + given name), Cantonese clauses, and lists of places,
# companies and products (、) as negatives.
TRANSLIT_PARTS = ("约翰", "玛丽", "彼得", "安娜", "乔治", "伊万", "买买提", "艾力", "阿依古丽",
                  "吐尔逊", "迪力木拉提", "热合曼", "努尔", "阿卜杜拉", "穆罕默德", "卡米拉",
                  "史密斯", "布朗", "汤普森", "怀特", "克拉克", "马丁", "罗宾逊", "帕克", "库尔班",
                  "艾合买提", "阿地力", "巴哈尔", "肉孜", "哈力克", "托乎提", "玉素甫", "苏莱曼")
MINORITY = ("扎西", "卓玛", "次仁", "多吉", "格桑", "平措", "达瓦", "索朗", "顿珠", "强巴",
            "洛桑", "益西", "边巴", "普布", "巴特尔", "其其格", "宝音", "萨仁", "孟和", "乌云",
            "娜仁", "布和", "哈斯", "敖登", "图门")
HK_GIVEN = ("美玲", "淑仪", "丽华", "秀琼", "玉珍", "凤仪", "嘉敏", "咏诗", "宝莲", "月好")
HK_SURNAMES = "陈黄李张梁林刘吴何邓周马郭麦区罗曾蔡叶余谭卢潘郑彭袁莫杜苏冯关甘容岑冼伍钟"
CANTONESE = ("{n}话{n}听日过嚟", "{n}嘅户口已经开咗", "我系{n}，想问下", "{n}同{n}系兄弟",
             "佢老公{n}会陪佢嚟", "{n}太太（{n}）已经移民", "{n}（{n}之母）认购基金",
             "{n}经理已批核{n}嘅申请", "请{n}跟进{n}嘅投诉", "{n}之配偶{n}")
THING_LISTS = ("苏州、无锡、南通", "山东、河南、河北", "招商银行、中信证券、兴业银行",
               "周生生、谢瑞麟、六福珠宝", "洛阳钼业、山东黄金、中金黄金", "徐家汇、静安寺、五角场",
               "观塘、荃湾、元朗", "理财通、朝朝宝", "白云山、华润三九", "牛栏山、金种子酒",
               "马应龙、汤臣倍健", "庐山、泰山、峨眉山", "碎股、供股、配股", "汤臣一品、陆家浜")


def other_name(rng: np.random.Generator) -> str:
    """A dotted transliteration, a Tibetan/Mongolian name or a married Hong Kong name."""
    r = rng.random()
    if r < 0.4:
        return _pick(rng, TRANSLIT_PARTS) + _pick(rng, ("·", "·", "•", "・")) + \
            _pick(rng, TRANSLIT_PARTS)
    if r < 0.7:
        return "".join(_pick(rng, MINORITY) for _ in range(int(rng.integers(1, 3))))
    a, b = _pick(rng, HK_SURNAMES), _pick(rng, HK_SURNAMES)
    return a + (b if b != a else "梁") + _pick(rng, HK_GIVEN)


def _digits(rng: np.random.Generator) -> str:
    r = rng.random()
    k = 11 if r < 0.4 else 18 if r < 0.7 else int(rng.integers(4, 20))
    d = "".join(str(int(x)) for x in rng.integers(0, 10, k))
    return ("1" + d[1:]) if k == 11 else d


def _name_clause(rng: np.random.Generator) -> str:
    """A clause with one or more `{n}` slots (`{d}`: digits, `{x}`: a hard negative word)."""
    k = int(rng.integers(15))
    if k == 13:
        return _pick(rng, CANTONESE)
    if k == 14:
        return _pick(rng, LABELS[:12] + ("", "", "请转告", "由")) + "{o}" + \
            _pick(rng, ("", "，") + VERBS)
    if k == 9:
        return _pick(rng, ("", "", "客户", "联系人", "开户人", "姓名")) + _pick(rng, DIGIT_CLAUSES)
    if k == 10:
        return _pick(rng, CHAT_PRE) + "{n}" + _pick(rng, CHAT_POST)
    if k == 11:
        m = int(rng.integers(2, 6))
        return _pick(rng, ("", "参会：", "出席人员：", "股东名册：", "名单：", "获奖客户：", "抄送：")) + \
            "、".join(["{n}"] * m) + _pick(rng, ("", "等", "等人", "已签到", "均同意", "共五人"))
    if k == 12:
        return _pick(rng, ("{n}", "{n}", "{n}和{n}")) + _pick(rng, ("今日", "上午", "刚才", "")) + \
            _pick(rng, VERBS)
    if k == 0:
        sep = _pick(rng, ("", "", "：", ":", "为", "是", " ", "：", "为：", "姓名："))
        return _pick(rng, LABELS) + sep + "{n}" + _pick(rng, ("", "", "，") + VERBS)
    if k == 1:
        return "{n}" + _pick(rng, TITLES) + _pick(rng, ("", "") + VERBS)
    if k == 2:
        return "{n}" + _pick(rng, VERBS)
    if k == 3:
        return _pick(rng, OBJ_CUES) + "{n}" + _pick(rng, ("", "", "一起办理", "确认", "签字"))
    if k == 4:
        o, c = _pick(rng, QUOTES)
        return _pick(rng, ("", "客户", "请转告", "联系人", "经办人")) + o + "{n}" + c + \
            _pick(rng, ("", "") + VERBS)
    if k == 5:
        j = _pick(rng, ("、", "和", "与", "及", "、"))
        tail = ("、{n}" if rng.random() < 0.4 else "")
        return _pick(rng, ("", "客户", "参会人员：", "股东")) + "{n}" + j + "{n}" + tail + \
            _pick(rng, VERBS)
    if k == 6:
        return _pick(rng, ("经办", "复核", "审批", "客户", "联系人")) + " {n} " + \
            _pick(rng, ("签字", "已确认", "负责", "来电"))
    if k == 7:
        return _pick(rng, EN_CLAUSES)
    return _pick(rng, ("今天上午", "据悉", "另外", "上周", "经查", "会上", "随后")) + "{n}" + \
        _pick(rng, VERBS)


def _filler(rng: np.random.Generator, words: tuple[str, ...] = ()) -> str:
    r = rng.random()
    if r < 0.08:
        return _pick(rng, THING_LISTS) + _pick(rng, ("今日领跌", "三地合并", "", "暂停申购"))
    if words and r < 0.3:
        return _pick(rng, WORD_CARRIERS).replace("{x}", _pick(rng, words), 1).replace(
            "{x}", _pick(rng, words))
    if r < 0.35:
        return _pick(rng, MEASURE) + _pick(rng, ("", "已签好", "请核对", "放在桌上"))
    if r < 0.6:
        return _pick(rng, FILLERS)
    if r < 0.8:
        return _pick(rng, ("客户在", "已前往", "网点位于", "出差去了", "项目落地")) + _pick(rng, PLACES) + \
            _pick(rng, ("", "办理业务", "附近"))
    return _pick(rng, ("持有", "调研了", "看好", "减持", "")) + _pick(rng, ORGS) + \
        _pick(rng, ("的股票", "发布公告", "", "业绩超预期"))


def snippet(rng: np.random.Generator, words: tuple[str, ...] = (),
            word_starts: tuple[str, ...] = ()) -> tuple[str, list[tuple[int, int]]]:
    """One snippet and the (start, end) of each Chinese name in it."""
    parts = [_name_clause(rng) if rng.random() < 0.6 else _filler(rng, words)
             for _ in range(int(rng.integers(1, 5)))]
    text, spans = "", []
    for i, clause in enumerate(parts):
        if i:
            text += _pick(rng, ("，", "。", "；", "，", "\n", " ", "！"))
        other = "{o}" in clause
        pieces = clause.replace("{o}", "{n}").split("{n}")
        for j, piece in enumerate(pieces):
            text += piece.replace("{d}", _digits(rng))
            if j < len(pieces) - 1:
                if clause in EN_CLAUSES and rng.random() < 0.3:
                    text += _pick(rng, EN_NAMES)  # English clause: sometimes a romanised name
                    continue
                n = other_name(rng) if other else name(rng, word_starts)
                spans.append((len(text), len(text) + len(n)))
                text += n
    if rng.random() < 0.7:
        text += _pick(rng, ("。", "", "！", "。"))
    return text, spans


def hard_words(common: frozenset[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """From an ordinary-word list (jieba's, zh_words._lexicon): 2-4 character words that start
    with a surname character (hard negatives: 高管, 方案, 金融机构), and the 2-character ones
    whose second character is also a given-name character (高明, 江海: names start like this)."""
    sur = lx.SURNAMES | lx.WEAK_SURNAMES
    given = frozenset(GIVEN)
    hard = tuple(sorted(w for w in common if 2 <= len(w) <= 4 and w[0] in sur
                        and all("\u4e00" <= c <= "\u9fff" for c in w)))
    starts = tuple(w for w in hard if len(w) == 2 and w[0] in lx.SURNAMES
                   and w[0] not in lx.WEAK_SURNAMES and w[1] in given)
    return hard, starts


def build(n: int, seed: int, common: frozenset[str] = frozenset()
          ) -> list[tuple[str, list[tuple[int, int]]]]:
    """`n` snippets; with `common` (jieba's ordinary words) also hard negatives and names that
    start with a word (hard_words)."""
    rng = np.random.default_rng(seed)
    words, starts = hard_words(common) if common else ((), ())
    return [snippet(rng, words, starts) for _ in range(n)]
