"""SecureBoost feature importance per owner: each passive party receives exactly its own
features' (gain, splits), which match its own record of the splits it evaluated; the label
holder gets its own features' importance and the ranking of the owners' groups."""

import numpy as np
import pytest

from yinji.ml.importance import (
    feature_importance,
    group_ranking,
    receive_importance,
    share_importance,
)
from yinji.ml.secureboost import (
    SecureBoostActive,
    SecureBoostConfig,
    SecureBoostHelper,
    SecureBoostModel,
    SecureBoostPassive,
)
from yinji.testing.parties import record_received, run_parties


def _train(x, y, cfg):
    """A: x[:, :1] + labels; B: x[:, 1:3]; C: x[:, 3:]; H: helper (assisted mode, no HE)."""
    cols = {"A": x[:, :1], "B": x[:, 1:3], "C": x[:, 3:]}
    n_features = {p: v.shape[1] for p, v in cols.items()}

    def body(party):
        if party.name == "A":
            model = SecureBoostActive(party, ["B", "C"], cfg, helper="H").fit(cols["A"], y)
            return model, share_importance(party, model, n_features)
        if party.name == "H":
            return SecureBoostHelper(party, "A").run()
        part = SecureBoostPassive(party, "A").fit(cols[party.name])
        view = record_received(party)
        return part, receive_importance(party, "A", n_features[party.name]), view

    return run_parties(body, names=["A", "B", "C", "H"], timeout=120), n_features


def test_each_owner_gets_its_own_importance():
    rng = np.random.default_rng(11)
    n = 600
    x = rng.normal(size=(n, 5))
    y = ((2 * x[:, 1] + x[:, 0] + 0.5 * x[:, 3] + rng.normal(size=n) * 0.5) > 0).astype(float)
    ((model, (own, ranking)), (part_b, imp_b, view_b), (part_c, imp_c, view_c), _), nf = \
        _train(x, y, SecureBoostConfig(n_trees=4, max_depth=3, bins=8))
    every = feature_importance(model, nf)
    for part, imp, name in ((part_b, imp_b, "B"), (part_c, imp_c, "C")):
        np.testing.assert_array_equal(imp.gain, every[name].gain)
        np.testing.assert_array_equal(imp.splits, every[name].splits)
        # split counts agree with the passive party's own record of its splits
        counts = np.bincount([f for f, _ in part.splits.values()], minlength=nf[name])
        np.testing.assert_array_equal(imp.splits, counts)
    # each passive received one array: its own features' (gain, splits), nothing more
    assert len(view_b) == 1 and view_b[0][1].shape == (2, 2)
    assert len(view_c) == 1 and view_c[0][1].shape == (2, 2)
    # the informative features come first; B (the strongest feature) leads the groups
    assert imp_b.ranking(["b0", "b1"])[0][0] == "b0"
    assert ranking[0]["party"] == "B" and {r["party"] for r in ranking} == {"A", "B", "C"}
    assert sum(r["share"] for r in ranking) == pytest.approx(1.0)
    assert own.gain.shape == (1,) and (own.gain >= 0).all()
    assert all(nd["gain"] > 0 for t in model.trees for nd in t if "owner" in nd)


def test_old_models_and_bad_metadata():
    tree = [{"id": 0, "owner": "B", "feature": 1, "bin": 0, "left": 1, "right": 2},
            {"id": 1, "leaf": 0.1}, {"id": 2, "leaf": -0.1}]
    model = SecureBoostModel([tree], 0.0, "A", ["B"])
    imp = feature_importance(model, {"A": 1, "B": 2})
    assert imp["B"].splits.tolist() == [0, 1] and np.isnan(imp["B"].gain[1])
    assert [r["party"] for r in group_ranking(imp)][0] == "B"
    with pytest.raises(ValueError, match="feature 1 of 'B'"):
        feature_importance(model, {"A": 1, "B": 1})
