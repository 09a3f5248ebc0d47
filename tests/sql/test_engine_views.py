"""What each party of a secure SQL query receives: the size-hiding operators (WHERE, the
oblivious join, GROUP BY on secret keys, HAVING/LIMIT) send the same messages whatever the
data, every array a party receives looks uniform, and the recipient gets only the result.
Also: an input party (the fourth company) as data owner and recipient, and the
differencing hook."""

import numpy as np
import pytest

from yinji.sql import Column, SqlError
from yinji.testing.parties import looks_uniform

from .conftest import assert_rows, duck, make_table, random_tables, run_sql


def shape_of(view):
    return [(peer, str(m.dtype), m.shape) if isinstance(m, np.ndarray) else (peer, type(m), len(m))
            for peer, m in view]


def tables_with(xs, keys, ids=None):
    n = len(xs)
    t = make_table("t", "P0", [Column("k", "int"), Column("x", "int"),
                               Column("g", "category", categories=("a", "b", "c"))],
                   {"k": keys, "x": xs, "g": [("a", "b", "c")[i % 3] for i in range(n)]})
    u = make_table("u", "P2", [Column("k", "int"), Column("y", "int")],
                   {"k": ids if ids is not None else list(range(n)), "y": list(range(n))}, key="k")
    return [t, u]


SIZE_HIDING = [
    # filter selectivity, public-domain group counts, HAVING and LIMIT
    "select g, count(*), sum(x) from t where x > 50 group by g having count(*) > 2 order by g limit 2",
    # group count on secret keys, COUNT DISTINCT
    "select k, count(*), sum(x) from t where x > 50 group by k",
    "select g, count(distinct k), quantile_disc(x, 0.5) from t where x > 50 group by g",
    # join size of the oblivious join
    "select g, count(*), sum(u.y) from t join u on t.k = u.k where x > 50 group by g",
]


@pytest.mark.parametrize("sql", SIZE_HIDING)
@pytest.mark.parametrize("attacker", ["P1", "P2"])
def test_views_do_not_depend_on_intermediate_sizes(sql, attacker):
    """Two datasets of the same public shape, one where every row passes the filter, every
    key matches and all keys are equal, one where nothing passes and every key differs: a
    compute party that is not the recipient receives messages of the same shapes, all of
    them uniform-looking."""
    n = 24
    full = tables_with([100] * n, [7] * n, ids=[7] + list(range(100, 100 + n - 1)))
    empty = tables_with(list(range(n)), list(range(n)), ids=list(range(1000, 1000 + n)))
    views = []
    for tables in (full, empty):
        res, view = run_sql(sql, tables, recipient="P0", record=attacker)
        views.append(view)
        assert_rows(res.rows, duck(sql, tables), ordered="order by" in sql)
    assert shape_of(views[0]) == shape_of(views[1])
    for view in views:
        assert not looks_uniform(view, min_size=64), looks_uniform(view, min_size=64)


def test_recipient_receives_only_the_result_rows():
    """The recipient's extra messages at the end are one opening of the output matrix (rows x
    columns): for a public-domain GROUP BY its row count is the domain size, whatever the
    data; its non-released rows are zero."""
    tables = tables_with(list(range(30)), list(range(30)))
    sql = "select g, sum(x) from t where x > 100 group by g"
    res, view = run_sql(sql, tables, recipient="P1", record="P1")
    assert res.rows == []
    last = view[-1][1]
    assert last.shape == (3, 2 * 2 + 1)  # 3 groups x (value, valid) x 2 + released bit


def test_hidden_join_reveals_exactly_the_join_size():
    """With allow={'join_size'}, the helper's and the owners' only data-dependent message is
    the pair list, whose length is |A∩B|."""
    sql = "select count(*), sum(u.y) from t join u on t.k = u.k"
    sizes = []
    for ids in ([0, 1, 2, 3] + list(range(100, 116)), list(range(100, 120))):
        tables = tables_with(list(range(20)), list(range(20)), ids=ids)
        t0 = make_table("t", "P0", tables[0].columns, tables[0].data, key="k")
        res, view = run_sql(sql, [t0, tables[1]], recipient="P0", record="P0", allow=("join_size",))
        pairs = [m for peer, m in view if getattr(m, "dtype", None) == np.int64 and m.ndim == 2
                 and m.shape[1:] == (2,)]
        sizes.append(len(pairs[0]))
        assert res.opened == {"join_size": sizes[-1]}
        assert_rows(res.rows, duck(sql, [t0, tables[1]]))
    assert sizes == [4, 0]


def test_input_party_owns_a_table_and_receives_the_result():
    """The fourth company shares its table into the three compute parties as an input party
    and is the recipient; the compute parties' views stay uniform."""
    clients, holdings = random_tables(np.random.default_rng(5), n=30, m=15)
    holdings.owner = "P3"
    sql = ("select c.region, count(*), sum(h.amount) from holdings h join clients c "
           "on h.cid = c.cid group by c.region")
    res, view = run_sql(sql, [clients, holdings], recipient="P3", input_party="P3", record="P1")
    assert_rows(res.rows, duck(sql, [clients, holdings]))
    assert not looks_uniform(view, min_size=64)


def test_table_split_across_four_companies():
    """holdings held by two compute parties and the fourth company (an input party): rows
    of all three parts are counted, distinct clients across companies, joined to clients."""
    clients, holdings = random_tables(np.random.default_rng(11), n=36, m=15)
    holdings.parts = (("P1", 10), ("P3", 14), ("P2", 12))
    holdings.__post_init__()
    for sql in ["select count(*), count(distinct cid), sum(amount) from holdings",
                "select c.region, count(distinct h.cid), sum(h.qty) from holdings h join clients c "
                "on h.cid = c.cid group by c.region"]:
        res = run_sql(sql, [clients, holdings], recipient="P2", input_party="P3")
        assert_rows(res.rows, duck(sql, [clients, holdings]))


def stand_in_check(min_rows):
    """A plaintext-backed differencing check: opens both matrices (a test stand-in for the
    MPC isolation check) and flags a new cell whose row set differs from an earlier cell's
    by 1..min_rows-1 rows."""
    def check(session, new, old):
        a = new.reveal()
        if old is None:
            return np.zeros(a.shape[0], bool)
        b = old.reveal()
        diff = np.abs(a[:, None, :] - b[None, :, :]).sum(axis=2)
        return ((diff > 0) & (diff < min_rows)).any(axis=1)
    return check


def test_differencing_hook_refuses_an_isolating_query(tables):
    first = "select product, count(*) from holdings where qty > 0 group by product"
    res = run_sql(first, tables, check=stand_in_check(3))
    assert res.context == "holdings AS holdings"
    assert len(res.cell_predicates) == len(res.rows)
    assert all("qty > 0" in p and "product = " in p for p in res.cell_predicates)
    # an earlier released cell and a new one differing by a single row: refused
    single = duck("select qty from holdings where qty > 0 and product = 'bond' order by qty", tables)[0][0]
    second = f"select product, count(*) from holdings where qty > {single} group by product"
    history = [p for p in res.cell_predicates if "'bond'" in p]
    with pytest.raises(SqlError, match="refused: cell \\(product='bond'\\)"):
        run_sql(second, tables, history=history, check=stand_in_check(3))
    # the same query without the history passes
    run_sql(second, tables, check=stand_in_check(3))


def test_differencing_matrices_match_plaintext(tables):
    """new = WHERE AND group membership; old = history predicates over the unfiltered rows."""
    seen = {}

    def spy(session, new, old):
        seen["new"], seen["old"] = new.reveal(), old.reveal()
        return np.zeros(new.shape[0], bool)

    sql = "select product, sum(qty) from holdings where amount > 0 group by product"
    run_sql(sql, tables, history=["qty < 10", "product = 'fund' AND amount IS NULL"], check=spy)
    h = tables[1].data
    prods = sorted(set(h["product"]))
    alive = np.array([a is not None and a > 0 for a in h["amount"]])
    want = np.array([[p == q for q in h["product"]] for p in prods]) & alive
    assert (seen["new"] == want).all()
    old = np.array([[q < 10 for q in h["qty"]],
                    [p == "fund" and a is None for p, a in zip(h["product"], h["amount"], strict=True)]])
    assert (seen["old"] == old).all()


@pytest.mark.parametrize("values", [[5] * 12, list(range(12)), list(range(12, 0, -1))])
def test_shuffle_then_sort_opens_bits_independent_of_the_data(values, monkeypatch):
    """The comparison bits the sort opens (no-GROUP-BY percentile and COUNT DISTINCT) are
    those of quicksort on a random permutation: the first pivot's rank (the number of
    'less' bits of the first level) takes many values over runs, for equal, ascending and
    descending data alike (without the shuffle or the distinct tie-break it would be fixed)."""
    from yinji.mpc.session import Session
    from yinji.mpc.tensor import SharedTensor
    from yinji.sql import ops_sort
    from yinji.testing.mpc import run_mpc

    first_level = []
    real = ops_sort.rep.reveal

    def spy(s, x):
        out = real(s, x)
        if s.rank == 0 and len(out) == len(values) - 1:
            first_level.append(int(out.sum()))
        return out

    monkeypatch.setattr(ops_sort.rep, "reveal", spy)

    def prog(s: Session):
        x = SharedTensor.public(s, np.asarray(values, np.int64), 0)
        alive = SharedTensor.public(s, np.ones(len(values), np.int64), 0)
        got, _ = ops_sort.sort_rows(s, x, alive, [])
        return got.reveal()

    for _ in range(30):
        out = run_mpc(prog)
        assert out[0].tolist() == sorted(values)
    assert len(first_level) == 30
    assert len(set(first_level)) >= 5, first_level
