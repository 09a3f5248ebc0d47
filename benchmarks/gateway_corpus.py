"""Build the gateway's labelled evaluation corpus: Chinese and English snippets with PII spans.

Deterministic (seeded numpy Generator; this is test data, not security). Hand-written templates
cover client e-mails, KYC notes, trade instructions, research notes and service logs; every
template also carries hard negatives (order numbers, dates, amounts, stock codes, contract
numbers) that must not be flagged. Writes tests/data/gateway_corpus.jsonl:
    {"id", "lang", "kind", "text", "spans": [[start, end, category], ...]}

    python benchmarks/gateway_corpus.py [--n 420] [--seed 20240601] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import numpy as np

from yinji.gateway.detectors import checksums as ck

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "gateway_corpus.jsonl"

ZH_SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾萧蔡潘田董袁于余叶蒋"
               "杜苏魏程吕丁沈任姚卢姜崔钟谭陆汪范廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛闫段雷龙黎"
               "史陶贺毛郝顾龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟"
               "殷詹申欧耿关兰焦俞左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游"
               "辛靳管柴蒙鲍华喻祁蒲房滕屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫"
               "费卜冷晏席卫米柏宗瞿桂全佟应臧闵苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明"
               "佘池查麻苑迟邝")
ZH_COMPOUND = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "慕容", "司徒", "夏侯", "令狐")
ZH_GIVEN = ("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红飞鹏辉建国志斌宇浩然俊凯晨"
            "欣怡佳琪雨涵子轩梓睿思远文博天翼一鸣雪梅海燕金凤春生秋菊冬梅立新晓东晓峰晓红丹丹"
            "莉莉宏伟振华德胜永强国庆卫东淑珍凤兰婷婷嘉欣诗涵雅琴慧敏晶晶琳琳瑞祥家豪锦程")
EN_FIRST = ("James", "Sarah", "Michael", "Emily", "David", "Olivia", "Daniel", "Sophie", "Thomas",
            "Grace", "Kelvin", "Winnie", "Jacky", "Vivian", "Edmond", "Queenie", "Harrison",
            "Priya", "Hiroshi", "Marcus", "Eleanor", "Rupert", "Felicity", "Declan", "Imogen",
            "Siobhan", "Nathaniel", "Beatrice", "Cedric", "Lorraine")
EN_LAST = ("Thompson", "Watson", "Chan", "Wong", "Lee", "Cheung", "Harris", "Fletcher", "Nakamura",
           "Patel", "Morrison", "Lau", "Ng", "Ho", "Kwok", "Bennett", "Sullivan", "Whitaker",
           "Fairbanks", "Okafor", "Lindqvist", "Carrington", "Yeung", "Tsang")
PINYIN = ("Zhang Wei", "Wang Fang", "Li Na", "Liu Yang", "Chen Jing", "Zhao Lei", "Huang Xiaoming",
          "Zhou Tao", "Xu Lihua", "Sun Jianguo", "Ma Chao", "Hu Yifan", "Guo Jing", "Lin Yuting")
REGIONS = ("110101", "110105", "310104", "310115", "440106", "440305", "330106", "320102",
           "510107", "420106", "370202", "350203", "610113", "120101", "500103", "430104")
CARD_BINS = ("622202", "621700", "622848", "621483", "623668", "622588", "621226", "622700",
             "625965", "436742", "518710", "622609")
DOMAINS = ("163.com", "qq.com", "126.com", "gmail.com", "outlook.com", "sina.com", "hotmail.com",
           "foxmail.com", "yahoo.com.hk", "citicmail.cn")
PROVINCE_CITY = (("广东省", "深圳市", "南山区"), ("", "北京市", "朝阳区"), ("", "上海市", "浦东新区"),
                 ("浙江省", "杭州市", "西湖区"), ("江苏省", "南京市", "鼓楼区"), ("四川省", "成都市", "武侯区"),
                 ("湖北省", "武汉市", "洪山区"), ("福建省", "厦门市", "思明区"), ("", "天津市", "和平区"),
                 ("山东省", "青岛市", "市南区"), ("", "重庆市", "渝中区"), ("广东省", "广州市", "天河区"))
ROADS = ("科技园南路", "建国路", "世纪大道", "文三路", "中山北路", "人民南路", "珞喻路", "湖滨南路",
         "解放北路", "香港中路", "解放碑大道", "天河路", "长江路", "滨海大道")
BUILDINGS = ("阳光花园", "金融大厦", "时代广场", "翠苑小区", "国贸中心", "碧桂园", "万科城", "东方明珠公寓")
EN_STREETS = ("Nathan Road", "Queen's Road Central", "Hennessy Road", "Des Voeux Road", "King's Road",
              "Baker Street", "Park Avenue", "Connaught Road", "Electric Road")
EN_BUILDINGS = ("Harbour View Mansion", "Pacific Place", "Golden Court", "Lucky Building",
                "Sunshine Plaza", "Victoria Tower")
COMPANIES = ("贵州茅台(600519.SH)", "宁德时代(300750.SZ)", "招商银行(600036)", "腾讯控股(00700.HK)",
             "中国平安(601318)", "比亚迪(002594)", "万科A(000002)", "东方财富(300059)")
EN_COMPANIES = ("Tencent (0700.HK)", "Ping An Insurance (2318.HK)", "Kweichow Moutai (600519.SH)",
                "HSBC Holdings (0005.HK)", "Alibaba (9988.HK)", "Meituan (3690.HK)")

ZH_TEMPLATES = (
    ("email", "尊敬的{pz1}先生：您好！您尾号变更申请已受理，如有疑问请致电{mob}。订单号{order}，业务日期{date}。"),
    ("email", "{pz1}女士，您在{date}提交的基金申购申请（申请编号{order}）已确认，金额{amt}。确认书已发送至{email}。"),
    ("email", "致{pz1}：附件为{company}的研究报告，请查收。如需电话会议，请联系分析师{pz2}，座机{land}。"),
    ("email", "{pz1}您好，您的银行卡{card}已完成三方存管绑定，资金账号{acct}。本次委托编号{order}。"),
    ("email", "亲爱的{pz1}，感谢您长期支持。您的专属客户经理{pz2}（手机{mob}，邮箱{email}）将与您联系。"),
    ("kyc", "客户姓名：{pz1}；证件类型：居民身份证；证件号码：{idcard}；联系电话：{mob}；住址：{addr}。风险等级C4，评估日期{date}。"),
    ("kyc", "开户人{pz1}，身份证号{idcard}，职业为企业高管，年收入约{amt}，家庭住址{addr}，邮箱{email}。"),
    ("kyc", "老客户{pz1}提供了护照{passport}及港澳通行证{permit}，用于办理港股通权限。办理日期{date}。"),
    ("kyc", "{pz1}（身份证{idold}，旧版证件）于{date}前来更新资料，新手机号{mob}，配偶{pz2}。"),
    ("kyc", "受益所有人识别：{company_zh}（统一社会信用代码{uscc}），实际控制人{pz1}，持股比例{pct}。"),
    ("kyc", "投资者{pz1}，股东账户{sh_acct}，资金账户{acct}，银行卡{card}，已完成适当性匹配。"),
    ("kyc", "反洗钱尽调：{pz1}于{date}向{pz2}的账户{card}转账{amt}，交易流水号{order}，需进一步核实。"),
    ("trade", "{pz1}来电委托：以市价卖出{company}共{qty}股，资金账号{acct}，联系电话{mob}。"),
    ("trade", "交易员{pz1}确认：客户{pz2}的期货账户{fut_acct}买入rb2410合约{qty}手，成交价{price}。"),
    ("trade", "请将{pz1}名下{amt}从证券账户{acct}转出至其招商银行卡{card}，经办人{pz2}，日期{date}。"),
    ("trade", "客户{pz1}要求赎回基金账户{fund_acct}中的全部份额，赎回款划入{card}。合同编号{contract}。"),
    ("trade", "{pz1}今日通过电话{land}下单：买入{company}{qty}股，限价{price}元，委托号{order}。"),
    ("research", "研究员{pz1}认为，{company}{date}公布的营收同比增长{pct}，维持买入评级，目标价{price}元。"),
    ("research", "晨会纪要：{pz1}、{pz2}讨论了{company}的估值，认为市盈率{pratio}倍偏低。合规联系人{pz3}，邮箱{email}。"),
    ("research", "{company}公告称，董事长{pz1}增持{qty}股。分析师{pz2}表示短期利好有限。"),
    ("research", "行业点评：新能源板块{date}涨幅{pct}，{company}领涨。报告作者：{pz1}（执业证书编号S{cert}）。"),
    ("service", "{date}客服记录：{pz1}反映手机{mob}收不到验证码，已核实身份证后四位，工单号{order}。"),
    ("service", "{pz1}先生的快递寄往{addr}，运单号{order}，收件电话{mob}。"),
    ("service", "理财经理{pz1}提醒：客户{pz2}的产品将于{date}到期，到期金额{amt}，请联系{mob}。"),
    ("service", "回访记录：{pz1}女士对服务满意，建议下次通过邮件{email}联系，勿拨打座机{land}。"),
    ("kyc", "客户{pz1}，香港身份证{hkid}，香港手机{hk_mob}，地址{addr_en}。"),
    ("email", "{pz1}：您好，附件是贵司（{company_zh}，信用代码{uscc}）的开户资料清单，请回复至{email}。"),
    ("research", "会议纪要（{date}）：{pz1}总介绍了{company}的产能规划，预计{year}年出货量增长{pct}。"),
    ("trade", "大宗交易：买方{pz1}，卖方{company_zh}，标的{company}，数量{qty}股，价格{price}元，成交日期{date}。"),
    ("service", "{pz1}说她的信用卡{card}被盗刷{amt}，已报警，报案编号{order}，联系人手机{mob}。"),
    ("kyc", "联系人：{pz1}　电话：{mob}　地址：{addr}　邮编：{zip}"),
    ("email", "{pz1}和{pz2}：本周五{time}在三楼会议室讨论{company}的投资方案，请准时参加。"),
    ("negative", "{company}{date}收盘价{price}元，成交额{amt}，换手率{pct}。订单号{order}，合同编号{contract}。"),
    ("negative", "截至{date}，沪深300指数报{price}点，北向资金净流入{amt}，两市成交{amt}。"),
    ("negative", "请于{date}前完成第{qty}期产品的信息披露，批次号{order}，文件编号{contract}。"),
)
EN_TEMPLATES = (
    ("email", "Dear {pe1}, thank you for your call on {date_en}. Your request (ref {order}) has been processed. Please reach me on {mob} or {email}."),
    ("email", "Hi {fn1}, please find attached our note on {company_en}. Happy to discuss — my direct line is {land}. Best regards, {pe2}"),
    ("email", "Mr. {pe1} asked us to wire {amt_en} from account {acct_en} to his card {card}. Trade date {date_en}, order {order}."),
    ("email", "Ms {pe1}, your statement for {month} is ready. For security, we masked all but your e-mail {email}."),
    ("kyc", "KYC note: client {pe1}, passport no. {passport_en}, mobile {hk_mob}, residential address {addr_en}. Risk rating medium, reviewed {date_en}."),
    ("kyc", "Client {pp1} (PRC ID {idcard}) opened a margin account; spouse {pe2}. Source of wealth: business income of about {amt_en}."),
    ("kyc", "Account holder: {pe1}; HKID {hkid}; contact {email}; correspondence address {addr_en}."),
    ("trade", "{pe1} called at {time} and instructed us to sell {qty} shares of {company_en} at market. Client account {acct_en}."),
    ("trade", "Please transfer {amt_en} to beneficiary {pe1}, card number {card}, on {date_en}. Invoice {order}."),
    ("trade", "Trader {pe1} confirmed the block trade in {company_en}: {qty} shares at {price}. Ticket {order}."),
    ("research", "{company_en} reported Q2 revenue up {pct}; our analyst {pe1} keeps an Overweight rating with a target of {price}."),
    ("research", "Notes from the call with {pp1} of {company_en}: capacity grows {pct} in {year}. Contact: {email}."),
    ("research", "Morning meeting {date_en}: {pe1} and {pe2} discussed {company_en}. No changes to the model portfolio."),
    ("service", "Customer {pe1} reported that {mob} no longer receives OTPs. Ticket {order}, logged {date_en}."),
    ("service", "Relationship manager {pe1} will meet Mrs. {ln1} at {addr_en} on {date_en}."),
    ("kyc", "Beneficial owner {pp1}, passport {passport}, Hong Kong permit {permit}, phone {mob}."),
    ("negative", "{company_en} closed at {price} on {date_en}, volume {qty} shares, order {order}, contract {contract}."),
    ("negative", "The Hang Seng Index rose {pct} on {date_en}; turnover was {amt_en}. Reference {order}."),
)


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = np.random.default_rng(seed)

    def pick(self, seq):  # noqa: ANN001, ANN201 - any sequence
        return seq[int(self.r.integers(len(seq)))]

    def digits(self, n: int) -> str:
        return "".join(str(int(d)) for d in self.r.integers(0, 10, n))

    def person_zh(self) -> str:
        sur = self.pick(ZH_COMPOUND) if self.r.random() < 0.05 else self.pick(ZH_SURNAMES)
        n = 1 if self.r.random() < 0.35 else 2
        return sur + "".join(self.pick(ZH_GIVEN) for _ in range(n))

    def person_en(self) -> str:
        return f"{self.pick(EN_FIRST)} {self.pick(EN_LAST)}"

    def birth(self, lo: int = 1950, hi: int = 2003) -> str:
        return f"{int(self.r.integers(lo, hi))}{int(self.r.integers(1, 13)):02d}{int(self.r.integers(1, 29)):02d}"

    def id18(self) -> str:
        body = self.pick(REGIONS) + self.birth() + self.digits(3)
        return body + ck.id18_check_digit(body)

    def id15(self) -> str:
        return self.pick(REGIONS) + self.birth(1940, 1999)[2:] + self.digits(3)

    def mobile(self) -> str:
        m = "1" + self.pick("3456789") + self.digits(9)
        style = int(self.r.integers(5))
        if style == 1:
            return f"{m[:3]} {m[3:7]} {m[7:]}"
        if style == 2:
            return f"{m[:3]}-{m[3:7]}-{m[7:]}"
        if style == 3:
            return "+86 " + m
        return m

    def landline(self) -> str:
        area = self.pick(("010", "021", "0755", "020", "0571", "025", "028"))
        local = self.pick("2345678") + self.digits(7 if len(area) == 3 else 6 + int(self.r.integers(2)))
        return self.pick((f"{area}-{local}", f"({area}){local}", f"{area} {local}"))

    def card(self) -> str:
        body = self.pick(CARD_BINS) + self.digits(int(self.pick((9, 12))))
        c = body + ck.luhn_check_digit(body)
        if self.r.random() < 0.3 and len(c) == 16:
            return " ".join(c[i:i + 4] for i in range(0, 16, 4))
        return c

    def email(self, name: str | None = None) -> str:
        local = self.pick(("zhang.wei", "lily_chen", "wangfang88", "kelvin.chan", "s.thompson",
                           "liu_yang2020", "jacky.wong", "huang.xm", "emily.w", "chenjing.sz"))
        return f"{local}{self.digits(int(self.r.integers(0, 3)))}@{self.pick(DOMAINS)}"

    def uscc(self) -> str:
        body = self.pick(("91", "92", "93", "12", "52")) + self.pick(REGIONS) + "".join(
            self.pick(ck.USCC_ALPHABET[:-5]) for _ in range(9))
        return body + (ck.uscc_check_char(body) or "0")

    def hkid(self) -> str:
        while True:
            p, d = self.pick("ACDEGHKPRVYZ"), self.digits(6)
            for c in "0123456789A":
                if ck.hkid_valid(p, d, c):
                    return f"{p}{d}({c})"

    def addr_zh(self) -> str:
        prov, city, dist = self.pick(PROVINCE_CITY)
        s = f"{prov}{city}{dist}{self.pick(ROADS)}{int(self.r.integers(1, 999))}号"
        if self.r.random() < 0.6:
            s += f"{self.pick(BUILDINGS)}{int(self.r.integers(1, 30))}栋{int(self.r.integers(1, 33))}0{int(self.r.integers(1, 9))}室"
        return s

    def addr_en(self) -> str:
        return (f"Flat {int(self.r.integers(1, 40))}{self.pick('ABCDEFGH')}, {int(self.r.integers(2, 40))}/F, "
                f"{self.pick(EN_BUILDINGS)}, {int(self.r.integers(1, 400))} {self.pick(EN_STREETS)}, "
                f"{self.pick(('Kowloon', 'Hong Kong', 'Wan Chai', 'Central'))}")


SLOT = re.compile(r"\{([a-z_]+?)(\d*)\}")


def fill(g: Gen, template: str) -> tuple[str, list[list]]:
    """Fill a template; positive slots record spans, negative slots (order, date ...) do not."""
    people: dict[str, str] = {}
    out, spans, pos = [], [], 0
    for m in SLOT.finditer(template):
        out.append(template[pos:m.start()])
        kind, k = m.group(1), m.group(2)
        value, cat = slot_value(g, kind, k, people)
        start = sum(len(x) for x in out)
        out.append(value)
        if cat:
            spans.append([start, start + len(value), cat])
        pos = m.end()
    out.append(template[pos:])
    return "".join(out), spans


def slot_value(g: Gen, kind: str, k: str, people: dict[str, str]) -> tuple[str, str | None]:
    if kind in ("pz", "pe", "pp", "fn", "ln"):
        key = kind + k
        if key not in people:
            people[key] = (g.person_zh() if kind == "pz" else g.pick(PINYIN) if kind == "pp"
                           else g.person_en())
        v = people[key]
        if kind == "fn":
            v = v.split()[0]
        if kind == "ln":
            v = g.person_en().split()[1]
        return v, "person"
    r = g.r
    positive = {
        "idcard": (g.id18, "id_number"), "idold": (g.id15, "id_number"), "hkid": (g.hkid, "id_number"),
        "mob": (g.mobile, "mobile"), "land": (g.landline, "landline"),
        "hk_mob": (lambda: f"+852 {g.pick('5679')}{g.digits(3)} {g.digits(4)}", "mobile"),
        "card": (g.card, "bank_card"), "email": (g.email, "email"), "uscc": (g.uscc, "uscc"),
        "passport": (lambda: g.pick(("E", "G", "EA", "EJ")) + g.digits(8 if True else 7), "passport"),
        "passport_en": (lambda: g.pick(("K", "E", "5", "H")) + g.digits(8), "passport"),
        "permit": (lambda: "C" + g.digits(8), "passport"),
        "acct": (lambda: g.pick(("3100", "1088", "6600", "0200")) + g.digits(8), "account"),
        "acct_en": (lambda: g.pick(("8800", "7301")) + g.digits(6), "account"),
        "sh_acct": (lambda: "A" + g.digits(9), "account"),
        "fund_acct": (lambda: "98" + g.digits(10), "account"),
        "fut_acct": (lambda: "8" + g.digits(7), "account"),
        "addr": (g.addr_zh, "address"), "addr_en": (g.addr_en, "address"),
    }
    if kind == "passport":
        p = g.pick(("E", "G", "EA", "EJ"))
        return p + g.digits(9 - len(p)), "passport"
    if kind in positive:
        fn, cat = positive[kind]
        return fn(), cat
    negative = {
        "order": lambda: g.pick(("2024", "2025", "DD2024", "SO", "")) + g.digits(int(r.integers(10, 13))),
        "contract": lambda: g.pick(("HT-2024-", "GS", "No.")) + g.digits(6),
        "date": lambda: g.pick((f"2024年{int(r.integers(1, 13))}月{int(r.integers(1, 29))}日",
                                f"2025-0{int(r.integers(1, 10))}-{int(r.integers(10, 29))}")),
        "date_en": lambda: f"{int(r.integers(1, 29))} {g.pick(('March', 'June', 'Sept', 'October'))} 2024",
        "month": lambda: g.pick(("March", "June", "September")),
        "time": lambda: f"{int(r.integers(9, 17))}:{g.pick(('00', '15', '30'))}",
        "amt": lambda: g.pick((f"{int(r.integers(1, 999))}万元", f"人民币{int(r.integers(1, 99))},{g.digits(3)}.00元",
                               f"{int(r.integers(1, 90))}亿元")),
        "amt_en": lambda: f"HKD {int(r.integers(1, 99))},{g.digits(3)},000",
        "pct": lambda: f"{int(r.integers(1, 60))}.{int(r.integers(0, 10))}%",
        "price": lambda: f"{int(r.integers(5, 2000))}.{g.digits(2)}",
        "qty": lambda: str(int(r.integers(1, 500)) * 100),
        "pratio": lambda: str(int(r.integers(8, 60))),
        "year": lambda: str(int(r.integers(2024, 2028))),
        "cert": lambda: g.digits(13),
        "zip": lambda: g.digits(6),
        "company": lambda: g.pick(COMPANIES),
        "company_en": lambda: g.pick(EN_COMPANIES),
        "company_zh": lambda: g.pick(("深圳市前海科技有限公司", "上海浦江投资管理有限公司", "杭州西溪实业有限公司")),
    }
    return negative[kind](), None


def build(n: int, seed: int) -> list[dict]:
    g = Gen(seed)
    rows = []
    n_en = n // 3
    for i in range(n):
        lang = "en" if i % 3 == 2 and sum(r["lang"] == "en" for r in rows) < n_en else "zh"
        kind, tpl = g.pick(EN_TEMPLATES if lang == "en" else ZH_TEMPLATES)
        text, spans = fill(g, tpl)
        rows.append({"id": f"{lang}-{i:04d}", "lang": lang, "kind": kind, "text": text,
                     "spans": spans})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=420)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    rows = build(a.n, a.seed)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} snippets, {sum(len(r['spans']) for r in rows)} spans to {a.out}")


if __name__ == "__main__":
    main()
