"""Train the gateway's Chinese-name CRF on generated text and print the model's SHA-256.

    PYTHONPATH=src python tools/train_name_crf.py [--n 30000] [--seed 20261206] [--out PATH]

The text comes from yinji.testing.name_train (own lists and templates, hard negatives from
jieba's dictionary; never the evaluation generators). CRFsuite's L-BFGS training is deterministic for the same data and parameters, so
the same seed gives the same model file. Put the printed SHA-256 into name_model.MODEL_SHA256.
"""

from __future__ import annotations

import argparse
import hashlib
import time
from pathlib import Path

import pycrfsuite

from yinji.gateway.detectors.name_model import MODEL_FILE, features
from yinji.gateway.detectors.names_zh import _lexicon, _tagger
from yinji.testing.name_train import build

OUT = Path(__file__).resolve().parents[1] / "src/yinji/gateway/detectors/data" / MODEL_FILE


def labels(text: str, spans: list[tuple[int, int]]) -> list[str]:
    y = ["O"] * len(text)
    for s, e in spans:
        y[s] = "B"
        for j in range(s + 1, e):
            y[j] = "I"
    return y


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=30000)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--iterations", type=int, default=150)
    ap.add_argument("--out", type=Path, default=OUT)
    a = ap.parse_args()
    t0 = time.perf_counter()
    trainer = pycrfsuite.Trainer(verbose=False)
    common = _lexicon()[0]  # jieba's ordinary words, as the detector passes them
    tags = _tagger().word_tag_tab  # hard negatives never a word jieba tags as a person (余秋雨)
    negatives = frozenset(w for w in common if not tags.get(w, "").startswith("nr"))
    chars = names = 0
    for text, spans in build(a.n, a.seed, negatives):
        trainer.append(features(text, common), labels(text, spans))
        chars += len(text)
        names += len(spans)
    print(f"corpus: {a.n} snippets, {chars} characters, {names} names")
    trainer.set_params({"c1": 0.05, "c2": 0.01, "max_iterations": a.iterations,
                        "feature.minfreq": 2, "feature.possible_transitions": True})
    a.out.parent.mkdir(parents=True, exist_ok=True)
    trainer.train(str(a.out))
    data = a.out.read_bytes()
    print(f"{a.out} {len(data) / 1e6:.2f} MB in {time.perf_counter() - t0:.0f} s")
    print("sha256", hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    main()
