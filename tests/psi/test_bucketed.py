"""Bucketed PSI against Python sets, over real TLS lanes, on threads and on a local Ray."""

import math

import numpy as np
import pytest

from yinji.net.workers import LocalWorkers
from yinji.psi import bucketed
from yinji.psi.bucketed import BucketOverflow, bucket_cap, bucketed_psi, partition
from yinji.testing.parties import record_received, run_parties
from yinji.testing.tls import make_tls_configs

from .test_ecdh import expected, random_sets

NAMES = ["A", "B"]


@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_tls_configs(NAMES, tmp_path_factory.mktemp("tls"))


def run(a, b, tls, *, buckets=4, lanes=2, receiver=None, workers=(None, None)):
    def body(party, keys, w):
        peer = "B" if party.name == "A" else "A"
        return bucketed_psi(party, peer, keys, tls=tls[party.name], buckets=buckets,
                            lanes=lanes, receiver=receiver, workers=w, timeout=60)
    return run_parties(body, names=NAMES, args=[(a, workers[0]), (b, workers[1])], timeout=120)


@pytest.mark.parametrize("n_a,n_b,overlap,buckets", [(0, 0, 0, 4), (0, 7, 0, 4), (6, 0, 0, 3),
                                                     (1, 1, 1, 2), (1, 1, 0, 2),
                                                     (300, 200, 77, 5), (257, 257, 257, 1),
                                                     (64, 90, 30, 64)])
def test_matches_python_sets(tls, n_a, n_b, overlap, buckets):
    a, b = random_sets(n_a, n_b, overlap, seed=n_a * 7 + n_b)
    ra, rb = run(a, b, tls, buckets=buckets, lanes=min(buckets, 3))
    assert ra.tolist() == expected(a, b)
    assert rb.tolist() == expected(b, a)


def test_one_receiver_and_what_the_other_gets(tls):
    a, b = random_sets(120, 80, 33, seed=5)
    ra, rb = run(a, b, tls, receiver="B")
    assert ra is None and rb.tolist() == expected(b, a)


def test_settings_must_agree(tls):
    a, b = random_sets(10, 10, 5, seed=6)

    def body(party, keys, buckets):
        peer = "B" if party.name == "A" else "A"
        return bucketed_psi(party, peer, keys, tls=tls[party.name], buckets=buckets, lanes=1)
    with pytest.raises(ValueError, match="disagree on buckets: 4 here, 8 at B"):
        run_parties(body, names=NAMES, args=[(a, 4), (b, 8)], timeout=30)


def test_buckets_are_padded_to_a_public_size():
    # What the peer sees per bucket is the cap, a function of |A| only, never the real count.
    keys = [i.to_bytes(8, "big") for i in range(5000)]
    parts, rows = partition(keys, b"k" * 32, 16)
    assert {len(p) for p in parts} == {bucket_cap(5000, 16)}
    assert sorted(np.concatenate(rows).tolist()) == list(range(5000))
    for p, r in zip(parts, rows, strict=True):
        assert p[:len(r)] == [keys[i] for i in r]
    counts = [len(r) for r in rows]
    assert max(counts) < bucket_cap(5000, 16) and min(counts) < max(counts)


def test_cap_bound_and_overflow(monkeypatch):
    # The cap holds a binomial bucket load except with probability < 2^-40 (Bernstein bound).
    n, b = 1 << 20, 64
    cap = bucket_cap(n, b)
    mean = n / b
    assert mean < cap < mean * 1.1
    assert bucket_cap(0, 8) == 0 and bucket_cap(10, 1) == 10 and bucket_cap(3, 4) == 3
    lam = (cap - mean) ** 2 / (2 * (mean + (cap - mean) / 3))
    assert b * math.exp(-lam) < 2 ** -40
    monkeypatch.setattr(bucketed, "bucket_cap", lambda n, buckets: 1)
    with pytest.raises(BucketOverflow, match="over its cap 1"):
        partition([b"x", b"y", b"z"], b"k" * 32, 2)


def test_main_channel_carries_nothing_about_keys(tls):
    # Settings, a random key share and lane addresses: the same whatever the keys are.
    a, b = random_sets(50, 50, 20, seed=9)
    views = []

    def body(party, keys):
        got = record_received(party) if party.name == "B" else None
        out = bucketed_psi(party, "B" if party.name == "A" else "A", keys,
                           tls=tls[party.name], buckets=2, lanes=1, receiver="B")
        if got is not None:
            views.append(got)
        return out
    run_parties(body, names=NAMES, args=[(a,), (b,)], timeout=60)
    (view,) = views
    # settings, key share, ready: no addresses (B listens), no sizes (the lanes show the cap)
    assert [type(m) for _, m in view] == [bytes, bytes, bytes]
    assert view[0][1] == b'{"buckets": 2, "lanes": 1, "receiver": "B"}'
    assert len(view[1][1]) == 32 and view[2][1] == b'{"ok": true}'


def test_ray_lanes(tls):
    ray = pytest.importorskip("ray")
    from yinji.net.workers import RayWorkers

    a, b = random_sets(400, 300, 120, seed=11)
    wa = RayWorkers(None, cpus=0.5, local_cpus=2)   # one local cluster, two worker CPUs
    try:
        ra, rb = run(a, b, tls, buckets=4, lanes=2, workers=(wa, LocalWorkers(2)))
        assert ray.is_initialized()
    finally:
        wa.close()
    assert ra.tolist() == expected(a, b) and rb.tolist() == expected(b, a)


def test_node_config_names_a_bad_ray_setting(tmp_path):
    import yaml

    from yinji.node.config import ConfigError, NodeConfig
    from yinji.node.identity import init_node

    init_node(tmp_path / "n", "fund")
    path = tmp_path / "n" / "node.yaml"
    raw = yaml.safe_load(path.read_text())
    for field, bad in (("ray_address", ""), ("ray_address", 5), ("ray_cpus_per_lane", 0),
                       ("ray_cpus_per_lane", "one")):
        path.write_text(yaml.safe_dump({**raw, field: bad}))
        with pytest.raises(ConfigError, match=field):
            NodeConfig.load(tmp_path / "n")
    path.write_text(yaml.safe_dump({**raw, "ray_address": "local", "lane_host": "127.0.0.1"}))
    cfg = NodeConfig.load(tmp_path / "n")
    assert cfg.ray_address == "local" and cfg.ray_cpus_per_lane == 1.0
