"""Boosted trees on secret-shared rows (yinji.ml.mpc_boost) at size: three parties in one
process on the in-memory network; two owners share one-hot bins of half the columns each (the
first also the labels); train, then score the rows in MPC. Prints time, bytes and AUC next to
the float twin (yinji.testing.boost) and XGBoost (exact method) on the same bins.

    .venv/bin/python benchmarks/mpc_boost.py --rows 10000 --features 20 --trees 10 --depth 3
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from yinji.ml.metrics import auc
from yinji.ml.mpc_boost import MpcBoost, one_hot, quantile_bins
from yinji.mpc import SharedTensor, concatenate
from yinji.testing.boost import plain_boost
from yinji.testing.mpc import run_mpc


def data(rows: int, features: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    w = rng.normal(size=features) * (rng.random(features) < 0.5)
    logit = x @ w + 1.5 * (x[:, 0] > 0.5) - 1.0 * (np.abs(x[:, 1]) > 1) - 0.5
    return x, (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int64)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--features", type=int, default=20)
    ap.add_argument("--trees", type=int, default=10)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--bins", type=int, default=16)
    a = ap.parse_args()
    x, y = data(a.rows, a.features)
    idx, _ = quantile_bins(x, a.bins)
    half = a.features // 2
    parts = [one_hot(idx[:, :half], a.bins), one_hot(idx[:, half:], a.bins)]
    boost = MpcBoost(trees=a.trees, depth=a.depth, bins=a.bins)
    times: dict[str, float] = {}

    def prog(s):  # noqa: ANN001, ANN202
        xs = concatenate([SharedTensor.share(s, parts[o] if s.rank == o else None, o,
                                             frac_bits=0, shape=parts[o].shape)
                          for o in (0, 1)], axis=1)
        ys = SharedTensor.share(s, y if s.rank == 0 else None, 0, frac_bits=0, shape=y.shape)
        def sent() -> int:
            return sum(s.chan(r).stats.bytes_sent for r in range(3) if r != s.rank)

        t0, r0, b0 = time.perf_counter(), s.rounds, sent()
        model = boost.fit(xs, ys)
        t1, r1, b1 = time.perf_counter(), s.rounds, sent()
        score = model.predict(xs).reveal_to(0)
        if s.rank == 0:
            times.update(fit=t1 - t0, predict=time.perf_counter() - t1)
        return score, (r1 - r0, s.rounds - r1), (b1 - b0, sent() - b1)

    t0 = time.perf_counter()
    c0 = time.process_time()
    # three parties share one process: one BLAS thread each (OpenBLAS's spinning threads
    # on small products slow the run several-fold on a 2-core machine)
    with threadpool_limits(1):
        out = run_mpc(prog, timeout=3600)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    score = out[0][0]
    ref = plain_boost(idx, y, bins=a.bins, trees=a.trees, depth=a.depth)
    import xgboost

    xgb = xgboost.XGBClassifier(n_estimators=a.trees, max_depth=a.depth, learning_rate=0.3,
                                reg_lambda=1.0, min_child_weight=1.0, base_score=0.5,
                                tree_method="exact").fit(idx, y)
    print(f"rows {a.rows} features {a.features} bins {a.bins} trees {a.trees} "
          f"depth {a.depth}")
    print(f"wall {wall:.1f} s (fit {times['fit']:.1f} s, predict {times['predict']:.1f} s), "
          f"cpu {cpu:.1f} s (3 parties, one process)")
    rounds, sent = out[0][1], [o[2] for o in out]
    print(f"rounds fit {rounds[0]}, predict {rounds[1]}; MB sent per party fit "
          f"{max(b[0] for b in sent) / 1e6:.1f}, predict {max(b[1] for b in sent) / 1e6:.1f}")
    print(f"AUC mpc {auc(y, score):.4f}  float twin {auc(y, ref.margin(idx)):.4f}  "
          f"xgboost {auc(y, xgb.predict_proba(idx)[:, 1]):.4f}")


if __name__ == "__main__":
    main()
