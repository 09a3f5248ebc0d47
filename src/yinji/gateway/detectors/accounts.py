"""Securities, fund and futures account numbers: configurable cue + value patterns.

Why configurable: each company in the group numbers its accounts its own way. A pattern is a
cue (资金账号, 股东账户, account no. ...) followed within a few characters by a value regex;
some formats (Shanghai A-share holder accounts, A + 9 digits) are distinctive enough alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from yinji.gateway.detectors.base import ACCOUNT, Detection


@dataclass(frozen=True)
class AccountPattern:
    """`value` is searched right after a match of `cue` (if given), within `gap` characters."""

    name: str
    value: str
    cue: str | None = None
    confidence: float = 0.9
    gap: int = 8


DEFAULT_ACCOUNT_PATTERNS: tuple[AccountPattern, ...] = (
    AccountPattern("sh_holder", r"A\d{9}", None, 0.85),
    AccountPattern(
        "cued_account",
        r"[A-Z]{0,2}\d{6,20}",
        r"资金账号|资金账户|证券账户|证券账号|股东账户|股东账号|股东代码|基金账户|基金账号|TA账号|"
        r"交易账户|交易账号|期货账户|期货账号|交易编码|客户号|客户编号|资金帐号|保证金账户|两融账户|"
        r"信用账户|理财账户|账户号码|账号|账户|帐号|"
        r"(?:securities|brokerage|trading|fund|futures|margin|client|customer|capital)\s+account"
        r"(?:\s+(?:no\.?|number|#))?|\baccount(?:\s*(?:no\.?|number|#))?|a/c(?:\s*no\.?)?",
        0.9,
    ),
)


class AccountDetector:
    name = "account"

    def __init__(self, patterns: Iterable[AccountPattern] = DEFAULT_ACCOUNT_PATTERNS) -> None:
        self._rx = []
        for p in patterns:
            value = r"(?<![0-9A-Za-z])(" + p.value + r")(?![0-9A-Za-z])"
            if p.cue:
                rx = re.compile(
                    r"(?:" + p.cue + r")[^0-9A-Za-z\n。；;]{0," + str(p.gap) + r"}?" + value,
                    re.IGNORECASE)
            else:
                rx = re.compile(value)
            self._rx.append((rx, p.confidence))

    def detect(self, text: str) -> list[Detection]:
        return [Detection(m.start(1), m.end(1), ACCOUNT, conf, self.name)
                for rx, conf in self._rx for m in rx.finditer(text)]
