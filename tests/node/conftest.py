"""Fixtures for node tests: PostgreSQL (Debian's server, started here when available) and a
four-node network of separate processes on loopback."""

import contextlib
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from yinji.net.ports import free_ports

PG_SKIP = None


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    for root in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (root / name).exists():
            return str(root / name)
    return None


@pytest.fixture
def node(tmp_path):
    """A fresh node "securities" (files may define their own `node` with data)."""
    from yinji.node.identity import init_node
    from yinji.node.node import Node

    init_node(tmp_path / "n", "securities")
    n = Node(tmp_path / "n")
    yield n
    n.store.close()


@pytest.fixture(scope="session")
def pg_server():
    """URL of a throw-away PostgreSQL server (or $YINJI_TEST_PG_URL); skip with the reason."""
    if os.environ.get("YINJI_TEST_PG_URL"):
        yield os.environ["YINJI_TEST_PG_URL"]
        return
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        pytest.skip("PostgreSQL not installed (apt-get install postgresql); "
                    "set YINJI_TEST_PG_URL to use an existing server")
    as_user: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="yinji-pg-"))
    if os.geteuid() == 0:  # initdb refuses root: run the server as the postgres user
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start PostgreSQL")
        try:
            shutil.chown(tmp, "postgres", "postgres")
        except (LookupError, PermissionError):
            pytest.skip("running as root and no 'postgres' user to run PostgreSQL")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = tmp / "data"
    port = free_ports(1)[0]
    subprocess.run([*as_user, initdb, "-D", str(data), "-A", "trust", "-U", "postgres",
                    "--no-sync"], check=True, capture_output=True)
    opts = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
    subprocess.run([*as_user, pg_ctl, "-D", str(data), "-o", opts, "-l", str(tmp / "log"),
                    "-w", "start"], check=True, capture_output=True)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_user, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def pg_url(pg_server):
    """A fresh database on the test server."""
    return new_pg_database(pg_server)


def new_pg_database(server_url: str) -> str:
    import psycopg

    name = f"yinji_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url.replace("postgresql://", "postgresql://", 1),
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def leads_network(root, nodes, policies, values, shares, columns, rules, rng):
    """A network of `nodes` where each company in `values` holds a shuffled `shares[name]`
    fraction of the customers C0000.. as a registered CSV dataset "leads" (customer_id +
    `columns[name]`). Yields (apis, {name: {customer_id: row}}); stops the nodes after."""
    import csv

    import numpy as np

    from yinji.cli.network import clients, create_network, start_nodes, stop_nodes

    create_network(root, nodes, job_timeout=60, policies=policies)
    tables = {}
    for name, rows in values.items():
        keep = rng.permutation(np.flatnonzero(rng.random(len(rows)) < shares[name]))
        tables[name] = {f"C{i:04d}": list(rows[i]) for i in keep}
        with open(root / name / "data" / "leads.csv", "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(["customer_id", *columns[name]])
            for cid, row in tables[name].items():
                w.writerow([cid, *[f"{v:.6f}" for v in row]])
    start_nodes(root)
    apis = clients(root)
    for name in values:
        apis[name].call("POST", "/datasets", json={
            "id": "leads", "kind": "csv", "location": "data/leads.csv",
            "schema": {"customer_id": "string", **dict.fromkeys(columns[name], "float")},
            "policy": rules})
    try:
        yield apis, tables
    finally:
        for api in apis.values():
            api.close()
        stop_nodes(root)
