"""How often the randomness of a run moves a test's statistic past its bound: the numbers
quoted next to the bounds in tests/ml and tests/test_textfile.py. Not a test (slow, minutes);
run `PYTHONPATH=src python -m tests.flake_odds <experiment> [runs]` with one of
`sslr-epochs`, `card`, `val-auc`, `textfile`.

SS-LR's only randomness that matters for accuracy is the row order (an oblivious shuffle that
also picks the validation rows); `fit` replays SSLR.fit in float64 with a random order: same
split, standardisation, mini-batch SGD with epoch averages and early stopping.
"""

from __future__ import annotations

import sys
from fractions import Fraction

import numpy as np

from yinji.ml import metrics
from yinji.ml.sslr import auto_batch


def fit(x, y, rng, *, epochs=20, lr=0.5, l2=1e-4, val=0.1, patience=2, tol=1e-4, batch=None):
    """(predict function, validation metrics, epoch kept) of one float replay of SSLR.fit."""
    p = rng.permutation(len(x))
    x, y = x[p], y[p]
    nv = int(round(len(x) * val))
    xtr, ytr, xv, yv = x[:len(x) - nv], y[:len(x) - nv], x[len(x) - nv:], y[len(x) - nv:]
    mu, sd = xtr.mean(0), xtr.std(0)

    def design(a):
        return np.column_stack([(a - mu) / sd, np.ones(len(a))])

    def sig(z):
        return 1 / (1 + np.exp(-z))

    xs, b = design(xtr), batch or auto_batch(len(xtr))
    w = np.zeros(xs.shape[1])
    decay = np.r_[np.full(len(w) - 1, 1 - lr * l2), 1.0]
    best, best_w, kept, bad = None, w, 0, 0
    for epoch in range(1, epochs + 1):
        total, steps = 0, 0
        for lo in range(0, len(xs), b):
            xb, yb = xs[lo:lo + b], ytr[lo:lo + b]
            w = w * decay - lr / len(xb) * (xb.T @ (sig(xb @ w) - yb))
            total, steps = total + w, steps + 1
        cand = total / steps if steps > 1 else w
        loss = np.mean((sig(design(xv) @ cand) - yv) ** 2)
        if best is None or loss < best - tol:
            best, best_w, kept, bad = loss, cand, epoch, 0
        else:
            bad += 1
            if bad >= patience:
                break

    def predict(a):
        return sig(design(a) @ best_w)
    return predict, metrics.binary_report(yv, predict(xv)), kept


def _sklearn(tr, te, n_fit):
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    sc = StandardScaler().fit(tr.x)
    m = LogisticRegression(C=1.0 / (1e-4 * n_fit), max_iter=2000).fit(sc.transform(tr.x), tr.y)
    return m.predict_proba(sc.transform(te.x))[:, 1]


def sslr_epochs(runs: int) -> None:
    """test_logistic_regression_matches_sklearn_on_islr_default: which epoch is kept, and the
    correlation with scikit-learn of the model of each early epoch."""
    from yinji.testing.datasets import islr_default

    rng = np.random.default_rng(5)
    tr, te = islr_default().split(test_fraction=0.3, seed=0)
    ref = _sklearn(tr, te, len(tr.y))
    for ep in (1, 2, 3):
        c = [np.corrcoef(fit(tr.x, tr.y, rng, epochs=ep, lr=1.0)[0](te.x), ref)[0, 1]
             for _ in range(300)]
        print(f"epoch {ep} model: correlation {np.mean(c):.4f} +- {np.std(c):.4f}")
    kept = [fit(tr.x, tr.y, rng, epochs=10, lr=1.0)[2] for _ in range(runs)]
    print("epoch kept: count", dict(zip(*np.unique(kept, return_counts=True), strict=True)))


def card(runs: int) -> None:
    """test_defaults_converge_on_a_small_table: AUC shortfall against scikit-learn."""
    from yinji.testing.datasets import aer_credit_card

    rng = np.random.default_rng(9)
    tr, te = aer_credit_card().split(test_fraction=0.3, seed=0)
    want = metrics.auc(te.y, _sklearn(tr, te, int(len(tr.y) * 0.9)))
    d = np.array([want - metrics.auc(te.y, fit(tr.x, tr.y, rng)[0](te.x)) for _ in range(runs)])
    print(f"shortfall {d.mean():.4f} +- {d.std():.4f}; >= 0.01 in {(d >= 0.01).sum()} of {runs}")
    bug = [want - metrics.auc(te.y, fit(tr.x, tr.y, rng, lr=0.2, batch=256)[0](te.x))
           for _ in range(300)]
    print(f"the bug (batch 256, lr 0.2): shortfall >= {min(bug):.4f} in 300 runs")


def val_auc(runs: int) -> None:
    """Validation AUC of random validation sets with fixed scores (the model moves little):
    its lower quantiles, for the floors in test_sslr, test_over_tls and test_join_sslr."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from yinji.testing.datasets import islr_default

    rng = np.random.default_rng(99)
    tr, _ = islr_default().split(test_fraction=0.3, seed=0)
    r4 = np.random.default_rng(4)
    x4 = r4.normal(size=(1500, 4)) * [1, 10, 100, 1000]
    y4 = (x4 @ [1, 0.1, -0.01, 0.001] + r4.normal(size=1500) > 0).astype(int)
    n = len(tr.y)
    order = np.random.default_rng(5).permutation(n)
    shared = np.intersect1d(order[: int(0.85 * n)], order[int(0.15 * n):])
    cases = {"test_sslr (700 of 7000)": (tr.x, tr.y.astype(int), 700),
             "test_over_tls (150 of 1500)": (x4, y4, 150),
             "test_join_sslr (490 of 4900)": (tr.x[shared], tr.y[shared].astype(int), 490)}
    for name, (x, y, k) in cases.items():
        sc = StandardScaler().fit(x)
        s = LogisticRegression(max_iter=2000).fit(sc.transform(x), y).decision_function(
            sc.transform(x))
        ys = y[np.argsort(s, kind="stable")]
        out = []
        for _ in range(max(1, runs // 1000)):
            idx = np.sort(np.argpartition(rng.random((1000, len(y))), k, axis=1)[:, :k], axis=1)
            yy = ys[idx]
            n1 = yy.sum(1)
            out.append(((yy * np.arange(1, k + 1)).sum(1) - n1 * (n1 + 1) / 2) / (n1 * (k - n1)))
        v = np.concatenate(out)
        q = np.quantile(v, [1e-3, 1e-4, 1e-5])
        print(f"{name}: {v.mean():.3f} +- {v.std():.3f}, quantiles 1e-3/1e-4/1e-5 "
              f"{q.round(3).tolist()}, min {v.min():.3f} over {len(v)}")


def textfile() -> None:
    """test_random_names_each_way: a Big5 file is judged GB18030 when every character scores
    the same in both (tie to GB18030); the chance of that for 8 random names."""
    import opencc

    from tests.test_textfile import GIVEN, SURNAMES
    to_trad = opencc.OpenCC("s2t")

    def ties(ch):
        raw = ch.encode("big5hkscs")
        big5 = 0xA140 <= int.from_bytes(ch.encode("big5"), "big") <= 0xC67E
        try:
            raw.decode("gb18030").encode("gb2312")
            gb = True
        except UnicodeEncodeError:
            gb = False
        return gb == big5

    p = [Fraction(sum(ties(to_trad.convert(c)) for c in s), len(s)) for s in (SURNAMES, GIVEN)]
    per_file = p[0] ** 8 * p[1] ** 16
    print(f"tie share: surnames {p[0]}, given names {p[1]}; per file {float(per_file):.2e}, "
          f"5 draws {float(1 - (1 - per_file) ** 5):.2e}")


if __name__ == "__main__":
    what, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    {"sslr-epochs": lambda: sslr_epochs(runs), "card": lambda: card(runs),
     "val-auc": lambda: val_auc(runs), "textfile": textfile}[what]()
