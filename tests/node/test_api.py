"""REST API in-process: roles, refusals audited, OpenAPI published, datasets and policy."""

import pytest
from fastapi.testclient import TestClient

from yinji.node.api import create_app
from yinji.node.identity import init_node
from yinji.node.node import Node


@pytest.fixture
def node(tmp_path):
    init_node(tmp_path / "n", "securities")
    (tmp_path / "n" / "data").mkdir()
    (tmp_path / "n" / "data" / "data.csv").write_text(
        "customer_id,segment,assets_cny\nG1,retail,10.5\n")
    n = Node(tmp_path / "n")
    yield n
    n.store.close()


@pytest.fixture
def client(node):
    return TestClient(create_app(node))


def auth(node, role):
    return {"Authorization": f"Bearer {node.add_token(f'{role}-1', role)}"}


def api_calls(node):
    return [e["data"] for e in node.audit.entries() if e["kind"] == "api.call"]


def test_openapi_published(client):
    spec = client.get("/openapi.json").json()
    assert {"/jobs", "/jobs/{job_id}/approve", "/audit/verify", "/datasets", "/peers",
            "/health"} <= set(spec["paths"])
    assert "JobCreate" in spec["components"]["schemas"]
    assert "JobPublic" in spec["components"]["schemas"]


def test_unauthenticated_refused_and_audited(client, node):
    assert client.get("/jobs").status_code == 401
    assert client.get("/jobs", headers={"Authorization": "Bearer nope"}).status_code == 401
    calls = api_calls(node)
    assert [(c["path"], c["status"], c["allowed"]) for c in calls] == \
        [("/jobs", 401, False), ("/jobs", 401, False)]


def test_wrong_role_refused_and_audited(client, node):
    op, auditor = auth(node, "operator"), auth(node, "auditor")
    assert client.get("/audit/verify", headers=op).status_code == 403
    assert client.post("/jobs/x/approve", headers=op).status_code == 403
    assert client.post("/datasets", headers=auditor, json={}).status_code == 403
    refused = [c for c in api_calls(node) if not c["allowed"]]
    assert {(c["path"], c["principal"], c["status"]) for c in refused} == {
        ("/audit/verify", "operator-1", 403), ("/jobs/{job_id}/approve", "operator-1", 403),
        ("/datasets", "auditor-1", 403)}
    rep = client.get("/audit/verify", headers=auditor).json()
    assert rep["ok"], rep


def test_tokens_stored_hashed(node):
    token = node.add_token("ops", "operator")
    rows = node.store.list_tokens()
    assert rows and token not in str(rows)
    assert token not in (node.home / "node.db").read_bytes().decode("latin-1")


def test_dataset_register_and_policy(client, node):
    op = auth(node, "operator")
    r = client.post("/datasets", headers=op, json={
        "id": "customers", "kind": "csv", "location": "data/data.csv",
        "schema": {"customer_id": "string", "segment": "string", "assets_cny": "float"},
        "policy": [{"columns": ["segment", "assets_cny"], "protocols": ["mpc.aggregate"]}]})
    assert r.status_code == 201, r.text
    assert "location" not in r.json()
    assert node.catalog.check("customers", ["segment"], "mpc.aggregate", ["fund"]) == []
    assert node.catalog.check("customers", ["customer_id"], "mpc.aggregate", ["fund"])
    assert node.catalog.check("customers", ["segment"], "psi.intersect", ["fund"])
    bad = client.post("/datasets", headers=op, json={
        "id": "x", "kind": "csv", "location": "data/data.csv", "schema": {"nope": "string"}})
    assert bad.status_code == 400 and "nope" in bad.text


def test_propose_to_unknown_node_refused(client, node):
    op = auth(node, "operator")
    r = client.post("/jobs", headers=op, json={
        "protocol": "mpc.aggregate",
        "inputs": {n: {"dataset": "customers", "columns": ["segment"]}
                   for n in ("securities", "ghost", "other")},
        "params": {"groups": ["retail"], "metrics": ["count"]}, "recipients": ["securities"]})
    assert r.status_code == 400 and "unknown node" in r.text


def test_psi_unavailable_is_refused_plainly(client, node):
    import importlib.util

    if importlib.util.find_spec("yinji.psi") is not None:
        pytest.skip("yinji.psi is installed")
    r = client.post("/jobs", headers=auth(node, "operator"), json={
        "protocol": "psi.intersect",
        "inputs": {n: {"dataset": "customers", "columns": ["customer_id"]}
                   for n in ("securities", "fund")},
        "recipients": ["securities"]})
    assert r.status_code == 400 and "yinji.psi is not installed" in r.text
