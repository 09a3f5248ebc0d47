"""Joint modeling on the node runtime: train vertical SecureBoost or SS-LR as a job, keep each
party's part in its node's model registry, serve joint predictions as jobs (issue 6, item 4).

The job kinds, each in its module with its adversary model and leakage:
`model.secureboost` (`yinji.node.model_secureboost`), `model.sslr` (`model_sslr`),
`model.predict` (`model_predict`); what they share (spec checks, preprocessing, bounded
messages, storing, model cards) is in `model_jobs`, the node's serving front
(`node.models`) in `model_serving`. This module is the job registry the node's runners
read (`MODEL_RUNNERS`) and re-exports the names other modules use.
"""

from __future__ import annotations

from yinji.node.model_jobs import (
    MAX_IDS,
    MIN_ROWS,
    MODELS_DIR,
    PENDING_TTL,
    ModelError,
    commitment,
    features_of,
    prepare,
)
from yinji.node.model_predict import PredictRunner
from yinji.node.model_secureboost import ALIGNMENT_LEAKAGE, SecureBoostTrainRunner
from yinji.node.model_serving import ModelServing
from yinji.node.model_sslr import SSLRTrainRunner

MODEL_RUNNERS = {r.name: r for r in (SecureBoostTrainRunner(), SSLRTrainRunner(),
                                      PredictRunner())}


def leakage(kind: str) -> str:
    """A model card's leakage statement for a model of `kind` ("secureboost" or "sslr")."""
    runner = SecureBoostTrainRunner() if kind == "secureboost" else SSLRTrainRunner()
    return runner.leakage()


__all__ = ["ALIGNMENT_LEAKAGE", "MAX_IDS", "MIN_ROWS", "MODELS_DIR", "MODEL_RUNNERS",
           "PENDING_TTL", "ModelError", "ModelServing", "PredictRunner", "SSLRTrainRunner",
           "SecureBoostTrainRunner", "commitment", "features_of", "leakage", "prepare"]
