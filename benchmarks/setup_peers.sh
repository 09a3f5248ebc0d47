#!/usr/bin/env bash
# Side venv with Microsoft Presidio for the comparison in benchmarks/gateway.py (never a runtime
# dependency). Presidio's analyzer needs a spaCy pipeline; the official en_core_web_* models are
# not published on PyPI, so unless one is installed we fall back to a blank English pipeline
# (Presidio's pattern recognizers work; its NER-based PERSON/LOCATION recognizers do not).
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3.11}
$PY -m venv .peers/presidio
.peers/presidio/bin/pip install --quiet --upgrade pip
.peers/presidio/bin/pip install --quiet presidio-analyzer presidio-anonymizer
.peers/presidio/bin/pip install --quiet en_core_web_sm 2>/dev/null \
  && echo "installed en_core_web_sm" \
  || echo "en_core_web_sm is not on PyPI here: Presidio will run with a blank spaCy pipeline"
