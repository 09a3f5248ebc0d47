"""Peers added and removed while nodes run, through the REST API (role admin) and the CLI on
the node's machine: the data plane trusts (or refuses) the peer from its next connection and
jobs may (or may not) name it; no node restarts. Every change is in the signed audit log."""

import pytest
import yaml

from tests.node.governance_net import TRIO, agg_job, make_homes, plaintext, start, wait_final
from yinji.cli.main import main as cli
from yinji.cli.network import SEGMENTS
from yinji.net.connect import PeerUnavailable
from yinji.node.identity import export_bundle

AUTO = [{"protocols": ["mpc.aggregate"]}]


@pytest.fixture
def net(tmp_path):
    """securities and fund know each other; futures, the newcomer, knows both."""
    make_homes(tmp_path, TRIO, {"securities": ["fund"], "fund": ["securities"],
                                "futures": ["securities", "fund"]}, dict.fromkeys(TRIO, AUTO))
    members = {n: start(tmp_path, n) for n in TRIO}
    yield tmp_path, members
    for m in members.values():
        m.node.stop()


def knock(member, peer):
    """One data-plane message from `member` to `peer` (refused at the handshake if `peer`
    does not trust `member`)."""
    return member.node.dataplane.request(peer, {"type": "ping"}, timeout=5, retry=False)


def peer_changes(member):
    return [e["data"] for e in member.node.audit.entries() if e["kind"] == "peer.change"]


def test_peer_added_by_api_and_cli_runs_a_job_without_restart(net, tmp_path):
    root, m = net
    bundle = export_bundle(m["futures"].node.cfg)
    with pytest.raises(PeerUnavailable):
        knock(m["futures"], "securities")
    r = m["securities"].call("POST", "/jobs", json=agg_job(TRIO, ["securities"]), expect=400)
    assert "unknown node(s) futures" in r["detail"]

    body = {"bundle": bundle, "fingerprint": bundle["fingerprint"]}
    for role in ("operator", "approver", "auditor"):
        m["securities"].call("POST", "/peers", role=role, json=body, expect=403)
    wrong = {**body, "fingerprint": "00" * 32}
    assert "does not match" in m["securities"].call("POST", "/peers", role="admin", json=wrong,
                                                    expect=422)["detail"]
    m["securities"].call("POST", "/peers", role="admin", json={"bundle": {"name": "x"},
                                                               "fingerprint": "00"}, expect=422)
    assert "futures" not in m["securities"].node.cfg.peers
    added = m["securities"].call("POST", "/peers", role="admin", json=body, expect=201)
    assert added["fingerprint"] == bundle["fingerprint"]
    assert knock(m["futures"], "securities") is not None      # trusted at once

    path = tmp_path / "futures.yaml"
    path.write_text(yaml.safe_dump(bundle))
    assert cli(["peer", "add", "--home", str(m["fund"].node.home), "--bundle", str(path),
                "--fingerprint", bundle["fingerprint"]]) == 0
    assert "futures" in [p["name"] for p in m["fund"].call("GET", "/peers", role="auditor")]

    job = m["securities"].call("POST", "/jobs", json=agg_job(TRIO, ["securities", "futures"]),
                               expect=201)
    views = wait_final(m, job["id"], TRIO)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    sums, counts = plaintext(root, TRIO, SEGMENTS)
    for n in ("securities", "futures"):
        res = m[n].call("GET", f"/jobs/{job['id']}/result")["result"]
        assert res["count"] == counts and res["sum"] == pytest.approx(sums, rel=1e-9, abs=0.05)

    (change,) = peer_changes(m["securities"])
    assert change == {"peer": "futures", "action": "added", "fingerprint": bundle["fingerprint"],
                      "by": "securities-admin", "previous": ""}
    (change,) = peer_changes(m["fund"])
    assert change["action"] == "added" and change["by"].startswith("cli:")
    for n in ("securities", "fund"):
        assert m[n].call("GET", "/audit/verify", role="auditor")["ok"]


def test_peer_removed_by_api_is_refused_at_once(net):
    _, m = net
    bundle = export_bundle(m["futures"].node.cfg)
    m["securities"].call("POST", "/peers", role="admin", expect=201,
                         json={"bundle": bundle, "fingerprint": bundle["fingerprint"]})
    assert knock(m["futures"], "securities") is not None
    m["securities"].call("DELETE", "/peers/futures", role="operator", expect=403)
    left = m["securities"].call("DELETE", "/peers/futures", role="admin")
    assert [p["name"] for p in left] == ["fund"]
    m["securities"].call("DELETE", "/peers/futures", role="admin", expect=404)
    with pytest.raises(PeerUnavailable):
        knock(m["futures"], "securities")
    r = m["securities"].call("POST", "/jobs", json=agg_job(TRIO, ["securities"]), expect=400)
    assert "unknown node(s) futures" in r["detail"]
    assert [c["action"] for c in peer_changes(m["securities"])] == ["added", "removed"]


def test_cli_remove_applies_to_the_running_node(net):
    _, m = net
    assert knock(m["securities"], "fund") is not None
    assert cli(["peer", "remove", "--home", str(m["fund"].node.home), "securities"]) == 0
    with pytest.raises(PeerUnavailable):
        knock(m["securities"], "fund")
    assert "securities" not in [p["name"] for p in m["fund"].call("GET", "/peers",
                                                                  role="auditor")]


def test_cli_dataset_show_reads_back_what_add_and_update_take(net, tmp_path, capsys):
    _, m = net
    home = str(m["fund"].node.home)
    assert cli(["dataset", "show", "--home", home, "customers"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["id"] == "customers" and shown["location"] == "data/customers.csv"
    assert shown["schema"] == {"customer_id": "string", "segment": "string",
                               "assets_cny": "float"} and shown["revision"] == 1
    spec = tmp_path / "customers.yaml"
    spec.write_text(yaml.safe_dump({**shown, "policy": [{"columns": ["segment"],
                                                         "protocols": ["mpc.aggregate"]}]}))
    assert cli(["dataset", "update", "--home", home, "--spec", str(spec)]) == 0
    # the running node sees the update at once (the catalog is read from the store)
    (ds,) = m["fund"].call("GET", "/datasets")
    assert ds["revision"] == 2 and ds["policy"][0]["columns"] == ["segment"]
    assert cli(["dataset", "show", "--home", home, "nope"]) == 1
    assert "nope" in capsys.readouterr().err


def test_peer_added_at_run_time_may_query_a_pir_list(tmp_path):
    """securities serves a blacklist to every peer its column policy allows; futures, added
    while securities runs, is refused by the PIR service before and answered after."""
    from yinji.net.ports import free_ports
    from yinji.node.admin import open_admin
    from yinji.node.catalog import Dataset, PolicyRule
    from yinji.node.config import NodeConfig, PirServiceConfig
    from yinji.node.identity import add_peer

    make_homes(tmp_path, TRIO, {"securities": ["fund"], "fund": ["securities"], "futures": []},
               {})
    listed = {"110101199001010011": "AML-watch", "110101199001010022": "FRAUD-ring"}
    sec = NodeConfig.load(tmp_path / "securities")
    (sec.home / "data" / "blacklist.csv").write_text(
        "id_no,tag\n" + "".join(f"{k},{v}\n" for k, v in listed.items()))
    with open_admin(sec.home, by="test") as admin:
        admin.catalog.register(Dataset(
            id="blacklist", kind="csv", location="data/blacklist.csv",
            schema={"id_no": "string", "tag": "string"},
            policy=[PolicyRule(columns=["id_no", "tag"], protocols=["pir"])]), by=admin.by)
    sec.pir["blacklist"] = PirServiceConfig("blacklist", "blacklist", "id_no", ["tag"],
                                            free_ports(1)[0])
    sec.save()
    bundle = export_bundle(sec)                       # with its PIR address
    fut = NodeConfig.load(tmp_path / "futures")
    add_peer(fut, bundle, bundle["fingerprint"])
    m = {n: start(tmp_path, n) for n in TRIO}
    try:
        keys = [*listed, "110101199001010033"]
        ask = {"keys": keys, "members": ["securities"], "timeout": 10}
        res = m["futures"].call("POST", "/pir/query", json=ask)
        assert not res["complete"] and res["members"]["securities"]["status"] == "down"
        fb = export_bundle(m["futures"].node.cfg)
        m["securities"].call("POST", "/peers", role="admin", expect=201,
                             json={"bundle": fb, "fingerprint": fb["fingerprint"]})
        assert m["securities"].call("GET", "/pir/services")[0]["clients"] == ["fund", "futures"]
        res = m["futures"].call("POST", "/pir/query", json=ask)
        assert res["complete"]
        got = {r["key"]: r["label"]["tag"] if r["hit"] else None
               for r in res["members"]["securities"]["results"]}
        assert got == {k: listed.get(k) for k in keys}
        # removed: refused, even over the connection futures keeps pooled from the last query
        m["securities"].call("DELETE", "/peers/futures", role="admin")
        assert m["securities"].call("GET", "/pir/services")[0]["clients"] == ["fund"]
        res = m["futures"].call("POST", "/pir/query", json=ask)
        assert not res["complete"] and res["members"]["securities"]["status"] != "ok"
        assert "results" not in res["members"]["securities"] or \
            not res["members"]["securities"]["results"]
    finally:
        for x in m.values():
            x.node.stop()
