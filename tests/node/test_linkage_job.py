"""Record-linkage jobs on a network of node processes, driven through the REST API: three data
owners with identity files, a compliance node as linkage unit (slower lane)."""

import base64
import csv
import dataclasses
import hashlib
import io
import json
import re
import sqlite3

import numpy as np
import pytest
import yaml

from yinji.cli.link import link_in_process
from yinji.cli.network import clients, create_network, start_nodes, stop_nodes, wait_job
from yinji.crypto.certs import write_private
from yinji.linkage.aml import Activity, AmlRule, joint_aml
from yinji.linkage.mpc_match import mpc_link
from yinji.linkage.schemas import PERSON
from yinji.mpc.session import Session
from yinji.testing.linkage_data import chinese_identity_set
from yinji.testing.parties import run_parties

pytestmark = pytest.mark.tls

OWNERS = ["fund", "offshore", "securities"]
NODES = [*OWNERS, "compliance"]
IDENT = ["id", "name", "dob", "gender", "phone", "id_number", "address"]
ZH = dict(zip(IDENT, ["编号", "姓名", "出生日期", "性别", "手机", "证件号", "地址"], strict=True))
DAYS = 10
INFLOW = [f"in_{d}" for d in range(DAYS)]
OUTFLOW = [f"out_{d}" for d in range(DAYS)]
ACTIVITY = {"inflow": INFLOW, "outflow": OUTFLOW, "counterparties": "counterparties"}
RULE = {"window_days": 4, "inflow_threshold": 6_000_000, "max_counterparties": 18}
KEY = bytes(range(100, 132))
PROTOCOLS = ["linkage.match", "linkage.aml"]


def identities():
    """securities holds A of a generated set, offshore its B, fund another B of the same A."""
    s = chinese_identity_set(120, seed=5)
    s2 = chinese_identity_set(120, seed=5, overlap=0.4)
    return {"securities": s.a, "offshore": s.b,
            "fund": [{**r, "id": "f" + r["id"]} for r in s2.b]}


def activity(owner, n):
    rng = np.random.default_rng(OWNERS.index(owner) + 40)
    inflow = rng.integers(0, 3_000_000, size=(n, DAYS))
    inflow[rng.random((n, DAYS)) < 0.6] = 0
    return Activity(inflow, rng.integers(0, 2_000_000, size=(n, DAYS)),
                    rng.integers(0, 12, size=n))


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    from yinji.node.admin import open_admin
    from yinji.node.catalog import Dataset, PolicyRule

    root = tmp_path_factory.mktemp("linknet")
    create_network(root, NODES, job_timeout=60,
                   policies={n: [{"protocols": PROTOCOLS}] for n in NODES})
    data = identities()
    acts = {}
    for owner, rows in data.items():
        home = root / owner
        acts[owner] = act = activity(owner, len(rows))
        with open(home / "data" / "identities.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(IDENT + INFLOW + OUTFLOW + ["counterparties"])
            for i, r in enumerate(rows):
                w.writerow([r[c] for c in IDENT] + act.inflow[i].tolist()
                           + act.outflow[i].tolist() + [int(act.counterparties[i])])
        (home / "linkage").mkdir()
        write_private(home / "linkage" / "aml.key", KEY)
        # "other" differs between owners; "solo" exists at securities only
        write_private(home / "linkage" / "other.key", bytes([OWNERS.index(owner)]) * 32)
        if owner == "securities":
            write_private(home / "linkage" / "solo.key", KEY)
        if owner == "offshore":  # the same clients in a SQL database too
            with sqlite3.connect(home / "data" / "crm.sqlite") as conn:
                conn.execute(f"CREATE TABLE identities ({', '.join(c + ' TEXT' for c in IDENT)})")
                conn.executemany(f"INSERT INTO identities VALUES ({', '.join('?' * len(IDENT))})",
                                 [[r[c] for c in IDENT] for r in rows])
            cfg = yaml.safe_load((home / "node.yaml").read_text())
            cfg["sql_sources"] = {"crm": f"sqlite:///{home / 'data' / 'crm.sqlite'}"}
            (home / "node.yaml").write_text(yaml.safe_dump(cfg))
        with open_admin(home, by="test") as admin:
            if owner == "offshore":
                admin.catalog.register(Dataset(
                    id="identities_sql", kind="sql", location="crm", table="identities",
                    schema={c: "string" for c in IDENT},
                    policy=[PolicyRule(columns=IDENT, protocols=PROTOCOLS)]), by=admin.by)
            if owner == "offshore":  # the same clients under Chinese headers
                with open(home / "data" / "clients_zh.csv", "w", newline="",
                          encoding="utf-8") as fh:
                    w = csv.writer(fh)
                    w.writerow([ZH[c] for c in IDENT])
                    w.writerows([r[c] for c in IDENT] for r in rows)
                admin.catalog.register(Dataset(
                    id="clients_zh", kind="csv", location="data/clients_zh.csv",
                    schema={ZH[c]: "string" for c in IDENT},
                    policy=[PolicyRule(columns=list(ZH.values()), protocols=PROTOCOLS)]),
                    by=admin.by)
            admin.catalog.register(Dataset(
                id="identities", kind="csv", location="data/identities.csv",
                schema={c: "string" for c in IDENT} | {c: "int" for c in _activity_columns()},
                policy=[PolicyRule(columns=IDENT + _activity_columns(), protocols=PROTOCOLS)]),
                by=admin.by)
    start_nodes(root)
    apis = clients(root)
    yield root, apis, data, acts
    for api in apis.values():
        api.close()
    stop_nodes(root)


def _activity_columns():
    return INFLOW + OUTFLOW + ["counterparties"]


def match_job(owners, mode="mpc", recipients=("compliance",), key="aml", **params):
    return {"protocol": "linkage.match",
            "inputs": {o: {"dataset": "identities", "columns": IDENT} for o in owners},
            "params": {"unit": "compliance", "key": key, "mode": mode, **params},
            "recipients": list(recipients)}


def aml_job(owners=("offshore", "securities")):
    return {"protocol": "linkage.aml",
            "inputs": {o: {"dataset": "identities", "columns": IDENT + _activity_columns()}
                       for o in owners},
            "params": {"unit": "compliance", "key": "aml", "activity": ACTIVITY, "rule": RULE},
            "recipients": ["compliance"]}


def run_job(apis, body, nodes, proposer="securities"):
    job = apis[proposer].call("POST", "/jobs", json=body)
    views = wait_job(apis, job["id"], nodes, timeout=120)
    return job["id"], views


def with_ids(rows):
    return [{**r, "__id": r["id"]} for r in rows]


def check_audits(apis, data, nodes):
    """Every log verifies and holds no names, phones, ID numbers, record ids or key."""
    secrets_ = {KEY.hex(), base64.b64encode(KEY).decode(), KEY.decode("latin-1")}
    values = {r[c] for rows in data.values() for r in rows
              for c in ("name", "phone", "id_number") if len(r[c]) >= 2}
    values |= {f'"{r["id"]}"' for rows in data.values() for r in rows}  # ids look like hex
    for n in nodes:
        assert apis[n].call("GET", "/audit/verify", role="auditor")["ok"]
        text = json.dumps(apis[n].call("GET", "/audit", role="auditor",
                                       params={"limit": 10000}), ensure_ascii=False)
        assert not [v for v in values | secrets_ if v in text]


@pytest.mark.parametrize("stream", [False, True])
def test_mpc_match_three_owners_only_compliance_receives(net, stream):
    """With params.stream the owners read their files in chunks and the MPC runs on their
    spills in pieces (yinji.linkage.mpc_stream), a fresh order per pair: the same links."""
    root, apis, data, _ = net
    job_id, views = run_job(apis, match_job(OWNERS, stream=stream), NODES)
    assert {v["state"] for v in views.values()} == {"succeeded"}, \
        {n: v["reason"] for n, v in views.items()}
    res = apis["compliance"].call("GET", f"/jobs/{job_id}/result")["result"]
    assert [t["owners"] for t in res["tables"]] == [["fund", "offshore"], ["fund", "securities"],
                                                   ["offshore", "securities"]]
    for t in res["tables"]:
        a, b = t["owners"]
        want = link_in_process(with_ids(data[a]), with_ids(data[b]), PERSON, KEY, "mpc")
        assert t["links"] == sorted(map(list, want)) and len(want) > 20
        assert t["records"] == [len(data[a]), len(data[b])]
        assert ("file" in t) == stream
        if stream:   # the table is also a file at the unit, as the result names it
            assert link_file(root, "compliance", job_id, t) == t["links"]
    for o in OWNERS:
        assert not views[o]["has_result"]
        with pytest.raises(RuntimeError, match="404"):
            apis[o].call("GET", f"/jobs/{job_id}/result")
    assert views["fund"]["spec"]["params"]["key"] == "aml"
    check_audits(apis, data, NODES)


def test_unit_mode_result_to_compliance_and_one_owner(net):
    _, apis, data, _ = net
    pair = ["offshore", "securities"]
    job_id, views = run_job(apis, match_job(pair, "unit", ["compliance", "securities"],
                                            threshold=0.8), [*pair, "compliance"])
    assert {v["state"] for v in views.values()} == {"succeeded"}
    res = apis["compliance"].call("GET", f"/jobs/{job_id}/result")["result"]
    assert apis["securities"].call("GET", f"/jobs/{job_id}/result")["result"] == res
    assert not views["offshore"]["has_result"]
    schema = dataclasses.replace(PERSON, threshold=0.8)
    want = link_in_process(with_ids(data["offshore"]), with_ids(data["securities"]), schema,
                           KEY, "unit")
    assert res["mode"] == "unit" and res["threshold"] == 0.8
    assert res["tables"][0]["links"] == sorted(map(list, want))
    with pytest.raises(RuntimeError, match="404"):   # fund is no party of this job
        apis["fund"].call("GET", f"/jobs/{job_id}", role="auditor")


@pytest.mark.parametrize("stream", [False, True])
def test_other_headers_mapped_with_params_fields(net, stream):
    """offshore's dataset has Chinese headers; params.fields maps them onto the schema: the
    links equal those of the same rows under the schema's own names. With params.stream the
    owners read their files in chunks (yinji.linkage.stream): the same links."""
    root, apis, data, _ = net
    pair = ["offshore", "securities"]
    body = match_job(pair, "unit", ["compliance", "securities"] if stream else ["compliance"],
                     stream=stream)
    body["inputs"]["offshore"] = {"dataset": "clients_zh", "columns": list(ZH.values())}
    body["params"]["fields"] = {"offshore": {c: ZH[c] for c in IDENT[1:]}}
    job_id, res = unit_links_match_plaintext(apis, data, body, pair)
    if stream:   # an owner recipient gets the same result and the unit's file, byte for byte
        assert apis["securities"].call("GET", f"/jobs/{job_id}/result")["result"] == res
        t = res["tables"][0]
        assert t["file"]["name"] == "links-offshore-securities.csv"
        for n in ("compliance", "securities"):
            assert link_file(root, n, job_id, t) == t["links"]
        assert not (root / "offshore" / "results" / job_id).exists()


def test_streamed_job_reads_a_sql_dataset_in_chunks(net):
    """A SQL dataset in a streamed job is read from a server-side cursor in chunks
    (`catalog.sql_stream`), not loaded by the job engine: the same links as the CSV file."""
    _, apis, data, _ = net
    pair = ["offshore", "securities"]
    body = match_job(pair, "unit", stream=True)
    body["inputs"]["offshore"]["dataset"] = "identities_sql"
    unit_links_match_plaintext(apis, data, body, pair)


def unit_links_match_plaintext(apis, data, body, pair):
    """Run a unit-mode job on `pair`; its links at compliance equal the in-process linkage of
    the same rows. Returns the job id and compliance's result."""
    job_id, views = run_job(apis, body, [*pair, "compliance"])
    assert {v["state"] for v in views.values()} == {"succeeded"}, \
        {n: v["reason"] for n, v in views.items()}
    res = apis["compliance"].call("GET", f"/jobs/{job_id}/result")["result"]
    want = link_in_process(with_ids(data[pair[0]]), with_ids(data[pair[1]]), PERSON, KEY,
                           "unit")
    assert res["tables"][0]["links"] == sorted(map(list, want)) and len(want) > 20
    return job_id, res


def link_file(root, node, job_id, table):
    """A link file at a node, checked against the result's entry; its rows as inline links."""
    data = (root / node / "results" / job_id / table["file"]["name"]).read_bytes()
    assert hashlib.sha256(data).hexdigest() == table["file"]["sha256"]
    assert len(data) == table["file"]["bytes"]
    rows = list(csv.reader(io.StringIO(data.decode())))
    a, b = table["owners"]
    assert rows[0] == [f"{a}_record", f"{b}_record", "score"]
    assert len(rows) - 1 == table["file"]["rows"]
    return sorted([x, y, float(sc)] for x, y, sc in rows[1:])


def aml_reference(a, b, act_a, act_b):
    rule = AmlRule(**RULE)

    def body(party):
        s = Session(party, ["A", "B", "C"])
        out = mpc_link(s, [a, b, None][s.rank], PERSON, KEY if s.rank < 2 else None)
        act = None
        if s.rank < 2:
            src, o = [act_a, act_b][s.rank], out.order
            act = Activity(src.inflow[o], src.outflow[o], src.counterparties[o])
        return out, joint_aml(s, out, act, rule, DAYS)

    (oa, _), _, (oc, rc) = run_parties(body, names=["A", "B", "C"], timeout=120)
    alerts = [{"id": a[oa.order[t]]["id"], "inflow": int(rc.aggregates[t][0]),
               "outflow": int(rc.aggregates[t][1]), "counterparties": int(rc.aggregates[t][2])}
              for t in np.flatnonzero(rc.alert)]
    return sorted(alerts, key=lambda r: r["id"]), len(oc.links)


def test_aml_alerts_only_to_compliance(net):
    root, apis, data, acts = net
    pair = ["offshore", "securities"]
    digests = {o: hashlib.sha256((root / o / "data" / "identities.csv").read_bytes()).digest()
               for o in pair}
    job_id, views = run_job(apis, aml_job(pair), [*pair, "compliance"])
    assert {v["state"] for v in views.values()} == {"succeeded"}, \
        {n: v["reason"] for n, v in views.items()}
    res = apis["compliance"].call("GET", f"/jobs/{job_id}/result")["result"]
    want, linked = aml_reference(data["offshore"], data["securities"], acts["offshore"],
                                 acts["securities"])
    assert res["owner"] == "offshore" and res["records"] == len(data["offshore"])
    assert res["linked"] == linked and res["alerts"] == want
    assert 0 < len(want) < len(data["offshore"])
    assert not views["offshore"]["has_result"] and not views["securities"]["has_result"]
    for o in pair:
        assert hashlib.sha256((root / o / "data" / "identities.csv").read_bytes()).digest() \
            == digests[o]
    check_audits(apis, data, [*pair, "compliance"])


BAD = [
    (match_job(["securities"]), "needs inputs from at least 2 data owners, got 1"),
    (match_job(["securities", "fund"], mode="fuzzy"), "params.mode must be unit or mpc, got 'fuzzy'"),
    ({**match_job(["securities", "fund"]), "recipients": ["compliance", "futures"]},
     "recipient(s) futures are not parties of this job"),
    ({**match_job(["securities", "fund"]), "recipients": ["securities"]},
     "params.unit 'compliance' must be a recipient"),
    (match_job(["securities", "fund"], unit="fund"), "params.unit 'fund' has an input"),
    (match_job(["securities", "fund"], key="../../tls/node"), "params.key must be a key id"),
    (match_job(["securities", "fund"], treshold=0.9), "params.treshold is not a parameter"),
    ({**aml_job(["securities", "fund"]), "params": {**aml_job(["securities", "fund"])["params"],
                                                     "stream": True}},
     "params.stream is not available for linkage.aml"),
    (match_job(["securities", "fund"], "unit", stream="yes"), "params.stream must be true"),
    ({**match_job(["securities", "fund"]),
      "inputs": {o: {"dataset": "identities", "columns": ["id", "nm", "dob"]}
                 for o in ("securities", "fund")}},
     "input of 'fund': column 'nm' is not a column of schema person"),
    ({**match_job(["securities", "fund"]),
      "inputs": {o: {"dataset": "identities", "columns": ["name", "id", "dob"]}
                 for o in ("securities", "fund")}},
     "the first column is the record id, which recipients receive; 'name' is an identity"),
    ({**match_job(["securities", "fund"]),
      "inputs": {o: {"dataset": "identities", "columns": ["id", "name", "surname"]}
                 for o in ("securities", "fund")}},
     "dataset 'identities' has no column 'surname'"),
    ({**match_job(["securities", "fund"]), "params": {
        **match_job(["securities", "fund"])["params"], "fields": {"futures": {"name": "x"}}}},
     "params.fields: 'futures' is not a data owner of this job"),
    ({**match_job(["securities", "fund"]), "params": {
        **match_job(["securities", "fund"])["params"], "fields": {"fund": {"nick": "name"}}}},
     "params.fields of 'fund': schema 'person' has no field 'nick'"),
    ({**match_job(["securities", "fund"]), "params": {
        **match_job(["securities", "fund"])["params"], "fields": {"fund": {"name": "姓名"}}}},
     "params.fields of 'fund': column '姓名' is not in its input's columns"),
    (aml_job(["securities", "fund", "offshore"]), "linkage.aml needs exactly 2 data owners"),
    ({**aml_job(), "params": {**aml_job()["params"], "rule": {"window": 3}}},
     "params.rule may only set window_days"),
    ({**aml_job(), "inputs": {o: {"dataset": "identities", "columns": IDENT}
                              for o in ("offshore", "securities")}},
     "input of 'offshore': activity column 'in_0' is missing from its columns"),
]


@pytest.mark.parametrize("body, problem", BAD, ids=[p[:40] for _, p in BAD])
def test_bad_specs_refused_with_the_problem(net, body, problem):
    _, apis, _, _ = net
    with pytest.raises(RuntimeError, match="400.*" + re.escape(problem)):
        apis["securities"].call("POST", "/jobs", json=body)


def test_column_missing_at_a_peer_is_rejected_there(net):
    _, apis, _, _ = net
    body = match_job(["securities", "fund"])
    body["inputs"]["fund"]["columns"] = ["id", "name", "given_name"]
    job_id, views = run_job(apis, body, ["securities", "fund", "compliance"])
    assert {v["state"] for v in views.values()} == {"rejected"}
    assert "dataset 'identities' has no column 'given_name'" in views["securities"]["reason"]


@pytest.mark.parametrize("key, reason", [
    ("solo", "no linkage key 'solo' at offshore"),
    ("other", "linkage key 'other' at "),
])
def test_key_problems_fail_the_job_audited_data_unchanged(net, key, reason):
    root, apis, data, _ = net
    pair = ["offshore", "securities"]
    digests = {o: hashlib.sha256((root / o / "data" / "identities.csv").read_bytes()).digest()
               for o in pair}
    job_id, views = run_job(apis, match_job(pair, key=key), [*pair, "compliance"])
    assert {v["state"] for v in views.values()} == {"failed"}
    assert any(reason in v["reason"] for v in views.values()), views
    for n in [*pair, "compliance"]:
        assert not views[n]["has_result"]
        entries = apis[n].call("GET", "/audit", role="auditor", params={"job_id": job_id})
        assert [e["data"]["state"] for e in entries if e["kind"] == "job.state"][-1] == "failed"
    for o in pair:
        assert hashlib.sha256((root / o / "data" / "identities.csv").read_bytes()).digest() \
            == digests[o]
    check_audits(apis, data, [*pair, "compliance"])
