"""A node's model registry and serving front (`node.models`): model metadata and cards for
the API, prediction calls proposed as `model.predict` jobs (`yinji.node.model_predict`) with
the IDs held here until the job asks for them, and this node's reusable OU key pair."""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from yinji.ml.registry import ModelMeta, ModelRegistry
from yinji.node.model_jobs import MODELS_DIR, PENDING_TTL, ModelError, commitment, inputs_of

if TYPE_CHECKING:
    from yinji.node.node import Node

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
                           "columns": [meta.params["id_columns"][p], *inputs_of(meta)[p]]}
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


__all__ = ["ModelServing"]
