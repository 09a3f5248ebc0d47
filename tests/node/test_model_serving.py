"""Model training and serving on three node processes over mutual TLS, REST API only:
a SecureBoost job (fund holds the label, securities and futures features), the model
registry's metadata, predictions equal to the in-process yinji.ml ones, scores only at the
requester, every call audited at every node, and the error cases."""

import json
import time

import numpy as np
import pytest

from tests.node.conftest import leads_network
from yinji.cli.network import stop_nodes, wait_job

pytestmark = pytest.mark.tls
pytest.importorskip("heu")

NODES = ["fund", "securities", "futures"]
COLUMNS = {"fund": ["income", "tenure", "converted"], "securities": ["assets", "trades"],
           "futures": ["margin"]}
RULES = [{"columns": ["*"], "protocols": ["model.secureboost", "model.predict"]}]
TRAIN = {"protocols": ["model.secureboost"]}
# standing approvals: fund's and securities' calls on lead-score, except at futures, where
# securities' calls need a person
POLICIES = {"fund": [TRAIN, {"protocols": ["model.predict"], "proposers": ["fund", "securities"],
                             "models": ["lead-score"]}],
            "securities": [TRAIN, {"protocols": ["model.predict"],
                                   "proposers": ["fund", "securities"], "models": ["lead-score"]}],
            "futures": [TRAIN, {"protocols": ["model.predict"], "proposers": ["fund"],
                                "models": ["lead-score"]}]}


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    """400 customers; each company holds 85-95% of them (rows shuffled); fund holds the label."""
    root = tmp_path_factory.mktemp("models")
    rng = np.random.default_rng(7)
    n = 400
    x = rng.normal(size=(n, 5))
    y = (x @ [1.2, -0.8, 1.0, 0.6, -1.1] + rng.normal(scale=0.5, size=n) > 0).astype(int)
    values = {"fund": np.column_stack([x[:, 0], x[:, 1], y]),
              "securities": x[:, 2:4], "futures": x[:, 4:5]}
    with leads_network(root, NODES, POLICIES, values,
                       {"fund": 0.9, "securities": 0.95, "futures": 0.85},
                       COLUMNS, RULES, rng) as (apis, tables):
        yield root, apis, tables


@pytest.fixture(scope="module")
def trained(net):
    root, apis, tables = net
    job = apis["fund"].call("POST", "/jobs", json={
        "protocol": "model.secureboost",
        "inputs": {n: {"dataset": "leads", "columns": ["customer_id", *COLUMNS[n]]}
                   for n in NODES},
        "params": {"model": "lead-score", "label_holder": "fund", "label": "converted",
                   "n_trees": 3, "max_depth": 2, "validation": 0.25},
        "recipients": ["fund"]})
    views = wait_job(apis, job["id"], NODES, timeout=240)
    assert {v["state"] for v in views.values()} == {"succeeded"}, \
        {n: v["reason"] for n, v in views.items()}
    return job["id"], apis["fund"].call("GET", f"/jobs/{job['id']}/result")["result"]


def common_ids(tables):
    return sorted(set(tables["fund"]) & set(tables["securities"]) & set(tables["futures"]))


def post_predict(api, ids, role="operator", **kw):
    r = api.http.post("/models/lead-score/predict", json={"ids": ids, **kw},
                      headers={"Authorization": f"Bearer {api.tokens[role]}"})
    return r.status_code, r.json()


def in_process_scores(root, tables, ids):
    """The same stored parts, run in one process on the in-memory network."""
    from yinji.ml.registry import ModelRegistry
    from yinji.ml.secureboost import (
        PassivePart,
        SecureBoostActive,
        SecureBoostModel,
        SecureBoostPassive,
    )
    from yinji.testing.parties import run_parties

    def body(party):
        _, part = ModelRegistry(root / party.name / "models", party.name).load("lead-score")
        rows = np.array([tables[party.name][i] for i in ids])
        if party.name == "fund":
            model = SecureBoostModel.from_json(part)
            act = SecureBoostActive(party, model.passives)
            scores = act.predict(model, rows[:, :2])
            act.close_serving(model)
            return scores
        SecureBoostPassive(party, "fund").serve(PassivePart.from_json(part), rows)
        return None

    return run_parties(body, names=NODES, timeout=60)[0]


def audit_of(api, **params):
    return api.call("GET", "/audit", role="auditor", params={"limit": 10000, **params})


def stored_bytes(root, node):
    """Everything the node keeps in its metadata store (SQLite file and its WAL)."""
    return b"".join(p.read_bytes() for p in (root / node).glob("node.db*"))


def test_training_stores_each_part_with_metadata(net, trained):
    root, apis, _ = net
    job_id, result = trained
    assert result["model"] == "lead-score" and result["version"] == 1
    assert result["metrics"]["auc"] > 0.6 and result["validation_rows"] > 0
    for n in NODES:
        [meta] = apis[n].call("GET", "/models", role="auditor")
        assert meta == apis[n].call("GET", "/models/lead-score")
        assert (meta["version"], meta["kind"], meta["job_id"]) == (1, "secureboost", job_id)
        assert meta["parties"] == sorted(NODES) and meta["label_holder"] == "fund"
        assert meta["features"] == {"fund": ["income", "tenure"], "securities": ["assets", "trades"],
                                    "futures": ["margin"]}
        assert meta["metrics"] == (result["metrics"] if n == "fund" else {})
        dump = json.dumps(meta)   # metadata only: no trees, thresholds or split owners
        assert not any(k in dump for k in ('"trees"', '"splits"', "threshold", '"leaf"'))
        stored = [e["data"] for e in audit_of(apis[n]) if e["kind"] == "model.stored"]
        assert stored == [{"model": "lead-score", "version": 1, "model_kind": "secureboost",
                           "job_id": job_id, "parties": sorted(NODES)}]
        assert (root / n / "models" / "lead-score" / "v1" / "part.json").exists()
    views = {n: apis[n].call("GET", f"/jobs/{job_id}", role="auditor") for n in NODES}
    assert [n for n, v in views.items() if v["has_result"]] == ["fund"]


def test_model_card_at_every_party_health_report_at_the_label_holder(net, trained):
    """card.json beside every party's part (metrics, health.json and the rendered report at
    the label holder only); approvals and the protocol's leakage statement in the card."""
    root, apis, _ = net
    job_id, result = trained
    for n in NODES:
        folder = root / n / "models" / "lead-score" / "v1"
        card = json.loads((folder / "card.json").read_text())
        assert (card["model"], card["version"], card["job_id"]) == ("lead-score", 1, job_id)
        assert card["data"]["securities"]["features"] == ["assets", "trades"]
        assert card["data"]["fund"]["label"] == "converted"
        assert card["rows"]["validation"] == result["validation_rows"]
        assert sorted(a["node"] for a in card["approvals"]) == sorted(NODES)
        assert "Leakage, training" in card["leakage"] and "ECDH-PSI" in card["leakage"]
        assert (folder / "health.json").exists() == (n == "fund")
        base = json.loads((folder / "baseline.json").read_text())   # own columns only
        assert sorted(base["features"]) == sorted(card["data"][n]["features"])
        assert (base["score"] is not None) == (n == "fund")
        # feature importance: each party its own features', the label holder the groups'
        assert sorted(f["feature"] for f in card["importance"]["features"]) == \
            sorted(COLUMNS[n][:-1] if n == "fund" else COLUMNS[n])
        assert ("groups" in card["importance"]) == (n == "fund")
        if n == "fund":
            groups = card["importance"]["groups"]
            assert sorted(g["party"] for g in groups) == sorted(NODES)
            assert sum(g["splits"] for g in groups) >= 3   # one split per tree at least
            assert card["metrics"]["auc"] == pytest.approx(result["metrics"]["auc"])
            assert {"gini", "ks_threshold", "brier", "hosmer_lemeshow"} <= set(card["metrics"])
        else:
            assert card["metrics"] == {}
        files = {p.name for p in (root / n / "results" / job_id).glob("*")}
        assert files == ({"report.html", "report.xlsx", "ROC.csv", "KS.csv",
                          "calibration.csv", "lift.csv",
                          "model_card.csv"} if n == "fund" else set())
    assert result["report"]["data"]["auc"] == pytest.approx(result["metrics"]["auc"])


def test_health_report_files_over_the_api_at_the_label_holder_only(net, trained):
    """GET /jobs/{id}/files/report.html: what the console's models page shows as charts."""
    _, apis, _ = net
    job_id, _ = trained
    r = apis["fund"].http.get(f"/jobs/{job_id}/files/report.html",
                              headers={"Authorization": f"Bearer {apis['fund'].tokens['operator']}"})
    assert r.status_code == 200 and "<svg" in r.text and r.headers["content-type"].startswith(
        "text/html")
    for node, name in (("securities", "report.html"), ("fund", "..%2Fnode.yaml"),
                       ("fund", "nope.csv")):
        r = apis[node].http.get(f"/jobs/{job_id}/files/{name}", headers={
            "Authorization": f"Bearer {apis[node].tokens['operator']}"})
        assert r.status_code == 404, (node, name, r.status_code)


def test_prediction_equals_in_process_and_only_requester_gets_scores(net, trained):
    root, apis, tables = net
    ids = common_ids(tables)[:25]
    status, out = post_predict(apis["fund"], ids)
    assert status == 200, out
    assert out["ids"] == ids and len(out["scores"]) == 25 and out["version"] == 1
    want = in_process_scores(root, tables, ids)
    assert np.allclose(out["scores"], want, rtol=1e-12, atol=0)
    job = out["job_id"]
    for n in NODES:
        view = apis[n].call("GET", f"/jobs/{job}", role="auditor")
        assert view["state"] == "succeeded" and view["has_result"] == (n == "fund")
        assert "C0" not in json.dumps(view["spec"])          # the IDs are not in the spec
        if n != "fund":
            with pytest.raises(RuntimeError, match="404"):
                apis[n].call("GET", f"/jobs/{job}/result")
            kept = stored_bytes(root, n)
            assert not any(repr(s).encode() in kept for s in out["scores"])
            assert not any(i.encode() in kept for i in ids)
        entries = audit_of(apis[n])
        [ev] = [e["data"] for e in entries if e["kind"] == "model.predict"
                and e["data"]["job_id"] == job]
        assert ev == {"job_id": job, "model": "lead-score", "version": 1, "requester": "fund",
                      "principal": "fund-operator", "ids": 25, "status": "scoring"}
        dump = json.dumps(entries)
        assert not any(i in dump for i in ids)
        assert not any(repr(s) in dump for s in out["scores"])
        assert apis[n].call("GET", "/audit/verify", role="auditor")["ok"]


def test_feature_holder_requests_with_a_human_approval_at_futures(net, trained):
    root, apis, tables = net
    ids = common_ids(tables)[-10:]
    status, out = post_predict(apis["securities"], ids, timeout=2)
    assert status == 202 and out["state"] == "proposed" and out["scores"] is None
    apis["futures"].call("POST", f"/jobs/{out['job_id']}/approve", role="approver")
    views = wait_job(apis, out["job_id"], NODES, timeout=60)
    assert {v["state"] for v in views.values()} == {"succeeded"}
    assert [n for n, v in views.items() if v["has_result"]] == ["securities"]
    res = apis["securities"].call("GET", f"/jobs/{out['job_id']}/result")["result"]
    assert res["ids"] == ids
    assert np.allclose(res["scores"], in_process_scores(root, tables, ids), rtol=1e-12, atol=0)
    for n in NODES:
        [ev] = [e["data"] for e in audit_of(apis[n], job_id=out["job_id"])
                if e["kind"] == "model.predict"]
        assert (ev["requester"], ev["principal"], ev["ids"]) == \
            ("securities", "securities-operator", 10)


def test_unknown_ids_refused_and_listed_to_the_requester_only(net, trained):
    root, apis, tables = net
    only_fund = sorted(set(tables["fund"]) - set(tables["futures"]))[:2]
    ids = [*common_ids(tables)[:3], *only_fund, "NOBODY-1"]
    status, out = post_predict(apis["fund"], ids)
    assert status == 422, out
    assert out["unknown"]["fund"] == ["NOBODY-1"]
    assert set(only_fund) <= set(out["unknown"]["futures"])
    assert "NOBODY-1" in out["detail"]
    for n in NODES:
        [ev] = [e["data"] for e in audit_of(apis[n], job_id=out["job_id"])
                if e["kind"] == "model.predict"]
        assert ev["status"] == "unknown_ids" and ev["ids"] == 6
        assert "NOBODY-1" not in json.dumps(audit_of(apis[n]))
        assert apis[n].call("GET", f"/jobs/{out['job_id']}", role="auditor")["has_result"] \
            == (n == "fund")


def test_unknown_model_version_and_wrong_role(net, trained):
    _, apis, tables = net
    api = apis["fund"]
    ids = common_ids(tables)[:2]
    r = api.http.post("/models/nope/predict", json={"ids": ids},
                      headers={"Authorization": f"Bearer {api.tokens['operator']}"})
    assert r.status_code == 404 and "no model 'nope'" in r.json()["detail"]
    with pytest.raises(RuntimeError, match="404"):
        api.call("GET", "/models/lead-score", params={"version": 9})
    assert post_predict(api, ids, version=9)[0] == 404
    for role in ("auditor", "approver"):
        assert post_predict(api, ids, role=role)[0] == 403
    assert post_predict(api, [])[0] == 422
    refused = [e["data"] for e in audit_of(api) if e["kind"] == "api.call"
               and e["data"]["path"] == "/models/{name}/predict" and not e["data"]["allowed"]]
    assert {(d["principal"], d["status"]) for d in refused} >= {
        ("fund-auditor", 403), ("fund-approver", 403)}


def test_bad_training_spec_refused(net):
    _, apis, _ = net
    body = {"protocol": "model.secureboost",
            "inputs": {"fund": {"dataset": "leads", "columns": ["customer_id", "income"]},
                       "futures": {"dataset": "leads", "columns": ["customer_id", "margin"]}},
            "params": {"model": "x", "label_holder": "fund", "label": "converted",
                       "n_trees": 0, "depth": 2},
            "recipients": ["futures"]}
    with pytest.raises(RuntimeError, match="400") as err:
        apis["fund"].call("POST", "/jobs", json=body)
    for words in ("params.label must be", "params.n_trees must be", "unknown params: depth"):
        assert words in str(err.value)


def test_cli_lists_and_predicts_through_the_api(net, trained, tmp_path, capsys):
    from yinji.cli.main import main

    _, apis, tables = net
    token = tmp_path / "fund.token"
    token.write_text(apis["fund"].tokens["operator"])
    api = ["--api", apis["fund"].url, "--api-ca", apis["fund"].ca, "--token-file", str(token)]
    assert main(["model", "list", *api]) == 0
    assert "lead-score\tv1\tsecureboost\tfund,futures,securities" in capsys.readouterr().out
    assert main(["model", "show", *api, "lead-score"]) == 0
    shown = json.JSONDecoder().raw_decode(capsys.readouterr().out)[0]   # then prep lines
    assert shown["card"]["model"] == "lead-score" and shown["card"]["metrics"]["auc"] > 0.6
    assert apis["securities"].call("GET", "/models/lead-score/card")["metrics"] == {}
    with pytest.raises(RuntimeError, match="404"):
        apis["fund"].call("GET", "/models/nope/card")
    ids = common_ids(tables)[:3]
    assert main(["model", "predict", *api, "lead-score", *[f"--id={i}" for i in ids]]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ids"] == ids and len(out["scores"]) == 3
    assert main(["model", "predict", *api, "nope", "--id", ids[0]]) == 1


def test_assisted_training_with_a_helper_node(net, trained):
    """futures as helper (no input, no result): no HE, the helper stores nothing."""
    root, apis, _ = net
    job = apis["fund"].call("POST", "/jobs", json={
        "protocol": "model.secureboost",
        "inputs": {n: {"dataset": "leads", "columns": ["customer_id", *COLUMNS[n]]}
                   for n in ("fund", "securities")},
        "params": {"model": "lead-assisted", "label_holder": "fund", "label": "converted",
                   "n_trees": 3, "max_depth": 2, "validation": 0.25},
        "recipients": ["fund"], "helpers": ["futures"]})
    views = wait_job(apis, job["id"], NODES, timeout=240)
    assert {v["state"] for v in views.values()} == {"succeeded"}, \
        {n: v["reason"] for n, v in views.items()}
    result = apis["fund"].call("GET", f"/jobs/{job['id']}/result")["result"]
    assert result["metrics"]["auc"] > 0.6 and result["parties"] == ["fund", "securities"]
    assert not (root / "futures" / "models" / "lead-assisted").exists()
    assert [n for n, v in views.items() if v["has_result"]] == ["fund"]
    bad = {**job["spec"], "helpers": ["securities"]}
    with pytest.raises(RuntimeError, match="at most one helper"):
        apis["fund"].call("POST", "/jobs", json={k: bad[k] for k in
                                                 ("protocol", "inputs", "params",
                                                  "recipients", "helpers")})


def test_model_published_as_a_scenario_api(net, trained):
    """securities publishes lead-score's predictions for its CRM (yinji.node.scenarios): at
    futures, where securities' predictions need a person, the scenario's standing approval
    is what approves each call, and every node logs the call id."""
    import httpx
    from openapi_spec_validator import validate

    from yinji.node.admin import open_admin

    root, apis, tables = net
    sec, path = apis["securities"], "/scenarios/lead-score-api/v1"
    view = sec.call("POST", "/scenarios", json={
        "name": "lead-score-api", "kind": "model", "model": "lead-score",
        "bounds": {"n_ids": {"max": 20}}, "callers": ["crm"], "quota": {"per_day": 10}})
    assert view["waiting_for"] == sorted(NODES)
    assert view["definition"]["fixed"] == {"model": "lead-score", "version": 1}
    rules = {n: apis[n].call("POST", f"{path}/approve", role="approver")["rule_id"]
             for n in NODES}
    with open_admin(root / "securities", by="test") as admin:
        token = admin.tokens.add("crm", "caller", by=admin.by,
                                 scopes=["scenario:lead-score-api/v1"])
    crm = httpx.Client(base_url=sec.url, timeout=120, verify=sec.verify,
                       headers={"Authorization": f"Bearer {token}"})
    ids = common_ids(tables)[:12]
    r = crm.post(path, json={"private": {"ids": ids}, "timeout": 90})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["result"]["ids"] == ids
    assert np.allclose(out["result"]["scores"], in_process_scores(root, tables, ids),
                       rtol=1e-12, atol=0)
    r = crm.post(path, json={"private": {"ids": common_ids(tables)[:21]}})
    assert r.status_code == 400 and "n_ids=21 above max 20" in r.json()["detail"]
    doc = crm.get(f"{path}/openapi.json").json()
    validate(doc)
    assert doc["components"]["schemas"]["CallRequest"]["properties"]["private"][
        "properties"]["ids"]["maxItems"] == 20
    served = [e for e in sec.call("GET", "/scenarios/calls", role="auditor")
              if e["call_id"] == out["call_id"] and e["where"] == "endpoint"]
    assert served[0]["status"] == 200 and served[0]["result_size"] > 0
    for n in NODES:
        [seen] = [e for e in apis[n].call("GET", "/scenarios/calls", role="auditor")
                  if e["call_id"] == out["call_id"] and e["where"] == "participant"]
        assert seen["params_sha256"] == served[0]["params_sha256"]
        assert seen["decision"] == "approve"
    [mine] = [e["data"] for e in audit_of(apis["futures"], job_id=out["job_id"])
              if e["kind"] == "job.approval" and e["data"]["node"] == "futures"]
    assert rules["futures"] in mine["reason"]   # the scenario's standing approval
    assert not any(i in json.dumps(audit_of(apis["futures"])) for i in ids)


def test_party_down(net, trained):
    """Last: futures stays down. The call fails at once, naming the party."""
    root, apis, tables = net
    stop_nodes(root, only=["futures"])
    t0 = time.monotonic()
    status, out = post_predict(apis["fund"], common_ids(tables)[:5], timeout=300)
    assert status == 502 and "futures" in out["detail"], out
    # ~10 s (the proposal's dial retries for 10 s); a call that waited for the job would
    # take the 300 s timeout (it was 30 s against the default 60: 3x headroom)
    assert time.monotonic() - t0 < 120
    view = apis["fund"].call("GET", f"/jobs/{out['job_id']}", role="auditor")
    assert view["state"] == "failed" and not view["has_result"]
    assert apis["securities"].call("GET", "/audit/verify", role="auditor")["ok"]
