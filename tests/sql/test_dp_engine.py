"""`execute(..., noise=...)`: DP-marked aggregates are clipped and noised on shares before
opening; the plan (yinji.sql.noise) refuses what cannot be noised, naming it.

The noise comes from the OS CSPRNG (it cannot be seeded). The released noise is a sum of
three discrete Laplace draws, whose tails are exponential, not Gaussian: P(|e| > 12 sd) is
about 2e-11 (numerical convolution), so value bounds are 12 sd; statistics over many cells
(close to normal) use 8 standard errors."""

import numpy as np
import pytest

from yinji.sql import Column, SqlError
from yinji.sql.dp import discrete_laplace_variance
from yinji.sql.noise import NoiseSpec, marked_columns, plan, spend
from yinji.sql.parse import parse
from yinji.sql.policy import check_query

from .conftest import make_table, run_sql

SEG = ["a", "b", "c"]


def table(rng, n, lo=-50.0, hi=200.0):
    data = {"seg": list(rng.choice(SEG, n)), "v": list(np.round(rng.uniform(lo, hi, n), 2)),
            "k": [int(x) for x in rng.integers(-30, 30, n)]}
    cols = [Column("seg", "category", categories=tuple(SEG)), Column("v", "decimal"),
            Column("k", "int")]
    return make_table("t", "P0", cols, data), data


def test_noised_sum_count_avg_equal_clipped_plaintext_when_noise_is_negligible(rng):
    t, d = table(rng, 40)
    d["v"][:3] = [1e4, -1e4, 100.0]                  # outside and on the bounds
    bounds = (-20.0, 100.0)
    noise = {1: NoiseSpec("sum", 1e9, bounds, "t"), 2: NoiseSpec("count", 1e9, bounds, "t"),
             3: NoiseSpec("avg", 1e9, bounds, "t"), 4: NoiseSpec("sum", 1e9, (-5, 5), "t")}
    res = run_sql("SELECT seg, SUM(v), COUNT(v), AVG(v), SUM(k) FROM t GROUP BY seg", [t],
                  noise=noise)
    got = {r[0]: r[1:] for r in res.rows}
    for s in SEG:
        rows = [i for i in range(40) if d["seg"][i] == s]
        clipped = np.clip([d["v"][i] for i in rows], *bounds)
        assert got[s][0] == pytest.approx(clipped.sum(), abs=0.05)
        assert got[s][1] == len(rows)
        assert got[s][2] == pytest.approx(clipped.mean(), abs=0.05)
        assert got[s][3] == int(np.clip([d["k"][i] for i in rows], -5, 5).sum())


def test_secret_group_key_nulls_and_integer_avg(rng):
    """A secret GROUP BY key (no public domain): the released groups' noised cells equal the
    clipped plaintext; NULLs are not counted; a noised cell is never NULL (an all-NULL group
    releases a noised 0, not NULL: validity would tell emptiness)."""
    n = 24
    d = {"g": [int(x) for x in rng.integers(0, 4, n)],
         "v": [None if i % 5 == 0 else float(x) for i, x in enumerate(rng.uniform(-9, 9, n))],
         "k": [int(x) for x in rng.integers(-30, 30, n)]}
    d["g"][:4] = [0, 1, 2, 3]
    d["g"][-1], d["v"][-1] = 7, None                       # a group with only a NULL value
    t = make_table("t", "P0", [Column("g", "int"), Column("v", "decimal", nullable=True),
                               Column("k", "int")], d)
    noise = {1: NoiseSpec("count", 1e9, (0, 1), "t"), 2: NoiseSpec("sum", 1e9, (-5, 5), "t"),
             3: NoiseSpec("avg", 1e9, (-10, 10), "t")}
    res = run_sql("SELECT g, COUNT(v), SUM(v), AVG(k) FROM t GROUP BY g", [t], noise=noise)
    got = {r[0]: r[1:] for r in res.rows}
    assert set(got) == set(d["g"])
    for key, (cnt, total, avg) in got.items():
        rows = [i for i in range(n) if d["g"][i] == key]
        vals = [d["v"][i] for i in rows if d["v"][i] is not None]
        assert cnt == len(vals)
        assert total == pytest.approx(float(np.clip(vals, -5, 5).sum()) if vals else 0.0,
                                      abs=0.01)
        assert avg == pytest.approx(np.clip([d["k"][i] for i in rows], -10, 10).mean(),
                                    abs=0.01)


def test_noised_sum_is_within_tolerance_of_plaintext(rng):
    """SUM with epsilon 20, bounds [0, 100]: t = 5 real units per share; COUNT(*) with epsilon
    1: t = 1 row per share; within 12 sd of the plaintext, and integral for the count."""
    t, d = table(rng, 200, 0.0, 100.0)
    noise = {0: NoiseSpec("sum", 20.0, (0.0, 100.0), "t"), 1: NoiseSpec("count", 1.0, (0, 1), "t")}
    res = run_sql("SELECT SUM(v), COUNT(*) FROM t", [t], noise=noise)
    [(total, count)] = res.rows
    sd_sum = np.sqrt(3 * discrete_laplace_variance(5 * 2 ** 16)) / 2 ** 16
    sd_count = np.sqrt(3 * discrete_laplace_variance(1.0))
    assert abs(total - sum(d["v"])) < 12 * sd_sum < 0.02 * sum(d["v"])
    assert abs(count - 200) < 12 * sd_count < 0.2 * 200
    assert isinstance(count, int)


def test_empirical_variance_of_noised_counts_is_three_laplace_mechanisms(rng):
    """1000 public groups of one row each, COUNT with epsilon 0.5 (t = 2): every cell is
    1 + e0 + e1 + e2; the sample variance is near 3 * Var(DiscreteLaplace(2)) (not 1x) and
    the mean near 1. Sum of three Laplace: kurtosis 4, relative s.e. of the variance sqrt(3/n)."""
    n = 1000
    t = make_table("t", "P0", [Column("g", "int", domain=tuple(range(n)))],
                   {"g": list(range(n))})
    res = run_sql("SELECT g, COUNT(*) FROM t GROUP BY g", [t],
                  noise={1: NoiseSpec("count", 0.5, (0, 1), "t")})
    assert len(res.rows) == n
    e = np.array([c for _, c in res.rows], dtype=np.float64) - 1
    var = 3 * discrete_laplace_variance(2.0)
    assert abs(e.var() / var - 1) < 8 * np.sqrt(3 / n)       # 0.44: one mechanism (1/3) fails
    assert abs(e.mean()) < 8 * np.sqrt(var / n)
    assert np.all(e == np.round(e))


def test_having_and_order_see_the_same_noised_cells(rng):
    t, d = table(rng, 30)
    noise = {1: NoiseSpec("sum", 1e9, (-100.0, 100.0), "t")}
    res = run_sql("SELECT seg, SUM(v) AS s FROM t GROUP BY seg HAVING SUM(v) > -1e9 "
                  "ORDER BY SUM(v) DESC", [t], noise=noise)
    sums = [r[1] for r in res.rows]
    assert sums == sorted(sums, reverse=True) and len(sums) == len(set(d["seg"]))


def test_noise_spec_must_match_the_select_item(rng):
    t, _ = table(rng, 5)
    with pytest.raises(SqlError, match="select item 'seg'.*not a SUM aggregate"):
        run_sql("SELECT seg, SUM(v) FROM t GROUP BY seg", [t],
                noise={0: NoiseSpec("sum", 1.0, (0, 1), "t")})
    with pytest.raises(SqlError, match="the query has 2 items"):
        run_sql("SELECT seg, SUM(v) FROM t GROUP BY seg", [t],
                noise={5: NoiseSpec("sum", 1.0, (0, 1), "t")})
    with pytest.raises(SqlError, match="MAX is not supported"):
        NoiseSpec("max", 1.0, (0, 1), "t")


POL = {"t": {"seg": "plaintext", "k": "plaintext",
             "v": {"rule": "plaintext_after_aggregate", "dp_epsilon": 0.5, "bounds": [0, 10]}}}


def planned(sql, rng):
    t, _ = table(rng, 3)
    q = parse(sql, {"t": t})
    rep = check_query(sql, POL, "x")
    return plan(q, marked_columns(rep.dp)), q


def test_plan_from_the_policy_report(rng):
    p, q = planned("SELECT seg, SUM(v), AVG(v * 2) AS a, COUNT(*), SUM(k) FROM t GROUP BY seg",
                   rng)
    assert p == {1: NoiseSpec("sum", 0.5, (0.0, 10.0), "t"),
                 2: NoiseSpec("avg", 0.5, (0.0, 10.0), "t")}
    assert spend(p, q) == {"t": pytest.approx(1.0)}
    p, q = planned("SELECT seg, SUM(v), SUM(v) AS again FROM t GROUP BY seg "
                   "ORDER BY SUM(v)", rng)
    assert spend(p, q) == {"t": pytest.approx(0.5)}      # one aggregate, one noise, one cost


@pytest.mark.parametrize("sql, why", [
    ("SELECT seg, SUM(v) * 2 FROM t GROUP BY seg", "computes on the DP-marked aggregate SUM"),
    ("SELECT seg, COUNT(*) FROM t GROUP BY seg HAVING SUM(v) > 3",
     "SUM\\(v\\) in HAVING/ORDER BY uses DP-marked column t.v"),
    ("SELECT seg, COUNT(*) FROM t GROUP BY seg ORDER BY AVG(v)", "AVG\\(v\\) in HAVING"),
])
def test_plan_refuses_what_cannot_be_noised(rng, sql, why):
    with pytest.raises(SqlError, match=why):
        planned(sql, rng)


def test_plan_refuses_disagreeing_holders():
    a = {"table": "t", "column": "v", "epsilon": 0.5, "bounds": [0, 10]}
    with pytest.raises(SqlError, match="holders of 't' mark t.v with different DP rules"):
        marked_columns([a, {**a, "epsilon": 1.0}])
    assert marked_columns([a, dict(a)]) == {("t", "v"): (0.5, (0.0, 10.0))}
