"""Fillers of gateway_eval10: identifiers (gold) and hard-negative words (never gold).

Choices: a person's name inside a brand, product, company, stock or place name (李宁, 王老吉,
曹操出行, 张飞牛肉, 中山公园, 周大福) names the brand or place and is NOT gold; no historical
figure occurs as a person in this set.
"""

from __future__ import annotations

import numpy as np

from yinji.ids import id_check_char
from yinji.testing.gateway_eval10_names import pick

REGIONS = ["110101", "110105", "310104", "310115", "440305", "440106", "330106", "320102",
           "510107", "420106", "370202", "350203", "610113", "210102", "500103", "430104",
           "120101", "130102", "410105", "340104", "450103", "520102", "530102", "650102"]


def id_number(rng: np.random.Generator) -> str:
    y = int(rng.integers(1950, 2006))
    m, d = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    first = f"{pick(rng, REGIONS)}{y:04d}{m:02d}{d:02d}{int(rng.integers(0, 1000)):03d}"
    return first + id_check_char(first)


def mobile(rng: np.random.Generator) -> str:
    pre = pick(rng, ["138", "139", "136", "135", "137", "150", "151", "152", "158", "159",
                     "186", "187", "188", "189", "133", "153", "177", "180", "181", "199",
                     "166", "173", "176", "185", "130", "131", "132", "155", "156", "191"])
    rest = f"{int(rng.integers(0, 10**8)):08d}"
    u = rng.random()
    if u < 0.72:
        return pre + rest
    if u < 0.82:
        return f"{pre} {rest[:4]} {rest[4:]}"
    if u < 0.92:
        return f"{pre}-{rest[:4]}-{rest[4:]}"
    return f"+86 {pre}{rest}" if u < 0.96 else f"+86-{pre}-{rest[:4]}-{rest[4:]}"


SYLLABLES = ["zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu",
             "sun", "ma", "hu", "guo", "lin", "he", "gao", "luo", "zheng", "wei", "jie", "hao",
             "xin", "yu", "ting", "jun", "ming", "hua", "lei", "fang", "qiang", "yan", "na",
             "ying", "hui", "bo", "tao", "jing", "rui"]
DOMAINS = ["citics-demo.com", "htsc-demo.com.cn", "gtja-demo.com", "cmschina-demo.com",
           "gf-demo.com.cn", "efunds-demo.com.cn", "chinaamc-demo.com", "163.com", "qq.com",
           "126.com", "sina.com", "gmail.com", "outlook.com", "hotmail.com", "yahoo.com.hk",
           "futures-demo.cn", "hkbroker-demo.com.hk", "foxmail.com"]


def email(rng: np.random.Generator) -> str:
    u = rng.random()
    if u < 0.45:
        local = pick(rng, SYLLABLES) + pick(rng, ["", ".", "_"]) + pick(rng, SYLLABLES)
    elif u < 0.7:
        local = pick(rng, SYLLABLES) + pick(rng, SYLLABLES) + str(int(rng.integers(1, 999)))
    elif u < 0.85:
        local = str(int(rng.integers(10**6, 10**10)))
    else:
        local = pick(rng, SYLLABLES)[0] + pick(rng, SYLLABLES)
    return f"{local}@{pick(rng, DOMAINS)}"


def digits(rng: np.random.Generator, n: int, first: str = "") -> str:
    body = "".join(str(int(d)) for d in rng.integers(0, 10, n - len(first)))
    return first + body


def account(rng: np.random.Generator, kind: str) -> str:
    """资金账号 zj (12), 交易编码 jy (8), 客户号 kh (10), 银行卡号 yh (16/19), 证券账户 zq."""
    if kind == "zj":
        return digits(rng, 12, pick(rng, ["1", "3", "6", "8"]))
    if kind == "jy":
        return digits(rng, 8, pick(rng, ["0", "1", "8", "9"]))
    if kind == "kh":
        return digits(rng, 10, pick(rng, ["1", "2", "5", "7"]))
    if kind == "yh":
        n = 19 if rng.random() < 0.6 else 16
        return digits(rng, n, pick(rng, ["6222", "6228", "6217", "6214", "6225", "6230"]))
    if kind == "zq":
        return pick(rng, ["A", "0", "B"]) + digits(rng, 9)
    raise ValueError(f"unknown account kind {kind!r}")


# --- hard negatives (no span) ---
FIRMS = ["中信证券", "华泰证券", "国泰君安", "招商证券", "广发证券", "海通证券", "申万宏源",
         "中金公司", "银河证券", "兴业证券", "光大证券", "东方证券", "方正证券", "长江证券",
         "平安证券", "国信证券", "东吴证券", "西南证券", "华西证券", "中泰证券", "永安期货",
         "中信期货", "南华期货", "国投安信期货", "易方达基金", "华夏基金", "南方基金", "嘉实基金",
         "博时基金", "富国基金", "汇添富基金", "景顺长城基金", "招商永隆", "富途证券", "耀才证券",
         "辉立证券", "致富证券", "中银国际", "海通国际", "华盛证券"]
FUNDS = ["易方达蓝筹精选混合", "华夏成长混合", "嘉实增长混合", "南方中证500ETF联接A",
         "富国天惠成长混合", "兴全合润混合", "景顺长城新兴成长", "汇添富价值精选",
         "招商中证白酒指数", "广发纳斯达克100ETF", "博时黄金ETF联接C", "中欧医疗健康混合A",
         "工银瑞信双利债券", "天弘余额宝货币", "鹏华丰禄债券", "银华日利货币"]
STOCKS = ["贵州茅台", "宁德时代", "比亚迪", "中国平安", "招商银行", "万科A", "五粮液", "隆基绿能",
          "海天味业", "东方财富", "牧原股份", "美的集团", "格力电器", "药明康德", "立讯精密",
          "紫金矿业", "长江电力", "中国石油", "工商银行", "片仔癀", "马应龙", "王府井", "李宁",
          "周大福", "张江高科", "金龙鱼", "海澜之家", "腾讯控股", "美团-W", "小米集团-W",
          "阿里巴巴-SW", "港交所", "汇丰控股", "石头科技", "白云山", "同仁堂", "云南白药",
          "老凤祥", "洋河股份", "华兰生物"]
CODES = ["600519", "300750", "002594", "601318", "600036", "000002", "000858", "601012",
         "603288", "300059", "002714", "000333", "000651", "603259", "002475", "601899",
         "00700", "03690", "01810", "09988", "00388", "00005", "02331", "01929"]
BRANCHES = ["上海浦东新区世纪大道营业部", "深圳福田区益田路营业部", "北京金融大街营业部",
            "杭州庆春路营业部", "广州天河路营业部", "成都人民南路营业部", "南京中山北路营业部",
            "武汉解放大道营业部", "西安高新路营业部", "苏州工业园区星海街营业部",
            "厦门湖滨南路营业部", "天津南京路营业部", "重庆解放碑营业部", "长沙五一大道营业部",
            "郑州金水路营业部", "宁波江东北路营业部", "青岛香港中路营业部", "济南泺源大街营业部",
            "中環皇后大道中分行", "旺角彌敦道分行", "铜锣湾分行", "尖沙咀廣東道分行"]
CITIES = ["上海", "北京", "深圳", "杭州", "广州", "成都", "南京", "武汉", "西安", "苏州",
          "厦门", "重庆", "长沙", "郑州", "宁波", "青岛", "济南", "合肥", "福州", "昆明",
          "石家庄", "常州", "许昌", "马鞍山", "黄石", "白山", "香港", "澳门"]
STREETS = ["中山北路", "解放大道", "人民南路", "陆家嘴环路", "金融大街", "彌敦道", "皇后大道中",
           "张杨路", "欧阳路", "海宁路", "黄河路", "文化路", "建国门外大街", "和平里", "何文田",
           "黃大仙", "高新南九道", "淮海中路", "南京西路", "科华北路"]
BRANDS = ["王老吉", "曹操出行", "张飞牛肉", "孔府家酒", "李宁", "周大福", "东坡肘子", "杜康",
          "中山公园", "孙中山故居", "岳飞庙", "鲁班奖", "逸夫楼", "诸葛烤鱼", "包公祠"]
PRODUCTS = ["稳盈1号集合资产管理计划", "鑫享30天持有期理财", "金选FOF2期", "安心收益凭证第88期",
            "雪球结构收益凭证", "融资融券", "港股通", "科创板", "北交所权限", "期权一级权限",
            "两融授信", "天天利", "现金添利", "收益互换", "场外期权", "国债逆回购"]
ROLES = ["申请人", "联系人", "受益人", "经办人", "复核人", "授权人", "委托人", "代理人",
         "法定代表人", "开户人", "见证人", "客户经理", "投资顾问", "审批人", "被投诉人"]
DEPTS = ["合规部", "风控部", "信息技术部", "运营管理部", "财富管理部", "机构业务部", "经纪业务部",
         "资产管理部", "稽核部", "法律事务部", "客服中心", "清算部", "交易部", "研究所"]
CN_DATES = ["二〇二五年三月十二日", "二〇二四年十二月三十一日", "二〇二六年一月五日",
            "二〇二五年六月三十日", "二〇二六年九月一日"]
CN_AMOUNTS = ["人民币壹佰贰拾万元整", "叁拾伍万元整", "人民币伍拾万元整", "贰佰万元整",
              "人民币捌万陆仟元整", "壹仟万元整"]


def amount(rng: np.random.Generator) -> str:
    u = rng.random()
    if u < 0.4:
        return f"{int(rng.integers(1, 999))}.{int(rng.integers(0, 100)):02d}万元"
    if u < 0.7:
        return f"{int(rng.integers(1000, 9_999_999)):,}元"
    if u < 0.85:
        return f"{int(rng.integers(1, 50))}万"
    return pick(rng, CN_AMOUNTS)


def date(rng: np.random.Generator) -> str:
    m, d = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    u = rng.random()
    if u < 0.4:
        return f"{int(rng.integers(2024, 2027))}年{m}月{d}日"
    if u < 0.7:
        return f"{m}月{d}日"
    if u < 0.9:
        return f"{int(rng.integers(2024, 2027))}-{m:02d}-{d:02d}"
    return pick(rng, CN_DATES)


def time(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(8, 22)):02d}:{int(rng.integers(0, 60)):02d}"


def ticket(rng: np.random.Generator) -> str:
    return pick(rng, ["INC", "CHG", "TS", "KS", "CP", "RQ"]) + digits(rng, 8)


FILL = {
    "FIRM": lambda r: pick(r, FIRMS), "FUND": lambda r: pick(r, FUNDS),
    "STOCK": lambda r: pick(r, STOCKS), "CODE": lambda r: pick(r, CODES),
    "BR": lambda r: pick(r, BRANCHES), "CITY": lambda r: pick(r, CITIES),
    "ST": lambda r: pick(r, STREETS), "BRAND": lambda r: pick(r, BRANDS),
    "PROD": lambda r: pick(r, PRODUCTS), "ROLE": lambda r: pick(r, ROLES),
    "DEPT": lambda r: pick(r, DEPTS), "AMT": amount, "DATE": date, "TIME": time,
    "TK": ticket, "N": lambda r: str(int(r.integers(2, 60))),
    "PCT": lambda r: f"{r.uniform(0.1, 35):.2f}%",
}
