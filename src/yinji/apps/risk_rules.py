"""The look-through risk rules (风险客户识别) on per-client group figures, in MPC and in the
clear (the plaintext twin the tests and the demo compare with).

Per client the compute parties hold, as integer shares (frac_bits = 0, amounts in fen = CNY
0.01), the vector laid out by `layout(K)` for the K companies of a run:

    assets, prior_assets, exposure_0 .. exposure_{K-1}

assets and prior_assets are group sums; exposure_c is company c's exposure to the client
(the sum of its exposure columns, FX-converted). Each company's ledger entry for a client
fills its own exposure_c and zeros elsewhere, so summing a client's entries gives this
vector (`yinji.psi.ledger.totals`).

Rules (ratios are integers per mille, so every test is an exact integer comparison -- no
division, no fixed-point rounding -- and the twin agrees bit for bit):

- LEV:  1000 * E > lev * A                       E = sum_c exposure_c, A = assets
- CONC: E >= conc_min  and  1000 * max_c exposure_c > conc * E
        (conc >= 500: at most one company can hold more than half of E, so the OR over c
        is the sum of the K comparison bits)
- DROP: P >= min_assets  and  1000 * (P - A) > drop * P          P = prior_assets

Range: every amount is at most MAX_AMOUNT_FEN per company and column, ratios at most
MAX_PERMILLE, so every side of every comparison stays below 2^62 and the differences
cannot wrap in Z_2^64.

Adversary model and leakage: those of yinji.mpc (semi-honest, honest majority): the rules
reveal nothing; only what the caller opens (`rule_counts`, `packed` codes) is learnt, by
whom it is opened to. Cost: one batched comparison of n x (K + 3) values (about 10
rounds) and two multiplication rounds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from yinji.mpc import SharedTensor, stack

RULES = ("LEV", "CONC", "DROP")
MAX_AMOUNT_FEN = 10**13            # CNY 100 billion per company, column and client
MAX_PERMILLE = 10_000              # ratios up to 10 (leverage)


@dataclass(frozen=True)
class Thresholds:
    """Rule parameters as exact integers: ratios per mille, amounts in fen."""

    leverage: int = 800            # exposure / assets above 0.8
    concentration: int = 900       # one company above 90 % of the group exposure ...
    concentration_min: int = 100_000_00   # ... when the group exposure is at least 100,000
    drop: int = 300                # group assets fell by more than 30 % ...
    min_assets: int = 500_000_00   # ... from at least 500,000 a month ago

    def __post_init__(self) -> None:
        for name in ("leverage", "concentration", "drop"):
            if not 0 <= getattr(self, name) <= MAX_PERMILLE:
                raise ValueError(f"{name} must be 0..{MAX_PERMILLE} per mille")
        if self.concentration < 500 or self.concentration > 1000:
            raise ValueError("concentration must be 500..1000 per mille (0.5..1)")
        for name in ("concentration_min", "min_assets"):
            if not 0 <= getattr(self, name) <= MAX_AMOUNT_FEN:
                raise ValueError(f"{name} must be 0..{MAX_AMOUNT_FEN} fen")


def layout(k: int) -> list[str]:
    return ["assets", "prior_assets"] + [f"exposure_{c}" for c in range(k)]


def _sides(x, k: int, t: Thresholds, stk):  # type: ignore[no-untyped-def]
    """(left, right) pairs of every comparison `left < right`, as n x (k + 5) columns:
    LEV, CONC per company (k), DROP, E < conc_min, P < min_assets."""
    a, p = x[:, 0], x[:, 1]
    e = x[:, 2:2 + k]
    total = e.sum(axis=1)
    left = [a * t.leverage, *[total * t.concentration for _ in range(k)],
            p * t.drop, total, p]
    right = [total * 1000, *[e[:, c] * 1000 for c in range(k)], (p - a) * 1000,
             _const(x, t.concentration_min), _const(x, t.min_assets)]
    return stk(left, 1), stk(right, 1)


def _const(x, value: int):  # type: ignore[no-untyped-def]
    return x[:, 0] * 0 + np.int64(value)


def check_rows(x: np.ndarray, k: int) -> None:
    """Refuse a plaintext per-client matrix that the rules cannot take exactly."""
    if x.ndim != 2 or x.shape[1] != len(layout(k)):
        raise ValueError(f"expected n x {len(layout(k))} per-client figures, got {x.shape}")
    if (x < 0).any():
        raise ValueError("amounts must not be negative")
    limit = MAX_AMOUNT_FEN * k
    if (x > limit).any():
        raise ValueError(f"amounts above {limit / 100:.0f} CNY per client cannot be compared "
                         "exactly")


def flags(x: SharedTensor, k: int, t: Thresholds) -> SharedTensor:
    """Per client 0/1 shares of (LEV, CONC, DROP): n x 3, integers."""
    if x.frac_bits != 0:
        raise ValueError("the rules take integer shares (amounts in fen, frac_bits=0)")
    left, right = _sides(x, k, t, stack)
    lt = left < right                                   # one batched comparison
    lev = lt[:, 0]
    conc_any = lt[:, 1:1 + k].sum(axis=1)               # at most one bit set (conc >= 500)
    drop = lt[:, 1 + k]
    big_e, big_p = 1 - lt[:, 2 + k], 1 - lt[:, 3 + k]   # E >= conc_min, P >= min_assets
    gated = stack([conc_any, drop], 1) * stack([big_e, big_p], 1)
    return stack([lev, gated[:, 0], gated[:, 1]], 1)


def any_flag(bits: SharedTensor) -> SharedTensor:
    """[any rule] per client, over the r columns of `bits` (r - 1 multiplications)."""
    keep = 1 - bits[:, 0]
    for j in range(1, bits.shape[1]):
        keep = keep * (1 - bits[:, j])
    return 1 - keep


def rule_counts(bits: SharedTensor) -> SharedTensor:
    """Shares of (each rule's column of `bits`, any): how many of these clients each rule
    flags -- (LEV, CONC, DROP, any), or with MODEL (LEV, CONC, DROP, MODEL, any)."""
    with_any = stack([*(bits[:, j] for j in range(bits.shape[1])), any_flag(bits)], 1)
    return with_any.sum(axis=0)


def packed(bits: SharedTensor) -> SharedTensor:
    """One integer per client, LEV + 2 CONC + 4 DROP (+ 8 MODEL) (local): what a company
    receives."""
    out = bits[:, 0]
    for j in range(1, bits.shape[1]):
        out = out + bits[:, j] * (1 << j)
    return out


def unpack(codes: np.ndarray, rules: int = len(RULES)) -> np.ndarray:
    """n x `rules` bits (LEV, CONC, DROP[, MODEL]) from `packed` codes."""
    codes = np.asarray(codes, dtype=np.int64)
    if codes.size and (codes.min() < 0 or codes.max() >= 1 << rules):
        raise ValueError(f"reason codes must be 0..{(1 << rules) - 1}")
    return np.stack([(codes >> j) & 1 for j in range(rules)], 1).reshape(-1, rules)


# -- the plaintext twin ---------------------------------------------------------------------

def plain_flags(x: np.ndarray, k: int, t: Thresholds) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    check_rows(x, k)
    left, right = _sides(x, k, t, lambda cols, axis: np.stack(cols, axis))
    lt = (left < right).astype(np.int64)
    conc = lt[:, 1:1 + k].max(axis=1) if k else np.zeros(len(x), np.int64)
    return np.stack([lt[:, 0], conc * (1 - lt[:, 2 + k]), lt[:, 1 + k] * (1 - lt[:, 3 + k])],
                    1)


def plain_counts(bits: np.ndarray, rules: int = len(RULES)) -> np.ndarray:
    bits = np.asarray(bits, dtype=np.int64).reshape(-1, rules)
    return np.concatenate([bits.sum(axis=0), [int(bits.max(axis=1, initial=0).sum())]])
