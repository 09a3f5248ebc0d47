"""Column control lists: every rule's allowed uses pass, every other use is refused before
anything runs, naming table.column, the rule and the use."""

import pytest

from yinji.sql.policy import ColumnRule, PolicyRefused, check_query, rule_for

POLICIES = {
    "clients": {
        "id": "plaintext_after_join",
        "region": "plaintext",
        "assets": {"rule": "plaintext_after_aggregate", "min_group": 5},
        "income": {"rule": "plaintext_after_aggregate", "min_group": 8,
                   "aggregates": ["sum", "max"]},
        "age": "plaintext_after_compare",
        "phone": "encrypted_only",
    },
    "holdings": {
        "cid": "encrypted_only",
        "fund_id": "plaintext",
        "amount": {"*": {"rule": "plaintext_after_aggregate", "min_group": 3,
                         "dp_epsilon": 0.5, "bounds": [0, 1e6]},
                   "fund": "plaintext"},
    },
}


def refused(sql, recipient="broker"):
    with pytest.raises(PolicyRefused) as err:
        check_query(sql, POLICIES, recipient)
    return "\n".join(err.value.violations)


def allowed(sql, recipient="broker"):
    return check_query(sql, POLICIES, recipient)


# -- plaintext ---------------------------------------------------------------------------------
def test_plaintext_column_may_be_used_any_way():
    rep = allowed("SELECT region, COUNT(*) FROM clients WHERE region <> 'x' "
                  "GROUP BY region ORDER BY region")
    assert {u.use for u in rep.uses} == {"output", "filter", "group_key", "order"}
    assert rep.min_group == 0 and rep.dp == []


# -- encrypted_only ----------------------------------------------------------------------------
@pytest.mark.parametrize("sql, use", [
    ("SELECT phone FROM clients", "output"),
    ("SELECT COUNT(*) FROM clients WHERE phone = '138'", "filter"),
    ("SELECT region FROM clients WHERE phone = '138'", "compare"),
    ("SELECT COUNT(DISTINCT phone) FROM clients", "aggregate"),
    ("SELECT phone, COUNT(*) FROM clients GROUP BY phone", "group_key"),
    ("SELECT region FROM clients ORDER BY phone", "order"),
    ("SELECT h.fund_id FROM holdings h", None),
])
def test_encrypted_only_is_refused_except_as_join_key(sql, use):
    if use is None:
        allowed(sql)
        return
    msg = refused(sql)
    assert "clients.phone" in msg and "encrypted_only" in msg and f"not {use}" in msg


def test_encrypted_only_join_key_is_allowed_and_never_output():
    allowed("SELECT h.fund_id, COUNT(*) FROM clients c JOIN holdings h ON c.id = h.cid "
            "GROUP BY h.fund_id")
    assert "holdings.cid" in refused("SELECT h.cid FROM clients c JOIN holdings h "
                                     "ON c.id = h.cid")


# -- plaintext_after_join ----------------------------------------------------------------------
@pytest.mark.parametrize("sql", [
    "SELECT c.id FROM clients c JOIN holdings h ON c.id = h.cid",
    "SELECT c.id FROM clients c INNER JOIN holdings h ON c.id = h.cid",
    "SELECT c.id FROM holdings h LEFT JOIN clients c ON c.id = h.cid",
    "SELECT c.id FROM clients c RIGHT JOIN holdings h ON c.id = h.cid",
    "SELECT c.id, COUNT(*) FROM clients c JOIN holdings h ON c.id = h.cid GROUP BY c.id",
])
def test_after_join_output_only_on_joined_rows(sql):
    allowed(sql)


@pytest.mark.parametrize("sql", [
    "SELECT id FROM clients",
    "SELECT c.id FROM clients c LEFT JOIN holdings h ON c.id = h.cid",     # preserved side
    "SELECT c.id FROM clients c FULL JOIN holdings h ON c.id = h.cid",
    "SELECT c.id FROM clients c CROSS JOIN holdings h",
    "SELECT c.id FROM clients c, holdings h",
    "SELECT c.id FROM clients c JOIN holdings h ON c.age > 3",            # no key equality
])
def test_after_join_output_refused_without_restricting_join(sql):
    msg = refused(sql)
    assert "clients.id as output" in msg and "plaintext_after_join" in msg


# -- plaintext_after_compare -------------------------------------------------------------------
@pytest.mark.parametrize("sql", [
    "SELECT region FROM clients WHERE age >= 18",
    "SELECT age > 60 AS senior FROM clients",
    "SELECT CASE WHEN age BETWEEN 18 AND 60 THEN 'adult' ELSE 'other' END FROM clients",
    "SELECT COUNT(*) FROM clients WHERE age IN (30, 40)",
    "SELECT SUM(CASE WHEN age > 60 THEN 1 ELSE 0 END) FROM clients",
])
def test_after_compare_allows_comparisons(sql):
    allowed(sql)


@pytest.mark.parametrize("sql, use", [
    ("SELECT age FROM clients", "output"),
    ("SELECT age + 1 FROM clients", "output"),
    ("SELECT AVG(age) FROM clients", "aggregate"),
    ("SELECT age, COUNT(*) FROM clients GROUP BY age", "group_key"),
    ("SELECT region FROM clients ORDER BY age", "order"),
    ("SELECT RANK() OVER (ORDER BY age) FROM clients", "order"),
])
def test_after_compare_refuses_values(sql, use):
    msg = refused(sql)
    assert "clients.age" in msg and "plaintext_after_compare" in msg and f"not {use}" in msg


# -- plaintext_after_aggregate -----------------------------------------------------------------
def test_after_aggregate_allows_aggregates_and_reports_the_largest_min_group():
    rep = allowed("SELECT region, SUM(assets), AVG(assets), COUNT(DISTINCT assets), "
                  "SUM(income) FROM clients WHERE assets > 100 GROUP BY region")
    assert rep.min_group == 8
    assert any("clients.income as aggregate SUM" in c for c in rep.checks)
    lines = rep.approval_lines(["broker", "fund"])
    assert lines[0].startswith("query: SELECT") and lines[1] == "recipients: broker, fund"
    assert "minimum group size enforced: 8" in lines


@pytest.mark.parametrize("sql, problem", [
    ("SELECT assets FROM clients", "not output"),
    ("SELECT region FROM clients WHERE assets > 10", "not compare"),   # row-level compare
    ("SELECT assets, COUNT(*) FROM clients GROUP BY assets", "not group_key"),
    ("SELECT region FROM clients ORDER BY assets", "not order"),
    ("SELECT MAX(assets) FROM clients", "does not allow MAX"),
    ("SELECT MIN(assets) FROM clients", "does not allow MIN"),
    ("SELECT PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY assets) FROM clients",
     "does not allow PERCENTILE"),
    ("SELECT SUM(assets) OVER (ORDER BY region) FROM clients", "not output"),   # running sum
    ("SELECT AVG(income) FROM clients", "does not allow AVG"),
])
def test_after_aggregate_refusals(sql, problem):
    msg = refused(sql)
    assert "plaintext_after_aggregate" in msg and problem in msg


def test_owner_may_allow_max():
    assert allowed("SELECT MAX(income) FROM clients").min_group == 8


# -- recipients and DP marking -----------------------------------------------------------------
def test_rule_per_recipient_and_default():
    assert rule_for(POLICIES, "holdings", "amount", "fund").kind == "plaintext"
    assert rule_for(POLICIES, "holdings", "amount", "broker").dp_epsilon == 0.5
    allowed("SELECT amount FROM holdings", "fund")
    assert "holdings.amount" in refused("SELECT amount FROM holdings", "broker")


def test_dp_marked_aggregates_are_listed_for_noise():
    rep = allowed("SELECT fund_id, SUM(amount), AVG(amount) FROM holdings GROUP BY fund_id")
    assert [(d.column, d.function, d.epsilon, d.bounds) for d in rep.dp] == [
        ("amount", "sum", 0.5, (0.0, 1e6)), ("amount", "avg", 0.5, (0.0, 1e6))]
    assert rep.min_group == 3
    assert check_query("SELECT SUM(amount) FROM holdings", POLICIES, "fund").dp == []


@pytest.mark.parametrize("sql", [
    "SELECT COUNT(*) FROM holdings WHERE amount > 1000",      # un-noised count of a DP column
    "SELECT MAX(amount) FROM holdings",
    "SELECT COUNT(DISTINCT amount) FROM holdings",
])
def test_dp_marked_column_only_inside_noised_aggregates(sql):
    assert "differential privacy" in refused(sql)


# -- names, unknowns, unsupported --------------------------------------------------------------
@pytest.mark.parametrize("sql, text", [
    ("SELECT nosuch FROM clients", "no rule in any table"),
    ("SELECT COUNT(*) FROM secret_table", "table 'secret_table' has no column policy"),
    ("SELECT x.region FROM clients c", "no table 'x'"),
    ("SELECT region FROM (SELECT region FROM clients) t", "subqueries"),
    ("WITH t AS (SELECT region FROM clients) SELECT region FROM t", "CTEs"),
    ("SELECT region FROM clients UNION SELECT region FROM clients", "single SELECT"),
])
def test_unknown_or_uncheckable_is_refused(sql, text):
    assert text in refused(sql)


def test_unlisted_recipient_without_default_is_refused():
    pol = {"t": {"x": {"fund": "plaintext"}}}
    with pytest.raises(PolicyRefused, match="t.x as output .*no rule for 'broker'"):
        check_query("SELECT x FROM t", pol, "broker")
    check_query("SELECT x FROM t", pol, "fund")


def test_star_expands_to_every_column():
    msg = refused("SELECT * FROM clients")
    for col in ("id", "assets", "income", "age", "phone"):
        assert f"clients.{col} as output" in msg


def test_ambiguous_column_is_refused():
    pol = {"a": {"k": "plaintext", "v": "plaintext"}, "b": {"k": "plaintext", "v": "plaintext"}}
    with pytest.raises(PolicyRefused, match="'v' is ambiguous"):
        check_query("SELECT v FROM a JOIN b ON a.k = b.k", pol, "broker")


@pytest.mark.parametrize("spec, text", [
    ("public", "unknown column rule"),
    ({"rule": "plaintext_after_aggregate", "min_group": -1}, "min_group"),
    ({"rule": "plaintext", "dp_epsilon": 1.0}, "dp_epsilon needs"),
    ({"rule": "plaintext_after_aggregate", "dp_epsilon": 1.0}, "bounds"),
    ({"rule": "plaintext_after_aggregate", "dp_epsilon": 0, "bounds": [0, 1]}, "positive"),
    ({"rule": "plaintext_after_aggregate", "aggregates": ["mode"]}, "unknown aggregate"),
    ({"rule": "plaintext", "colour": 1}, "a column rule is"),
])
def test_bad_rules_are_named(spec, text):
    with pytest.raises(ValueError, match=text):
        ColumnRule.of(spec)


# -- the catalog's column policy ---------------------------------------------------------------
@pytest.fixture
def node(tmp_path):
    from yinji.node.identity import init_node
    from yinji.node.node import Node

    home = tmp_path / "n"
    init_node(home, "securities")
    (home / "data").mkdir()
    (home / "data" / "c.csv").write_text("id,region,assets\nG1,n,10.5\nG2,s,20\n")
    node = Node(home)
    yield node
    node.store.close()


SCHEMA = {"id": "string", "region": "string", "assets": "float"}


def test_catalog_rules_feed_the_checker(node):
    from yinji.node.catalog import Dataset, PolicyRule

    rules = [PolicyRule(columns=["region"], protocols=["sql"], sql="plaintext"),
             PolicyRule(columns=["assets"], protocols=["sql"],
                        sql={"rule": "plaintext_after_aggregate", "min_group": 5}),
             PolicyRule(columns=["assets"], peers=["fund"], protocols=["sql"], sql="plaintext"),
             PolicyRule(columns=["id"], protocols=["mpc.aggregate"])]       # not for SQL
    node.catalog.register(Dataset("clients", "csv", "data/c.csv", SCHEMA, rules), by="t")
    ds = node.catalog.get("clients")                      # as stored and read back
    pol = {"clients": ds.sql_policy()}
    assert pol["clients"]["assets"] == {"*": {"rule": "plaintext_after_aggregate",
                                              "min_group": 5}, "fund": "plaintext"}
    assert check_query("SELECT region, SUM(assets) FROM clients GROUP BY region", pol,
                       "broker").min_group == 5
    check_query("SELECT assets FROM clients", pol, "fund")
    with pytest.raises(PolicyRefused, match="clients.assets as output"):
        check_query("SELECT assets FROM clients", pol, "broker")
    with pytest.raises(PolicyRefused, match="column 'id' has no rule"):
        check_query("SELECT COUNT(DISTINCT id) FROM clients", pol, "broker")
    assert node.catalog.check("clients", ["region", "assets"], "sql", ["broker"]) == []


@pytest.mark.parametrize("rules, text", [
    ([{"columns": ["assets"], "sql": "public"}], "SQL rule of column.s. assets: unknown column rule"),
    ([{"columns": ["assets"], "sql": {"rule": "plaintext", "dp_epsilon": 1}}], "dp_epsilon"),
    ([{"columns": ["assets"], "sql": "plaintext"},
      {"columns": ["*"], "sql": "encrypted_only"}], "two SQL rules for column 'assets'"),
])
def test_catalog_refuses_bad_sql_rules_and_stores_nothing(node, rules, text):
    from yinji.node.catalog import CatalogError, Dataset, PolicyRule

    with pytest.raises(CatalogError, match=text):
        node.catalog.register(Dataset("clients", "csv", "data/c.csv", SCHEMA,
                                      [PolicyRule(**r) for r in rules]), by="t")
    assert node.store.dataset("clients") is None


def test_sql_rules_over_the_rest_api(node):
    from fastapi.testclient import TestClient

    from yinji.node.api import create_app

    client = TestClient(create_app(node))
    op = {"Authorization": f"Bearer {node.add_token('op-1', 'operator')}"}
    rule = {"rule": "plaintext_after_aggregate", "min_group": 5, "dp_epsilon": 0.5,
            "bounds": [0, 1e6]}
    r = client.post("/datasets", headers=op, json={
        "id": "clients", "kind": "csv", "location": "data/c.csv", "schema": SCHEMA,
        "policy": [{"columns": ["assets"], "protocols": ["sql"], "sql": rule},
                   {"columns": ["region"], "protocols": ["sql"], "sql": "plaintext"}]})
    assert r.status_code == 201, r.text
    listed = client.get("/datasets", headers=op).json()
    assert listed[0]["policy"][0]["sql"] == rule
    assert node.catalog.get("clients").sql_policy()["assets"] == {"*": rule}
    bad = client.post("/datasets", headers=op, json={
        "id": "c2", "kind": "csv", "location": "data/c.csv", "schema": SCHEMA,
        "policy": [{"columns": ["assets"], "sql": "secret"}]})
    assert bad.status_code == 400 and "unknown column rule 'secret'" in bad.text


def test_conditions_inside_aggregates_are_reported_for_the_size_checks():
    rep = allowed("SELECT region, SUM(CASE WHEN age > 60 THEN assets ELSE 0 END), "
                  "COUNT(*) FROM clients WHERE age > 18 GROUP BY region")
    assert rep.aggregate_conditions == ["age > 60"]
    assert allowed("SELECT SUM(assets) FROM clients WHERE age > 18").aggregate_conditions == []


def test_engine_dialect_percentiles_are_aggregates():
    """The engine parses DuckDB-style SQL (quantile_disc, median): the checker too."""
    pol = {"t": {"g": "plaintext", "x": {"rule": "plaintext_after_aggregate",
                                         "aggregates": ["percentile"]}}}
    for fn in ("quantile_disc(x, 0.5)", "median(x)", "approx_quantile(x, 0.5)"):
        rep = check_query(f"select g, {fn} from t group by g", pol, "a")
        assert any("t.x as aggregate PERCENTILE" in c for c in rep.checks)
    with pytest.raises(PolicyRefused, match="does not allow SUM"):
        check_query("select sum(x) from t", pol, "a")


def test_each_owner_checks_its_own_tables():
    """At the clients owner's node the holdings table is another owner's: its columns are
    resolved and listed, not judged; the holdings owner judges them with its policy."""
    sql = ("SELECT h.fund_id, SUM(assets) FROM clients c JOIN holdings h ON c.id = h.cid "
           "GROUP BY h.fund_id")
    mine = {"clients": POLICIES["clients"]}
    theirs = {"holdings": POLICIES["holdings"]}
    rep = check_query(sql, mine, "broker", others={"holdings": ["cid", "fund_id", "amount"]})
    assert rep.min_group == 5
    assert "holdings.fund_id as output in SELECT: checked by the owner of 'holdings'" \
        in rep.checks
    rep2 = check_query(sql, theirs, "broker", others={"clients": ["id", "assets", "age"]})
    assert rep2.min_group == 0
    with pytest.raises(PolicyRefused, match="holdings.cid as output"):
        check_query("SELECT h.cid FROM clients c JOIN holdings h ON c.id = h.cid", theirs,
                    "broker", others={"clients": ["id"]})
    with pytest.raises(PolicyRefused, match="table 'holdings' has no column policy"):
        check_query(sql, mine, "broker")
    with pytest.raises(ValueError, match="both"):
        check_query(sql, mine, "broker", others={"clients": ["id"]})


def test_every_argument_of_an_aggregate_is_checked():
    pol = {"t": {"x": {"rule": "plaintext_after_aggregate", "aggregates": ["percentile"]},
                 "q": "encrypted_only"}}
    with pytest.raises(PolicyRefused, match="t.q as aggregate PERCENTILE"):
        check_query("select quantile_disc(x, q) from t", pol, "a")
