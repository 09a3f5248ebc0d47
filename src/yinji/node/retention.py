"""Audit retention: export the entries older than N days to an archive file and prune them,
so the log in the store stays small while the whole history stays verifiable.

Why: the audit log only grows; regulations ask to keep it for years, but not necessarily in
the node's live database. An archive is JSON lines: a header (node, profile, first and last
sequence number, the hash the first entry links to, the last entry's hash), then the entries
exactly as `yinji audit export` writes them (seq, ts, kind, actor, data, prev_hash, hash,
signature).

How the chain stays verifiable: before pruning, the node appends a signed `audit.archived`
entry naming the last archived entry (seq and hash) and the archive file's SHA-256. The live
log then starts at a later seq whose `prev_hash` is that hash; `verify_rows` accepts that
start only if such a signed entry names it. `verify_archive` checks each archive's entries
(hashes, links, signatures), that archives and live log join without a gap, and that a signed
`audit.archived` entry (in the live log or a later archive) names each archive's last entry
and file hash. A failed step leaves the log as it was: nothing is pruned unless the archive
is written and the `audit.archived` entry is in the log, and a log that does not verify is
not archived at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from yinji.crypto.profile import get_profile
from yinji.node.audit import (
    ARCHIVED,
    GENESIS,
    AuditArchivedEvent,
    AuditLog,
    VerifyReport,
    entry_hash,
    public_entry,
    verify_rows,
)
from yinji.node.store import Store, audit

FORMAT = "yinji-audit-archive/1"


class RetentionError(ValueError):
    """Archiving refused (the message says why); nothing was changed."""


def archive(store: Store, log: AuditLog, older_than: float, out: str | os.PathLike[str], *,
            by: str, now: float | None = None) -> dict[str, Any]:
    """Archive (to `out`) and prune the entries older than `older_than` seconds."""
    out = Path(out)
    if out.exists():
        raise RetentionError(f"{out} exists; not overwriting an archive")
    report = verify_rows(store, log.key.public, log.profile)
    if not report.ok:
        raise RetentionError("the audit log does not verify; not archiving: "
                             + "; ".join(report.problems[:3]))
    cutoff = (time.time() if now is None else now) - older_than
    rows = store.read(sa.select(audit).where(audit.c.ts < cutoff).order_by(audit.c.seq))
    first = store.read(sa.select(audit).order_by(audit.c.seq).limit(1))
    old = []
    for row in rows:   # a prefix of the log: stop at the first gap in sequence numbers
        if row["seq"] != (old[-1]["seq"] + 1 if old else first[0]["seq"]):
            break
        old.append(row)
    if not old:
        return {"archived": 0, "out": None}
    header = {"format": FORMAT, "node": log.actor, "profile": log.profile.name,
              "public_key": log.key.public, "first_seq": old[0]["seq"],
              "last_seq": old[-1]["seq"], "prev_hash": old[0]["prev_hash"],
              "last_hash": old[-1]["hash"], "entries": len(old), "created": time.time()}
    lines = [json.dumps(header, sort_keys=True)] + [
        json.dumps(public_entry(r), sort_keys=True, ensure_ascii=False) for r in old]
    data = ("\n".join(lines) + "\n").encode()
    tmp = out.with_name(f".{out.name}.part")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    digest = hashlib.sha256(data).hexdigest()
    log.append(AuditArchivedEvent(old[0]["seq"], old[-1]["seq"], old[-1]["hash"], len(old),
                                  digest, by))
    with store.write() as conn:
        conn.execute(audit.delete().where(audit.c.seq <= old[-1]["seq"]))
    return {"archived": len(old), "first_seq": old[0]["seq"], "last_seq": old[-1]["seq"],
            "sha256": digest, "out": str(out)}


def _read(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    data = path.read_bytes()
    lines = data.decode("utf-8").splitlines()
    try:
        header = json.loads(lines[0])
        entries = [json.loads(line) for line in lines[1:] if line.strip()]
    except (IndexError, ValueError) as exc:
        raise RetentionError(f"{path}: not an audit archive ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RetentionError(f"{path}: not an audit archive (no {FORMAT} header)")
    return header, entries, hashlib.sha256(data).hexdigest()


def verify_archive(paths: list[str | os.PathLike[str]], store: Store,
                   public_key: str) -> VerifyReport:
    """The live log plus its archives: each archive's chain and signatures, the joins
    between archives and the live log, and the signed `audit.archived` entry per archive."""
    live = verify_rows(store, public_key)
    problems = [f"live log: {p}" for p in live.problems]
    archives = []
    for p in paths:
        try:
            archives.append((Path(p), *_read(Path(p))))
        except (OSError, RetentionError) as exc:
            problems.append(str(exc))
    archives.sort(key=lambda a: a[1].get("first_seq", 0))
    live_rows = [public_entry(r) for r in store.read(sa.select(audit).order_by(audit.c.seq))]
    vouchers = [e for e in live_rows + [e for a in archives for e in a[2]]
                if e.get("kind") == ARCHIVED]
    prev, expected, total = GENESIS, 1, 0
    for path, header, entries, digest in archives:
        prof = get_profile(header.get("profile", "international"))
        if header.get("first_seq") != expected or header.get("prev_hash") != prev:
            problems.append(f"{path.name}: starts at seq {header.get('first_seq')}, expected "
                            f"{expected} (an archive is missing or out of order)")
        for e in entries:
            seq = e.get("seq")
            if seq != expected or e.get("prev_hash") != prev:
                problems.append(f"{path.name}: entry {seq}: breaks the chain")
            try:
                ok_hash = entry_hash(seq, e["ts"], e["kind"], e["actor"], e["data"],
                                     e["prev_hash"], prof) == e["hash"]
                ok_sig = prof.verify(public_key, bytes.fromhex(e["signature"]),
                                     e["hash"].encode())
            except (KeyError, TypeError, ValueError):
                ok_hash = ok_sig = False
            if not ok_hash:
                problems.append(f"{path.name}: entry {seq}: content does not match its hash")
            if not ok_sig:
                problems.append(f"{path.name}: entry {seq}: signature invalid")
            prev, expected = e.get("hash", ""), (seq or 0) + 1
            total += 1
        if (header.get("last_seq"), header.get("last_hash")) != (expected - 1, prev):
            problems.append(f"{path.name}: header does not name its last entry")
        if not any((v["data"].get("up_to_seq"), v["data"].get("up_to_hash"),
                    v["data"].get("archive_sha256")) == (expected - 1, prev, digest)
                   for v in vouchers):
            problems.append(f"{path.name}: no signed audit.archived entry names this archive "
                            "(edited, or not this node's)")
        if len(problems) > 20:
            break
    if live_rows and (live_rows[0]["seq"], live_rows[0]["prev_hash"]) != (expected, prev):
        problems.append(f"live log starts at seq {live_rows[0]['seq']} but the archives end "
                        f"at {expected - 1} (an archive is missing)")
    return VerifyReport(not problems, total + live.entries, problems, live.head)


__all__ = ["FORMAT", "RetentionError", "archive", "verify_archive"]
