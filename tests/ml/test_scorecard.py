"""Scorecard points and reason codes: SS-LR contributions on shares equal the plaintext
w_j * xs_j of the same (revealed, test-only) model; points follow the PDO formula; only the
recipient learns anything."""

import math

import numpy as np
import pytest

from yinji.ml import scorecard as sc
from yinji.ml.registry import ModelMeta, ModelRegistry, save_sslr
from yinji.ml.sslr import SSLR
from yinji.mpc import Session
from yinji.testing.datasets import share_vertical
from yinji.testing.mpc import NAMES, run_mpc
from yinji.testing.parties import looks_uniform, record_received


def _table(n=300, seed=7):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4)) * [1, 10, 1000, 0.1] + [0, -5, 1e4, 0]
    z = (x - x.mean(0)) / x.std(0)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(z @ [1.0, -1.0, 0.5, 0.0])))).astype(float)
    return x, y


def test_points_scale_and_reason_codes():
    s = sc.PointsScale(pdo=20, base_score=600, base_odds=50)
    assert s.points(-math.log(50)) == pytest.approx(600)
    assert s.points(-math.log(100)) == pytest.approx(620)   # odds doubled: +pdo
    c = np.array([[0.5, -1.0, 0.2], [-0.1, -0.2, -0.3], [0.0, 0.0, 0.0], [1.0, 1.0, 2.0]])
    card = sc.scorecard(c, -1.0, ["a", "b", "c"], s, k=2)
    assert card.reasons == [["a", "c"], [], [], ["c", "a"]]
    np.testing.assert_allclose(card.score, s.points(c.sum(1) - 1.0))
    np.testing.assert_allclose(card.points.sum(1), card.score)
    np.testing.assert_allclose(card.probability, 1 / (1 + np.exp(-(c.sum(1) - 1.0))))
    assert sc.scorecard(np.zeros((0, 2)), 0.0, ["a", "b"]).reasons == []
    with pytest.raises(ValueError, match="pdo"):
        sc.PointsScale(pdo=0)
    with pytest.raises(ValueError, match="groups"):
        sc.scorecard(c, 0.0, ["a"])


@pytest.mark.parametrize(("per_feature", "m"), [(False, 40), (True, 40), (False, 1)])
def test_sslr_scorecard_matches_plaintext(tmp_path, per_feature, m):
    x, y = _table()
    score_rows = x[:m]

    def program(s: Session):
        xs, ys = share_vertical(s, x, y, 2)
        model, _ = SSLR(newton_steps=4).fit(xs, ys)
        reg = ModelRegistry(tmp_path / s.party.name, s.party.name)
        meta = ModelMeta("m", 1, "sslr", list(NAMES), {NAMES[0]: ["a", "b"],
                                                      NAMES[1]: ["c", "d"]}, NAMES[1])
        save_sslr(reg, meta, model)
        mine = score_rows[:, :2] if s.rank == 0 else score_rows[:, 2:] if s.rank == 1 else None
        view = record_received(s.party)
        card = sc.scorecard_sslr(s, reg, "m", [str(i) for i in range(m)], mine, NAMES[1],
                                 per_feature=per_feature, k=2)
        # test only: the plaintext model, opened after the fact
        xsd = share_vertical(s, score_rows, None, 2)
        std = model.features.apply(xsd).reveal()
        w = model.weights.reveal()
        return card, view, std, w

    out = run_mpc(program)
    card, _, std, w = out[1]
    assert out[0][0] is None and out[2][0] is None
    for rank in (0, 2):   # non-recipients saw only shares
        view = out[rank][1]
        assert not looks_uniform(view, min_size=min(m, 40))
    per = std * w[:4]
    want = per if per_feature else np.c_[per[:, :2].sum(1), per[:, 2:].sum(1)]
    np.testing.assert_allclose(card.contributions, want, atol=2e-3)
    assert card.intercept == pytest.approx(w[4], abs=1e-3)
    logit = std @ w[:4] + w[4]
    np.testing.assert_allclose(card.score, sc.PointsScale().points(logit), atol=0.2)
    names = ["P0:a", "P0:b", "P1:c", "P1:d"] if per_feature else ["P0", "P1"]
    assert card.groups == names
    want_reasons = sc.reason_codes(want, names, 2)
    agree = np.mean([a == b for a, b in zip(card.reasons, want_reasons, strict=True)])
    assert agree >= 0.95   # ties within fixed-point error may swap
    assert card.contributions.shape == (m, len(names))


def test_bad_groups_and_kinds(tmp_path):
    x, y = _table(60)

    def program(s: Session):
        xs, ys = share_vertical(s, x, y, 2)
        model, _ = SSLR(newton_steps=1).fit(xs, ys)
        with pytest.raises(ValueError, match="exactly once"):
            sc.sslr_contributions(model, xs, [[0, 1], [1, 2, 3]], 1)
        lin, _ = SSLR(kind="linear", newton_steps=1).fit(xs, ys)
        with pytest.raises(ValueError, match="logistic"):
            sc.sslr_contributions(lin, xs, [[0, 1, 2, 3]], 1)
        return True

    assert run_mpc(program) == [True] * 3

