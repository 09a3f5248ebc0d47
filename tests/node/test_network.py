"""Four node processes on loopback, driven only through the REST API (slower lane)."""

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from yinji.cli.main import main
from yinji.cli.network import (
    clients,
    create_network,
    start_nodes,
    stop_nodes,
    wait_job,
)

pytestmark = pytest.mark.tls

SEGMENTS = ["retail", "affluent", "private", "institutional"]
# Offshore approves MPC jobs of securities and fund by policy; futures' need a person there.
POLICIES = {"offshore": [{"protocols": ["mpc.aggregate"],
                          "proposers": ["securities", "fund", "offshore"]}]}


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    root = tmp_path_factory.mktemp("net")
    create_network(root, job_timeout=15, policies=POLICIES)
    start_nodes(root)
    apis = clients(root)
    yield root, apis
    for api in apis.values():
        api.close()
    stop_nodes(root)


def agg_job(trio, recipients, metrics=("sum", "count"), value="assets_cny"):
    return {"protocol": "mpc.aggregate",
            "inputs": {n: {"dataset": "customers", "columns": ["segment", value]} for n in trio},
            "params": {"groups": SEGMENTS, "metrics": list(metrics)},
            "recipients": list(recipients)}


def plaintext(root: Path, trio):
    import csv

    sums = dict.fromkeys(SEGMENTS, 0.0)
    counts = dict.fromkeys(SEGMENTS, 0)
    for n in trio:
        with open(root / n / "data" / "customers.csv", newline="") as fh:
            for r in csv.DictReader(fh):
                sums[r["segment"]] += float(r["assets_cny"])
                counts[r["segment"]] += 1
    return [sums[g] for g in SEGMENTS], [counts[g] for g in SEGMENTS]


def check_result(root, apis, job_id, trio, recipient):
    res = apis[recipient].call("GET", f"/jobs/{job_id}/result")["result"]
    sums, counts = plaintext(root, trio)
    assert res["count"] == counts
    assert res["sum"] == pytest.approx(sums, rel=1e-9, abs=0.05)
    return res


def test_happy_path(net):
    root, apis = net
    trio = ["securities", "fund", "futures"]
    job = apis["securities"].call("POST", "/jobs", json=agg_job(trio, ["securities", "fund"],
                                                                ("sum", "count", "mean")))
    views = wait_job(apis, job["id"], trio, timeout=60)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    res = check_result(root, apis, job["id"], trio, "securities")
    sums, counts = plaintext(root, trio)
    assert res["mean"] == pytest.approx([s / c for s, c in zip(sums, counts, strict=True)], rel=1e-4)
    assert apis["fund"].call("GET", f"/jobs/{job['id']}/result")["result"] == res
    assert not views["futures"]["has_result"]
    # every participant holds the same set of signed approvals
    assert len({v["approvals_hash"] for v in views.values()}) == 1
    assert {a["node"] for a in views["futures"]["approvals"]} == set(trio)
    # the job's audit entries on each node carry that hash
    for n in trio:
        entries = apis[n].call("GET", "/audit", role="auditor", params={"job_id": job["id"]})
        states = [e["data"]["state"] for e in entries if e["kind"] == "job.state"]
        assert states == ["approved", "running", "succeeded"]
        assert {e["data"]["approvals_hash"] for e in entries if e["kind"] == "job.state"} == \
            {views[n]["approvals_hash"]}
        assert apis[n].call("GET", "/audit/verify", role="auditor")["ok"]
    # the non-participant never heard of the job
    with pytest.raises(RuntimeError, match="404"):
        apis["offshore"].call("GET", f"/jobs/{job['id']}")


def test_four_companies_result_to_the_offshore_input_party(net):
    """All four companies' holdings: three compute, offshore shares in as an input party and
    is the only recipient; the compute parties hold no result."""
    root, apis = net
    four = ["securities", "fund", "futures", "offshore"]
    spec = agg_job(four, ["offshore"])
    spec["params"]["compute"] = ["securities", "fund", "futures"]
    job = apis["securities"].call("POST", "/jobs", json=spec)
    views = wait_job(apis, job["id"], four, timeout=60)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    check_result(root, apis, job["id"], four, "offshore")
    assert not any(views[n]["has_result"] for n in ("securities", "fund", "futures"))


def test_peer_rejects_job_and_data_untouched(net):
    root, apis = net
    trio = ["futures", "fund", "offshore"]
    data = root / "fund" / "data" / "customers.csv"
    before = hashlib.sha256(data.read_bytes()).hexdigest()
    job = apis["futures"].call("POST", "/jobs", json=agg_job(trio, ["futures"]))
    # offshore's policy leaves futures' jobs to a person; the approver rejects
    import time

    deadline = time.monotonic() + 20
    while True:
        try:
            apis["offshore"].call("POST", f"/jobs/{job['id']}/reject", role="approver",
                                  json={"reason": "not this quarter"})
            break
        except RuntimeError:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    views = wait_job(apis, job["id"], trio, timeout=30)
    assert {v["state"] for v in views.values()} == {"rejected"}, views
    assert all("offshore" in v["reason"] for v in views.values())
    for n in trio:
        entries = apis[n].call("GET", "/audit", role="auditor", params={"job_id": job["id"]})
        assert not any(e["kind"] == "job.state" and e["data"]["state"] == "running"
                       for e in entries)
        assert not views[n]["has_result"]
    assert hashlib.sha256(data.read_bytes()).hexdigest() == before


def test_policy_rejects_forbidden_column(net):
    _, apis = net
    trio = ["securities", "fund", "futures"]
    body = agg_job(trio, ["securities"], ("count",))
    body["inputs"]["fund"]["columns"] = ["customer_id"]   # fund allows it only for PSI
    job = apis["securities"].call("POST", "/jobs", json=body)
    views = wait_job(apis, job["id"], trio, timeout=30)
    assert {v["state"] for v in views.values()} == {"rejected"}
    assert "does not allow column 'customer_id'" in views["securities"]["reason"]


def test_wrong_role_and_no_token_refused(net):
    _, apis = net
    api = apis["fund"]
    for role, method, path in (("operator", "GET", "/audit/verify"),
                               ("auditor", "POST", "/jobs"),
                               ("approver", "GET", "/jobs/x/result")):
        with pytest.raises(RuntimeError, match="403"):
            api.call(method, path, role=role, json={})
    r = api.http.get("/jobs")
    assert r.status_code == 401
    entries = api.call("GET", "/audit", role="auditor", params={"limit": 10000})
    refused = [e["data"] for e in entries if e["kind"] == "api.call" and not e["data"]["allowed"]]
    assert {(d["path"], d["status"]) for d in refused} >= {
        ("/audit/verify", 403), ("/jobs", 403), ("/jobs/{job_id}/result", 403), ("/jobs", 401)}


def test_unknown_certificate_refused(net, tmp_path):
    """A process with a certificate the node does not know, even one issued to a known
    peer's name, is refused at the TLS layer; the refusal is audited."""
    root, apis = net
    from yinji.crypto.certs import self_signed_cert, write_cert_key
    from yinji.net.channel import PeerUnavailable
    from yinji.net.connect import TlsConfig
    from yinji.node.config import NodeConfig
    from yinji.node.dataplane import DataPlane
    from yinji.node.identity import own_fingerprint

    target = NodeConfig.load(root / "securities")
    cert, key = write_cert_key(self_signed_cert("fund"), tmp_path, "rogue")
    trust = tmp_path / "trust.pem"
    trust.write_bytes(target.cert_file.read_bytes() + cert.read_bytes())
    tls = TlsConfig(cert, key, trust, {"securities": own_fingerprint(target)})
    rogue = DataPlane("fund", ("127.0.0.1", 0), lambda: tls,
                      lambda p: ("127.0.0.1", target.dataplane_port), lambda p, m: {},
                      lambda *a: None)
    with pytest.raises(PeerUnavailable):
        rogue.request("securities", {"type": "failed", "job_id": "x"}, timeout=5)
    # the node audits the refusal on its own accept thread, possibly just after we see it
    import time

    deadline = time.monotonic() + 15
    while True:
        entries = apis["securities"].call("GET", "/audit", role="auditor", params={"limit": 10000})
        if any(e["kind"] == "peer.call" and not e["data"]["accepted"]
               and e["data"]["op"] == "connect" for e in entries) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert any(e["kind"] == "peer.call" and not e["data"]["accepted"]
               and e["data"]["op"] == "connect" for e in entries)


def test_node_killed_mid_job(net):
    """futures stops at 'computing' (test hook) and is killed: the job fails on every node,
    data are untouched, audits verify, and futures marks it failed after a restart."""
    root, apis = net
    import os
    import signal
    import time

    stop_nodes(root, only=["futures"])
    start_nodes(root, only=["futures"], env={"futures": {"YINJI_TEST_HOLD_STAGE": "computing"}})
    trio = ["securities", "fund", "futures"]
    digests = {n: hashlib.sha256((root / n / "data" / "customers.csv").read_bytes()).hexdigest()
               for n in trio}
    job = apis["securities"].call("POST", "/jobs", json=agg_job(trio, ["securities"]))
    deadline = time.monotonic() + 30
    while apis["futures"].call("GET", f"/jobs/{job['id']}", role="auditor")["stage"] \
            != "computing":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    pid = int((root / "futures" / "node.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    views = wait_job(apis, job["id"], ["securities", "fund"], timeout=30)
    assert {v["state"] for v in views.values()} == {"failed"}, views
    stop_nodes(root, only=["futures"])
    start_nodes(root, only=["futures"])
    view = apis["futures"].call("GET", f"/jobs/{job['id']}", role="auditor")
    assert view["state"] == "failed" and "restarted" in view["reason"]
    for n in trio:
        assert hashlib.sha256((root / n / "data" / "customers.csv").read_bytes()).hexdigest() \
            == digests[n]
        assert apis[n].call("GET", "/audit/verify", role="auditor")["ok"]
        assert not apis[n].call("GET", f"/jobs/{job['id']}", role="auditor")["has_result"]


def test_fifty_concurrent_jobs(net):
    root, apis = net
    trios = [["securities", "fund", "futures"], ["securities", "fund", "offshore"],
             ["fund", "futures", "offshore"], ["securities", "futures", "offshore"]]
    plans = []
    for i in range(50):
        trio = trios[i % 4]
        proposer = [n for n in trio if not (n == "futures" and "offshore" in trio)][i % 2]
        plans.append((proposer, trio, trio[(i // 4) % 3]))
    lock = threading.Lock()
    ids = []

    def propose(plan):
        proposer, trio, recipient = plan
        job = apis[proposer].call("POST", "/jobs", json=agg_job(trio, [recipient], ("count",)))
        with lock:
            ids.append((job["id"], trio, recipient))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(propose, plans))
    assert len(ids) == 50
    for job_id, trio, recipient in ids:
        views = wait_job(apis, job_id, trio, timeout=90)
        assert {v["state"] for v in views.values()} == {"succeeded"}, \
            {n: (v["state"], v["reason"]) for n, v in views.items()}
        res = apis[recipient].call("GET", f"/jobs/{job_id}/result")["result"]
        assert res["count"] == plaintext(root, trio)[1]
    for api in apis.values():
        assert api.call("GET", "/audit/verify", role="auditor")["ok"]


def test_bucketed_psi_job_runs_its_lanes_over_tls(net, tmp_path, monkeypatch, capsys):
    """psi.intersect with params.buckets: bucket pairs over their own mutual-TLS lanes between
    the two nodes (threads here; Ray when `ray_address` is set), same answer as plain PSI."""
    import csv

    root, apis = net
    pair = ["securities", "fund"]
    spec = {"protocol": "psi.intersect",
            "inputs": {n: {"dataset": "customers", "columns": ["customer_id"]} for n in pair},
            "params": {"buckets": 5, "lanes": 2}, "recipients": ["fund"]}
    job = apis["securities"].call("POST", "/jobs", json=spec)
    views = wait_job(apis, job["id"], pair, timeout=60)
    assert {v["state"] for v in views.values()} == {"succeeded"}, views
    ids = []
    for n in pair:
        with open(root / n / "data" / "customers.csv", newline="") as fh:
            ids.append({r["customer_id"] for r in csv.DictReader(fh)})
    res = apis["fund"].call("GET", f"/jobs/{job['id']}/result")["result"]
    assert set(res["intersection"]) == ids[0] & ids[1] and res["size"] > 0
    assert not views["securities"]["has_result"]
    # the intersection is also a file at the recipient, named with its SHA-256 in the signed
    # result; `yinji job result --out` downloads it and checks the digest
    entry = res["file"]
    assert entry["name"] == "intersection.csv" and entry["rows"] == res["size"]
    assert not (root / "securities" / "results" / job["id"]).exists()
    monkeypatch.setenv("YINJI_TOKEN", apis["fund"].tokens["operator"])
    cli = ["job", "result", job["id"], "--api", apis["fund"].url, "--format", "json",
           *(["--api-ca", apis["fund"].ca] if apis["fund"].ca else [])]
    assert main([*cli, "--out", str(tmp_path / "res")]) == 0
    data = (tmp_path / "res" / "intersection.csv").read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert set(data.decode().split()[1:]) == ids[0] & ids[1]
    at_node = root / "fund" / "results" / job["id"] / "intersection.csv"
    at_node.write_bytes(data + b"X0000001\n")     # changed at the node after the result
    assert main([*cli, "--out", str(tmp_path / "res2")]) == 1
    assert "does not match the SHA-256" in capsys.readouterr().err
    assert not (tmp_path / "res2" / "intersection.csv").exists()
    bad = dict(spec, protocol="psi.cardinality")
    with pytest.raises(RuntimeError, match="cardinality job runs unbucketed"):
        apis["securities"].call("POST", "/jobs", json=bad)


def test_cardinality_and_unbucketed_psi_jobs(net):
    """Through the real engine and catalog: a psi.cardinality job reads its dataset in chunks
    (`yinji.psi.cardinality`) and gives |A ∩ B| to its one recipient only; an intersection
    naming no buckets agrees its route (small datasets here: in memory) and gives A ∩ B."""
    import csv

    root, apis = net
    pair = ["securities", "fund"]
    ids = []
    for n in pair:
        with open(root / n / "data" / "customers.csv", newline="") as fh:
            ids.append({r["customer_id"] for r in csv.DictReader(fh)})
    inputs = {n: {"dataset": "customers", "columns": ["customer_id"]} for n in pair}
    card = apis["fund"].call("POST", "/jobs", json={
        "protocol": "psi.cardinality", "inputs": inputs, "params": {},
        "recipients": ["securities"]})
    inter = apis["securities"].call("POST", "/jobs", json={
        "protocol": "psi.intersect", "inputs": inputs, "params": {}, "recipients": ["fund"]})
    for job in (card, inter):
        views = wait_job(apis, job["id"], pair, timeout=90)
        assert {v["state"] for v in views.values()} == {"succeeded"}, views
    res = apis["securities"].call("GET", f"/jobs/{card['id']}/result")["result"]
    assert res["cardinality"] == len(ids[0] & ids[1]) > 0
    assert set(res) == {"cardinality", "own_keys"}
    assert not wait_job(apis, card["id"], ["fund"], timeout=5)["fund"]["has_result"]
    res = apis["fund"].call("GET", f"/jobs/{inter['id']}/result")["result"]
    assert set(res["intersection"]) == ids[0] & ids[1]
