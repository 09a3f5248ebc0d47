"""Non-linear functions on fixed-point sharings: sigmoid, reciprocal, inverse square root,
max/argmax.

Adversary model: semi-honest, honest majority (as replicated.py). Leakage: none; these are
compositions of the sharing-level protocols, and nothing is opened.
"""

from __future__ import annotations

import functools

import numpy as np

from yinji.mpc import boolean as bl
from yinji.mpc import compare as cmp
from yinji.mpc import replicated as rep
from yinji.mpc.replicated import Shares
from yinji.mpc.session import Session

ONE = np.uint64(1)

# ---------------------------------------------------------------- sigmoid

SIGMOID_BREAKS = (0.0, 1.0, 2.0, 4.0, 8.0, 16.0)  # powers of two: read off |x|'s bits
SIGMOID_DEGREE = 5
SIGMOID_COEF_BITS = 38
# Max |approximation - sigmoid| of the piecewise quintic over all reals, checked on a dense
# grid by tests/mpc/test_nonlinear.py; fixed-point rounding adds a few units of 2^-f on top.
SIGMOID_APPROX_ERROR = 2e-5


@functools.cache
def _sigmoid_table() -> np.ndarray:
    """Integer coefficients (2^38 scale) of a least-squares quintic on each segment of
    SIGMOID_BREAKS for sigmoid(a), a >= 0, lowest degree first; last row: constant 1."""
    rows = []
    for lo, hi in zip(SIGMOID_BREAKS[:-1], SIGMOID_BREAKS[1:], strict=True):
        a = np.linspace(lo, hi, 4001)
        rows.append(np.polynomial.polynomial.polyfit(a, 1.0 / (1.0 + np.exp(-a)), SIGMOID_DEGREE))
    rows.append([1.0] + [0.0] * SIGMOID_DEGREE)
    return np.rint(np.array(rows) * 2.0**SIGMOID_COEF_BITS).astype(np.int64)


def sigmoid(s: Session, x: Shares, f: int) -> Shares:
    """sigmoid(x) = 1 / (1 + e^-x), as a piecewise quintic on a = |x| with the symmetry
    sigmoid(-a) = 1 - sigmoid(a); segments [0,1), [1,2), [2,4), [4,8), [8,16), [16, inf).

    One a2b conversion gives x's bits; flipping them by the sign bit gives |x| (one unit
    less for negatives, which only moves a segment boundary by 2^-f), and one prefix-OR
    from the top gives every indicator [a >= 2^j] at once — no comparison per breakpoint.
    The segment's coefficients are then selected locally from public integers, and
    p = sum_j c_j a^j costs one batched multiplication and one truncation.
    Error: at most SIGMOID_APPROX_ERROR (2e-5) from the approximation plus a few units of
    2^-f from fixed-point rounding (about 1e-4 in total at f = 16). Any input magnitude is
    fine (|x| >= 16 gives exactly 0 or 1). Rounds: 8 + 6 + 2 + 1 + 9 + 1 + 3 + 1 = 31.
    """
    breaks = [int(np.log2(t)) + f for t in SIGMOID_BREAKS[1:]]
    if breaks[0] < 0:
        raise ValueError("sigmoid needs at least 0 fractional bits")
    xb = bl.a2b(s, x)
    sign = tuple((c.view(np.int64) >> np.int64(63)).view(np.uint64) for c in xb)
    mag = _prefix_or(s, bl.xor(xb, sign))  # bit j: |x| >= 2^j
    bits = [bl.shr(xb, 63)] + [bl.shr(mag, j) for j in breaks]
    ab = bl.bit2a(s, (np.stack([b[0] for b in bits]), np.stack([b[1] for b in bits])))
    neg, b = (ab[0][0], ab[1][0]), (ab[0][1:], ab[1][1:])
    a = rep.mul(s, _one_minus_2(s, neg), x)  # |x|, scale f

    table = _sigmoid_table()
    deltas = np.diff(table, axis=0).view(np.uint64)  # wraps mod 2^64 like the shares
    base = table[0].view(np.uint64)
    shape = a[0].shape
    coef = []
    for j in range(SIGMOID_DEGREE + 1):
        c0 = np.full(shape, base[j], dtype=np.uint64) if s.rank == 0 else np.zeros(shape, np.uint64)
        c1 = np.full(shape, base[j], dtype=np.uint64) if s.rank == 2 else np.zeros(shape, np.uint64)
        for i in range(len(breaks)):
            c0 += b[0][i] * deltas[i, j]
            c1 += b[1][i] * deltas[i, j]
        coef.append((c0, c1))
    a2 = rep.mul_trunc(s, a, a, f)
    a34 = rep.mul_trunc(s, (np.stack([a2[0], a2[0]]), np.stack([a2[1], a2[1]])),
                        (np.stack([a[0], a2[0]]), np.stack([a[1], a2[1]])), f)
    a5 = rep.mul_trunc(s, (a34[0][1], a34[1][1]), a, f)
    powers = (np.stack([a[0], a2[0], a34[0][0], a34[0][1], a5[0]]),
              np.stack([a[1], a2[1], a34[1][0], a34[1][1], a5[1]]))
    cs = (np.stack([c[0] for c in coef[1:]]), np.stack([c[1] for c in coef[1:]]))
    terms = rep.mul(s, cs, powers)  # scale f + 38; |sum| < 18 * 2^54 < 2^62
    acc0 = terms[0].sum(axis=0) + (coef[0][0] << np.uint64(f))
    acc1 = terms[1].sum(axis=0) + (coef[0][1] << np.uint64(f))
    pos = rep.trunc(s, (acc0, acc1), SIGMOID_COEF_BITS)
    # sigmoid(x) = pos + neg * (1 - 2 pos)
    one = np.uint64(1 << f)
    flip0 = (one - (pos[0] << ONE)) if s.rank == 0 else -(pos[0] << ONE)
    flip1 = (one - (pos[1] << ONE)) if s.rank == 2 else -(pos[1] << ONE)
    t = rep.mul(s, neg, (flip0, flip1))
    return pos[0] + t[0], pos[1] + t[1]


# ------------------------------------------------------- reciprocal, rsqrt

RECIP_HEADROOM = 42  # L: normalisation factor 2^(L-k); see `_normalise`


def _bit_or(s: Session, x: Shares, y: Shares) -> Shares:
    nx = bl.xor_public(s, x, bl.ALL)
    ny = bl.xor_public(s, y, bl.ALL)
    return bl.xor_public(s, bl.and_(s, nx, ny), bl.ALL)


def _move_bits(x: Shares, target: list[int]) -> Shares:
    """Move bit k of each word to bit target[k] (dropped where target[k] < 0). Local: a bit
    permutation is linear over XOR shares."""
    out0 = np.zeros_like(x[0])
    out1 = np.zeros_like(x[1])
    for k, t in enumerate(target):
        if t < 0:
            continue
        for src, dst in ((x[0], out0), (x[1], out1)):
            bit = (src >> np.uint64(k)) & ONE
            dst ^= bit << np.uint64(t)  # XOR: several bits may land on one target
    return out0, out1


def _prefix_or(s: Session, p: Shares) -> Shares:
    """Bit j of the result = OR of p's bits j..63. Six rounds."""
    for k in bl.KOGGE_STONE:
        p = _bit_or(s, p, bl.shr(p, k))
    return p


def _highest_bit(s: Session, a: Shares) -> Shares:
    """Boolean one-hot sharing of the highest set bit of a (a >= 0). a2b + 6 OR rounds."""
    p = _prefix_or(s, bl.a2b(s, a))
    return bl.xor(p, bl.shr(p, 1))


def reciprocal_positive(s: Session, a: Shares, f: int) -> tuple[Shares, Shares]:
    """For a > 0 (scale f): returns (z, v) with z ≈ 1/a' in (1, 2] (scale f) for the
    normalised a' = a * 2^(f-1-k) in [0.5, 1), k = position of a's highest bit, and
    v = 2^(L-k) as an integer sharing, so that 1/a = z * v / 2^(L-f+1).

    Normalisation: highest bit (one-hot, boolean), moved to bit L-k locally, converted with
    b2a. Newton's iteration z <- z(2 - a'z) from z0 = 2.9142 - 2a' (error 0.086 -> 3e-9
    after three iterations)."""
    _, v, an = _normalise(s, a, f)
    z = _add_public(s, _scale_int(an, -2), int(round(2.9142 * 2**f)))
    for _ in range(3):
        az = rep.mul_trunc(s, an, z, f)
        z = rep.mul_trunc(s, z, _add_public(s, _scale_int(az, -1), 2 << f), f)
    return z, v


def reciprocal(s: Session, x: Shares, f: int) -> Shares:
    """1/x for x != 0 (1/0 gives 0). Error about 1 unit of 2^-f plus 2^-(f-1) relative, for
    |x| < 2^(L+1-f) (L = 42: 1.3e8 at f = 16); larger |x| gives 0. About 64 rounds."""
    one = rep.public(s, np.full(x[0].shape, 1 << f, dtype=np.uint64))
    return divide(s, one, x, f)


def divide(s: Session, num: Shares, den: Shares, f: int) -> Shares:
    """num / den on fixed-point sharings (Newton reciprocal of the normalised |den|, sign
    restored). Valid for |num / den| < 2^(61-L) = 2^19 (524,288) and |den| < 2^(L+1-f);
    error a few units of 2^-f plus |num/den| * 2^-(f-1) relative."""
    neg = cmp.ltz(s, den)
    sign = _one_minus_2(s, neg)
    a = rep.mul(s, sign, den)
    z, v = reciprocal_positive(s, a, f)
    q = rep.mul_trunc(s, num, z, f)
    q = rep.trunc(s, rep.mul(s, q, v), RECIP_HEADROOM - f + 1)
    return rep.mul(s, sign, q)


def _normalise(s: Session, x: Shares, f: int) -> tuple[Shares, Shares, Shares]:
    """For x > 0: (h, v, xn) with h the one-hot boolean sharing of x's highest bit k,
    v = 2^(L-k) as an integer sharing (0 if k > L), and xn = x * 2^(f-1-k) in [0.5, 1)."""
    L = RECIP_HEADROOM
    h = _highest_bit(s, x)
    v = bl.b2a(s, _move_bits(h, [L - k if k <= L else -1 for k in range(64)]))
    return h, v, rep.trunc(s, rep.mul(s, x, v), L - f + 1)


def _rsqrt_normalised(s: Session, xn: Shares, f: int) -> Shares:
    """1/sqrt(xn) for xn in [0.5, 1): Newton y <- y (3 - xn y^2) / 2 from the linear start
    1.808 - 0.8284 xn (error 0.04 -> 1e-10 in three steps)."""
    y = _add_public(s, _scale_float(s, xn, -0.8284, f), int(round(1.8080 * 2**f)))
    for _ in range(3):
        y2 = rep.mul_trunc(s, y, y, f)
        xy2 = rep.mul_trunc(s, xn, y2, f)
        y = rep.mul_trunc(s, y, _add_public(s, _scale_int(xy2, -1), 3 << f), f + 1)
    return y


def _half_power(s: Session, h: Shares, target: list[int], parity_of: list[int]) -> tuple[Shares, Shares]:
    """From the one-hot h (bit k): 2^target[k] as an integer sharing and the bit
    parity_of[k] mod 2 as a 0/1 sharing; both local moves plus conversions."""
    power = bl.b2a(s, _move_bits(h, target))
    mask = np.uint64(sum(1 << k for k in range(64) if target[k] >= 0 and parity_of[k] % 2))
    odd = bl.bit2a(s, (_parity(h[0] & mask), _parity(h[1] & mask)))
    return power, odd


def _times_sqrt2_if(s: Session, x: Shares, odd: Shares) -> Shares:
    boost = _scale_float(s, x, np.sqrt(2.0) - 1.0, 20)
    extra = rep.mul(s, odd, boost)
    return x[0] + extra[0], x[1] + extra[1]


def rsqrt_positive(s: Session, x: Shares, f: int) -> Shares:
    """1/sqrt(x) for x > 0 (scale f): 1/sqrt(x) = 1/sqrt(xn) * 2^((f-1-k)/2) with
    (f-1-k)/2 = (f-1-L)/2 + floor((L-k)/2) + parity(L-k)/2. Relative error about 2^-(f-3);
    for large x the result has few significant bits (it is below 1)."""
    L = RECIP_HEADROOM
    h, _, xn = _normalise(s, x, f)
    y = _rsqrt_normalised(s, xn, f)
    ks = range(64)
    half, odd = _half_power(s, h, [(L - k) // 2 if k <= L else -1 for k in ks],
                            [L - k for k in ks])
    base = _scale_float(s, rep.mul(s, y, half), 2.0 ** ((f - 1 - L) / 2), 24)
    return _times_sqrt2_if(s, base, odd)


def sqrt_positive(s: Session, x: Shares, f: int) -> Shares:
    """sqrt(x) for x >= 0 (scale f): sqrt(x) = xn / sqrt(xn) * 2^((k+1-f)/2), computed with
    the exponent split as 2^t * sqrt(2)^parity / 2^((f+P)/2), t = floor((k+1+P)/2),
    P = f mod 2. Relative error about 2^-(f-3) for x < 2^(L+1-f) (1.3e8 at f = 16).
    sqrt(0) = 0."""
    P = f % 2
    h, _, xn = _normalise(s, x, f)
    m = rep.mul_trunc(s, xn, _rsqrt_normalised(s, xn, f), f)  # sqrt(xn)
    ks = range(64)
    power, odd = _half_power(s, h, [(k + 1 + P) // 2 for k in ks], [k + 1 + P for k in ks])
    r = rep.trunc(s, rep.mul(s, m, power), (f + P) // 2)
    return _times_sqrt2_if(s, r, odd)


def _parity(w: np.ndarray) -> np.ndarray:
    """XOR of all bits of each word (local on XOR shares)."""
    w = w.copy()
    for k in (32, 16, 8, 4, 2, 1):
        w ^= w >> np.uint64(k)
    return w & ONE


def _one_minus_2(s: Session, b: Shares) -> Shares:
    a0 = (ONE - (b[0] << ONE)) if s.rank == 0 else -(b[0] << ONE)
    a1 = (ONE - (b[1] << ONE)) if s.rank == 2 else -(b[1] << ONE)
    return a0, a1


def _scale_int(x: Shares, c: int) -> Shares:
    k = np.uint64(c % (1 << 64))
    return x[0] * k, x[1] * k


def _scale_float(s: Session, x: Shares, c: float, bits: int) -> Shares:
    """x * c for a public real c, carried with `bits` fractional bits, then truncated."""
    k = np.uint64(int(round(c * 2**bits)) % (1 << 64))
    return rep.trunc(s, (x[0] * k, x[1] * k), bits)


def _add_public(s: Session, x: Shares, c: int) -> Shares:
    """x + c for a public ring integer c."""
    k = np.uint64(c % (1 << 64))
    a0 = x[0] + k if s.rank == 0 else x[0]
    a1 = x[1] + k if s.rank == 2 else x[1]
    return a0, a1


# ------------------------------------------------------------ max / argmax

def max_argmax(s: Session, x: Shares, axis: int = -1) -> tuple[Shares, Shares]:
    """Maximum and (first) index of the maximum along `axis`, by a tournament of
    ceil(log2 n) levels, each one batched comparison and one batched selection.
    Indices are integer sharings (scale 0)."""
    x = (np.moveaxis(x[0], axis, -1), np.moveaxis(x[1], axis, -1))
    n = x[0].shape[-1]
    if n == 0:
        raise ValueError("max of an empty axis")
    idx0 = np.broadcast_to(np.arange(n, dtype=np.uint64), x[0].shape)
    idx = rep.public(s, np.ascontiguousarray(idx0))
    while x[0].shape[-1] > 1:
        m = x[0].shape[-1]
        h = m // 2
        ev, od = slice(0, 2 * h, 2), slice(1, 2 * h, 2)  # adjacent pairs keep index order
        lo = (x[0][..., ev], x[1][..., ev])
        hi = (x[0][..., od], x[1][..., od])
        ilo = (idx[0][..., ev], idx[1][..., ev])
        ihi = (idx[0][..., od], idx[1][..., od])
        take_hi = cmp.lt(s, lo, hi)  # strict: ties keep the lower index
        both_hi = (np.stack([hi[0], ihi[0]]), np.stack([hi[1], ihi[1]]))
        both_lo = (np.stack([lo[0], ilo[0]]), np.stack([lo[1], ilo[1]]))
        c = (np.broadcast_to(take_hi[0], both_hi[0].shape), np.broadcast_to(take_hi[1], both_hi[1].shape))
        sel = cmp.select(s, c, both_hi, both_lo)
        rest = slice(2 * h, m)
        x = (np.concatenate([sel[0][0], x[0][..., rest]], -1), np.concatenate([sel[1][0], x[1][..., rest]], -1))
        idx = (np.concatenate([sel[0][1], idx[0][..., rest]], -1),
               np.concatenate([sel[1][1], idx[1][..., rest]], -1))
    return (x[0][..., 0], x[1][..., 0]), (idx[0][..., 0], idx[1][..., 0])
