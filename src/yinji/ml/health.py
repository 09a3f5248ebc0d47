"""Model health: discrimination (ROC, AUC, Gini, KS with its threshold), calibration (decile
table, Brier score, Hosmer-Lemeshow), lift/gains, and stability between a training and a
later scoring population (PSI of the score, CSI of each feature).

Pure functions on one party's own arrays; no protocol and no leakage of their own. Who may
call what: the label holder holds the scores (its result) and the labels, so it alone
computes the discrimination, calibration and lift figures and the score PSI; a feature owner
computes the CSI of its own features on its own rows (the training rows it holds and its
rows of the later scoring batch) and shares what it chooses.

Conventions: y is 0/1 with 1 the event ("bad"), a higher score means a higher event
probability; ties are handled as scikit-learn does (a threshold admits every row scoring at
least it). Stability bins are fixed on the expected (training) population: quantile edges
of its values, so each bin holds about 1/bins of it; empty bins get `eps` proportion so the
logarithm stays finite (the usual convention; the smoothing is stated with the result).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yinji.ml.metrics import OneClassError, auc


def _labels_scores(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y).ravel()
    s = np.asarray(score, dtype=np.float64).ravel()
    if len(y) != len(s):
        raise ValueError(f"{len(y)} labels but {len(s)} scores")
    if not np.isin(y, (0, 1)).all():
        raise ValueError("labels must be 0 or 1")
    if not np.isfinite(s).all():
        raise ValueError(f"scores must be finite numbers (row {int(np.argmin(np.isfinite(s)))} "
                         "is not)")
    y = y.astype(bool)
    if y.all() or not y.any():
        raise OneClassError(f"the {len(y)} rows are all labelled {int(y.any())}: ROC, KS "
                            "and calibration tests need both classes")
    return y, s


def roc(y: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) at every distinct score, highest first, starting at (0, 0)
    with threshold +inf: scikit-learn's `roc_curve(..., drop_intermediate=False)`."""
    y, s = _labels_scores(y, score)
    order = np.argsort(-s, kind="mergesort")
    ys, ss = y[order], s[order]
    last = np.r_[ss[1:] != ss[:-1], True]  # the last row of each run of tied scores
    tp, fp = np.cumsum(ys)[last], np.cumsum(~ys)[last]
    tpr = np.r_[0.0, tp / tp[-1]]
    fpr = np.r_[0.0, fp / fp[-1]]
    return fpr, tpr, np.r_[np.inf, ss[last]]


@dataclass
class Discrimination:
    auc: float
    gini: float
    ks: float
    ks_threshold: float  # score at which |TPR - FPR| is largest (rows scoring >= it flagged)


def discrimination(y: np.ndarray, score: np.ndarray) -> Discrimination:
    """AUC, Gini = 2 AUC - 1, and the KS statistic max |TPR - FPR| (the largest gap between
    the score distributions of events and non-events, scipy's two-sample KS; as
    `yinji.ml.metrics.ks`) with the threshold that attains it."""
    fpr, tpr, thr = roc(y, score)
    a = auc(y, score)
    gap = np.abs(tpr - fpr)
    k = int(np.argmax(gap))
    return Discrimination(a, 2 * a - 1, float(gap[k]), float(thr[k]))


def _quantile_groups(s: np.ndarray, groups: int) -> np.ndarray:
    """Group index 0..g-1 of each score, by score quantiles (ties stay in one group, so a
    group may be empty or hold more than n/g rows)."""
    if groups < 1:
        raise ValueError(f"need at least one group, got {groups}")
    edges = np.quantile(s, np.linspace(0, 1, groups + 1)[1:-1])
    return np.searchsorted(edges, s, side="left")


@dataclass
class Calibration:
    table: list[dict[str, float]]  # per group: rows, mean_score, observed_rate, events
    brier: float
    hosmer_lemeshow: float  # chi-squared statistic over the non-empty groups
    hl_dof: int             # non-empty groups - 2
    hl_pvalue: float


def calibration(y: np.ndarray, p: np.ndarray, groups: int = 10) -> Calibration:
    """Calibration of probabilities p: per score decile (quantile group) the mean predicted
    probability against the observed event rate, the Brier score mean((p - y)^2), and the
    Hosmer-Lemeshow statistic sum_g (O_g - E_g)^2 / (E_g (1 - E_g / n_g)) with groups - 2
    degrees of freedom (a small p-value: the probabilities do not match the observed rates)."""
    y, p = _labels_scores(y, p)
    if (p < 0).any() or (p > 1).any():
        raise ValueError("calibration needs probabilities in [0, 1]")
    g = _quantile_groups(p, groups)
    n = np.bincount(g, minlength=groups).astype(np.float64)
    events = np.bincount(g, y.astype(np.float64), minlength=groups)
    expected = np.bincount(g, p, minlength=groups)
    table = [{"group": int(k + 1), "rows": int(n[k]), "mean_score": float(expected[k] / n[k]),
              "observed_rate": float(events[k] / n[k]), "events": int(events[k])}
             for k in range(groups) if n[k]]
    keep = (n > 0) & (expected > 0) & (expected < n)
    hl = float(np.sum((events[keep] - expected[keep]) ** 2
                      / (expected[keep] * (1 - expected[keep] / n[keep]))))
    dof = max(1, int(keep.sum()) - 2)
    from scipy.stats import chi2

    return Calibration(table, float(np.mean((p - y) ** 2)), hl, dof, float(chi2.sf(hl, dof)))


def lift_table(y: np.ndarray, score: np.ndarray, groups: int = 10) -> list[dict[str, float]]:
    """Gains and lift by score group, highest scores first: per group its rows, events, event
    rate, the cumulative share of all events captured (gains) and the lift (group rate /
    overall rate) and cumulative lift. Rows are ranked by score (ties broken by row order)
    and cut into `groups` groups of equal size, give or take one row."""
    y, s = _labels_scores(y, score)
    if not 1 <= groups <= len(y):
        raise ValueError(f"groups must be 1..{len(y)} (the number of rows), got {groups}")
    ys = y[np.argsort(-s, kind="mergesort")].astype(np.float64)
    bounds = np.linspace(0, len(ys), groups + 1).round().astype(int)
    rate, total = ys.mean(), ys.sum()
    out, cum_rows, cum_ev = [], 0, 0.0
    for k in range(groups):
        part = ys[bounds[k]:bounds[k + 1]]
        cum_rows, cum_ev = cum_rows + len(part), cum_ev + part.sum()
        out.append({"group": k + 1, "rows": len(part), "events": int(part.sum()),
                    "event_rate": float(part.mean()), "gains": float(cum_ev / total),
                    "lift": float(part.mean() / rate),
                    "cumulative_lift": float(cum_ev / cum_rows / rate)})
    return out


# -------------------------------------------------------------------------------- stability
def stability_bins(expected: np.ndarray, bins: int = 10) -> np.ndarray:
    """Interior bin edges from the expected population's quantiles (duplicates dropped, so a
    column with few distinct values gets fewer bins). Bin b holds edges[b-1] < x <= edges[b]."""
    e = np.asarray(expected, dtype=np.float64).ravel()
    if len(e) == 0:
        raise ValueError("the expected (training) population is empty")
    if not np.isfinite(e).all():
        raise ValueError("stability needs finite values (impute missing values first)")
    if bins < 2:
        raise ValueError(f"stability needs at least 2 bins, got {bins}")
    return np.unique(np.quantile(e, np.linspace(0, 1, bins + 1)[1:-1]))


def baseline(expected: np.ndarray, bins: int = 10) -> dict[str, list[float]]:
    """The expected (training) population's bin edges and shares: all a later PSI/CSI needs,
    so the training rows need not be kept. Bin b holds edges[b-1] < x <= edges[b]."""
    e = np.asarray(expected, dtype=np.float64).ravel()
    edges = stability_bins(e, bins)
    shares = np.bincount(np.searchsorted(edges, e, side="left"), minlength=len(edges) + 1)
    return {"edges": edges.tolist(), "shares": (shares / len(e)).tolist()}


def psi_from_baseline(base: dict[str, list[float]], actual: np.ndarray, eps: float = 1e-4
                      ) -> float:
    """PSI of the actual population against a stored `baseline`."""
    a = np.asarray(actual, dtype=np.float64).ravel()
    if len(a) == 0:
        raise ValueError("the actual (scoring) population is empty")
    if not np.isfinite(a).all():
        raise ValueError("stability needs finite values (impute missing values first)")
    edges, pe = np.asarray(base["edges"], np.float64), np.asarray(base["shares"], np.float64)
    if len(pe) != len(edges) + 1:
        raise ValueError(f"a stability baseline needs len(edges) + 1 shares, got {len(edges)} "
                         f"edges and {len(pe)} shares")
    pa = np.bincount(np.searchsorted(edges, a, side="left"), minlength=len(pe)) / len(a)
    pe, pa = np.maximum(pe, eps), np.maximum(pa, eps)
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = 10, *,
        eps: float = 1e-4) -> float:
    """Population stability index sum_b (a_b - e_b) ln(a_b / e_b) of the actual (later)
    population's bin shares a_b against the expected (training) shares e_b, bins fixed on
    the expected population's quantiles; shares below `eps` count as `eps`. Rule of thumb:
    < 0.1 stable, 0.1-0.25 watch, > 0.25 shifted."""
    return psi_from_baseline(baseline(expected, bins), actual, eps)


def verdict(index: float) -> str:
    """The usual reading of a PSI/CSI value."""
    return "stable" if index < 0.1 else "watch" if index < 0.25 else "shifted"


def stability(base: dict[str, object], columns: dict[str, np.ndarray],
              scores: np.ndarray | None = None) -> list[dict[str, object]]:
    """PSI of later scores and CSI of each later feature column against a stored baseline
    (`yinji.ml.card.read_baseline`): one row per item with its index and verdict."""
    rows: list[dict[str, object]] = []
    if scores is not None:
        if not base.get("score"):
            raise ValueError("this baseline has no score distribution (only the label "
                             "holder's, of a model trained with validation rows, has one)")
        v = psi_from_baseline(base["score"], scores)  # type: ignore[arg-type]
        rows.append({"item": "score", "index": "PSI", "value": v, "verdict": verdict(v)})
    feats: dict[str, object] = base.get("features") or {}  # type: ignore[assignment]
    unknown = sorted(set(columns) - set(feats))
    if unknown:
        raise ValueError(f"no baseline for {', '.join(unknown)} (this party's features: "
                         f"{', '.join(feats) or 'none'})")
    for name, values in columns.items():
        if feats[name] is None:
            raise ValueError(f"{name}: no baseline (the training column had missing values)")
        v = psi_from_baseline(feats[name], values)  # type: ignore[arg-type]
        rows.append({"item": name, "index": "CSI", "value": v, "verdict": verdict(v)})
    return rows


def csi(expected: np.ndarray, actual: np.ndarray, bins: int = 10,
        names: list[str] | None = None, eps: float = 1e-4) -> dict[str, float]:
    """Characteristic stability index of each column of a party's own feature matrix: the
    PSI of that column between its training rows (expected) and later rows (actual)."""
    e, a = np.asarray(expected, np.float64), np.asarray(actual, np.float64)
    if e.ndim != 2 or a.ndim != 2 or e.shape[1] != a.shape[1]:
        raise ValueError(f"need two tables with the same columns, got {e.shape} and {a.shape}")
    names = names or [f"x{j}" for j in range(e.shape[1])]
    if len(names) != e.shape[1]:
        raise ValueError(f"{len(names)} names for {e.shape[1]} columns")
    return {n: psi(e[:, j], a[:, j], bins, eps=eps) for j, n in enumerate(names)}


def summary(y: np.ndarray, p: np.ndarray, groups: int = 10) -> dict[str, float]:
    """The headline numbers of a model card: AUC, Gini, KS (+ threshold), Brier, HL."""
    return summary_dict(discrimination(y, p), calibration(y, p, groups))


# -------------------------------------------------------------------------------- report
def _r(v: float, digits: int = 6) -> float | None:
    return None if not np.isfinite(v) else round(float(v), digits)


def report(y: np.ndarray, p: np.ndarray, *, title: str, groups: int = 10,
           roc_points: int = 101) -> dict[str, object]:
    """The label holder's model-health report as a `yinji.apps.base.Report` JSON object
    (title, summary, tables, charts, data): ROC curve (at most `roc_points` points) with the
    KS gap, calibration by decile, lift/gains. Only the label holder may receive it: it is
    computed from its validation labels and scores."""
    d, c = discrimination(y, p), calibration(y, p, groups)
    fpr, tpr, thr = roc(y, p)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(roc_points, len(fpr))).round().astype(int))
    roc_rows = [[_r(thr[k]) if np.isfinite(thr[k]) else None, _r(fpr[k]), _r(tpr[k]),
                 _r(tpr[k] - fpr[k])] for k in keep]
    lift = lift_table(y, p, min(groups, len(np.asarray(y).ravel())))
    lift_rows = [[r["group"], r["rows"], r["events"], _r(r["event_rate"]), _r(r["gains"]),
                  _r(r["lift"]), _r(r["cumulative_lift"])] for r in lift]
    cal_rows = [[r["group"], r["rows"], r["events"], _r(r["mean_score"]),
                 _r(r["observed_rate"])] for r in c.table]
    n, events = len(np.asarray(y).ravel()), int(np.asarray(y).astype(bool).sum())
    summary = [
        f"{n} validation rows, {events} events ({events / n:.1%})",
        f"AUC {d.auc:.4f}, Gini {d.gini:.4f}, KS {d.ks:.4f} at score {d.ks_threshold:.4g}",
        f"Brier {c.brier:.4f}; Hosmer-Lemeshow {c.hosmer_lemeshow:.2f} on {c.hl_dof} degrees "
        f"of freedom (p = {c.hl_pvalue:.3g})",
    ]
    return {
        "title": title, "summary": summary,
        "tables": {
            "ROC": {"columns": ["threshold", "fpr", "tpr", "ks_gap"], "rows": roc_rows},
            "KS": {"columns": ["threshold", "tpr", "fpr"],
                   "rows": [[r[0], r[2], r[1]] for r in roc_rows if r[0] is not None]},
            "calibration": {"columns": ["group", "rows", "events", "mean_score",
                                        "observed_rate"], "rows": cal_rows},
            "lift": {"columns": ["group", "rows", "events", "event_rate", "gains", "lift",
                                 "cumulative_lift"], "rows": lift_rows},
        },
        "charts": [
            {"kind": "line", "title": "ROC curve", "table": "ROC", "x": "fpr", "y": ["tpr"]},
            {"kind": "line", "title": f"KS {d.ks:.3f}: TPR and FPR by score threshold",
             "table": "KS", "x": "threshold", "y": ["tpr", "fpr"]},
            {"kind": "line", "title": "Calibration by decile", "table": "calibration",
             "x": "group", "y": ["mean_score", "observed_rate"]},
            {"kind": "bar", "title": "Lift by score decile", "table": "lift", "x": "group",
             "y": ["lift"]},
            {"kind": "line", "title": "Cumulative gains", "table": "lift", "x": "group",
             "y": ["gains"]},
        ],
        "data": summary_dict(d, c),
    }


def summary_dict(d: Discrimination, c: Calibration) -> dict[str, float]:
    return {"auc": d.auc, "gini": d.gini, "ks": d.ks, "ks_threshold": d.ks_threshold,
            "brier": c.brier, "hosmer_lemeshow": c.hosmer_lemeshow, "hl_dof": c.hl_dof,
            "hl_pvalue": c.hl_pvalue}
