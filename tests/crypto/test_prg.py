import numpy as np
import pytest

from yinji.crypto.prg import Prg, derive, fresh_seed


def test_same_seed_same_stream_and_labels_separate():
    seed = fresh_seed()
    a, b = Prg(seed), Prg(seed)
    assert np.array_equal(a.uint64(1000), b.uint64(1000))
    assert a.bytes(7) == b.bytes(7)
    assert derive(seed, "zero") != derive(seed, "pair")
    assert not np.array_equal(Prg(derive(seed, "x")).uint64(10), Prg(derive(seed, "y")).uint64(10))


def test_stream_continues_and_shapes():
    p = Prg(fresh_seed())
    first, second = p.uint64((3, 4)), p.uint64(0)
    assert first.shape == (3, 4) and second.shape == (0,)
    assert first.dtype == np.uint64
    bits = p.bits(10000)
    # Binomial(10000, 1/2): sd 50, the bounds are 10 sd (p ~ 1e-23)
    assert set(np.unique(bits)) <= {0, 1} and 4500 < bits.sum() < 5500


def test_bad_seed_rejected():
    with pytest.raises(ValueError, match="16 bytes"):
        Prg(b"short")
