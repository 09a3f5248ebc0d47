"""The OPRF key and the per-client budgets persist, sealed: a restart (a second `open` of the
same state) neither refills a client's budget nor changes the key."""

import os
import stat

import pytest

from yinji.crypto.aead import Aead
from yinji.pir import oprf

KEY = bytes(range(32))


def opened(path, now, name="securities/blacklist", key=KEY, burst=5):
    limit = oprf.RateLimit(burst=burst, per_second=1 / 60, clock=lambda: now[0])
    return oprf.OprfServer.open(oprf.SealedOprfState(path, Aead(key), name), limit)


def ask(server, client, keys):
    state, blinded = oprf.blind(keys)
    return oprf.finalize(state, server.evaluate(client, blinded))


def test_restart_keeps_the_budget_and_the_key(tmp_path):
    now, path = [1000.0], tmp_path / "blacklist.oprf"
    first = opened(path, now)
    tokens = ask(first, "futures", [b"k1", b"k2", b"k3", b"k4", b"k5"])
    with pytest.raises(oprf.RateLimited):
        ask(first, "futures", [b"k6"])
    # the attack: restart the server and ask again
    again = opened(path, now)
    with pytest.raises(oprf.RateLimited):
        ask(again, "futures", [b"k6"])
    assert ask(again, "fund", [b"k1"]) == tokens[:1]   # same key: old tokens stay valid
    assert again.tokens([b"k2"]) == tokens[1:2]
    now[0] += 60   # refill goes on by wall time, also across the restart
    assert len(ask(opened(path, now), "futures", [b"k6"])) == 1
    with pytest.raises(oprf.RateLimited):
        ask(opened(path, now), "futures", [b"k7"])


def test_state_is_sealed_private_and_bound_to_its_service(tmp_path):
    now, path = [1000.0], tmp_path / "blacklist.oprf"
    server = opened(path, now)
    ask(server, "futures", [b"k1"])
    blob = path.read_bytes()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert server._key not in blob and server._key.hex().encode() not in blob
    assert b"futures" not in blob and b"budgets" not in blob
    assert [p.name for p in tmp_path.iterdir()] == ["blacklist.oprf"]   # no temp file left
    with pytest.raises(oprf.OprfStateError, match="cannot be opened"):
        opened(path, now, name="securities/other")      # a file moved to another service
    with pytest.raises(oprf.OprfStateError, match="cannot be opened"):
        opened(path, now, key=bytes(32))                 # another node's sealing key
    path.write_bytes(blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(oprf.OprfStateError, match="cannot be opened"):
        opened(path, now)                                # altered
    path.write_bytes(blob)
    assert opened(path, now).tokens([b"k"]) == server.tokens([b"k"])


def test_an_unsaved_spend_is_refused(tmp_path, monkeypatch):
    now, path = [1000.0], tmp_path / "blacklist.oprf"
    server = opened(path, now)

    def disk_full(budgets):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(server.rate_limit, "persist", disk_full)
    with pytest.raises(OSError, match="No space"):
        ask(server, "futures", [b"k1"])
    assert opened(path, now).rate_limit.budgets() == {}   # nothing half-written


def test_levels_above_a_smaller_burst_are_cut(tmp_path):
    now, path = [1000.0], tmp_path / "blacklist.oprf"
    ask(opened(path, now, burst=100), "futures", [b"k1"])
    assert opened(path, now, burst=3).rate_limit.budgets()["futures"] == (3.0, 1000.0)
