"""Gradient-boosted trees trained and evaluated entirely on secret-shared rows (SecureBoost /
XGBoost's algorithm on the 3-party MPC engine, in the spirit of MPC GBDT such as Pivot, Wu et
al. VLDB 2020, and Squirrel, Lu et al. USENIX Security 2023), for tables whose rows nobody may
see aligned, e.g. the hidden-intersection join.

Binning happens before sharing: each data owner bins each of its columns into `bins` (B)
quantile bins of its OWN full table (`quantile_bins`; the edges never leave the owner) and
secret-shares per row the one-hot bin indicators (`one_hot`: B integer columns per feature,
exactly one 1 per feature). A split (feature f, bin b) sends a row left iff x_f <= edge_b,
i.e. iff its bin index is <= b; candidates are b = 0..B-2 for every feature. On shares:

- per tree: margins m (start 0: XGBoost's base_score 0.5), p = sigmoid(m) (the engine's
  piecewise quintic), g = p - y, h = p (1 - p);
- per level, for every node at once: node membership is a shared 0/1 matrix M (rows x nodes);
  the histograms of G and H per (node, feature, bin) are ONE matrix product
  [M*g | M*h]^T @ X (integer indicators times fixed point: no truncation), cumulated over the
  bins locally; GL, HL per candidate, GR = G - GL, HR = H - HL;
- gain (XGBoost's, lambda = l2): 1/2 [GL^2/(HL+l2) + GR^2/(HR+l2) - G^2/(H+l2)], from one
  batched reciprocal of every H + l2; a candidate with HL or HR below min_child_weight is
  invalid; the best candidate per node comes from `max_argmax` over [gamma | gains], so the
  node splits only if the best gain exceeds gamma (first index wins ties: no split first,
  then features in order, bins in order), otherwise it sends every row right (the right child
  equals the node: a leaf in a fixed-shape tree);
- the argmax becomes a shared one-hot over the candidates (equality tests), the one-hot a
  shared column selector, and X @ selector each row's shared "goes left" bit: the split, the
  row-to-node assignment and every statistic stay secret-shared;
- node values v = -learning_rate * G / (H + l2) for every node; the tree's prediction for a
  row is v(root) + the sum over its path of v(child) - v(parent), each difference credited to
  the parent's split feature (Saabas-style attributions; they add up exactly to the leaf
  value). `BoostModel.contributions` returns the bias and these per-feature contributions for
  any shared one-hot rows (trees evaluated in MPC, all trees of a level in one product).

Fixed-point range: gradients and hessians are divided by a public power of two S (from the
row count: |G/S| <= 2^14) and lambda, gamma and min_child_weight with them, which leaves
argmax and leaf values unchanged; the gain terms need |G| / (H + l2) < 2^16 at every
candidate (true unless the margins saturate). Reciprocals err by ~2^-15 relative, so
candidates whose gains differ by less than ~1e-4 of the terms may be ordered differently from
floating point: on data with clear splits the trees are the same (tests/ml/test_mpc_boost.py
checks them against the float reference `yinji.testing.boost`).

Adversary model: semi-honest, honest majority among the three MPC parties (no two collude),
as `yinji.mpc`.

Leakage: every party learns the public parameters (trees, depth, bins, learning rate, l2,
min_child_weight, gamma), the row count and the number of features; nothing is opened while
training or evaluating: splits (feature and threshold), which nodes are leaves, row-to-node
assignments, histograms, gains and leaf values all stay secret-shared, and the messages a
party receives have a fixed pattern (shapes) given the public parameters. The bin edges stay
with each feature's owner. What is eventually opened (scores, contributions) is up to the
caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from yinji.ml._fixed import scale
from yinji.mpc import Session, SharedTensor, concatenate, stack, where
from yinji.mpc import replicated as rep
from yinji.mpc.ring import limb_matmul, limbs

MAX_BINS = 64
MAX_DEPTH = 6
G_BITS = 14   # |G / S| <= 2^G_BITS keeps G^2 products inside the fixed-point range


def quantile_bins(x: np.ndarray, bins: int) -> tuple[np.ndarray, list[np.ndarray]]:
    """Owner-local binning of (n, d) floats into `bins` quantile bins per column of the
    owner's own rows: (n, d) bin indices in 0..bins-1 (bin b: edge_{b-1} < x <= edge_b) and
    the edges per column (at most bins-1, fewer where values repeat: a constant column has
    one bin). NaN is refused (impute first)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(f"need an (n, d) feature table with n >= 1, got shape {x.shape}")
    if not 2 <= bins <= MAX_BINS:
        raise ValueError(f"bins must be in 2..{MAX_BINS}, got {bins}")
    if np.isnan(x).any():
        raise ValueError("features contain NaN: impute missing values before binning")
    qs = np.arange(1, bins) / bins
    edges = [np.unique(np.quantile(col, qs)) for col in x.T]
    idx = np.column_stack([np.searchsorted(e, col, side="left") for e, col in zip(edges, x.T,
                                                                                    strict=True)])
    return idx.astype(np.int64), edges


def one_hot(idx: np.ndarray, bins: int) -> np.ndarray:
    """(n, d) bin indices -> (n, d * bins) 0/1 integers, feature-major (what owners share)."""
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= bins):
        raise ValueError(f"bin indices must be in 0..{bins - 1}")
    n, d = idx.shape
    out = np.zeros((n, d, bins), np.int64)
    out[np.arange(n)[:, None], np.arange(d)[None, :], idx] = 1
    return out.reshape(n, d * bins)


def check_labels(y: np.ndarray) -> np.ndarray:
    """Owner-local check of the 0/1 labels: both classes must occur (a one-class column
    cannot train a classifier)."""
    y = np.asarray(y, dtype=np.float64).ravel()
    if y.size == 0 or not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("labels must be 0 or 1")
    if y.min() == y.max():
        raise ValueError(f"all {y.size} labels are {int(y[0])}: boosting needs both classes")
    return y


def grad_scale(rows: int) -> int:
    """The public power of two S dividing gradients and hessians (|G / S| <= 2^14)."""
    return 1 << max(0, math.ceil(math.log2(rows + 1)) - G_BITS)


@dataclass
class Tree:
    """One tree, every tensor this party's shares. Level l has 2^l nodes."""

    selectors: list[SharedTensor]   # per split level: (d * B, 2^l) int, X @ sel = goes left
    attrib: list[SharedTensor]      # per split level: (2^(l+1), d) credited value changes
    root: SharedTensor              # (1,) v(root)


@dataclass
class BoostModel:
    """A trained model (secret-shared): features d, bins B, the trees."""

    d: int
    bins: int
    depth: int
    trees: list[Tree] = field(default_factory=list)

    def contributions(self, x: SharedTensor) -> tuple[SharedTensor, SharedTensor]:
        """For shared one-hot rows x ((n, d*B) integers): (bias (1,), per-feature
        contributions (n, d)), margin = bias + contributions.sum(1). All trees of a level
        are routed by one matrix product; nothing is opened."""
        _check_x(x, self.d, self.bins)
        n, t = x.shape[0], len(self.trees)
        s = x.session
        m = SharedTensor.public(s, np.ones((n, t), np.int64), 0)
        masks = []
        rows = _Rows(x)
        for lev in range(self.depth):
            sel = concatenate([tr.selectors[lev] for tr in self.trees], axis=1)
            m = _split(m, rows.times(sel), t * 2 ** lev)
            masks.append(m)
        # (n, sum over levels and trees of children) @ (same, d)
        att = concatenate([tr.attrib[lev] for lev in range(self.depth) for tr in self.trees])
        contrib = concatenate(masks, axis=1) @ att
        bias = concatenate([tr.root for tr in self.trees]).sum().reshape(1)
        return bias, contrib

    def margin(self, x: SharedTensor) -> SharedTensor:
        bias, contrib = self.contributions(x)
        return contrib.sum(axis=1) + bias

    def predict(self, x: SharedTensor) -> SharedTensor:
        return self.margin(x).sigmoid()


def _split(m: SharedTensor, left: SharedTensor, k: int) -> SharedTensor:
    """Children masks (n, 2k) from node masks (n, k) and goes-left bits (n, k): child 2j is
    node j's left child, 2j + 1 its right one. One multiplication (integers: exact)."""
    ml = m * left
    return stack([ml, m - ml], axis=2).reshape(m.shape[0], 2 * k)


class _Rows:
    """The shared one-hot rows X during training: each share component is split into float
    limbs once (`yinji.mpc.ring.limbs`), so that the many products with X (histograms
    X^T @ [M*g | M*h], routing X @ selector) convert only their small operand. Each is
    `replicated.matmul`'s local cross term, zero-shared and reshared: one round."""

    def __init__(self, x: SharedTensor) -> None:
        self.x = x
        self.parts = [limbs(c) for c in x.shares]

    def _product(self, y: SharedTensor, transpose: bool) -> SharedTensor:
        s = self.x.session
        a0, a1 = ([limb.T for limb in p] if transpose else p for p in self.parts)
        y0, y1 = y.shares
        z = limb_matmul(a0, limbs(y0 + y1)) + limb_matmul(a1, limbs(y0))
        z += s.zero_share(z.shape)
        return SharedTensor(s, rep.reshare(s, z), self.x.frac_bits + y.frac_bits)

    def times(self, y: SharedTensor) -> SharedTensor:
        """X @ y for an integer or fixed-point (C, k) sharing y (no truncation)."""
        return self._product(y, False)

    def t_times(self, y: SharedTensor) -> SharedTensor:
        """X^T @ y for an (n, k) sharing y (no truncation)."""
        return self._product(y, True)


def _check_x(x: SharedTensor, d: int, bins: int) -> None:
    if x.ndim != 2 or x.shape[1] != d * bins or x.frac_bits != 0:
        raise ValueError(f"need shared 0/1 integer rows of width d*bins = {d * bins}, got "
                         f"shape {x.shape}, frac_bits {x.frac_bits}")


class MpcBoost:
    """SecureBoost-style gradient boosting on secret-shared rows (module docstring)."""

    def __init__(self, trees: int = 10, depth: int = 3, bins: int = 16,
                 learning_rate: float = 0.3, l2: float = 1.0, min_child_weight: float = 1.0,
                 gamma: float = 0.0) -> None:
        checks = [(1 <= trees <= 200, "trees must be in 1..200"),
                  (1 <= depth <= MAX_DEPTH, f"depth must be in 1..{MAX_DEPTH}"),
                  (2 <= bins <= MAX_BINS, f"bins must be in 2..{MAX_BINS}"),
                  (0 < learning_rate <= 1, "learning_rate must be in (0, 1]"),
                  (0.1 <= l2 <= 1000, "l2 must be in [0.1, 1000] (the gain's reciprocals "
                                      "need a floor)"),
                  (1e-3 <= min_child_weight <= 1e6, "min_child_weight must be in [1e-3, 1e6] "
                                                    "(an empty child must be invalid)"),
                  (0 <= gamma <= 1e6, "gamma must be in [0, 1e6]")]
        for ok, msg in checks:
            if not ok:
                raise ValueError(msg)
        self.trees, self.depth, self.bins = trees, depth, bins
        self.learning_rate, self.l2 = learning_rate, l2
        self.min_child_weight, self.gamma = min_child_weight, gamma

    def fit(self, x: SharedTensor, y: SharedTensor) -> BoostModel:
        """Train on shared one-hot rows x ((k, d*B) integers) and 0/1 labels y ((k,))."""
        k, width = x.shape
        if width % self.bins or k == 0:
            raise ValueError(f"need k >= 1 rows of d * {self.bins} one-hot columns, got "
                             f"shape {x.shape}")
        d = width // self.bins
        _check_x(x, d, self.bins)
        if y.shape != (k,):
            raise ValueError(f"need one label per row: y has shape {y.shape}, x {k} rows")
        model = BoostModel(d, self.bins, self.depth)
        rows = _Rows(x)
        margin = SharedTensor.public(x.session, np.zeros(k))
        big_s = grad_scale(k)
        for _ in range(self.trees):
            p = margin.sigmoid()
            gh = stack([p - y, p * (1 - p)], axis=1)          # (k, 2)
            if big_s > 1:
                gh = scale(gh, 1.0 / big_s)
            tree, masks = self._tree(rows, gh, d, big_s)
            model.trees.append(tree)
            contrib = concatenate(masks, axis=1) @ concatenate(tree.attrib)
            margin = margin + contrib.sum(axis=1) + tree.root
        return model

    def _tree(self, rows: _Rows, gh: SharedTensor, d: int, big_s: int,
              ) -> tuple[Tree, list[SharedTensor]]:
        x = rows.x
        s: Session = x.session
        k, b = x.shape[0], self.bins
        lam = self.l2 / big_s
        mcw = self.min_child_weight / big_s
        gam2 = 2.0 * self.gamma / big_s
        m = SharedTensor.public(s, np.ones((k, 1), np.int64), 0)
        selectors, attrib, masks = [], [], []
        v_parent = featsel = None
        root = None
        for lev in range(self.depth + 1):
            nodes = 2 ** lev
            tot = m.T @ gh                                     # (nodes, 2): G, H
            if lev < self.depth:
                mgh = (stack([m, m], axis=1) * gh.reshape(k, 2, 1)).reshape(k, 2 * nodes)
                hist = rows.t_times(mgh).T.reshape(2, nodes, d, b)
                cum = _local(hist, lambda a: np.cumsum(a, axis=3, dtype=np.uint64))
                left4 = cum[:, :, :, : b - 1]                  # GL, HL per (node, f, b)
                right = (tot.T.reshape(2, nodes, 1, 1) - left4).reshape(2, -1)
                cand = left4.reshape(2, -1)
                gs = concatenate([cand, right, tot.T], axis=1)  # (2, 2 C' + nodes)
            else:
                gs = tot.T
            q = gs[0] * (gs[1] + lam).reciprocal()            # G / (H + l2)
            c = gs.shape[1] - nodes
            v = scale(q[c:], -self.learning_rate)             # node values (nodes,)
            if lev == 0:
                root = v
            else:
                delta = v - _local(v_parent, lambda a: np.repeat(a, 2))
                attrib.append(delta.reshape(nodes, 1) * featsel)
            if lev == self.depth:
                break
            t = q * gs[0]                                      # G^2 / (H + l2)
            half = c // 2
            gain = (t[:half] + t[half:c]).reshape(nodes, -1) - t[c:].reshape(nodes, 1)
            ok = gs[1][:c] >= mcw
            valid = ok[:half] * ok[half:c]
            score = where(valid.reshape(nodes, -1), gain - gam2, -1.0)
            score = concatenate([SharedTensor.public(s, np.zeros((nodes, 1))), score], axis=1)
            best = score.argmax(axis=1).reshape(nodes, 1)
            onehot = best.eq(np.arange(score.shape[1]).reshape(1, -1))[:, 1:]
            onehot = onehot.reshape(nodes, d, b - 1)
            featsel = _local(onehot.sum(axis=2), lambda a: np.repeat(a, 2, axis=0))
            # column (f, b') of X counts toward "left" iff the chosen bin b >= b'
            rc = _local(onehot, lambda a: np.flip(np.cumsum(np.flip(a, 2), 2, dtype=np.uint64),
                                                  2))
            sel = concatenate([rc, _zeros_like(rc[:, :, :1])], axis=2).reshape(nodes, d * b).T
            selectors.append(sel)
            m = _split(m, rows.times(sel), nodes)
            masks.append(m)
            v_parent = v
        assert root is not None
        return Tree(selectors, attrib, root), masks


def _local(t: SharedTensor, fn) -> SharedTensor:  # type: ignore[no-untyped-def]
    """A linear local map applied to both share components."""
    return SharedTensor(t.session, (np.ascontiguousarray(fn(t.shares[0])),
                                    np.ascontiguousarray(fn(t.shares[1]))), t.frac_bits)


def _zeros_like(t: SharedTensor) -> SharedTensor:
    return _local(t, np.zeros_like)


__all__ = ["BoostModel", "MpcBoost", "Tree", "check_labels", "grad_scale", "one_hot",
           "quantile_bins"]
