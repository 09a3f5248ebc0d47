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


@pytest.mark.parametrize("sizes", [[5, 3], [1, 1, 1], [140_000, 7], [0, 4]])
def test_fill_continues_the_stream_like_uint64(sizes):
    """Filling reused buffers gives the words uint64 draws (also across the 1 MiB block)."""
    seed = fresh_seed()
    a, b = Prg(seed), Prg(seed)
    for k in sizes:
        buf = np.full(k, 7, dtype=np.uint64)
        assert b.fill(buf) is buf
        assert np.array_equal(buf, a.uint64(k))


def test_fill_refuses_a_strided_array():
    with pytest.raises(ValueError, match="C-contiguous"):
        Prg(fresh_seed()).fill(np.zeros((4, 4), dtype=np.uint64)[:, 0])
