"""Round 5 of issue #16: name forms without a listed surname first, Hong Kong text, and the
false positives of lists, role words and title words. Each case failed before the change."""

from __future__ import annotations

import pytest

from yinji.gateway.detectors.names_zh import ChineseNameDetector


@pytest.fixture(scope="module")
def det() -> ChineseNameDetector:
    d = ChineseNameDetector()
    d.detect("预热：王芳")
    return d


def names(det: ChineseNameDetector, text: str) -> list[str]:
    return [d.value(text) for d in det.detect(text)]


@pytest.mark.parametrize(("text", "expected"), [
    # the run of transliteration characters stops at the words around it
    ("委托人张伟授权阿依古丽·吐尔逊代为办理赎回。", ["张伟", "阿依古丽·吐尔逊"]),
    ("收到王芳转来的努尔艾力·阿不都热依木的授权书。", ["王芳", "努尔艾力·阿不都热依木"]),
    # a part that is a place name or known word beside a name (亚历山大)
    ("亚历山大·米勒的邮箱退信，请更换。", ["亚历山大·米勒"]),
    ("业务员收取客户亚历山大·彼得罗夫现金五万元。", ["亚历山大·彼得罗夫"]),
    # other dots: fullwidth full stop, bullet, ASCII full stop
    ("联系人：约翰．史密斯", ["约翰．史密斯"]),
    ("客户玛丽•布朗同意续期。", ["玛丽•布朗"]),
    ("股东名册：凯瑟琳·哈桑持股15%。", ["凯瑟琳·哈桑"]),
    ("客户约翰.汤普森来电咨询。", ["约翰.汤普森"]),
    # (a guard, passed before: places and words joined by a dot are still no name)
    ("中国·上海国际金融论坛", []),
])
def test_dotted_names_are_bounded_by_the_words_around_them(det, text, expected):
    assert names(det, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("客户扎西次仁，110101199003071234，来自拉萨。", ["扎西次仁"]),
    ("方案由其其格起草，王芳修订。", ["其其格", "王芳"]),
    ("请于周五前将资料交给格桑", ["格桑"]),
    ("被保险人：顿珠  投保人：李明", ["顿珠", "李明"]),
    ("巴特尔说明天来签字。", ["巴特尔"]),
    ("抄送：王峰；宝音图门", ["王峰", "宝音图门"]),
    ("出席：刘桂兰、宝音图、王语嫣", ["刘桂兰", "宝音图", "王语嫣"]),
    # syllables inside ordinary words and places are no name
    ("乌兰察布分公司本月业绩第一。", []),
])
def test_tibetan_and_mongolian_names_without_a_surname(det, text, expected):
    assert names(det, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("客戶陳李美玲女士查詢強積金轉移。", ["陳李美玲"]),
    ("佢話黃生太太（何梁淑儀）上個月已經移民。", ["何梁淑儀"]),
    ("周林秀琼（王嘉明之母）认购了基金。", ["周林秀琼", "王嘉明"]),
])
def test_hong_kong_married_names_are_four_characters(det, text, expected):
    assert [n for n in names(det, text) if n != "黃生"] == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("我係湯鎮南，想問下幾時派息？", ["湯鎮南"]),
    ("張家樂同梁嘉琪係兄弟。", ["張家樂", "梁嘉琪"]),
    ("李經理已批核杜嘉欣嘅提款申請。", ["杜嘉欣"]),
    ("緊急聯絡人：馮健（容麗珊之配偶）", ["馮健", "容麗珊"]),
    ("经查，曹若彤与商丽娜系夫妻关系。", ["曹若彤", "商丽娜"]),
])
def test_cantonese_and_formal_cues(det, text, expected):
    assert names(det, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("持卡人应妥善保管密码。", []),                   # 应: the modal verb after a role word
    ("申请人、联系人及受益人信息均未填写。", []),      # 信息 after a role word
    ("被保险人：王帆  受益人：法定", ["王帆"]),        # a form value that is a plain word
    ("董事總經理湯德輝宣布新任命。", ["湯德輝"]),      # 董事 is a title
    ("附件是签字页，请查收。", []),                    # 查收 is a verb
    ("帳戶於一星期內收到三筆存款。", []),              # 於 is the preposition
    ("江苏籍客户卞新宇在温州开户。", ["卞新宇"]),      # 籍: native place
    ("苏州、金华、马鞍山三地分支机构合并。", []),      # a list of places
    ("六福珠宝、周黑鸭等消费股午后走强。", []),        # a list of companies
    # (a guard, passed before: an item holding a name is no place)
    ("青岛营业部李诗涵、佘子涵两位同事获评优秀员工。", ["李诗涵", "佘子涵"]),
    ("客戶於滙豐開立帳戶。", []),
    ("地點：沙田分行；內容：強積金講座。", []),
])
def test_false_positives_of_round_5(det, text, expected):
    assert names(det, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # a common surname and a word as given name between a cue and a verb or title
    ("资管计划投资经理由李前进变更为张三。", ["李前进", "张三"]),
    ("业务员雷阳光涉嫌私下收取现金。", ["雷阳光"]),
    ("温馨提示：段永恒您好，您的基金已到期。", ["段永恒"]),
    # role words of broker and Hong Kong forms
    ("账户持有人施白云在三月转出资金。", ["施白云"]),
    # a cue word ends the name even when its last character starts a word with the cue (华表)
    ("林国华表示同意续期。", ["林国华"]),
    # every mention of a sure name, also where it runs into an organisation word
    ("附件：彭建平身份证正反面.jpg、彭建平银行卡.pdf", ["彭建平", "彭建平"]),
    # 之 + kin ends a name in the model's reading too
    ("麥余淑貞（文思穎之母）透過銀行認購基金。", ["麥余淑貞", "文思穎"]),
])
def test_word_names_and_repeats(det, text, expected):
    assert names(det, text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("新基金本周路演，券商牵头。", []),              # a rare word jieba knows (路演)
    ("客戶須於月底前補交文件。", []),                # 於 is never a given name's character
    ("投诉人：李向阳", ["李向阳"]),                  # 向 may be (向阳, 向东)
    ("投资者太史新民，证件号350203200411218589。", ["太史新民"]),  # compound surname 太史
    ("收件人：余嘉明先生\n地址：沙田", ["余嘉明"]),  # an address field holds no person
    ("高伟达（600386）停牌核查。", []),              # a stock name before its code
    ("户名：杭州明德私募基金管理有限公司", []),      # a company's legal name
    ("户名：国金证券  开户行：浦发银行", []),        # an organisation word after the value
    ("石油、白银、钢材期货夜盘走强。", []),          # commodities
])
def test_round_5_words_fields_and_companies(det, text, expected):
    assert names(det, text) == expected
