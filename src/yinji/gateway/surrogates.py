"""Realistic-looking surrogate values (optional): 张伟 -> 林雨桐, a mobile -> another mobile.

Why: some prompts read better to a model with natural values than with [PERSON_1]. Surrogates
are drawn with `secrets` (never `random`) and carry no information about the real value. ID and
card surrogates use test-like prefixes and valid check digits so they parse like the real thing.
"""

from __future__ import annotations

import re
import secrets

from yinji.gateway.detectors import checksums as ck

_ZH_SURNAMES = "李王张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾"
_ZH_GIVEN = "子雨欣怡梓涵浩宇俊杰思远晨曦嘉怡佳琪博文一诺可馨若曦泽宇天佑明轩语桐志强丽娟秀英"
_EN_FIRST = ("Alex", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Quinn", "Avery", "Jamie",
             "Robin", "Drew", "Cameron")
_EN_LAST = ("Hale", "Mercer", "Quill", "Thorne", "Vance", "Wilder", "Sloane", "Ashby", "Kerr",
            "Lowell", "Pryor", "Reeve")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def _digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def surrogate(category: str, value: str, attempt: int = 0) -> str:
    """A fake value of the same kind as `value`, or "" where we have no generator."""
    if category == "person":
        if _HAN.search(value):
            given = "".join(secrets.choice(_ZH_GIVEN) for _ in range(max(1, len(value) - 1)))
            return secrets.choice(_ZH_SURNAMES) + given[:2]
        return f"{secrets.choice(_EN_FIRST)} {secrets.choice(_EN_LAST)}"
    if category == "mobile":
        return "1" + secrets.choice("3578") + _digits(9)
    if category == "email":
        return f"user{_digits(6)}@example.com"
    if category == "id_number":
        body = "110101" + "19" + _digits(2) + "0101" + _digits(3)
        return body + ck.id18_check_digit(body)
    if category == "bank_card":
        body = "621700" + _digits(12)
        return body + ck.luhn_check_digit(body)
    if category == "landline":
        return "010-" + secrets.choice("2345678") + _digits(7)
    return ""
