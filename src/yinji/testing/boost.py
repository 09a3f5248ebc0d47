"""Plaintext twin of `yinji.ml.mpc_boost`: the same algorithm (same bins, candidates, gains,
tie order, fixed-shape trees, Saabas attributions) in floating point, for tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PlainTree:
    splits: list[np.ndarray]     # per split level: (2^l,) candidate index, -1 = no split
    features: list[np.ndarray]   # per split level: (2^l,) feature, -1 = no split
    bins: list[np.ndarray]       # per split level: (2^l,) threshold bin b (left: bin <= b)
    values: list[np.ndarray]     # per level 0..depth: node values -lr G / (H + l2)
    scores: list[np.ndarray] = field(default_factory=list)   # per split level: (2^l, 1 + C')


@dataclass
class PlainBoost:
    d: int
    bins: int
    depth: int
    trees: list[PlainTree] = field(default_factory=list)

    def contributions(self, idx: np.ndarray) -> tuple[float, np.ndarray]:
        """(bias, (n, d) per-feature contributions) for bin indices idx (n, d)."""
        n = idx.shape[0]
        bias, contrib = 0.0, np.zeros((n, self.d))
        for tr in self.trees:
            bias += float(tr.values[0][0])
            node = np.zeros(n, np.int64)
            for lev in range(self.depth):
                f, b = tr.features[lev][node], tr.bins[lev][node]
                real = f >= 0
                left = real & (idx[np.arange(n), np.maximum(f, 0)] <= b)
                child = 2 * node + np.where(left, 0, 1)
                delta = tr.values[lev + 1][child] - tr.values[lev][node]
                np.add.at(contrib, (np.flatnonzero(real), f[real]), delta[real])
                node = child
        return bias, contrib

    def margin(self, idx: np.ndarray) -> np.ndarray:
        bias, c = self.contributions(idx)
        return bias + c.sum(axis=1)


def plain_boost(idx: np.ndarray, y: np.ndarray, *, bins: int, trees: int = 10, depth: int = 3,
                learning_rate: float = 0.3, l2: float = 1.0, min_child_weight: float = 1.0,
                gamma: float = 0.0) -> PlainBoost:
    """Fit on bin indices idx ((n, d) in 0..bins-1) and 0/1 labels y."""
    idx = np.asarray(idx, np.int64)
    y = np.asarray(y, np.float64)
    n, d = idx.shape
    model = PlainBoost(d, bins, depth)
    margin = np.zeros(n)
    onehot = np.zeros((n, d, bins))
    onehot[np.arange(n)[:, None], np.arange(d)[None, :], idx] = 1.0
    for _ in range(trees):
        p = 1.0 / (1.0 + np.exp(-margin))
        g, h = p - y, p * (1.0 - p)
        node = np.zeros(n, np.int64)
        tr = PlainTree([], [], [], [])
        for lev in range(depth + 1):
            k = 2 ** lev
            G = np.bincount(node, g, k)
            H = np.bincount(node, h, k)
            tr.values.append(-learning_rate * G / (H + l2))
            if lev == depth:
                break
            # histograms per (node, feature, bin), cumulated: left = bin <= b
            hg = np.zeros((k, d, bins))
            hh = np.zeros((k, d, bins))
            np.add.at(hg, node, onehot * g[:, None, None])
            np.add.at(hh, node, onehot * h[:, None, None])
            gl = np.cumsum(hg, axis=2)[:, :, :-1]
            hl = np.cumsum(hh, axis=2)[:, :, :-1]
            gr, hr = G[:, None, None] - gl, H[:, None, None] - hl
            gain = (gl**2 / (hl + l2) + gr**2 / (hr + l2)
                    - (G**2 / (H + l2))[:, None, None]) / 2.0
            ok = (hl >= min_child_weight) & (hr >= min_child_weight)
            score = np.where(ok, gain - gamma, -np.inf).reshape(k, -1)
            score = np.concatenate([np.zeros((k, 1)), score], axis=1)
            best = np.argmax(score, axis=1) - 1          # first maximum; -1: no split
            f = np.where(best >= 0, best // (bins - 1), -1)
            b = np.where(best >= 0, best % (bins - 1), -1)
            tr.splits.append(best)
            tr.scores.append(score)
            tr.features.append(f)
            tr.bins.append(b)
            fn, bn = f[node], b[node]
            left = (fn >= 0) & (idx[np.arange(n), np.maximum(fn, 0)] <= bn)
            node = 2 * node + np.where(left, 0, 1)
        model.trees.append(tr)
        margin = margin + _tree_margin(model, tr, idx)
    return model


def _tree_margin(model: PlainBoost, tr: PlainTree, idx: np.ndarray) -> np.ndarray:
    one = PlainBoost(model.d, model.bins, model.depth, [tr])
    return one.margin(idx)





def same_splits(got: list[list[np.ndarray]], model: PlainBoost, tol: float = 1e-9) -> bool:
    """Whether opened splits equal the twin's, up to exact ties in the twin's gains (two
    candidates splitting a node's rows identically have equal gains; fixed-point noise may
    pick either, with the same effect on the training rows)."""
    for tg, tr in zip(got, model.trees, strict=True):
        for g, w, sc in zip(tg, tr.splits, tr.scores, strict=True):
            rows = np.arange(len(g))
            if not np.all((g == w) | (sc[rows, g + 1] >= sc[rows, w + 1] - tol)):
                return False
    return True


def opened(tensors) -> np.ndarray:  # noqa: ANN001 - the three parties' SharedTensors
    """A shared value from the three parties' share sets (tests only): floats, or int64 for
    integer tensors."""
    total = sum(t.shares[0] for t in tensors).view(np.int64)
    f = tensors[0].frac_bits
    return total.copy() if f == 0 else total.astype(np.float64) / 2.0**f


def opened_splits(models) -> list[list[np.ndarray]]:  # noqa: ANN001
    """The candidate index chosen at every node of every tree (-1: no split), opened from
    the three parties' `BoostModel` shares (tests only), comparable with PlainTree.splits."""
    m0 = models[0]
    out = []
    for t in range(len(m0.trees)):
        levels = []
        for lev in range(m0.depth):
            sel = opened([m.trees[t].selectors[lev] for m in models])   # (d * B, nodes)
            per_f = sel.T.reshape(sel.shape[1], m0.d, m0.bins).sum(axis=2)  # b + 1 or 0
            f = np.argmax(per_f, axis=1)
            cnt = per_f[np.arange(len(f)), f]
            levels.append(np.where(cnt > 0, f * (m0.bins - 1) + cnt - 1, -1))
        out.append(levels)
    return out
__all__ = ["PlainBoost", "PlainTree", "opened", "opened_splits", "same_splits", "plain_boost"]
