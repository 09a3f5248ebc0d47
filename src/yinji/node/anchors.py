"""Anchored audit heads: peers witness each node's signed audit head, so the node's own
operator cannot roll its log back or fork it unnoticed.

Why: the operator holds the node's signing key (yinji.node.audit), so the signed hash chain
alone lets them delete the newest entries and restore an earlier signed head, or rewrite
history and sign it again; `verify` passes both. Copies of the head held by peers do not.

Protocol (data-plane op "anchor"; mutual TLS tells the witness which node is speaking):
- node -> witness `{"type": "head", "seq", "hash", "signature"}`: the signed head as
  `AuditLog` wrote it. The witness checks the signature with the node's pinned key and refuses
  a head that contradicts what it holds for that node -- another hash at its highest anchored
  seq ("fork") or a lower seq ("rollback") -- and audits the refusal. Otherwise it stores
  (node, seq, hash, node signature, time) and returns that row with its countersignature of
  "yinji-audit-anchor/1 witness node seq hash time"; the node checks it and stores it too.
- node -> witness `{"type": "list", "after", "limit"}`: the heads the witness holds for the
  asking node (never another node's), in pages of at most `PAGE`.
A node anchors every `anchor_period` seconds (node.yaml, default 60), when it stops, and on
demand (`POST /audit/anchor`, `yinji audit anchor`), one round at a time so that every
witness receives its heads in order.

Verification (`verify_with_peers`; `yinji audit verify --peers`, `GET /audit/verify/peers`):
the local chain verifies, and for every peer each head it returns carries the node's and the
witness's valid signatures (otherwise it is rejected and reported), the local log reaches its
seq (otherwise "rollback") and holds the same hash there (otherwise "fork"). A peer that cannot
be asked fails the check as well: cutting the network must not make a rolled-back log pass.

Adversary model: the node's operator controls the node completely (database, signing key,
code, network); witnesses are semi-honest and at least one of them does not collude with the
operator. A lying witness cannot frame the node: every head it reports must carry the node's
signature, and a witness's countersignature binds it to what it reported.
- The operator cannot change, delete, reorder or re-sign any entry at or before the newest
  head an honest witness accepted: the hash chain ties every earlier entry to that head.
- The operator can hide entries appended after the last accepted anchor (up to one period's,
  and everything once it stops anchoring); it can stop anchoring, which witnesses see as a
  stale anchor (`GET /audit/anchors`: age, and `stale` after `STALE_PERIODS` periods of the
  witness's own `anchor_period`); and it can run a lying verifier on its own machine, so an
  independent auditor checks the node's export against each witness's
  `GET /audit/anchors/{node}` rather than trusting the node's verdict.
Leakage to a witness: the node's number of audit entries over time (its activity level) and
its head hashes. A hash is not hiding: a witness can test a guess of the few entries between
two anchors (entries hold identifiers, states and counts, never customer values).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from yinji.crypto.profile import verify_signature
from yinji.crypto.sign import SigningKey, Sm2SigningKey
from yinji.net.channel import ChannelError
from yinji.node import identity
from yinji.node.audit import AuditLog, PeerCallEvent, head_signature_valid, verify_rows
from yinji.node.config import ConfigError, NodeConfig
from yinji.node.dataplane import DataPlane
from yinji.node.store import Store, audit, audit_anchors, audit_head

Send = Callable[[str, dict[str, Any], float], dict[str, Any]]

PAGE = 500            # heads per list reply (~200 KB, far below the data plane's 4 MiB frame)
MAX_PAGES = 20_000    # a verifier reads at most this many pages per peer (10^7 heads)
STALE_PERIODS = 3     # a witness calls a node's anchor stale after this many of its periods
STOP_TIMEOUT = 3.0    # seconds the last anchor on stop may wait for each peer
_MAX_SEQ = 2**62
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SIG = re.compile(r"(?:[0-9a-f]{2}){1,256}")
_C = audit_anchors.c


class AnchorError(ValueError):
    """A head, receipt or request that cannot be accepted; the message says why."""


def _receipt_message(witness: str, node: str, seq: int, digest: str, at: float) -> bytes:
    return f"yinji-audit-anchor/1 {witness} {node} {seq} {digest} {at:.6f}".encode()


def _countersign(key: SigningKey | Sm2SigningKey, witness: str, node: str, seq: int, digest: str,
                 at: float) -> str:
    return key.sign(_receipt_message(witness, node, seq, digest, at)).hex()


def _countersigned(public_key: str, row: dict[str, Any]) -> bool:
    return verify_signature(public_key, bytes.fromhex(row["witness_signature"]), _receipt_message(
        row["witness"], row["node"], row["seq"], row["hash"], row["anchored"]))


def _head(seq: Any, digest: Any, signature: Any) -> tuple[int, str, str]:
    """A head's fields from a peer, checked for type and size."""
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq <= _MAX_SEQ:
        raise AnchorError(f"head seq must be an integer from 1 to 2^62, got {seq!r:.40}")
    if not isinstance(digest, str) or not _HEX64.fullmatch(digest):
        raise AnchorError(f"head hash must be 64 lowercase hex digits, got {digest!r:.80}")
    if not isinstance(signature, str) or not _SIG.fullmatch(signature):
        raise AnchorError("head signature must be hex, at most 256 bytes")
    return seq, digest, signature


def check_anchor(row: Any, node: str, witness: str, node_key: str, witness_key: str) -> str:
    """Why an anchored head from `witness` about `node` must be rejected ("" if it is sound):
    well-formed, signed by the node's key and countersigned by the witness's."""
    if not isinstance(row, dict):
        return "an anchored head must be an object"
    try:
        seq, digest, _ = _head(row.get("seq"), row.get("hash"), row.get("node_signature"))
        _head(seq, digest, row.get("witness_signature"))
    except AnchorError as exc:
        return str(exc)
    at = row.get("anchored")
    if (row.get("node"), row.get("witness")) != (node, witness):
        return f"head at seq {seq} names node {row.get('node')!r:.40} and witness " \
               f"{row.get('witness')!r:.40}"
    if not isinstance(at, int | float) or isinstance(at, bool):
        return f"head at seq {seq} has no anchoring time"
    if not head_signature_valid(node_key, seq, digest, row["node_signature"]):
        return f"head at seq {seq}: {node}'s signature does not verify"
    if not _countersigned(witness_key, {**row, "anchored": float(at)}):
        return f"head at seq {seq}: {witness}'s countersignature does not verify"
    return ""


def _public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("node", "witness", "seq", "hash", "node_signature",
                                "witness_signature", "anchored")}


def _conflict(conn: sa.Connection, node: str, witness: str, seq: int, digest: str) -> str:
    """Why `witness` must refuse `node`'s head (seq, digest) given what it holds ("" if not)."""
    top = conn.execute(sa.select(_C.seq, _C.hash).where(_C.node == node, _C.witness == witness)
                       .order_by(_C.seq.desc()).limit(1)).first()
    if top is None or seq > top.seq:
        return ""
    if seq < top.seq:
        return f"rollback: head at seq {seq} is below the head anchored at seq {top.seq}"
    if digest != top.hash:
        return f"fork at seq {seq}: a different head was anchored at this seq"
    return ""


def _upsert(conn: sa.Connection, row: dict[str, Any]) -> None:
    """Store an anchored head; the same head again only refreshes its time and receipt."""
    same = (_C.node == row["node"], _C.witness == row["witness"], _C.seq == row["seq"],
            _C.hash == row["hash"])
    if conn.execute(audit_anchors.update().where(*same).values(
            anchored=row["anchored"], witness_signature=row["witness_signature"])).rowcount == 0:
        conn.execute(audit_anchors.insert().values(**row))


def heads(store: Store, node: str, witness: str, *, after: int = 0,
          limit: int = PAGE) -> list[dict[str, Any]]:
    """Heads of `node` that `witness` anchored, in seq order, after `after`."""
    return [_public(r) for r in store.read(
        sa.select(audit_anchors).where(_C.node == node, _C.witness == witness, _C.seq > after)
        .order_by(_C.seq).limit(limit))]


def sender(plane: DataPlane) -> Send:
    """Anchor messages over `plane`; a peer that is down fails at once (the next round
    tries again), so a node stopping after its peers is not held up."""
    return lambda peer, body, timeout: plane.request(peer, body, timeout, op="anchor",
                                                     retry=False)


def peer_client(cfg: NodeConfig) -> Send:
    """Anchor messages to peers with this node's TLS identity, without a listener (for the
    offline `yinji audit verify --peers`)."""
    tls = identity.tls_config(cfg)
    plane = DataPlane(cfg.name, (cfg.dataplane_host, cfg.dataplane_port), lambda: tls,
                      lambda p: cfg.peers[p].address, _no_messages, lambda *_: "no channels")
    return sender(plane)


def _no_messages(peer: str, body: dict[str, Any]) -> dict[str, Any]:
    return {"ok": False, "error": "not listening"}


class Anchors:
    """One node's anchoring: it sends its signed head to its peers and keeps their receipts,
    and it witnesses theirs (the data plane hands it their "anchor" messages)."""

    def __init__(self, cfg: NodeConfig, store: Store, key: SigningKey, audit_log: AuditLog,
                 send: Send) -> None:
        period = cfg.anchor_period
        if isinstance(period, bool) or not isinstance(period, int | float) or period < 0:
            raise ConfigError(f"{cfg.home / 'node.yaml'}: anchor_period must be a number of "
                              f"seconds >= 0 (0: only on stop and on demand), got {period!r}")
        self.cfg, self.store, self.key, self.audit, self.send = cfg, store, key, audit_log, send
        self.period = float(period)
        self.last_round: dict[str, Any] | None = None
        self._round = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- this node's head -------------------------------------------------------------------
    def start(self) -> None:
        """Anchor now and then every period, in the background (not if the period is 0)."""
        if self.period > 0 and self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name=f"yinji-anchors {self.cfg.name}")
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None

    def _run(self) -> None:
        while True:
            try:
                self.anchor_now()
            except Exception as exc:  # noqa: BLE001 - the loop outlives a failed round
                self.last_round = {"seq": 0, "hash": "", "time": time.time(), "peers": {},
                                   "error": f"{type(exc).__name__}: {exc}"}
            if self._stop.wait(self.period):
                return

    def anchor_now(self, timeout: float = 5.0) -> dict[str, Any]:
        """Send the current signed head to every peer at once; per peer, whether it was
        accepted (and the receipt stored) or why not."""
        with self._round:
            rows = self.store.read(sa.select(audit_head))
            outcome: dict[str, Any] = {"seq": 0, "hash": "", "time": time.time(), "peers": {}}
            if rows:
                head = {"type": "head", "seq": rows[0]["seq"], "hash": rows[0]["hash"],
                        "signature": rows[0]["signature"]}
                peers = sorted(self.cfg.peers)
                with ThreadPoolExecutor(max_workers=max(len(peers), 1)) as pool:
                    done = pool.map(lambda p: self._anchor_at(p, head, timeout), peers)
                    outcome.update(seq=head["seq"], hash=head["hash"],
                                   peers=dict(zip(peers, done, strict=True)))
            self.last_round = outcome
            return outcome

    def _anchor_at(self, peer: str, head: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            reply = self.send(peer, head, timeout)
        except (ChannelError, OSError, ValueError) as exc:
            return {"ok": False, "error": f"unreachable: {exc}"[:300]}
        if not reply.get("ok"):
            return {"ok": False, "error": f"refused: {reply.get('error', '')}"[:300]}
        receipt = reply.get("receipt")
        problem = check_anchor(receipt, self.cfg.name, peer, self.key.public,
                               self.cfg.peers[peer].signing_key)
        if not problem and (receipt["seq"], receipt["hash"], receipt["node_signature"]) != \
                (head["seq"], head["hash"], head["signature"]):
            problem = f"the receipt is for another head (seq {receipt['seq']})"
        if problem:
            self.audit.append(PeerCallEvent(peer, "anchor", accepted=False,
                                            reason=f"bad receipt: {problem}"[:300]))
            return {"ok": False, "error": f"bad receipt, not stored: {problem}"[:300]}
        try:
            with self.store.write() as conn:
                _upsert(conn, {**_public(receipt), "anchored": float(receipt["anchored"])})
        except sa.exc.IntegrityError:   # keep the receipt we hold: it is the evidence
            return {"ok": False, "error": f"{peer} accepted seq {head['seq']}, but a receipt "
                                          "for another head at that seq is stored here"}
        return {"ok": True, "anchored": float(receipt["anchored"])}

    # -- witnessing peers' heads ------------------------------------------------------------
    def handle(self, peer: str, body: dict[str, Any]) -> dict[str, Any]:
        """A peer's anchor message (`peer` is the name its certificate proved)."""
        if peer not in self.cfg.peers:
            raise AnchorError(f"{peer!r} is not a peer of {self.cfg.name}")
        kind = body.get("type")
        if kind == "head":
            return {"ok": True, "receipt": self._witness(peer, body)}
        if kind == "list":
            after, limit = body.get("after", 0), body.get("limit", PAGE)
            for name, value, low, high in (("after", after, 0, _MAX_SEQ),
                                           ("limit", limit, 1, PAGE)):
                if isinstance(value, bool) or not isinstance(value, int) \
                        or not low <= value <= high:
                    raise AnchorError(f"{name} must be an integer from {low} to {high}")
            rows = heads(self.store, peer, self.cfg.name, after=after, limit=limit + 1)
            return {"ok": True, "heads": rows[:limit], "more": len(rows) > limit}
        raise AnchorError(f"unknown anchor message type {kind!r:.40} (head or list)")

    def _witness(self, peer: str, body: dict[str, Any]) -> dict[str, Any]:
        seq, digest, signature = _head(body.get("seq"), body.get("hash"), body.get("signature"))
        me = self.cfg.name
        problem = "" if head_signature_valid(self.cfg.peers[peer].signing_key, seq, digest,
                                             signature) else \
            f"head at seq {seq} is not signed by {peer}'s key"
        if not problem:
            with self.store.write() as conn:
                problem = _conflict(conn, peer, me, seq, digest)
                if not problem:
                    at = round(time.time(), 6)
                    row = {"node": peer, "witness": me, "seq": seq, "hash": digest,
                           "node_signature": signature, "anchored": at,
                           "witness_signature": _countersign(self.key, me, peer, seq, digest, at)}
                    _upsert(conn, row)
        if problem:   # audited after the transaction: the audit log writes the same store
            self.audit.append(PeerCallEvent(peer, "anchor", accepted=False, reason=problem))
            raise AnchorError(problem)
        return row

    # -- views ------------------------------------------------------------------------------
    def summary(self, now: float | None = None) -> dict[str, Any]:
        """Per peer: the heads this node witnesses for it (age, stale) and the receipts it
        holds from it; and the last anchoring round."""
        now = time.time() if now is None else now
        me = self.cfg.name
        groups = self.store.read(sa.select(
            _C.node, _C.witness, sa.func.count().label("anchors"),
            sa.func.max(_C.seq).label("last_seq"), sa.func.max(_C.anchored).label("last"))
            .where(sa.or_(_C.node == me, _C.witness == me)).group_by(_C.node, _C.witness))
        stale_after = STALE_PERIODS * self.period if self.period else None

        def item(peer: str, g: dict[str, Any] | None, judge: bool) -> dict[str, Any]:
            last = g["last"] if g else None
            age = None if last is None else round(now - last, 3)
            stale = None if not judge or stale_after is None else \
                age is None or age > stale_after
            return {"peer": peer, "anchors": g["anchors"] if g else 0,
                    "last_seq": g["last_seq"] if g else 0, "last_anchored": last, "age": age,
                    "stale": stale}

        witnessed = {g["node"]: g for g in groups if g["witness"] == me}
        receipts = {g["witness"]: g for g in groups if g["node"] == me}
        return {"node": me, "period": self.period, "stale_after": stale_after,
                "witnessed": [item(p, witnessed.get(p), True)
                              for p in sorted(set(self.cfg.peers) | set(witnessed))],
                "receipts": [item(p, receipts.get(p), False)
                             for p in sorted(set(self.cfg.peers) | set(receipts))],
                "last_round": self.last_round}

    def verify_peers(self, timeout: float = 10.0) -> PeerVerifyReport:
        return verify_with_peers(self.cfg, self.store, self.key.public, self.send, timeout)


# -- verification against peers ---------------------------------------------------------------

@dataclass
class PeerVerifyReport:
    ok: bool
    local: dict[str, Any]            # the plain VerifyReport of the local chain
    peers: dict[str, dict[str, Any]]  # peer -> status, anchors, last_seq, problems
    problems: list[str]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def verify_with_peers(cfg: NodeConfig, store: Store, public_key: str, send: Send,
                      timeout: float = 10.0) -> PeerVerifyReport:
    """The local chain, then every peer's anchored heads of this node against it."""
    local = verify_rows(store, public_key)
    problems = [f"local log: {p}" for p in local.problems]
    span = store.read(sa.select(sa.func.min(audit.c.seq).label("lo"),
                                sa.func.max(audit.c.seq).label("m")))[0]
    last_seq, first_seq = span["m"] or 0, span["lo"] or 1
    peers = {}
    for peer in sorted(cfg.peers):   # heads of archived entries: checked with the archive
        peers[peer] = _check_peer(cfg, store, public_key, peer, send, timeout, last_seq,
                                  first_seq)
        problems += [f"{peer}: {p}" for p in peers[peer]["problems"]]
    return PeerVerifyReport(not problems, local.as_dict(), peers, problems)


def _check_peer(cfg: NodeConfig, store: Store, public_key: str, peer: str, send: Send,
                timeout: float, last_seq: int, first_seq: int = 1) -> dict[str, Any]:
    witness_key = cfg.peers[peer].signing_key
    problems: list[str] = []
    good = bad = 0
    top, after = 0, 0
    fork: tuple[int, str, str] | None = None
    for _ in range(MAX_PAGES):
        try:
            reply = send(peer, {"type": "list", "after": after, "limit": PAGE}, timeout)
        except (ChannelError, OSError, ValueError) as exc:
            return _peer_view("unreachable", good, top,
                              [f"could not fetch its anchored heads: {exc}"[:300]])
        page = reply.get("heads")
        if not reply.get("ok") or not isinstance(page, list) or len(page) > PAGE:
            return _peer_view("unreachable", good, top, [
                f"refused to list its anchored heads: {reply.get('error', 'malformed reply')}"
                [:300]])
        sound, start = [], after
        for row in page:
            problem = check_anchor(row, cfg.name, peer, public_key, witness_key)
            seq = row.get("seq") if isinstance(row, dict) else None
            if not problem and seq <= after:
                problem = f"head at seq {seq} is out of order"
            if type(seq) is int and seq > after:
                after = seq
            if problem:
                bad += 1
                if bad <= 3:
                    problems.append(f"rejected an anchored head: {problem}")
            else:
                sound.append(row)
        local = _local_hashes(store, [r["seq"] for r in sound if r["seq"] <= last_seq])
        for row in sound:
            top = max(top, row["seq"])
            if fork is None and first_seq <= row["seq"] <= last_seq \
                    and local.get(row["seq"]) != row["hash"]:
                fork = (row["seq"], row["hash"], local.get(row["seq"], ""))
        good += len(sound)
        if not reply.get("more") or after == start:
            break
    status = "ok" if good else "none"
    if bad:
        status = "bad_signatures"
        if bad > 3:
            problems.append(f"rejected {bad} anchored heads in all")
    if top > last_seq:
        status = "rollback"
        problems.insert(0, f"rollback: it holds this node's signed head at seq {top} but the "
                           f"local log ends at seq {last_seq}")
    if fork:
        status = "fork"
        seq, theirs, ours = fork
        problems.insert(0, f"fork at seq {seq}: it holds this node's signed head "
                           f"{theirs[:16]}, the local log has {ours[:16] or 'no entry'} there")
    return _peer_view(status, good, top, problems)


def _peer_view(status: str, anchors: int, last_seq: int, problems: list[str]) -> dict[str, Any]:
    return {"status": status, "anchors": anchors, "last_seq": last_seq, "problems": problems}


def _local_hashes(store: Store, seqs: list[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    for i in range(0, len(seqs), 500):
        out.update((r["seq"], r["hash"]) for r in store.read(
            sa.select(audit.c.seq, audit.c.hash).where(audit.c.seq.in_(seqs[i:i + 500]))))
    return out
