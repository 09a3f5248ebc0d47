"""Distributed discrete-Laplace noise in MPC: calibration, empirical variance, independence
of the three parties' noise inputs, clipping, and the budget flow with the ledger.

The noise comes from the OS CSPRNG (it cannot be seeded); statistical checks use tolerances
of at least six standard errors, so a correct sampler fails them with probability < 1e-8."""

import threading

import numpy as np
import pytest

from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor
from yinji.sql import dp
from yinji.sql.ledger import BudgetExhausted, Ledger
from yinji.sql.policy import check_query
from yinji.testing.mpc import NAMES, run_mpc
from yinji.testing.parties import looks_uniform, record_received, run_parties


@pytest.mark.parametrize("scale", [0.7, 3.0, 2.5e6])
def test_sampler_matches_the_discrete_laplace(scale):
    x = dp.sample_share((40_000,), scale).astype(np.float64)
    var = dp.discrete_laplace_variance(scale)
    # sample variance of a Laplace-like law: relative standard error about sqrt(5 / n) = 1.1%
    assert abs(x.var() / var - 1) < 0.08
    assert abs(x.mean()) < 6 * np.sqrt(var / x.size)
    assert np.all(x == np.round(x))                       # integers: on the ring's lattice


def test_scale_calibration():
    assert dp.laplace_scale(1.0, 0.5, 0) == 2.0                     # COUNT, epsilon 0.5
    assert dp.laplace_scale(100.0, 1.0, 16) == 100 * 2 ** 16         # SUM bounded by 100
    assert dp.sum_sensitivity((-250.0, 100.0)) == 250.0
    with pytest.raises(dp.DpError, match="epsilon must be a positive"):
        dp.laplace_scale(1.0, 0.0, 0)
    with pytest.raises(dp.DpError, match="overflow"):
        dp.laplace_scale(1e12, 1e-3, 16)
    with pytest.raises(dp.DpError, match="low <= high"):
        dp.sum_sensitivity((5.0, 1.0))


def test_three_noise_inputs_are_independent_and_add_up(monkeypatch):
    """Each party's noise input is its own draw (recorded here), uncorrelated with the
    others'; the released value is the data plus all three; its variance is three times a
    single mechanism's."""
    drawn, lock = {}, threading.Lock()
    real = dp.sample_share

    def recording(shape, scale):
        e = real(shape, scale)
        with lock:
            drawn[threading.current_thread().name] = e.copy()
        return e

    monkeypatch.setattr(dp, "sample_share", recording)
    n, eps = 6000, 0.5                                     # COUNT cells: t = 2

    def program(s):
        x = SharedTensor.public(s, np.arange(n, dtype=np.int64), 0)
        return dp.add_noise(s, x, 1.0, eps).reveal()

    out = run_mpc(program)
    e = np.stack([drawn[name] for name in NAMES]).astype(np.float64)
    assert np.array_equal(out[0].view(np.int64) - np.arange(n), e.sum(axis=0).astype(np.int64))
    var = dp.discrete_laplace_variance(2.0)
    for r in range(3):
        assert abs(e[r].var() / var - 1) < 0.15
    corr = np.corrcoef(e)
    assert np.all(np.abs(corr[np.triu_indices(3, 1)]) < 6 / np.sqrt(n))
    assert abs(e.sum(axis=0).var() / (3 * var) - 1) < 0.15


def test_noisy_sum_is_the_clipped_sum_when_noise_is_negligible(rng):
    values = rng.normal(0, 80, size=300)
    values[:5] = [1e4, -1e4, 99.0, -120.0, 0.0]            # outside and on the bounds
    group = rng.integers(0, 4, size=300)
    cells = np.stack([group == g for g in range(4)]).astype(np.int64)
    bounds = (-100.0, 100.0)

    def program(s):
        v = SharedTensor.share(s, values if s.rank == 0 else None, 0, shape=values.shape)
        c = SharedTensor.share(s, cells if s.rank == 0 else None, 0, frac_bits=0,
                               shape=cells.shape)
        return (dp.noisy_sum(s, v, c, bounds, epsilon=1e9).reveal(),
                dp.noisy_count(s, c, epsilon=1e9).reveal())

    sums, counts = run_mpc(program)[0]
    want = cells @ np.clip(values, *bounds)
    assert np.allclose(sums, want, atol=0.05)
    assert counts.view(np.int64).tolist() == cells.sum(axis=1).tolist()


def test_integer_column_clip_rounds_bounds_inwards():
    vals = np.array([-7, -3, 0, 4, 9], dtype=np.int64)

    def program(s):
        x = SharedTensor.share(s, vals if s.rank == 0 else None, 0, frac_bits=0, shape=(5,))
        return dp.clip(x, (-3.5, 4.5)).reveal()

    assert run_mpc(program)[0].view(np.int64).tolist() == [-3, -3, 0, 4, 4]


@pytest.mark.parametrize("who", [0, 1, 2])
def test_party_receives_only_uniform_components_of_the_others_noise(who):
    def body(party):
        view = record_received(party) if party.name == NAMES[who] else None
        s = Session(party, NAMES, frac_bits=16)
        x = SharedTensor.public(s, np.zeros(512))
        start = len(view) if view is not None else 0
        dp.add_noise(s, x, 10.0, 1.0)
        return view[start:] if view is not None else None

    view = run_parties(body, names=NAMES)[who]
    assert len(view) == 2 and looks_uniform(view) == []   # the two others' noise, masked


def test_budget_flow_policy_to_ledger(tmp_path):
    """The policy names the noised aggregates; their epsilons are spent with the release,
    and a query past the dataset's budget is refused with nothing recorded."""
    pol = {"h": {"fund": "plaintext", "amount": {"rule": "plaintext_after_aggregate",
                                                 "dp_epsilon": 0.4, "bounds": [0, 1e6]}}}
    rep = check_query("SELECT fund, SUM(amount), AVG(amount) FROM h GROUP BY fund", pol, "x")
    spend = dp.query_epsilon((d.table, d.epsilon) for d in rep.dp)
    assert spend == {"h": pytest.approx(0.8)}
    led = Ledger(tmp_path / "l.sqlite")
    led.set_limit("h", 1.0)
    led.record("FROM h", ["fund = 'a'"], "job1", datasets=["h"], epsilon=spend)
    with pytest.raises(BudgetExhausted, match="exhausted: spent 0.8 of 1"):
        led.record("FROM h", ["fund = 'b'"], "job2", datasets=["h"], epsilon=spend)
    assert led.history("FROM h") == ["fund = 'a'"]


def test_average_is_post_processing():
    assert dp.average(np.array([10.0, 5.0]), np.array([4.0, -1.0])).tolist() == [2.5, 5.0]
