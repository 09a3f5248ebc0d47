"""Input parties outside the three-party session: their values go in as replicated shares and
results come out to them, against plaintext; the compute parties' views are uniform; an
opening to an input party is freshly masked."""

import numpy as np
import pytest

from yinji.mpc.inputs import InputError, receive_input, receive_output, reveal_outside, send_input
from yinji.mpc.session import Session
from yinji.mpc.tensor import SharedTensor
from yinji.testing.parties import looks_uniform, record_received, run_parties

COMPUTE = ["P0", "P1", "P2"]
NAMES = [*COMPUTE, "offshore"]


def run(own, outside_value, f=16, reveal_twice=False):
    """offshore shares `outside_value`; P0 shares own[0]; the sum is opened to offshore."""

    def body(party):
        view = record_received(party)
        if party.name == "offshore":
            send_input(party, COMPUTE, outside_value, frac_bits=f)
            outs = [receive_output(party, COMPUTE, frac_bits=f)
                    for _ in range(2 if reveal_twice else 1)]
            return outs, view
        s = Session(party, COMPUTE)
        theirs = receive_input(s, "offshore", frac_bits=f)
        mine = SharedTensor.share(s, own if s.rank == 0 else None, 0, frac_bits=f,
                                  shape=np.shape(outside_value))
        total = theirs + mine
        for _ in range(2 if reveal_twice else 1):
            reveal_outside(total, "offshore")
        return None, view

    return run_parties(body, names=NAMES)


@pytest.mark.parametrize("value", [
    np.array([]), np.array([1.5]), np.array([-2.25, 3.0, -1e6]),
    np.random.default_rng(1).normal(0, 1e5, 1000), np.full(3, 2.0 ** 40)])
def test_sum_with_an_outside_party_equals_plaintext(value):
    own = np.linspace(-5, 5, value.size)
    out = run(own, value)
    assert np.allclose(out[-1][0][0], value + own, rtol=1e-9, atol=1e-4)
    assert all(o[0] is None for o in out[:3])


def test_integers():
    value = np.array([0, -7, 2 ** 40, 123456789], dtype=np.int64)
    out = run(np.array([1, 1, 1, 1]), value, f=0)
    assert out[-1][0][0].tolist() == (value + 1).tolist()


def test_compute_parties_see_uniform_components_and_the_receiver_three_messages():
    value = np.random.default_rng(2).normal(0, 10, 4096)
    out = run(np.zeros(4096), value)
    for rank in range(3):
        view = out[rank][1]
        assert not looks_uniform(view), f"P{rank} received a non-uniform array"
        from_offshore = [m for p, m in view if p == "offshore"]
        assert [getattr(m, "shape", None) for m in from_offshore] == [(1,), (4096,), (4096,)]
    outside = out[-1][1]
    assert [p for p, _ in outside] == COMPUTE   # one component from each, nothing else
    assert not looks_uniform(outside)


def test_each_opening_is_freshly_masked():
    """Two openings of the same value give the receiver different components (the
    zero-sharing), so components never carry more than the value."""
    out = run(np.ones(512), np.zeros(512), reveal_twice=True)
    first, second = out[-1][1][:3], out[-1][1][3:]
    assert np.allclose(out[-1][0][0], out[-1][0][1])
    assert all(not np.array_equal(a, b) for (_, a), (_, b) in zip(first, second, strict=True))


def test_a_bad_shape_or_dtype_is_refused_naming_the_sender():
    def body(party):
        if party.name == "offshore":
            for name in COMPUTE:
                ch = party.channel(name)
                ch.send_array(np.array([3], dtype=np.int64))
                ch.send_array(np.zeros(3, dtype=np.uint64))
                ch.send_array(np.zeros(4, dtype=np.uint64))   # not the announced shape
            return None
        s = Session(party, COMPUTE)
        with pytest.raises(InputError, match=r"offshore sent uint64 \(4,\), expected input from "
                                             r"'offshore': components as uint64 \(3,\)"):
            receive_input(s, "offshore")
        return True

    assert run_parties(body, names=NAMES)[:3] == [True] * 3


def test_too_large_an_input_is_refused_before_its_components():
    def body(party):
        if party.name == "offshore":
            for name in COMPUTE:
                party.channel(name).send_array(np.array([10 ** 6, 10 ** 6], dtype=np.int64))
            return None
        s = Session(party, COMPUTE)
        with pytest.raises(InputError, match="more than 1,000 values"):
            receive_input(s, "offshore", max_elements=1000)
        return True

    assert run_parties(body, names=NAMES)[:3] == [True] * 3


def test_an_oversized_shape_is_refused_unread_naming_the_sender():
    def body(party):
        if party.name == "offshore":
            for name in COMPUTE:
                party.channel(name).send_array(np.zeros(1000, dtype=np.int64))  # > MAX_DIMS
            return None
        s = Session(party, COMPUTE)
        with pytest.raises(InputError, match="offshore sent an oversized message"):
            receive_input(s, "offshore")
        return True

    assert run_parties(body, names=NAMES)[:3] == [True] * 3


def test_an_oversized_output_is_refused_naming_the_compute_party():
    def body(party):
        if party.name == "offshore":
            with pytest.raises(InputError, match="output components from 'P0': more than 10 "):
                receive_output(party, COMPUTE, frac_bits=0, max_elements=10)
            return True
        party.channel("offshore").send_array(np.zeros(1000, dtype=np.uint64))
        return None

    assert run_parties(body, names=NAMES)[3] is True
