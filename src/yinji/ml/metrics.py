"""Plaintext model metrics (AUC, KS, accuracy, log-loss, R^2), computed by the party that
receives the scores and holds the labels. NumPy only; ties handled as scikit-learn does."""

from __future__ import annotations

import numpy as np


def auc(y: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney U with average ranks for ties)."""
    y = np.asarray(y).astype(bool).ravel()
    s = np.asarray(score, dtype=np.float64).ravel()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both classes")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    # average ranks over ties
    _, start, counts = np.unique(sorted_s, return_index=True, return_counts=True)
    avg = start + (counts + 1) / 2.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def ks(y: np.ndarray, score: np.ndarray) -> float:
    """Kolmogorov-Smirnov statistic: max |TPR - FPR| over thresholds."""
    y = np.asarray(y).astype(bool).ravel()
    s = np.asarray(score, dtype=np.float64).ravel()
    order = np.argsort(-s, kind="mergesort")
    ys, ss = y[order], s[order]
    tp = np.cumsum(ys) / max(1, ys.sum())
    fp = np.cumsum(~ys) / max(1, (~ys).sum())
    last = np.r_[ss[1:] != ss[:-1], True]  # evaluate only after the last of tied scores
    return float(np.max(np.abs(tp[last] - fp[last])))


def accuracy(y: np.ndarray, score: np.ndarray, threshold: float = 0.5) -> float:
    y = np.asarray(y).ravel()
    return float(np.mean((np.asarray(score).ravel() >= threshold) == y.astype(bool)))


def log_loss(y: np.ndarray, p: np.ndarray, eps: float = 1e-7) -> float:
    p = np.clip(np.asarray(p, dtype=np.float64).ravel(), eps, 1 - eps)
    y = np.asarray(y, dtype=np.float64).ravel()
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def r2(y: np.ndarray, pred: np.ndarray) -> float:
    y = np.asarray(y, dtype=np.float64).ravel()
    pred = np.asarray(pred, dtype=np.float64).ravel()
    return float(1.0 - np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))


class OneClassError(ValueError):
    """The evaluation rows hold one class only: AUC and KS are undefined."""


def binary_report(y: np.ndarray, score: np.ndarray) -> dict[str, float]:
    """AUC, KS and accuracy of scores against 0/1 labels; a clear error if the rows hold one
    class only (a small or unlucky test split), instead of a meaningless number."""
    ones = int(np.asarray(y).astype(bool).sum())
    if ones in (0, len(y)):
        raise OneClassError(
            f"the {len(y)} evaluation rows are all labelled {1 if ones else 0}: AUC and KS "
            "need both classes; use more rows or a larger test share")
    return {"auc": auc(y, score), "ks": ks(y, score), "accuracy": accuracy(y, score)}
