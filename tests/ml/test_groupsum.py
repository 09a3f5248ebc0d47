"""SecureBoost's compiled histogram loops (yinji.ml._groupsum) against plain Python / the
NumPy code they replaced: bit for bit, on random and edge-case inputs."""

import numpy as np
import pytest

from yinji.crypto.prg import Prg
from yinji.ml._groupsum import add_at_places
from yinji.ml.secureboost import _own_hist
from yinji.ml.secureboost_assisted import Groups as _Groups

WRAP = 2**64


def _python_sums(x, labels, groups):
    return [[sum(int(x[k, i]) for i in range(len(labels)) if labels[i] == b) % WRAP
             for b in range(groups)] for k in range(x.shape[0])]


@pytest.mark.parametrize("columns", [0, 1, 2, 3, 4, 5, 6, 7, 9])
@pytest.mark.parametrize("n", [0, 1, 13])
def test_group_sums_every_column_count_wrap_mod_2_64(columns, n):
    """Four, two and single columns per pass; near-2^64 words wrap; empty groups stay 0."""
    rng = np.random.default_rng(10 * columns + n)
    labels = rng.integers(0, 4, n).astype(np.int8)  # group 4 of 5 always empty
    x = rng.integers(0, WRAP, (columns, n), dtype=np.uint64, endpoint=False)
    if n:
        x[:, 0] = np.uint64(WRAP - 1)
    want = _python_sums(x, labels, 5)
    assert _Groups(labels, 5).sums(x).tolist() == want
    out = np.full((columns, 5), 7, dtype=np.uint64)  # overwritten, not added to
    assert _Groups(labels, 5).sums(x, out).tolist() == want


def test_stream_sums_are_the_sums_of_the_same_words():
    """The passive party's pairwise draws give the sums of the block A draws at once, and
    leave the stream where A's draw leaves it."""
    rng = np.random.default_rng(3)
    n, c = 1001, 6
    labels = rng.integers(0, 32, n).astype(np.int8)
    seed = bytes(range(16))
    block, ref = Prg(seed).uint64((c, n)), Prg(seed)
    ref.uint64((c, n))
    stream = Prg(seed)
    out = _Groups(labels, 32).stream_sums(stream, np.empty((2, n), np.uint64),
                                          np.empty((c, 32), np.uint64))
    assert out.tolist() == _python_sums(block, labels, 32)
    assert np.array_equal(stream.uint64(5), ref.uint64(5))


@pytest.mark.parametrize("labels", [[-1, 0], [0, 5]])
def test_groups_refuse_labels_outside_the_groups(labels):
    with pytest.raises(ValueError, match=r"0\.\.4"):
        _Groups(np.array(labels, dtype=np.int8), 5)


def _bincount_hist(bins, gh, rows, nb):  # the NumPy version the compiled loop replaced
    d = bins.shape[1]
    flat = (bins[rows] + np.arange(d) * nb).ravel()
    out = np.stack([np.bincount(flat, np.repeat(gh[rows, k], d), d * nb) for k in range(2)], 1)
    return out.reshape(d, nb, 2).cumsum(1).reshape(d * nb, 2)


@pytest.mark.parametrize("rows", ["all", "some", "one", "none"])
def test_own_histograms_bit_identical_to_bincount(rows):
    """Same float additions in the same row order: identical bits, so identical trees."""
    rng = np.random.default_rng(len(rows))
    n, d, nb = 500, 3, 8
    bins = rng.integers(0, nb, (n, d)).astype(np.int8)
    bins[:, 2] = 3  # one bin holds every row
    gh = np.column_stack([rng.normal(size=n) * 1e3, rng.random(n) / 4])
    r = {"all": np.arange(n), "some": np.sort(rng.choice(n, 77, replace=False)),
         "one": np.array([n - 1]), "none": np.zeros(0, np.int64)}[rows]
    got = _own_hist(bins, gh, r, nb)
    assert got.shape == (d * nb, 2)
    assert np.array_equal(got.view(np.uint64), _bincount_hist(bins, gh, r, nb).view(np.uint64))


def test_add_at_places_adds_each_row_at_its_place_wrapping():
    rng = np.random.default_rng(5)
    n = 300
    place = rng.permutation(n).astype(np.int64)
    rows = np.sort(rng.choice(n, 120, replace=False)).astype(np.int64)
    gh = rng.integers(0, WRAP, (n, 2), dtype=np.uint64, endpoint=False)
    z = rng.integers(0, WRAP, (2, n), dtype=np.uint64, endpoint=False)
    want = z.copy()
    for r in rows:
        for k in range(2):
            want[k, place[r]] = (int(want[k, place[r]]) + int(gh[r, k])) % WRAP
    add_at_places(z, place, rows, gh)
    assert np.array_equal(z, want)


@pytest.mark.parametrize(("x", "out"), [
    (np.zeros((2, 5), np.uint64), None),                     # 5 words a column, 4 labels
    (np.zeros((2, 4), np.uint64), np.zeros((3, 3), np.uint64)),  # 3 columns out for 2
    (np.zeros((2, 4), np.uint64), np.zeros((2, 3), np.int64)),   # not uint64
])
def test_group_sums_refuse_shapes_the_loop_would_overrun(x, out):
    """The compiled loop does not check bounds, so the Python side checks the shapes."""
    with pytest.raises(ValueError, match="group sums of"):
        _Groups(np.zeros(4, np.int8), 3).sums(x, out)


def test_stream_sums_refuse_an_odd_column_count():
    with pytest.raises(ValueError, match="pairs"):
        _Groups(np.zeros(4, np.int8), 3).stream_sums(
            Prg(bytes(16)), np.empty((2, 4), np.uint64), np.empty((3, 3), np.uint64))
