"""A twelfth, independently written evaluation set for the gateway's Chinese-name detection (#16).

DOCSTRING-PLACEHOLDER
"""

from __future__ import annotations

import re

import numpy as np

from yinji.testing import gateway_eval11_fill as fl
from yinji.testing import gateway_eval11_names as nm
from yinji.testing.gateway_eval11_frames_a import FRAMES_A
from yinji.testing.gateway_eval11_frames_b import FRAMES_B
from yinji.testing.gateway_eval11_frames_c import FRAMES_C
from yinji.testing.gateway_eval11_frames_d import FRAMES_D

# Realistic mix (two thirds) and the rarer, harder text types (one third).
KINDS = {"mail": 0.15, "chat": 0.13, "note": 0.09, "report": 0.07, "form": 0.06, "title": 0.04,
         "pii": 0.04, "negative": 0.08,
         "asr": 0.06, "bank": 0.05, "ocr": 0.04, "table": 0.04, "bio": 0.04, "court": 0.03,
         "hk": 0.05, "foreign": 0.03}
FRAMES: list[tuple[str, str]] = FRAMES_A + FRAMES_B + FRAMES_C + FRAMES_D
CATEGORIES = {"person", "person_title", "mobile", "id_number", "email", "account"}
WRAPPED = {"mail", "chat", "note", "report", "form", "table", "hk", "asr", "negative"}

# The user's instruction around the pasted text ({} is the text).
WRAPPERS = [
    "请帮我总结以下邮件：\n{}", "帮忙把这封邮件翻译成英文：\n{}", "{}\n\n以上邮件请帮我起草一个礼貌的回复。",
    "请提炼下面聊天记录的要点：\n{}", "把这段话改写得正式一点：{}", "{}\n——帮我看看这段有没有错别字",
    "请从下面文字中提取姓名、手机号和证件号，输出JSON：\n{}", "下面是客户投诉内容，请判断属于哪一类投诉：\n{}",
    "以下是会议记录，请整理成待办事项清单：\n{}", "Please summarise in English:\n{}",
    "帮我把这段整理成表格：{}", "{}\n请用三句话概括。", "翻译成繁体中文：{}",
    "这是录音转写的文字，请加上标点并分段：\n{}", "把下面内容写成一份周报：\n```\n{}\n```",
    "请润色：「{}」", "以下文本是否涉及敏感信息？{}", "检查一下这个表格的数据有没有问题\n{}",
]

_TOKEN = re.compile(r"\{([A-Z]+)(\d?)(?::([^}]*))?\}")
_ACCOUNTS = {"ZJ", "JY", "KH", "BK", "ZQ"}
_FILLS = {"AMT": fl.amount, "DATE": fl.date, "TIME": fl.time, "N": fl.small, "PCT": fl.pct,
          "CODE": fl.code}
_ASR_TYPES = {k: v for k, v in nm.TYPES.items() if k != "latin"}


def _types(kind: str) -> dict[str, float]:
    return {"hk": nm.HK_TYPES, "foreign": nm.FOREIGN_TYPES, "asr": _ASR_TYPES,
            "bank": _ASR_TYPES}.get(kind, nm.TYPES)


def render(template: str, kind: str, rng: np.random.Generator
           ) -> tuple[str, list[list], list[nm.Person]]:
    """Fill `template`: text, gold spans and the people named in it."""
    people: dict[str, nm.Person] = {}
    out: list[str] = []
    spans: list[list] = []
    pos = 0
    hk = kind == "hk"

    def put(s: str, cat: str | None) -> None:
        start = sum(map(len, out))
        out.append(s)
        if cat:
            spans.append([start, start + len(s), cat])

    def put_name(p: nm.Person) -> None:
        name = p.full
        if kind == "asr":
            name = re.sub("[·•・]", "", name)
        if kind == "ocr" and p.surname is not None and rng.random() < 0.75:
            name = nm.ocr_space(name, rng)
        put(name, "person")
        if p.alt and rng.random() < 0.5:
            put("（", None)
            put(p.alt, "person")
            put("）", None)

    for m in _TOKEN.finditer(template):
        put(template[pos:m.start()], None)
        pos = m.end()
        tok, num, arg = m.group(1), m.group(2), m.group(3)
        if tok == "P":
            if num not in people:
                people[num] = nm.make(rng, _types(kind))
            p = people[num]
            if arg is None:
                put_name(p)
            else:
                t = nm.title_for(p, None if arg == "t" else arg, rng, hk)
                if t is None:
                    put_name(p)
                else:
                    put(t, "person_title")
        elif tok == "T":
            put(nm.bare_title(rng, arg or None, hk), "person_title")
        elif tok == "M":
            put(fl.mobile(rng), "mobile")
        elif tok == "HKM":
            put(fl.hk_mobile(rng), "mobile")
        elif tok == "ID":
            put(fl.id_number(rng), "id_number")
        elif tok == "E":
            put(fl.email(rng), "email")
        elif tok in _ACCOUNTS:
            put(fl.account(rng, tok), "account")
        elif tok in fl.FILL:
            put(fl._pick(rng, fl.FILL[tok]), None)
        elif tok in _FILLS:
            put(_FILLS[tok](rng), None)
        else:
            raise KeyError(f"unknown token {m.group(0)!r} in frame {template!r}")
    put(template[pos:], None)
    return "".join(out), spans, list(people.values())


def draw(n: int = 6000, seed: int = 0) -> tuple[list[dict], list[str], list[nm.Person]]:
    """Rows, the frame each row used, and every person named (for the make-up statistics)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    by_kind: dict[str, list[str]] = {k: [] for k in KINDS}
    for k, t in FRAMES:
        by_kind[k].append(t)
    keys = list(KINDS)
    counts = np.floor(np.array([KINDS[k] for k in keys]) * n).astype(int)
    for i in rng.permutation(len(keys))[: n - int(counts.sum())]:
        counts[i] += 1
    plan = [k for k, c in zip(keys, counts, strict=True) for _ in range(c)]
    plan = [plan[i] for i in rng.permutation(len(plan))]
    # Every frame of a kind in turn (shuffled), so a 6,000-row draw uses each one.
    queues: dict[str, list[str]] = {k: [] for k in KINDS}
    rows, used, persons = [], [], []
    for i, kind in enumerate(plan):
        if not queues[kind]:
            frames = by_kind[kind]
            queues[kind] = [frames[j] for j in rng.permutation(len(frames))]
        frame = queues[kind].pop()
        text, spans, people = render(frame, kind, rng)
        if kind in WRAPPED and rng.random() < 0.22:
            w = WRAPPERS[int(rng.integers(len(WRAPPERS)))]
            k = w.index("{}")
            text = w.format(text)
            spans = [[s + k, e + k, c] for s, e, c in spans]
        rows.append({"id": f"fresh12-{seed}-{i}", "lang": "zh", "kind": kind, "text": text,
                     "spans": spans})
        used.append(frame)
        persons.extend(people)
    return rows, used, persons


def build(n: int = 6000, seed: int = 0) -> list[dict]:
    """`n` Chinese snippets in the shares of KINDS (see the module docstring)."""
    return draw(n, seed)[0]
