"""The parties' views in the MPC scenario protocols: what each party receives is share
components and masked values only, with shapes that do not depend on the inputs; only the
named recipients get a result (docs/SECURITY.md, grouped aggregation and group totals)."""

import numpy as np

from yinji.mpc.aggregate import group_aggregate
from yinji.mpc.session import Session
from yinji.testing.mpc import NAMES
from yinji.testing.parties import looks_uniform, record_received, run_parties

GROUPS = 600


def _aggregate_views(sums_p0):
    rng = np.random.default_rng(3)
    inputs = [(sums_p0, rng.integers(1, 50, GROUPS).astype(float))] + [
        (rng.normal(1e5, 1e4, GROUPS), rng.integers(1, 50, GROUPS).astype(float))
        for _ in range(2)]

    def body(party, sums, counts):
        view = record_received(party)
        out = group_aggregate(Session(party, NAMES), sums, counts, ["sum", "mean"], ["P2"])
        return out, view

    return inputs, run_parties(body, names=NAMES, args=inputs)


def test_aggregate_non_recipients_see_only_uniform_components():
    small, large = np.full(GROUPS, 1.0), np.full(GROUPS, 9e8)
    (inputs, a), (_, b) = _aggregate_views(small), _aggregate_views(large)
    total = sum(s for s, _ in inputs)
    assert np.allclose(a[2][0]["sum"], total, rtol=1e-6)
    assert a[0][0] is None and a[1][0] is None
    for rank in (0, 1, 2):
        shapes_a = [(p, getattr(m, "shape", len(m))) for p, m in a[rank][1]]
        shapes_b = [(p, getattr(m, "shape", len(m))) for p, m in b[rank][1]]
        assert shapes_a == shapes_b, f"P{rank}'s view depends on P0's input"
        for run in (a, b):
            assert not looks_uniform(run[rank][1]), f"P{rank} received a non-uniform array"


def test_group_totals_views_are_components_only(tmp_path):
    from yinji.apps.group_totals import (
        group_totals,
        read_holdings,
        read_registry,
        write_sample_data,
    )

    write_sample_data(tmp_path, ["securities", "fund", "futures"], clients=2000, seed=9)
    registry = read_registry(tmp_path / "registry.csv")
    holdings = [read_holdings(tmp_path / f"{c}.csv", registry)
                for c in ("securities", "fund", "futures")]

    def body(party, mine):
        view = record_received(party)
        return group_totals(Session(party, NAMES), mine), view

    results = run_parties(body, names=NAMES, args=[(h,) for h in holdings])
    for rank, (_, view) in enumerate(results):
        assert view and not looks_uniform(view), f"P{rank} received a non-uniform array"
    assert len({repr(r[0]) for r in results}) == 1   # everyone learns the same totals


def test_aggregate_with_an_input_party_and_an_outside_recipient():
    """Four companies: three compute, the fourth an input party and the only recipient; the
    compute parties' views are uniform and they get no result."""
    from yinji.mpc.aggregate import aggregate_input

    rng = np.random.default_rng(5)
    data = [(rng.normal(1e5, 1e4, GROUPS), rng.integers(0, 50, GROUPS).astype(float))
            for _ in range(4)]
    names = [*NAMES, "offshore"]

    def body(party, sums, counts):
        view = record_received(party)
        if party.name == "offshore":
            out = aggregate_input(party, NAMES, sums, counts, ["sum", "count", "mean"],
                                  ["offshore"])
        else:
            out = group_aggregate(Session(party, NAMES), sums, counts, ["sum", "count", "mean"],
                                  ["offshore"], input_parties=["offshore"])
        return out, view

    results = run_parties(body, names=names, args=data)
    total = sum(s for s, _ in data)
    count = sum(c for _, c in data)
    got = results[-1][0]
    assert np.allclose(got["sum"], total, rtol=1e-6) and got["count"] == count.tolist()
    mean = np.divide(total, count, out=np.zeros_like(total), where=count > 0)
    assert np.allclose(got["mean"], mean, rtol=1e-3, atol=0.5)
    for rank in range(3):
        assert results[rank][0] is None
        assert not looks_uniform(results[rank][1]), f"P{rank} received a non-uniform array"
