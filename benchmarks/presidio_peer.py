"""Run Microsoft Presidio on texts from stdin (JSON list); print spans as JSON (side venv only).

Invoked by benchmarks/gateway.py with benchmarks/.peers/presidio/bin/python. Without an
installed spaCy English model it uses a blank pipeline (pattern recognizers only).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import spacy
from presidio_analyzer import AnalyzerEngine
from presidio_analyzer.nlp_engine import NlpEngineProvider

MAP = {"PERSON": "person", "EMAIL_ADDRESS": "email", "PHONE_NUMBER": "phone",
       "CREDIT_CARD": "bank_card", "LOCATION": "address", "US_PASSPORT": "passport",
       "US_BANK_NUMBER": "account", "IBAN_CODE": "account"}


def engine() -> tuple[AnalyzerEngine, str]:
    try:
        spacy.load("en_core_web_sm")
        model = "en_core_web_sm"
    except OSError:
        path = Path(__file__).parent / ".peers" / "blank_en"
        if not path.exists():
            spacy.blank("en").to_disk(path)
        model = str(path)
    conf = {"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": model}]}
    nlp = NlpEngineProvider(nlp_configuration=conf).create_engine()
    return AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"]), model


def main() -> None:
    texts = json.load(sys.stdin)
    an, model = engine()
    out = []
    for t in texts:
        res = an.analyze(text=t, language="en", score_threshold=0.4)
        out.append([[r.start, r.end, MAP[r.entity_type]] for r in res if r.entity_type in MAP])
    json.dump({"model": model, "spans": out}, sys.stdout)


if __name__ == "__main__":
    main()
