"""Secure aggregation: the server gets the sum only; dropout after key sharing; views."""

import numpy as np
import pytest

from yinji.ml.secagg import SecAggClient, SecAggServer, decode, shamir_reconstruct, shamir_share
from yinji.testing.parties import run_parties

CLIENTS = ["C0", "C1", "C2", "C3"]


def _run(xs, drop=()):
    def body(party):
        if party.name == "S":
            srv = SecAggServer(party, CLIENTS)
            total, survivors = srv.run(len(xs[0]))
            return total, survivors, srv.view
        i = CLIENTS.index(party.name)
        SecAggClient(party, "S", CLIENTS).run(xs[i], drop_after_share_keys=party.name in drop)
        return None

    return run_parties(body, names=["S", *CLIENTS], timeout=20)[0]


def test_shamir_threshold():
    secret = bytes(range(32))
    shares = shamir_share(secret, 4, 3)
    assert shamir_reconstruct({1: shares[0], 3: shares[2], 4: shares[3]}, 32) == secret
    with pytest.raises(ValueError):  # below threshold: a random field element, not the key
        shamir_reconstruct({1: shares[0], 2: shares[1]}, 32)


def test_server_learns_only_the_sum():
    rng = np.random.default_rng(0)
    xs = [rng.normal(0, 1, 500) for _ in CLIENTS]
    total, survivors, view = _run(xs)
    assert survivors == CLIENTS
    assert np.allclose(total, sum(xs), atol=1e-5)
    # each masked input the server saw looks uniform and is uncorrelated with the input
    for c, x in zip(CLIENTS, xs, strict=True):
        y = decode(view.masked[c])
        # x is normal and independent of y, so r sqrt(498)/sqrt(1-r^2) is Student t with
        # 498 dof: |r| >= 0.3 is t >= 7.0, p = 7e-12 a client (it was 0.2: t = 4.6, 2.6e-5
        # a run over the 4 clients); an unmasked input gives r = 1
        assert abs(np.corrcoef(x, y)[0, 1]) < 0.3
        assert np.median(np.abs(y)) > 1e9  # uniform ring elements, not small fixed-point values
        assert not np.allclose(y, x, atol=1)
    # partial sums of fewer than all masked inputs do not reveal anything either
    partial = decode(view.masked["C0"] + view.masked["C1"])
    assert np.median(np.abs(partial - (xs[0] + xs[1]))) > 1e9


def test_dropout_after_key_sharing():
    rng = np.random.default_rng(1)
    xs = [rng.normal(0, 1, 64) for _ in CLIENTS]
    total, survivors, view = _run(xs, drop=("C2",))
    assert survivors == ["C0", "C1", "C3"] and "C2" not in view.masked
    assert np.allclose(total, xs[0] + xs[1] + xs[3], atol=1e-5)


def test_too_many_dropouts_fail():
    xs = [np.ones(8) for _ in CLIENTS]
    with pytest.raises(RuntimeError, match="threshold"):
        _run(xs, drop=("C1", "C2", "C3"))


def test_two_clients():
    clients = ["C0", "C1"]

    def body(party):
        if party.name == "S":
            return SecAggServer(party, clients).run(3)[0]
        SecAggClient(party, "S", clients).run(np.full(3, 1.5 + clients.index(party.name)))
        return None

    assert np.allclose(run_parties(body, names=["S", *clients], timeout=20)[0], 4.0)
