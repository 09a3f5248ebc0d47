import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    """Seeded randomness for test inputs only (protocols never use it)."""
    return np.random.default_rng(20261125)


@pytest.fixture(autouse=True)
def _private_cache_home(tmp_path_factory, monkeypatch):
    """Commands that keep caches (e.g. `yinji pir query`'s hints) write under a test folder,
    never the user's ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
