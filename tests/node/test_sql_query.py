"""SQL datasets defined by a query: the rows and columns the query names, against a
plaintext oracle; read-only (nothing a query does can change the source); one statement."""

import sqlite3

import numpy as np
import pytest
import yaml
from fastapi.testclient import TestClient

from yinji.node.api import create_app
from yinji.node.identity import init_node
from yinji.node.node import Node


@pytest.fixture
def node(tmp_path):
    home = tmp_path / "n"
    init_node(home, "securities")
    (home / "data").mkdir()
    rng = np.random.default_rng(3)
    rows = [(f"G{i}", ["retail", "private", "x"][int(rng.integers(3))],
             float(np.round(rng.uniform(-1e6, 1e9), 2))) for i in range(200)]
    rows += [("G0", "retail", 5.0)]                      # a duplicate ID
    with sqlite3.connect(home / "data" / "crm.sqlite") as conn:
        conn.execute("CREATE TABLE clients (customer_id TEXT, segment TEXT, assets REAL)")
        conn.executemany("INSERT INTO clients VALUES (?, ?, ?)", rows)
    cfg = yaml.safe_load((home / "node.yaml").read_text())
    cfg["sql_sources"] = {"crm": f"sqlite:///{home / 'data' / 'crm.sqlite'}"}
    (home / "node.yaml").write_text(yaml.safe_dump(cfg))
    n = Node(home)
    n.rows = rows
    yield n
    n.store.close()


def register(node, query, schema=None, id="q"):
    client = TestClient(create_app(node))
    token = node.add_token(f"ops-{id}", "operator")
    return client.post("/datasets", headers={"Authorization": f"Bearer {token}"}, json={
        "id": id, "kind": "sql", "location": "crm", "table": query,
        "schema": schema or {"customer_id": "string", "assets": "float"}})


def source_rows(node):
    with sqlite3.connect(node.home / "data" / "crm.sqlite") as conn:
        return conn.execute("SELECT * FROM clients").fetchall()


def test_query_dataset_reads_exactly_the_rows_it_names(node):
    q = "SELECT customer_id, assets * 1.0 AS assets FROM clients WHERE segment <> 'x' " \
        "AND assets > 0"
    r = register(node, q)
    assert r.status_code == 201, r.text
    got = node.catalog.load("q", ["customer_id", "assets"])
    want = [(c, a) for c, s, a in node.rows if s != "x" and a > 0]
    assert sorted(zip(got["customer_id"].tolist(), got["assets"].tolist(), strict=True)) == \
        sorted(want)
    assert node.catalog.count_rows(node.catalog.get("q")) == len(want)
    # a query that names no row is a dataset with no rows
    assert register(node, "SELECT customer_id, assets FROM clients WHERE 1 = 0",
                    id="none").status_code == 201
    assert node.catalog.load("none", ["customer_id"])["customer_id"].size == 0


def test_a_query_cannot_write_or_run_two_statements(node):
    before = source_rows(node)
    r = register(node, "SELECT customer_id, assets FROM clients; DROP TABLE clients")
    assert r.status_code == 400 and "without ';'" in r.text
    r = register(node, "WITH d AS (DELETE FROM clients RETURNING *) SELECT customer_id, "
                       "assets FROM d")
    assert r.status_code == 400                      # refused by the database, read-only
    r = register(node, "DELETE FROM clients")          # not a query: a table name that is not
    assert r.status_code == 400
    assert source_rows(node) == before                # nothing changed
    r = register(node, "SELECT customer_id FROM clients")   # schema names a missing column
    assert r.status_code == 400 and "assets" in r.text
