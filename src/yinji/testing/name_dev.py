"""Development text for the Chinese-name model: written apart from name_train's templates.

The CRF is trained on yinji.testing.name_train; its thresholds and filters are chosen on this
set (other sentence shapes, other given names, prose full of surname-like characters), so the
evaluation generators (gateway_eval*) stay unread. Deterministic: a seeded NumPy Generator.
"""

from __future__ import annotations

import re

import numpy as np

from yinji.testing.name_train import _pick, name

TEMPLATES = (
    "{n}昨晚在微信里问我，这只理财到期后能不能自动续上",
    "跟{n}核对了一下持仓，她说上个月多买了一手",
    "这笔钱是{n}从工资卡转进来的，不算可疑交易",
    "投诉人{n}反映柜台排队时间过长，已道歉",
    "麻烦你把报告发{n}一份，顺便抄送合规部",
    "据{n}介绍，公司明年准备扩产",
    "本次路演由{n}主持，{n}做总结发言",
    "名单如下：{n}、{n}、{n}",
    "开户资料里写的是{n}，但身份证上是{n}",
    "{n}，男，1978年生，现任财务总监",
    "{n}，女，身份证已核验，风险承受能力稳健型",
    "我们和{n}约了周三下午见面",
    "面签人：{n}（本人）",
    "这单是{n}介绍来的客户",
    "录音中{n}明确表示知晓产品风险",
    "{n}的儿子也在我们行开了户",
    "请{n}于三个工作日内补交材料",
    "已将情况汇报给{n}，等待批复",
    "客户叫{n}，手机尾号8831",
    "交接给{n}继续跟进",
    "大户室的{n}最近交易频繁",
    "{n}:我想把定投停了",
    "—— {n}",
    "经理{n}说这个产品卖完了",
    "审核意见：同意。审核人{n}",
    "{n} 2024-03-05 已阅",
)
NEGATIVES = (
    "高铁沿线的物流需求持续增长", "请在柜台办理挂失手续", "本产品不保本，投资需谨慎",
    "方案经董事会审议通过", "常年合作的券商给出了买入评级", "金融市场整体流动性充裕",
    "申请人应当如实填写申请表", "联系人一栏不得为空", "客户经理要定期回访客户", "户名请与证件保持一致",
    "万一出现异常请立即冻结账户", "向日葵计划第二期启动", "石头科技发布新品", "马年纪念币预约开始",
    "黄山旅游股价上涨", "江苏银行发布年报", "文化传媒板块走弱", "于是大家都同意了",
    "和平区网点暂停营业", "明天是最后一个交易日", "全年营收同比增长两成", "成本上升压缩了利润",
    "华为概念股集体上涨", "高温天气影响用电", "严格执行双录要求", "宁可错过也不做错",
    "周一到周五正常营业", "杨柳青年画展览", "林下经济示范区", "谢绝现金交易", "路演材料已准备好",
    "冯氏集团收购案", "金条回购价格调整", "安心理财系列", "程序化交易监管加强", "景气度回升",
    "孔雀开屏形态", "龙湾片区规划", "车贷逾期率下降", "白银期货跳水",
)
GIVEN_EXTRA = ("翊", "樾", "珩", "玥", "琛", "璠", "筠", "旖", "翾", "晞", "昶", "骁", "珈", "琤", "沅")


def _dev_name(rng: np.random.Generator) -> str:
    n = name(rng)
    if rng.random() < 0.25:  # given-name characters the training lists do not have
        n = n[:-1] + _pick(rng, GIVEN_EXTRA)
    return n


def snippet(rng: np.random.Generator) -> tuple[str, list[tuple[int, int]]]:
    parts = [_pick(rng, TEMPLATES) if rng.random() < 0.5 else _pick(rng, NEGATIVES)
             for _ in range(int(rng.integers(1, 4)))]
    text, spans = "", []
    for i, clause in enumerate(parts):
        if i:
            text += _pick(rng, ("。", "，", "；", "\n"))
        pieces = clause.split("{n}")
        for j, piece in enumerate(pieces):
            text += piece
            if j < len(pieces) - 1:
                n = _dev_name(rng)
                spans.append((len(text), len(text) + len(n)))
                text += n
    return text + "。", spans


def build(n: int, seed: int) -> list[tuple[str, list[tuple[int, int]]]]:
    rng = np.random.default_rng(seed)
    return [snippet(rng) for _ in range(n)]



# Round 4 (issue #16's known gaps), written apart from name_train's templates: names next to ID
# numbers and mobiles, Hong Kong titles (陳生, 黃太: a bare surname and a title), lists with 、,
# names whose surname and first given character make a word (高明|远), word-like surnames.
WORD_START = ("高明", "高峰", "高远", "方正", "方圆", "江海", "江山", "金华", "金山", "白云", "白雪",
              "文明", "文华", "黄金", "黄河", "林海", "林立", "马力", "常青", "周全", "张扬", "刘海",
              "杨柳", "许可", "严明", "田野", "石林", "钟声", "夏天", "秦川", "雷鸣", "龙飞", "叶青",
              "胡杨", "孔明", "万里", "程序", "吴江", "陆地", "罗盘", "谢意", "邓州", "韩江", "沈阳")
WORDLIKE_SURNAMES = "高方江金白文石龙常万安平明成时和于全向"
HK_SURNAMES = "陳黃李張何林吳劉梁鄭謝曾周羅馮蔡郭麥鄧彭潘葉盧蘇袁"
GAP_TEMPLATES = (
    "客户{n}13{d9}来电，要求把止损位下调",
    "联系人：{n}，手机1{d10}，请于周五前回访",
    "{n}（身份证号{id}）已完成双录",
    "身份证号{id}，姓名{n}，地址见附件",
    "开户人{n}{id}，风险测评结果C4",
    "收件人{n} 1{d10}",
    "{n}1{d10}，深圳福田区",
    "尾号{d4}的客户{n}今天追加了保证金",
    "{h}話想加倉，叫我幫佢睇下騰訊",
    "{h}今日落咗張單，買兩手匯豐",
    "頭先{h}打嚟問孖展利息點計",
    "{h}同{h}都話下個禮拜先嚟簽文件",
    "幫{h}約咗星期三下晝見面",
    "{h}個戶口仲有十萬現金",
    "请{h}明天带身份证过来",
    "参会：{n}、{n}、{n}、{n}",
    "本期获奖客户：{n}、{n}、{n}等",
    "经办{n}、复核{n}",
    "{n}、{n}两位客户已完成风险测评",
    "{w}说这只基金回撤太大了",
    "和{w}确认过了，下周一赎回",
    "上午{w}到营业部办了销户",
    "这笔转账是{w}发起的",
    "{w}认为二季度会降准",
    "{g}下午打电话过来说要撤单",
    "昨天{g}来开了个户",
    "我跟{g}说了，明天回复",
    "今天{g}问了三遍净值",
    "会议纪要：{g}介绍了三季度的持仓调整",
    "Hi {n}，附件是您的对账单",
    "交易员{n}、{n}于今日完成交接",
)
GAP_NEGATIVES = (
    "高开低走之后明显放量", "方向判断比仓位更重要", "江浙沪地区的客户占比最高", "金额超过五万需要复核",
    "白天波动小，夜盘波动大", "文件已经放在共享盘里", "石油价格上涨带动板块", "龙头股继续走强",
    "常规风控指标均在范围内", "万一跌破平仓线要追加保证金", "安全边际不够", "平仓线设在1.1",
    "明日开盘前公布结果", "成交额创三个月新高", "时间不早了，明天再说", "和上个月相比变化不大",
    "全部持仓已经清空", "向监管报送的材料已盖章", "身份证号码格式有误", "手机号码请填写11位",
    "客服热线95555", "请致电4008888888", "合同编号HT2024061803", "港股通额度充足",
    "黄金ETF净流入", "高净值客户的需求更个性化", "方正证券和东方证券都发布了公告",
    "今日北向资金净流入", "生意难做，太难了", "先生活后工作", "陈年旧账已经结清",
    "高开、低走、放量都出现了", "金融、地产、医药板块领涨", "方正、华泰、海通三家券商已回复",
    "两张单都签好了", "卫生间在二楼", "太平洋证券发布公告",
)


def _digits(rng: np.random.Generator, k: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, k))


def _gap_name(rng: np.random.Generator, slot: str) -> str:
    if slot == "h":  # a Hong Kong surname and title: the title is part of what must go
        return _pick(rng, HK_SURNAMES) + _pick(rng, ("生", "太", "生", "太", "小姐", "先生", "sir"))
    if slot == "w":  # surname and first given character make an ordinary word
        return _pick(rng, WORD_START) + _pick(rng, GIVEN_EXTRA + tuple("远强伟华军平辉涛宇"))
    if slot == "g":  # a word-like surname, no cue around it
        given = _pick(rng, tuple("伟芳敏静丽强磊军洋勇艳杰") + GIVEN_EXTRA)
        return _pick(rng, WORDLIKE_SURNAMES) + given + (
            _pick(rng, tuple("明华峰霞玲")) if rng.random() < 0.6 else "")
    return _dev_name(rng)


_SLOT = re.compile(r"\{(n|h|w|g|d4|d9|d10|id)\}")


def _gap_snippet(rng: np.random.Generator) -> tuple[str, list[tuple[int, int]]]:
    parts = [_pick(rng, GAP_TEMPLATES) if rng.random() < 0.6 else _pick(rng, GAP_NEGATIVES)
             for _ in range(int(rng.integers(1, 4)))]
    text, spans = "", []
    for i, clause in enumerate(parts):
        if i:
            text += _pick(rng, ("。", "，", "；", "\n"))
        pos = 0
        for m in _SLOT.finditer(clause):
            text += clause[pos:m.start()]
            pos = m.end()
            slot = m.group(1)
            if slot.startswith("d"):
                text += _digits(rng, int(slot[1:]))
            elif slot == "id":
                text += _digits(rng, 17) + _pick(rng, tuple("0123456789X"))
            else:
                n = _gap_name(rng, slot)
                spans.append((len(text), len(text) + len(n)))
                text += n
        text += clause[pos:]
    return text + "。", spans


def build_gaps(n: int, seed: int) -> list[tuple[str, list[tuple[int, int]]]]:
    rng = np.random.default_rng(seed)
    return [_gap_snippet(rng) for _ in range(n)]
