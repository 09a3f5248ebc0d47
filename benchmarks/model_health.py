"""Model-health benchmark: vertical WOE/IV (`yinji.ml.woe`, OU encryption of the labels,
per-bin ciphertext sums) at the feature owner against the same WOE/IV in plaintext, and the
label holder's health figures (`yinji.ml.health`) against scikit-learn, on one seeded random
table. Times are wall seconds (two parties in one process, in-memory network, OU key pair
generated once beforehand, as a node reuses it).

    .venv/bin/python benchmarks/model_health.py                  # 10^4 and 10^5 rows
    .venv/bin/python benchmarks/model_health.py --rows 10000 --features 20 --bins 10
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def bench_woe(n: int, d: int, bins: int, keys) -> tuple[float, float, float]:  # noqa: ANN001
    from yinji.ml import woe
    from yinji.testing.parties import run_parties

    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d))
    y = (x[:, 0] + rng.normal(size=n) > 1).astype(int)

    def fn(party):  # noqa: ANN001, ANN202
        if party.name == "L":
            return woe.label_holder_woe(party, "O", y, keys=keys)
        return woe.owner_woe(party, "L", x, bins)

    t = time.perf_counter()
    _, got = run_parties(fn, names=["L", "O"], timeout=3600)
    secure = time.perf_counter() - t
    t = time.perf_counter()
    want = woe.fit_plain(x, y, bins)
    plain = time.perf_counter() - t
    err = max(abs(g.iv - w.iv) for g, w in zip(got, want, strict=True))
    return secure, plain, err


def bench_health(n: int) -> tuple[float, float]:
    from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve

    from yinji.ml import health

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, n)
    p = 1 / (1 + np.exp(-(y + rng.normal(size=n))))
    t = time.perf_counter()
    health.report(y, p, title="bench")
    ours = time.perf_counter() - t
    t = time.perf_counter()
    roc_curve(y, p)
    roc_auc_score(y, p)
    brier_score_loss(y, p)
    return ours, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--features", type=int, default=10)
    ap.add_argument("--bins", type=int, default=10)
    args = ap.parse_args()
    from yinji.ml.secureboost import generate_keys

    keys = generate_keys()
    print("| rows | features x bins | WOE/IV secure (s) | plaintext (s) | ratio | max IV diff |")
    print("|---|---|---|---|---|---|")
    for n in args.rows:
        s, p, err = bench_woe(n, args.features, args.bins, keys)
        print(f"| {n} | {args.features} x {args.bins} | {s:.2f} | {p:.3f} | {s / p:.0f}x | "
              f"{err:.1e} |")
    print("\n| rows | health.report (s) | sklearn roc_curve + AUC + Brier (s) |")
    print("|---|---|---|")
    for n in (10**5, 10**6):
        ours, sk = bench_health(n)
        print(f"| {n} | {ours:.2f} | {sk:.2f} |")


if __name__ == "__main__":
    main()
