import numpy as np
import pytest

from yinji.apps.group_totals import (
    SEGMENTS,
    HoldingsError,
    group_totals,
    plaintext_totals,
    read_holdings,
    read_registry,
    write_sample_data,
)
from yinji.testing.mpc import run_mpc

COMPANIES = ["securities", "fund", "futures"]


@pytest.fixture
def data(tmp_path):
    write_sample_data(tmp_path, COMPANIES, clients=3000, seed=5)
    return tmp_path


def test_group_totals_match_plaintext(data):
    registry = read_registry(data / "registry.csv")
    holdings = [read_holdings(data / f"{c}.csv", registry) for c in COMPANIES]

    def prog(s):
        return group_totals(s, holdings[s.rank])

    results = run_mpc(prog)
    truth = plaintext_totals(holdings)
    assert truth.clients_over_threshold > 0
    for r in results:
        assert r.clients_over_threshold == truth.clients_over_threshold
        for seg in SEGMENTS:
            assert r.by_segment[seg] == pytest.approx(truth.by_segment[seg], abs=0.01)


def test_empty_company_and_threshold_edge(tmp_path):
    (tmp_path / "registry.csv").write_text("customer_id\nA\nB\n")
    (tmp_path / "a.csv").write_text("customer_id,segment,assets_cny\nA,retail,600000\n")
    (tmp_path / "b.csv").write_text("customer_id,segment,assets_cny\nA,retail,400000.01\nB,private,1000000\n")
    (tmp_path / "c.csv").write_text("customer_id,segment,assets_cny\n")
    reg = read_registry(tmp_path / "registry.csv")
    hs = [read_holdings(tmp_path / f"{x}.csv", reg) for x in "abc"]

    def prog(s):
        return group_totals(s, hs[s.rank])

    r = run_mpc(prog)[0]
    assert r.clients_over_threshold == 1  # A: 1,000,000.01 > 1e6; B: exactly 1e6 is not
    assert r.by_segment["retail"] == pytest.approx(1000000.01) and r.by_segment["private"] == 1e6


@pytest.mark.parametrize("body,message", [
    ("customer_id,segment\nA,retail\n", "missing column"),
    ("customer_id,segment,assets_cny\nZ,retail,1\n", "not in the group registry"),
    ("customer_id,segment,assets_cny\nA,retail,1\nA,retail,2\n", "duplicate customer"),
    ("customer_id,segment,assets_cny\nA,vip,1\n", "unknown segment"),
    ("customer_id,segment,assets_cny\nA,retail,abc\n", "is not a number"),
    ("customer_id,segment,assets_cny\nA,retail,-5\n", "non-negative"),
])
def test_bad_holdings_are_refused_with_the_row(tmp_path, body, message):
    (tmp_path / "registry.csv").write_text("customer_id\nA\n")
    (tmp_path / "h.csv").write_text(body)
    with pytest.raises(HoldingsError, match=message):
        read_holdings(tmp_path / "h.csv", read_registry(tmp_path / "registry.csv"))


def test_sample_data_is_deterministic(tmp_path):
    write_sample_data(tmp_path / "a", COMPANIES, clients=50, seed=1)
    write_sample_data(tmp_path / "b", COMPANIES, clients=50, seed=1)
    for c in COMPANIES:
        assert (tmp_path / "a" / f"{c}.csv").read_text() == (tmp_path / "b" / f"{c}.csv").read_text()
    assert np.all(read_holdings(tmp_path / "a" / "fund.csv",
                                read_registry(tmp_path / "a" / "registry.csv")).by_client >= 0)
