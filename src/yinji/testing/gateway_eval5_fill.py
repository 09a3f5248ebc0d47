"""Fillers of gateway_eval5: identifiers (gold) and hard negatives (never gold).

Companies, funds, stocks, places, branches, products, dates and amounts a broker writes. Many
hold a surname character or a whole person-like name (王府井, 马应龙, 何文田, 黃大仙, 李锦记):
they are not people and carry no span. Written for this set from general knowledge.
"""

from __future__ import annotations

import datetime

import numpy as np

from yinji.ids import id_check_char

BROKERS = ["中信证券", "华泰证券", "国泰君安", "招商证券", "广发证券", "海通证券", "申万宏源",
           "东方财富证券", "中金公司", "银河证券", "国信证券", "光大证券", "方正证券", "长江证券",
           "东吴证券", "华西证券", "国元证券", "平安证券", "兴业证券", "财通证券", "浙商证券"]
FUND_CO = ["易方达基金", "华夏基金", "南方基金", "嘉实基金", "富国基金", "汇添富基金", "博时基金",
           "鹏华基金", "景顺长城基金", "兴证全球基金", "中欧基金", "工银瑞信", "交银施罗德"]
FUTURES_CO = ["永安期货", "中粮期货", "南华期货", "五矿期货", "宏源期货", "徽商期货", "新湖期货",
              "国投安信期货", "银河期货", "格林大华期货"]
COMPANIES = ["马应龙药业", "王老吉", "周黑鸭", "张小泉", "李锦记", "陈克明食品", "白云山", "老凤祥",
             "同仁堂", "胡庆余堂", "王致和", "海天味业", "格力电器", "美的集团", "万华化学",
             "紫金矿业", "长江电力", "恒瑞医药", "东方雨虹", "汤臣倍健", "顾家家居", "洪城环境",
             "江淮汽车", "石头科技", "林洋能源", "曲美家居", "罗莱生活", "金龙鱼", "宋城演艺",
             "华为", "腾讯", "阿里巴巴", "小米", "比亚迪", "宁德时代"]
STOCKS = ["贵州茅台", "宁德时代", "比亚迪", "五粮液", "招商银行", "中国平安", "隆基绿能", "迈瑞医疗",
          "伊利股份", "格力电器", "紫金矿业", "长江电力", "王府井", "周大生", "马应龙", "金种子酒",
          "白云机场", "江西铜业", "云南白药", "东方航空", "海康威视", "中信证券", "万科A", "平安银行",
          "洛阳钼业", "柳工", "韦尔股份", "常山北明", "高德红外", "钱江摩托", "方大炭素", "汤臣倍健"]
FUNDS = ["易方达蓝筹精选混合", "华夏上证50ETF", "招商中证白酒指数", "兴全合润混合", "富国天惠成长",
         "嘉实新兴产业股票", "景顺长城新兴成长", "中欧医疗健康混合", "广发纳斯达克100ETF",
         "汇添富消费行业", "南方中证500ETF联接", "博时信用债纯债", "天天利货币A", "鑫享1号集合资产管理计划",
         "金鼎稳健收益3号", "长盈添利债券", "安心回报6个月持有"]
PRODUCTS = ["收益凭证", "雪球结构产品", "场外期权", "两融", "港股通", "科创板", "北交所", "国债逆回购",
            "ETF期权", "现金管理产品", "私募FOF", "QDII额度"]
FUTURES = ["IF2412", "IC2503", "IH2501", "RB2505", "I2501", "M2505", "AU2412", "CU2502", "SC2503",
           "TA2505", "螺纹钢2505", "铁矿石2501", "豆粕2505", "沪金2412", "白糖2505", "玉米2503"]
BANKS = ["工商银行", "建设银行", "农业银行", "中国银行", "交通银行", "招商银行", "兴业银行", "浦发银行"]
PLACES = ["上海", "北京", "深圳", "杭州", "南京", "成都", "武汉", "西安", "宁波", "苏州", "张家港",
          "张家口", "郑州", "周口", "洛阳", "常州", "温州", "金华", "马鞍山", "石家庄", "黄山",
          "岳阳", "江阴", "贵阳", "石景山区", "钱塘区", "李沧区", "王府井", "刘家窑", "朱家角", "周庄"]
BRANCHES = ["上海浦东新区世纪大道证券营业部", "北京金融大街证券营业部", "深圳福田区深南大道营业部",
            "杭州庆春路营业部", "成都人民南路营业部", "广州天河路营业部", "南京中山路营业部",
            "上海张杨路证券营业部", "上海黄兴路营业部", "武汉建设大道营业部", "西安高新路营业部",
            "宁波解放南路营业部", "杭州文三路营业部", "北京王府井大街营业部", "苏州人民路营业部",
            "天津和平路营业部", "厦门湖滨南路营业部", "长沙五一大道营业部"]
ROLES = ["申请人", "联系人", "受益人", "经办人", "委托人", "代理人", "投资者", "客户", "见证人",
         "复核人", "审批人", "开户人", "持有人", "监护人", "法定代表人", "实际控制人", "交易员"]
HK_BROKERS = ["富途證券", "耀才證券", "輝立證券", "致富證券", "信誠證券", "中銀國際", "招銀國際",
              "海通國際", "華泰金融控股", "滙豐銀行", "恒生銀行", "東亞銀行"]
HK_STOCKS = ["騰訊控股", "美團", "小米集團", "香港交易所", "滙豐控股", "友邦保險", "長和", "新鴻基地產",
             "恒生銀行", "六福集團", "莎莎國際", "李寧", "安踏體育", "阿里巴巴", "京東集團", "舜宇光學",
             "吉利汽車", "華潤置地", "中電控股", "領展房產基金", "新世界發展", "恒基地產", "九龍倉",
             "信和置業", "周生生", "比亞迪股份"]
HK_PLACES = ["中環德輔道中", "旺角彌敦道", "銅鑼灣軒尼詩道", "尖沙咀廣東道", "觀塘巧明街", "沙田正街",
             "荃灣沙咀道", "何文田", "黃大仙", "黃竹坑", "石硤尾", "柴灣", "馬鞍山", "羅湖", "金鐘",
             "太古城", "將軍澳", "元朗"]

_CN = "〇一二三四五六七八九"
_CAP = "零壹贰叁肆伍陆柒捌玖"
_REGIONS = ["110101", "110105", "310104", "310115", "440305", "440106", "320106", "330106",
            "510107", "420106", "370202", "210202", "350203", "430104", "610113", "500103",
            "120101", "130102", "410105", "450103", "530102", "620102", "650102", "810000",
            "820000", "830000"]
_MOBILE = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "145", "147", "150",
           "151", "152", "153", "155", "156", "157", "158", "159", "166", "173", "176", "177",
           "178", "180", "181", "182", "183", "185", "186", "187", "188", "189", "191", "198", "199"]
_SYLL = ["zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu",
         "sun", "ma", "hu", "guo", "lin", "wei", "jun", "ming", "hua", "fang", "ling", "hao", "yu",
         "xiao", "lei", "tao", "jie", "chan", "wong", "kelvin", "amy", "tony", "jason", "grace"]
_DOMAINS = ["qq.com", "163.com", "126.com", "foxmail.com", "sina.com", "hotmail.com", "gmail.com",
            "outlook.com", "yahoo.com.hk", "netvigator.com", "139.com", "aliyun.com",
            "hxsec.com.cn", "dfund.cn", "mingsheng-futures.cn", "pacificam.com.hk"]


def pick(rng: np.random.Generator, items: list[str]) -> str:
    return items[int(rng.integers(len(items)))]


def id_number(rng: np.random.Generator) -> str:
    """An 18-character mainland ID (or HK/Macau/Taiwan residence-permit) number, valid check."""
    born = datetime.date(1945, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 22000)))
    first17 = pick(rng, _REGIONS) + born.strftime("%Y%m%d") + f"{int(rng.integers(0, 1000)):03d}"
    check = id_check_char(first17)
    if check == "X" and rng.random() < 0.1:
        check = "x"
    return first17 + check


def mobile(rng: np.random.Generator) -> str:
    d = pick(rng, _MOBILE) + "".join(str(int(x)) for x in rng.integers(0, 10, 8))
    r = rng.random()
    if r < 0.72:
        return d
    if r < 0.82:
        return f"{d[:3]}-{d[3:7]}-{d[7:]}"
    if r < 0.9:
        return f"{d[:3]} {d[3:7]} {d[7:]}"
    if r < 0.96:
        return "+86 " + d
    return "+86-" + d


def email(rng: np.random.Generator) -> str:
    r = rng.random()
    if r < 0.3:
        local = str(int(rng.integers(10000, 3_000_000_000)))
        domain = "qq.com"
    else:
        n = 1 + int(rng.integers(0, 3))
        sep = pick(rng, ["", ".", "_"])
        local = sep.join(pick(rng, _SYLL) for _ in range(n))
        if rng.random() < 0.4:
            local += str(int(rng.integers(1, 2000)))
        domain = pick(rng, _DOMAINS)
    return f"{local}@{domain}"


def account(rng: np.random.Generator) -> str:
    """A fund/securities account number: never starts with 1 (not mistakable for a mobile)."""
    head = pick(rng, ["0", "2", "3", "6", "8"])
    return head + "".join(str(int(x)) for x in rng.integers(0, 10, pick(rng, [9, 11, 7])))


def date(rng: np.random.Generator) -> str:
    d = datetime.date(2023, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 1000)))
    return pick(rng, [d.isoformat(), d.strftime("%Y/%m/%d"), f"{d.year}年{d.month}月{d.day}日",
                      f"{d.month}月{d.day}日"])


def _small_cn(n: int) -> str:
    """1..99 in Chinese numerals (十一, 二十三)."""
    if n < 10:
        return _CN[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _CN[tens]) + "十" + (_CN[ones] if ones else "")


def cn_date(rng: np.random.Generator) -> str:
    y = 2023 + int(rng.integers(0, 4))
    m, d = 1 + int(rng.integers(0, 12)), 1 + int(rng.integers(0, 28))
    return "".join(_CN[int(c)] for c in str(y)) + f"年{_small_cn(m)}月{_small_cn(d)}日"


def _capital(n: int) -> str:
    """0 < n < 10**8 in financial capitals: 壹佰贰拾叁万肆仟元整."""
    def four(x: int) -> str:
        out, zero = "", False
        for unit, div in (("仟", 1000), ("佰", 100), ("拾", 10), ("", 1)):
            d = x // div % 10
            if d:
                out += ("零" if zero and out else "") + _CAP[d] + unit
                zero = False
            else:
                zero = True
        return out
    hi, lo = divmod(n, 10000)
    s = (four(hi) + "万" if hi else "") + (("零" if hi and lo < 1000 and lo else "") + four(lo))
    return s + "元整"


def cn_amount(rng: np.random.Generator) -> str:
    n = int(rng.integers(1, 5000)) * pick(rng, [100, 1000, 10000])
    if rng.random() < 0.6:
        return "人民币" + _capital(n) if rng.random() < 0.5 else _capital(n)
    return _small_cn(1 + int(rng.integers(0, 99))) + pick(rng, ["万元", "万", "亿元", "千元"])


def amount(rng: np.random.Generator) -> str:
    v = float(rng.integers(100, 50_000_000)) / pick(rng, [1, 100])
    return pick(rng, [f"{v:,.2f}", f"{v:.0f}", f"{v / 10000:.1f}万"])


def pct(rng: np.random.Generator) -> str:
    return f"{rng.integers(80, 300) if rng.random() < 0.5 else rng.integers(1, 99)}%"


def share(rng: np.random.Generator) -> str:
    """A holding: 0.12% .. 29.99%."""
    return f"{rng.integers(12, 3000) / 100:.2f}%"


def time(rng: np.random.Generator) -> str:
    return f"{int(rng.integers(8, 23)):02d}:{int(rng.integers(0, 60)):02d}"


def digits(rng: np.random.Generator, k: int) -> str:
    return str(int(rng.integers(2, 10))) + "".join(str(int(x)) for x in rng.integers(0, 10, k - 1))
