"""Model registry and joint inference (建立算法-生成场景化模型-封装API).

Each party keeps its own registry folder (its node's). A model version is a folder
`<root>/<name>/v<version>/` holding `model.json` (the same public metadata at every party:
kind, version, parties, features per party, metrics, training job id, creation time) and this
party's own part: `part.npz` (secret shares of an SS-LR model: no plaintext weights) or
`part.json` (a SecureBoost party's trees or thresholds, a FedAvg model), and, when the party
preprocesses its columns, `prep.json` (its fitted `yinji.ml.prep` state: medians, category
lists, clip bounds -- this party's only; model.json lists its output columns, and in
`params.inputs` the raw input columns prediction reads). No pickle: JSON and NumPy `.npz`
loaded with `allow_pickle=False`.

Prediction takes a party's rows either as a float matrix in model-feature order, or as a
table {input column: values}, which is passed through the stored `prep.json` by
`yinji.ml.prep.apply` -- the function training used.

Joint inference (`predict_sslr`, `predict_secureboost`) runs every party's part on the rows
of one batch of customer IDs (each party looks its own rows up by ID; the node does that) and
returns the scores only to the requester. Every call is recorded by the `audit` callback (the
node plugs in its audit sink); without one, a JSON line is appended to `<root>/audit.jsonl`.

Adversary model: as the model's protocol (semi-honest; SS-LR: honest majority of the three
MPC parties; SecureBoost: no collusion of the active and a passive party).

Leakage: SS-LR inference: the requester learns the scores of the requested IDs, nobody else
learns anything. SecureBoost inference: the active party learns, at each passive split
node, the left/right bits of the requested rows that reach that node (and nothing for the
others); each passive party learns which requested rows reach each of its split nodes; the
requester learns the scores. All parties learn the number of
IDs in the batch and, through the audit record, a SHA-256 digest of the ID list.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from yinji.ml import prep as _prep
from yinji.ml.secureboost import (
    PassivePart,
    SecureBoostActive,
    SecureBoostModel,
    SecureBoostPassive,
)
from yinji.ml.sslr import SSLinearModel
from yinji.mpc import Session, SharedTensor, concatenate
from yinji.net.channel import Party
from yinji.net.expect import recv_array

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


@dataclass
class ModelMeta:
    name: str
    version: int
    kind: str  # "sslr", "secureboost", "fedavg"
    parties: list[str]
    features: dict[str, list[str]]  # party -> its feature names, in model order
    label_holder: str
    metrics: dict[str, float] = field(default_factory=dict)
    job_id: str = ""
    created: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)  # public model metadata


@dataclass
class PredictionEvent:
    """One joint-inference call, as audited."""

    model: str
    version: int
    party: str
    requester: str
    n_ids: int
    ids_sha256: str
    at: float


class ModelRegistry:
    """A folder of model versions for one party."""

    def __init__(self, root: str | Path, party: str):
        self.root, self.party = Path(root), party

    def _dir(self, name: str, version: int) -> Path:
        if not _NAME.match(name):
            raise ValueError(f"bad model name {name!r}")
        return self.root / name / f"v{int(version)}"

    def versions(self, name: str) -> list[int]:
        d = self.root / name
        return sorted(int(p.name[1:]) for p in d.glob("v*") if p.name[1:].isdigit()) if d.exists() else []

    def save(self, meta: ModelMeta, part: dict[str, np.ndarray] | dict[str, Any],
             prep: dict[str, Any] | None = None) -> ModelMeta:
        """Store this party's part (and its fitted preprocessing `prep`, if any).
        `meta.version` 0 means "next version" (parties of one job should pass the job's
        version so that they agree)."""
        if meta.version <= 0:
            meta.version = (self.versions(meta.name) or [0])[-1] + 1
        meta.created = meta.created or time.time()
        d = self._dir(meta.name, meta.version)
        if d.exists():
            raise FileExistsError(f"{meta.name} v{meta.version} already exists")
        text = _prep.dumps(prep) if prep is not None else None   # checked before writing
        d.mkdir(parents=True)
        if text is not None:
            (d / "prep.json").write_text(text)
        (d / "model.json").write_text(json.dumps(asdict(meta), indent=1, sort_keys=True))
        if part and all(isinstance(v, np.ndarray) for v in part.values()):
            np.savez(d / "part.npz", **part)
        else:
            (d / "part.json").write_text(json.dumps(part))
        return meta

    def load(self, name: str, version: int | None = None) -> tuple[ModelMeta, dict[str, Any]]:
        """(metadata, this party's part); the latest version by default."""
        vs = self.versions(name)
        if not vs:
            raise KeyError(f"no model named {name!r}")
        d = self._dir(name, vs[-1] if version is None else version)
        meta = ModelMeta(**json.loads((d / "model.json").read_text()))
        if (d / "part.npz").exists():
            with np.load(d / "part.npz", allow_pickle=False) as z:
                return meta, {k: z[k] for k in z.files}
        return meta, json.loads((d / "part.json").read_text())

    def load_prep(self, name: str, version: int) -> dict[str, Any] | None:
        """This party's fitted preprocessing of a model version (None: it has none)."""
        f = self._dir(name, version) / "prep.json"
        return json.loads(f.read_text()) if f.exists() else None

    def list(self) -> list[ModelMeta]:
        out = []
        for f in sorted(self.root.glob("*/v*/model.json")):
            out.append(ModelMeta(**json.loads(f.read_text())))
        return out

    def audit(self, event: PredictionEvent) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "audit.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(event), sort_keys=True) + "\n")


def ids_digest(ids: Sequence[str]) -> str:
    return hashlib.sha256("\n".join(map(str, ids)).encode()).hexdigest()


def audit_prediction(registry: ModelRegistry, meta: ModelMeta, requester: str, ids: Sequence[str],
           audit: Callable[[PredictionEvent], None] | None) -> None:
    ev = PredictionEvent(meta.name, meta.version, registry.party, requester, len(ids),
                         ids_digest(ids), time.time())
    (audit or registry.audit)(ev)


def prepared_rows(registry: ModelRegistry, meta: ModelMeta, rows: Any) -> np.ndarray | None:
    """This party's model input: `rows` as given if a matrix (or None), or a table
    {input column: values} passed through its stored prep.json (`yinji.ml.prep.apply`);
    without one the table's feature columns are taken as numbers, in model order."""
    if rows is None or not isinstance(rows, Mapping):
        return rows
    state = registry.load_prep(meta.name, meta.version)
    if state is not None:
        return _prep.apply(state, rows)
    feats = meta.features.get(registry.party, [])
    n = len(next(iter(rows.values()))) if rows else 0
    missing = [c for c in feats if c not in rows]
    if missing:
        raise ValueError(f"column(s) {', '.join(map(repr, missing))} missing from the input")
    x = np.column_stack([np.asarray(rows[c], np.float64) for c in feats]) if feats \
        else np.zeros((n, 0))
    bad = [c for j, c in enumerate(feats) if not np.isfinite(x[:, j]).all()]
    if bad:   # a model without preprocessing was trained without missing values
        raise ValueError(f"missing or infinite values in {', '.join(map(repr, bad))}: model "
                         f"{meta.name} v{meta.version} has no preprocessing to impute them")
    return x


# ------------------------------------------------------------------ SS-LR inference
def save_sslr(registry: ModelRegistry, meta: ModelMeta, model: SSLinearModel,
              prep: dict[str, Any] | None = None) -> ModelMeta:
    meta.kind, meta.params = "sslr", {**meta.params, **model.meta()}
    return registry.save(meta, model.shares(), prep)


def predict_sslr(session: Session, registry: ModelRegistry, name: str, ids: Sequence[str],
                 my_rows: np.ndarray | Mapping[str, Any] | None, requester: str, *, version: int | None = None,
                 audit: Callable[[PredictionEvent], None] | None = None) -> np.ndarray | None:
    """Joint SS-LR inference: each MPC party passes its own feature rows for `ids` (None or
    an empty array if it holds no features of this model; or its raw input table, see
    `prepared_rows`); the requester gets the scores, the others None."""
    meta, part = registry.load(name, version)
    my_rows = prepared_rows(registry, meta, my_rows)
    audit_prediction(registry, meta, requester, ids, audit)
    model = SSLinearModel.from_shares(session, meta.params, part)
    cols = []
    for rank, owner in enumerate(session.names):
        k = len(meta.features.get(owner, []))
        if k == 0:
            continue
        value = np.asarray(my_rows, np.float64) if session.rank == rank else None
        if value is not None and value.shape != (len(ids), k):
            raise ValueError(f"{owner}: expected rows of shape {(len(ids), k)}, got {value.shape}")
        cols.append(SharedTensor.share(session, value, rank, shape=(len(ids), k)))
    return model.predict(concatenate(cols, axis=1)).reveal_to(requester)


# ------------------------------------------------------------------ SecureBoost inference
def save_secureboost(registry: ModelRegistry, meta: ModelMeta,
                     part: SecureBoostModel | PassivePart,
                     prep: dict[str, Any] | None = None) -> ModelMeta:
    meta.kind = "secureboost"
    return registry.save(meta, part.to_json(), prep)


def predict_secureboost(party: Party, registry: ModelRegistry, name: str, ids: Sequence[str],
                        my_rows: np.ndarray | Mapping[str, Any], requester: str, *,
                        version: int | None = None,
                        audit: Callable[[PredictionEvent], None] | None = None) -> np.ndarray | None:
    """Joint SecureBoost inference: the label holder (active) walks the trees with the
    passive parties' split bits; the scores go only to `requester` (sent by the active party
    if the requester is someone else). `my_rows`: see `prepared_rows`."""
    meta, part = registry.load(name, version)
    my_rows = prepared_rows(registry, meta, my_rows)
    audit_prediction(registry, meta, requester, ids, audit)
    if party.name == meta.label_holder:
        model = SecureBoostModel.from_json(part)
        act = SecureBoostActive(party, model.passives)
        scores = act.predict(model, np.asarray(my_rows, np.float64))
        act.close_serving(model)
        if requester == party.name:
            return scores
        party.channel(requester).send_array(scores)
        return None
    if "splits" in part:
        pas = SecureBoostPassive(party, meta.label_holder)
        pas.serve(PassivePart.from_json(part), np.asarray(my_rows, np.float64))
    if requester == party.name:
        return recv_array(party.channel(meta.label_holder), f"the scores of {len(ids)} IDs",
                          np.float64, (len(ids),))
    return None
