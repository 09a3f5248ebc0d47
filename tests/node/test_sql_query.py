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


def test_sql_datasets_read_in_chunks_equal_the_loaded_columns(node):
    """`catalog.sql_stream` (streamed linkage jobs): a query dataset and a table dataset read
    from a server-side cursor in chunks, equal to `load` row for row; NULL is ""."""
    with sqlite3.connect(node.home / "data" / "crm.sqlite") as conn:
        conn.execute("INSERT INTO clients VALUES ('G900', NULL, 12.5)")
    q = "SELECT customer_id, segment FROM clients WHERE assets > 0"
    schema = {"customer_id": "string", "segment": "string"}
    assert register(node, q, schema).status_code == 201
    assert register(node, "clients", schema, id="t").status_code == 201
    for ds in ("q", "t"):
        cols = ["segment", "customer_id"]
        stream = node.catalog.sql_stream(ds, cols, chunk_rows=7)
        chunks = list(stream.chunks)
        assert stream.header == cols and len(chunks) > 1 and max(map(len, chunks)) == 7
        got = [r for c in chunks for r in c]
        loaded = node.catalog.load(ds, cols)
        assert got == [list(r) for r in zip(*(loaded[c].tolist() for c in cols), strict=True)]
        assert ["", "G900"] in got
    with pytest.raises(Exception, match="no column"):
        node.catalog.sql_stream("q", ["nope"])
    # a query that names no row: no chunk at all; one row: one chunk of one
    for ds, q, want in (("e0", "SELECT customer_id, segment FROM clients WHERE 1 = 0", []),
                        ("e1", "SELECT customer_id, segment FROM clients WHERE "
                               "customer_id = 'G900'", [[["G900", ""]]])):
        assert register(node, q, schema, id=ds).status_code == 201
        assert list(node.catalog.sql_stream(ds, ["customer_id", "segment"]).chunks) == want


def test_sql_stream_on_postgresql_uses_a_read_only_server_side_cursor(tmp_path, pg_server):
    import sqlalchemy as sa

    from tests.node.conftest import new_pg_database

    url = new_pg_database(pg_server).replace("postgresql://", "postgresql+psycopg://")
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE clients (customer_id TEXT, segment TEXT)"))
        conn.execute(sa.text("INSERT INTO clients SELECT 'G' || i, CASE WHEN i % 3 = 0 THEN "
                             "NULL ELSE 'retail' END FROM generate_series(1, 50) AS i"))
    engine.dispose()
    home = tmp_path / "n"
    init_node(home, "securities")
    cfg = yaml.safe_load((home / "node.yaml").read_text())
    cfg["sql_sources"] = {"crm": url}
    (home / "node.yaml").write_text(yaml.safe_dump(cfg))
    n = Node(home)
    try:
        schema = {"customer_id": "string", "segment": "string"}
        q = "SELECT customer_id, segment FROM clients WHERE customer_id <> 'G7'"
        assert register(n, q, schema).status_code == 201
        chunks = list(n.catalog.sql_stream("q", ["customer_id", "segment"], 8).chunks)
        assert len(chunks) == 7 and sum(map(len, chunks)) == 49
        rows = [r for c in chunks for r in c]
        assert ["G3", ""] in rows and ["G4", "retail"] in rows and ["G7", "retail"] not in rows
    finally:
        n.store.close()


def test_a_pir_list_from_a_sql_dataset_reads_the_rows_load_reads(node):
    """A node PIR service over a sql dataset reads it in chunks (`sql_stream`), typed as
    `load` types it, so its labels are the loaded values."""
    from yinji.node.config import PirServiceConfig

    q = "SELECT customer_id, segment, assets FROM clients WHERE assets > 0"
    schema = {"customer_id": "string", "segment": "string", "assets": "float"}
    assert register(node, q, schema).status_code == 201
    cfg = PirServiceConfig(id="list", dataset="q", key_column="customer_id",
                           label_columns=["segment", "assets"], port=0)
    stream, path = node.pir._rows(cfg)
    rows = [r for c in stream.chunks for r in c]
    loaded = node.catalog.load("q", ["customer_id", "segment", "assets"])
    assert path is None and rows == [list(r) for r in zip(
        *(loaded[c].tolist() for c in ("customer_id", "segment", "assets")), strict=True)]
    assert all(isinstance(r[2], float) for r in rows) and len(rows) > 50
