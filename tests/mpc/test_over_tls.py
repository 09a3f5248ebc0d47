"""The engine's operations over the real transport: three OS processes, mutual TLS on loopback."""

import numpy as np
import pytest

from yinji.mpc import Session, SharedTensor, where
from yinji.mpc.ring import decode, encode
from yinji.testing.tls import run_parties_tls

pytestmark = pytest.mark.tls
NAMES = ["P0", "P1", "P2"]


def inputs():
    rng = np.random.default_rng(99)
    x = rng.normal(0, 20, 3000)
    y = rng.normal(0, 20, 3000)
    x[:6] = [0.0, -1.0, 1.0, 2.0**-16, -(2.0**20), 2.0**20]
    y[:6] = [0.0, -1.0, 2.0, -(2.0**-16), 3.0, -3.0]
    a = rng.normal(0, 1, (40, 30))
    b = rng.normal(0, 1, (30, 20))
    return x, y, a, b


def program(party):
    s = Session(party, NAMES)
    xv, yv, av, bv = inputs()
    x = SharedTensor.share(s, xv if s.rank == 0 else None, 0)
    y = SharedTensor.share(s, yv if s.rank == 1 else None, 1)
    a = SharedTensor.share(s, av if s.rank == 2 else None, 2)
    b = SharedTensor.share(s, bv if s.rank == 0 else None, 0)
    out = {
        "add": (x + y).reveal(), "mul": (x * y).reveal(), "matmul": (a @ b).reveal(),
        "lt": (x < y).reveal(), "eq": x.eq(y).reveal(), "where": where(x > y, x, y).reveal(),
        "sigmoid": (x / 4).sigmoid().reveal(), "div": (x / (y.abs() + 1)).reveal(),
        "max": a.max(axis=1).reveal(), "argmax": a.argmax(axis=1).reveal(),
        "relu": x.relu().reveal(), "shuffled": x.shuffle().reveal(),
    }
    out["to_p1"] = x.reveal_to("P1")
    return out, party.stats().bytes_sent


def test_all_operations_over_mutual_tls():
    results = run_parties_tls(program, names=NAMES, timeout=180)
    xv, yv, av, bv = (decode(encode(v)) for v in inputs())
    r = results[0][0]
    ulp = 2.0**-16
    assert np.allclose(r["add"], xv + yv, atol=ulp)
    assert np.max(np.abs(r["mul"] - xv * yv)) <= 2 * ulp
    assert np.max(np.abs(r["matmul"] - av @ bv)) <= 2 * ulp
    assert np.array_equal(r["lt"], (xv < yv).astype(np.int64))
    assert np.array_equal(r["eq"], (xv == yv).astype(np.int64))
    assert np.array_equal(r["where"], np.maximum(xv, yv))
    assert np.max(np.abs(r["sigmoid"] - 1 / (1 + np.exp(np.clip(-xv / 4, -700, 700))))) < 3e-4
    q = xv / (np.abs(yv) + 1)
    assert np.all(np.abs(r["div"] - q) <= 8 * ulp + 2.0**-13 * np.abs(q))
    assert np.array_equal(r["max"], av.max(axis=1))
    assert np.array_equal(r["argmax"], av.argmax(axis=1))
    assert np.array_equal(r["relu"], np.maximum(xv, 0))
    assert np.array_equal(np.sort(r["shuffled"]), np.sort(xv))
    assert results[0][0]["to_p1"] is None and results[2][0]["to_p1"] is None
    assert np.array_equal(results[1][0]["to_p1"], xv)
    assert all(res[1] > 0 for res in results)
    for other in results[1:]:  # everyone opened the same values
        assert np.array_equal(other[0]["mul"], r["mul"])
