"""Fillers (no gold span) and identifier makers of the ninth held-out name set (gateway_eval8).

Fillers are the hard negatives: companies, funds, stocks, branches, streets, places, products,
person-named brands (李宁, 王老吉, 张小泉: a brand, not a person -- never gold), role words,
words that begin with a surname character, Chinese-numeral dates and amounts. Written from
general knowledge.
"""

from __future__ import annotations

import datetime

import numpy as np

from yinji.ids import id_check_char
from yinji.testing.gateway_eval8_names import pick

FILL: dict[str, list[str]] = {
    "co": ["中信证券", "华泰证券", "国泰君安", "招商证券", "广发证券", "海通证券", "申万宏源",
           "中金公司", "东方财富证券", "兴业证券", "长江证券", "国信证券", "光大证券", "东吴证券",
           "华西证券", "平安证券", "方正证券", "中泰证券", "财通证券", "西部证券", "华安期货",
           "永安期货", "中粮期货", "南华期货", "银河期货", "鼎鑫资产管理有限公司",
           "恒瑞医药", "李宁体育用品有限公司", "王老吉大健康", "张小泉股份", "周黑鸭食品",
           "马应龙药业", "陈李济药厂", "曹操出行", "杨国福餐饮", "海天味业", "同仁堂"],
    "cot": ["匯豐銀行", "中銀香港", "恒生銀行", "東亞銀行", "耀才證券", "輝立證券", "富途證券",
            "交銀國際", "海通國際", "國泰君安國際", "招銀國際", "信達國際", "大新銀行", "澳門國際銀行",
            "元大證券", "凱基證券", "富邦證券", "群益期貨", "永豐金證券"],
    "fund": ["易方达蓝筹精选混合", "南方中证500ETF", "嘉实沪深300指数", "汇添富消费行业",
             "富国天惠成长", "广发稳健增长", "兴全合润", "鹏华丰和债券", "华夏回报", "景顺长城新兴成长",
             "博时信用债", "天弘余额宝货币", "中欧医疗健康", "工银瑞信双利", "招商中证白酒指数"],
    "stock": ["贵州茅台", "五粮液", "宁德时代", "比亚迪", "隆基绿能", "格力电器", "美的集团",
              "中国平安", "招商银行", "万科A", "东方财富", "同花顺", "药明康德", "片仔癀", "紫金矿业",
              "长江电力", "中国神华", "洛阳钼业", "平安银行", "金山办公", "石头科技", "江山欧派",
              "白云山", "马钢股份", "高德红外", "海康威视", "方大炭素", "华友钴业", "林洋能源"],
    "br": ["上海浦东新区世纪大道营业部", "深圳福田区益田路营业部", "北京建国门外大街营业部",
           "杭州庆春路营业部", "成都人民南路营业部", "广州天河路营业部", "南京中山北路营业部",
           "武汉解放大道营业部", "西安高新路营业部", "厦门鹭江道营业部", "苏州人民路营业部",
           "长沙五一大道营业部", "重庆解放碑营业部", "郑州金水路营业部", "青岛香港中路营业部"],
    "city": ["上海", "深圳", "北京", "杭州", "成都", "广州", "南京", "武汉", "西安", "厦门",
             "苏州", "长沙", "重庆", "郑州", "青岛", "宁波", "合肥", "福州", "昆明", "大连",
             "石家庄", "贵阳", "金华", "黄山", "马鞍山", "高邮", "江门", "常州", "乐山", "温州"],
    "road": ["中山北路", "解放路", "人民大道", "延安西路", "逸仙路", "鲁迅路", "黄河路", "长江路",
             "南京西路", "淮海中路", "建国路", "文化路", "学院路", "张江路", "陆家嘴环路"],
    "prod": ["收益凭证", "固收+理财", "两融业务", "股票质押", "场外期权", "收益互换", "私募资管计划",
             "国债逆回购", "港股通", "科创板", "北交所", "可转债", "雪球结构产品", "碳排放权"],
    "dept": ["合规部", "风险管理部", "信息技术部", "财富管理部", "运营管理部", "稽核审计部",
             "法律事务部", "客户服务中心", "机构业务部", "固定收益部", "投资银行部", "人力资源部",
             "研究所", "资产托管部", "期货经纪部"],
    "role": ["申请人", "联系人", "受益人", "经办人", "复核人", "委托人", "代理人", "监护人",
             "投资者", "客户经理", "投资顾问", "审批人", "开户人", "持有人", "见证人", "当事人"],
    "word": ["高度", "周期", "黄金", "于是", "方向", "林业", "石油", "金融", "王牌", "马上",
             "常规", "成本", "安全", "时间", "文件", "明天", "白银", "钱包", "程序", "许可",
             "关于", "华夏", "陆续", "毛利", "任何", "司机", "龙头", "包括", "简单", "管理",
             "全部", "曲线", "路演", "项目", "连续", "余额", "付款", "平仓", "明细", "丰富",
             "计划", "牛市", "熊市", "方案", "范围", "江湖", "万一", "宋体", "祝贺", "章程",
             "程度", "温度", "冯京马凉", "朱砂", "胡同", "郑重", "齐全", "魏碑", "严格", "尚未",
             "左右", "向来", "欧元", "甘心", "汤圆", "卢布", "邓白氏", "苗头", "易懂", "殷实"],
    "amt": ["50万元", "1,200,000元", "3.6亿元", "8,850.00元", "人民币二十万元", "12.5万元",
            "壹拾伍万元整", "叁佰万元整", "陆万捌仟元", "HK$380,000", "港幣五十萬", "200手",
            "1.5亿份", "贰仟元整", "九千八百元"],
    "date": ["2026年3月5日", "2026-11-20", "12月7日", "本周五", "下周一", "2027年1月15日",
             "二〇二六年十二月七日", "二零二六年十月八日", "今天下午", "11月30日前", "T+1日",
             "2026/09/18", "上月末", "今早九点半"],
    "n": ["3", "5", "7", "12", "18", "26", "30", "45", "60", "88", "120", "300"],
    "time": ["09:15", "10:30", "13:00", "14:45", "15:05", "16:30", "20:00", "22:40", "08:50",
             "凌晨2点", "晚上十点"],
    "sys": ["集中交易系统", "两融系统", "CRM", "OA", "清算系统", "APP行情服务", "TA系统",
            "估值系统", "反洗钱监测系统", "柜台系统", "期货CTP前置", "港股交易网关", "恒生O32"],
    "nick": ["小太阳", "胖虎", "糖糖", "大白", "Lucky", "追风少年", "静待花开", "财源滚滚",
             "一路向北", "星星点灯", "稳稳的幸福", "A股老韭菜", "Kiki", "橙子", "向日葵🌻",
             "奋斗的小蜗牛", "牛牛", "半糖去冰"],
    "place": ["陆家嘴", "前海", "金融街", "王府井", "中关村", "西湖", "太古坊", "中環", "旺角",
              "何文田", "黃大仙", "信義區", "氹仔", "吉隆坡", "新山", "武夷山", "岳麓山", "孔庙"],
}

_MOBILE_PREFIX = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152",
                  "155", "157", "158", "159", "166", "176", "177", "180", "181", "186", "187",
                  "188", "189", "191", "195", "198", "199"]
_AREA = ["110101", "310104", "440305", "330106", "510107", "420106", "320102", "610113", "350203",
         "430104", "500103", "410105", "370202", "452123", "654001", "540102", "150102", "230103"]
_HANDLE = ["zhang", "wang", "li", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu",
           "sun", "ma", "lin", "gao", "he", "guo", "kf", "service", "compliance", "ir", "ops",
           "dev", "risk", "chan", "wong", "lee", "hr", "audit", "it-oncall"]
_DOMAIN = ["citics.com", "htsc.com.cn", "gtja.com", "cmschina.com.cn", "gf.com.cn", "qq.com",
           "163.com", "126.com", "gmail.com", "outlook.com", "sina.com", "foxmail.com",
           "hotmail.com.hk", "netvigator.com", "yahoo.com.tw", "dxzq.net.cn", "fund-xyz.com"]


def fill(rng: np.random.Generator, key: str) -> str:
    return pick(rng, FILL[key])


def digits(rng: np.random.Generator, k: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, size=k))


def mobile(rng: np.random.Generator) -> str:
    body = pick(rng, _MOBILE_PREFIX) + digits(rng, 8)
    u = rng.random()
    if u < 0.12:
        return f"{body[:3]}-{body[3:7]}-{body[7:]}"
    if u < 0.22:
        return f"{body[:3]} {body[3:7]} {body[7:]}"
    return body


def id_number(rng: np.random.Generator) -> str:
    born = datetime.date(1950, 1, 1) + datetime.timedelta(days=int(rng.integers(0, 365 * 55)))
    first17 = pick(rng, _AREA) + born.strftime("%Y%m%d") + digits(rng, 3)
    return first17 + id_check_char(first17)


def email(rng: np.random.Generator) -> str:
    h = pick(rng, _HANDLE)
    u = rng.random()
    if u < 0.4:
        h += digits(rng, int(rng.integers(2, 5)))
    elif u < 0.7:
        h += "." + pick(rng, _HANDLE)[:2]
    return f"{h}@{pick(rng, _DOMAIN)}"


def account(rng: np.random.Generator, kind: str) -> str:
    """资金账号 (F, 12 digits), 交易编码 (T, 8), 客户号 (C, 9-10), 银行卡号 (B, 16/19, maybe
    grouped by four), 证券账户 (S, A/0 + 9 digits)."""
    if kind == "F":
        return digits(rng, 12)
    if kind == "T":
        return digits(rng, 8)
    if kind == "C":
        return str(int(rng.integers(1, 10))) + digits(rng, int(rng.integers(8, 10)))
    if kind == "B":
        card = pick(rng, ["6222", "6228", "6217", "6214", "6225"]) + digits(
            rng, 12 if rng.random() < 0.4 else 15)
        if rng.random() < 0.3:
            return " ".join(card[i:i + 4] for i in range(0, len(card), 4))
        return card
    return pick(rng, ["A", "0"]) + digits(rng, 9)
