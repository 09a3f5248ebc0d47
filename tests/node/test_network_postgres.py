"""The same network code on PostgreSQL: three node processes whose metadata live in their
own PostgreSQL databases (and one on SQLite), a job across them, audit tampering detected."""

import pytest
import sqlalchemy as sa

from tests.node.conftest import new_pg_database
from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.node.store import MIGRATIONS

pytestmark = pytest.mark.tls


def test_job_and_tampering_on_postgres(tmp_path, pg_server):
    urls = {n: new_pg_database(pg_server) for n in ("securities", "fund", "futures")}
    create_network(tmp_path, job_timeout=15, database_urls=urls)
    start_nodes(tmp_path)
    apis = clients(tmp_path)
    try:
        trio = ["securities", "fund", "offshore"]
        job = apis["securities"].call("POST", "/jobs", json={
            "protocol": "mpc.aggregate",
            "inputs": {n: {"dataset": "customers", "columns": ["segment"]} for n in trio},
            "params": {"groups": ["retail", "private"], "metrics": ["count"]},
            "recipients": ["fund"]})
        views = wait_job(apis, job["id"], trio, timeout=60)
        assert {v["state"] for v in views.values()} == {"succeeded"}, views
        assert apis["fund"].call("GET", f"/jobs/{job['id']}/result")["result"]["count"]
        assert apis["securities"].call("GET", "/node", role="auditor")["schema_version"] == \
            MIGRATIONS[-1][0]
        for api in apis.values():
            assert api.call("GET", "/audit/verify", role="auditor")["ok"]
        # one byte of one audit entry in securities' PostgreSQL database
        engine = sa.create_engine(urls["securities"].replace("postgresql://",
                                                             "postgresql+psycopg://"))
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE audit SET data_json = replace(data_json, "
                                 "'\"succeeded\"', '\"succeedee\"') WHERE kind = 'job.state'"))
        engine.dispose()
        rep = apis["securities"].call("GET", "/audit/verify", role="auditor")
        assert not rep["ok"] and any("edited" in p for p in rep["problems"])
        assert apis["fund"].call("GET", "/audit/verify", role="auditor")["ok"]
    finally:
        for api in apis.values():
            api.close()
        stop_nodes(tmp_path)
