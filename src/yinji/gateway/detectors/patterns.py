"""Pattern detectors with check digits: ID numbers, phones, cards, e-mail, USCC, passports.

Why check digits: a bare digit run is weak evidence (order numbers, amounts, dates look the
same); a valid checksum plus a valid region/date makes a false positive rare, and nearby cue
words (身份证, 卡号, passport ...) or anti-cues (订单号, order ...) adjust the rest.
"""

from __future__ import annotations

import re

from yinji.gateway.detectors import checksums as ck
from yinji.gateway.detectors.base import (
    BANK_CARD,
    EMAIL,
    ID_NUMBER,
    LANDLINE,
    MOBILE,
    PASSPORT,
    USCC,
    Detection,
)
from yinji.gateway.detectors.context import before, cue, has

_B = r"(?<![0-9A-Za-z])"  # left boundary: not inside a longer alphanumeric run
_E = r"(?![0-9A-Za-z])"

ANTI = cue(r"订单|单号|流水|编号|合同|委托号|凭证|批次|工单|快递|运单|序列号|证券代码|股票代码|"
           r"order|ref(?:erence)?|invoice|ticket|tracking|serial|trade id|txn|transaction")
ID_CUE = cue(r"身份证|证件|公民身份|id\s*(?:no|number|card)|identity|居民")
CARD_CUE = cue(r"卡号|银行卡|借记卡|信用卡|储蓄卡|银行账号|收款账号|账号|card|银行")
PHONE_CUE = cue(r"电话|手机|致电|来电|联系|热线|座机|传真|tel|phone|mobile|call|fax|whatsapp|微信"
                r"|電話|手機|致電|來電|聯絡|聯繫|熱線|傳真")  # (Hong Kong and Taiwan text is traditional)
PASS_CUE = cue(r"护照|通行证|港澳|台胞|回乡证|证件|passport|permit|travel document")


def _digits(s: str) -> str:
    return re.sub(r"[\s-]", "", s)


_ID18 = re.compile(_B + r"(\d{6}[ -]?\d{8}[ -]?\d{3}[\dXx])" + _E)   # 6-8-4: spaces or dashes
_ID15 = re.compile(_B + r"(\d{15})" + _E)
_HKID = re.compile(r"(?<![0-9A-Za-z])([A-Z]{1,2})(\d{6})\s?\(?([0-9A])\)?" + _E)


class IdNumberDetector:
    """Mainland resident IDs (18-digit with check digit, legacy 15-digit) and HK identity cards."""

    name = "id_number"

    def detect(self, text: str) -> list[Detection]:
        out = []
        for m in _ID18.finditer(text):
            if ck.id18_valid(_digits(m.group(1))):
                out.append(Detection(m.start(1), m.end(1), ID_NUMBER, 0.99, self.name))
        for m in _ID15.finditer(text):
            if ck.id15_valid(m.group(1)):
                ctx = before(text, m.start())
                conf = 0.95 if has(ID_CUE, ctx) else 0.3 if has(ANTI, ctx) else 0.85
                out.append(Detection(m.start(1), m.end(1), ID_NUMBER, conf, self.name))
        for m in _HKID.finditer(text):
            if ck.hkid_valid(m.group(1), m.group(2), m.group(3)):
                conf = 0.95 if has(ID_CUE, before(text, m.start())) else 0.8
                out.append(Detection(m.start(), m.end(), ID_NUMBER, conf, self.name))
        return out


_MOBILE_CN = re.compile(_B + r"((?:\+?86[-\s]?)?1[3-9]\d(?:(?:[-\s]?\d{4}){2}|\d[-\s]\d{3}[-\s]\d{4}))"
                        + _E)   # 3-4-4, or 4-3-4 as some write it
_PHONE_HK = re.compile(r"(?<![0-9A-Za-z])((?:\+|00)?852[-\s]?([2-9])\d{3}[-\s]?\d{4})" + _E)
_LANDLINE_CN = re.compile(
    r"(?<![0-9A-Za-z])((?:\+?86[-\s]?)?(?:\(0?\d{2,3}\)|0\d{2,3})[-\s]?[2-9]\d{2,3}[-\s]?\d{4}"
    r"(?:\s?(?:转|ext\.?|x)\s?\d{1,5})?)" + _E)
_LOCAL8 = re.compile(_B + r"([2-9]\d{3}[-\s]?\d{4})" + _E)


class PhoneDetector:
    """Mainland mobiles (+86 optional, spaced or dashed), landlines with area code, HK numbers."""

    name = "phone"

    def detect(self, text: str) -> list[Detection]:
        out = []
        for m in _MOBILE_CN.finditer(text):
            conf = 0.3 if has(ANTI, before(text, m.start(), 8)) else 0.95
            out.append(Detection(m.start(1), m.end(1), MOBILE, conf, self.name))
        for m in _PHONE_HK.finditer(text):
            cat = MOBILE if m.group(2) in "5679" else LANDLINE
            out.append(Detection(m.start(1), m.end(1), cat, 0.9, self.name))
        for m in _LANDLINE_CN.finditer(text):
            if re.fullmatch(r"0?(?:400|800)", _digits(m.group(1))[:4].rstrip("-")):
                continue
            bare = m.group(1).isdigit()  # no separator: could as well be an account number
            conf = (0.3 if has(ANTI, before(text, m.start(), 8))
                    else 0.9 if not bare or has(PHONE_CUE, before(text, m.start(), 10)) else 0.75)
            out.append(Detection(m.start(1), m.end(1), LANDLINE, conf, self.name))
        for m in _LOCAL8.finditer(text):
            # A bare 8-digit local number only counts right after a phone cue; in Hong Kong one
            # starting with 5, 6, 7 or 9 is a mobile (電話係9123 4567), with 2 or 3 a landline.
            if has(PHONE_CUE, before(text, m.start(), 8)):
                cat = MOBILE if m.group(1)[0] in "5679" else LANDLINE
                out.append(Detection(m.start(1), m.end(1), cat, 0.7, self.name))
        return out


_GLUED = re.compile(_B + r"(?:(\d{17}[\dXx])(1[3-9]\d(?:[-\s]?\d{4}){2})|(1[3-9]\d{9})(\d{17}[\dXx]))"
                    + _E)


class GluedIdMobileDetector:
    """An ID number and a mobile written with no separator between them (form fields pasted as
    text: 110105...002X13800138000): one digit run, which the boundaries of the detectors
    above reject. Both are taken when the ID's check character holds."""

    name = "glued_id_mobile"

    def detect(self, text: str) -> list[Detection]:
        out = []
        for m in _GLUED.finditer(text):
            idn, mob = (1, 2) if m.group(1) else (4, 3)
            if ck.id18_valid(m.group(idn)):
                out.append(Detection(m.start(idn), m.end(idn), ID_NUMBER, 0.97, self.name))
                out.append(Detection(m.start(mob), m.end(mob), MOBILE, 0.95, self.name))
        return out


_CARD = re.compile(_B + r"(\d{15,19}|\d{4}(?:[ -]\d{4}){3}(?:[ -]?\d{1,3})?|\d{4}[ -]\d{6}[ -]\d{5}|"
                   r"\d{6}[ -]\d{9,13})" + _E)
_CARD_BIN = re.compile(r"(?:62|4|5[1-5]|2[2-7]|3[47]|35|60|65|9)")
_DATE_PREFIX = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


class BankCardDetector:
    """Card numbers of 15-19 digits: Luhn-valid with a known issuer prefix, or after a card cue."""

    name = "bank_card"

    def detect(self, text: str) -> list[Detection]:
        out = []
        for m in _CARD.finditer(text):
            digits = _digits(m.group(1))
            if not 15 <= len(digits) <= 19:
                continue
            ctx = before(text, m.start(), 16)
            card_cue, anti = has(CARD_CUE, ctx), has(ANTI, before(text, m.start(), 10))
            if ck.luhn_valid(digits) and _CARD_BIN.match(digits):
                conf = 0.97 if card_cue else 0.35 if anti or _DATE_PREFIX.match(digits) else 0.92
            elif card_cue and not anti and digits[:2] in ("62", "60", "94", "95"):
                conf = 0.6  # some older UnionPay debit cards are not Luhn-valid
            else:
                continue
            out.append(Detection(m.start(1), m.end(1), BANK_CARD, conf, self.name))
        return out


_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
                    r"\.[A-Za-z]{2,}")


class EmailDetector:
    name = "email"

    def detect(self, text: str) -> list[Detection]:
        return [Detection(m.start(), m.end(), EMAIL, 0.99, self.name) for m in _EMAIL.finditer(text)]


_USCC = re.compile(r"(?<![0-9A-Za-z])([0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10})" + _E)


class UsccDetector:
    """Unified social credit codes (统一社会信用代码), GB 32100-2015 check character."""

    name = "uscc"

    def detect(self, text: str) -> list[Detection]:
        out = []
        for m in _USCC.finditer(text):
            if m.group(1)[0] in "123456789ANY" and ck.uscc_valid(m.group(1)):
                conf = 0.3 if has(ANTI, before(text, m.start(), 10)) else 0.95
                out.append(Detection(m.start(1), m.end(1), USCC, conf, self.name))
        return out


_PASSPORT_CN = re.compile(_B + r"([EGDSP]\d{8}|E[A-HJ-NP-Z]\d{7})" + _E)
_PERMIT = re.compile(_B + r"([CW]\d{8}|C[A-HJ-NP-Z]\d{7}|[HM]\d{8,10}|K\d{8})" + _E)
_PASSPORT_CUED = re.compile(
    r"(?:护照|通行证|回乡证|台胞证|passport|permit)\s*(?:号码|号|no\.?|number|#)?\s*(?:是|为|:|：)?\s*"
    r"([A-Z0-9]{7,10})" + _E, re.IGNORECASE)


class PassportDetector:
    """Passports (PRC E/G..., foreign after a cue) and Hong Kong / Macau travel permits."""

    name = "passport"

    def detect(self, text: str) -> list[Detection]:
        out = []
        for rx, base in ((_PASSPORT_CN, 0.8), (_PERMIT, 0.6)):
            for m in rx.finditer(text):
                ctx = before(text, m.start(), 16)
                conf = 0.95 if has(PASS_CUE, ctx) else 0.2 if has(ANTI, ctx) else base
                out.append(Detection(m.start(1), m.end(1), PASSPORT, conf, self.name))
        for m in _PASSPORT_CUED.finditer(text):
            if any(ch.isdigit() for ch in m.group(1)):
                out.append(Detection(m.start(1), m.end(1), PASSPORT, 0.9, self.name))
        return out

