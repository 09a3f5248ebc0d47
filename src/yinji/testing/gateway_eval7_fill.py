"""Identifiers and hard-negative fillers for gateway_eval7 (issue #16), from general knowledge.

Identifiers carry a span (mobile, id_number, email, account); fillers carry none: they are the
company, fund, stock, place and word material a name detector must leave alone. Brands named
after a person (李宁, 王老吉, 张小泉, 周大福, 马应龙, 曹操出行) appear only inside a company or
product name and are NOT gold: they refer to the company, not to a person.
"""

from __future__ import annotations

import numpy as np

from yinji.ids import id_check_char

_REGIONS = ["110101", "110105", "120103", "310104", "310115", "320102", "320583", "330106",
            "330382", "340104", "350203", "360102", "370102", "370212", "410105", "420106",
            "430104", "440106", "440305", "440604", "450103", "500103", "510107", "520102",
            "530102", "610103", "620102", "650102", "210202", "230103"]
_MOBILE_PREFIX = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151",
                  "152", "155", "157", "158", "159", "166", "176", "177", "180", "181", "182",
                  "185", "186", "187", "188", "189", "191", "198", "199"]
_MAIL_LOCAL = ["zhangwei", "li.na", "wangfang88", "liuyang", "chenjing", "yang_li", "huang.lei",
               "zhao_min", "wu.tao", "zhouxin", "sunhao", "ma.jun", "hu_yan", "chan.taiman",
               "kmwong", "vivian.ho", "jason.lau", "ken_tsang", "service", "ir", "compliance",
               "zxf1986", "lhl_0723", "tony.cheung", "hr-team", "xiaoyu.gao"]
_MAIL_DOMAIN = ["163.com", "126.com", "qq.com", "sina.com", "gmail.com", "outlook.com",
                "hotmail.com", "yahoo.com.hk", "netvigator.com", "hzsec.com.cn", "dhfund.com",
                "jxfutures.cn", "bfam-hk.com", "ylam.com.cn", "foxmail.com", "139.com"]


def _digits(rng: np.random.Generator, k: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, size=k))


def mobile(rng: np.random.Generator) -> str:
    p = _MOBILE_PREFIX[int(rng.integers(len(_MOBILE_PREFIX)))]
    rest = _digits(rng, 8)
    r = rng.random()
    if r < 0.8:
        return p + rest
    if r < 0.9:
        return f"{p}-{rest[:4]}-{rest[4:]}"
    return f"{p} {rest[:4]} {rest[4:]}"


def id_number(rng: np.random.Generator, minor: bool = False) -> str:
    year = int(rng.integers(2008, 2020)) if minor else int(rng.integers(1950, 2003))
    month, day = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    first = f"{_REGIONS[int(rng.integers(len(_REGIONS)))]}{year:04d}{month:02d}{day:02d}" \
            f"{_digits(rng, 3)}"
    return first + id_check_char(first)


def email(rng: np.random.Generator) -> str:
    local = _MAIL_LOCAL[int(rng.integers(len(_MAIL_LOCAL)))]
    if rng.random() < 0.4:
        local += _digits(rng, int(rng.integers(2, 5)))
    if rng.random() < 0.15:
        local = str(int(rng.integers(10**7, 10**10)))        # a QQ number
        return f"{local}@qq.com"
    return f"{local}@{_MAIL_DOMAIN[int(rng.integers(len(_MAIL_DOMAIN)))]}"


def _luhn_complete(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return body + str((10 - total % 10) % 10)


def account(rng: np.random.Generator, kind: str) -> str:
    """资金账号 (AC), 交易编码 (AT), 客户号 (AK), 银行卡号 (AB), 证券账户 (AS)."""
    if kind == "AC":
        return f"{int(rng.integers(1, 100)):04d}" + _digits(rng, 8)
    if kind == "AT":
        return str(int(rng.integers(1, 10))) + _digits(rng, 7)
    if kind == "AK":
        return str(int(rng.integers(1, 10))) + _digits(rng, int(rng.integers(8, 10)))
    if kind == "AB":
        bin6 = ["622202", "621700", "622848", "621226", "623668", "622588", "621483"][
            int(rng.integers(7))]
        card = _luhn_complete(bin6 + _digits(rng, 12 if rng.random() < 0.6 else 9))
        if rng.random() < 0.3:
            return " ".join(card[i:i + 4] for i in range(0, len(card), 4))
        return card
    if kind == "AS":
        return ("A" + _digits(rng, 9)) if rng.random() < 0.5 else ("0" + _digits(rng, 9))
    raise ValueError(f"unknown account kind {kind!r}")


# --- hard negatives (no span) -------------------------------------------------------------
FILL = {
    "CO": ["中信证券", "华泰证券", "国泰君安", "海通证券", "招商证券", "广发证券", "申万宏源",
           "东方财富证券", "平安证券", "兴业证券", "长江证券", "光大证券", "中金公司",
           "永安期货", "中信期货", "南华期货", "银河期货", "国投安信期货", "东证期货",
           "汇丰银行（中国）", "恒生银行", "中银国际", "富途证券", "耀才证券", "辉立证券",
           "李宁体育用品有限公司", "王老吉大健康产业有限公司", "张小泉股份有限公司",
           "周大福珠宝集团", "马应龙药业集团", "曹操出行", "老凤祥", "东阿阿胶", "黄山旅游",
           "宁德时代", "比亚迪", "腾讯控股", "阿里巴巴", "小米集团", "美的集团"],
    "FUND": ["易方达蓝筹精选混合", "富国天惠成长混合", "兴全合润混合", "中欧医疗健康混合A",
             "华夏上证50ETF", "南方中证500ETF联接A", "招商中证白酒指数", "广发稳健增长",
             "嘉实新兴产业股票", "景顺长城新兴成长混合", "汇添富价值精选", "交银施罗德精选",
             "博时信用债纯债", "天弘余额宝货币", "工银瑞信双利债券A", "鹏华丰和债券",
             "永赢长远价值一年持有", "建信中国红利", "华安黄金易ETF", "银华日利货币"],
    "STK": ["平安银行", "万科A", "贵州茅台", "五粮液", "招商银行", "中国平安", "格力电器",
            "东方财富", "中信证券", "海天味业", "恒瑞医药", "隆基绿能", "中芯国际", "牧原股份",
            "长江电力", "金山办公", "方正证券", "国金证券", "石药集团", "白云山", "高德红外",
            "万华化学", "周大生", "金龙鱼", "常山药业", "江淮汽车", "安琪酵母", "文一科技"],
    "CODE": ["000001", "000002", "600519", "000858", "600036", "601318", "000651", "300059",
             "600030", "603288", "600276", "601012", "688981", "002714", "600900", "0700.HK",
             "9988.HK", "1810.HK", "00388", "02318"],
    "CITY": ["北京", "上海", "深圳", "广州", "杭州", "南京", "成都", "武汉", "西安", "重庆",
             "天津", "苏州", "长沙", "郑州", "青岛", "厦门", "宁波", "合肥", "福州", "昆明",
             "香港", "澳门", "佛山", "东莞", "无锡", "大连", "沈阳", "济南", "石家庄", "温州"],
    "BR": ["深圳福田中心四路证券营业部", "上海浦东新区世纪大道证券营业部", "北京建国门外大街营业部",
           "杭州庆春路营业部", "南京中山北路证券营业部", "广州天河路营业部", "成都人民南路营业部",
           "武汉中山大道营业部", "西安高新路营业部", "厦门湖滨南路营业部", "长沙芙蓉中路营业部",
           "宁波江东北路营业部", "重庆解放碑营业部", "大连人民路营业部", "苏州工业园区营业部"],
    "ADDR": ["中山北路1088号", "逸仙路205弄3号", "解放大道688号", "人民南路二段18号",
             "建国路93号院", "淮海中路283号", "南京西路1266号", "深南大道7088号", "天河北路233号",
             "彌敦道625號", "皇后大道中99號", "軒尼詩道338號", "德輔道中71號", "干诺道中111号",
             "鲁迅路12号", "黄河路55号", "长江路8号", "文化路16号", "和平里东街11号"],
    "AMT": ["50,000.00", "1,200,000", "36.8万", "5000", "2,350,000.00", "120万", "8.5亿",
            "300万", "18,600", "9.6万", "1500万", "75,432.10"],
    "CAMT": ["人民币伍拾万元整", "人民币壹佰贰拾万元整", "叁仟伍佰元整", "人民币贰万陆仟元整",
             "肆拾万元", "人民币玖万捌仟元整", "一百五十万元", "三千万元", "两亿元", "五十万股"],
    "DATE": ["2024年3月15日", "2023-11-02", "2025/01/08", "2024年12月31日", "3月8日", "下周一",
             "本月20日", "2024.06.30", "T+1日", "次月初", "上周五", "6月28日"],
    "CDATE": ["二〇二四年三月十五日", "二〇二三年十二月一日", "二〇二五年一月八日",
              "二〇二四年六月三十日", "二〇二二年九月九日"],
    "TIME": ["9:30", "10:15", "13:05", "14:57", "15:00", "21:00", "22:30", "8:45"],
    "PCT": ["3.5%", "12%", "0.8%", "60%", "150%", "-4.2%", "7.25%", "100%"],
    "NUM": ["2", "3", "5", "10", "12", "20", "30", "100", "200", "500"],
    "PROD": ["收益凭证", "雪球结构产品", "两融业务", "股票期权", "场外衍生品", "港股通",
             "国债逆回购", "私募证券投资基金", "资管计划", "信托计划", "REITs", "科创板",
             "北交所", "沪深300股指期货", "螺纹钢期货", "豆粕期权", "黄金T+D", "可转债"],
    "CT": ["rb2405", "IF2403", "au2406", "m2409", "cu2405", "i2409", "SR405", "TA405", "IC2406",
           "sc2407", "ag2412", "MA409", "jm2409", "p2409"],
    "WD": ["高度", "周期", "方向", "黄金", "万元", "于是", "成本", "金融", "张贴", "李子", "常规",
           "陈述", "杨柳", "白银", "马上", "朱红", "胡同", "林业", "江湖", "石油", "钱包", "孔径",
           "向上", "邓州", "包括", "苏醒", "程序", "时间", "田地", "毛利", "童年", "管理", "宋体",
           "段落", "雷达", "贺电", "史料", "汤圆", "康复", "易懂", "洪水", "夏季", "严格", "谢谢",
           "花费", "安全", "方案", "沈阳", "曾经", "任何", "万一", "华为", "平安"],
    "BRAND": ["李宁", "王老吉", "张小泉", "周大福", "马应龙", "老干妈", "曹操出行", "王致和",
              "张裕", "杜康"],
}


def fill(rng: np.random.Generator, key: str) -> str:
    opts = FILL[key]
    return opts[int(rng.integers(len(opts)))]
