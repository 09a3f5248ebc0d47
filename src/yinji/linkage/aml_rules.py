"""Joint AML rules over group identities, in MPC: three compute companies (replicated secret
sharing over Z_2^64, yinji.mpc) plus input companies (yinji.mpc.inputs).

Every company knows the public number G of group identities (groups.py) and, in the clear,
which identities hold its own records. It aggregates its own transactions per identity and
day (inflow, outflow, and inflow made of deposits each below the reporting threshold T) over
the public period of D days and computes locally, per identity, rolling-window sums and 0/1
"this company was active" flags, total inflow, the declared annual income of its records
(the largest if it has several) and its membership flag. These integer vectors (amounts in
fen) are secret-shared, G rows at a time in chunks. On shares the parties add the companies'
window sums and flags and compute, per identity g (all comparisons are secure sign tests):

  STRUCT  some W-day window where the sub-threshold deposits total >= T and come from
          at least two companies;
  RAPID   some R-day window with inflow >= M and outflow >= p% of that inflow, with at
          least two companies active in the window (order within the window is not used);
  INCOME  declared income (max over companies) > 0 and total inflow over the period >
          k x declared income x D / 365.

The reason code c = STRUCT + 2 RAPID + 4 INCOME is multiplied by each company's shared
membership flag and opened to that company only; the officer receives, opened once at the
end, per company and per rule the number of that company's identities with the alert
(and with any alert), and per rule the number of alerted identities group-wide.

Adversary model: semi-honest, no two compute parties collude (yinji.mpc); input companies
and the officer semi-honest. Leakage: G, D, the rule parameters and the chunk size are
public. A company learns the reason codes of the identities that hold its own records and
nothing else (every other array it receives is a share component or a freshly masked
opening; for identities without its records it receives 0). The officer learns the counts
only. Compute parties learn nothing beyond their own outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

import numpy as np

from yinji.mpc import compare as cmp
from yinji.mpc import replicated as rep
from yinji.mpc.inputs import InputError, receive_input, receive_output, reveal_outside, send_input
from yinji.mpc.replicated import Shares
from yinji.mpc.session import Session
from yinji.net.channel import Party

CODES = {"STRUCT": 1, "RAPID": 2, "INCOME": 4}
COUNT_RULES = ("STRUCT", "RAPID", "INCOME", "ANY")
MAX_AMOUNT = 10**12  # fen per aggregate (10^10 CNY): keeps every comparison below 2^63
CHUNK = 4096
Features = np.ndarray | tuple[int, Callable[[int, int], np.ndarray]]


@dataclass(frozen=True)
class Rules:
    """Public rule parameters (amounts in fen)."""

    days: int = 30
    threshold: int = 5_000_000          # reporting threshold T (50,000 CNY)
    struct_window: int = 7              # W
    rapid_window: int = 3               # R
    rapid_min: int = 5_000_000          # M
    rapid_pct: int = 90                 # p
    income_pct: int = 500               # k in percent (5 x)

    def __post_init__(self) -> None:
        if not (1 <= self.struct_window <= self.days and 1 <= self.rapid_window <= self.days
                and 1 <= self.days <= 366):
            raise ValueError("windows must be 1..days and days 1..366")
        if not (0 < self.threshold <= MAX_AMOUNT and 0 < self.rapid_min <= MAX_AMOUNT
                and 1 <= self.rapid_pct <= 1000 and 1 <= self.income_pct <= 10_000):
            raise ValueError("rule amounts or percentages out of range")

    @property
    def n_struct(self) -> int:
        return self.days - self.struct_window + 1

    @property
    def n_rapid(self) -> int:
        return self.days - self.rapid_window + 1

    @property
    def width(self) -> int:
        """Columns of a company's shared matrix: summed features, then income, member."""
        return 2 * self.n_struct + 3 * self.n_rapid + 1 + 2


@dataclass
class Activity:
    """One company's activity per group identity (G rows), amounts in fen."""

    small_in: np.ndarray   # (G, D) inflow from deposits each below the threshold
    inflow: np.ndarray     # (G, D)
    outflow: np.ndarray    # (G, D)
    income: np.ndarray     # (G,) declared annual income, 0 = none declared
    member: np.ndarray     # (G,) 1 if the company holds a record of the identity


def _windows(x: np.ndarray, w: int) -> np.ndarray:
    c = np.concatenate([np.zeros((x.shape[0], 1), np.int64), np.cumsum(x, axis=1)], axis=1)
    return c[:, w:] - c[:, :-w]


def features(act: Activity, rules: Rules) -> np.ndarray:
    """(G, width) int64: the company's local features (see the module docstring)."""
    g = act.member.shape[0]
    for name in ("small_in", "inflow", "outflow"):
        a = getattr(act, name)
        if a.shape != (g, rules.days) or (a < 0).any():
            raise ValueError(f"activity {name} must be ({g}, {rules.days}) non-negative")
    s = _windows(act.small_in.astype(np.int64), rules.struct_window)
    inn = _windows(act.inflow.astype(np.int64), rules.rapid_window)
    out = _windows(act.outflow.astype(np.int64), rules.rapid_window)
    active = _windows((act.inflow + act.outflow > 0).astype(np.int64), rules.rapid_window) > 0
    total = act.inflow.sum(axis=1, dtype=np.int64)
    f = np.concatenate([s, s > 0, inn, out, active, total[:, None],
                        act.income.astype(np.int64)[:, None],
                        (act.member != 0).astype(np.int64)[:, None]], axis=1).astype(np.int64)
    if (f > MAX_AMOUNT).any() or (f < 0).any():
        raise ValueError(f"an amount above {MAX_AMOUNT} fen or below 0: outside the rules' range")
    return f


def plain_codes(acts: Sequence[Activity], rules: Rules) -> tuple[np.ndarray, np.ndarray]:
    """The same rules in the clear over all companies' features: (codes (G,), and the
    per-company member matrix (companies, G)) -- the plaintext twin for tests."""
    fs = [features(a, rules) for a in acts]
    ns, nr = rules.n_struct, rules.n_rapid
    tot = sum(f[:, :-2] for f in fs)
    s, k = tot[:, :ns], tot[:, ns:2 * ns]
    inn, out, act = (tot[:, 2 * ns:2 * ns + nr], tot[:, 2 * ns + nr:2 * ns + 2 * nr],
                     tot[:, 2 * ns + 2 * nr:2 * ns + 3 * nr])
    tin = tot[:, -1]
    income = np.max(np.stack([f[:, -2] for f in fs]), axis=0)
    struct = ((s >= rules.threshold) & (k >= 2)).any(axis=1)
    rapid = ((inn >= rules.rapid_min) & (100 * out >= rules.rapid_pct * inn)
             & (act >= 2)).any(axis=1)
    inc = (income > 0) & (tin * 36500 > rules.income_pct * rules.days * income)
    codes = struct * 1 + rapid * 2 + inc * 4
    return codes.astype(np.int64), np.stack([f[:, -1] for f in fs])


# ----------------------------------------------------------------------- MPC program
def _ge0(s: Session, parts: list[Shares]) -> list[Shares]:
    """[x >= 0] for each sharing in `parts`, in one batched sign test."""
    sizes = [p[0].size for p in parts]
    flat = (np.concatenate([p[0].ravel() for p in parts]),
            np.concatenate([p[1].ravel() for p in parts]))
    bits = cmp.one_minus(s, cmp.ltz(s, flat))
    out, at = [], 0
    for p, n in zip(parts, sizes, strict=True):
        out.append((bits[0][at:at + n].reshape(p[0].shape),
                    bits[1][at:at + n].reshape(p[0].shape)))
        at += n
    return out


def _add_const(s: Session, x: Shares, c: int) -> Shares:
    """x + c for a public integer c (added to component x0, held by ranks 0 and 2)."""
    cu = np.uint64(c % (1 << 64))
    if s.rank == 0:
        return x[0] + cu, x[1]
    if s.rank == 2:
        return x[0], x[1] + cu
    return x


def _scale(x: Shares, c: int) -> Shares:
    cu = np.uint64(c % (1 << 64))
    return x[0] * cu, x[1] * cu


def _add(x: Shares, y: Shares) -> Shares:
    return x[0] + y[0], x[1] + y[1]


def _chunk_codes(s: Session, mats: list[Shares], rules: Rules) -> tuple[Shares, list[Shares]]:
    """Reason codes (G_c,) and per-company member flags of one chunk."""
    ns, nr = rules.n_struct, rules.n_rapid
    tot = mats[0][0][:, :-2], mats[0][1][:, :-2]
    for m in mats[1:]:
        tot = _add(tot, (m[0][:, :-2], m[1][:, :-2]))

    def cols(a: int, b: int) -> Shares:
        return tot[0][:, a:b], tot[1][:, a:b]

    s_, k = cols(0, ns), cols(ns, 2 * ns)
    inn, out = cols(2 * ns, 2 * ns + nr), cols(2 * ns + nr, 2 * ns + 2 * nr)
    act, tin = cols(2 * ns + 2 * nr, 2 * ns + 3 * nr), cols(-1, None)
    incs = [(m[0][:, -2], m[1][:, -2]) for m in mats]
    members = [(m[0][:, -1], m[1][:, -1]) for m in mats]
    while len(incs) % 2:
        incs.append((np.zeros_like(incs[0][0]), np.zeros_like(incs[0][1])))
    pairs = [(incs[i], incs[i + 1]) for i in range(0, len(incs), 2)]
    ge = _ge0(s, [_add_const(s, s_, -rules.threshold), _add_const(s, k, -2),
                  _add_const(s, inn, -rules.rapid_min),
                  cmp.sub(_scale(out, 100), _scale(inn, rules.rapid_pct)),
                  _add_const(s, act, -2)] + [cmp.sub(a, b) for a, b in pairs])
    st, rp = rep.mul(s, ge[0], ge[1]), rep.mul(s, ge[2], ge[3])
    rp = rep.mul(s, rp, ge[4])
    incs = [cmp.select(s, c, a, b) for c, (a, b) in zip(ge[5:], pairs, strict=True)]
    any_st = _add_const(s, (st[0].sum(axis=1), st[1].sum(axis=1)), -1)
    any_rp = _add_const(s, (rp[0].sum(axis=1), rp[1].sum(axis=1)), -1)
    while len(incs) > 1:  # max tree over the companies' declared incomes
        if len(incs) % 2:
            incs.append((np.zeros_like(incs[0][0]), np.zeros_like(incs[0][1])))
        pairs = [(incs[i], incs[i + 1]) for i in range(0, len(incs), 2)]
        c = _ge0(s, [cmp.sub(a, b) for a, b in pairs])
        incs = [cmp.select(s, ci, a, b) for ci, (a, b) in zip(c, pairs, strict=True)]
    income = incs[0]
    tin1 = (tin[0][:, 0], tin[1][:, 0])
    over = _add_const(s, cmp.sub(_scale(tin1, 36500),
                                 _scale(income, rules.income_pct * rules.days)), -1)
    g = _ge0(s, [any_st, any_rp, over, _add_const(s, income, -1)])
    inc = rep.mul(s, g[2], g[3])
    code = _add(_add(g[0], _scale(g[1], 2)), _scale(inc, 4))
    return (code, [g[0], g[1], inc]), members


def _share_chunk(s: Session, mine: np.ndarray | None, input_parties: Sequence[str],
                 rows: int, width: int) -> list[Shares]:
    mats = [rep.share(s, mine.view(np.uint64) if (mine is not None and s.rank == r) else None,
                      r, (rows, width)) for r in range(3)]
    for name in input_parties:
        t = receive_input(s, name, frac_bits=0, max_elements=rows * width)
        if t.shape != (rows, width):
            raise InputError(f"input from {name!r}: expected {(rows, width)}, got {t.shape}")
        mats.append(t.shares)
    return mats


def _chunks(feats: Features, rules: Rules) -> tuple[int, Callable[[int, int], np.ndarray]]:
    if isinstance(feats, np.ndarray):
        if feats.ndim != 2 or feats.shape[1] != rules.width:
            raise ValueError(f"features must have {rules.width} columns")
        return feats.shape[0], lambda lo, hi: feats[lo:hi]
    g, fn = feats

    def checked(lo: int, hi: int) -> np.ndarray:
        f = fn(lo, hi)
        if f.shape != (hi - lo, rules.width):
            raise ValueError(f"features of rows {lo}..{hi} must be ({hi - lo}, {rules.width})")
        return f
    return g, checked


def aml_compute(s: Session, feats: Features, input_parties: Sequence[str],
                companies: Sequence[str], officer: str | None, rules: Rules,
                chunk: int = CHUNK, deliver: Collection[str] | None = None) -> np.ndarray:
    """Run by each compute party with its features: a (G, width) array or (G, f) with
    f(lo, hi) giving rows lo..hi (so G x D never has to be in memory at once).
    `companies` = the three compute parties in session order, then `input_parties`.
    Returns this company's reason codes (G,), 0 for identities without its records (all 0
    if it is not in `deliver`, the companies that receive codes; default all). `officer`
    (None: nobody) receives the counts."""
    g, rows_of = _chunks(feats, rules)
    n_c = len(companies)
    counts = (np.zeros((n_c + 1) * 4, np.uint64), np.zeros((n_c + 1) * 4, np.uint64))
    mine = np.zeros(g, np.int64)
    for lo in range(0, g, chunk):
        hi = min(g, lo + chunk)
        mats = _share_chunk(s, rows_of(lo, hi), input_parties, hi - lo, rules.width)
        (code, bits), members = _chunk_codes(s, mats, rules)
        anyb = _any(s, bits)
        rule_bits = [*bits, anyb]
        # per company: code x member (opened to it), rule bits x member (summed for counts)
        m_all = (np.concatenate([m[0] for m in members] * 5),
                 np.concatenate([m[1] for m in members] * 5))
        vals = (np.concatenate([code[0]] * n_c + [b[0] for b in rule_bits for _ in members]),
                np.concatenate([code[1]] * n_c + [b[1] for b in rule_bits for _ in members]))
        prod = rep.mul(s, m_all, vals)
        n = hi - lo
        for c, name in enumerate(companies):
            if deliver is not None and name not in deliver:
                continue
            part = (prod[0][c * n:(c + 1) * n], prod[1][c * n:(c + 1) * n])
            if c < 3:
                got = rep.reveal_to(s, part, c)
                if got is not None:
                    mine[lo:hi] = got.view(np.int64)
            else:
                reveal_outside(_wrap(s, part), name)
        rb = (prod[0][n_c * n:].reshape(4, n_c, n).sum(axis=2).ravel(),
              prod[1][n_c * n:].reshape(4, n_c, n).sum(axis=2).ravel())
        tot = (np.stack([b[0].sum() for b in rule_bits]), np.stack([b[1].sum() for b in rule_bits]))
        # layout: rule-major (4 x companies), then the 4 group-wide totals
        counts = (counts[0] + np.concatenate([rb[0], tot[0]]),
                  counts[1] + np.concatenate([rb[1], tot[1]]))
    if officer is not None:
        if officer in s.names:
            rep.reveal_to(s, counts, s.names.index(officer))
        else:
            reveal_outside(_wrap(s, counts), officer)
    return mine


def _any(s: Session, bits: list[Shares]) -> Shares:
    """1 - (1-a)(1-b)(1-c)."""
    na, nb, nc = (cmp.one_minus(s, b) for b in bits)
    return cmp.one_minus(s, rep.mul(s, rep.mul(s, na, nb), nc))


def _wrap(s: Session, x: Shares):  # noqa: ANN202 - a SharedTensor of integers
    from yinji.mpc.tensor import SharedTensor

    return SharedTensor(s, (x[0], x[1]), 0)


def aml_input(party: Party, compute: Sequence[str], feats: Features, rules: Rules,
              chunk: int = CHUNK, receive: bool = True) -> np.ndarray:
    """Run by an input company: share its features chunk by chunk; returns its codes (all 0
    when it does not `receive` them: then nothing is sent to it)."""
    g, rows_of = _chunks(feats, rules)
    mine = np.zeros(g, np.int64)
    for lo in range(0, g, chunk):
        hi = min(g, lo + chunk)
        send_input(party, compute, rows_of(lo, hi), frac_bits=0)
        if not receive:
            continue
        got = receive_output(party, compute, frac_bits=0)
        if got.shape != (hi - lo,):
            raise InputError(f"codes from {list(compute)} have shape {got.shape}")
        mine[lo:hi] = got
    return mine


def aml_officer(party: Party, compute: Sequence[str], companies: Sequence[str]
                ) -> dict[str, dict[str, int]]:
    """Run by the officer (outside the session): {company or "group": {rule: count}}."""
    got = receive_output(party, compute, frac_bits=0)
    n_c = len(companies)
    if got.shape != ((n_c + 1) * 4,):
        raise InputError(f"counts from {list(compute)} have shape {got.shape}")
    per = got[: 4 * n_c].reshape(4, n_c)
    out = {c: {r: int(per[i, j]) for i, r in enumerate(COUNT_RULES)}
           for j, c in enumerate(companies)}
    out["group"] = {r: int(got[4 * n_c + i]) for i, r in enumerate(COUNT_RULES)}
    return out


__all__ = ["CODES", "COUNT_RULES", "Activity", "Rules", "aml_compute", "aml_input",
           "aml_officer", "features", "plain_codes"]
