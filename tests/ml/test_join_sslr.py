"""End to end: hidden-intersection join (yinji.psi.join) -> SS-LR on the joined shares.

ISLR Default's customers are split between two companies with partial overlap: A (rank 0)
holds student and balance for its customers, B (rank 1) income and the default label for its
own; the helper (rank 2) holds nothing. The join returns the shared customers' rows as a
secret-shared table in an order nobody knows; SS-LR trains on it and the scores of a test set
go to B only. Tolerance: test AUC within 0.005 and probabilities within 0.01 of
scikit-learn's optimum of the same objective (l2 = 1e-4, i.e. C = 1 / (1e-4 n)) on the
plaintext intersection. Skipped where yinji.psi.join is not installed (it lands from the psi branch).
"""

import numpy as np
import pytest

from yinji.ml import metrics
from yinji.ml.sslr import SSLR
from yinji.mpc import Session, SharedTensor, concatenate
from yinji.testing.parties import run_parties

join = pytest.importorskip("yinji.psi.join")
NAMES = ["A", "B", "C"]


def test_sslr_on_hidden_join(default_data, monkeypatch):
    """Seeded (the join's token key and every session): the validation AUC on ~490 random
    rows with ~16 defaults is 0.943 +- 0.025 with a heavy lower tail (4e5 random validation
    sets: quantiles 1e-4 0.808, 1e-5 0.774, and one at 0.70), so the 0.75 floor failed about
    once in 1e6 runs (`python -m tests.flake_odds val-auc`); seeded, this test's run is the
    same every time."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from yinji.testing.seeded import seed_secrets, seed_sessions

    seed_sessions(monkeypatch, b"join-sslr-test")
    seed_secrets(monkeypatch, join, b"join-sslr-test")
    tr, te = default_data
    n = len(tr.y)
    rng = np.random.default_rng(5)
    order = rng.permutation(n)
    a_rows, b_rows = np.sort(order[: int(0.85 * n)]), np.sort(order[int(0.15 * n):])
    shared = np.intersect1d(a_rows, b_rows)
    ids = [f"cust{i:05d}".encode() for i in range(n)]
    ka, fa = [ids[i] for i in a_rows], tr.x[a_rows, :2]
    kb_perm = rng.permutation(b_rows)
    kb = [ids[i] for i in kb_perm]
    fb = np.column_stack([tr.x[kb_perm, 2], tr.y[kb_perm]])

    def body(party, keys, feats):
        s = Session(party, NAMES)
        table = join.hidden_join(s, keys, feats)
        x, y = table[:, :3], table[:, 3]
        model, report = SSLR().fit(x, y, recipient="B")
        xt0 = SharedTensor.share(s, te.x[:, :2] if s.rank == 0 else None, 0, shape=(len(te.y), 2))
        xt1 = SharedTensor.share(s, te.x[:, 2:] if s.rank == 1 else None, 1, shape=(len(te.y), 1))
        p = model.predict(concatenate([xt0, xt1], axis=1)).reveal_to("B")
        return len(table), report, p

    out = run_parties(body, names=NAMES, args=[(ka, fa), (kb, fb), (None, None)], timeout=300)
    rows, report, p = out[1]
    assert rows == len(shared)
    assert out[0][2] is None and out[2][2] is None and out[0][1].metrics == {}
    sc = StandardScaler().fit(tr.x[shared])
    ref = LogisticRegression(C=1 / (1e-4 * len(shared)), max_iter=5000).fit(
        sc.transform(tr.x[shared]), tr.y[shared])
    want = ref.predict_proba(sc.transform(te.x))[:, 1]
    assert abs(metrics.auc(te.y, p) - metrics.auc(te.y, want)) < 0.005
    assert np.max(np.abs(p - want)) < 0.01
    assert report.metrics == {}  # no validation split by default: every joined row trains
