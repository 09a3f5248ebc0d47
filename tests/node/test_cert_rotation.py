"""`yinji node rotate-cert` on running loopback nodes: peers accept the new certificate
(signed with the node's pinned signing key) before the node switches, jobs run before and
after without a restart, the API serves the new certificate; forged or unsigned rotations
are refused; a node with an unreachable peer does not switch. Expiry warnings in GET /node,
GET /peers and `yinji node status`."""

import datetime as dt
import ssl

import pytest

from tests.node.governance_net import TRIO, Member, agg_job, make_homes, start, wait_final
from yinji.cli.main import main as cli
from yinji.crypto.certs import fingerprint, self_signed_cert, write_cert_key
from yinji.crypto.sign import SigningKey
from yinji.net.connect import PeerUnavailable, TlsConfig
from yinji.node import identity, rotation
from yinji.node.api import create_app
from yinji.node.config import ConfigError, NodeConfig
from yinji.node.dataplane import DataPlane
from yinji.node.https import ServerTls
from yinji.node.identity import own_fingerprint
from yinji.node.node import Node
from yinji.testing.servers import serve

AUTO = [{"protocols": ["mpc.aggregate"]}]


@pytest.fixture
def net(tmp_path):
    make_homes(tmp_path, TRIO, {n: [o for o in TRIO if o != n] for n in TRIO},
               dict.fromkeys(TRIO, AUTO), customers=40)
    members = {n: start(tmp_path, n) for n in TRIO}
    yield tmp_path, members
    for m in members.values():
        m.node.stop()


def knock(member, peer):
    return member.node.dataplane.request(peer, {"type": "ping"}, timeout=5, retry=False)


def run_job(m):
    job = m["securities"].call("POST", "/jobs", json=agg_job(TRIO, ["securities"]), expect=201)
    views = wait_final(m, job["id"], TRIO)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views


def served_fingerprint(url):
    host, port = url.removeprefix("https://").split(":")
    return fingerprint(ssl.get_server_certificate((host, int(port))).encode())


def test_rotation_without_restart(net, capsys):
    root, m = net
    sec = m["securities"].node
    old = own_fingerprint(sec.cfg)
    api_tls = ServerTls(sec.cfg.cert_file, sec.cfg.key_file)
    sec.cert_listeners.append(api_tls.reload)
    stolen = root / "stolen"            # the old key, as if it had leaked
    stolen.mkdir()
    for name in ("node.crt", "node.key"):
        (stolen / name).write_bytes((sec.cfg.cert_file.parent / name).read_bytes())
    old_identity = TlsConfig(stolen / "node.crt", stolen / "node.key", sec.cfg.trust_file,
                             identity.tls_config(sec.cfg).pins)
    thief = DataPlane("securities", ("127.0.0.1", 0), lambda: old_identity,
                      lambda p: sec.cfg.peers[p].address, lambda *_: {}, lambda *_: "no")
    assert thief.request("fund", {"type": "ping"}, timeout=5, retry=False) is not None
    with serve(create_app(sec), ssl_context=api_tls.context) as url:
        assert served_fingerprint(url) == old
        run_job(m)
        assert cli(["node", "rotate-cert", "--home", str(root / "securities")]) == 0
        out = capsys.readouterr().out
        assert "fund: accepted the new certificate" in out and "switched" in out
        new = own_fingerprint(NodeConfig.load(root / "securities"))
        assert new != old
        for peer in ("fund", "futures"):
            pinned = NodeConfig.load(root / peer).peers["securities"]
            assert (pinned.fingerprint, pinned.previous_fingerprint) == (new, "")  # confirmed
            assert not (root / peer / "peers" / "securities.prev.crt").exists()
        # no restart: the running node presents the new certificate on both ports
        assert knock(m["fund"], "securities") is not None
        assert knock(m["securities"], "futures") is not None
        assert served_fingerprint(url) == new
        run_job(m)
    # once every peer dropped the old pin, the old (maybe leaked) key is refused
    with pytest.raises(PeerUnavailable):
        thief.request("fund", {"type": "ping"}, timeout=3, retry=False)
    changes = [e["data"] for e in m["fund"].node.audit.entries() if e["kind"] == "peer.change"]
    assert [(c["action"], c["fingerprint"], c["previous"]) for c in changes] == [
        ("cert-rotating", new, old), ("cert-rotated", new, old)]
    (done,) = [e["data"] for e in sec.audit.entries() if e["kind"] == "cert.rotated"]
    assert done["previous"] == old and done["fingerprint"] == new
    assert sorted(done["accepted_by"]) == ["fund", "futures"] and not done["not_reached"]
    for n in TRIO:
        assert m[n].call("GET", "/audit/verify", role="auditor")["ok"]


def test_forged_rotation_is_refused(net):
    root, m = net
    fund = m["fund"].node
    before = NodeConfig.load(root / "fund").peers["securities"]
    impostor = self_signed_cert("securities")
    fp = fingerprint(impostor.cert_pem)
    for key in (SigningKey.generate(), None):     # someone else's signing key, or none
        sig = key.sign(f"yinji-cert-rotate/1 announce securities {fp}".encode()).hex() \
            if key else "00" * 64
        body = {"type": rotation.ROTATE, "phase": "announce",
                "cert": impostor.cert_pem.decode(), "signature": sig}
        with pytest.raises(ConfigError, match="not signed with its pinned signing key"):
            rotation.accept(NodeConfig.load(root / "fund"), fund.audit, "securities", body)
        # over the data plane too: refused, and the pin is unchanged
        reply = m["securities"].node.dataplane.request("fund", body, timeout=5)
        assert not reply["ok"] and "signing key" in reply["error"]
    assert NodeConfig.load(root / "fund").peers["securities"] == before
    # a correctly signed certificate for another name is refused as well
    other = self_signed_cert("futures")
    ofp = fingerprint(other.cert_pem)
    sig = m["securities"].node.key.sign(
        f"yinji-cert-rotate/1 announce securities {ofp}".encode()).hex()
    with pytest.raises(ConfigError, match="issued to"):
        rotation.accept(NodeConfig.load(root / "fund"), fund.audit, "securities",
                        {"phase": "announce", "cert": other.cert_pem.decode(),
                         "signature": sig})


def test_unreachable_peer_keeps_the_old_certificate_in_use(net, capsys):
    root, m = net
    m["futures"].node.stop()
    old = own_fingerprint(m["fund"].node.cfg)
    assert cli(["node", "rotate-cert", "--home", str(root / "fund"), "--timeout", "2"]) == 3
    err = capsys.readouterr().err
    assert "staged, not in use: futures did not accept it" in err
    assert own_fingerprint(NodeConfig.load(root / "fund")) == old           # not switched
    staged = fingerprint((root / "fund" / "tls" / "next.crt").read_bytes())
    pinned = NodeConfig.load(root / "securities").peers["fund"]
    assert pinned.pins == (staged, old)        # securities accepts both meanwhile
    assert knock(m["securities"], "fund") is not None   # and still works with the old one
    # futures back: running it again finishes the same rotation (same staged certificate)
    back = Node(root / "futures")
    back.start()
    m["futures"] = Member(back, None)
    assert cli(["node", "rotate-cert", "--home", str(root / "fund")]) == 0
    assert own_fingerprint(NodeConfig.load(root / "fund")) == staged
    assert knock(m["fund"], "futures") is not None and knock(m["securities"], "fund")
    assert NodeConfig.load(root / "securities").peers["fund"].pins == (staged,)


def test_expiry_warnings_in_node_peers_and_cli(net, capsys):
    root, m = net
    # fund's certificate is renewed to one that expires in 10 days (what an old one looks
    # like near its end); securities re-pins it by hand
    soon = self_signed_cert("fund", days=10)
    write_cert_key(soon, root / "fund" / "tls", "node")
    cfg = NodeConfig.load(root / "securities")
    (root / "securities" / cfg.peers["fund"].cert).write_bytes(soon.cert_pem)
    cfg.peers["fund"].fingerprint = fingerprint(soon.cert_pem)
    cfg.save()
    from yinji.node.identity import rebuild_trust

    rebuild_trust(cfg)
    info = m["securities"].call("GET", "/node", role="auditor")
    assert info["cert_warn_days"] == 30
    assert [w for w in info["cert_warnings"] if "fund" in w and "expires in" in w]
    assert not [w for w in info["cert_warnings"] if "securities" in w]
    peers = {p["name"]: p for p in m["securities"].call("GET", "/peers", role="auditor")}
    assert "expires in" in peers["fund"]["cert_warning"] and not peers["futures"]["cert_warning"]
    end = dt.datetime.fromisoformat(peers["fund"]["cert_not_after"])
    assert 9 <= (end - dt.datetime.now(dt.UTC)).days <= 10
    own = m["fund"].call("GET", "/node", role="auditor")
    assert [w for w in own["cert_warnings"] if w.startswith("own certificate (fund)")]
    assert cli(["node", "status", "--home", str(root / "fund")]) == 0
    err = capsys.readouterr().err
    assert "WARNING: own certificate (fund) expires in" in err and "rotate-cert" in err
    # a warning threshold of 5 days silences it
    cfg = NodeConfig.load(root / "fund")
    cfg.cert_warn_days = 5
    cfg.save()
    assert cli(["node", "status", "--home", str(root / "fund")]) == 0
    assert "WARNING" not in capsys.readouterr().err


def test_unknown_peer_cannot_rotate(net):
    root, m = net
    with pytest.raises(ConfigError, match="not a peer"):
        rotation.accept(NodeConfig.load(root / "fund"), m["fund"].node.audit, "mallory",
                        {"phase": "announce", "cert": "", "signature": ""})
    with pytest.raises(PeerUnavailable):
        m["fund"].node.dataplane.request("mallory", {"type": "ping"}, timeout=1)
