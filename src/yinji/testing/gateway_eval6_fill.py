"""Identifiers and no-span fillers of the seventh held-out name set (gateway_eval6).

Identifiers (gold spans): mainland mobiles, ID numbers with a valid GB 11643 check character,
e-mail addresses and account numbers (资金账号, 交易编码, 客户号; category `account`).
Fillers (never gold): companies, funds, stocks, places, streets, branches, role words, words that
begin with a surname character, dates and amounts (some in Chinese numerals), landlines, case
numbers. Written from general knowledge; one numpy Generator per draw (test data).
"""

from __future__ import annotations

import numpy as np

from yinji.ids import id_check_char


def pick(rng: np.random.Generator, items):
    return items[int(rng.integers(len(items)))]


def digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(d) for d in rng.integers(0, 10, n))


# ---- identifiers -------------------------------------------------------------------------------

MOBILE_PREFIXES = ["130", "131", "132", "133", "134", "135", "136", "137", "138", "139", "145", "147",
                   "150", "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "175",
                   "176", "177", "178", "180", "181", "182", "183", "184", "185", "186", "187", "188",
                   "189", "191", "193", "195", "198", "199"]


def mobile(rng: np.random.Generator, plain: bool = False) -> str:
    n = pick(rng, MOBILE_PREFIXES) + digits(rng, 8)
    r = 0.0 if plain else rng.random()
    if r < 0.62:
        return n
    if r < 0.77:
        return f"{n[:3]} {n[3:7]} {n[7:]}"
    if r < 0.87:
        return f"{n[:3]}-{n[3:7]}-{n[7:]}"
    return pick(rng, ["+86 ", "+86-", "+86", "0086 "]) + n


REGIONS = ["110101", "110105", "110108", "310101", "310104", "310115", "440103", "440106", "440304",
           "440305", "330102", "330106", "320102", "320106", "320505", "510104", "510107", "420102",
           "420106", "370102", "370202", "210102", "210202", "500103", "500106", "610103", "610113",
           "350203", "350102", "430104", "430111", "120101", "120104", "410105", "340104", "360102",
           "450103", "530102", "620102", "650102", "150102", "130102", "140105", "220102", "230102",
           "460105", "520102", "640104", "630102", "540102"]


def id_number(rng: np.random.Generator, plain: bool = False) -> str:
    year = int(rng.integers(1950, 2006))
    month = int(rng.integers(1, 13))
    day = int(rng.integers(1, 29))
    first17 = f"{pick(rng, REGIONS)}{year:04d}{month:02d}{day:02d}{digits(rng, 3)}"
    n = first17 + id_check_char(first17)
    if not plain and rng.random() < 0.08:
        return f"{n[:6]} {n[6:14]} {n[14:]}"
    return n


PINYIN_SURNAMES = ["wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu",
                   "sun", "ma", "zhu", "hu", "guo", "he", "gao", "lin", "luo", "zheng", "liang", "xie",
                   "song", "tang", "han", "feng", "deng", "cao", "peng", "zeng", "xiao", "tian", "dong",
                   "ouyang", "situ", "chan", "wong", "cheung", "leung", "lam", "lau", "ng", "ho"]
PINYIN_GIVEN = ["wei", "fang", "na", "min", "jing", "lei", "qiang", "jun", "yang", "jie", "tao",
                "jianguo", "xiaoming", "zihan", "haoran", "yuxuan", "xinyi", "siyuan", "zhiqiang",
                "lihua", "kelvin", "winnie", "peggy", "eric", "karen", "ivan", "jy", "zq", "hm"]
DOMAINS = ["citics.com", "htsc.com.cn", "gtjas.com", "cmschina.com.cn", "gf.com.cn", "efunds.com.cn",
           "chinaamc.com", "hsbc.com.hk", "futu.hk", "qq.com", "163.com", "126.com", "gmail.com",
           "outlook.com", "sina.com", "foxmail.com", "yahoo.com.hk", "netvigator.com", "139.com",
           "dingsheng-am.cn", "hengxin-fut.com", "mingde-pe.com.cn", "example-sec.cn"]


def email(rng: np.random.Generator) -> str:
    s, g = pick(rng, PINYIN_SURNAMES), pick(rng, PINYIN_GIVEN)
    r = rng.random()
    if r < 0.3:
        local = f"{g}.{s}"
    elif r < 0.55:
        local = f"{s}{g}"
    elif r < 0.7:
        local = f"{s}_{g}{int(rng.integers(1, 99))}"
    elif r < 0.85:
        local = f"{g[0]}{s}"
    else:
        local = str(int(rng.integers(100_000, 3_000_000_000)))  # QQ-style, at most 10 digits
    return f"{local}@{pick(rng, DOMAINS)}"


def account(rng: np.random.Generator) -> str:
    """A broker account number: 资金账号 / 交易编码 / 客户号 / HK account (no leading 1)."""
    r = rng.random()
    if r < 0.35:
        return pick(rng, ["3", "5", "6", "8"]) + digits(rng, 11)  # 12-digit 资金账号
    if r < 0.6:
        return pick(rng, ["0", "2", "8", "9"]) + digits(rng, 7)  # 8-digit 交易编码
    if r < 0.8:
        return pick(rng, ["2", "6", "7"]) + digits(rng, 9)  # 10-digit 客户号
    return pick(rng, ["A", "M", "C", "HK"]) + digits(rng, 7)


# ---- fillers (never gold) ----------------------------------------------------------------------

COMPANIES = ["中信证券", "华泰证券", "国泰君安", "招商证券", "广发证券", "海通证券", "东方财富证券",
             "中金公司", "方正证券", "长江证券", "国信证券", "光大证券", "兴业证券", "申万宏源",
             "东吴证券", "易方达基金", "华夏基金", "南方基金", "嘉实基金", "博时基金", "富国基金",
             "汇添富基金", "永赢基金", "华安基金", "万家基金", "金鹰基金", "中信期货", "永安期货",
             "银河期货", "东证期货", "鼎盛资产管理有限公司", "恒信投资咨询有限公司", "明德私募基金",
             "周大福珠宝", "王老吉药业", "张小泉股份", "陈李济药厂", "胡庆余堂", "老凤祥", "同仁堂",
             "全聚德", "海尔集团", "高德地图", "金山软件", "万达集团", "华润置地", "安信信托",
             "江南造船", "宁波银行", "马钢集团"]
HK_COMPANIES = ["滙豐銀行", "恒生銀行", "中銀香港", "東亞銀行", "新鴻基地產", "長江實業", "周生生",
                "周大福", "耀才證券", "輝立證券", "富途證券", "大新銀行", "香港交易所", "證監會",
                "太古地產", "九龍倉", "恒基兆業", "信和置業", "港鐵公司", "利豐集團"]
FUNDS = ["易方达蓝筹精选混合", "华夏成长混合", "招商中证白酒指数A", "富国天惠成长混合", "兴全合润混合",
         "景顺长城新兴成长", "中欧医疗健康混合A", "广发纳斯达克100ETF联接", "南方中证500ETF联接A",
         "汇添富消费行业混合", "天弘余额宝货币", "博时信用债纯债C", "嘉实沪深300ETF", "华安黄金ETF",
         "永赢先锋半导体智选", "鹏华中证酒ETF", "工银瑞信双利债券", "万家行业优选", "周期优选混合",
         "高端制造精选股票", "平安鑫安混合", "安心收益债券"]
STOCKS = ["平安银行", "万科A", "贵州茅台", "宁德时代", "比亚迪", "招商银行", "中国平安", "五粮液",
          "隆基绿能", "东方财富", "格力电器", "美的集团", "海天味业", "恒瑞医药", "紫金矿业", "长江电力",
          "片仔癀", "云南白药", "金龙鱼", "牧原股份", "温氏股份", "万华化学", "高德红外", "江山欧派",
          "金山办公", "方大特钢", "汤臣倍健", "白云山", "马钢股份", "常山北明", "和而泰", "李子园",
          "周大生", "王府井", "海康威视", "万达电影", "安井食品", "洋河股份", "金地集团", "华侨城A",
          "申能股份", "明阳智能", "石头科技", "罗博特科", "龙佰集团", "丽珠集团", "许继电气",
          "黄山旅游", "万向钱潮", "梅花生物"]
CITIES = ["上海", "北京", "深圳", "广州", "杭州", "成都", "武汉", "南京", "西安", "重庆", "天津", "苏州",
          "长沙", "郑州", "青岛", "厦门", "合肥", "福州", "济南", "沈阳", "昆明", "宁波", "无锡", "东莞",
          "佛山", "温州", "石家庄", "太原", "乌鲁木齐", "呼和浩特", "张家口", "高邮", "马鞍山", "周口",
          "黄石", "许昌", "常州", "韩城", "丽江", "龙岩", "秦皇岛", "江门", "金华", "安阳", "林芝"]
STREETS = ["世纪大道", "深南大道", "中关村大街", "珠江新城华夏路", "文三路", "红星路三段", "南京东路",
           "张江高科路", "陆家嘴环路", "肇嘉浜路", "建国门外大街", "王府井大街", "金融大街", "中山东一路",
           "解放西路", "人民路", "延安西路", "淮海中路", "长安街", "黄河路", "高新南七道", "福华三路",
           "杨高南路", "曹安公路", "吴中路", "徐家汇路", "潘家园路", "马当路", "何家湾路", "宋庆龄路"]
HK_PLACES = ["中環德輔道中", "金鐘道", "尖沙咀廣東道", "旺角彌敦道", "銅鑼灣軒尼詩道", "觀塘海濱道",
             "沙田正街", "荃灣楊屋道", "黃竹坑道", "太古城道", "將軍澳唐德街", "柴灣道", "屯門鄉事會路",
             "上環干諾道中", "灣仔告士打道", "北角英皇道"]
BROKERS_SHORT = ["中信证券", "华泰证券", "国泰君安", "招商证券", "广发证券", "海通证券", "方正证券",
                 "长江证券", "东吴证券", "光大证券", "申万宏源"]
ROLES = ["申请人", "联系人", "受益人", "经办人", "客户经理", "投资顾问", "复核人", "审批人", "代理人",
         "法定代表人", "实际控制人", "开户人", "委托人", "被投诉人", "投诉人", "见证人", "柜员", "监护人",
         "交易员", "合规专员", "风控专员", "理财经理", "营业部负责人", "账户持有人"]
WORDS = ["高度", "周期", "方向", "黄金", "万元", "于是", "成本", "金融", "任何", "许多", "曾经", "余额",
         "程序", "范围", "金额", "石油", "白银", "马上", "陆续", "严格", "龙头", "常规", "安排", "温度",
         "包括", "左右", "管理", "牛市", "熊市", "杜绝", "付款", "毛利", "顾客", "向来", "郑重", "罗列",
         "董事", "夏季", "段落", "史上", "江苏", "汪洋", "叶片", "胡同", "何时", "万一", "钱款", "方案",
         "齐全", "毕业", "单位", "季度", "申报", "尚未", "全部", "项目", "连续", "简单", "景气", "费用",
         "冷静", "席位", "宗旨", "全面", "应该", "和解", "商品", "明确", "查询", "时间", "路演", "从事",
         "但是", "尤其", "阳光", "农业", "司法", "卓越", "吉利", "全额", "应付", "关于", "关注", "平安",
         "安全", "华夏", "文件", "谢谢", "成功", "孔径"]
PRODUCTS = ["稳健增利1号", "安鑫理财180天", "鑫享收益凭证第88期", "雪球结构产品", "融资融券", "股票期权",
            "国债逆回购", "科创板权限", "北交所权限", "港股通", "创业板权限", "私募FOF二期", "固收+组合",
            "现金管理T+0", "场外衍生品", "收益互换", "期货IB业务", "投顾组合「均衡配置」"]
DEPTS = ["合规部", "风险管理部", "财富管理部", "运营中心", "客户服务中心", "机构业务部", "经纪业务总部",
         "稽核审计部", "法律合规部", "信息技术部", "人力资源部", "投资银行部", "固定收益部", "资产管理部",
         "反洗钱中心", "零售业务部", "期货经纪部", "托管部"]
HK_DEPTS = ["合規部", "風險管理部", "客戶服務部", "財富管理部", "交收部", "營運部", "法律部", "人力資源部"]


def branch(rng: np.random.Generator) -> str:
    return f"{pick(rng, BROKERS_SHORT)}{pick(rng, CITIES)}{pick(rng, STREETS)}证券营业部"


def address(rng: np.random.Generator) -> str:
    return f"{pick(rng, CITIES)}市{pick(rng, STREETS)}{int(rng.integers(1, 1999))}号"


def date(rng: np.random.Generator) -> str:
    y, m, d = int(rng.integers(2019, 2027)), int(rng.integers(1, 13)), int(rng.integers(1, 29))
    return pick(rng, [f"{y}年{m}月{d}日", f"{y}-{m:02d}-{d:02d}", f"{m}月{d}日", f"{y}/{m:02d}/{d:02d}",
                      f"{y}.{m}.{d}"])


CN_DIGITS = "〇一二三四五六七八九"


def cn_date(rng: np.random.Generator, trad: bool = False) -> str:
    y = "".join(CN_DIGITS[int(c)] for c in str(int(rng.integers(2019, 2027))))
    m, d = int(rng.integers(1, 13)), int(rng.integers(1, 29))
    return f"{y}年{cn_number(m)}月{cn_number(d)}日"


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (十一, 二十三)."""
    tens, ones = divmod(n, 10)
    out = ("" if tens == 1 else CN_DIGITS[tens]) + "十" if tens else ""
    return out + (CN_DIGITS[ones] if ones else "")


def amount(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.3:
        return f"{rng.integers(1, 999)}.{rng.integers(0, 99):02d}万元"
    if r < 0.55:
        return f"{int(rng.integers(1000, 9_999_999)):,}元"
    if r < 0.75:
        return f"人民币{int(rng.integers(5, 500))}万元"
    return f"{rng.integers(1, 99)}.{rng.integers(1, 9)}亿元"


UPPER = "零壹贰叁肆伍陆柒捌玖"


def cn_amount(rng: np.random.Generator) -> str:
    """An amount in Chinese numerals: 人民币伍拾万元整, 三千二百万元."""
    if rng.random() < 0.5:
        a, b = int(rng.integers(1, 10)), int(rng.integers(1, 10))
        unit = pick(rng, ["拾万元整", "佰万元整", "仟元整", "万元整"])
        return f"人民币{UPPER[a]}{pick(rng, ['仟', '佰', '拾'])}{UPPER[b]}{unit}"
    a, b = int(rng.integers(1, 10)), int(rng.integers(1, 10))
    return f"{CN_DIGITS[a]}千{CN_DIGITS[b]}百{pick(rng, ['万元', '元', '万股', '手'])}"


def landline(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.5:
        return f"{pick(rng, ['021', '010', '020', '0571', '0755', '028', '027'])}-{pick(rng, '2568')}{digits(rng, 7)}"
    if r < 0.8:
        return pick(rng, ["95548", "95558", "95565", "95521", "95553", "95575", "95536"])
    return f"400-{digits(rng, 3)}-{digits(rng, 4)}"


def case_no(rng: np.random.Generator) -> str:
    y = int(rng.integers(2019, 2027))
    return pick(rng, [f"TS{y}{digits(rng, 5)}", f"合规〔{y}〕{rng.integers(1, 300)}号",
                      f"({y})沪0115民初{rng.integers(1000, 99999)}号", f"KYC-{y}-{digits(rng, 4)}",
                      f"STR{y}{digits(rng, 4)}", f"工单{digits(rng, 8)}"])


def pct(rng: np.random.Generator) -> str:
    return f"{rng.integers(0, 60)}.{rng.integers(0, 99):02d}%"


def time(rng: np.random.Generator) -> str:
    h, m = int(rng.integers(8, 22)), int(rng.integers(0, 60))
    return pick(rng, [f"{h}:{m:02d}", f"{h}点{m}分", f"上午{cn_number(h % 12 or 9)}点", f"下午{cn_number(h % 6 + 1)}点半"])


def stock_code(rng: np.random.Generator) -> str:
    return pick(rng, ["600", "601", "603", "000", "002", "300", "688"]) + digits(rng, 3)


FILLERS = {
    "CO": lambda r: pick(r, COMPANIES), "HKCO": lambda r: pick(r, HK_COMPANIES),
    "FUND": lambda r: pick(r, FUNDS), "STOCK": lambda r: pick(r, STOCKS), "CODE": stock_code,
    "CITY": lambda r: pick(r, CITIES), "STREET": lambda r: pick(r, STREETS), "ADDR": address, "HKADDR": lambda r: pick(r, HK_PLACES),
    "BR": branch, "DATE": date, "CDATE": cn_date, "AMT": amount, "CAMT": cn_amount,
    "PROD": lambda r: pick(r, PRODUCTS), "ROLE": lambda r: pick(r, ROLES),
    "WORD": lambda r: pick(r, WORDS), "DEPT": lambda r: pick(r, DEPTS),
    "HKDEPT": lambda r: pick(r, HK_DEPTS), "BROKER": lambda r: pick(r, BROKERS_SHORT), "TEL": landline, "CASE": case_no, "PCT": pct,
    "TIME": time, "N": lambda r: str(int(r.integers(2, 60))),
    "AGE": lambda r: str(int(r.integers(22, 80))),
}
