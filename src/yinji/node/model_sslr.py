"""`model.sslr`: training SS-LR on a hidden join as a node job. Two data owners (inputs as above; the label holder's holds
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
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.ml.prep import apply as prep_apply
from yinji.ml.prep import output_columns
from yinji.ml.registry import ModelMeta
from yinji.node.model_jobs import MIN_ROWS, TrainingRunner, features_of, input_table, prepare

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

SSLR_PARAMS = {"epochs": (int, 1, 100), "batch_size": (int, 1, 1 << 16),
         "learning_rate": (float, 1e-4, 10.0), "l2": (float, 0.0, 1e3),
         "newton_steps": (int, 1, 50)}  # epochs .. learning_rate: SSLR(solver="sgd") only


class SSLRTrainRunner(TrainingRunner):
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

    def leakage(self) -> str:
        from yinji.ml import sslr
        from yinji.ml.card import leakage_statement

        return leakage_statement(SSLRTrainRunner.__doc__) + "\n\n" + \
            leakage_statement(sslr.__doc__)

    def validate(self, spec: dict[str, Any]) -> list[str]:
        problems = self._inputs(spec, 2) + self._training(spec, SSLR_PARAMS, 0.1, (1, 1))
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
        features = features_of(spec)
        session = Session(ctx.party, names)
        ctx.progress(0.2, "joining")
        if me in owners:
            assert ctx.inputs is not None
            cols = spec["inputs"][me]["columns"]
            keys = prepare_keys(list(ctx.inputs[cols[0]]))
            state = prepare(spec, me, ctx.inputs, keys.rows)   # its own rows only
            x = prep_apply(state, input_table(ctx.inputs, features[me], keys.rows))
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
                   **{k: SSLR_PARAMS[k][0](params[k]) for k in SSLR_PARAMS if k in params})
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


__all__ = ["SSLR_PARAMS", "SSLRTrainRunner"]
