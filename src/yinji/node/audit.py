"""Tamper-evident audit log (计算留痕、调用留痕): append-only, hash-chained, signed.

Entry n stores `hash_n = H(canonical JSON of seq, ts, kind, actor, data, prev_hash)`
with `prev_hash = hash_{n-1}` (64 zeros for the first) and the node's signature of
`hash_n`. A signed head (last seq and hash) is rewritten with every append. `verify` finds:
an edited entry (its hash no longer matches), a deleted entry (a gap in seq and a broken
link), reordered entries (broken links), a truncated tail (the head names a later entry), and
entries or a head not signed by the node's key (someone who can write the database but does
not hold the key cannot re-sign a forged chain).

What `verify` alone cannot find: the node's own operator holds the key, so deleting the newest
entries and restoring an earlier signed head, or rewriting history and re-signing it, passes.
Peers' stored copies of the signed head catch both (yinji.node.anchors: `verify_with_peers`,
`yinji audit verify --peers`) for everything up to the last head a peer accepted.

H and the signature follow the node's crypto profile (`yinji.crypto.profile`): SHA-256 and
Ed25519 (`international`) or SM3 and SM2 (`sm`). The profile is the signing key's, so a log
written under one profile does not verify under the other (`check_log_profile` says so).

Entries carry only identifiers (jobs, datasets, peers, tokens' names), hashes, states and
counts — never customer values. Job entries carry the hash of the signed approvals of every
participant, so nodes can cross-check each other's records (`approvals_hash`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

import sqlalchemy as sa

from yinji.crypto.profile import (
    PROFILES,
    CryptoProfile,
    ProfileMismatch,
    get_profile,
    profile_of_public_key,
    verify_signature,
)
from yinji.crypto.sign import KeyFormatError, SigningKey, Sm2SigningKey
from yinji.node.store import Store, audit, audit_head

GENESIS = "0" * 64
_log = logging.getLogger(__name__)


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- typed events ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Event:
    kind: ClassVar[str] = "event"


@dataclass(frozen=True)
class NodeEvent(Event):
    kind: ClassVar[str] = "node"
    action: str                      # started | stopped | recovered
    detail: str = ""


@dataclass(frozen=True)
class ApiCallEvent(Event):
    kind: ClassVar[str] = "api.call"
    method: str
    path: str
    status: int
    principal: str = ""              # token name, or "" when unauthenticated
    role: str = ""
    allowed: bool = True


@dataclass(frozen=True)
class PeerCallEvent(Event):
    kind: ClassVar[str] = "peer.call"
    peer: str
    op: str
    job_id: str = ""
    accepted: bool = True
    reason: str = ""


@dataclass(frozen=True)
class PeerChangeEvent(Event):
    kind: ClassVar[str] = "peer.change"
    peer: str
    action: str                      # added | replaced | removed
    fingerprint: str = ""
    by: str = ""                     # "cli:<os user>" or a token's name
    previous: str = ""               # the fingerprint it had before (replaced, removed)


@dataclass(frozen=True)
class DatasetEvent(Event):
    """A catalog change (yinji.node.catalog): the descriptor before and after -- kind,
    location, table, schema, policy, revision; never a value of the data."""

    kind: ClassVar[str] = "dataset"
    dataset_id: str
    action: str                      # registered | updated
    columns: list[str] = field(default_factory=list)
    by: str = ""                     # "cli:<os user>" or a token's name
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TokenEvent(Event):
    """An API token created or revoked: its id, name, role and expiry -- never the token or
    its hash."""

    kind: ClassVar[str] = "token"
    token_id: str
    name: str
    role: str
    action: str                      # created | revoked
    by: str = ""
    expires: float | None = None
    scopes: list[str] = field(default_factory=list)   # caller tokens: scenario endpoints


@dataclass(frozen=True)
class StandingApprovalEvent(Event):
    """A standing approval set or revoked (yinji.node.standing): the whole rule, so the log
    alone says what was pre-approved, by whom and until when."""

    kind: ClassVar[str] = "approval.standing"
    rule_id: str
    action: str                      # added | revoked
    rule: dict[str, Any] = field(default_factory=dict)
    by: str = ""                     # "cli:<os user>" or a token's name
    expires: float | None = None


@dataclass(frozen=True)
class JobProposedEvent(Event):
    kind: ClassVar[str] = "job.proposed"
    job_id: str
    proposer: str
    protocol: str
    spec_hash: str
    parties: list[str]
    recipients: list[str]


@dataclass(frozen=True)
class ApprovalEvent(Event):
    kind: ClassVar[str] = "job.approval"
    job_id: str
    node: str
    decision: str                    # approve | reject
    spec_hash: str
    approval_hash: str
    by: str = ""                     # "policy", a token's name, or the peer that sent it
    reason: str = ""


@dataclass(frozen=True)
class JobStateEvent(Event):
    kind: ClassVar[str] = "job.state"
    job_id: str
    state: str
    reason: str = ""
    approvals_hash: str = ""


@dataclass(frozen=True)
class ResultDeliveredEvent(Event):
    kind: ClassVar[str] = "job.result"
    job_id: str
    recipient: str
    result_hash: str


@dataclass(frozen=True)
class PirServedEvent(Event):
    """A peer queried one of this node's PIR services: who (its certificate's name), how
    many keys, which database version — never a key, token, bucket or label."""

    kind: ClassVar[str] = "pir.served"
    service: str
    client: str
    op: str                          # oprf (key evaluation) | pir (bucket fetch)
    keys: int
    version: str
    status: str                      # ok | stale | rate_limited


@dataclass(frozen=True)
class PirCallEvent(Event):
    """This node asked members' PIR services (POST /pir/query): counts and statuses only."""

    kind: ClassVar[str] = "pir.query"
    service: str
    principal: str
    keys: int
    members: list[str]
    statuses: dict[str, str]         # member -> ok | down | timeout | rate_limited | error


@dataclass(frozen=True)
class PirServiceEvent(Event):
    kind: ClassVar[str] = "pir.service"
    service: str
    action: str                      # published | failed | stopped
    dataset: str
    version: str = ""
    records: int = 0
    by: str = ""
    reason: str = ""


@dataclass(frozen=True)
class ModelStoredEvent(Event):
    """This node stored its part of a jointly trained model (yinji.node.model_jobs)."""

    kind: ClassVar[str] = "model.stored"
    model: str
    version: int
    model_kind: str
    job_id: str
    parties: list[str]


@dataclass(frozen=True)
class ModelPredictionEvent(Event):
    """A joint prediction this node took part in: who asked and how many IDs -- never an
    ID, a feature value or a score."""

    kind: ClassVar[str] = "model.predict"
    job_id: str
    model: str
    version: int
    requester: str                   # the node that receives the scores
    principal: str                   # the requester's token name
    ids: int
    status: str                      # scoring | unknown_ids (nothing scored)


@dataclass(frozen=True)
class ScenarioEvent(Event):
    """A scenario API published, proposed to this node, approved or rejected by a node,
    active, retired (yinji.node.scenarios): the endpoint and the hash of its definition."""

    kind: ClassVar[str] = "scenario"
    publisher: str
    scenario: str
    version: int
    action: str                      # published | proposed | approved | rejected | active |
    def_hash: str                    # retired | failed
    node: str = ""                   # whose decision (approved / rejected)
    by: str = ""
    reason: str = ""
    rule_id: str = ""                # this node's standing approval for it


@dataclass(frozen=True)
class ScenarioCallEvent(Event):
    """One call of a scenario API (调用留痕). At the called node (`where` = endpoint) every
    call, refused ones included, with its HTTP status, result size and latency; at every node
    of the job it started (`where` = participant) the same call id and params hash with that
    node's policy decision. Never a parameter value or a private input."""

    kind: ClassVar[str] = "scenario.call"
    call_id: str
    caller: str
    publisher: str
    scenario: str
    version: int
    params_sha256: str
    where: str                       # endpoint | participant
    decision: str                    # endpoint: ok | refused | failed | timeout;
    status: int = 0                  # participant: approve | reject | pending
    job_id: str = ""
    result_size: int = 0             # bytes of the result JSON returned
    latency_ms: float = 0.0
    reason: str = ""


# -- the log --------------------------------------------------------------------------------

def entry_hash(seq: int, ts: float, kind: str, actor: str, data: dict[str, Any],
               prev_hash: str, profile: str | CryptoProfile = "international") -> str:
    return get_profile(profile).hash_hex(canonical({"seq": seq, "ts": ts, "kind": kind,
                                                   "actor": actor, "data": data,
                                                   "prev": prev_hash}))


def check_log_profile(store: Store, profile: str | CryptoProfile) -> None:
    """Raise `ProfileMismatch` if the newest entry was hashed under another crypto profile
    (the node's profile was changed after it wrote its log)."""
    profile = get_profile(profile)
    rows = store.read(sa.select(audit).order_by(audit.c.seq.desc()).limit(1))
    other = _other_profile(rows[0], profile) if rows else None
    if other:
        raise ProfileMismatch(f"the audit log was written under crypto profile {other!r} "
                              f"but this node's profile is {profile.name!r}; a node's "
                              "profile is fixed at `yinji node init` (its log would no "
                              "longer verify)")


def _other_profile(row: dict[str, Any], profile: CryptoProfile) -> str | None:
    """The other profile an entry is hashed under, if its hash is wrong under `profile` but
    right under that one."""
    try:
        fields = (row["seq"], row["ts"], row["kind"], row["actor"],
                  json.loads(row["data_json"]), row["prev_hash"])
        if entry_hash(*fields, profile) == row["hash"]:
            return None
        return next((p for p in PROFILES
                     if p != profile.name and entry_hash(*fields, p) == row["hash"]), None)
    except (ValueError, TypeError):
        return None  # a damaged entry is for `verify_rows` to report


def _head_message(seq: int, digest: str) -> bytes:
    return f"yinji-audit-head/1 {seq} {digest}".encode()


def head_signature_valid(public_key: str, seq: int, digest: str, signature: str) -> bool:
    """True if `signature` (hex) is `public_key`'s signature of the head (seq, digest); peers
    check anchored heads with it (yinji.node.anchors)."""
    try:
        return verify_signature(public_key, bytes.fromhex(signature),
                                _head_message(seq, digest))
    except ValueError:
        return False


@dataclass
class VerifyReport:
    ok: bool
    entries: int
    problems: list[str]
    head: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class AuditLog:
    """Appends events to the store's `audit` table and verifies the chain."""

    def __init__(self, store: Store, key: SigningKey | Sm2SigningKey, actor: str) -> None:
        self.store, self.key, self.actor = store, key, actor
        self.profile = get_profile(key.profile)
        self.listeners: list[Callable[[Event], None]] = []   # e.g. /metrics counters

    def append(self, event: Event, attempts: int = 8) -> dict[str, Any]:
        """Append, retrying when another process (the CLI next to a running node) appended
        the same sequence number first (SQLite: stale snapshot; PostgreSQL: key conflict)."""
        for attempt in range(attempts):
            try:
                row = self._append_once(event)
            except (sa.exc.IntegrityError, sa.exc.OperationalError):
                if attempt == attempts - 1:
                    raise
                time.sleep(0.01 * (attempt + 1))
                continue
            for listener in self.listeners:
                try:
                    listener(event)
                except Exception:  # noqa: BLE001 - a counter must not fail the audited action
                    _log.exception("audit listener failed")
            return row
        raise AssertionError("unreachable")

    def _append_once(self, event: Event) -> dict[str, Any]:
        data = asdict(event)
        with self.store.write() as conn:
            last = conn.execute(sa.select(audit.c.seq, audit.c.hash)
                                .order_by(audit.c.seq.desc()).limit(1)).first()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            ts = round(time.time(), 6)
            digest = entry_hash(seq, ts, event.kind, self.actor, data, prev, self.profile)
            sig = self.key.sign(digest.encode()).hex()
            row = {"seq": seq, "ts": ts, "kind": event.kind, "actor": self.actor,
                   "data_json": canonical(data).decode(), "prev_hash": prev, "hash": digest,
                   "signature": sig}
            conn.execute(audit.insert().values(**row))
            head_sig = self.key.sign(_head_message(seq, digest)).hex()
            if conn.execute(audit_head.update().where(audit_head.c.id == 1)
                            .values(seq=seq, hash=digest, signature=head_sig)).rowcount == 0:
                conn.execute(audit_head.insert().values(id=1, seq=seq, hash=digest,
                                                        signature=head_sig))
        return row

    def entries(self, *, after: int = 0, limit: int | None = None,
                job_id: str | None = None) -> list[dict[str, Any]]:
        q = sa.select(audit).where(audit.c.seq > after).order_by(audit.c.seq)
        if limit:
            q = q.limit(limit)
        rows = [public_entry(r) for r in self.store.read(q)]
        if job_id:
            rows = [r for r in rows if r["data"].get("job_id") == job_id]
        return rows

    def export_jsonl(self) -> Iterator[str]:
        for row in self.entries():
            yield json.dumps(row, sort_keys=True, ensure_ascii=False)

    def verify(self, public_key: str | None = None) -> VerifyReport:
        return verify_rows(self.store, public_key or self.key.public, self.profile)


ARCHIVED = "audit.archived"


@dataclass(frozen=True)
class AuditArchivedEvent(Event):
    """Entries `first_seq`..`up_to_seq` were exported to an archive (whose SHA-256 is
    `archive_sha256`) and then pruned; the live log continues from `up_to_hash`. Signed and
    chained like every entry, it lets `verify_rows` accept the pruned start and
    `yinji.node.retention.verify_archive` tie the archive to the log."""

    kind: ClassVar[str] = ARCHIVED
    first_seq: int
    up_to_seq: int
    up_to_hash: str
    entries: int
    archive_sha256: str
    by: str = ""


def _archived_base(row: dict[str, Any]) -> tuple[int, str] | None:
    try:
        data = json.loads(row["data_json"])
        return int(data["up_to_seq"]), str(data["up_to_hash"])
    except (ValueError, KeyError, TypeError):
        return None


def public_entry(row: dict[str, Any]) -> dict[str, Any]:
    return {"seq": row["seq"], "ts": row["ts"], "kind": row["kind"], "actor": row["actor"],
            "data": json.loads(row["data_json"]), "prev_hash": row["prev_hash"],
            "hash": row["hash"], "signature": row["signature"]}


def verify_rows(store: Store, public_key: str,
                profile: str | CryptoProfile | None = None) -> VerifyReport:
    """Check every entry's hash, link and signature, the sequence and the signed head, with
    `profile`'s hash and signature (default: the profile `public_key` belongs to)."""
    problems: list[str] = []
    try:
        prof = get_profile(profile) if profile else profile_of_public_key(public_key)
    except (ValueError, KeyFormatError) as exc:
        return VerifyReport(False, 0, [f"cannot verify: {exc}"])
    verify = prof.verify
    try:
        rows = store.read(sa.select(audit).order_by(audit.c.seq))
        heads = store.read(sa.select(audit_head))
    except Exception as exc:  # noqa: BLE001 - a corrupted database is a failed verification
        return VerifyReport(False, 0, [f"audit store unreadable: {type(exc).__name__}: {exc}"])
    prev, expected_seq = GENESIS, 1
    if rows and rows[0]["seq"] > 1:   # archived and pruned (yinji.node.retention)?
        first = rows[0]
        if any(r["kind"] == ARCHIVED and _archived_base(r) == (first["seq"] - 1,
                                                               first["prev_hash"])
               for r in rows):
            prev, expected_seq = first["prev_hash"], first["seq"]
        else:
            problems.append(f"entries 1..{first['seq'] - 1} missing and no archive entry "
                            "names them (deleted)")
    for row in rows:
        seq = row["seq"]
        if len(problems) > 20:
            problems.append("... (stopped after 20 problems)")
            break
        if seq != expected_seq:
            problems.append(f"entry {seq}: expected sequence number {expected_seq} "
                            "(entries deleted or reordered)")
        if row["prev_hash"] != prev:
            problems.append(f"entry {seq}: does not link to the previous entry "
                            "(deleted, inserted or reordered entries)")
        try:
            data = json.loads(row["data_json"])
            digest = entry_hash(seq, row["ts"], row["kind"], row["actor"], data,
                                row["prev_hash"], prof)
        except (ValueError, TypeError) as exc:
            problems.append(f"entry {seq}: unreadable data ({exc})")
            digest = ""
        if digest != row["hash"]:
            other = _other_profile(row, prof)
            problems.append(f"entry {seq}: content does not match its hash " + (
                f"(hashed under crypto profile {other!r}, not {prof.name!r}: the node's "
                "profile was changed after init)" if other else "(edited)"))
        try:
            sig_ok = verify(public_key, bytes.fromhex(row["signature"]), row["hash"].encode())
        except ValueError:
            sig_ok = False
        if not sig_ok:
            problems.append(f"entry {seq}: signature invalid")
        prev, expected_seq = row["hash"], seq + 1
    last_seq, last_hash = (rows[-1]["seq"], rows[-1]["hash"]) if rows else (0, GENESIS)
    if not heads:
        if rows:
            problems.append("signed head missing")
    else:
        head = heads[0]
        try:
            head_ok = verify(public_key, bytes.fromhex(head["signature"]),
                             _head_message(head["seq"], head["hash"]))
        except ValueError:
            head_ok = False
        if not head_ok:
            problems.append("signed head: signature invalid")
        if (head["seq"], head["hash"]) != (last_seq, last_hash):
            problems.append(f"signed head names entry {head['seq']} but the log ends at "
                            f"{last_seq} (entries deleted or edited at the end)")
    return VerifyReport(not problems, len(rows), problems, last_hash)
