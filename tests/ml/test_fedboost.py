"""Horizontal federated histogram boosting (secure aggregation of histograms) on ISLR Default,
rows dealt to 3 companies, against XGBoost on the union of the rows. Tolerance: test AUC
within 0.01."""

import numpy as np
import pytest

from yinji.ml import metrics
from yinji.ml.fedboost import FedBoostConfig, fedboost_client, fedboost_server, predict_trees
from yinji.testing.parties import run_parties

CLIENTS = ["C0", "C1", "C2"]


def test_fedboost_matches_xgboost(default_data):
    xgb = pytest.importorskip("xgboost")
    tr, te = default_data
    cfg = FedBoostConfig(n_trees=10, max_depth=3)
    parts = [(tr.x[i::3], tr.y[i::3]) for i in range(3)]

    def body(party):
        if party.name == "S":
            return fedboost_server(party, CLIENTS, cfg, tr.x.shape[1])
        return fedboost_client(party, "S", CLIENTS, cfg, *parts[CLIENTS.index(party.name)])

    out = run_parties(body, names=["S", *CLIENTS], timeout=120)
    trees, base = out[0]
    assert all(o[0] == trees for o in out[1:])
    p = predict_trees(trees, base, te.x)
    ref = xgb.XGBClassifier(n_estimators=cfg.n_trees, max_depth=cfg.max_depth,
                            learning_rate=cfg.learning_rate, tree_method="hist",
                            max_bin=cfg.bins, n_jobs=1).fit(tr.x, tr.y)
    assert metrics.auc(te.y, p) > metrics.auc(te.y, ref.predict_proba(te.x)[:, 1]) - 0.01


def test_a_client_refuses_a_bad_column_by_name_before_joining():
    """Infinity or a column beyond secure aggregation's range fails at the client, naming
    the column, before it sends anything (party None: no message can be sent)."""
    from yinji.ml.fedavg import FedAvg, fedavg_client

    y = np.array([0.0, 1.0])
    x = np.array([[1.0, np.inf], [2.0, 3.0]])
    with pytest.raises(ValueError, match="NaN or infinite values in balance"):
        fedboost_client(None, "S", CLIENTS, FedBoostConfig(), x, y, columns=["age", "balance"])
    big = np.array([[1.0, 3e9], [2.0, 3e9]])
    with pytest.raises(ValueError, match=r"too large for secure aggregation in balance"):
        fedavg_client(None, "S", CLIENTS, FedAvg(), big, y, columns=["age", "balance"])
