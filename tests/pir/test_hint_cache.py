"""Hints kept on the client's disk (`yinji.pir.hint_cache`): a later client queries without
downloading the hint, a member's newer version replaces it, a broken entry is ignored."""

import os

import numpy as np

from yinji.pir.client import PirClient
from yinji.pir.hint_cache import HintCache
from yinji.pir.server import PirServer

from .conftest import RECORDS
from .test_protocol import PRESENT, serve_and


def test_round_trip_corruption_and_trim(tmp_path):
    cache = HintCache(tmp_path / "h", max_entries=2)
    hint = np.arange(12, dtype=np.uint32).reshape(3, 4)
    cache.save("m@a:1", "v1", {"n": 1}, {"b": 2}, hint)
    meta, got = cache.load("m@a:1")
    assert meta["version"] == "v1" and np.array_equal(got, hint)
    assert oct(next((tmp_path / "h").glob("*.npy")).stat().st_mode & 0o777) == "0o600"
    assert cache.load("other@a:1") is None
    next((tmp_path / "h").glob("*.npy")).write_bytes(b"not numpy")   # broken: ignored, removed
    assert cache.load("m@a:1") is None and not list((tmp_path / "h").glob("*.json"))
    for i in range(3):
        cache.save(f"k{i}", "v", {}, {}, hint)
        os.utime(cache._paths(f"k{i}")[0], (i, i))
    cache._trim()
    assert cache.load("k0") is None and cache.load("k2") is not None


def test_later_clients_start_from_the_cached_hint_until_the_member_updates(member_db,
                                                                           tmp_path):
    server = PirServer.from_database(member_db)
    cache = HintCache(tmp_path / "hints")
    want = dict(RECORDS)
    new_key = "110101200001010000"

    def run(party, key="m@127.0.0.1:1"):
        c = PirClient(party.channel("S"), hint_cache=(cache, key))
        return c.query([PRESENT[0], new_key]), c.hint_downloads, c.version

    [(first, d1, v1)] = serve_and(server, run)
    [(second, d2, v2)] = serve_and(server, run)
    assert first == second == [want[PRESENT[0]], None]
    assert (d1, d2) == (1, 0) and v1 == v2          # the second run downloaded nothing
    member_db.add([(new_key, b"added")])
    server.update(member_db)
    [(third, d3, v3)] = serve_and(server, run)      # cached hint is stale: member says so
    assert third == [want[PRESENT[0]], b"added"] and d3 == 1 and v3 != v1
    [(fourth, d4, _)] = serve_and(server, run)
    assert fourth == third and d4 == 0
    [(_, d5, _)] = serve_and(server, lambda p: run(p, "another member@x:2"))
    assert d5 == 1                                   # another member's entry is its own
