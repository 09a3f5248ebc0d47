"""Model cards: what a model version was trained on, by whom, how well it does, what its
protocol leaks and who approved it, stored as `card.json` beside `model.json` in each
party's registry folder (`<root>/<name>/v<version>/`), and the label holder's model-health
report as `health.json` there; each party also keeps `baseline.json`, the bin edges and shares of its
own training features (and, at the label holder, of its validation scores), for later
PSI/CSI (`yinji.ml.health.psi_from_baseline`) without keeping the training rows.

Every party writes its own card from the public model metadata (datasets, ID and feature
columns, row counts, parties, protocol) and the job's signed approvals; only the label
holder's card holds metrics (its validation scores and labels never leave it, as the
metrics in `model.json`). Written atomically (a temporary file renamed into place); a card
is never required: models stored before cards existed simply have none.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from yinji.ml.registry import ModelMeta, ModelRegistry

CARD = "card.json"
HEALTH = "health.json"
BASELINE = "baseline.json"


def leakage_statement(doc: str | None) -> str:
    """The leakage statement of a protocol docstring: from the first "Leakage" (to the end
    of its paragraph) and the paragraphs right after it that start with "Leakage" or
    "Assisted mode" (SecureBoost's second mode), whitespace folded."""
    if not doc:
        return ""
    paras = [re.sub(r"\s+", " ", p).strip() for p in re.split(r"\n\s*\n", doc)]
    out: list[str] = []
    for p in paras:
        if not out and "Leakage" in p:
            out.append(p[p.index("Leakage"):])
        elif out and p.startswith(("Leakage", "Assisted mode")):
            out.append(p)
        elif out:
            break
    return "\n\n".join(out)


def build_card(meta: ModelMeta, *, protocol: str, leakage: str,
               approvals: Sequence[dict[str, Any]] = (),
               health: dict[str, Any] | None = None) -> dict[str, Any]:
    """A card from a model version's metadata; `health` (label holder only) adds the
    validation figures (AUC, Gini, KS, calibration)."""
    p = meta.params
    datasets, id_columns = p.get("datasets", {}), p.get("id_columns", {})
    inputs = p.get("inputs") or {}
    data = {party: {"dataset": datasets.get(party), "id_column": id_columns.get(party),
                    "features": list(feats),
                    **({"inputs": list(inputs[party])} if party in inputs else {}),
                    **({"label": p.get("label")} if party == meta.label_holder else {})}
            for party, feats in sorted(meta.features.items())}
    return {
        "model": meta.name, "version": meta.version, "kind": meta.kind, "protocol": protocol,
        "created": meta.created, "job_id": meta.job_id, "parties": list(meta.parties),
        "label_holder": meta.label_holder, "helpers": list(p.get("helpers") or []),
        "data": data,
        "rows": {"training": p.get("rows"), "validation": p.get("validation_rows")},
        "config": p.get("config", {}),
        "metrics": {**meta.metrics, **(health or {})},
        "leakage": leakage,
        "approvals": [_approval(a) for a in approvals],
        "written": time.time(),
    }


def card_table(card: dict[str, Any]) -> dict[str, Any]:
    """The card as a two-column report table (field, value), for the model report."""
    rows: list[list[Any]] = [
        ["model", f"{card['model']} v{card['version']} ({card['kind']}, {card['protocol']})"],
        ["training job", card.get("job_id", "")],
        ["parties", ", ".join(card["parties"]) + f"; label holder {card['label_holder']}"
         + (f"; helpers {', '.join(card['helpers'])}" if card.get("helpers") else "")],
        ["rows", f"{card['rows'].get('training')} training, "
                 f"{card['rows'].get('validation')} validation"]]
    for party, d in card["data"].items():
        label = f"; label {d['label']}" if d.get("label") else ""
        raw = f"columns {', '.join(d['inputs'])} -> " if d.get("inputs") else ""
        rows.append([f"data: {party}", f"dataset {d['dataset']}, ID column {d['id_column']}, "
                                       f"{raw}features {', '.join(d['features'])}{label}"])
    for k, v in sorted(card.get("metrics", {}).items()):
        rows.append([f"metric: {k}", v if v is None or isinstance(v, int | float) else str(v)])
    for a in card.get("approvals", []):
        rows.append([f"approval: {a['node']}", f"{a['decision']} at {a['at']} "
                                               f"({a['reason'] or 'no reason given'})"])
    imp = card.get("importance") or {}
    for g in imp.get("groups", []):
        rows.append([f"importance: {g['party']}'s features", f"total gain {g['gain']:.4g} "
                     f"({g['share']:.1%}), {g['splits']} splits" if g.get("share") is not None
                     else f"{g['splits']} splits"])
    for f in imp.get("features", []):
        gain = "n/a" if f["gain"] is None else f"{f['gain']:.4g}"
        rows.append([f"importance: {f['feature']}", f"total gain {gain}, {f['splits']} splits"])
    rows.append(["leakage", card.get("leakage", "")])
    return {"columns": ["field", "value"], "rows": rows}


def _approval(a: dict[str, Any]) -> dict[str, Any]:
    """One signed approval as the card shows it: node, decision, time, reason, hash."""
    record = a.get("record") or (json.loads(a["record_json"]) if a.get("record_json") else {})
    return {"node": a.get("node", record.get("node")),
            "decision": a.get("decision", record.get("decision")),
            "at": record.get("ts"), "reason": record.get("reason", ""),
            "approval_hash": a.get("hash", "")}


def _folder(registry: ModelRegistry, name: str, version: int) -> Path:
    d = registry._dir(name, version)
    if not (d / "model.json").exists():
        raise KeyError(f"no model {name!r} version {version} in {registry.root}")
    return d


def _write_json(path: Path, obj: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(obj, fh, indent=1, sort_keys=True, ensure_ascii=False, allow_nan=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def finite_json(obj: Any) -> Any:
    """JSON-safe: NaN and infinities as None."""
    if isinstance(obj, float):
        return obj if obj == obj and abs(obj) != float("inf") else None
    if isinstance(obj, dict):
        return {k: finite_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [finite_json(v) for v in obj]
    return obj


def write_card(registry: ModelRegistry, card: dict[str, Any],
               health_report: dict[str, Any] | None = None) -> Path:
    """Store `card.json` (and the label holder's `health.json`) in the version's folder."""
    d = _folder(registry, card["model"], card["version"])
    if health_report is not None:
        _write_json(d / HEALTH, finite_json(health_report))
    _write_json(d / CARD, finite_json(card))
    return d / CARD


def read_card(registry: ModelRegistry, name: str, version: int | None = None
              ) -> dict[str, Any] | None:
    """The card of a version (latest by default), or None if it has none."""
    vs = registry.versions(name)
    if not vs:
        raise KeyError(f"no model named {name!r}")
    f = _folder(registry, name, vs[-1] if version is None else version) / CARD
    return json.loads(f.read_text(encoding="utf-8")) if f.exists() else None


def read_health(registry: ModelRegistry, name: str, version: int | None = None
                ) -> dict[str, Any] | None:
    """The label holder's model-health report (Report JSON), or None."""
    vs = registry.versions(name)
    if not vs:
        raise KeyError(f"no model named {name!r}")
    f = _folder(registry, name, vs[-1] if version is None else version) / HEALTH
    return json.loads(f.read_text(encoding="utf-8")) if f.exists() else None


def write_baseline(registry: ModelRegistry, name: str, version: int,
                   base: dict[str, Any]) -> Path:
    """Store this party's stability baseline (its own features' and scores' bins/shares)."""
    d = _folder(registry, name, version)
    _write_json(d / BASELINE, finite_json(base))
    return d / BASELINE


def read_baseline(registry: ModelRegistry, name: str, version: int | None = None
                  ) -> dict[str, Any] | None:
    vs = registry.versions(name)
    if not vs:
        raise KeyError(f"no model named {name!r}")
    f = _folder(registry, name, vs[-1] if version is None else version) / BASELINE
    return json.loads(f.read_text(encoding="utf-8")) if f.exists() else None
