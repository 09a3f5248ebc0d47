"""The console's server side in-process: static files with a strict CSP, /whoami and
/peers/status (role checks, certificate expiry, reachability)."""

import json
import socket

import pytest
from fastapi.testclient import TestClient

from yinji.node.api import create_app
from yinji.node.api.console_routes import CSP, FILES
from yinji.node.identity import export_bundle, init_node
from yinji.node.node import Node


@pytest.fixture
def node(tmp_path):
    init_node(tmp_path / "n", "securities")
    peer = init_node(tmp_path / "p", "fund", api_port=1, dataplane_port=1)
    bundle = export_bundle(peer)
    n = Node(tmp_path / "n")
    from yinji.node.admin import open_admin

    n.store.close()
    with open_admin(tmp_path / "n", by="test") as admin:
        admin.add_peer(bundle, bundle["fingerprint"])
    n = Node(tmp_path / "n")
    yield n
    n.store.close()


@pytest.fixture
def client(node):
    return TestClient(create_app(node))


def auth(node, role):
    return {"Authorization": f"Bearer {node.add_token(f'{role}-1', role)}"}


def test_static_files_need_no_token_and_carry_a_strict_csp(client):
    for path in ("/console/", "/console/app.js", "/console/style.css", "/console/i18n/zh.json",
                 "/console/nope.js"):
        r = client.get(path)
        assert r.status_code == (404 if "nope" in path else 200), path
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["x-content-type-options"] == "nosniff"
    assert "'unsafe-inline'" not in CSP and "'unsafe-eval'" not in CSP
    assert "frame-ancestors 'none'" in CSP and "default-src 'self'" in CSP
    r = client.get("/console", follow_redirects=False)
    assert r.status_code in (307, 308) and r.headers["location"].endswith("/console/")
    # no external resource anywhere in the shipped files
    for f in FILES.rglob("*"):
        if f.is_file() and f.suffix in (".html", ".js", ".css"):
            text = f.read_text(encoding="utf-8").replace("http://www.w3.org/2000/svg", "")
            assert "http://" not in text and "https://" not in text and "//cdn" not in text, f


def test_translations_have_the_same_keys():
    en = json.loads((FILES / "i18n" / "en.json").read_text(encoding="utf-8"))
    zh = json.loads((FILES / "i18n" / "zh.json").read_text(encoding="utf-8"))
    assert set(en) == set(zh) and len(en) > 100
    assert all(zh[k] for k in zh)


def test_whoami_follows_the_token(client, node):
    assert client.get("/whoami").status_code == 401
    assert client.get("/whoami", headers={"Authorization": "Bearer x"}).status_code == 401
    for role in ("operator", "approver", "auditor", "admin"):
        me = client.get("/whoami", headers=auth(node, role)).json()
        assert me == {"name": f"{role}-1", "role": role, "node": "securities"}
    caller = node.tokens.add("onboarding", "caller", by="test", scopes=["scenario:x/v1"])
    assert client.get("/whoami", headers={"Authorization": f"Bearer {caller}"}
                      ).status_code == 403   # scenario callers are no console users


def test_peer_status_expiry_and_reachability(client, node):
    assert client.get("/peers/status").status_code == 401
    st = client.get("/peers/status", headers=auth(node, "auditor")).json()
    assert st["node"] == "securities" and st["cert_expires"][:2] == "20"
    (fund,) = st["peers"]
    assert fund["name"] == "fund" and fund["fingerprint"] == node.cfg.peers["fund"].fingerprint
    assert fund["cert_expires"][:2] == "20" and fund["reachable"] is False   # port 1: closed
    # a listening data plane is reachable
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        node.cfg.peers["fund"].dataplane = f"127.0.0.1:{s.getsockname()[1]}"
        st = client.get("/peers/status", headers=auth(node, "operator")).json()
    assert st["peers"][0]["reachable"] is True
    # every route the console adds is audited with the token's name
    calls = [e["data"] for e in node.audit.entries() if e["kind"] == "api.call"]
    assert ("/peers/status", "operator-1", 200) in {(c["path"], c["principal"], c["status"])
                                                    for c in calls}


def test_gateway_counts_only_for_auditors(client, node):
    from yinji.gateway.audit import GatewayCallEvent, JsonlAuditSink

    auditor = auth(node, "auditor")
    assert client.get("/gateway/summary", headers=auditor).status_code == 404
    path = node.cfg.home / "gateway" / "audit.jsonl"
    sink = JsonlAuditSink(path)
    secret_digest = "c0nv3rsat10n-d1g3st"
    events = [("alice", {"person": 2, "id_no": 1}, ()), ("alice", {"person": 1}, ()),
              ("bob", {"bank_card": 1, "person": 1}, ("bank_card",)), ("bob", {}, ())]
    for user, cats, blocked in events:
        sink.record(GatewayCallEvent(time="t", user=user, endpoint="/v1/chat/completions",
                                     model="m", route="default", conversation=secret_digest,
                                     categories=cats, blocked=bool(blocked),
                                     blocked_categories=blocked))
    with open(path, "a") as fh:
        fh.write("{not json\n")
    assert client.get("/gateway/summary", headers=auth(node, "operator")).status_code == 403
    r = client.get("/gateway/summary", headers=auditor)
    assert r.json() == {
        "calls": 4, "blocked": 1, "unreadable": 1,
        "users": {"alice": {"calls": 2, "blocked": 0}, "bob": {"calls": 2, "blocked": 1}},
        "categories": {"bank_card": {"replaced": 0, "blocked": 1},
                       "id_no": {"replaced": 1, "blocked": 0},
                       "person": {"replaced": 3, "blocked": 0}}}
    assert secret_digest not in r.text and "/v1/" not in r.text
