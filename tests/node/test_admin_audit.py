"""Item 8 of issue #12 (and item 7 through the CLI): every change of catalog, tokens and peers
is an audit entry whichever interface made it, and `yinji audit verify` accepts the log;
tokens have list, revoke and expiry (a revoked or expired token gets 401); the CLI refuses
the same dataset attacks as the API, with the same text for missing and forbidden files."""

import json
import threading
import time

import pytest
import sqlalchemy as sa
import yaml
from fastapi.testclient import TestClient

from yinji.cli.main import main


def cli(capsys, *argv):
    """Run `yinji ARGV` in-process; (exit code, stdout, stderr)."""
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:   # argparse: unknown command or option
        rc = exc.code
    out = capsys.readouterr()
    return rc, out.out, out.err


def audit_entries(capsys, home):
    rc, out, err = cli(capsys, "audit", "export", "--home", home)
    assert rc == 0, err
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def changes(capsys, home):
    return [(e["kind"], e["data"].get("action"))
            for e in audit_entries(capsys, home) if e["kind"] != "api.call"]


def verify_ok(capsys, home):
    rc, out, err = cli(capsys, "audit", "verify", "--home", home)
    assert rc == 0 and "audit OK" in out, out + err
    return int(out.split(",")[1].split()[0])   # "audit OK: name, N entries, head ..."


@pytest.fixture
def home(tmp_path, capsys):
    home = tmp_path / "sec"
    rc, out, err = cli(capsys, "node", "init", "--home", home, "--name", "securities")
    assert rc == 0, err
    (home / "data").mkdir(exist_ok=True)
    (home / "data" / "customers.csv").write_text("customer_id,segment\nG1,retail\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.csv").write_text("customer_id,segment\nG7,private\n")
    return home


def spec(tmp_path, location, schema=None, kind="csv", id="customers", **extra):
    p = tmp_path / f"spec-{abs(hash((location, id, kind)))}.yaml"
    p.write_text(yaml.safe_dump({"id": id, "kind": kind, "location": location,
                                 "schema": schema or {"customer_id": "string",
                                                      "segment": "string"}, **extra}))
    return p


def datasets_in_store(home):
    from yinji.node.config import NodeConfig
    from yinji.node.store import open_store

    store = open_store(NodeConfig.load(home).db_url)
    try:
        return [d["id"] for d in store.list_datasets()]
    finally:
        store.close()


# -- item 7 through the CLI ------------------------------------------------------------------

def test_cli_dataset_attacks_are_refused_alike(capsys, home, tmp_path):
    (home / "data" / "link.csv").symlink_to(tmp_path / "outside" / "secret.csv")
    key_header = (home / "tls" / "node.key").read_text().splitlines()[0]
    attacks = [spec(tmp_path, "../outside/secret.csv"),
               spec(tmp_path, str(tmp_path / "outside" / "secret.csv")),
               spec(tmp_path, "data/link.csv"),
               spec(tmp_path, "tls/node.key", {key_header: "string"}),
               spec(tmp_path, str(home)),
               spec(tmp_path, "data/missing.csv"),                 # does not exist
               spec(tmp_path, str(tmp_path / "outside" / "nope.csv"))]
    errors = set()
    for s in attacks:
        rc, out, err = cli(capsys, "dataset", "add", "--home", home, "--spec", s)
        assert rc == 1, (s.read_text(), out, err)
        errors.add(err)
    assert len(errors) == 1 and "data roots" in errors.pop()
    rc, _, err_url = cli(capsys, "dataset", "add", "--home", home, "--spec",
                         spec(tmp_path, f"sqlite:///{home / 'node.db'}", {"name": "string"},
                              kind="sql", table="api_tokens"))
    assert rc == 1 and "sql_sources" in err_url
    assert datasets_in_store(home) == []
    assert not [c for c in changes(capsys, home) if c[0] == "dataset"]


def test_cli_add_refuses_an_existing_id_and_update_is_audited(capsys, home, tmp_path):
    rc, _, err = cli(capsys, "dataset", "add", "--home", home, "--spec",
                     spec(tmp_path, "data/customers.csv"))
    assert rc == 0, err
    (home / "data" / "v2.csv").write_text("customer_id,segment\nG2,retail\n")
    rc, _, err = cli(capsys, "dataset", "add", "--home", home, "--spec",
                     spec(tmp_path, "data/v2.csv"))
    assert rc == 1 and "already exists" in err
    rc, out, err = cli(capsys, "dataset", "update", "--home", home, "--spec",
                       spec(tmp_path, "data/v2.csv"))
    assert rc == 0 and "revision 2" in out, err
    entries = [e["data"] for e in audit_entries(capsys, home) if e["kind"] == "dataset"]
    assert [e["action"] for e in entries] == ["registered", "updated"]
    assert entries[1]["before"]["location"] == "data/customers.csv"
    assert entries[1]["after"]["location"] == "data/v2.csv"
    assert entries[1]["by"].startswith("cli:")
    rc, out, _ = cli(capsys, "dataset", "list", "--home", home)
    assert "data/v2.csv" in out and "revision 2" in out
    verify_ok(capsys, home)


# -- item 8: audited admin changes -----------------------------------------------------------

def _fund_bundle(capsys, tmp_path):
    rc, _, err = cli(capsys, "node", "init", "--home", tmp_path / "fund", "--name", "fund",
                     "--api-port", 8711, "--dataplane-port", 8811)
    assert rc == 0, err
    rc, bundle, _ = cli(capsys, "node", "bundle", "--home", tmp_path / "fund")
    (tmp_path / "fund.yaml").write_text(bundle)
    return tmp_path / "fund.yaml", yaml.safe_load(bundle)["fingerprint"]


def test_shell_changes_are_not_invisible(capsys, home, tmp_path):
    """The attack on the old code: a shell user adds a peer and an operator token, registers
    a dataset and removes the peer again -- and the node's audit log shows nothing of it."""
    bundle, fp = _fund_bundle(capsys, tmp_path)
    for argv in (("peer", "add", "--home", home, "--bundle", bundle, "--fingerprint", fp),
                 ("token", "add", "--home", home, "--name", "mallory", "--role", "operator",
                  "--out", tmp_path / "m.token"),
                 ("dataset", "add", "--home", home, "--spec",
                  spec(tmp_path, "data/customers.csv")),
                 ("peer", "remove", "--home", home, "fund")):
        rc, out, err = cli(capsys, *argv)
        assert rc == 0, (argv, out, err)
    assert changes(capsys, home) == [("peer.change", "added"), ("token", "created"),
                                     ("dataset", "registered"), ("peer.change", "removed")]
    verify_ok(capsys, home)


def test_every_cli_admin_change_is_audited_and_verifies(capsys, home, tmp_path):
    bundle, fp = _fund_bundle(capsys, tmp_path)
    steps = [("peer", "add", "--bundle", bundle, "--fingerprint", fp),
             ("peer", "add", "--bundle", bundle, "--fingerprint", fp),
             ("token", "add", "--name", "alice", "--role", "operator",
              "--out", tmp_path / "alice.token"),
             ("dataset", "add", "--spec", spec(tmp_path, "data/customers.csv")),
             ("dataset", "update", "--spec", spec(tmp_path, "data/customers.csv")),
             ("token", "revoke", "alice"),
             ("peer", "remove", "fund")]
    for group, cmd, *rest in steps:
        rc, out, err = cli(capsys, group, cmd, "--home", home, *rest)
        assert rc == 0, (group, cmd, out, err)
    assert changes(capsys, home) == [("peer.change", "added"), ("peer.change", "replaced"),
                                     ("token", "created"), ("dataset", "registered"),
                                     ("dataset", "updated"), ("token", "revoked"),
                                     ("peer.change", "removed")]
    entries = audit_entries(capsys, home)
    peer = [e["data"] for e in entries if e["kind"] == "peer.change"]
    assert peer[0]["fingerprint"] == fp and peer[2]["previous"] == fp
    assert all(e["data"]["by"].startswith("cli:") for e in entries)
    token = (tmp_path / "alice.token").read_text().strip()
    assert token not in json.dumps(entries)          # the token never reaches the log
    assert verify_ok(capsys, home) == 7


def test_refused_cli_changes_leave_no_entry_and_no_change(capsys, home, tmp_path):
    rc, _, err = cli(capsys, "peer", "remove", "--home", home, "ghost")
    assert rc == 1 and "ghost" in err
    rc, _, err = cli(capsys, "token", "add", "--home", home, "--name", "x", "--role",
                     "operator", "--expires", "0d")
    assert rc == 1 and "lifetime" in err
    rc, _, err = cli(capsys, "token", "revoke", "--home", home, "nobody")
    assert rc == 1 and "no token" in err
    assert changes(capsys, home) == []


# -- tokens: list, revoke, expiry ------------------------------------------------------------

@pytest.fixture
def api(home):
    from yinji.node.api import create_app
    from yinji.node.node import Node

    node = Node(home)
    yield node, TestClient(create_app(node))
    node.store.close()


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_revoked_and_expired_tokens_get_401(capsys, home, tmp_path, api):
    node, client = api
    for name, extra in (("ops", []), ("short", ["--expires", "1h"]),
                        ("forever", ["--expires", "never"])):
        rc, _, err = cli(capsys, "token", "add", "--home", home, "--name", name, "--role",
                         "operator", "--out", tmp_path / f"{name}.token", *extra)
        assert rc == 0, err
    tok = {n: (tmp_path / f"{n}.token").read_text().strip() for n in ("ops", "short", "forever")}
    assert all(client.get("/jobs", headers=bearer(t)).status_code == 200 for t in tok.values())
    rows = {r["name"]: r for r in node.tokens.list()}
    now = time.time()
    assert 89 * 86400 < rows["ops"]["expires"] - now <= 90 * 86400      # default: 90 days
    assert 3500 < rows["short"]["expires"] - now <= 3600
    assert rows["forever"]["expires"] is None
    rc, out, _ = cli(capsys, "token", "list", "--home", home)
    assert rc == 0 and all(n in out for n in tok) and "active" in out
    assert not any(t in out for t in tok.values())

    # revoke by id: the token stops working at once, for every route
    rc, out, err = cli(capsys, "token", "revoke", "--home", home, rows["ops"]["id"])
    assert rc == 0 and "revoked" in out, err
    r = client.get("/jobs", headers=bearer(tok["ops"]))
    assert r.status_code == 401
    # expiry: the clock passes the token's expiry (set in the store, no sleeping)
    from yinji.node.store import tokens as tokens_table

    with node.store.write() as conn:
        conn.execute(tokens_table.update().where(tokens_table.c.name == "short")
                     .values(expires=now - 1))
    expired = client.get("/jobs", headers=bearer(tok["short"]))
    assert expired.status_code == 401
    assert expired.json() == r.json()          # no difference told between the two
    assert client.get("/jobs", headers=bearer(tok["forever"])).status_code == 200
    states = {r["name"]: r["state"] for r in node.tokens.list()}
    assert states == {"ops": "revoked", "short": "expired", "forever": "active"}
    rc, out, _ = cli(capsys, "token", "list", "--home", home)
    assert "revoked" in out and "expired" in out
    verify_ok(capsys, home)


def test_token_routes(api):
    node, client = api
    auditor, ops = node.add_token("aud", "auditor"), node.add_token("ops", "operator")
    listed = client.get("/tokens", headers=bearer(auditor))
    assert listed.status_code == 200
    assert {t["name"] for t in listed.json()} == {"aud", "ops"}
    assert "token_hash" not in listed.text and ops not in listed.text
    assert client.get("/tokens", headers=bearer(ops)).status_code == 403
    assert client.post("/tokens", headers=bearer(ops), json={}).status_code in (404, 405)
    gone = client.delete("/tokens/current", headers=bearer(ops))
    assert gone.status_code == 200 and gone.json()[0]["state"] == "revoked"
    assert client.get("/jobs", headers=bearer(ops)).status_code == 401
    kinds = [(e["data"]["name"], e["data"]["action"], e["data"]["by"])
             for e in node.audit.entries() if e["kind"] == "token"]
    assert kinds == [("aud", "created", "node"), ("ops", "created", "node"),
                     ("ops", "revoked", "ops")]
    assert node.audit.verify().ok


# -- the CLI and a running node append to one log -------------------------------------------

def test_two_processes_appending_keep_one_valid_chain(tmp_path):
    """The CLI (its own store connection) appends while the node appends: no entry lost, no
    append failing, the chain verifies."""
    from yinji.crypto.sign import SigningKey
    from yinji.node.audit import ApiCallEvent, AuditLog, NodeEvent
    from yinji.node.store import SqliteStore

    url = f"sqlite:///{tmp_path / 'node.db'}"
    key = SigningKey.generate()
    stores = [SqliteStore(url), SqliteStore(url)]     # two engines: two "processes"
    logs = [AuditLog(s, key, "securities") for s in stores]
    errors = []

    def work(log, event, n=60):
        try:
            for _ in range(n):
                log.append(event)
        except Exception as exc:  # noqa: BLE001
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(logs[0], ApiCallEvent("GET", "/health", 200))),
               threading.Thread(target=work, args=(logs[1], NodeEvent("cli")))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rep = logs[0].verify()
    for s in stores:
        s.close()
    assert errors == [] and rep.ok and rep.entries == 120, (errors[:3], rep.problems[:3])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_store_upgrade_adds_the_new_columns(tmp_path, request, backend):
    """A v2 store (before token expiry and dataset revisions) is migrated in place."""
    from yinji.node.store import open_store

    url = (f"sqlite:///{tmp_path / 'node.db'}" if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    s = open_store(url)
    s.add_token("t1", "old", "operator", "ab" * 32)
    with s.write() as conn:     # make it look like a v2 store
        for table, column in (("api_tokens", "expires"), ("api_tokens", "revoked"),
                              ("datasets", "revision"), ("datasets", "updated")):
            conn.execute(sa.text(f"ALTER TABLE {table} DROP COLUMN {column}"))
        conn.execute(sa.text("DELETE FROM schema_version WHERE version > 2"))
    s.close()
    s = open_store(url)
    try:
        row = s.token_by_hash("ab" * 32)
        assert row["expires"] is None and row["revoked"] is None   # old tokens: no expiry
        assert s.insert_dataset({"id": "d", "kind": "csv", "location": "data/x.csv",
                                 "table_name": None, "schema_json": "{}",
                                 "policy_json": "[]"})
        assert s.dataset("d")["revision"] == 1
    finally:
        s.close()
