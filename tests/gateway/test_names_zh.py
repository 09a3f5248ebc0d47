"""Chinese names: the misses and false positives reported in issue #16, and a held-out bar.

Each case compares what reaches the upstream (or what the engine masks) with what may: the whole
name replaced, the role word (申请人, 客户经理) left as it is.
"""

from __future__ import annotations

import json

import httpx
import pytest

from yinji.gateway.detectors.engine import DetectorEngine
from yinji.testing import gateway_eval2
from yinji.testing.gateway_eval import build


@pytest.fixture(scope="module")
def engine() -> DetectorEngine:
    e = DetectorEngine()
    e.warm_up()
    return e


def persons(engine: DetectorEngine, text: str) -> list[str]:
    return [d.value(text) for d in engine.detect(text) if d.category == "person"]


@pytest.mark.parametrize(("text", "name"), [
    ("姓名诸文杰，电话13800138000", "诸文杰"),         # rarer surnames right after a label
    ("客户奚晓明要求赎回全部份额。", "奚晓明"),
    ("借款人姓名：宰父钧弘，身份证件已上传。", "宰父钧弘"),  # compound surname of the 百家姓
    ("持卡人郏雅会挂失了借记卡。", "郏雅会"),
])
def test_rare_surname_after_label(engine, text, name):
    assert persons(engine, text) == [name]


@pytest.mark.parametrize(("text", "name"), [
    ("受益人为徐烁娅，受益比例100%。", "徐烁娅"),          # three characters, not 徐烁|娅
    ("请联系客户经理王柔若，电话13800138000。", "王柔若"),
    ("姓名：赵寒元", "赵寒元"),
    ("紧急联系人：杨家峰（配偶）", "杨家峰"),
    ("客户经理呼延行嘉将陪同客户面签。", "呼延行嘉"),
])
def test_three_and_four_character_names_are_not_cut(engine, text, name):
    assert persons(engine, text) == [name]


@pytest.mark.parametrize(("text", "names"), [
    ("客户「刘琼昌」来电咨询理财到期事宜。", ["刘琼昌"]),
    ("请转告“郭薇豪”尽快补充收入证明。", ["郭薇豪"]),
    ("“张河鹏”先生的委托已撤单。", ["张河鹏"]),
    ("客户 乔青和 的邮箱是cs1951@sina.cn。", ["乔青和"]),
    ("Beneficiary Haoran Wei, applicant 王莲绿.", ["Haoran Wei", "王莲绿"]),
])
def test_names_in_quotes_or_after_a_space(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("申请人王芳于3月2日提交了贷款申请。", ["王芳"]),
    ("申请人：赵子轩；共同借款人：景兰维。", ["赵子轩", "景兰维"]),
    ("申请人须年满18周岁。", []),
    ("请申请人于5月1日前补充材料，受益人可以指定多人。", []),
    ("客户经理需在3月2日前完成回访，联系人电话请填写手机号码。", []),
    ("回访张三，对方表示满意。经核实，李文博名下有三张银行卡。", ["张三", "李文博"]),
])
def test_role_words_are_not_names(engine, text, names):
    assert persons(engine, text) == names


def test_upstream_receives_role_words_but_no_name(upstream, gateway):
    """A proxy run: the upstream sees 申请人/客户 and placeholders, never a name character."""
    url, _, _ = gateway
    text = ("申请人诸文杰于3月2日提交申请，客户奚晓明担保；请联系张家豪先生，"
            "或“陈娴和”、客户 乔青和。")
    r = httpx.post(url + "/v1/chat/completions", timeout=15, json={
        "model": "fake-model", "messages": [{"role": "user", "content": text}]})
    assert r.status_code == 200, r.text
    sent = json.dumps(upstream.received, ensure_ascii=False)
    assert "申请人" in sent and "客户" in sent
    for name in ("诸文杰", "奚晓明", "张家豪", "陈娴和", "乔青和"):
        assert not any(ch in sent for ch in name[1:]), (name, sent)  # no part of any name
    assert r.json()["choices"][0]["message"]["content"] == "Echo: " + text


def _rates(engine: DetectorEngine, rows: list[dict]) -> tuple[float, float, float]:
    """Chinese-name recall (whole name covered), precision and recall for the other slots."""
    tp = fp = fn = other_tp = other_n = 0
    for row in rows:
        text = row["text"]
        got = engine.detect(text)
        for s, e, c in row["spans"]:
            zh = c == "person" and any("\u4e00" <= ch <= "\u9fff" for ch in text[s:e])
            covered = any(d.category == c and d.start <= s and e <= d.end for d in got)
            if zh:
                tp += covered
                fn += not covered
            elif c != "person":
                other_n += 1
                other_tp += covered
        for d in got:
            v = d.value(text)
            if d.category == "person" and any("\u4e00" <= ch <= "\u9fff" for ch in v):
                fp += not any(c == "person" and s < d.end and d.start < e
                              for s, e, c in row["spans"])
    return tp / (tp + fn), tp / (tp + fp), other_tp / other_n


def test_held_out_bar(engine):
    """Independently generated snippets on a seed never tuned on. Measured here: whole-name
    recall 0.975, precision 0.971 (five draws of 3,000: see docs/gateway.md)."""
    recall, precision, other = _rates(engine, build(800, 1009))
    assert recall >= 0.965, recall
    assert precision >= 0.96, precision
    assert other == 1.0, other


def test_fresh_phrasing_bar(engine):
    """Templates written after the first tuning (0.914 before the tagger; 0.951 here)."""
    recall, precision, other = _rates(engine, build(800, 1009, fresh=True))
    assert recall >= 0.94, recall
    assert precision >= 0.96, precision
    assert other == 1.0, other


def test_gateway_eval2_bar(engine):
    """gateway_eval2: own names and templates (0.948 / 0.941 here; mobiles, ID numbers 1.0)."""
    recall, precision, other = _rates(engine, gateway_eval2.build(800, 1009))
    assert recall >= 0.94, recall
    assert precision >= 0.93, precision
    assert other == 1.0, other


# Generalised rules of issue #16's second round: each with hits and near-misses.

@pytest.mark.parametrize(("text", "names"), [
    # jieba's HMM tagger as a second opinion for undecided candidates (sentence start + verb,
    # between a label's colon and a semicolon)
    ("王惠让我转告您，合同的事不用担心。", ["王惠"]),
    ("经办：全瑾；复核：赖晓绿", ["全瑾", "赖晓绿"]),
    # … but not places, organisations or role words it also tags as nr
    ("魏桥业务增长明显。", []),
    ("立讯精密和宁德时代今天都涨了。", []),
    ("申请人须年满18周岁。", []),
    ("联系人电话请填写手机号码。", []),
])
def test_tagger_second_opinion(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("是宋振华啊，好久不见！", ["宋振华"]),          # jieba: 宋/nr 振华/nz
    ("诸葛雪莹呢？刚才还在工位上。", ["诸葛雪莹"]),    # jieba: 诸葛/nr 雪莹/nr
    ("吕振华表示，合同第三条需要重签。", ["吕振华"]),  # was cut to 吕振 (华表 is a word)
    ("邓秋航让我转告您，合同的事不用担心。", ["邓秋航"]),
    ("我们去王府井和张家口考察了营业部。", []),
    ("客户经理和王府井营业部的同事去了张家口。", []),  # not 和王府: 王府井 is one word
    ("吕振华指出合同第三条有笔误。", ["吕振华"]),  # 有 (a surname) before a rare word
])
def test_surname_and_given_name_read_together(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("股东名册：田梦冠、王宝雄、万彬等", ["田梦冠", "王宝雄", "万彬"]),  # list neighbour
    ("出席：赵建平、石磊、宣国", ["赵建平", "石磊", "宣国"]),
    ("已与贝冉沟通，贝冉同意延期还款。", ["贝冉", "贝冉"]),
])
def test_names_in_company_of_a_name(engine, text, names):
    assert persons(engine, text) == names


def test_a_doubtful_hit_lends_no_company(engine):
    # 乔迁 (a word) may be taken for a name at low confidence; 余额宝 must not follow it.
    assert "余额宝" not in persons(engine, "乔迁和余额宝都属于本季度重点。")


@pytest.mark.parametrize(("text", "names"), [
    ("肖凯文来电询问分红。", ["肖凯文"]),  # 肖: the simplified form of 萧, top-30 today
    ("客户谌立新要求赎回。", ["谌立新"]),
    ("肖像权和肖邦的唱片都属于版权问题。", []),
])
def test_modern_surnames(engine, text, names):
    assert persons(engine, text) == names


# Round 4 of issue #16: each case failed before the change named in its comment.

@pytest.mark.parametrize(("text", "names"), [
    # Hong Kong style: a bare surname and 生/太/sir is the whole reference (was 陳生話, nothing)
    ("陳生話想加倉，叫我幫佢睇下騰訊。", ["陳生"]),
    ("黃太今日落咗張單，買兩手匯豐。", ["黃太"]),        # 張單 after 咗 is a measure word
    ("请陈sir明天带身份证过来。", ["陈sir"]),
    ("馮先生話想加倉。", ["馮先生"]),
    ("鄭生同李先生都話下個禮拜先嚟簽文件。", ["鄭生", "李先生"]),
    # … but not words made of a surname and 生/太 (卫生, 余生) or starting after them (生意, 太难)
    ("生意难做，太难了。", []),
    ("卫生间在二楼，两张单都签了。", []),
    ("金太阳能源发布公告。", []),
])
def test_surname_and_title(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    # surname and first given character make a word (高明, 雷鸣), the name is a whole token
    ("高明远说这只基金回撤太大了。", ["高明远"]),
    ("雷鸣辉认为二季度会降准。", ["雷鸣辉"]),
    ("这笔转账是雷鸣辉发起的。", ["雷鸣辉"]),
    ("高明的投资者不会追涨。", []),
    ("江海联运项目启动，黄金价格创新高。", []),
])
def test_name_starting_with_a_word(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("巢莲雯13912345678，深圳福田区。", ["巢莲雯"]),  # a mobile right after the name ends it
    ("110101199003071234张伟，风险测评C4。", ["张伟"]),  # (held before: guards)
    ("客户林晓彤13800138000来电。", ["林晓彤"]),
])
def test_name_next_to_digits(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("参会：高远、方圆、金华、白雪。", ["高远", "方圆", "金华", "白雪"]),  # 高远 is also a word
    ("出席：文静、成刚、于伟、安然。", ["文静", "成刚", "于伟", "安然"]),  # word-like surnames
    ("高开、低走、放量都出现了。", []),  # a list without a name lends nothing
    ("金融、地产、医药板块领涨。", []),
])
def test_items_of_a_list_with_a_name(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("老王说这个票明天要涨停。", ["老王"]),          # 老/小 and a common surname
    ("小李，帮我查一下方总的持仓。", ["小李", "方总"]),
    ("老李和老张都来了。", ["老李", "老张"]),
    ("于先生来电，區先生的孖展戶口已補倉。", ["于先生", "區先生"]),  # word-like surnames + 先生
    ("老师说可以，小米发布新品，古老的传说。", []),
    ("属于先生的东西，关于先生的事。", []),
])
def test_familiar_references(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("经办人：石磊 复核人：常青 审批人：白玉兰", ["石磊", "常青", "白玉兰"]),  # a form's value
    ("客户余晓峰在螺纹钢2405合约上的空单已经被强平。", ["余晓峰"]),  # 强平 is a futures word
    ("周大福珠宝集团发布业绩，易方达和嘉实的基金经理都去了。", []),
])
def test_forms_and_finance_words(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    # a word-like surname after 的/是/发 or after an ordinary word, when the CRF is very sure
    ("这笔钱是计容沅从工资卡转进来的。", ["计容沅"]),
    ("上午文华伟到营业部办了销户。", ["文华伟"]),
    ("今天成伟问了三遍净值。", ["成伟"]),  # (held before: a guard)
    ("今天和客户见面，公司于2024年成立，产品和服务都不错。", []),
    ("上午成交额放大，目前全市场成交额放大，今天文件已签。", []),
])
def test_word_like_surname_when_the_model_is_sure(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    # OCR'd forms: spaces inside ordinary words (申 请, 身份 证) and inside names
    ("开 户 申 请　表\n姓　名: 欧  志 强\n身份 证: 110101199003071234\n联 系 电话 13800138000",
     ["欧  志 强"]),
    ("委 托 书\n委托人 宁 海波　身 份证 440301198811123456\n受 托人 冼  嘉 欣", ["宁 海波", "冼  嘉 欣"]),
    # a spaced name as a label's whole value, the rest of the text unspaced
    ("姓名：宋  颖\t性别：男\t证件号码：110101199003071234", ["宋  颖"]),
    # whole words spaced apart are separate tokens, and a whole name then the next field
    ("出席：张淼 巫嘉怡 李国庆", ["张淼", "巫嘉怡", "李国庆"]),
    ("姓名:郑国栋 性别:女", ["郑国栋"]),
])
def test_ocr_spaces(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("金额（大写）：人民币叁仟陆佰伍拾万元整", []),  # 陆, 伍, 万, 元: numerals and units
    ("付款人伍家豪 金 额 人民币 贰拾 万陆 仟元整", ["伍家豪"]),
    ("序号\t姓名\t客户类型\n1\t万强\t专业投资者", ["万强"]),  # a row number is no amount
    ("回访：139 1234 5678万丽娟本人接听。", ["万丽娟"]),
])
def test_capital_numerals(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("客户佐藤健一来电要求撤单。", ["佐藤健一"]),
    ("请高桥美穗于周五前签字确认。", ["高桥美穗"]),
    ("联系人：中村真由美", ["中村真由"]),  # (a three-character given name: cut, not missed)
    ("中山公园和清水河畔的分行照常营业。", []),  # Japanese surnames that are Chinese words
])
def test_japanese_names(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    # a noun or adjective that is also a name, in the slot a label opens for a person
    ("资金划拨人：江海；指令确认人：方圆。", ["江海", "方圆"]),  # (any word + 人 before a colon)
    ("该笔指令由交易员高山执行。", ["高山"]),
    ("客户经理高度重视。", []),  # not a noun or adjective
])
def test_word_names_after_a_label(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("鲗鱼涌、何文田及沙田分行照常营业。", []),  # Hong Kong places that start with a surname
    ("陈述人：黄国栋\n管理人、托管人各执一份。", ["黄国栋"]),  # a word + 人 is a role
    ("拟购买金海稳健收益2号（R3）。", []),  # a fund product's name
    ("王福记发布公告，拟回购股份。", []),  # what is said of a company, not of a person
    ("审议周记鸭收购事项。", []),
    ("担保品中马大龙跌停，请联系客户。", []),
    ("王建华今日致电，张伟先生今日涨停板上买入。", ["王建华", "张伟"]),
])
def test_places_roles_and_companies(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    # a surname and given name that jieba lists as a (famous) person, however frequent
    ("王晓东今天下午来电咨询融资融券。", ["王晓东"]),
    ("请把合同交给杨建华签字。", ["杨建华"]),
    ("周末我们去王府井逛街。", []),  # a place tagged nr
])
def test_person_words(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    # Hong Kong married names with a cue on one side only, or the same surname twice
    ("客戶黃陳麗珊持有港澳居民居住證。", ["黃陳麗珊"]),
    ("陳陳美華、李大文已出席講座。", ["陳陳美華", "李大文"]),
    ("交易員何梁鳳儀於今日買入。", ["何梁鳳儀"]),
    ("客户王丽持有中信证券的股票。", ["王丽"]),  # (not widened into a company)
])
def test_married_names_one_cue(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("经查，王芳与买买提·吐尔洪使用同一台设备。", ["王芳", "买买提·吐尔洪"]),  # 买买提: n in jieba
    ("FYI: 让·马丁已离职。", ["让·马丁"]),  # 让 = Jean, a one-character first part
    ("客户努尔·吾守尔来电。", ["努尔·吾守尔"]),
    ("中国·上海论坛今天开幕。", []),  # words as parts stay no name
])
def test_dotted_names_more(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("陳師奶：幾多？\n駱鎮邦：三百八十二蚊，要唔要入？", ["陳師奶", "駱鎮邦"]),  # speakers
    ("[10:02] 骆镇邦：收到\n[10:05] 周一：休市", ["骆镇邦"]),
    ("金额：300万\n黄金：涨", []),  # fields at a line's start are no speakers
])
def test_speakers(engine, text, names):
    assert persons(engine, text) == names


def test_company_context_is_next_to_the_candidate(engine):
    # 增持…股 two characters after the name says nothing about it
    assert persons(engine, "公告称，董事长仲燕增持47200股。") == ["仲燕"]


@pytest.mark.parametrize(("text", "names"), [
    # every character spaced (a scan read letter by letter): the spaces say nothing
    ("收 件 人 ：何 静    寄 件 人 ：王 丽 华", ["何 静", "王 丽 华"]),
    # a wide gap between two fields still ends the name (签收人 … 签收日期)
    ("签 收 人 ：王 芳    签 收 日 期 ：二〇二四年五月九日", ["王 芳"]),
    ("本 人 林 志 远 已 阅 读 并 同 意 以 上 条 款 。", ["林 志 远"]),
    ("今天 天气 不错", []),
])
def test_letter_spaced_text(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("请核对销售方案的细节。", []),          # 销售 is a label only before a name
    ("我们会维护好客户关系，请放心。", []),
    ("常务副总经理办公会今日召开。", []),    # 副 starts a title, 常务 is a word
    ("敬啟者：本行客戶陳大明先生已辦妥手續。", ["陳大明"]),  # a letter's opening formula
    ("客户高山来电咨询。", ["高山"]),         # a place-like word after a label is still a name
])
def test_ordinary_words_next_to_cues(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("创始人张自强在发布会上表示不会减持。", ["张自强"]),  # founders, court parties, HK roles
    ("原告李文博诉称其未获风险提示。", ["李文博"]),
    ("被告人刘志远当庭认罪。", ["刘志远"]),
])
def test_general_role_words(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("其客戶由詹李美華接手。", ["詹李美華"]),  # any listed surname in a married name
    ("交易所对苗王丽珍发出警示函。", ["苗王丽珍"]),  # after a one-character cue
])
def test_married_names_any_surname(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("喂，龐詠珊呀？我係永隆銀行嘅郭志豪", ["龐詠珊", "郭志豪"]),  # a particle after a name called out
    ("喂，周志豪啊，你嗰張卡仲用唔用？", ["周志豪"]),  # 嗰 (Cantonese 那) before a measure word
])
def test_name_called_out(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    # the surname ends the word before it (今天|王, 前称|王, 昨天|王) and the model is all but sure
    ("今天王雅琪来营业部办理了开户。", ["王雅琪"]),
    ("据悉，前称王丽珍的客户已更新资料。", ["王丽珍"]),
    ("昨天王志刚来电话了。", ["王志刚"]),
    ("高山先生的账户已解冻。", ["高山"]),  # a word before an honorific is a name
    ("今天王府井人很多。", []),  # (a place that starts with a surname stays none)
])
def test_sure_names_after_a_glued_word(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("客户亚历山大·彼得罗夫申请开户。", ["亚历山大·彼得罗夫"]),
    ("客户安德烈·伊万诺夫来电。", ["安德烈·伊万诺夫"]),  # 烈, 治, 鲁 transliterate too
    ("经办人乔治·史密斯已复核。", ["乔治·史密斯"]),
    ("中国·上海论坛今天开幕。", []),
])
def test_dotted_names_of_proper_parts(engine, text, names):
    assert persons(engine, text) == names


# Round 8 (issue #16): classes counted on --fresh8 seeds 0-2; sentences written for the tests.

@pytest.mark.parametrize(("text", "names"), [
    # a spaced label (OCR), a note in brackets, a line to sign on, a name that ends the text
    ("付 款 人：欧 阳 凯  开户行：招商银行", ["欧 阳 凯"]),
    ("借款人（签字）：周 晓 雯\n日期：", ["周 晓 雯"]),
    ("投资者签名________刘 子 谦________", ["刘 子 谦"]),
    ("客户名称  邓 嘉", ["邓 嘉"]),
    ("经办：陈 立 复核：罗 静 怡", ["陈 立", "罗 静 怡"]),
])
def test_spaced_names_in_forms(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("阿卜杜拉·汗已提交开户申请。", ["阿卜杜拉·汗"]),  # a one-character part beside a long one
    ("客户卡尔·穆勒来电咨询。", ["卡尔·穆勒"]),  # two proper nouns, no place
    ("转告米高·霍金斯：资料齐了。", ["米高·霍金斯"]),  # Hong Kong rendering (米高 Michael)
    ("艾力·阿布都的账户已冻结。", ["艾力·阿布都"]),  # 都 before 的 is the name's
    ("巴黎·伦敦双城展览开幕。", []),  # places stay none
])
def test_dotted_names_round8(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("皇甫俊被列为关联方。", ["皇甫俊"]),  # a strong compound surname is evidence
    ("端木雪上午来电。", ["端木雪"]),
    ("轩辕平撤单了。", ["轩辕平"]),  # 撤 is rarely a given name's last character
])
def test_strong_compound_surnames(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("本地客户中陈姓最多，其次是黄姓。", []),  # X姓: "surnamed X"
    ("母亲作为监护人代其儿子办理。", []),  # 其 the pronoun ends no name
    ("刘海洋曾任某基金公司总经理。", ["刘海洋"]),  # 曾任 "once served as", not a name
    ("标签：高速、白云、金山", []),  # a keyword list holds words
    ("Keywords: 陈述、贺电、高峰", []),  # (an English label too: once skipped by a pre-check)
    ("资金 账号 5521 交 易密码已重置", []),  # an ordinary word split by an OCR gap
    ("祝好\n何嘉欣", ["何嘉欣"]),  # a letter's closing
    ("该客户曾用名陈明，现名陈晓明。", ["陈明", "陈晓明"]),  # 曾用名: a former name
    ("王芳曾用名王小芳", ["王芳", "王小芳"]),
])
def test_no_person_by_the_words_around(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("高峰说合同已经寄出。", ["高峰"]),  # a word that is also a name, then a person's predicate
    ("据白云回忆，当天没有人来过。", ["白云"]),
    ("江河的配偶也在我司开户。", ["江河"]),
    ("夏天的时候成交量下降。", []),  # (the word itself)
    ("万里长城是著名景点。", []),
])
def test_word_names_in_person_slots(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("部门,负责人,人数\n零售部,夏天,12\n机构部,万文明,8", ["夏天", "万文明"]),
    ("姓名|手机\n林立|13800138000", ["林立"]),
    ("证券,代码\n万科A,000002\n平安银行,000001", []),  # no person column
])
def test_person_columns_of_tables(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("白雪，陈慧敏，赵志刚：请于周五前回复。", ["白雪", "陈慧敏", "赵志刚"]),
    ("名单：安康/王建新/李晓东", ["安康", "王建新", "李晓东"]),
    ("值班：周一 王建新，周二 李晓东，周三 张丽华", ["王建新", "李晓东", "张丽华"]),  # (guard)
])
def test_short_name_lists(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("檀晓峰是本公司的股东。", ["檀晓峰"]),  # rare surnames that are no word
    ("客户睢丽华来电咨询。", ["睢丽华"]),
    ("联系人：过志明", ["过志明"]),  # a word-like rare surname with a label
    ("请勿过度交易。", []),  # (过 as a word)
])
def test_rare_surnames_round8(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("李家奕刚才在群里说要加仓。", ["李家奕"]),  # X家 "the X family" is a word, 家奕 a name
    ("许家志系我哋嘅VIP客。", ["许家志"]),
    ("王家人都来了。", []),  # (家人 is a word: the Wang family)
])
def test_given_names_starting_with_jia(engine, text, names):
    assert persons(engine, text) == names


# Round 9 (issue #16): classes read on --fresh9 seeds 0-2.
@pytest.mark.parametrize(("text", "names"), [
    ("工单号CS450921：客户时光来电反映登录后持仓显示为空。", ["时光"]),
    ("柜员劳宝贵核对无误后办理。", ["劳宝贵"]),
    ("合格投资者：卿杰兴，金融资产证明已核验。", ["卿杰兴"]),
])
def test_a_sure_model_overrides_the_dictionary(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("行政处罚决定书：当事人乔治·李，男，1980年出生。", ["乔治·李"]),
    ("外籍员工丹尼尔•陈的工作签证已续期。", ["丹尼尔•陈"]),
    ("大卫·史密斯：今天收盘后开会。", ["大卫·史密斯"]),
    ("中国·上海", []),
    ("巴西·圣保罗", []),  # (a country first: a place phrase, though jieba tags 圣保罗 a person)
])
def test_dotted_western_names(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("复印件与原件一致  核验人：娄 姗 璐", ["娄 姗 璐"]),
    ("声明人（签字）：隋 洁 菲\n2026年12月1日", ["隋 洁 菲"]),
    ("今收到 赵 淑萍 交来 保证金", ["赵 淑萍"]),
    ("收 据 金 额 100", []),
    # (two spaced values on one line: the gaps of both, in order; once gave an empty span)
    ("离职人员：何 辉 交接人：林 杰 雨 部门：运营管理部", ["何 辉", "林 杰 雨"]),
])
def test_spaced_names_after_any_role_and_alone(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("日方来宾井上早苗一行将访问总部。", ["井上早苗"]),
    ("复核人佐佐木一郎，回退负责人王雪欣。", ["佐佐木一郎", "王雪欣"]),
    ("长谷川翔太和冯昕出席。", ["长谷川翔太", "冯昕"]),
    ("他毕业于中山大学。", []),
])
def test_japanese_names_round9(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("参会：毕东晖｜迟大海｜李建设｜潘华", ["毕东晖", "迟大海", "李建设", "潘华"]),
])
def test_lists_split_by_full_width_bars(engine, text, names):
    assert persons(engine, text) == names


# Round 10 (issue #16): classes read on --fresh10 seeds 0-2.
@pytest.mark.parametrize(("text", "names"), [
    ("前十名股东包括华夏基金、湯凱琳、中欧基金、广发证券", ["湯凱琳"]),
    ("柯桥、义乌、温岭的纺织出口数据好于预期。", []),
])
def test_a_person_in_a_list_of_companies(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("瑾斐之弟练旻雷已签收。", ["练旻雷"]),
    ("佢個仔蘇品妤下個月返嚟", ["蘇品妤"]),
    ("他老公说不用了", []),
])
def test_relatives_before_a_name(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("该笔交易的下单人是林在勋。", ["林在勋"]),
    ("金在勇 摘要 工资", ["金在勇"]),
    ("王在北京出差，李在家休息。", []),
])
def test_korean_names_with_zai(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("考核：涂抗美基本称职。", ["涂抗美"]),  # the model likely (>= 0.6) on a 3-character name
    ("年度考核：王明瑞优秀，邓航泽称职。", ["王明瑞", "邓航泽"]),  # ... and sure (>= 0.8) over 明瑞
    ("夏天的时候成交量下降。", []),  # (a 2-character word still needs 0.95)
])
def test_model_thresholds_round10(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("董秘回复：感谢关注，如有增持将及时公告。", []),
    ("银行卡已解绑，请核对后重试。", []),
    ("韩方派驻董事木村健一于2024年到任。", ["木村健一"]),
])
def test_no_person_in_titles_and_domain_words_round10(engine, text, names):
    assert persons(engine, text) == names


@pytest.mark.parametrize(("text", "names"), [
    ("附件是阿依努尔・再努尔整理的。", ["阿依努尔・再努尔"]),  # (再 of Uyghur 再努尔, Zaynur)
])
def test_uyghur_names_with_zai(engine, text, names):
    assert persons(engine, text) == names
