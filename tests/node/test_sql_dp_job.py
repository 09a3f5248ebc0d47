"""`sql.query` with DP-marked columns, in process: the owner's check names an unusable DP use
and a missing or too small budget; a noised SUM runs near the clipped plaintext; every owner's
ledger spends the job's epsilon before computing; a job past the budget is refused before
anything is computed, naming the dataset and what remains; `yinji sql-budget` sets a budget."""

from types import SimpleNamespace

import numpy as np
import pytest

from yinji.cli.main import main as cli
from yinji.node.catalog import Dataset, PolicyRule
from yinji.node.sql_runner import LEDGER_FILE, SqlQueryRunner, budget
from yinji.sql.ledger import Ledger, context_key

from .test_sql_runner import OWNERS, POLICY, control, data, run, spec

R = SqlQueryRunner()
BOUNDS = [-1e5, 1e6]
SQL = "SELECT seg, SUM(v) FROM t GROUP BY seg"


def dp_catalog(home=None, epsilon=1e6):
    rule = {"rule": "plaintext_after_aggregate", "min_group": 2, "dp_epsilon": epsilon,
            "bounds": BOUNDS}
    pol = [POLICY[0], PolicyRule(["v"], sql=rule, protocols=["sql"]), POLICY[2]]
    ds = Dataset("t", "csv", "data/t.csv", {"seg": "string", "v": "float", "id": "string"}, pol)
    return SimpleNamespace(get=lambda _id: ds, home=home)


def set_budgets(tmp_path, limit, owners=OWNERS):
    for n in owners:
        (tmp_path / n).mkdir(parents=True, exist_ok=True)
        led = Ledger(tmp_path / n / LEDGER_FILE)
        led.set_limit("t", limit)
        led.close()


def spent(tmp_path, n):
    led = Ledger(tmp_path / n / LEDGER_FILE)
    try:
        b = led.budget("t")
        return None if b is None else b.spent
    finally:
        led.close()


def test_owner_check_names_dp_problems_and_the_budget(tmp_path):
    home = tmp_path / "p2"
    home.mkdir()
    cat = dp_catalog(home)
    [why] = R.owner_check(cat, "p2", spec(SQL))
    assert why == "dataset 't' has no privacy budget: its owner sets one with " \
                  "`yinji sql-budget t EPSILON`"
    set_budgets(tmp_path, 1.5e6, ["p2"])
    assert R.owner_check(cat, "p2", spec(SQL)) == []
    [why] = R.owner_check(cat, "p2", spec("SELECT seg, SUM(v), AVG(v) FROM t GROUP BY seg"))
    assert why == ("privacy budget of dataset 't' would be exceeded: the query needs epsilon "
                   "2e+06, 1.5e+06 of 1.5e+06 remains")
    [why] = R.owner_check(cat, "p2", spec("SELECT seg, SUM(v) * 2 FROM t GROUP BY seg"))
    assert "computes on the DP-marked aggregate SUM(v)" in why
    [why] = R.owner_check(cat, "p2", spec("SELECT seg, v FROM t"))
    assert "marks the column for differential privacy" in why
    lines = R.approval_lines(cat, "p2", spec(SQL))
    assert "noise: SUM(t.v) epsilon 1e+06 bounds [-100000.0, 1000000.0]" in lines
    assert lines[-1] == "privacy budget: the query spends epsilon 1e+06 of dataset 't'"


def test_dp_sum_runs_spends_each_owners_budget_then_refuses_past_it(tmp_path, monkeypatch):
    rng = np.random.default_rng(3)
    inputs = {n: data(rng, k) for n, k in zip(OWNERS, (7, 4, 6), strict=True)}
    for d in inputs.values():                              # every group has >= 3 rows
        d["seg"][:3] = ["a", "b", "c"]
    inputs["p1"]["v"][0] = 5e7                            # clipped to 1e6
    cats = {n: dp_catalog(tmp_path / n) for n in OWNERS}
    set_budgets(tmp_path, 1.5e6)
    sp = spec(SQL, recipients=("p4",))
    got = run(tmp_path, sp, inputs, catalogs=cats)
    res = got["p4"][0]
    assert res["noised"] == res["columns"][1:] == ["col1"] and res["epsilon"] == {"t": 1e6}
    want = {}
    for d in inputs.values():
        for s, v in zip(d["seg"], d["v"], strict=True):
            want[s] = want.get(s, 0.0) + float(np.clip(v, *BOUNDS))
    # epsilon 1e6, D = 1e6: t = 1 real unit per share, sd ~ 2.45; 40 is > 16 sd (P < 1e-15)
    assert {r[0] for r in res["rows"]} == {"a", "b", "c"}
    for seg, total in res["rows"]:
        assert total == pytest.approx(want[seg], abs=40)
    for n in OWNERS:
        assert spent(tmp_path, n) == pytest.approx(1e6)
        led = Ledger(tmp_path / n / LEDGER_FILE)
        assert len(led.history(context_key(SQL))) == len(res["rows"])
        led.close()

    calls = []
    import yinji.sql.engine as engine
    real = engine.execute
    monkeypatch.setattr(engine, "execute", lambda *a, **k: calls.append(1) or real(*a, **k))
    sp2 = spec(SQL, recipients=("p4",))
    sp2["id"] = "2" * 32
    with pytest.raises(Exception, match="p1: privacy budget of dataset 't' would be exceeded: "
                                        "the query needs epsilon 1e\\+06, 500000 of 1.5e\\+06"):
        run(tmp_path, sp2, inputs, catalogs=cats)
    assert calls == []                                     # refused before computing
    assert [spent(tmp_path, n) for n in OWNERS] == [pytest.approx(1e6)] * 3


def test_a_spend_that_fails_at_run_start_stops_every_party(tmp_path, monkeypatch):
    """The pre-check passed (patched here: a concurrent job spent in between); p3's atomic
    spend fails, so no party computes and p3 spends nothing (p1, p2 over-count: fail-safe)."""
    rng = np.random.default_rng(4)
    inputs = {n: data(rng, 5) for n in OWNERS}
    cats = {n: dp_catalog(tmp_path / n) for n in OWNERS}
    set_budgets(tmp_path, 1.5e6, ["p1", "p2"])
    set_budgets(tmp_path, 0.5e6, ["p3"])
    monkeypatch.setattr("yinji.node.sql_runner.budget_problem", lambda *a: None)
    with pytest.raises(Exception, match="p3: privacy budget of dataset 't' exhausted"):
        run(tmp_path, spec(SQL, recipients=("p4",)), inputs, catalogs=cats)
    assert spent(tmp_path, "p3") == 0.0
    assert spent(tmp_path, "p1") == pytest.approx(1e6)


def test_dp_control_messages_do_not_depend_on_values(tmp_path):
    """Apart from shares (the noise shares among them), p2 receives the agreed counts, history,
    DP rules and the refusal round: equal for two data sets of the same sizes."""
    views = []
    for seed in (1, 2):
        rng = np.random.default_rng(seed)
        inputs = {n: data(rng, 9) for n in OWNERS}
        for d in inputs.values():
            d["seg"][:3] = ["a", "b", "c"]
        home = tmp_path / str(seed)
        set_budgets(home, 1e7)
        cats = {n: dp_catalog(home / n) for n in OWNERS}
        got = run(home, spec(SQL, recipients=("p1",)), inputs, watch="p2", catalogs=cats)
        views.append([m for _, m in got["p2"][1] if control(m)])
    assert views[0] == views[1] and any(b'"dp"' in m for m in views[0])


def test_sql_budget_cli_sets_and_shows(tmp_path, capsys):
    (tmp_path / "node.yaml").write_text("name: p1\n")
    assert cli(["sql-budget", "t", "2.5", "--home", str(tmp_path)]) == 0
    assert "dataset 't': epsilon limit 2.5, spent 0, remaining 2.5" in capsys.readouterr().out
    assert budget(tmp_path, "t").limit == 2.5
    assert cli(["sql-budget", "u", "--home", str(tmp_path)]) == 0
    assert "has no privacy budget" in capsys.readouterr().out
    assert cli(["sql-budget", "t", "-1", "--home", str(tmp_path)]) == 1
    assert "must be >= 0" in capsys.readouterr().err
    assert budget(tmp_path, "t").limit == 2.5                 # a refused change changes nothing
    assert cli(["sql-budget", "t", "1", "--home", str(tmp_path / "nope")]) == 1
    assert "is not a node folder" in capsys.readouterr().err
