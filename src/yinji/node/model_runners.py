"""Joint modeling on the node runtime: train vertical SecureBoost or SS-LR as a job, keep each
party's part in its node's model registry, serve joint predictions as jobs (issue 6, item 4).

`model.secureboost` (training). One label holder (SecureBoost's active party) and one or
more feature holders. Each input's first column is that party's customer-ID column, the
others are features; the label holder's input also holds `params.label` (0/1). Rows are
aligned by ECDH-PSI (`yinji.psi.ecdh`, IDs normalised by `yinji.psi.keys`): the label holder
runs one PSI with each feature holder, keeps the IDs every party holds and sends that list,
sorted, with a random validation mask, to the feature holders. Then `yinji.ml.secureboost`
trains on the training rows, the validation rows are scored jointly, and every party stores
its own part (`<home>/models/<name>/v<version>/`, `yinji.ml.registry`) with the version,
parties, features, training job id and, at the label holder only, the metrics.
    params: {"model": NAME, "label_holder": P, "label": COLUMN, "validation": 0.2,
             "n_trees", "max_depth", "learning_rate", "reg_lambda", "min_child_weight",
             "gamma", "bins",      (SecureBoostConfig; defaults there)
             "prep": {P: {COLUMN: declaration}}}   (yinji.ml.prep; also for model.sslr)
            out-of-time validation instead of a random one: "oot_column": a date column of
            the label holder's input (not a feature), "oot_cutoff": "YYYY-MM-DD"; the rows
            dated on or after the cutoff validate (yinji.ml.splits.split_by_date)
    recipients: [label holder]     (the result: version, row counts, metrics)
    helpers: [] or [H]             (one helper node: SecureBoost's assisted mode, no HE; H
                                    deals correlated randomness, holds no data, stores nothing)

Preprocessing (both training jobs): each data party passes its feature columns through
`yinji.ml.prep` with its declarations in params.prep (default: numeric median + missing
indicator, text one-hot; a text column with more than 20 categories is refused, naming it).
Empty cells load as missing (NaN) for these jobs instead of failing. The rules are fitted on
the party's own rows only (SecureBoost: its aligned training rows; SS-LR: its rows before the
join) and stored as its `prep.json`; the parties exchange their output column names (through
the label holder), which model.json lists as `features`, with the raw columns in
`params.inputs`. `model.predict` reads the raw columns and applies the stored `prep.json`.

`model.sslr` (training). Two data owners (inputs as above; the label holder's holds
`params.label`) and exactly one helper node, the third MPC party (no input, no result). Rows
are joined by `yinji.psi.join.hidden_join`, SS-LR (`yinji.ml.sslr`) trains on the joined
shares, and each of the three stores its share set (`save_sslr`) with the same version;
`parties` is the MPC rank order (owners sorted, then the helper).
    params: {"model", "label_holder", "label", "validation": 0.1, "newton_steps", "l2",
             "epochs", "batch_size", "learning_rate"}     (SSLR; defaults there)
    recipients: [label holder]     helpers: [H]
Adversary model: semi-honest, honest majority of the three. Leakage: all three learn both
row counts and |A∩B| (nobody learns which customers are shared); SS-LR's default Newton
solver opens nothing while training (solver="sgd" would open one "validation improved" bit
per epoch); the label holder alone the metrics (SSLRTrainRunner docstring).

`model.predict` (serving). Proposed by `POST /models/{name}/predict` from the model's
metadata: every party's ID and feature columns, the model and version, the number of IDs and
a hiding commitment SHA-256(nonce, IDs). The IDs are not in the job spec (so they are stored
nowhere but at the requester): the requester sends them and the nonce over the job's TLS
channels, each party checks them against the approved commitment, looks its rows up by ID,
and tells the requester which IDs it lacks. If any party lacks any ID, nobody scores and the
requester alone learns which IDs are missing where; otherwise `predict_secureboost` runs and
the scores are the requester's job result. An SS-LR model's helper joins the job as a
helper: it approves, audits and runs `predict_sslr` on the shares, and is sent only the
number of IDs, never the IDs. Every party audits the call (`model.predict`: job, model,
version, requester node and token name, number of IDs, status); no ID, feature or score is
ever logged. A standing approval is an `auto_approve` rule in node.yaml, e.g.
`{protocols: [model.predict], proposers: [fund], models: [lead-score]}`.

SecureBoost's adversary model: semi-honest, no collusion between the label holder and a
feature holder (as `yinji.ml.secureboost`).

Preprocessing's leakage: every model party learns the others' output column names
(positional: per text column the number of categories kept and whether an other bucket
exists, per column whether its fitting rows had a missing value); no category value, fill
value or bound leaves its owner (yinji.ml.prep, SECURITY.md).

SecureBoost's leakage, training: the label holder learns its intersection with each feature
holder, each feature holder its intersection with the label holder and which of those IDs
all parties hold (the aligned list) -- the usual PSI alignment, not a hidden join (for that,
`model.sslr`); then SecureBoost's leakage (yinji.ml.secureboost docstring).
Metrics and the validation scores stay at the label holder. With out-of-time validation
(`oot_column`) the validation mask the feature holders receive is which shared customers the
label holder dates on or after the cutoff (one bit of its date column per shared customer).
Every party writes a model card (`card.json`, yinji.ml.card); the label holder's has the
validation health figures and its job result the health report (ROC/KS, calibration, lift).
Feature importance (yinji.ml.importance): each feature holder receives its own features'
total gain and split count (its card lists them), the label holder's card has its own and
the ranking of the parties' groups.
Leakage, prediction: every model party holding data learns the requested IDs and their
number (an SS-LR helper: the number only; SS-LR scores are opened to the requester only); the
requester learns the scores and, on failure, which IDs a party lacks; the feature holders
learn whether the batch was scored and (SecureBoost) which of the IDs reach each of their
split nodes, the label holder their directions there only (yinji.ml.secureboost). The label holder walks the trees, so it computes the
scores in the clear even when another party asked: it sends them to that requester and keeps
no copy (no result, no log entry), which is what SecureBoost inference allows.
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import re
import secrets
import threading
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.ml.prep import apply as prep_apply
from yinji.ml.prep import output_columns
from yinji.ml.registry import ModelMeta, ModelRegistry
from yinji.net.channel import Party
from yinji.node.audit import ModelPredictionEvent, ModelStoredEvent
from yinji.node.result_files import DATA_LIMIT, check_size, recv_bounded

if TYPE_CHECKING:
    from yinji.node.node import Node
    from yinji.node.runners import RunContext

MODELS_DIR = "models"                 # under the node's home folder
MAX_IDS = 10_000                      # customer IDs per prediction call
MIN_ROWS = 20                         # aligned customers needed to train
PENDING_TTL = 86_400.0                # seconds a proposed prediction keeps its IDs in memory
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")   # as yinji.ml.registry
_CONFIG = {"n_trees": (int, 1, 200), "max_depth": (int, 1, 8), "bins": (int, 2, 64),
           "learning_rate": (float, 1e-4, 1.0), "reg_lambda": (float, 0.0, 1e6),
           "min_child_weight": (float, 0.0, 1e6), "gamma": (float, 0.0, 1e6)}
_SSLR = {"epochs": (int, 1, 100), "batch_size": (int, 1, 1 << 16),
         "learning_rate": (float, 1e-4, 10.0), "l2": (float, 0.0, 1e3),
         "newton_steps": (int, 1, 50)}  # epochs .. learning_rate: SSLR(solver="sgd") only


def _features(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Each input holder's feature columns: its columns after the ID, minus the label (and
    the out-of-time validation date column)."""
    holder, label = spec["params"]["label_holder"], spec["params"]["label"]
    skip = {label, spec["params"].get("oot_column")}
    return {p: [c for c in i["columns"][1:] if not (p == holder and c in skip)]
            for p, i in spec["inputs"].items()}


def _inputs_of(meta: ModelMeta) -> dict[str, list[str]]:
    """Each party's raw input columns (models stored before preprocessing: its features)."""
    return meta.params.get("inputs") or meta.features


def _bad_prep(spec: dict[str, Any]) -> list[str]:
    """Problems with params.prep: {party: yinji.ml.prep spec over its feature columns}."""
    from yinji.ml.prep import check_spec

    inputs, params = spec.get("inputs") or {}, spec.get("params") or {}
    prep = params.get("prep", {})
    if not isinstance(prep, dict) or set(prep) - set(inputs):
        return ["params.prep must be {party: {column: declaration}} for parties with an input"]
    holder, label = params.get("label_holder"), params.get("label")
    problems = []
    for p, declared in prep.items():
        cols = [c for c in (inputs[p].get("columns") or [])[1:]
                if not (p == holder and c in (label, params.get("oot_column")))]
        problems += [f"params.prep.{p}: {m}" for m in check_spec(declared, cols)]
    return problems


def _prepare(spec: dict[str, Any], me: str, inputs: dict[str, np.ndarray],
             fit_rows: np.ndarray) -> dict[str, Any]:
    """This party's preprocessing (yinji.ml.prep) of its feature columns, fitted on its own
    rows `fit_rows` only: params.prep[me], default numeric median + missing indicator, text
    one-hot (a text column with too many categories is refused, naming it)."""
    from yinji.ml.prep import fit

    cols = _features(spec)[me]
    declared = (spec["params"].get("prep") or {}).get(me, {})
    return fit(declared, cols, {c: np.asarray(inputs[c])[fit_rows] for c in cols})


def _table(inputs: dict[str, np.ndarray], cols: list[str], rows: np.ndarray) -> dict[str, Any]:
    return {c: np.asarray(inputs[c])[rows] for c in cols}


def _bad_params(params: dict[str, Any], table: dict[str, tuple[type, float, float]]) -> list[str]:
    """The numeric params outside their (type, low, high) range in `table`."""
    problems = []
    for key, (kind, lo, hi) in table.items():
        if key in params and not (isinstance(params[key], int | float)
                                  and not isinstance(params[key], bool)
                                  and lo <= params[key] <= hi
                                  and (kind is float or float(params[key]).is_integer())):
            problems.append(f"params.{key} must be a {kind.__name__} in [{lo}, {hi}]")
    return problems


def _bad_oot(spec: dict[str, Any]) -> list[str]:
    """Out-of-time validation (`oot_column`, `oot_cutoff`): a date column of the label
    holder's input (not its ID or label) and a parseable cutoff date."""
    params, inputs = spec.get("params") or {}, spec.get("inputs") or {}
    if not ({"oot_column", "oot_cutoff"} & set(params)):
        return []
    if not {"oot_column", "oot_cutoff"} <= set(params):
        return ["out-of-time validation needs both params.oot_column and params.oot_cutoff"]
    from yinji.ml.splits import split_by_date

    problems = []
    cols = (inputs.get(params.get("label_holder")) or {}).get("columns") or []
    if params["oot_column"] not in cols[1:] or params["oot_column"] == params.get("label"):
        problems.append("params.oot_column must be a date column of the label holder's input "
                        "(not its ID or label)")
    try:
        split_by_date(["1900-01-01", "2999-12-31"], params["oot_cutoff"])
    except ValueError as exc:
        problems.append(f"params.oot_cutoff: {exc}")
    return problems


class ModelError(ValueError):
    """A model request that cannot be honoured; `status` is the HTTP status, `extra` goes
    into the error body (only ever to this node's own caller)."""

    def __init__(self, message: str, status: int = 400, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.extra = status, extra


def _send(party: Party, peer: str, obj: Any) -> None:
    party.channel(peer).send_bytes(check_size(json.dumps(obj).encode(), "a model job message",
                                              peer, DATA_LIMIT))


def _recv(party: Party, peer: str) -> Any:
    """A peer's JSON message (aligned IDs, versions, go/no-go), refused past DATA_LIMIT."""
    return json.loads(recv_bounded(party.channel(peer), "a model job message", DATA_LIMIT))


def commitment(nonce: str, ids: list[str]) -> str:
    """Hiding, binding commitment to a batch of IDs (the nonce is 128 random bits)."""
    return hashlib.sha256(json.dumps([nonce, ids]).encode()).hexdigest()


def _key_index(ids: np.ndarray) -> dict[bytes, int]:
    """Normalised ID -> own row (first row of a duplicated ID), as the PSI alignment uses."""
    from yinji.psi.keys import prepare_keys

    prepared = prepare_keys(list(ids))
    return dict(zip(prepared.keys, prepared.rows.tolist(), strict=True))


class _NodeRunner:
    """A runner that needs its node (registry, audit log, key cache): the job engine calls
    `bind(node)` before `run`; validation does not need the node."""

    node: Node | None = None
    empty_as_nan = True   # empty cells load as missing: the preprocessing decides (prep)

    def bind(self, node: Node) -> _NodeRunner:
        bound = copy.copy(self)
        bound.node = node
        return bound

    def compute_parties(self, spec: dict[str, Any]) -> list[str]:
        return sorted(spec["inputs"])

    def _agree_version(self, ctx: RunContext, leader: str, others: list[str], name: str) -> int:
        """The next version free at every party, so that all parts carry the same number
        (`leader` collects every party's next free number and sends back the largest)."""
        assert self.node is not None
        mine = (self.node.models.registry.versions(name) or [0])[-1] + 1
        if ctx.me != leader:
            _send(ctx.party, leader, {"next": mine})
            return int(_recv(ctx.party, leader)["version"])
        version = max([mine] + [int(_recv(ctx.party, p)["next"]) for p in others])
        for p in others:
            _send(ctx.party, p, {"version": version})
        return version

    @staticmethod
    def _share_features(ctx: RunContext, leader: str, others: list[str],
                        mine: list[str] | None) -> dict[str, list[str]]:
        """Every data party's output columns (its preprocessing's), gathered by `leader`
        and sent to the others; `mine` None: a helper, which has none."""
        if ctx.me != leader:
            _send(ctx.party, leader, {"features": mine})
            return dict(_recv(ctx.party, leader)["features"])
        got = {ctx.me: mine} | {p: _recv(ctx.party, p)["features"] for p in others}
        out = {p: list(f) for p, f in sorted(got.items()) if f is not None}
        for p in others:
            _send(ctx.party, p, {"features": out})
        return out

    def _store(self, ctx: RunContext, leader: str, others: list[str], meta: ModelMeta,
               save: Any, part: Any) -> None:
        """Store this party's part with `save(registry, meta, part)` and audit it: the other
        parties first, then `leader` (whose copy serves, and who holds the job result)."""
        assert self.node is not None
        if ctx.me == leader:
            for p in others:
                _recv(ctx.party, p)
        save(self.node.models.registry, meta, part)
        self.node.audit.append(ModelStoredEvent(meta.name, meta.version, meta.kind,
                                                meta.job_id, meta.parties))
        if ctx.me != leader:
            _send(ctx.party, leader, {"stored": True})

    @staticmethod
    def _inputs(spec: dict[str, Any], min_columns: int) -> list[str]:
        problems = []
        inputs = spec.get("inputs") or {}
        if len(inputs) < 2:
            problems.append(f"{spec['protocol']} needs inputs from at least 2 parties")
        for party, inp in inputs.items():
            if len(inp.get("columns") or []) < min_columns:
                problems.append(f"input of {party!r}: give the ID column and at least "
                                f"{min_columns - 1} more")
        recipients = spec.get("recipients") or []
        if len(recipients) != 1 or recipients[0] not in inputs:
            problems.append(f"{spec['protocol']} has exactly one recipient, one of its parties")
        return problems

    @staticmethod
    def _training(spec: dict[str, Any], table: dict[str, tuple[type, float, float]],
                  validation: float, helpers: tuple[int, int]) -> list[str]:
        """Checks every training job shares: model name, label holder and label, metrics to
        the label holder only, numeric params in `table`, validation fraction, helpers
        (between helpers[0] and helpers[1], none with an input or a result), no stray param."""
        problems = []
        inputs, params = spec.get("inputs") or {}, spec.get("params") or {}
        if not _NAME.match(str(params.get("model", ""))):
            problems.append("params.model must be a model name (letters, digits, '_.-')")
        holder, label = params.get("label_holder"), params.get("label")
        if holder not in inputs:
            problems.append("params.label_holder must be one of the parties with an input")
        elif label not in (inputs[holder].get("columns") or [])[1:] or \
                len(inputs[holder]["columns"]) < 3:
            problems.append("params.label must be a column of the label holder's input, "
                            "besides its ID column and at least one feature")
        elif spec.get("recipients") != [holder]:
            problems.append(f"metrics go to the label holder only: recipients must be [{holder}]")
        problems += _bad_params(params, table)
        v = params.get("validation", validation)
        if not isinstance(v, int | float) or not 0 <= v <= 0.5:
            problems.append("params.validation must be a fraction in [0, 0.5]")
        chosen = spec.get("helpers") or []
        if not helpers[0] <= len(chosen) <= helpers[1] or \
                set(chosen) & (set(inputs) | set(spec.get("recipients") or [])):
            many = "exactly one helper" if helpers == (1, 1) else "at most one helper"
            problems.append(f"{spec['protocol']} takes {many} (the third party), a node with "
                            "no input and no result")
        problems += _bad_prep(spec)
        unknown = set(params) - set(table) - {"model", "label_holder", "label", "validation",
                                              "prep"}
        if spec.get("protocol") == "model.secureboost":
            unknown -= {"oot_column", "oot_cutoff"}
        if unknown:
            problems.append(f"unknown params: {', '.join(sorted(unknown))}")
        return problems


class _TrainingRunner(_NodeRunner):
    """A training job: writes model cards and delivers the label holder's health report."""

    def _card(self, meta: ModelMeta, validation: Any, extra: dict[str, Any] | None = None,
              own: tuple[list[str], np.ndarray] | None = None) -> dict[str, Any] | None:
        """Write this party's model card (yinji.ml.card) beside its part; at the label holder
        (the only party with `validation` = its labels and scores) with the health figures
        and `health.json`. Returns the label holder's health report (for the job result)."""
        from yinji.ml import card, health

        assert self.node is not None
        report = None
        if validation is not None:
            y, p = validation
            # SS-LR's scores come from the MPC sigmoid (fixed point, piecewise): one can fall a
            # hair outside [0, 1], which the calibration table refuses
            p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
            try:
                report = card.finite_json(health.report(
                    y, p, title=f"Model health: {meta.name} v{meta.version} "
                    "(validation rows)"))
            except ValueError:   # one class only in the validation rows
                report = None
        doc = card.build_card(meta, protocol=self.name, leakage=leakage(meta.kind),
                              approvals=self.node.store.approvals(meta.job_id),
                              health=report["data"] if report else None)
        doc.update(extra or {})
        if report:   # the report shows the card too
            report["tables"] = {"model card": card.card_table(card.finite_json(doc)),
                                **report["tables"]}
        card.write_card(self.node.models.registry, doc, report)
        if own is not None:   # for later PSI/CSI against this training population
            from yinji.ml.health import baseline

            def safe(values: np.ndarray) -> dict[str, list[float]] | None:
                return baseline(values) if len(values) and np.isfinite(values).all() else None

            base = {"features": {n: safe(own[1][:, j]) for j, n in enumerate(own[0])},
                    "rows": len(own[1]),
                    "score": safe(validation[1]) if validation is not None else None}
            card.write_baseline(self.node.models.registry, meta.name, meta.version, base)
        return report

    def render(self, result: dict[str, Any], directory: Any) -> list[Any]:
        """The label holder's model-health report as CSV, .xlsx and HTML (the node's
        report renderer, set by the app layer), else as report.json only."""
        from pathlib import Path

        report = result.get("report") if isinstance(result, dict) else None
        if not report:
            return []
        assert self.node is not None
        renderer = self.node.models.report_renderer
        if renderer is not None:
            return list(renderer(report, Path(directory)))
        Path(directory).mkdir(parents=True, exist_ok=True)
        out = Path(directory) / "report.json"
        out.write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
        return [out]


class SecureBoostTrainRunner(_TrainingRunner):
    """`model.secureboost`: see the module docstring."""

    takes_helpers = True

    def compute_parties(self, spec: dict[str, Any]) -> list[str]:
        return sorted(spec["inputs"]) + list(spec.get("helpers") or [])

    name = "model.secureboost"

    def unavailable(self) -> str | None:
        for module, what in (("heu", "sf-heu (pip install 'yinji[ml]')"),
                             ("yinji.psi", "yinji.psi")):
            if importlib.util.find_spec(module) is None:
                return f"SecureBoost training is not available on this node: needs {what}"
        return None

    def validate(self, spec: dict[str, Any]) -> list[str]:
        return self._inputs(spec, 2) + self._training(spec, _CONFIG, 0.2, (0, 1)) + \
            _bad_oot(spec)

    def run(self, ctx: RunContext) -> dict[str, Any] | None:
        from yinji.ml.registry import save_secureboost
        from yinji.ml.secureboost import SecureBoostConfig, SecureBoostHelper

        spec, params, me = ctx.spec, ctx.spec["params"], ctx.me
        holder = params["label_holder"]
        if me in (spec.get("helpers") or []):
            ctx.progress(0.4, "training (helper)")
            SecureBoostHelper(ctx.party, holder).run()
            return None
        assert self.node is not None and ctx.inputs is not None
        passives = [p for p in sorted(spec["inputs"]) if p != holder]
        cols = spec["inputs"][me]["columns"]
        features = _features(spec)[me]
        ctx.progress(0.2, "aligning")
        rows, val = self._align(ctx, holder, passives, ctx.inputs[cols[0]])
        oot = {k: params[k] for k in ("oot_column", "oot_cutoff") if k in params}
        state = _prepare(spec, me, ctx.inputs, rows[~val])   # fitted on training rows only
        x = prep_apply(state, _table(ctx.inputs, features, rows))
        outputs = self._share_features(ctx, holder, passives, output_columns(state))
        cfg = SecureBoostConfig(**{k: _CONFIG[k][0](params[k]) for k in _CONFIG if k in params})
        ctx.progress(0.4, "training")
        if me == holder:
            y = np.asarray(ctx.inputs[params["label"]], np.float64)[rows]
            if not np.isin(y, (0.0, 1.0)).all():
                raise ValueError(f"label column {params['label']!r} must hold 0 or 1")
            part, metrics, validation = self._train_active(ctx, passives, cfg, x, y, val)
        else:
            part, metrics, validation = self._train_passive(ctx, holder, x, val), {}, None
        importance = self._importance(ctx, holder, part, outputs)
        ctx.progress(0.9, "storing")
        meta = ModelMeta(
            params["model"], self._agree_version(ctx, holder, passives, params["model"]),
            "secureboost", sorted(spec["inputs"]), outputs, holder, metrics, spec["id"],
            params={"datasets": {p: i["dataset"] for p, i in spec["inputs"].items()},
                    "inputs": _features(spec),
                    "id_columns": {p: i["columns"][0] for p, i in spec["inputs"].items()},
                    "label": params["label"], "config": asdict(cfg),
                    "rows": int(len(rows) - val.sum()), "validation_rows": int(val.sum()),
                    **oot})
        self._store(ctx, holder, passives, meta,
                    lambda r, m, p: save_secureboost(r, m, p, state), part)
        report = self._card(meta, validation, {"importance": importance},
                            (outputs[me], x[~val]))
        if me != holder:
            return None
        return {"model": meta.name, "version": meta.version, "parties": meta.parties,
                "features": meta.features, "metrics": metrics, **{
                    k: meta.params[k] for k in ("rows", "validation_rows")},
                **({"report": report} if report else {})}

    @staticmethod
    def _importance(ctx: RunContext, holder: str, part: Any, outputs: dict[str, list[str]]
                    ) -> dict[str, Any]:
        """Feature importance (yinji.ml.importance) over the model's feature columns: every
        owner its own features' total gain and split count, the label holder also the
        ranking of the owners' groups."""
        from yinji.ml.importance import receive_importance, share_importance

        mine = outputs[ctx.me]
        if ctx.me == holder:
            own, groups = share_importance(ctx.party, part, {p: len(f) for p, f in
                                                             outputs.items()})
        else:
            own, groups = receive_importance(ctx.party, holder, len(mine)), None
        rows = [{"feature": f, "gain": g, "splits": k} for f, g, k in own.ranking(mine)]
        return {"features": rows, **({"groups": groups} if groups is not None else {})}

    def _align(self, ctx: RunContext, holder: str, passives: list[str],
               ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Own rows of the IDs every party holds (sorted by normalised ID, the same order at
        every party) and the validation mask the label holder drew."""
        from yinji.crypto.prg import Prg, fresh_seed
        from yinji.psi.ecdh import ecdh_psi
        from yinji.psi.keys import prepare_keys

        prepared = prepare_keys(list(ids))
        row_of = dict(zip(prepared.keys, prepared.rows.tolist(), strict=True))
        if ctx.me == holder:
            common: set[bytes] | None = None
            for p in passives:
                found = {prepared.keys[i] for i in ecdh_psi(ctx.party, p, prepared)}
                common = found if common is None else common & found
            order = sorted(common or ())
            if len(order) < MIN_ROWS:
                raise ValueError(f"fewer than {MIN_ROWS} customers are held by every party")
            params = ctx.spec["params"]
            if "oot_column" in params:   # out-of-time: rows dated on/after the cutoff
                from yinji.ml.splits import split_by_date

                assert ctx.inputs is not None
                dates = np.asarray(ctx.inputs[params["oot_column"]])
                _, val = split_by_date(dates[[row_of[key] for key in order]],
                                       params["oot_cutoff"])
            else:
                k = int(round(len(order) * float(params.get("validation", 0.2))))
                val = np.zeros(len(order), dtype=bool)
                val[np.argsort(Prg(fresh_seed()).uint64(len(order)), kind="stable")[:k]] = True
            for p in passives:
                _send(ctx.party, p, {"ids": [key.decode() for key in order],
                                     "validation": val.tolist()})
        else:
            found = {prepared.keys[i] for i in ecdh_psi(ctx.party, holder, prepared)}
            msg = _recv(ctx.party, holder)
            order, val = [s.encode() for s in msg["ids"]], np.asarray(msg["validation"], bool)
            if not set(order) <= found or len(val) != len(order):
                raise ValueError(f"{holder} sent an aligned ID list that is not ours")
        return np.asarray([row_of[key] for key in order], dtype=np.int64), val

    def _train_active(self, ctx: RunContext, passives: list[str], cfg: Any, x: np.ndarray,
                      y: np.ndarray, val: np.ndarray) -> tuple[Any, dict[str, float], Any]:
        from yinji.ml.metrics import binary_report
        from yinji.ml.secureboost import SecureBoostActive

        assert self.node is not None
        helpers = ctx.spec.get("helpers") or []
        act = SecureBoostActive(ctx.party, passives, cfg, helper=helpers[0] if helpers else None)
        keys = None if helpers else self.node.models.he_keys()
        model = act.fit(x[~val], y[~val], keys=keys)
        metrics: dict[str, float] = {}
        validation = None
        if val.any():
            scores = act.predict(model, x[val])
            act.close_serving(model)
            validation = (y[val], scores)
            try:
                metrics = binary_report(y[val], scores)
            except ValueError:  # one class only in the validation rows: no AUC
                metrics = {}
        return model, metrics, validation

    @staticmethod
    def _train_passive(ctx: RunContext, holder: str, x: np.ndarray, val: np.ndarray) -> Any:
        from yinji.ml.secureboost import SecureBoostPassive

        part = SecureBoostPassive(ctx.party, holder).fit(x[~val])
        if val.any():
            SecureBoostPassive(ctx.party, holder).serve(part, x[val])
        return part


class SSLRTrainRunner(_TrainingRunner):
    """`model.sslr`: SS-LR (`yinji.ml.sslr`) on a hidden-intersection join
    (`yinji.psi.join`) of two data owners' rows, with one helper node as the third MPC party.

    Adversary model: semi-honest, honest majority of the three MPC parties (no two collude).
    Leakage: all three learn both owners' row counts and |A∩B| (the join's leakage; the
    helper also sees fresh PRF tokens under a key it does not know), the public shapes and
    parameters (SS-LR's Newton solver opens nothing while training). Nobody learns which
    customers are shared. The label holder (sole recipient) learns the validation metrics
    (and the validation scores and labels in an order nobody knows); the model stays
    secret-shared: each of the three parties stores its share set, no plaintext weights."""

    name = "model.sslr"
    takes_helpers = True

    def compute_parties(self, spec: dict[str, Any]) -> list[str]:
        """MPC rank order: the two owners (sorted), then the helper."""
        return sorted(spec["inputs"]) + list(spec.get("helpers") or [])

    def unavailable(self) -> str | None:
        if importlib.util.find_spec("yinji.psi.join") is None:
            return "SS-LR training is not available on this node: needs yinji.psi.join"
        return None

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = self._inputs(spec, 2) + self._training(spec, _SSLR, 0.1, (1, 1))
        if len(spec.get("inputs") or {}) > 2:
            problems.append("model.sslr takes inputs from exactly 2 data owners")
        return problems

    def run(self, ctx: RunContext) -> dict[str, Any] | None:
        from yinji.ml.registry import save_sslr
        from yinji.ml.sslr import SSLR
        from yinji.mpc import Session, concatenate
        from yinji.psi.join import hidden_join
        from yinji.psi.keys import prepare_keys

        spec, params, me = ctx.spec, ctx.spec["params"], ctx.me
        names = self.compute_parties(spec)
        owners, holder, label = names[:2], params["label_holder"], params["label"]
        features = _features(spec)
        session = Session(ctx.party, names)
        ctx.progress(0.2, "joining")
        if me in owners:
            assert ctx.inputs is not None
            cols = spec["inputs"][me]["columns"]
            keys = prepare_keys(list(ctx.inputs[cols[0]]))
            state = _prepare(spec, me, ctx.inputs, keys.rows)   # its own rows only
            x = prep_apply(state, _table(ctx.inputs, features[me], keys.rows))
            own_x = x   # all own rows, preprocessed: which ones joined is hidden
            if me == holder:
                y = np.asarray(ctx.inputs[label], np.float64)[keys.rows]
                if not np.isin(y, (0.0, 1.0)).all():
                    raise ValueError(f"label column {label!r} must hold 0 or 1")
                x = np.column_stack([x, y])
            outputs = self._share_features(ctx, holder, [p for p in names if p != holder],
                                           output_columns(state))
            table = hidden_join(session, keys, x)
        else:
            state = None
            outputs = self._share_features(ctx, holder, [p for p in names if p != holder],
                                           None)
            table = hidden_join(session)
        if len(table) < MIN_ROWS:
            raise ValueError(f"fewer than {MIN_ROWS} customers are held by both data owners")
        # the joined columns: owner 0's features (+ label), then owner 1's
        at = len(outputs[owners[0]]) if holder == owners[0] else table.shape[1] - 1
        x = concatenate([t for t in (table[:, :at], table[:, at + 1:]) if t.shape[1]], axis=1)
        cfg = SSLR(validation_fraction=float(params.get("validation", 0.1)),
                   **{k: _SSLR[k][0](params[k]) for k in _SSLR if k in params})
        ctx.progress(0.4, "training")
        model, report = cfg.fit(x, table[:, at], recipient=holder, on_epoch=lambda done, n:
                                ctx.progress(0.4 + 0.5 * done / n, f"training: epoch {done}/{n}"))
        ctx.progress(0.9, "storing")
        others = [p for p in names if p != holder]
        n_val = int(round(len(table) * cfg.validation_fraction))
        meta = ModelMeta(
            params["model"], self._agree_version(ctx, holder, others, params["model"]),
            "sslr", names, outputs, holder, report.metrics, spec["id"],
            params={"datasets": {p: spec["inputs"][p]["dataset"] for p in owners},
                    "inputs": features,
                    "id_columns": {p: spec["inputs"][p]["columns"][0] for p in owners},
                    "helpers": names[2:], "label": label, "config": asdict(cfg),
                    "rows": len(table) - n_val, "validation_rows": n_val,
                    "stopped_early": report.stopped_early})
        self._store(ctx, holder, others, meta,
                    lambda r, m, p: save_sslr(r, m, p, state), model)
        report = self._card(meta, report.validation, None, (outputs[me], own_x)
                            if me in owners else None)
        if me != holder:
            return None
        return {"model": meta.name, "version": meta.version, "parties": meta.parties,
                "features": meta.features, "metrics": meta.metrics,
                "joined_rows": len(table), **{k: meta.params[k] for k in (
                    "rows", "validation_rows", "epochs_run", "stopped_early")},
                **({"report": report} if report else {})}


class PredictRunner(_NodeRunner):
    """`model.predict`: see the module docstring."""

    name = "model.predict"
    takes_helpers = True

    def compute_parties(self, spec: dict[str, Any]) -> list[str]:
        """SS-LR: the model's MPC rank order (owners sorted, then the helper)."""
        return sorted(spec["inputs"]) + list(spec.get("helpers") or [])

    def unavailable(self) -> str | None:
        return None

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = self._inputs(spec, 2)
        helpers = spec.get("helpers") or []
        if len(helpers) > 1 or set(helpers) & set(spec.get("inputs") or {}):
            problems.append("model.predict takes at most one helper (an SS-LR model's third "
                            "MPC party), a node with no input")
        p = spec.get("params") or {}
        if not _NAME.match(str(p.get("model", ""))):
            problems.append("params.model must be a model name")
        if not isinstance(p.get("version"), int) or p["version"] < 1:
            problems.append("params.version must be a positive integer")
        if not isinstance(p.get("n_ids"), int) or not 1 <= p["n_ids"] <= MAX_IDS:
            problems.append(f"params.n_ids must be 1..{MAX_IDS}")
        if not re.fullmatch(r"[0-9a-f]{64}", str(p.get("ids_commitment", ""))):
            problems.append("params.ids_commitment must be a SHA-256 hex digest")
        if not isinstance(p.get("requested_by", ""), str):
            problems.append("params.requested_by must be a token name")
        return problems

    def run(self, ctx: RunContext) -> dict[str, Any] | None:
        from yinji.ml.registry import predict_secureboost, predict_sslr
        from yinji.mpc import Session
        from yinji.psi.keys import normalize

        assert self.node is not None
        spec, params, me, party = ctx.spec, ctx.spec["params"], ctx.me, ctx.party
        requester, helper = spec["recipients"][0], me in (spec.get("helpers") or [])
        owners = [p for p in sorted(spec["inputs"]) if p != me]   # the other data holders
        meta = self.node.models.meta(params["model"], params["version"])
        parties = self.compute_parties(spec) if meta.kind == "sslr" else sorted(spec["inputs"])
        expected = [] if helper else [meta.params["id_columns"][me], *_inputs_of(meta)[me]]
        if meta.kind not in ("sslr", "secureboost") or parties != meta.parties or \
                len(parties) != len(self.compute_parties(spec)) or \
                (not helper and spec["inputs"][me]["columns"] != expected):
            raise ValueError(f"the job's parties or {me}'s columns differ from model "
                             f"{meta.name} v{meta.version} ({meta.kind})")
        # 1. the IDs, checked against the commitment every party approved (not to helpers)
        ids: list[str] = [""] * params["n_ids"]   # a helper learns their number only
        if me == requester:
            ids, nonce = self.node.models.take_ids(params["ids_commitment"])
            for p in owners:
                _send(party, p, {"ids": ids, "nonce": nonce})
        elif not helper:
            msg = _recv(party, requester)
            ids, nonce = msg["ids"], msg["nonce"]
        if not helper and (len(ids) != params["n_ids"] or
                           commitment(nonce, ids) != params["ids_commitment"]):
            raise ValueError(f"{requester} sent IDs other than those approved")
        # 2. own rows; which IDs are missing goes to the requester only
        if not helper:
            assert ctx.inputs is not None
            index = _key_index(ctx.inputs[expected[0]])
            found = [index.get(normalize(i).encode()) for i in ids]
            missing = [k for k, r in enumerate(found) if r is None]
        if me == requester:
            unknown = {me: missing} | {p: list(_recv(party, p)["missing"]) for p in owners}
            go = not any(unknown.values())
            for p in self.compute_parties(spec):
                if p != me:
                    _send(party, p, {"go": go})
        else:
            if not helper:
                _send(party, requester, {"missing": missing})
            go = bool(_recv(party, requester)["go"])

        def audit(status: str) -> None:
            self.node.audit.append(ModelPredictionEvent(  # type: ignore[union-attr]
                spec["id"], meta.name, meta.version, requester,
                str(params.get("requested_by", "")), len(ids), status))

        if not go:
            audit("unknown_ids")
            if me != requester:
                return None
            return {"model": meta.name, "version": meta.version, "ids": ids, "scores": None,
                    "unknown": {p: [ids[k] for k in m] for p, m in unknown.items() if m}}
        rows = None
        if not helper:
            assert ctx.inputs is not None
            # raw columns: predict_* passes them through this party's stored prep.json
            rows = _table(ctx.inputs, _inputs_of(meta)[me], np.asarray(found, dtype=np.int64))
        ctx.progress(0.5, "scoring")
        if meta.kind == "sslr":
            scores = predict_sslr(Session(party, meta.parties), self.node.models.registry,
                                  meta.name, ids, rows, requester, version=meta.version,
                                  audit=lambda ev: audit("scoring"))
        else:
            scores = predict_secureboost(party, self.node.models.registry, meta.name, ids, rows,
                                         requester, version=meta.version,
                                         audit=lambda ev: audit("scoring"))
        if scores is None:
            return None
        return {"model": meta.name, "version": meta.version, "ids": ids,
                "scores": [float(s) for s in scores]}


ALIGNMENT_LEAKAGE = (
    "Alignment (ECDH-PSI): the label holder learns its intersection with each feature "
    "holder, each feature holder its intersection with the label holder and which of those "
    "IDs all parties hold.")


def leakage(kind: str) -> str:
    """A model card's leakage statement: the training job's and its protocol's docstrings."""
    from yinji.ml import secureboost, sslr
    from yinji.ml.card import leakage_statement

    if kind == "secureboost":
        return ALIGNMENT_LEAKAGE + "\n\n" + leakage_statement(secureboost.__doc__)
    return leakage_statement(SSLRTrainRunner.__doc__) + "\n\n" + leakage_statement(sslr.__doc__)


MODEL_RUNNERS = {r.name: r for r in (SecureBoostTrainRunner(), SSLRTrainRunner(),
                                      PredictRunner())}


class ModelServing:
    """A node's model registry and serving front (`node.models`): metadata for the API,
    prediction calls as `model.predict` jobs, this node's reusable OU key pair."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.registry = ModelRegistry(node.home / MODELS_DIR, node.cfg.name)
        self._pending: dict[str, tuple[float, list[str], str]] = {}
        self._lock = threading.Lock()
        self._keys: Any = None
        # renders a model-health Report JSON into a folder (CSV, .xlsx, HTML): set by the app
        # layer (`yinji node run`), which the node runtime does not import
        self.report_renderer: Any = None

    def he_keys(self) -> Any:
        """This node's OU key pair for SecureBoost training (generated once per process:
        key generation takes seconds; yinji.ml.secureboost allows reuse across jobs)."""
        from yinji.ml.secureboost import generate_keys

        with self._lock:
            if self._keys is None:
                self._keys = generate_keys()
            return self._keys

    # -- metadata -----------------------------------------------------------------------------
    def meta(self, name: str, version: int | None = None) -> ModelMeta:
        try:
            return self.registry.load(name, version)[0]
        except (KeyError, FileNotFoundError, ValueError):
            what = f"{name!r}" + (f" version {version}" if version else "")
            raise ModelError(f"no model {what} in {self.node.cfg.name}'s registry",
                             404) from None

    @staticmethod
    def public(meta: ModelMeta) -> dict[str, Any]:
        """Metadata only: never a party's trees, thresholds or shares."""
        return asdict(meta)

    def list(self) -> list[dict[str, Any]]:
        return [self.public(m) for m in self.registry.list()]

    def card(self, name: str, version: int | None = None) -> dict[str, Any]:
        """This node's model card of a version (404 if the model or its card is missing)."""
        from yinji.ml.card import read_card

        meta = self.meta(name, version)
        card = read_card(self.registry, meta.name, meta.version)
        if card is None:
            raise ModelError(f"{meta.name} v{meta.version} has no model card on "
                             f"{self.node.cfg.name} (trained before cards existed)", 404)
        return card

    # -- prediction ---------------------------------------------------------------------------
    def take_ids(self, digest: str) -> tuple[list[str], str]:
        with self._lock:
            item = self._pending.pop(digest, None)
        if item is None:
            raise ValueError("the IDs of this prediction are no longer held by the requester "
                             "(node restarted or call expired)")
        return item[1], item[2]

    def predict(self, name: str, ids: list[str], *, version: int | None, principal: str,
                timeout: float, scenario: dict[str, Any] | None = None,
                ) -> tuple[int, dict[str, Any]]:
        """Propose a `model.predict` job for `ids` and wait up to `timeout` seconds; returns
        (HTTP status, body): 200 with scores, 202 while the job waits (e.g. for a person's
        approval; the scores are then the job's result). Raises ModelError otherwise.
        `scenario`: the call of a published scenario API this serves (yinji.node.scenarios)."""
        meta = self.meta(name, version)
        me = self.node.cfg.name
        if me not in meta.features:
            raise ModelError(f"{me} holds no features of model {meta.name!r}: only a data "
                             "holder can request its predictions", 403)
        nonce = secrets.token_hex(16)
        digest = commitment(nonce, ids)
        now = time.time()
        with self._lock:
            for k in [k for k, v in self._pending.items() if now - v[0] > PENDING_TTL]:
                del self._pending[k]
            self._pending[digest] = (now, list(ids), nonce)
        create = {
            "protocol": "model.predict",
            "inputs": {p: {"dataset": meta.params["datasets"][p],
                           "columns": [meta.params["id_columns"][p], *_inputs_of(meta)[p]]}
                       for p in sorted(meta.features)},
            "params": {"model": meta.name, "version": meta.version, "n_ids": len(ids),
                       "ids_commitment": digest, "requested_by": principal},
            "recipients": [me], **({"helpers": meta.params["helpers"]}
                                   if meta.params.get("helpers") else {}),
            **({"scenario": scenario} if scenario else {})}   # a scenario API's call
        try:
            job = self.node.jobs.propose(create, by=principal)
        except Exception:
            self.take_ids_quietly(digest)
            raise
        deadline = time.monotonic() + timeout
        while job["state"] in ("proposed", "approved", "running") and \
                time.monotonic() < deadline:
            time.sleep(0.05)
            job = self.node.jobs.public(self.node.store.job(job["id"]))
        body = {"job_id": job["id"], "model": meta.name, "version": meta.version,
                "state": job["state"], "reason": job["reason"], "n_ids": len(ids),
                "ids": None, "scores": None}
        if job["state"] in ("proposed", "approved", "running"):
            return 202, body
        if job["state"] != "succeeded":
            self.take_ids_quietly(digest)
            raise ModelError(f"prediction job {job['id']} {job['state']}: {job['reason']}",
                             409 if job["state"] in ("rejected", "cancelled") else 502,
                             job_id=job["id"])
        result = json.loads(self.node.store.result(job["id"])["result_json"])
        if result["scores"] is None:
            lists = "; ".join(f"{p}: {', '.join(v[:20])}{' ...' if len(v) > 20 else ''}"
                              for p, v in result["unknown"].items())
            raise ModelError(f"not every party holds every ID, nothing was scored ({lists})",
                             422, job_id=job["id"], unknown=result["unknown"])
        return 200, {**body, "ids": result["ids"], "scores": result["scores"]}

    def take_ids_quietly(self, digest: str) -> None:
        with self._lock:
            self._pending.pop(digest, None)
