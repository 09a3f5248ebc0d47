"""`model.predict`: a joint prediction as a node job. Proposed by `POST /models/{name}/predict` from the model's
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

Leakage: every model party holding data learns the requested IDs and their
number (an SS-LR helper: the number only; SS-LR scores are opened to the requester only); the
requester learns the scores and, on failure, which IDs a party lacks; the feature holders
learn whether the batch was scored and (SecureBoost) which of the IDs reach each of their
split nodes, the label holder their directions there only (yinji.ml.secureboost). The label holder walks the trees, so it computes the
scores in the clear even when another party asked: it sends them to that requester and keeps
no copy (no result, no log entry), which is what SecureBoost inference allows.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

from yinji.node.audit import ModelPredictionEvent
from yinji.node.model_jobs import (
    MAX_IDS,
    MODEL_NAME,
    NodeRunner,
    commitment,
    input_table,
    inputs_of,
    key_index,
    recv_msg,
    send_msg,
)

if TYPE_CHECKING:
    from yinji.node.runners import RunContext

class PredictRunner(NodeRunner):
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
        if not MODEL_NAME.match(str(p.get("model", ""))):
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
        expected = [] if helper else [meta.params["id_columns"][me], *inputs_of(meta)[me]]
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
                send_msg(party, p, {"ids": ids, "nonce": nonce})
        elif not helper:
            msg = recv_msg(party, requester)
            ids, nonce = msg["ids"], msg["nonce"]
        if not helper and (len(ids) != params["n_ids"] or
                           commitment(nonce, ids) != params["ids_commitment"]):
            raise ValueError(f"{requester} sent IDs other than those approved")
        # 2. own rows; which IDs are missing goes to the requester only
        if not helper:
            assert ctx.inputs is not None
            index = key_index(ctx.inputs[expected[0]])
            found = [index.get(normalize(i).encode()) for i in ids]
            missing = [k for k, r in enumerate(found) if r is None]
        if me == requester:
            unknown = {me: missing} | {p: list(recv_msg(party, p)["missing"]) for p in owners}
            go = not any(unknown.values())
            for p in self.compute_parties(spec):
                if p != me:
                    send_msg(party, p, {"go": go})
        else:
            if not helper:
                send_msg(party, requester, {"missing": missing})
            go = bool(recv_msg(party, requester)["go"])

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
            rows = input_table(ctx.inputs, inputs_of(meta)[me], np.asarray(found, dtype=np.int64))
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


__all__ = ["PredictRunner"]
