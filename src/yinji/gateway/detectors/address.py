"""Postal addresses (Chinese and English/Hong Kong style) from their structure.

Why structure: an address is a chain of administrative units (省/市/区/县/镇), a road with a
number (路/街/道 ...号) and a building/room (栋/单元/室). We require a road with a number, or two
administrative units followed by a building or room, so place names alone ("上海市场") are not
flagged. Leading cue words swallowed by the leftmost match (住在, 地址为) are trimmed.
"""

from __future__ import annotations

import re

from yinji.gateway.detectors.base import ADDRESS, Detection

_H = "[\u4e00-\u9fff]"
_NUM = r"(?:\d+|[一二三四五六七八九十百零]+)"
_ZH = re.compile(
    r"(?:" + _H + r"{2,3}(?:省|自治区)|北京|上海|天津|重庆|香港|澳门)?"
    r"(?:" + _H + r"{1,4}?(?:市|自治州|州|盟))?"
    r"(?:" + _H + r"{1,4}?(?:区|县|旗))?"
    r"(?:" + _H + r"{1,4}?(?:街道|镇|乡))?"
    r"(?:" + _H + r"{1,6}?(?:路|街|大道|大街|巷|弄|胡同|道)" + _NUM + r"(?:号|弄)(?:院)?"
    r"|" + _H + r"{1,6}?(?:村|小区|花园|新村|家园|公寓|苑))"
    r"(?:" + _H + r"{0,8}?(?:大厦|中心|广场|花园|小区|公寓|苑|园|大楼|新村|家园|公馆))?"
    r"(?:[\dA-Za-z一二三四五六七八九十]+(?:栋|幢|座|号楼|单元|层|楼|区)){0,3}"
    r"(?:\d+(?:室|号房|房|号)?)?"
)
_ADMIN = re.compile(r"省|自治区|市|州|区|县|镇|乡|街道|北京|上海|天津|重庆|香港|澳门")
_LEAD = re.compile(r"^(?:现居住于|现居住在|居住于|居住在|现住址|联系地址|通讯地址|家庭住址|办公地址|"
                   r"住址|地址|现住|家住|住在|位于|寄往|寄至|寄到|送至|送到|搬到|搬至|迁至|"
                   r"住|在|于|至|到|往|是|为|的|：|:)+")
_EN = re.compile(
    r"(?:(?:Flat|Room|Unit|Apt\.?|Suite)\s?[0-9A-Z]{1,5},?\s)?(?:\d{1,2}/F,?\s)?"
    r"(?:(?:Block|Tower)\s[0-9A-Z]{1,3},?\s)?(?:[A-Z][a-z]+\s){0,3}"
    r"(?:(?:Building|Mansion|Court|Centre|Center|Plaza|House|Gardens?|Estate|Tower),?\s)?"
    r"\d{1,5}[A-Z]?\s(?:[A-Z][a-z]+(?:'s)?\s){1,4}"
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Drive|Dr|Boulevard|Blvd|Way|Court|Place|Terrace|Path)"
    r"\.?(?:,\s(?:[A-Z][a-z]+\s?){1,3}){0,3}(?:,?\s[A-Z]{2}\s\d{5})?"
)


class AddressDetector:
    name = "address"

    def detect(self, text: str) -> list[Detection]:
        out = []
        for m in _ZH.finditer(text):
            span = m.group()
            lead = _LEAD.match(span)
            start = m.start() + (lead.end() if lead else 0)
            span = text[start:m.end()]
            if len(span) < 5:
                continue
            road = re.search(r"(?:路|街|大道|巷|弄|胡同|道)" + _NUM + "(?:号|弄)", span)
            units = len(_ADMIN.findall(span))
            if road or units >= 2:
                conf = 0.9 if road and units else 0.75 if road else 0.7
                out.append(Detection(start, m.end(), ADDRESS, conf, self.name))
        for m in _EN.finditer(text):
            s = m.group().rstrip(" ,")
            out.append(Detection(m.start(), m.start() + len(s), ADDRESS, 0.85, self.name))
        return out
