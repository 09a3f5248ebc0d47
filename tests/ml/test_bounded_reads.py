"""A misbehaving peer's oversized or wrongly shaped message is refused with an error naming
that peer and what was expected (yinji.net.expect), in the federated protocols and the
joint-model reads."""

import json

import numpy as np
import pytest

from yinji.ml.fedavg import STATS_FRAC_BITS, FedAvg, fedavg_client
from yinji.ml.importance import receive_importance
from yinji.ml.secagg import SecAggClient, SecAggServer
from yinji.net.expect import UnexpectedMessage
from yinji.testing.parties import run_parties


def test_fedavg_client_refuses_oversized_parameters():
    """A server that sends a million numbers where the client expects 2 d statistics."""
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(30, 3)), rng.integers(0, 2, 30).astype(float)

    def body(party):
        if party.name == "S":   # honest aggregation, then a malformed broadcast
            SecAggServer(party, ["C"], frac_bits=STATS_FRAC_BITS).run(2 * 3 + 1)
            ch = party.channel("C")
            ch.send_bytes(json.dumps({"kind": "stats", "alive": ["C"]}).encode())
            ch.send_array(np.zeros(1 << 20))
            return None
        with pytest.raises(UnexpectedMessage, match=r"^S sent .*float64 \(6,\)") as err:
            fedavg_client(party, "S", ["C"], FedAvg(), x, y)
        return str(err.value)

    assert "oversized" in run_parties(body, names=["S", "C"], timeout=20)[1]


@pytest.mark.parametrize("alive", [["C", "X"], ["C", {}], "C", None])
def test_fedavg_client_refuses_a_header_naming_strangers(alive):
    """Survivors that are not a list of the clients (a stranger; an unhashable entry, which
    once escaped as a TypeError): refused naming the server."""
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(30, 2)), rng.integers(0, 2, 30).astype(float)

    def body(party):
        if party.name == "S":
            SecAggServer(party, ["C"], frac_bits=STATS_FRAC_BITS).run(2 * 2 + 1)
            party.channel("C").send_bytes(json.dumps({"kind": "stats",
                                                      "alive": alive}).encode())
            return None
        with pytest.raises(UnexpectedMessage, match=r"^S sent a round header"):
            fedavg_client(party, "S", ["C"], FedAvg(), x, y)
        return True

    assert run_parties(body, names=["S", "C"], timeout=20)[1]


@pytest.mark.parametrize("sent", [np.zeros(9, np.uint64), np.zeros(8, np.float64),
                                  np.zeros(1 << 16, np.uint64)])
def test_secagg_server_refuses_a_malformed_masked_input(sent):
    """A client that follows the protocol up to its masked input, then sends the wrong
    length, dtype or a huge array: the server names it and the expected shape."""
    clients = ["C0", "C1", "C2"]

    def body(party):
        if party.name == "S":
            with pytest.raises(UnexpectedMessage, match=r"^C1 sent .*uint64 \(8,\)"):
                SecAggServer(party, clients).run(8)
            party.close()   # the clients waiting for the survivors stop now
            return True
        if party.name == "C1":
            real = party.channel("S").send_array
            party.channel("S").send_array = lambda arr: real(sent)   # the masked input
        try:
            SecAggClient(party, "S", clients).run(np.ones(8))
        except Exception:   # noqa: BLE001 - the server stops after refusing C1
            pass
        return None

    assert run_parties(body, names=["S", *clients], timeout=20)[0]


def test_importance_refuses_the_wrong_shape():
    def body(party):
        if party.name == "A":
            party.channel("P").send_array(np.zeros((4, 2)))
            return None
        with pytest.raises(UnexpectedMessage, match=r"^A sent float64 \(4, 2\), expected "
                                                    r"the importance of 3 features"):
            receive_importance(party, "A", 3)
        return True

    assert run_parties(body, names=["A", "P"], timeout=20)[1]


def test_fedboost_client_refuses_survivors_that_are_not_clients():
    """A server naming a stranger (or an unhashable entry) among the survivors: refused
    naming the server, before the client runs a secure aggregation with them."""
    from yinji.ml.fedboost import STATS_BITS, FedBoostConfig, fedboost_client

    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(20, 2)), rng.integers(0, 2, 20).astype(float)
    outcomes = []
    for alive in (["C", "X"], [{}]):
        def body(party, alive=alive):
            if party.name == "S":
                SecAggServer(party, ["C"], frac_bits=STATS_BITS).run(2 * 2 + 2)
                party.channel("C").send_bytes(json.dumps(
                    {"alive": alive, "mean": [0, 0], "std": [1, 1]}).encode())
                return None
            with pytest.raises(UnexpectedMessage, match=r"^S sent a model message"):
                fedboost_client(party, "S", ["C"], FedBoostConfig(), x, y)
            return True
        outcomes.append(run_parties(body, names=["S", "C"], timeout=20)[1])
    assert outcomes == [True, True]
