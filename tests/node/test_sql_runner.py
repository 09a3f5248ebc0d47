"""`sql.query` runner in process: validation names the problem, the owner's column policy
refuses with the column and rule, a declared type must match
the catalog; a run over in-memory channels equals the plaintext; the control messages an
owner receives depend on row counts, history and released cells only, not on values."""

import copy
import json
from types import SimpleNamespace

import numpy as np
import pytest

from yinji.node.catalog import Dataset, PolicyRule
from yinji.node.runners import RunContext
from yinji.node.sql_runner import SqlQueryRunner
from yinji.sql.ledger import Ledger, context_key
from yinji.testing.parties import record_received, run_parties

R = SqlQueryRunner()
SEG = ["a", "b", "c"]
TYPES = {"t": {"seg": {"kind": "category", "categories": SEG}, "v": "decimal", "id": "string"}}
AGG = {"rule": "plaintext_after_aggregate", "min_group": 2}
POLICY = [PolicyRule(["seg"], sql="plaintext", protocols=["sql"]),
          PolicyRule(["v"], sql=AGG, protocols=["sql"]),
          PolicyRule(["id"], sql="plaintext_after_compare", protocols=["sql"])]
OWNERS = ["p1", "p2", "p3"]


def spec(sql="SELECT seg, SUM(v) FROM t GROUP BY seg", recipients=("p1",), **params):
    return {"id": "0" * 32, "protocol": "sql.query", "proposer": "p1",
            "inputs": {n: {"dataset": "t", "columns": ["seg", "v", "id"]} for n in OWNERS},
            "params": {"sql": sql, "types": copy.deepcopy(TYPES), **params}, "recipients": list(recipients),
            "created": 1.0}


def catalog(policy=POLICY, schema=None):
    ds = Dataset("t", "csv", "data/t.csv", schema or {"seg": "string", "v": "float",
                                                      "id": "string"}, policy)
    return SimpleNamespace(get=lambda _id: ds)


def test_validate_names_the_problem():
    assert R.validate(spec()) == []
    assert "exactly one recipient" in " ".join(R.validate(spec(recipients=("p1", "p2"))))
    bad = spec()
    del bad["params"]["types"]["t"]["v"]
    assert "params.types.t must declare the type of ['v']" in R.validate(bad)
    assert any("unsupported" in p or "LIKE" in p
               for p in R.validate(spec("SELECT COUNT(*) FROM t WHERE id LIKE 'G%'")))
    assert any("unknown column" in p for p in R.validate(spec("SELECT SUM(w) FROM t")))
    assert "params.compute must name three" in R.validate(spec(compute=["p1", "p2"]))[0]
    assert R.validate(spec(colour=1)) == ["unknown params for sql.query: ['colour']"]
    assert "GROUP BY seg must also be in the SELECT list" in R.validate(
        spec("SELECT SUM(v) FROM t GROUP BY seg"))[0]
    assert R.validate(spec("SELECT seg AS s, SUM(v) FROM t GROUP BY seg")) == []
    assert R.validate(spec(keys={"t": "nope"})) == [
        "params.keys.t: 'nope' is not an input column of 't'"]
    assert "cannot declare a unique key" in R.validate(spec(keys={"t": "id"}))[0]


def test_owner_check_refuses_naming_column_and_rule():
    cat = catalog()
    assert R.owner_check(cat, "p2", spec()) == []
    [why] = R.owner_check(cat, "p2", spec("SELECT seg, v FROM t"))
    assert "t.v as output in SELECT: rule plaintext_after_aggregate, min group 2" in why
    lines = R.approval_lines(cat, "p2", spec())
    assert lines[:3] == ["query: SELECT seg, SUM(v) FROM t GROUP BY seg", "recipients: p1",
                         "minimum group size enforced: 2"]
    dp = [POLICY[0], PolicyRule(["v"], protocols=["sql"], sql={**AGG, "dp_epsilon": 1.0,
                                                              "bounds": [0, 10]})]
    assert R.owner_check(catalog(dp), "p2", spec()) == []   # noised (tests/node/test_sql_dp_job.py)
    [why] = R.owner_check(catalog(schema={"seg": "float", "v": "float", "id": "string"}),
                          "p2", spec())
    assert "t.seg is float in the catalog of p2; it cannot be declared category" in why
    assert R.owner_check(cat, "outsider", spec()) == []   # not an owner: nothing to check


def test_catalog_sql_rules_cover_only_sql_jobs():
    assert POLICY[1].covers("v", ["p2", "p3"], "sql.query")
    assert not PolicyRule(["v"], protocols=["*"]).covers("v", ["p2"], "sql.query")
    assert not POLICY[1].covers("v", ["p2"], "mpc.aggregate")


def data(rng, n):
    return {"seg": np.array(rng.choice(SEG, n), dtype=object),
            "v": np.round(rng.uniform(-1e5, 1e6, n), 2),
            "id": np.array([f"G{i}" for i in rng.permutation(n)], dtype=object)}


def run(tmp_path, sp, inputs, watch=None, catalogs=None):
    cat = catalog()

    def body(party, me):
        home = tmp_path / me
        home.mkdir(parents=True, exist_ok=True)
        view = record_received(party) if me == watch else None
        ctx = RunContext(sp, me, party, inputs.get(me), lambda f, s: None, home,
                         node=SimpleNamespace(catalog=(catalogs or {}).get(me, cat)))
        out = R.run(ctx)
        return out, view

    names = R.compute_parties(sp)
    return dict(zip(names, run_parties(body, names=names, args=[(n,) for n in names]),
                    strict=True))


def plain(inputs, keep=lambda r: True):
    out = {}
    for d in inputs.values():
        for s, v, i in zip(d["seg"], d["v"], d["id"], strict=True):
            if keep((s, v, i)):
                n, t = out.get(s, (0, 0.0))
                out[s] = (n + 1, t + v)
    return out


def test_run_equals_plaintext_and_records_at_owners(tmp_path):
    rng = np.random.default_rng(7)
    inputs = {n: data(rng, k) for n, k in zip(OWNERS, (9, 1, 6), strict=True)}
    sp = spec("SELECT seg, COUNT(*), SUM(v) FROM t WHERE v > 0 GROUP BY seg",
              recipients=("p4",))
    got = run(tmp_path, sp, inputs)
    want = plain(inputs, lambda r: r[1] > 0)
    res = got["p4"][0]
    assert {r[0] for r in res["rows"]} | {r[0] for r in res["suppressed"]} <= set(SEG)
    for seg, n, total in res["rows"]:
        assert n == want[seg][0] >= 2 and total == pytest.approx(want[seg][1], abs=1e-3)
    assert {s for s, (n, _) in want.items() if n >= 2} == {r[0] for r in res["rows"]}
    assert all(got[n][0] is None for n in OWNERS)
    for n in OWNERS:   # each owner recorded the released cells
        led = Ledger(tmp_path / n / "sql_ledger.sqlite")
        assert sorted(led.history(context_key(sp["params"]["sql"]))) == sorted(
            f"(v > 0) AND seg = '{r[0]}'" for r in res["rows"])
        led.close()


def control(m):
    """A JSON control message (the runner's), not the engine's shares or seeds."""
    if not isinstance(m, bytes) or m[:1] not in (b"{", b"["):
        return False
    try:
        json.loads(m)
    except ValueError:
        return False
    return True


def test_owner_control_messages_do_not_depend_on_values(tmp_path):
    """p2 is a compute party and an owner: apart from shares, it receives the agreed row
    counts / history / min_group and the released cells' predicates, equal for two data sets
    of the same sizes whose released groups are the same."""
    sp = spec("SELECT seg, COUNT(*) FROM t GROUP BY seg", recipients=("p1",))
    views = []
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        inputs = {n: data(rng, 12) for n in OWNERS}
        for d in inputs.values():   # every group present in both data sets
            d["seg"][:3] = SEG
        got = run(tmp_path / str(seed), sp, inputs, watch="p2")
        views.append([m for _, m in got["p2"][1] if control(m)])
    assert views[0] == views[1] and len(views[0]) >= 2


def test_history_over_undeclared_columns_fails_clearly(tmp_path):
    """An earlier release filtered on `id`; a job that does not declare `id` cannot be
    checked against it, and fails before computing (nothing recorded)."""
    rng = np.random.default_rng(5)
    inputs = {n: data(rng, 8) for n in OWNERS}
    sql = "SELECT seg, COUNT(*) FROM t GROUP BY seg"
    (tmp_path / "p3").mkdir()
    led = Ledger(tmp_path / "p3" / "sql_ledger.sqlite")
    led.record(context_key(sql), ["(id <> 'G1')"], "earlier")
    led.close()
    sp = spec(sql)
    for i in sp["inputs"].values():
        i["columns"] = ["seg", "v"]
    del sp["params"]["types"]["t"]["id"]
    with pytest.raises(Exception, match="earlier released cell.*declare the columns"):
        run(tmp_path, sp, {n: {k: d[k] for k in ("seg", "v")} for n, d in inputs.items()})
    led = Ledger(tmp_path / "p1" / "sql_ledger.sqlite")
    assert led.history(context_key(sql)) == []
    led.close()


def test_join_of_two_owners_with_a_helper_equals_plaintext(tmp_path):
    """holdings at p1 JOIN clients (unique cid) at p2; p3 computes without data."""
    rng = np.random.default_rng(11)
    regions = ["north", "south"]
    cids = np.array([f"C{i}" for i in range(10)], dtype=object)
    clients = {"cid": cids, "region": np.array(rng.choice(regions, 10), dtype=object)}
    holdings = {"cid": np.array(rng.choice(np.append(cids, ["X1", "X2"]), 15), dtype=object),
                "amount": np.round(rng.uniform(0, 1e5, 15), 2)}
    sql = ("SELECT c.region, COUNT(*), SUM(h.amount) FROM h JOIN c ON h.cid = c.cid "
           "GROUP BY c.region")
    sp = {"id": "1" * 32, "protocol": "sql.query", "proposer": "p1",
          "inputs": {"p1": {"dataset": "h", "columns": ["cid", "amount"]},
                     "p2": {"dataset": "c", "columns": ["cid", "region"]}},
          "helpers": ["p3"],
          "params": {"sql": sql, "compute": ["p1", "p2", "p3"], "keys": {"c": "cid"},
                     "types": {"h": {"cid": "string", "amount": "decimal"},
                               "c": {"cid": "string",
                                     "region": {"kind": "category", "categories": regions}}}},
          "recipients": ["p1"], "created": 1.0}
    assert R.validate(sp) == []
    cats = {"p1": SimpleNamespace(get=lambda _: Dataset("h", "csv", "x", {
                "cid": "string", "amount": "float"}, [
                PolicyRule(["cid"], sql="plaintext_after_join", protocols=["sql"]),
                PolicyRule(["amount"], sql=AGG, protocols=["sql"])])),
            "p2": SimpleNamespace(get=lambda _: Dataset("c", "csv", "x", {
                "cid": "string", "region": "string"}, [
                PolicyRule(["cid"], sql="encrypted_only", protocols=["sql"]),
                PolicyRule(["region"], sql="plaintext", protocols=["sql"])]))}
    assert R.owner_check(cats["p1"], "p1", sp) == [] == R.owner_check(cats["p2"], "p2", sp)
    got = run(tmp_path, sp, {"p1": holdings, "p2": clients}, catalogs=cats)
    region = dict(zip(clients["cid"], clients["region"], strict=True))
    want = {}
    for cid, amount in zip(holdings["cid"], holdings["amount"], strict=True):
        if cid in region:
            n, t = want.get(region[cid], (0, 0.0))
            want[region[cid]] = (n + 1, t + amount)
    res = got["p1"][0]
    assert {r[0] for r in res["rows"]} == {g for g, (n, _) in want.items() if n >= 2}
    for g, n, total in res["rows"]:
        assert n == want[g][0] and total == pytest.approx(want[g][1], abs=1e-2)
    assert got["p2"][0] is None and got["p3"][0] is None
