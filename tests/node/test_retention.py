"""Audit retention: archive + prune keeps the chain verifiable (live log plus archives), and
every way of cheating it is caught: a deleted archive, an edited archived entry, entries
pruned without an archive entry, an archive from another node. JSON-lines log rotation."""

import json
import logging

import pytest
import sqlalchemy as sa

from yinji.cli.main import main as cli
from yinji.node.audit import NodeEvent, verify_rows
from yinji.node.config import NodeConfig
from yinji.node.identity import init_node
from yinji.node.logs import log_file, setup_logging
from yinji.node.node import Node
from yinji.node.retention import RetentionError, archive, verify_archive
from yinji.node.store import audit


def backdate(node, up_to_seq, ts):
    """Re-sign entries 1..up_to_seq as if written at `ts` (a log from long ago)."""
    from yinji.node.audit import _head_message, canonical, entry_hash

    rows = node.store.read(sa.select(audit).order_by(audit.c.seq))
    prev = rows[0]["prev_hash"]    # the genesis, or where an earlier archive ended
    with node.store.write() as conn:
        for r in rows:
            when = ts if r["seq"] <= up_to_seq else r["ts"]
            data = json.loads(r["data_json"])
            digest = entry_hash(r["seq"], when, r["kind"], r["actor"], data, prev,
                                node.audit.profile)
            conn.execute(audit.update().where(audit.c.seq == r["seq"]).values(
                ts=when, prev_hash=prev, hash=digest, data_json=canonical(data).decode(),
                signature=node.key.sign(digest.encode()).hex()))
            prev = digest
        from yinji.node.store import audit_head

        conn.execute(audit_head.update().values(
            seq=rows[-1]["seq"], hash=prev,
            signature=node.key.sign(_head_message(rows[-1]["seq"], prev)).hex()))


def old_log(node, old, new):
    for i in range(old + new):
        node.audit.append(NodeEvent("started", f"entry {i}"))
    backdate(node, old, 1_000_000.0)   # 1970: older than any retention


def test_archive_prunes_and_everything_still_verifies(node, tmp_path):
    old_log(node, 30, 5)
    total = len(node.audit.entries())
    done = archive(node.store, node.audit, 90 * 86400, tmp_path / "a1.jsonl", by="test")
    assert (done["first_seq"], done["last_seq"], done["archived"]) == (1, 30, 30)
    live = node.audit.entries()
    assert live[0]["seq"] == 31 and live[-1]["kind"] == "audit.archived"
    assert len(live) == total - 30 + 1
    assert node.audit.verify().ok                                    # the remainder alone
    report = verify_archive([tmp_path / "a1.jsonl"], node.store, node.key.public)
    assert report.ok, report.problems
    assert report.entries == total + 1                               # nothing lost
    # a second round archives the next stretch; both archives and the live log join up
    backdate(node, live[-1]["seq"], 2_000_000.0)
    more = archive(node.store, node.audit, 90 * 86400, tmp_path / "a2.jsonl", by="test")
    assert more["first_seq"] == 31
    assert node.audit.verify().ok
    both = verify_archive([tmp_path / "a2.jsonl", tmp_path / "a1.jsonl"], node.store,
                          node.key.public)
    assert both.ok, both.problems
    # the first archive's voucher is now inside the second archive: still found
    missing = verify_archive([tmp_path / "a2.jsonl"], node.store, node.key.public)
    assert not missing.ok and "an archive is missing" in " ".join(missing.problems)


def test_nothing_old_nothing_archived(node, tmp_path):
    node.audit.append(NodeEvent("started"))
    before = node.audit.entries()
    assert archive(node.store, node.audit, 86400, tmp_path / "x", by="t")["archived"] == 0
    assert node.audit.entries() == before and not (tmp_path / "x").exists()


def test_tampering_is_caught(node, tmp_path):
    old_log(node, 10, 3)
    archive(node.store, node.audit, 86400, tmp_path / "a.jsonl", by="test")
    lines = (tmp_path / "a.jsonl").read_text().splitlines()
    entry = json.loads(lines[4])
    entry["data"]["detail"] = "something else"
    (tmp_path / "edited.jsonl").write_text("\n".join([*lines[:4], json.dumps(entry),
                                                      *lines[5:]]) + "\n")
    bad = verify_archive([tmp_path / "edited.jsonl"], node.store, node.key.public)
    assert not bad.ok and any("content does not match" in p for p in bad.problems)
    assert any("no signed audit.archived entry" in p for p in bad.problems)
    # someone deletes live entries at the start, without an archive entry naming them
    with node.store.write() as conn:
        conn.execute(audit.delete().where(audit.c.seq <= 12))
    report = verify_rows(node.store, node.key.public)
    assert not report.ok and "no archive entry names them" in report.problems[0]
    # an archive of another node does not verify against this node's key
    other_home = tmp_path / "o"
    init_node(other_home, "fund")
    other = Node(other_home)
    try:
        old_log(other, 5, 2)
        archive(other.store, other.audit, 86400, tmp_path / "o.jsonl", by="test")
        foreign = verify_archive([tmp_path / "o.jsonl"], node.store, node.key.public)
        assert not foreign.ok and any("signature invalid" in p for p in foreign.problems)
    finally:
        other.store.close()


def test_a_log_that_does_not_verify_is_not_archived(node, tmp_path):
    old_log(node, 5, 2)
    with node.store.write() as conn:
        conn.execute(audit.update().where(audit.c.seq == 2).values(kind="edited"))
    before = node.store.read(sa.select(sa.func.count().label("n")).select_from(audit))
    with pytest.raises(RetentionError, match="does not verify"):
        archive(node.store, node.audit, 86400, tmp_path / "a.jsonl", by="test")
    assert node.store.read(sa.select(sa.func.count().label("n")).select_from(audit)) == before
    assert not (tmp_path / "a.jsonl").exists()


def test_cli_archive_and_verify(node, tmp_path, capsys):
    old_log(node, 8, 2)
    home = str(node.home)
    node.store.close()
    out = tmp_path / "arch.jsonl"
    assert cli(["audit", "archive", "--home", home, "--older-than", "30d", "--out",
                str(out)]) == 0
    assert "archived entries 1..8 (8)" in capsys.readouterr().out
    assert cli(["audit", "archive", "--home", home, "--older-than", "30d", "--out",
                str(out)]) == 1
    assert "not overwriting" in capsys.readouterr().err
    assert cli(["audit", "verify", "--home", home]) == 0
    assert cli(["audit", "verify", "--home", home, "--archive", str(out)]) == 0
    assert "audit OK" in capsys.readouterr().out
    out.write_text(out.read_text().replace('"entry 3"', '"entry 4"'))
    assert cli(["audit", "verify", "--home", home, "--archive", str(out)]) == 1
    assert "content does not match" in capsys.readouterr().err


def test_json_log_lines_rotate(tmp_path):
    cfg = init_node(tmp_path / "l", "logger")
    cfg.log_max_mb, cfg.log_backups = 1, 2
    handler = setup_logging(cfg)
    try:
        assert setup_logging(cfg) is handler          # once per file
        log = logging.getLogger("yinji.node.test")
        for i in range(4000):
            log.warning("round %d of %s", i, "x" * 1000)
        files = sorted(p.name for p in log_file(cfg).parent.iterdir())
        assert files == ["node.log", "node.log.1", "node.log.2"]   # rotated, bounded
        for p in log_file(cfg).parent.iterdir():
            for line in p.read_text().splitlines():
                rec = json.loads(line)
                assert rec["level"] == "WARNING" and rec["logger"] == "yinji.node.test"
                assert rec["message"].startswith("round ") and "time" in rec
    finally:
        for name in ("yinji", "uvicorn.error"):
            logging.getLogger(name).removeHandler(handler)
        handler.close()
    bad = tmp_path / "l" / "node.yaml"
    bad.write_text(bad.read_text() + "log_backups: 0\n")
    with pytest.raises(ValueError, match="log_backups"):
        NodeConfig.load(tmp_path / "l")
