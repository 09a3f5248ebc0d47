"""Peer benchmark: mini-batch logistic regression in SecretFlow SPU 0.9.5, ABY3, in-process
simulation (3 parties as threads over SPU's in-memory link), for benchmarks/modeling.py.

Runs inside the side venv made by ``benchmarks/peers/setup.sh`` (``benchmarks/.peers/spu``).
Reads the training data from an .npz given by ``--data`` (arrays ``x`` (n, d) float, ``y`` (n,)
0/1, already standardised by the caller, the same arrays Yinji trains on) and prints ONE JSON
object to stdout; progress goes to stderr.

The jax program is the same mini-batch SGD as Yinji's SS-LR: w (d + 1, intercept last) = 0;
for each epoch, for each batch of ``--batch`` rows in order: p = sigmoid(X_b w),
w <- w * (1 - lr * l2) (not the intercept) - lr / |b| * X_b^T (p - y_b). ``jax.nn.sigmoid``,
which spu 0.9.5 lowers to reciprocal(1 + exp(-x)) (see README.md). X and y are secret, the
weights stay secret until the end, then w is revealed (``reveal_s``) and the test AUC is
computed by the caller.

Timing as spu_aby3.py: ``run_s`` = median wall time of the parties' ``rt.run`` (protocol only),
``compile_s``, ``share_s`` and ``reveal_s`` separately.

Usage: python spu_lr.py --data /abs/path.npz [--epochs 5] [--batch 1024] [--lr 0.5] [--l2 1e-4]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
from spu_aby3 import describe_config, log, run_once, runtime_config  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", required=True, help="absolute path of an .npz with x and y")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch", type=int, default=1024)
    p.add_argument("--lr", type=float, default=0.5)
    p.add_argument("--l2", type=float, default=1e-4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--scale", type=float, default=1.0, help="ignored (run_peer passes it)")
    args = p.parse_args(argv)
    result_out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())

    import jax
    import jax.numpy as jnp
    import spu
    import spu.api as spu_api
    import spu.libspu as libspu
    import spu.utils.frontend as spu_fe

    data = np.load(args.data)
    x = np.column_stack([data["x"], np.ones(len(data["x"]))]).astype(np.float32)
    y = data["y"].astype(np.float32)
    n, d1 = x.shape
    epochs, batch, lr, l2 = args.epochs, args.batch, args.lr, args.l2
    decay = np.r_[np.full(d1 - 1, 1.0 - lr * l2), 1.0].astype(np.float32)

    def train(xx, yy):
        w = jnp.zeros(d1, dtype=jnp.float32)
        for _ in range(epochs):
            for lo in range(0, n, batch):
                hi = min(n, lo + batch)
                xb, yb = xx[lo:hi], yy[lo:hi]
                err = jax.nn.sigmoid(xb @ w) - yb
                w = w * decay - (lr / (hi - lo)) * (xb.T @ err)
        return w

    cfg = runtime_config(libspu)
    t0 = time.perf_counter()
    executable, _ = spu_fe.compile(
        spu_fe.Kind.JAX, train, [x, y], {}, ["x", "y"],
        [libspu.Visibility.VIS_SECRET] * 2, lambda out: [f"out{i}" for i in range(len(out))])
    compile_s = time.perf_counter() - t0
    log(f"lr: {n}x{d1 - 1}, {epochs} epochs, batch {batch}: compiled in {compile_s:.2f} s")
    samples = []
    for i in range(args.repeats):
        res = run_once(spu_api, libspu, cfg, executable, [x, y])
        samples.append(res)
        log(f"lr: run {i + 1}/{args.repeats}: run {res['run_s']:.3f} s")
    w = np.asarray(samples[-1]["outputs"][0], dtype=np.float64)

    def med(k: str) -> float:
        return statistics.median(s[k] for s in samples)

    out = {
        "peer": f"spu-{spu.__version__}-aby3-sim",
        "config": {**describe_config(cfg), "n": n, "d": d1 - 1, "epochs": epochs,
                   "batch": batch, "lr": lr, "l2": l2, "sigmoid": "jax.nn.sigmoid",
                   "jax": jax.__version__, "cpu_count": os.cpu_count(),
                   "loadavg_1min": os.getloadavg()[0]},
        "ops": {"lr_train": med("run_s")},
        "details": {"lr_train": {"compile_s": compile_s, "share_s": med("share_s"),
                                 "run_s": med("run_s"), "reveal_s": med("reveal_s"),
                                 "run_s_samples": [s["run_s"] for s in samples]}},
        "weights": w.tolist(),
    }
    json.dump(out, result_out)
    result_out.write("\n")
    result_out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
