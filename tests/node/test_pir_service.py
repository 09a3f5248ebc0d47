"""PIR as a node service: three node processes on loopback; securities and fund serve
blacklists from their catalogs, futures asks them through its REST API (lane `tls`)."""

import csv
import json
import time

import pytest

from yinji.cli.network import clients, create_network, start_nodes, stop_nodes
from yinji.net.ports import free_ports

pytestmark = [pytest.mark.tls, pytest.mark.timeout(120)]

NODES = ["securities", "fund", "futures"]
SEC = {f"1101011990{i:08d}": ("AML-watch", f"2024-{i % 12 + 1:02d}") for i in range(0, 60, 2)}
FUND = {f"1101011990{i:08d}": ("FRAUD-ring", "2023-01") for i in range(0, 60, 3)}
ONLY_SEC, ONLY_FUND, BOTH = "110101199000000002", "110101199000000003", "110101199000000006"
ABSENT = "110101199099999999"
KEYS = [ONLY_SEC, ONLY_FUND, BOTH, ABSENT]
ID_X = "11010519491231002X"  # check character X: stored and asked in other forms (yinji.ids)
SEC[ID_X] = ("PEP", "2022-07")


def write_list(home, rows):
    path = home / "data" / "blacklist.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id_no", "tag", "since"])
        for key, (tag, since) in rows.items():
            w.writerow([key, tag, since])


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    from yinji.node.admin import open_admin
    from yinji.node.catalog import Dataset, PolicyRule
    from yinji.node.config import NodeConfig, PirServiceConfig
    from yinji.node.identity import export_bundle

    root = tmp_path_factory.mktemp("pirnet")
    create_network(root, NODES, job_timeout=15)
    # fund lets only futures query its list; securities lets every peer
    for (name, rows, peers), port in zip(
            [("securities", SEC, ["*"]), ("fund", FUND, ["futures"])], free_ports(2),
            strict=True):
        cfg = NodeConfig.load(root / name)
        write_list(cfg.home, rows)
        with open_admin(cfg.home, by="test") as admin:
            admin.catalog.register(Dataset(
                id="blacklist", kind="csv", location="data/blacklist.csv",
                schema={"id_no": "string", "tag": "string", "since": "string"},
                policy=[PolicyRule(columns=["id_no", "tag", "since"], protocols=["pir"],
                                   peers=peers)]), by=admin.by)
        cfg.pir["blacklist"] = PirServiceConfig("blacklist", "blacklist", "id_no",
                                                ["tag", "since"], port, "1000/min")
        cfg.save()
    # peers learn the PIR ports from the refreshed bundles
    bundles = {n: export_bundle(NodeConfig.load(root / n)) for n in NODES}
    for n in NODES:
        with open_admin(root / n, by="test") as admin:
            for other in NODES:
                if other != n:
                    admin.add_peer(bundles[other], bundles[other]["fingerprint"])
    start_nodes(root)
    apis = clients(root)
    yield root, apis
    for api in apis.values():
        api.close()
    stop_nodes(root)


def query(api, keys=KEYS, **kw):
    return api.call("POST", "/pir/query", json={"keys": keys, **kw})


def labels(answer):
    return {r["key"]: (r["label"]["tag"], r["label"]["since"]) if r["hit"] else None
            for r in answer["results"]}


def audit(api):
    return api.call("GET", "/audit", role="auditor", params={"limit": 10000})


def test_query_returns_labels_and_absences(net):
    _, apis = net
    peers = {p["name"]: p["pir"] for p in apis["futures"].call("GET", "/peers")}
    assert set(peers["securities"]) == set(peers["fund"]) == {"blacklist"}
    res = query(apis["futures"])
    assert res["complete"] and set(res["members"]) == {"securities", "fund"}
    assert labels(res["members"]["securities"]) == {k: SEC.get(k) for k in KEYS}
    assert labels(res["members"]["fund"]) == {k: FUND.get(k) for k in KEYS}
    for member in ("securities", "fund"):
        served = apis[member].call("GET", "/pir/services", role="auditor")
        assert res["members"][member]["version"] == served[0]["version"]
        assert served[0]["records"] == len(SEC if member == "securities" else FUND)
    # fund's column policy admits only futures: securities is refused, and says so
    assert apis["fund"].call("GET", "/pir/services")[0]["clients"] == ["futures"]
    res = query(apis["securities"], members=["fund"])
    assert not res["complete"] and res["members"]["fund"]["status"] == "down"
    assert "did not accept us" in res["members"]["fund"]["error"]
    with pytest.raises(RuntimeError, match="400"):
        query(apis["futures"], members=["nobody"])


def test_keys_in_other_stored_forms_hit(net):
    """Both sides normalise by the member's published key kind: a lower-case x, an Excel
    export, a full-width 15-digit legacy number all hit; results keep the keys as given."""
    _, apis = net
    assert apis["securities"].call("GET", "/pir/services")[0]["key_kind"] == "auto"
    forms = [ID_X.lower(), f'="{ID_X.lower()}"', "１１０１０５４９１２３１００２", f"'{BOTH}"]
    res = query(apis["futures"], keys=forms, members=["securities"])
    results = res["members"]["securities"]["results"]
    assert [r["key"] for r in results] == forms
    assert [r["label"]["tag"] if r["hit"] else None for r in results] == \
        ["PEP", "PEP", "PEP", SEC[BOTH][0]]
    with pytest.raises(RuntimeError, match="400") as e:
        query(apis["futures"], keys=[ID_X, "1.10105E+17"])
    assert "spreadsheet notation" in str(e.value) and "[1]" in str(e.value)


def test_audit_records_queries_without_keys(net):
    _, apis = net
    query(apis["futures"], members=["securities"])
    secret = {*KEYS, *SEC, *FUND, "AML-watch", "FRAUD-ring"}
    for member in ("securities", "fund"):
        served = [e["data"] for e in audit(apis[member]) if e["kind"] == "pir.served"]
        assert {(d["client"], d["op"], d["keys"], d["status"]) for d in served} >= {
            ("futures", "oprf", 4, "ok"), ("futures", "pir", 4, "ok")}
        assert all(d["version"] and d["service"] == "blacklist" for d in served)
    calls = [e["data"] for e in audit(apis["futures"]) if e["kind"] == "pir.query"]
    assert calls[-1] == {"service": "", "principal": "futures-operator", "keys": 4,
                         "members": ["securities"], "statuses": {"securities": "ok"}}
    for name, api in apis.items():
        text = json.dumps(audit(api), ensure_ascii=False)
        assert "110101199" not in text and not [s for s in secret if s in text], name
        assert api.call("GET", "/audit/verify", role="auditor")["ok"]


def test_non_peer_certificate_refused(net, tmp_path):
    root, apis = net
    from yinji.crypto.certs import self_signed_cert, write_cert_key
    from yinji.net.channel import PeerUnavailable
    from yinji.net.connect import TlsConfig
    from yinji.node.config import NodeConfig
    from yinji.node.identity import own_fingerprint
    from yinji.pir.service import connect_member

    target = NodeConfig.load(root / "securities")
    cert, key = write_cert_key(self_signed_cert("futures"), tmp_path, "rogue")
    trust = tmp_path / "trust.pem"
    trust.write_bytes(target.cert_file.read_bytes() + cert.read_bytes())
    tls = TlsConfig(cert, key, trust, {"securities": own_fingerprint(target)})
    with pytest.raises(PeerUnavailable):
        connect_member("futures", "securities", ("127.0.0.1", target.pir["blacklist"].port),
                       tls, connect_timeout=2)
    deadline = time.monotonic() + 15
    while not any(e["kind"] == "peer.call" and e["data"]["op"] == "pir.connect"
                  and not e["data"]["accepted"] for e in audit(apis["securities"])):
        assert time.monotonic() < deadline, "refusal not audited"
        time.sleep(0.1)


def test_refresh_publishes_new_version(net):
    root, apis = net
    query(apis["futures"], members=["securities"])       # futures now holds the hint
    before = apis["securities"].call("GET", "/pir/services")[0]
    new = dict(SEC)
    del new[ONLY_SEC]
    new[ABSENT] = ("pep", "2025-06")
    new[BOTH] = ("aml-closed", "2025-07")
    write_list(root / "securities", new)
    with pytest.raises(RuntimeError, match="403"):
        apis["securities"].call("POST", "/pir/services/blacklist/refresh", role="auditor")
    after = apis["securities"].call("POST", "/pir/services/blacklist/refresh")
    assert after["version"] != before["version"] and after["records"] == len(new)
    res = query(apis["futures"], members=["securities"])
    sec = res["members"]["securities"]
    assert sec["version"] == after["version"]
    assert labels(sec) == {k: new.get(k) for k in KEYS}
    # the pooled client's hint was stale: the member told it so, then answered
    served = [e["data"] for e in audit(apis["securities"]) if e["kind"] == "pir.served"
              and e["data"]["op"] == "pir"]
    assert [(d["status"], d["version"]) for d in served[-2:]] == [
        ("stale", after["version"]), ("ok", after["version"])]
    published = [e["data"] for e in audit(apis["securities"]) if e["kind"] == "pir.service"]
    assert published[-1]["version"] == after["version"] and \
        published[-1]["by"] == "securities-operator"


def test_member_down_is_reported(net):
    root, apis = net
    stop_nodes(root, only=["fund"])
    try:
        res = query(apis["futures"])
        assert not res["complete"]
        assert res["members"]["fund"]["status"] == "down"
        assert res["members"]["fund"]["results"] is None
        assert res["members"]["securities"]["status"] == "ok"
    finally:
        start_nodes(root, only=["fund"])
    # back up: the dead pooled connection is replaced by a fresh one
    res = query(apis["futures"])
    assert res["complete"] and labels(res["members"]["fund"]) == {k: FUND.get(k) for k in KEYS}


def test_cli_node_query(net, tmp_path, capsys):
    root, apis = net
    from yinji.cli.main import main

    token = tmp_path / "op.token"
    token.write_text(apis["futures"].tokens["operator"])
    rc = main(["pir", "node-query", "--api", apis["futures"].url, "--api-ca", apis["futures"].ca, "--token-file", str(token),
               "--key", ONLY_FUND, "--key", ABSENT, "--member", "fund"])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert f"{ONLY_FUND}  fund    hit" in out and "FRAUD-ring" in out
    assert f"{ABSENT}  fund    miss" in out
