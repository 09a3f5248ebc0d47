"""Scorecard points and reason codes for SS-LR models (`yinji.ml.sslr`).

Points: score = offset - factor * log-odds(event), factor = PDO / ln 2 and
offset = base_score - factor * ln(base_odds): a score of `base_score` at good:bad odds of
`base_odds`, and every `pdo` points double the odds (Siddiqi, "Credit Risk Scorecards",
2006). A logistic model's log-odds is b + sum_j w_j xs_j (xs: the standardised features),
so a group G of features gets points -factor * sum_{j in G} w_j xs_j plus an equal share of
(offset - factor * b); the groups' points add up to the score.

Reason codes: the groups with the largest adverse contribution sum_{j in G} w_j xs_j > 0
(pushing the row towards the event, against the average training row, whose standardised
features are 0), top k per row, largest first.

How the contributions are obtained (`sslr_contributions`): the weights and the
standardisation are secret-shared, so the three MPC parties compute xs * w per feature on
shares, sum them per group and open the (rows x groups) matrix and the intercept b to the
recipient (the label holder) only. Groups are per owner by default (coarse reason codes: "the
fund's data", "the broker's data"); per feature only if the parties approve it.

Adversary model: semi-honest, honest majority of the three MPC parties (as `yinji.mpc`).

Leakage (to the recipient only; the other parties receive shares and learn nothing): per
scored row and group G, c_G = sum_{j in G} w_j xs_j, and the intercept b (so the score). For
another party's group this is a secret linear combination of that party's standardised
features of the row: over many rows the recipient learns how the rows rank on that
combination, and with the feature values of a few rows it could solve for the weights. For a
one-feature group (per-feature codes) it is that feature up to an unknown affine map, i.e.
the ordering of the scored customers by the other party's feature: approve per-feature
reason codes only where that is acceptable. `tests/ml/test_scorecard.py` checks that the
non-recipients' views are uniform shares.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from yinji.ml._fixed import as_fixed
from yinji.ml.registry import ModelRegistry, PredictionEvent, audit_prediction
from yinji.ml.sslr import SSLinearModel
from yinji.mpc import Session, SharedTensor, concatenate, stack


@dataclass(frozen=True)
class PointsScale:
    """Scaling: `base_score` points at good:bad odds `base_odds`; `pdo` points double them."""

    pdo: float = 20.0
    base_score: float = 600.0
    base_odds: float = 50.0

    def __post_init__(self) -> None:
        if not self.pdo > 0 or not self.base_odds > 0 or not math.isfinite(self.base_score):
            raise ValueError("scorecard scale needs pdo > 0, base_odds > 0 and a finite base "
                             f"score, got {self}")

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_score - self.factor * math.log(self.base_odds)

    def points(self, log_odds: np.ndarray) -> np.ndarray:
        """Score of event log-odds ln(p / (1 - p))."""
        return self.offset - self.factor * np.asarray(log_odds, np.float64)


@dataclass
class Scorecard:
    """The recipient's result for a batch of rows."""

    groups: list[str]
    contributions: np.ndarray  # (rows, groups): log-odds contributions c_G
    intercept: float
    points: np.ndarray          # (rows, groups): points per group; rows sum to `score`
    score: np.ndarray           # (rows,)
    probability: np.ndarray     # (rows,) event probability
    reasons: list[list[str]]    # per row: up to k groups, most adverse first


def scorecard(contributions: np.ndarray, intercept: float, groups: Sequence[str],
              scale: PointsScale | None = None, k: int = 3) -> Scorecard:
    """Points, scores and top-k reason codes from per-group log-odds contributions."""
    c = np.asarray(contributions, np.float64)
    if c.ndim != 2 or c.shape[1] != len(groups):
        raise ValueError(f"contributions of shape {c.shape} for {len(groups)} groups")
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    scale = scale or PointsScale()
    m = max(1, c.shape[1])
    points = -scale.factor * c + (scale.offset - scale.factor * intercept) / m
    log_odds = c.sum(axis=1) + intercept
    return Scorecard(list(groups), c, float(intercept), points, points.sum(axis=1),
                     1 / (1 + np.exp(-log_odds)), reason_codes(c, groups, k))


def reason_codes(contributions: np.ndarray, groups: Sequence[str], k: int = 3
                 ) -> list[list[str]]:
    """Per row, the names of up to k groups with a positive (adverse) contribution, largest
    first (ties by group order)."""
    c = np.asarray(contributions, np.float64)
    if len(c) == 0 or c.shape[1] == 0 or k == 0:
        return [[] for _ in range(len(c))]
    order = np.argsort(-c, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(c, order, axis=1)
    names = np.asarray(list(groups), dtype=object)
    return [list(names[o[t > 0]]) for o, t in zip(order, top, strict=True)]


# ------------------------------------------------------------------------------ MPC part
def sslr_contributions(model: SSLinearModel, x: SharedTensor,
                       groups: Sequence[Sequence[int]], recipient: int | str
                       ) -> tuple[np.ndarray, float] | None:
    """Per-group log-odds contributions (rows x groups) and the intercept of a logistic SS-LR
    model on shared rows x, opened to `recipient` only (others get None); `groups` lists
    each group's column indices in x."""
    if model.kind != "logistic":
        raise ValueError("scorecards need a logistic model")
    d = x.shape[1]
    if model.weights.shape[0] != d + 1:
        raise ValueError(f"the model has {model.weights.shape[0] - 1} weights, rows have {d} "
                         "columns")
    cols = [int(j) for g in groups for j in g]
    if sorted(cols) != list(range(d)):
        raise ValueError(f"groups must cover each of the {d} columns exactly once")
    xs = model.features.apply(x) if model.features is not None else as_fixed(x)
    w = model.weights
    per_feature = xs * w[:d]   # (rows, d): w_j xs_j
    sums = [per_feature[:, list(g)].sum(axis=1) if len(g) else per_feature[:, 0] * 0
            for g in groups]
    out = concatenate([stack(sums, axis=1).reshape(-1), w[d:]], axis=0).reveal_to(recipient)
    if out is None:
        return None
    n = x.shape[0]
    return out[:-1].reshape(n, len(groups)), float(out[-1])


def scorecard_sslr(session: Session, registry: ModelRegistry, name: str, ids: Sequence[str],
                   my_rows: np.ndarray | None, requester: str, *, version: int | None = None,
                   per_feature: bool = False, scale: PointsScale | None = None, k: int = 3,
                   audit: Callable[[PredictionEvent], None] | None = None) -> Scorecard | None:
    """Joint scoring with points and reason codes (as `registry.predict_sslr`, same inputs):
    groups are the model's data owners (or its features with `per_feature`, see the module's
    leakage); the requester gets the Scorecard, the others None."""
    meta, part = registry.load(name, version)
    if meta.kind != "sslr":
        raise ValueError(f"{name} is a {meta.kind} model: scorecards need an SS-LR model")
    audit_prediction(registry, meta, requester, ids, audit)
    model = SSLinearModel.from_shares(session, meta.params, part)
    cols, groups, names, at = [], [], [], 0
    for rank, owner in enumerate(session.names):
        feats = meta.features.get(owner, [])
        if not feats:
            continue
        value = np.asarray(my_rows, np.float64) if session.rank == rank else None
        if value is not None and value.shape != (len(ids), len(feats)):
            raise ValueError(f"{owner}: expected rows of shape {(len(ids), len(feats))}, "
                             f"got {value.shape}")
        cols.append(SharedTensor.share(session, value, rank, shape=(len(ids), len(feats))))
        if per_feature:
            groups += [[at + j] for j in range(len(feats))]
            names += [f"{owner}:{f}" for f in feats]
        else:
            groups.append(list(range(at, at + len(feats))))
            names.append(owner)
        at += len(feats)
    got = sslr_contributions(model, concatenate(cols, axis=1), groups, requester)
    if got is None:
        return None
    return scorecard(got[0], got[1], names, scale, k)
