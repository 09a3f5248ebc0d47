"""Anchored audit heads: the operator of a node (database, signing key) rolls its log back or
forks it; plain `verify` passes, the peers' witnessed heads catch it. Three nodes run in this
process, each with its own mutual-TLS data plane on loopback."""

import time

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from tests.node.conftest import new_pg_database
from yinji.cli.main import main as cli
from yinji.crypto.sign import SigningKey
from yinji.net.ports import free_ports
from yinji.node.anchors import AnchorError, check_anchor, heads
from yinji.node.api import create_app
from yinji.node.audit import AuditLog, JobStateEvent, verify_rows
from yinji.node.config import ConfigError, NodeConfig
from yinji.node.identity import add_peer, export_bundle, init_node
from yinji.node.node import Node
from yinji.node.store import audit, audit_anchors, audit_head

NAMES = ["securities", "fund", "futures"]
VICTIM, WITNESSES = "securities", ["fund", "futures"]


@pytest.fixture
def net(tmp_path, request):
    """Three started nodes that pin each other; periodic anchoring off (anchors on demand).
    Parametrised "postgresql": the victim and one witness keep their metadata there."""
    pg = request.getfixturevalue("pg_server") if getattr(request, "param", "") else None
    ports = free_ports(2 * len(NAMES))
    cfgs = {n: init_node(tmp_path / n, n, api_port=ports[2 * k], dataplane_port=ports[2 * k + 1])
            for k, n in enumerate(NAMES)}
    bundles = {n: export_bundle(c) for n, c in cfgs.items()}
    for name, cfg in cfgs.items():
        for other, bundle in bundles.items():
            if other != name:
                add_peer(cfg, bundle, bundle["fingerprint"])
        cfg = NodeConfig.load(cfg.home)
        cfg.anchor_period = 0
        if pg and name in (VICTIM, "fund"):
            cfg.database_url = new_pg_database(pg)
        cfg.save()
    nodes = {n: Node(tmp_path / n) for n in NAMES}
    for node in nodes.values():
        node.start()
    yield nodes
    for node in nodes.values():
        if not getattr(node, "stopped", False):
            node.stop()


def stop(node):
    node.stop()
    node.stopped = True


def work(node, n):
    for _ in range(n):
        node.audit.append(JobStateEvent("0123456789abcdef", "running"))


def head(node):
    return node.store.read(sa.select(audit_head))[0]


def held(witness, node):
    return heads(witness.store, node.cfg.name, witness.cfg.name)


def plain_verify_ok(node):
    return verify_rows(node.store, node.key.public).ok


def test_anchor_stores_countersigned_heads_and_verifies(net):
    victim = net[VICTIM]
    work(victim, 3)
    h = head(victim)
    out = victim.anchors.anchor_now()
    assert out["seq"] == h["seq"] and all(p["ok"] for p in out["peers"].values()), out
    for w in WITNESSES:
        [row] = held(net[w], victim)
        assert (row["seq"], row["hash"], row["node_signature"]) == (h["seq"], h["hash"],
                                                                   h["signature"])
        # the victim keeps each witness's receipt and it verifies under the pinned key
        [receipt] = heads(victim.store, VICTIM, w)
        assert receipt == row
        assert check_anchor(receipt, VICTIM, w, victim.key.public,
                            victim.cfg.peers[w].signing_key) == ""
    # the same head again refreshes the receipt, it does not add a row
    victim.anchors.anchor_now()
    assert len(held(net["fund"], victim)) == 1
    work(victim, 2)
    victim.anchors.anchor_now()
    assert [r["seq"] for r in held(net["fund"], victim)] == [h["seq"], h["seq"] + 2]
    rep = victim.anchors.verify_peers()
    assert rep.ok, rep.problems
    assert {p: v["status"] for p, v in rep.peers.items()} == dict.fromkeys(WITNESSES, "ok")
    assert rep.peers["fund"]["last_seq"] == h["seq"] + 2


@pytest.mark.parametrize("net", ["", "postgresql"], indirect=True, ids=["sqlite", "postgresql"])
def test_rollback_passes_plain_verify_but_not_peers(net, capsys):
    """The attack: delete the newest entries and restore an earlier signed head."""
    victim = net[VICTIM]
    work(victim, 3)
    saved = head(victim)                       # an earlier signed head
    work(victim, 4)                            # the entries the operator wants gone
    anchored = victim.anchors.anchor_now()["seq"]
    assert anchored == saved["seq"] + 4
    with victim.store.write() as conn:         # the operator edits its own database
        conn.execute(audit.delete().where(audit.c.seq > saved["seq"]))
        conn.execute(audit_head.update().values(seq=saved["seq"], hash=saved["hash"],
                                                signature=saved["signature"]))
    assert plain_verify_ok(victim)             # the signed chain alone accepts the rollback
    rep = victim.anchors.verify_peers()
    assert not rep.ok
    for w in WITNESSES:
        assert rep.peers[w]["status"] == "rollback"
        assert f"{w}: rollback: it holds this node's signed head at seq {anchored} but the " \
               f"local log ends at seq {saved['seq']}" in rep.problems
    # the CLI: plain verify passes, --peers fails naming the rollback
    home = str(victim.home)
    assert cli(["audit", "verify", "--home", home]) == 0
    assert cli(["audit", "verify", "--peers", "--home", home]) == 1
    err = capsys.readouterr().err
    assert "audit FAILED" in err and f"rollback: it holds this node's signed head at seq " \
                                     f"{anchored}" in err
    # re-anchoring the restored head is refused by every witness, and each audits it
    out = victim.anchors.anchor_now()
    assert not any(p["ok"] for p in out["peers"].values())
    for w in WITNESSES:
        assert "rollback" in out["peers"][w]["error"]
        refusals = [e["data"] for e in net[w].audit.entries() if e["kind"] == "peer.call"
                    and e["data"]["op"] == "anchor" and not e["data"]["accepted"]]
        assert refusals and refusals[-1]["peer"] == VICTIM
        assert f"below the head anchored at seq {anchored}" in refusals[-1]["reason"]


def test_fork_with_own_key_passes_plain_verify_but_not_peers(net):
    """The attack: rewrite history from an anchored entry on and re-sign it with the node's own
    key, to the same length and then beyond."""
    victim = net[VICTIM]
    work(victim, 6)
    anchored = victim.anchors.anchor_now()["seq"]
    cut = anchored - 2
    with victim.store.write() as conn:
        conn.execute(audit.delete().where(audit.c.seq >= cut))
    forger = AuditLog(victim.store, victim.key, VICTIM)
    for _ in range(anchored - cut + 1):
        forger.append(JobStateEvent("0123456789abcdef", "cancelled", "history rewritten"))
    assert head(victim)["seq"] == anchored
    assert plain_verify_ok(victim)
    # the witnesses refuse the forged head at the anchored seq
    out = victim.anchors.anchor_now()
    assert all(f"fork at seq {anchored}" in out["peers"][w]["error"] for w in WITNESSES), out
    rep = victim.anchors.verify_peers()
    assert not rep.ok and {v["status"] for v in rep.peers.values()} == {"fork"}
    assert any(p.startswith(f"fund: fork at seq {anchored}:") for p in rep.problems)
    # a longer forged chain is accepted as a new head, yet the old anchor still shows the fork
    work(victim, 3)
    assert all(p["ok"] for p in victim.anchors.anchor_now()["peers"].values())
    assert plain_verify_ok(victim)
    rep = victim.anchors.verify_peers()
    assert not rep.ok and {v["status"] for v in rep.peers.values()} == {"fork"}


def test_fork_between_two_anchors_reported_at_the_later(net):
    """History re-signed after the first anchor: the first still matches (a prefix), the
    second names the fork."""
    victim = net[VICTIM]
    work(victim, 2)
    first = victim.anchors.anchor_now()["seq"]
    work(victim, 5)
    second = victim.anchors.anchor_now()["seq"]
    with victim.store.write() as conn:
        conn.execute(audit.delete().where(audit.c.seq > first))
    forger = AuditLog(victim.store, victim.key, VICTIM)
    for _ in range(second - first + 2):
        forger.append(JobStateEvent("0123456789abcdef", "cancelled"))
    assert plain_verify_ok(victim)
    rep = victim.anchors.verify_peers()
    assert not rep.ok
    assert [p.split(":")[1].strip() for p in rep.problems] == [f"fork at seq {second}"] * 2


def test_unanchored_tail_is_what_the_operator_can_hide(net):
    """Documented limit: entries after the last accepted anchor can be dropped unnoticed."""
    victim = net[VICTIM]
    work(victim, 3)
    victim.anchors.anchor_now()
    saved = head(victim)
    work(victim, 2)                            # never anchored
    with victim.store.write() as conn:
        conn.execute(audit.delete().where(audit.c.seq > saved["seq"]))
        conn.execute(audit_head.update().values(seq=saved["seq"], hash=saved["hash"],
                                                signature=saved["signature"]))
    assert victim.anchors.verify_peers().ok


def test_bad_receipt_signature_rejected_and_not_stored(net):
    victim, fund = net[VICTIM], net["fund"]
    work(victim, 2)
    fund.anchors.key = SigningKey.generate()   # fund countersigns with a key victim never pinned
    out = victim.anchors.anchor_now()
    assert out["peers"]["futures"]["ok"]
    assert not out["peers"]["fund"]["ok"]
    assert "bad receipt, not stored: head at seq" in out["peers"]["fund"]["error"]
    assert "fund's countersignature does not verify" in out["peers"]["fund"]["error"]
    assert heads(victim.store, VICTIM, "fund") == []
    assert len(heads(victim.store, VICTIM, "futures")) == 1
    calls = [e["data"] for e in victim.audit.entries() if e["kind"] == "peer.call"]
    assert calls[-1]["peer"] == "fund" and not calls[-1]["accepted"]
    assert calls[-1]["reason"].startswith("bad receipt:")


def test_witness_lies_are_rejected_not_taken_for_a_fork(net):
    """A witness that reports heads the node never signed, or forges its own countersignature,
    cannot frame the node: those heads are rejected and reported, never called a fork."""
    victim, fund = net[VICTIM], net["fund"]
    work(victim, 3)
    seq = victim.anchors.anchor_now()["seq"]
    work(victim, 1)
    victim.anchors.anchor_now()
    with fund.store.write() as conn:
        conn.execute(audit_anchors.update().where(audit_anchors.c.seq == seq)
                     .values(hash="ab" * 32))                       # a head victim never signed
        conn.execute(audit_anchors.update().where(audit_anchors.c.seq == seq + 1)
                     .values(witness_signature="00" * 64))          # a forged receipt
    rep = victim.anchors.verify_peers()
    assert not rep.ok
    assert rep.peers["fund"]["status"] == "bad_signatures"
    assert rep.peers["fund"]["anchors"] == 0
    assert f"fund: rejected an anchored head: head at seq {seq}: securities's signature does " \
           "not verify" in rep.problems
    assert f"fund: rejected an anchored head: head at seq {seq + 1}: fund's countersignature " \
           "does not verify" in rep.problems
    assert not any("fork" in p or "rollback" in p for p in rep.problems)
    assert rep.peers["futures"]["status"] == "ok"


def test_witness_refuses_unsigned_and_malformed_heads(net):
    victim, fund = net[VICTIM], net["fund"]
    work(victim, 1)
    h = head(victim)
    forged = {"type": "head", "seq": h["seq"], "hash": "cd" * 32, "signature": h["signature"]}
    reply = victim.anchors.send("fund", forged, 5.0)          # over the data plane
    assert not reply["ok"] and f"head at seq {h['seq']} is not signed by securities's key" \
        in reply["error"]
    for body, why in [({"type": "head", "seq": "1", "hash": h["hash"], "signature": "aa"},
                       "seq must be an integer"),
                      ({"type": "head", "seq": 2**70, "hash": h["hash"], "signature": "aa"},
                       "seq must be an integer"),
                      ({"type": "head", "seq": 1, "hash": "XYZ", "signature": "aa"},
                       "hash must be 64 lowercase hex"),
                      ({"type": "head", "seq": 1, "hash": h["hash"], "signature": "zz"},
                       "signature must be hex"),
                      ({"type": "list", "limit": 10**9}, "limit must be an integer"),
                      ({"type": "list", "after": -1}, "after must be an integer"),
                      ({"type": "gossip"}, "unknown anchor message type")]:
        with pytest.raises(AnchorError, match=why):
            fund.anchors.handle(VICTIM, body)
    with pytest.raises(AnchorError, match="not a peer of fund"):
        fund.anchors.handle("stranger", {"type": "list"})
    assert held(fund, victim) == []


def test_a_node_lists_only_its_own_heads(net):
    victim, fund = net[VICTIM], net["fund"]
    work(victim, 1)
    victim.anchors.anchor_now()
    assert len(fund.anchors.handle(VICTIM, {"type": "list"})["heads"]) == 1
    assert fund.anchors.handle("futures", {"type": "list"})["heads"] == []


def test_unreachable_peer_fails_verification(net):
    victim = net[VICTIM]
    work(victim, 1)
    victim.anchors.anchor_now()
    stop(net["futures"])
    rep = victim.anchors.verify_peers(timeout=2.0)
    assert not rep.ok and rep.peers["futures"]["status"] == "unreachable"
    assert rep.peers["fund"]["status"] == "ok"


def test_stop_anchors_the_final_head(net):
    victim, fund = net[VICTIM], net["fund"]
    work(victim, 2)
    stop(victim)
    last = victim.store.read(sa.select(audit).order_by(audit.c.seq.desc()).limit(1))[0]
    assert last["kind"] == "node"                                   # the "stopped" entry
    assert held(fund, victim)[-1]["seq"] == last["seq"]
    assert held(fund, victim)[-1]["hash"] == last["hash"]


def test_stale_anchor_seen_by_witnesses(net):
    victim, fund = net[VICTIM], net["fund"]
    work(victim, 1)
    victim.anchors.anchor_now()
    fund.anchors.period = 60.0
    now = time.time()
    fresh = {s["peer"]: s for s in fund.anchors.summary(now)["witnessed"]}
    assert fresh[VICTIM]["stale"] is False and fresh[VICTIM]["anchors"] == 1
    assert fresh["futures"]["stale"] is True and fresh["futures"]["anchors"] == 0  # never did
    later = {s["peer"]: s for s in fund.anchors.summary(now + 181)["witnessed"]}
    assert later[VICTIM]["stale"] is True and later[VICTIM]["age"] > 180
    own = {s["peer"]: s for s in victim.anchors.summary(now)["receipts"]}
    assert own["fund"]["anchors"] == 1 and own["fund"]["stale"] is None


def test_periodic_loop_anchors_until_stopped(net):
    anchors = net[VICTIM].anchors
    rounds = []

    def counted(timeout=5.0):
        rounds.append(timeout)
        if len(rounds) == 3:
            anchors._stop.set()
        return {}

    anchors.anchor_now = counted
    anchors.period = 0.001
    anchors._run()                  # runs in this thread; returns once stopped
    assert len(rounds) == 3


def test_anchor_period_validated(tmp_path):
    cfg = init_node(tmp_path / "n", "fund")
    cfg.anchor_period = -1
    cfg.save()
    with pytest.raises(ConfigError, match="anchor_period must be a number of seconds >= 0"):
        Node(tmp_path / "n")


def test_rest_and_cli_anchor(net, monkeypatch, capsys):
    victim, fund = net[VICTIM], net["fund"]
    app = TestClient(create_app(victim))
    op = {"Authorization": f"Bearer {victim.add_token('ops', 'operator')}"}
    aud = {"Authorization": f"Bearer {victim.add_token('aud', 'auditor')}"}
    r = app.post("/audit/anchor", headers=op)
    assert r.status_code == 200 and all(p["ok"] for p in r.json()["peers"].values()), r.json()
    assert app.get("/audit/verify/peers", headers=op).status_code == 403
    rep = app.get("/audit/verify/peers", headers=aud).json()
    assert rep["ok"] and rep["peers"]["fund"]["status"] == "ok", rep
    summary = app.get("/audit/anchors", headers=aud).json()
    assert {s["peer"]: s["anchors"] for s in summary["receipts"]} == {"fund": 1, "futures": 1}
    own = app.get(f"/audit/anchors/{VICTIM}", headers=aud, params={"witness": "fund"}).json()
    assert own == held(fund, victim)
    assert app.get(f"/audit/anchors/{VICTIM}", headers=aud,
                   params={"limit": 10**6}).status_code == 422
    # witness side over REST: what fund holds for securities, for an independent auditor
    fapp = TestClient(create_app(fund))
    faud = {"Authorization": f"Bearer {fund.add_token('aud', 'auditor')}"}
    assert fapp.get(f"/audit/anchors/{VICTIM}", headers=faud).json() == held(fund, victim)
    # `yinji audit anchor` calls the same route
    token = tmp_path_token(victim, capsys)
    monkeypatch.setattr(httpx, "Client", lambda base_url, headers, timeout, verify: TestClient(
        create_app(victim), base_url=base_url, headers=headers))
    assert cli(["audit", "anchor", "--token-file", token]) == 0
    assert '"ok": true' in capsys.readouterr().out
    assert cli(["audit", "verify", "--peers", "--home", str(victim.home)]) == 0
    assert "consistent with 2 peers' anchored heads" in capsys.readouterr().out


def tmp_path_token(node, capsys):
    path = node.home / "op.token"
    path.write_text(node.add_token("cli", "operator"))
    capsys.readouterr()
    return str(path)


def test_nothing_anchored_yet(net, tmp_path):
    rep = net[VICTIM].anchors.verify_peers()
    assert rep.ok and {v["status"] for v in rep.peers.values()} == {"none"}
    init_node(tmp_path / "empty", "offshore")      # an empty log has no head to anchor
    empty = Node(tmp_path / "empty")
    try:
        assert empty.anchors.anchor_now() | {"time": 0} == {"seq": 0, "hash": "", "time": 0,
                                                            "peers": {}}
    finally:
        empty.store.close()
