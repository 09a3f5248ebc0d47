"""Feature importance of a vertical SecureBoost model (`yinji.ml.secureboost`), per owner.

Importance of a feature: the total gain of the splits on it (XGBoost's "total_gain") and
the number of those splits ("weight"). The active party (label holder) chose every split,
so it holds, for each split node, the owner, the owner's local feature index and the gain
(recorded in the trees since this module; older models have split counts only).

`share_importance` (active) / `receive_importance` (each passive party): the active party
computes the importance of every feature, keeps the per-owner totals (the ranking of the
owners' groups, and its own features' importance) and sends each passive party the
importance of that party's own features only.

Adversary model: semi-honest, no collusion between the active and a passive party (as
SecureBoost).

Leakage: the active party learns nothing new (it computed every gain while training, and by
SecureBoost's leakage knows which (party, feature index) each split used); the module only
keeps what it reports to the label holder's people at the group level. A passive party
learns, for each of its own features, the number of splits (which it knew: it evaluated them)
and their total gain: a function of the label holder's gradient sums over the nodes' rows it
already knows; nothing about other parties' features.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yinji.ml.secureboost import SecureBoostModel
from yinji.net.channel import Party
from yinji.net.expect import recv_array


@dataclass
class Importance:
    """(gain, splits) per feature of one owner, in that owner's feature order."""

    gain: np.ndarray
    splits: np.ndarray

    def ranking(self, names: list[str] | None = None) -> list[tuple[str, float, int]]:
        """(feature, total gain, splits), most important first."""
        names = names or [f"x{j}" for j in range(len(self.gain))]
        order = np.lexsort((-self.splits, -self.gain))
        return [(names[j], float(self.gain[j]), int(self.splits[j])) for j in order]


def feature_importance(model: SecureBoostModel, n_features: dict[str, int]
                       ) -> dict[str, Importance]:
    """Every owner's feature importance, at the active party. `n_features`: each party's
    feature count (the model's metadata). A model trained before gains were recorded gets
    NaN gains (split counts only)."""
    out = {p: Importance(np.zeros(k), np.zeros(k, np.int64)) for p, k in n_features.items()}
    for tree in model.trees:
        for nd in tree:
            if "leaf" in nd or "owner" not in nd:
                continue
            owner, j = nd["owner"], int(nd["feature"])
            if owner not in out or not 0 <= j < len(out[owner].gain):
                raise ValueError(f"the model splits on feature {j} of {owner!r}, which has "
                                 f"{len(out.get(owner, Importance(np.zeros(0), np.zeros(0))).gain)}"
                                 " features in the metadata")
            out[owner].splits[j] += 1
            out[owner].gain[j] += float(nd.get("gain", np.nan))
    return out


def group_ranking(importance: dict[str, Importance]) -> list[dict[str, float | str | int]]:
    """Owners ranked by the total gain (then split count) of their features' splits, with
    each owner's share of the total gain."""
    total = sum(float(v.gain.sum()) for v in importance.values())
    rows = [{"party": p, "gain": float(v.gain.sum()), "splits": int(v.splits.sum()),
             "share": float(v.gain.sum() / total) if total > 0 else float("nan")}
            for p, v in importance.items()]
    return sorted(rows, key=lambda r: (-r["gain"] if r["gain"] == r["gain"] else 0,
                                       -r["splits"], r["party"]))


def share_importance(party: Party, model: SecureBoostModel, n_features: dict[str, int]
                     ) -> tuple[Importance, list[dict[str, float | str | int]]]:
    """Active party: send each passive party its own features' importance; returns this
    party's own features' importance and the ranking of the owners' groups."""
    imp = feature_importance(model, n_features)
    for p in model.passives:
        mine = imp.get(p, Importance(np.zeros(0), np.zeros(0, np.int64)))
        party.channel(p).send_array(np.column_stack([mine.gain, mine.splits.astype(np.float64)])
                                    if len(mine.gain) else np.zeros((0, 2)))
    own = imp.get(model.active, Importance(np.zeros(0), np.zeros(0, np.int64)))
    return own, group_ranking(imp)


def receive_importance(party: Party, active: str, n_features: int) -> Importance:
    """Passive party: its own features' importance, from the active party."""
    arr = recv_array(party.channel(active), f"the importance of {n_features} features",
                     np.float64, (n_features, 2))
    return Importance(arr[:, 0].copy(), arr[:, 1].astype(np.int64))
