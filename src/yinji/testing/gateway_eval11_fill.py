"""Fillers of gateway_eval11: firms, funds, stocks, branches, places, amounts, dates (never a span)
and identifiers (mobile, ID number, e-mail, account numbers: spans). From general knowledge.

Choice: a person's name inside a brand, product, company, stock or place name (李宁, 周大福,
曹操出行, 张飞牛肉, 孔府家酒, 中山公园, 逸夫楼, 鲁班锁) names the brand or place, not a person:
not gold. The same holds for historical figures named as such (they never occur as persons).
"""

from __future__ import annotations

import numpy as np

from yinji.ids import id_check_char

FILL = {
    "CO": ("中信证券 华泰证券 国泰君安 招商证券 广发证券 海通证券 申万宏源 东方财富证券 方正证券 "
           "长江证券 国信证券 光大证券 兴业证券 东吴证券 中金公司 易方达基金 华夏基金 南方基金 "
           "嘉实基金 汇添富基金 富国基金 博时基金 永赢基金 中信期货 永安期货 国泰君安期货 "
           "南华期货 银河期货 富途证券 耀才证券 辉立证券 华盛证券 李宁体育用品有限公司 "
           "杭州娃哈哈集团 周大福珠宝 王老吉大健康 曹操出行 张小泉股份 马应龙药业 "
           "深圳市前海鸿图投资有限公司 上海盛远贸易有限公司 宁波天成建材有限公司 "
           "杭州明德科技有限公司 广州华南物流有限公司 北京中关村科技园").split(),
    "FUND": ("易方达蓝筹精选混合 华夏成长混合 广发稳健增长 招商中证白酒指数 兴全合润混合 "
             "中欧医疗健康混合 富国天惠成长 汇添富消费行业 南方中证500ETF 华安黄金ETF "
             "嘉实沪深300ETF联接 博时信用债纯债 景顺长城新兴成长 工银瑞信双利债券 "
             "永赢稳健增强 睿远成长价值 交银施罗德阿尔法 天弘余额宝货币").split(),
    "STK": ("贵州茅台 平安银行 万科A 李宁 周大福 马应龙 王府井 中国平安 宁德时代 比亚迪 "
            "海天味业 高德红外 金龙鱼 黄山旅游 东方财富 石头科技 白云山 长江电力 方正证券 "
            "老凤祥 同仁堂 云南白药 孔府家酒 古井贡酒 洋河股份 安井食品 华兰生物 万达电影 "
            "腾讯控股 美团-W 小米集团-W 汇丰控股 友邦保险 港交所").split(),
    "BR": ("中信证券上海淮海中路证券营业部 华泰证券深圳益田路营业部 国泰君安北京金融街营业部 "
           "招商证券广州天河北路营业部 海通证券杭州解放路营业部 广发证券成都人民南路营业部 "
           "东方财富证券拉萨团结路营业部 光大证券宁波中山东路营业部 申万宏源西安高新路营业部 "
           "长江证券武汉新华路营业部 兴业证券福州湖东路营业部 国信证券南京汉中路营业部 "
           "富途证券香港中环分行 耀才证券旺角分行 中信期货郑州营业部 永安期货大连营业部").split(),
    "CITY": ("北京 上海 深圳 广州 杭州 南京 成都 武汉 西安 重庆 天津 苏州 宁波 厦门 福州 长沙 "
             "郑州 济南 青岛 大连 沈阳 哈尔滨 乌鲁木齐 拉萨 呼和浩特 昆明 香港 澳门 台北 吉隆坡").split(),
    "ST": ("中山北路 淮海中路 解放路 人民南路 世纪大道 金融街 陆家嘴环路 欧阳路 延安西路 "
           "深南大道 益田路 天河北路 建国门外大街 王府井大街 文三路 长安街 德辅道中 "
           "弥敦道 轩尼诗道 皇后大道中 中山公园 逸夫楼 黄大仙 何文田 鲁迅公园").split(),
    "BRAND": ("张飞牛肉 曹操出行 孔府家酒 杜康酒 鲁班锁 王老吉 周黑鸭 李宁 老干妈 "
              "东坡肉 麻婆豆腐 关公像 诸葛烤鱼 太白酒 包公祠 梁山好汉").split(),
    "ROLE": ("申请人 联系人 受益人 经办人 委托人 代理人 复核人 审批人 开户人 被申请人 投诉人 "
             "客户经理 投资顾问 合规专员 风控专员 柜员 见证人 法定代表人 实际控制人").split(),
    "AMTC": ("人民币壹拾贰万伍仟元整 叁佰万元 伍拾万元整 贰仟叁佰肆拾伍元陆角 壹佰零捌万元 "
             "玖万捌仟元整 五十万元 一百二十万 三千五百元 七万二 两百万").split(),
    "DATEC": ("二〇二六年十二月七日 二〇二六年十一月三十日 二〇二五年六月 十二月二十日 "
              "二〇二四年三月十五日 九月一日 十月下旬 二零二六年一月五日").split(),
}


def pick(rng: np.random.Generator, s) -> str:
    return s[int(rng.integers(len(s)))]


def digits(rng: np.random.Generator, k: int, first: str = "123456789") -> str:
    return pick(rng, first) + "".join(str(int(d)) for d in rng.integers(0, 10, k - 1))


def mobile(rng: np.random.Generator) -> str:
    s = pick(rng, ("13", "15", "18", "17", "19")) + str(int(rng.integers(0, 10)))
    m = s + digits(rng, 8, "0123456789")
    r = rng.random()
    if r < 0.12:
        return f"{m[:3]}-{m[3:7]}-{m[7:]}"
    if r < 0.22:
        return f"{m[:3]} {m[3:7]} {m[7:]}"
    return m


def hk_mobile(rng: np.random.Generator) -> str:
    m = pick(rng, "5679") + digits(rng, 7, "0123456789")
    return m if rng.random() < 0.6 else f"{m[:4]} {m[4:]}"


def id_number(rng: np.random.Generator) -> str:
    area = pick(rng, ("110105", "310104", "440305", "330106", "320102", "510107", "420106",
                       "610113", "650102", "540102", "150102", "350203", "430104", "210202"))
    y = int(rng.integers(1950, 2008))
    m = int(rng.integers(1, 13))
    d = int(rng.integers(1, 29))
    first = f"{area}{y}{m:02d}{d:02d}{int(rng.integers(0, 1000)):03d}"
    return first + id_check_char(first)


_PINYIN = ("zhang wang li liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he gao lin luo "
           "zheng liang xie song tang han feng deng cao peng zeng xiao tian dong").split()
_DOMAINS = ("163.com qq.com 126.com gmail.com sina.com outlook.com hotmail.com foxmail.com "
            "citics.com htsc.com.cn efunds.com.cn gtja.com cmschina.com.cn yahoo.com.hk").split()


def email(rng: np.random.Generator) -> str:
    r = rng.random()
    a = pick(rng, _PINYIN)
    if r < 0.4:
        local = a + pick(rng, _PINYIN) + str(int(rng.integers(1, 999)))
    elif r < 0.7:
        local = f"{pick(rng, _PINYIN)}.{a}"
    else:
        local = digits(rng, int(rng.integers(6, 11)))
    return f"{local}@{pick(rng, _DOMAINS)}"


def account(rng: np.random.Generator, kind: str) -> str:
    if kind == "ZJ":   # 资金账号
        return digits(rng, 12)
    if kind == "JY":   # 交易编码 (futures)
        return digits(rng, 8)
    if kind == "KH":   # 客户号
        return digits(rng, 10)
    if kind == "BK":   # 银行卡号
        return pick(rng, ("6222", "6217", "6228", "6214", "6225")) + digits(rng, 15 if rng.random() < 0.7 else 12, "0123456789")
    if kind == "ZQ":   # 证券账户
        return pick(rng, "A0B") + digits(rng, 9)
    raise AssertionError(kind)


def amount(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.4:
        return f"{int(rng.integers(1, 999)):,}{pick(rng, ('万元', '万', '元'))}"
    if r < 0.8:
        return f"{rng.integers(1000, 9999999):,}.{int(rng.integers(0, 100)):02d}元"
    return f"{rng.integers(1, 500)}.{int(rng.integers(0, 100)):02d}万"


def date(rng: np.random.Generator) -> str:
    m, d = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    r = rng.random()
    if r < 0.4:
        return f"{m}月{d}日"
    if r < 0.7:
        return f"2026-{m:02d}-{d:02d}"
    return f"2026年{m}月{d}日"


def time(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(8, 22))}:{int(rng.integers(0, 60)):02d}"


def small(rng: np.random.Generator) -> str:
    return str(int(rng.integers(2, 60)))


def pct(rng: np.random.Generator) -> str:
    return f"{rng.integers(0, 30)}.{int(rng.integers(0, 100)):02d}%"


def code(rng: np.random.Generator) -> str:
    return pick(rng, ("600", "601", "000", "002", "300", "688")) + digits(rng, 3, "0123456789")
