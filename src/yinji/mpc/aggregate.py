"""Grouped aggregation (sum / count / mean per group) over three parties' inputs, revealed only
to named recipients. Secret-shared addition of locally pre-aggregated vectors (replicated
sharing, Araki et al. CCS 2016), mean by a shared reciprocal of the count
(`yinji.mpc.nonlinear.reciprocal`).

Each party groups its own rows by the public list of group keys and computes, in the clear and
locally, its per-group sums and counts; it secret-shares those two vectors; the parties add
the three sharings and open the requested metrics only to the recipients (`reveal_to`).

Further companies take part as input parties (`aggregate_input`, yinji.mpc.inputs): they
secret-share their two vectors into the three compute parties and may be recipients.

Adversary model: semi-honest, honest majority among the compute parties (yinji.mpc); input
parties semi-honest. Leakage: the group list and the metrics requested are public (job
parameters). A recipient learns the requested per-group metrics of the union of all inputs
(and what they imply, e.g. a group's total when it has a single contributor); non-recipients learn nothing; no party learns another's per-group
figures beyond that. Mean: shared division (`nonlinear.divide`) of sum / 4096 by count, then
times 4096: valid for |mean| < about 2.1e9, error about 2^-(f-1) relative plus 0.25 absolute
(f = 16). A group with count 0 gets mean 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from yinji.mpc.inputs import InputError, receive_input, receive_output, reveal_outside, send_input
from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor
from yinji.net.channel import Party

METRICS = ("sum", "count", "mean")
MEAN_SCALE = 4096.0


def local_group_totals(keys: np.ndarray, values: np.ndarray | None,
                       groups: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per-group sums and counts of one party's rows (rows whose key is not in `groups` are
    not counted). Vectorised: one `np.unique`-style lookup, one `bincount` per output."""
    index = {g: i for i, g in enumerate(groups)}
    idx = np.fromiter((index.get(str(k), -1) for k in keys), dtype=np.int64, count=len(keys))
    keep = idx >= 0
    counts = np.bincount(idx[keep], minlength=len(groups)).astype(np.float64)
    if values is None:
        sums = np.zeros(len(groups))
    else:
        sums = np.bincount(idx[keep], weights=np.asarray(values, dtype=np.float64)[keep],
                           minlength=len(groups))
    return sums, counts


def group_aggregate(session: Session, sums: np.ndarray, counts: np.ndarray,
                    metrics: Sequence[str], recipients: Sequence[str],
                    input_parties: Sequence[str] = ()) -> dict[str, list[float]] | None:
    """Run by each of the three compute parties with its local per-group `sums` and `counts`
    (same length G everywhere). `input_parties` are further companies outside the session
    that contribute through `aggregate_input` (yinji.mpc.inputs); recipients may be compute
    or input parties. Returns {metric: per-group values} at compute-party recipients, None
    elsewhere.

    Rounds: 1 (inputs) + one per (metric, recipient) opening, plus about 75 for `mean`.
    """
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; expected some of {METRICS}")
    g = len(sums)
    mine = np.concatenate([np.asarray(sums, np.float64), np.asarray(counts, np.float64)])
    parts = [SharedTensor.share(session, mine if session.rank == r else None, r, shape=(2 * g,))
             for r in range(3)]
    total = parts[0] + parts[1] + parts[2]
    for name in input_parties:
        theirs = receive_input(session, name, max_elements=2 * g)
        if theirs.shape != (2 * g,):
            raise InputError(f"input from {name!r}: expected {2 * g} values, got {theirs.shape}")
        total = total + theirs
    shared = {"sum": total[:g], "count": total[g:]}
    if "mean" in metrics:
        # divide() works on normalised denominators but needs |quotient| < 2^19; scaling the
        # numerator by a public 2^-12 first extends that to about 2.1e9
        shared["mean"] = ((total[:g] * (1.0 / MEAN_SCALE)) / total[g:]) * MEAN_SCALE
    out: dict[str, list[float]] | None = None
    for recipient in recipients:
        for metric in metrics:
            if recipient not in session.names:
                reveal_outside(shared[metric], recipient)
                continue
            value = shared[metric].reveal_to(recipient)
            if value is not None:
                out = out or {}
                out[metric] = _rounded(metric, value)
    return out


def aggregate_input(party: Party, compute: Sequence[str], sums: np.ndarray, counts: np.ndarray,
                    metrics: Sequence[str], recipients: Sequence[str]
                    ) -> dict[str, list[float]] | None:
    """Run by an input party (a company outside the three compute parties): share its
    per-group sums and counts into the session; receive the metrics if it is a recipient."""
    send_input(party, compute, np.concatenate([np.asarray(sums, np.float64),
                                               np.asarray(counts, np.float64)]))
    if party.name not in recipients:
        return None
    out = {}
    for recipient in recipients:
        for metric in metrics:
            if recipient == party.name:
                out[metric] = _rounded(metric, receive_output(party, compute))
    return out


def _rounded(metric: str, value: np.ndarray) -> list[float]:
    return [round(float(v), 6) if metric != "count" else float(round(v)) for v in value]


__all__ = ["METRICS", "aggregate_input", "group_aggregate", "local_group_totals"]
