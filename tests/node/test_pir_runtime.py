"""PIR services managed at run time (three in-process nodes on loopback TLS): added and removed
without touching node.yaml, kept in the metadata store across a restart, found by peers
through the member's directory (also after it moved to another port), hidden from peers its
column policy does not admit; a removal does not refill a peer's budget."""

import csv

import pytest

from yinji.net.ports import free_ports
from yinji.node.catalog import Dataset, PolicyRule
from yinji.node.config import NodeConfig, PirServiceConfig
from yinji.node.identity import add_peer, export_bundle, init_node
from yinji.node.node import Node
from yinji.node.pir_services import PirServiceError

pytestmark = pytest.mark.timeout(120)

NAMES = ["bank", "member", "other"]
LIST = {f"11010119900101{i:03d}{'X' if i % 2 else '7'}": (f"tag{i}",) for i in range(40)}
SERVICE = {"id": "watch", "dataset": "watch", "key_column": "id_no", "label_columns": ["tag"],
           "key_kind": "id", "rate_limit": "10/min", "day_budget": 60}


@pytest.fixture
def net(tmp_path):
    ports = free_ports(2 * len(NAMES) + 1)
    cfgs = {n: init_node(tmp_path / n, n, api_port=ports[2 * k], dataplane_port=ports[2 * k + 1])
            for k, n in enumerate(NAMES)}
    bundles = {n: export_bundle(c) for n, c in cfgs.items()}
    for name, cfg in cfgs.items():
        for other, bundle in bundles.items():
            if other != name:
                add_peer(cfg, bundle, bundle["fingerprint"])
    home = tmp_path / "member"
    (home / "data").mkdir(exist_ok=True)
    with open(home / "data" / "watch.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id_no", "tag"])
        w.writerows([k.lower(), t] for k, (t,) in LIST.items())
    cfg = NodeConfig.load(home)
    cfg.anchor_period = 0
    # "exact": this list stays buildable when the test appends a key that is a duplicate
    # only once normalised as an ID (the stored list below normalises)
    cfg.pir["from-yaml"] = PirServiceConfig("from-yaml", "watch", "id_no", ["tag"], ports[-1],
                                            key_kind="exact")
    cfg.save()
    nodes = {n: Node(tmp_path / n) for n in NAMES}
    nodes["member"].catalog.register(Dataset(
        id="watch", kind="csv", location="data/watch.csv",
        schema={"id_no": "string", "tag": "string"},
        policy=[PolicyRule(columns=["*"], protocols=["pir"], peers=["bank"])]), by="test")
    for node in nodes.values():
        node.start()
    yield nodes
    for node in nodes.values():
        if not getattr(node, "stopped", False):
            node.stop()


def restart(nodes, name):
    nodes[name].stop()
    nodes[name] = Node(nodes[name].home)
    nodes[name].start()
    return nodes[name]


def hits(answer, member="member"):
    a = answer["members"][member]
    assert a["status"] == "ok", a
    return [r["label"]["tag"] if r["hit"] else None for r in a["results"]]


def test_added_service_survives_a_restart_and_peers_follow_it(net):
    key = next(iter(LIST))
    added = net["member"].pir.add(dict(SERVICE), by="op")
    first_port = added["address"]
    assert hits(net["bank"].pir.query([key.lower(), "nobody"], ["member"], "watch",
                                      key_kind="id")) == ["tag0", None]
    member = restart(net, "member")           # port "auto": it comes back elsewhere
    (again,) = [s for s in member.pir.list() if s["id"] == "watch"]
    assert again["source"] == "api" and again["address"] != first_port
    # the bank still knows the old address: down there, so it asks the directory again
    assert hits(net["bank"].pir.query([key], ["member"], "watch")) == ["tag0"]
    for node in (net["bank"], member):
        text = str(node.audit.entries())
        assert key not in text and key.lower() not in text
    assert [e["data"]["action"] for e in member.audit.entries()
            if e["kind"] == "pir.service" and e["data"]["service"] == "watch"] == \
        ["published", "published"]   # added by the operator; again at the restart


def test_directory_hides_what_a_peer_may_not_query(net):
    net["member"].pir.add(dict(SERVICE), by="op")
    assert [e["id"] for e in net["member"].pir.directory("bank")] == ["from-yaml", "watch"]
    assert net["member"].pir.directory("other") == []
    found, down = net["other"].pir.discover()
    assert found == {"bank": {}, "member": {}} and down == {}
    with pytest.raises(PirServiceError, match="advertises no PIR service 'watch'"):
        net["other"].pir.query(["x"], ["member"], "watch")


def test_removal_keeps_the_budget_and_yaml_services_stay(net):
    member, bank = net["member"], net["bank"]
    member.pir.add(dict(SERVICE), by="op")
    keys = [f"K{i}" for i in range(50)]
    assert bank.pir.query(keys, ["member"], "watch")["members"]["member"]["status"] == "ok"
    member.pir.remove("watch", by="op")
    assert "watch" not in member.store.pir_services()
    member.pir.add(dict(SERVICE), by="op")          # the attack: re-add to refill the budget
    again = bank.pir.query(keys, ["member"], "watch")["members"]["member"]
    assert again["status"] == "rate_limited"
    with pytest.raises(PirServiceError, match="node.yaml"):
        member.pir.remove("from-yaml", by="op")
    actions = [(e["data"]["action"], e["data"]["by"]) for e in member.audit.entries()
               if e["kind"] == "pir.service" and e["data"]["service"] == "watch"]
    assert actions == [("published", "op"), ("removed", "op"), ("published", "op")]


def test_a_member_down_at_start_is_down_not_missing(net):
    net["member"].pir.add(dict(SERVICE), by="op")
    net["member"].stop()
    net["member"].stopped = True
    ans = net["bank"].pir.query(["x"], ["member"], "watch")
    assert not ans["complete"] and ans["members"]["member"]["status"] == "down"
    found, down = net["bank"].pir.discover("watch")
    assert found == {} and set(down) == {"member"}


def test_cli_adds_lists_refreshes_and_removes(net, monkeypatch, capsys):
    from fastapi.testclient import TestClient

    from yinji.cli import pir_service
    from yinji.cli.main import main
    from yinji.node.api.app import create_app

    member = net["member"]
    token = member.add_token("cli", "operator")
    monkeypatch.setattr(pir_service, "client", lambda args: TestClient(
        create_app(member), headers={"Authorization": f"Bearer {token}"}))
    assert main(["pir", "service", "add", "watch", "--dataset", "watch", "--key-column",
                 "id_no", "--label-columns", "tag", "--key-kind", "id", "--day-budget",
                 "1000"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("watch: watch (id_no -> tag) at 127.0.0.1:") and "[api]" in out
    assert "1000/day" in out and "keys as id" in out and "peers bank" in out
    key = next(iter(LIST))
    assert hits(net["bank"].pir.query([key], ["member"], "watch")) == ["tag0"]
    assert main(["pir", "service", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in listed] == ["from-yaml", "watch"]
    version = member.pir.list()[1]["version"]
    assert main(["pir", "service", "refresh", "watch"]) == 0
    assert version not in capsys.readouterr().out and member.pir.list()[1]["version"] != version
    assert main(["pir", "service", "remove", "watch"]) == 0
    assert capsys.readouterr().out == "removed watch\n"
    assert main(["pir", "service", "remove", "watch"]) == 2
    assert "404 no PIR service 'watch'" in capsys.readouterr().err
    assert main(["pir", "service", "add", "bad/id", "--dataset", "watch", "--key-column",
                 "id_no", "--label-columns", "tag"]) == 2
    assert "422" in capsys.readouterr().err
    assert main(["pir", "service", "add", "w2", "--dataset", "watch", "--key-column",
                 "id_no", "--label-columns", "tag", "--port", "eighty"]) == 2
    assert "--port" in capsys.readouterr().err
    assert [s["id"] for s in member.pir.list()] == ["from-yaml"]


def test_a_stored_list_that_no_longer_builds_does_not_keep_the_node_down(net):
    member = net["member"]
    member.pir.add(dict(SERVICE), by="op")
    csv_path = member.home / "data" / "watch.csv"
    good = csv_path.read_bytes()
    csv_path.write_bytes(good + b"11010119900101001X,dup\n")   # a duplicate once normalised as id
    member = restart(net, "member")
    (failed,) = [s for s in member.pir.list() if s["id"] == "watch"]
    assert "records rejected" in failed["failed"] and failed["address"] == ""
    assert [e["id"] for e in member.pir.directory("bank")] == ["from-yaml"]
    with pytest.raises(PirServiceError, match="advertises no PIR service 'watch'"):
        net["bank"].pir.query(["x"], ["member"], "watch")
    with pytest.raises(PirServiceError, match="duplicate"):
        member.pir.refresh("watch", by="op")
    csv_path.write_bytes(good)
    assert member.pir.refresh("watch", by="op")["records"] == len(LIST)
    assert hits(net["bank"].pir.query([next(iter(LIST))], ["member"], "watch")) == ["tag0"]
    member.pir.remove("watch", by="op")
    assert member.store.pir_services() == {}


def test_an_oversized_label_is_refused_with_its_row_and_nothing_is_kept(net):
    member = net["member"]
    with open(member.home / "data" / "long.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id_no", "tag"])
        w.writerows([k, t if i != 3 else "x" * 2_000] for i, (k, (t,)) in
                    enumerate(LIST.items()))
    member.catalog.register(Dataset(
        id="long", kind="csv", location="data/long.csv",
        schema={"id_no": "string", "tag": "string"},
        policy=[PolicyRule(columns=["*"], protocols=["pir"], peers=["bank"])]), by="test")
    with pytest.raises(PirServiceError, match=r"longer than 1024 bytes \(rows 4;"):
        member.pir.add({**SERVICE, "id": "long", "dataset": "long"}, by="op")
    assert "long" not in [s["id"] for s in member.pir.list()]
    (event,) = [e["data"] for e in member.audit.entries()
                if e["kind"] == "pir.service" and e["data"]["service"] == "long"]
    assert event["action"] == "failed" and "x" * 50 not in str(event)
    # an explicit size is the operator's choice (a node service: at most 4096 bytes)
    added = member.pir.add({**SERVICE, "id": "long", "dataset": "long", "label_size": 2_016},
                           by="op")
    assert added["id"] == "long"


def test_lists_are_built_on_the_nodes_workers_and_kept_under_its_home(net, monkeypatch):
    """A list is built streamed (yinji.pir.build) on the node's workers -- Ray tasks when
    node.yaml names ray_address -- into HOME/pir/ID/; a refresh keeps the version before it
    (batches in flight), a removal deletes them."""
    from yinji.net.workers import LocalWorkers

    member, bank = net["member"], net["bank"]
    ran = []

    class Recording(LocalWorkers):
        def map(self, fn, args):
            ran.append(fn.__name__)
            return super().map(fn, args)

    workers = Recording(2)
    monkeypatch.setattr(member, "workers", lambda: workers)
    member.pir.add(dict(SERVICE), by="op")
    assert {"_oprf_task", "_seal_task", "_hint_task"} <= set(ran)
    folder = member.home / "pir" / "watch"
    first = member.pir._served["watch"].server.current.version
    assert [p.name for p in folder.iterdir()] == [first]
    for _ in range(2):
        member.pir.refresh("watch", by="op")
    current = member.pir._served["watch"].server.current.version
    assert current.startswith("v3-") and len(list(folder.iterdir())) == 2
    key = next(iter(LIST))
    assert hits(bank.pir.query([key], ["member"], "watch")) == ["tag0"]
    member.pir.remove("watch", by="op")
    assert not folder.exists() and (member.home / "pir" / "watch.oprf").exists()
