"""Train the gateway's Chinese-name CRF on generated text and print the model's SHA-256.

    PYTHONPATH=src python tools/train_name_crf.py [--n 30000] [--seed 20261206] [--out PATH]
        [--dev fresh4,fresh5,fresh6,fresh7,fresh8] [--dev-n 6000] [--dev-seed 7001]
        [--c1 0.05] [--c2 0.01]

The text comes from yinji.testing.name_train (own lists and templates, hard negatives from
jieba's dictionary) and, with --dev, from the development sets' generators (benchmarks/
gateway_heldout.py --fresh4 .. --fresh8 = yinji.testing.gateway_eval3 .. gateway_eval7) drawn
with their own seeds (--dev-seed, never the evaluation seeds 0-5): their Han person spans are
the names, read as the detector reads them (traditional characters through OpenCC, OCR'd gaps
removed). The judging set is never used. CRFsuite's L-BFGS training is deterministic for the
same data and parameters, so the same arguments give the same model file. Put the printed
SHA-256 into name_model.MODEL_SHA256. tools/name_loso.py trains leave-one-set-out models.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pycrfsuite

from yinji.gateway.detectors.name_model import MODEL_FILE, features
from yinji.gateway.detectors.zh_text import _collapsed, _simplified
from yinji.gateway.detectors.zh_words import _lexicon, _tagger
from yinji.testing.name_train import build

OUT = Path(__file__).resolve().parents[1] / "src/yinji/gateway/detectors/data" / MODEL_FILE
DEV_SETS = ("fresh4", "fresh5", "fresh6", "fresh7", "fresh8")


def labels(text: str, spans: list[tuple[int, int]]) -> list[str]:
    y = ["O"] * len(text)
    for s, e in spans:
        y[s] = "B"
        for j in range(s + 1, e):
            y[j] = "I"
    return y


def _dev_rows(name: str, n: int, seed: int) -> list[dict]:
    from yinji.testing import (
        gateway_eval3,
        gateway_eval4,
        gateway_eval5,
        gateway_eval6,
        gateway_eval7,
    )

    gen = {"fresh4": gateway_eval3, "fresh5": gateway_eval4, "fresh6": gateway_eval5,
           "fresh7": gateway_eval6, "fresh8": gateway_eval7}[name]
    return gen.build(n, seed)


def dev_corpus(name: str, n: int, seed: int, common: frozenset[str]
               ) -> Iterator[tuple[str, list[tuple[int, int]]]]:
    """A development set's rows as the detector's model reads them: simplified, OCR gaps
    removed (offsets mapped), one (line, name spans) pair per line that holds Han text; a
    person span is a name if it holds a Han character (Latin names and person_title are O)."""
    for row in _dev_rows(name, n, seed):
        text = _simplified(row["text"])
        gold = [(s, e) for s, e, c in row["spans"]
                if c == "person" and any("\u4e00" <= ch <= "\u9fff" for ch in text[s:e])]
        flat = _collapsed(text, common)
        if flat is not None:
            text, where = flat
            back = {o: i for i, o in enumerate(where)}
            mapped = []
            for s, e in gold:
                idx = [back[k] for k in range(s, e) if k in back]
                if idx:
                    mapped.append((idx[0], idx[-1] + 1))
            gold = mapped
        pos = 0
        for line in text.split("\n"):
            end = pos + len(line)
            inside = [(s - pos, e - pos) for s, e in gold if pos <= s and e <= end]
            # (a name with a space left inside is labelled over the space too)
            if line.strip():
                yield line, inside
            pos = end + 1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30000)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--iterations", type=int, default=150)
    ap.add_argument("--dev", default="", help="comma-separated dev sets: " + ",".join(DEV_SETS))
    ap.add_argument("--dev-n", type=int, default=6000, help="rows drawn per dev set")
    ap.add_argument("--dev-seed", type=int, default=7001)
    ap.add_argument("--c1", type=float, default=0.05)
    ap.add_argument("--c2", type=float, default=0.01)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    t0 = time.perf_counter()
    trainer = pycrfsuite.Trainer(verbose=False)
    common = _lexicon()[0]  # jieba's ordinary words, as the detector passes them
    tags = _tagger().word_tag_tab  # hard negatives never a word jieba tags as a person (余秋雨)
    negatives = frozenset(w for w in common if not tags.get(w, "").startswith("nr"))
    chars = names = lines = 0
    corpus: list[Iterator[tuple[str, list[tuple[int, int]]]]] = [
        iter(build(a.n, a.seed, negatives))]
    for name in filter(None, a.dev.split(",")):
        if name not in DEV_SETS:
            raise SystemExit(f"--dev: unknown set {name!r} (one of {', '.join(DEV_SETS)})")
        corpus.append(dev_corpus(name, a.dev_n, a.dev_seed, common))
    for part in corpus:
        for text, spans in part:
            trainer.append(features(text, common), labels(text, spans))
            chars += len(text)
            names += len(spans)
            lines += 1
    print(f"corpus: {lines} snippets/lines ({a.n} name_train, dev {a.dev or 'none'} x {a.dev_n}), "
          f"{chars} characters, {names} names")
    trainer.set_params({"c1": a.c1, "c2": a.c2, "max_iterations": a.iterations,
                        "feature.minfreq": 2, "feature.possible_transitions": True})
    a.out.parent.mkdir(parents=True, exist_ok=True)
    trainer.train(str(a.out))
    data = a.out.read_bytes()
    print(f"{a.out} {len(data) / 1e6:.2f} MB in {time.perf_counter() - t0:.0f} s")
    print("sha256", hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    main()
