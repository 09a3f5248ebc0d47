"""Vertical SecureBoost on ISLR Default (active: income + label; passive: student, balance)
against XGBoost with the same hyper-parameters on all columns.

Tolerance: test AUC within 0.01 of XGBoost (the bar of issue 6); the split search is the same
(histogram, XGBoost gain) but the bins are each party's own quantiles, not XGBoost's sketch.
"""

import pytest

from yinji.ml import metrics
from yinji.ml.secureboost import (
    PassivePart,
    SecureBoostActive,
    SecureBoostConfig,
    SecureBoostModel,
    SecureBoostPassive,
)
from yinji.net.channel import ChannelError
from yinji.testing.parties import run_parties

pytest.importorskip("heu")
CFG = SecureBoostConfig(n_trees=8, max_depth=3, learning_rate=0.3, bins=16)


def _train_and_predict(tr, te, cfg=CFG):
    def body(party):
        if party.name == "A":
            act = SecureBoostActive(party, ["B"], cfg)
            model = act.fit(tr.x[:, 2:], tr.y)
            p = act.predict(model, te.x[:, 2:])
            act.close_serving(model)
            return model, p
        pas = SecureBoostPassive(party, "A")
        part = pas.fit(tr.x[:, :2])
        pas.serve(part, te.x[:, :2])
        return part, pas.view

    return run_parties(body, names=["A", "B"], timeout=120)


def test_secureboost_matches_xgboost(default_data):
    xgb = pytest.importorskip("xgboost")
    tr, te = default_data
    (model, p), (part, view) = _train_and_predict(tr, te)
    ref = xgb.XGBClassifier(n_estimators=CFG.n_trees, max_depth=CFG.max_depth,
                            learning_rate=CFG.learning_rate, reg_lambda=CFG.reg_lambda,
                            tree_method="hist", max_bin=CFG.bins, n_jobs=1).fit(tr.x, tr.y)
    want = metrics.auc(te.y, ref.predict_proba(te.x)[:, 1])
    assert metrics.auc(te.y, p) > want - 0.01
    # the passive feature (balance) is the strongest: it must be used, its thresholds stay
    # at the passive party, the active party's tree names only (party, feature, bin)
    passive_nodes = [nd for tree in model.trees for nd in tree if nd.get("owner") == "B"]
    assert passive_nodes and all("threshold" not in nd for nd in passive_nodes)
    assert len(part.splits) == len(passive_nodes)
    # the passive received ciphertexts (one array per tree), never plaintext gradients
    assert view["ciphertext_bytes"] > CFG.n_trees * len(tr.y) * 100


def test_model_json_roundtrip(default_data):
    tr, te = default_data
    (model, _), (part, _) = _train_and_predict(tr, te, SecureBoostConfig(n_trees=2, max_depth=2))
    assert SecureBoostModel.from_json(model.to_json()).trees == model.trees
    assert PassivePart.from_json(part.to_json()).splits == part.splits


def test_prediction_fails_without_the_feature_holder(default_data):
    tr, te = default_data
    cfg = SecureBoostConfig(n_trees=2, max_depth=2)

    def body(party):
        if party.name == "A":
            act = SecureBoostActive(party, ["B"], cfg)
            model = act.fit(tr.x[:, 2:], tr.y)
            with pytest.raises(ChannelError):
                act.predict(model, te.x[:, 2:])
            return True
        SecureBoostPassive(party, "A").fit(tr.x[:, :2])
        party.close()  # the feature holder goes away before serving
        return True

    assert run_parties(body, names=["A", "B"], timeout=60) == [True, True]
