"""Held-out evaluation of the gateway detectors on independently generated snippets.

    python benchmarks/gateway_heldout.py [--n 3000] [--seeds 1001,...,1005]
                                         [--unseen|--fresh|--fresh2|--fresh3|--fresh4|--fresh5
                                          |--fresh6|--fresh7|--fresh8|--fresh9|--fresh10
                                          |--fresh11|--fresh12]
                                         [--errors 0]

The snippets come from yinji.testing.gateway_eval (own surname, given-name and template lists;
nothing from the detectors). Per category and per draw: precision and recall with span overlap,
and for persons also "whole" recall — the prediction covers the entire name, so no character of
it reaches the upstream (a cut name such as [PERSON_1]豪 counts as a miss there). Persons are
split by script: person_zh (Han characters) and person_en (Latin). Prints mean, min and max over
the draws. `--fresh2` draws from yinji.testing.gateway_eval2, written after the last change to
the detectors with its own name lists and templates (Chinese snippets only); `--fresh3`, its
third set, after the last change (which read --fresh2's seed-0 misses), measured once.
`--fresh4` draws from yinji.testing.gateway_eval3, written without reading or running the
detectors (issue #16): own names (rare and compound surnames, dotted and Hong Kong names,
traditional characters), own securities/fund/futures templates, e-mails too. Measured once,
on main 5e3f778 (--seeds 0,1,2, n 3000): person_zh precision 0.933 [0.928-0.936], recall 0.776
[0.760-0.787], whole 0.745; person_en precision 1.000, recall 0.701; mobile, id_number, email
1.000 / 1.000. Its misses were not printed or read. With round 3's CRF, traditional-character
and dotted names (branch wt-namescrf, measured once after its last change, seeds 0,1,2):
person_zh precision 0.959 [0.957-0.963], recall 0.969 [0.966-0.972], whole 0.956
[0.953-0.960]; with --rules-only 0.952 / 0.955 / 0.938; other categories unchanged.
`--fresh5` draws from yinji.testing.gateway_eval4 (6,000 snippets per draw unless --n says
otherwise), written for issue #16's bar while the detectors were being changed, by an engineer
who did not read the detectors, their word lists, the CRF or its training data and did not run
them on it: own name lists (Zipf-weighted common, rare, compound and word-like surnames and
given names, dotted, surname-less, English and Hong Kong names, married four-character names),
own broker/fund/futures/Hong Kong templates (traditional characters, Cantonese) and hard
negatives. A bare surname with a title (陳生, 王总) is not gold and occurs in ~2.6% of rows.
Measured once on main before round 4 (person_zh precision 0.890, recall 0.899) and once after
its last change (0.908 [0.905-0.911] / 0.910 [0.905-0.915], whole 0.873; seeds 0,1,2). Round 5
used it as a development set (errors of seeds 0-2 read, of 3-5 not): 0.973 / 0.953, whole
0.948 (seeds 0,1,2); 0.974 / 0.950, whole 0.945 (seeds 3,4,5).
`--fresh6` draws from yinji.testing.gateway_eval5 (6,000 snippets per draw unless --n says
otherwise), written for issue #16's bar while another engineer tuned the detectors on the
earlier sets, by an engineer who did not read the detectors, their word lists, the CRF, its
training/dev data or the earlier sets' bodies, and did not run any detector on it: own name
lists (Zipf-weighted common, rare and function-word surnames, compound, word-like, literary,
dotted ·/•/・, surname-less, Japanese, married and Hong Kong names, Latin names), own broker,
fund, futures and Hong Kong templates (margin calls, suitability, IPO, research lists, trader
chat, video verification, anti-fraud call-backs, minutes, traditional-character letters, mixed
Chinese/English e-mail, OCR'd forms with spaces inside names) and hard negatives (马应龙, 王府井,
何文田, 黃大仙, 高明/周全 as words). A bare surname with a title (王总, 陳生, 老李) is marked
person_title (ignored). Measured once before and once after round 5; a development set in
round 6 (docs/gateway.md).
`--fresh7` draws from yinji.testing.gateway_eval6 (6,000 snippets per draw unless --n says
otherwise), written for issue #16's bar while another engineer tuned the detectors on the
earlier sets (--fresh .. --fresh6), by an engineer who did not read, grep or run anything under
src/yinji/gateway (detectors, word lists, CRF), the CRF's training/dev data or the earlier sets'
bodies, and did not run this script on it: own name lists (Zipf-weighted common, rare and
compound surnames, word-like given names 王平安, whole-word names 石磊, double-surname, dotted
·/•/・, traditional, Hong Kong married 陳黃美玲 and Latin names), ~370 own sentence frames
(complaints, KYC refreshes, suspicious-transaction reports, wealth-manager chat, call-centre
transcripts, minutes, HR notices, audit findings, legal notices, executive news, futures margin
calls, traditional-character letters and Cantonese, mixed e-mail with signatures, OCR'd forms
with spaces inside names, flattened tables) and hard negatives (平安银行, 万科A, 李子园, 周大福,
康美药业, 高度/周期/黄金/于是). Marks person_title (ignored) and account numbers (资金账号,
交易编码, 客户号: masking them counts as a false positive of category account). Measured once
before and once after round 6, errors not read (docs/gateway.md).
`--fresh8` draws from yinji.testing.gateway_eval7 (6,000 snippets per draw unless --n says
otherwise), written for issue #16's bar while another engineer tuned the detectors on the
earlier sets (--fresh .. --fresh7), by an engineer who did not read, grep or run anything under
src/yinji/gateway (detectors, word lists, CRF), the CRF's training/dev data or the earlier sets'
bodies (only gateway_eval6's docstring, `build` signature and row format), and who did not run
this script on it: own name lists (Zipf-weighted common, rare and compound surnames, word-like
given and whole names 王平安/高明, double surnames, siblings sharing a generation character,
minors, dotted ·/•/・, traditional and Hong Kong married names 陳黃美玲, Latin names, names
spaced by OCR), 393 own frames (suitability questionnaires, margin calls, delivery notices,
subscription/redemption confirmations, resolutions, related-party disclosures, HR notices,
judgements and enforcement notices, anti-fraud hotline logs, trading-desk chat and voice mail,
Cantonese and traditional letters, mixed e-mail with signatures, OCR'd forms, flattened tables,
news, obituaries, donor lists) and hard negatives (平安银行, 万科A, person-named brands inside
company names 李宁体育用品/王老吉/曹操出行, streets 中山北路, role words, 高度/周期/黄金/于是,
Chinese-numeral dates and amounts, pinyin initials). Marks person_title (ignored) and account
numbers (资金账号, 交易编码, 客户号, 银行卡号, 证券账户). Measured once before and once after
round 7, errors not read (docs/gateway.md); a development set since round 8 (errors of seeds
0-2 read, the CRF trained on other draws of it).
`--fresh9` draws from yinji.testing.gateway_eval8 (6,000 snippets per draw unless --n says
otherwise), written for issue #16's bar while another engineer tuned the detectors on the
earlier sets (--fresh .. --fresh8), by an engineer who did not read, grep or run anything under
src/yinji/gateway (detectors, word lists, CRF), the CRF's training/dev data and tools,
docs/gateway.md or the earlier sets' bodies (only gateway_eval7's docstring, `build` signature and
row format), and who did not run this script on it: own name lists (Zipf-weighted common, ~340
rare and ~40 compound surnames, two parents' surnames 张杨子涵, word-like given and whole names
王建设/高明, Uyghur, Kazakh and transliterated names with ·/•/・, Tibetan and Mongolian names
without a surname, Japanese, Korean, Malaysian, Hong Kong/Taiwan/Macau and married 陳黃美玲
names, Latin names, names spaced by OCR), ~400 own frames (customer-service tickets, call-centre
summaries, KYC re-verification and account-opening reviews, allotment lists, dividend and
corporate-action notices, audit findings, IT change tickets and on-call handovers, minutes and
sign-in sheets, complaint letters, regulator inquiries and replies, expense claims, performance
reviews, research author lines, roadshows, sales-team WeChat chat and greetings, Cantonese and
traditional letters, mixed e-mail, OCR'd forms, flattened tables) and hard negatives (stocks,
funds, branches, streets 欧阳路, person-named brands 李宁/王老吉/张小泉 and places 孙中山故居 --
not gold --, role words, 高度/周期/于是/万一, nicknames, Chinese-numeral dates and amounts).
Marks person_title (ignored) and account numbers (资金账号, 交易编码, 客户号, 银行卡号, 证券账户).
Judged rounds 7 and 8 once each; a development set of rounds 9 and 10 (docs/gateway.md).
`--fresh10` draws from yinji.testing.gateway_eval9 (6,000 snippets per draw unless --n says
otherwise), written for issue #16's bar while another engineer tuned the detectors on the
earlier sets (--fresh .. --fresh9), by an engineer who did not read, grep or run anything under
src/yinji/gateway (detectors, word lists, CRF), the CRF's training/dev data and tools,
docs/gateway.md or the earlier sets' bodies (only gateway_eval8's docstring, `build` signature and
row format), and who did not run this script on it: own name lists (Zipf-weighted common, ~250
rare and 40 compound surnames, two parents' surnames, word-like given and whole names, Uyghur/
Kazakh and transliterated names with ·/•/・, Tibetan and Mongolian names, Japanese, Korean, Hong
Kong/Taiwan and married names, Malaysian/Singaporean names with their romanisation, Latin names,
English given name + Chinese name -- only the Chinese name is gold --, names spaced by OCR), ~350
own frames weighted to text the earlier sets probably under-covered (unpunctuated speech-to-text
of recorded sales calls and 双录 scripts, bank transfer and statement lines, annual-report
biographies, top-ten holder tables, fund-manager changes, resolutions, litigation, HR and OA
approval flows, referral records, IR Q&A, executive news, inheritance and non-trading transfers,
powers of attorney and guardian forms, hasty CRM notes, SMS, e-mail threads with quotes and
signatures) and hard negatives (stocks, funds, branches, streets, person-named brands 张飞牛肉/
孔府家酒/曹操出行 -- not gold --, role words, words such as 高度/华丽, Chinese-numeral dates and
amounts). Marks person_title (ignored) and account numbers (资金账号, 交易编码, 客户号, 银行卡号,
证券账户). Judged round 8 and round 9 (person_zh 0.968 / 0.962, seeds 0-2); a development set of
round 10 (docs/gateway.md).
`--fresh11` draws from yinji.testing.gateway_eval10 (6,000 snippets per draw unless --n says
otherwise), written for issue #16's bar while another engineer tuned the detectors on the
earlier sets (--fresh .. --fresh10), by an engineer who did not read, grep or run anything under
src/yinji/gateway (detectors, word lists, CRF), the CRF's training/dev data and tools,
docs/gateway.md or the earlier sets' bodies (only gateway_eval9's docstring, `build` signature and
row format), and who did not run this script on it: a realistic mix of what risk, compliance,
wealth-management, operations and IT staff of a securities/fund/futures/Hong Kong broker paste
into an LLM assistant (mostly e-mails and chat, then work notes, reports and flattened tables,
forms and letters, Hong Kong Cantonese/traditional text, OCR'd forms; a quarter of the name rows
wrapped in the user's instruction), 386 own frames, own name lists (Zipf-weighted common, 334
rare and 36 compound surnames, word-like given and whole names, two parents' surnames, dotted
·/•/・, Tibetan/Mongolian/Japanese/Korean, Hong Kong traditional and married names, Latin names,
names spaced by OCR; first mention full, later surname + title) and hard negatives (firms,
funds, stocks 李宁/周大福/马应龙, branches, streets, person-named brands 王老吉/曹操出行/张飞牛肉
and places 中山公园 -- not gold --, role words, 高度/周期/于是/余额, Chinese-numeral dates and
amounts). Marks person_title (ignored) and account numbers (资金账号, 交易编码, 客户号, 银行卡号,
证券账户). Judged round 9 (0.994 / 0.975) and round 10 (0.991 / 0.990, seeds 0-2; errors not
read; docs/gateway.md).
`--fresh12` draws from yinji.testing.gateway_eval11 (6,000 snippets per draw unless --n says
otherwise), written for issue #16's bar while another engineer tuned the detectors on the
earlier sets (--fresh .. --fresh11), by an engineer who did not read, grep or run anything under
src/yinji/gateway (detectors, word lists, CRF), the CRF's training/dev data and tools,
docs/gateway.md or the earlier sets' bodies (only gateway_eval10's docstring, `build` signature
and row format), and who did not run this script on it: two thirds a realistic mix of what
risk, compliance, wealth-management, operations and IT staff paste into an LLM assistant
(e-mails, chat, work notes, reports, forms; bare surname + title rows, identifier-only rows,
hard negatives; some wrapped in the user's instruction), one third rarer, harder text
(unpunctuated speech-to-text, bank statement lines, OCR'd forms with spaced names, flattened
tables, annual-report biographies, court papers, Hong Kong Cantonese/traditional text, Uyghur,
Tibetan, Mongolian, Japanese, Korean and Malaysian names), 368 own frames and own name lists.
Marks person_title (ignored) and account numbers (资金账号, 交易编码, 客户号, 银行卡号,
证券账户). Judged round 10, unchanged since --fresh11 judged it (0.977 / 0.976, seeds 0-2;
person_zh errors not read; docs/gateway.md).
`--rules-only` turns the CRF off (names_zh model=False); `--model PATH` tags with another CRF
file (tools/name_loso.py: leave-one-set-out models).
"""

from __future__ import annotations

import argparse
import statistics
from collections import Counter

from yinji.gateway.detectors import name_model
from yinji.gateway.detectors.engine import DetectorEngine
from yinji.gateway.detectors.names_zh import ChineseNameDetector
from yinji.testing import (
    gateway_eval2,
    gateway_eval3,
    gateway_eval4,
    gateway_eval5,
    gateway_eval6,
    gateway_eval7,
    gateway_eval8,
    gateway_eval9,
    gateway_eval10,
    gateway_eval11,
)
from yinji.testing.gateway_eval import HELD_OUT_SEEDS, build

# Spans an evaluation set marks as neither required nor wrong to mask (a bare surname with a
# title, 陳生/王總: a reference to a person, masked by a privacy-conservative detector or not):
# a prediction overlapping one is not scored.
IGNORED = {"person_title"}

# The sets written independently for issue #16, by flag: the generator and what it is.
INDEPENDENT_SETS = {
    "fresh4": (gateway_eval3, "snippets of gateway_eval3: written without reading the detectors"),
    "fresh5": (gateway_eval4, "snippets of gateway_eval4: written independently for issue #16 "
                              "(docstring: when it was measured)"),
    **{f"fresh{k}": (module, f"snippets of {module.__name__.rsplit('.', 1)[1]}: written "
                             f"independently for issue #16 while the detectors were tuned on "
                             f"--fresh..--fresh{k - 1} (docstring: when it judged a round)")
       for k, module in ((6, gateway_eval5), (7, gateway_eval6), (8, gateway_eval7),
                         (9, gateway_eval8), (10, gateway_eval9), (11, gateway_eval10),
                         (12, gateway_eval11))},
}


def _cat(cat: str, value: str) -> str:
    if cat != "person":
        return cat
    return "person_zh" if any("\u4e00" <= ch <= "\u9fff" for ch in value) else "person_en"


def score(rows: list[dict], engine: DetectorEngine) -> tuple[dict[str, dict[str, float]], list]:
    """Per category: precision, recall (overlap) and whole (gold span fully covered)."""
    tp, fp, fn, whole = Counter(), Counter(), Counter(), Counter()
    errors = []
    for row in rows:
        text = row["text"]
        gold = [tuple(s) for s in row["spans"] if s[2] not in IGNORED]
        spared = [(s, e) for s, e, c in row["spans"] if c in IGNORED]
        pred = [(d.start, d.end, d.category) for d in engine.detect(text)
                if not any(d.start < ie and i_s < d.end for i_s, ie in spared)]
        used: set[int] = set()
        for s, e, c in pred:
            hit = next((i for i, (gs, ge, gc) in enumerate(gold)
                        if gc == c and s < ge and gs < e and i not in used), None)
            if hit is None:
                fp[_cat(c, text[s:e])] += 1
                errors.append(("FP", c, text[s:e], text))
            else:
                used.add(hit)
                gs, ge, gc = gold[hit]
                k = _cat(gc, text[gs:ge])
                tp[k] += 1
                covered = all(any(ps <= j < pe for ps, pe, pc in pred if pc == gc)
                              for j in range(gs, ge) if not text[j].isspace())
                whole[k] += covered
                if not covered:
                    errors.append(("CUT", gc, text[gs:ge], text))
        for i, (gs, ge, gc) in enumerate(gold):
            if i not in used:
                fn[_cat(gc, text[gs:ge])] += 1
                errors.append(("FN", gc, text[gs:ge], text))
    out = {}
    for c in sorted(set(tp) | set(fp) | set(fn)):
        out[c] = {
            "gold": tp[c] + fn[c],
            "precision": tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else float("nan"),
            "recall": tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else float("nan"),
            "whole": whole[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else float("nan"),
            "fp": fp[c],
        }
    return out, errors


def _spread(xs: list[float]) -> str:
    return f"{statistics.mean(xs):.3f} [{min(xs):.3f}-{max(xs):.3f}]"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=None,
                    help="snippets per draw (3000; --fresh5 .. --fresh12 6000)")
    ap.add_argument("--seeds", default=",".join(map(str, HELD_OUT_SEEDS)))
    ap.add_argument("--unseen", action="store_true",
                    help="Chinese snippets from the templates written after tuning")
    ap.add_argument("--fresh", action="store_true",
                    help="Chinese snippets from the templates written last, never tuned on")
    ap.add_argument("--fresh2", action="store_true",
                    help="snippets of gateway_eval2: own names and templates, written last")
    ap.add_argument("--fresh3", action="store_true",
                    help="gateway_eval2's third set, written after the last detector change")
    for flag, (_, help_text) in INDEPENDENT_SETS.items():
        ap.add_argument(f"--{flag}", action="store_true", help=help_text)
    ap.add_argument("--errors", type=int, default=0, help="print this many errors per draw")
    ap.add_argument("--rules-only", action="store_true",
                    help="Chinese names without the CRF's opinion (names_zh model=False)")
    ap.add_argument("--model", default=None,
                    help="a CRF model file instead of the shipped one (tools/name_loso.py)")
    a = ap.parse_args()
    if a.model:
        name_model.use_model(a.model)
    chosen = next((flag for flag in INDEPENDENT_SETS if getattr(a, flag)), None)
    module = INDEPENDENT_SETS[chosen][0] if chosen else None
    if a.n is None:
        a.n = 6000 if chosen not in (None, "fresh4") else 3000
    engine = DetectorEngine()
    if a.rules_only:
        for det in engine.detectors:
            if isinstance(det, ChineseNameDetector):
                det.model = False
    engine.warm_up()
    seeds = [int(s) for s in a.seeds.split(",")]
    per: dict[str, list[dict[str, float]]] = {}
    for seed in seeds:
        rows = (module.build(a.n, seed) if module is not None
                else gateway_eval2.build(a.n, seed, a.fresh3) if a.fresh2 or a.fresh3
                else build(a.n, seed, a.unseen, a.fresh))
        res, errors = score(rows, engine)
        for c, v in res.items():
            per.setdefault(c, []).append(v)
        for err in errors[:a.errors]:
            print(seed, *err)
    kind = (module.__name__.rsplit(".", 1)[1] if module is not None
            else "gateway_eval2, third set" if a.fresh3 else "gateway_eval2" if a.fresh2
            else "fresh templates" if a.fresh else "second templates" if a.unseen
            else "tuning templates")
    print(f"Held-out draws ({kind}): seeds {seeds}, {a.n} snippets each; mean [min-max] over draws")
    print(f"{'category':<11}{'gold/draw':>10}  {'precision':<22}{'recall':<22}{'whole-name recall':<22}")
    for c, vs in per.items():
        gold = statistics.mean(v["gold"] for v in vs)
        whole = _spread([v["whole"] for v in vs]) if c.startswith("person") else ""
        print(f"{c:<11}{gold:>10.0f}  {_spread([v['precision'] for v in vs]):<22}"
              f"{_spread([v['recall'] for v in vs]):<22}{whole:<22}")


if __name__ == "__main__":
    main()
