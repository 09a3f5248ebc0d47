"""Precision / recall of the gateway detectors on a labelled corpus (span overlap + category).

A predicted span is a true positive when it overlaps a gold span of the same category (each gold
span counted once); persons are reported separately for Chinese and English snippets.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from yinji.gateway.detectors.base import PERSON
from yinji.gateway.detectors.engine import DetectorEngine

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "data" / "gateway_corpus.jsonl"


def load(path: Path = CORPUS) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _cat(cat: str, lang: str) -> str:
    return f"{cat}_{lang}" if cat == PERSON else cat


def score(rows: list[dict], predict) -> tuple[Counter, Counter, Counter, list]:  # noqa: ANN001
    """`predict(text) -> [(start, end, category)]`; returns tp, fp, fn counters and errors."""
    tp, fp, fn = Counter(), Counter(), Counter()
    errors = []
    for row in rows:
        text, gold = row["text"], [tuple(s) for s in row["spans"]]
        pred = predict(text)
        used = set()
        for s, e, c in pred:
            hit = next((i for i, (gs, ge, gc) in enumerate(gold)
                        if gc == c and s < ge and gs < e and i not in used), None)
            if hit is None:
                fp[_cat(c, row["lang"])] += 1
                errors.append(("FP", c, text[s:e], row["id"]))
            else:
                used.add(hit)
                tp[_cat(c, row["lang"])] += 1
        for i, (gs, ge, gc) in enumerate(gold):
            if i not in used:
                fn[_cat(gc, row["lang"])] += 1
                errors.append(("FN", gc, text[gs:ge], row["id"]))
    return tp, fp, fn, errors


def yinji_predict(engine: DetectorEngine | None = None):  # noqa: ANN201
    engine = engine or DetectorEngine()
    return lambda text: [(d.start, d.end, d.category) for d in engine.detect(text)]


def table(tp: Counter, fp: Counter, fn: Counter) -> list[tuple[str, int, float, float]]:
    rows = []
    for c in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[c] / (tp[c] + fp[c]) if tp[c] + fp[c] else float("nan")
        r = tp[c] / (tp[c] + fn[c]) if tp[c] + fn[c] else float("nan")
        rows.append((c, tp[c] + fn[c], p, r))
    T, F, N = sum(tp.values()), sum(fp.values()), sum(fn.values())
    rows.append(("overall", T + N, T / (T + F) if T + F else float("nan"),
                 T / (T + N) if T + N else float("nan")))
    return rows
