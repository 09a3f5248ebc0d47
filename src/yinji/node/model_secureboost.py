"""`model.secureboost`: training vertical SecureBoost as a node job. One label holder (SecureBoost's active party) and one or
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

SecureBoost's adversary model: semi-honest, no collusion between the label holder and a
feature holder (as `yinji.ml.secureboost`).

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
"""

from __future__ import annotations

import importlib.util
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.ml.prep import apply as prep_apply
from yinji.ml.prep import output_columns
from yinji.ml.registry import ModelMeta
from yinji.node.model_jobs import (
    MIN_ROWS,
    TrainingRunner,
    bad_oot,
    features_of,
    input_table,
    prepare,
    recv_msg,
    send_msg,
)

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

ALIGNMENT_LEAKAGE = (
    "Alignment (ECDH-PSI): the label holder learns its intersection with each feature "
    "holder, each feature holder its intersection with the label holder and which of those "
    "IDs all parties hold.")
CONFIG = {"n_trees": (int, 1, 200), "max_depth": (int, 1, 8), "bins": (int, 2, 64),
           "learning_rate": (float, 1e-4, 1.0), "reg_lambda": (float, 0.0, 1e6),
           "min_child_weight": (float, 0.0, 1e6), "gamma": (float, 0.0, 1e6)}


class SecureBoostTrainRunner(TrainingRunner):
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

    def leakage(self) -> str:
        from yinji.ml import secureboost
        from yinji.ml.card import leakage_statement

        return ALIGNMENT_LEAKAGE + "\n\n" + leakage_statement(secureboost.__doc__)

    def validate(self, spec: dict[str, Any]) -> list[str]:
        return self._inputs(spec, 2) + self._training(spec, CONFIG, 0.2, (0, 1)) + \
            bad_oot(spec)

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
        features = features_of(spec)[me]
        ctx.progress(0.2, "aligning")
        rows, val = self._align(ctx, holder, passives, ctx.inputs[cols[0]])
        oot = {k: params[k] for k in ("oot_column", "oot_cutoff") if k in params}
        state = prepare(spec, me, ctx.inputs, rows[~val])   # fitted on training rows only
        x = prep_apply(state, input_table(ctx.inputs, features, rows))
        outputs = self._share_features(ctx, holder, passives, output_columns(state))
        cfg = SecureBoostConfig(**{k: CONFIG[k][0](params[k]) for k in CONFIG if k in params})
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
                    "inputs": features_of(spec),
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
                send_msg(ctx.party, p, {"ids": [key.decode() for key in order],
                                     "validation": val.tolist()})
        else:
            found = {prepared.keys[i] for i in ecdh_psi(ctx.party, holder, prepared)}
            msg = recv_msg(ctx.party, holder)
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


__all__ = ["ALIGNMENT_LEAKAGE", "CONFIG", "SecureBoostTrainRunner"]
