"""The MPC part of `customer-view`: consented group profiles to each company, suppressed
group statistics to one recipient. Integers only (frac_bits=0): flags, counts, CNY fen.

Each company c holds, per group identity i in [0, N) (N public to the companies), the row
    h  = 1 if c has a record of i           k  = 1 if i consented at c (every record of i at
    p_j = product category j at c                c says yes; 0 where h = 0)
    a  = assets at c (fen, converted)       kp_j = k * p_j,   ka = k * a
(`features`). The consent-masked columns kp, ka are made locally, so a fact held without
consent enters the MPC only in the unmasked columns p, a, which feed the suppressed
statistics and nothing else.

In MPC (three compute companies; the others are input parties, yinji.mpc.inputs):
- profile of i (PIPL rule: company c's facts appear only if i consented at c):
  served_c = k_c, category_j = [sum_c kp_cj >= 1], band = #{edges e: sum_c ka_c >= e};
  company B receives the profile rows of all N identities multiplied by k_B(i): zero rows
  for every identity that did not consent at B (including all it does not hold);
- statistics over every identity (consent does not matter, nothing per client is opened):
  counts per cross-holding pattern (one-hot of the h_c pattern by products of h_c and
  1 - h_c), per asset band of the group total sum_c a_c, per product category, and of
  consenting clients per company; each count c is opened as c if c >= min_cohort, 0 if
  c = 0, and "suppressed" if 0 < c < min_cohort; in the pattern and band tables (whose
  cells add up to N) a single suppressed cell also suppresses the smallest shown cell(s),
  so that N minus the shown cells does not give it away.

Adversary model: semi-honest, honest majority of the compute companies (yinji.mpc). What
each party learns: company B its profile rows (for its consenting clients; all-zero rows
otherwise), the statistics recipient the suppressed counts and which cells were
suppressed; compute companies nothing else (shares and uniform output components).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yinji.apps.base import AppError
from yinji.apps.customer_table import CustomerTable
from yinji.mpc import Session, SharedTensor
from yinji.mpc.inputs import receive_input, receive_output, reveal_outside, send_input
from yinji.mpc.tensor import concatenate, stack
from yinji.net.channel import Party

MAX_IDENTITY_FEN = 10**16   # per company and client; 64 companies stay below 2^62


@dataclass(frozen=True)
class Plan:
    """What every party agrees on (from the spec): who holds what, who receives what."""

    companies: list[str]        # every company with input, profile order
    compute: list[str]          # the three compute companies (session order)
    profile_to: list[str]       # companies receiving their profiles
    stats_to: str               # the statistics recipient
    categories: int             # J
    edges: list[int]            # asset band edges, fen, ascending
    min_cohort: int

    @property
    def width(self) -> int:      # features per identity
        return 2 * self.categories + 4

    @property
    def profile_width(self) -> int:
        return len(self.companies) + self.categories + 1

    def stats_sizes(self) -> list[int]:   # patterns, bands, categories, consent per company
        m = len(self.companies)
        return [2**m - 1, len(self.edges) + 1, self.categories, m]


def features(t: CustomerTable, ident: np.ndarray, count: int) -> np.ndarray:
    """(N, 2J + 4) int64: h, k, p_1..J, a, kp_1..J, ka (see the module docstring)."""
    j = t.products.shape[1]
    h = np.bincount(ident, minlength=count) > 0
    refused = np.bincount(ident, weights=~t.consent, minlength=count) > 0
    k = h & ~refused
    p = np.zeros((count, j), np.int64)
    np.maximum.at(p, ident, t.products.astype(np.int64))
    a = np.zeros(count, np.int64)
    np.add.at(a, ident, np.minimum(t.assets, MAX_IDENTITY_FEN))
    if (a > MAX_IDENTITY_FEN).any():   # keeps group sums far inside the signed 64-bit ring
        raise AppError("one client's assets at this company add up to more than 10^14 CNY")
    kk = k.astype(np.int64)
    return np.column_stack([h, k, p, a, p * kk[:, None], a * kk]).astype(np.int64)


def company_side(party: Party, plan: Plan, mine: np.ndarray
                 ) -> tuple[np.ndarray | None, dict[str, np.ndarray] | None]:
    """Run by every company: its features in, its outputs out: (profile rows (N, W) if it
    is a profile recipient, statistics if it is the statistics recipient)."""
    me = party.name
    if me not in plan.compute:
        send_input(party, plan.compute, mine, frac_bits=0)
        prof = receive_output(party, plan.compute, 0) if me in plan.profile_to else None
        stats = receive_stats(party, plan) if me == plan.stats_to else None
        return prof, stats
    s = Session(party, plan.compute, frac_bits=0)
    n = mine.shape[0]
    x = [SharedTensor.share(s, mine if c == me else None, c, frac_bits=0,
                            shape=(n, plan.width)) for c in plan.compute]
    for c in plan.companies:
        if c not in plan.compute:
            got = receive_input(s, c, frac_bits=0)
            if got.shape != (n, plan.width):
                raise ValueError(f"{c} shared {got.shape}, expected {(n, plan.width)}")
            x.append(got)
    order = plan.compute + [c for c in plan.companies if c not in plan.compute]
    x = [x[order.index(c)] for c in plan.companies]
    prof, stats = _compute(s, plan, stack(x))
    out_prof = None
    for b, rows in zip(plan.profile_to, prof, strict=True):
        if b in plan.compute:
            got = rows.reveal_to(b)
            if b == me:
                out_prof = got
        else:
            reveal_outside(rows, b)
    out_stats = None
    for t in stats:
        if plan.stats_to in plan.compute:
            got = t.reveal_to(plan.stats_to)
            if plan.stats_to == me:
                out_stats = (out_stats or []) + [got]
        else:
            reveal_outside(t, plan.stats_to)
    return out_prof, (_stats_dict(plan, out_stats) if out_stats is not None else None)


def receive_stats(party: Party, plan: Plan) -> dict[str, np.ndarray]:
    """Run by a statistics recipient outside the compute companies."""
    return _stats_dict(plan, [receive_output(party, plan.compute, 0) for _ in range(2)])


def _stats_dict(plan: Plan, opened: list[np.ndarray]) -> dict[str, np.ndarray]:
    values, flags = opened
    names = ("patterns", "bands", "categories", "consent")
    cuts = np.cumsum(plan.stats_sizes())[:-1]
    return {n: np.where(f.astype(bool), -1, v) for n, v, f in
            zip(names, np.split(values, cuts), np.split(flags, cuts), strict=True)}


def _compute(s: Session, plan: Plan, x: SharedTensor
             ) -> tuple[list[SharedTensor], list[SharedTensor]]:
    m, n, j = len(plan.companies), x.shape[1], plan.categories
    edges = np.asarray(plan.edges, np.int64)
    e = len(edges)
    h, k = x[:, :, 0], x[:, :, 1]
    p_sum, a_sum = x[:, :, 2:2 + j].sum(axis=0), x[:, :, 2 + j].sum(axis=0)
    kp_sum, ka_sum = x[:, :, 3 + j:3 + 2 * j].sum(axis=0), x[:, :, 3 + 2 * j].sum(axis=0)
    # one batched comparison: every ">= threshold" the outputs need
    diffs = concatenate([(p_sum - 1).reshape(-1), (kp_sum - 1).reshape(-1),
                         (a_sum.reshape(n, 1) - edges.reshape(1, e)).reshape(-1),
                         (ka_sum.reshape(n, 1) - edges.reshape(1, e)).reshape(-1)])
    ge = 1 - diffs.sign_bit()
    cuts = np.cumsum([n * j, n * j, n * e])
    cat_any = ge[:cuts[0]].reshape(n, j)
    kcat_any = ge[cuts[0]:cuts[1]].reshape(n, j)
    ge_all = ge[cuts[1]:cuts[2]].reshape(n, e)
    band_k = ge[cuts[2]:].reshape(n, e).sum(axis=1)
    # profiles: one multiplication for every recipient at once
    rows = concatenate([k.transpose(1, 0), kcat_any, band_k.reshape(n, 1)], axis=1)
    ks = stack([k[plan.companies.index(b)] for b in plan.profile_to]) if plan.profile_to \
        else None
    profiles = []
    if ks is not None:
        masked = rows.reshape(1, n, plan.profile_width) * ks.reshape(len(plan.profile_to), n, 1)
        profiles = [masked[r] for r in range(len(plan.profile_to))]
    # statistics
    onehot = concatenate([(1 - h[0]).reshape(n, 1), h[0].reshape(n, 1)], axis=1)
    for c in range(1, m):   # bit c of the pattern index = h_c
        hc = concatenate([(1 - h[c]).reshape(n, 1), h[c].reshape(n, 1)], axis=1)
        onehot = (hc.reshape(n, 2, 1) * onehot.reshape(n, 1, 2**c)).reshape(n, 2**(c + 1))
    ones = SharedTensor.public(s, np.ones((n, 1), np.int64), 0)
    zeros = SharedTensor.public(s, np.zeros((n, 1), np.int64), 0)
    ge_b = concatenate([ones, ge_all, zeros], axis=1) if e else concatenate([ones, zeros], axis=1)
    bands = ge_b[:, :-1] - ge_b[:, 1:]
    counts = concatenate([onehot.sum(axis=0)[1:], bands.sum(axis=0), cat_any.sum(axis=0),
                          k.sum(axis=1)])
    values, flags = _suppress(plan, counts)
    return profiles, [values, flags]


def _suppress(plan: Plan, counts: SharedTensor) -> tuple[SharedTensor, SharedTensor]:
    """(shown values, suppressed flags): 0 < c < min_cohort suppressed; in the pattern and
    band tables one suppressed cell also suppresses the smallest shown cell(s)."""
    big = 1 << 40
    both = concatenate([counts - plan.min_cohort, counts - 1])
    ge = 1 - both.sign_bit()
    size = counts.shape[0]
    shown, nonzero = ge[:size], ge[size:]
    small = nonzero - shown
    sizes = plan.stats_sizes()
    extra = []
    start = 0
    for width in sizes[:2]:   # tables whose cells add up to N
        sl = slice(start, start + width)
        start += width
        if width < 2:
            extra.append(shown[sl] * 0)
            continue
        lone = (small[sl].sum() - 1).eq(0)                       # exactly one suppressed
        masked = counts[sl] * shown[sl] + (1 - shown[sl]) * big   # shown cells, others big
        low = masked.min(axis=0)
        pick = masked.eq(low.reshape(1)) * shown[sl]
        extra.append(pick * lone)
    more = concatenate([*extra, shown[sum(sizes[:2]):] * 0])
    shown = shown - more
    small = small + more
    return counts * shown, small


def plaintext(plan: Plan, feats: dict[str, np.ndarray]
              ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The same outputs computed in the clear (tests and the demo's check)."""
    j = plan.categories
    x = np.stack([feats[c] for c in plan.companies])
    h, k = x[:, :, 0], x[:, :, 1]
    edges = np.asarray(plan.edges, np.int64)
    kcat = x[:, :, 3 + j:3 + 2 * j].sum(axis=0) >= 1
    band_k = (x[:, :, 3 + 2 * j].sum(axis=0)[:, None] >= edges[None, :]).sum(axis=1)
    rows = np.column_stack([k.T, kcat, band_k]).astype(np.int64)
    profiles = {b: rows * k[plan.companies.index(b)][:, None] for b in plan.profile_to}
    pattern = (h * (1 << np.arange(len(plan.companies)))[:, None]).sum(axis=0)
    band = (x[:, :, 2 + j].sum(axis=0)[:, None] >= edges[None, :]).sum(axis=1)
    counts = np.concatenate([np.bincount(pattern, minlength=2**len(plan.companies))[1:],
                             np.bincount(band, minlength=len(edges) + 1),
                             (x[:, :, 2:2 + j].sum(axis=0) >= 1).sum(axis=0),
                             k.sum(axis=1)]).astype(np.int64)
    shown = counts >= plan.min_cohort
    small = (counts > 0) & ~shown
    start = 0
    for width in plan.stats_sizes()[:2]:
        sl = slice(start, start + width)
        start += width
        if width >= 2 and small[sl].sum() == 1 and shown[sl].any():
            low = counts[sl][shown[sl]].min()
            pick = shown[sl] & (counts[sl] == low)
            shown[sl] &= ~pick
            small[sl] |= pick
    values = np.where(small, -1, counts * shown)
    cuts = np.cumsum(plan.stats_sizes())[:-1]
    names = ("patterns", "bands", "categories", "consent")
    return profiles, dict(zip(names, np.split(values, cuts), strict=True))
