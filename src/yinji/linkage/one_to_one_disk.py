"""The linkage unit's one-to-one step on disk (streamed linkage, step 6 of
`yinji.linkage.stream`): `match.greedy_one_to_one`, margin rule included, on accepted pairs
held in files, `ONE_TO_ONE_PAIRS` pairs in memory at a time (~110 bytes a pair).
Adversary model and what each party learns: `yinji.linkage.stream`'s docstring (these
steps run on one party's own data and disk and send nothing themselves).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from yinji.linkage.match import LinkTable, clear_winner, greedy_one_to_one
from yinji.linkage.spill_io import read_bucket, to_buckets
from yinji.net.alloc import trim

ONE_TO_ONE_PAIRS = 1 << 19   # accepted pairs per bucket of the one-to-one step (~60 MB)


def one_to_one(d: Path, accs: list[Path], dtype: np.dtype, accepted: int, n_a: int,
               n_b: int, margin: float) -> LinkTable:
    """Step 6 on the `accepted` pairs in the files `accs` (`acc_dtype`; removed): in
    buckets on disk when there is a margin and more than `ONE_TO_ONE_PAIRS` of them, else
    `greedy_one_to_one` on all of them (the streamed MPC mode's receiver uses it too)."""
    if margin > 0 and accepted > ONE_TO_ONE_PAIRS:
        return _one_to_one_in_buckets(d, accs, dtype, accepted, n_a, n_b, margin)
    acc = np.empty(accepted, dtype)
    at = 0
    for path in accs:   # the accepted pairs of all partitions, 12 bytes a pair
        got = np.fromfile(path, dtype=dtype) if path.exists() else np.zeros(0, dtype)
        acc[at:at + len(got)] = got
        at += len(got)
        path.unlink(missing_ok=True)
    t = greedy_one_to_one(acc["a"], acc["b"], acc["num"], acc["den"], margin)
    return LinkTable(t.a.astype(np.int64), t.b.astype(np.int64), t.score)


def _one_to_one_in_buckets(d: Path, accs: list[Path], dtype: np.dtype, accepted: int,
                           n_a: int, n_b: int, margin: float) -> LinkTable:
    """`greedy_one_to_one` with a margin on pairs on disk, `ONE_TO_ONE_PAIRS` at a time:
    a pair is kept iff it is its a record's clear winner (`match.clear_winner`), which
    needs only that record's pairs, and its b record's. So the pairs go to buckets of
    a rows (shuffled rows: even buckets), each bucket marks its pairs' a-side verdict and
    sends them on to buckets of b rows, where the b side is judged; the kept pairs (the
    links) are sorted as `greedy_one_to_one` sorts them. Memory: a bucket, and the links."""
    buckets = -(-accepted // ONE_TO_ONE_PAIRS)
    flagged = np.dtype(dtype.descr + [("ok", "u1")])
    for path in accs:   # 1. by a rows
        got = np.fromfile(path, dtype=dtype)
        path.unlink()
        to_buckets(d, "oa", got, got["a"].astype(np.int64) * buckets // max(n_a, 1), buckets)
    for k in range(buckets):   # 2. a side judged, on to buckets of b rows
        got = read_bucket(d / f"oa{k}", dtype)
        out = np.empty(len(got), flagged)
        for name in dtype.names:
            out[name] = got[name]
        out["ok"] = clear_winner(got["a"], got["num"], got["den"], margin)
        del got
        to_buckets(d, "ob", out, out["b"].astype(np.int64) * buckets // max(n_b, 1),
                    buckets)
    keep: list[np.ndarray] = []
    for k in range(buckets):   # 3. b side judged: the links
        got = read_bucket(d / f"ob{k}", flagged)
        ok = clear_winner(got["b"], got["num"], got["den"], margin) & (got["ok"] == 1)
        keep.append(got[ok][list(dtype.names)])
        del got
        trim()
    links = np.concatenate(keep) if keep else np.zeros(0, dtype)
    del keep
    ia, ib = links["a"].astype(np.int64), links["b"].astype(np.int64)
    score = links["num"] / np.maximum(links["den"], 1)
    order = np.lexsort((ib, ia, -score))
    return LinkTable(ia[order], ib[order], score[order])


__all__ = ["ONE_TO_ONE_PAIRS", "one_to_one"]
