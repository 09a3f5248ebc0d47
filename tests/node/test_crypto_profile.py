"""Crypto profiles on nodes (JR/T 0196-2020 §7.5): under each profile the audit chain, spec
and approval hashes and signatures, the vault and PIR labels use exactly that profile's
primitives (checked against implementations outside yinji) and refuse tampering; an `sm`
node and an `international` node refuse each other with a message naming both; a node
cannot silently switch profile."""

import base64
import csv
import hashlib
import json
import time

import pytest
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tests.crypto import sm2_oracle
from yinji.cli.network import create_network
from yinji.crypto.profile import PROFILES, ProfileMismatch, get_profile
from yinji.net.channel import PeerUnavailable
from yinji.net.ports import free_ports
from yinji.node.audit import (
    ApiCallEvent,
    AuditLog,
    JobStateEvent,
    PeerCallEvent,
    canonical,
    verify_rows,
)
from yinji.node.config import ConfigError, NodeConfig, PeerConfig, PirServiceConfig
from yinji.node.identity import add_peer, export_bundle, init_node, rebuild_trust
from yinji.node.store import SqliteStore, audit
from yinji.testing.sealed import open_outside

TRIO = ["fund", "futures", "securities"]
SEGMENTS = ["retail", "affluent", "private", "institutional"]
BLACKLIST = {f"11010119900307{i:04d}": f"AML-{i}" for i in range(0, 40, 3)}


def independent_hash(profile: str, data: bytes) -> str:
    """SHA-256 from Python's hashlib, SM3 through a separate hashes.Hash call."""
    if profile == "international":
        return hashlib.sha256(data).hexdigest()
    return sm2_oracle.sm3(data).hex()


def independent_verify(profile: str, public: str, sig: bytes, msg: bytes) -> bool:
    """Ed25519 straight from `cryptography`; SM2 with the plain-integer oracle."""
    raw = base64.b64decode(public)
    if profile == "sm":
        return sm2_oracle.verify(raw, msg, sig)
    try:
        Ed25519PublicKey.from_public_bytes(raw).verify(sig, msg)
    except Exception:  # noqa: BLE001
        return False
    return True


def wait_until(check, what, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# -- a three-node network per profile, in this process ----------------------------------------

def _serve_blacklist(root):
    """fund serves a PIR list that securities may query."""
    from yinji.node.admin import open_admin
    from yinji.node.catalog import Dataset, PolicyRule

    cfg = NodeConfig.load(root / "fund")
    with open(cfg.home / "data" / "blacklist.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id_no", "tag"])
        w.writerows(BLACKLIST.items())
    with open_admin(cfg.home, by="test") as admin:
        admin.catalog.register(Dataset(
            id="blacklist", kind="csv", location="data/blacklist.csv",
            schema={"id_no": "string", "tag": "string"},
            policy=[PolicyRule(columns=["id_no", "tag"], protocols=["pir"],
                               peers=["securities"])]), by=admin.by)
    cfg.pir["blacklist"] = PirServiceConfig("blacklist", "blacklist", "id_no", ["tag"],
                                            free_ports(1)[0])
    cfg.save()
    sec = NodeConfig.load(root / "securities")
    bundle = export_bundle(cfg)
    add_peer(sec, bundle, bundle["fingerprint"])


@pytest.fixture(scope="module", params=sorted(PROFILES))
def net(request, tmp_path_factory):
    from yinji.node.node import Node

    root = tmp_path_factory.mktemp(f"net-{request.param}")
    create_network(root, TRIO, job_timeout=20, crypto_profile=request.param)
    _serve_blacklist(root)
    nodes = {n: Node(root / n) for n in TRIO}
    started = []
    try:
        for node in nodes.values():
            node.start()
            started.append(node)
        yield request.param, nodes
    finally:
        for node in started:
            node.stop()


def test_job_hashes_and_approval_signatures_follow_the_profile(net):
    """A job runs end to end; every spec / approval / approvals / result hash is the
    profile's hash of what it covers and every approval signature verifies with the
    profile's scheme, recomputed outside yinji."""
    profile, nodes = net
    job = nodes["securities"].jobs.propose(
        {"protocol": "mpc.aggregate",
         "inputs": {n: {"dataset": "customers", "columns": ["segment", "assets_cny"]}
                    for n in TRIO},
         "params": {"groups": SEGMENTS, "metrics": ["sum", "count"]},
         "recipients": ["securities"]}, by="test")
    final = ("succeeded", "failed", "rejected", "cancelled")
    wait_until(lambda: all(nodes[n].store.job(job["id"])["state"] in final for n in TRIO),
               "the job")
    views = {n: nodes[n].jobs.public(nodes[n].store.job(job["id"])) for n in TRIO}
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    keys = {n: nodes[n].key.public for n in TRIO}
    for n, view in views.items():
        assert view["spec_hash"] == independent_hash(profile, canonical(view["spec"]))
        hashes_ = []
        for a in view["approvals"]:
            msg = b"yinji-approval/1 " + canonical(a["record"])
            assert independent_verify(profile, keys[a["node"]], bytes.fromhex(a["signature"]),
                                      msg)
            forged = dict(a["record"], spec_hash="0" * 64)
            assert not nodes[n].jobs.profile.verify(
                keys[a["node"]], bytes.fromhex(a["signature"]),
                b"yinji-approval/1 " + canonical(forged))
            assert a["hash"] == independent_hash(
                profile, canonical({"record": a["record"], "signature": a["signature"]}))
            hashes_.append(a["hash"])
        assert view["approvals_hash"] == independent_hash(profile, canonical(sorted(hashes_)))
    result = nodes["securities"].store.result(job["id"])
    assert result["result_hash"] == independent_hash(profile, result["result_json"].encode())
    for n in TRIO:
        assert nodes[n].audit.verify().ok


def test_audit_entries_are_the_profiles_hash_and_signature(net):
    profile, nodes = net
    node = nodes["fund"]
    rows = node.store.read(sa.select(audit).order_by(audit.c.seq))
    assert len(rows) >= 3
    for row in rows[:8]:
        body = canonical({"seq": row["seq"], "ts": row["ts"], "kind": row["kind"],
                          "actor": row["actor"], "data": json.loads(row["data_json"]),
                          "prev": row["prev_hash"]})
        assert row["hash"] == independent_hash(profile, body)
        assert independent_verify(profile, node.key.public, bytes.fromhex(row["signature"]),
                                  row["hash"].encode())


def test_pir_labels_under_the_profile(net):
    """securities queries fund's list; the labels fund serves are sealed with the profile's
    cipher (the layout says which) and answers are right."""
    profile, nodes = net
    served = {d["id"]: d for d in nodes["fund"].pir.list()}["blacklist"]
    assert served["label_cipher"] == get_profile(profile).cipher
    present, absent = sorted(BLACKLIST)[1], "110101199003079999"
    answer = nodes["securities"].pir.query([present, absent])
    results = answer["members"]["fund"]["results"]
    assert [r["label"] for r in results] == [{"tag": BLACKLIST[present]}, None], answer


# -- audit tampering, per profile ------------------------------------------------------------

@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_audit_chain_detects_tampering_under_each_profile(profile, tmp_path):
    store = SqliteStore(f"sqlite:///{tmp_path / 'node.db'}")
    key = get_profile(profile).generate_key()
    log = AuditLog(store, key, "securities")
    for _ in range(4):
        log.append(ApiCallEvent("GET", "/jobs", 200, "ops", "operator"))
    log.append(JobStateEvent("job1", "succeeded", "", "cd" * 32))
    assert log.verify().ok and verify_rows(store, key.public).ok

    def rows():
        return store.read(sa.select(audit).order_by(audit.c.seq))

    def update(seq, **values):
        with store.write() as conn:
            conn.execute(audit.update().where(audit.c.seq == seq).values(**values))

    # 1. edit an entry's content
    original = rows()[2]
    update(3, data_json=original["data_json"].replace("200", "403"))
    rep = log.verify()
    assert not rep.ok and "entry 3: content does not match its hash (edited)" in rep.problems
    # 2. ... and re-hash it with the profile's own hash: the signature no longer fits
    r = rows()[2]
    body = canonical({"seq": 3, "ts": r["ts"], "kind": r["kind"], "actor": r["actor"],
                      "data": json.loads(r["data_json"]), "prev": r["prev_hash"]})
    update(3, hash=get_profile(profile).hash_hex(body))
    rep = log.verify()
    assert "entry 3: signature invalid" in rep.problems
    # 3. ... and re-sign with a key of the same profile that is not the node's
    forger = get_profile(profile).generate_key()
    update(3, signature=forger.sign(rows()[2]["hash"].encode()).hex())
    assert "entry 3: signature invalid" in log.verify().problems
    update(3, data_json=original["data_json"], hash=original["hash"],
           signature=original["signature"])
    assert log.verify().ok
    # 4. delete the newest entry: the signed head names it
    with store.write() as conn:
        conn.execute(audit.delete().where(audit.c.seq == 5))
    rep = log.verify()
    assert not rep.ok and any("signed head names entry 5" in p for p in rep.problems)
    store.close()


# -- mixed networks are refused ----------------------------------------------------------------

def test_sm_and_international_nodes_refuse_each_other(tmp_path):
    from yinji.node.node import Node

    ports = free_ports(4)
    sm = init_node(tmp_path / "securities", "securities", api_port=ports[0],
                   dataplane_port=ports[1], crypto_profile="sm")
    intl = init_node(tmp_path / "fund", "fund", api_port=ports[2], dataplane_port=ports[3])
    assert (sm.crypto_profile, intl.crypto_profile) == ("sm", "international")
    sm_bundle, intl_bundle = export_bundle(sm), export_bundle(intl)
    assert (sm_bundle["crypto_profile"], intl_bundle["crypto_profile"]) == ("sm", "international")

    # at `peer add`, both ways, naming both nodes and both profiles
    with pytest.raises(ConfigError, match="crypto profile mismatch: securities uses 'sm', "
                                          "peer 'fund' uses 'international'"):
        add_peer(sm, intl_bundle, intl_bundle["fingerprint"])
    with pytest.raises(ConfigError, match="crypto profile mismatch: fund uses 'international', "
                                          "peer 'securities' uses 'sm'"):
        add_peer(intl, sm_bundle, sm_bundle["fingerprint"])
    # a bundle that claims the right profile but carries the other kind of key
    with pytest.raises(ConfigError, match="peer 'fund': signing key: SM2 public key"):
        add_peer(sm, dict(intl_bundle, crypto_profile="sm"), intl_bundle["fingerprint"])
    assert not NodeConfig.load(sm.home).peers and not NodeConfig.load(intl.home).peers

    # node.yaml edited by hand around the check: the data plane refuses, both directions
    for cfg, other in ((sm, intl), (intl, sm)):
        b = export_bundle(other)
        (cfg.home / f"peers/{other.name}.crt").write_text(b["cert"])
        cfg.peers[other.name] = PeerConfig(other.name, b["dataplane"], b["fingerprint"],
                                           b["signing_key"], f"peers/{other.name}.crt")
        cfg.save()
        rebuild_trust(cfg)
    a, b = Node(sm.home), Node(intl.home)
    a.start()
    b.start()
    try:
        with pytest.raises(PeerUnavailable, match="securities: refused 'fund': crypto profile "
                                                  "mismatch: securities uses 'sm', fund uses "
                                                  "'international'"):
            a.dataplane.request("fund", {"type": "failed", "job_id": "x"}, timeout=5)
        with pytest.raises(PeerUnavailable, match="fund: refused 'securities': crypto profile "
                                                  "mismatch: fund uses 'international', "
                                                  "securities uses 'sm'"):
            b.dataplane.request("securities", {"type": "failed", "job_id": "x"}, timeout=5)
        # each acceptor refused before handling the message, and audited the refusal
        for node, peer in ((b, "securities"), (a, "fund")):
            wait_until(lambda n=node, p=peer: any(
                e["kind"] == PeerCallEvent.kind and e["data"]["peer"] == p
                and not e["data"]["accepted"] and "crypto profile mismatch" in e["data"]["reason"]
                for e in n.audit.entries()), "the refusal's audit entry", 15)
            assert not any(e["kind"] == PeerCallEvent.kind and e["data"]["op"] == "failed"
                           for e in node.audit.entries())
        assert a.audit.verify().ok and b.audit.verify().ok
    finally:
        a.stop()
        b.stop()


# -- the profile is fixed at init -------------------------------------------------------------

def test_node_cannot_switch_profile(tmp_path):
    from yinji.node.node import Node

    cfg = init_node(tmp_path / "n", "fund")
    node = Node(cfg.home)
    node.start()
    node.stop()
    # node.yaml edited to `sm`: the Ed25519 signing key gives it away
    text = (cfg.home / "node.yaml").read_text()
    assert "crypto_profile: international" in text
    (cfg.home / "node.yaml").write_text(text.replace("crypto_profile: international",
                                                     "crypto_profile: sm"))
    with pytest.raises(ConfigError, match="is an Ed25519 key \\(profile 'international'\\) but "
                                          "this node's crypto profile is 'sm'"):
        Node(cfg.home)
    # ... and with an SM2 key put in its place: the audit log gives it away
    old_key = (cfg.home / "signing.key").read_bytes()
    sm_key = get_profile("sm").generate_key()
    sm_key.save(cfg.home / "signing.key")
    with pytest.raises(ProfileMismatch, match="audit log was written under crypto profile "
                                              "'international'"):
        Node(cfg.home)
    store = SqliteStore(NodeConfig.load(cfg.home).db_url)
    rep = verify_rows(store, sm_key.public)
    store.close()
    assert not rep.ok and "hashed under crypto profile 'international', not 'sm'" in \
        rep.problems[0]
    # back as it was: the node starts and its log verifies
    (cfg.home / "signing.key").write_bytes(old_key)
    (cfg.home / "node.yaml").write_text(text)
    node = Node(cfg.home)
    assert node.audit.verify().ok
    node.store.close()
    (cfg.home / "node.yaml").write_text(text.replace("crypto_profile: international",
                                                     "crypto_profile: gm"))
    with pytest.raises(ConfigError, match="crypto_profile must be one of 'international', "
                                          "'sm', got 'gm'"):
        NodeConfig.load(cfg.home)


def test_cli_init_with_crypto_profile(tmp_path, capsys):
    import yaml

    from yinji.cli.main import main

    assert main(["node", "init", "--home", str(tmp_path / "n"), "--name", "offshore",
                 "--crypto-profile", "sm"]) == 0
    assert "crypto profile sm" in capsys.readouterr().out
    assert NodeConfig.load(tmp_path / "n").crypto_profile == "sm"
    assert main(["node", "bundle", "--home", str(tmp_path / "n")]) == 0
    bundle = yaml.safe_load(capsys.readouterr().out)
    assert bundle["crypto_profile"] == "sm" and len(base64.b64decode(bundle["signing_key"])) == 65
    assert main(["audit", "verify", "--home", str(tmp_path / "n")]) == 0
    from fastapi.testclient import TestClient

    from yinji.node.api import create_app
    from yinji.node.node import Node

    node = Node(tmp_path / "n")
    token = node.add_token("ops", "operator")
    info = TestClient(create_app(node)).get(
        "/node", headers={"Authorization": f"Bearer {token}"}).json()
    node.store.close()
    assert info["crypto_profile"] == "sm" and info["signing_key"] == bundle["signing_key"]
    with pytest.raises(SystemExit):
        main(["node", "init", "--home", str(tmp_path / "m"), "--name", "x",
              "--crypto-profile", "gm"])


# -- data at rest: gateway vault and PIR labels ----------------------------------------------

@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_gateway_vault_seals_with_the_profiles_cipher(profile):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    from yinji.gateway.config import GatewayConfig
    from yinji.gateway.proxy import Gateway

    key = bytes(range(32))
    config = GatewayConfig.from_dict({"crypto_profile": profile})
    config.vault_key = key
    vault = Gateway(config).vaults.get("alice", "conversation-1")
    token = vault.token_for("id_number", "110101199003077777")
    sealed = vault._by_token[token]
    assert b"110101199003077777" not in sealed
    # each (caller, conversation) has its own key, derived from the master key by HKDF
    info = b"yinji/gateway/vault/v1" + b"".join(
        len(x).to_bytes(4, "big") + x for x in (b"alice", b"conversation-1"))
    scope = HKDF(hashes.SHA256() if profile == "international" else hashes.SM3(), 32,
                 salt=None, info=info).derive(key)
    assert open_outside(profile, scope, sealed, token.encode()) == b"110101199003077777"
    other = "sm" if profile == "international" else "international"
    with pytest.raises(InvalidTag):
        open_outside(other, scope, sealed, token.encode())
    with pytest.raises(InvalidTag):
        open_outside(profile, key, sealed, token.encode())  # not under the master key itself
    assert vault.value_of(token) == "110101199003077777"
    vault._by_token[token] = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(InvalidTag):
        vault.value_of(token)
    with pytest.raises(ValueError, match="unknown crypto profile 'gm'"):
        GatewayConfig.from_dict({"crypto_profile": "gm"})


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_pir_label_slots_are_the_profiles_aead(profile):
    """Each record's slot opens with the profile's cipher under the documented key
    derivation (recomputed here); a flipped byte, or a client told another cipher, gets
    nothing."""
    import numpy as np

    from yinji.pir import oprf
    from yinji.pir.keyword import KeywordDatabase, Layout, as_key, open_bucket
    from yinji.pir.lwe import SimplePirClient

    cipher = get_profile(profile).cipher
    recs = [(f"id{i}", f"tag{i}".encode()) for i in range(300)]
    db = KeywordDatabase(recs, label_size=8, cipher=cipher)
    v = db.build()
    assert Layout.from_json(json.loads(json.dumps(v.layout.to_json()))) == v.layout
    state, blinded = oprf.blind([as_key(b"id7")])
    token = oprf.finalize(state, db.oprf.evaluate("c", blinded))[0]
    client = SimplePirClient(v.params, v.pir.hint)
    qs, q = client.query([v.layout.bucket_of(token)])
    column = client.recover(qs, v.pir.answer(q))[:, 0]
    assert open_bucket(column, token, v.version, v.layout) == b"tag7"
    if profile == "sm":
        k = HKDF(hashes.SM3(), 16, salt=None,
                 info=b"yinji.pir.label/" + v.version.encode()).derive(token[32:64])
    else:
        k = hashlib.blake2b(v.version.encode(), key=token[32:64], digest_size=32,
                            person=b"yinji.pir.label").digest()
    raw = column.astype(np.uint8).tobytes()
    size = v.layout.slot_bytes
    opened = []
    for start in range(0, len(raw), size):
        try:
            opened.append(_gcm_open(profile, k, raw[start:start + size], v.version.encode()))
        except InvalidTag:
            continue
    assert opened == [(4).to_bytes(2, "big") + b"tag7" + bytes(4)]
    wrong = Layout(v.layout.buckets, v.layout.slots, v.layout.label_size,
                   "sm4-gcm" if profile == "international" else "aes-256-gcm")
    assert open_bucket(column, token, v.version, wrong) is None
    tampered = column.copy()
    tampered[:] ^= 1
    assert open_bucket(tampered, token, v.version, v.layout) is None


def _gcm_open(profile: str, key: bytes, slot: bytes, aad: bytes) -> bytes:
    nonce = bytes(12)
    if profile == "international":
        return AESGCM(key).decrypt(nonce, slot, aad)
    dec = Cipher(algorithms.SM4(key), modes.GCM(nonce, slot[-16:])).decryptor()
    dec.authenticate_additional_data(aad)
    return dec.update(slot[:-16]) + dec.finalize()
