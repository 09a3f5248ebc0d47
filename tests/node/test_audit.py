"""Audit log: chain, signatures, and tampering (edit, delete, reorder, truncate, one byte of
the SQLite file) detected on SQLite and PostgreSQL."""

import sqlite3
import subprocess
import sys

import pytest
import sqlalchemy as sa

from yinji.crypto.sign import SigningKey
from yinji.node.audit import (
    ApiCallEvent,
    AuditLog,
    JobProposedEvent,
    JobStateEvent,
    verify_rows,
)
from yinji.node.identity import init_node
from yinji.node.store import MIGRATIONS, SqliteStore, audit, open_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        s = SqliteStore(f"sqlite:///{tmp_path / 'node.db'}")
    else:
        s = open_store(request.getfixturevalue("pg_url"))
    yield s
    s.close()


def filled(store, n=6):
    log = AuditLog(store, SigningKey.generate(), "securities")
    log.append(JobProposedEvent("job1", "securities", "mpc.aggregate", "ab" * 32,
                                ["fund", "futures", "securities"], ["securities"]))
    for _ in range(n - 2):
        log.append(ApiCallEvent("GET", "/jobs/{job_id}", 200, "ops", "operator"))
    log.append(JobStateEvent("job1", "succeeded", "", "cd" * 32))
    return log


def test_chain_verifies_and_exports(store):
    log = filled(store)
    rep = log.verify()
    assert rep.ok and rep.entries == 6, rep.problems
    lines = list(log.export_jsonl())
    assert len(lines) == 6 and '"kind": "job.proposed"' in lines[0]


def test_other_key_is_refused(store):
    log = filled(store)
    rep = verify_rows(store, SigningKey.generate().public)
    assert not rep.ok and any("signature invalid" in p for p in rep.problems)
    assert log.verify().ok


def test_store_migrations_are_versioned(store):
    versions = [v for v, _ in MIGRATIONS]   # increasing; v5 (wt-governance) joins at merge
    assert store.version() == versions[-1] and versions == sorted(set(versions))
    assert store.migrate() == MIGRATIONS[-1][0]  # idempotent


def _exec(store, stmt):
    with store.engine.begin() as conn:
        conn.execute(stmt)


def test_edit_detected(store):
    log = filled(store)
    _exec(store, audit.update().where(audit.c.seq == 3)
          .values(data_json='{"method":"GET","path":"/x"}'))
    rep = log.verify()
    assert not rep.ok and any("entry 3" in p and "edited" in p for p in rep.problems)


def test_deletion_detected(store):
    log = filled(store)
    _exec(store, audit.delete().where(audit.c.seq == 2))
    rep = log.verify()
    assert not rep.ok and any("entry 3" in p for p in rep.problems)


def test_truncation_detected(store):
    log = filled(store)
    _exec(store, audit.delete().where(audit.c.seq == 6))
    rep = log.verify()
    assert not rep.ok and any("head" in p for p in rep.problems)


def test_reordering_detected(store):
    log = filled(store)
    _exec(store, audit.update().where(audit.c.seq == 2).values(seq=100))
    _exec(store, audit.update().where(audit.c.seq == 3).values(seq=2))
    _exec(store, audit.update().where(audit.c.seq == 100).values(seq=3))
    rep = log.verify()
    assert not rep.ok and any("link" in p for p in rep.problems)


def test_one_byte_in_sqlite_file_detected(tmp_path):
    """Flip one byte of an audit entry inside the database file itself."""
    cfg = init_node(tmp_path / "n", "securities")
    from yinji.node.identity import signing_key

    store = open_store(cfg.db_url)
    log = AuditLog(store, signing_key(cfg), "securities")
    for _ in range(5):
        log.append(JobStateEvent("0123456789abcdef", "running", "", ""))
    store.close()
    with sqlite3.connect(tmp_path / "n" / "node.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db = tmp_path / "n" / "node.db"
    raw = bytearray(db.read_bytes())
    at = raw.find(b'"state":"running"')
    assert at > 0
    raw[at + len(b'"state":"r')] ^= 0x01      # "running" -> "rtnning"
    db.write_bytes(bytes(raw))
    cli = [sys.executable, "-m", "yinji.cli.main", "audit", "verify", "--home", str(cfg.home)]
    out = subprocess.run(cli, capture_output=True, text=True)
    assert out.returncode == 1 and "edited" in out.stderr, out.stderr


def test_cli_verify_ok(tmp_path):
    cfg = init_node(tmp_path / "n", "fund")
    out = subprocess.run([sys.executable, "-m", "yinji.cli.main", "audit", "verify", "--home",
                          str(cfg.home)], capture_output=True, text=True)
    assert out.returncode == 0 and "audit OK" in out.stdout


def test_no_personal_data_fields():
    """Audit events carry ids, hashes and states only: no field for customer values."""
    from dataclasses import fields

    from yinji.node import audit as mod

    names = {f.name for cls in vars(mod).values()
             if isinstance(cls, type) and issubclass(cls, mod.Event) for f in fields(cls)}
    assert not names & {"value", "values", "customer_id", "rows", "result", "intersection"}
    assert sa is not None
