"""Development text for the Chinese-name model: written apart from name_train's templates.

The CRF is trained on yinji.testing.name_train; its thresholds and filters are chosen on this
set (other sentence shapes, other given names, prose full of surname-like characters), so the
evaluation generators (gateway_eval*) stay unread. Deterministic: a seeded NumPy Generator.
"""

from __future__ import annotations

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
