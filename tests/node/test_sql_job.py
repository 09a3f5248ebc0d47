"""`sql.query` on three loopback nodes: a GROUP BY across companies equals the plaintext sum;
a column rule refuses the proposal naming the column; the N vs N-1 pair is refused by the
ledger's history (min_group); the `yinji sql` CLI path once; a DP-marked SUM spends each
owner's budget."""

import csv

import pytest

from yinji.cli.network import (
    SEGMENTS,
    clients,
    create_network,
    start_nodes,
    stop_nodes,
    wait_job,
)

pytestmark = pytest.mark.tls
TRIO = ["fund", "futures", "securities"]
TYPES = {"clients": {"customer_id": "string", "assets_cny": "decimal",
                     "segment": {"kind": "category", "categories": SEGMENTS}}}
POLICY = [{"columns": ["segment"], "protocols": ["sql"], "sql": "plaintext"},
          {"columns": ["customer_id"], "protocols": ["sql"], "sql": "plaintext_after_compare"},
          {"columns": ["assets_cny"], "protocols": ["sql"],
           "sql": {"rule": "plaintext_after_aggregate", "min_group": 5}}]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    root = tmp_path_factory.mktemp("sqlnet")
    create_network(root, TRIO, job_timeout=30,
                   policies={n: [{"protocols": ["sql.query"]}] for n in TRIO})
    start_nodes(root)
    apis = clients(root)
    schema = {"customer_id": "string", "segment": "string", "assets_cny": "float"}
    for name, api in apis.items():   # the same file as `customers`, with SQL column rules
        for ds in ("clients", "accounts", "positions"):   # fresh ledger contexts
            policy = POLICY
            if name == "securities" and ds == "positions":   # stricter here: no group key
                policy = [{**POLICY[0], "sql": "plaintext_after_compare"}, *POLICY[1:]]
            api.call("POST", "/datasets", json={"id": ds, "kind": "csv",
                                                "location": "data/customers.csv",
                                                "schema": schema, "policy": policy})
    yield root, apis
    for api in apis.values():
        api.close()
    stop_nodes(root)


def rows(root):
    out = []
    for n in TRIO:
        with open(root / n / "data" / "customers.csv", newline="") as fh:
            out += [(r["customer_id"], r["segment"], float(r["assets_cny"]))
                    for r in csv.DictReader(fh)]
    return out


def job(sql, recipient="fund", ds="clients"):
    return {"protocol": "sql.query",
            "inputs": {n: {"dataset": ds, "columns": list(TYPES["clients"])} for n in TRIO},
            "params": {"sql": sql, "types": {ds: TYPES["clients"]}}, "recipients": [recipient]}


def run(apis, sql, recipient="fund", ds="clients"):
    j = apis["securities"].call("POST", "/jobs", json=job(sql, recipient, ds))
    return j, wait_job(apis, j["id"], TRIO, timeout=90)


def test_group_by_across_companies_equals_plaintext(net):
    root, apis = net
    sql = "SELECT segment, COUNT(*) AS n, SUM(assets_cny) AS total FROM clients GROUP BY segment"
    j, views = run(apis, sql)
    assert all(v["state"] == "succeeded" for v in views.values()), views
    lines = j["sql_checks"]   # the approval view at the proposer, an owner
    assert lines[0] == f"query: {sql}" and "recipients: fund" in lines
    assert "minimum group size enforced: 5" in lines
    assert any("clients.assets_cny as aggregate SUM" in c for c in lines)
    res = apis["fund"].call("GET", f"/jobs/{j['id']}/result")["result"]
    want = {}
    for _, seg, amount in rows(root):
        n, s = want.get(seg, (0, 0.0))
        want[seg] = (n + 1, s + amount)
    got = {r[0]: (r[1], r[2]) for r in res["rows"]}
    assert set(got) == set(want)
    for seg, (n, s) in want.items():
        assert got[seg][0] == n and got[seg][1] == pytest.approx(s, rel=1e-6)
    assert res["min_group"] == 5
    # only the recipient holds the result
    assert not apis["securities"].call("GET", f"/jobs/{j['id']}")["has_result"]


def test_column_rule_refuses_at_proposal_naming_the_column(net):
    _, apis = net
    with pytest.raises(RuntimeError) as err:
        apis["securities"].call("POST", "/jobs", json=job(
            "SELECT customer_id, assets_cny FROM clients"))
    assert "clients.assets_cny as output in SELECT" in str(err.value)
    assert "plaintext_after_aggregate" in str(err.value)
    # at another owner: the proposal reaches it and is refused there, naming the column
    jb = job("SELECT segment, MAX(assets_cny) FROM clients GROUP BY segment")
    with pytest.raises(RuntimeError, match="does not allow MAX"):
        apis["fund"].call("POST", "/jobs", json=jb)
    # a rule only securities has: fund's proposal reaches securities, which refuses it
    jb = job("SELECT segment, SUM(assets_cny) FROM positions GROUP BY segment", ds="positions")
    j = apis["fund"].call("POST", "/jobs", json=jb)
    views = wait_job(apis, j["id"], TRIO, timeout=60)
    assert all(v["state"] == "rejected" for v in views.values()), views
    why = views["securities"]["reason"]
    assert "positions.segment as group_key in GROUP BY: rule plaintext_after_compare" in why
    assert any(ln.startswith("refused: ") for ln in views["securities"]["sql_checks"])
    assert not any(ln.startswith("refused: ") for ln in views["fund"]["sql_checks"])


def test_n_vs_n_minus_1_is_refused_by_the_ledger(net):
    from yinji.sql.ledger import Ledger, context_key

    root, apis = net
    target = rows(root)[0]
    base = "SELECT SUM(assets_cny) FROM {} WHERE segment = '" + target[1] + "'"
    minus = f" AND customer_id <> '{target[0]}'"
    # the N-1 query alone passes (on a context without history) ...
    _, alone = run(apis, base.format("positions") + minus, ds="positions")
    assert all(v["state"] == "succeeded" for v in alone.values()), alone
    # ... after N on the same context it is refused: each owner's ledger holds N's cell
    _, v1 = run(apis, base.format("clients"))
    assert all(v["state"] == "succeeded" for v in v1.values()), v1
    for n in TRIO:
        led = Ledger(root / n / "sql_ledger.sqlite")
        hist = led.history(context_key(base.format("clients")))
        assert hist[-1] == f"(segment = '{target[1]}')"   # after the GROUP BY test's cells
        led.close()
    j2, v2 = run(apis, base.format("clients") + minus)
    assert all(v["state"] == "failed" for v in v2.values()), v2
    assert "differenced with earlier released cells" in v2["securities"]["reason"], v2
    assert not apis["fund"].call("GET", f"/jobs/{j2['id']}")["has_result"]


def test_cli_proposes_and_prints_the_table(net, capsys, tmp_path):
    from yinji.cli.main import main

    root, apis = net
    api = apis["fund"]
    tok = tmp_path / "tok"
    tok.write_text(api.tokens["operator"])
    code = main(["sql", "SELECT segment, COUNT(*) AS n FROM accounts WHERE assets_cny > 1000 "
                 "GROUP BY segment",
                 *[a for n in TRIO for a in ("--table", f"{n}:accounts")],
                 "--type", "accounts.segment=category:" + ",".join(SEGMENTS),
                 "--type", "accounts.assets_cny=decimal", "--recipient", "fund", "--wait",
                 "--format", "csv", "--api", api.url, "--api-ca", api.ca,
                 "--token-file", str(tok)])
    out = capsys.readouterr()
    assert code == 0, out.err
    lines = out.out.strip().splitlines()
    assert lines[0] == "segment,n"
    want = {}
    for _, seg, amount in rows(root):
        if amount > 1000:
            want[seg] = want.get(seg, 0) + 1
    got = {ln.split(",")[0]: int(ln.split(",")[1]) for ln in lines[1:]}
    assert got == {s: n for s, n in want.items() if n >= 5}


def test_dp_marked_sum_spends_each_budget_and_the_next_is_refused_at_proposal(net):
    """A DP-marked column on real nodes: refused without a budget, runs once
    `yinji sql-budget` sets one (each owner's ledger spends the job's epsilon; the result is
    the clipped sum within the noise), and the next query past the budget is refused at
    proposal naming the dataset and what remains."""
    from yinji.cli.main import main as cli
    from yinji.node.sql_runner import budget

    root, apis = net
    dp = {**POLICY[2], "sql": {"rule": "plaintext_after_aggregate", "min_group": 5,
                               "dp_epsilon": 1e6, "bounds": [0, 1e9]}}
    schema = {"customer_id": "string", "segment": "string", "assets_cny": "float"}
    for api in apis.values():
        api.call("POST", "/datasets", json={"id": "dpclients", "kind": "csv",
                                            "location": "data/customers.csv", "schema": schema,
                                            "policy": [*POLICY[:2], dp]})
    sql = "SELECT segment, SUM(assets_cny) AS total FROM dpclients GROUP BY segment"
    with pytest.raises(RuntimeError, match="dataset 'dpclients' has no privacy budget"):
        apis["securities"].call("POST", "/jobs", json=job(sql, ds="dpclients"))
    for n in TRIO:
        assert cli(["sql-budget", "dpclients", "1.5e6", "--home", str(root / n)]) == 0
    j, views = run(apis, sql, ds="dpclients")
    assert all(v["state"] == "succeeded" for v in views.values()), views
    assert "privacy budget: the query spends epsilon 1e+06 of dataset 'dpclients'" in \
        j["sql_checks"]
    res = apis["fund"].call("GET", f"/jobs/{j['id']}/result")["result"]
    want = {}
    for _, seg, amount in rows(root):
        want[seg] = want.get(seg, 0.0) + min(max(amount, 0.0), 1e9)
    # D = 1e9, epsilon 1e6: t = 1000 real units per share, sd sqrt(3 * 2 t^2) ~ 2450; three
    # Laplace draws have exponential tails: P(|e| > 12 sd) ~ 2e-11
    assert {r[0] for r in res["rows"]} == set(want) and res["noised"] == ["total"]
    for seg, total in res["rows"]:
        assert total == pytest.approx(want[seg], abs=12 * 2450)
    assert [budget(root / n, "dpclients").spent for n in TRIO] == [1e6] * 3
    with pytest.raises(RuntimeError, match="privacy budget of dataset 'dpclients' would be "
                                           "exceeded: the query needs epsilon 1e\\+06, 500000"):
        apis["securities"].call("POST", "/jobs", json=job(sql, ds="dpclients"))
