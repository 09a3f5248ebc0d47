"""Item 7 of issue #12: an operator token must not make the node read anything but its data.

Each test performs the attack over the REST API (ASGI test client) as an operator would:
path traversal, absolute paths, a symlink or hard link out of the data root, the node's own
key, config and store, SQL URLs to the node's store or to arbitrary hosts -- and compares
what the caller got back (status, error text, what the catalog then holds) with what it may
learn: only "this is not an allowed, readable source", the same text for every refusal."""

import json
import os
import socket
import threading
import time

import numpy as np
import pytest
import yaml
from fastapi.testclient import TestClient

from yinji.node.api import create_app
from yinji.node.identity import init_node
from yinji.node.node import Node

SECRET = "customer_id,segment\nG1,private\n"


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "n"
    init_node(home, "securities")
    (home / "data").mkdir()
    (home / "data" / "customers.csv").write_text("customer_id,segment\nG1,retail\nG2,private\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.csv").write_text(SECRET)   # same columns: readable if not confined
    return home


@pytest.fixture
def node(home):
    n = Node(home)
    yield n
    n.store.close()


@pytest.fixture
def client(node):
    return TestClient(create_app(node))


def op(node):
    return {"Authorization": f"Bearer {node.add_token('ops', 'operator')}"}


def post(client, node, location, schema=None, kind="csv", table=None, id="probe"):
    body = {"id": id, "kind": kind, "location": location,
            "schema": schema or {"customer_id": "string", "segment": "string"}}
    if table:
        body["table"] = table
    return client.post("/datasets", headers=op(node), json=body)


def first_line(path):
    return path.read_text(errors="replace").splitlines()[0]


def refused(r):
    """The one refusal text for file datasets; and nothing was registered."""
    assert r.status_code == 400, r.text
    return r.json()["detail"]


def test_traversal_absolute_and_symlink_escape_are_refused(client, node, home, tmp_path):
    secret = tmp_path / "outside" / "secret.csv"
    (home / "data" / "link.csv").symlink_to(secret)
    (home / "data" / "sub").mkdir()
    (home / "data" / "sub" / "up").symlink_to(tmp_path / "outside", target_is_directory=True)
    attempts = ["../outside/secret.csv",                 # traversal from the home
                "data/../../outside/secret.csv",         # starts in the root, leaves it
                str(secret),                             # absolute, outside the roots
                "data/link.csv",                         # symlink out of the root
                "data/sub/up/secret.csv"]                # directory symlink out of the root
    details = {a: refused(post(client, node, a)) for a in attempts}
    assert len(set(details.values())) == 1, details
    assert "data roots" in next(iter(details.values()))
    assert client.get("/datasets", headers=op(node)).json() == []
    # the legitimate file inside the root is accepted
    assert post(client, node, "data/customers.csv", id="customers").status_code == 201


def test_system_file_is_refused(client, node):
    passwd = "/etc/passwd"
    if not os.path.exists(passwd):
        pytest.skip("no /etc/passwd here")
    from pathlib import Path

    header = first_line(Path(passwd))   # a schema that matches: old code registered it
    r = post(client, node, passwd, schema={header: "string"})
    assert r.status_code == 400, r.text
    r2 = post(client, node, "../../../../../../../../" + passwd, schema={header: "string"})
    assert r2.status_code == 400 and r2.json() == r.json()


def test_node_key_config_store_and_home_are_refused(client, node, home):
    key_header = first_line(home / "tls" / "node.key")          # -----BEGIN PRIVATE KEY-----
    os.link(home / "tls" / "node.key", home / "data" / "hardlink.csv")   # inside the root!
    probes = [("tls/node.key", {key_header: "string"}),
              (str(home / "tls" / "node.key"), {key_header: "string"}),
              ("signing.key", {first_line(home / "signing.key"): "string"}),
              ("node.yaml", {first_line(home / "node.yaml"): "string"}),
              ("data/hardlink.csv", {key_header: "string"}),
              ("node.db", {"x": "string"}),
              (".", {"x": "string"}),
              (str(home), {"x": "string"}),
              ("data", {"x": "string"})]
    details = [refused(post(client, node, loc, schema)) for loc, schema in probes]
    assert len(set(details)) == 1, details
    assert client.get("/datasets", headers=op(node)).json() == []


def test_missing_and_forbidden_get_the_same_answer(client, node, home, tmp_path):
    """No existence oracle: a file that does not exist and one that exists but is forbidden
    give the same status and text (inside the root, outside, absolute, relative)."""
    exists = [str(tmp_path / "outside" / "secret.csv"), "tls/node.key", "../outside/secret.csv"]
    missing = [str(tmp_path / "outside" / "nope.csv"), "tls/nope.key", "../outside/nope.csv",
               "data/nope.csv", "/nonexistent/dir/x.csv"]
    answers = {loc: post(client, node, loc) for loc in exists + missing}
    assert {(r.status_code, r.text) for r in answers.values()} == \
        {(400, answers["data/nope.csv"].text)}
    assert "nope" not in answers["data/nope.csv"].text   # the location is not echoed


def test_sql_url_to_own_store_is_refused(client, node, home):
    """Old code: a sql dataset on the node's own SQLite store registers, and the token
    hashes table becomes readable by a job."""
    r = post(client, node, f"sqlite:///{home / 'node.db'}", kind="sql", table="api_tokens",
             schema={"name": "string", "token_hash": "string"})
    assert r.status_code == 400, r.text
    assert client.get("/datasets", headers=op(node)).json() == []


class _Listener:
    """A TCP port on loopback that accepts and drops connections, counting them."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def test_sql_url_to_any_host_is_no_port_scan_oracle(client, node):
    listener = _Listener()
    with socket.socket() as s:            # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    try:
        open_port = post(client, node, f"postgresql://u:p@127.0.0.1:{listener.port}/db",
                         kind="sql", table="t")
        closed_port = post(client, node, f"postgresql://u:p@127.0.0.1:{closed}/db",
                           kind="sql", table="t")
        no_host = post(client, node, "postgresql://u:p@no-such-host.invalid:5432/db",
                       kind="sql", table="t")
    finally:
        listener.close()
    assert open_port.status_code == closed_port.status_code == no_host.status_code == 400
    assert open_port.text == closed_port.text == no_host.text, (open_port.text,
                                                                 closed_port.text)
    assert "sql_sources" in open_port.text
    assert listener.accepted == 0      # the node never connected anywhere


def test_sql_sources_by_name_only_and_never_the_own_store(home, tmp_path):
    import sqlite3

    db = home / "data" / "crm.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE clients (customer_id TEXT, segment TEXT)")
        conn.executemany("INSERT INTO clients VALUES (?, ?)", [("G1", "retail"), ("G2", "x")])
    outside = tmp_path / "outside" / "other.sqlite"
    sqlite3.connect(outside).close()
    cfg = yaml.safe_load((home / "node.yaml").read_text())
    cfg["sql_sources"] = {"crm": f"sqlite:///{db}", "own": f"sqlite:///{home / 'node.db'}",
                          "elsewhere": f"sqlite:///{outside}"}
    (home / "node.yaml").write_text(yaml.safe_dump(cfg))
    node = Node(home)
    try:
        client = TestClient(create_app(node))
        ok = post(client, node, "crm", kind="sql", table="clients", id="crm")
        assert ok.status_code == 201, ok.text
        assert node.catalog.load("crm", ["segment"])["segment"].tolist() == ["retail", "x"]
        own = post(client, node, "own", kind="sql", table="api_tokens",
                   schema={"name": "string", "token_hash": "string"})
        assert own.status_code == 400 and "own metadata store" in own.text
        # a listed SQLite file outside the data roots is a file outside the roots
        assert post(client, node, "elsewhere", kind="sql", table="t").status_code == 400
        # a listed source that fails: one text, no driver detail (hosts, paths, ports)
        bad = post(client, node, "crm", kind="sql", table="no_such_table", id="crm2")
        assert bad.status_code == 400 and "details in the node log" in bad.text
        assert str(db) not in bad.text
        assert [d["id"] for d in client.get("/datasets", headers=op(node)).json()] == ["crm"]
    finally:
        node.store.close()


def test_extra_data_root_from_config(home, tmp_path):
    """Files outside <home>/data are read once the operator lists their folder in node.yaml
    (not through the API); the node's home stays refused even inside such a root."""
    shared = tmp_path / "outside"
    cfg = yaml.safe_load((home / "node.yaml").read_text())
    cfg["data_roots"] = [str(tmp_path)]          # a root that contains the node's home
    (home / "node.yaml").write_text(yaml.safe_dump(cfg))
    node = Node(home)
    try:
        client = TestClient(create_app(node))
        assert post(client, node, str(shared / "secret.csv")).status_code == 201
        key = post(client, node, "tls/node.key", id="k",
                   schema={first_line(home / "tls" / "node.key"): "string"})
        assert key.status_code == 400
    finally:
        node.store.close()


def test_a_file_swapped_for_a_symlink_after_registration_is_not_read(client, node, home,
                                                                      tmp_path):
    assert post(client, node, "data/customers.csv", id="customers").status_code == 201
    path = home / "data" / "customers.csv"
    path.unlink()
    path.symlink_to(tmp_path / "outside" / "secret.csv")
    from yinji.node.catalog import CatalogError

    with pytest.raises(CatalogError, match="data roots"):
        node.catalog.load("customers", ["segment"])


def test_existing_id_is_not_silently_replaced(client, node, tmp_path):
    assert post(client, node, "data/customers.csv", id="customers").status_code == 201
    (node.home / "data" / "other.csv").write_text(SECRET)
    again = post(client, node, "data/other.csv", id="customers")
    assert again.status_code == 409 and "update" in again.text
    assert node.catalog.get("customers").location == "data/customers.csv"
    assert node.catalog.load("customers", ["segment"])["segment"].tolist() == \
        ["retail", "private"]
    events = [e["data"] for e in node.audit.entries() if e["kind"] == "dataset"]
    assert [e["action"] for e in events] == ["registered"]


def test_explicit_update_is_audited_with_before_and_after(client, node):
    headers = op(node)
    body = {"id": "customers", "kind": "csv", "location": "data/customers.csv",
            "schema": {"customer_id": "string", "segment": "string"}}
    assert client.post("/datasets", headers=headers, json=body).status_code == 201
    (node.home / "data" / "v2.csv").write_text("customer_id,segment\nG9,retail\n")
    # a refused update leaves the dataset as it was
    bad = client.put("/datasets/customers", headers=headers,
                     json={**body, "location": "../outside/secret.csv"})
    assert bad.status_code == 400
    assert client.put("/datasets/nothere", headers=headers,
                      json={**body, "id": "nothere"}).status_code == 404
    assert node.catalog.get("customers").location == "data/customers.csv"
    r = client.put("/datasets/customers", headers=headers,
                   json={**body, "location": "data/v2.csv",
                         "policy": [{"columns": ["segment"], "protocols": ["mpc.aggregate"]}]})
    assert r.status_code == 200 and r.json()["revision"] == 2, r.text
    events = [e["data"] for e in node.audit.entries() if e["kind"] == "dataset"]
    assert [e["action"] for e in events] == ["registered", "updated"]
    up = events[1]
    assert up["by"] == "ops"
    assert up["before"]["location"] == "data/customers.csv" and up["before"]["policy"] == []
    assert up["after"]["location"] == "data/v2.csv" and up["after"]["revision"] == 2
    assert up["after"]["policy"][0]["columns"] == ["segment"]
    assert node.audit.verify().ok


def _proposal(node, peer_home):
    """A job this node proposed with a peer (not running); it waits for this node's approver
    and the peer's approval, so nothing is sent anywhere."""
    from yinji.node.admin import open_admin
    from yinji.node.config import NodeConfig
    from yinji.node.identity import export_bundle

    init_node(peer_home, "fund")
    bundle = export_bundle(NodeConfig.load(peer_home))
    with open_admin(node.home, by="test") as admin:
        admin.add_peer(bundle, bundle["fingerprint"])
    node.cfg.peers = NodeConfig.load(node.home).peers
    spec = {"id": "j1", "proposer": "securities", "protocol": "psi.cardinality",
            "inputs": {"fund": {"dataset": "x", "columns": ["customer_id"]},
                       "securities": {"dataset": "customers", "columns": ["customer_id"]}},
            "params": {}, "recipients": ["securities"], "created": 1.0}
    node.jobs._store_proposal(spec)
    return spec


def test_approver_sees_location_and_row_count(client, node, home, tmp_path):
    body = {"id": "customers", "kind": "csv", "location": "data/customers.csv",
            "schema": {"customer_id": "string", "segment": "string"},
            "policy": [{"columns": ["customer_id"]}]}
    assert client.post("/datasets", headers=op(node), json=body).status_code == 201
    _proposal(node, tmp_path / "fund")
    approver = {"Authorization": f"Bearer {node.add_token('ann', 'approver')}"}
    view = client.get("/jobs/j1", headers=approver).json()
    mine = view["local_input"]
    assert mine["location"] == "data/customers.csv"
    assert mine["path"] == str((home / "data" / "customers.csv").resolve())
    assert mine["rows"] == 2 and mine["revision"] == 1 and mine["problem"] is None
    assert mine["columns"] == ["customer_id"]
    # the row count is read now, not remembered from registration
    with open(home / "data" / "customers.csv", "a") as fh:
        fh.write("G3,retail\n")
    assert client.get("/jobs", headers=approver).json()[0]["local_input"]["rows"] == 3


def test_update_after_approval_fails_the_job(client, node, home, tmp_path):
    """The swap attack: approve a job on dataset revision 1, then point the dataset at other
    data. The run refuses instead of reading what nobody approved."""
    from yinji.node.jobs import JobError

    body = {"id": "customers", "kind": "csv", "location": "data/customers.csv",
            "schema": {"customer_id": "string", "segment": "string"},
            "policy": [{"columns": ["customer_id"]}]}
    assert client.post("/datasets", headers=op(node), json=body).status_code == 201
    _proposal(node, tmp_path / "fund")
    node.jobs.decide("j1", "approve", by="ann")   # fund has not approved yet
    node.jobs._unchanged_since_approval("j1", "customers")   # not updated: fine
    (home / "data" / "v2.csv").write_text(SECRET)
    assert client.put("/datasets/customers", headers=op(node),
                      json={**body, "location": "data/v2.csv"}).status_code == 200
    with pytest.raises(JobError, match="updated after securities approved"):
        node.jobs._unchanged_since_approval("j1", "customers")


@pytest.mark.tls
def test_network_approver_view_and_swap_after_approval(tmp_path):
    """Three node processes. fund's approver sees its dataset's location and row count in the
    proposal; offshore approves (policy), then its operator points the dataset at other data
    before the job starts: the job fails on every node instead of reading unapproved data."""
    from yinji.cli.network import (
        _wait_state,
        clients,
        create_network,
        start_nodes,
        stop_nodes,
        wait_job,
    )

    trio = ["securities", "fund", "offshore"]
    create_network(tmp_path, trio, job_timeout=15, policies={"fund": []})
    start_nodes(tmp_path)
    apis = clients(tmp_path)
    try:
        job = apis["securities"].call("POST", "/jobs", json={
            "protocol": "mpc.aggregate",
            "inputs": {n: {"dataset": "customers", "columns": ["segment", "assets_cny"]}
                       for n in trio},
            "params": {"groups": ["retail"], "metrics": ["count"]},
            "recipients": ["securities"]})
        _wait_state(apis["fund"], job["id"], ("proposed",))
        view = apis["fund"].call("GET", f"/jobs/{job['id']}", role="approver")["local_input"]
        rows = len((tmp_path / "fund" / "data" / "customers.csv").read_text().splitlines()) - 1
        assert view["location"] == "data/customers.csv" and view["rows"] == rows
        assert view["path"].endswith("fund/data/customers.csv")
        # each node shows its own input only; the shared spec carries no location or count
        other = apis["securities"].call("GET", f"/jobs/{job['id']}", role="auditor")
        assert other["local_input"]["path"].endswith("securities/data/customers.csv")
        assert other["spec_hash"] == apis["fund"].call("GET", f"/jobs/{job['id']}",
                                                       role="auditor")["spec_hash"]
        assert "data/customers.csv" not in json.dumps(other["spec"])

        deadline = time.monotonic() + 30   # offshore's policy approves in the background
        while "offshore" not in {a["node"] for a in apis["offshore"].call(
                "GET", f"/jobs/{job['id']}", role="auditor")["approvals"]}:
            assert time.monotonic() < deadline, "offshore did not approve"
            time.sleep(0.05)
        data = tmp_path / "offshore" / "data"
        (data / "swapped.csv").write_text((data / "customers.csv").read_text())
        apis["offshore"].call("PUT", "/datasets/customers", json={
            "id": "customers", "kind": "csv", "location": "data/swapped.csv",
            "schema": {"customer_id": "string", "segment": "string", "assets_cny": "float"},
            "policy": [{"columns": ["segment", "assets_cny"], "protocols": ["mpc.aggregate"]}]})
        apis["fund"].call("POST", f"/jobs/{job['id']}/approve", role="approver")
        views = wait_job(apis, job["id"], trio, timeout=60)
        assert {v["state"] for v in views.values()} == {"failed"}, views
        assert "updated after offshore approved" in views["offshore"]["reason"]
        assert not any(v["has_result"] for v in views.values())
    finally:
        for a in apis.values():
            a.close()
        stop_nodes(tmp_path)


def test_infinite_feature_is_named_not_a_traceback(client, node, home):
    (home / "data" / "scores.csv").write_text("customer_id,score\nG1,0.5\nG2,inf\nG3,-inf\n")
    r = post(client, node, "data/scores.csv", id="scores",
             schema={"customer_id": "string", "score": "float"})
    assert r.status_code == 201, r.text
    from yinji.node.catalog import CatalogError

    with pytest.raises(CatalogError, match=r"column 'score' is infinite on 2 row\(s\) "
                                           r"\(data rows 2, 3\)"):
        node.catalog.load("scores", ["score"])


def test_empty_cells_are_missing_only_for_protocols_that_ask(client, node, home):
    """Model jobs (empty_as_nan) get NaN for an empty float / int cell, an int column with
    one as float; every other protocol still gets the error naming the column."""
    (home / "data" / "gaps.csv").write_text("customer_id,income,n\nG1,1.5,2\nG2,,\nG3,3,4\n")
    r = post(client, node, "data/gaps.csv", id="gaps",
             schema={"customer_id": "string", "income": "float", "n": "int"})
    assert r.status_code == 201, r.text
    from yinji.node.catalog import CatalogError

    with pytest.raises(CatalogError, match="column 'income' has a value that is not float"):
        node.catalog.load("gaps", ["income"])
    cols, _ = node.catalog.load_keyed("gaps", ["income", "n"], empty_as_nan=True)
    assert np.array_equal(cols["income"], [1.5, np.nan, 3.0], equal_nan=True)
    assert np.array_equal(cols["n"], [2.0, np.nan, 4.0], equal_nan=True)
    with pytest.raises(CatalogError, match="column 'income' has a value that is not float"):
        node.catalog.load("gaps", ["income"])      # the cached NaN copy is not served to it
