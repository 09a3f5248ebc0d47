"""An eleventh, independently written evaluation set for the gateway's Chinese-name detection (#16).

Why: issue #16's bar (Chinese-name recall >= 0.97, precision >= 0.95) must hold on text the
detectors were not tuned on, and every earlier set (gateway_eval .. gateway_eval9, --fresh ..
--fresh10) has been read or tuned on. This one was written while another engineer tuned the
detectors on those sets, by an engineer who did not read, grep or run anything under
src/yinji/gateway (detectors, word lists, CRF), the CRF's training/dev data and tools,
docs/gateway.md or the earlier sets' bodies (only gateway_eval9's docstring, `build` signature
and row format), and who did not run any detector on it (`benchmarks/gateway_heldout.py
--fresh11`). Names, fillers and frames come from general knowledge (gateway_eval10_names,
gateway_eval10_fill, gateway_eval10_frames_a/b/c/d).

What a draw holds: a realistic mix of what risk, compliance, wealth-management, operations and
IT staff of a securities / fund / futures / Hong Kong broker paste into an LLM assistant in a
working week, in rough proportion: `mail` e-mails and threads, `chat` WeChat/企业微信 messages
and group chat, `note` work notes, call and visit notes, minutes, `report` reports, flattened
tables and logs, `form` forms and letters, `trad` Hong Kong / Macau text (traditional,
Cantonese, married names), `ocr` scanned forms (Han names spaced, the span keeps its spaces),
`title` bare surnames with a title only, `pii` identifiers and account numbers without a name,
`negative` no span at all (firms, funds, stocks, branches, streets, person-named brands, role
words, words starting with a surname character, Chinese-numeral dates and amounts). About a
quarter of the rows of the first six kinds carry the user's instruction around the pasted text
(请帮我总结以下邮件：...; 18% of all rows).

Make-up (shares of `KINDS`; tests/gateway/test_eval10.py checks them and the frames): mail 20%,
chat 18%, note 12%, report 10%, form 8%, trad 7%, ocr 3%, title 6%, pii 5%, negative 11%.
`FRAMES` holds 386 frames (64 mail, 68 chat, 50 note, 40 report, 33 form, 30 trad, 10 ocr, 22
title, 15 pii, 54 negative); a 6,000-row draw uses every one. A draw (seeds 0-2) has ~78% of rows
with a Han name, ~3% with a Latin one, ~15% with a bare surname + title, ~7% with an account
number, ~18% with a mobile, ID number or e-mail, ~28% with three or more person spans; texts of
median 44 characters (up to ~240). ~10,900 person spans: ~17% two-, ~68% three-, ~9%
four-character Han names, ~5% dotted, ~2% Latin; ~270 of the Han names spaced by OCR. By name
type (distinct people): common surname + two-character given name 44%, + one character 11%,
rare surname 11%, traditional Hong Kong 6%, word-like 6%, dotted 4%, compound surname 4%, two
parents' surnames 4%, Tibetan/Mongolian/Japanese/Korean 3%, OCR-spaced 3%, Latin 2%, Hong Kong
married 2%.

Names (gateway_eval10_names): Zipf-weighted common surnames (100), 334 rare and 36 compound ones,
one- and two-character given names, given names and whole names that are words (王建设, 高明),
two parents' surnames (张杨子涵), transliterated names with ·/•/・, Tibetan, Mongolian,
Japanese and Korean names, Hong Kong traditional and married names (陳黃美玲), Latin names
(gold; scored person_en), names spaced by OCR. First mentions are full names (person), later
ones often surname + title (person_title: 张经理, 陳生, 老李, 小王 -- ignored by the scorer).

Choices: a nickname (阿强, 强哥, Tony alone) is not gold; of "Tony 王志强" only 王志强 is. A
person's name inside a brand, product, stock, company or place name (李宁, 王老吉, 曹操出行,
张飞牛肉, 中山公园, 周大福) is NOT gold: it names the brand or place; historical figures never
occur as persons.

Spans: person (the name's characters only: 王建国先生 -> 王建国), person_title, mobile,
id_number (valid GB 11643 check character), email, account (资金账号 12 digits, 交易编码 8,
客户号 10, 银行卡号 16/19, 证券账户 A/0/B + 9: masking one is a false positive). Rows:
{"id": "fresh11-<seed>-<i>", "lang": "zh", "kind", "text", "spans": [[start, end, cat]]}.
Test data, not security: one seeded numpy Generator per draw.
"""

from __future__ import annotations

import re

import numpy as np

from yinji.testing import gateway_eval10_fill as fill
from yinji.testing.gateway_eval10_frames_a import FRAMES_A
from yinji.testing.gateway_eval10_frames_b import FRAMES_B
from yinji.testing.gateway_eval10_frames_c import FRAMES_C
from yinji.testing.gateway_eval10_frames_d import FRAMES_D
from yinji.testing.gateway_eval10_names import TRAD_SURNAMES, make_name, pick, surname

KINDS = {"mail": 0.20, "chat": 0.18, "note": 0.12, "report": 0.10, "form": 0.08, "trad": 0.07,
         "ocr": 0.03, "title": 0.06, "pii": 0.05, "negative": 0.11}
CATEGORIES = {"person", "person_title", "mobile", "id_number", "email", "account"}
FRAMES: list[tuple[str, str]] = FRAMES_A + FRAMES_B + FRAMES_C + FRAMES_D
PREFIXES = ("老", "小", "阿")

# The user's instruction around pasted text (no names in them).
WRAP = {
    "mail": ["请帮我总结以下邮件：\n", "帮我起草一封回复邮件，语气客气一些。原邮件如下：\n",
             "把下面这封邮件翻译成英文：\n", "下面这封邮件的要点是什么？需要我做什么？\n\n",
             "Please summarise this email in English:\n"],
    "chat": ["帮我把这段聊天记录整理成会议纪要：\n", "下面是群里的聊天，帮我提炼待办事项：\n",
             "帮我回复一下这条消息，简短点：\n", "总结一下这段对话：\n"],
    "note": ["把下面的记录改写成正式的工作汇报：\n", "请提取以下内容中的人名、电话和事项，输出JSON：\n",
             "帮我润色一下：\n", "请判断以下投诉属于哪一类（服务/交易/系统/销售适当性）：\n"],
    "report": ["帮我把这段报告压缩到100字以内：\n", "请把下表整理成Markdown表格：\n",
               "检查一下下面这段有没有错别字：\n", "请用英文改写以下段落：\n"],
    "form": ["请从以下材料中抽取字段（姓名、证件号、手机号）：\n", "帮我核对一下这份申请表的信息是否完整：\n",
             "把下面的函件改成更正式的公文格式：\n"],
    "trad": ["幫我翻譯成簡體中文：\n", "请把这段粤语翻译成普通话：\n", "Translate into English please:\n"],
}
SUFFIX = ["\n\n谢谢！", "\n\n尽量简洁。", "\n\n不要遗漏金额和日期。", ""]

_SLOT = re.compile(r"\{([^{}]+)\}")


def render(template: str, rng: np.random.Generator) -> tuple[str, list[list], list[str]]:
    """Fill a frame: {P1} / {P1|hk} person, {T1:经理} its surname + title, {T:总} any surname +
    title, {M} {I} {E} {A:zj} identifiers, {FIRM} etc. fillers, {~a|b} a choice. Returns the
    text, its spans and the name type (NAME_KINDS) of each distinct person."""
    people: dict[str, tuple[str, str]] = {}
    types: list[str] = []
    out: list[str] = []
    spans: list[list] = []
    pos = 0
    last = 0
    for m in _SLOT.finditer(template):
        out.append(template[last:m.start()])
        pos += m.start() - last
        last = m.end()
        body = m.group(1)
        cat = None
        if body in fill.FILL:
            text = fill.FILL[body](rng)
        elif body.startswith("~"):
            text = pick(rng, body[1:].split("|"))
        elif body[0] == "P":
            key, _, kind = body[1:].partition("|")
            if key not in people:
                text, sur, name_type = make_name(rng, kind or "zh")
                people[key] = (text, sur)
                types.append(name_type)
            text, cat = people[key][0], "person"
        elif body[0] == "T":
            head, _, title = body[1:].partition(":")
            key, _, kind = head.partition("|")
            title = pick(rng, title.split("/"))
            if key:
                if key not in people:
                    text, sur, name_type = make_name(rng, kind or "zh")
                    people[key] = (text, sur)
                    types.append(name_type)
                name, sur = people[key]
            else:
                name, sur = "", pick(rng, TRAD_SURNAMES) if kind == "hk" else surname(rng)
            if sur and " " not in name:
                text, cat = (title + sur if title in PREFIXES else sur + title), "person_title"
            else:  # no surname to use (扎西次仁, spaced OCR name): the full name again
                text, cat = name + ("" if title in PREFIXES else title), "person"
                spans.append([pos, pos + len(name), cat])
                cat = None
        elif body == "M":
            text, cat = fill.mobile(rng), "mobile"
        elif body == "I":
            text, cat = fill.id_number(rng), "id_number"
        elif body == "E":
            text, cat = fill.email(rng), "email"
        elif body.startswith("A:"):
            text, cat = fill.account(rng, body[2:]), "account"
        else:
            raise ValueError(f"unknown slot {{{body}}} in frame {template[:40]!r}")
        if cat:
            spans.append([pos, pos + len(text), cat])
        out.append(text)
        pos += len(text)
    out.append(template[last:])
    return "".join(out), spans, types


def draw(n: int = 6000, seed: int = 0) -> tuple[list[dict], list[str], list[list[str]]]:
    """The rows and, per row, the frame it came from and its people's name types (for the
    generator's tests and the make-up in the docstring)."""
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    by_kind: dict[str, list[str]] = {k: [] for k in KINDS}
    for kind, frame in FRAMES:
        by_kind[kind].append(frame)
    counts = {k: int(round(n * p)) for k, p in KINDS.items()}
    counts["mail"] += n - sum(counts.values())
    plan: list[tuple[str, str]] = []
    for kind, c in counts.items():
        frames = by_kind[kind]
        order: list[int] = []
        while len(order) < c:
            order.extend(int(i) for i in rng.permutation(len(frames)))
        plan.extend((kind, frames[i]) for i in order[:c])
    rows, used, kinds = [], [], []
    for i in rng.permutation(len(plan)):
        kind, frame = plan[int(i)]
        text, spans, types = render(frame, rng)
        if kind in WRAP and rng.random() < 0.25:
            head = pick(rng, WRAP[kind])
            spans = [[s + len(head), e + len(head), c] for s, e, c in spans]
            text = head + text + pick(rng, SUFFIX)
        rows.append({"id": f"fresh11-{seed}-{len(rows)}", "lang": "zh", "kind": kind,
                     "text": text, "spans": spans})
        used.append(frame)
        kinds.append(types)
    return rows, used, kinds


def build(n: int = 6000, seed: int = 0) -> list[dict]:
    """`n` Chinese snippets in the shares of KINDS (see the module docstring)."""
    return draw(n, seed)[0]
