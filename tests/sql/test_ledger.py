"""The released-aggregate ledger: history per context, atomic release + budget spend, refusal
when exhausted (nothing recorded), concurrency, persistence, context normalisation -- on
SQLite and on PostgreSQL (a throw-away server, skipped where none can be started)."""

import threading

import pytest

from tests.node.conftest import new_pg_database, pg_server  # noqa: F401 - fixture
from yinji.sql.ledger import BudgetExhausted, LedgerError, context_key
from yinji.sql.ledger import Ledger as _Ledger

CTX = "clients JOIN holdings ON clients.id = holdings.cid"


_opened: list = []


def Ledger(*args, **kw):  # noqa: N802 - the class, each instance closed after its test
    _opened.append(led := _Ledger(*args, **kw))
    return led


@pytest.fixture(autouse=True)
def _close_ledgers():
    yield
    while _opened:
        _opened.pop().close()


@pytest.fixture(params=["sqlite", "postgres"])
def where(request, tmp_path):
    if request.param == "sqlite":
        return tmp_path / "ledger.sqlite"
    return new_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def ledger(where):
    led = Ledger(where)
    yield led
    led.close()


def test_history_is_per_context_in_order_without_duplicates(ledger):
    assert ledger.history(CTX) == []
    ledger.record(CTX, ["region = 'n'", "region = 's'"], "job1", datasets=["clients"])
    ledger.record("clients", ["TRUE"], "job2")
    ledger.record(CTX, ["region = 's'", "age > 3"], "job3")
    assert ledger.history(CTX) == ["region = 'n'", "region = 's'", "age > 3"]
    assert ledger.history("clients") == ["TRUE"]
    assert ledger.history("other") == []


def test_history_survives_a_restart(where):
    Ledger(where).record(CTX, ["TRUE"], "job1")
    assert Ledger(where).history(CTX) == ["TRUE"]


def test_budget_spend_and_exhaustion(ledger):
    with pytest.raises(BudgetExhausted, match="'clients' has no privacy budget"):
        ledger.spend("clients", 0.1)
    ledger.set_limit("clients", 1.0)
    assert ledger.spend("clients", 0.4, "j1").remaining == pytest.approx(0.6)
    ledger.spend("clients", 0.6, "j2")
    with pytest.raises(BudgetExhausted, match="spent 1 of 1, this query needs 0.1"):
        ledger.spend("clients", 0.1)
    assert ledger.budget("clients").spent == pytest.approx(1.0)
    ledger.set_limit("clients", 2.0)           # the owner raises it explicitly
    ledger.spend("clients", 0.5)


def test_release_and_spend_are_one_transaction(ledger):
    ledger.set_limit("clients", 1.0)
    ledger.set_limit("holdings", 0.2)
    with pytest.raises(BudgetExhausted, match="holdings"):
        ledger.record(CTX, ["TRUE"], "j1", epsilon={"clients": 0.5, "holdings": 0.5})
    assert ledger.history(CTX) == []                       # nothing released
    assert ledger.budget("clients").spent == 0.0           # nothing spent either
    ledger.record(CTX, ["TRUE"], "j2", epsilon={"clients": 0.5, "holdings": 0.2})
    assert ledger.history(CTX) == ["TRUE"]
    assert (ledger.budget("clients").spent, ledger.budget("holdings").spent) == (0.5, 0.2)


@pytest.mark.parametrize("kwargs, text", [
    ({"predicates": [""]}, "non-empty predicate"),
    ({"job": ""}, "job id"),
    ({"epsilon": {"clients": 0}}, "must be positive"),
    ({"epsilon": {"clients": -1.0}}, "must be positive"),
])
def test_bad_releases_are_refused_and_record_nothing(ledger, kwargs, text):
    ledger.set_limit("clients", 1.0)
    args = {"context": CTX, "predicates": ["TRUE"], "job": "j"} | kwargs
    with pytest.raises(LedgerError, match=text):
        ledger.record(**args)
    assert ledger.history(CTX) == [] and ledger.budget("clients").spent == 0.0


def test_max_cells_per_context(where):
    led = Ledger(where, max_cells=3)
    led.record(CTX, ["a = 1", "a = 2"], "j1")
    with pytest.raises(LedgerError, match="released 2 cells; 2 more would pass its limit 3"):
        led.record(CTX, ["a = 3", "a = 4"], "j2")
    led.record(CTX, ["a = 3"], "j3")
    assert led.history(CTX) == ["a = 1", "a = 2", "a = 3"]


def test_concurrent_spends_never_overspend(where):
    path = where
    Ledger(path).set_limit("clients", 1.0)
    ledgers = [Ledger(path) for _ in range(8)]      # separate engines, as separate processes
    ok, barrier = [], threading.Barrier(8)

    def spend(led, i):
        barrier.wait()
        try:
            led.record(CTX, [f"cell{i}"], f"j{i}", epsilon={"clients": 0.3})
            ok.append(i)
        except BudgetExhausted:
            pass

    threads = [threading.Thread(target=spend, args=(led, i)) for i, led in enumerate(ledgers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ok) == 3
    assert Ledger(path).budget("clients").spent == pytest.approx(0.9)
    assert len(Ledger(path).history(CTX)) == 3


def test_context_key_normalises_aliases_and_case():
    a = context_key("SELECT SUM(h.amount) FROM clients c JOIN holdings h ON c.id = h.cid "
                    "WHERE c.age > 3 GROUP BY c.region")
    b = context_key("select count(*) from CLIENTS join Holdings on CLIENTS.ID = HOLDINGS.CID")
    assert a == b == "FROM clients JOIN holdings ON clients.id = holdings.cid"
    assert context_key("SELECT 1 FROM clients") != a
    assert context_key("SELECT 1 FROM clients LEFT JOIN holdings ON clients.id = holdings.cid") \
        != a
    with pytest.raises(ValueError, match="FROM"):
        context_key("SELECT 1")
