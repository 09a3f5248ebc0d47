"""Differentially private aggregates computed in MPC: distributed discrete-Laplace noise, so
that no single compute party knows the noise it helped add.

Mechanism: for an aggregate with sensitivity D (ring units) and budget epsilon, each of the
three compute parties samples its own noise share e_r ~ DiscreteLaplace(t = D / epsilon),
P(e = z) proportional to exp(-|z| / t), from OpenDP's exact sampler (Canonne, Kamath, Steinke,
"The Discrete Gaussian for Differential Privacy", NeurIPS 2020: rational arithmetic, no
floating point, the operating system's CSPRNG) and secret-shares it; the released value is
x + e_0 + e_1 + e_2. Any single share alone makes the release epsilon-DP (adding independent
noise afterwards is post-processing), so the guarantee holds while at least one compute party
is honest -- stronger than the engine's honest majority -- at the price of three times the
variance of a single mechanism (2 q / (1 - q)^2 per share, q = exp(-1/t)). A split into
Polya(1/2) shares (any two honest shares make one discrete Laplace, 1.5x the variance) would
be tighter but needs a vetted Polya sampler over a CSPRNG, which we do not have.

Calibration (neighbouring tables differ by one row, added or removed):
- SUM: the engine clips every value to the owner's declared bounds [lo, hi] in MPC (`clip`)
  before summing; D = max(|lo|, |hi|) encoded in the ring: ceil(max(|lo|,|hi|) * 2^f) units of
  2^-f. COUNT: D = 1 row. AVG: a noised SUM and a noised COUNT with epsilon / 2 each, divided
  after opening (post-processing).
- The noise lives on the ring's own lattice (units of 2^-f), the same lattice as every
  possible difference of two neighbouring sums, so the discrete mechanism is exactly epsilon-
  DP; a coarser noise step would not be (the fractional part would tell neighbours apart).
- One aggregate over the disjoint cells of one GROUP BY costs epsilon once (a row is in one
  cell: parallel composition); several aggregates or queries add up (`query_epsilon`), and the
  ledger (yinji.sql.ledger) refuses a release that would pass a dataset's budget.

Floating-point caveats: none in the sampler (exact rational sampling). The scale t is given to
OpenDP as a float; it is computed from the declared bounds, so its rounding (relative 2^-53)
changes epsilon by that relative amount. Values computed from expressions with fixed-point
products carry probabilistic truncation errors of +-1 unit that depend on the data; the engine
must clip the final per-row value (not its inputs) so that D bounds it. OpenDP flags its
integer Laplace as "contrib" (implemented and documented, not yet through its proof review).

Adversary model: semi-honest compute parties; the recipient may collude with up to two of
them. Leakage: the compute parties receive only share components of the others' noise
(uniform, as yinji.mpc.replicated.share); the recipient learns the noised values only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from yinji.mpc import replicated as rep
from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor, where

RING_LIMIT = 2.0 ** 61       # |noise| stays far inside the ring's signed range
TAIL = 60.0                  # P(|e| > TAIL * t) < 2 exp(-60) ~ 2e-26 per share


class DpError(ValueError):
    """A noised aggregate that cannot be calibrated as asked."""


def laplace_scale(sensitivity: float, epsilon: float, frac_bits: int) -> float:
    """The discrete-Laplace scale t in ring units for `sensitivity` in real units."""
    if not (isinstance(epsilon, (int, float)) and math.isfinite(epsilon) and epsilon > 0):
        raise DpError(f"epsilon must be a positive number, got {epsilon!r}")
    if not (math.isfinite(sensitivity) and sensitivity > 0):
        raise DpError(f"sensitivity must be a positive number, got {sensitivity!r}")
    t = math.ceil(sensitivity * 2 ** frac_bits) / epsilon
    if t * TAIL >= RING_LIMIT:
        raise DpError(f"noise of scale {t:.3g} units would overflow the fixed-point ring: "
                      "narrow the bounds, raise epsilon or use fewer fractional bits")
    return t


def sum_sensitivity(bounds: tuple[float, float]) -> float:
    lo, hi = bounds
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise DpError(f"bounds must be finite with low <= high, got {bounds!r}")
    return max(abs(lo), abs(hi), 2.0 ** -30)


def sample_share(shape: tuple[int, ...], scale: float) -> np.ndarray:
    """This party's noise: independent DiscreteLaplace(scale) integers (OpenDP, OS CSPRNG)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")        # OpenDP's integer Laplace is flagged contrib
    n = int(np.prod(shape, dtype=np.int64))
    if n == 0:
        return np.zeros(shape, np.int64)
    meas = dp.m.make_laplace(dp.vector_domain(dp.atom_domain(T="i64")),
                             dp.l1_distance(T="i64"), scale=float(scale))
    return np.asarray(meas([0] * n), dtype=np.int64).reshape(shape)


def add_noise(session: Session, x: SharedTensor, sensitivity: float,
              epsilon: float) -> SharedTensor:
    """x + e_0 + e_1 + e_2, each e_r sampled and secret-shared by compute party r.
    Three rounds (one `share` per party), 16 bytes per element per party."""
    t = laplace_scale(sensitivity, epsilon, x.frac_bits)
    mine = sample_share(x.shape, t).view(np.uint64)
    total = x.shares
    for owner in range(3):
        e = rep.share(session, mine if session.rank == owner else None, owner, x.shape)
        total = (total[0] + e[0], total[1] + e[1])
    return SharedTensor(session, total, x.frac_bits)


def clip(x: SharedTensor, bounds: tuple[float, float]) -> SharedTensor:
    """Values clipped to [lo, hi] in MPC (two comparisons, two selections); for integers
    (frac_bits 0) the bounds are rounded inwards."""
    lo, hi = bounds
    sum_sensitivity(bounds)
    f = x.frac_bits
    low, high = (np.float64(lo), np.float64(hi)) if f else (np.int64(math.ceil(lo)),
                                                            np.int64(math.floor(hi)))
    pub_low = SharedTensor.public(x.session, low, f)
    pub_high = SharedTensor.public(x.session, high, f)
    x = where(x < pub_low, pub_low, x)
    return where(x > pub_high, pub_high, x)


def noisy_sum(session: Session, values: SharedTensor, cells: SharedTensor,
              bounds: tuple[float, float], epsilon: float) -> SharedTensor:
    """Per cell (rows of the shared 0/1 matrix `cells`, disjoint) the sum of the clipped
    values, with noise for one row's change: D = max(|lo|, |hi|)."""
    clipped = clip(values, bounds)
    sums = cells @ clipped
    return add_noise(session, sums, sum_sensitivity(bounds), epsilon)


def noisy_count(session: Session, cells: SharedTensor, epsilon: float) -> SharedTensor:
    """Per cell the number of rows, with noise for one row (D = 1 unit of the count's scale)."""
    counts = cells.sum(axis=1)
    return add_noise(session, counts, 1.0, epsilon)


def query_epsilon(aggregates: Iterable[tuple[str, float]]) -> dict[str, float]:
    """Epsilon to spend per dataset: the sum over the query's noised aggregates (dataset,
    epsilon) -- sequential composition; cells of one aggregate are disjoint (parallel)."""
    spent: dict[str, float] = {}
    for dataset, eps in aggregates:
        spent[dataset] = spent.get(dataset, 0.0) + float(eps)
    return spent


def average(noisy_sum_value: np.ndarray, noisy_count_value: np.ndarray) -> np.ndarray:
    """AVG from an opened noised SUM and COUNT (each with epsilon / 2): post-processing; a
    count below 1 is taken as 1."""
    return np.asarray(noisy_sum_value) / np.maximum(np.asarray(noisy_count_value), 1)


def discrete_laplace_variance(scale: float) -> float:
    q = math.exp(-1.0 / scale)
    return 2 * q / (1 - q) ** 2

