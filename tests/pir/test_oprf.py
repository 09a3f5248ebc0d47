import pytest

from yinji.pir import oprf


def test_blinded_evaluation_matches_server_tokens():
    server = oprf.OprfServer()
    keys = [b"110101199001011234", b"x", b""]
    state, blinded = oprf.blind(keys)
    assert oprf.finalize(state, server.evaluate("c", blinded)) == server.tokens(keys)


def test_blinded_elements_are_fresh_each_time():
    _, b1 = oprf.blind([b"same"])
    _, b2 = oprf.blind([b"same"])
    assert b1 != b2


def test_different_server_keys_give_unrelated_tokens():
    assert oprf.OprfServer().tokens([b"k"]) != oprf.OprfServer().tokens([b"k"])


def test_rate_limit_per_client():
    now = [0.0]
    limit = oprf.RateLimit(burst=3, per_second=1.0, clock=lambda: now[0])
    server = oprf.OprfServer(rate_limit=limit)
    _, b = oprf.blind([b"a", b"b"])
    server.evaluate("alice", b)
    with pytest.raises(oprf.RateLimited):
        server.evaluate("alice", b)
    server.evaluate("bob", b)  # budgets are per client
    now[0] = 1.0
    server.evaluate("alice", b)
