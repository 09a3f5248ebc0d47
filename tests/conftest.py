import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """Seeded randomness for test inputs only (protocols never use it)."""
    return np.random.default_rng(20261125)
