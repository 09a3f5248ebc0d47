"""The test helpers other tests rely on to be unable to fail by chance, yet able to fail."""

import math

import numpy as np
import pytest

from yinji.mpc import SharedTensor
from yinji.testing.mpc import run_mpc
from yinji.testing.parties import FALSE_ALARM, _chernoff_exponent, looks_uniform
from yinji.testing.seeded import seed_sessions


def test_looks_uniform_passes_uniform_words_of_any_size():
    rng = np.random.default_rng(1)   # stands in for protocol randomness here
    view = [("P", rng.integers(0, 2**64, n, dtype=np.uint64, endpoint=False))
            for n in (6, 40, 64, 256, 10_000) for _ in range(50)]
    assert looks_uniform(view, min_size=1) == []


@pytest.mark.parametrize("n", [6, 40, 256, 10_000])
def test_looks_uniform_flags_plaintext_and_short_masks(n):
    rng = np.random.default_rng(n)
    fixed = (rng.normal(0, 1e4, n) * 2**16).astype(np.int64).view(np.uint64)
    assert looks_uniform([("P", fixed)], min_size=1)      # small words: from 6 words on
    short = rng.integers(0, 2**63, n, dtype=np.uint64)      # top bit never set
    assert bool(looks_uniform([("P", short)], min_size=1)) == (n >= 40)


def test_chernoff_threshold_is_the_stated_false_alarm():
    # the top-bit check at 10,000 words flags 7.4 sd (normal tail ~1e-13, below 1e-12)
    limit = math.log(1 / FALSE_ALARM)
    sd = 0.5 / math.sqrt(10_000)
    assert _chernoff_exponent(10_000, 0.5 + 7.3 * sd, 0.5) < limit
    assert _chernoff_exponent(10_000, 0.5 + 7.5 * sd, 0.5) > limit


def test_seeded_sessions_repeat_a_run_and_differ_by_key(monkeypatch):
    x = np.arange(8.0)

    def run(key):   # as a seeded test does, from its start
        seed_sessions(monkeypatch, key)

        def prog(s):
            t = SharedTensor.share(s, x if s.rank == 0 else None, 0, shape=x.shape).shuffle()
            return t.reveal(), t.shares
        return run_mpc(prog)

    first, again, other = run(b"one"), run(b"one"), run(b"two")
    for a, b in zip(first, again, strict=True):   # same order, same shares, every party
        assert np.array_equal(a[0], b[0])
        assert np.array_equal(a[1][0], b[1][0]) and np.array_equal(a[1][1], b[1][1])
    assert sorted(first[0][0]) == list(x)
    assert not np.array_equal(first[0][1][0], other[0][1][0])
