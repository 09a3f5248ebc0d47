"""Joint anti-money-laundering step on top of MPC-mode links: per linked person, secret-shared
aggregates across two companies and a rule whose result only the compliance node receives.

Inputs (same parties and ranks as mpc_match.py: 0 = owner A, 1 = owner B, 2 = compliance):
  - the `MpcLinkOutput` of `mpc_link` (public candidate pairs, shared 0/1 link flags);
  - each owner's activity per record, in the shuffled order it used for linkage: daily
    inflows and outflows over a common period of D days (integer amounts, e.g. fen/cents)
    and a number of counterparties.

Each owner computes, locally and in the clear on its own data, rolling N-day inflow sums
(D - N + 1 windows), total inflow, total outflow and counterparties, and secret-shares them.
For each of A's records i the parties compute, on shares,
    agg[i] = own_A[i] + Σ_{candidate p with ia_p = i} link_p · own_B[ib_p]
(one multiplication round over the candidates; the sum over p is local because the
candidate list is public), then the rule
    alert[i] = [max over windows of inflow ≥ T]  OR  [counterparties ≥ K]
as comparisons whose 0/1 results are summed and compared once more. Only `alert` is opened,
and only to the compliance node; optionally the aggregates of alerted persons (masked by the
alert flag) too. B's records that link to nobody are single-company cases B checks alone.

Adversary model: semi-honest, honest majority (as yinji.mpc). Leakage: the compliance node
learns which of A's record tokens raise an alert (and, if asked, their joint aggregates);
the owners learn nothing beyond what mpc_link showed them (the window count D - N + 1 and
the record counts are public parameters). Counterparties are summed across companies, an
upper bound on the distinct count (a shared counterparty counts once per company).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yinji.linkage.mpc_match import OWNER_A, OWNER_B, RECEIVER, MpcLinkOutput
from yinji.mpc import compare as cmp
from yinji.mpc import replicated as rep
from yinji.mpc.session import Session


@dataclass(frozen=True)
class AmlRule:
    """Alert when inflow within any `window_days` days reaches `inflow_threshold`, or when
    counterparties across companies reach `max_counterparties` (0 disables that clause)."""

    window_days: int = 7
    inflow_threshold: int = 50_000_000  # 500,000.00 CNY in fen
    max_counterparties: int = 0


@dataclass
class Activity:
    """One owner's per-record activity, rows in the owner's linkage (shuffled) order."""

    inflow: np.ndarray  # (n, D) integer amounts per day
    outflow: np.ndarray  # (n, D)
    counterparties: np.ndarray  # (n,)


@dataclass
class AmlResult:
    """The compliance node's output: alert per A token; aggregates for alerted tokens only
    (zeros elsewhere): total inflow, total outflow, counterparties over the period."""

    alert: np.ndarray
    aggregates: np.ndarray | None = None


def _features(act: Activity, rule: AmlRule) -> np.ndarray:
    inflow = np.asarray(act.inflow, dtype=np.int64)
    n, days = inflow.shape
    w = min(rule.window_days, days)
    csum = np.concatenate([np.zeros((n, 1), np.int64), np.cumsum(inflow, axis=1)], axis=1)
    windows = csum[:, w:] - csum[:, :-w]
    return np.concatenate([windows, inflow.sum(axis=1, keepdims=True),
                           np.asarray(act.outflow, np.int64).sum(axis=1, keepdims=True),
                           np.asarray(act.counterparties, np.int64).reshape(n, 1)], axis=1)


def joint_aml(s: Session, links: MpcLinkOutput, activity: Activity | None, rule: AmlRule,
              days: int, *, reveal_aggregates: bool = True) -> AmlResult | None:
    """Run the AML step as party `s.rank`; returns the result at the compliance node, None
    at the owners."""
    if links.link_flags is None:
        raise ValueError("mpc_link must be run with share_links=True")
    owner = s.rank in (OWNER_A, OWNER_B)
    if owner and activity is None:
        raise ValueError("a data owner must supply its activity")
    n_a, n_b = links.sizes
    width = days - min(rule.window_days, days) + 1 + 3
    feats = _features(activity, rule) if owner else None  # type: ignore[arg-type]
    if owner and feats.shape != ((n_a if s.rank == OWNER_A else n_b), width):
        raise ValueError(f"activity must have one row per linked record and {days} days")

    def enc(x):  # noqa: ANN001, ANN202
        return None if x is None else x.view(np.uint64)

    fa = rep.share(s, enc(feats) if s.rank == OWNER_A else None, OWNER_A, (n_a, width))
    fb = rep.share(s, enc(feats) if s.rank == OWNER_B else None, OWNER_B, (n_b, width))
    m = len(links.ia)
    flag = links.link_flags
    gathered = (fb[0][links.ib], fb[1][links.ib])
    fl = (np.repeat(flag[0][:, None], width, 1), np.repeat(flag[1][:, None], width, 1))
    linked = rep.mul(s, fl, gathered) if m else gathered
    agg = (fa[0].copy(), fa[1].copy())
    for i in range(2):
        np.add.at(agg[i], links.ia, linked[i])

    nw = width - 3
    ge = cmp.one_minus(s, cmp.ltz(s, _minus_thresholds(s, agg, rule, nw)))
    hits = (ge[0].sum(axis=1, dtype=np.uint64), ge[1].sum(axis=1, dtype=np.uint64))
    one = np.ones(n_a, dtype=np.uint64)
    hits = (hits[0] - one, hits[1]) if s.rank == 0 else \
        ((hits[0], hits[1] - one) if s.rank == 2 else hits)
    alert = cmp.one_minus(s, cmp.ltz(s, hits))  # [at least one clause holds]
    out0, out1 = [alert[0][:, None]], [alert[1][:, None]]
    if reveal_aggregates:
        masked = rep.mul(s, (np.repeat(alert[0][:, None], 3, 1),
                             np.repeat(alert[1][:, None], 3, 1)),
                         (agg[0][:, nw:], agg[1][:, nw:]))
        out0.append(masked[0])
        out1.append(masked[1])
    opened = rep.reveal_to(s, (np.concatenate(out0, 1), np.concatenate(out1, 1)), RECEIVER)
    if s.rank != RECEIVER:
        return None
    o = opened.view(np.int64)  # type: ignore[union-attr]
    return AmlResult(alert=o[:, 0] == 1, aggregates=o[:, 1:] if reveal_aggregates else None)


def _minus_thresholds(s, agg, rule, nw):  # noqa: ANN001, ANN202
    """agg - threshold on shares: the public threshold is subtracted from component x0, held
    by ranks 0 (as its first component) and 2 (as its second)."""
    parts0, parts1 = [agg[0][:, :nw]], [agg[1][:, :nw]]
    consts = [np.full(nw, rule.inflow_threshold, np.uint64)]
    if rule.max_counterparties:
        parts0.append(agg[0][:, -1:])
        parts1.append(agg[1][:, -1:])
        consts.append(np.array([rule.max_counterparties], np.uint64))
    x0, x1 = np.concatenate(parts0, 1), np.concatenate(parts1, 1)
    c = np.concatenate(consts)
    if s.rank == 0:
        x0 = x0 - c
    elif s.rank == 2:
        x1 = x1 - c
    return x0, x1
