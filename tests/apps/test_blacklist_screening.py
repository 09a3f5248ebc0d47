"""Blacklist screening end to end: four in-process nodes on loopback TLS. Three members
publish watch lists through the REST API (no node.yaml edit, no restart); the bank screens
its new accounts with the app; the report is checked against the plaintext join on
normalised IDs."""

import csv
import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from yinji.apps.blacklist_screening import APP, prepare
from yinji.net.ports import free_ports
from yinji.node import app_runner
from yinji.node.api.app import create_app
from yinji.node.config import NodeConfig
from yinji.node.identity import add_peer, export_bundle, init_node
from yinji.node.node import Node
from yinji.psi.keys import id_check_char, normalize

pytestmark = pytest.mark.timeout(300)

BANK, MEMBERS = "bank", ["fund", "futures", "securities"]
NODES = [BANK, *MEMBERS]
SERVICE = "blacklist"
TAGS = ["AML", "FRAUD", "SANCTION", "PEP"]


def id_number(n: int) -> str:
    first = f"110101{1960 + n % 40}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first + id_check_char(first)


def messy(key: str, k: int) -> str:
    """The same ID as a clerk might type it: lower-case x, full-width digits, spaces."""
    if k % 3 == 0:
        return key.lower()
    if k % 3 == 1:
        return " " + "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in key) + " "
    return f"{key[:6]} {key[6:14]} {key[14:]}"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("blacklist")
    rng = np.random.default_rng(7)
    ports = free_ports(2 * len(NODES))
    cfgs = {n: init_node(root / n, n, api_port=ports[2 * k], dataplane_port=ports[2 * k + 1])
            for k, n in enumerate(NODES)}
    bundles = {n: export_bundle(c) for n, c in cfgs.items()}
    for name, cfg in cfgs.items():
        for other, bundle in bundles.items():
            if other != name:
                add_peer(cfg, bundle, bundle["fingerprint"])
        cfg = NodeConfig.load(cfg.home)
        cfg.anchor_period = 0
        cfg.job_timeout = 60
        if name == BANK:
            cfg.auto_approve = [{"protocols": [APP.protocol]}]
        cfg.save()
    # watch lists: overlapping ID pools (IDs ending in X included), stored as clerks typed them
    pool = [id_number(n) for n in range(3000)]
    lists = {}
    for k, m in enumerate(MEMBERS):
        chosen = rng.choice(len(pool), 400, replace=False)
        lists[m] = {pool[i]: (TAGS[(i + k) % 4], f"reason {i}", f"2024-{1 + i % 12:02d}-01")
                    for i in chosen}
        (root / m / "data").mkdir(exist_ok=True)
        with open(root / m / "data" / "watch.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["id_no", "tag", "reason", "date"])
            for j, (key, row) in enumerate(lists[m].items()):
                w.writerow([messy(key, j) if j % 5 == 0 else key, *row])
    app_runner.register(APP)
    nodes = {n: Node(root / n) for n in NODES}
    for node in nodes.values():
        node.start()
    apis = {}
    for n, node in nodes.items():
        apis[n] = TestClient(create_app(node))
        apis[n].headers["Authorization"] = f"Bearer {node.add_token('op', 'operator')}"
    for m in MEMBERS:
        call(apis[m], "POST", "/datasets", 201, json={
            "id": "watch", "kind": "csv", "location": "data/watch.csv",
            "schema": dict.fromkeys(["id_no", "tag", "reason", "date"], "string"),
            "policy": [{"columns": ["*"], "protocols": ["pir"], "peers": ["*"]}]})
        call(apis[m], "POST", "/pir/services", 201, json={
            "id": SERVICE, "dataset": "watch", "key_column": "id_no",
            "label_columns": ["tag", "reason", "date"], "port": "auto", "key_kind": "id",
            "day_budget": 20_000, "rate_limit": "2000/min"})
    # the bank's new accounts: some listed (typed messily), some not, duplicates, a blank
    listed = sorted(set().union(*lists.values()))
    picks = [listed[i] for i in rng.choice(len(listed), 60, replace=False)]
    accounts = [messy(k, j) for j, k in enumerate(picks)] + picks[:5] + \
        [id_number(n) for n in range(5000, 5100)] + [""]
    (root / BANK / "data").mkdir(exist_ok=True)
    with open(root / BANK / "data" / "accounts.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["证件号码", "户名"])
        w.writerows([a, f"client {i}"] for i, a in enumerate(accounts))
    call(apis[BANK], "POST", "/datasets", 201, json={
        "id": "new-accounts", "kind": "csv", "location": "data/accounts.csv",
        "schema": {"证件号码": "string", "户名": "string"},
        "policy": [{"columns": ["*"], "protocols": [APP.protocol], "peers": ["*"]}]})
    yield {"root": root, "nodes": nodes, "apis": apis, "lists": lists, "accounts": accounts}
    for api in apis.values():
        api.close()
    for node in nodes.values():
        if not getattr(node, "stopped", False):
            node.stop()
    app_runner.unregister(APP.name)


def call(api, method, path, status=200, **kw):
    r = api.request(method, path, **kw)
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


def run(world, params=None, private=None, inputs=None):
    body = {"params": params or {}, "inputs": inputs if inputs is not None else
            {BANK: {"dataset": "new-accounts", "columns": {"id_no": "证件号码", "name": "户名"}}}}
    if private is not None:
        body["private"] = private
    view = call(world["apis"][BANK], "POST", f"/apps/{APP.name}/runs", 201, json=body)
    job_id = view["job"]["id"]
    deadline = time.monotonic() + 120
    while True:
        view = call(world["apis"][BANK], "GET", f"/apps/{APP.name}/runs/{job_id}")
        if view["state"] in ("succeeded", "failed", "rejected", "expired", "cancelled"):
            break
        assert time.monotonic() < deadline, view
        threading.Event().wait(0.05)
    assert view["state"] == "succeeded", view["job"]
    return view


def rows(report, table):
    t = report["tables"][table]
    return [dict(zip(t["columns"], r, strict=True)) for r in t["rows"]]


def plaintext(accounts, lists, members=MEMBERS):
    """The join on normalised IDs, in the clear."""
    keys = {normalize(a, "id") for a in accounts} - {""}
    return sorted((k, m, *lists[m][k]) for m in members for k in keys if k in lists[m])


def test_screening_matches_the_plaintext_join(world):
    view = run(world)
    report = view["report"]
    got = sorted((h["account_id"], h["member"], h["tag"], h["reason"], h["date"])
                 for h in rows(report, "hits"))
    want = plaintext(world["accounts"], world["lists"])
    assert got == want and len(want) > 20
    # a lower-case x (and full-width digits, spaces) hit: typed so at the bank or the member
    lower_x = [a for a in world["accounts"] if a.endswith("x")]
    assert lower_x and all(any(h[0] == a.upper() for h in got) for a in lower_x)
    # the name column came along; duplicates are one ID
    assert all(h["name"].startswith("client ") for h in rows(report, "hits"))
    status = {r["member"]: r for r in rows(report, "members")}
    assert set(status) == set(MEMBERS)
    for m in MEMBERS:
        served = call(world["apis"][m], "GET", "/pir/services")[0]
        assert status[m]["status"] == "ok" and status[m]["list_version"] == served["version"]
        assert {h["list_version"] for h in rows(report, "hits") if h["member"] == m} == \
            {served["version"]}
    assert not any("INCOMPLETE" in s for s in report["summary"]), report["summary"]
    assert report["data"]["complete"] and view["files"]   # rendered for compliance


def test_private_ids_and_a_refresh_is_a_new_list_version(world):
    lists, fund = world["lists"], world["apis"]["fund"]
    key = next(iter(lists["fund"]))
    before = call(fund, "GET", "/pir/services")[0]["version"]
    report = run(world, {"members": ["fund"]}, private={"ids": [key.lower(), "nobody"]},
                 inputs={})["report"]
    assert [(h["account_id"], h["list_version"]) for h in rows(report, "hits")] == \
        [(key, before)]
    after = call(fund, "POST", f"/pir/services/{SERVICE}/refresh")["version"]
    assert after != before
    report = run(world, {"members": ["fund"]}, private={"ids": [key]}, inputs={})["report"]
    assert rows(report, "members")[0]["list_version"] == after
    assert rows(report, "hits")[0]["list_version"] == after


def test_a_service_added_through_the_api_is_usable_at_once_and_removable(world):
    apis, lists = world["apis"], world["lists"]
    key = next(iter(lists["futures"]))
    # the bank never saw a bundle naming "pep": its directory tells where it is
    assert "pep" not in world["nodes"][BANK].cfg.peers["futures"].pir
    added = call(apis["futures"], "POST", "/pir/services", 201, json={
        "id": "pep", "dataset": "watch", "key_column": "id_no", "label_columns": ["tag"],
        "key_kind": "id"})
    assert added["source"] == "api" and int(added["address"].rsplit(":", 1)[1]) > 0
    ans = call(apis[BANK], "POST", "/pir/query", json={
        "keys": [key.lower(), "110101190001010000"], "members": ["futures"], "service": "pep",
        "key_kind": "id"})
    res = ans["members"]["futures"]["results"]
    assert [r["hit"] for r in res] == [True, False]
    assert res[0]["label"] == {"tag": lists["futures"][key][0]}
    # stored: listed as a runtime service; a second add of the id is refused
    assert "pep" in world["nodes"]["futures"].store.pir_services()
    call(apis["futures"], "POST", "/pir/services", 409, json={
        "id": "pep", "dataset": "watch", "key_column": "id_no", "label_columns": ["tag"]})
    call(apis["futures"], "DELETE", "/pir/services/pep")
    assert "pep" not in world["nodes"]["futures"].store.pir_services()
    assert [s["id"] for s in call(apis["futures"], "GET", "/pir/services")] == [SERVICE]
    r = apis[BANK].post("/pir/query", json={"keys": [key], "members": ["futures"],
                                            "service": "pep"})
    # known at an address that is now closed: the directory says it is gone
    assert r.status_code == 400 or r.json()["members"]["futures"]["status"] == "down"
    call(apis["futures"], "DELETE", "/pir/services/pep", 404)


def test_bad_service_requests_are_refused_and_leave_nothing(world):
    api, node = world["apis"]["fund"], world["nodes"]["fund"]
    base = {"id": "x1", "dataset": "watch", "key_column": "id_no", "label_columns": ["tag"]}
    for bad, why in [({"id": "../etc"}, "id must be"), ({"key_kind": "shoe"}, "key_kind"),
                     ({"rate_limit": "fast"}, "rate limit"), ({"label_columns": ["id_no"]},
                                                              "not the key column"),
                     ({"dataset": "nope"}, "nope")]:
        r = api.post("/pir/services", json={**base, **bad})
        assert r.status_code in (400, 422) and why in r.text, (bad, r.text)
    call(api, "POST", "/datasets", 201, json={
        "id": "private-list", "kind": "csv", "location": "data/watch.csv",
        "schema": dict.fromkeys(["id_no", "tag", "reason", "date"], "string"),
        "policy": [{"columns": ["*"], "protocols": ["psi.intersect"], "peers": ["*"]}]})
    r = api.post("/pir/services", json={**base, "dataset": "private-list"})
    assert r.status_code == 400 and "allowed for no peer" in r.text
    assert set(node.store.pir_services()) == {SERVICE}
    assert [s["id"] for s in call(api, "GET", "/pir/services")] == [SERVICE]
    assert not [e for e in world["nodes"][BANK].pir.directory("fund")]   # bank serves none


def test_app_run_requests_that_cannot_work_are_refused(world):
    api = world["apis"][BANK]
    body = {"params": {}, "inputs": {}}
    r = api.post(f"/apps/{APP.name}/runs", json=body)
    assert r.status_code == 422 and "inputs" in r.text
    r = api.post(f"/apps/{APP.name}/runs", json={**body, "private": {"ids": "1101"}})
    assert r.status_code == 422 and "private input" in r.text
    r = api.post(f"/apps/{APP.name}/runs", json={**body, "private": {"ids": ["1"]},
                                                  "params": {"key_kind": "shoe"}})
    assert r.status_code == 422 and "key_kind" in r.text
    spec = {"proposer": BANK, "inputs": {}, "recipients": [BANK, "fund"],
            "params": {"app_version": "1", "roles": {}, "compute": [BANK, "fund", "futures"],
                       "service": "blacklist", "key_kind": "id", "timeout": 120.0}}
    problems = APP.validate(spec)
    assert any("requester alone" in p for p in problems)
    assert any("only recipient" in p for p in problems)


def test_unknown_members_are_rows_not_silence(world):
    report = run(world, {"members": ["fund", "nobody"]}, private={"ids": ["1"]},
                 inputs={})["report"]
    status = {r["member"]: r for r in rows(report, "members")}
    assert status["nobody"]["status"] == "error" and status["fund"]["status"] == "ok"
    assert any(s.startswith("INCOMPLETE") for s in report["summary"])


def test_members_receive_nothing_that_depends_on_the_accounts(world):
    """What a member receives for two different sets of accounts (all hits vs all misses)
    has the same shape; its audit records counts, never the IDs."""
    served = world["nodes"]["securities"].pir._served[SERVICE]
    views: list[list] = []
    original = served.server.serve_channel

    def recording(ch, **kw):
        view = []
        views.append(view)
        for name in ("recv_array", "recv_bytes", "recv_array_at_most", "recv_bytes_at_most"):
            recv = getattr(ch, name)
            setattr(ch, name, lambda *a, recv=recv: view.append(recv(*a)) or view[-1])
        return original(ch, **kw)

    served.server.serve_channel = recording
    pir = world["nodes"][BANK].pir
    try:
        hits = sorted(world["lists"]["securities"])[:50]
        misses = [id_number(n) for n in range(9000, 9050)]
        shapes = []
        for keys in (hits, misses):
            pir.stop()    # fresh connections: each view starts at the hint download
            views.clear()
            ans = pir.query(keys, ["securities"], SERVICE, key_kind="id")
            assert ans["members"]["securities"]["status"] == "ok"
            got = [m for v in views for m in v]
            shapes.append([(type(m).__name__, getattr(m, "shape", None),
                            getattr(m, "dtype", None), len(m) if isinstance(m, bytes) else 0)
                           for m in got])
            blob = b"".join(m.tobytes() if hasattr(m, "tobytes") else bytes(m) for m in got)
            assert not [k for k in keys if k.encode() in blob]
        assert shapes[0] == shapes[1] and shapes[0]
    finally:
        del served.server.serve_channel
    text = str(call(world["apis"]["securities"], "GET", "/audit",
                    headers={"Authorization": "Bearer " + world["nodes"]["securities"]
                             .add_token("aud", "auditor")}, params={"limit": 10000}))
    assert not [k for k in world["lists"]["securities"] if k in text]


def test_day_budget_admits_a_days_batch_once_and_refuses_a_second(world):
    apis, lists = world["apis"], world["lists"]
    call(apis["fund"], "POST", "/pir/services", 201, json={
        "id": "daily", "dataset": "watch", "key_column": "id_no",
        "label_columns": ["tag", "reason", "date"], "key_kind": "id",
        "rate_limit": "10/min", "day_budget": 1500})
    batch = [id_number(n) for n in range(20_000, 21_000)]
    batch[0] = next(iter(lists["fund"]))
    first = run(world, {"members": ["fund"], "service": "daily"},
                private={"ids": batch}, inputs={})["report"]
    assert rows(first, "members")[0]["status"] == "ok"      # 1000 keys > 10/min: one request
    assert rows(first, "members")[0]["remaining_today"] == 1500
    assert [h["account_id"] for h in rows(first, "hits")] == [batch[0]]
    second = run(world, {"members": ["fund"], "service": "daily"},
                 private={"ids": batch}, inputs={})["report"]
    (fund,) = rows(second, "members")
    assert fund["status"] == "rate_limited" and "budget" in fund["reason"], fund
    assert any(s.startswith("INCOMPLETE") and "fund (rate_limited" in s
               for s in second["summary"])
    call(apis["fund"], "DELETE", "/pir/services/daily")


def test_a_stopped_member_is_reported_down_and_the_screening_incomplete(world):
    """Last: stops a member for good."""
    node = world["nodes"]["futures"]
    node.stop()
    node.stopped = True
    view = run(world)
    report = view["report"]
    status = {r["member"]: r for r in rows(report, "members")}
    assert status["futures"]["status"] == "down" and status["futures"]["reason"]
    assert all(status[m]["status"] == "ok" for m in ("fund", "securities"))
    (warning,) = [s for s in report["summary"] if s.startswith("INCOMPLETE")]
    assert "futures (down" in warning
    got = sorted((h["account_id"], h["member"], h["tag"], h["reason"], h["date"])
                 for h in rows(report, "hits"))
    assert got == plaintext(world["accounts"], world["lists"], ["fund", "securities"])
    assert not report["data"]["complete"]


def test_prepare_normalises_and_groups_accounts():
    key = id_number(11)
    got = prepare([key.lower(), messy(key, 1), "", None, "  "], ["a", "b", "c", "d", "e"], "id")
    assert got == {key.upper(): ["a", "b"]}


def test_sample_data_has_listed_accounts_typed_messily(tmp_path):
    from yinji.apps.blacklist_screening import write_sample_data

    files = write_sample_data(tmp_path, ["fund", "futures"], entries=300, accounts=50)
    with open(files["accounts"], encoding="utf-8") as fh:
        accounts = [r["id_no"] for r in csv.DictReader(fh)]
    lists = {}
    for m in ("fund", "futures"):
        with open(files[m], encoding="utf-8") as fh:
            lists[m] = {normalize(r["id_no"], "id"): (r["tag"], r["reason"], r["date"])
                        for r in csv.DictReader(fh)}
    assert len(accounts) == 50 and len(lists["fund"]) == 300
    joined = plaintext(accounts, lists, ["fund", "futures"])
    assert len(joined) >= 4 and any(a != normalize(a, "id") for a in accounts)
    assert write_sample_data(tmp_path / "again", ["fund", "futures"], 300, 50)["accounts"] \
        .read_bytes() == files["accounts"].read_bytes()


def test_sample_lists_of_demo_size_have_no_duplicate_ids(tmp_path):
    """The make-demo size: a duplicate ID would make a member refuse to publish its list."""
    from yinji.apps.blacklist_screening import write_sample_data

    files = write_sample_data(tmp_path, ["fund", "futures", "offshore"], entries=2000,
                              accounts=1000)
    for m in ("fund", "futures", "offshore"):
        with open(files[m], encoding="utf-8") as fh:
            keys = [normalize(r["id_no"], "id") for r in csv.DictReader(fh)]
        assert len(keys) == 2000 and len(set(keys)) == 2000, m
