"""What the model jobs (`yinji.node.model_runners`) share: spec checks, each party's
preprocessing, the JSON messages between the parties (refused past DATA_LIMIT), and the
runner bases (one version for all parts, the output columns exchanged, parts stored and
audited, model cards written).

Preprocessing (both training jobs): each data party passes its feature columns through
`yinji.ml.prep` with its declarations in params.prep (default: numeric median + missing
indicator, text one-hot; a text column with more than 20 categories is refused, naming it).
Empty cells load as missing (NaN) for these jobs instead of failing. The rules are fitted on
the party's own rows only (SecureBoost: its aligned training rows; SS-LR: its rows before the
join) and stored as its `prep.json`; the parties exchange their output column names (through
the label holder), which model.json lists as `features`, with the raw columns in
`params.inputs`. `model.predict` reads the raw columns and applies the stored `prep.json`.

Preprocessing's leakage: every model party learns the others' output column names
(positional: per text column the number of categories kept and whether an other bucket
exists, per column whether its fitting rows had a missing value); no category value, fill
value or bound leaves its owner (yinji.ml.prep, SECURITY.md).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.ml.registry import ModelMeta
from yinji.net.channel import Party
from yinji.node.audit import ModelStoredEvent
from yinji.node.result_files import DATA_LIMIT, check_size, recv_bounded

if TYPE_CHECKING:
    from yinji.node.node import Node
    from yinji.node.runners import RunContext

MODELS_DIR = "models"                 # under the node's home folder
MAX_IDS = 10_000                      # customer IDs per prediction call
MIN_ROWS = 20                         # aligned customers needed to train
PENDING_TTL = 86_400.0                # seconds a proposed prediction keeps its IDs in memory
MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")   # as yinji.ml.registry


def features_of(spec: dict[str, Any]) -> dict[str, list[str]]:
    """Each input holder's feature columns: its columns after the ID, minus the label (and
    the out-of-time validation date column)."""
    holder, label = spec["params"]["label_holder"], spec["params"]["label"]
    skip = {label, spec["params"].get("oot_column")}
    return {p: [c for c in i["columns"][1:] if not (p == holder and c in skip)]
            for p, i in spec["inputs"].items()}


def inputs_of(meta: ModelMeta) -> dict[str, list[str]]:
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


def prepare(spec: dict[str, Any], me: str, inputs: dict[str, np.ndarray],
             fit_rows: np.ndarray) -> dict[str, Any]:
    """This party's preprocessing (yinji.ml.prep) of its feature columns, fitted on its own
    rows `fit_rows` only: params.prep[me], default numeric median + missing indicator, text
    one-hot (a text column with too many categories is refused, naming it)."""
    from yinji.ml.prep import fit

    cols = features_of(spec)[me]
    declared = (spec["params"].get("prep") or {}).get(me, {})
    return fit(declared, cols, {c: np.asarray(inputs[c])[fit_rows] for c in cols})


def input_table(inputs: dict[str, np.ndarray], cols: list[str], rows: np.ndarray) -> dict[str, Any]:
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


def bad_oot(spec: dict[str, Any]) -> list[str]:
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


def send_msg(party: Party, peer: str, obj: Any) -> None:
    party.channel(peer).send_bytes(check_size(json.dumps(obj).encode(), "a model job message",
                                              peer, DATA_LIMIT))


def recv_msg(party: Party, peer: str) -> Any:
    """A peer's JSON message (aligned IDs, versions, go/no-go), refused past DATA_LIMIT."""
    return json.loads(recv_bounded(party.channel(peer), "a model job message", DATA_LIMIT))


def commitment(nonce: str, ids: list[str]) -> str:
    """Hiding, binding commitment to a batch of IDs (the nonce is 128 random bits)."""
    return hashlib.sha256(json.dumps([nonce, ids]).encode()).hexdigest()


def key_index(ids: np.ndarray) -> dict[bytes, int]:
    """Normalised ID -> own row (first row of a duplicated ID), as the PSI alignment uses."""
    from yinji.psi.keys import prepare_keys

    prepared = prepare_keys(list(ids))
    return dict(zip(prepared.keys, prepared.rows.tolist(), strict=True))


class NodeRunner:
    """A runner that needs its node (registry, audit log, key cache): the job engine calls
    `bind(node)` before `run`; validation does not need the node."""

    node: Node | None = None
    empty_as_nan = True   # empty cells load as missing: the preprocessing decides (prep)

    def bind(self, node: Node) -> NodeRunner:
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
            send_msg(ctx.party, leader, {"next": mine})
            return int(recv_msg(ctx.party, leader)["version"])
        version = max([mine] + [int(recv_msg(ctx.party, p)["next"]) for p in others])
        for p in others:
            send_msg(ctx.party, p, {"version": version})
        return version

    @staticmethod
    def _share_features(ctx: RunContext, leader: str, others: list[str],
                        mine: list[str] | None) -> dict[str, list[str]]:
        """Every data party's output columns (its preprocessing's), gathered by `leader`
        and sent to the others; `mine` None: a helper, which has none."""
        if ctx.me != leader:
            send_msg(ctx.party, leader, {"features": mine})
            return dict(recv_msg(ctx.party, leader)["features"])
        got = {ctx.me: mine} | {p: recv_msg(ctx.party, p)["features"] for p in others}
        out = {p: list(f) for p, f in sorted(got.items()) if f is not None}
        for p in others:
            send_msg(ctx.party, p, {"features": out})
        return out

    def _store(self, ctx: RunContext, leader: str, others: list[str], meta: ModelMeta,
               save: Any, part: Any) -> None:
        """Store this party's part with `save(registry, meta, part)` and audit it: the other
        parties first, then `leader` (whose copy serves, and who holds the job result)."""
        assert self.node is not None
        if ctx.me == leader:
            for p in others:
                recv_msg(ctx.party, p)
        save(self.node.models.registry, meta, part)
        self.node.audit.append(ModelStoredEvent(meta.name, meta.version, meta.kind,
                                                meta.job_id, meta.parties))
        if ctx.me != leader:
            send_msg(ctx.party, leader, {"stored": True})

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
        if not MODEL_NAME.match(str(params.get("model", ""))):
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


class TrainingRunner(NodeRunner):
    """A training job: writes model cards and delivers the label holder's health report."""

    def leakage(self) -> str:
        """The model card's leakage statement (the job's and its protocol's docstrings)."""
        raise NotImplementedError

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
        doc = card.build_card(meta, protocol=self.name, leakage=self.leakage(),
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


__all__ = ["MAX_IDS", "MIN_ROWS", "MODEL_NAME", "MODELS_DIR", "PENDING_TTL", "ModelError",
           "NodeRunner", "TrainingRunner", "bad_oot", "commitment", "features_of", "input_table",
           "inputs_of", "key_index", "prepare", "recv_msg", "send_msg"]
