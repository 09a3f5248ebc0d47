import pytest

from yinji.testing.linkage_data import chinese_identity_set


@pytest.fixture(scope="session")
def key() -> bytes:
    return bytes(range(32))


@pytest.fixture(scope="session")
def zh_small():
    return chinese_identity_set(300, seed=3)
