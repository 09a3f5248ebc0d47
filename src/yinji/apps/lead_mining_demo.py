"""`make demo` for lead-mining, and the generated data its tests use: the fund company (label:
bought the product) and the securities company (features) share part of their customers;
futures is the helper. Checked: one score per own customer at each company, and the shared
customers' scores against the same model fitted in floating point on the plaintext join."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np

from yinji.apps.base import DemoRun

LABEL, FEATURES, HELPER = "fund", "securities", "futures"
L_COLUMNS = ["id_no", "bought", "income", "age", "tenure_years"]
F_COLUMNS = ["证件号码", "assets", "trades_per_month"]
WEIGHTS = np.array([0.9, -0.4, 0.5, 1.3, 0.8])   # income, age, tenure, assets, trades


def _id(i: int) -> str:
    """A valid-looking 18-digit ID number (check character computed as GB 11643 says)."""
    body = (f"310101{1960 + i // 336_000:04d}{(i // 28) % 12 + 1:02d}{i % 28 + 1:02d}"
            f"{(i // 336) % 1000:03d}")   # distinct for i < 1.3e7
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]
    return body + check


def write_sample_data(data: dict[str, Path], customers: int = 1200, seed: int = 2026,
                      ) -> dict[str, Path]:
    """fund's and securities' leads.csv in their data folders (2/3 and 7/12 of the
    population, overlapping in about a third; a few missing values at fund)."""
    rng = np.random.default_rng(seed)
    ids = [f"{_id(i)}" for i in range(customers)]
    pop = rng.normal(size=(customers, 5))
    y = (rng.random(customers) < 1 / (1 + np.exp(-(pop @ WEIGHTS - 1.0)))).astype(int)
    order = rng.permutation(customers)
    fund = np.sort(order[: customers * 2 // 3])
    sec = rng.permutation(order[customers * 5 // 12:])
    out = {}
    path = data[LABEL] / "leads.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(L_COLUMNS)
        for k, i in enumerate(fund):
            income = "" if k % 97 == 5 else f"{pop[i, 0] * 4e4 + 2.5e5:.0f}"
            w.writerow([ids[i], y[i], income, f"{pop[i, 1] * 11 + 42:.0f}",
                        f"{max(0.0, pop[i, 2] * 3 + 6):.1f}"])
    out[LABEL] = path
    path = data[FEATURES] / "leads.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(F_COLUMNS)
        for i in sec:
            w.writerow([ids[i], f"{pop[i, 3] * 8e5 + 2e6:.2f}", f"{pop[i, 4] * 6 + 15:.1f}"])
    out[FEATURES] = path
    return out


def read(path: Path) -> dict[str, np.ndarray]:
    with path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    return {k: np.array([r[k] for r in rows], object) for k in rows[0]}


def plaintext_scores(lpath: Path, fpath: Path, l2: float = 1e-4) -> dict[str, float]:
    """The shared customers' scores of the same model (logistic regression on standardised
    features of the plaintext join, L2 as SS-LR's) fitted by Newton's method: id -> score."""
    from yinji.apps.lead_mining import prepare_features

    lc, fc = read(lpath), read(fpath)
    xl = prepare_features(lc, [(c, c) for c in L_COLUMNS[2:]])
    xf = prepare_features(fc, [(c, c) for c in F_COLUMNS[1:]])
    fidx = {k: i for i, k in enumerate(fc[F_COLUMNS[0]])}
    rows = [i for i, k in enumerate(lc["id_no"]) if k in fidx]
    x = np.column_stack([xl[rows], xf[[fidx[lc["id_no"][i]] for i in rows]]])
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    y = lc["bought"][rows].astype(float)
    xa = np.column_stack([x, np.ones(len(x))])
    w = np.zeros(xa.shape[1])
    reg = np.full(len(w), l2)
    reg[-1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-xa @ w))
        grad = xa.T @ (p - y) / len(y) + reg * w
        hess = (xa.T * (p * (1 - p))) @ xa / len(y) + np.diag(reg)
        w -= np.linalg.solve(hess, grad)
    p = 1 / (1 + np.exp(-xa @ w))
    return {lc["id_no"][i]: float(v) for i, v in zip(rows, p, strict=True)}


def check_reports(reports: dict[str, dict[str, Any] | None], paths: dict[str, Path],
                  tol: float = 0.1, auc_tol: float = 0.03) -> list[str]:
    """Each company: exactly its customers scored; the shared customers' scores near the
    plaintext optimum (SS-LR stops early: mean difference <= tol) and, at the label holder,
    AUC on the shared customers within auc_tol of the optimum's."""
    from yinji.ml.metrics import auc

    problems = []
    want = plaintext_scores(paths[LABEL], paths[FEATURES])
    for c, col in ((LABEL, "id_no"), (FEATURES, F_COLUMNS[0])):
        rep = reports.get(c)
        if not rep:
            problems.append(f"{c} received no report")
            continue
        ids = list(read(paths[c])[col])
        got = {r[0]: r[1] for r in rep["tables"]["scores"]["rows"]}
        if sorted(got) != sorted(ids):
            problems.append(f"{c}: scores are not exactly its {len(ids)} customers")
            continue
        diff = [abs(got[k] - v) for k, v in want.items()]
        if np.mean(diff) > tol:
            problems.append(f"{c}: shared customers' scores differ from the plaintext model "
                            f"by {np.mean(diff):.3f} on average")
        if c == LABEL:
            lab = dict(zip(ids, read(paths[c])["bought"].astype(float), strict=True))
            y = np.array([lab[k] for k in want])
            ours, best = auc(y, np.array([got[k] for k in want])), auc(y, np.array(list(
                want.values())))
            if ours < best - auc_tol:
                problems.append(f"AUC on the shared customers {ours:.4f}, plaintext {best:.4f}")
    return problems


def demo(app: Any, data: dict[str, Path], seed: int = 2026) -> DemoRun | None:
    if not {LABEL, FEATURES, HELPER} <= set(data):
        return None
    paths = write_sample_data(data, seed=seed)
    datasets = {}
    for c, cols in ((LABEL, L_COLUMNS), (FEATURES, F_COLUMNS)):
        # income has empty cells: a float column refuses them at the catalog, so it is
        # declared text and the app reads empty as missing (the owner's mean)
        schema = {h: "string" if h in ("id_no", "证件号码", "income") else "float"
                  for h in cols}
        datasets[c] = [{"id": "leads", "kind": "csv", "location": "data/leads.csv",
                        "schema": schema,
                        "policy": [{"columns": cols, "protocols": [app.protocol]}]}]
    request = {"params": {"helper": HELPER, "top_n": 20},
               "inputs": {LABEL: {"dataset": "leads", "role": "label", "columns": {
                              "label": "bought", "f1": "income", "f2": "age",
                              "f3": "tenure_years"},
                              "omit": [f"f{i}" for i in range(4, 13)]},
                          FEATURES: {"dataset": "leads", "role": "features", "columns": {
                              "id_no": "证件号码", "f1": "assets", "f2": "trades_per_month"},
                              "omit": [f"f{i}" for i in range(3, 13)]}}}
    return DemoRun(LABEL, datasets, request, lambda reports: check_reports(reports, paths))
